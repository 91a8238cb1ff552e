//! The layer stack every API function shares, outermost first:
//! observe (correlation id, request span, access log, EMF metrics) → security headers → problem fallback →
//! panic catcher → CORS → timeout → the router (with the default body limit).

use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use http::{HeaderName, HeaderValue, Method, StatusCode, header};
use lambda_http::RequestExt;
use medvault_platform::metrics::{self, Unit};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::timeout::TimeoutLayer;
use tracing::Instrument;

use crate::config::HttpConfig;
use crate::problem::{ApiError, CORRELATION_ID};

/// The response header carrying the correlation id.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The header a browser sends with the CSRF token on requests that carry the refresh-token cookie.
pub const CSRF_TOKEN: HeaderName = HeaderName::from_static("x-csrf-token");

/// Marks a response as answering an authenticated caller, so it is never cached (the auth layer inserts it).
#[derive(Debug, Clone, Copy)]
pub struct Authenticated;

/// Content-Security-Policy of every non-HTML response: nothing may load, nothing may frame it.
const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";
/// Content-Security-Policy of HTML pages: same-origin scripts and styles only, no inline script.
const HTML_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Wraps `router` in the shared stack.
pub fn apply(router: Router, config: &HttpConfig) -> Router {
    let cors = cors(config);
    router.route_layer(middleware::from_fn(remember_route)).layer(DefaultBodyLimit::max(config.body_limit)).layer(
        ServiceBuilder::new()
            .layer(middleware::from_fn(observe))
            .layer(middleware::from_fn(security_headers))
            .layer(middleware::from_fn(problem_fallback))
            .layer(CatchPanicLayer::custom(|_| ApiError::internal("handler panicked").into_response()))
            .option_layer(cors)
            .layer(TimeoutLayer::with_status_code(StatusCode::GATEWAY_TIMEOUT, config.request_timeout)),
    )
}

fn cors(config: &HttpConfig) -> Option<CorsLayer> {
    if config.cors_origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(config.cors_origins.iter().cloned()))
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::IF_MATCH,
                header::IF_NONE_MATCH,
                REQUEST_ID,
                CSRF_TOKEN,
            ])
            .expose_headers([header::ETAG, header::LOCATION, header::RETRY_AFTER, REQUEST_ID])
            .allow_credentials(true)
            .max_age(std::time::Duration::from_secs(600)),
    )
}

/// The route template a request matched (`/v1/patients/{id}`), carried out on the response for the access log:
/// logging templates, never raw paths or query strings, keeps identifiers out of the logs.
#[derive(Debug, Clone)]
struct RouteTemplate(String);

async fn remember_route(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map(|m| m.as_str().to_owned());
    let mut response = next.run(request).await;
    if let Some(route) = route {
        response.extensions_mut().insert(RouteTemplate(route));
    }
    response
}

/// Gives the request its correlation id (the Lambda request id, else a fresh UUID), runs it in a span and a metrics
/// scope, writes one access-log line, and returns the id in `x-request-id`.
async fn observe(request: Request, next: Next) -> Response {
    let correlation_id = request
        .lambda_context_ref()
        .map(|c| c.request_id.clone())
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let method = request.method().clone();
    let span = tracing::info_span!("http_request", correlation_id = %correlation_id, method = %method);
    let id = correlation_id.clone();
    let handled = async move {
        let started = Instant::now();
        let mut response = next.run(request).await;
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        let status = response.status().as_u16();
        let route =
            response.extensions().get::<RouteTemplate>().map(|r| r.0.clone()).unwrap_or_else(|| "unmatched".into());
        tracing::info!(status, route = %route, latency_ms = elapsed_ms, "request handled");
        metrics::record("Requests", Unit::Count, 1.0);
        metrics::record("Latency", Unit::Milliseconds, elapsed_ms);
        if response.status().is_server_error() {
            metrics::record("Errors5xx", Unit::Count, 1.0);
        } else if response.status().is_client_error() {
            metrics::record("Errors4xx", Unit::Count, 1.0);
        }
        if let Ok(value) = HeaderValue::from_str(&id) {
            response.headers_mut().insert(REQUEST_ID, value);
        }
        response
    };
    metrics::scope(CORRELATION_ID.scope(correlation_id, handled.instrument(span))).await
}

/// HSTS, nosniff, no referrer, no framing, a CSP for the content type, and `no-store` on authenticated responses.
async fn security_headers(request: Request, next: Next) -> Response {
    let carries_credentials =
        request.headers().contains_key(header::AUTHORIZATION) || request.headers().contains_key(header::COOKIE);
    let mut response = next.run(request).await;
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let authenticated = carries_credentials || response.extensions().get::<Authenticated>().is_some();
    let headers = response.headers_mut();
    headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=63072000; includeSubDomains"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(if is_html { HTML_CSP } else { API_CSP }));
    if authenticated {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    }
    response
}

/// Answers every error that some layer or axum itself produced (404, 405, 413, 504, ...) as problem+json too.
async fn problem_fallback(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    // JSON bodies (a problem, a FHIR OperationOutcome, a 503 readiness report) are answers already; only bare
    // statuses and axum's plain-text rejections are replaced.
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim() == "application/json" || (v.starts_with("application/") && v.trim().ends_with("+json"))
        });
    if status.as_u16() < 400 || is_json {
        return response;
    }
    let (parts, _) = response.into_parts();
    let mut problem = ApiError::for_status(status).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            problem.headers_mut().insert(name.clone(), value.clone());
        }
    }
    problem
}
