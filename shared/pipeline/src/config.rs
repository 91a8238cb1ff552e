//! What every pipeline worker reads from its environment.

use std::time::Duration;

use medvault_crypto::CachePolicy;
use medvault_intake::Limits;
use medvault_platform::config::{ConfigError, EnvSource, FromEnv};

/// The intake limit variables (see medvault-intake's `Limits`), read through the worker's [`EnvSource`].
const INTAKE_VARIABLES: [&str; 7] = [
    "MEDVAULT_INTAKE_MAX_FILE_BYTES",
    "MEDVAULT_INTAKE_MAX_PAGES",
    "MEDVAULT_INTAKE_MAX_PIXELS",
    "MEDVAULT_INTAKE_MAX_STREAM_BYTES",
    "MEDVAULT_INTAKE_MAX_DOCUMENT_INFLATED_BYTES",
    "MEDVAULT_INTAKE_MAX_AUDIO_SECONDS",
    "MEDVAULT_INTAKE_MIN_TEXT_CHARS",
];

/// The settings every pipeline worker shares.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    pub documents_table: String,
    pub patient_keys_table: String,
    pub idempotency_table: String,
    /// How long a finished object version is remembered (a duplicate within it is answered from the record).
    pub idempotency_ttl: Duration,
    /// The tenant in patients' key contexts (the stack's name).
    pub tenant: String,
    /// The KMS key that wraps patients' data keys.
    pub data_key_id: String,
    /// The EventBridge bus completion events go to.
    pub event_bus: String,
    /// The source queue's maxReceiveCount: on the last receive a failing document is marked `failed`.
    pub max_receives: u32,
    /// The largest text a document stores, in bytes.
    pub max_text_bytes: usize,
    pub data_key_cache: CachePolicy,
    pub limits: Limits,
}

impl FromEnv for PipelineConfig {
    fn from_env(env: &EnvSource) -> Result<Self, ConfigError> {
        let cache = CachePolicy::default();
        let lookup = |name: &str| {
            let name = INTAKE_VARIABLES.iter().find(|known| **known == name)?;
            env.optional::<String>(name).ok().flatten()
        };
        let limits =
            Limits::from_lookup(lookup).map_err(|e| ConfigError::Malformed { name: e.name, source: Box::new(e) })?;
        Ok(Self {
            documents_table: env.required("MEDVAULT_DOCUMENTS_TABLE")?,
            patient_keys_table: env.required("MEDVAULT_PATIENT_KEYS_TABLE")?,
            idempotency_table: env.required("MEDVAULT_IDEMPOTENCY_TABLE")?,
            idempotency_ttl: env.seconds("MEDVAULT_IDEMPOTENCY_TTL_SECONDS", Duration::from_secs(24 * 3600))?,
            tenant: env.or("MEDVAULT_TENANT", "default".to_owned())?,
            data_key_id: env.required("MEDVAULT_DATA_KEY_ID")?,
            event_bus: env.or("MEDVAULT_EVENT_BUS", "default".to_owned())?,
            max_receives: env.or("MEDVAULT_MAX_RECEIVES", 5)?,
            max_text_bytes: env.or("MEDVAULT_PIPELINE_MAX_TEXT_BYTES", 150_000)?,
            data_key_cache: CachePolicy {
                ttl: env.seconds("MEDVAULT_DATA_KEY_CACHE_SECONDS", cache.ttl)?,
                max_uses: env.or("MEDVAULT_DATA_KEY_CACHE_USES", cache.max_uses)?,
                capacity: env.or("MEDVAULT_DATA_KEY_CACHE_CAPACITY", cache.capacity)?,
            },
            limits,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base<'a>() -> Vec<(&'a str, &'a str)> {
        vec![
            ("MEDVAULT_DOCUMENTS_TABLE", "docs"),
            ("MEDVAULT_PATIENT_KEYS_TABLE", "keys"),
            ("MEDVAULT_IDEMPOTENCY_TABLE", "idem"),
            ("MEDVAULT_DATA_KEY_ID", "alias/data"),
        ]
    }

    #[test]
    fn intake_limits_are_read_from_the_same_environment() {
        let mut pairs = base();
        pairs.push(("MEDVAULT_INTAKE_MAX_PAGES", "7"));

        let config = PipelineConfig::from_env(&EnvSource::from_pairs(pairs)).unwrap();

        assert_eq!(config.limits.max_pages, 7);
        assert_eq!(config.max_receives, 5);
    }

    #[test]
    fn a_malformed_limit_names_its_variable() {
        let mut pairs = base();
        pairs.push(("MEDVAULT_INTAKE_MAX_PIXELS", "many"));

        let error = PipelineConfig::from_env(&EnvSource::from_pairs(pairs)).unwrap_err();

        assert_eq!(error.variable(), "MEDVAULT_INTAKE_MAX_PIXELS");
    }
}
