//! Speech to text behind one trait, [`SpeechEngine`]: pocketsphinx locally (audio decoded and resampled to
//! 16 kHz mono in Rust, decoders loaded once per execution environment, long audio in chunks across cores) and
//! Amazon Transcribe Medical on AWS. [`ConfiguredSpeech`] picks one from `MEDVAULT_ASR_ENGINE`.

pub mod decode;
pub mod sphinx;
pub mod transcribe;

use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use medvault_intake::{FileKind, ObjectRef};
use medvault_platform::Failure;
use medvault_platform::config::{ConfigError, EnvSource, FromEnv};

pub use decode::{Pcm16k, to_16k_mono};
pub use sphinx::{SphinxConfig, SphinxEngine};
pub use transcribe::{TranscribeConfig, TranscribeEngine};

/// One recording to transcribe: where it is stored (Transcribe reads it there) and its bytes (pocketsphinx).
#[derive(Clone)]
pub struct SpeechRequest {
    pub object: ObjectRef,
    pub kind: FileKind,
    pub audio: Vec<u8>,
}

impl fmt::Debug for SpeechRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpeechRequest").field("kind", &self.kind).field("bytes", &self.audio.len()).finish()
    }
}

/// A transcription (PHI: its `Debug` shows only its size).
#[derive(Clone, PartialEq)]
pub struct Transcript {
    pub text: String,
    /// The audio's duration, when the engine decoded it.
    pub audio_seconds: Option<f64>,
}

impl fmt::Debug for Transcript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transcript")
            .field("text_chars", &self.text.chars().count())
            .field("audio_seconds", &self.audio_seconds)
            .finish()
    }
}

/// Progress through a recording: `done` of `total` chunks transcribed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkProgress {
    pub done: u32,
    pub total: u32,
}

/// Called as chunks finish.
pub type Progress = Arc<dyn Fn(ChunkProgress) + Send + Sync>;

pub fn no_progress() -> Progress {
    Arc::new(|_| {})
}

/// Why a recording could not be transcribed.
#[derive(Debug, thiserror::Error)]
pub enum SpeechError {
    #[error("the {kind} audio could not be decoded: {detail}")]
    Malformed { kind: FileKind, detail: String },
    #[error("the audio is longer than {limit_seconds} s")]
    TooLong { limit_seconds: u64 },
    #[error("resampling failed: {0}")]
    Resample(String),
    #[error("the speech engine could not be loaded: {0}")]
    Load(String),
    #[error("{0}")]
    Decoder(String),
    #[error("the Transcribe or S3 request failed")]
    Aws(#[source] Box<dyn std::error::Error + Send + Sync>, Failure),
    #[error("the transcription job failed: {0}")]
    JobFailed(String),
    #[error("the transcription job did not finish within {seconds} s")]
    JobTimeout { seconds: u64 },
    #[error("the speech worker stopped unexpectedly")]
    WorkerLost,
}

impl SpeechError {
    /// Whether trying the recording again can help.
    pub fn failure(&self) -> Failure {
        match self {
            Self::Aws(_, failure) => *failure,
            Self::JobTimeout { .. } | Self::WorkerLost => Failure::Retryable,
            _ => Failure::Permanent,
        }
    }
}

/// A speech engine: transcribes one recording, reporting progress as chunks finish.
pub trait SpeechEngine: Send + Sync {
    fn name(&self) -> &'static str;

    fn transcribe(
        &self,
        request: SpeechRequest,
        progress: Progress,
    ) -> impl Future<Output = Result<Transcript, SpeechError>> + Send;
}

/// The local engine: decode, resample, then pocketsphinx.
#[derive(Debug, Clone)]
pub struct PocketsphinxEngine {
    engine: SphinxEngine,
    max_seconds: u64,
}

impl PocketsphinxEngine {
    pub fn new(engine: SphinxEngine, max_seconds: u64) -> Self {
        Self { engine, max_seconds }
    }

    /// Decodes and transcribes on the calling thread (and the decoder threads). Blocking.
    pub fn transcribe_blocking(&self, request: SpeechRequest, progress: &Progress) -> Result<Transcript, SpeechError> {
        let audio = to_16k_mono(request.kind, request.audio, self.max_seconds)?;
        let text = self.engine.transcribe_blocking(&audio, progress)?;
        Ok(Transcript { text, audio_seconds: Some(audio.seconds()) })
    }
}

impl SpeechEngine for PocketsphinxEngine {
    fn name(&self) -> &'static str {
        "pocketsphinx"
    }

    async fn transcribe(&self, request: SpeechRequest, progress: Progress) -> Result<Transcript, SpeechError> {
        let engine = self.clone();
        tokio::task::spawn_blocking(move || engine.transcribe_blocking(request, &progress))
            .await
            .map_err(|_| SpeechError::WorkerLost)?
    }
}

/// Which engine transcribes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsrEngineKind {
    Pocketsphinx,
    Transcribe,
}

/// The value was not an engine name.
#[derive(Debug, thiserror::Error)]
#[error("expected pocketsphinx or transcribe")]
pub struct UnknownEngine;

impl FromStr for AsrEngineKind {
    type Err = UnknownEngine;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "pocketsphinx" => Ok(Self::Pocketsphinx),
            "transcribe" => Ok(Self::Transcribe),
            _ => Err(UnknownEngine),
        }
    }
}

/// The speech configuration of a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpeechConfig {
    pub engine: AsrEngineKind,
    /// `MEDVAULT_ASR_MODEL_DIR`; required for pocketsphinx.
    pub model_dir: Option<PathBuf>,
    pub threads: usize,
    pub chunk_seconds: u32,
    pub max_seconds: u64,
    /// `MEDVAULT_TRANSCRIBE_OUTPUT_BUCKET`; required for Transcribe.
    pub output_bucket: Option<String>,
    pub poll_interval: Duration,
    pub max_wait: Duration,
}

impl FromEnv for SpeechConfig {
    fn from_env(env: &EnvSource) -> Result<Self, ConfigError> {
        let engine = env.or("MEDVAULT_ASR_ENGINE", AsrEngineKind::Pocketsphinx)?;
        let model_dir = match engine {
            AsrEngineKind::Pocketsphinx => Some(env.required("MEDVAULT_ASR_MODEL_DIR")?),
            AsrEngineKind::Transcribe => env.optional("MEDVAULT_ASR_MODEL_DIR")?,
        };
        let output_bucket = match engine {
            AsrEngineKind::Transcribe => Some(env.required("MEDVAULT_TRANSCRIBE_OUTPUT_BUCKET")?),
            AsrEngineKind::Pocketsphinx => env.optional("MEDVAULT_TRANSCRIBE_OUTPUT_BUCKET")?,
        };
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        Ok(Self {
            engine,
            model_dir,
            threads: env.or("MEDVAULT_ASR_THREADS", cores)?.max(1),
            chunk_seconds: env.or("MEDVAULT_ASR_CHUNK_SECONDS", 20)?,
            max_seconds: env.or("MEDVAULT_ASR_MAX_SECONDS", 4 * 60 * 60)?,
            output_bucket,
            poll_interval: env.seconds("MEDVAULT_TRANSCRIBE_POLL_SECONDS", Duration::from_secs(5))?,
            max_wait: env.seconds("MEDVAULT_TRANSCRIBE_MAX_WAIT_SECONDS", Duration::from_secs(840))?,
        })
    }
}

/// The engine the configuration chose.
#[derive(Debug, Clone)]
pub enum ConfiguredSpeech {
    Pocketsphinx(PocketsphinxEngine),
    Transcribe(TranscribeEngine),
}

impl ConfiguredSpeech {
    /// Builds the configured engine; pocketsphinx decoders are loaded once per execution environment.
    pub fn from_config(config: &SpeechConfig, sdk: Option<&aws_config::SdkConfig>) -> Result<Self, SpeechError> {
        match config.engine {
            AsrEngineKind::Pocketsphinx => {
                let model_dir = config
                    .model_dir
                    .clone()
                    .ok_or_else(|| SpeechError::Load("MEDVAULT_ASR_MODEL_DIR is not set".into()))?;
                let sphinx = SphinxEngine::shared(&SphinxConfig {
                    model_dir,
                    threads: config.threads,
                    chunk_seconds: config.chunk_seconds,
                })?;
                Ok(Self::Pocketsphinx(PocketsphinxEngine::new(sphinx, config.max_seconds)))
            }
            AsrEngineKind::Transcribe => {
                let sdk =
                    sdk.ok_or_else(|| SpeechError::Load("the Transcribe engine needs AWS configuration".into()))?;
                let output_bucket = config
                    .output_bucket
                    .clone()
                    .ok_or_else(|| SpeechError::Load("MEDVAULT_TRANSCRIBE_OUTPUT_BUCKET is not set".into()))?;
                Ok(Self::Transcribe(TranscribeEngine::new(
                    aws_sdk_transcribe::Client::new(sdk),
                    aws_sdk_s3::Client::new(sdk),
                    TranscribeConfig { output_bucket, poll_interval: config.poll_interval, max_wait: config.max_wait },
                )))
            }
        }
    }
}

impl SpeechEngine for ConfiguredSpeech {
    fn name(&self) -> &'static str {
        match self {
            Self::Pocketsphinx(engine) => engine.name(),
            Self::Transcribe(engine) => engine.name(),
        }
    }

    async fn transcribe(&self, request: SpeechRequest, progress: Progress) -> Result<Transcript, SpeechError> {
        match self {
            Self::Pocketsphinx(engine) => engine.transcribe(request, progress).await,
            Self::Transcribe(engine) => engine.transcribe(request, progress).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pocketsphinx_needs_its_model_directory_named() {
        let error = SpeechConfig::from_env(&EnvSource::from_pairs([])).unwrap_err();
        assert_eq!(error.variable(), "MEDVAULT_ASR_MODEL_DIR");
    }

    #[test]
    fn transcribe_is_chosen_by_name_and_needs_an_output_bucket() {
        let env = EnvSource::from_pairs([("MEDVAULT_ASR_ENGINE", "transcribe")]);
        assert_eq!(SpeechConfig::from_env(&env).unwrap_err().variable(), "MEDVAULT_TRANSCRIBE_OUTPUT_BUCKET");
        let env =
            EnvSource::from_pairs([("MEDVAULT_ASR_ENGINE", "transcribe"), ("MEDVAULT_TRANSCRIBE_OUTPUT_BUCKET", "t")]);
        assert_eq!(SpeechConfig::from_env(&env).unwrap().engine, AsrEngineKind::Transcribe);
    }
}
