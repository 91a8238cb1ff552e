//! The audit export: the chain and its signed checkpoints as files an auditor verifies offline with only the
//! signing key's public half (`medvault audit verify <dir> --public-key key.pem`).
//!
//! # Format (`medvault.audit.export.v1`): a directory holding
//! - `manifest.json`: `{"format": "medvault.audit.export.v1", "exported_at", "key_id", "events", "checkpoints"}`.
//!   Informational except for `format`: verification trusts nothing in it.
//! - `checkpoints.jsonl`: every signed checkpoint, one JSON object per line in number order, exactly as stored in
//!   the Object Lock bucket (see [`crate::checkpoint`]). The run must start at checkpoint 1.
//! - `events.jsonl`: the chain's events, one [`medvault_audit::ChainedEvent`] per line in position order
//!   (`{"seq","prev_hash","hash","event":{...}}`, the audit crate's documented export form). It starts at
//!   position 1, or right after a checkpoint's position (a partial export, anchored by that signed checkpoint).
//!
//! Verification checks every checkpoint's signature and link, recomputes every event's hash and link from the
//! anchor, checks each checkpoint the events reach, and fails when a checkpoint covers a position past the last
//! event (truncation). Events after the last checkpoint verify as a chain but no signature covers them yet: they
//! are reported as the unsigned tail.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use medvault_audit::ChainedEvent;
use serde::{Deserialize, Serialize};

use crate::checkpoint::{CheckpointError, SignedCheckpoint, verify_checkpoints};
use crate::public_key::PublicKey;
use crate::verify::{AuditBreak, StretchVerifier, anchor_for};

/// The format tag of version 1.
pub const EXPORT_FORMAT: &str = "medvault.audit.export.v1";
pub const MANIFEST_FILE: &str = "manifest.json";
pub const EVENTS_FILE: &str = "events.jsonl";
pub const CHECKPOINTS_FILE: &str = "checkpoints.jsonl";

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub exported_at: DateTime<Utc>,
    /// The KMS key the checkpoints name (the auditor fetches its public key independently).
    pub key_id: Option<String>,
    pub events: u64,
    pub checkpoints: u64,
}

/// What a verified export contains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportReport {
    pub events: u64,
    /// The first and last positions exported (0 when there are no events).
    pub first_seq: u64,
    pub last_seq: u64,
    pub checkpoints: u64,
    /// Checkpoints whose position the exported events reach, and which matched.
    pub checkpoints_matched: u64,
    /// The position the newest checkpoint covers.
    pub signed_through: u64,
    /// Events after `signed_through`: a valid chain, not yet covered by a signature.
    pub unsigned_tail: u64,
}

/// Why an export does not verify, or could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{file} line {line} is not valid")]
    Parse {
        file: &'static str,
        line: usize,
        #[source]
        source: serde_json::Error,
    },
    #[error("not a {EXPORT_FORMAT} export (format {0:?})")]
    Format(String),
    #[error("the export holds no signed checkpoint: nothing vouches for its events")]
    NoCheckpoints,
    #[error("the checkpoints do not verify")]
    Checkpoint(#[source] CheckpointError),
    #[error("the chain does not verify")]
    Chain(#[source] AuditBreak),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ExportError + '_ {
    move |source| ExportError::Io { path: path.to_path_buf(), source }
}

/// Reads and verifies the export in `dir` with `key`.
pub fn verify_export(dir: &Path, key: &PublicKey) -> Result<ExportReport, ExportError> {
    let manifest_path = dir.join(MANIFEST_FILE);
    let manifest_text = std::fs::read_to_string(&manifest_path).map_err(io(&manifest_path))?;
    let manifest: Manifest = serde_json::from_str(&manifest_text).map_err(|source| ExportError::Parse {
        file: MANIFEST_FILE,
        line: 1,
        source,
    })?;
    if manifest.format != EXPORT_FORMAT {
        return Err(ExportError::Format(manifest.format));
    }
    let checkpoints: Vec<SignedCheckpoint> =
        read_lines(&dir.join(CHECKPOINTS_FILE), CHECKPOINTS_FILE)?.collect::<Result<_, _>>()?;
    let events_path = dir.join(EVENTS_FILE);
    verify_parts(read_lines(&events_path, EVENTS_FILE)?, &checkpoints, key)
}

/// Verifies events (streamed, in position order) against signed checkpoints.
pub fn verify_parts(
    events: impl IntoIterator<Item = Result<ChainedEvent, ExportError>>,
    checkpoints: &[SignedCheckpoint],
    key: &PublicKey,
) -> Result<ExportReport, ExportError> {
    if checkpoints.is_empty() {
        return Err(ExportError::NoCheckpoints);
    }
    verify_checkpoints(checkpoints, key).map_err(ExportError::Checkpoint)?;
    if checkpoints[0].checkpoint.number != 1 {
        return Err(ExportError::Checkpoint(CheckpointError::Missing {
            expected: 1,
            found: checkpoints[0].checkpoint.number,
        }));
    }
    let plain: Vec<_> = checkpoints.iter().map(|c| c.checkpoint.clone()).collect();
    let signed_through = plain.iter().map(|c| c.seq).max().unwrap_or(0);

    let mut events = events.into_iter().peekable();
    let first_seq = match events.peek() {
        Some(Ok(first)) => first.seq,
        Some(Err(_)) => 0,
        None => 0,
    };
    let start = anchor_for(first_seq.max(1), &plain).map_err(ExportError::Chain)?;
    let mut verifier = StretchVerifier::new(start, &plain);
    for event in events {
        verifier.push(&event?).map_err(ExportError::Chain)?;
    }
    let verified = verifier.finish().map_err(ExportError::Chain)?;
    let last_seq = verified.head.seq;
    Ok(ExportReport {
        events: verified.events,
        first_seq: if verified.events == 0 { 0 } else { first_seq },
        last_seq: if verified.events == 0 { 0 } else { last_seq },
        checkpoints: checkpoints.len() as u64,
        checkpoints_matched: verified.checkpoints_matched,
        signed_through,
        unsigned_tail: last_seq.saturating_sub(signed_through.max(start.seq)),
    })
}

/// The JSON objects of a JSON-lines file, one per non-empty line.
fn read_lines<T: serde::de::DeserializeOwned>(
    path: &Path,
    file: &'static str,
) -> Result<impl Iterator<Item = Result<T, ExportError>>, ExportError> {
    let reader = BufReader::new(File::open(path).map_err(io(path))?);
    let path = path.to_path_buf();
    Ok(reader.lines().enumerate().filter_map(move |(index, line)| match line {
        Err(source) => Some(Err(ExportError::Io { path: path.clone(), source })),
        Ok(line) if line.trim().is_empty() => None,
        Ok(line) => {
            Some(serde_json::from_str(&line).map_err(|source| ExportError::Parse { file, line: index + 1, source }))
        }
    }))
}

/// Writes an export directory: checkpoints first, then events streamed in position order, then the manifest.
#[derive(Debug)]
pub struct ExportWriter {
    dir: PathBuf,
    events: BufWriter<File>,
    event_count: u64,
}

impl ExportWriter {
    /// Creates `dir` (which must not hold an export yet) and writes the checkpoints.
    pub fn create(dir: &Path, checkpoints: &[SignedCheckpoint]) -> Result<Self, ExportError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let manifest = dir.join(MANIFEST_FILE);
        if manifest.exists() {
            return Err(ExportError::Io {
                path: manifest,
                source: std::io::Error::new(std::io::ErrorKind::AlreadyExists, "an export is already there"),
            });
        }
        let path = dir.join(CHECKPOINTS_FILE);
        let mut out = BufWriter::new(File::create(&path).map_err(io(&path))?);
        for checkpoint in checkpoints {
            let line = serde_json::to_string(checkpoint).map_err(|source| ExportError::Parse {
                file: CHECKPOINTS_FILE,
                line: 0,
                source,
            })?;
            writeln!(out, "{line}").map_err(io(&path))?;
        }
        out.flush().map_err(io(&path))?;
        let events_path = dir.join(EVENTS_FILE);
        let events = BufWriter::new(File::create(&events_path).map_err(io(&events_path))?);
        Ok(Self { dir: dir.to_path_buf(), events, event_count: 0 })
    }

    /// Appends one event (callers write them in position order).
    pub fn event(&mut self, event: &ChainedEvent) -> Result<(), ExportError> {
        let path = self.dir.join(EVENTS_FILE);
        let line =
            serde_json::to_string(event).map_err(|source| ExportError::Parse { file: EVENTS_FILE, line: 0, source })?;
        writeln!(self.events, "{line}").map_err(io(&path))?;
        self.event_count += 1;
        Ok(())
    }

    /// Flushes the events and writes the manifest last, so a half-written export has none and is refused.
    pub fn finish(mut self, key_id: Option<String>, checkpoints: u64) -> Result<Manifest, ExportError> {
        let path = self.dir.join(EVENTS_FILE);
        self.events.flush().map_err(io(&path))?;
        let manifest = Manifest {
            format: EXPORT_FORMAT.to_owned(),
            exported_at: Utc::now(),
            key_id,
            events: self.event_count,
            checkpoints,
        };
        let manifest_path = self.dir.join(MANIFEST_FILE);
        let text = serde_json::to_string_pretty(&manifest).map_err(|source| ExportError::Parse {
            file: MANIFEST_FILE,
            line: 0,
            source,
        })?;
        std::fs::write(&manifest_path, text).map_err(io(&manifest_path))?;
        Ok(manifest)
    }
}

#[cfg(test)]
mod tests {
    use medvault_audit::ChainHead;

    use super::*;
    use crate::checkpoint::tests::run_of;
    use crate::public_key::tests::TestSigner;
    use crate::verify::tests::chain;

    fn head(events: &[ChainedEvent], seq: u64) -> ChainHead {
        ChainHead { seq, hash: events[usize::try_from(seq - 1).unwrap()].hash }
    }

    fn write(dir: &Path, events: &[ChainedEvent], checkpoints: &[SignedCheckpoint]) {
        let mut writer = ExportWriter::create(dir, checkpoints).unwrap();
        for event in events {
            writer.event(event).unwrap();
        }
        writer.finish(Some("k".into()), checkpoints.len() as u64).unwrap();
    }

    #[test]
    fn a_written_export_verifies_and_reports_its_unsigned_tail() {
        let dir = tempfile::tempdir().unwrap();
        let signer = TestSigner::new();
        let events = chain(8);
        let checkpoints = run_of(&signer, &[head(&events, 3), head(&events, 6)]);
        write(dir.path(), &events, &checkpoints);
        let report = verify_export(dir.path(), &signer.public_key()).unwrap();
        assert_eq!(
            report,
            ExportReport {
                events: 8,
                first_seq: 1,
                last_seq: 8,
                checkpoints: 2,
                checkpoints_matched: 2,
                signed_through: 6,
                unsigned_tail: 2
            }
        );
    }

    #[test]
    fn a_partial_export_is_anchored_by_its_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let signer = TestSigner::new();
        let events = chain(8);
        let checkpoints = run_of(&signer, &[head(&events, 3), head(&events, 6)]);
        write(dir.path(), &events[3..], &checkpoints);
        assert_eq!(verify_export(dir.path(), &signer.public_key()).unwrap().first_seq, 4);
        let unanchored = tempfile::tempdir().unwrap();
        write(unanchored.path(), &events[4..], &checkpoints);
        assert!(matches!(
            verify_export(unanchored.path(), &signer.public_key()),
            Err(ExportError::Chain(AuditBreak::Unanchored { first: 5 }))
        ));
    }

    #[test]
    fn tampering_truncation_and_a_wrong_key_are_refused() {
        let signer = TestSigner::new();
        let events = chain(6);
        let checkpoints = run_of(&signer, &[head(&events, 5)]);
        let key = signer.public_key();
        let verify = |events: Vec<ChainedEvent>, key: &PublicKey| {
            verify_parts(events.into_iter().map(Ok), &checkpoints, key).map_err(|e| e.to_string())
        };

        let mut changed = events.clone();
        changed[1].event.action = "patient.update".into();
        let mut reordered = events.clone();
        reordered.swap(2, 3);
        let mut deleted = events.clone();
        deleted.remove(2);

        assert!(verify(events.clone(), &key).is_ok());
        assert!(verify(changed, &key).is_err());
        assert!(verify(reordered, &key).is_err());
        assert!(verify(deleted, &key).is_err());
        assert!(matches!(
            verify_parts(events[..4].iter().cloned().map(Ok), &checkpoints, &key),
            Err(ExportError::Chain(AuditBreak::Truncated { last: 4, number: 1, seq: 5 }))
        ));
        assert!(matches!(
            verify_parts(events.iter().cloned().map(Ok), &checkpoints, &TestSigner::new().public_key()),
            Err(ExportError::Checkpoint(CheckpointError::BadSignature { number: 1 }))
        ));
    }

    #[test]
    fn a_half_written_export_without_manifest_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let signer = TestSigner::new();
        let _writer = ExportWriter::create(dir.path(), &run_of(&signer, &[ChainHead::EMPTY])).unwrap();
        assert!(matches!(verify_export(dir.path(), &signer.public_key()), Err(ExportError::Io { .. })));
    }
}
