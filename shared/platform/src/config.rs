//! Typed per-function configuration, read once at cold start from environment variables.
//!
//! A function declares a `Config` struct implementing [`FromEnv`]; `main` calls [`load`], which stops the cold
//! start with a message naming the missing or malformed variable (never its value, which may be a secret).

use std::collections::HashMap;
use std::error::Error as StdError;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// Why a configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {name} is not set")]
    Missing { name: &'static str },
    #[error("environment variable {name} is malformed")]
    Malformed {
        name: &'static str,
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
}

impl ConfigError {
    /// The variable this error is about.
    pub fn variable(&self) -> &'static str {
        match self {
            Self::Missing { name } | Self::Malformed { name, .. } => name,
        }
    }
}

/// A snapshot of the variables a configuration is read from: the process environment, or pairs in tests.
#[derive(Clone, Default)]
pub struct EnvSource {
    vars: HashMap<String, String>,
}

impl fmt::Debug for EnvSource {
    // Values may be secrets; only names are shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.vars.keys()).finish()
    }
}

impl EnvSource {
    /// The current process environment.
    pub fn process() -> Self {
        Self { vars: std::env::vars().collect() }
    }

    /// Exactly the given pairs (for tests).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self { vars: pairs.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect() }
    }

    fn raw(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str).filter(|v| !v.trim().is_empty())
    }

    /// A variable that must be present and parse as `T`.
    pub fn required<T>(&self, name: &'static str) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: StdError + Send + Sync + 'static,
    {
        self.optional(name)?.ok_or(ConfigError::Missing { name })
    }

    /// A variable that may be absent; when present it must parse as `T`.
    pub fn optional<T>(&self, name: &'static str) -> Result<Option<T>, ConfigError>
    where
        T: FromStr,
        T::Err: StdError + Send + Sync + 'static,
    {
        self.raw(name)
            .map(|raw| raw.trim().parse::<T>().map_err(|e| ConfigError::Malformed { name, source: Box::new(e) }))
            .transpose()
    }

    /// A variable with a default used when it is absent.
    pub fn or<T>(&self, name: &'static str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: StdError + Send + Sync + 'static,
    {
        Ok(self.optional(name)?.unwrap_or(default))
    }

    /// A comma-separated list; absent means empty.
    pub fn list<T>(&self, name: &'static str) -> Result<Vec<T>, ConfigError>
    where
        T: FromStr,
        T::Err: StdError + Send + Sync + 'static,
    {
        let Some(raw) = self.raw(name) else { return Ok(Vec::new()) };
        raw.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<T>().map_err(|e| ConfigError::Malformed { name, source: Box::new(e) }))
            .collect()
    }

    /// A duration given in whole seconds.
    pub fn seconds(&self, name: &'static str, default: Duration) -> Result<Duration, ConfigError> {
        Ok(self.optional::<u64>(name)?.map(Duration::from_secs).unwrap_or(default))
    }
}

/// A configuration that can be read from an [`EnvSource`].
pub trait FromEnv: Sized {
    fn from_env(env: &EnvSource) -> Result<Self, ConfigError>;
}

/// Reads `C` from the process environment, or stops the cold start with a message naming the variable.
pub fn load<C: FromEnv>() -> C {
    match C::from_env(&EnvSource::process()) {
        Ok(config) => config,
        Err(error) => {
            let cause = StdError::source(&error).map(|s| s.to_string()).unwrap_or_default();
            tracing::error!(variable = error.variable(), %cause, "cold start stopped: {error}");
            eprintln!(
                "medvault: cold start stopped: {error}{}",
                if cause.is_empty() { String::new() } else { format!(": {cause}") }
            );
            std::process::exit(78)
        }
    }
}

/// Where a stack runs; `local` relaxes nothing that protects data, only what needs real AWS (e.g. admin MFA in dev).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Local,
    Dev,
    Staging,
    Prod,
}

/// The value was not one of the known stages.
#[derive(Debug, thiserror::Error)]
#[error("expected one of local, dev, staging, prod")]
pub struct UnknownStage;

impl FromStr for Stage {
    type Err = UnknownStage;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "local" => Ok(Self::Local),
            "dev" => Ok(Self::Dev),
            "staging" => Ok(Self::Staging),
            "prod" => Ok(Self::Prod),
            _ => Err(UnknownStage),
        }
    }
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Dev => "dev",
            Self::Staging => "staging",
            Self::Prod => "prod",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Example {
        table: String,
        batch: u32,
        origins: Vec<String>,
    }

    impl FromEnv for Example {
        fn from_env(env: &EnvSource) -> Result<Self, ConfigError> {
            Ok(Self { table: env.required("TABLE")?, batch: env.or("BATCH", 10)?, origins: env.list("ORIGINS")? })
        }
    }

    #[test]
    fn reads_required_defaulted_and_listed_variables() {
        let env = EnvSource::from_pairs([("TABLE", "t1"), ("ORIGINS", "https://a.example, https://b.example")]);
        let config = Example::from_env(&env).expect("valid config");
        assert_eq!(config.table, "t1");
        assert_eq!(config.batch, 10);
        assert_eq!(config.origins, ["https://a.example", "https://b.example"]);
    }

    #[test]
    fn missing_variable_is_named() {
        let error = Example::from_env(&EnvSource::from_pairs([])).unwrap_err();
        assert_eq!(error.variable(), "TABLE");
        assert_eq!(error.to_string(), "environment variable TABLE is not set");
    }

    #[test]
    fn malformed_variable_is_named_without_its_value() {
        let env = EnvSource::from_pairs([("TABLE", "t1"), ("BATCH", "s3cr3t-ten")]);
        let error = Example::from_env(&env).unwrap_err();
        assert_eq!(error.variable(), "BATCH");
        assert!(!format!("{error} {error:?}").contains("s3cr3t"), "the value must not be echoed");
    }

    #[test]
    fn blank_variable_counts_as_missing() {
        let error = Example::from_env(&EnvSource::from_pairs([("TABLE", "  ")])).unwrap_err();
        assert!(matches!(error, ConfigError::Missing { name: "TABLE" }));
    }

    #[test]
    fn env_source_debug_shows_names_only() {
        let env = EnvSource::from_pairs([("JWT_KEY", "very-secret")]);
        assert!(!format!("{env:?}").contains("very-secret"));
    }
}
