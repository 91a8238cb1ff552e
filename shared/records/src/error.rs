//! The records' errors, mapped to problem responses in one place.

use medvault_audit::AuditError;
use medvault_http::ApiError;
use medvault_platform::error::BoxError;

use crate::cursor::BadCursor;
use crate::model::Invalid;

/// Why a records operation did not complete.
#[derive(Debug, thiserror::Error)]
pub enum RecordsError {
    /// No such record, or one the caller may not know exists: the same answer for both.
    #[error("not found")]
    NotFound,
    #[error("invalid input")]
    Invalid(#[from] Invalid),
    #[error("the If-Match version is stale")]
    PreconditionFailed,
    #[error("If-Match is required")]
    PreconditionRequired,
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("invalid cursor")]
    BadCursor(#[from] BadCursor),
    /// The role check refused (already audited by the authorization layer).
    #[error("refused")]
    Refused(#[source] Box<ApiError>),
    /// The audit event could not be written: the operation stops and no PHI leaves.
    #[error("the audit log is unavailable")]
    Audit(#[source] AuditError),
    /// A dependency (DynamoDB, KMS, S3) was slow, throttled or down.
    #[error("a dependency is unavailable")]
    Unavailable(#[source] BoxError),
    /// Stored data does not decrypt or parse (a destroyed key, a moved ciphertext, corruption).
    #[error("stored data is unreadable")]
    Unreadable(#[source] BoxError),
}

impl From<ApiError> for RecordsError {
    fn from(error: ApiError) -> Self {
        Self::Refused(Box::new(error))
    }
}

impl From<RecordsError> for ApiError {
    fn from(error: RecordsError) -> Self {
        match error {
            RecordsError::NotFound => ApiError::not_found(),
            RecordsError::Invalid(invalid) => ApiError::unprocessable(invalid.to_string())
                .with_errors(vec![serde_json::json!({"field": invalid.field, "problem": invalid.problem})]),
            RecordsError::PreconditionFailed => ApiError::precondition_failed(),
            RecordsError::PreconditionRequired => {
                ApiError::precondition_required().with_detail("send If-Match with the ETag of the version you changed")
            }
            RecordsError::Conflict(detail) => ApiError::conflict(detail),
            RecordsError::BadCursor(_) => ApiError::bad_request("the cursor is not valid; start from the first page"),
            RecordsError::Refused(error) => *error,
            RecordsError::Audit(error) => ApiError::unavailable(error),
            RecordsError::Unavailable(error) => ApiError::unavailable(error),
            RecordsError::Unreadable(error) => ApiError::internal(error),
        }
    }
}
