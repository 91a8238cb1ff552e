//! The ingest worker: reads S3 upload notifications from the ingest queue and records each uploaded object version,
//! exactly once, however often SQS delivers its notification.

use std::time::{Duration, SystemTime};

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use aws_sdk_dynamodb::types::AttributeValue;
use lambda_runtime::LambdaEvent;
use medvault_platform::WorkerError;
use medvault_platform::aws::{AwsClients, AwsSettings};
use medvault_platform::batch::{BatchError, process_sqs_batch};
use medvault_platform::config::{ConfigError, EnvSource, FromEnv};
use medvault_platform::idempotency::{DynamoDbStore, Idempotency};
use medvault_platform::s3_event::{self, S3Notification, S3ObjectRef};

/// The ingest worker's configuration, read once at cold start.
#[derive(Debug, Clone)]
pub struct Config {
    pub aws: AwsSettings,
    pub documents_table: String,
    pub idempotency_table: String,
    pub idempotency_ttl: Duration,
}

impl FromEnv for Config {
    fn from_env(env: &EnvSource) -> Result<Self, ConfigError> {
        Ok(Self {
            aws: AwsSettings::from_env(env)?,
            documents_table: env.required("MEDVAULT_DOCUMENTS_TABLE")?,
            idempotency_table: env.required("MEDVAULT_IDEMPOTENCY_TABLE")?,
            idempotency_ttl: env.seconds("MEDVAULT_IDEMPOTENCY_TTL_SECONDS", Duration::from_secs(24 * 3600))?,
        })
    }
}

/// What the worker needs, built once per execution environment.
#[derive(Debug, Clone)]
pub struct Worker {
    dynamodb: aws_sdk_dynamodb::Client,
    documents_table: String,
    idempotency: Idempotency<DynamoDbStore>,
}

impl Worker {
    pub fn new(config: &Config, clients: &AwsClients) -> Self {
        let dynamodb = clients.dynamodb();
        let store = DynamoDbStore::new(dynamodb.clone(), &config.idempotency_table);
        Self {
            idempotency: Idempotency::new(store, medvault_platform::telemetry::function_name())
                .with_ttl(config.idempotency_ttl),
            dynamodb,
            documents_table: config.documents_table.clone(),
        }
    }

    /// Handles one SQS batch, reporting only the messages that failed.
    pub async fn handle(&self, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, BatchError> {
        let deadline = event.context.deadline();
        // Boxing each message's future keeps the handler's future type shallow (SDK futures nest deeply).
        let batch = process_sqs_batch(event.payload, |message| Box::pin(self.handle_message(message, deadline)));
        medvault_platform::metrics::scope(batch).await
    }

    async fn handle_message(&self, message: SqsMessage, deadline: SystemTime) -> Result<(), WorkerError> {
        let body = message.body.as_deref().ok_or_else(|| WorkerError::permanent("message has no body"))?;
        match s3_event::parse(body).map_err(WorkerError::permanent)? {
            S3Notification::Test => {
                tracing::info!("S3 test event acknowledged");
                Ok(())
            }
            S3Notification::Objects(objects) => {
                for object in &objects {
                    self.record_upload(object, deadline).await?;
                }
                Ok(())
            }
        }
    }

    /// Records one object version; a second delivery of the same notification replays the first result.
    async fn record_upload(&self, object: &S3ObjectRef, deadline: SystemTime) -> Result<(), WorkerError> {
        let identity = object.identity();
        let outcome = self
            .idempotency
            .run(&identity, &identity, Some(deadline), || async {
                self.dynamodb
                    .update_item()
                    .table_name(&self.documents_table)
                    .key("id", AttributeValue::S(upload_id(object)))
                    // Every attribute through a placeholder: several of these names are DynamoDB reserved words.
                    .update_expression(
                        "SET #status = :uploaded, #bucket = :bucket, #key = :key, #version = :version, \
                         #size = :size, #received = :now ADD #deliveries :one",
                    )
                    .expression_attribute_names("#status", "status")
                    .expression_attribute_names("#bucket", "bucket")
                    .expression_attribute_names("#key", "object_key")
                    .expression_attribute_names("#version", "version_id")
                    .expression_attribute_names("#size", "size_bytes")
                    .expression_attribute_names("#received", "received_at")
                    .expression_attribute_names("#deliveries", "deliveries")
                    .expression_attribute_values(":uploaded", AttributeValue::S("uploaded".into()))
                    .expression_attribute_values(":bucket", AttributeValue::S(object.bucket.clone()))
                    .expression_attribute_values(":key", AttributeValue::S(object.key.clone()))
                    .expression_attribute_values(
                        ":version",
                        AttributeValue::S(object.version_id.clone().unwrap_or_default()),
                    )
                    .expression_attribute_values(":size", AttributeValue::N(object.size.unwrap_or(0).to_string()))
                    .expression_attribute_values(":now", AttributeValue::S(chrono::Utc::now().to_rfc3339()))
                    .expression_attribute_values(":one", AttributeValue::N("1".into()))
                    .send()
                    .await
                    .map_err(WorkerError::from_sdk)?;
                Ok::<_, WorkerError>(())
            })
            .await
            .map_err(WorkerError::from)?;
        // Object keys may carry file names; log only that it happened.
        tracing::info!(replayed = outcome.replayed, "upload recorded");
        Ok(())
    }
}

/// The documents-table id of an uploaded object.
pub fn upload_id(object: &S3ObjectRef) -> String {
    format!("upload#{}/{}", object.bucket, object.key)
}
