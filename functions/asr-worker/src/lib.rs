//! The speech (ASR) worker: takes jobs from the speech queue and transcribes their recordings with the configured
//! engine (`MEDVAULT_ASR_ENGINE`: pocketsphinx with the PyPI model in `MEDVAULT_ASR_MODEL_DIR`, loaded once per
//! execution environment, or Transcribe Medical), then hands the transcript to PHI detection
//! (`medvault_pipeline::stages::speech`).

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::LambdaEvent;
use medvault_pipeline::stages::Shared;
use medvault_pipeline::stages::speech::SpeechStage;
use medvault_pipeline::{PipelineConfig, Runner};
use medvault_platform::aws::{AwsClients, AwsSettings};
use medvault_platform::batch::BatchError;
use medvault_platform::config::{ConfigError, EnvSource, FromEnv};
use medvault_speech::{ConfiguredSpeech, SpeechConfig, SpeechError};

/// The speech worker's configuration, read once at cold start.
#[derive(Debug, Clone)]
pub struct Config {
    pub aws: AwsSettings,
    pub pipeline: PipelineConfig,
    pub speech: SpeechConfig,
    pub phi_queue: String,
}

impl FromEnv for Config {
    fn from_env(env: &EnvSource) -> Result<Self, ConfigError> {
        Ok(Self {
            aws: AwsSettings::from_env(env)?,
            pipeline: PipelineConfig::from_env(env)?,
            speech: SpeechConfig::from_env(env)?,
            phi_queue: env.required("MEDVAULT_PHI_QUEUE_URL")?,
        })
    }
}

/// What the worker needs, built once per execution environment.
#[derive(Debug, Clone)]
pub struct Worker {
    runner: Runner,
    stage: SpeechStage,
}

impl Worker {
    /// Loads the speech engine (pocketsphinx's decoders are loaded here, once) and the pipeline's clients.
    pub fn new(config: &Config, clients: &AwsClients) -> Result<Self, SpeechError> {
        let engine = ConfiguredSpeech::from_config(&config.speech, Some(clients.sdk_config()))?;
        let (shared, runner) = Shared::build(&config.pipeline, clients);
        Ok(Self { runner, stage: SpeechStage::new(shared, engine, &config.phi_queue) })
    }

    /// Handles one SQS batch, reporting only the messages that failed.
    pub async fn handle(&self, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, BatchError> {
        let deadline = event.context.deadline();
        self.runner.batch(event.payload, deadline, |job| self.stage.extract(job)).await
    }
}
