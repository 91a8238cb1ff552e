//! An in-memory audit log for unit tests of pure logic: the same chain, kept in a vector, with a switch that makes
//! appends fail so callers can show they withhold PHI when the audit write fails.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::future::BoxFuture;

use crate::chain::{ChainHead, ChainedEvent, verify_chain};
use crate::event::AuditEvent;
use crate::log::{AuditError, AuditLog, AuditPage, AuditQuery, Receipt, VerifyReport, page_size};

/// An audit log held in memory.
#[derive(Debug, Default)]
pub struct MemoryAuditLog {
    events: Mutex<Vec<ChainedEvent>>,
    unavailable: AtomicBool,
}

/// The memory log's stand-in for a store that does not answer.
#[derive(Debug, thiserror::Error)]
#[error("the in-memory audit log was switched off")]
struct SwitchedOff;

impl MemoryAuditLog {
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes every following append fail with [`AuditError::Unavailable`] (or succeed again).
    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable.store(unavailable, Ordering::SeqCst);
    }

    /// Every event appended so far, in order.
    pub fn events(&self) -> Vec<ChainedEvent> {
        self.events.lock().map(|events| events.clone()).unwrap_or_default()
    }

    /// The events matching `query`, in time order (the cursor is the last returned `seq`).
    pub fn query(&self, query: &AuditQuery) -> AuditPage {
        let after: u64 = query.after.as_deref().and_then(|a| a.parse().ok()).unwrap_or(0);
        let limit = page_size(query.limit);
        let matching: Vec<ChainedEvent> = self
            .events()
            .into_iter()
            .filter(|c| c.seq > after)
            .filter(|c| query.patient_id.as_ref().is_none_or(|p| c.event.patient_id.as_ref() == Some(p)))
            .filter(|c| query.actor_id.as_ref().is_none_or(|a| &c.event.actor_id == a))
            .filter(|c| query.from.is_none_or(|from| c.event.time >= from))
            .filter(|c| query.to.is_none_or(|to| c.event.time < to))
            .collect();
        let more = matching.len() > limit;
        let events: Vec<ChainedEvent> = matching.into_iter().take(limit).collect();
        let next = if more { events.last().map(|c| c.seq.to_string()) } else { None };
        AuditPage { events, next }
    }

    /// Recomputes the whole chain.
    pub fn verify(&self) -> Result<VerifyReport, AuditError> {
        let events = self.events();
        let head = verify_chain(ChainHead::EMPTY, &events).map_err(AuditError::Broken)?;
        Ok(VerifyReport { head })
    }
}

impl AuditLog for MemoryAuditLog {
    fn append(&self, event: AuditEvent) -> BoxFuture<'_, Result<Receipt, AuditError>> {
        Box::pin(async move {
            if self.unavailable.load(Ordering::SeqCst) {
                return Err(AuditError::Unavailable(Box::new(SwitchedOff)));
            }
            let mut events = self.events.lock().map_err(|_| AuditError::Unavailable(Box::new(SwitchedOff)))?;
            let head = events.last().map_or(ChainHead::EMPTY, |last| ChainHead { seq: last.seq, hash: last.hash });
            let chained = head.next(event);
            let receipt = Receipt { seq: chained.seq, hash: chained.hash };
            events.push(chained);
            Ok(receipt)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Outcome;

    #[tokio::test]
    async fn appends_form_a_verifiable_chain_and_queries_filter_by_patient() {
        let log = MemoryAuditLog::new();
        for patient in ["p-1", "p-2", "p-1"] {
            log.append(AuditEvent::new("u-1", "patient.read", Outcome::Allow).with_patient(patient)).await.unwrap();
        }
        assert_eq!(log.verify().unwrap().head.seq, 3);
        let page = log.query(&AuditQuery { patient_id: Some("p-1".into()), ..AuditQuery::default() });
        assert_eq!(page.events.iter().map(|c| c.seq).collect::<Vec<_>>(), [1, 3]);
    }

    #[tokio::test]
    async fn a_switched_off_log_refuses_appends() {
        let log = MemoryAuditLog::new();
        log.set_unavailable(true);
        let result = log.append(AuditEvent::new("u-1", "patient.read", Outcome::Allow)).await;
        assert!(matches!(result, Err(AuditError::Unavailable(_))));
        assert!(log.events().is_empty());
    }
}
