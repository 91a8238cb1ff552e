//! Email addresses as account names: parsed once at the edge, compared case-insensitively.

use std::fmt;

/// A syntactically plausible email address, trimmed and lower-cased (accounts are found by this form).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

/// The value is not an email address medvault accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a valid email address")]
pub struct InvalidEmail;

impl Email {
    /// Accepts `local@domain` with a dot in the domain, at most 254 bytes, no spaces or control characters.
    pub fn parse(raw: &str) -> Result<Self, InvalidEmail> {
        let value = raw.trim().to_lowercase();
        let (local, domain) = value.rsplit_once('@').ok_or(InvalidEmail)?;
        let valid = value.len() <= 254
            && !local.is_empty()
            && local.len() <= 64
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !value.chars().any(|c| c.is_whitespace() || c.is_control() || c == '#')
            && !local.contains('@');
        if valid { Ok(Self(value)) } else { Err(InvalidEmail) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Email {
    // An address identifies a person: logs get its domain only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let domain = self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
        write!(f, "Email(…@{domain})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_normalised_and_junk_refused() {
        assert_eq!(Email::parse("  Ana.Silva@Example.ORG ").unwrap().as_str(), "ana.silva@example.org");
        for bad in ["", "ana", "ana@", "@example.org", "ana@localhost", "a na@example.org", "ana@.org", "a#b@x.org"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        assert!(!format!("{:?}", Email::parse("ana@example.org").unwrap()).contains("ana"));
    }
}
