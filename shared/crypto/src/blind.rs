//! Keyed blind indexes and tags: HMAC-SHA-256 under a secret from Secrets Manager.
//!
//! A blind index makes equality search possible on an encrypted field (find the patient with this MRN) without
//! storing the value: the table holds `HMAC(k_mrn, normalized MRN)`, which reveals nothing without the key and
//! cannot be brute-forced offline from a stolen table. Each use gets its own subkey
//! (`k_use = HMAC(master, "medvault.subkey.v1" || use)`), so an index value is useless as a tag and vice versa.

use hmac::{Hmac, Mac};
use medvault_platform::Secret;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The smallest key accepted, in bytes.
pub const MIN_KEY_LEN: usize = 32;

/// The master key of blind indexes and tags.
#[derive(Clone)]
pub struct IndexKey(Secret<Vec<u8>>);

impl std::fmt::Debug for IndexKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IndexKey([REDACTED])")
    }
}

/// Why the key could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum IndexKeyError {
    #[error("the index key secret could not be read")]
    Unavailable(#[source] medvault_platform::error::BoxError),
    #[error("the index key must be at least {MIN_KEY_LEN} bytes")]
    TooShort,
}

impl IndexKey {
    /// A key from raw bytes (at least [`MIN_KEY_LEN`]).
    pub fn new(bytes: Vec<u8>) -> Result<Self, IndexKeyError> {
        if bytes.len() < MIN_KEY_LEN {
            return Err(IndexKeyError::TooShort);
        }
        Ok(Self(Secret::new(bytes)))
    }

    /// Reads the key from a Secrets Manager secret: its `SecretBinary`, or the UTF-8 bytes of its `SecretString`
    /// (e.g. 64 random characters that CloudFormation's `GenerateSecretString` made).
    pub async fn load(client: &aws_sdk_secretsmanager::Client, secret_id: &str) -> Result<Self, IndexKeyError> {
        let output = client
            .get_secret_value()
            .secret_id(secret_id)
            .send()
            .await
            .map_err(|e| IndexKeyError::Unavailable(Box::new(e)))?;
        let bytes = match (output.secret_binary, output.secret_string) {
            (Some(binary), _) => binary.into_inner(),
            (None, Some(text)) => text.into_bytes(),
            (None, None) => Vec::new(),
        };
        Self::new(bytes)
    }

    fn subkey(&self, purpose: &str) -> HmacSha256 {
        let mut derive = mac(self.0.expose());
        derive.update(b"medvault.subkey.v1");
        derive.update(purpose.as_bytes());
        let subkey = derive.finalize().into_bytes();
        mac(&subkey)
    }

    /// The blind index of `value` for `purpose` (`mrn`), as 64 hex digits. Normalize `value` first.
    pub fn blind_index(&self, purpose: &str, value: &str) -> String {
        let mut mac = self.subkey(&format!("index:{purpose}"));
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// A tag over `data` for `purpose` (`cursor`): 32 bytes.
    pub fn tag(&self, purpose: &str, data: &[u8]) -> Vec<u8> {
        let mut mac = self.subkey(&format!("tag:{purpose}"));
        mac.update(data);
        mac.finalize().into_bytes().to_vec()
    }

    /// Whether `tag` is [`IndexKey::tag`] of `data` for `purpose`, compared in constant time.
    pub fn verify_tag(&self, purpose: &str, data: &[u8], tag: &[u8]) -> bool {
        let mut mac = self.subkey(&format!("tag:{purpose}"));
        mac.update(data);
        mac.verify_slice(tag).is_ok()
    }
}

fn mac(key: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length, so this cannot fail; the fallback keeps product code free of panics.
    HmacSha256::new_from_slice(key).unwrap_or_else(|_| HmacSha256::new(&Default::default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> IndexKey {
        IndexKey::new(vec![byte; 32]).unwrap()
    }

    #[test]
    fn the_same_value_indexes_the_same_and_another_key_differently() {
        assert_eq!(key(1).blind_index("mrn", "00456123"), key(1).blind_index("mrn", "00456123"));
        assert_ne!(key(1).blind_index("mrn", "00456123"), key(1).blind_index("mrn", "00456124"));
        assert_ne!(key(1).blind_index("mrn", "00456123"), key(2).blind_index("mrn", "00456123"));
        assert_ne!(key(1).blind_index("mrn", "x"), key(1).blind_index("email", "x"));
    }

    #[test]
    fn a_tag_verifies_only_for_its_data_and_purpose() {
        let tag = key(1).tag("cursor", b"page-2");
        assert!(key(1).verify_tag("cursor", b"page-2", &tag));
        assert!(!key(1).verify_tag("cursor", b"page-3", &tag));
        assert!(!key(1).verify_tag("other", b"page-2", &tag));
        assert!(!key(2).verify_tag("cursor", b"page-2", &tag));
    }

    #[test]
    fn short_keys_are_refused_and_keys_never_print() {
        assert!(matches!(IndexKey::new(vec![0; 31]), Err(IndexKeyError::TooShort)));
        assert_eq!(format!("{:?}", key(1)), "IndexKey([REDACTED])");
    }
}
