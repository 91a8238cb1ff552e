//! The signing-key rotation function: Secrets Manager invokes it with each step of a rotation of the signing-key
//! secret; it runs the step and publishes the public keys. The protocol lives in `medvault_auth::rotation`.

use lambda_runtime::{Diagnostic, LambdaEvent};
use medvault_auth::AuthConfig;
use medvault_auth::rotation::{KeyRotation, RotationEvent};
use medvault_platform::aws::{AwsClients, AwsSettings};
use medvault_platform::config::{ConfigError, EnvSource, FromEnv};

/// The rotation function's configuration.
///
/// | variable | meaning |
/// |---|---|
/// | `MEDVAULT_JWT_SIGNING_KEY_SECRET` | the secret it rotates (it refuses any other) |
/// | `MEDVAULT_JWT_PUBLIC_KEYS_SECRET` | where it publishes the JWKS |
/// | `MEDVAULT_AUTH_ISSUER`, `MEDVAULT_AUTH_AUDIENCE` | the names its test token carries (as `auth-api` signs them) |
#[derive(Debug, Clone)]
pub struct Config {
    pub aws: AwsSettings,
    pub auth: AuthConfig,
    pub signing_key_secret: String,
}

impl FromEnv for Config {
    fn from_env(env: &EnvSource) -> Result<Self, ConfigError> {
        Ok(Self {
            aws: AwsSettings::from_env(env)?,
            auth: AuthConfig::from_env(env)?,
            signing_key_secret: env.required("MEDVAULT_JWT_SIGNING_KEY_SECRET")?,
        })
    }
}

/// The rotation this function performs.
pub fn rotation(config: &Config, clients: &AwsClients) -> KeyRotation {
    KeyRotation::new(
        clients.secrets_manager(),
        &config.signing_key_secret,
        &config.auth.public_keys_secret,
        config.auth.names.clone(),
    )
}

/// Runs one rotation step. A failure is reported to Secrets Manager, which marks the rotation failed and retries it.
pub async fn handle(rotation: &KeyRotation, event: LambdaEvent<RotationEvent>) -> Result<(), Diagnostic> {
    let step = event.payload.step;
    match rotation.run(&event.payload).await {
        Ok(()) => {
            tracing::info!(?step, "rotation step done");
            Ok(())
        }
        Err(error) => {
            tracing::error!(?step, retryable = error.is_retryable(), error = %medvault_platform::error::chain(&error), "rotation step failed");
            let error_type = if error.is_retryable() { "Retryable" } else { "Permanent" };
            Err(Diagnostic { error_type: error_type.into(), error_message: error.to_string() })
        }
    }
}
