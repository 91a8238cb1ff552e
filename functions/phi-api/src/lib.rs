//! The PHI API: `analyze`, `redact`, `deidentify` and `decrypt` under `/v1/phi`, behind the authorization layer.
//!
//! This crate wires configuration, keys and the shared HTTP stack around `shared/phi` (detection and operators) and
//! `shared/auth` (tokens, roles, audited denials).

mod engine;
mod keys;
mod request;
mod routes;

use std::sync::Arc;

use medvault_audit::DynamoDbAuditLog;
use medvault_auth::{AuthConfig, Authorizer};
use medvault_http::health::Readiness;
use medvault_http::{ApiService, HttpConfig};
use medvault_platform::aws::{AwsClients, AwsSettings};
use medvault_platform::config::{ConfigError, EnvSource, FromEnv};
use medvault_platform::readiness::probes;
use utoipa_axum::router::OpenApiRouter;

pub use engine::{PhiApiError, PhiEngine};
pub use keys::{DataKeys, ENCRYPTION_PURPOSE, KeyError, TenantKeyError};

/// The PHI API's configuration, read once at cold start.
#[derive(Debug, Clone)]
pub struct Config {
    pub http: HttpConfig,
    pub aws: AwsSettings,
    /// The KMS key that wraps the `encrypt` operator's data keys.
    pub data_key_id: String,
    /// The Secrets Manager secret the tenant's `hash` key is derived from.
    pub hash_key_secret: String,
    pub audit_table: String,
    pub tenant: String,
    pub auth: AuthConfig,
}

impl FromEnv for Config {
    fn from_env(env: &EnvSource) -> Result<Self, ConfigError> {
        Ok(Self {
            http: HttpConfig::from_env(env)?,
            aws: AwsSettings::from_env(env)?,
            data_key_id: env.required("MEDVAULT_DATA_KEY_ID")?,
            hash_key_secret: env.required("MEDVAULT_PHI_HASH_KEY_SECRET")?,
            audit_table: env.required("MEDVAULT_AUDIT_TABLE")?,
            tenant: env.or("MEDVAULT_TENANT", "default".to_owned())?,
            auth: AuthConfig::from_env(env)?,
        })
    }
}

/// Why the engine could not be built at cold start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the tenant hash key could not be made")]
    TenantKey(#[from] TenantKeyError),
    #[error("the PHI engine could not be loaded")]
    Phi(#[from] medvault_phi::PhiError),
}

/// The PHI engine with its keys and audit log: one per execution environment.
pub async fn engine(config: &Config, clients: &AwsClients) -> Result<PhiEngine, StartError> {
    let tenant_key = keys::tenant_key(&clients.secrets_manager(), &config.hash_key_secret, &config.tenant).await?;
    let analyzer = medvault_phi::Analyzer::new()?;
    let data_keys = DataKeys::new(clients.kms(), &config.data_key_id, &config.tenant);
    let audit = Arc::new(DynamoDbAuditLog::new(clients.dynamodb(), &config.audit_table));
    Ok(PhiEngine::new(analyzer, tenant_key, data_keys, audit))
}

/// The function's HTTP service: the PHI routes behind the authorization layer, plus health and OpenAPI.
pub fn service(config: &Config, clients: &AwsClients, engine: PhiEngine) -> ApiService {
    let authorizer = Authorizer::from_config(&config.auth, clients.secrets_manager(), engine.audit_log().clone());
    let mut checks: Vec<Box<dyn medvault_platform::readiness::ReadinessCheck>> = vec![
        Box::new(probes::KmsKey::new("kms:data-key", clients.kms(), &config.data_key_id)),
        Box::new(probes::Secret::new(
            "secretsmanager:phi-hash-key",
            clients.secrets_manager(),
            &config.hash_key_secret,
        )),
        Box::new(probes::DynamoTable::new("dynamodb:audit", clients.dynamodb(), &config.audit_table)),
    ];
    checks.extend(authorizer.readiness_check());
    let routes = authorizer.protect(routes::routes(engine));
    ApiService::new(
        "medvault PHI API",
        "Finds PHI in submitted text and redacts, pseudonymizes, encrypts or de-identifies it (HIPAA Safe Harbor); \
         restores encrypted values for permitted roles.",
        OpenApiRouter::new().merge(routes),
        Readiness::new(checks),
        &config.http,
    )
}
