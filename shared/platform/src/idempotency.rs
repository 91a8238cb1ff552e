//! Idempotency with the semantics of Powertools for AWS Lambda, on DynamoDB.
//!
//! - The first caller claims a key with a conditional put of an `INPROGRESS` record.
//! - A caller that finds `COMPLETED` gets the stored result back, and the handler does not run again.
//! - A caller that finds a live `INPROGRESS` record gets [`IdempotencyError::AlreadyInProgress`] (retry later).
//! - The in-progress claim expires at the invocation's deadline, so a timed-out invocation frees its key as soon
//!   as Lambda has given up on it, not after the record's whole time-to-live.
//! - Record expiry is checked in code too: DynamoDB's TTL deletes items lazily (up to days late).
//! - A hash of the payload is stored: the same key with another payload is [`IdempotencyError::PayloadMismatch`].
//! - When the handler fails, the record is deleted so that a retry can run it again.

mod dynamodb;
mod memory;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

pub use dynamodb::DynamoDbStore;
pub use memory::MemoryStore;

use crate::error::{BoxError, WorkerError};

/// The state of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    InProgress,
    Completed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "INPROGRESS",
            Self::Completed => "COMPLETED",
        }
    }
}

/// What the store keeps per key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// `<scope>#<sha256 of the caller's key>`.
    pub key: String,
    pub status: Status,
    /// When the record stops counting, in Unix seconds (also DynamoDB's TTL attribute).
    pub expires_at: i64,
    /// When an `INPROGRESS` claim lapses, in Unix milliseconds.
    pub in_progress_expires_at_ms: Option<i64>,
    /// SHA-256 of the payload, hex.
    pub payload_hash: String,
    /// The handler's result as JSON, once completed.
    pub data: Option<String>,
}

impl Record {
    /// Whether a new claim may replace this record at `now`: it has expired, or it is an in-progress claim whose
    /// invocation is over. The DynamoDB store's condition expression states the same rule.
    pub fn is_claimable(&self, now: SystemTime) -> bool {
        let (secs, millis) = unix(now);
        self.expires_at < secs
            || (self.status == Status::InProgress && self.in_progress_expires_at_ms.is_some_and(|at| at < millis))
    }
}

/// The result of trying to claim a key.
#[derive(Debug)]
pub enum Claim {
    Claimed,
    /// A live record holds the key (`None` if it vanished before it could be read).
    Held(Option<Record>),
}

/// Where records live. Implementations must make `claim` atomic.
pub trait IdempotencyStore: Send + Sync {
    /// Writes `record` unless a record that is not [`Record::is_claimable`] at `now` holds its key.
    fn claim(&self, record: &Record, now: SystemTime) -> impl Future<Output = Result<Claim, BoxError>> + Send;
    /// Replaces the claim with the completed record.
    fn complete(&self, record: &Record) -> impl Future<Output = Result<(), BoxError>> + Send;
    /// Removes the claim on `key`.
    fn release(&self, key: &str) -> impl Future<Output = Result<(), BoxError>> + Send;
}

/// Why an idempotent call did not produce a result.
#[derive(Debug, thiserror::Error)]
pub enum IdempotencyError<E> {
    #[error("another invocation is processing this key")]
    AlreadyInProgress,
    #[error("this key was used before with a different payload")]
    PayloadMismatch,
    #[error("the idempotency record changed while it was being read; retry")]
    Inconsistent,
    #[error("idempotency store failed")]
    Store(#[source] BoxError),
    #[error("stored result could not be read back")]
    Corrupt(#[source] serde_json::Error),
    #[error("handler failed")]
    Handler(#[source] E),
}

impl From<IdempotencyError<WorkerError>> for WorkerError {
    fn from(error: IdempotencyError<WorkerError>) -> Self {
        match error {
            IdempotencyError::Handler(inner) => inner,
            IdempotencyError::PayloadMismatch | IdempotencyError::Corrupt(_) => WorkerError::permanent(error),
            other => WorkerError::retryable(other),
        }
    }
}

/// A result, and whether it was replayed from an earlier completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completed<T> {
    pub value: T,
    pub replayed: bool,
}

/// Runs handlers at most once per key.
#[derive(Clone)]
pub struct Idempotency<S> {
    store: S,
    scope: String,
    ttl: Duration,
    default_in_progress: Duration,
    clock: Arc<dyn Fn() -> SystemTime + Send + Sync>,
}

impl<S> std::fmt::Debug for Idempotency<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Idempotency").field("scope", &self.scope).field("ttl", &self.ttl).finish_non_exhaustive()
    }
}

impl<S: IdempotencyStore> Idempotency<S> {
    /// Keys are scoped (usually by function name) so two functions never share one.
    pub fn new(store: S, scope: impl Into<String>) -> Self {
        Self {
            store,
            scope: scope.into(),
            ttl: Duration::from_secs(3600),
            default_in_progress: Duration::from_secs(60),
            clock: Arc::new(SystemTime::now),
        }
    }

    /// How long a completed result is replayed (default one hour).
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// The clock (tests move it).
    pub fn with_clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The store key for a caller's key.
    pub fn record_key(&self, key: &str) -> String {
        format!("{}#{}", self.scope, hex::encode(Sha256::digest(key.as_bytes())))
    }

    /// Runs `handler` once for `key`: a duplicate gets the stored result.
    ///
    /// `deadline` is when this invocation ends (Lambda's deadline); the in-progress claim lapses then.
    pub async fn run<P, T, E, F, Fut>(
        &self,
        key: &str,
        payload: &P,
        deadline: Option<SystemTime>,
        handler: F,
    ) -> Result<Completed<T>, IdempotencyError<E>>
    where
        P: Serialize + ?Sized,
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let now = (self.clock)();
        let payload_hash = hex::encode(Sha256::digest(serde_json::to_vec(payload).map_err(IdempotencyError::Corrupt)?));
        let deadline = deadline.unwrap_or(now + self.default_in_progress);
        let claim = Record {
            key: self.record_key(key),
            status: Status::InProgress,
            expires_at: unix(now + self.ttl).0,
            in_progress_expires_at_ms: Some(unix(deadline).1),
            payload_hash,
            data: None,
        };

        // One retry covers a record that expired or vanished between the conditional write and the read.
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self.store.claim(&claim, now).await.map_err(IdempotencyError::Store)? {
                Claim::Claimed => break,
                Claim::Held(Some(existing)) if !existing.is_claimable(now) => {
                    if existing.payload_hash != claim.payload_hash {
                        return Err(IdempotencyError::PayloadMismatch);
                    }
                    return match (existing.status, existing.data) {
                        (Status::Completed, Some(data)) => Ok(Completed {
                            value: serde_json::from_str(&data).map_err(IdempotencyError::Corrupt)?,
                            replayed: true,
                        }),
                        _ => Err(IdempotencyError::AlreadyInProgress),
                    };
                }
                Claim::Held(_) if attempts < 2 => continue,
                Claim::Held(_) => return Err(IdempotencyError::Inconsistent),
            }
        }

        match handler().await {
            Ok(value) => {
                let data = serde_json::to_string(&value).map_err(IdempotencyError::Corrupt)?;
                let done = Record {
                    status: Status::Completed,
                    in_progress_expires_at_ms: None,
                    data: Some(data),
                    expires_at: unix((self.clock)() + self.ttl).0,
                    ..claim
                };
                self.store.complete(&done).await.map_err(IdempotencyError::Store)?;
                Ok(Completed { value, replayed: false })
            }
            Err(error) => {
                if let Err(release) = self.store.release(&claim.key).await {
                    tracing::warn!(error = %crate::error::chain(release.as_ref()), "could not release idempotency claim; it lapses at the deadline");
                }
                Err(IdempotencyError::Handler(error))
            }
        }
    }
}

/// Unix seconds and milliseconds of `time`.
fn unix(time: SystemTime) -> (i64, i64) {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    (since.as_secs() as i64, since.as_millis() as i64)
}

#[cfg(test)]
mod tests;
