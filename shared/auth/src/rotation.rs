//! Rotation of the token signing key: Secrets Manager's four-step protocol, each step idempotent, and the
//! publication of the public keys verifiers trust.
//!
//! - `createSecret`: a new Ed25519 key becomes the `AWSPENDING` version (kept if it already exists).
//! - `setSecret`: the published key set gains the pending key, so verifiers know it before it signs anything.
//! - `testSecret`: a token signed with the pending key verifies against the key set read back from the public
//!   secret.
//! - `finishSecret`: `AWSCURRENT` moves to the pending version (Secrets Manager moves `AWSPREVIOUS` to the old one),
//!   and the published set becomes current + previous: the key before that is retired and stops verifying.
//!
//! A token that is not a version of the secret, or whose version is neither `AWSPENDING` nor already `AWSCURRENT`, is
//! refused. The initial value of a fresh stack's secret (a placeholder that is not a key) is never published.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_secretsmanager::Client;
use serde::Deserialize;

use crate::key_cache::{CachePolicy, KeyCache, KeySource, KeySourceError};
use crate::keys::{KeySet, SigningKey};
use crate::principal::UserId;
use crate::secrets::{PublishedKeys, read_secret};
use crate::token::{TokenAudience, TokenIssuer, TokenVerifier};

pub const CURRENT: &str = "AWSCURRENT";
pub const PENDING: &str = "AWSPENDING";
pub const PREVIOUS: &str = "AWSPREVIOUS";

/// A rotation step, as Secrets Manager names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Step {
    #[serde(rename = "createSecret")]
    Create,
    #[serde(rename = "setSecret")]
    Set,
    #[serde(rename = "testSecret")]
    Test,
    #[serde(rename = "finishSecret")]
    Finish,
}

/// The event Secrets Manager invokes the rotation function with.
#[derive(Debug, Clone, Deserialize)]
pub struct RotationEvent {
    #[serde(rename = "Step")]
    pub step: Step,
    #[serde(rename = "SecretId")]
    pub secret_id: String,
    #[serde(rename = "ClientRequestToken")]
    pub token: String,
}

/// Why a step failed. Secrets Manager retries a failed rotation; a refused token is never retried into success.
#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    #[error("this function rotates only the signing key secret")]
    WrongSecret,
    #[error("the token is not a version of the secret")]
    UnknownToken,
    #[error("the token's version is not AWSPENDING")]
    NotPending,
    #[error("Secrets Manager did not answer")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("the pending version holds no signing key")]
    MissingPendingKey,
    #[error("a stored key is unusable")]
    Key(#[source] crate::keys::KeyError),
    #[error("the pending key did not verify against the published key set")]
    TestFailed(#[source] crate::token::VerifyError),
    #[error("signing with the pending key failed")]
    Sign(#[source] crate::token::SignError),
}

impl RotationError {
    /// Whether running the step again could succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

fn unavailable<E: std::error::Error + Send + Sync + 'static>(error: E) -> RotationError {
    RotationError::Unavailable(Box::new(error))
}

/// The rotation of one signing-key secret, publishing into one public-keys secret.
#[derive(Debug, Clone)]
pub struct KeyRotation {
    client: Client,
    signing_secret: String,
    public_keys_secret: String,
    names: TokenAudience,
}

impl KeyRotation {
    pub fn new(
        client: Client,
        signing_secret: impl Into<String>,
        public_keys_secret: impl Into<String>,
        names: TokenAudience,
    ) -> Self {
        Self { client, signing_secret: signing_secret.into(), public_keys_secret: public_keys_secret.into(), names }
    }

    /// Runs one step.
    pub async fn run(&self, event: &RotationEvent) -> Result<(), RotationError> {
        let versions = self.versions(&event.secret_id).await?;
        let stages = versions.get(&event.token).ok_or(RotationError::UnknownToken)?;
        if stages.iter().any(|s| s == CURRENT) {
            // Already rotated to this version: every step is done. Re-publishing keeps a lost publication repairable.
            if event.step == Step::Finish {
                self.publish().await?;
            }
            tracing::info!(step = ?event.step, "version already current; nothing to do");
            return Ok(());
        }
        if !stages.iter().any(|s| s == PENDING) {
            return Err(RotationError::NotPending);
        }
        match event.step {
            Step::Create => self.create(&event.token).await,
            Step::Set => self.publish().await.map(|_| ()),
            Step::Test => self.test(&event.token).await,
            Step::Finish => self.finish(&event.token, &versions).await,
        }
    }

    /// Version ids and their stages. The secret must be the signing-key secret this function was configured with.
    async fn versions(&self, secret_id: &str) -> Result<HashMap<String, Vec<String>>, RotationError> {
        let described = self.client.describe_secret().secret_id(secret_id).send().await.map_err(unavailable)?;
        let configured =
            self.client.describe_secret().secret_id(&self.signing_secret).send().await.map_err(unavailable)?;
        if described.arn() != configured.arn() {
            return Err(RotationError::WrongSecret);
        }
        Ok(described.version_ids_to_stages.unwrap_or_default())
    }

    async fn key_of_version(&self, version: &str, stage: Option<&str>) -> Result<Option<SigningKey>, RotationError> {
        match read_secret(&self.client, &self.signing_secret, Some(version), stage).await {
            Ok(text) => Ok(SigningKey::from_secret_json(&text).ok()),
            Err(KeySourceError::Missing) => Ok(None),
            Err(KeySourceError::Unavailable(e)) => Err(RotationError::Unavailable(e)),
            Err(KeySourceError::Malformed(e)) => Err(RotationError::Key(e)),
        }
    }

    async fn create(&self, token: &str) -> Result<(), RotationError> {
        if self.key_of_version(token, Some(PENDING)).await?.is_some() {
            tracing::info!("the pending key exists already");
            return Ok(());
        }
        let key = SigningKey::generate().map_err(RotationError::Key)?;
        self.client
            .put_secret_value()
            .secret_id(&self.signing_secret)
            .client_request_token(token)
            .secret_string(key.to_secret_json().as_str())
            .version_stages(PENDING)
            .send()
            .await
            .map_err(unavailable)?;
        tracing::info!(kid = key.kid(), "pending signing key created");
        Ok(())
    }

    /// Publishes the public halves of the pending, current and previous keys (those that are keys), newest first.
    pub async fn publish(&self) -> Result<KeySet, RotationError> {
        let versions = self.versions(&self.signing_secret).await?;
        let mut keys = Vec::new();
        for stage in [PENDING, CURRENT, PREVIOUS] {
            let Some((version, _)) = versions.iter().find(|(_, stages)| stages.iter().any(|s| s == stage)) else {
                continue;
            };
            if let Some(key) = self.key_of_version(version, None).await? {
                keys.push(key.public().clone());
            }
        }
        let set = KeySet::new(keys);
        let document = serde_json::to_string(&set.to_jwks()).map_err(unavailable)?;
        let published = read_secret(&self.client, &self.public_keys_secret, None, Some(CURRENT)).await;
        if published.as_deref().ok() == Some(document.as_str()) {
            return Ok(set);
        }
        self.client
            .put_secret_value()
            .secret_id(&self.public_keys_secret)
            .secret_string(document)
            .send()
            .await
            .map_err(unavailable)?;
        tracing::info!(keys = set.len(), kids = ?set.kids().collect::<Vec<_>>(), "public keys published");
        Ok(set)
    }

    async fn test(&self, token: &str) -> Result<(), RotationError> {
        let key = self.key_of_version(token, Some(PENDING)).await?.ok_or(RotationError::MissingPendingKey)?;
        let issued = TokenIssuer::new(self.names.clone(), Duration::from_secs(60))
            .issue(&key, UserId::new(), &[], &[], "rotation-test")
            .map_err(RotationError::Sign)?;
        let source: Arc<dyn KeySource> = Arc::new(PublishedKeys::new(self.client.clone(), &self.public_keys_secret));
        let verifier = TokenVerifier::new(&self.names, Arc::new(KeyCache::new(source, CachePolicy::default())));
        verifier.verify(&issued.token).await.map_err(RotationError::TestFailed)?;
        tracing::info!(kid = key.kid(), "pending key verified against the published set");
        Ok(())
    }

    async fn finish(&self, token: &str, versions: &HashMap<String, Vec<String>>) -> Result<(), RotationError> {
        let current = versions.iter().find(|(_, stages)| stages.iter().any(|s| s == CURRENT)).map(|(v, _)| v.clone());
        self.client
            .update_secret_version_stage()
            .secret_id(&self.signing_secret)
            .version_stage(CURRENT)
            .move_to_version_id(token)
            .set_remove_from_version_id(current)
            .send()
            .await
            .map_err(unavailable)?;
        // Some stores leave AWSPENDING on the new current version; the rotation is over, so take it off.
        let _ = self
            .client
            .update_secret_version_stage()
            .secret_id(&self.signing_secret)
            .version_stage(PENDING)
            .remove_from_version_id(token)
            .send()
            .await;
        let set = self.publish().await?;
        tracing::info!(keys = set.len(), "rotation finished");
        Ok(())
    }
}
