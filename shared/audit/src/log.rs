//! The audit port: append an event and get its place in the chain back, or an error that stops the request.

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;

use crate::chain::{ChainBreak, ChainHead, ChainedEvent, Hash};
use crate::event::AuditEvent;

/// A boxed error that keeps its source chain.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Proof that an event was appended: its position and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    pub seq: u64,
    pub hash: Hash,
}

/// Why an event could not be appended or the log could not be read. A caller that gets one must not return the
/// PHI the event was about.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The store did not answer or refused the write.
    #[error("the audit log is unavailable")]
    Unavailable(#[source] BoxError),
    /// Other writers kept claiming the next position; the event was not written.
    #[error("the audit log stayed contended for {attempts} attempts")]
    Contended { attempts: u32 },
    /// A stored event could not be read back (a missing or malformed attribute).
    #[error("stored audit event {seq} is malformed: {what}")]
    Malformed { seq: u64, what: &'static str },
    /// The chain does not verify.
    #[error("the audit chain is broken")]
    Broken(#[source] ChainBreak),
    /// The query is not one the log answers (e.g. a time range without bounds).
    #[error("invalid audit query: {0}")]
    InvalidQuery(&'static str),
}

/// Appends audit events. Every API function writes through this port.
///
/// It returns a boxed future so that `Arc<dyn AuditLog>` works.
pub trait AuditLog: Send + Sync + std::fmt::Debug {
    /// Appends `event` at the next position of the chain. When this fails, nothing was appended.
    fn append(&self, event: AuditEvent) -> BoxFuture<'_, Result<Receipt, AuditError>>;
}

/// A search of the log: by patient, by actor, by time, or a combination. Results are in time order.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub patient_id: Option<String>,
    pub actor_id: Option<String>,
    /// Inclusive lower bound.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive upper bound.
    pub to: Option<DateTime<Utc>>,
    /// At most this many events (1 to 1000; 100 when 0).
    pub limit: usize,
    /// Resume after this position token (from [`AuditPage::next`]).
    pub after: Option<String>,
}

/// One page of query results.
#[derive(Debug, Clone)]
pub struct AuditPage {
    pub events: Vec<ChainedEvent>,
    /// A position token to pass as [`AuditQuery::after`] for the next page; `None` at the end. It is an index
    /// position, not a secret: callers that hand it to clients sign it.
    pub next: Option<String>,
}

/// The result of verifying a whole stored chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyReport {
    /// The last event verified, which the head pointer agrees with.
    pub head: ChainHead,
}

/// The clamped page size of a query.
pub(crate) fn page_size(limit: usize) -> usize {
    if limit == 0 { 100 } else { limit.min(1000) }
}
