//! Security findings and alerts: what a detection rule or the stream consumer raises, in the shape published to the
//! alert topic and EventBridge. Identifiers and codes only, never PHI values.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What was detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    /// Many failed sign-ins for one account within a short window.
    FailedLoginBurstAccount,
    /// Many failed sign-ins from one source address within a short window.
    FailedLoginBurstSource,
    /// A refresh token was presented again after it had been used (a stolen token, its family revoked).
    RefreshTokenReuse,
    /// Someone used break-glass access to a patient outside their care team.
    BreakGlass,
    /// Accesses to PHI were denied.
    DeniedPhiAccess,
    /// A user read many more patients than their baseline.
    BulkRead,
    /// PHI was accessed outside the configured working hours.
    OffHoursAccess,
    /// The audit chain does not verify, or contradicts a signed checkpoint.
    AuditChainBroken,
    /// A stored audit event was modified or removed (seen on the table's stream).
    AuditTampering,
}

impl FindingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FailedLoginBurstAccount => "failed-login-burst-account",
            Self::FailedLoginBurstSource => "failed-login-burst-source",
            Self::RefreshTokenReuse => "refresh-token-reuse",
            Self::BreakGlass => "break-glass",
            Self::DeniedPhiAccess => "denied-phi-access",
            Self::BulkRead => "bulk-read",
            Self::OffHoursAccess => "off-hours-access",
            Self::AuditChainBroken => "audit-chain-broken",
            Self::AuditTampering => "audit-tampering",
        }
    }

    /// How urgently someone should look.
    pub fn severity(self) -> Severity {
        match self {
            Self::AuditChainBroken | Self::AuditTampering => Severity::Critical,
            Self::RefreshTokenReuse | Self::BreakGlass | Self::BulkRead | Self::FailedLoginBurstSource => {
                Severity::High
            }
            Self::FailedLoginBurstAccount | Self::DeniedPhiAccess => Severity::Medium,
            Self::OffHoursAccess => Severity::Low,
        }
    }
}

/// How urgently a finding needs attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

/// One finding: a rule that fired on a stretch of the audit chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Derived from the kind, subject and positions: the same detection always has the same id, so storing it
    /// with a conditional write publishes it once however often a run is retried.
    pub id: String,
    pub kind: FindingKind,
    pub severity: Severity,
    /// Who or what it is about: `actor:<user id>` or `source:<address>`.
    pub subject: String,
    /// How many events matched.
    pub count: u64,
    /// The chain positions of the first and last matching events.
    pub first_seq: u64,
    pub last_seq: u64,
    pub first_time: DateTime<Utc>,
    pub last_time: DateTime<Utc>,
    /// Which component raised it (`audit-job`, `security-alerts`).
    pub detector: String,
    /// Rule parameters and measured values (`threshold`, `baseline`, `patients`, `reason`); codes and numbers.
    pub detail: BTreeMap<String, String>,
}

impl Finding {
    /// A finding whose id is derived from what it says.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        kind: FindingKind,
        subject: impl Into<String>,
        count: u64,
        (first_seq, last_seq): (u64, u64),
        (first_time, last_time): (DateTime<Utc>, DateTime<Utc>),
        detector: &str,
        detail: BTreeMap<String, String>,
    ) -> Self {
        let subject = subject.into();
        let mut digest = Sha256::new();
        for part in [kind.as_str(), subject.as_str(), &first_seq.to_string(), &last_seq.to_string(), detector] {
            digest.update(u32::try_from(part.len()).unwrap_or(u32::MAX).to_be_bytes());
            digest.update(part.as_bytes());
        }
        let id = hex::encode(&digest.finalize()[..16]);
        Self {
            id,
            kind,
            severity: kind.severity(),
            subject,
            count,
            first_seq,
            last_seq,
            first_time,
            last_time,
            detector: detector.to_owned(),
            detail,
        }
    }
}

/// The EventBridge `source` of medvault's security events.
pub const EVENT_SOURCE: &str = "medvault.security";
/// The EventBridge `detail-type` of a finding.
pub const FINDING_DETAIL_TYPE: &str = "medvault.security.finding";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_detection_has_the_same_id_and_another_does_not() {
        let t = Utc::now();
        let a = Finding::new(FindingKind::BreakGlass, "actor:u-1", 1, (5, 5), (t, t), "audit-job", BTreeMap::new());
        let b = Finding::new(FindingKind::BreakGlass, "actor:u-1", 1, (5, 5), (t, t), "audit-job", BTreeMap::new());
        let c = Finding::new(FindingKind::BreakGlass, "actor:u-1", 1, (6, 6), (t, t), "audit-job", BTreeMap::new());
        assert_eq!(a.id, b.id);
        assert_ne!(a.id, c.id);
        assert_eq!(serde_json::to_value(&a).unwrap()["kind"], "break-glass");
        assert_eq!(a.severity, Severity::High);
    }
}
