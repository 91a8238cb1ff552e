//! The keys of the `hash` and `encrypt` operators: the tenant's HMAC key, derived from a Secrets Manager secret, and
//! one AES-256 data key per `encrypt` call from KMS, bound to the tenant's PHI encryption context.

use std::collections::HashMap;

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use medvault_crypto::{IndexKey, IndexKeyError, WrappedKey};
use medvault_phi::{DataKey, PhiError, TenantKey};
use medvault_platform::error::{BoxError, Failure, classify_sdk_error};
use zeroize::Zeroize;

/// The `purpose` of the KMS encryption context of PHI data keys; the function's IAM policy allows KMS only under
/// it (and this tenant), so these keys can never unwrap a patient's record key or the reverse.
pub const ENCRYPTION_PURPOSE: &str = "medvault-phi";

/// Why the tenant's hash key could not be made at cold start.
#[derive(Debug, thiserror::Error)]
pub enum TenantKeyError {
    #[error("the PHI hash key secret could not be loaded")]
    Secret(#[from] IndexKeyError),
    #[error("the derived tenant key was refused")]
    Key(#[from] PhiError),
}

/// The tenant's `hash` key: HMAC-SHA-256 of the tenant under the secret's master key.
///
/// The secret is read with `IndexKey::load` (SecretBinary or SecretString, at least 32 bytes) and its `tag` is a
/// keyed, purpose-separated derivation, so one secret serves every tenant and a hash made for one tenant does not
/// match the same value hashed for another.
pub async fn tenant_key(
    secrets: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
    tenant: &str,
) -> Result<TenantKey, TenantKeyError> {
    let master = IndexKey::load(secrets, secret_id).await?;
    let mut derived = master.tag("phi-hash-key", tenant.as_bytes());
    let key = TenantKey::new(&derived);
    derived.zeroize();
    Ok(key?)
}

/// Why a data key could not be made or unwrapped.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// KMS was slow, throttled or down: the caller may retry.
    #[error("the key service is unavailable")]
    Unavailable(#[source] BoxError),
    /// KMS refused the wrapped key: not made under this tenant's PHI context, or damaged.
    #[error("the wrapped key does not open under this tenant's PHI context")]
    Refused(#[source] BoxError),
    /// Any other failure (permissions, a missing key): ours, not the caller's.
    #[error("the key service failed")]
    Failed(#[source] BoxError),
}

/// KMS answered without the bytes it must return.
#[derive(Debug, thiserror::Error)]
#[error("KMS returned no {0}")]
struct MissingField(&'static str);

/// PHI data keys from KMS.
///
/// `medvault_crypto::KmsKeyWrapper` makes patient keys (its context names a patient, and its `DataKey` keeps the
/// bytes to the crypto crate), while `medvault_phi` takes raw key bytes; so this adapter makes the two KMS calls
/// itself, under a context of its own.
#[derive(Debug, Clone)]
pub struct DataKeys {
    kms: aws_sdk_kms::Client,
    key_id: String,
    tenant: String,
}

impl DataKeys {
    pub fn new(kms: aws_sdk_kms::Client, key_id: impl Into<String>, tenant: impl Into<String>) -> Self {
        Self { kms, key_id: key_id.into(), tenant: tenant.into() }
    }

    /// The KMS encryption context: identifiers only, never PHI (CloudTrail logs it).
    fn context(&self) -> HashMap<String, String> {
        HashMap::from([
            ("tenant".to_owned(), self.tenant.clone()),
            ("purpose".to_owned(), ENCRYPTION_PURPOSE.to_owned()),
        ])
    }

    /// A fresh data key and its wrapped form.
    pub async fn generate(&self) -> Result<(DataKey, WrappedKey), KeyError> {
        let output = self
            .kms
            .generate_data_key()
            .key_id(&self.key_id)
            .key_spec(DataKeySpec::Aes256)
            .set_encryption_context(Some(self.context()))
            .send()
            .await
            .map_err(|e| match classify_sdk_error(&e) {
                Failure::Retryable => KeyError::Unavailable(Box::new(e)),
                Failure::Permanent => KeyError::Failed(Box::new(e)),
            })?;
        let wrapped = output.ciphertext_blob.ok_or(KeyError::Failed(Box::new(MissingField("ciphertext"))))?;
        let plain = output.plaintext.ok_or(KeyError::Failed(Box::new(MissingField("plaintext"))))?;
        Ok((plain_key(plain)?, WrappedKey(wrapped.into_inner())))
    }

    /// The plain form of `wrapped`, if KMS made it under this tenant's PHI context.
    pub async fn unwrap(&self, wrapped: &WrappedKey) -> Result<DataKey, KeyError> {
        let output = self
            .kms
            .decrypt()
            .key_id(&self.key_id)
            .ciphertext_blob(Blob::new(wrapped.0.clone()))
            .set_encryption_context(Some(self.context()))
            .send()
            .await
            .map_err(|e| {
                let refused = e.as_service_error().is_some_and(|s| {
                    s.is_invalid_ciphertext_exception() || s.is_incorrect_key_exception() || s.is_not_found_exception()
                });
                match classify_sdk_error(&e) {
                    _ if refused => KeyError::Refused(Box::new(e)),
                    Failure::Retryable => KeyError::Unavailable(Box::new(e)),
                    Failure::Permanent => KeyError::Failed(Box::new(e)),
                }
            })?;
        let plain = output.plaintext.ok_or(KeyError::Failed(Box::new(MissingField("plaintext"))))?;
        plain_key(plain).map_err(|e| KeyError::Refused(Box::new(e)))
    }
}

/// The engine's key from KMS's plaintext; the plaintext buffer is wiped.
fn plain_key(plain: Blob) -> Result<DataKey, KeyError> {
    let mut bytes = plain.into_inner();
    let key = DataKey::from_bytes(&bytes);
    bytes.zeroize();
    key.map_err(|e| KeyError::Failed(Box::new(e)))
}
