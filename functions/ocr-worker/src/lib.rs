//! The OCR worker: takes jobs from the OCR queue and reads their images and scanned PDFs with the configured
//! engine (`MEDVAULT_OCR_ENGINE`: Tesseract, loaded once per execution environment, or Textract), then hands the
//! text to PHI detection (`medvault_pipeline::stages::ocr`).

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::LambdaEvent;
use medvault_ocr::{ConfiguredOcr, OcrConfig, OcrError};
use medvault_pipeline::stages::Shared;
use medvault_pipeline::stages::ocr::OcrStage;
use medvault_pipeline::{PipelineConfig, Runner};
use medvault_platform::aws::{AwsClients, AwsSettings};
use medvault_platform::batch::BatchError;
use medvault_platform::config::{ConfigError, EnvSource, FromEnv};

/// The OCR worker's configuration, read once at cold start.
#[derive(Debug, Clone)]
pub struct Config {
    pub aws: AwsSettings,
    pub pipeline: PipelineConfig,
    pub ocr: OcrConfig,
    pub phi_queue: String,
}

impl FromEnv for Config {
    fn from_env(env: &EnvSource) -> Result<Self, ConfigError> {
        Ok(Self {
            aws: AwsSettings::from_env(env)?,
            pipeline: PipelineConfig::from_env(env)?,
            ocr: OcrConfig::from_env(env)?,
            phi_queue: env.required("MEDVAULT_PHI_QUEUE_URL")?,
        })
    }
}

/// What the worker needs, built once per execution environment.
#[derive(Debug, Clone)]
pub struct Worker {
    runner: Runner,
    stage: OcrStage,
}

impl Worker {
    /// Loads the OCR engine (Tesseract's model is read here, once) and the pipeline's clients.
    pub fn new(config: &Config, clients: &AwsClients) -> Result<Self, OcrError> {
        let engine = ConfiguredOcr::from_config(&config.ocr, Some(clients.sdk_config()))?;
        let (shared, runner) = Shared::build(&config.pipeline, clients);
        Ok(Self { runner, stage: OcrStage::new(shared, engine, &config.phi_queue) })
    }

    /// Handles one SQS batch, reporting only the messages that failed.
    pub async fn handle(&self, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, BatchError> {
        let deadline = event.context.deadline();
        self.runner.batch(event.payload, deadline, |job| self.stage.extract(job)).await
    }
}
