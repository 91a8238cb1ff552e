//! The account service behind `auth-api`: sign-in with throttling and MFA, sessions with rotating refresh tokens,
//! TOTP and passkey enrolment, password changes, admin user management, invites, the deployed stack's one-time
//! bootstrap and the local stack's dev admin. Every decision is audited; an audit write that fails fails the
//! operation.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use medvault_http::ApiError;
use medvault_platform::Secret;
use webauthn_rs::prelude::{
    CreationChallengeResponse, PublicKeyCredential, RegisterPublicKeyCredential, RequestChallengeResponse,
};

use crate::audit::{AuditError, AuditEvent, AuditLog, Outcome};
use crate::email::{Email, InvalidEmail};
use crate::otp::{self, NoRandomness, TotpSecret, opaque_token, token_hash};
use crate::passkeys::{PasskeyError, Passkeys};
use crate::password::{NewPassword, PasswordRejected, Passwords};
use crate::permission::Role;
use crate::principal::{AuthMethod, Principal, UserId};
use crate::secrets::{CurrentSigningKey, SigningKeyError};
use crate::store::{AccountStore, Challenge, RefreshRecord, Session, StoreError, User, UserStatus};
use crate::throttle::{ThrottleKey, ThrottlePolicy};
use crate::token::{IssuedToken, SignError, TokenIssuer};

/// Wrong codes an MFA token survives before it is thrown away.
const MFA_ATTEMPTS: u32 = 5;
/// Prefix of refresh tokens.
pub const REFRESH_PREFIX: &str = "mvr_";

/// Lifetimes of sessions and single-use tokens.
#[derive(Debug, Clone, Copy)]
pub struct SessionSettings {
    /// A session not refreshed for this long ends (default 30 minutes).
    pub idle: Duration,
    /// A session ends this long after sign-in whatever happens (default 12 hours).
    pub absolute: Duration,
    /// How long an MFA token or a WebAuthn challenge lives (default 5 minutes).
    pub challenge: Duration,
    /// How long an invite lives (default 72 hours).
    pub invite: Duration,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            idle: Duration::from_secs(30 * 60),
            absolute: Duration::from_secs(12 * 3600),
            challenge: Duration::from_secs(5 * 60),
            invite: Duration::from_secs(72 * 3600),
        }
    }
}

/// Throttling of each kind of key.
#[derive(Debug, Clone, Copy)]
pub struct ThrottleSettings {
    pub account: ThrottlePolicy,
    pub source: ThrottlePolicy,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self { account: ThrottlePolicy::ACCOUNT, source: ThrottlePolicy::SOURCE }
    }
}

/// Who is asking, for throttling and the audit trail.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub source_ip: Option<String>,
    pub request_id: Option<String>,
}

/// Why an account operation failed. [`ApiError::from`] turns each into the answer the caller may see.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Unknown email, wrong password, wrong code, disabled account: all the same to the caller.
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("too many failed attempts")]
    Throttled(Duration),
    /// A refresh, MFA, invite or setup token that is unknown, used, expired or revoked.
    #[error("invalid or expired token")]
    InvalidToken,
    #[error("the WebAuthn challenge is unknown, expired or used")]
    UnknownChallenge,
    #[error("the CSRF token is missing or wrong")]
    Csrf,
    #[error("password rejected")]
    Password(#[from] PasswordRejected),
    #[error("invalid email")]
    Email(#[from] InvalidEmail),
    #[error("{0}")]
    Invalid(&'static str),
    #[error("{0}")]
    Conflict(&'static str),
    #[error("the one-time bootstrap was already used")]
    BootstrapUsed,
    #[error("not found")]
    NotFound,
    #[error("the passkey ceremony failed")]
    Passkey(#[source] PasskeyError),
    #[error("passkeys are not configured")]
    PasskeysDisabled,
    #[error("the account store failed")]
    Store(#[from] StoreError),
    #[error("the audit event could not be written")]
    Audit(#[from] AuditError),
    #[error("the signing key is unavailable")]
    SigningKey(#[from] SigningKeyError),
    #[error("signing failed")]
    Sign(#[from] SignError),
    #[error("internal failure")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<NoRandomness> for AuthError {
    fn from(error: NoRandomness) -> Self {
        Self::Internal(Box::new(error))
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        use http::StatusCode;
        match error {
            AuthError::InvalidCredentials => {
                ApiError::new(StatusCode::UNAUTHORIZED, "invalid-credentials", "Invalid credentials")
                    .with_detail("the email, password or code is incorrect")
            }
            AuthError::Throttled(retry) => ApiError::too_many_requests(retry),
            AuthError::InvalidToken => ApiError::new(StatusCode::UNAUTHORIZED, "invalid-token", "Invalid token")
                .with_detail("the token is unknown, expired, used or revoked"),
            AuthError::UnknownChallenge => ApiError::bad_request("the challenge is unknown, expired or already used"),
            AuthError::Csrf => ApiError::forbidden().with_detail("send the CSRF token of this session in X-CSRF-Token"),
            AuthError::Password(reason) => ApiError::unprocessable(reason.to_string()),
            AuthError::Email(_) => ApiError::unprocessable("email is not a valid email address"),
            AuthError::Invalid(detail) => ApiError::unprocessable(detail),
            AuthError::Conflict(detail) => ApiError::conflict(detail),
            AuthError::BootstrapUsed => ApiError::new(StatusCode::GONE, "bootstrap-used", "The bootstrap was used")
                .with_detail("the first admin exists; sign in, or ask an admin for an invite"),
            AuthError::NotFound => ApiError::not_found(),
            AuthError::Passkey(source) => {
                ApiError::bad_request("the passkey could not be verified").with_source(source)
            }
            AuthError::PasskeysDisabled => ApiError::new(StatusCode::NOT_FOUND, "not-found", "Not found")
                .with_detail("passkeys are not configured on this stack"),
            AuthError::Store(source) => ApiError::unavailable(source),
            other => ApiError::internal(other),
        }
    }
}

/// A signed-in session's tokens.
#[derive(Debug)]
pub struct TokenPair {
    pub access: IssuedToken,
    pub refresh: Secret<String>,
    /// Seconds the refresh token can live at most (the cookie's `Max-Age`).
    pub refresh_max_age: u64,
    /// The session's CSRF token, when the refresh token travels in a cookie.
    pub csrf: Option<Secret<String>>,
    pub cookie: bool,
}

/// The result of a password sign-in.
#[derive(Debug)]
pub enum LoginOutcome {
    Signed(Box<TokenPair>),
    /// The user has a second factor: finish with it and this token.
    MfaRequired {
        mfa_token: Secret<String>,
        methods: Vec<&'static str>,
    },
}

/// How a refresh token was presented.
#[derive(Debug, Clone)]
pub struct RefreshCredential {
    pub token: String,
    /// It came in the session cookie (so the CSRF token must come too).
    pub via_cookie: bool,
    /// The `X-CSRF-Token` header.
    pub csrf: Option<String>,
}

/// A passkey ceremony's first half: its id and the browser's options.
#[derive(Debug)]
pub struct PasskeyStart<T> {
    pub challenge_id: Secret<String>,
    pub options: T,
}

/// A page of users.
#[derive(Debug)]
pub struct UserPage {
    pub users: Vec<User>,
    pub next: Option<String>,
}

/// The account service. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Accounts {
    store: AccountStore,
    passwords: Passwords,
    issuer: TokenIssuer,
    signing: Arc<CurrentSigningKey>,
    audit: Arc<dyn AuditLog>,
    passkeys: Option<Passkeys>,
    sessions: SessionSettings,
    throttle: ThrottleSettings,
}

fn now() -> i64 {
    Utc::now().timestamp()
}

fn secs(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

impl Accounts {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: AccountStore,
        passwords: Passwords,
        issuer: TokenIssuer,
        signing: Arc<CurrentSigningKey>,
        audit: Arc<dyn AuditLog>,
        passkeys: Option<Passkeys>,
        sessions: SessionSettings,
        throttle: ThrottleSettings,
    ) -> Self {
        Self { store, passwords, issuer, signing, audit, passkeys, sessions, throttle }
    }

    pub fn store(&self) -> &AccountStore {
        &self.store
    }

    pub fn sessions(&self) -> SessionSettings {
        self.sessions
    }

    async fn audit(&self, event: AuditEvent, meta: &RequestMeta) -> Result<(), AuthError> {
        let mut event = event;
        if let Some(ip) = &meta.source_ip {
            event = event.with_source_ip(ip.clone());
        }
        if let Some(id) = meta.request_id.clone().or_else(medvault_http::correlation_id) {
            event = event.with_request_id(id);
        }
        self.audit.append(event).await?;
        Ok(())
    }

    fn event(user: Option<&User>, action: &str, outcome: Outcome) -> AuditEvent {
        match user {
            Some(user) => AuditEvent::new(user.id.to_string(), action, outcome)
                .with_roles(user.roles.iter().map(|r| r.as_str()))
                .with_resource(format!("user:{}", user.id)),
            None => AuditEvent::new("anonymous", action, outcome),
        }
    }

    /// Runs argon2 off the async runtime's threads.
    async fn verify_password(&self, candidate: &str, stored: Option<String>) -> Result<bool, AuthError> {
        let passwords = self.passwords.clone();
        let candidate = Secret::new(candidate.to_owned());
        tokio::task::spawn_blocking(move || passwords.verify(candidate.expose(), stored.as_deref()))
            .await
            .map_err(|e| AuthError::Internal(Box::new(e)))
    }

    async fn hash_password(&self, password: NewPassword) -> Result<String, AuthError> {
        let passwords = self.passwords.clone();
        tokio::task::spawn_blocking(move || passwords.hash(&password))
            .await
            .map_err(|e| AuthError::Internal(Box::new(e)))?
            .map_err(|e| AuthError::Internal(Box::new(e)))
    }

    fn throttle_keys(&self, email: &str, meta: &RequestMeta) -> Vec<ThrottleKey> {
        let mut keys = vec![ThrottleKey::account(email, self.throttle.account)];
        if let Some(ip) = &meta.source_ip {
            keys.push(ThrottleKey::source(ip, self.throttle.source));
        }
        keys
    }

    /// `Err(Throttled)` while any of `keys` is locked.
    async fn check_throttle(&self, keys: &[ThrottleKey]) -> Result<(), AuthError> {
        let now = now();
        let mut wait = 0;
        for key in keys {
            let state = self.store.throttle(key).await?;
            wait = wait.max(state.locked_until - now);
        }
        if wait > 0 { Err(AuthError::Throttled(Duration::from_secs(wait.unsigned_abs()))) } else { Ok(()) }
    }

    async fn record_failures(&self, keys: &[ThrottleKey]) -> Result<(), AuthError> {
        for key in keys {
            self.store.record_failure(key).await?;
        }
        Ok(())
    }

    // ------------------------------------------------------------------ sign-in

    /// `POST /v1/auth/login`.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        cookie: bool,
        meta: &RequestMeta,
    ) -> Result<LoginOutcome, AuthError> {
        let email = Email::parse(email)?;
        let keys = self.throttle_keys(email.as_str(), meta);
        if let Err(throttled) = self.check_throttle(&keys).await {
            self.audit(Self::event(None, "auth.login", Outcome::Failure).with_reason("throttled"), meta).await?;
            return Err(throttled);
        }
        let user = self.store.user_by_email(email.as_str()).await?;
        let stored = user.as_ref().filter(|u| u.status == UserStatus::Active).and_then(|u| u.password_hash.clone());
        if !self.verify_password(password, stored).await? {
            self.record_failures(&keys).await?;
            let reason = match &user {
                None => "unknown-account",
                Some(u) if u.status != UserStatus::Active => "account-not-active",
                Some(_) => "bad-password",
            };
            self.audit(Self::event(user.as_ref(), "auth.login", Outcome::Failure).with_reason(reason), meta).await?;
            return Err(AuthError::InvalidCredentials);
        }
        let Some(user) = user else { return Err(AuthError::InvalidCredentials) };
        self.store.clear_throttle(&keys[0]).await?;
        let mut methods = Vec::new();
        if user.has_totp() {
            methods.push("totp");
        }
        if user.passkey_count() > 0 && self.passkeys.is_some() {
            methods.push("webauthn");
        }
        if !methods.is_empty() {
            let mfa_token = opaque_token("mvm_")?;
            let challenge = Challenge {
                kind: "mfa".into(),
                user_id: user.id,
                state: String::new(),
                amr: vec![AuthMethod::Pwd],
                mfa_hash: None,
                cookie,
                attempts: 0,
                expires_at: now() + secs(self.sessions.challenge),
            };
            self.store.put_challenge(&token_hash(mfa_token.expose()), &challenge).await?;
            self.audit(Self::event(Some(&user), "auth.login", Outcome::Success).with_reason("mfa-required"), meta)
                .await?;
            return Ok(LoginOutcome::MfaRequired { mfa_token, methods });
        }
        let pair = self.start_session(&user, vec![AuthMethod::Pwd], cookie).await?;
        self.audit(Self::event(Some(&user), "auth.login", Outcome::Success), meta).await?;
        Ok(LoginOutcome::Signed(Box::new(pair)))
    }

    async fn start_session(&self, user: &User, amr: Vec<AuthMethod>, cookie: bool) -> Result<TokenPair, AuthError> {
        let now = now();
        let session_id = uuid::Uuid::new_v4().to_string();
        let refresh = opaque_token(REFRESH_PREFIX)?;
        let csrf = if cookie { Some(opaque_token("mvx_")?) } else { None };
        let absolute = now + secs(self.sessions.absolute);
        let idle = (now + secs(self.sessions.idle)).min(absolute);
        let session = Session {
            id: session_id.clone(),
            user_id: user.id,
            amr: amr.clone(),
            created_at: now,
            absolute_expires_at: absolute,
            idle_expires_at: idle,
            revoked: false,
            csrf_hash: csrf.as_ref().map(|c| token_hash(c.expose())),
        };
        let record = RefreshRecord {
            hash: token_hash(refresh.expose()),
            user_id: user.id,
            session_id: session_id.clone(),
            used: false,
            expires_at: idle,
        };
        self.store.create_session(&session, &record).await?;
        let key = self.signing.get().await?;
        let access = self.issuer.issue(&key, user.id, &user.roles, &amr, &session_id)?;
        Ok(TokenPair { access, refresh, refresh_max_age: self.sessions.absolute.as_secs(), csrf, cookie })
    }

    /// A live MFA challenge of an active user, and the throttle keys of that user's account.
    async fn mfa_challenge(
        &self,
        mfa_token: &str,
        meta: &RequestMeta,
    ) -> Result<(String, Challenge, User, Vec<ThrottleKey>), AuthError> {
        let hash = token_hash(mfa_token);
        let challenge =
            self.store.challenge(&hash).await?.filter(|c| c.kind == "mfa").ok_or(AuthError::InvalidToken)?;
        let user = self
            .store
            .user(challenge.user_id)
            .await?
            .filter(|u| u.status == UserStatus::Active)
            .ok_or(AuthError::InvalidToken)?;
        let keys = self.throttle_keys(&user.email, meta);
        self.check_throttle(&keys).await?;
        Ok((hash, challenge, user, keys))
    }

    /// `POST /v1/auth/mfa/totp`: a TOTP code (single use within its window) or a recovery code (single use).
    pub async fn verify_totp(&self, mfa_token: &str, code: &str, meta: &RequestMeta) -> Result<TokenPair, AuthError> {
        let (hash, challenge, user, keys) = self.mfa_challenge(mfa_token, meta).await?;
        let (accepted, reason) = if otp::is_recovery_code(code) {
            let used = self.store.use_recovery_code(user.id, &otp::recovery_code_hash(code)).await?;
            (used, "bad-recovery-code")
        } else {
            let secret = user.totp_secret.as_deref().map(TotpSecret::from_base32).transpose().ok().flatten();
            let unix = u64::try_from(now()).unwrap_or_default();
            match secret.and_then(|s| s.matching_step(code, unix)) {
                Some(step) if step > user.totp_last_step => {
                    (self.store.use_totp_step(user.id, step).await?, "replayed-code")
                }
                Some(_) => (false, "replayed-code"),
                None => (false, "bad-code"),
            }
        };
        if !accepted {
            self.store.fail_challenge(&hash, MFA_ATTEMPTS).await?;
            self.record_failures(&keys).await?;
            self.audit(Self::event(Some(&user), "auth.mfa", Outcome::Failure).with_reason(reason), meta).await?;
            return Err(AuthError::InvalidCredentials);
        }
        self.store.take_challenge(&hash).await?.ok_or(AuthError::InvalidToken)?;
        self.store.clear_throttle(&keys[0]).await?;
        let pair = self.start_session(&user, vec![AuthMethod::Pwd, AuthMethod::Otp], challenge.cookie).await?;
        self.audit(Self::event(Some(&user), "auth.mfa", Outcome::Success).with_reason("otp"), meta).await?;
        Ok(pair)
    }

    fn passkeys(&self) -> Result<&Passkeys, AuthError> {
        self.passkeys.as_ref().ok_or(AuthError::PasskeysDisabled)
    }

    /// `POST /v1/auth/webauthn/login/start`: a passkey assertion as the second factor of a password sign-in.
    pub async fn start_passkey_login(
        &self,
        mfa_token: &str,
        meta: &RequestMeta,
    ) -> Result<PasskeyStart<RequestChallengeResponse>, AuthError> {
        let passkeys = self.passkeys()?;
        let (mfa_hash, mfa, user, _) = self.mfa_challenge(mfa_token, meta).await?;
        if user.passkey_count() == 0 {
            return Err(AuthError::Invalid("no passkey is registered for this account"));
        }
        let (options, state) = passkeys.start_authentication(&user.passkeys).map_err(AuthError::Passkey)?;
        let challenge_id = opaque_token("mvc_")?;
        let challenge = Challenge {
            kind: "webauthn-login".into(),
            user_id: user.id,
            state,
            amr: mfa.amr,
            mfa_hash: Some(mfa_hash),
            cookie: mfa.cookie,
            attempts: 0,
            expires_at: now() + secs(self.sessions.challenge),
        };
        self.store.put_challenge(&token_hash(challenge_id.expose()), &challenge).await?;
        Ok(PasskeyStart { challenge_id, options })
    }

    /// `POST /v1/auth/webauthn/login/finish`.
    pub async fn finish_passkey_login(
        &self,
        challenge_id: &str,
        credential: &PublicKeyCredential,
        meta: &RequestMeta,
    ) -> Result<TokenPair, AuthError> {
        let passkeys = self.passkeys()?;
        let challenge = self
            .store
            .take_challenge(&token_hash(challenge_id))
            .await?
            .filter(|c| c.kind == "webauthn-login")
            .ok_or(AuthError::UnknownChallenge)?;
        let user = self
            .store
            .user(challenge.user_id)
            .await?
            .filter(|u| u.status == UserStatus::Active)
            .ok_or(AuthError::InvalidToken)?;
        let keys = self.throttle_keys(&user.email, meta);
        let mfa_hash = challenge.mfa_hash.clone().unwrap_or_default();
        let updated = match passkeys.finish_authentication(credential, &challenge.state, &user.passkeys) {
            Ok(updated) => updated,
            Err(error) => {
                tracing::info!(error = %medvault_platform::error::chain(&error), "passkey assertion refused");
                self.store.fail_challenge(&mfa_hash, MFA_ATTEMPTS).await?;
                self.record_failures(&keys).await?;
                self.audit(
                    Self::event(Some(&user), "auth.mfa", Outcome::Failure).with_reason("webauthn-refused"),
                    meta,
                )
                .await?;
                return Err(AuthError::InvalidCredentials);
            }
        };
        self.store.take_challenge(&mfa_hash).await?.ok_or(AuthError::InvalidToken)?;
        if let Some(passkeys) = updated {
            // A lost race only loses a counter update; the assertion itself was verified.
            self.store.set_passkeys(user.id, &passkeys, user.version).await?;
        }
        self.store.clear_throttle(&keys[0]).await?;
        let mut amr = challenge.amr.clone();
        amr.push(AuthMethod::Hwk);
        let pair = self.start_session(&user, amr, challenge.cookie).await?;
        self.audit(Self::event(Some(&user), "auth.mfa", Outcome::Success).with_reason("webauthn"), meta).await?;
        Ok(pair)
    }

    // ------------------------------------------------------------------ sessions

    /// `POST /v1/auth/refresh`: the refresh token is used up and replaced; presenting a used one revokes its whole
    /// session (the family) and is audited.
    pub async fn refresh(&self, credential: &RefreshCredential, meta: &RequestMeta) -> Result<TokenPair, AuthError> {
        if !credential.token.starts_with(REFRESH_PREFIX) {
            return Err(AuthError::InvalidToken);
        }
        let hash = token_hash(&credential.token);
        let record = self.store.refresh_record(&hash).await?.ok_or(AuthError::InvalidToken)?;
        let user = self.store.user(record.user_id).await?;
        if record.used {
            return self.refresh_reused(&record, user.as_ref(), meta).await;
        }
        let session = self.store.session(record.user_id, &record.session_id).await?.ok_or(AuthError::InvalidToken)?;
        // The CSRF check comes before the token is used up, so a forged request cannot burn a victim's token.
        if credential.via_cookie {
            let presented = credential.csrf.as_deref().map(token_hash);
            if session.csrf_hash.is_none() || presented != session.csrf_hash {
                self.audit(Self::event(user.as_ref(), "auth.refresh", Outcome::Failure).with_reason("csrf"), meta)
                    .await?;
                return Err(AuthError::Csrf);
            }
        }
        if !self.store.consume_refresh(&hash).await? {
            return self.refresh_reused(&record, user.as_ref(), meta).await;
        }
        let now = now();
        let expired = now >= session.absolute_expires_at || now >= session.idle_expires_at || now >= record.expires_at;
        let user = user.filter(|u| u.status == UserStatus::Active);
        let refusal = match (&user, session.revoked, expired) {
            (None, _, _) => Some("account-not-active"),
            (_, true, _) => Some("session-revoked"),
            (_, _, true) => Some("session-expired"),
            _ => None,
        };
        let Some(user) = user.filter(|_| refusal.is_none()) else {
            self.audit(
                AuditEvent::new(record.user_id.to_string(), "auth.refresh", Outcome::Failure)
                    .with_resource(format!("session:{}", session.id))
                    .with_reason(refusal.unwrap_or("refused")),
                meta,
            )
            .await?;
            return Err(AuthError::InvalidToken);
        };
        let refresh = opaque_token(REFRESH_PREFIX)?;
        let idle = (now + secs(self.sessions.idle)).min(session.absolute_expires_at);
        let next = RefreshRecord {
            hash: token_hash(refresh.expose()),
            user_id: user.id,
            session_id: session.id.clone(),
            used: false,
            expires_at: idle,
        };
        if !self.store.rotate_refresh(&next, idle).await? {
            return Err(AuthError::InvalidToken);
        }
        let key = self.signing.get().await?;
        let access = self.issuer.issue(&key, user.id, &user.roles, &session.amr, &session.id)?;
        self.audit(
            Self::event(Some(&user), "auth.refresh", Outcome::Success).with_resource(format!("session:{}", session.id)),
            meta,
        )
        .await?;
        let remaining = u64::try_from(session.absolute_expires_at - now).unwrap_or_default();
        Ok(TokenPair { access, refresh, refresh_max_age: remaining, csrf: None, cookie: credential.via_cookie })
    }

    /// A used refresh token came back: someone holds a copy. The whole family is revoked and the event audited.
    async fn refresh_reused(
        &self,
        record: &RefreshRecord,
        user: Option<&User>,
        meta: &RequestMeta,
    ) -> Result<TokenPair, AuthError> {
        self.store.revoke_session(record.user_id, &record.session_id, "refresh-token-reuse").await?;
        let event = Self::event(user, "auth.refresh.reuse", Outcome::Failure)
            .with_resource(format!("session:{}", record.session_id))
            .with_reason("refresh-token-reuse");
        self.audit(event, meta).await?;
        Err(AuthError::InvalidToken)
    }

    /// `POST /v1/auth/logout`: ends the session of a refresh token. Unknown tokens are accepted silently.
    pub async fn logout(&self, credential: &RefreshCredential, meta: &RequestMeta) -> Result<(), AuthError> {
        let hash = token_hash(&credential.token);
        let Some(record) = self.store.refresh_record(&hash).await? else { return Ok(()) };
        if credential.via_cookie {
            let session = self.store.session(record.user_id, &record.session_id).await?;
            let presented = credential.csrf.as_deref().map(token_hash);
            if session.and_then(|s| s.csrf_hash).is_none_or(|expected| presented.as_ref() != Some(&expected)) {
                return Err(AuthError::Csrf);
            }
        }
        self.store.revoke_session(record.user_id, &record.session_id, "logout").await?;
        let user = self.store.user(record.user_id).await?;
        self.audit(
            Self::event(user.as_ref(), "auth.logout", Outcome::Success)
                .with_resource(format!("session:{}", record.session_id)),
            meta,
        )
        .await
    }

    /// Checks that the principal's session is still live (not logged out, revoked, or of a disabled user): the
    /// auth API's own routes refuse a revoked session at once, before its access token expires.
    pub async fn live_user(&self, principal: &Principal) -> Result<User, AuthError> {
        let session = self.store.session(principal.user_id, &principal.session_id).await?;
        let user = self.store.user(principal.user_id).await?;
        match (session, user) {
            (Some(session), Some(user))
                if !session.revoked && user.status == UserStatus::Active && session.absolute_expires_at > now() =>
            {
                Ok(user)
            }
            _ => Err(AuthError::InvalidToken),
        }
    }

    /// `POST /v1/auth/logout-all`: every session of the caller, this one included.
    pub async fn logout_all(&self, principal: &Principal, meta: &RequestMeta) -> Result<usize, AuthError> {
        let user = self.live_user(principal).await?;
        let revoked = self.store.revoke_sessions(user.id, None, "logout-all").await?;
        self.audit(Self::event(Some(&user), "auth.logout_all", Outcome::Success), meta).await?;
        Ok(revoked)
    }

    /// `POST /v1/auth/password`: needs the current password; revokes every other session.
    pub async fn change_password(
        &self,
        principal: &Principal,
        current: &str,
        new: &str,
        meta: &RequestMeta,
    ) -> Result<(), AuthError> {
        let user = self.live_user(principal).await?;
        let keys = self.throttle_keys(&user.email, meta);
        self.check_throttle(&keys).await?;
        if !self.verify_password(current, user.password_hash.clone()).await? {
            self.record_failures(&keys).await?;
            self.audit(
                Self::event(Some(&user), "auth.password.change", Outcome::Failure).with_reason("bad-password"),
                meta,
            )
            .await?;
            return Err(AuthError::InvalidCredentials);
        }
        let hash = self.hash_password(NewPassword::parse(new)?).await?;
        if !self.store.set_password(user.id, &hash, false).await? {
            return Err(AuthError::NotFound);
        }
        let revoked = self.store.revoke_sessions(user.id, Some(&principal.session_id), "password-change").await?;
        tracing::info!(revoked, "other sessions revoked after a password change");
        self.audit(Self::event(Some(&user), "auth.password.change", Outcome::Success), meta).await
    }

    // ------------------------------------------------------------------ enrolment

    /// `POST /v1/auth/mfa/totp/enroll`: a new secret, pending until confirmed with a code.
    pub async fn enroll_totp(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
    ) -> Result<(TotpSecret, String), AuthError> {
        let user = self.live_user(principal).await?;
        if user.has_totp() {
            return Err(AuthError::Conflict("TOTP is already enabled for this account"));
        }
        let secret = TotpSecret::generate()?;
        let uri = secret.otpauth_uri(&user.email).map_err(|e| AuthError::Internal(Box::new(e)))?;
        if !self.store.set_totp_pending(user.id, &secret.to_base32()).await? {
            return Err(AuthError::Conflict("TOTP is already enabled for this account"));
        }
        self.audit(Self::event(Some(&user), "auth.totp.enroll", Outcome::Success).with_reason("started"), meta).await?;
        Ok((secret, uri))
    }

    /// `POST /v1/auth/mfa/totp/confirm`: a code of the pending secret turns TOTP on; returns ten recovery codes.
    pub async fn confirm_totp(
        &self,
        principal: &Principal,
        code: &str,
        meta: &RequestMeta,
    ) -> Result<Vec<Secret<String>>, AuthError> {
        let user = self.live_user(principal).await?;
        let pending = user.totp_pending.clone().ok_or(AuthError::Conflict("no TOTP enrolment is in progress"))?;
        let secret = TotpSecret::from_base32(&pending).map_err(|e| AuthError::Internal(Box::new(e)))?;
        let unix = u64::try_from(now()).unwrap_or_default();
        let Some(step) = secret.matching_step(code, unix) else {
            let keys = self.throttle_keys(&user.email, meta);
            self.record_failures(&keys).await?;
            self.audit(Self::event(Some(&user), "auth.totp.enroll", Outcome::Failure).with_reason("bad-code"), meta)
                .await?;
            return Err(AuthError::Invalid("the code does not match the secret being enrolled"));
        };
        let (codes, hashes) = otp::recovery_codes()?;
        if !self.store.confirm_totp(user.id, &pending, step, &hashes).await? {
            return Err(AuthError::Conflict("the enrolment changed meanwhile; start again"));
        }
        self.audit(Self::event(Some(&user), "auth.totp.enroll", Outcome::Success).with_reason("confirmed"), meta)
            .await?;
        Ok(codes)
    }

    /// `POST /v1/auth/webauthn/register/start`.
    pub async fn start_passkey_registration(
        &self,
        principal: &Principal,
    ) -> Result<PasskeyStart<CreationChallengeResponse>, AuthError> {
        let passkeys = self.passkeys()?;
        let user = self.live_user(principal).await?;
        let (options, state) =
            passkeys.start_registration(user.id, &user.email, &user.passkeys).map_err(AuthError::Passkey)?;
        let challenge_id = opaque_token("mvc_")?;
        let challenge = Challenge {
            kind: "webauthn-register".into(),
            user_id: user.id,
            state,
            amr: principal.amr.clone(),
            mfa_hash: None,
            cookie: false,
            attempts: 0,
            expires_at: now() + secs(self.sessions.challenge),
        };
        self.store.put_challenge(&token_hash(challenge_id.expose()), &challenge).await?;
        Ok(PasskeyStart { challenge_id, options })
    }

    /// `POST /v1/auth/webauthn/register/finish`: returns how many passkeys the user now has.
    pub async fn finish_passkey_registration(
        &self,
        principal: &Principal,
        challenge_id: &str,
        credential: &RegisterPublicKeyCredential,
        meta: &RequestMeta,
    ) -> Result<usize, AuthError> {
        let passkeys = self.passkeys()?;
        let user = self.live_user(principal).await?;
        let challenge = self
            .store
            .take_challenge(&token_hash(challenge_id))
            .await?
            .filter(|c| c.kind == "webauthn-register" && c.user_id == user.id)
            .ok_or(AuthError::UnknownChallenge)?;
        let all = match passkeys.finish_registration(credential, &challenge.state, &user.passkeys) {
            Ok(all) => all,
            Err(error) => {
                self.audit(
                    Self::event(Some(&user), "auth.webauthn.register", Outcome::Failure).with_reason("ceremony-failed"),
                    meta,
                )
                .await?;
                return Err(AuthError::Passkey(error));
            }
        };
        if !self.store.set_passkeys(user.id, &all, user.version).await? {
            return Err(AuthError::Conflict("the account changed meanwhile; start again"));
        }
        self.audit(Self::event(Some(&user), "auth.webauthn.register", Outcome::Success), meta).await?;
        Ok(user.passkey_count() + 1)
    }

    // ------------------------------------------------------------------ administration

    /// `POST /v1/admin/users`: an invited user and their single-use, expiring invite token.
    pub async fn create_user(
        &self,
        admin: &Principal,
        email: &str,
        roles: &[Role],
        meta: &RequestMeta,
    ) -> Result<(User, Secret<String>), AuthError> {
        let email = Email::parse(email)?;
        let roles = distinct(roles)?;
        let user = User {
            id: UserId::new(),
            email: email.as_str().to_owned(),
            roles,
            status: UserStatus::Invited,
            password_hash: None,
            totp_secret: None,
            totp_last_step: 0,
            totp_pending: None,
            recovery_codes: Vec::new(),
            passkeys: "[]".into(),
            created_at: Utc::now(),
            version: 0,
        };
        if !self.store.create_user(&user).await? {
            return Err(AuthError::Conflict("a user with this email exists"));
        }
        let invite = opaque_token("mvi_")?;
        self.store.put_invite(&token_hash(invite.expose()), user.id, now() + secs(self.sessions.invite)).await?;
        let event = admin
            .audit_event("admin.user.create", Outcome::Success)
            .with_resource(format!("user:{}", user.id))
            .with_reason(format!("roles:{}", user.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join("+")));
        self.audit(event, meta).await?;
        Ok((user, invite))
    }

    /// `GET /v1/admin/users`, by email, `limit` per page.
    pub async fn list_users(&self, limit: u32, cursor: Option<&str>) -> Result<UserPage, AuthError> {
        let after = match cursor {
            Some(cursor) => Some(decode_cursor(cursor).ok_or(AuthError::Invalid("the cursor is malformed"))?),
            None => None,
        };
        let limit = i32::try_from(limit.clamp(1, 100)).unwrap_or(50);
        let (users, next) = self.store.list_users(limit, after).await?;
        Ok(UserPage { users, next: next.map(|(email, id)| encode_cursor(&email, id)) })
    }

    /// `PATCH /v1/admin/users/{id}`: new roles and/or disabled state. Disabling revokes every session.
    pub async fn update_user(
        &self,
        admin: &Principal,
        id: UserId,
        roles: Option<&[Role]>,
        disabled: Option<bool>,
        meta: &RequestMeta,
    ) -> Result<User, AuthError> {
        let user = self.store.user(id).await?.ok_or(AuthError::NotFound)?;
        if id == admin.user_id && (disabled == Some(true) || roles.is_some_and(|r| !r.contains(&Role::Admin))) {
            return Err(AuthError::Conflict("admins cannot disable themselves or drop their own admin role"));
        }
        if let Some(roles) = roles {
            let roles = distinct(roles)?;
            self.store.set_roles(id, &roles).await?;
            let event = admin
                .audit_event("admin.user.update", Outcome::Success)
                .with_resource(format!("user:{id}"))
                .with_reason(format!("roles:{}", roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join("+")));
            self.audit(event, meta).await?;
        }
        match disabled {
            Some(true) => {
                self.store.set_status(id, UserStatus::Disabled).await?;
                let revoked = self.store.revoke_sessions(id, None, "user-disabled").await?;
                tracing::info!(revoked, "sessions revoked for a disabled user");
                let event = admin
                    .audit_event("admin.user.update", Outcome::Success)
                    .with_resource(format!("user:{id}"))
                    .with_reason("disabled");
                self.audit(event, meta).await?;
            }
            Some(false) if user.status == UserStatus::Disabled => {
                let status = if user.password_hash.is_some() { UserStatus::Active } else { UserStatus::Invited };
                self.store.set_status(id, status).await?;
                let event = admin
                    .audit_event("admin.user.update", Outcome::Success)
                    .with_resource(format!("user:{id}"))
                    .with_reason("enabled");
                self.audit(event, meta).await?;
            }
            _ => {}
        }
        self.store.user(id).await?.ok_or(AuthError::NotFound)
    }

    /// `POST /v1/auth/invite/accept`: sets the invited user's password. The password is checked before the invite is
    /// used up, so a refused password does not burn it.
    pub async fn accept_invite(&self, invite: &str, password: &str, meta: &RequestMeta) -> Result<User, AuthError> {
        let password = NewPassword::parse(password)?;
        let user_id = self.store.take_invite(&token_hash(invite)).await?.ok_or(AuthError::InvalidToken)?;
        let user = self
            .store
            .user(user_id)
            .await?
            .filter(|u| u.status == UserStatus::Invited)
            .ok_or(AuthError::InvalidToken)?;
        let hash = self.hash_password(password).await?;
        if !self.store.set_password(user.id, &hash, true).await? {
            return Err(AuthError::InvalidToken);
        }
        self.audit(Self::event(Some(&user), "auth.invite.accept", Outcome::Success), meta).await?;
        self.store.user(user.id).await?.ok_or(AuthError::NotFound)
    }

    /// The deployed stack's one-time bootstrap: with the setup token (the value of the bootstrap secret), creates the
    /// first admin. Works once: afterwards it answers `410`.
    pub async fn bootstrap(
        &self,
        expected_setup_token: &str,
        setup_token: &str,
        email: &str,
        password: &str,
        meta: &RequestMeta,
    ) -> Result<User, AuthError> {
        let source = meta.source_ip.as_deref().map(|ip| ThrottleKey::source(ip, self.throttle.account));
        let keys: Vec<ThrottleKey> = source.into_iter().collect();
        self.check_throttle(&keys).await?;
        let matches = expected_setup_token.len() >= 32
            && aws_lc_rs::constant_time::verify_slices_are_equal(
                expected_setup_token.as_bytes(),
                setup_token.as_bytes(),
            )
            .is_ok();
        if !matches {
            self.record_failures(&keys).await?;
            self.audit(Self::event(None, "auth.bootstrap", Outcome::Failure).with_reason("bad-setup-token"), meta)
                .await?;
            return Err(AuthError::InvalidToken);
        }
        let email = Email::parse(email)?;
        let hash = self.hash_password(NewPassword::parse(password)?).await?;
        let user = active_admin(&email, hash);
        if !self.store.claim_bootstrap(user.id).await? {
            return Err(AuthError::BootstrapUsed);
        }
        match self.store.create_user(&user).await {
            Ok(true) => {}
            Ok(false) => {
                self.store.release_bootstrap().await?;
                return Err(AuthError::Conflict("a user with this email exists"));
            }
            Err(error) => {
                self.store.release_bootstrap().await?;
                return Err(error.into());
            }
        }
        self.audit(Self::event(Some(&user), "auth.bootstrap", Outcome::Success), meta).await?;
        Ok(user)
    }

    /// The local stack's dev admin (`Stage=local` only; the caller checks): created once, left alone afterwards.
    pub async fn seed_dev_admin(&self, email: &str, password: &str) -> Result<bool, AuthError> {
        let email = Email::parse(email)?;
        if self.store.user_by_email(email.as_str()).await?.is_some() {
            return Ok(false);
        }
        let hash = self.hash_password(NewPassword::parse(password)?).await?;
        let user = active_admin(&email, hash);
        if !self.store.create_user(&user).await? {
            return Ok(false);
        }
        self.audit(
            Self::event(Some(&user), "admin.user.create", Outcome::Success).with_reason("local-dev-admin"),
            &RequestMeta::default(),
        )
        .await?;
        Ok(true)
    }
}

fn active_admin(email: &Email, password_hash: String) -> User {
    User {
        id: UserId::new(),
        email: email.as_str().to_owned(),
        roles: vec![Role::Admin],
        status: UserStatus::Active,
        password_hash: Some(password_hash),
        totp_secret: None,
        totp_last_step: 0,
        totp_pending: None,
        recovery_codes: Vec::new(),
        passkeys: "[]".into(),
        created_at: Utc::now(),
        version: 0,
    }
}

fn distinct(roles: &[Role]) -> Result<Vec<Role>, AuthError> {
    let mut roles = roles.to_vec();
    roles.sort();
    roles.dedup();
    if roles.is_empty() {
        return Err(AuthError::Invalid("a user needs at least one role"));
    }
    Ok(roles)
}

fn encode_cursor(email: &str, id: UserId) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::json!([email, id.to_string()]).to_string())
}

fn decode_cursor(cursor: &str) -> Option<(String, UserId)> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let (email, id): (String, String) = serde_json::from_slice(&bytes).ok()?;
    Some((email, id.parse().ok()?))
}
