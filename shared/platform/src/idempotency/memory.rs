//! An in-memory idempotency store for unit tests of the idempotency rules.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::SystemTime;

use super::{Claim, IdempotencyStore, Record};
use crate::error::BoxError;

/// Records in a map behind a mutex; `claim` is atomic under the lock.
#[derive(Debug, Default)]
pub struct MemoryStore {
    records: Mutex<HashMap<String, Record>>,
}

impl MemoryStore {
    /// The record currently held for `key`.
    pub fn get(&self, key: &str) -> Option<Record> {
        self.records.lock().ok()?.get(key).cloned()
    }

    /// Puts a record as is (tests set up states with it).
    pub fn insert(&self, record: Record) {
        if let Ok(mut records) = self.records.lock() {
            records.insert(record.key.clone(), record);
        }
    }
}

impl IdempotencyStore for MemoryStore {
    async fn claim(&self, record: &Record, now: SystemTime) -> Result<Claim, BoxError> {
        let mut records = self.records.lock().map_err(|_| "store lock poisoned")?;
        match records.get(&record.key) {
            Some(existing) if !existing.is_claimable(now) => Ok(Claim::Held(Some(existing.clone()))),
            _ => {
                records.insert(record.key.clone(), record.clone());
                Ok(Claim::Claimed)
            }
        }
    }

    async fn complete(&self, record: &Record) -> Result<(), BoxError> {
        self.records.lock().map_err(|_| "store lock poisoned")?.insert(record.key.clone(), record.clone());
        Ok(())
    }

    async fn release(&self, key: &str) -> Result<(), BoxError> {
        self.records.lock().map_err(|_| "store lock poisoned")?.remove(key);
        Ok(())
    }
}
