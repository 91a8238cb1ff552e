//! The records API: patients, notes, documents, care teams and audit, behind API Gateway and the ALB.
//!
//! This crate wires configuration and dependencies into the shared HTTP stack; the rules live in
//! `shared/records` (access, encryption, audit) and `shared/auth` (tokens, roles).

mod fhir_routes;
mod routes;

use std::sync::Arc;
use std::time::Duration;

use medvault_audit::DynamoDbAuditLog;
use medvault_auth::{AuthConfig, Authorizer};
use medvault_crypto::{CachePolicy, IndexKey, KmsKeyWrapper, PatientKeys};
use medvault_http::health::Readiness;
use medvault_http::{ApiService, HttpConfig};
use medvault_platform::aws::{AwsClients, AwsSettings};
use medvault_platform::config::{ConfigError, EnvSource, FromEnv};
use medvault_platform::readiness::probes;
use medvault_records::{Records, Settings};
use utoipa_axum::router::OpenApiRouter;

/// The records API's configuration, read once at cold start.
#[derive(Debug, Clone)]
pub struct Config {
    pub http: HttpConfig,
    pub aws: AwsSettings,
    pub documents_table: String,
    pub upload_bucket: String,
    /// The KMS key that wraps patients' data keys and encrypts uploads.
    pub data_key_id: String,
    pub records_table: String,
    pub patient_keys_table: String,
    pub audit_table: String,
    /// The Secrets Manager secret holding the blind-index and cursor key.
    pub index_key_secret: String,
    pub tenant: String,
    pub break_glass: Duration,
    pub max_upload_bytes: u64,
    pub event_bus: String,
    pub data_key_cache: CachePolicy,
    pub auth: AuthConfig,
}

impl FromEnv for Config {
    fn from_env(env: &EnvSource) -> Result<Self, ConfigError> {
        let cache = CachePolicy::default();
        Ok(Self {
            http: HttpConfig::from_env(env)?,
            aws: AwsSettings::from_env(env)?,
            documents_table: env.required("MEDVAULT_DOCUMENTS_TABLE")?,
            upload_bucket: env.required("MEDVAULT_UPLOAD_BUCKET")?,
            data_key_id: env.required("MEDVAULT_DATA_KEY_ID")?,
            records_table: env.required("MEDVAULT_RECORDS_TABLE")?,
            patient_keys_table: env.required("MEDVAULT_PATIENT_KEYS_TABLE")?,
            audit_table: env.required("MEDVAULT_AUDIT_TABLE")?,
            index_key_secret: env.required("MEDVAULT_INDEX_KEY_SECRET")?,
            tenant: env.or("MEDVAULT_TENANT", "default".to_owned())?,
            break_glass: env.seconds("MEDVAULT_BREAK_GLASS_SECONDS", Duration::from_secs(3600))?,
            max_upload_bytes: env.or("MEDVAULT_MAX_UPLOAD_BYTES", 50 * 1024 * 1024)?,
            event_bus: env.or("MEDVAULT_EVENT_BUS", "default".to_owned())?,
            data_key_cache: CachePolicy {
                ttl: env.seconds("MEDVAULT_DATA_KEY_CACHE_SECONDS", cache.ttl)?,
                max_uses: env.or("MEDVAULT_DATA_KEY_CACHE_USES", cache.max_uses)?,
                capacity: env.or("MEDVAULT_DATA_KEY_CACHE_CAPACITY", cache.capacity)?,
            },
            auth: AuthConfig::from_env(env)?,
        })
    }
}

/// Why the service could not be built at cold start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the index key could not be loaded")]
    IndexKey(#[from] medvault_crypto::IndexKeyError),
    #[error("the PHI engine could not be loaded")]
    Phi(#[from] medvault_phi::PhiError),
}

/// The records service built from configuration: one per execution environment.
pub async fn records(config: &Config, clients: &AwsClients) -> Result<Records, StartError> {
    let index_key = IndexKey::load(&clients.secrets_manager(), &config.index_key_secret).await?;
    let analyzer = medvault_phi::Analyzer::new()?;
    let keys =
        PatientKeys::new(Arc::new(KmsKeyWrapper::new(clients.kms(), &config.data_key_id)), config.data_key_cache);
    let settings = Settings {
        tenant: config.tenant.clone(),
        records_table: config.records_table.clone(),
        keys_table: config.patient_keys_table.clone(),
        documents_table: config.documents_table.clone(),
        upload_bucket: config.upload_bucket.clone(),
        upload_kms_key: config.data_key_id.clone(),
        break_glass: config.break_glass,
        max_upload_bytes: config.max_upload_bytes,
        upload_url_ttl: Duration::from_secs(300),
        download_url_ttl: Duration::from_secs(60),
        event_bus: config.event_bus.clone(),
    };
    Ok(Records::new(
        settings,
        clients.dynamodb(),
        clients.s3(),
        aws_sdk_eventbridge::Client::new(clients.sdk_config()),
        keys,
        index_key,
        Arc::new(DynamoDbAuditLog::new(clients.dynamodb(), &config.audit_table)),
        Arc::new(analyzer),
    ))
}

/// The function's HTTP service: the records routes behind the authorization layer, plus health and OpenAPI.
pub fn service(config: &Config, clients: &AwsClients, records: Records) -> ApiService {
    let authorizer = Authorizer::from_config(&config.auth, clients.secrets_manager(), records.audit_log().clone());
    let mut checks: Vec<Box<dyn medvault_platform::readiness::ReadinessCheck>> = vec![
        Box::new(probes::DynamoTable::new("dynamodb:documents", clients.dynamodb(), &config.documents_table)),
        Box::new(probes::S3Bucket::new("s3:uploads", clients.s3(), &config.upload_bucket)),
        Box::new(probes::KmsKey::new("kms:data-key", clients.kms(), &config.data_key_id)),
        Box::new(probes::DynamoTable::new("dynamodb:records", clients.dynamodb(), &config.records_table)),
        Box::new(probes::DynamoTable::new("dynamodb:patient-keys", clients.dynamodb(), &config.patient_keys_table)),
        Box::new(probes::DynamoTable::new("dynamodb:audit", clients.dynamodb(), &config.audit_table)),
    ];
    checks.extend(authorizer.readiness_check());
    let routes = authorizer.protect(routes::routes(records));
    ApiService::new(
        "medvault records API",
        "Patients, notes, documents, care teams, break-glass, the audit trail and FHIR R4 views.",
        OpenApiRouter::new().merge(routes),
        Readiness::new(checks),
        &config.http,
    )
}
