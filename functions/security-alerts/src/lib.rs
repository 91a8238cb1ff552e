//! The security alerts consumer: a DynamoDB Streams consumer on the audit table that raises, within seconds,
//! break-glass use, refresh-token reuse, repeated denials of PHI access, and any change to a stored audit event
//! (the log is append-only: a modified or removed item is tampering).
//!
//! Records are handled in stream order. On the first record that fails, the batch stops and that record's sequence
//! number is reported (Lambda's `ReportBatchItemFailures` for streams: the batch is retried from it), so nothing
//! is skipped and nothing after a failure runs ahead of it. Each alert is stored once (its id is derived from what
//! it says) and marked published after publishing, so a retried batch neither loses nor repeats one.

use std::time::Duration;

use aws_lambda_events::dynamodb::{Event, EventRecord};
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use chrono::Utc;
use lambda_runtime::LambdaEvent;
use medvault_ops::aws::AwsError;
use medvault_ops::aws::alerts::AlertPublisher;
use medvault_ops::aws::state::{OpsState, Recorded};
use medvault_ops::finding::{Finding, FindingKind};
use medvault_ops::realtime::{self, Signal};
use medvault_ops::rules::DetectionRules;
use medvault_ops::stream::{self, Change};
use medvault_platform::aws::{AwsClients, AwsSettings};
use medvault_platform::config::{ConfigError, EnvSource, FromEnv};
use medvault_platform::metrics::{self, Unit};

/// The partition key of every audit event item (the audit crate's layout).
const CHAIN_PK: &str = "chain";

/// The consumer's configuration, read once at cold start.
#[derive(Debug, Clone)]
pub struct Config {
    pub aws: AwsSettings,
    pub ops_table: String,
    pub alert_topic_arn: String,
    pub event_bus: String,
    pub rules: DetectionRules,
    pub finding_ttl: Duration,
}

impl FromEnv for Config {
    fn from_env(env: &EnvSource) -> Result<Self, ConfigError> {
        Ok(Self {
            aws: AwsSettings::from_env(env)?,
            ops_table: env.required("MEDVAULT_OPS_TABLE")?,
            alert_topic_arn: env.required("MEDVAULT_ALERT_TOPIC_ARN")?,
            event_bus: env.or("MEDVAULT_EVENT_BUS", "default".to_owned())?,
            rules: env.or("MEDVAULT_DETECTION_RULES", DetectionRules::default())?,
            finding_ttl: Duration::from_secs(86_400 * env.or::<u64>("MEDVAULT_FINDING_RETENTION_DAYS", 400)?),
        })
    }
}

/// Why a batch could not be handled record by record.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("stream record {index} has no sequence number; failing the whole batch so it is retried intact")]
    MissingSequenceNumber { index: usize },
}

impl From<BatchError> for lambda_runtime::Diagnostic {
    fn from(error: BatchError) -> Self {
        lambda_runtime::Diagnostic { error_type: "BatchError".to_owned(), error_message: error.to_string() }
    }
}

/// The consumer's dependencies, built once per execution environment.
#[derive(Debug)]
pub struct SecurityAlerts {
    state: OpsState,
    alerts: AlertPublisher,
    rules: DetectionRules,
    finding_ttl: Duration,
}

impl SecurityAlerts {
    pub fn new(config: &Config, clients: &AwsClients) -> Self {
        let sdk = clients.sdk_config();
        Self {
            state: OpsState::new(clients.dynamodb(), &config.ops_table),
            alerts: AlertPublisher::new(
                aws_sdk_sns::Client::new(sdk),
                &config.alert_topic_arn,
                aws_sdk_eventbridge::Client::new(sdk),
                &config.event_bus,
            ),
            rules: config.rules.clone(),
            finding_ttl: config.finding_ttl,
        }
    }

    /// Handles one batch of stream records, reporting the first that failed.
    pub async fn handle(&self, event: LambdaEvent<Event>) -> Result<DynamoDbEventResponse, BatchError> {
        metrics::scope(self.batch(event.payload)).await
    }

    async fn batch(&self, event: Event) -> Result<DynamoDbEventResponse, BatchError> {
        if let Some(index) =
            event.records.iter().position(|r| r.change.sequence_number.as_deref().is_none_or(str::is_empty))
        {
            return Err(BatchError::MissingSequenceNumber { index });
        }
        let mut response = DynamoDbEventResponse::default();
        let total = event.records.len();
        let mut alerts = 0;
        for (index, record) in event.records.iter().enumerate() {
            let sequence = record.change.sequence_number.clone().unwrap_or_default();
            match Box::pin(self.record(record)).await {
                Ok(raised) => alerts += raised,
                Err(error) => {
                    tracing::error!(
                        sequence_number = %sequence,
                        error = %medvault_platform::error::chain(&error),
                        "stream record failed; the batch is retried from it"
                    );
                    metrics::record("RecordsFailed", Unit::Count, 1.0);
                    metrics::record("RecordsProcessed", Unit::Count, index as f64);
                    let mut failure = DynamoDbBatchItemFailure::default();
                    failure.item_identifier = Some(sequence);
                    response.batch_item_failures.push(failure);
                    return Ok(response);
                }
            }
        }
        metrics::record("RecordsProcessed", Unit::Count, total as f64);
        metrics::record("AlertsRaised", Unit::Count, alerts as f64);
        tracing::info!(records = total, alerts, "stream batch handled");
        Ok(response)
    }

    /// Handles one record; returns how many alerts it published.
    async fn record(&self, record: &EventRecord) -> Result<u64, AwsError> {
        let Some(change) = Change::parse(&record.event_name) else {
            tracing::warn!(event_name = %record.event_name, "unknown stream event name: skipped");
            return Ok(0);
        };
        let keys = serde_json::to_value(&record.change.keys).unwrap_or_default();
        if keys.pointer("/pk/S").and_then(serde_json::Value::as_str).is_some_and(|pk| pk != CHAIN_PK) {
            return Ok(0);
        }
        if let Some(finding) = realtime::tampering(change, stream::position(&keys), Utc::now()) {
            tracing::error!(change = ?change, seq = ?stream::position(&keys), "a stored audit event was changed");
            return self.raise(&finding).await;
        }
        let image = serde_json::to_value(&record.change.new_image).unwrap_or_default();
        let event = match stream::chained_event(&image) {
            Ok(event) => event,
            Err(error) => {
                // An inserted chain item that is not an audit event: a write that bypassed the audit log.
                let seq = stream::position(&keys).unwrap_or_default();
                let now = Utc::now();
                let detail = std::collections::BTreeMap::from([("reason".to_owned(), error.to_string())]);
                let finding = Finding::new(
                    FindingKind::AuditTampering,
                    "audit-log",
                    1,
                    (seq, seq),
                    (now, now),
                    realtime::DETECTOR,
                    detail,
                );
                return self.raise(&finding).await;
            }
        };
        let mut raised = 0;
        for signal in realtime::signals(&event, &self.rules) {
            match signal {
                Signal::Alert(finding) => raised += self.raise(&finding).await?,
                Signal::Denial { actor, window_start, event } => {
                    let window = i64::try_from(self.rules.repeated_denials.window_seconds).unwrap_or(60);
                    let count = self.state.count_denial(&actor, window_start, window_start + 2 * window).await?;
                    // Exactly at the threshold: one alert per actor and window, however many denials follow.
                    if count == self.rules.repeated_denials.threshold {
                        let finding = realtime::repeated_denials(&actor, count, window_start, &event, &self.rules);
                        raised += self.raise(&finding).await?;
                    }
                }
            }
        }
        Ok(raised)
    }

    /// Stores a finding once and publishes it unless an earlier attempt already did.
    async fn raise(&self, finding: &Finding) -> Result<u64, AwsError> {
        let expires = Utc::now() + chrono::Duration::from_std(self.finding_ttl).unwrap_or(chrono::Duration::days(400));
        match self.state.record_finding(finding, expires).await? {
            Recorded::Published => Ok(0),
            Recorded::New | Recorded::Unpublished => {
                self.alerts.publish(finding).await?;
                self.state.mark_published(finding).await?;
                tracing::warn!(kind = finding.kind.as_str(), subject = %finding.subject, id = %finding.id, "alert published");
                Ok(1)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_reads_the_table_topic_and_rules() {
        let env = EnvSource::from_pairs([
            ("MEDVAULT_OPS_TABLE", "ops"),
            ("MEDVAULT_ALERT_TOPIC_ARN", "arn:topic"),
            ("MEDVAULT_DETECTION_RULES", r#"{"repeated_denials":{"threshold":5}}"#),
        ]);
        let config = Config::from_env(&env).unwrap();
        assert_eq!((config.rules.repeated_denials.threshold, config.event_bus.as_str()), (5, "default"));
    }

    #[tokio::test]
    async fn a_record_without_sequence_number_fails_the_batch_before_anything_runs() {
        let event: Event = serde_json::from_value(serde_json::json!({"Records": [{
            "eventID": "1", "eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1",
            "dynamodb": {"Keys": {"pk": {"S": "chain"}, "sk": {"N": "1"}}, "SizeBytes": 10, "StreamViewType": "NEW_IMAGE"}
        }]}))
        .unwrap();
        let config = Config {
            aws: AwsSettings::default(),
            ops_table: "ops".into(),
            alert_topic_arn: "arn:topic".into(),
            event_bus: "default".into(),
            rules: DetectionRules::default(),
            finding_ttl: Duration::from_secs(60),
        };
        // No call is made: the batch is refused before any record is handled.
        let clients = AwsClients::new(medvault_platform::aws::load_sdk_config().await, AwsSettings::default());
        let consumer = SecurityAlerts::new(&config, &clients);
        assert!(matches!(consumer.batch(event).await, Err(BatchError::MissingSequenceNumber { index: 0 })));
    }
}

#[cfg(test)]
mod fixture_tests {
    use medvault_audit::chain::event_hash;

    use super::*;

    #[test]
    fn the_stream_fixture_reads_as_a_chained_break_glass_event_whose_hash_verifies() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../events/dynamodb-stream-audit-break-glass.json");
        let event: Event = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let record = &event.records[0];
        assert_eq!(Change::parse(&record.event_name), Some(Change::Insert));

        let image = serde_json::to_value(&record.change.new_image).unwrap();
        let chained = stream::chained_event(&image).unwrap();

        assert_eq!(event_hash(chained.seq, &chained.prev_hash, &chained.event), chained.hash);
        let signals = realtime::signals(&chained, &DetectionRules::default());
        assert!(matches!(&signals[..], [Signal::Alert(f)] if f.kind == FindingKind::BreakGlass), "{signals:?}");
    }
}
