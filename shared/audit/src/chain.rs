//! The chain format: how an event is serialized and hashed, and how a chain is verified. Pure: no AWS, no I/O.
//!
//! # Format (version 1)
//! Events are numbered from 1 (`seq`); event `n` carries the hash of event `n - 1` (`prev_hash`; 32 zero bytes for
//! event 1) and its own hash:
//!
//! ```text
//! hash(n) = SHA-256( "medvault.audit.v1" || u64_be(seq) || prev_hash (32 bytes) || fields )
//! fields  = str(id) || str(time) || str(actor_id) || u32_be(count(roles)) || str(role)... || str(action)
//!           || str(outcome) || opt(patient_id) || opt(resource) || opt(request_id) || opt(purpose)
//!           || opt(source_ip) || opt(reason)
//! str(s)  = u32_be(len(utf8(s))) || utf8(s)
//! opt(x)  = 0x00 when absent, 0x01 || str(x) when present
//! ```
//! `id` is the UUID in lower-case hyphenated form, `time` is RFC 3339 in UTC with exactly six fractional digits and
//! a `Z` (`2026-11-22T07:00:00.123456Z`), `outcome` one of `allow`, `deny`, `success`, `failure`. Length prefixes
//! make the encoding injective: no two different events serialize to the same bytes. Hashes are written as lower-case
//! hex. An exported chain is JSON lines of [`ChainedEvent`], in `seq` order.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::event::AuditEvent;

/// The domain-separation tag of format version 1.
pub const FORMAT_TAG: &[u8] = b"medvault.audit.v1";

/// A SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The `prev_hash` of the first event.
    pub const GENESIS: Self = Self([0; 32]);

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 hex digits.
    pub fn from_hex(text: &str) -> Option<Self> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes).ok()?;
        Some(Self(bytes))
    }
}

impl std::fmt::Debug for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for Hash {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::from_hex(&text).ok_or_else(|| serde::de::Error::custom("expected 64 hex digits"))
    }
}

/// An event at its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainedEvent {
    pub seq: u64,
    pub prev_hash: Hash,
    pub hash: Hash,
    pub event: AuditEvent,
}

/// Where a chain (or a stretch of it) starts: the last verified position and its hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    /// The position of the last event (0 for an empty chain).
    pub seq: u64,
    /// The hash of the last event ([`Hash::GENESIS`] for an empty chain).
    pub hash: Hash,
}

impl ChainHead {
    /// The head of an empty chain.
    pub const EMPTY: Self = Self { seq: 0, hash: Hash::GENESIS };

    /// The event that follows this head.
    pub fn next(&self, event: AuditEvent) -> ChainedEvent {
        let seq = self.seq + 1;
        ChainedEvent { seq, prev_hash: self.hash, hash: event_hash(seq, &self.hash, &event), event }
    }
}

/// The bytes that are hashed for `event` at `seq` after `prev_hash` (see the module documentation).
pub fn canonical_bytes(seq: u64, prev_hash: &Hash, event: &AuditEvent) -> Vec<u8> {
    fn text(out: &mut Vec<u8>, value: &str) {
        // Events are small; a field over 4 GiB cannot occur, and saturating keeps the encoding total.
        let len = u32::try_from(value.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(value.as_bytes());
    }
    fn optional(out: &mut Vec<u8>, value: Option<&str>) {
        match value {
            None => out.push(0),
            Some(value) => {
                out.push(1);
                text(out, value);
            }
        }
    }
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(FORMAT_TAG);
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&prev_hash.0);
    text(&mut out, &event.id.hyphenated().to_string());
    text(&mut out, &event.time_text());
    text(&mut out, &event.actor_id);
    out.extend_from_slice(&u32::try_from(event.roles.len()).unwrap_or(u32::MAX).to_be_bytes());
    for role in &event.roles {
        text(&mut out, role);
    }
    text(&mut out, &event.action);
    text(&mut out, event.outcome.as_str());
    optional(&mut out, event.patient_id.as_deref());
    optional(&mut out, event.resource.as_deref());
    optional(&mut out, event.request_id.as_deref());
    optional(&mut out, event.purpose.as_deref());
    optional(&mut out, event.source_ip.as_deref());
    optional(&mut out, event.reason.as_deref());
    out
}

/// The hash of `event` at `seq` after `prev_hash`.
pub fn event_hash(seq: u64, prev_hash: &Hash, event: &AuditEvent) -> Hash {
    Hash(Sha256::digest(canonical_bytes(seq, prev_hash, event)).into())
}

/// Where and how a chain fails to verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    /// A position is missing, repeated or out of order (an event deleted, inserted or reordered).
    #[error("expected event {expected}, found event {found}")]
    Gap { expected: u64, found: u64 },
    /// The event does not point at its predecessor's hash.
    #[error("event {seq} does not link to the event before it")]
    BrokenLink { seq: u64 },
    /// The event's contents do not match its stored hash (the event was altered).
    #[error("event {seq} does not match its hash")]
    Altered { seq: u64 },
    /// The chain ends before the head pointer says it does (events removed from the end).
    #[error("the chain ends at event {last}, the head says {head}")]
    Truncated { last: u64, head: u64 },
}

impl ChainBreak {
    /// The position where verification stopped.
    pub fn seq(&self) -> u64 {
        match self {
            Self::Gap { found, .. } => *found,
            Self::BrokenLink { seq } | Self::Altered { seq } => *seq,
            Self::Truncated { last, .. } => *last,
        }
    }
}

/// Recomputes a chain from `start` over `events` (in `seq` order) and returns its head.
///
/// Verifying from [`ChainHead::EMPTY`] checks a whole chain; from a signed checkpoint, the stretch after it. A
/// truncated chain verifies up to where it ends: compare the returned head with a checkpoint to detect truncation.
pub fn verify_chain<'a>(
    start: ChainHead,
    events: impl IntoIterator<Item = &'a ChainedEvent>,
) -> Result<ChainHead, ChainBreak> {
    let mut head = start;
    for chained in events {
        head = verify_next(head, chained)?;
    }
    Ok(head)
}

/// Checks that `chained` follows `head`, and returns the new head.
pub fn verify_next(head: ChainHead, chained: &ChainedEvent) -> Result<ChainHead, ChainBreak> {
    let expected = head.seq + 1;
    if chained.seq != expected {
        return Err(ChainBreak::Gap { expected, found: chained.seq });
    }
    if chained.prev_hash != head.hash {
        return Err(ChainBreak::BrokenLink { seq: chained.seq });
    }
    if event_hash(chained.seq, &chained.prev_hash, &chained.event) != chained.hash {
        return Err(ChainBreak::Altered { seq: chained.seq });
    }
    Ok(ChainHead { seq: chained.seq, hash: chained.hash })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::event::Outcome;

    fn event(n: u32) -> AuditEvent {
        AuditEvent::new(format!("user-{n}"), "patient.read", Outcome::Allow)
            .with_roles(["clinician"])
            .with_patient("p-1")
            .at(chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, n).single().unwrap_or_default())
    }

    fn chain(n: u32) -> Vec<ChainedEvent> {
        let mut head = ChainHead::EMPTY;
        (1..=n)
            .map(|i| {
                let chained = head.next(event(i));
                head = ChainHead { seq: chained.seq, hash: chained.hash };
                chained
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies_to_its_last_event() {
        let events = chain(5);
        let head = verify_chain(ChainHead::EMPTY, &events).unwrap();
        assert_eq!(head, ChainHead { seq: 5, hash: events[4].hash });
    }

    #[test]
    fn an_altered_event_is_detected_at_its_position() {
        let mut events = chain(5);
        events[2].event.outcome = Outcome::Deny;
        assert_eq!(verify_chain(ChainHead::EMPTY, &events), Err(ChainBreak::Altered { seq: 3 }));
    }

    #[test]
    fn a_deleted_event_is_a_gap() {
        let mut events = chain(5);
        events.remove(1);
        assert_eq!(verify_chain(ChainHead::EMPTY, &events), Err(ChainBreak::Gap { expected: 2, found: 3 }));
    }

    #[test]
    fn a_rehashed_replacement_breaks_the_next_link() {
        let mut events = chain(3);
        let forged = ChainHead { seq: 1, hash: events[0].hash }.next(event(9));
        events[1] = forged;
        assert_eq!(verify_chain(ChainHead::EMPTY, &events), Err(ChainBreak::BrokenLink { seq: 3 }));
    }

    #[test]
    fn a_stretch_verifies_from_a_checkpoint() {
        let events = chain(6);
        let checkpoint = ChainHead { seq: 3, hash: events[2].hash };
        assert_eq!(verify_chain(checkpoint, &events[3..]).unwrap().seq, 6);
        assert!(verify_chain(ChainHead::EMPTY, &events[3..]).is_err());
    }

    #[test]
    fn field_boundaries_cannot_be_shifted() {
        let a = AuditEvent { actor_id: "ab".into(), action: "c".into(), ..event(1) };
        let b = AuditEvent { actor_id: "a".into(), action: "bc".into(), ..event(1) };
        assert_ne!(event_hash(1, &Hash::GENESIS, &a), event_hash(1, &Hash::GENESIS, &b));
        let absent = AuditEvent { purpose: None, ..event(1) };
        let empty = AuditEvent { purpose: Some(String::new()), ..event(1) };
        assert_ne!(event_hash(1, &Hash::GENESIS, &absent), event_hash(1, &Hash::GENESIS, &empty));
    }

    #[test]
    fn exported_events_round_trip_through_json() {
        let events = chain(2);
        let line = serde_json::to_string(&events[1]).unwrap();
        let back: ChainedEvent = serde_json::from_str(&line).unwrap();
        assert_eq!(back, events[1]);
        assert_eq!(verify_next(ChainHead { seq: 1, hash: events[0].hash }, &back).unwrap().seq, 2);
    }
}
