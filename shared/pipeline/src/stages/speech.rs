//! Speech recognition, for dictations: the audio through the configured engine (pocketsphinx in chunks with
//! progress, or Transcribe Medical reading the stored object), the transcript stored as the document's text.

use std::sync::Arc;

use medvault_platform::error::Failure;
use medvault_speech::{ChunkProgress, ConfiguredSpeech, SpeechEngine, SpeechError, SpeechRequest};

use crate::error::PipelineError;
use crate::job::Job;
use crate::progress::ProgressWriter;
use crate::runner::Outcome;
use crate::stages::{Begin, Shared};
use crate::text::PageText;

/// The speech stage.
#[derive(Debug, Clone)]
pub struct SpeechStage {
    shared: Shared,
    engine: ConfiguredSpeech,
    phi_queue: String,
}

impl SpeechStage {
    /// `engine` is loaded once per execution environment.
    pub fn new(shared: Shared, engine: ConfiguredSpeech, phi_queue: impl Into<String>) -> Self {
        Self { shared, engine, phi_queue: phi_queue.into() }
    }

    /// Transcribes the job's recording.
    pub async fn extract(&self, job: Job) -> Result<Outcome, PipelineError> {
        let shared = &self.shared;
        let Some(kind) = job.kind() else {
            return shared.fail(&job, "not_audio", "the speech stage received a file that is not audio").await;
        };
        if let Begin::Stop(outcome) = shared.begin_extraction(&job, &self.phi_queue).await? {
            return Ok(outcome);
        }
        let audio = match shared.fetch(&job).await? {
            Ok(bytes) => bytes,
            Err(outcome) => return Ok(outcome),
        };
        let progress = ProgressWriter::start(shared.documents.clone(), job.document_id, job.version(), "chunks");
        let report = progress.reporter();
        let request = SpeechRequest { object: job.object(), kind, audio };
        let result = self.engine.transcribe(request, Arc::new(move |c: ChunkProgress| report(c.done, c.total))).await;
        progress.finish().await;
        let transcript = match result {
            Ok(transcript) => transcript,
            // The upload itself is at fault: refused for good, like intake's refusals.
            Err(error @ (SpeechError::Malformed { .. } | SpeechError::TooLong { .. })) => {
                let code = if matches!(error, SpeechError::TooLong { .. }) { "too_long" } else { "malformed_audio" };
                return shared.end_quarantined(&job, code, &error.to_string()).await;
            }
            Err(error) if error.failure() == Failure::Permanent => {
                return shared.fail(&job, "transcription_failed", &error.to_string()).await;
            }
            Err(error) => return Err(PipelineError::Engine(Box::new(error))),
        };
        tracing::info!(document = %job.document_id, audio_seconds = transcript.audio_seconds, "audio transcribed");
        let pages = vec![PageText { page: 1, text: transcript.text }];
        shared.store_text(&job, pages, self.engine.name(), &self.phi_queue).await
    }
}
