//! The Secrets Manager adapters: the published public key set that verifiers read, and the signing key that only
//! `auth-api` reads (its `AWSCURRENT` version signs; the rotation function writes both secrets).

use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use futures::future::BoxFuture;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::key_cache::{KeySource, KeySourceError};
use crate::keys::{KeyError, KeySet, SigningKey};

/// The public key set (a JWKS document) published in a secret's `AWSCURRENT` version.
#[derive(Debug, Clone)]
pub struct PublishedKeys {
    client: Client,
    secret_id: String,
}

impl PublishedKeys {
    pub fn new(client: Client, secret_id: impl Into<String>) -> Self {
        Self { client, secret_id: secret_id.into() }
    }

    pub fn secret_id(&self) -> &str {
        &self.secret_id
    }
}

impl KeySource for PublishedKeys {
    fn load(&self) -> BoxFuture<'_, Result<KeySet, KeySourceError>> {
        Box::pin(async move {
            let text = read_secret(&self.client, &self.secret_id, None, Some("AWSCURRENT")).await?;
            KeySet::from_jwks_json(&text).map_err(KeySourceError::Malformed)
        })
    }
}

/// Reads one version of a secret's string: by version id, by stage, or both.
pub(crate) async fn read_secret(
    client: &Client,
    secret_id: &str,
    version_id: Option<&str>,
    stage: Option<&str>,
) -> Result<String, KeySourceError> {
    let result = client
        .get_secret_value()
        .secret_id(secret_id)
        .set_version_id(version_id.map(str::to_owned))
        .set_version_stage(stage.map(str::to_owned))
        .send()
        .await;
    match result {
        Ok(output) => output.secret_string.ok_or(KeySourceError::Missing),
        Err(SdkError::ServiceError(e)) if e.err().code() == Some("ResourceNotFoundException") => {
            Err(KeySourceError::Missing)
        }
        Err(error) => Err(KeySourceError::Unavailable(Box::new(error))),
    }
}

/// The key `auth-api` signs with: the signing secret's `AWSCURRENT` version, re-read every `ttl` so that a rotation
/// reaches warm functions. Tokens signed by the previous key keep verifying (it stays published as `AWSPREVIOUS`).
pub struct CurrentSigningKey {
    client: Client,
    secret_id: String,
    ttl: Duration,
    cached: RwLock<Option<(Arc<SigningKey>, Instant)>>,
    loading: Mutex<()>,
}

impl fmt::Debug for CurrentSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CurrentSigningKey").field("secret_id", &self.secret_id).finish_non_exhaustive()
    }
}

/// The signing key could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SigningKeyError {
    #[error("the signing key could not be read")]
    Unavailable(#[source] KeySourceError),
    #[error("the signing secret holds no key yet: run its rotation once")]
    NotCreated,
    #[error("the signing key is malformed")]
    Malformed(#[source] KeyError),
}

impl CurrentSigningKey {
    pub fn new(client: Client, secret_id: impl Into<String>, ttl: Duration) -> Self {
        Self { client, secret_id: secret_id.into(), ttl, cached: RwLock::new(None), loading: Mutex::new(()) }
    }

    pub fn secret_id(&self) -> &str {
        &self.secret_id
    }

    /// The key to sign with now.
    pub async fn get(&self) -> Result<Arc<SigningKey>, SigningKeyError> {
        if let Some(key) = self.fresh() {
            return Ok(key);
        }
        let _loading = self.loading.lock().await;
        if let Some(key) = self.fresh() {
            return Ok(key);
        }
        let text = match read_secret(&self.client, &self.secret_id, None, Some("AWSCURRENT")).await {
            Ok(text) => text,
            Err(KeySourceError::Missing) => return Err(SigningKeyError::NotCreated),
            Err(error) => return Err(SigningKeyError::Unavailable(error)),
        };
        let key = match SigningKey::from_secret_json(&text) {
            Ok(key) => Arc::new(key),
            // The placeholder a fresh stack's secret holds until its first rotation.
            Err(KeyError::MalformedSigningKey(_)) if !text.contains("private_key") => {
                return Err(SigningKeyError::NotCreated);
            }
            Err(error) => return Err(SigningKeyError::Malformed(error)),
        };
        if let Ok(mut cached) = self.cached.write() {
            *cached = Some((key.clone(), Instant::now()));
        }
        Ok(key)
    }

    fn fresh(&self) -> Option<Arc<SigningKey>> {
        let cached = self.cached.read().ok()?;
        let (key, at) = cached.as_ref()?;
        (at.elapsed() < self.ttl).then(|| key.clone())
    }
}
