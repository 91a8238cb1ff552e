//! One-time codes: TOTP (RFC 6238: SHA-1, six digits, 30-second steps, one step of skew) and single-use recovery
//! codes, and the opaque random tokens (refresh, MFA, invite, challenge ids) that are stored only as hashes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use medvault_platform::Secret;
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, Builder, Totp};

/// Seconds per TOTP step.
pub const TOTP_STEP_SECONDS: u64 = 30;
/// How many recovery codes an enrolment hands out.
pub const RECOVERY_CODES: usize = 10;
/// Bytes of a TOTP secret (160 bits, as RFC 4226 recommends).
const TOTP_SECRET_BYTES: usize = 20;

/// Randomness failed (the system's CSPRNG is unavailable).
#[derive(Debug, thiserror::Error)]
#[error("the system's secure random source failed")]
pub struct NoRandomness;

/// `n` bytes from the system's secure random source.
pub fn random_bytes(n: usize) -> Result<Vec<u8>, NoRandomness> {
    let mut bytes = vec![0u8; n];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| NoRandomness)?;
    Ok(bytes)
}

/// SHA-256 of a token, base64url: what is stored in place of a random token. Tokens carry at least 256 bits of
/// randomness (recovery codes 80), so a fast hash is enough: there is nothing to guess offline.
pub fn token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// A new opaque token: `prefix` then 256 random bits in base64url. The prefix names its kind in logs and secret
/// scanners (`mvr_` refresh, `mvm_` MFA, `mvi_` invite, `mvc_` challenge).
pub fn opaque_token(prefix: &str) -> Result<Secret<String>, NoRandomness> {
    Ok(Secret::new(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(random_bytes(32)?))))
}

/// A TOTP secret being enrolled or in use.
#[derive(Clone)]
pub struct TotpSecret(Secret<Vec<u8>>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret([REDACTED])")
    }
}

/// The stored TOTP secret is malformed.
#[derive(Debug, thiserror::Error)]
#[error("the stored TOTP secret is malformed")]
pub struct MalformedTotpSecret;

impl TotpSecret {
    pub fn generate() -> Result<Self, NoRandomness> {
        Ok(Self(Secret::new(random_bytes(TOTP_SECRET_BYTES)?)))
    }

    /// Reads the stored (base32) form.
    pub fn from_base32(text: &str) -> Result<Self, MalformedTotpSecret> {
        let secret = totp_rs::Secret::try_from_base32(text).map_err(|_| MalformedTotpSecret)?;
        Ok(Self(Secret::new(secret.as_bytes().to_vec())))
    }

    /// The base32 form, for storage and for manual entry into an authenticator app.
    pub fn to_base32(&self) -> String {
        totp_rs::Secret::new(self.0.expose().clone().into_boxed_slice()).to_base32()
    }

    fn totp(&self, account: &str) -> Result<Totp, MalformedTotpSecret> {
        // The label's parts may not contain ':' (Key URI format).
        let account: String = account.chars().filter(|c| *c != ':').collect();
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(6)
            .with_skew(1)
            .with_step_duration(TOTP_STEP_SECONDS)
            .with_secret(totp_rs::Secret::new(self.0.expose().clone().into_boxed_slice()))
            .with_issuer(Some("medvault"))
            .with_account_name(account)
            .build()
            .map_err(|_| MalformedTotpSecret)
    }

    /// The `otpauth://totp/...` URI an authenticator app scans.
    pub fn otpauth_uri(&self, account: &str) -> Result<String, MalformedTotpSecret> {
        self.totp(account)?.to_url().map_err(|_| MalformedTotpSecret)
    }

    /// The time step `code` is valid for at `unix_time` (the current step or one either side), if any. Callers make
    /// it single-use by accepting only steps later than the last one accepted.
    pub fn matching_step(&self, code: &str, unix_time: u64) -> Option<u64> {
        let code = code.trim();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        self.totp("user").ok()?.check(code, unix_time)
    }

    /// The code for `unix_time` (tests and benchmarks play the authenticator app with it).
    pub fn code_at(&self, unix_time: u64) -> Option<String> {
        Some(self.totp("user").ok()?.generate(unix_time).to_string())
    }
}

/// Ten fresh recovery codes (`xxxx-xxxx-xxxx-xxxx`, 80 random bits each) and their hashes.
pub fn recovery_codes() -> Result<(Vec<Secret<String>>, Vec<String>), NoRandomness> {
    const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
    let mut codes = Vec::with_capacity(RECOVERY_CODES);
    let mut hashes = Vec::with_capacity(RECOVERY_CODES);
    for _ in 0..RECOVERY_CODES {
        // 16 symbols of 5 bits each, in Crockford's base32 alphabet (no i, l, o or u to misread).
        let bytes = random_bytes(16)?;
        let symbols: String = bytes.iter().map(|b| char::from(ALPHABET[usize::from(b & 0x1f)])).collect();
        let code = format!("{}-{}-{}-{}", &symbols[0..4], &symbols[4..8], &symbols[8..12], &symbols[12..16]);
        hashes.push(recovery_code_hash(&code));
        codes.push(Secret::new(code));
    }
    Ok((codes, hashes))
}

/// Whether `code` looks like a recovery code (so that it is not tried as a TOTP code).
pub fn is_recovery_code(code: &str) -> bool {
    let compact: String = code.trim().chars().filter(|c| *c != '-' && *c != ' ').collect();
    compact.len() == 16 && compact.chars().all(|c| c.is_ascii_alphanumeric())
}

/// The stored hash of a recovery code, whatever its case and grouping.
pub fn recovery_code_hash(code: &str) -> String {
    let compact: String =
        code.trim().chars().filter(|c| *c != '-' && *c != ' ').map(|c| c.to_ascii_lowercase()).collect();
    token_hash(&format!("recovery:{compact}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_matches_its_own_step_and_its_neighbours_only() {
        let secret = TotpSecret::generate().unwrap();
        let now = 1_800_000_000;
        let code = secret.code_at(now).unwrap();
        let step = now / TOTP_STEP_SECONDS;
        assert_eq!(secret.matching_step(&code, now), Some(step));
        assert_eq!(secret.matching_step(&code, now + TOTP_STEP_SECONDS), Some(step));
        assert_eq!(secret.matching_step(&code, now + 3 * TOTP_STEP_SECONDS), None);
        assert_eq!(secret.matching_step("12345", now), None);
    }

    #[test]
    fn the_stored_secret_and_uri_round_trip() {
        let secret = TotpSecret::generate().unwrap();
        let restored = TotpSecret::from_base32(&secret.to_base32()).unwrap();
        assert_eq!(restored.code_at(1_800_000_000), secret.code_at(1_800_000_000));
        let uri = secret.otpauth_uri("ana@example.org").unwrap();
        assert!(uri.starts_with("otpauth://totp/medvault:ana%40example.org?secret="), "{uri}");
        assert!(!format!("{secret:?}").contains(&secret.to_base32()));
    }

    #[test]
    fn recovery_codes_are_distinct_and_hash_whatever_their_grouping() {
        let (codes, hashes) = recovery_codes().unwrap();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let distinct: std::collections::HashSet<_> = hashes.iter().collect();
        assert_eq!(distinct.len(), RECOVERY_CODES);
        let code = codes[0].expose();
        assert!(is_recovery_code(code));
        assert_eq!(recovery_code_hash(&code.to_uppercase().replace('-', " ")), hashes[0]);
    }

    #[test]
    fn opaque_tokens_carry_256_bits() {
        let token = opaque_token("mvr_").unwrap();
        assert_eq!(token.expose().len(), 4 + 43);
        assert_ne!(token_hash(token.expose()), token_hash(opaque_token("mvr_").unwrap().expose()));
    }
}
