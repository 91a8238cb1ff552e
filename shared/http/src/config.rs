//! The HTTP stack's settings: allowed SPA origins, body limit, request timeout.

use std::time::Duration;

use http::HeaderValue;
use medvault_platform::config::{ConfigError, EnvSource, FromEnv};

/// The default limit on request bodies (1 MiB); a route may set its own.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// How the shared layer stack behaves.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Origins allowed by CORS (`https://app.example.org`); empty means no cross-origin access.
    pub cors_origins: Vec<HeaderValue>,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Time a request may take before it is answered 504.
    pub request_timeout: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self { cors_origins: Vec::new(), body_limit: DEFAULT_BODY_LIMIT, request_timeout: Duration::from_secs(25) }
    }
}

/// An origin must be `scheme://host[:port]` with nothing after it.
#[derive(Debug, thiserror::Error)]
#[error("an origin is scheme://host[:port] with scheme http or https and no path")]
pub struct InvalidOrigin;

/// A parsed CORS origin.
#[derive(Debug, Clone)]
pub struct Origin(HeaderValue);

impl std::str::FromStr for Origin {
    type Err = InvalidOrigin;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://")).ok_or(InvalidOrigin)?;
        let valid_host = !rest.is_empty()
            && rest.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
        if !valid_host {
            return Err(InvalidOrigin);
        }
        HeaderValue::from_str(s).map(Origin).map_err(|_| InvalidOrigin)
    }
}

impl FromEnv for HttpConfig {
    fn from_env(env: &EnvSource) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        Ok(Self {
            cors_origins: env.list::<Origin>("MEDVAULT_CORS_ORIGINS")?.into_iter().map(|o| o.0).collect(),
            body_limit: env.or("MEDVAULT_BODY_LIMIT_BYTES", defaults.body_limit)?,
            request_timeout: env
                .optional::<u64>("MEDVAULT_REQUEST_TIMEOUT_MS")?
                .map(Duration::from_millis)
                .unwrap_or(defaults.request_timeout),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_origins_and_limits() {
        let env = EnvSource::from_pairs([
            ("MEDVAULT_CORS_ORIGINS", "https://app.example.org, http://localhost:5173"),
            ("MEDVAULT_BODY_LIMIT_BYTES", "2048"),
        ]);
        let config = HttpConfig::from_env(&env).unwrap();
        assert_eq!(config.cors_origins, ["https://app.example.org", "http://localhost:5173"]);
        assert_eq!(config.body_limit, 2048);
    }

    #[test]
    fn refuses_origins_with_paths_or_wildcards() {
        for bad in ["*", "https://app.example.org/path", "app.example.org", "javascript:alert(1)"] {
            let env = EnvSource::from_pairs([("MEDVAULT_CORS_ORIGINS", bad)]);
            let error = HttpConfig::from_env(&env).unwrap_err();
            assert_eq!(error.variable(), "MEDVAULT_CORS_ORIGINS", "{bad}");
        }
    }
}
