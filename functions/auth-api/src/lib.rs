//! The auth API: sign-in with MFA and passkeys, sessions with rotating refresh tokens, enrolment, admin user
//! management, invites, the one-time bootstrap and the public key set, behind API Gateway and the ALB.
//!
//! This crate wires configuration and dependencies into the shared HTTP stack; the rules live in `medvault-auth`.

mod cookie;
mod routes;

use std::sync::Arc;
use std::time::Duration;

use medvault_audit::{AuditLog, DynamoDbAuditLog};
use medvault_auth::accounts::{Accounts, SessionSettings, ThrottleSettings};
use medvault_auth::passkeys::{Passkeys, RelyingParty};
use medvault_auth::password::{HashCost, Passwords};
use medvault_auth::secrets::CurrentSigningKey;
use medvault_auth::store::AccountStore;
use medvault_auth::throttle::ThrottlePolicy;
use medvault_auth::token::{MAX_ACCESS_TOKEN_TTL, TokenIssuer};
use medvault_auth::{AuthConfig, Authorizer};
use medvault_http::health::Readiness;
use medvault_http::{ApiService, HttpConfig};
use medvault_platform::Secret;
use medvault_platform::aws::{AwsClients, AwsSettings};
use medvault_platform::config::{ConfigError, EnvSource, FromEnv, Stage};
use medvault_platform::readiness::{ReadinessCheck, probes};

/// The auth API's configuration, read once at cold start.
///
/// Beyond [`AuthConfig`]'s variables (the published key set the API verifies its own tokens with):
///
/// | variable | meaning |
/// |---|---|
/// | `MEDVAULT_AUTH_TABLE` | the account table |
/// | `MEDVAULT_AUDIT_TABLE` | the audit log table |
/// | `MEDVAULT_JWT_SIGNING_KEY_SECRET` | the signing key secret (only this function and `secret-rotation` read it) |
/// | `MEDVAULT_BOOTSTRAP_SECRET` | the one-time setup token's secret (optional; without it there is no bootstrap) |
/// | `MEDVAULT_WEBAUTHN_ORIGIN` | the SPA origin passkeys are bound to (absent: no passkeys) |
/// | `MEDVAULT_WEBAUTHN_RP_ID` | the relying party id (default: the origin's host) |
/// | `MEDVAULT_ACCESS_TOKEN_SECONDS` | access-token lifetime (default 600, at most 900) |
/// | `MEDVAULT_SESSION_IDLE_SECONDS`, `MEDVAULT_SESSION_ABSOLUTE_SECONDS` | session lifetimes (1800, 43200) |
/// | `MEDVAULT_ARGON2_MEMORY_KIB`, `MEDVAULT_ARGON2_ITERATIONS` | argon2id cost (19456, 2; never lower) |
/// | `MEDVAULT_THROTTLE_SOURCE_FREE_FAILURES` | failed sign-ins per address before delays (50) |
/// | `MEDVAULT_SIGNING_KEY_CACHE_SECONDS` | how long the signing key is used before it is re-read (300) |
/// | `MEDVAULT_DEV_ADMIN_EMAIL`, `MEDVAULT_DEV_ADMIN_PASSWORD` | the dev admin seeded at cold start (`Stage=local` only) |
#[derive(Debug, Clone)]
pub struct Config {
    pub http: HttpConfig,
    pub aws: AwsSettings,
    pub auth: AuthConfig,
    pub stage: Stage,
    pub table: String,
    pub audit_table: String,
    pub signing_key_secret: String,
    pub bootstrap_secret: Option<String>,
    pub relying_party: Option<RelyingParty>,
    pub access_token_ttl: Duration,
    pub sessions: SessionSettings,
    pub hash_cost: HashCost,
    pub throttle: ThrottleSettings,
    pub signing_key_cache: Duration,
    pub dev_admin: Option<(String, Secret<String>)>,
}

/// A setting outside what this function accepts.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct OutOfRange(&'static str);

fn malformed(name: &'static str, why: &'static str) -> ConfigError {
    ConfigError::Malformed { name, source: Box::new(OutOfRange(why)) }
}

impl FromEnv for Config {
    fn from_env(env: &EnvSource) -> Result<Self, ConfigError> {
        let stage: Stage = env.or("MEDVAULT_STAGE", Stage::Prod)?;
        let access_token_ttl =
            env.seconds("MEDVAULT_ACCESS_TOKEN_SECONDS", medvault_auth::layer::DEFAULT_ACCESS_TOKEN_TTL)?;
        if access_token_ttl > MAX_ACCESS_TOKEN_TTL || access_token_ttl < Duration::from_secs(30) {
            return Err(malformed("MEDVAULT_ACCESS_TOKEN_SECONDS", "access tokens live 30 to 900 seconds"));
        }
        let defaults = SessionSettings::default();
        let sessions = SessionSettings {
            idle: env.seconds("MEDVAULT_SESSION_IDLE_SECONDS", defaults.idle)?,
            absolute: env.seconds("MEDVAULT_SESSION_ABSOLUTE_SECONDS", defaults.absolute)?,
            ..defaults
        };
        if sessions.idle > sessions.absolute || sessions.idle.is_zero() {
            return Err(malformed(
                "MEDVAULT_SESSION_IDLE_SECONDS",
                "the idle lifetime is positive and at most the absolute one",
            ));
        }
        let minimum = HashCost::OWASP_MINIMUM;
        let hash_cost = HashCost {
            memory_kib: env.or("MEDVAULT_ARGON2_MEMORY_KIB", minimum.memory_kib)?,
            iterations: env.or("MEDVAULT_ARGON2_ITERATIONS", minimum.iterations)?,
            parallelism: minimum.parallelism,
        };
        if hash_cost.memory_kib < minimum.memory_kib || hash_cost.iterations < minimum.iterations {
            return Err(malformed(
                "MEDVAULT_ARGON2_MEMORY_KIB",
                "argon2id cost below OWASP's minimum (19456 KiB, t=2)",
            ));
        }
        let origin = env.optional::<webauthn_rs::prelude::Url>("MEDVAULT_WEBAUTHN_ORIGIN")?;
        let relying_party = match (env.optional::<String>("MEDVAULT_WEBAUTHN_RP_ID")?, origin) {
            (Some(id), Some(origin)) => Some(RelyingParty { id, origin }),
            // The usual case: the SPA's own host is the relying party.
            (None, Some(origin)) => match origin.host_str() {
                Some(host) => Some(RelyingParty { id: host.to_owned(), origin }),
                None => return Err(malformed("MEDVAULT_WEBAUTHN_ORIGIN", "the origin has no host")),
            },
            (None, None) => None,
            (Some(_), None) => {
                return Err(malformed("MEDVAULT_WEBAUTHN_ORIGIN", "MEDVAULT_WEBAUTHN_RP_ID needs the origin too"));
            }
        };
        let dev_admin = match (
            env.optional::<String>("MEDVAULT_DEV_ADMIN_EMAIL")?,
            env.optional::<String>("MEDVAULT_DEV_ADMIN_PASSWORD")?,
        ) {
            (Some(email), Some(password)) if stage == Stage::Local => Some((email, Secret::new(password))),
            (None, None) => None,
            (Some(_), Some(_)) => {
                return Err(malformed(
                    "MEDVAULT_DEV_ADMIN_EMAIL",
                    "a dev admin is seeded only when MEDVAULT_STAGE=local",
                ));
            }
            _ => {
                return Err(malformed(
                    "MEDVAULT_DEV_ADMIN_PASSWORD",
                    "set both MEDVAULT_DEV_ADMIN_EMAIL and _PASSWORD",
                ));
            }
        };
        let source = ThrottlePolicy {
            free_failures: env.or("MEDVAULT_THROTTLE_SOURCE_FREE_FAILURES", ThrottlePolicy::SOURCE.free_failures)?,
            ..ThrottlePolicy::SOURCE
        };
        Ok(Self {
            http: HttpConfig::from_env(env)?,
            aws: AwsSettings::from_env(env)?,
            auth: AuthConfig::from_env(env)?,
            stage,
            table: env.required("MEDVAULT_AUTH_TABLE")?,
            audit_table: env.required("MEDVAULT_AUDIT_TABLE")?,
            signing_key_secret: env.required("MEDVAULT_JWT_SIGNING_KEY_SECRET")?,
            bootstrap_secret: env.optional("MEDVAULT_BOOTSTRAP_SECRET")?,
            relying_party,
            access_token_ttl,
            sessions,
            hash_cost,
            throttle: ThrottleSettings { source, ..ThrottleSettings::default() },
            signing_key_cache: env.seconds("MEDVAULT_SIGNING_KEY_CACHE_SECONDS", Duration::from_secs(300))?,
            dev_admin,
        })
    }
}

/// The function could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the argon2id parameters are invalid")]
    Hashing(#[source] medvault_auth::password::HashError),
    #[error("the WebAuthn relying party is invalid")]
    Passkeys(#[source] medvault_auth::passkeys::PasskeyError),
}

/// What the handlers share.
#[derive(Debug, Clone)]
pub(crate) struct AppState {
    pub accounts: Accounts,
    pub authorizer: Authorizer,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub bootstrap_secret: Option<String>,
}

/// Builds the account service from the configuration.
pub fn accounts(config: &Config, clients: &AwsClients, audit: Arc<dyn AuditLog>) -> Result<Accounts, StartError> {
    let passwords = Passwords::new(config.hash_cost).map_err(StartError::Hashing)?;
    let passkeys = config.relying_party.as_ref().map(Passkeys::new).transpose().map_err(StartError::Passkeys)?;
    let signing = Arc::new(CurrentSigningKey::new(
        clients.secrets_manager(),
        &config.signing_key_secret,
        config.signing_key_cache,
    ));
    Ok(Accounts::new(
        AccountStore::new(clients.dynamodb(), &config.table),
        passwords,
        TokenIssuer::new(config.auth.names.clone(), config.access_token_ttl),
        signing,
        audit,
        passkeys,
        config.sessions,
        config.throttle,
    ))
}

/// The function's HTTP service; in the local stack it first seeds the dev admin.
pub async fn service(config: &Config, clients: &AwsClients) -> Result<ApiService, StartError> {
    let audit: Arc<dyn AuditLog> = Arc::new(DynamoDbAuditLog::new(clients.dynamodb(), &config.audit_table));
    let accounts = accounts(config, clients, audit.clone())?;
    if let Some((email, password)) = &config.dev_admin {
        match accounts.seed_dev_admin(email, password.expose()).await {
            Ok(true) => tracing::info!("local dev admin created"),
            Ok(false) => tracing::debug!("local dev admin already exists"),
            Err(error) => {
                tracing::error!(error = %medvault_platform::error::chain(&error), "local dev admin not seeded")
            }
        }
    }
    let authorizer = Authorizer::from_config(&config.auth, clients.secrets_manager(), audit);
    let mut checks: Vec<Box<dyn ReadinessCheck>> = vec![
        Box::new(probes::DynamoTable::new("dynamodb:auth", clients.dynamodb(), &config.table)),
        Box::new(probes::DynamoTable::new("dynamodb:audit", clients.dynamodb(), &config.audit_table)),
        Box::new(probes::Secret::new(
            "secretsmanager:jwt-signing-key",
            clients.secrets_manager(),
            &config.signing_key_secret,
        )),
    ];
    checks.extend(authorizer.readiness_check());
    let state = AppState {
        accounts,
        authorizer: authorizer.clone(),
        secrets: clients.secrets_manager(),
        bootstrap_secret: config.bootstrap_secret.clone(),
    };
    Ok(ApiService::new(
        "medvault auth API",
        "Sign-in with MFA and passkeys, sessions, enrolment, user administration and the public key set.",
        routes::router(state, &authorizer),
        Readiness::new(checks),
        &config.http,
    ))
}
