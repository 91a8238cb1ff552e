//! The PHI worker: takes jobs from the PHI queue, runs the document's stored text through the PHI engine (loaded
//! once per execution environment) and makes the document `ready` (`medvault_pipeline::stages::detect`).

use std::sync::Arc;

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::LambdaEvent;
use medvault_phi::{Analyzer, PhiError};
use medvault_pipeline::stages::Shared;
use medvault_pipeline::stages::detect::Detector;
use medvault_pipeline::{PipelineConfig, Runner};
use medvault_platform::aws::{AwsClients, AwsSettings};
use medvault_platform::batch::BatchError;
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
        self.runner.batch(event.payload, deadline, |job| self.detector.detect(job)).await
    }
}
