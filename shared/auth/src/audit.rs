//! The audit port the auth crate writes every decision through: the shared hash-chained audit log.
//!
//! Auth events use these actions: `auth.login`, `auth.mfa`, `auth.refresh`, `auth.refresh.reuse`, `auth.logout`,
//! `auth.logout_all`, `auth.password.change`, `auth.totp.enroll`, `auth.webauthn.register`, `auth.invite.accept`,
//! `auth.bootstrap`, `admin.user.create`, `admin.user.update` (role change, disable), and `access.denied`.

pub use medvault_audit::{AuditError, AuditEvent, AuditLog, MemoryAuditLog, Outcome, Receipt};
