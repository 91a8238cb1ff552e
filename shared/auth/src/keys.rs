//! Token signing keys (Ed25519) and the public key set verifiers trust: generation, the stored JSON forms, `kid`s.
//!
//! A signing key is stored as one Secrets Manager secret version (JSON, [`SigningKey::to_secret_json`]); only
//! `auth-api` and `secret-rotation` may read it. Its public half is published as a JWKS (RFC 7517) into a second
//! secret that every verifier reads. The `kid` is the key's RFC 7638 thumbprint, so it names the key material itself
//! and two different keys can never share one.

use std::collections::HashMap;
use std::fmt;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::{DecodingKey, EncodingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// The only signature algorithm medvault issues and accepts.
pub const ALGORITHM: jsonwebtoken::Algorithm = jsonwebtoken::Algorithm::EdDSA;

/// Why a key could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("generating a key failed")]
    Generate,
    #[error("the stored signing key is malformed: {0}")]
    MalformedSigningKey(&'static str),
    #[error("the key set is malformed")]
    MalformedKeySet(#[source] serde_json::Error),
    #[error("a key in the key set is malformed: {0}")]
    MalformedPublicKey(&'static str),
}

/// A private signing key. Its `Debug` shows the `kid` only, and the private bytes are zeroized on drop.
pub struct SigningKey {
    kid: String,
    created_at: DateTime<Utc>,
    pkcs8: Zeroizing<Vec<u8>>,
    encoding: EncodingKey,
    public: PublicKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

/// The signing secret's JSON.
#[derive(Serialize, Deserialize)]
struct StoredSigningKey {
    kid: String,
    alg: String,
    /// PKCS#8 DER, base64url.
    private_key: String,
    created_at: DateTime<Utc>,
}

impl SigningKey {
    /// A fresh Ed25519 key from the system's secure random source.
    pub fn generate() -> Result<Self, KeyError> {
        let document = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(|_| KeyError::Generate)?;
        Self::from_pkcs8(Zeroizing::new(document.as_ref().to_vec()), Utc::now())
    }

    fn from_pkcs8(pkcs8: Zeroizing<Vec<u8>>, created_at: DateTime<Utc>) -> Result<Self, KeyError> {
        let pair =
            Ed25519KeyPair::from_pkcs8(&pkcs8).map_err(|_| KeyError::MalformedSigningKey("not Ed25519 PKCS#8"))?;
        let public = PublicKey::from_x(&URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()))?;
        let encoding = EncodingKey::from_ed_der(&pkcs8);
        Ok(Self { kid: public.kid.clone(), created_at, pkcs8, encoding, public })
    }

    /// Reads the signing secret's JSON.
    pub fn from_secret_json(text: &str) -> Result<Self, KeyError> {
        let stored: StoredSigningKey =
            serde_json::from_str(text).map_err(|_| KeyError::MalformedSigningKey("not the signing key's JSON"))?;
        if stored.alg != "EdDSA" {
            return Err(KeyError::MalformedSigningKey("alg is not EdDSA"));
        }
        let pkcs8 = Zeroizing::new(
            URL_SAFE_NO_PAD
                .decode(stored.private_key.as_bytes())
                .map_err(|_| KeyError::MalformedSigningKey("private_key is not base64url"))?,
        );
        let key = Self::from_pkcs8(pkcs8, stored.created_at)?;
        if key.kid != stored.kid {
            return Err(KeyError::MalformedSigningKey("kid does not match the key"));
        }
        Ok(key)
    }

    /// The signing secret's JSON. It holds the private key: it goes to Secrets Manager and nowhere else.
    pub fn to_secret_json(&self) -> Zeroizing<String> {
        let stored = StoredSigningKey {
            kid: self.kid.clone(),
            alg: "EdDSA".into(),
            private_key: URL_SAFE_NO_PAD.encode(self.pkcs8.as_slice()),
            created_at: self.created_at,
        };
        Zeroizing::new(serde_json::to_string(&stored).unwrap_or_default())
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    /// The public half, to publish.
    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    pub(crate) fn encoding_key(&self) -> &EncodingKey {
        &self.encoding
    }
}

/// A public verification key and its `kid`.
#[derive(Clone)]
pub struct PublicKey {
    kid: String,
    /// The raw 32-byte key, base64url (the JWK's `x`).
    x: String,
    decoding: DecodingKey,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl PublicKey {
    fn from_x(x: &str) -> Result<Self, KeyError> {
        let raw =
            URL_SAFE_NO_PAD.decode(x.as_bytes()).map_err(|_| KeyError::MalformedPublicKey("x is not base64url"))?;
        if raw.len() != 32 {
            return Err(KeyError::MalformedPublicKey("an Ed25519 key is 32 bytes"));
        }
        let decoding = DecodingKey::from_ed_der(&raw);
        Ok(Self { kid: thumbprint(x), x: x.to_owned(), decoding })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub(crate) fn decoding_key(&self) -> &DecodingKey {
        &self.decoding
    }

    /// This key as a JWK.
    pub fn to_jwk(&self) -> Jwk {
        Jwk {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: self.x.clone(),
            kid: self.kid.clone(),
            alg: "EdDSA".into(),
            key_use: "sig".into(),
        }
    }

    /// Reads a JWK. Only Ed25519 signature keys for EdDSA are accepted, and the `kid` must be the key's thumbprint.
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, KeyError> {
        if jwk.kty != "OKP" || jwk.crv != "Ed25519" || jwk.alg != "EdDSA" || jwk.key_use != "sig" {
            return Err(KeyError::MalformedPublicKey("not an Ed25519 EdDSA signature key"));
        }
        let key = Self::from_x(&jwk.x)?;
        if key.kid != jwk.kid {
            return Err(KeyError::MalformedPublicKey("kid is not the key's thumbprint"));
        }
        Ok(key)
    }
}

/// The RFC 7638 thumbprint of an Ed25519 JWK: SHA-256 over its required members in lexicographic order.
fn thumbprint(x: &str) -> String {
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// One JSON Web Key (RFC 7517/8037), as `GET /.well-known/jwks.json` and the public-keys secret carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Jwk {
    /// Always `OKP`.
    pub kty: String,
    /// Always `Ed25519`.
    pub crv: String,
    /// The public key, base64url.
    pub x: String,
    /// The key's RFC 7638 thumbprint.
    pub kid: String,
    /// Always `EdDSA`.
    pub alg: String,
    /// Always `sig`.
    #[serde(rename = "use")]
    pub key_use: String,
}

/// A JWK Set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// The keys a verifier trusts, by `kid`. Nothing outside this set is ever used to verify a token.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: HashMap<String, PublicKey>,
    /// In publication order (newest first), for the JWKS endpoint.
    order: Vec<String>,
}

impl KeySet {
    pub fn new(keys: impl IntoIterator<Item = PublicKey>) -> Self {
        let mut set = Self::default();
        for key in keys {
            if !set.keys.contains_key(&key.kid) {
                set.order.push(key.kid.clone());
                set.keys.insert(key.kid.clone(), key);
            }
        }
        set
    }

    /// Parses a JWKS document. One malformed key makes the whole set malformed: a publisher bug must be loud.
    pub fn from_jwks_json(text: &str) -> Result<Self, KeyError> {
        let jwks: Jwks = serde_json::from_str(text).map_err(KeyError::MalformedKeySet)?;
        Ok(Self::new(jwks.keys.iter().map(PublicKey::from_jwk).collect::<Result<Vec<_>, _>>()?))
    }

    pub fn get(&self, kid: &str) -> Option<&PublicKey> {
        self.keys.get(kid)
    }

    pub fn contains(&self, kid: &str) -> bool {
        self.keys.contains_key(kid)
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// The `kid`s, newest first.
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.order.iter().map(String::as_str)
    }

    pub fn to_jwks(&self) -> Jwks {
        Jwks { keys: self.order.iter().filter_map(|kid| self.keys.get(kid)).map(PublicKey::to_jwk).collect() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signing_key_survives_its_stored_form_and_names_its_public_key() {
        let key = SigningKey::generate().unwrap();
        let restored = SigningKey::from_secret_json(&key.to_secret_json()).unwrap();
        assert_eq!(restored.kid(), key.kid());
        assert_eq!(restored.public().to_jwk(), key.public().to_jwk());
        assert!(!format!("{key:?}").contains(&*key.to_secret_json()));
    }

    #[test]
    fn a_jwks_round_trips_and_refuses_a_kid_that_is_not_the_thumbprint() {
        let (a, b) = (SigningKey::generate().unwrap(), SigningKey::generate().unwrap());
        let set = KeySet::new([a.public().clone(), b.public().clone()]);
        let text = serde_json::to_string(&set.to_jwks()).unwrap();
        let parsed = KeySet::from_jwks_json(&text).unwrap();
        assert_eq!(parsed.kids().collect::<Vec<_>>(), [a.kid(), b.kid()]);

        let mut forged = a.public().to_jwk();
        forged.kid = b.kid().to_owned();
        let text = serde_json::to_string(&Jwks { keys: vec![forged] }).unwrap();
        assert!(matches!(KeySet::from_jwks_json(&text), Err(KeyError::MalformedPublicKey(_))));
    }

    #[test]
    fn rfc_8037_example_key_has_its_published_thumbprint() {
        // RFC 8037, appendix A.3.
        assert_eq!(
            thumbprint("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }
}
