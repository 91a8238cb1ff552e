//! The retention job, daily:
//! - **Expired items.** DynamoDB's TTL deletes lazily (up to days late), so every table of the stack that has a TTL
//!   attribute (sessions, challenges, invites, throttle counters, idempotency records, break-glass grants, the ops
//!   table) is scanned for items past it, and each is deleted with a condition that it is still past due (a
//!   session refreshed meanwhile is kept). The TTL attribute is read from the table (`DescribeTimeToLive`), so a
//!   new table with a TTL is covered without configuration. The audit log is never touched.
//! - **Soft-deleted items.** An item carrying `deleted_at` (RFC 3339, or Unix seconds) older than the soft-delete
//!   retention is purged. Erasure tombstones (`status = erased`) carry no `deleted_at`: they stay.
//! - **Crypto-shredding.** For each erased patient (a tombstone in the records table) not yet marked complete: the
//!   wrapped data key is deleted if it is still there, every version of the patient's uploaded objects is deleted,
//!   then the tombstone is marked `shred_completed_at`.
//!
//! The run is claimed by its date with a conditional write; a second run the same day replays the first's summary.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use aws_sdk_dynamodb::types::{AttributeValue, TimeToLiveStatus};
use chrono::{DateTime, NaiveDate, Utc};
use lambda_runtime::LambdaEvent;
use medvault_ops::aws::AwsError;
use medvault_ops::aws::tables::{StackTable, stack_tables};
use medvault_platform::aws::{AwsClients, AwsSettings};
use medvault_platform::config::{ConfigError, EnvSource, FromEnv};
use medvault_platform::idempotency::{DynamoDbStore, Idempotency, IdempotencyError};
use medvault_platform::metrics::{self, Unit};
use serde::{Deserialize, Serialize};

const JOB: &str = "retention-job";
/// The attribute that marks an item soft-deleted.
pub const DELETED_AT: &str = "deleted_at";
/// The attribute the job sets on a tombstone once the patient's shredding is complete.
pub const SHRED_COMPLETED_AT: &str = "shred_completed_at";

type Item = HashMap<String, AttributeValue>;

/// The retention job's configuration, read once at cold start.
#[derive(Debug, Clone)]
pub struct Config {
    pub aws: AwsSettings,
    pub stack_name: String,
    pub idempotency_table: String,
    /// Never scanned or deleted from.
    pub audit_table: String,
    /// Where erasure tombstones are (`pk = PATIENT#<id>`, `sk = PROFILE`, `status = erased`).
    pub records_table: Option<String>,
    pub patient_keys_table: Option<String>,
    /// Patients' uploads are under `documents/<patient id>/`.
    pub upload_bucket: Option<String>,
    pub soft_delete_retention: Duration,
    /// At most this many deletions per table per run; the next run continues.
    pub max_deletes_per_table: u64,
}

impl FromEnv for Config {
    fn from_env(env: &EnvSource) -> Result<Self, ConfigError> {
        Ok(Self {
            aws: AwsSettings::from_env(env)?,
            stack_name: env.required("MEDVAULT_STACK_NAME")?,
            idempotency_table: env.required("MEDVAULT_IDEMPOTENCY_TABLE")?,
            audit_table: env.required("MEDVAULT_AUDIT_TABLE")?,
            records_table: env.optional("MEDVAULT_RECORDS_TABLE")?,
            patient_keys_table: env.optional("MEDVAULT_PATIENT_KEYS_TABLE")?,
            upload_bucket: env.optional("MEDVAULT_UPLOAD_BUCKET")?,
            soft_delete_retention: Duration::from_secs(
                86_400 * env.or::<u64>("MEDVAULT_SOFT_DELETE_RETENTION_DAYS", 30)?,
            ),
            max_deletes_per_table: env.or("MEDVAULT_RETENTION_MAX_DELETES", 25_000)?,
        })
    }
}

/// Why a run failed (the function's error alarm fires).
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error("the run could not be claimed")]
    Claim(#[source] IdempotencyError<Box<JobError>>),
}

impl From<JobError> for lambda_runtime::Diagnostic {
    fn from(error: JobError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: "RetentionFailed".to_owned(),
            error_message: medvault_platform::error::chain(&error),
        }
    }
}

/// One table's part of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableRetention {
    pub table: String,
    /// The TTL attribute, when the table has one enabled.
    pub ttl_attribute: Option<String>,
    pub expired_deleted: u64,
    /// Past due when scanned, but renewed before the delete (kept).
    pub renewed: u64,
    pub soft_deleted_purged: u64,
    /// The per-run limit was reached: more remain for the next run.
    pub more: bool,
}

/// What a run did: the Lambda's result and the summary it logs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionSummary {
    pub date: NaiveDate,
    pub tables: Vec<TableRetention>,
    /// Erased patients whose shredding this run completed.
    pub shredded_patients: u64,
    pub keys_deleted: u64,
    pub objects_deleted: u64,
    pub replayed: bool,
}

/// The retention job's dependencies, built once per execution environment.
#[derive(Debug)]
pub struct RetentionJob {
    dynamodb: aws_sdk_dynamodb::Client,
    s3: aws_sdk_s3::Client,
    runs: Idempotency<DynamoDbStore>,
    config: Config,
}

impl RetentionJob {
    pub fn new(config: &Config, clients: &AwsClients) -> Self {
        let dynamodb = clients.dynamodb();
        Self {
            runs: Idempotency::new(DynamoDbStore::new(dynamodb.clone(), &config.idempotency_table), JOB)
                .with_ttl(Duration::from_secs(2 * 86_400)),
            s3: clients.s3(),
            dynamodb,
            config: config.clone(),
        }
    }

    /// Runs one scheduled invocation, recording its metrics and logging its summary.
    pub async fn handle(&self, event: LambdaEvent<serde_json::Value>) -> Result<RetentionSummary, JobError> {
        let deadline = event.context.deadline();
        metrics::scope(async move {
            let result = Box::pin(self.run(deadline)).await;
            match &result {
                Ok(summary) => {
                    let sum = |f: fn(&TableRetention) -> u64| summary.tables.iter().map(f).sum::<u64>() as f64;
                    metrics::record("ExpiredItemsDeleted", Unit::Count, sum(|t| t.expired_deleted));
                    metrics::record("SoftDeletedPurged", Unit::Count, sum(|t| t.soft_deleted_purged));
                    metrics::record("PatientsShredded", Unit::Count, summary.shredded_patients as f64);
                    metrics::record("RunFailed", Unit::Count, 0.0);
                    tracing::info!(
                        date = %summary.date,
                        expired_deleted = sum(|t| t.expired_deleted),
                        soft_deleted_purged = sum(|t| t.soft_deleted_purged),
                        shredded_patients = summary.shredded_patients,
                        replayed = summary.replayed,
                        summary = %serde_json::to_string(summary).unwrap_or_default(),
                        "retention-job run finished"
                    );
                }
                Err(error) => {
                    metrics::record("RunFailed", Unit::Count, 1.0);
                    tracing::error!(error = %medvault_platform::error::chain(error), "retention-job run failed");
                }
            }
            result
        })
        .await
    }

    async fn run(&self, deadline: SystemTime) -> Result<RetentionSummary, JobError> {
        let today = Utc::now().date_naive();
        let claim = format!("retention#{today}");
        let outcome = self
            .runs
            .run(&claim, &claim, Some(deadline), || async { Box::pin(self.sweep(today)).await.map_err(Box::new) })
            .await;
        match outcome {
            Ok(done) => Ok(RetentionSummary { replayed: done.replayed, ..done.value }),
            Err(IdempotencyError::Handler(error)) => Err(*error),
            Err(other) => Err(JobError::Claim(other)),
        }
    }

    async fn sweep(&self, today: NaiveDate) -> Result<RetentionSummary, JobError> {
        let now = Utc::now();
        let mut tables = Vec::new();
        for table in stack_tables(&self.dynamodb, &self.config.stack_name).await? {
            if table.name == self.config.audit_table {
                continue;
            }
            tables.push(Box::pin(self.sweep_table(&table, now)).await?);
        }
        let mut summary = RetentionSummary {
            date: today,
            tables,
            shredded_patients: 0,
            keys_deleted: 0,
            objects_deleted: 0,
            replayed: false,
        };
        Box::pin(self.complete_shredding(&mut summary)).await?;
        Ok(summary)
    }

    async fn sweep_table(&self, table: &StackTable, now: DateTime<Utc>) -> Result<TableRetention, AwsError> {
        let mut out = TableRetention { table: table.name.clone(), ..TableRetention::default() };
        let key_names = self.key_names(&table.name).await?;
        let ttl = self
            .dynamodb
            .describe_time_to_live()
            .table_name(&table.name)
            .send()
            .await
            .map_err(AwsError::sdk("dynamodb:DescribeTimeToLive"))?;
        out.ttl_attribute = ttl
            .time_to_live_description()
            .filter(|d| d.time_to_live_status() == Some(&TimeToLiveStatus::Enabled))
            .and_then(|d| d.attribute_name())
            .map(str::to_owned);
        if let Some(attribute) = out.ttl_attribute.clone() {
            let past_due = "#ttl < :now";
            let values = HashMap::from([(":now".to_owned(), AttributeValue::N(now.timestamp().to_string()))]);
            let names = HashMap::from([("#ttl".to_owned(), attribute)]);
            let (deleted, renewed, more) =
                self.delete_matching(&table.name, &key_names, past_due, &names, &values).await?;
            (out.expired_deleted, out.renewed, out.more) = (deleted, renewed, more);
        }
        let cutoff = now - chrono::Duration::from_std(self.config.soft_delete_retention).unwrap_or_default();
        let (purged, more) = self.purge_soft_deleted(&table.name, &key_names, cutoff).await?;
        out.soft_deleted_purged = purged;
        out.more |= more;
        Ok(out)
    }

    async fn key_names(&self, table: &str) -> Result<Vec<String>, AwsError> {
        let described = self
            .dynamodb
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(AwsError::sdk("dynamodb:DescribeTable"))?;
        Ok(described
            .table()
            .map(|t| t.key_schema().iter().map(|k| k.attribute_name().to_owned()).collect())
            .unwrap_or_default())
    }

    /// Deletes every item matching `condition` (checked again on each delete). Returns (deleted, no longer
    /// matching when deleted, limit reached).
    async fn delete_matching(
        &self,
        table: &str,
        keys: &[String],
        condition: &str,
        names: &HashMap<String, String>,
        values: &HashMap<String, AttributeValue>,
    ) -> Result<(u64, u64, bool), AwsError> {
        let (mut deleted, mut renewed) = (0, 0);
        let mut start: Option<Item> = None;
        let mut projection_names = names.clone();
        let projection: Vec<String> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| {
                projection_names.insert(format!("#k{i}"), k.clone());
                format!("#k{i}")
            })
            .collect();
        loop {
            let page = self
                .dynamodb
                .scan()
                .table_name(table)
                .filter_expression(condition)
                .projection_expression(projection.join(", "))
                .set_expression_attribute_names(Some(projection_names.clone()))
                .set_expression_attribute_values(Some(values.clone()))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(AwsError::sdk("dynamodb:Scan"))?;
            for item in page.items() {
                if deleted + renewed >= self.config.max_deletes_per_table {
                    return Ok((deleted, renewed, true));
                }
                let key: Item = keys.iter().filter_map(|k| item.get(k).map(|v| (k.clone(), v.clone()))).collect();
                let result = self
                    .dynamodb
                    .delete_item()
                    .table_name(table)
                    .set_key(Some(key))
                    .condition_expression(condition)
                    .set_expression_attribute_names(Some(names.clone()))
                    .set_expression_attribute_values(Some(values.clone()))
                    .send()
                    .await;
                match result {
                    Ok(_) => deleted += 1,
                    Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {
                        renewed += 1;
                    }
                    Err(e) => return Err(AwsError::sdk("dynamodb:DeleteItem")(e)),
                }
            }
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok((deleted, renewed, false)),
            }
        }
    }

    /// Purges items whose `deleted_at` is before `cutoff` (both of its forms).
    async fn purge_soft_deleted(
        &self,
        table: &str,
        keys: &[String],
        cutoff: DateTime<Utc>,
    ) -> Result<(u64, bool), AwsError> {
        let names = HashMap::from([("#deleted".to_owned(), DELETED_AT.to_owned())]);
        let mut purged = 0;
        let mut more = false;
        // Strings compare as RFC 3339 in UTC (`2026-...Z` sorts by time); numbers as Unix seconds.
        let forms = [
            (
                "attribute_type(#deleted, :s) AND #deleted < :cutoff",
                AttributeValue::S(cutoff.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                "S",
            ),
            (
                "attribute_type(#deleted, :s) AND #deleted < :cutoff",
                AttributeValue::N(cutoff.timestamp().to_string()),
                "N",
            ),
        ];
        for (condition, bound, kind) in forms {
            let values =
                HashMap::from([(":cutoff".to_owned(), bound), (":s".to_owned(), AttributeValue::S(kind.to_owned()))]);
            let (deleted, _, limit) = self.delete_matching(table, keys, condition, &names, &values).await?;
            purged += deleted;
            more |= limit;
        }
        Ok((purged, more))
    }

    async fn complete_shredding(&self, summary: &mut RetentionSummary) -> Result<(), AwsError> {
        let Some(records) = &self.config.records_table else { return Ok(()) };
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .dynamodb
                .scan()
                .table_name(records)
                .filter_expression("#status = :erased AND sk = :profile AND attribute_not_exists(#done)")
                .projection_expression("pk, sk")
                .expression_attribute_names("#status", "status")
                .expression_attribute_names("#done", SHRED_COMPLETED_AT)
                .expression_attribute_values(":erased", AttributeValue::S("erased".into()))
                .expression_attribute_values(":profile", AttributeValue::S("PROFILE".into()))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(AwsError::sdk("dynamodb:Scan"))?;
            for item in page.items() {
                let Some(pk) = item.get("pk").and_then(|v| v.as_s().ok()) else { continue };
                let Some(patient) = pk.strip_prefix("PATIENT#") else { continue };
                Box::pin(self.shred(records, pk, patient, summary)).await?;
            }
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(()),
            }
        }
    }

    async fn shred(
        &self,
        records: &str,
        pk: &str,
        patient: &str,
        summary: &mut RetentionSummary,
    ) -> Result<(), AwsError> {
        if let Some(keys) = &self.config.patient_keys_table {
            let deleted = self
                .dynamodb
                .delete_item()
                .table_name(keys)
                .key("pk", AttributeValue::S(patient.to_owned()))
                .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
                .send()
                .await
                .map_err(AwsError::sdk("dynamodb:DeleteItem"))?;
            if deleted.attributes.is_some_and(|a| !a.is_empty()) {
                tracing::warn!(patient_id = %patient, "an erased patient's data key was still stored: deleted");
                summary.keys_deleted += 1;
            }
        }
        if let Some(bucket) = &self.config.upload_bucket {
            summary.objects_deleted += self.delete_versions(bucket, &format!("documents/{patient}/")).await?;
        }
        self.dynamodb
            .update_item()
            .table_name(records)
            .key("pk", AttributeValue::S(pk.to_owned()))
            .key("sk", AttributeValue::S("PROFILE".into()))
            .update_expression("SET #done = :now")
            .condition_expression("#status = :erased")
            .expression_attribute_names("#done", SHRED_COMPLETED_AT)
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":now", AttributeValue::S(Utc::now().to_rfc3339()))
            .expression_attribute_values(":erased", AttributeValue::S("erased".into()))
            .send()
            .await
            .map_err(AwsError::sdk("dynamodb:UpdateItem"))?;
        summary.shredded_patients += 1;
        Ok(())
    }

    /// Deletes every version and delete marker under `prefix`; returns how many were deleted.
    async fn delete_versions(&self, bucket: &str, prefix: &str) -> Result<u64, AwsError> {
        let mut deleted = 0;
        loop {
            let page = self
                .s3
                .list_object_versions()
                .bucket(bucket)
                .prefix(prefix)
                .send()
                .await
                .map_err(AwsError::sdk("s3:ListObjectVersions"))?;
            let targets: Vec<(String, Option<String>)> = page
                .versions()
                .iter()
                .filter_map(|v| v.key().map(|k| (k.to_owned(), v.version_id().map(str::to_owned))))
                .chain(
                    page.delete_markers()
                        .iter()
                        .filter_map(|m| m.key().map(|k| (k.to_owned(), m.version_id().map(str::to_owned)))),
                )
                .collect();
            if targets.is_empty() {
                return Ok(deleted);
            }
            for (key, version) in targets {
                self.s3
                    .delete_object()
                    .bucket(bucket)
                    .key(&key)
                    .set_version_id(version)
                    .send()
                    .await
                    .map_err(AwsError::sdk("s3:DeleteObject"))?;
                deleted += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_keeps_the_audit_table_named_and_defaults_soft_delete_to_30_days() {
        let env = EnvSource::from_pairs([
            ("MEDVAULT_STACK_NAME", "medvault"),
            ("MEDVAULT_IDEMPOTENCY_TABLE", "idem"),
            ("MEDVAULT_AUDIT_TABLE", "audit"),
        ]);
        let config = Config::from_env(&env).unwrap();
        assert_eq!(config.soft_delete_retention, Duration::from_secs(30 * 86_400));
        assert!(Config::from_env(&EnvSource::from_pairs([("MEDVAULT_STACK_NAME", "m")])).is_err());
    }
}
