//! The records API: patients, notes, documents, care teams and audit, behind API Gateway and the ALB.
//!
//! This crate wires configuration and dependencies into the shared HTTP stack; the rules live in `shared/`.

use medvault_http::health::Readiness;
use medvault_http::{ApiService, HttpConfig};
use medvault_platform::aws::{AwsClients, AwsSettings};
use medvault_platform::config::{ConfigError, EnvSource, FromEnv};
use medvault_platform::readiness::probes;
use utoipa_axum::router::OpenApiRouter;

/// The records API's configuration, read once at cold start.
#[derive(Debug, Clone)]
pub struct Config {
    pub http: HttpConfig,
    pub aws: AwsSettings,
    pub documents_table: String,
    pub upload_bucket: String,
    pub data_key_id: String,
}

impl FromEnv for Config {
    fn from_env(env: &EnvSource) -> Result<Self, ConfigError> {
        Ok(Self {
            http: HttpConfig::from_env(env)?,
            aws: AwsSettings::from_env(env)?,
            documents_table: env.required("MEDVAULT_DOCUMENTS_TABLE")?,
            upload_bucket: env.required("MEDVAULT_UPLOAD_BUCKET")?,
            data_key_id: env.required("MEDVAULT_DATA_KEY_ID")?,
        })
    }
}

/// The function's HTTP service.
pub fn service(config: &Config, clients: &AwsClients) -> ApiService {
    let readiness = Readiness::new(vec![
        Box::new(probes::DynamoTable::new("dynamodb:documents", clients.dynamodb(), &config.documents_table)),
        Box::new(probes::S3Bucket::new("s3:uploads", clients.s3(), &config.upload_bucket)),
        Box::new(probes::KmsKey::new("kms:data-key", clients.kms(), &config.data_key_id)),
    ]);
    ApiService::new(
        "medvault records API",
        "Patients, notes, documents, care teams and the audit trail.",
        OpenApiRouter::new(),
        readiness,
        &config.http,
    )
}
