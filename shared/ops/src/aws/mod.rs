//! The AWS adapters the scheduled jobs run on: the stack's tables and their backups, the checkpoint bucket and
//! signing key, the alert topic and event bus, and the ops state table.

pub mod alerts;
pub mod backups;
pub mod checkpoints;
pub mod state;
pub mod tables;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use medvault_platform::WorkerError;
use medvault_platform::error::{BoxError, Failure, classify_sdk_error};

/// An AWS call that failed, named by its operation, with the service's error code and whether retrying can help.
#[derive(Debug, thiserror::Error)]
#[error("{operation} failed{}", code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
pub struct AwsError {
    pub operation: &'static str,
    pub code: Option<String>,
    pub failure: Failure,
    #[source]
    pub source: BoxError,
}

impl AwsError {
    /// Wraps an SDK error of `operation`.
    pub fn sdk<E, R>(operation: &'static str) -> impl FnOnce(SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        move |error| Self {
            operation,
            code: error.code().map(str::to_owned),
            failure: classify_sdk_error(&error),
            source: Box::new(error),
        }
    }

    /// An answer that was not what the API promises (a missing field).
    pub fn malformed(operation: &'static str, what: &'static str) -> Self {
        Self { operation, code: None, failure: Failure::Permanent, source: format!("the answer has no {what}").into() }
    }

    /// Whether the service answered with `code`.
    pub fn is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }
}

impl From<AwsError> for WorkerError {
    fn from(error: AwsError) -> Self {
        match error.failure {
            Failure::Retryable => WorkerError::retryable(error),
            Failure::Permanent => WorkerError::permanent(error),
        }
    }
}

/// Converts an SDK timestamp to chrono's.
pub fn to_chrono(time: &aws_sdk_dynamodb::primitives::DateTime) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(time.secs(), time.subsec_nanos()).unwrap_or_default()
}

/// Converts a chrono timestamp to the SDK's.
pub fn from_chrono(time: chrono::DateTime<chrono::Utc>) -> aws_sdk_dynamodb::primitives::DateTime {
    aws_sdk_dynamodb::primitives::DateTime::from_millis(time.timestamp_millis())
}
