//! medvault's PHI engine: finds PHI/PII in text and de-identifies it (pure logic, no AWS types).
//!
//! ```
//! use medvault_phi::{Analyzer, AnalyzeOptions, EntityType, Operator, Policy, Keys, transform};
//! let analyzer = Analyzer::new()?;
//! let text = "Patient: John Smith, DOB 03/14/1962, MRN 00456123";
//! let entities = analyzer.analyze(text, &AnalyzeOptions::default());
//! assert!(entities.iter().any(|e| e.entity_type == EntityType::Mrn));
//! let out = transform(text, &entities, &Policy::uniform(Operator::Replace { with: None }), Keys::default())?;
//! assert_eq!(out.text, "Patient: [PERSON], DOB [DATE], MRN [MRN]");
//! # Ok::<(), medvault_phi::PhiError>(())
//! ```

mod context;
mod detect;
mod entity;
mod error;
pub mod eval;
mod gazetteer;
mod hl7;
mod keys;
mod options;
mod resolve;
pub mod safe_harbor;
mod spoken;
mod table;
mod text;
mod transform;
pub mod validate;

pub use detect::Analyzer;
#[doc(hidden)]
pub use detect::Stage;
pub use entity::{Entity, EntityType, UnknownEntityType};
pub use error::PhiError;
pub use keys::{DataKey, DecryptPermission, Keys, TenantKey};
pub use options::{AnalyzeConfig, AnalyzeOptions, DEFAULT_THRESHOLD, RecognizerConfig};
pub use transform::{Operator, Output, Policy, Transformed, reidentify, transform};

/// Detects and transforms in one call.
pub fn redact(
    analyzer: &Analyzer,
    text: &str,
    options: &AnalyzeOptions,
    policy: &Policy,
    keys: Keys<'_>,
) -> Result<Output, PhiError> {
    let entities = analyzer.analyze(text, options);
    transform(text, &entities, policy, keys)
}

/// Detects and applies the Safe Harbor profile.
pub fn deidentify(analyzer: &Analyzer, text: &str, options: &AnalyzeOptions) -> Result<Output, PhiError> {
    let entities = analyzer.analyze(text, options);
    transform(text, &entities, &Policy::safe_harbor(), Keys::default())
}
