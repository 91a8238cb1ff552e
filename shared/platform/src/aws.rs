//! AWS clients: one `SdkConfig` per process, clients cloned from it.
//!
//! The SDK reads `AWS_ENDPOINT_URL` (and the per-service `AWS_ENDPOINT_URL_<SERVICE>`) by itself, so the same
//! code talks to AWS in the cloud and to the local emulator on a developer's machine: there is no test branch.
//! S3 addressing is path-style when `MEDVAULT_S3_FORCE_PATH_STYLE=true` (the local emulator serves every bucket on
//! one loopback port).

use aws_config::{BehaviorVersion, SdkConfig};

use crate::config::{ConfigError, EnvSource, FromEnv};

/// Settings that shape the clients, read with the function's own configuration.
#[derive(Debug, Clone, Copy, Default)]
pub struct AwsSettings {
    /// Address S3 buckets by path rather than by virtual host.
    pub s3_force_path_style: bool,
}

impl FromEnv for AwsSettings {
    fn from_env(env: &EnvSource) -> Result<Self, ConfigError> {
        Ok(Self { s3_force_path_style: env.or("MEDVAULT_S3_FORCE_PATH_STYLE", false)? })
    }
}

/// Loads the process's one `SdkConfig` (region, credentials, endpoint) from the standard sources.
pub async fn load_sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// The clients a process uses, all built from the same `SdkConfig`. Cloning is cheap.
#[derive(Debug, Clone)]
pub struct AwsClients {
    sdk: SdkConfig,
    settings: AwsSettings,
}

impl AwsClients {
    pub fn new(sdk: SdkConfig, settings: AwsSettings) -> Self {
        Self { sdk, settings }
    }

    /// Loads the `SdkConfig` once and keeps it.
    pub async fn load(settings: AwsSettings) -> Self {
        Self::new(load_sdk_config().await, settings)
    }

    pub fn sdk_config(&self) -> &SdkConfig {
        &self.sdk
    }

    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.sdk)
    }

    pub fn s3(&self) -> aws_sdk_s3::Client {
        let config =
            aws_sdk_s3::config::Builder::from(&self.sdk).force_path_style(self.settings.s3_force_path_style).build();
        aws_sdk_s3::Client::from_conf(config)
    }

    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.sdk)
    }

    pub fn kms(&self) -> aws_sdk_kms::Client {
        aws_sdk_kms::Client::new(&self.sdk)
    }

    pub fn secrets_manager(&self) -> aws_sdk_secretsmanager::Client {
        aws_sdk_secretsmanager::Client::new(&self.sdk)
    }
}
