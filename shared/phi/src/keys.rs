//! Key material the operators use: a tenant HMAC key for `hash`, a data key for `encrypt`, and the permission
//! check that guards decryption.

use zeroize::Zeroizing;

use crate::error::PhiError;

/// A tenant's HMAC-SHA256 key for the `hash` operator (stable per tenant, so hashes join across documents).
#[derive(Clone)]
pub struct TenantKey(Zeroizing<Vec<u8>>);

impl TenantKey {
    /// Wraps key bytes; at least 16 bytes (HMAC accepts any length, but a short key is guessable).
    pub fn new(bytes: &[u8]) -> Result<Self, PhiError> {
        if bytes.len() < 16 {
            return Err(PhiError::InvalidOperator("the tenant hash key must be at least 16 bytes"));
        }
        Ok(Self(Zeroizing::new(bytes.to_vec())))
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for TenantKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TenantKey([REDACTED])")
    }
}

/// A 256-bit AES-GCM data key (the plaintext half of a KMS `GenerateDataKey` answer; the KMS adapter lives with
/// the records crate, this crate only takes the bytes).
#[derive(Clone)]
pub struct DataKey(Zeroizing<[u8; 32]>);

impl DataKey {
    /// Wraps exactly 32 key bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PhiError> {
        let array: [u8; 32] =
            bytes.try_into().map_err(|_| PhiError::InvalidOperator("the data key must be exactly 32 bytes"))?;
        Ok(Self(Zeroizing::new(array)))
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

/// Whoever asks to decrypt: the API implements this for its authenticated principal (only permitted roles).
pub trait DecryptPermission {
    /// Whether this caller may see PHI that the `encrypt` operator hid.
    fn may_decrypt_phi(&self) -> bool;
}

/// The keys a transformation may use; absent keys make `hash`/`encrypt` fail with [`PhiError::MissingKey`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Keys<'a> {
    pub tenant: Option<&'a TenantKey>,
    pub data: Option<&'a DataKey>,
}
