//! The document and audio pipeline: what happens between an upload landing in S3 and its document being `ready`.
//!
//! ```text
//! S3 ──> ingest queue ──> ingest-worker ─┬─ text-layer PDF: text read here ─────────────┐
//!                         (intake)       ├─ image, scanned PDF ──> ocr queue ──> ocr-worker ─┤
//!                                        ├─ audio ──> asr queue ──> asr-worker ───────────┤
//!                                        └─ refused: quarantined                           v
//!                                                                  phi queue ──> phi-worker: ready + event
//! ```
//!
//! - [`job`]: the message stages pass on (identifiers only, never content) and the object keys of documents.
//! - [`status`]: which step may run from which document state, per object version (pure).
//! - [`documents`]: the document's state, text and results on DynamoDB, each write conditioned on that rule.
//! - [`keys`]: the patient's data key, under which the text and de-identified text are sealed.
//! - [`stages`]: intake, extraction (OCR with feature `ocr`, speech with feature `speech`) and detection.
//! - [`runner`]: one SQS message through a stage, once per object version (idempotency), with the last attempt
//!   leaving the document `failed` rather than stuck.

pub mod config;
pub mod documents;
pub mod error;
pub mod job;
pub mod keys;
pub mod notify;
pub mod progress;
pub mod runner;
pub mod source;
pub mod stages;
pub mod status;
pub mod text;

pub use config::PipelineConfig;
pub use documents::{DocumentRecord, DocumentStore};
pub use error::PipelineError;
pub use job::Job;
pub use runner::{Outcome, Runner};
