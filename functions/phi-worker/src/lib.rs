//! The PHI worker: takes jobs from the PHI queue, runs the document's stored text through the PHI engine (loaded
//! once per execution environment) and makes the document `ready` (`medvault_pipeline::stages::detect`).

use std::sync::Arc;
use std::time::SystemTime;

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use lambda_runtime::LambdaEvent;
use medvault_phi::{Analyzer, PhiError};
use medvault_pipeline::stages::Shared;
use medvault_pipeline::stages::detect::Detector;
use medvault_pipeline::{PipelineConfig, Runner};
use medvault_platform::WorkerError;
use medvault_platform::aws::{AwsClients, AwsSettings};
use medvault_platform::batch::{BatchError, process_sqs_batch};
use medvault_platform::config::{ConfigError, EnvSource, FromEnv};

/// The PHI worker's configuration, read once at cold start.
#[derive(Debug, Clone)]
pub struct Config {
    pub aws: AwsSettings,
    pub pipeline: PipelineConfig,
}

impl FromEnv for Config {
    fn from_env(env: &EnvSource) -> Result<Self, ConfigError> {
        Ok(Self { aws: AwsSettings::from_env(env)?, pipeline: PipelineConfig::from_env(env)? })
    }
}

/// What the worker needs, built once per execution environment.
#[derive(Debug, Clone)]
pub struct Worker {
    runner: Runner,
    detector: Detector,
}

impl Worker {
    /// Loads the PHI engine and the pipeline's clients.
    pub fn new(config: &Config, clients: &AwsClients) -> Result<Self, PhiError> {
        let analyzer = Arc::new(Analyzer::new()?);
        let (shared, runner) = Shared::build(&config.pipeline, clients);
        Ok(Self { runner, detector: Detector::new(shared, analyzer) })
    }

    /// Handles one SQS batch, reporting only the messages that failed.
    pub async fn handle(&self, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, BatchError> {
        let deadline = event.context.deadline();
        let batch = process_sqs_batch(event.payload, |message| Box::pin(self.handle_message(message, deadline)));
        medvault_platform::metrics::scope(batch).await
    }

    async fn handle_message(&self, message: SqsMessage, deadline: SystemTime) -> Result<(), WorkerError> {
        self.runner.job(message, deadline, |job| self.detector.detect(job)).await
    }
}
