//! medvault's authentication and authorization.
//!
//! # The authorization layer (every API function)
//!
//! ```ignore
//! use medvault_auth::{AuthConfig, Authorizer, Permission, Principal, require};
//!
//! // Config: `AuthConfig` is `FromEnv` (MEDVAULT_JWT_PUBLIC_KEYS_SECRET, optional MEDVAULT_AUTH_ISSUER,
//! // MEDVAULT_AUTH_AUDIENCE, MEDVAULT_ADMIN_MFA, MEDVAULT_JWT_KEY_CACHE_SECONDS; MEDVAULT_STAGE).
//! let authorizer = Authorizer::from_config(&config.auth, clients.secrets_manager(), audit_log.clone());
//!
//! // Every route of `routes` now needs a valid bearer token; the OpenAPI operations say so.
//! let routes = authorizer.protect(OpenApiRouter::new().routes(routes!(get_patient)).with_state(state));
//! let service = ApiService::new(title, description, routes, readiness, &config.http);
//!
//! async fn get_patient(principal: Principal, Path(id): Path<Uuid>) -> Result<Json<Patient>, ApiError> {
//!     principal.require(Permission::PatientsRead).await?;      // 403 + an `access.denied` audit event
//!     if principal.has(Permission::NotesReadPhi) { /* full text */ } // a pure check, no audit
//!     principal.audit(principal.audit_event("patient.read", Outcome::Allow).with_resource(..)).await?;
//!     ...
//! }
//! ```
//!
//! - [`Authorizer::protect`] verifies `Authorization: Bearer <access token>` against the published key set, puts the
//!   [`Principal`] (user id, roles, `amr`, session id, token id, expiry, source address) in the request's extensions,
//!   marks the response [`medvault_http::layers::Authenticated`] (`Cache-Control: no-store`) and fails closed: `401`
//!   without a valid token, `503` when the key set cannot be read, and never the handler.
//! - [`Principal`] is an extractor; on a route outside the layer it answers `401`.
//! - [`Principal::require`] answers `403` (and audits the denial) unless a role grants the [`Permission`] and, for
//!   [`Permission::requires_mfa`] permissions, the session has a second factor (waived only in the local stack's dev
//!   mode). [`require`] is the same check as a route layer.
//! - Roles map to permissions in one table: [`permission::GRANTS`].
//! - Keys: verifiers read only the public JWKS secret (never the signing key) and cache it in memory, re-reading it
//!   after `MEDVAULT_JWT_KEY_CACHE_SECONDS` and, at most every 30 s, when a token names an unknown `kid`.
//!
//! # The account side (feature `accounts`, `auth-api` only)
//!
//! Passwords, TOTP, passkeys, refresh-token families, throttling and the user store.

#[cfg(feature = "accounts")]
pub mod accounts;
pub mod audit;
#[cfg(feature = "accounts")]
pub mod email;
pub mod key_cache;
pub mod keys;
pub mod layer;
#[cfg(feature = "accounts")]
pub mod otp;
#[cfg(feature = "accounts")]
pub mod passkeys;
#[cfg(feature = "accounts")]
pub mod password;
pub mod permission;
pub mod principal;
pub mod rotation;
pub mod secrets;
#[cfg(feature = "accounts")]
pub mod store;
#[cfg(feature = "accounts")]
pub mod throttle;
pub mod token;

pub use layer::{AuthConfig, Authorizer, RequireLayer, bearer_token, require, source_ip};
pub use permission::{Permission, Role};
pub use principal::{AuthMethod, Denial, MfaPolicy, Principal, UserId};
pub use token::{AccessClaims, TokenAudience, TokenIssuer, TokenVerifier, VerifyError};
