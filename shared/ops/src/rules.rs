//! Detection rules over a window of the audit chain: failed-login bursts per account and per source, refresh-token
//! reuse, break-glass use, denied PHI accesses, bulk reads against a user's baseline, and PHI access outside
//! working hours. Rules and thresholds are configuration (JSON, every field optional); pure: events in, findings
//! out.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, NaiveTime, Utc, Weekday};
use medvault_audit::{ChainedEvent, Outcome};
use serde::{Deserialize, Serialize};

use crate::finding::{Finding, FindingKind};

/// The actor id of events nobody signed in for.
const ANONYMOUS: &str = "anonymous";
/// Actors that are medvault's own functions, not people.
const SYSTEM_PREFIX: &str = "system:";

/// Every rule's configuration. `MEDVAULT_DETECTION_RULES` holds it as JSON; absent fields keep their defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectionRules {
    pub failed_logins: FailedLoginRule,
    pub refresh_reuse: ActionRule,
    pub break_glass: ActionRule,
    pub denied_phi: DeniedPhiRule,
    pub repeated_denials: RepeatedDenialRule,
    pub bulk_reads: BulkReadRule,
    pub working_hours: WorkingHoursRule,
}

impl Default for DetectionRules {
    fn default() -> Self {
        Self {
            failed_logins: FailedLoginRule::default(),
            refresh_reuse: ActionRule { enabled: true, actions: vec!["auth.refresh.reuse".into()] },
            break_glass: ActionRule {
                enabled: true,
                actions: vec!["breakglass.grant".into(), "break-glass.grant".into(), "patient.break-glass".into()],
            },
            denied_phi: DeniedPhiRule::default(),
            repeated_denials: RepeatedDenialRule::default(),
            bulk_reads: BulkReadRule::default(),
            working_hours: WorkingHoursRule::default(),
        }
    }
}

/// Failed sign-ins: `per_account` failures for one account, or `per_source` from one address, within
/// `window_seconds`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FailedLoginRule {
    pub enabled: bool,
    /// Actions that are sign-in attempts (`*` matches any run of characters).
    pub actions: Vec<String>,
    pub per_account: u64,
    pub per_source: u64,
    pub window_seconds: u64,
}

impl Default for FailedLoginRule {
    fn default() -> Self {
        Self {
            enabled: true,
            actions: vec!["auth.login".into(), "auth.mfa.*".into(), "auth.webauthn.login*".into()],
            per_account: 5,
            per_source: 20,
            window_seconds: 300,
        }
    }
}

/// A rule that fires on every event whose action matches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ActionRule {
    pub enabled: bool,
    pub actions: Vec<String>,
}

impl Default for ActionRule {
    fn default() -> Self {
        Self { enabled: true, actions: Vec::new() }
    }
}

/// Denied accesses to a patient's data: a finding per actor with at least `threshold` in the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeniedPhiRule {
    pub enabled: bool,
    pub threshold: u64,
}

impl Default for DeniedPhiRule {
    fn default() -> Self {
        Self { enabled: true, threshold: 1 }
    }
}

/// Real time (the stream consumer): `threshold` denials by one actor within `window_seconds`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RepeatedDenialRule {
    pub enabled: bool,
    pub threshold: u64,
    pub window_seconds: u64,
}

impl Default for RepeatedDenialRule {
    fn default() -> Self {
        Self { enabled: true, threshold: 3, window_seconds: 60 }
    }
}

/// Bulk reads: distinct patients an actor accessed in a window, against `multiplier` times their baseline (a
/// moving average over earlier windows, weight `smoothing` for the newest), never below `minimum`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BulkReadRule {
    pub enabled: bool,
    /// Actions that count as accessing a patient (allowed ones with a patient id).
    pub actions: Vec<String>,
    pub minimum: u64,
    pub multiplier: f64,
    pub smoothing: f64,
}

impl Default for BulkReadRule {
    fn default() -> Self {
        Self { enabled: true, actions: vec!["*".into()], minimum: 25, multiplier: 3.0, smoothing: 0.2 }
    }
}

/// Working hours: PHI accessed by a person outside `start`..`end` (local time in `time_zone`, an IANA name) or on
/// a day not in `days`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkingHoursRule {
    pub enabled: bool,
    pub time_zone: String,
    /// `HH:MM`, inclusive.
    pub start: String,
    /// `HH:MM`, exclusive.
    pub end: String,
    /// `mon` to `sun`.
    pub days: Vec<String>,
}

impl Default for WorkingHoursRule {
    fn default() -> Self {
        Self {
            enabled: true,
            time_zone: "UTC".into(),
            start: "07:00".into(),
            end: "19:00".into(),
            days: ["mon", "tue", "wed", "thu", "fri"].map(String::from).to_vec(),
        }
    }
}

/// Why a rule configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("the detection rules are not valid JSON for this schema")]
    Json(#[source] serde_json::Error),
    #[error("working_hours.time_zone {0:?} is not an IANA time zone")]
    TimeZone(String),
    #[error("working_hours.{0} is not HH:MM")]
    Time(&'static str),
    #[error("working_hours.days holds {0:?}, not one of mon..sun")]
    Day(String),
    #[error("{0} must be positive")]
    NotPositive(&'static str),
}

impl std::str::FromStr for DetectionRules {
    type Err = RulesError;

    /// Parses and checks a configuration (an empty string is the defaults).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let rules: Self = if text.trim().is_empty() {
            Self::default()
        } else {
            serde_json::from_str(text).map_err(RulesError::Json)?
        };
        rules.hours()?;
        for (value, name) in [
            (rules.failed_logins.per_account, "failed_logins.per_account"),
            (rules.failed_logins.per_source, "failed_logins.per_source"),
            (rules.failed_logins.window_seconds, "failed_logins.window_seconds"),
            (rules.denied_phi.threshold, "denied_phi.threshold"),
            (rules.repeated_denials.threshold, "repeated_denials.threshold"),
            (rules.repeated_denials.window_seconds, "repeated_denials.window_seconds"),
            (rules.bulk_reads.minimum, "bulk_reads.minimum"),
        ] {
            if value == 0 {
                return Err(RulesError::NotPositive(name));
            }
        }
        if rules.bulk_reads.multiplier <= 0.0 || !(0.0..=1.0).contains(&rules.bulk_reads.smoothing) {
            return Err(RulesError::NotPositive("bulk_reads.multiplier (and smoothing within 0..1)"));
        }
        Ok(rules)
    }
}

/// Working hours, parsed.
struct Hours {
    zone: chrono_tz::Tz,
    start: NaiveTime,
    end: NaiveTime,
    days: BTreeSet<u32>,
}

impl DetectionRules {
    fn hours(&self) -> Result<Hours, RulesError> {
        let rule = &self.working_hours;
        let zone: chrono_tz::Tz = rule.time_zone.parse().map_err(|_| RulesError::TimeZone(rule.time_zone.clone()))?;
        let time = |text: &str, name| NaiveTime::parse_from_str(text, "%H:%M").map_err(|_| RulesError::Time(name));
        let mut days = BTreeSet::new();
        for day in &rule.days {
            let weekday: Weekday = day.parse().map_err(|_| RulesError::Day(day.clone()))?;
            days.insert(weekday.num_days_from_monday());
        }
        Ok(Hours { zone, start: time(&rule.start, "start")?, end: time(&rule.end, "end")?, days })
    }

    /// Whether `action` is a break-glass grant.
    pub fn is_break_glass(&self, event: &ChainedEvent) -> bool {
        self.break_glass.enabled
            && matches!(event.event.outcome, Outcome::Allow | Outcome::Success)
            && any_matches(&self.break_glass.actions, &event.event.action)
    }

    /// Whether the event records a reused refresh token.
    pub fn is_refresh_reuse(&self, event: &ChainedEvent) -> bool {
        self.refresh_reuse.enabled && any_matches(&self.refresh_reuse.actions, &event.event.action)
    }

    /// Whether the event is a denied access to a patient's data.
    pub fn is_denied_phi(event: &ChainedEvent) -> bool {
        event.event.outcome == Outcome::Deny && event.event.patient_id.is_some()
    }
}

/// A user's usual number of distinct patients per window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub mean: f64,
    /// Windows it was learnt from.
    pub windows: u64,
}

/// The findings of one window, and the baselines to keep for the next.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    pub findings: Vec<Finding>,
    /// Baselines of the actors seen in the window, updated (flagged windows do not train the baseline).
    pub baselines: BTreeMap<String, Baseline>,
}

/// Runs every enabled rule over `events` (one window of the chain, in position order).
pub fn detect(
    events: &[ChainedEvent],
    rules: &DetectionRules,
    baselines: &BTreeMap<String, Baseline>,
    detector: &str,
) -> Detection {
    let mut findings = Vec::new();
    if rules.failed_logins.enabled {
        failed_logins(events, &rules.failed_logins, detector, &mut findings);
    }
    for event in events {
        let kind = if rules.is_refresh_reuse(event) {
            Some(FindingKind::RefreshTokenReuse)
        } else if rules.is_break_glass(event) {
            Some(FindingKind::BreakGlass)
        } else {
            None
        };
        if let Some(kind) = kind {
            findings.push(single(kind, event, detector));
        }
    }
    if rules.denied_phi.enabled {
        let denied: Vec<&ChainedEvent> = events.iter().filter(|e| DetectionRules::is_denied_phi(e)).collect();
        for (actor, group) in group_by(denied, |e| Some(format!("actor:{}", e.event.actor_id))) {
            if group.len() as u64 >= rules.denied_phi.threshold {
                let detail = BTreeMap::from([("threshold".to_owned(), rules.denied_phi.threshold.to_string())]);
                findings.push(spanning(FindingKind::DeniedPhiAccess, actor, &group, detector, detail));
            }
        }
    }
    let mut updated = BTreeMap::new();
    if rules.bulk_reads.enabled {
        bulk_reads(events, &rules.bulk_reads, baselines, detector, &mut findings, &mut updated);
    }
    if rules.working_hours.enabled
        && let Ok(hours) = rules.hours()
    {
        let outside: Vec<&ChainedEvent> =
            events.iter().filter(|e| is_person_accessing_phi(e) && !hours.contains(e.event.time)).collect();
        for (actor, group) in group_by(outside, |e| Some(format!("actor:{}", e.event.actor_id))) {
            let detail = BTreeMap::from([
                ("time_zone".to_owned(), rules.working_hours.time_zone.clone()),
                ("hours".to_owned(), format!("{}-{}", rules.working_hours.start, rules.working_hours.end)),
            ]);
            findings.push(spanning(FindingKind::OffHoursAccess, actor, &group, detector, detail));
        }
    }
    findings.sort_by(|a, b| (a.first_seq, a.kind, &a.subject).cmp(&(b.first_seq, b.kind, &b.subject)));
    Detection { findings, baselines: updated }
}

impl Hours {
    fn contains(&self, time: DateTime<Utc>) -> bool {
        let local = time.with_timezone(&self.zone);
        let day_ok = self.days.contains(&local.weekday().num_days_from_monday());
        let clock = local.time();
        day_ok && clock >= self.start && clock < self.end
    }
}

fn is_person_accessing_phi(event: &ChainedEvent) -> bool {
    event.event.patient_id.is_some()
        && matches!(event.event.outcome, Outcome::Allow | Outcome::Success)
        && !event.event.actor_id.starts_with(SYSTEM_PREFIX)
}

fn failed_logins(events: &[ChainedEvent], rule: &FailedLoginRule, detector: &str, findings: &mut Vec<Finding>) {
    let failures: Vec<&ChainedEvent> = events
        .iter()
        .filter(|e| e.event.outcome == Outcome::Failure && any_matches(&rule.actions, &e.event.action))
        .collect();
    let window = chrono::Duration::seconds(i64::try_from(rule.window_seconds).unwrap_or(i64::MAX / 2));
    let per_account = group_by(failures.clone(), |e| account_of(e).map(|a| format!("actor:{a}")));
    let per_source = group_by(failures, |e| e.event.source_ip.as_ref().map(|ip| format!("source:{ip}")));
    for (groups, threshold, kind) in [
        (per_account, rule.per_account, FindingKind::FailedLoginBurstAccount),
        (per_source, rule.per_source, FindingKind::FailedLoginBurstSource),
    ] {
        for (subject, mut group) in groups {
            group.sort_by_key(|e| (e.event.time, e.seq));
            if let Some(burst) = densest(&group, window).filter(|b| b.len() as u64 >= threshold) {
                let detail = BTreeMap::from([
                    ("threshold".to_owned(), threshold.to_string()),
                    ("window_seconds".to_owned(), rule.window_seconds.to_string()),
                ]);
                findings.push(spanning(kind, subject, burst, detector, detail));
            }
        }
    }
}

/// The account a failed sign-in was for: the actor, or a `user:<id>` resource when the actor is unknown.
fn account_of(event: &ChainedEvent) -> Option<String> {
    if event.event.actor_id != ANONYMOUS {
        return Some(event.event.actor_id.clone());
    }
    event.event.resource.as_deref().and_then(|r| r.strip_prefix("user:")).map(str::to_owned)
}

/// The longest run of `events` (sorted by time) that fits within `window`.
fn densest<'a, 'e>(events: &'a [&'e ChainedEvent], window: chrono::Duration) -> Option<&'a [&'e ChainedEvent]> {
    let mut best: Option<(usize, usize)> = None;
    let mut start = 0;
    for end in 0..events.len() {
        while events[end].event.time - events[start].event.time > window {
            start += 1;
        }
        if best.is_none_or(|(s, e)| end - start > e - s) {
            best = Some((start, end));
        }
    }
    best.map(|(s, e)| &events[s..=e])
}

fn bulk_reads(
    events: &[ChainedEvent],
    rule: &BulkReadRule,
    baselines: &BTreeMap<String, Baseline>,
    detector: &str,
    findings: &mut Vec<Finding>,
    updated: &mut BTreeMap<String, Baseline>,
) {
    let reads: Vec<&ChainedEvent> =
        events.iter().filter(|e| is_person_accessing_phi(e) && any_matches(&rule.actions, &e.event.action)).collect();
    for (actor, group) in group_by(reads, |e| Some(e.event.actor_id.clone())) {
        let patients: BTreeSet<&str> = group.iter().filter_map(|e| e.event.patient_id.as_deref()).collect();
        let count = patients.len() as u64;
        let baseline = baselines.get(&actor).copied();
        let learnt = baseline.map_or(0.0, |b| b.mean * rule.multiplier);
        // Whole patients: a baseline of 9.5 tolerates 28 at multiplier 3, not 28.5.
        let threshold = rule.minimum.max(learnt.ceil() as u64);
        if count >= threshold {
            let detail = BTreeMap::from([
                ("patients".to_owned(), count.to_string()),
                ("threshold".to_owned(), threshold.to_string()),
                ("baseline".to_owned(), baseline.map_or_else(|| "none".to_owned(), |b| format!("{:.1}", b.mean))),
            ]);
            findings.push(spanning(FindingKind::BulkRead, format!("actor:{actor}"), &group, detector, detail));
            if let Some(kept) = baseline {
                updated.insert(actor, kept);
            }
        } else {
            let next = match baseline {
                Some(b) => Baseline {
                    mean: b.mean * (1.0 - rule.smoothing) + count as f64 * rule.smoothing,
                    windows: b.windows + 1,
                },
                None => Baseline { mean: count as f64, windows: 1 },
            };
            updated.insert(actor, next);
        }
    }
}

fn single(kind: FindingKind, event: &ChainedEvent, detector: &str) -> Finding {
    let mut detail = BTreeMap::from([("action".to_owned(), event.event.action.clone())]);
    if let Some(patient) = &event.event.patient_id {
        detail.insert("patient_id".to_owned(), patient.clone());
    }
    if let Some(request) = &event.event.request_id {
        detail.insert("request_id".to_owned(), request.clone());
    }
    Finding::new(
        kind,
        format!("actor:{}", event.event.actor_id),
        1,
        (event.seq, event.seq),
        (event.event.time, event.event.time),
        detector,
        detail,
    )
}

fn spanning(
    kind: FindingKind,
    subject: String,
    group: &[&ChainedEvent],
    detector: &str,
    detail: BTreeMap<String, String>,
) -> Finding {
    let first_seq = group.iter().map(|e| e.seq).min().unwrap_or_default();
    let last_seq = group.iter().map(|e| e.seq).max().unwrap_or_default();
    let first_time = group.iter().map(|e| e.event.time).min().unwrap_or_default();
    let last_time = group.iter().map(|e| e.event.time).max().unwrap_or_default();
    Finding::new(kind, subject, group.len() as u64, (first_seq, last_seq), (first_time, last_time), detector, detail)
}

fn group_by(
    events: Vec<&ChainedEvent>,
    key: impl Fn(&ChainedEvent) -> Option<String>,
) -> BTreeMap<String, Vec<&ChainedEvent>> {
    let mut groups: BTreeMap<String, Vec<&ChainedEvent>> = BTreeMap::new();
    for event in events {
        if let Some(k) = key(event) {
            groups.entry(k).or_default().push(event);
        }
    }
    groups
}

/// Whether `text` matches any pattern.
pub fn any_matches(patterns: &[String], text: &str) -> bool {
    patterns.iter().any(|p| wildcard_match(p, text))
}

/// `*` matches any run of characters (including none); every other character matches itself. Hand-written: action
/// names are short dotted codes, and a glob crate's path semantics (`/`, `**`, classes) would only get in the way.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use medvault_audit::{AuditEvent, ChainHead};

    use super::*;

    /// Wednesday 2026-11-18, 10:00 UTC: inside the default working hours.
    fn at(minute: u32, second: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 18, 10, minute, second).unwrap()
    }

    fn chain(events: Vec<AuditEvent>) -> Vec<ChainedEvent> {
        let mut head = ChainHead::EMPTY;
        events
            .into_iter()
            .map(|e| {
                let c = head.next(e);
                head = ChainHead { seq: c.seq, hash: c.hash };
                c
            })
            .collect()
    }

    fn login_failure(actor: &str, ip: &str, time: DateTime<Utc>) -> AuditEvent {
        AuditEvent::new(actor, "auth.login", Outcome::Failure).with_source_ip(ip).with_reason("bad-password").at(time)
    }

    fn read(actor: &str, patient: &str, time: DateTime<Utc>) -> AuditEvent {
        AuditEvent::new(actor, "patient.read", Outcome::Allow).with_roles(["clinician"]).with_patient(patient).at(time)
    }

    fn normal_day() -> Vec<AuditEvent> {
        vec![
            AuditEvent::new("u-1", "auth.login", Outcome::Success).with_source_ip("10.0.0.1").at(at(0, 0)),
            login_failure("u-2", "10.0.0.2", at(1, 0)),
            AuditEvent::new("u-2", "auth.login", Outcome::Success).with_source_ip("10.0.0.2").at(at(1, 30)),
            read("u-1", "p-1", at(2, 0)),
            read("u-1", "p-2", at(3, 0)),
            read("u-2", "p-3", at(4, 0)),
            AuditEvent::new("u-1", "note.create", Outcome::Success).with_patient("p-1").at(at(5, 0)),
            AuditEvent::new("u-1", "auth.refresh", Outcome::Success).at(at(6, 0)),
        ]
    }

    fn kinds(detection: &Detection) -> Vec<(FindingKind, String)> {
        detection.findings.iter().map(|f| (f.kind, f.subject.clone())).collect()
    }

    #[test]
    fn normal_traffic_raises_nothing() {
        let detection = detect(&chain(normal_day()), &DetectionRules::default(), &BTreeMap::new(), "test");
        assert_eq!(kinds(&detection), []);
        assert_eq!(detection.baselines["u-1"], Baseline { mean: 2.0, windows: 1 });
    }

    #[test]
    fn a_failed_login_burst_fires_per_account_and_per_source() {
        let mut events = normal_day();
        events.extend((0..6).map(|i| login_failure("u-9", "203.0.113.7", at(10, i * 10))));
        events.extend((0..20).map(|i| login_failure(&format!("u-{}", 100 + i), "198.51.100.4", at(20, i))));
        let detection = detect(&chain(events), &DetectionRules::default(), &BTreeMap::new(), "test");
        assert_eq!(
            kinds(&detection),
            [
                (FindingKind::FailedLoginBurstAccount, "actor:u-9".to_owned()),
                (FindingKind::FailedLoginBurstSource, "source:198.51.100.4".to_owned()),
            ]
        );
        assert_eq!(detection.findings[0].count, 6);
    }

    #[test]
    fn failures_spread_beyond_the_window_do_not_burst() {
        let events: Vec<AuditEvent> = (0..6).map(|i| login_failure("u-9", "203.0.113.7", at(10 * i, 0))).collect();
        let detection = detect(&chain(events), &DetectionRules::default(), &BTreeMap::new(), "test");
        assert_eq!(kinds(&detection), []);
    }

    #[test]
    fn break_glass_refresh_reuse_and_denials_fire_on_each_event() {
        let mut events = normal_day();
        events.push(
            AuditEvent::new("u-3", "breakglass.grant", Outcome::Success)
                .with_patient("p-7")
                .with_reason("emergency")
                .at(at(30, 0)),
        );
        events.push(AuditEvent::new("u-4", "auth.refresh.reuse", Outcome::Failure).at(at(31, 0)));
        events.push(AuditEvent::new("u-5", "patient.read", Outcome::Deny).with_patient("p-8").at(at(32, 0)));
        let detection = detect(&chain(events), &DetectionRules::default(), &BTreeMap::new(), "test");
        assert_eq!(
            kinds(&detection),
            [
                (FindingKind::BreakGlass, "actor:u-3".to_owned()),
                (FindingKind::RefreshTokenReuse, "actor:u-4".to_owned()),
                (FindingKind::DeniedPhiAccess, "actor:u-5".to_owned()),
            ]
        );
        assert_eq!(detection.findings[0].detail["patient_id"], "p-7");
    }

    #[test]
    fn bulk_reads_fire_against_the_minimum_and_the_baseline() {
        let mut events = normal_day();
        events.extend((0..30).map(|i| read("u-6", &format!("p-{i}"), at(40, i))));
        let detection = detect(&chain(events.clone()), &DetectionRules::default(), &BTreeMap::new(), "test");
        assert_eq!(kinds(&detection), [(FindingKind::BulkRead, "actor:u-6".to_owned())]);
        assert!(!detection.baselines.contains_key("u-6"), "a flagged window must not train the baseline");

        // Someone who usually reads 40 patients an hour is not flagged for 30.
        let usual = BTreeMap::from([("u-6".to_owned(), Baseline { mean: 40.0, windows: 20 })]);
        assert_eq!(kinds(&detect(&chain(events), &DetectionRules::default(), &usual, "test")), []);
    }

    #[test]
    fn access_outside_working_hours_fires_in_the_configured_zone() {
        let night = Utc.with_ymd_and_hms(2026, 11, 18, 2, 0, 0).unwrap();
        let events = chain(vec![read("u-7", "p-1", night), read("u-7", "p-2", night)]);
        let detection = detect(&events, &DetectionRules::default(), &BTreeMap::new(), "test");
        assert_eq!(kinds(&detection), [(FindingKind::OffHoursAccess, "actor:u-7".to_owned())]);
        assert_eq!(detection.findings[0].count, 2);

        // 02:00 UTC is 21:00 the day before in New York: still outside; 15:00 UTC is 10:00 there: inside.
        let rules: DetectionRules = r#"{"working_hours":{"time_zone":"America/New_York"}}"#.parse().unwrap();
        assert_eq!(detect(&events, &rules, &BTreeMap::new(), "test").findings.len(), 1);
        let afternoon = Utc.with_ymd_and_hms(2026, 11, 18, 15, 0, 0).unwrap();
        assert!(detect(&chain(vec![read("u-7", "p-1", afternoon)]), &rules, &BTreeMap::new(), "t").findings.is_empty());
    }

    #[test]
    fn configuration_is_json_with_defaults_and_refuses_typos() {
        let rules: DetectionRules = r#"{"failed_logins":{"per_account":3}}"#.parse().unwrap();
        assert_eq!(rules.failed_logins.per_account, 3);
        assert_eq!(rules.failed_logins.per_source, 20);
        assert!("".parse::<DetectionRules>().is_ok());
        assert!(matches!(r#"{"failed_login":{}}"#.parse::<DetectionRules>(), Err(RulesError::Json(_))));
        assert!(matches!(
            r#"{"working_hours":{"time_zone":"Mars/Olympus"}}"#.parse::<DetectionRules>(),
            Err(RulesError::TimeZone(_))
        ));
        assert!(matches!(
            r#"{"working_hours":{"days":["funday"]}}"#.parse::<DetectionRules>(),
            Err(RulesError::Day(_))
        ));
        assert!(matches!(
            r#"{"denied_phi":{"threshold":0}}"#.parse::<DetectionRules>(),
            Err(RulesError::NotPositive(_))
        ));
    }

    #[test]
    fn wildcards_match_runs_of_characters() {
        assert!(wildcard_match("auth.mfa.*", "auth.mfa.totp"));
        assert!(wildcard_match("*", "anything"));
        assert!(wildcard_match("*.read", "patient.read"));
        assert!(wildcard_match("a*c*e", "abcde"));
        assert!(!wildcard_match("auth.mfa.*", "auth.login"));
        assert!(!wildcard_match("a*a", "a"));
        assert!(!wildcard_match("auth.login", "auth.login.x"));
    }
}
