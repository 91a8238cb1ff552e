//! The audit port the auth crate writes every decision through.
//!
//! Until the shared audit crate (`medvault-audit`) lands, this module holds a port of the same shape (an event
//! built with `AuditEvent::new(actor, action, outcome).with_*`, appended with `AuditLog::append`), so that swapping
//! it for `pub use medvault_audit::...` changes no caller.

use std::fmt;

use chrono::{DateTime, SubsecRound, Utc};
use futures::future::BoxFuture;
use uuid::Uuid;

/// A boxed error that keeps its source chain.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// How an access or an operation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// An authorization decision let the request through.
    Allow,
    /// An authorization decision refused the request.
    Deny,
    /// An operation (login, refresh, role change) completed.
    Success,
    /// An operation failed (wrong password, invalid code, a reused refresh token).
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
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One audit event: identifiers and codes only, never a password, token, name or other PHI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub id: Uuid,
    pub time: DateTime<Utc>,
    /// A user id, or `anonymous` when none is known (a login for an unknown email).
    pub actor_id: String,
    pub roles: Vec<String>,
    /// A dotted name: `auth.login`, `auth.refresh.reuse`, `access.denied`, `admin.user.update`.
    pub action: String,
    pub outcome: Outcome,
    pub patient_id: Option<String>,
    /// What was acted on (`user:<id>`, `session:<id>`, `permission:users:admin`).
    pub resource: Option<String>,
    pub request_id: Option<String>,
    pub purpose: Option<String>,
    pub source_ip: Option<String>,
    /// A machine-readable reason code (`bad-password`, `mfa-required`); never free text.
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

    pub fn with_resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = Some(resource.into());
        self
    }

    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        self.request_id = Some(request_id.into());
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
}

/// Proof that an event was appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    pub seq: u64,
}

/// The event could not be appended; the operation it records must fail.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("the audit log is unavailable")]
    Unavailable(#[source] BoxError),
}

/// Appends audit events. A boxed future, so that `Arc<dyn AuditLog>` works.
pub trait AuditLog: Send + Sync + fmt::Debug {
    /// Appends `event`. When this fails, nothing was appended.
    fn append(&self, event: AuditEvent) -> BoxFuture<'_, Result<Receipt, AuditError>>;
}

/// An in-memory log for unit tests of pure logic.
#[derive(Debug, Default)]
pub struct MemoryAuditLog {
    events: std::sync::Mutex<Vec<AuditEvent>>,
    failing: std::sync::atomic::AtomicBool,
}

impl MemoryAuditLog {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every event appended so far.
    pub fn events(&self) -> Vec<AuditEvent> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }

    /// Makes every later append fail (to test that a failed audit write fails the operation).
    pub fn fail_appends(&self, failing: bool) {
        self.failing.store(failing, std::sync::atomic::Ordering::SeqCst);
    }
}

impl AuditLog for MemoryAuditLog {
    fn append(&self, event: AuditEvent) -> BoxFuture<'_, Result<Receipt, AuditError>> {
        Box::pin(async move {
            if self.failing.load(std::sync::atomic::Ordering::SeqCst) {
                return Err(AuditError::Unavailable("the in-memory log was told to fail".into()));
            }
            let mut events = self.events.lock().map_err(|_| AuditError::Unavailable("poisoned".into()))?;
            events.push(event);
            Ok(Receipt { seq: events.len() as u64 })
        })
    }
}
