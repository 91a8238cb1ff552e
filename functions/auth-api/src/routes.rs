//! The auth API's routes: each translates its request into a call on `medvault_auth::accounts` and the result into
//! a response.

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use medvault_auth::accounts::{LoginOutcome, RefreshCredential, RequestMeta, TokenPair};
use medvault_auth::keys::Jwks;
use medvault_auth::store::{User, UserStatus};
use medvault_auth::{Authorizer, Permission, Principal, Role, UserId, require, source_ip};
use medvault_http::{ApiError, Json, Problem};
use medvault_platform::Secret;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::cookie;

/// Every route: the public ones as they are, the signed-in ones behind the authorization layer, and the admin ones
/// also behind `users:admin`.
pub(crate) fn router(state: AppState, authorizer: &Authorizer) -> OpenApiRouter {
    let public = OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(verify_totp))
        .routes(routes!(passkey_login_start))
        .routes(routes!(passkey_login_finish))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(accept_invite))
        .routes(routes!(bootstrap))
        .routes(routes!(jwks));
    let admin = OpenApiRouter::new()
        .routes(routes!(create_user, list_users))
        .routes(routes!(update_user))
        .route_layer(require(Permission::UsersAdmin));
    let signed_in = OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(logout_all))
        .routes(routes!(change_password))
        .routes(routes!(totp_enroll))
        .routes(routes!(totp_confirm))
        .routes(routes!(passkey_register_start))
        .routes(routes!(passkey_register_finish))
        .merge(admin);
    public.merge(authorizer.protect(signed_in)).with_state(state)
}

/// The caller's address and the request id.
pub(crate) struct Meta(RequestMeta);

impl<S: Send + Sync> FromRequestParts<S> for Meta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(RequestMeta {
            source_ip: source_ip(&parts.extensions, &parts.headers),
            request_id: medvault_http::correlation_id(),
        }))
    }
}

// ---------------------------------------------------------------------- bodies

/// `POST /v1/auth/login`.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct LoginRequest {
    email: String,
    #[schema(value_type = String, format = Password)]
    password: Secret<String>,
    /// Put the refresh token in an `HttpOnly` cookie instead of the body (browsers).
    #[serde(default)]
    cookie: bool,
}

/// A signed-in session's tokens.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TokenResponse {
    /// The access token: a JWT (EdDSA, `typ: at+jwt`) to send as `Authorization: Bearer`.
    access_token: String,
    /// Always `Bearer`.
    token_type: &'static str,
    /// Seconds until the access token expires.
    expires_in: u64,
    /// The refresh token (absent when it went into the cookie): single use, replaced at every refresh.
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    /// The session's CSRF token, when the refresh token is in the cookie: send it as `X-CSRF-Token` to refresh or
    /// log out.
    #[serde(skip_serializing_if = "Option::is_none")]
    csrf_token: Option<String>,
}

/// A password sign-in whose user has a second factor.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MfaRequired {
    /// Always `true`.
    mfa_required: bool,
    /// Finish the sign-in with this token (single use, five minutes).
    mfa_token: String,
    /// `totp`, `webauthn`.
    methods: Vec<&'static str>,
}

/// Either tokens, or the request for a second factor.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub(crate) enum LoginResponse {
    Signed(TokenResponse),
    Mfa(MfaRequired),
}

/// `POST /v1/auth/mfa/totp`.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct TotpLogin {
    mfa_token: String,
    /// A six-digit TOTP code or a recovery code (`xxxx-xxxx-xxxx-xxxx`).
    #[schema(value_type = String)]
    code: Secret<String>,
}

/// `POST /v1/auth/refresh` and `POST /v1/auth/logout`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub(crate) struct RefreshRequest {
    /// The refresh token; omit it when it is in the cookie (then send `X-CSRF-Token`).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    refresh_token: Option<Secret<String>>,
}

/// `POST /v1/auth/password`.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct PasswordChange {
    #[schema(value_type = String, format = Password)]
    current_password: Secret<String>,
    /// 12 to 128 characters, any Unicode; not a commonly breached password.
    #[schema(value_type = String, format = Password)]
    new_password: Secret<String>,
}

/// The signed-in user.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Me {
    id: UserId,
    email: String,
    roles: Vec<Role>,
    /// Whether a second factor is enrolled.
    mfa: bool,
    /// The enrolled second factors: `totp`, `webauthn`.
    mfa_methods: Vec<&'static str>,
}

/// `POST /v1/auth/mfa/totp/enroll`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TotpEnrollment {
    /// The secret in base32, for manual entry.
    secret: String,
    /// The `otpauth://totp/...` URI to show as a QR code.
    otpauth_uri: String,
}

/// A code of the secret being enrolled.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct TotpConfirm {
    #[schema(value_type = String)]
    code: Secret<String>,
}

/// Ten single-use recovery codes, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RecoveryCodes {
    recovery_codes: Vec<String>,
}

/// The first half of a passkey ceremony.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PasskeyChallenge {
    /// Send it back with the authenticator's answer (single use, five minutes).
    challenge_id: String,
    /// Pass to `navigator.credentials.create()` / `.get()`.
    #[schema(value_type = Object)]
    options: serde_json::Value,
}

/// `POST /v1/auth/webauthn/login/start`.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct PasskeyLoginStart {
    mfa_token: String,
}

/// The second half of a passkey ceremony.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct PasskeyFinish<T> {
    challenge_id: String,
    /// The `PublicKeyCredential` the browser returned, as JSON.
    #[schema(value_type = Object)]
    credential: T,
}

/// `POST /v1/auth/webauthn/register/finish`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PasskeyRegistered {
    passkeys: usize,
}

/// `POST /v1/admin/users`.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct NewUser {
    email: String,
    roles: Vec<Role>,
}

/// A created user and their invite.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CreatedUser {
    id: UserId,
    /// Single use, valid for 72 hours: hand it to the user, who sets a password with it.
    invite_token: String,
}

/// A user as admins see them.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UserView {
    id: UserId,
    email: String,
    roles: Vec<Role>,
    status: UserStatus,
    mfa: bool,
    created_at: chrono::DateTime<chrono::Utc>,
}

impl From<&User> for UserView {
    fn from(user: &User) -> Self {
        Self {
            id: user.id,
            email: user.email.clone(),
            roles: user.roles.clone(),
            status: user.status,
            mfa: user.has_totp() || user.passkey_count() > 0,
            created_at: user.created_at,
        }
    }
}

/// A page of users.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UserList {
    users: Vec<UserView>,
    /// Pass as `cursor` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

/// `GET /v1/admin/users` parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub(crate) struct ListParams {
    /// 1 to 100 (default 50).
    limit: Option<u32>,
    cursor: Option<String>,
}

/// `PATCH /v1/admin/users/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UserUpdate {
    roles: Option<Vec<Role>>,
    /// `true` disables the user and revokes every session.
    disabled: Option<bool>,
}

/// `POST /v1/auth/invite/accept`.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct InviteAccept {
    invite_token: String,
    #[schema(value_type = String, format = Password)]
    password: Secret<String>,
}

/// `POST /v1/auth/bootstrap`.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct Bootstrap {
    /// The value of the stack's bootstrap secret.
    #[schema(value_type = String)]
    setup_token: Secret<String>,
    email: String,
    #[schema(value_type = String, format = Password)]
    password: Secret<String>,
}

// ---------------------------------------------------------------------- helpers

fn token_response(pair: TokenPair) -> Response {
    let TokenPair { access, refresh, refresh_max_age, csrf, cookie } = pair;
    let body = TokenResponse {
        access_token: access.token,
        token_type: "Bearer",
        expires_in: access.expires_in,
        refresh_token: (!cookie).then(|| refresh.expose().clone()),
        csrf_token: csrf.map(|c| c.expose().clone()),
    };
    let mut response = Json(LoginResponse::Signed(body)).into_response();
    if cookie && let Some(value) = cookie::set_refresh(refresh.expose(), refresh_max_age) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The refresh token from the body, else from the cookie (which then needs the CSRF header); `None` without either.
fn refresh_credential(body: Option<RefreshRequest>, headers: &HeaderMap) -> Option<RefreshCredential> {
    if let Some(token) = body.and_then(|b| b.refresh_token) {
        return Some(RefreshCredential { token: token.expose().clone(), via_cookie: false, csrf: None });
    }
    let token = cookie::refresh_from(headers)?;
    Some(RefreshCredential { token, via_cookie: true, csrf: cookie::csrf_from(headers) })
}

fn no_refresh_token() -> ApiError {
    ApiError::unprocessable("send refresh_token in the body, or the session cookie with X-CSRF-Token")
}

fn enrolled_methods(user: &User) -> Vec<&'static str> {
    let mut methods = Vec::new();
    if user.has_totp() {
        methods.push("totp");
    }
    if user.passkey_count() > 0 {
        methods.push("webauthn");
    }
    methods
}

fn to_json<T: Serialize>(value: &T) -> Result<serde_json::Value, serde_json::Error> {
    serde_json::to_value(value)
}

// ---------------------------------------------------------------------- sign-in

/// Signs in with email and password. Unknown email and wrong password get the same answer in about the same time;
/// repeated failures are throttled per account and per address.
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", request_body = LoginRequest, responses(
    (status = 200, body = LoginResponse, description = "tokens, or `mfa_required` with an MFA token"),
    (status = 401, body = Problem, content_type = "application/problem+json", description = "wrong email or password"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 429, body = Problem, content_type = "application/problem+json", description = "throttled; see Retry-After"),
))]
async fn login(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Json(body): Json<LoginRequest>,
) -> Result<Response, ApiError> {
    match state.accounts.login(&body.email, body.password.expose(), body.cookie, &meta).await? {
        LoginOutcome::Signed(pair) => Ok(token_response(*pair)),
        LoginOutcome::MfaRequired { mfa_token, methods } => Ok(Json(LoginResponse::Mfa(MfaRequired {
            mfa_required: true,
            mfa_token: mfa_token.expose().clone(),
            methods,
        }))
        .into_response()),
    }
}

/// Finishes a sign-in with a TOTP code (each usable once) or a recovery code.
#[utoipa::path(post, path = "/v1/auth/mfa/totp", tag = "auth", request_body = TotpLogin, responses(
    (status = 200, body = TokenResponse),
    (status = 401, body = Problem, content_type = "application/problem+json", description = "wrong, replayed or expired code or token"),
    (status = 429, body = Problem, content_type = "application/problem+json"),
))]
async fn verify_totp(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Json(body): Json<TotpLogin>,
) -> Result<Response, ApiError> {
    let pair = state.accounts.verify_totp(&body.mfa_token, body.code.expose(), &meta).await?;
    Ok(token_response(pair))
}

/// Starts a passkey assertion as the second factor of a sign-in.
#[utoipa::path(post, path = "/v1/auth/webauthn/login/start", tag = "auth", request_body = PasskeyLoginStart, responses(
    (status = 200, body = PasskeyChallenge),
    (status = 401, body = Problem, content_type = "application/problem+json"),
))]
async fn passkey_login_start(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Json(body): Json<PasskeyLoginStart>,
) -> Result<Json<PasskeyChallenge>, ApiError> {
    let start = state.accounts.start_passkey_login(&body.mfa_token, &meta).await?;
    Ok(Json(PasskeyChallenge {
        challenge_id: start.challenge_id.expose().clone(),
        options: to_json(&start.options).map_err(ApiError::internal)?,
    }))
}

/// Finishes a passkey sign-in: the assertion is checked against the challenge (single use), the origin and the
/// relying party.
#[utoipa::path(post, path = "/v1/auth/webauthn/login/finish", tag = "auth", request_body = PasskeyFinish<Object>, responses(
    (status = 200, body = TokenResponse),
    (status = 400, body = Problem, content_type = "application/problem+json", description = "unknown or used challenge"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
))]
async fn passkey_login_finish(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Json(body): Json<PasskeyFinish<webauthn_rs::prelude::PublicKeyCredential>>,
) -> Result<Response, ApiError> {
    let pair = state.accounts.finish_passkey_login(&body.challenge_id, &body.credential, &meta).await?;
    Ok(token_response(pair))
}

/// Exchanges a refresh token for a new pair. Each refresh token works once; presenting a used one ends its
/// session.
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth", request_body = RefreshRequest, responses(
    (status = 200, body = TokenResponse),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json", description = "cookie without its CSRF token"),
))]
async fn refresh(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    Json(body): Json<RefreshRequest>,
) -> Result<Response, ApiError> {
    let credential = refresh_credential(Some(body), &headers).ok_or_else(no_refresh_token)?;
    let pair = state.accounts.refresh(&credential, &meta).await?;
    Ok(token_response(pair))
}

/// Ends the session of a refresh token.
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth", request_body = RefreshRequest, responses(
    (status = 204, description = "the session is over (also for an unknown token)"),
    (status = 403, body = Problem, content_type = "application/problem+json", description = "cookie without its CSRF token"),
))]
async fn logout(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    Json(body): Json<RefreshRequest>,
) -> Result<Response, ApiError> {
    let credential = refresh_credential(Some(body), &headers).ok_or_else(no_refresh_token)?;
    state.accounts.logout(&credential, &meta).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    if credential.via_cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie::clear_refresh());
    }
    Ok(response)
}

// ---------------------------------------------------------------------- signed in

/// The signed-in user.
#[utoipa::path(get, path = "/v1/auth/me", tag = "auth", responses((status = 200, body = Me)))]
async fn me(State(state): State<AppState>, principal: Principal) -> Result<Json<Me>, ApiError> {
    let user = state.accounts.live_user(&principal).await?;
    Ok(Json(Me {
        id: user.id,
        email: user.email.clone(),
        roles: user.roles.clone(),
        mfa: user.has_totp() || user.passkey_count() > 0,
        mfa_methods: enrolled_methods(&user),
    }))
}

/// Ends every session of the signed-in user, this one included.
#[utoipa::path(post, path = "/v1/auth/logout-all", tag = "auth", responses((status = 204)))]
async fn logout_all(
    State(state): State<AppState>,
    Meta(meta): Meta,
    principal: Principal,
) -> Result<StatusCode, ApiError> {
    state.accounts.logout_all(&principal, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Changes the password; every other session ends.
#[utoipa::path(post, path = "/v1/auth/password", tag = "auth", request_body = PasswordChange, responses(
    (status = 204),
    (status = 401, body = Problem, content_type = "application/problem+json", description = "wrong current password"),
    (status = 422, body = Problem, content_type = "application/problem+json", description = "the new password is refused"),
))]
async fn change_password(
    State(state): State<AppState>,
    Meta(meta): Meta,
    principal: Principal,
    Json(body): Json<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    state
        .accounts
        .change_password(&principal, body.current_password.expose(), body.new_password.expose(), &meta)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Starts TOTP enrolment: a new secret, active once a code of it is confirmed.
#[utoipa::path(post, path = "/v1/auth/mfa/totp/enroll", tag = "auth", responses(
    (status = 200, body = TotpEnrollment),
    (status = 409, body = Problem, content_type = "application/problem+json", description = "TOTP is already on"),
))]
async fn totp_enroll(
    State(state): State<AppState>,
    Meta(meta): Meta,
    principal: Principal,
) -> Result<Json<TotpEnrollment>, ApiError> {
    let (secret, uri) = state.accounts.enroll_totp(&principal, &meta).await?;
    Ok(Json(TotpEnrollment { secret: secret.to_base32(), otpauth_uri: uri }))
}

/// Confirms TOTP enrolment with a code; answers the ten recovery codes (shown once, stored hashed).
#[utoipa::path(post, path = "/v1/auth/mfa/totp/confirm", tag = "auth", request_body = TotpConfirm, responses(
    (status = 200, body = RecoveryCodes),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json", description = "wrong code"),
))]
async fn totp_confirm(
    State(state): State<AppState>,
    Meta(meta): Meta,
    principal: Principal,
    Json(body): Json<TotpConfirm>,
) -> Result<Json<RecoveryCodes>, ApiError> {
    let codes = state.accounts.confirm_totp(&principal, body.code.expose(), &meta).await?;
    Ok(Json(RecoveryCodes { recovery_codes: codes.iter().map(|c| c.expose().clone()).collect() }))
}

/// Starts registering a passkey for the signed-in user.
#[utoipa::path(post, path = "/v1/auth/webauthn/register/start", tag = "auth", responses((status = 200, body = PasskeyChallenge)))]
async fn passkey_register_start(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<PasskeyChallenge>, ApiError> {
    let start = state.accounts.start_passkey_registration(&principal).await?;
    Ok(Json(PasskeyChallenge {
        challenge_id: start.challenge_id.expose().clone(),
        options: to_json(&start.options).map_err(ApiError::internal)?,
    }))
}

/// Finishes registering a passkey.
#[utoipa::path(post, path = "/v1/auth/webauthn/register/finish", tag = "auth", request_body = PasskeyFinish<Object>, responses(
    (status = 200, body = PasskeyRegistered),
    (status = 400, body = Problem, content_type = "application/problem+json"),
))]
async fn passkey_register_finish(
    State(state): State<AppState>,
    Meta(meta): Meta,
    principal: Principal,
    Json(body): Json<PasskeyFinish<webauthn_rs::prelude::RegisterPublicKeyCredential>>,
) -> Result<Json<PasskeyRegistered>, ApiError> {
    let passkeys =
        state.accounts.finish_passkey_registration(&principal, &body.challenge_id, &body.credential, &meta).await?;
    Ok(Json(PasskeyRegistered { passkeys }))
}

// ---------------------------------------------------------------------- administration

/// Creates a user with roles and returns a single-use, expiring invite token. Admins only, with a second factor.
#[utoipa::path(post, path = "/v1/admin/users", tag = "admin", request_body = NewUser, responses(
    (status = 201, body = CreatedUser),
    (status = 409, body = Problem, content_type = "application/problem+json", description = "the email is taken"),
))]
async fn create_user(
    State(state): State<AppState>,
    Meta(meta): Meta,
    principal: Principal,
    Json(body): Json<NewUser>,
) -> Result<(StatusCode, Json<CreatedUser>), ApiError> {
    state.accounts.live_user(&principal).await?;
    let (user, invite) = state.accounts.create_user(&principal, &body.email, &body.roles, &meta).await?;
    Ok((StatusCode::CREATED, Json(CreatedUser { id: user.id, invite_token: invite.expose().clone() })))
}

/// Lists users by email.
#[utoipa::path(get, path = "/v1/admin/users", tag = "admin", params(ListParams), responses((status = 200, body = UserList)))]
async fn list_users(
    State(state): State<AppState>,
    principal: Principal,
    Query(params): Query<ListParams>,
) -> Result<Json<UserList>, ApiError> {
    state.accounts.live_user(&principal).await?;
    let page = state.accounts.list_users(params.limit.unwrap_or(50), params.cursor.as_deref()).await?;
    Ok(Json(UserList { users: page.users.iter().map(UserView::from).collect(), next_cursor: page.next }))
}

/// Changes a user's roles, or disables (revoking every session) or re-enables them.
#[utoipa::path(patch, path = "/v1/admin/users/{id}", tag = "admin", request_body = UserUpdate,
    params(("id" = String, Path, description = "the user's id")),
    responses(
        (status = 200, body = UserView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "an admin locking themselves out"),
    ))]
async fn update_user(
    State(state): State<AppState>,
    Meta(meta): Meta,
    principal: Principal,
    Path(id): Path<String>,
    Json(body): Json<UserUpdate>,
) -> Result<Json<UserView>, ApiError> {
    state.accounts.live_user(&principal).await?;
    let id: UserId = id.parse().map_err(|_| ApiError::not_found())?;
    let user = state.accounts.update_user(&principal, id, body.roles.as_deref(), body.disabled, &meta).await?;
    Ok(Json(UserView::from(&user)))
}

/// Accepts an invite by setting a password (the invite works once and expires).
#[utoipa::path(post, path = "/v1/auth/invite/accept", tag = "auth", request_body = InviteAccept, responses(
    (status = 200, body = UserView),
    (status = 401, body = Problem, content_type = "application/problem+json", description = "unknown, used or expired invite"),
    (status = 422, body = Problem, content_type = "application/problem+json", description = "the password is refused"),
))]
async fn accept_invite(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Json(body): Json<InviteAccept>,
) -> Result<Json<UserView>, ApiError> {
    let user = state.accounts.accept_invite(&body.invite_token, body.password.expose(), &meta).await?;
    Ok(Json(UserView::from(&user)))
}

/// Creates a deployed stack's first admin with the one-time setup token (the value of the stack's bootstrap
/// secret). Works once; see `shared/auth/README.md`.
#[utoipa::path(post, path = "/v1/auth/bootstrap", tag = "auth", request_body = Bootstrap, responses(
    (status = 201, body = UserView),
    (status = 401, body = Problem, content_type = "application/problem+json", description = "wrong setup token"),
    (status = 410, body = Problem, content_type = "application/problem+json", description = "already used"),
))]
async fn bootstrap(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Json(body): Json<Bootstrap>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    let secret_id = state.bootstrap_secret.as_deref().ok_or_else(ApiError::not_found)?;
    let expected = state
        .secrets
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(ApiError::unavailable)?
        .secret_string
        .map(Secret::new)
        .ok_or_else(ApiError::not_found)?;
    let user = state
        .accounts
        .bootstrap(expected.expose(), body.setup_token.expose(), &body.email, body.password.expose(), &meta)
        .await?;
    Ok((StatusCode::CREATED, Json(UserView::from(&user))))
}

/// The public keys access tokens are signed with (the current and the previous one), as a JWKS.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "auth", responses((status = 200, body = Jwks)))]
async fn jwks(State(state): State<AppState>) -> Result<Response, ApiError> {
    let keys = state.authorizer.verifier().keys().current().await.map_err(ApiError::unavailable)?;
    let mut response = Json(keys.to_jwks()).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_login_answers_the_csrf_token_and_never_the_refresh_token() {
        let body = TokenResponse {
            access_token: "a".into(),
            token_type: "Bearer",
            expires_in: 600,
            refresh_token: None,
            csrf_token: Some("mvx_1".into()),
        };
        let json = serde_json::to_value(LoginResponse::Signed(body)).unwrap();
        assert!(json.get("refresh_token").is_none());
        assert_eq!(json["csrf_token"], "mvx_1");
    }

    #[test]
    fn the_refresh_token_comes_from_the_body_before_the_cookie() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("__Secure-medvault_refresh=mvr_cookie"));
        headers.insert(cookie::CSRF_HEADER, HeaderValue::from_static("mvx_1"));
        let from_cookie = refresh_credential(Some(RefreshRequest::default()), &headers).unwrap();
        assert_eq!((from_cookie.token.as_str(), from_cookie.via_cookie), ("mvr_cookie", true));
        assert_eq!(from_cookie.csrf.as_deref(), Some("mvx_1"));
        let body = RefreshRequest { refresh_token: Some(Secret::new("mvr_body".into())) };
        let from_body = refresh_credential(Some(body), &headers).unwrap();
        assert_eq!((from_body.token.as_str(), from_body.via_cookie), ("mvr_body", false));
    }
}
