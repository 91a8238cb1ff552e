//! The audit job. Hourly, it verifies the audit chain from the last signed checkpoint (that checkpoint's event
//! must still be the one it signed, and every event after it must link), runs the detection rules over the new
//! events, and signs the next checkpoint with the KMS audit key into the Object Lock bucket. Nightly
//! (`{"task": "verify-full"}`), it verifies every checkpoint and the whole chain from its first event, which also
//! catches changes to events older than the newest checkpoint. A break raises a critical finding on the alert
//! topic and EventBridge; nothing is signed over a broken chain.
//!
//! Each run is claimed with a conditional write: the hourly run by the number of the checkpoint it will write,
//! the nightly run by its date. A second run with nothing new verifies and signs nothing.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use chrono::Utc;
use lambda_runtime::LambdaEvent;
use medvault_audit::{AuditError, ChainHead, ChainedEvent, DynamoDbAuditLog};
use medvault_ops::aws::AwsError;
use medvault_ops::aws::alerts::AlertPublisher;
use medvault_ops::aws::checkpoints::{CheckpointStore, KmsSigner, StoredCheckpoint, Written};
use medvault_ops::aws::state::{OpsState, Recorded};
use medvault_ops::checkpoint::{Checkpoint, CheckpointError, SignedCheckpoint, verify_checkpoints};
use medvault_ops::finding::{Finding, FindingKind};
use medvault_ops::public_key::PublicKey;
use medvault_ops::rules::{DetectionRules, detect};
use medvault_ops::verify::{AuditBreak, StretchVerifier, check_anchor, verify_stretch};
use medvault_platform::aws::{AwsClients, AwsSettings};
use medvault_platform::config::{ConfigError, EnvSource, FromEnv};
use medvault_platform::idempotency::{DynamoDbStore, Idempotency, IdempotencyError};
use medvault_platform::metrics::{self, Unit};
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;

/// The name findings and claims carry.
const JOB: &str = "audit-job";
/// Events read per page when verifying the whole chain.
const PAGE: usize = 1000;

/// The audit job's configuration, read once at cold start.
#[derive(Debug, Clone)]
pub struct Config {
    pub aws: AwsSettings,
    pub audit_table: String,
    pub ops_table: String,
    pub idempotency_table: String,
    pub checkpoint_bucket: String,
    pub signing_key_id: String,
    /// How long each checkpoint is locked (compliance mode), in years.
    pub retention_years: u32,
    pub alert_topic_arn: String,
    pub event_bus: String,
    pub rules: DetectionRules,
    /// How long stored findings are kept in the ops table.
    pub finding_ttl: Duration,
    /// At most this many new events per hourly run; the next run continues from the checkpoint.
    pub max_events_per_run: usize,
}

impl FromEnv for Config {
    fn from_env(env: &EnvSource) -> Result<Self, ConfigError> {
        Ok(Self {
            aws: AwsSettings::from_env(env)?,
            audit_table: env.required("MEDVAULT_AUDIT_TABLE")?,
            ops_table: env.required("MEDVAULT_OPS_TABLE")?,
            idempotency_table: env.required("MEDVAULT_IDEMPOTENCY_TABLE")?,
            checkpoint_bucket: env.required("MEDVAULT_CHECKPOINT_BUCKET")?,
            signing_key_id: env.required("MEDVAULT_AUDIT_SIGNING_KEY_ID")?,
            retention_years: env.or("MEDVAULT_CHECKPOINT_RETENTION_YEARS", 7)?,
            alert_topic_arn: env.required("MEDVAULT_ALERT_TOPIC_ARN")?,
            event_bus: env.or("MEDVAULT_EVENT_BUS", "default".to_owned())?,
            rules: env.or("MEDVAULT_DETECTION_RULES", DetectionRules::default())?,
            finding_ttl: Duration::from_secs(86_400 * env.or::<u64>("MEDVAULT_FINDING_RETENTION_DAYS", 400)?),
            max_events_per_run: env.or("MEDVAULT_AUDIT_MAX_EVENTS_PER_RUN", 100_000)?,
        })
    }
}

/// What an invocation asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Task {
    /// From the last checkpoint (the default: the EventBridge "Scheduled Event" carries no task).
    Hourly,
    /// Every checkpoint and the whole chain.
    VerifyFull,
}

/// Why an invocation was refused or failed. A broken chain is not an error: it is the job's finding.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("the event names no known task (hourly, verify-full)")]
    UnknownTask(#[source] serde_json::Error),
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error("the audit log could not be read")]
    Audit(#[source] AuditError),
    #[error("the run could not be claimed")]
    Claim(#[source] IdempotencyError<Box<JobError>>),
    #[error("a concurrent run wrote checkpoint {0} first")]
    Concurrent(u64),
    #[error("the signature KMS made does not verify with the key's public half")]
    SelfCheck(#[source] CheckpointError),
    /// Carried out of a claimed run so that its claim is released and the next run checks again.
    #[error("the audit chain is broken")]
    Broken(Break),
}

impl From<JobError> for lambda_runtime::Diagnostic {
    fn from(error: JobError) -> Self {
        let kind = match &error {
            JobError::UnknownTask(_) => "UnknownTask",
            JobError::Aws(_) | JobError::Audit(_) | JobError::Claim(_) | JobError::Concurrent(_) => "Retryable",
            JobError::SelfCheck(_) | JobError::Broken(_) => "Permanent",
        };
        lambda_runtime::Diagnostic {
            error_type: kind.to_owned(),
            error_message: medvault_platform::error::chain(&error),
        }
    }
}

/// A reason not to trust the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Break {
    Chain(AuditBreak),
    Checkpoint(CheckpointError),
    /// A checkpoint object that does not parse, or holds another number.
    UnreadableCheckpoint {
        number: u64,
        detail: String,
    },
    /// A stored event missing an attribute (one was removed).
    MalformedEvent {
        seq: u64,
        what: &'static str,
    },
}

impl Break {
    fn code(&self) -> &'static str {
        match self {
            Self::Chain(b) => b.code(),
            Self::Checkpoint(CheckpointError::BadSignature { .. } | CheckpointError::Algorithm { .. }) => {
                "checkpoint-signature"
            }
            Self::Checkpoint(_) => "checkpoint-chain",
            Self::UnreadableCheckpoint { .. } => "checkpoint-unreadable",
            Self::MalformedEvent { .. } => "malformed-event",
        }
    }

    fn seq(&self) -> u64 {
        match self {
            Self::Chain(b) => b.seq(),
            Self::MalformedEvent { seq, .. } => *seq,
            Self::Checkpoint(_) | Self::UnreadableCheckpoint { .. } => 0,
        }
    }

    fn message(&self) -> String {
        match self {
            Self::Chain(b) => b.to_string(),
            Self::Checkpoint(c) => c.to_string(),
            Self::UnreadableCheckpoint { number, detail } => format!("checkpoint {number}: {detail}"),
            Self::MalformedEvent { seq, what } => format!("stored event {seq} has no valid {what}"),
        }
    }
}

/// What a run did: the Lambda's result and the structured summary it logs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    pub task: Task,
    /// `checkpointed`, `up-to-date`, `verified`, `chain-broken`, `in-progress-elsewhere`.
    pub status: String,
    /// The chain positions verified: after `from`, through `to`.
    pub from: u64,
    pub to: u64,
    pub events: u64,
    /// The checkpoint written by this run.
    pub checkpoint: Option<u64>,
    pub findings: u64,
    pub published: u64,
    /// For a broken chain: what and where.
    pub break_code: Option<String>,
    pub break_seq: Option<u64>,
    /// True when the result is an earlier completed run's, replayed.
    pub replayed: bool,
}

impl RunSummary {
    fn new(task: Task, status: &str) -> Self {
        Self {
            task,
            status: status.to_owned(),
            from: 0,
            to: 0,
            events: 0,
            checkpoint: None,
            findings: 0,
            published: 0,
            break_code: None,
            break_seq: None,
            replayed: false,
        }
    }
}

/// The audit job's dependencies, built once per execution environment.
#[derive(Debug)]
pub struct AuditJob {
    log: DynamoDbAuditLog,
    store: CheckpointStore,
    signer: KmsSigner,
    state: OpsState,
    alerts: AlertPublisher,
    runs: Idempotency<DynamoDbStore>,
    rules: DetectionRules,
    finding_ttl: Duration,
    max_events: usize,
    public_key: OnceCell<PublicKey>,
    key_arn: OnceCell<String>,
}

impl AuditJob {
    pub fn new(config: &Config, clients: &AwsClients) -> Self {
        let dynamodb = clients.dynamodb();
        let sdk = clients.sdk_config();
        Self {
            log: DynamoDbAuditLog::new(dynamodb.clone(), &config.audit_table),
            store: CheckpointStore::new(clients.s3(), &config.checkpoint_bucket, config.retention_years),
            signer: KmsSigner::new(clients.kms(), &config.signing_key_id),
            state: OpsState::new(dynamodb.clone(), &config.ops_table),
            alerts: AlertPublisher::new(
                aws_sdk_sns::Client::new(sdk),
                &config.alert_topic_arn,
                aws_sdk_eventbridge::Client::new(sdk),
                &config.event_bus,
            ),
            // Completed claims are kept a week: long enough that a retried invocation never redoes a run.
            runs: Idempotency::new(DynamoDbStore::new(dynamodb, &config.idempotency_table), JOB)
                .with_ttl(Duration::from_secs(7 * 86_400)),
            rules: config.rules.clone(),
            finding_ttl: config.finding_ttl,
            max_events: config.max_events_per_run.max(1),
            public_key: OnceCell::new(),
            key_arn: OnceCell::new(),
        }
    }

    /// Runs one scheduled invocation, recording its metrics and logging its summary.
    pub async fn handle(&self, event: LambdaEvent<serde_json::Value>) -> Result<RunSummary, JobError> {
        let deadline = event.context.deadline();
        metrics::scope(async move {
            let task = task_of(&event.payload).map_err(JobError::UnknownTask)?;
            let result = match task {
                // Boxed: the SDK futures nest deeply, and the whole run would not fit the compiler's layout limit.
                Task::Hourly => Box::pin(self.hourly(deadline)).await,
                Task::VerifyFull => Box::pin(self.verify_full(deadline)).await,
            };
            match &result {
                Ok(summary) => {
                    metrics::record("EventsVerified", Unit::Count, summary.events as f64);
                    metrics::record("FindingsRaised", Unit::Count, summary.findings as f64);
                    metrics::record("ChainBreaks", Unit::Count, f64::from(u8::from(summary.status == "chain-broken")));
                    metrics::record("RunFailed", Unit::Count, 0.0);
                    tracing::info!(
                        task = ?summary.task,
                        status = %summary.status,
                        from = summary.from,
                        to = summary.to,
                        events = summary.events,
                        checkpoint = ?summary.checkpoint,
                        findings = summary.findings,
                        published = summary.published,
                        break_code = ?summary.break_code,
                        replayed = summary.replayed,
                        "audit-job run finished"
                    );
                }
                Err(error) => {
                    metrics::record("RunFailed", Unit::Count, 1.0);
                    tracing::error!(error = %medvault_platform::error::chain(error), "audit-job run failed");
                }
            }
            result
        })
        .await
    }

    async fn public_key(&self) -> Result<&PublicKey, JobError> {
        Ok(self.public_key.get_or_try_init(|| self.signer.public_key()).await?)
    }

    async fn key_arn(&self) -> Result<&str, JobError> {
        Ok(self.key_arn.get_or_try_init(|| self.signer.key_arn()).await?.as_str())
    }

    /// A stored checkpoint, if it parses and carries the audit key's signature.
    fn authentic(stored: StoredCheckpoint, key: &PublicKey) -> Result<SignedCheckpoint, Break> {
        let checkpoint =
            stored.checkpoint.map_err(|detail| Break::UnreadableCheckpoint { number: stored.number, detail })?;
        checkpoint.verify(key).map_err(Break::Checkpoint)?;
        Ok(checkpoint)
    }

    async fn hourly(&self, deadline: SystemTime) -> Result<RunSummary, JobError> {
        let key = self.public_key().await?.clone();
        let hint = self.state.checkpoint_hint().await?;
        let latest = match self.store.latest(hint).await? {
            Some(stored) => match Self::authentic(stored, &key) {
                Ok(checkpoint) => Some(checkpoint),
                Err(broken) => return Box::pin(self.broken(Task::Hourly, broken)).await,
            },
            None => None,
        };
        let start = latest.as_ref().map_or(ChainHead::EMPTY, |c| c.checkpoint.head());
        if let Some(latest) = &latest {
            let anchor = self.events_after(start.seq.saturating_sub(1), 1).await;
            let anchor = match anchor {
                Ok(events) => events.into_iter().next(),
                Err(JobError::Broken(broken)) => return Box::pin(self.broken(Task::Hourly, broken)).await,
                Err(other) => return Err(other),
            };
            if let Err(broken) = check_anchor(&latest.checkpoint, anchor.as_ref()) {
                return Box::pin(self.broken(Task::Hourly, Break::Chain(broken))).await;
            }
        }
        let head = self.log.read_head().await.map_err(JobError::Audit)?;
        if head.seq <= start.seq {
            let mut summary = RunSummary::new(Task::Hourly, "up-to-date");
            (summary.from, summary.to) = (start.seq, start.seq);
            return Ok(summary);
        }

        let number = latest.as_ref().map_or(1, |c| c.checkpoint.number + 1);
        let claim = format!("checkpoint#{number}");
        let outcome = self
            .runs
            .run(&claim, &number, Some(deadline), || async {
                Box::pin(self.window(latest.as_ref(), start)).await.map_err(Box::new)
            })
            .await;
        match outcome {
            Ok(done) => Ok(RunSummary { replayed: done.replayed, ..done.value }),
            Err(IdempotencyError::Handler(error)) => match *error {
                JobError::Broken(broken) => Box::pin(self.broken(Task::Hourly, broken)).await,
                other => Err(other),
            },
            Err(IdempotencyError::AlreadyInProgress) => Ok(RunSummary::new(Task::Hourly, "in-progress-elsewhere")),
            Err(other) => Err(JobError::Claim(other)),
        }
    }

    /// The claimed part of an hourly run: verify the new events, detect, sign the next checkpoint.
    async fn window(&self, latest: Option<&SignedCheckpoint>, start: ChainHead) -> Result<RunSummary, JobError> {
        let events = self.events_after(start.seq, self.max_events).await?;
        let verified = verify_stretch(start, &events, &[]).map_err(|b| JobError::Broken(Break::Chain(b)))?;

        let actors: Vec<String> =
            events.iter().map(|e| e.event.actor_id.clone()).collect::<BTreeSet<_>>().into_iter().collect();
        let baselines = self.state.baselines(&actors).await?;
        let detection = detect(&events, &self.rules, &baselines, JOB);
        let published = self.raise(&detection.findings).await?;
        self.state.save_baselines(&detection.baselines).await?;

        let now = Utc::now();
        let checkpoint = Checkpoint::after(latest, verified.head, now, self.key_arn().await?);
        let number = checkpoint.number;
        let signature = self.signer.sign(&checkpoint.signing_bytes()).await?;
        let signed = checkpoint.signed(signature);
        signed.verify(self.public_key().await?).map_err(JobError::SelfCheck)?;
        match self.store.put(&signed, now).await? {
            Written::Stored { .. } => {}
            Written::AlreadyThere => return Err(JobError::Concurrent(number)),
        }
        self.state.set_checkpoint_hint(number).await?;
        metrics::record("CheckpointsWritten", Unit::Count, 1.0);

        Ok(RunSummary {
            from: start.seq,
            to: verified.head.seq,
            events: verified.events,
            checkpoint: Some(number),
            findings: detection.findings.len() as u64,
            published,
            ..RunSummary::new(Task::Hourly, "checkpointed")
        })
    }

    async fn verify_full(&self, deadline: SystemTime) -> Result<RunSummary, JobError> {
        let claim = format!("verify-full#{}", Utc::now().format("%Y-%m-%d"));
        let outcome = self
            .runs
            .run(&claim, &claim, Some(deadline), || async {
                Box::pin(self.verify_everything()).await.map_err(Box::new)
            })
            .await;
        match outcome {
            Ok(done) => Ok(RunSummary { replayed: done.replayed, ..done.value }),
            Err(IdempotencyError::Handler(error)) => match *error {
                JobError::Broken(broken) => Box::pin(self.broken(Task::VerifyFull, broken)).await,
                other => Err(other),
            },
            Err(IdempotencyError::AlreadyInProgress) => Ok(RunSummary::new(Task::VerifyFull, "in-progress-elsewhere")),
            Err(other) => Err(JobError::Claim(other)),
        }
    }

    async fn verify_everything(&self) -> Result<RunSummary, JobError> {
        let key = self.public_key().await?.clone();
        let mut checkpoints = Vec::new();
        for stored in self.store.all().await? {
            checkpoints.push(Self::authentic(stored, &key).map_err(JobError::Broken)?);
        }
        verify_checkpoints(&checkpoints, &key).map_err(|c| JobError::Broken(Break::Checkpoint(c)))?;
        if let Some(first) = checkpoints.first().filter(|c| c.checkpoint.number != 1) {
            return Err(JobError::Broken(Break::Checkpoint(CheckpointError::Missing {
                expected: 1,
                found: first.checkpoint.number,
            })));
        }
        let plain: Vec<Checkpoint> = checkpoints.iter().map(|c| c.checkpoint.clone()).collect();
        let mut verifier = StretchVerifier::new(ChainHead::EMPTY, &plain);
        loop {
            let page = self.events_after(verifier.head().seq, PAGE).await?;
            if page.is_empty() {
                break;
            }
            for event in &page {
                verifier.push(event).map_err(|b| JobError::Broken(Break::Chain(b)))?;
            }
        }
        let verified = verifier.finish().map_err(|b| JobError::Broken(Break::Chain(b)))?;
        Ok(RunSummary {
            to: verified.head.seq,
            events: verified.events,
            ..RunSummary::new(Task::VerifyFull, "verified")
        })
    }

    /// Events after `after`, with a stored event that no longer reads as one reported as a break.
    async fn events_after(&self, after: u64, limit: usize) -> Result<Vec<ChainedEvent>, JobError> {
        self.log.events_after(after, limit).await.map_err(|error| match error {
            AuditError::Malformed { seq, what } => JobError::Broken(Break::MalformedEvent { seq, what }),
            other => JobError::Audit(other),
        })
    }

    /// Raises a broken chain: a critical finding, published once per break and day.
    async fn broken(&self, task: Task, broken: Break) -> Result<RunSummary, JobError> {
        let now = Utc::now();
        let detail = std::collections::BTreeMap::from([
            ("code".to_owned(), broken.code().to_owned()),
            ("message".to_owned(), broken.message()),
        ]);
        let seq = broken.seq();
        let finding = Finding::new(FindingKind::AuditChainBroken, "audit-log", 1, (seq, seq), (now, now), JOB, detail);
        tracing::error!(code = broken.code(), seq, message = %broken.message(), "the audit chain does not verify");
        let published = self.raise(std::slice::from_ref(&finding)).await?;
        Ok(RunSummary {
            findings: 1,
            published,
            break_code: Some(broken.code().to_owned()),
            break_seq: Some(seq),
            ..RunSummary::new(task, "chain-broken")
        })
    }

    /// Stores each finding once and publishes those not yet published; returns how many were published now.
    async fn raise(&self, findings: &[Finding]) -> Result<u64, JobError> {
        let expires = Utc::now() + chrono::Duration::from_std(self.finding_ttl).unwrap_or(chrono::Duration::days(400));
        let mut published = 0;
        for finding in findings {
            match self.state.record_finding(finding, expires).await? {
                Recorded::Published => continue,
                Recorded::New | Recorded::Unpublished => {
                    self.alerts.publish(finding).await?;
                    self.state.mark_published(finding).await?;
                    published += 1;
                    tracing::warn!(kind = finding.kind.as_str(), subject = %finding.subject, id = %finding.id, "finding published");
                }
            }
        }
        metrics::record("FindingsPublished", Unit::Count, published as f64);
        Ok(published)
    }
}

/// The task an invocation names: `{"task": "verify-full"}`, or the hourly run for any event without a task (the
/// EventBridge "Scheduled Event").
pub fn task_of(payload: &serde_json::Value) -> Result<Task, serde_json::Error> {
    match payload.get("task") {
        Some(task) => serde_json::from_value(task.clone()),
        None => Ok(Task::Hourly),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_scheduled_event_is_the_hourly_run_and_tasks_are_named() {
        let scheduled = json!({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}});
        assert_eq!(task_of(&scheduled).unwrap(), Task::Hourly);
        assert_eq!(task_of(&json!({"task": "verify-full"})).unwrap(), Task::VerifyFull);
        assert!(task_of(&json!({"task": "delete-everything"})).is_err());
    }

    #[test]
    fn configuration_needs_the_resources_and_parses_rules() {
        let env = EnvSource::from_pairs([
            ("MEDVAULT_AUDIT_TABLE", "audit"),
            ("MEDVAULT_OPS_TABLE", "ops"),
            ("MEDVAULT_IDEMPOTENCY_TABLE", "idem"),
            ("MEDVAULT_CHECKPOINT_BUCKET", "bucket"),
            ("MEDVAULT_AUDIT_SIGNING_KEY_ID", "key"),
            ("MEDVAULT_ALERT_TOPIC_ARN", "arn:topic"),
            ("MEDVAULT_DETECTION_RULES", r#"{"failed_logins":{"per_account":3}}"#),
        ]);
        let config = Config::from_env(&env).unwrap();
        assert_eq!(config.rules.failed_logins.per_account, 3);
        assert_eq!(config.retention_years, 7);
        let broken = EnvSource::from_pairs([("MEDVAULT_DETECTION_RULES", "{")]);
        assert!(Config::from_env(&broken).is_err());
    }
}
