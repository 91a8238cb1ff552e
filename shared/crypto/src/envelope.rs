//! AES-256-GCM field encryption bound to where the value lives. Pure: no AWS, no I/O.
//!
//! A sealed value is `0x01 || nonce (12 bytes) || ciphertext || tag (16 bytes)`. The associated data is
//! `"medvault.field.v1" || str(table) || str(item key) || str(attribute)` with `str(s) = u32_be(len) || utf8(s)`,
//! so a ciphertext copied to another attribute, another item (another patient) or another table does not open.
//! The table is named by its role (`records`, `documents`), not its physical name, so that a restored copy of a
//! table (a backup drill) still opens with the patient's key.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use zeroize::{Zeroize, ZeroizeOnDrop};

const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const AAD_TAG: &[u8] = b"medvault.field.v1";

/// A 256-bit data key in plain form. Zeroized when dropped; prints as nothing.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct DataKey([u8; 32]);

impl DataKey {
    /// A key from exactly 32 bytes; the source is zeroized.
    pub fn from_slice(bytes: &mut [u8]) -> Result<Self, CryptoError> {
        let mut key = [0u8; 32];
        if bytes.len() != key.len() {
            bytes.zeroize();
            return Err(CryptoError::KeyLength);
        }
        key.copy_from_slice(bytes);
        bytes.zeroize();
        Ok(Self(key))
    }

    /// A key from the operating system's random generator (for keys that never leave memory, and tests).
    pub fn random() -> Self {
        Self(Aes256Gcm::generate_key(OsRng).into())
    }

    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey([REDACTED])")
    }
}

/// Where a value lives: the table's role, the item's key, the attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Aad<'a> {
    /// The table's role (`records`, `documents`), not its physical name.
    pub table: &'a str,
    /// The item's full key, e.g. `PATIENT#<id>|PROFILE`.
    pub item: &'a str,
    pub attribute: &'a str,
}

impl Aad<'_> {
    fn bytes(&self) -> Vec<u8> {
        let mut out =
            Vec::with_capacity(AAD_TAG.len() + 12 + self.table.len() + self.item.len() + self.attribute.len());
        out.extend_from_slice(AAD_TAG);
        for part in [self.table, self.item, self.attribute] {
            out.extend_from_slice(&u32::try_from(part.len()).unwrap_or(u32::MAX).to_be_bytes());
            out.extend_from_slice(part.as_bytes());
        }
        out
    }
}

/// Why a value could not be sealed or opened. Deliberately says nothing about which check failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("a data key must be 32 bytes")]
    KeyLength,
    #[error("the sealed value is malformed")]
    Malformed,
    /// Wrong key, wrong place, or altered bytes: AES-GCM's tag did not verify.
    #[error("the sealed value does not open with this key at this place")]
    Open,
    #[error("encryption failed")]
    Seal,
}

/// Encrypts `plaintext` for `aad` under `key` with a fresh random nonce.
pub fn seal(key: &DataKey, aad: Aad<'_>, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let cipher = Aes256Gcm::new(key.bytes().into());
    let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
    let sealed =
        cipher.encrypt(&nonce, Payload { msg: plaintext, aad: &aad.bytes() }).map_err(|_| CryptoError::Seal)?;
    let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
    out.push(VERSION);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Decrypts a value sealed by [`seal`] for the same `aad` under the same `key`.
pub fn open(key: &DataKey, aad: Aad<'_>, sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let Some((&VERSION, rest)) = sealed.split_first() else { return Err(CryptoError::Malformed) };
    if rest.len() < NONCE_LEN + TAG_LEN {
        return Err(CryptoError::Malformed);
    }
    let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
    let cipher = Aes256Gcm::new(key.bytes().into());
    cipher
        .decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: &aad.bytes() })
        .map_err(|_| CryptoError::Open)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> DataKey {
        DataKey::from_slice(&mut [byte; 32]).unwrap()
    }

    const HERE: Aad<'static> = Aad { table: "records", item: "PATIENT#a|PROFILE", attribute: "name" };

    #[test]
    fn a_sealed_value_opens_at_its_place_with_its_key() {
        let sealed = seal(&key(1), HERE, b"Jane Roe").unwrap();
        assert_eq!(open(&key(1), HERE, &sealed).unwrap(), b"Jane Roe");
    }

    #[test]
    fn the_same_value_seals_differently_each_time() {
        assert_ne!(seal(&key(1), HERE, b"x").unwrap(), seal(&key(1), HERE, b"x").unwrap());
    }

    #[test]
    fn a_value_moved_to_another_attribute_item_or_table_does_not_open() {
        let sealed = seal(&key(1), HERE, b"Jane Roe").unwrap();
        for moved in [
            Aad { attribute: "email", ..HERE },
            Aad { item: "PATIENT#b|PROFILE", ..HERE },
            Aad { table: "documents", ..HERE },
        ] {
            assert_eq!(open(&key(1), moved, &sealed), Err(CryptoError::Open), "{moved:?}");
        }
    }

    #[test]
    fn another_key_or_a_flipped_bit_does_not_open() {
        let mut sealed = seal(&key(1), HERE, b"Jane Roe").unwrap();
        assert_eq!(open(&key(2), HERE, &sealed), Err(CryptoError::Open));
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert_eq!(open(&key(1), HERE, &sealed), Err(CryptoError::Open));
        assert_eq!(open(&key(1), HERE, &[1, 2, 3]), Err(CryptoError::Malformed));
    }

    #[test]
    fn field_boundaries_in_the_associated_data_cannot_shift() {
        let sealed = seal(&key(1), Aad { table: "ab", item: "c", attribute: "d" }, b"v").unwrap();
        assert!(open(&key(1), Aad { table: "a", item: "bc", attribute: "d" }, &sealed).is_err());
    }

    #[test]
    fn a_key_of_the_wrong_length_is_refused_and_its_source_wiped() {
        let mut short = [7u8; 16];
        assert!(matches!(DataKey::from_slice(&mut short), Err(CryptoError::KeyLength)));
        assert_eq!(short, [0u8; 16]);
        assert_eq!(format!("{:?}", key(9)), "DataKey([REDACTED])");
    }
}
