//! Signed checkpoints of the audit chain: what is signed, how it is encoded, and how a run of them is verified.
//!
//! # Format (version 1)
//! Checkpoint `k` (numbered from 1) states that the chain's event at position `seq` has hash `head_hash`, and
//! links to checkpoint `k - 1` by carrying its signature, so checkpoints form a chain of their own: removing or
//! replacing one breaks the link of the next. The signature is ECDSA P-256 with SHA-256 (KMS `ECDSA_SHA_256`,
//! `MessageType=RAW`), DER-encoded, over these bytes:
//!
//! ```text
//! "medvault.audit.checkpoint.v1" || u64_be(number) || u64_be(seq) || head_hash (32 bytes)
//!     || opt(prev_signature) || str(time) || str(key_id)
//! str(s) = u32_be(len(utf8(s))) || utf8(s)
//! opt(b) = 0x00 when absent, 0x01 || u32_be(len(b)) || b when present
//! ```
//! `time` is RFC 3339 in UTC with six fractional digits (the audit chain's own time format). Stored as JSON
//! ([`SignedCheckpoint`]: the fields above with `head_hash` in hex, signatures in standard base64) at
//! `checkpoints/<number, 20 digits>.json` in a bucket with S3 Object Lock in compliance mode.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, SubsecRound, Utc};
use medvault_audit::{ChainHead, Hash, format_time};
use serde::{Deserialize, Serialize};

use crate::public_key::PublicKey;

/// The domain-separation tag of checkpoint format version 1.
pub const CHECKPOINT_TAG: &[u8] = b"medvault.audit.checkpoint.v1";
/// The KMS signing algorithm checkpoints use.
pub const SIGNING_ALGORITHM: &str = "ECDSA_SHA_256";
/// Where checkpoints live in their bucket.
pub const OBJECT_PREFIX: &str = "checkpoints/";

/// Signature bytes, serialized as standard base64.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SignatureBytes(pub Vec<u8>);

impl std::fmt::Debug for SignatureBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&STANDARD.encode(&self.0))
    }
}

impl Serialize for SignatureBytes {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for SignatureBytes {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        STANDARD.decode(text.as_bytes()).map(Self).map_err(|_| serde::de::Error::custom("expected standard base64"))
    }
}

/// What a checkpoint states (the signed part).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// 1 for the first checkpoint, then consecutive.
    pub number: u64,
    /// The chain position it covers (the last event verified when it was made).
    pub seq: u64,
    /// The hash of the event at `seq` ([`Hash::GENESIS`] when `seq` is 0).
    pub head_hash: Hash,
    /// The signature of checkpoint `number - 1`; absent for the first.
    pub prev_signature: Option<SignatureBytes>,
    /// When it was made, to the microsecond.
    #[serde(with = "micros")]
    pub time: DateTime<Utc>,
    /// The KMS key that signs it (its ARN).
    pub key_id: String,
}

/// A checkpoint with its signature, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedCheckpoint {
    #[serde(flatten)]
    pub checkpoint: Checkpoint,
    /// Always [`SIGNING_ALGORITHM`].
    pub algorithm: String,
    pub signature: SignatureBytes,
}

impl Checkpoint {
    /// The checkpoint after `previous` (or the first one) covering `head`.
    pub fn after(previous: Option<&SignedCheckpoint>, head: ChainHead, time: DateTime<Utc>, key_id: &str) -> Self {
        Self {
            number: previous.map_or(1, |p| p.checkpoint.number + 1),
            seq: head.seq,
            head_hash: head.hash,
            prev_signature: previous.map(|p| p.signature.clone()),
            time: time.trunc_subsecs(6),
            key_id: key_id.to_owned(),
        }
    }

    /// The chain head this checkpoint vouches for.
    pub fn head(&self) -> ChainHead {
        ChainHead { seq: self.seq, hash: self.head_hash }
    }

    /// The bytes that are signed (see the module documentation).
    pub fn signing_bytes(&self) -> Vec<u8> {
        fn text(out: &mut Vec<u8>, value: &str) {
            out.extend_from_slice(&u32::try_from(value.len()).unwrap_or(u32::MAX).to_be_bytes());
            out.extend_from_slice(value.as_bytes());
        }
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(CHECKPOINT_TAG);
        out.extend_from_slice(&self.number.to_be_bytes());
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.head_hash.0);
        match &self.prev_signature {
            None => out.push(0),
            Some(signature) => {
                out.push(1);
                out.extend_from_slice(&u32::try_from(signature.0.len()).unwrap_or(u32::MAX).to_be_bytes());
                out.extend_from_slice(&signature.0);
            }
        }
        text(&mut out, &format_time(self.time));
        text(&mut out, &self.key_id);
        out
    }

    /// Attaches a signature made over [`Checkpoint::signing_bytes`].
    pub fn signed(self, signature: Vec<u8>) -> SignedCheckpoint {
        SignedCheckpoint {
            checkpoint: self,
            algorithm: SIGNING_ALGORITHM.to_owned(),
            signature: SignatureBytes(signature),
        }
    }
}

impl SignedCheckpoint {
    /// Whether the signature is the key's over this checkpoint.
    pub fn verify(&self, key: &PublicKey) -> Result<(), CheckpointError> {
        let number = self.checkpoint.number;
        if self.algorithm != SIGNING_ALGORITHM {
            return Err(CheckpointError::Algorithm { number });
        }
        if key.verifies(&self.checkpoint.signing_bytes(), &self.signature.0) {
            Ok(())
        } else {
            Err(CheckpointError::BadSignature { number })
        }
    }

    /// The object key it is stored under.
    pub fn object_key(&self) -> String {
        object_key(self.checkpoint.number)
    }
}

/// `checkpoints/<number, 20 digits>.json`: keys sort in number order.
pub fn object_key(number: u64) -> String {
    format!("{OBJECT_PREFIX}{number:020}.json")
}

/// The checkpoint number an object key names.
pub fn number_of_key(key: &str) -> Option<u64> {
    key.strip_prefix(OBJECT_PREFIX)?.strip_suffix(".json")?.parse().ok()
}

/// Why a checkpoint, or a run of them, does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("checkpoint {number} is not signed with {SIGNING_ALGORITHM}")]
    Algorithm { number: u64 },
    #[error("checkpoint {number} does not carry a valid signature of the audit key")]
    BadSignature { number: u64 },
    #[error("expected checkpoint {expected}, found checkpoint {found}")]
    Missing { expected: u64, found: u64 },
    #[error("checkpoint {number} does not link to the signature of the checkpoint before it")]
    BrokenLink { number: u64 },
    #[error("checkpoint {number} covers position {seq}, before its predecessor's {previous}")]
    WentBack { number: u64, seq: u64, previous: u64 },
}

/// Verifies a run of checkpoints: each signature, consecutive numbers, each linking to the one before, positions
/// never going back. A run that starts at 1 must start without a previous signature.
pub fn verify_checkpoints(checkpoints: &[SignedCheckpoint], key: &PublicKey) -> Result<(), CheckpointError> {
    let mut previous: Option<&SignedCheckpoint> = None;
    for current in checkpoints {
        current.verify(key)?;
        let c = &current.checkpoint;
        match previous {
            None if c.number == 1 && c.prev_signature.is_some() => {
                return Err(CheckpointError::BrokenLink { number: c.number });
            }
            None => {}
            Some(p) => {
                if c.number != p.checkpoint.number + 1 {
                    return Err(CheckpointError::Missing { expected: p.checkpoint.number + 1, found: c.number });
                }
                if c.prev_signature.as_ref() != Some(&p.signature) {
                    return Err(CheckpointError::BrokenLink { number: c.number });
                }
                if c.seq < p.checkpoint.seq {
                    return Err(CheckpointError::WentBack { number: c.number, seq: c.seq, previous: p.checkpoint.seq });
                }
            }
        }
        previous = Some(current);
    }
    Ok(())
}

/// Times as the audit chain writes them: RFC 3339, UTC, six fractional digits.
mod micros {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(time: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&medvault_audit::format_time(*time))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(deserializer)?;
        DateTime::parse_from_rfc3339(&text).map(|t| t.with_timezone(&Utc)).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::public_key::tests::TestSigner;

    pub(crate) fn sign(signer: &TestSigner, checkpoint: Checkpoint) -> SignedCheckpoint {
        let signature = signer.sign(&checkpoint.signing_bytes());
        checkpoint.signed(signature)
    }

    pub(crate) fn run_of(signer: &TestSigner, heads: &[ChainHead]) -> Vec<SignedCheckpoint> {
        let mut out: Vec<SignedCheckpoint> = Vec::new();
        for (i, head) in heads.iter().enumerate() {
            let time = Utc.with_ymd_and_hms(2026, 11, 22, 7, u32::try_from(i).unwrap(), 0).unwrap();
            let next = Checkpoint::after(out.last(), *head, time, "arn:aws:kms:us-east-1:1:key/k");
            out.push(sign(signer, next));
        }
        out
    }

    fn head(seq: u64) -> ChainHead {
        ChainHead { seq, hash: Hash([u8::try_from(seq % 256).unwrap(); 32]) }
    }

    #[test]
    fn a_run_of_signed_checkpoints_verifies_and_round_trips_through_json() {
        let signer = TestSigner::new();
        let run = run_of(&signer, &[head(3), head(3), head(10)]);
        assert_eq!(verify_checkpoints(&run, &signer.public_key()), Ok(()));
        let text = serde_json::to_string(&run[1]).unwrap();
        let back: SignedCheckpoint = serde_json::from_str(&text).unwrap();
        assert_eq!(back, run[1]);
        assert_eq!(back.verify(&signer.public_key()), Ok(()));
    }

    #[test]
    fn a_changed_field_or_another_key_fails_the_signature() {
        let signer = TestSigner::new();
        let mut run = run_of(&signer, &[head(3)]);
        assert_eq!(run[0].verify(&TestSigner::new().public_key()), Err(CheckpointError::BadSignature { number: 1 }));
        run[0].checkpoint.seq = 4;
        assert_eq!(run[0].verify(&signer.public_key()), Err(CheckpointError::BadSignature { number: 1 }));
    }

    #[test]
    fn a_removed_checkpoint_is_missing_and_a_re_signed_one_breaks_the_link() {
        let signer = TestSigner::new();
        let run = run_of(&signer, &[head(1), head(2), head(3)]);
        let without_second = [run[0].clone(), run[2].clone()];
        assert_eq!(
            verify_checkpoints(&without_second, &signer.public_key()),
            Err(CheckpointError::Missing { expected: 2, found: 3 })
        );
        let mut forged = run[1].checkpoint.clone();
        forged.seq = 5;
        let forged = sign(&signer, forged);
        let replaced = [run[0].clone(), forged, run[2].clone()];
        assert_eq!(verify_checkpoints(&replaced, &signer.public_key()), Err(CheckpointError::BrokenLink { number: 3 }));
    }

    #[test]
    fn object_keys_sort_by_number_and_parse_back() {
        assert_eq!(object_key(7), "checkpoints/00000000000000000007.json");
        assert!(object_key(9) < object_key(10));
        assert_eq!(number_of_key(&object_key(12)), Some(12));
        assert_eq!(number_of_key("checkpoints/x.json"), None);
    }
}
