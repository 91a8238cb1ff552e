//! Passwords: the policy (12 to 128 characters after NFKC normalisation, any Unicode, no composition rules, not one of
//! the 100,000 most common breached passwords) and argon2id hashing with at least OWASP's parameters.

use std::collections::HashSet;
use std::io::Read;
use std::sync::{Arc, OnceLock};

use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher as _, PasswordVerifier as _, Version};
use medvault_platform::Secret;
use unicode_normalization::UnicodeNormalization;

/// Fewest characters (Unicode scalar values, after NFKC) a password may have.
pub const MIN_CHARS: usize = 12;
/// Most characters a password may have.
pub const MAX_CHARS: usize = 128;
/// Candidates longer than this many bytes are not even hashed at login (they cannot match any stored password).
const MAX_CANDIDATE_BYTES: usize = 4 * MAX_CHARS;

/// The shipped breached-password list (see `data/README.md` for its source and licence).
static BREACHED_GZ: &[u8] = include_bytes!("../data/breached-passwords-100k.txt.gz");

/// Why a new password is refused. The messages are safe to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRejected {
    #[error("the password must have at least {MIN_CHARS} characters")]
    TooShort,
    #[error("the password must have at most {MAX_CHARS} characters")]
    TooLong,
    #[error("this password appears in lists of breached passwords; choose another")]
    Breached,
}

/// A password that meets the policy, NFKC-normalised. Prints as `[REDACTED]`.
#[derive(Debug, Clone)]
pub struct NewPassword(Secret<String>);

impl NewPassword {
    /// Normalises `raw` (NFKC) and checks it against the policy.
    pub fn parse(raw: &str) -> Result<Self, PasswordRejected> {
        let normalised: String = raw.nfkc().collect();
        let chars = normalised.chars().count();
        if chars < MIN_CHARS {
            return Err(PasswordRejected::TooShort);
        }
        if chars > MAX_CHARS {
            return Err(PasswordRejected::TooLong);
        }
        if is_breached(&normalised) {
            return Err(PasswordRejected::Breached);
        }
        Ok(Self(Secret::new(normalised)))
    }

    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

/// Whether `password` (already normalised) is on the breached list, ignoring case.
pub fn is_breached(password: &str) -> bool {
    breached_list().contains(&password.to_lowercase())
}

/// The list's entries that could pass the length rule, lower-cased; decompressed once, on first use.
fn breached_list() -> &'static HashSet<String> {
    static LIST: OnceLock<HashSet<String>> = OnceLock::new();
    LIST.get_or_init(|| {
        let mut text = String::new();
        if let Err(error) = flate2::read::GzDecoder::new(BREACHED_GZ).read_to_string(&mut text) {
            // The list is compiled in; a failure here is a build defect that tests catch.
            tracing::error!(%error, "the breached-password list could not be read");
        }
        text.lines()
            // A line of fewer bytes than MIN_CHARS has fewer characters too (NFKC of ASCII is the identity).
            .filter(|line| line.len() >= MIN_CHARS)
            .map(|line| if line.is_ascii() { line.to_owned() } else { line.nfkc().collect::<String>() })
            .filter(|line| line.chars().count() >= MIN_CHARS)
            .map(|line| line.to_lowercase())
            .collect()
    })
}

/// argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashCost {
    /// Memory in KiB.
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl HashCost {
    /// OWASP's minimum for argon2id: 19 MiB, two passes, one lane.
    pub const OWASP_MINIMUM: HashCost = HashCost { memory_kib: 19 * 1024, iterations: 2, parallelism: 1 };
}

/// Hashing failed (bad parameters or a malformed stored hash).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// Hashes and verifies passwords. Cheap to clone.
#[derive(Clone)]
pub struct Passwords {
    inner: Arc<Inner>,
}

struct Inner {
    params: Params,
    /// A hash of a random password, verified against when the user does not exist so that an unknown email costs
    /// the same time as a wrong password.
    dummy: OnceLock<String>,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passwords").field("params", &self.inner.params).finish()
    }
}

impl Passwords {
    /// A hasher with `cost`, which must be at least [`HashCost::OWASP_MINIMUM`] in every dimension.
    pub fn new(cost: HashCost) -> Result<Self, HashError> {
        let minimum = HashCost::OWASP_MINIMUM;
        if cost.memory_kib < minimum.memory_kib || cost.iterations < minimum.iterations || cost.parallelism < 1 {
            return Err(HashError("the argon2id cost is below OWASP's minimum".into()));
        }
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|e| HashError(e.to_string()))?;
        Ok(Self { inner: Arc::new(Inner { params, dummy: OnceLock::new() }) })
    }

    fn argon(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.inner.params.clone())
    }

    /// The PHC string of `password` with a fresh random salt. CPU-bound: run it off the async runtime.
    pub fn hash(&self, password: &NewPassword) -> Result<String, HashError> {
        self.hash_str(password.expose())
    }

    fn hash_str(&self, password: &str) -> Result<String, HashError> {
        let mut salt = [0u8; 16];
        aws_lc_rs::rand::fill(&mut salt).map_err(|_| HashError("no randomness".into()))?;
        let hash =
            self.argon().hash_password_with_salt(password.as_bytes(), &salt).map_err(|e| HashError(e.to_string()))?;
        Ok(hash.to_string())
    }

    /// Whether `candidate` (as typed; normalised here) matches `stored`. With no stored hash (unknown user, invited
    /// user without a password) it verifies against a dummy hash and answers `false`, taking the same time.
    pub fn verify(&self, candidate: &str, stored: Option<&str>) -> bool {
        let candidate: String =
            if candidate.len() > MAX_CANDIDATE_BYTES { String::new() } else { candidate.nfkc().collect() };
        let (stored, real) = match stored {
            Some(stored) => (stored.to_owned(), true),
            None => (self.dummy_hash(), false),
        };
        let Ok(parsed) = PasswordHash::new(&stored) else {
            return false;
        };
        // Verification uses the parameters in the stored hash, so older, cheaper hashes still verify.
        let matches = self.argon().verify_password(candidate.as_bytes(), &parsed).is_ok();
        real && matches && !candidate.is_empty()
    }

    fn dummy_hash(&self) -> String {
        self.inner
            .dummy
            .get_or_init(|| {
                let mut random = [0u8; 24];
                let _ = aws_lc_rs::rand::fill(&mut random);
                self.hash_str(&base64::Engine::encode(&base64::engine::general_purpose::STANDARD, random))
                    .unwrap_or_default()
            })
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_is_counted_in_characters_after_nfkc() {
        assert_eq!(NewPassword::parse("a".repeat(11).as_str()).unwrap_err(), PasswordRejected::TooShort);
        assert!(NewPassword::parse("correct hors").is_ok(), "12 characters");
        assert!(NewPassword::parse(&"ü".repeat(128)).is_ok(), "128 two-byte characters");
        assert_eq!(NewPassword::parse(&"x".repeat(129)).unwrap_err(), PasswordRejected::TooLong);
        // U+FB01 (the "fi" ligature) is one character that NFKC makes two: six ligatures are twelve characters.
        assert_eq!(NewPassword::parse(&"\u{FB01}".repeat(6)).unwrap().expose(), "fi".repeat(6));
    }

    #[test]
    fn any_unicode_is_allowed_without_composition_rules() {
        assert!(NewPassword::parse("пароль без правил").is_ok());
        assert!(NewPassword::parse("🔒🔒🔒🔒🔒🔒🔒🔒🔒🔒🔒🔒").is_ok());
        assert!(NewPassword::parse("all lower case words").is_ok());
    }

    #[test]
    fn breached_passwords_are_refused_whatever_their_case() {
        assert_eq!(NewPassword::parse("1qaz2wsx3edc").unwrap_err(), PasswordRejected::Breached);
        assert_eq!(NewPassword::parse("QWERTY123456").unwrap_err(), PasswordRejected::Breached);
        assert!(breached_list().len() > 400, "the list loaded: {}", breached_list().len());
    }

    #[test]
    fn a_hash_verifies_its_password_only() {
        let passwords = Passwords::new(HashCost::OWASP_MINIMUM).unwrap();
        let password = NewPassword::parse("a long enough passphrase").unwrap();
        let hash = passwords.hash(&password).unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(passwords.verify("a long enough passphrase", Some(&hash)));
        assert!(!passwords.verify("a long enough passphrasE", Some(&hash)));
        assert!(!passwords.verify("a long enough passphrase", None));
        assert!(!passwords.verify(&"x".repeat(10_000), Some(&hash)));
    }

    #[test]
    fn costs_below_owasp_are_refused() {
        let weak = HashCost { memory_kib: 4096, ..HashCost::OWASP_MINIMUM };
        assert!(Passwords::new(weak).is_err());
    }
}
