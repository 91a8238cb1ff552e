//! The ingest worker, the pipeline's first stage: reads S3 upload notifications from the ingest queue, records each
//! uploaded object version exactly once however often SQS delivers its notification, and hands documents to
//! intake (`medvault_pipeline::stages::intake`): identified by their bytes, quarantined with a reason, read
//! (text-layer PDFs) or routed to the OCR and speech queues.

use std::time::SystemTime;

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use aws_sdk_dynamodb::types::AttributeValue;
use lambda_runtime::LambdaEvent;
use medvault_pipeline::job::{document_of, version_token};
use medvault_pipeline::runner::receive_count;
use medvault_pipeline::stages::Shared;
use medvault_pipeline::stages::intake::{Intake, Queues};
use medvault_pipeline::{Outcome, PipelineConfig, PipelineError, Runner};
use medvault_platform::WorkerError;
use medvault_platform::aws::{AwsClients, AwsSettings};
use medvault_platform::batch::{BatchError, process_sqs_batch};
use medvault_platform::config::{ConfigError, EnvSource, FromEnv};
use medvault_platform::s3_event::{self, S3Notification, S3ObjectRef};

/// The ingest worker's configuration, read once at cold start.
#[derive(Debug, Clone)]
pub struct Config {
    pub aws: AwsSettings,
    pub pipeline: PipelineConfig,
    pub queues: Queues,
}

impl FromEnv for Config {
    fn from_env(env: &EnvSource) -> Result<Self, ConfigError> {
        Ok(Self {
            aws: AwsSettings::from_env(env)?,
            pipeline: PipelineConfig::from_env(env)?,
            queues: Queues {
                ocr: env.required("MEDVAULT_OCR_QUEUE_URL")?,
                asr: env.required("MEDVAULT_ASR_QUEUE_URL")?,
                phi: env.required("MEDVAULT_PHI_QUEUE_URL")?,
            },
        })
    }
}

/// What the worker needs, built once per execution environment.
#[derive(Debug, Clone)]
pub struct Worker {
    dynamodb: aws_sdk_dynamodb::Client,
    documents_table: String,
    runner: Runner,
    intake: Intake,
}

impl Worker {
    pub fn new(config: &Config, clients: &AwsClients) -> Self {
        let (shared, runner) = Shared::build(&config.pipeline, clients);
        Self {
            dynamodb: clients.dynamodb(),
            documents_table: config.pipeline.documents_table.clone(),
            runner,
            intake: Intake::new(shared, config.queues.clone()),
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
                    if let Err(error) = self.receive(object, deadline).await {
                        if let Some((patient, document)) = document_of(&object.key) {
                            let version = version_token(object.version_id.as_deref(), object.etag.as_deref());
                            let receives = receive_count(&message);
                            self.runner.give_up_if_last(document, patient, &version, receives, &error).await;
                        }
                        return Err(error);
                    }
                }
                Ok(())
            }
        }
    }

    /// Records one object version and runs intake on it, once: a second delivery of the same notification replays
    /// the first outcome.
    async fn receive(&self, object: &S3ObjectRef, deadline: SystemTime) -> Result<(), WorkerError> {
        self.runner
            .once(&object.identity(), deadline, || async {
                self.record_upload(object).await?;
                self.intake.receive(object).await
            })
            .await
    }

    /// The receipt of an object version (every object the bucket notifies about, documents or not): where it is,
    /// how large, when it came, and how many times this work ran for it (once, unless a retry followed a failure).
    async fn record_upload(&self, object: &S3ObjectRef) -> Result<Outcome, PipelineError> {
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
            .expression_attribute_values(":version", AttributeValue::S(object.version_id.clone().unwrap_or_default()))
            .expression_attribute_values(":size", AttributeValue::N(object.size.unwrap_or(0).to_string()))
            .expression_attribute_values(":now", AttributeValue::S(chrono::Utc::now().to_rfc3339()))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .send()
            .await
            .map_err(PipelineError::sdk)?;
        // Object keys may carry file names; log only that it happened.
        tracing::info!("upload recorded");
        Ok(Outcome::Ignored)
    }
}

/// The documents-table id of an uploaded object's receipt.
pub fn upload_id(object: &S3ObjectRef) -> String {
    format!("upload#{}/{}", object.bucket, object.key)
}
