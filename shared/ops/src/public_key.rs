//! The audit signing key's public half, as an auditor holds it: PEM or DER `SubjectPublicKeyInfo` of a P-256 key.

use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1, ParsedPublicKey};

/// Why a public key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PublicKeyError {
    #[error("the public key is PEM but not a `PUBLIC KEY` block")]
    WrongPemLabel,
    #[error("the public key's PEM is malformed")]
    Pem(#[source] pem::PemError),
    #[error("the public key is not an ECDSA P-256 SubjectPublicKeyInfo: {0}")]
    Rejected(String),
}

/// A verified-to-parse ECDSA P-256 public key (ECDSA_SHA_256 signatures in DER, as KMS `Sign` returns them).
#[derive(Clone)]
pub struct PublicKey {
    parsed: ParsedPublicKey,
    der: Vec<u8>,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublicKey").field("der_len", &self.der.len()).finish()
    }
}

impl PublicKey {
    /// Parses DER `SubjectPublicKeyInfo` (what KMS `GetPublicKey` returns).
    pub fn from_der(der: &[u8]) -> Result<Self, PublicKeyError> {
        let parsed = ParsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, der)
            .map_err(|rejected| PublicKeyError::Rejected(rejected.to_string()))?;
        Ok(Self { parsed, der: der.to_vec() })
    }

    /// Parses a `-----BEGIN PUBLIC KEY-----` PEM block, or DER when the bytes are not PEM.
    pub fn from_pem_or_der(bytes: &[u8]) -> Result<Self, PublicKeyError> {
        let looks_like_pem = bytes.iter().skip_while(|b| b.is_ascii_whitespace()).take(5).eq(b"-----".iter());
        if !looks_like_pem {
            return Self::from_der(bytes);
        }
        let block = pem::parse(bytes).map_err(PublicKeyError::Pem)?;
        if block.tag() != "PUBLIC KEY" {
            return Err(PublicKeyError::WrongPemLabel);
        }
        Self::from_der(block.contents())
    }

    /// The key as DER `SubjectPublicKeyInfo`.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The key as a PEM `PUBLIC KEY` block (what an auditor is handed).
    pub fn to_pem(&self) -> String {
        pem::encode(&pem::Pem::new("PUBLIC KEY", self.der.clone()))
    }

    /// Whether `signature` (DER ECDSA) signs `message` (hashed here with SHA-256).
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        self.parsed.verify_sig(message, signature).is_ok()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};

    use super::*;

    /// A signing key standing in for the KMS key in unit tests.
    pub(crate) struct TestSigner(EcdsaKeyPair);

    impl TestSigner {
        pub(crate) fn new() -> Self {
            Self(EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).unwrap())
        }

        pub(crate) fn public_key(&self) -> PublicKey {
            PublicKey::from_der(self.0.public_key().as_der().unwrap().as_ref()).unwrap()
        }

        pub(crate) fn sign(&self, message: &[u8]) -> Vec<u8> {
            self.0.sign(&SystemRandom::new(), message).unwrap().as_ref().to_vec()
        }
    }

    #[test]
    fn pem_and_der_forms_of_one_key_verify_the_same_signature() {
        let signer = TestSigner::new();
        let key = signer.public_key();
        let from_pem = PublicKey::from_pem_or_der(key.to_pem().as_bytes()).unwrap();
        let signature = signer.sign(b"checkpoint");
        assert!(from_pem.verifies(b"checkpoint", &signature));
        assert!(PublicKey::from_pem_or_der(key.der()).unwrap().verifies(b"checkpoint", &signature));
        assert!(!key.verifies(b"checkpoinT", &signature));
    }

    #[test]
    fn garbage_and_other_pem_blocks_are_refused() {
        assert!(matches!(PublicKey::from_pem_or_der(b"not a key"), Err(PublicKeyError::Rejected(_))));
        let certificate = pem::encode(&pem::Pem::new("CERTIFICATE", vec![1, 2, 3]));
        assert!(matches!(PublicKey::from_pem_or_der(certificate.as_bytes()), Err(PublicKeyError::WrongPemLabel)));
    }
}
