//! Why a stage could not finish a document: retryable (the message returns to its queue) or permanent.

use medvault_platform::WorkerError;
use medvault_platform::error::{BoxError, Failure, classify_sdk_error};

/// A stage's error. Whatever the class, the message is reported failed (it is retried and, past the queue's
/// maxReceiveCount, lands in the dead-letter queue): nothing is dropped on an error. Problems that retrying cannot
/// fix and that belong to the document (a refused upload, an unreadable page) are not errors but outcomes: the
/// document is quarantined or failed with a reason and the message is done.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// DynamoDB, S3, SQS, KMS or EventBridge was slow, throttled or down.
    #[error("a dependency is unavailable")]
    Unavailable(#[source] BoxError),
    /// A dependency refused for a reason retrying will not change (permissions, a missing queue).
    #[error("a dependency refused the request")]
    Refused(#[source] BoxError),
    /// The document's state changed between reading it and writing it (another delivery is working on it).
    #[error("the document changed while this stage was working on it; retry")]
    Contended,
    /// Stored data does not decrypt or parse.
    #[error("stored data is unreadable")]
    Unreadable(#[source] BoxError),
    /// The message body is not what this stage takes.
    #[error("the message is not a pipeline job")]
    BadMessage(#[source] BoxError),
    /// An extraction engine failed in a way that may pass (a Textract throttle, a job still running).
    #[error("the extraction engine failed")]
    Engine(#[source] BoxError),
}

impl PipelineError {
    pub fn failure(&self) -> Failure {
        match self {
            Self::Unavailable(_) | Self::Contended | Self::Engine(_) => Failure::Retryable,
            Self::Refused(_) | Self::Unreadable(_) | Self::BadMessage(_) => Failure::Permanent,
        }
    }

    /// Classifies an AWS SDK error by its code (throttling, timeouts and 5xx are retryable).
    pub fn sdk<E, R>(error: aws_sdk_dynamodb::error::SdkError<E, R>) -> Self
    where
        E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        match classify_sdk_error(&error) {
            Failure::Retryable => Self::Unavailable(Box::new(error)),
            Failure::Permanent => Self::Refused(Box::new(error)),
        }
    }
}

impl From<PipelineError> for WorkerError {
    fn from(error: PipelineError) -> Self {
        match error.failure() {
            Failure::Retryable => WorkerError::retryable(error),
            Failure::Permanent => WorkerError::permanent(error),
        }
    }
}

impl From<medvault_records::RecordsError> for PipelineError {
    fn from(error: medvault_records::RecordsError) -> Self {
        use medvault_records::RecordsError;
        match error {
            RecordsError::Unavailable(source) => Self::Unavailable(source),
            other => Self::Unreadable(Box::new(other)),
        }
    }
}
