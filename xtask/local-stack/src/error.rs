//! The local stack's errors.

use crate::template::TemplateError;

/// Why the local stack could not start or do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum StackError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// The emulator refused a resource; `detail` carries the SDK's whole error chain.
    #[error("creating {logical_id} ({kind}) on the emulator failed: {detail}")]
    Create { logical_id: String, kind: String, detail: String },
    /// A call to the emulator failed while the stack was running.
    #[error("{what}: {detail}")]
    Aws { what: String, detail: String },
    #[error("no function {0} in the template (give its logical id or its binary name)")]
    UnknownFunction(String),
    #[error("{0}")]
    Function(String),
    #[error("{what}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the AWS emulator: {0}")]
    Emulator(String),
}

impl StackError {
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let what = what.into();
        move |source| Self::Io { what, source }
    }

    pub(crate) fn aws<E: std::error::Error + 'static>(what: impl Into<String>) -> impl FnOnce(E) -> Self {
        let what = what.into();
        move |error| Self::Aws { what, detail: detail(&error) }
    }
}

/// The whole chain of an SDK error: its own `Display` is only "service error".
pub(crate) fn detail<E: std::error::Error + 'static>(error: &E) -> String {
    aws_sdk_sqs::error::DisplayErrorContext(error).to_string()
}
