use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use super::*;

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000 + secs)
}

struct Harness {
    idempotency: Idempotency<Arc<MemoryStore>>,
    store: Arc<MemoryStore>,
    now: Arc<Mutex<SystemTime>>,
    runs: Arc<AtomicUsize>,
}

impl IdempotencyStore for Arc<MemoryStore> {
    async fn claim(&self, record: &Record, now: SystemTime) -> Result<Claim, BoxError> {
        self.as_ref().claim(record, now).await
    }
    async fn complete(&self, record: &Record) -> Result<(), BoxError> {
        self.as_ref().complete(record).await
    }
    async fn release(&self, key: &str) -> Result<(), BoxError> {
        self.as_ref().release(key).await
    }
}

fn harness() -> Harness {
    let store = Arc::new(MemoryStore::default());
    let now = Arc::new(Mutex::new(at(0)));
    let clock = now.clone();
    let idempotency = Idempotency::new(store.clone(), "fn")
        .with_ttl(Duration::from_secs(3600))
        .with_clock(move || *clock.lock().unwrap());
    Harness { idempotency, store, now, runs: Arc::new(AtomicUsize::new(0)) }
}

impl Harness {
    async fn call(
        &self,
        key: &str,
        payload: &str,
        fail: bool,
    ) -> Result<Completed<String>, IdempotencyError<&'static str>> {
        let runs = self.runs.clone();
        let deadline = *self.now.lock().unwrap() + Duration::from_secs(30);
        self.idempotency
            .run(key, payload, Some(deadline), || async move {
                runs.fetch_add(1, Ordering::SeqCst);
                if fail { Err("boom") } else { Ok(format!("result-{}", runs.load(Ordering::SeqCst))) }
            })
            .await
    }

    fn advance(&self, secs: u64) {
        let mut now = self.now.lock().unwrap();
        *now += Duration::from_secs(secs);
    }
}

#[tokio::test]
async fn duplicate_gets_the_stored_result_without_running_again() {
    let h = harness();
    let first = h.call("k", "p", false).await.unwrap();
    let second = h.call("k", "p", false).await.unwrap();
    assert_eq!(first, Completed { value: "result-1".into(), replayed: false });
    assert_eq!(second, Completed { value: "result-1".into(), replayed: true });
    assert_eq!(h.runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn same_key_with_another_payload_is_refused() {
    let h = harness();
    h.call("k", "p", false).await.unwrap();
    assert!(matches!(h.call("k", "other", false).await, Err(IdempotencyError::PayloadMismatch)));
}

#[tokio::test]
async fn live_in_progress_claim_blocks_a_second_caller() {
    let h = harness();
    let key = h.idempotency.record_key("k");
    h.store.insert(Record {
        key,
        status: Status::InProgress,
        expires_at: unix(at(3600)).0,
        in_progress_expires_at_ms: Some(unix(at(30)).1),
        payload_hash: hex::encode(Sha256::digest(serde_json::to_vec("p").unwrap())),
        data: None,
    });
    assert!(matches!(h.call("k", "p", false).await, Err(IdempotencyError::AlreadyInProgress)));
    assert_eq!(h.runs.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn timed_out_invocation_frees_its_key_at_its_deadline_not_after_the_ttl() {
    let h = harness();
    let key = h.idempotency.record_key("k");
    h.store.insert(Record {
        key,
        status: Status::InProgress,
        expires_at: unix(at(3600)).0,
        in_progress_expires_at_ms: Some(unix(at(30)).1),
        payload_hash: hex::encode(Sha256::digest(serde_json::to_vec("p").unwrap())),
        data: None,
    });
    h.advance(31);
    let result = h.call("k", "p", false).await.unwrap();
    assert!(!result.replayed);
    assert_eq!(h.runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn expired_completed_record_runs_again() {
    let h = harness();
    h.call("k", "p", false).await.unwrap();
    h.advance(3601);
    let again = h.call("k", "p", false).await.unwrap();
    assert_eq!(again, Completed { value: "result-2".into(), replayed: false });
}

#[tokio::test]
async fn failed_handler_releases_the_key_for_a_retry() {
    let h = harness();
    assert!(matches!(h.call("k", "p", true).await, Err(IdempotencyError::Handler("boom"))));
    assert!(h.store.get(&h.idempotency.record_key("k")).is_none());
    assert!(!h.call("k", "p", false).await.unwrap().replayed);
    assert_eq!(h.runs.load(Ordering::SeqCst), 2);
}

#[test]
fn worker_errors_map_to_retryable_or_permanent() {
    use crate::error::Failure;
    assert_eq!(WorkerError::from(IdempotencyError::<WorkerError>::AlreadyInProgress).failure(), Failure::Retryable);
    assert_eq!(WorkerError::from(IdempotencyError::<WorkerError>::PayloadMismatch).failure(), Failure::Permanent);
}
