//! One SQS message through a stage: parsed, run at most once per object version (idempotency, with the
//! in-progress claim lapsing at the invocation's deadline so a killed attempt's retry can take over), and on the
//! last allowed receive a failing document is marked `failed` instead of being left mid-way.

use std::future::Future;
use std::time::SystemTime;

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use medvault_platform::batch::BatchError;
use medvault_platform::error::{Failure, chain};
use medvault_platform::idempotency::{DynamoDbStore, Idempotency, IdempotencyError};
use medvault_platform::{WorkerError, batch};
use medvault_records::model::{DocumentId, DocumentStatus, PatientId};
use serde::{Deserialize, Serialize};

use crate::documents::DocumentStore;
use crate::error::PipelineError;
use crate::job::Job;
use crate::notify::{Completion, Notifier};

/// What a stage did with an object version; kept as the idempotency record's result, so a duplicate delivery is
/// answered with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Handed to the next stage.
    Dispatched {
        stage: String,
    },
    Ready,
    Quarantined,
    Failed,
    /// The document was already past this stage for this version.
    AlreadyDone,
    /// Another object version replaced this one, or the document is gone.
    Superseded,
    /// Not a document of this stack (an object outside `documents/`, or without its document item).
    Ignored,
}

impl Outcome {
    pub fn name(&self) -> &str {
        match self {
            Self::Dispatched { stage } => stage,
            Self::Ready => "ready",
            Self::Quarantined => "quarantined",
            Self::Failed => "failed",
            Self::AlreadyDone => "already-done",
            Self::Superseded => "superseded",
            Self::Ignored => "ignored",
        }
    }
}

/// Runs stages on messages.
#[derive(Debug, Clone)]
pub struct Runner {
    idempotency: Idempotency<DynamoDbStore>,
    documents: DocumentStore,
    notifier: Notifier,
    max_receives: u32,
}

/// Which receive of its message this is (`ApproximateReceiveCount`), 1 if SQS did not say.
pub fn receive_count(message: &SqsMessage) -> u32 {
    message.attributes.get("ApproximateReceiveCount").and_then(|c| c.parse().ok()).unwrap_or(1)
}

impl Runner {
    pub fn new(
        idempotency: Idempotency<DynamoDbStore>,
        documents: DocumentStore,
        notifier: Notifier,
        max_receives: u32,
    ) -> Self {
        Self { idempotency, documents, notifier, max_receives }
    }

    /// Runs `stage` on the job of every message of an SQS batch (each once per object version), reporting only the
    /// messages that failed, with the invocation's metrics flushed once: the whole handler of a stage's worker.
    pub async fn batch<F, Fut>(
        &self,
        event: SqsEvent,
        deadline: SystemTime,
        stage: F,
    ) -> Result<SqsBatchResponse, BatchError>
    where
        F: Fn(Job) -> Fut,
        Fut: Future<Output = Result<Outcome, PipelineError>>,
    {
        let stage = &stage;
        // Boxing each message's future keeps the handler's future type shallow (SDK futures nest deeply).
        let batch = batch::process_sqs_batch(event, |message| Box::pin(self.job(message, deadline, stage)));
        medvault_platform::metrics::scope(batch).await
    }

    /// Runs `stage` on the job a message carries, once per object version.
    pub async fn job<F, Fut>(&self, message: SqsMessage, deadline: SystemTime, stage: F) -> Result<(), WorkerError>
    where
        F: FnOnce(Job) -> Fut,
        Fut: Future<Output = Result<Outcome, PipelineError>>,
    {
        let job: Job = batch::json_body(&message)?;
        let receives = receive_count(&message);
        let identity = job.identity();
        let owned = job.clone();
        match self.once(&identity, deadline, || stage(owned)).await {
            Ok(()) => Ok(()),
            Err(error) => {
                self.give_up_if_last(job.document_id, job.patient_id, &job.version(), receives, &error).await;
                Err(error)
            }
        }
    }

    /// Runs `work` once for `identity` (an object version); a duplicate gets the first run's outcome.
    pub async fn once<F, Fut>(&self, identity: &str, deadline: SystemTime, work: F) -> Result<(), WorkerError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Outcome, PipelineError>>,
    {
        match self.idempotency.run(identity, identity, Some(deadline), work).await {
            Ok(done) => {
                // Identities name object keys, which carry only ids here; the outcome says what happened.
                tracing::info!(outcome = done.value.name(), replayed = done.replayed, "object version handled");
                Ok(())
            }
            Err(IdempotencyError::Handler(error)) => Err(error.into()),
            Err(error @ (IdempotencyError::PayloadMismatch | IdempotencyError::Corrupt(_))) => {
                Err(WorkerError::permanent(error))
            }
            Err(error) => Err(WorkerError::retryable(error)),
        }
    }

    /// On the last receive the queue allows, a document that still fails is marked `failed` (with the reason
    /// that its message is in the dead-letter queue, from where a redrive retries it), so it never stays
    /// `extracting`. Best effort: the message goes to the dead-letter queue either way.
    pub async fn give_up_if_last(
        &self,
        document: DocumentId,
        patient: PatientId,
        version: &str,
        receives: u32,
        error: &WorkerError,
    ) {
        if receives < self.max_receives {
            return;
        }
        let reason = format!(
            "processing failed on each of {receives} attempts ({}); the message is in the dead-letter queue: redrive it to retry",
            match error.failure() {
                Failure::Retryable => "a dependency or engine kept failing",
                Failure::Permanent => "a dependency refused",
            }
        );
        match self.documents.fail(document, version, "retries_exhausted", &reason).await {
            Ok(true) => {
                tracing::warn!(%document, receives, "document failed after its last attempt");
                let completion = Completion {
                    document_id: document,
                    patient_id: patient,
                    status: DocumentStatus::Failed,
                    reason_code: Some("retries_exhausted".into()),
                    reason: Some(reason),
                    entities: None,
                };
                if let Err(error) = self.notifier.completed(&completion).await {
                    tracing::warn!(error = %chain(&error), "the failure could not be announced");
                }
            }
            Ok(false) => {}
            Err(error) => tracing::warn!(error = %chain(&error), "the document could not be marked failed"),
        }
    }
}
