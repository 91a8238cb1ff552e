//! Errors of the PHI engine; each keeps its source.

use crate::entity::EntityType;

/// What can go wrong configuring or running detection and transformation.
#[derive(Debug, thiserror::Error)]
pub enum PhiError {
    /// A built-in pattern failed to compile (a defect caught by the crate's tests).
    #[error("a built-in PHI pattern failed to compile")]
    BuiltinPattern(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A caller-supplied recognizer pattern is not a valid (or is too large a) regular expression.
    #[error("custom recognizer {index} has an invalid pattern")]
    CustomPattern {
        index: usize,
        #[source]
        source: regex::Error,
    },
    /// A caller-supplied score or threshold is outside 0..=1.
    #[error("{what} must be between 0 and 1")]
    ScoreRange { what: &'static str },
    /// The operator needs a key the policy does not carry (`hash` needs a tenant key, `encrypt` a data key).
    #[error("operator `{operator}` for {entity_type} needs a {key}")]
    MissingKey { operator: &'static str, entity_type: EntityType, key: &'static str },
    /// `mask` was given an empty masking character set or similar nonsense.
    #[error("invalid operator configuration: {0}")]
    InvalidOperator(&'static str),
    /// Encryption or decryption failed (wrong key, tampered token).
    #[error("encrypted token could not be {0}")]
    Crypto(&'static str, #[source] aes_gcm::Error),
    /// An encrypted token is not in the `⟦enc:v1:…⟧` format.
    #[error("malformed encrypted token")]
    MalformedToken(#[source] Option<base64::DecodeError>),
    /// The caller's role may not decrypt PHI.
    #[error("this role may not decrypt PHI")]
    DecryptNotPermitted,
}
