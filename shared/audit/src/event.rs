//! What one audit event says: who did what to whose record, when, with what outcome. Never a PHI value.

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How an access or an operation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// An authorization decision let the request through.
    Allow,
    /// An authorization decision refused the request.
    Deny,
    /// An operation (login, write, erasure) completed.
    Success,
    /// An operation failed (wrong password, invalid code, a dependency down).
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Deny => "deny",
            Self::Success => "success",
            Self::Failure => "failure",
        }
    }

    /// Parses the stored form.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "allow" => Some(Self::Allow),
            "deny" => Some(Self::Deny),
            "success" => Some(Self::Success),
            "failure" => Some(Self::Failure),
            _ => None,
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One audit event. Every field is an identifier or a code: actor and patient ids, never names, MRNs or text.
///
/// Build one with [`AuditEvent::new`] and the `with_*` methods:
/// ```
/// use medvault_audit::{AuditEvent, Outcome};
/// let event = AuditEvent::new("user-1", "patient.read", Outcome::Deny)
///     .with_roles(["clinician"])
///     .with_patient("8d4c8f9e-0a47-4a4b-9d42-3f1f5b0c2d11")
///     .with_reason("not-on-care-team")
///     .with_request_id("req-42");
/// assert_eq!(event.outcome, Outcome::Deny);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// A unique id (UUID v7, time-ordered).
    pub id: Uuid,
    /// When it happened, to the microsecond (the precision that survives storage exactly).
    pub time: DateTime<Utc>,
    /// Who acted: a user id, or `anonymous` / `system:<function>` when no user is known.
    pub actor_id: String,
    /// The actor's roles at the time.
    pub roles: Vec<String>,
    /// What was attempted, as a dotted name (`auth.login`, `patient.read`, `note.create`, `breakglass.grant`).
    pub action: String,
    pub outcome: Outcome,
    /// The patient whose record was touched, if any.
    pub patient_id: Option<String>,
    /// The record within it (`note:<id>`, `document:<id>`), if any.
    pub resource: Option<String>,
    /// The request's correlation id.
    pub request_id: Option<String>,
    /// Why the data was accessed (`treatment`, `break-glass`, `operations`, `audit`, `erasure`).
    pub purpose: Option<String>,
    /// The caller's address.
    pub source_ip: Option<String>,
    /// A machine-readable reason code for a deny or failure (`not-on-care-team`, `bad-password`); never free text.
    pub reason: Option<String>,
}

impl AuditEvent {
    /// An event happening now.
    pub fn new(actor_id: impl Into<String>, action: impl Into<String>, outcome: Outcome) -> Self {
        Self {
            id: Uuid::now_v7(),
            time: Utc::now().trunc_subsecs(6),
            actor_id: actor_id.into(),
            roles: Vec::new(),
            action: action.into(),
            outcome,
            patient_id: None,
            resource: None,
            request_id: None,
            purpose: None,
            source_ip: None,
            reason: None,
        }
    }

    pub fn with_roles<I, S>(mut self, roles: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.roles = roles.into_iter().map(Into::into).collect();
        self
    }

    pub fn with_patient(mut self, patient_id: impl Into<String>) -> Self {
        self.patient_id = Some(patient_id.into());
        self
    }

    pub fn with_resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = Some(resource.into());
        self
    }

    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        self.request_id = Some(request_id.into());
        self
    }

    pub fn with_purpose(mut self, purpose: impl Into<String>) -> Self {
        self.purpose = Some(purpose.into());
        self
    }

    pub fn with_source_ip(mut self, source_ip: impl Into<String>) -> Self {
        self.source_ip = Some(source_ip.into());
        self
    }

    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// Sets the time (truncated to microseconds), for imports and tests.
    pub fn at(mut self, time: DateTime<Utc>) -> Self {
        self.time = time.trunc_subsecs(6);
        self
    }

    /// The time in the stored form: RFC 3339, UTC, six fractional digits (`2026-11-22T07:00:00.000000Z`).
    pub fn time_text(&self) -> String {
        format_time(self.time)
    }
}

/// Formats a time the way the chain hashes and stores it.
pub fn format_time(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}
