//! A bounded cache of plaintext data keys: an entry lives at most `ttl` and serves at most `max_uses` lookups,
//! and the cache holds at most `capacity` keys. An evicted key is zeroized when its last user drops it.
//!
//! Hand-written because the limits that matter here (uses per key, zeroizing on eviction) are not what general
//! caches (`lru`, `moka`) bound; the structure is a map and a scan, small enough to read at a glance.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::envelope::DataKey;

/// How long and how often a plaintext data key may be reused, and how many are held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachePolicy {
    pub ttl: Duration,
    pub max_uses: u32,
    pub capacity: usize,
}

impl Default for CachePolicy {
    /// Five minutes, 1,000 uses, 1,000 keys (about 100 KiB).
    fn default() -> Self {
        Self { ttl: Duration::from_secs(300), max_uses: 1000, capacity: 1000 }
    }
}

struct Entry {
    key: Arc<DataKey>,
    loaded: Instant,
    uses: u32,
}

/// The cache. Cheap to share behind an `Arc`.
pub struct DataKeyCache {
    policy: CachePolicy,
    entries: Mutex<HashMap<String, Entry>>,
}

impl std::fmt::Debug for DataKeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataKeyCache").field("policy", &self.policy).field("len", &self.len()).finish()
    }
}

impl DataKeyCache {
    pub fn new(policy: CachePolicy) -> Self {
        Self { policy, entries: Mutex::new(HashMap::new()) }
    }

    pub fn policy(&self) -> CachePolicy {
        self.policy
    }

    /// The key cached under `id`, counting one use; `None` when absent, expired or used up (and then evicted).
    pub fn get(&self, id: &str) -> Option<Arc<DataKey>> {
        self.get_at(id, Instant::now())
    }

    fn get_at(&self, id: &str, now: Instant) -> Option<Arc<DataKey>> {
        let mut entries = self.entries.lock().ok()?;
        let fresh = entries.get(id).is_some_and(|e| self.is_fresh(e, now));
        if !fresh {
            entries.remove(id);
            return None;
        }
        let entry = entries.get_mut(id)?;
        entry.uses += 1;
        Some(Arc::clone(&entry.key))
    }

    /// Caches `key` under `id` (counting one use) and returns it shared.
    pub fn insert(&self, id: &str, key: DataKey) -> Arc<DataKey> {
        self.insert_at(id, key, Instant::now())
    }

    fn insert_at(&self, id: &str, key: DataKey, now: Instant) -> Arc<DataKey> {
        let key = Arc::new(key);
        let Ok(mut entries) = self.entries.lock() else { return key };
        if self.policy.capacity == 0 || self.policy.max_uses == 0 {
            return key;
        }
        if entries.len() >= self.policy.capacity && !entries.contains_key(id) {
            entries.retain(|_, e| self.is_fresh(e, now));
            if entries.len() >= self.policy.capacity {
                let oldest = entries.iter().min_by_key(|(_, e)| e.loaded).map(|(id, _)| id.clone());
                if let Some(oldest) = oldest {
                    entries.remove(&oldest);
                }
            }
        }
        entries.insert(id.to_owned(), Entry { key: Arc::clone(&key), loaded: now, uses: 1 });
        key
    }

    /// Drops the key cached under `id` (after a patient is erased).
    pub fn remove(&self, id: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(id);
        }
    }

    pub fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn is_fresh(&self, entry: &Entry, now: Instant) -> bool {
        now.saturating_duration_since(entry.loaded) < self.policy.ttl && entry.uses < self.policy.max_uses
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> DataKey {
        DataKey::from_slice(&mut [3u8; 32]).unwrap()
    }

    fn cache(ttl: u64, max_uses: u32, capacity: usize) -> DataKeyCache {
        DataKeyCache::new(CachePolicy { ttl: Duration::from_secs(ttl), max_uses, capacity })
    }

    #[test]
    fn a_cached_key_is_served_until_its_time_runs_out() {
        let cache = cache(60, 100, 10);
        let start = Instant::now();
        cache.insert_at("p-1", key(), start);
        assert!(cache.get_at("p-1", start + Duration::from_secs(59)).is_some());
        assert!(cache.get_at("p-1", start + Duration::from_secs(60)).is_none());
        assert!(cache.is_empty(), "the expired key is evicted");
    }

    #[test]
    fn a_cached_key_is_served_at_most_max_uses_times() {
        let cache = cache(60, 3, 10);
        cache.insert("p-1", key());
        assert!(cache.get("p-1").is_some());
        assert!(cache.get("p-1").is_some());
        assert!(cache.get("p-1").is_none(), "insert counted one use, two gets the rest");
    }

    #[test]
    fn a_full_cache_evicts_its_oldest_key() {
        let cache = cache(60, 100, 2);
        let start = Instant::now();
        cache.insert_at("p-1", key(), start);
        cache.insert_at("p-2", key(), start + Duration::from_secs(1));
        cache.insert_at("p-3", key(), start + Duration::from_secs(2));
        assert_eq!(cache.len(), 2);
        assert!(cache.get("p-1").is_none());
        assert!(cache.get("p-3").is_some());
    }

    #[test]
    fn a_removed_key_is_gone() {
        let cache = cache(60, 100, 2);
        cache.insert("p-1", key());
        cache.remove("p-1");
        assert!(cache.get("p-1").is_none());
    }
}
