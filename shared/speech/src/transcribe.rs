//! Amazon Transcribe Medical: `StartMedicalTranscriptionJob` with a job name derived from the object version (a
//! retried message meets `ConflictException` and follows the job already running), polling
//! `GetMedicalTranscriptionJob`, then reading the transcript JSON from the output bucket.

use std::time::{Duration, Instant};

use aws_sdk_transcribe::types::{LanguageCode, Media, MediaFormat, Specialty, TranscriptionJobStatus, Type};
use medvault_intake::{FileKind, ObjectRef};
use medvault_platform::Failure;
use medvault_platform::error::classify_sdk_error;
use serde::Deserialize;

use crate::{ChunkProgress, Progress, SpeechError};

/// Settings of the Transcribe Medical engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscribeConfig {
    /// The bucket Transcribe writes transcripts to (encrypted, private; medvault deletes them after reading).
    pub output_bucket: String,
    pub poll_interval: Duration,
    pub max_wait: Duration,
}

/// Transcribe Medical behind [`crate::SpeechEngine`].
#[derive(Debug, Clone)]
pub struct TranscribeEngine {
    transcribe: aws_sdk_transcribe::Client,
    s3: aws_sdk_s3::Client,
    config: TranscribeConfig,
}

/// The job name for an object version: the same version always names the same job (Transcribe allows up to 200
/// characters of `[0-9a-zA-Z._-]`).
pub fn job_name(object: &ObjectRef) -> String {
    format!("medvault-{}", object.version_digest())
}

/// Where the transcript of `job` is written in the output bucket.
pub fn output_key(job: &str) -> String {
    format!("medical/{job}.json")
}

fn media_format(kind: FileKind) -> Option<MediaFormat> {
    Some(match kind {
        FileKind::Wav => MediaFormat::Wav,
        FileKind::Flac => MediaFormat::Flac,
        FileKind::Mp3 => MediaFormat::Mp3,
        FileKind::Ogg => MediaFormat::Ogg,
        _ => return None,
    })
}

fn aws<E, R>(error: aws_sdk_transcribe::error::SdkError<E, R>) -> SpeechError
where
    E: aws_sdk_transcribe::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let failure = classify_sdk_error(&error);
    SpeechError::Aws(Box::new(error), failure)
}

/// The parts of Transcribe's output JSON medvault reads.
#[derive(Deserialize)]
struct TranscriptFile {
    results: TranscriptResults,
}

#[derive(Deserialize)]
struct TranscriptResults {
    transcripts: Vec<TranscriptText>,
}

#[derive(Deserialize)]
struct TranscriptText {
    transcript: String,
}

impl TranscribeEngine {
    pub fn new(transcribe: aws_sdk_transcribe::Client, s3: aws_sdk_s3::Client, config: TranscribeConfig) -> Self {
        Self { transcribe, s3, config }
    }

    /// Starts the job for `object`, or finds the one a previous attempt started. Returns its name.
    pub async fn start(&self, object: &ObjectRef, kind: FileKind) -> Result<String, SpeechError> {
        let name = job_name(object);
        let media = Media::builder().media_file_uri(format!("s3://{}/{}", object.bucket, object.key)).build();
        let started = self
            .transcribe
            .start_medical_transcription_job()
            .medical_transcription_job_name(&name)
            .language_code(LanguageCode::EnUs)
            .set_media_format(media_format(kind))
            .media(media)
            .output_bucket_name(&self.config.output_bucket)
            .output_key(output_key(&name))
            .specialty(Specialty::Primarycare)
            .r#type(Type::Dictation)
            .send()
            .await;
        match started {
            Ok(_) => {
                tracing::info!(job = %name, "transcription job started");
                Ok(name)
            }
            Err(error) if error.as_service_error().is_some_and(|e| e.is_conflict_exception()) => {
                tracing::info!(job = %name, "transcription job already exists; following it");
                Ok(name)
            }
            Err(error) => Err(aws(error)),
        }
    }

    /// Waits for the job and returns its transcript text.
    pub async fn collect(&self, name: &str, progress: &Progress) -> Result<String, SpeechError> {
        let started = Instant::now();
        loop {
            let output = self
                .transcribe
                .get_medical_transcription_job()
                .medical_transcription_job_name(name)
                .send()
                .await
                .map_err(aws)?;
            let job = output
                .medical_transcription_job()
                .ok_or_else(|| SpeechError::JobFailed("no job in the answer".into()))?;
            match job.transcription_job_status() {
                Some(TranscriptionJobStatus::Completed) => break,
                Some(TranscriptionJobStatus::Failed) => {
                    return Err(SpeechError::JobFailed(job.failure_reason().unwrap_or("no reason given").to_owned()));
                }
                _ if started.elapsed() > self.config.max_wait => {
                    return Err(SpeechError::JobTimeout { seconds: self.config.max_wait.as_secs() });
                }
                _ => tokio::time::sleep(self.config.poll_interval).await,
            }
        }
        let object =
            self.s3.get_object().bucket(&self.config.output_bucket).key(output_key(name)).send().await.map_err(
                |e| {
                    let failure = classify_sdk_error(&e);
                    SpeechError::Aws(Box::new(e), failure)
                },
            )?;
        let body = object.body.collect().await.map_err(|e| SpeechError::Aws(Box::new(e), Failure::Retryable))?;
        let file: TranscriptFile = serde_json::from_slice(&body.into_bytes())
            .map_err(|e| SpeechError::JobFailed(format!("the transcript file is not Transcribe's JSON: {e}")))?;
        progress(ChunkProgress { done: 1, total: 1 });
        Ok(file.results.transcripts.into_iter().map(|t| t.transcript).collect::<Vec<_>>().join(" "))
    }
}

impl crate::SpeechEngine for TranscribeEngine {
    fn name(&self) -> &'static str {
        "transcribe-medical"
    }

    async fn transcribe(
        &self,
        request: crate::SpeechRequest,
        progress: Progress,
    ) -> Result<crate::Transcript, SpeechError> {
        let name = self.start(&request.object, request.kind).await?;
        let text = self.collect(&name, &progress).await?;
        Ok(crate::Transcript { text, audio_seconds: None })
    }
}
