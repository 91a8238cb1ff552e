//! medvault's field-level encryption: what makes a copy of the database alone reveal nothing.
//!
//! - [`envelope`]: AES-256-GCM with a fresh nonce per value, bound by associated data to the item's table role,
//!   key and attribute, so a ciphertext moved anywhere else fails to open. Pure.
//! - [`keys`]: per-patient data keys from KMS `GenerateDataKey` (encryption context: tenant, patient, purpose),
//!   unwrapped with `Decrypt`, behind a bounded cache ([`cache::DataKeyCache`]) so warm requests make no KMS call.
//! - [`blind`]: keyed blind indexes (HMAC-SHA-256) for equality search on encrypted fields, and tags for
//!   tamper-proof tokens, under a key from Secrets Manager.

pub mod blind;
pub mod cache;
pub mod envelope;
pub mod keys;

pub use blind::{IndexKey, IndexKeyError};
pub use cache::{CachePolicy, DataKeyCache};
pub use envelope::{Aad, CryptoError, DataKey, open, seal};
pub use keys::{KeyContext, KeyError, KeyWrapper, KmsKeyWrapper, MemoryKeyWrapper, PatientKeys, WrappedKey};
