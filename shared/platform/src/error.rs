//! Error classes for workers: a retryable failure goes back to the queue, a permanent one must not loop forever.

use std::error::Error as StdError;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

/// A boxed error that keeps its source chain.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Whether trying again can help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// A dependency was slow, throttled or down: try again later.
    Retryable,
    /// The input itself is wrong: retrying gives the same answer.
    Permanent,
}

/// The error a worker's per-message handler returns.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("retryable failure")]
    Retryable(#[source] BoxError),
    #[error("permanent failure")]
    Permanent(#[source] BoxError),
}

impl WorkerError {
    pub fn retryable(error: impl Into<BoxError>) -> Self {
        Self::Retryable(error.into())
    }

    pub fn permanent(error: impl Into<BoxError>) -> Self {
        Self::Permanent(error.into())
    }

    pub fn failure(&self) -> Failure {
        match self {
            Self::Retryable(_) => Failure::Retryable,
            Self::Permanent(_) => Failure::Permanent,
        }
    }

    /// Classifies an AWS SDK error: throttling, timeouts, dispatch failures and 5xx are retryable.
    pub fn from_sdk<E, R>(error: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        match classify_sdk_error(&error) {
            Failure::Retryable => Self::Retryable(Box::new(error)),
            Failure::Permanent => Self::Permanent(Box::new(error)),
        }
    }
}

/// Error codes that AWS services use for throttling and transient faults.
const RETRYABLE_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "SlowDown",
    "InternalServerError",
    "InternalError",
    "ServiceUnavailable",
    "TransactionInProgressException",
    "KMSInternalException",
    "DependencyTimeoutException",
];

/// Says whether an SDK error is worth retrying.
pub fn classify_sdk_error<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> Failure {
    match error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => Failure::Retryable,
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or_default();
            if RETRYABLE_CODES.contains(&code) { Failure::Retryable } else { Failure::Permanent }
        }
        _ => Failure::Permanent,
    }
}

/// A short string for the error-type field Lambda reports: never the message, which may carry data.
impl From<WorkerError> for lambda_runtime::Diagnostic {
    fn from(error: WorkerError) -> Self {
        let error_type = match error.failure() {
            Failure::Retryable => "Retryable",
            Failure::Permanent => "Permanent",
        };
        lambda_runtime::Diagnostic { error_type: error_type.to_owned(), error_message: error.to_string() }
    }
}

/// Renders an error and its sources on one line for logs (`a: b: c`).
pub fn chain(error: &(dyn StdError + 'static)) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] Inner);

    #[derive(Debug, thiserror::Error)]
    #[error("inner")]
    struct Inner;

    #[test]
    fn chain_renders_every_source() {
        assert_eq!(chain(&Outer(Inner)), "outer: inner");
    }

    #[test]
    fn worker_error_keeps_its_source_and_class() {
        let error = WorkerError::permanent(Outer(Inner));
        assert_eq!(error.failure(), Failure::Permanent);
        assert_eq!(chain(&error), "permanent failure: outer: inner");
        let diagnostic = lambda_runtime::Diagnostic::from(WorkerError::retryable(Inner));
        assert_eq!(diagnostic.error_type, "Retryable");
    }
}
