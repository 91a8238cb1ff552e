//! The ops table: findings (each stored once, then marked published), users' read baselines, real-time denial
//! counters, the newest checkpoint's number, and the last export of each table.
//!
//! Item layout (keys `pk` S, `sk` S; TTL attribute `expires_at`, Unix seconds):
//! - `finding#<YYYY-MM-DD of its first event>` / `<finding id>`: `body` (JSON), `published` (bool)
//! - `baseline` / `<actor id>`: `mean` (N), `windows` (N)
//! - `denials#<actor id>` / `<window start, Unix seconds>`: `count` (N)
//! - `checkpoint` / `latest`: `number` (N)
//! - `export` / `<table name>`: `arn` (S)

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, ReturnValue};
use chrono::{DateTime, Utc};
use medvault_platform::dynamo::{n, s};

use super::AwsError;
use crate::finding::Finding;
use crate::rules::Baseline;

/// Whether a finding was seen before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// First time: publish it.
    New,
    /// Stored by an earlier attempt that did not finish publishing: publish it.
    Unpublished,
    /// Already published.
    Published,
}

/// The ops table.
#[derive(Debug, Clone)]
pub struct OpsState {
    client: Client,
    table: String,
}

fn number<T: std::str::FromStr>(item: &HashMap<String, AttributeValue>, name: &str) -> Option<T> {
    item.get(name)?.as_n().ok()?.parse().ok()
}

impl OpsState {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    fn finding_key(finding: &Finding) -> (AttributeValue, AttributeValue) {
        (s(format!("finding#{}", finding.first_time.format("%Y-%m-%d"))), s(finding.id.clone()))
    }

    /// Stores `finding` unless it is already there.
    pub async fn record_finding(&self, finding: &Finding, expires_at: DateTime<Utc>) -> Result<Recorded, AwsError> {
        let (pk, sk) = Self::finding_key(finding);
        let body = serde_json::to_string(finding).unwrap_or_default();
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", pk.clone())
            .item("sk", sk.clone())
            .item("body", s(body))
            .item("kind", s(finding.kind.as_str()))
            .item("published", AttributeValue::Bool(false))
            .item("expires_at", n(expires_at.timestamp()))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(Recorded::New),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {
                let existing = self
                    .client
                    .get_item()
                    .table_name(&self.table)
                    .key("pk", pk)
                    .key("sk", sk)
                    .consistent_read(true)
                    .send()
                    .await
                    .map_err(AwsError::sdk("dynamodb:GetItem"))?;
                let published = existing.item().and_then(|i| i.get("published")).and_then(|v| v.as_bool().ok());
                Ok(if published == Some(&true) { Recorded::Published } else { Recorded::Unpublished })
            }
            Err(e) => Err(AwsError::sdk("dynamodb:PutItem")(e)),
        }
    }

    /// Marks a stored finding as published.
    pub async fn mark_published(&self, finding: &Finding) -> Result<(), AwsError> {
        let (pk, sk) = Self::finding_key(finding);
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", pk)
            .key("sk", sk)
            .update_expression("SET published = :yes")
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .send()
            .await
            .map_err(AwsError::sdk("dynamodb:UpdateItem"))?;
        Ok(())
    }

    /// The findings stored for the days of `days` (`YYYY-MM-DD`), oldest day first.
    pub async fn findings(&self, days: &[String]) -> Result<Vec<Finding>, AwsError> {
        let mut out = Vec::new();
        for day in days {
            let mut start: Option<HashMap<String, AttributeValue>> = None;
            loop {
                let page = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .key_condition_expression("pk = :pk")
                    .expression_attribute_values(":pk", s(format!("finding#{day}")))
                    .set_exclusive_start_key(start.take())
                    .send()
                    .await
                    .map_err(AwsError::sdk("dynamodb:Query"))?;
                for item in page.items() {
                    if let Some(body) = item.get("body").and_then(|b| b.as_s().ok())
                        && let Ok(finding) = serde_json::from_str(body)
                    {
                        out.push(finding);
                    }
                }
                match page.last_evaluated_key {
                    Some(key) if !key.is_empty() => start = Some(key),
                    _ => break,
                }
            }
        }
        Ok(out)
    }

    /// The baselines of `actors` (those without one are absent).
    pub async fn baselines(&self, actors: &[String]) -> Result<BTreeMap<String, Baseline>, AwsError> {
        let mut out = BTreeMap::new();
        for chunk in actors.chunks(100) {
            let mut keys = KeysAndAttributes::builder().consistent_read(true);
            for actor in chunk {
                keys =
                    keys.keys(HashMap::from([("pk".to_owned(), s("baseline")), ("sk".to_owned(), s(actor.clone()))]));
            }
            let mut request = HashMap::from([(
                self.table.clone(),
                keys.build().map_err(|e| AwsError {
                    operation: "dynamodb:BatchGetItem",
                    code: None,
                    failure: medvault_platform::Failure::Permanent,
                    source: Box::new(e),
                })?,
            )]);
            // Unprocessed keys come back under throttling; ask again until none are left.
            while !request.is_empty() {
                let answer = self
                    .client
                    .batch_get_item()
                    .set_request_items(Some(request))
                    .send()
                    .await
                    .map_err(AwsError::sdk("dynamodb:BatchGetItem"))?;
                for item in answer.responses().and_then(|r| r.get(&self.table)).into_iter().flatten() {
                    let actor = item.get("sk").and_then(|v| v.as_s().ok()).cloned();
                    if let (Some(actor), Some(mean), Some(windows)) =
                        (actor, number(item, "mean"), number(item, "windows"))
                    {
                        out.insert(actor, Baseline { mean, windows });
                    }
                }
                request = answer.unprocessed_keys.unwrap_or_default();
            }
        }
        Ok(out)
    }

    /// Stores baselines.
    pub async fn save_baselines(&self, baselines: &BTreeMap<String, Baseline>) -> Result<(), AwsError> {
        for (actor, baseline) in baselines {
            self.client
                .put_item()
                .table_name(&self.table)
                .item("pk", s("baseline"))
                .item("sk", s(actor.clone()))
                .item("mean", n(baseline.mean))
                .item("windows", n(baseline.windows))
                .send()
                .await
                .map_err(AwsError::sdk("dynamodb:PutItem"))?;
        }
        Ok(())
    }

    /// Counts one more denial by `actor` in the window starting at `window_start`; returns the new count.
    pub async fn count_denial(&self, actor: &str, window_start: i64, expires_at: i64) -> Result<u64, AwsError> {
        let updated = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(format!("denials#{actor}")))
            .key("sk", s(window_start.to_string()))
            .update_expression("ADD #count :one SET expires_at = :expires")
            .expression_attribute_names("#count", "count")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":expires", n(expires_at))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(AwsError::sdk("dynamodb:UpdateItem"))?;
        updated
            .attributes()
            .and_then(|a| number(a, "count"))
            .ok_or_else(|| AwsError::malformed("dynamodb:UpdateItem", "count"))
    }

    /// The newest checkpoint's number, as last recorded (a hint: the bucket is the authority).
    pub async fn checkpoint_hint(&self) -> Result<Option<u64>, AwsError> {
        let item = self.get("checkpoint", "latest").await?;
        Ok(item.as_ref().and_then(|i| number(i, "number")))
    }

    /// Records checkpoint `number` as the newest, unless a newer one is recorded.
    pub async fn set_checkpoint_hint(&self, number: u64) -> Result<(), AwsError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s("checkpoint"))
            .item("sk", s("latest"))
            .item("number", n(number))
            .condition_expression("attribute_not_exists(pk) OR #number < :number")
            .expression_attribute_names("#number", "number")
            .expression_attribute_values(":number", n(number))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => Ok(()),
            Err(e) => Err(AwsError::sdk("dynamodb:PutItem")(e)),
        }
    }

    /// The export last started for `table`.
    pub async fn last_export(&self, table: &str) -> Result<Option<String>, AwsError> {
        let item = self.get("export", table).await?;
        Ok(item.and_then(|i| i.get("arn").and_then(|v| v.as_s().ok()).cloned()))
    }

    /// Records the export just started for `table`.
    pub async fn set_last_export(&self, table: &str, arn: &str) -> Result<(), AwsError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s("export"))
            .item("sk", s(table))
            .item("arn", s(arn))
            .send()
            .await
            .map_err(AwsError::sdk("dynamodb:PutItem"))?;
        Ok(())
    }

    async fn get(&self, pk: &str, sk: &str) -> Result<Option<HashMap<String, AttributeValue>>, AwsError> {
        let answer = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(AwsError::sdk("dynamodb:GetItem"))?;
        Ok(answer.item)
    }
}
