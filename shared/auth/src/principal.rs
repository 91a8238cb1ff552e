//! Who is calling: the [`Principal`] the authorization layer puts on every request it lets through, and the checks a
//! handler asks of it.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use chrono::{DateTime, Utc};
use http::request::Parts;
use medvault_http::ApiError;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::audit::{AuditEvent, AuditLog, Outcome};
use crate::permission::{Permission, Role};

/// A user's id (a UUID).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
#[schema(value_type = String, format = Uuid)]
pub struct UserId(Uuid);

impl UserId {
    /// A fresh random id.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self(Uuid::new_v4())
    }

    pub fn from_uuid(id: Uuid) -> Self {
        Self(id)
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for UserId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

/// How a user proved who they are (RFC 8176 `amr` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AuthMethod {
    /// A password.
    Pwd,
    /// A one-time code (TOTP or a recovery code).
    Otp,
    /// A hardware-bound key (a WebAuthn passkey).
    Hwk,
}

impl AuthMethod {
    /// Whether this method is a second factor.
    pub fn is_second_factor(self) -> bool {
        matches!(self, Self::Otp | Self::Hwk)
    }
}

/// Whether permissions that need MFA ([`Permission::requires_mfa`]) demand it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MfaPolicy {
    /// Outside the local stack: a session without a second factor cannot use them.
    Required,
    /// The local stack's dev mode only (`Stage=local`): the seeded dev admin works without enrolling a factor.
    WaivedForLocalDev,
}

/// What the authorization layer needs to audit a decision taken after it.
#[derive(Debug, Clone)]
pub(crate) struct Decisions {
    pub audit: Arc<dyn AuditLog>,
    pub mfa: MfaPolicy,
}

/// The authenticated caller of a request.
///
/// Handlers take it as an extractor; it exists only on requests the authorization layer let through, so a route
/// that forgot the layer answers `401` instead of running unauthenticated.
#[derive(Clone)]
pub struct Principal {
    pub user_id: UserId,
    pub roles: Vec<Role>,
    pub amr: Vec<AuthMethod>,
    /// The session (refresh-token family) the access token belongs to.
    pub session_id: String,
    /// The access token's `jti`.
    pub token_id: String,
    pub expires_at: DateTime<Utc>,
    /// The caller's address, as API Gateway or the load balancer saw it.
    pub source_ip: Option<String>,
    pub(crate) decisions: Decisions,
}

impl fmt::Debug for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Principal")
            .field("user_id", &self.user_id)
            .field("roles", &self.roles)
            .field("amr", &self.amr)
            .field("session_id", &self.session_id)
            .finish_non_exhaustive()
    }
}

/// Why a permission check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    /// No role of the caller grants the permission.
    NotGranted,
    /// A role grants it, but the permission needs a second factor this session lacks.
    MfaRequired,
}

impl Denial {
    /// The audit reason code.
    pub fn reason(self) -> &'static str {
        match self {
            Self::NotGranted => "permission-not-granted",
            Self::MfaRequired => "mfa-required",
        }
    }
}

impl Principal {
    /// Whether one of the caller's roles grants `permission` (MFA not considered). For choosing what to show, e.g.
    /// the de-identified text instead of the full one; to guard an action use [`Principal::require`].
    pub fn has(&self, permission: Permission) -> bool {
        self.roles.iter().any(|role| role.grants(permission))
    }

    /// Whether the session was authenticated with a second factor.
    pub fn has_mfa(&self) -> bool {
        self.amr.iter().any(|m| m.is_second_factor())
    }

    pub fn is(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// The pure decision: granted by a role, with a second factor where the permission needs one.
    pub fn permits(&self, permission: Permission) -> Result<(), Denial> {
        if !self.has(permission) {
            return Err(Denial::NotGranted);
        }
        if permission.requires_mfa() && self.decisions.mfa == MfaPolicy::Required && !self.has_mfa() {
            return Err(Denial::MfaRequired);
        }
        Ok(())
    }

    /// Guards an action: `Ok` when [`Principal::permits`] it; otherwise writes an `access.denied` audit event and
    /// answers `403` (or `500` when the audit event cannot be written).
    pub async fn require(&self, permission: Permission) -> Result<(), ApiError> {
        match self.permits(permission) {
            Ok(()) => Ok(()),
            Err(denial) => {
                let event = self
                    .audit_event("access.denied", Outcome::Deny)
                    .with_resource(format!("permission:{permission}"))
                    .with_reason(denial.reason());
                self.audit(event).await?;
                let error = ApiError::forbidden();
                Err(match denial {
                    Denial::MfaRequired => {
                        error.with_detail("this action needs a session signed in with a second factor")
                    }
                    Denial::NotGranted => error,
                })
            }
        }
    }

    /// An audit event by this caller, with actor, roles, request id and address filled in.
    pub fn audit_event(&self, action: &str, outcome: Outcome) -> AuditEvent {
        let mut event = AuditEvent::new(self.user_id.to_string(), action, outcome)
            .with_roles(self.roles.iter().map(|r| r.as_str()));
        if let Some(id) = medvault_http::correlation_id() {
            event = event.with_request_id(id);
        }
        if let Some(ip) = &self.source_ip {
            event = event.with_source_ip(ip.clone());
        }
        event
    }

    /// Appends `event` to the audit log; a failure is a `500` and the caller must not go on.
    pub async fn audit(&self, event: AuditEvent) -> Result<(), ApiError> {
        self.decisions.audit.append(event).await.map(|_| ()).map_err(ApiError::internal)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Principal>().cloned().ok_or_else(ApiError::unauthorized)
    }
}
