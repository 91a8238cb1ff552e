//! The backup job. Daily, it makes an on-demand backup of every table of the stack (found by name and tags, never
//! from a list beside the template; tables tagged `medvault:backup=exclude` are skipped), starts an export of each
//! to the backup bucket where the platform has exports, and deletes its own backups older than the retention.
//! Weekly (`{"task": "restore-drill"}`), it restores each table's newest backup into a scratch table, compares item
//! counts, opens a sample of encrypted records with their patients' keys, writes a drill report (JSON) to the
//! backup bucket and deletes the scratch tables; a drill that does not pass fails the invocation (and its alarm).
//!
//! Each run is claimed with a conditional write: the backup by its date, the drill by its ISO week. A drill whose
//! restores are still running when the invocation must end releases its claim; the next firing resumes it.

mod sample;

use std::time::{Duration, SystemTime};

use chrono::{NaiveDate, Utc};
use lambda_runtime::LambdaEvent;
use medvault_ops::aws::AwsError;
use medvault_ops::aws::backups::{Backups, ExportOutcome, TableState};
use medvault_ops::aws::state::OpsState;
use medvault_ops::aws::tables::{StackTable, stack_tables};
use medvault_ops::backup::{backup_name, drill_id, expired, latest, scratch_table_name};
use medvault_ops::drill::{DrillReport, TableDrill};
use medvault_platform::aws::{AwsClients, AwsSettings};
use medvault_platform::config::{ConfigError, EnvSource, FromEnv};
use medvault_platform::idempotency::{DynamoDbStore, Idempotency, IdempotencyError};
use medvault_platform::metrics::{self, Unit};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use sample::{Role, SampleDecryptor};

const JOB: &str = "backup-job";
/// How long before the invocation's deadline a drill stops waiting for restores.
const DRILL_MARGIN: Duration = Duration::from_secs(60);

/// The backup job's configuration, read once at cold start.
#[derive(Debug, Clone)]
pub struct Config {
    pub aws: AwsSettings,
    /// The stack's name: its tables are `<stack>-<LogicalId>...`.
    pub stack_name: String,
    pub ops_table: String,
    pub idempotency_table: String,
    /// Where exports and drill reports go.
    pub backup_bucket: String,
    /// Backups older than this many days are deleted (the newest is always kept).
    pub retention_days: u32,
    /// Whether to export tables to the backup bucket (point-in-time exports).
    pub exports: bool,
    /// The drill's decryption check: the live tables and key it needs.
    pub records_table: Option<String>,
    pub documents_table: Option<String>,
    pub patient_keys_table: Option<String>,
    pub data_key_id: Option<String>,
    pub tenant: String,
    /// Items sampled per table for decryption.
    pub drill_sample: i32,
    /// Seconds between checks of a restore's progress.
    pub drill_poll: Duration,
}

impl FromEnv for Config {
    fn from_env(env: &EnvSource) -> Result<Self, ConfigError> {
        let stack_name: String = env.required("MEDVAULT_STACK_NAME")?;
        Ok(Self {
            aws: AwsSettings::from_env(env)?,
            ops_table: env.required("MEDVAULT_OPS_TABLE")?,
            idempotency_table: env.required("MEDVAULT_IDEMPOTENCY_TABLE")?,
            backup_bucket: env.required("MEDVAULT_BACKUP_BUCKET")?,
            retention_days: env.or("MEDVAULT_BACKUP_RETENTION_DAYS", 35)?,
            exports: env.or("MEDVAULT_BACKUP_EXPORTS", true)?,
            records_table: env.optional("MEDVAULT_RECORDS_TABLE")?,
            documents_table: env.optional("MEDVAULT_DOCUMENTS_TABLE")?,
            patient_keys_table: env.optional("MEDVAULT_PATIENT_KEYS_TABLE")?,
            data_key_id: env.optional("MEDVAULT_DATA_KEY_ID")?,
            tenant: env.or("MEDVAULT_TENANT", stack_name.clone())?,
            drill_sample: env.or("MEDVAULT_DRILL_SAMPLE_SIZE", 50)?,
            drill_poll: env.seconds("MEDVAULT_DRILL_POLL_SECONDS", Duration::from_secs(10))?,
            stack_name,
        })
    }
}

/// What an invocation asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Task {
    /// The daily backup (the default: the EventBridge "Scheduled Event" carries no task).
    Backup,
    RestoreDrill,
}

/// Why an invocation failed. Every failure fails the invocation, so the function's error alarm fires.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("the event names no known task (backup, restore-drill)")]
    UnknownTask(#[source] serde_json::Error),
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error("the run could not be claimed")]
    Claim(#[source] IdempotencyError<Box<JobError>>),
    #[error("{failed} of {tables} tables were not backed up")]
    TablesFailed { failed: usize, tables: usize },
    #[error("restores still running: {0:?}")]
    NotReady(Vec<String>),
    #[error("the restore drill failed; its report is at s3://{bucket}/{key}")]
    DrillFailed { bucket: String, key: String },
    #[error("the stack has no table to drill")]
    NothingToDrill,
}

impl From<JobError> for lambda_runtime::Diagnostic {
    fn from(error: JobError) -> Self {
        let kind = match &error {
            JobError::UnknownTask(_) => "UnknownTask",
            JobError::DrillFailed { .. } => "RestoreDrillFailed",
            JobError::TablesFailed { .. } => "BackupFailed",
            _ => "Retryable",
        };
        lambda_runtime::Diagnostic {
            error_type: kind.to_owned(),
            error_message: medvault_platform::error::chain(&error),
        }
    }
}

/// One table's part of a daily backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableBackup {
    pub table: String,
    pub backup_arn: Option<String>,
    /// False when today's backup already existed (a retried run).
    pub created: bool,
    /// `started`, `unsupported: <answer>`, `skipped: no point-in-time recovery`, `disabled`.
    pub export: Option<String>,
    /// The status of the export started by the previous run, when there was one.
    pub previous_export: Option<String>,
    pub pruned: Vec<String>,
    pub error: Option<String>,
}

/// What a daily backup did: the Lambda's result and the summary it logs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupSummary {
    pub date: NaiveDate,
    pub tables: Vec<TableBackup>,
    /// Tables of the stack kept out of backups by their tag.
    pub excluded: Vec<String>,
    pub replayed: bool,
}

impl BackupSummary {
    fn count(&self, f: impl Fn(&TableBackup) -> bool) -> usize {
        self.tables.iter().filter(|t| f(t)).count()
    }
}

/// The result of an invocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "task", rename_all = "kebab-case")]
pub enum Outcome {
    Backup(BackupSummary),
    RestoreDrill { report: DrillReport, replayed: bool, report_key: String },
}

/// The backup job's dependencies, built once per execution environment.
#[derive(Debug)]
pub struct BackupJob {
    dynamodb: aws_sdk_dynamodb::Client,
    s3: aws_sdk_s3::Client,
    backups: Backups,
    state: OpsState,
    runs: Idempotency<DynamoDbStore>,
    decryptor: Option<SampleDecryptor>,
    config: Config,
}

impl BackupJob {
    pub fn new(config: &Config, clients: &AwsClients) -> Self {
        let dynamodb = clients.dynamodb();
        let decryptor = match (&config.patient_keys_table, &config.data_key_id) {
            (Some(keys), Some(key_id)) => {
                Some(SampleDecryptor::new(dynamodb.clone(), clients.kms(), key_id, keys, &config.tenant))
            }
            _ => None,
        };
        Self {
            backups: Backups::new(dynamodb.clone()),
            state: OpsState::new(dynamodb.clone(), &config.ops_table),
            // A week: longer than a drill's window, so a drill that finished is never run twice.
            runs: Idempotency::new(DynamoDbStore::new(dynamodb.clone(), &config.idempotency_table), JOB)
                .with_ttl(Duration::from_secs(8 * 86_400)),
            s3: clients.s3(),
            dynamodb,
            decryptor,
            config: config.clone(),
        }
    }

    /// Runs one scheduled invocation, recording its metrics and logging its summary.
    pub async fn handle(&self, event: LambdaEvent<serde_json::Value>) -> Result<Outcome, JobError> {
        let deadline = event.context.deadline();
        metrics::scope(async move {
            let task = task_of(&event.payload).map_err(JobError::UnknownTask)?;
            let result = match task {
                // Boxed: the SDK futures nest deeply.
                Task::Backup => Box::pin(self.backup(deadline)).await.map(Outcome::Backup),
                Task::RestoreDrill => Box::pin(self.drill(deadline)).await,
            };
            if let Err(error) = &result {
                metrics::record("RunFailed", Unit::Count, 1.0);
                tracing::error!(task = ?task, error = %medvault_platform::error::chain(error), "backup-job run failed");
            } else {
                metrics::record("RunFailed", Unit::Count, 0.0);
            }
            result
        })
        .await
    }

    async fn tables(&self) -> Result<Vec<StackTable>, JobError> {
        Ok(stack_tables(&self.dynamodb, &self.config.stack_name).await?)
    }

    // ------------------------------------------------------------------ daily backup

    async fn backup(&self, deadline: SystemTime) -> Result<BackupSummary, JobError> {
        let today = Utc::now().date_naive();
        let claim = format!("backup#{today}");
        let outcome = self
            .runs
            .run(&claim, &claim, Some(deadline), || async { Box::pin(self.backup_all(today)).await.map_err(Box::new) })
            .await;
        let summary = match outcome {
            Ok(done) => BackupSummary { replayed: done.replayed, ..done.value },
            Err(IdempotencyError::Handler(error)) => return Err(*error),
            Err(other) => return Err(JobError::Claim(other)),
        };
        metrics::record("TablesBackedUp", Unit::Count, summary.count(|t| t.backup_arn.is_some()) as f64);
        metrics::record("BackupsCreated", Unit::Count, summary.count(|t| t.created) as f64);
        metrics::record(
            "BackupsPruned",
            Unit::Count,
            summary.tables.iter().map(|t| t.pruned.len()).sum::<usize>() as f64,
        );
        metrics::record(
            "ExportsStarted",
            Unit::Count,
            summary.count(|t| t.export.as_deref() == Some("started")) as f64,
        );
        metrics::record(
            "ExportsUnsupported",
            Unit::Count,
            summary.count(|t| t.export.as_deref().is_some_and(|e| e.starts_with("unsupported"))) as f64,
        );
        metrics::record(
            "ExportsFailed",
            Unit::Count,
            summary.count(|t| t.previous_export.as_deref() == Some("FAILED")) as f64,
        );
        tracing::info!(
            date = %summary.date,
            tables = summary.tables.len(),
            created = summary.count(|t| t.created),
            pruned = summary.tables.iter().map(|t| t.pruned.len()).sum::<usize>(),
            excluded = ?summary.excluded,
            replayed = summary.replayed,
            summary = %serde_json::to_string(&summary).unwrap_or_default(),
            "backup-job run finished"
        );
        Ok(summary)
    }

    async fn backup_all(&self, today: NaiveDate) -> Result<BackupSummary, JobError> {
        let tables = self.tables().await?;
        let (excluded, included): (Vec<StackTable>, Vec<StackTable>) =
            tables.into_iter().partition(StackTable::excluded_from_backup);
        let mut outcomes = Vec::new();
        for table in &included {
            let mut outcome = TableBackup {
                table: table.name.clone(),
                backup_arn: None,
                created: false,
                export: None,
                previous_export: None,
                pruned: Vec::new(),
                error: None,
            };
            if let Err(error) = Box::pin(self.backup_table(table, today, &mut outcome)).await {
                tracing::error!(table = %table.name, error = %medvault_platform::error::chain(&error), "table not backed up");
                outcome.error = Some(medvault_platform::error::chain(&error));
            }
            outcomes.push(outcome);
        }
        let failed = outcomes.iter().filter(|o| o.error.is_some()).count();
        let summary = BackupSummary {
            date: today,
            tables: outcomes,
            excluded: excluded.into_iter().map(|t| t.name).collect(),
            replayed: false,
        };
        if failed > 0 {
            tracing::error!(summary = %serde_json::to_string(&summary).unwrap_or_default(), "backup-job run incomplete");
            metrics::record("BackupFailures", Unit::Count, failed as f64);
            // The claim is released: a retry backs up what is missing and reuses what is there.
            return Err(JobError::TablesFailed { failed, tables: summary.tables.len() });
        }
        metrics::record("BackupFailures", Unit::Count, 0.0);
        Ok(summary)
    }

    async fn backup_table(&self, table: &StackTable, today: NaiveDate, out: &mut TableBackup) -> Result<(), AwsError> {
        let name = backup_name(today);
        let mut backups = self.backups.list(&table.name).await?;
        let todays = match backups.iter().find(|b| b.name == name) {
            Some(existing) => existing.clone(),
            None => {
                let created = self.backups.create(&table.name, &name).await?;
                out.created = true;
                backups.push(created.clone());
                created
            }
        };
        out.backup_arn = Some(todays.arn.clone());

        if self.config.exports {
            if let Some(previous) = self.state.last_export(&table.name).await? {
                out.previous_export = self.backups.export_status(&previous).await?.map(|s| s.as_str().to_owned());
            }
            let prefix = format!("exports/{}/{today}", table.name);
            let token = hex::encode(&Sha256::digest(format!("{}#{today}", table.arn))[..16]);
            let outcome = self.backups.export(&table.arn, &self.config.backup_bucket, &prefix, &token).await?;
            out.export = Some(match outcome {
                ExportOutcome::Started(arn) => {
                    self.state.set_last_export(&table.name, &arn).await?;
                    "started".to_owned()
                }
                ExportOutcome::Unsupported(answer) => {
                    tracing::warn!(table = %table.name, %answer, "exports are not supported here: none started");
                    format!("unsupported: {answer}")
                }
                ExportOutcome::NoPointInTimeRecovery => {
                    tracing::warn!(table = %table.name, "no point-in-time recovery: backed up, not exported");
                    "skipped: no point-in-time recovery".to_owned()
                }
            });
        } else {
            out.export = Some("disabled".to_owned());
        }

        let retention = chrono::Duration::days(i64::from(self.config.retention_days));
        for old in expired(&backups, Utc::now(), retention) {
            if old.arn == todays.arn {
                continue;
            }
            self.backups.delete(&old.arn).await?;
            out.pruned.push(old.name.clone());
        }
        Ok(())
    }

    // ------------------------------------------------------------------ weekly restore drill

    async fn drill(&self, deadline: SystemTime) -> Result<Outcome, JobError> {
        let id = drill_id(Utc::now());
        let claim = format!("drill#{id}");
        let outcome = self
            .runs
            .run(&claim, &claim, Some(deadline), || async {
                Box::pin(self.run_drill(&id, deadline)).await.map_err(Box::new)
            })
            .await;
        let (report, replayed) = match outcome {
            Ok(done) => (done.value, done.replayed),
            Err(IdempotencyError::Handler(error)) => match *error {
                JobError::NotReady(tables) => {
                    tracing::info!(drill = %id, restoring = ?tables, "restores still running; the next firing resumes the drill");
                    metrics::record("RestoreDrillPending", Unit::Count, 1.0);
                    return Err(JobError::NotReady(tables));
                }
                other => {
                    metrics::record("RestoreDrillFailed", Unit::Count, 1.0);
                    return Err(other);
                }
            },
            Err(other) => return Err(JobError::Claim(other)),
        };
        let report_key = report.object_key();
        metrics::record("RestoreDrillPassed", Unit::Count, f64::from(u8::from(report.passed)));
        metrics::record("RestoreDrillFailed", Unit::Count, f64::from(u8::from(!report.passed)));
        tracing::info!(
            drill = %report.drill_id,
            passed = report.passed,
            tables = report.tables.len(),
            replayed,
            report = %report_key,
            summary = %serde_json::to_string(&report).unwrap_or_default(),
            "restore drill finished"
        );
        if !report.passed {
            return Err(JobError::DrillFailed { bucket: self.config.backup_bucket.clone(), key: report_key });
        }
        Ok(Outcome::RestoreDrill { report, replayed, report_key })
    }

    async fn run_drill(&self, id: &str, deadline: SystemTime) -> Result<DrillReport, JobError> {
        let started = Utc::now();
        let stack = &self.config.stack_name;
        let tables: Vec<StackTable> = self.tables().await?.into_iter().filter(|t| !t.excluded_from_backup()).collect();
        if tables.is_empty() {
            return Err(JobError::NothingToDrill);
        }
        let mut drills = Vec::new();
        for table in &tables {
            let scratch = scratch_table_name(stack, &table.name, id);
            let backups = self.backups.list(&table.name).await?;
            let mut drill = TableDrill {
                source_table: table.name.clone(),
                backup_arn: String::new(),
                backup_created: started,
                scratch_table: scratch.clone(),
                expected_items: None,
                restored_items: None,
                decrypt: None,
                scratch_deleted: false,
                error: None,
            };
            match latest(&backups) {
                None => {
                    drill.error = Some("no backup to restore".into());
                    drill.scratch_deleted = true;
                }
                Some(backup) => {
                    drill.backup_arn = backup.arn.clone();
                    drill.backup_created = backup.created;
                    self.backups.restore(&backup.arn, &scratch).await?;
                }
            }
            drills.push(drill);
        }

        // Wait for every restore, or hand the drill to the next firing.
        let stop = deadline.checked_sub(DRILL_MARGIN).unwrap_or(deadline);
        loop {
            let mut busy = Vec::new();
            for drill in drills.iter().filter(|d| d.error.is_none()) {
                if self.backups.state(&drill.scratch_table).await? != TableState::Active {
                    busy.push(drill.scratch_table.clone());
                }
            }
            if busy.is_empty() {
                break;
            }
            if SystemTime::now() + self.config.drill_poll >= stop {
                return Err(JobError::NotReady(busy));
            }
            tokio::time::sleep(self.config.drill_poll).await;
        }

        for drill in drills.iter_mut().filter(|d| d.error.is_none()) {
            if let Err(error) = Box::pin(self.check_restored(drill)).await {
                drill.error = Some(medvault_platform::error::chain(&error));
            }
            match self.backups.delete_table(&drill.scratch_table).await {
                Ok(()) => drill.scratch_deleted = true,
                Err(error) => {
                    tracing::error!(table = %drill.scratch_table, error = %medvault_platform::error::chain(&error), "scratch table not deleted");
                }
            }
        }
        let report = DrillReport::new(id.to_owned(), stack.clone(), started, drills);
        self.write_report(&report).await?;
        Ok(report)
    }

    /// Counts and decrypts one restored scratch table.
    async fn check_restored(&self, drill: &mut TableDrill) -> Result<(), AwsError> {
        drill.expected_items = self.backups.recorded_items(&drill.backup_arn).await?;
        drill.restored_items = Some(self.backups.count(&drill.scratch_table).await?);
        let role = if Some(&drill.source_table) == self.config.records_table.as_ref() {
            Some(Role::Records)
        } else if Some(&drill.source_table) == self.config.documents_table.as_ref() {
            Some(Role::Documents)
        } else {
            None
        };
        if let (Some(role), Some(decryptor)) = (role, &self.decryptor) {
            let items = self.backups.sample(&drill.scratch_table, self.config.drill_sample).await?;
            drill.decrypt = Some(decryptor.check(role, &items).await?);
        }
        Ok(())
    }

    async fn write_report(&self, report: &DrillReport) -> Result<(), AwsError> {
        let body = serde_json::to_vec_pretty(report).unwrap_or_default();
        self.s3
            .put_object()
            .bucket(&self.config.backup_bucket)
            .key(report.object_key())
            .content_type("application/json")
            .body(aws_sdk_s3::primitives::ByteStream::from(body))
            .send()
            .await
            .map_err(AwsError::sdk("s3:PutObject"))?;
        Ok(())
    }
}

/// The task an invocation names: `{"task": "restore-drill"}`, or the daily backup for any event without one.
pub fn task_of(payload: &serde_json::Value) -> Result<Task, serde_json::Error> {
    match payload.get("task") {
        Some(task) => serde_json::from_value(task.clone()),
        None => Ok(Task::Backup),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_scheduled_event_is_the_daily_backup_and_the_drill_is_named() {
        assert_eq!(task_of(&json!({"detail-type": "Scheduled Event"})).unwrap(), Task::Backup);
        assert_eq!(task_of(&json!({"task": "restore-drill"})).unwrap(), Task::RestoreDrill);
        assert!(task_of(&json!({"task": "drop-tables"})).is_err());
    }

    #[test]
    fn configuration_defaults_to_35_days_and_the_stack_as_tenant() {
        let env = EnvSource::from_pairs([
            ("MEDVAULT_STACK_NAME", "medvault"),
            ("MEDVAULT_OPS_TABLE", "ops"),
            ("MEDVAULT_IDEMPOTENCY_TABLE", "idem"),
            ("MEDVAULT_BACKUP_BUCKET", "bucket"),
        ]);
        let config = Config::from_env(&env).unwrap();
        assert_eq!((config.retention_days, config.tenant.as_str(), config.exports), (35, "medvault", true));
        assert!(Config::from_env(&EnvSource::from_pairs([("MEDVAULT_OPS_TABLE", "ops")])).is_err());
    }
}
