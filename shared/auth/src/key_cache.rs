//! The verification key set held in memory: loaded once, reloaded when it is older than its time-to-live, and
//! reloaded early (at most once per interval) when a token names a `kid` it does not hold, so that a freshly
//! rotated key is picked up without a cold start and a flood of made-up `kid`s costs one load per interval.

use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::keys::{KeyError, KeySet};

/// A boxed error that keeps its source chain.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The key set could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeySourceError {
    #[error("the key store did not answer")]
    Unavailable(#[source] BoxError),
    #[error("the key store holds no key set")]
    Missing,
    #[error("the stored key set is malformed")]
    Malformed(#[source] KeyError),
}

/// Where verification keys come from.
pub trait KeySource: Send + Sync + fmt::Debug {
    /// The whole current key set.
    fn load(&self) -> BoxFuture<'_, Result<KeySet, KeySourceError>>;
}

/// A fixed key set (benchmarks, unit tests, and verifiers that are handed their keys).
#[derive(Debug, Clone)]
pub struct StaticKeys(pub KeySet);

impl KeySource for StaticKeys {
    fn load(&self) -> BoxFuture<'_, Result<KeySet, KeySourceError>> {
        Box::pin(async move { Ok(self.0.clone()) })
    }
}

/// How long keys are kept and how often they may be reloaded.
#[derive(Debug, Clone, Copy)]
pub struct CachePolicy {
    /// A loaded set is used without reloading for this long.
    pub ttl: Duration,
    /// An unknown `kid` reloads the set at most once per this interval.
    pub min_refresh_interval: Duration,
    /// When a reload fails, an expired set is still used for this long past its time-to-live, then the cache fails
    /// closed (every token is refused with a 503).
    pub max_stale: Duration,
}

impl Default for CachePolicy {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(300),
            min_refresh_interval: Duration::from_secs(30),
            max_stale: Duration::from_secs(3600),
        }
    }
}

#[derive(Debug, Clone)]
struct Loaded {
    set: Arc<KeySet>,
    at: Instant,
}

/// The cached key set.
pub struct KeyCache {
    source: Arc<dyn KeySource>,
    policy: CachePolicy,
    loaded: RwLock<Option<Loaded>>,
    /// Serialises loads, and remembers when the last one started.
    loading: Mutex<Option<Instant>>,
}

impl fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyCache").field("source", &self.source).field("policy", &self.policy).finish_non_exhaustive()
    }
}

impl KeyCache {
    pub fn new(source: Arc<dyn KeySource>, policy: CachePolicy) -> Self {
        Self { source, policy, loaded: RwLock::new(None), loading: Mutex::new(None) }
    }

    fn snapshot(&self) -> Option<Loaded> {
        self.loaded.read().ok().and_then(|guard| guard.clone())
    }

    /// The key set to verify a token naming `kid` with: the cached one while fresh and holding `kid`; otherwise a
    /// reload under the policy's limits. The caller still looks `kid` up: it may be unknown after all.
    pub async fn keys_for(&self, kid: &str) -> Result<Arc<KeySet>, KeySourceError> {
        match self.snapshot() {
            Some(loaded) if loaded.at.elapsed() < self.policy.ttl => {
                if loaded.set.contains(kid) {
                    return Ok(loaded.set);
                }
                // An unknown kid: perhaps a key published since we loaded. A failed reload keeps the fresh set.
                Ok(self.reload(Some(&loaded), true).await.unwrap_or(loaded.set))
            }
            Some(loaded) => match self.reload(Some(&loaded), false).await {
                Ok(set) => Ok(set),
                Err(error) if loaded.at.elapsed() < self.policy.ttl + self.policy.max_stale => {
                    tracing::warn!(error = %medvault_platform::error::chain(&error), "verification keys could not be reloaded; using the previous set");
                    Ok(loaded.set)
                }
                Err(error) => Err(error),
            },
            None => self.reload(None, false).await,
        }
    }

    /// The current key set (loading it if none is held), e.g. for the JWKS endpoint.
    pub async fn current(&self) -> Result<Arc<KeySet>, KeySourceError> {
        self.keys_for("").await
    }

    /// Loads the set, unless another task loaded it while this one waited, or (for an unknown `kid`) a load started
    /// less than `min_refresh_interval` ago.
    async fn reload(&self, seen: Option<&Loaded>, rate_limited: bool) -> Result<Arc<KeySet>, KeySourceError> {
        let mut last_start = self.loading.lock().await;
        if let Some(now) = self.snapshot() {
            let newer = seen.is_none_or(|seen| now.at > seen.at);
            if newer && now.at.elapsed() < self.policy.ttl {
                return Ok(now.set);
            }
        }
        if rate_limited
            && let (Some(started), Some(seen)) = (*last_start, seen)
            && started.elapsed() < self.policy.min_refresh_interval
        {
            return Ok(seen.set.clone());
        }
        *last_start = Some(Instant::now());
        let set = Arc::new(self.source.load().await?);
        tracing::debug!(keys = set.len(), "verification keys loaded");
        if let Ok(mut guard) = self.loaded.write() {
            *guard = Some(Loaded { set: set.clone(), at: Instant::now() });
        }
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::keys::SigningKey;

    /// A source whose set can be swapped, counting its loads.
    #[derive(Debug, Default)]
    struct Counting {
        set: std::sync::Mutex<KeySet>,
        loads: AtomicUsize,
        failing: std::sync::atomic::AtomicBool,
    }

    impl KeySource for Counting {
        fn load(&self) -> BoxFuture<'_, Result<KeySet, KeySourceError>> {
            Box::pin(async move {
                self.loads.fetch_add(1, Ordering::SeqCst);
                if self.failing.load(Ordering::SeqCst) {
                    return Err(KeySourceError::Missing);
                }
                Ok(self.set.lock().unwrap().clone())
            })
        }
    }

    fn cache(source: &Arc<Counting>) -> KeyCache {
        KeyCache::new(source.clone(), CachePolicy::default())
    }

    #[tokio::test(start_paused = true)]
    async fn a_fresh_set_is_served_from_memory() {
        let key = SigningKey::generate().unwrap();
        let source = Arc::new(Counting::default());
        *source.set.lock().unwrap() = KeySet::new([key.public().clone()]);
        let cache = cache(&source);

        for _ in 0..5 {
            assert!(cache.keys_for(key.kid()).await.unwrap().contains(key.kid()));
        }
        assert_eq!(source.loads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn an_unknown_kid_reloads_at_most_once_per_interval_and_finds_a_new_key() {
        let (old, new) = (SigningKey::generate().unwrap(), SigningKey::generate().unwrap());
        let source = Arc::new(Counting::default());
        *source.set.lock().unwrap() = KeySet::new([old.public().clone()]);
        let cache = cache(&source);
        cache.keys_for(old.kid()).await.unwrap();
        tokio::time::advance(Duration::from_secs(31)).await;

        for _ in 0..20 {
            assert!(!cache.keys_for("made-up-kid").await.unwrap().contains("made-up-kid"));
        }
        assert_eq!(source.loads.load(Ordering::SeqCst), 2, "the initial load and one reload for all the unknown kids");

        *source.set.lock().unwrap() = KeySet::new([new.public().clone(), old.public().clone()]);
        assert!(!cache.keys_for(new.kid()).await.unwrap().contains(new.kid()), "still rate-limited");
        tokio::time::advance(Duration::from_secs(31)).await;
        assert!(cache.keys_for(new.kid()).await.unwrap().contains(new.kid()));
        assert_eq!(source.loads.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn an_expired_set_is_reloaded_and_a_retired_key_disappears() {
        let (old, new) = (SigningKey::generate().unwrap(), SigningKey::generate().unwrap());
        let source = Arc::new(Counting::default());
        *source.set.lock().unwrap() = KeySet::new([old.public().clone()]);
        let cache = cache(&source);
        cache.keys_for(old.kid()).await.unwrap();

        *source.set.lock().unwrap() = KeySet::new([new.public().clone()]);
        tokio::time::advance(Duration::from_secs(301)).await;
        assert!(!cache.keys_for(old.kid()).await.unwrap().contains(old.kid()));
    }

    #[tokio::test(start_paused = true)]
    async fn without_any_set_the_cache_fails_closed_and_a_stale_set_expires() {
        let key = SigningKey::generate().unwrap();
        let source = Arc::new(Counting::default());
        source.failing.store(true, Ordering::SeqCst);
        let cache = cache(&source);
        assert!(cache.keys_for(key.kid()).await.is_err());

        source.failing.store(false, Ordering::SeqCst);
        *source.set.lock().unwrap() = KeySet::new([key.public().clone()]);
        cache.keys_for(key.kid()).await.unwrap();
        source.failing.store(true, Ordering::SeqCst);
        tokio::time::advance(Duration::from_secs(600)).await;
        assert!(cache.keys_for(key.kid()).await.is_ok(), "stale but within max_stale");
        tokio::time::advance(Duration::from_secs(3600)).await;
        assert!(cache.keys_for(key.kid()).await.is_err(), "past max_stale");
    }
}
