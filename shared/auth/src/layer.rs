//! The authorization layer every API function shares: bearer token in, [`Principal`] out, or a refusal.
//!
//! It fails closed: a request reaches the handler only with a verified token; a missing or invalid one is `401`; a
//! key store that cannot be read is `503`; a panic inside is caught outside as `500`. Responses it touches carry
//! [`medvault_http::layers::Authenticated`], so they are never cached.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use futures::future::BoxFuture;
use http::{HeaderMap, header};
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;
use medvault_http::ApiError;
use medvault_http::layers::Authenticated;
use medvault_platform::config::{ConfigError, EnvSource, FromEnv, Stage};
use medvault_platform::readiness::{ReadinessCheck, probes};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{OpenApi, PathItem};
use utoipa_axum::router::OpenApiRouter;

use crate::audit::AuditLog;
use crate::key_cache::{CachePolicy, KeyCache, KeySource};
use crate::permission::Permission;
use crate::principal::{Decisions, MfaPolicy, Principal, UserId};
use crate::secrets::PublishedKeys;
use crate::token::{TokenAudience, TokenVerifier, VerifyError};

/// The default `iss` of access tokens.
pub const DEFAULT_ISSUER: &str = "urn:medvault:auth";
/// The default `aud` of access tokens.
pub const DEFAULT_AUDIENCE: &str = "urn:medvault:api";

/// What a verifying function reads from its environment.
///
/// | variable | meaning |
/// |---|---|
/// | `MEDVAULT_JWT_PUBLIC_KEYS_SECRET` | required: name or ARN of the secret holding the published JWKS |
/// | `MEDVAULT_AUTH_ISSUER` | the tokens' `iss` (default `urn:medvault:auth`) |
/// | `MEDVAULT_AUTH_AUDIENCE` | the tokens' `aud` (default `urn:medvault:api`) |
/// | `MEDVAULT_STAGE` | `local` waives the MFA requirement of admin permissions (dev mode) |
/// | `MEDVAULT_ADMIN_MFA` | `required` (default) or `waived`; `waived` is refused outside `Stage=local`, and `required` turns dev mode off locally |
/// | `MEDVAULT_JWT_KEY_CACHE_SECONDS` | how long the key set is used before it is re-read (default 300) |
#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub names: TokenAudience,
    pub public_keys_secret: String,
    pub mfa: MfaPolicy,
    pub key_cache: CachePolicy,
}

/// `MEDVAULT_ADMIN_MFA=waived` outside the local stack.
#[derive(Debug, thiserror::Error)]
#[error("MEDVAULT_ADMIN_MFA may be waived only when MEDVAULT_STAGE=local")]
pub struct MfaWaiverRefused;

/// `MEDVAULT_ADMIN_MFA` is neither `required` nor `waived`.
#[derive(Debug, thiserror::Error)]
#[error("expected required or waived")]
pub struct UnknownMfaSetting;

impl FromEnv for AuthConfig {
    fn from_env(env: &EnvSource) -> Result<Self, ConfigError> {
        let stage: Stage = env.or("MEDVAULT_STAGE", Stage::Prod)?;
        let setting: Option<String> = env.optional("MEDVAULT_ADMIN_MFA")?;
        let mfa = match (setting.as_deref(), stage) {
            (Some("required"), _) => MfaPolicy::Required,
            (Some("waived") | None, Stage::Local) => MfaPolicy::WaivedForLocalDev,
            (None, _) => MfaPolicy::Required,
            (Some("waived"), _) => {
                return Err(ConfigError::Malformed { name: "MEDVAULT_ADMIN_MFA", source: Box::new(MfaWaiverRefused) });
            }
            (Some(_), _) => {
                return Err(ConfigError::Malformed { name: "MEDVAULT_ADMIN_MFA", source: Box::new(UnknownMfaSetting) });
            }
        };
        let defaults = CachePolicy::default();
        Ok(Self {
            names: TokenAudience {
                issuer: env.or("MEDVAULT_AUTH_ISSUER", DEFAULT_ISSUER.to_owned())?,
                audience: env.or("MEDVAULT_AUTH_AUDIENCE", DEFAULT_AUDIENCE.to_owned())?,
            },
            public_keys_secret: env.required("MEDVAULT_JWT_PUBLIC_KEYS_SECRET")?,
            mfa,
            key_cache: CachePolicy { ttl: env.seconds("MEDVAULT_JWT_KEY_CACHE_SECONDS", defaults.ttl)?, ..defaults },
        })
    }
}

/// Verifies bearer tokens and guards routes. Cheap to clone; build one per cold start.
#[derive(Debug, Clone)]
pub struct Authorizer {
    verifier: TokenVerifier,
    decisions: Decisions,
    public_keys_secret: Option<(aws_sdk_secretsmanager::Client, String)>,
}

impl Authorizer {
    /// The authorizer of a deployed function: keys from the published JWKS secret, decisions audited to `audit`.
    pub fn from_config(config: &AuthConfig, secrets: aws_sdk_secretsmanager::Client, audit: Arc<dyn AuditLog>) -> Self {
        let source = Arc::new(PublishedKeys::new(secrets.clone(), &config.public_keys_secret));
        let mut authorizer = Self::new(&config.names, source, config.key_cache, config.mfa, audit);
        authorizer.public_keys_secret = Some((secrets, config.public_keys_secret.clone()));
        authorizer
    }

    /// An authorizer over any key source (tests, benchmarks).
    pub fn new(
        names: &TokenAudience,
        keys: Arc<dyn KeySource>,
        policy: CachePolicy,
        mfa: MfaPolicy,
        audit: Arc<dyn AuditLog>,
    ) -> Self {
        let verifier = TokenVerifier::new(names, Arc::new(KeyCache::new(keys, policy)));
        Self { verifier, decisions: Decisions { audit, mfa }, public_keys_secret: None }
    }

    pub fn verifier(&self) -> &TokenVerifier {
        &self.verifier
    }

    pub fn audit_log(&self) -> &Arc<dyn AuditLog> {
        &self.decisions.audit
    }

    pub fn mfa_policy(&self) -> MfaPolicy {
        self.decisions.mfa
    }

    /// Puts every route of `routes` behind the layer, and marks each operation in the OpenAPI document as needing
    /// the bearer scheme (with its `401` and `403` answers). Apply it before merging in public routes.
    pub fn protect<S>(&self, routes: OpenApiRouter<S>) -> OpenApiRouter<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let (mut router, mut doc) = routes.split_for_parts();
        // axum refuses a route layer on a router without routes (there is nothing to protect then).
        if router.has_routes() {
            router = router.route_layer(middleware::from_fn_with_state(self.clone(), authenticate));
        }
        document_protection(&mut doc);
        OpenApiRouter::with_openapi(doc).merge(OpenApiRouter::from(router))
    }

    /// A readiness probe of the published key set (`DescribeSecret`), when the keys come from Secrets Manager.
    pub fn readiness_check(&self) -> Option<Box<dyn ReadinessCheck>> {
        self.public_keys_secret.as_ref().map(|(client, secret)| {
            Box::new(probes::Secret::new("secretsmanager:jwt-public-keys", client.clone(), secret))
                as Box<dyn ReadinessCheck>
        })
    }

    /// The caller of a request with these headers, or the refusal. `source_ip` is recorded on the principal.
    pub async fn authenticate(&self, headers: &HeaderMap, source_ip: Option<String>) -> Result<Principal, ApiError> {
        let token = bearer_token(headers).ok_or_else(ApiError::unauthorized)?;
        let claims = self.verifier.verify(token).await.map_err(|error| match error {
            VerifyError::KeysUnavailable(_) => ApiError::unavailable(error),
            other => {
                tracing::info!(reason = other.code(), "access token refused");
                medvault_platform::metrics::record("TokensRefused", medvault_platform::metrics::Unit::Count, 1.0);
                ApiError::unauthorized()
            }
        })?;
        let user_id: UserId = claims.sub.parse().map_err(|_| ApiError::unauthorized())?;
        Ok(Principal {
            user_id,
            expires_at: claims.expires_at(),
            roles: claims.roles,
            amr: claims.amr,
            session_id: claims.sid,
            token_id: claims.jti,
            source_ip,
            decisions: self.decisions.clone(),
        })
    }
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive); `None` for anything else.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The caller's address: API Gateway's `sourceIp`, or behind the ALB the last `X-Forwarded-For` entry (the one the
/// load balancer appended; earlier entries are whatever the client sent). Pass a request's (or its parts')
/// extensions and headers.
pub fn source_ip(extensions: &http::Extensions, headers: &HeaderMap) -> Option<String> {
    match extensions.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.http.source_ip.clone(),
        Some(RequestContext::Alb(_)) => headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .map(|ip| ip.trim().to_owned())
            .filter(|ip| !ip.is_empty()),
        _ => None,
    }
}

async fn authenticate(State(authorizer): State<Authorizer>, mut request: Request, next: Next) -> Response {
    let ip = source_ip(request.extensions(), request.headers());
    let mut response = match authorizer.authenticate(request.headers(), ip).await {
        Ok(principal) => {
            request.extensions_mut().insert(principal);
            next.run(request).await
        }
        Err(refusal) => refusal.into_response(),
    };
    response.extensions_mut().insert(Authenticated);
    response
}

/// A route layer that lets a request through only when its principal [`Principal::require`]s `permission` (a
/// denial is audited and answered `403`). Use it on a router whose every route needs the same permission, inside
/// [`Authorizer::protect`]:
///
/// ```ignore
/// let admin = OpenApiRouter::new().routes(routes!(list_users)).route_layer(require(Permission::UsersAdmin));
/// let routes = authorizer.protect(admin.merge(other_routes));
/// ```
pub fn require(permission: Permission) -> RequireLayer {
    RequireLayer(permission)
}

/// The layer [`require`] returns.
#[derive(Debug, Clone, Copy)]
pub struct RequireLayer(Permission);

impl<S> tower::Layer<S> for RequireLayer {
    type Service = RequireService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        RequireService { inner, permission: self.0 }
    }
}

/// The service [`RequireLayer`] wraps a route in.
#[derive(Debug, Clone)]
pub struct RequireService<S> {
    inner: S,
    permission: Permission,
}

impl<S> tower::Service<Request> for RequireService<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        // The clone that was made ready is the one that serves this call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let permission = self.permission;
        Box::pin(async move {
            let Some(principal) = request.extensions().get::<Principal>().cloned() else {
                return Ok(ApiError::unauthorized().into_response());
            };
            if let Err(refusal) = principal.require(permission).await {
                return Ok(refusal.into_response());
            }
            inner.call(request).await
        })
    }
}

/// Adds the bearer requirement and the `401`/`403` answers to every operation of `doc`.
fn document_protection(doc: &mut OpenApi) {
    for item in doc.paths.paths.values_mut() {
        for operation in operations(item) {
            operation.security =
                Some(vec![SecurityRequirement::new(medvault_http::openapi::BEARER, Vec::<String>::new())]);
            operation
                .responses
                .responses
                .entry("401".into())
                .or_insert_with(|| ResponseBuilder::new().description("No valid access token.").build().into());
            operation.responses.responses.entry("403".into()).or_insert_with(|| {
                ResponseBuilder::new().description("The caller's roles do not permit this.").build().into()
            });
        }
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
        item.head.as_mut(),
        item.options.as_mut(),
        item.trace.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// The default token lifetime an issuer uses when not configured: ten minutes.
pub const DEFAULT_ACCESS_TOKEN_TTL: Duration = Duration::from_secs(600);

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::routing::get;
    use futures::future::BoxFuture;
    use http::StatusCode;
    use medvault_http::health::Readiness;
    use medvault_http::{ApiService, HttpConfig};
    use tower::ServiceExt;

    use super::*;
    use crate::audit::{MemoryAuditLog, Outcome};
    use crate::key_cache::{KeySourceError, StaticKeys};
    use crate::keys::{KeySet, SigningKey};
    use crate::permission::Role;
    use crate::principal::AuthMethod;
    use crate::token::TokenIssuer;

    fn names() -> TokenAudience {
        TokenAudience { issuer: DEFAULT_ISSUER.into(), audience: DEFAULT_AUDIENCE.into() }
    }

    #[derive(Debug)]
    struct Unreachable;

    impl KeySource for Unreachable {
        fn load(&self) -> BoxFuture<'_, Result<KeySet, KeySourceError>> {
            Box::pin(async { Err(KeySourceError::Unavailable("secrets manager is down".into())) })
        }
    }

    async fn whoami(principal: Principal) -> String {
        principal.user_id.to_string()
    }

    struct Fixture {
        key: SigningKey,
        audit: Arc<MemoryAuditLog>,
        service: ApiService,
    }

    fn fixture(mfa: MfaPolicy, keys: Option<Arc<dyn KeySource>>) -> Fixture {
        let key = SigningKey::generate().unwrap();
        let audit = Arc::new(MemoryAuditLog::new());
        let keys = keys.unwrap_or_else(|| Arc::new(StaticKeys(KeySet::new([key.public().clone()]))));
        let authorizer = Authorizer::new(&names(), keys, CachePolicy::default(), mfa, audit.clone());
        let admin = OpenApiRouter::new().route("/v1/admin", get(whoami)).route_layer(require(Permission::UsersAdmin));
        let routes = authorizer.protect(OpenApiRouter::new().route("/v1/me", get(whoami)).merge(admin));
        let service = ApiService::new("t", "t", routes, Readiness::new(vec![]), &HttpConfig::default());
        Fixture { key, audit, service }
    }

    fn token(key: &SigningKey, roles: &[Role], amr: &[AuthMethod]) -> (String, UserId) {
        let user = UserId::new();
        let issued = TokenIssuer::new(names(), DEFAULT_ACCESS_TOKEN_TTL).issue(key, user, roles, amr, "s").unwrap();
        (issued.token, user)
    }

    async fn get_with(service: &ApiService, path: &str, token: Option<&str>) -> (StatusCode, HeaderMap, String) {
        let mut request = http::Request::get(path);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let response = service.router.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
        let (parts, body) = response.into_parts();
        let bytes = http_body_util::BodyExt::collect(body).await.unwrap().to_bytes();
        (parts.status, parts.headers, String::from_utf8_lossy(&bytes).into_owned())
    }

    #[tokio::test]
    async fn without_a_valid_token_the_handler_never_runs() {
        let f = fixture(MfaPolicy::Required, None);
        let (status, headers, _) = get_with(&f.service, "/v1/me", None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(headers[header::WWW_AUTHENTICATE], "Bearer");
        assert_eq!(headers[header::CACHE_CONTROL], "no-store");
        let (status, _, _) = get_with(&f.service, "/v1/me", Some("not-a-jwt")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }

    #[tokio::test]
    async fn a_valid_token_reaches_the_handler_as_its_principal_and_is_not_cached() {
        let f = fixture(MfaPolicy::Required, None);
        let (token, user) = token(&f.key, &[Role::Clinician], &[AuthMethod::Pwd]);
        let (status, headers, body) = get_with(&f.service, "/v1/me", Some(&token)).await;
        assert_eq!((status, body), (StatusCode::OK, user.to_string()));
        assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    }

    #[tokio::test]
    async fn a_missing_permission_is_403_and_audited() {
        let f = fixture(MfaPolicy::Required, None);
        let (token, user) = token(&f.key, &[Role::Clinician], &[AuthMethod::Pwd, AuthMethod::Otp]);
        let (status, _, _) = get_with(&f.service, "/v1/admin", Some(&token)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let events = f.audit.events();
        assert_eq!(events.len(), 1);
        let event = &events[0].event;
        assert_eq!((event.action.as_str(), event.outcome), ("access.denied", Outcome::Deny));
        assert_eq!(event.actor_id, user.to_string());
        assert_eq!(event.reason.as_deref(), Some("permission-not-granted"));
    }

    #[tokio::test]
    async fn admin_permissions_need_a_second_factor_outside_local_dev() {
        let required = fixture(MfaPolicy::Required, None);
        let (password_only, _) = token(&required.key, &[Role::Admin], &[AuthMethod::Pwd]);
        let (status, _, body) = get_with(&required.service, "/v1/admin", Some(&password_only)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(body.contains("second factor"), "{body}");
        assert_eq!(required.audit.events()[0].event.reason.as_deref(), Some("mfa-required"));
        let (with_otp, _) = token(&required.key, &[Role::Admin], &[AuthMethod::Pwd, AuthMethod::Otp]);
        assert_eq!(get_with(&required.service, "/v1/admin", Some(&with_otp)).await.0, StatusCode::OK);

        let dev = fixture(MfaPolicy::WaivedForLocalDev, None);
        let (password_only, _) = token(&dev.key, &[Role::Admin], &[AuthMethod::Pwd]);
        assert_eq!(get_with(&dev.service, "/v1/admin", Some(&password_only)).await.0, StatusCode::OK);
    }

    #[tokio::test]
    async fn an_unreadable_key_set_fails_closed() {
        let f = fixture(MfaPolicy::Required, Some(Arc::new(Unreachable)));
        let (token, _) = token(&f.key, &[Role::Clinician], &[AuthMethod::Pwd]);
        let (status, _, body) = get_with(&f.service, "/v1/me", Some(&token)).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(!body.contains("secrets manager"), "{body}");
    }

    #[tokio::test]
    async fn a_denial_that_cannot_be_audited_is_a_500() {
        let f = fixture(MfaPolicy::Required, None);
        f.audit.set_unavailable(true);
        let (token, _) = token(&f.key, &[Role::Staff], &[AuthMethod::Pwd]);
        assert_eq!(get_with(&f.service, "/v1/admin", Some(&token)).await.0, StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn protected_operations_are_documented_with_the_bearer_scheme() {
        let authorizer = Authorizer::new(
            &names(),
            Arc::new(StaticKeys(KeySet::default())),
            CachePolicy::default(),
            MfaPolicy::Required,
            Arc::new(MemoryAuditLog::new()),
        );
        let mut documented = OpenApi::default();
        let operation = utoipa::openapi::path::Operation::default();
        documented.paths.paths.insert("/v1/x".into(), PathItem::new(utoipa::openapi::HttpMethod::Get, operation));
        let mut routes = authorizer.protect(OpenApiRouter::<()>::with_openapi(documented));
        let doc = serde_json::to_value(routes.to_openapi()).unwrap();
        assert_eq!(doc["paths"]["/v1/x"]["get"]["security"], serde_json::json!([{ "bearer": [] }]));
        assert!(doc["paths"]["/v1/x"]["get"]["responses"]["401"].is_object());
    }

    #[test]
    fn admin_mfa_cannot_be_waived_outside_the_local_stack() {
        let env = EnvSource::from_pairs([
            ("MEDVAULT_JWT_PUBLIC_KEYS_SECRET", "jwks"),
            ("MEDVAULT_STAGE", "prod"),
            ("MEDVAULT_ADMIN_MFA", "waived"),
        ]);
        assert_eq!(AuthConfig::from_env(&env).unwrap_err().variable(), "MEDVAULT_ADMIN_MFA");
        let local = EnvSource::from_pairs([("MEDVAULT_JWT_PUBLIC_KEYS_SECRET", "jwks"), ("MEDVAULT_STAGE", "local")]);
        assert_eq!(AuthConfig::from_env(&local).unwrap().mfa, MfaPolicy::WaivedForLocalDev);
        let strict_local = EnvSource::from_pairs([
            ("MEDVAULT_JWT_PUBLIC_KEYS_SECRET", "jwks"),
            ("MEDVAULT_STAGE", "local"),
            ("MEDVAULT_ADMIN_MFA", "required"),
        ]);
        assert_eq!(AuthConfig::from_env(&strict_local).unwrap().mfa, MfaPolicy::Required);
    }
}
