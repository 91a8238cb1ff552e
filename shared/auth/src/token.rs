//! Access tokens: short-lived JWTs (RFC 9068 profile, RFC 8725 practices) signed with EdDSA.
//!
//! Issuing sets `typ: at+jwt` and the `kid`; verifying pins the algorithm, requires `exp`, `aud`, `iss` and `sub`,
//! checks `typ`, allows a few seconds of clock skew, looks the `kid` up only in the loaded key set, and refuses a
//! token whose header points at keys elsewhere (`jku`, `x5u`, `jwk`, `x5c`) rather than ever fetching them.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use jsonwebtoken::{Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::key_cache::{KeyCache, KeySourceError};
use crate::keys::{ALGORITHM, SigningKey};
use crate::permission::Role;
use crate::principal::{AuthMethod, UserId};

/// The JOSE `typ` of access tokens (RFC 9068).
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";
/// The longest an access token may live.
pub const MAX_ACCESS_TOKEN_TTL: Duration = Duration::from_secs(15 * 60);
/// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
pub const LEEWAY_SECONDS: u64 = 5;
/// Tokens longer than this are refused before any parsing.
const MAX_TOKEN_BYTES: usize = 4096;

/// An access token's claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: String,
    pub exp: u64,
    pub iat: u64,
    /// The token's own id.
    pub jti: String,
    pub roles: Vec<Role>,
    /// How the user authenticated (RFC 8176).
    pub amr: Vec<AuthMethod>,
    /// The session (refresh-token family) the token belongs to.
    pub sid: String,
}

impl AccessClaims {
    pub fn expires_at(&self) -> DateTime<Utc> {
        Utc.timestamp_opt(i64::try_from(self.exp).unwrap_or(i64::MAX), 0).single().unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

/// Who a token is for: the issuer and audience every token carries and every verifier requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenAudience {
    pub issuer: String,
    pub audience: String,
}

/// Signs access tokens.
#[derive(Debug, Clone)]
pub struct TokenIssuer {
    names: TokenAudience,
    ttl: Duration,
}

/// A signed access token.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub claims: AccessClaims,
    /// Seconds until it expires.
    pub expires_in: u64,
}

/// A token could not be signed.
#[derive(Debug, thiserror::Error)]
#[error("signing the access token failed")]
pub struct SignError(#[source] jsonwebtoken::errors::Error);

impl TokenIssuer {
    /// Tokens living `ttl`, capped at [`MAX_ACCESS_TOKEN_TTL`].
    pub fn new(names: TokenAudience, ttl: Duration) -> Self {
        Self { names, ttl: ttl.min(MAX_ACCESS_TOKEN_TTL) }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Signs a token for `user` in session `session_id`.
    pub fn issue(
        &self,
        key: &SigningKey,
        user: UserId,
        roles: &[Role],
        amr: &[AuthMethod],
        session_id: &str,
    ) -> Result<IssuedToken, SignError> {
        let now = u64::try_from(Utc::now().timestamp()).unwrap_or_default();
        let claims = AccessClaims {
            iss: self.names.issuer.clone(),
            aud: self.names.audience.clone(),
            sub: user.to_string(),
            exp: now + self.ttl.as_secs(),
            iat: now,
            jti: Uuid::new_v4().to_string(),
            roles: roles.to_vec(),
            amr: amr.to_vec(),
            sid: session_id.to_owned(),
        };
        let mut header = Header::new(ALGORITHM);
        header.typ = Some(ACCESS_TOKEN_TYPE.into());
        header.kid = Some(key.kid().to_owned());
        let token = jsonwebtoken::encode(&header, &claims, key.encoding_key()).map_err(SignError)?;
        Ok(IssuedToken { token, claims, expires_in: self.ttl.as_secs() })
    }
}

/// Why a token was refused. Every variant but `KeysUnavailable` answers `401` with one generic message.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("the token is not a well-formed JWS")]
    Malformed,
    #[error("the token's header is not acceptable: {0}")]
    Header(&'static str),
    #[error("the token names a key that is not in the key set")]
    UnknownKey,
    #[error("the token's signature or claims are invalid")]
    Invalid(#[source] jsonwebtoken::errors::Error),
    #[error("the token was issued in the future")]
    IssuedInFuture,
    #[error("the verification keys could not be loaded")]
    KeysUnavailable(#[source] KeySourceError),
}

impl VerifyError {
    /// A short code for logs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::Header(_) => "header",
            Self::UnknownKey => "unknown-kid",
            Self::Invalid(e) => match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => "expired",
                jsonwebtoken::errors::ErrorKind::InvalidSignature => "signature",
                jsonwebtoken::errors::ErrorKind::InvalidAudience => "audience",
                jsonwebtoken::errors::ErrorKind::InvalidIssuer => "issuer",
                jsonwebtoken::errors::ErrorKind::MissingRequiredClaim(_) => "missing-claim",
                jsonwebtoken::errors::ErrorKind::InvalidClaimFormat(_) | jsonwebtoken::errors::ErrorKind::Json(_) => {
                    "claim-format"
                }
                jsonwebtoken::errors::ErrorKind::InvalidAlgorithm => "algorithm",
                _ => "invalid",
            },
            Self::IssuedInFuture => "future-iat",
            Self::KeysUnavailable(_) => "keys-unavailable",
        }
    }
}

/// Verifies access tokens against the cached key set.
#[derive(Debug, Clone)]
pub struct TokenVerifier {
    keys: Arc<KeyCache>,
    validation: Arc<Validation>,
}

impl TokenVerifier {
    pub fn new(names: &TokenAudience, keys: Arc<KeyCache>) -> Self {
        let mut validation = Validation::new(ALGORITHM);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_audience(&[&names.audience]);
        validation.set_issuer(&[&names.issuer]);
        validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
        Self { keys, validation: Arc::new(validation) }
    }

    /// The key cache, shared with the JWKS endpoint.
    pub fn keys(&self) -> &Arc<KeyCache> {
        &self.keys
    }

    /// The token's claims, if it is an access token this service issued, unexpired, for this audience.
    pub async fn verify(&self, token: &str) -> Result<AccessClaims, VerifyError> {
        if token.len() > MAX_TOKEN_BYTES || token.split('.').count() != 3 {
            return Err(VerifyError::Malformed);
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| VerifyError::Malformed)?;
        check_header(&header)?;
        let kid = header.kid.as_deref().ok_or(VerifyError::Header("no kid"))?;
        let keys = self.keys.keys_for(kid).await.map_err(VerifyError::KeysUnavailable)?;
        let key = keys.get(kid).ok_or(VerifyError::UnknownKey)?;
        let data = jsonwebtoken::decode::<AccessClaims>(token, key.decoding_key(), &self.validation)
            .map_err(VerifyError::Invalid)?;
        let now = u64::try_from(Utc::now().timestamp()).unwrap_or_default();
        if data.claims.iat > now + LEEWAY_SECONDS {
            return Err(VerifyError::IssuedInFuture);
        }
        Ok(data.claims)
    }
}

/// The header checks that come before any key is looked up.
fn check_header(header: &Header) -> Result<(), VerifyError> {
    if header.alg != ALGORITHM {
        return Err(VerifyError::Header("algorithm is not EdDSA"));
    }
    let typ_ok = header.typ.as_deref().is_some_and(|typ| {
        typ.eq_ignore_ascii_case(ACCESS_TOKEN_TYPE) || typ.eq_ignore_ascii_case("application/at+jwt")
    });
    if !typ_ok {
        return Err(VerifyError::Header("typ is not at+jwt"));
    }
    if header.jku.is_some() || header.x5u.is_some() || header.jwk.is_some() || header.x5c.is_some() {
        return Err(VerifyError::Header("the token points at keys of its own"));
    }
    if header.crit.is_some() {
        return Err(VerifyError::Header("crit is not supported"));
    }
    let kid_ok = header
        .kid
        .as_deref()
        .is_some_and(|kid| kid.len() == 43 && kid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    if !kid_ok {
        // Thumbprint kids are 43 base64url characters; anything else (a path, a URL, SQL) is refused unread.
        return Err(VerifyError::Header("kid is not a key thumbprint"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::json;

    use super::*;
    use crate::key_cache::{CachePolicy, StaticKeys};
    use crate::keys::KeySet;

    fn names() -> TokenAudience {
        TokenAudience { issuer: "https://auth.medvault.test".into(), audience: "medvault-api".into() }
    }

    fn setup() -> (SigningKey, TokenIssuer, TokenVerifier) {
        let key = SigningKey::generate().unwrap();
        let keys =
            Arc::new(KeyCache::new(Arc::new(StaticKeys(KeySet::new([key.public().clone()]))), CachePolicy::default()));
        (key, TokenIssuer::new(names(), Duration::from_secs(600)), TokenVerifier::new(&names(), keys))
    }

    /// Signs arbitrary header and claims JSON with `key`, as an attacker holding that key (or none) could.
    fn forge(key: &SigningKey, header: serde_json::Value, claims: serde_json::Value) -> String {
        let message =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let signature = jsonwebtoken::crypto::sign(message.as_bytes(), key.encoding_key(), ALGORITHM).unwrap();
        format!("{message}.{signature}")
    }

    fn claims(exp: serde_json::Value) -> serde_json::Value {
        let now = Utc::now().timestamp();
        json!({"iss": names().issuer, "aud": names().audience, "sub": Uuid::new_v4().to_string(), "exp": exp,
               "iat": now, "jti": "j", "roles": ["clinician"], "amr": ["pwd"], "sid": "s"})
    }

    #[tokio::test]
    async fn an_issued_token_verifies_with_its_claims() {
        let (key, issuer, verifier) = setup();
        let user = UserId::new();
        let issued = issuer.issue(&key, user, &[Role::Clinician], &[AuthMethod::Pwd, AuthMethod::Otp], "s1").unwrap();
        let claims = verifier.verify(&issued.token).await.unwrap();
        assert_eq!(claims, issued.claims);
        assert_eq!(claims.sub, user.to_string());
        let header = jsonwebtoken::decode_header(&issued.token).unwrap();
        assert_eq!((header.typ.as_deref(), header.kid.as_deref()), (Some("at+jwt"), Some(key.kid())));
    }

    #[tokio::test]
    async fn forged_headers_are_refused() {
        let (key, _, verifier) = setup();
        let kid = key.kid();
        let now = Utc::now().timestamp() + 600;
        for (header, expected) in [
            (json!({"alg": "EdDSA", "typ": "JWT", "kid": kid}), "header"),
            (json!({"alg": "EdDSA", "kid": kid}), "header"),
            (json!({"alg": "EdDSA", "typ": "at+jwt", "kid": "../../etc/passwd"}), "header"),
            (json!({"alg": "EdDSA", "typ": "at+jwt", "kid": kid, "jku": "https://evil.example/jwks"}), "header"),
            (json!({"alg": "EdDSA", "typ": "at+jwt", "kid": kid, "x5u": "https://evil.example/cert"}), "header"),
            (json!({"alg": "EdDSA", "typ": "at+jwt", "kid": URL_SAFE_NO_PAD.encode([7u8; 32])}), "unknown-kid"),
        ] {
            let token = forge(&key, header.clone(), claims(json!(now)));
            let error = verifier.verify(&token).await.unwrap_err();
            assert_eq!(error.code(), expected, "{header}");
        }
    }

    #[tokio::test]
    async fn bad_claims_are_refused() {
        let (key, _, verifier) = setup();
        let header = json!({"alg": "EdDSA", "typ": "at+jwt", "kid": key.kid()});
        let future = Utc::now().timestamp() + 600;
        let mut wrong_aud = claims(json!(future));
        wrong_aud["aud"] = json!("another-api");
        let mut no_iss = claims(json!(future));
        no_iss.as_object_mut().unwrap().remove("iss");
        for (claims, expected) in [
            (claims(json!(Utc::now().timestamp() - 60)), "expired"),
            (claims(json!(future.to_string())), "claim-format"),
            (wrong_aud, "audience"),
            (no_iss, "claim-format"),
        ] {
            let token = forge(&key, header.clone(), claims.clone());
            assert_eq!(verifier.verify(&token).await.unwrap_err().code(), expected, "{claims}");
        }
    }

    #[tokio::test]
    async fn a_tampered_payload_fails_the_signature() {
        let (key, issuer, verifier) = setup();
        let issued = issuer.issue(&key, UserId::new(), &[Role::Staff], &[AuthMethod::Pwd], "s").unwrap();
        let mut parts: Vec<String> = issued.token.split('.').map(str::to_owned).collect();
        let mut claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
        claims["roles"] = json!(["admin"]);
        parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
        assert_eq!(verifier.verify(&parts.join(".")).await.unwrap_err().code(), "signature");
    }

    #[test]
    fn issued_lifetimes_are_capped_at_fifteen_minutes() {
        let issuer = TokenIssuer::new(names(), Duration::from_secs(3600));
        assert_eq!(issuer.ttl(), MAX_ACCESS_TOKEN_TTL);
    }
}
