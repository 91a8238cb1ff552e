//! Real-time signals from single audit events (the stream consumer): which events raise an alert at once, and
//! which count toward repeated denials. Pure: an event and the rules in, signals out.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use medvault_audit::ChainedEvent;
use medvault_audit::chain::event_hash;

use crate::finding::{Finding, FindingKind};
use crate::rules::DetectionRules;
use crate::stream::Change;

/// The detector name real-time findings carry.
pub const DETECTOR: &str = "security-alerts";

/// What one stream record means for security.
#[derive(Debug, Clone, PartialEq)]
pub enum Signal {
    /// Raise this finding now.
    Alert(Finding),
    /// Count a denial by `actor` in the window starting at `window_start` (Unix seconds); alert when the count
    /// reaches the rule's threshold.
    Denial { actor: String, window_start: i64, event: Box<ChainedEvent> },
}

/// The signals of an inserted event.
pub fn signals(event: &ChainedEvent, rules: &DetectionRules) -> Vec<Signal> {
    let mut out = Vec::new();
    if event_hash(event.seq, &event.prev_hash, &event.event) != event.hash {
        let detail = BTreeMap::from([("reason".to_owned(), "hash-mismatch-on-insert".to_owned())]);
        out.push(Signal::Alert(alert(FindingKind::AuditTampering, event, detail)));
    }
    if rules.is_break_glass(event) {
        let mut detail = BTreeMap::from([("action".to_owned(), event.event.action.clone())]);
        if let Some(patient) = &event.event.patient_id {
            detail.insert("patient_id".to_owned(), patient.clone());
        }
        out.push(Signal::Alert(alert(FindingKind::BreakGlass, event, detail)));
    }
    if rules.is_refresh_reuse(event) {
        let detail = BTreeMap::from([("action".to_owned(), event.event.action.clone())]);
        out.push(Signal::Alert(alert(FindingKind::RefreshTokenReuse, event, detail)));
    }
    if rules.repeated_denials.enabled && DetectionRules::is_denied_phi(event) {
        out.push(Signal::Denial {
            actor: event.event.actor_id.clone(),
            window_start: window_start(event.event.time, rules.repeated_denials.window_seconds),
            event: Box::new(event.clone()),
        });
    }
    out
}

/// A modified or removed audit item: the log is append-only, so any such change is tampering.
pub fn tampering(change: Change, seq: Option<u64>, at: DateTime<Utc>) -> Option<Finding> {
    let reason = match change {
        Change::Insert => return None,
        Change::Modify => "item-modified",
        Change::Remove => "item-removed",
    };
    let seq = seq.unwrap_or_default();
    let detail = BTreeMap::from([("reason".to_owned(), reason.to_owned())]);
    Some(Finding::new(FindingKind::AuditTampering, "audit-log", 1, (seq, seq), (at, at), DETECTOR, detail))
}

/// The finding for `count` denials by `actor`, the last of which is `event`.
pub fn repeated_denials(
    actor: &str,
    count: u64,
    window_start: i64,
    event: &ChainedEvent,
    rules: &DetectionRules,
) -> Finding {
    let start = DateTime::from_timestamp(window_start, 0).unwrap_or(event.event.time);
    let detail = BTreeMap::from([
        ("threshold".to_owned(), rules.repeated_denials.threshold.to_string()),
        ("window_seconds".to_owned(), rules.repeated_denials.window_seconds.to_string()),
    ]);
    // Raised once per actor and window: by the denial whose count reached the threshold.
    Finding::new(
        FindingKind::DeniedPhiAccess,
        format!("actor:{actor}"),
        count,
        (event.seq, event.seq),
        (start, event.event.time),
        DETECTOR,
        detail,
    )
}

/// The start (Unix seconds) of the fixed window `time` falls in.
pub fn window_start(time: DateTime<Utc>, window_seconds: u64) -> i64 {
    let width = i64::try_from(window_seconds.max(1)).unwrap_or(60);
    time.timestamp().div_euclid(width) * width
}

fn alert(kind: FindingKind, event: &ChainedEvent, detail: BTreeMap<String, String>) -> Finding {
    Finding::new(
        kind,
        format!("actor:{}", event.event.actor_id),
        1,
        (event.seq, event.seq),
        (event.event.time, event.event.time),
        DETECTOR,
        detail,
    )
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use medvault_audit::{AuditEvent, ChainHead, Outcome};

    use super::*;

    fn chained(event: AuditEvent) -> ChainedEvent {
        ChainHead::EMPTY.next(event)
    }

    #[test]
    fn break_glass_and_refresh_reuse_alert_at_once_and_reads_do_not() {
        let rules = DetectionRules::default();
        let grant = chained(AuditEvent::new("u-1", "breakglass.grant", Outcome::Success).with_patient("p-1"));
        let reuse = chained(AuditEvent::new("u-2", "auth.refresh.reuse", Outcome::Failure));
        let read = chained(AuditEvent::new("u-3", "patient.read", Outcome::Allow).with_patient("p-1"));
        assert!(matches!(&signals(&grant, &rules)[..], [Signal::Alert(f)] if f.kind == FindingKind::BreakGlass));
        assert!(matches!(&signals(&reuse, &rules)[..], [Signal::Alert(f)] if f.kind == FindingKind::RefreshTokenReuse));
        assert!(signals(&read, &rules).is_empty());
    }

    #[test]
    fn denials_count_in_fixed_windows() {
        let rules = DetectionRules::default();
        let time = Utc.with_ymd_and_hms(2026, 11, 22, 7, 0, 59).unwrap();
        let denied = chained(AuditEvent::new("u-1", "patient.read", Outcome::Deny).with_patient("p-2").at(time));
        let [Signal::Denial { actor, window_start: start, .. }] = &signals(&denied, &rules)[..] else {
            panic!("expected one denial signal")
        };
        assert_eq!((actor.as_str(), *start), ("u-1", time.timestamp() - 59));
        assert_eq!(window_start(time + chrono::Duration::seconds(1), 60), time.timestamp() + 1);
    }

    #[test]
    fn an_event_whose_hash_does_not_match_is_tampering() {
        let mut forged = chained(AuditEvent::new("u-1", "patient.read", Outcome::Allow));
        forged.event.actor_id = "u-2".into();
        let found = signals(&forged, &DetectionRules::default());
        assert!(matches!(&found[..], [Signal::Alert(f)] if f.kind == FindingKind::AuditTampering));
        assert!(tampering(Change::Remove, Some(4), Utc::now()).is_some());
        assert!(tampering(Change::Insert, Some(4), Utc::now()).is_none());
    }
}
