//! Which step may run from which document state: the rule every stage checks before it works and every write
//! states again as its DynamoDB condition, so two deliveries can never both move a document.
//!
//! ```text
//! pending_upload ─receive─> uploaded ─extract─> extracting ─store text─> detecting ─finish─> ready
//!                              │                    │  ^                     │
//!                              └──── quarantine ────┤  └── a retry or a redrive takes `extracting` or `failed` over
//!                                                   └──────────── fail ──────┘
//! ```
//!
//! Every step but `receive` applies only to the object version the document was received as. A retry of the same
//! step on the same version may take over the state a killed attempt left (`extracting`), so nothing stays stuck;
//! a step that finds the document further along reports it done instead of redoing it.

use medvault_records::model::DocumentStatus;

/// What a stage is about to do to a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Intake records that an object version arrived.
    Receive,
    /// An extraction stage starts (or takes over) reading the text.
    Extract,
    /// The extracted text is stored; PHI detection comes next.
    StoreText,
    /// The de-identified text and entity summary are stored: the document is ready.
    Finish,
    /// The upload is refused for good.
    Quarantine,
    /// Processing failed for good (or ran out of attempts).
    Fail,
}

impl Step {
    /// The states this step may start from, for the same object version.
    pub fn from_states(self) -> &'static [DocumentStatus] {
        use DocumentStatus::*;
        match self {
            Self::Receive => &[PendingUpload, Uploaded, Extracting, Failed],
            Self::Extract => &[Uploaded, Extracting, Failed],
            Self::StoreText => &[Extracting],
            Self::Finish => &[Detecting, Failed],
            Self::Quarantine => &[Uploaded, Extracting],
            Self::Fail => &[Uploaded, Extracting, Detecting],
        }
    }

    /// The state this step leads to.
    pub fn to_state(self) -> DocumentStatus {
        match self {
            Self::Receive => DocumentStatus::Uploaded,
            Self::Extract => DocumentStatus::Extracting,
            Self::StoreText => DocumentStatus::Detecting,
            Self::Finish => DocumentStatus::Ready,
            Self::Quarantine => DocumentStatus::Quarantined,
            Self::Fail => DocumentStatus::Failed,
        }
    }
}

/// A document's state as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observed<'a> {
    pub status: DocumentStatus,
    /// The object version the document was received as (none before the first upload arrived).
    pub version: Option<&'a str>,
    /// The S3 event sequencer of that version, when S3 gave one.
    pub sequencer: Option<&'a str>,
}

/// What a stage should do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Do the step.
    Proceed,
    /// The document is already past this step for this version (in the given state): do not redo it.
    AlreadyDone(DocumentStatus),
    /// The document belongs to another object version (a newer upload), or is in a state this version's step
    /// cannot come from: drop the message.
    Superseded,
}

/// Decides whether `step` runs for object version `version` (with S3 sequencer `sequencer`) on `observed`.
pub fn judge(step: Step, observed: Observed<'_>, version: &str, sequencer: Option<&str>) -> Verdict {
    let same_version = observed.version == Some(version);
    if step == Step::Receive {
        if observed.status == DocumentStatus::PendingUpload {
            return Verdict::Proceed;
        }
        if !same_version {
            return if is_newer(sequencer, observed.sequencer) { Verdict::Proceed } else { Verdict::Superseded };
        }
    } else if !same_version {
        return Verdict::Superseded;
    }
    if step.from_states().contains(&observed.status) {
        return Verdict::Proceed;
    }
    if rank(observed.status) >= rank(step.to_state()) {
        return Verdict::AlreadyDone(observed.status);
    }
    Verdict::Superseded
}

/// How far along a state is, so that a step can tell whether the document is already past it.
fn rank(status: DocumentStatus) -> u8 {
    use DocumentStatus::*;
    match status {
        PendingUpload => 0,
        Uploaded => 1,
        Extracting => 2,
        Detecting => 3,
        Ready | Quarantined | Failed => 4,
    }
}

/// Whether an upload with `incoming` sequencer comes after the stored one. S3 orders the events of one key by
/// their sequencers, compared as hexadecimal numbers after right-padding the shorter with zeros. Without
/// sequencers on both sides (S3 always sends them; the local emulator does not) the later delivery wins.
pub fn is_newer(incoming: Option<&str>, stored: Option<&str>) -> bool {
    match (incoming, stored) {
        (Some(incoming), Some(stored)) => padded(incoming) > padded(stored),
        (None, Some(_)) => false,
        (_, None) => true,
    }
}

/// A sequencer right-padded with zeros to a fixed width, upper case, so that string order is numeric order.
pub fn padded(sequencer: &str) -> String {
    const WIDTH: usize = 32;
    let mut out = sequencer.trim().to_ascii_uppercase();
    while out.len() < WIDTH {
        out.push('0');
    }
    out
}

/// Whether `status` ends processing (the completion event is due).
pub fn is_terminal(status: DocumentStatus) -> bool {
    matches!(status, DocumentStatus::Ready | DocumentStatus::Quarantined | DocumentStatus::Failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use DocumentStatus::*;

    fn at(status: DocumentStatus, version: &str) -> Observed<'_> {
        Observed { status, version: Some(version), sequencer: None }
    }

    #[test]
    fn a_retry_takes_over_a_document_left_extracting_by_a_killed_attempt() {
        assert_eq!(judge(Step::Extract, at(Extracting, "v1"), "v1", None), Verdict::Proceed);
        assert_eq!(judge(Step::Receive, at(Extracting, "v1"), "v1", None), Verdict::Proceed);
    }

    #[test]
    fn a_redrive_after_running_out_of_attempts_takes_a_failed_document_over() {
        assert_eq!(judge(Step::Extract, at(Failed, "v1"), "v1", None), Verdict::Proceed);
        assert_eq!(judge(Step::Finish, at(Failed, "v1"), "v1", None), Verdict::Proceed);
    }

    #[test]
    fn a_step_the_document_is_already_past_is_not_redone() {
        assert_eq!(judge(Step::Extract, at(Detecting, "v1"), "v1", None), Verdict::AlreadyDone(Detecting));
        assert_eq!(judge(Step::Receive, at(Ready, "v1"), "v1", None), Verdict::AlreadyDone(Ready));
        assert_eq!(judge(Step::StoreText, at(Ready, "v1"), "v1", None), Verdict::AlreadyDone(Ready));
        assert_eq!(judge(Step::Finish, at(Ready, "v1"), "v1", None), Verdict::AlreadyDone(Ready));
        assert_eq!(judge(Step::Receive, at(Quarantined, "v1"), "v1", None), Verdict::AlreadyDone(Quarantined));
    }

    #[test]
    fn work_on_another_version_than_the_document_holds_is_dropped() {
        assert_eq!(judge(Step::Extract, at(Extracting, "v2"), "v1", None), Verdict::Superseded);
        assert_eq!(judge(Step::Finish, at(Detecting, "v2"), "v1", None), Verdict::Superseded);
        assert_eq!(judge(Step::Finish, at(Extracting, "v1"), "v1", None), Verdict::Superseded, "text not stored yet");
    }

    #[test]
    fn a_newer_upload_restarts_processing_and_an_older_event_is_ignored() {
        let stored = Observed { status: Ready, version: Some("v1"), sequencer: Some("0055AED6DCD90281E5") };

        assert_eq!(judge(Step::Receive, stored, "v2", Some("0055AED6DCD90281E6")), Verdict::Proceed);
        assert_eq!(judge(Step::Receive, stored, "v0", Some("0055AED6DCD90281E4")), Verdict::Superseded);
        assert_eq!(judge(Step::Receive, stored, "v0", None), Verdict::Superseded);
        let first = Observed { status: PendingUpload, version: None, sequencer: None };
        assert_eq!(judge(Step::Receive, first, "v1", None), Verdict::Proceed);
    }

    #[test]
    fn sequencers_compare_as_numbers_after_right_padding() {
        assert!(is_newer(Some("0055AED6DCD90281E6"), Some("0055AED6DCD90281E5")));
        // "0056" is 0x0056000... padded, which is larger than 0x0055FFFF...
        assert!(is_newer(Some("0056"), Some("0055FFFFFFFFFFFFFF")));
        assert!(!is_newer(Some("0055"), Some("0055")));
        assert!(is_newer(Some("0055"), None));
    }
}
