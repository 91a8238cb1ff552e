//! Verifying the audit chain against signed checkpoints: the rules the hourly job, the nightly full pass and the
//! offline `medvault audit verify` share. Pure: events and checkpoints in, a verdict out.

use std::collections::BTreeMap;

use medvault_audit::chain::{event_hash, verify_next};
use medvault_audit::{ChainBreak, ChainHead, ChainedEvent};

use crate::checkpoint::Checkpoint;

/// How the stored chain disagrees with itself or with a signed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditBreak {
    /// An event was altered, deleted, inserted or moved.
    #[error(transparent)]
    Chain(#[from] ChainBreak),
    /// The event at a checkpoint's position is not the one the checkpoint signed.
    #[error("the event at position {seq} no longer matches signed checkpoint {number}")]
    CheckpointMismatch { number: u64, seq: u64 },
    /// The chain ends before a signed checkpoint's position: events were removed from its end.
    #[error("the chain ends at position {last}, but signed checkpoint {number} covers position {seq}")]
    Truncated { last: u64, number: u64, seq: u64 },
    /// A stretch starts neither at the first event nor right after a signed checkpoint, so nothing vouches for it.
    #[error("the events start at position {first}, which follows no signed checkpoint")]
    Unanchored { first: u64 },
}

impl AuditBreak {
    /// A short, stable code for alerts and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Chain(ChainBreak::Gap { .. }) => "gap",
            Self::Chain(ChainBreak::BrokenLink { .. }) => "broken-link",
            Self::Chain(ChainBreak::Altered { .. }) => "altered",
            Self::Chain(ChainBreak::Truncated { .. }) | Self::Truncated { .. } => "truncated",
            Self::CheckpointMismatch { .. } => "checkpoint-mismatch",
            Self::Unanchored { .. } => "unanchored",
        }
    }

    /// The chain position the break was found at.
    pub fn seq(&self) -> u64 {
        match self {
            Self::Chain(chain) => chain.seq(),
            Self::CheckpointMismatch { seq, .. } => *seq,
            Self::Truncated { last, .. } => *last,
            Self::Unanchored { first } => *first,
        }
    }
}

/// What a successful verification established.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// The last event verified.
    pub head: ChainHead,
    /// Events recomputed.
    pub events: u64,
    /// Checkpoints whose position fell inside the stretch and matched.
    pub checkpoints_matched: u64,
}

/// Checks that the event a checkpoint covers is still the one it signed (`event` is what the store holds at the
/// checkpoint's position, if anything). This is what detects truncation and tampering at the newest checkpoint.
pub fn check_anchor(checkpoint: &Checkpoint, event: Option<&ChainedEvent>) -> Result<(), AuditBreak> {
    if checkpoint.seq == 0 {
        return Ok(());
    }
    let Some(event) = event.filter(|e| e.seq == checkpoint.seq) else {
        return Err(AuditBreak::Truncated {
            last: checkpoint.seq.saturating_sub(1),
            number: checkpoint.number,
            seq: checkpoint.seq,
        });
    };
    if event.hash != checkpoint.head_hash || event_hash(event.seq, &event.prev_hash, &event.event) != event.hash {
        return Err(AuditBreak::CheckpointMismatch { number: checkpoint.number, seq: checkpoint.seq });
    }
    Ok(())
}

/// Recomputes `events` (in position order) from `start`, checks every checkpoint whose position they reach, and
/// fails when a checkpoint covers a position beyond the last event (truncation).
pub fn verify_stretch<'a>(
    start: ChainHead,
    events: impl IntoIterator<Item = &'a ChainedEvent>,
    checkpoints: &[Checkpoint],
) -> Result<Verified, AuditBreak> {
    let mut verifier = StretchVerifier::new(start, checkpoints);
    for event in events {
        verifier.push(event)?;
    }
    verifier.finish()
}

/// [`verify_stretch`] one event at a time, for chains streamed from a file or a table.
#[derive(Debug, Clone)]
pub struct StretchVerifier {
    head: ChainHead,
    /// Checkpoints ahead of the head, by the position they cover: `(number, hash)`.
    ahead: BTreeMap<u64, Vec<(u64, medvault_audit::Hash)>>,
    events: u64,
    matched: u64,
}

impl StretchVerifier {
    pub fn new(start: ChainHead, checkpoints: &[Checkpoint]) -> Self {
        let mut ahead: BTreeMap<u64, Vec<(u64, medvault_audit::Hash)>> = BTreeMap::new();
        for checkpoint in checkpoints.iter().filter(|c| c.seq > start.seq) {
            ahead.entry(checkpoint.seq).or_default().push((checkpoint.number, checkpoint.head_hash));
        }
        Self { head: start, ahead, events: 0, matched: 0 }
    }

    /// Checks the next event.
    pub fn push(&mut self, event: &ChainedEvent) -> Result<(), AuditBreak> {
        self.head = verify_next(self.head, event)?;
        self.events += 1;
        if let Some(covering) = self.ahead.remove(&self.head.seq) {
            for (number, hash) in covering {
                if hash != self.head.hash {
                    return Err(AuditBreak::CheckpointMismatch { number, seq: self.head.seq });
                }
                self.matched += 1;
            }
        }
        Ok(())
    }

    /// The head so far.
    pub fn head(&self) -> ChainHead {
        self.head
    }

    /// Ends the stretch: any checkpoint still ahead of the last event means the chain was cut short.
    pub fn finish(self) -> Result<Verified, AuditBreak> {
        if let Some((&seq, covering)) = self.ahead.iter().next_back() {
            let number = covering.iter().map(|(n, _)| *n).max().unwrap_or_default();
            return Err(AuditBreak::Truncated { last: self.head.seq, number, seq });
        }
        Ok(Verified { head: self.head, events: self.events, checkpoints_matched: self.matched })
    }
}

/// Where a stretch starting at `first_seq` may begin: the empty chain for position 1, else a checkpoint covering
/// the position just before it.
pub fn anchor_for(first_seq: u64, checkpoints: &[Checkpoint]) -> Result<ChainHead, AuditBreak> {
    if first_seq <= 1 {
        return Ok(ChainHead::EMPTY);
    }
    checkpoints
        .iter()
        .find(|c| c.seq == first_seq - 1)
        .map(Checkpoint::head)
        .ok_or(AuditBreak::Unanchored { first: first_seq })
}

#[cfg(test)]
pub(crate) mod tests {
    use chrono::{TimeZone, Utc};
    use medvault_audit::{AuditEvent, Hash, Outcome};

    use super::*;

    pub(crate) fn chain(n: u32) -> Vec<ChainedEvent> {
        let mut head = ChainHead::EMPTY;
        (1..=n)
            .map(|i| {
                let event = AuditEvent::new(format!("user-{i}"), "patient.read", Outcome::Allow)
                    .with_patient("p-1")
                    .at(Utc.with_ymd_and_hms(2026, 11, 18, 10, 0, i).unwrap());
                let chained = head.next(event);
                head = ChainHead { seq: chained.seq, hash: chained.hash };
                chained
            })
            .collect()
    }

    pub(crate) fn checkpoint_at(number: u64, events: &[ChainedEvent], seq: u64) -> Checkpoint {
        let hash = if seq == 0 { Hash::GENESIS } else { events[usize::try_from(seq - 1).unwrap()].hash };
        Checkpoint { number, seq, head_hash: hash, prev_signature: None, time: Utc::now(), key_id: "k".into() }
    }

    #[test]
    fn an_intact_chain_matches_every_checkpoint_it_reaches() {
        let events = chain(6);
        let checkpoints = [checkpoint_at(1, &events, 2), checkpoint_at(2, &events, 5)];
        let verified = verify_stretch(ChainHead::EMPTY, &events, &checkpoints).unwrap();
        assert_eq!((verified.head.seq, verified.events, verified.checkpoints_matched), (6, 6, 2));
    }

    #[test]
    fn a_stretch_verifies_from_its_checkpoint() {
        let events = chain(6);
        let checkpoint = checkpoint_at(1, &events, 3);
        let start = anchor_for(4, std::slice::from_ref(&checkpoint)).unwrap();
        assert_eq!(verify_stretch(start, &events[3..], &[]).unwrap().head.seq, 6);
        assert_eq!(anchor_for(5, &[checkpoint]), Err(AuditBreak::Unanchored { first: 5 }));
    }

    #[test]
    fn a_truncated_chain_fails_against_a_checkpoint_beyond_its_end() {
        let events = chain(6);
        let checkpoint = checkpoint_at(3, &events, 6);
        let result = verify_stretch(ChainHead::EMPTY, &events[..4], &[checkpoint]);
        assert_eq!(result, Err(AuditBreak::Truncated { last: 4, number: 3, seq: 6 }));
    }

    #[test]
    fn a_rewritten_chain_fails_at_the_checkpoint_it_contradicts() {
        let events = chain(4);
        let checkpoint = checkpoint_at(1, &events, 3);
        // Rewrite from event 2 on with consistent hashes: the chain verifies by itself, not against the checkpoint.
        let mut head = ChainHead { seq: 1, hash: events[0].hash };
        let mut forged = vec![events[0].clone()];
        for original in &events[1..] {
            let mut event = original.event.clone();
            event.outcome = Outcome::Deny;
            let chained = head.next(event);
            head = ChainHead { seq: chained.seq, hash: chained.hash };
            forged.push(chained);
        }
        assert!(verify_stretch(ChainHead::EMPTY, &forged, &[]).is_ok());
        assert_eq!(
            verify_stretch(ChainHead::EMPTY, &forged, &[checkpoint]),
            Err(AuditBreak::CheckpointMismatch { number: 1, seq: 3 })
        );
    }

    #[test]
    fn the_anchor_event_must_still_be_the_signed_one() {
        let events = chain(3);
        let checkpoint = checkpoint_at(1, &events, 3);
        assert_eq!(check_anchor(&checkpoint, Some(&events[2])), Ok(()));
        let mut altered = events[2].clone();
        altered.event.actor_id = "someone-else".into();
        assert_eq!(
            check_anchor(&checkpoint, Some(&altered)),
            Err(AuditBreak::CheckpointMismatch { number: 1, seq: 3 })
        );
        assert_eq!(check_anchor(&checkpoint, None), Err(AuditBreak::Truncated { last: 2, number: 1, seq: 3 }));
        assert_eq!(check_anchor(&checkpoint_at(1, &events, 0), None), Ok(()));
    }
}
