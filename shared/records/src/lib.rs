//! medvault's patient records: what a clinical single-page app reads and writes, kept so that a copy of the
//! database alone reveals nothing, every access is accounted for, and nobody sees a patient without a reason.
//!
//! - [`model`]: domain types parsed at the edge (demographics, notes, documents).
//! - [`access`]: the relationship rules (care team, break-glass) on top of role permissions. Pure.
//! - [`service::Records`]: every operation: role check, relationship check, audit event, then encrypted storage.
//! - [`cursor`]: opaque, tamper-proof page cursors.
//! - [`fhir`]: read-only FHIR R4 views (Patient, DocumentReference, AuditEvent, Bundle, OperationOutcome).
//!
//! The tables and their access patterns are described in `DATA-MODEL.md` beside this crate.

pub mod access;
pub mod cursor;
pub mod error;
pub mod fhir;
pub mod model;
pub mod service;
pub mod store;

pub use error::RecordsError;
pub use service::{Records, Settings};
