//! medvault's audit log: every access to PHI and every auth decision, appended to a hash-chained log that no writer
//! can fork and any reader can verify.
//!
//! - [`AuditEvent`]: who, what, whose, when, outcome; identifiers and codes only, never PHI values.
//! - [`chain`]: the documented, pure chain format ([`chain::event_hash`], [`chain::verify_chain`]) that offline
//!   verifiers reuse.
//! - [`AuditLog`]: the port every function writes through; [`DynamoDbAuditLog`] is the real one,
//!   [`MemoryAuditLog`] the in-memory one for unit tests of pure logic.

pub mod chain;
#[cfg(feature = "dynamodb")]
mod dynamodb;
mod event;
mod log;
mod memory;

pub use chain::{ChainBreak, ChainHead, ChainedEvent, Hash, verify_chain};
#[cfg(feature = "dynamodb")]
pub use dynamodb::{DynamoDbAuditLog, INDEX_BY_ACTOR, INDEX_BY_DAY, INDEX_BY_PATIENT};
pub use event::{AuditEvent, Outcome, format_time};
pub use log::{AuditError, AuditLog, AuditPage, AuditQuery, Receipt, VerifyReport};
pub use memory::MemoryAuditLog;
