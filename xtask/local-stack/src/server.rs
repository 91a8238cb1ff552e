//! The local stack's one HTTP listener: the API (routed to functions as API Gateway v2 events), the merged
//! `/openapi.json`, the `/docs` page, and the token-guarded control API under `/_local/`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderValue, Method, Request, Response, StatusCode};
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::http_api::{self, gateway_error};
use crate::openapi;
use crate::report::Invocation;
use crate::stack::Inner;

/// API Gateway's payload limit.
const MAX_BODY: usize = 10 * 1024 * 1024;

/// The header the control API checks against the stack's token.
pub const TOKEN_HEADER: &str = "x-medvault-local-token";

/// The CSP of the docs page: everything from this origin only, no inline script.
const DOCS_CSP: &str =
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

pub async fn serve(listener: tokio::net::TcpListener, inner: Arc<Inner>, mut stop: watch::Receiver<bool>) {
    let app = axum::Router::new().fallback(handle).with_state(inner);
    let served = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async move {
            let _ = stop.wait_for(|s| *s).await;
        })
        .await;
    if let Err(error) = served {
        tracing::warn!(%error, "the local API server stopped");
    }
}

async fn handle(
    State(inner): State<Arc<Inner>>,
    ConnectInfo(source): ConnectInfo<SocketAddr>,
    request: Request<Body>,
) -> Response<Body> {
    let path = request.uri().path().to_owned();
    if path == "/openapi.json" && request.method() == Method::GET {
        return merged_openapi(&inner).await;
    }
    if path == "/docs" || path.starts_with("/docs/") {
        return docs(&inner, &path);
    }
    if let Some(command) = path.strip_prefix("/_local/") {
        return control(&inner, command, request).await;
    }
    route(&inner, source, request).await
}

async fn route(inner: &Inner, source: SocketAddr, request: Request<Body>) -> Response<Body> {
    let request_id = uuid::Uuid::new_v4().to_string();
    let (parts, body) = request.into_parts();
    let Some(matched) = inner.routes.find(parts.method.as_str(), parts.uri.path()) else {
        return gateway_error(StatusCode::NOT_FOUND, "Not Found", &request_id);
    };
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        return gateway_error(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large", &request_id);
    };
    let Ok(function) = inner.function(&matched.function) else {
        return gateway_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error", &request_id);
    };
    let domain = inner.api_url.trim_start_matches("http://").to_owned();
    let event = http_api::event(
        &http_api::Request {
            method: &parts.method,
            path: parts.uri.path(),
            query: parts.uri.query(),
            headers: &parts.headers,
            body: &body,
            source,
            request_id: &request_id,
        },
        &matched,
        &domain,
    );
    let invocation = function.invoke(&event).await;
    match invocation.result.as_ref().ok().and_then(|result| http_api::response(result, &request_id)) {
        Some(response) => response,
        None => gateway_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error", &request_id),
    }
}

/// Asks every API function for its own `GET /openapi.json` and merges the answers.
async fn merged_openapi(inner: &Inner) -> Response<Body> {
    let domain = inner.api_url.trim_start_matches("http://").to_owned();
    let mut documents = Vec::new();
    for runtime in inner.functions.values().filter(|f| !f.spec.http_routes.is_empty()) {
        let invocation = runtime.invoke(&http_api::synthetic_get("/openapi.json", &domain)).await;
        match document_of(&invocation) {
            Some(document) => documents.push((runtime.spec.logical_id.clone(), document)),
            None => tracing::info!(function = %runtime.spec.logical_id, "no OpenAPI document at GET /openapi.json"),
        }
    }
    match openapi::merge(&format!("{} (local)", inner.options.stack_name), &documents) {
        Ok(merged) => json_response(StatusCode::OK, &merged),
        Err(conflict) => json_response(StatusCode::INTERNAL_SERVER_ERROR, &json!({ "message": conflict.to_string() })),
    }
}

fn document_of(invocation: &Invocation) -> Option<Value> {
    let result = invocation.result.as_ref().ok()?;
    if result["statusCode"].as_u64() != Some(200) {
        return None;
    }
    let document: Value = match &result["body"] {
        Value::String(body) => serde_json::from_str(body).ok()?,
        other => other.clone(),
    };
    document.get("openapi").is_some().then_some(document)
}

fn docs(inner: &Inner, path: &str) -> Response<Body> {
    let file = path.strip_prefix("/docs").unwrap_or_default().trim_start_matches('/');
    let (status, content_type, body): (StatusCode, &str, Vec<u8>) = match (file, &inner.options.docs_assets) {
        ("", Some(assets)) if assets.join("swagger-ui-bundle.js").is_file() => {
            (StatusCode::OK, "text/html; charset=utf-8", DOCS_PAGE.as_bytes().to_vec())
        }
        ("", _) => (StatusCode::SERVICE_UNAVAILABLE, "text/html; charset=utf-8", DOCS_MISSING.as_bytes().to_vec()),
        ("docs-init.js", _) => (StatusCode::OK, "text/javascript; charset=utf-8", DOCS_INIT.as_bytes().to_vec()),
        (name, Some(assets)) if is_plain_file_name(name) => match std::fs::read(assets.join(name)) {
            Ok(bytes) => (StatusCode::OK, content_type_of(name), bytes),
            Err(_) => (StatusCode::NOT_FOUND, "text/plain", b"not found".to_vec()),
        },
        _ => (StatusCode::NOT_FOUND, "text/plain", b"not found".to_vec()),
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static(content_type));
    headers.insert("content-security-policy", HeaderValue::from_static(DOCS_CSP));
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    headers.insert("cache-control", HeaderValue::from_static("no-store"));
    response
}

/// A file directly in the assets folder: no separators, no parent references, no hidden files.
fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('.') && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

fn content_type_of(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("html") => "text/html; charset=utf-8",
        Some("png") => "image/png",
        Some("svg") => "image/svg+xml",
        Some("json") | Some("map") => "application/json",
        _ => "application/octet-stream",
    }
}

const DOCS_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>medvault API (local)</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/docs-init.js"></script>
</body>
</html>
"#;

const DOCS_INIT: &str = "window.addEventListener('load', function () {\n  window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true });\n});\n";

const DOCS_MISSING: &str = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>API docs unavailable</title></head>\n<body><p>The Swagger UI assets (npm package swagger-ui-dist) are missing, so this page cannot be shown.\n`cargo xtask dev` fetches them into .local/ with npm; check its output. The document itself is at <a href=\"/openapi.json\">/openapi.json</a>.</p></body></html>\n";

async fn control(inner: &Inner, command: &str, request: Request<Body>) -> Response<Body> {
    let token = request.headers().get(TOKEN_HEADER).map(HeaderValue::as_bytes).unwrap_or_default();
    if !same(token, inner.control_token.as_bytes()) {
        return json_response(StatusCode::FORBIDDEN, &json!({ "message": "Forbidden" }));
    }
    let method = request.method().clone();
    let Ok(body) = axum::body::to_bytes(request.into_body(), MAX_BODY).await else {
        return json_response(StatusCode::PAYLOAD_TOO_LARGE, &json!({ "message": "Request Entity Too Large" }));
    };
    let (verb, target) = command.split_once('/').unwrap_or((command, ""));
    match (method, verb) {
        (Method::GET, "stack") => json_response(StatusCode::OK, &inner.describe()),
        (Method::POST, "invoke") => {
            let event: Value = if body.is_empty() {
                json!({})
            } else {
                match serde_json::from_slice(&body) {
                    Ok(event) => event,
                    Err(error) => {
                        return json_response(
                            StatusCode::BAD_REQUEST,
                            &json!({ "message": format!("the event is not JSON: {error}") }),
                        );
                    }
                }
            };
            match inner.function(target) {
                Ok(function) => json_response(StatusCode::OK, &invocation_json(&function.invoke(&event).await)),
                Err(error) => json_response(StatusCode::NOT_FOUND, &json!({ "message": error.to_string() })),
            }
        }
        (Method::POST, "schedule") => match inner.fire_schedule(target).await {
            Ok(invocation) => json_response(StatusCode::OK, &invocation_json(&invocation)),
            Err(error) => json_response(StatusCode::NOT_FOUND, &json!({ "message": error.to_string() })),
        },
        (Method::POST, "redrive") => match inner.redrive(target).await {
            Ok(redrive) => json_response(
                StatusCode::OK,
                &json!({ "moved": redrive.moved, "from": redrive.from, "to": redrive.to }),
            ),
            Err(error) => json_response(StatusCode::BAD_REQUEST, &json!({ "message": error.to_string() })),
        },
        _ => json_response(StatusCode::NOT_FOUND, &json!({ "message": "unknown control command" })),
    }
}

/// The control API's JSON for an invocation.
pub fn invocation_json(invocation: &Invocation) -> Value {
    let (result, error) = match &invocation.result {
        Ok(value) => (value.clone(), Value::Null),
        Err(error) => (Value::Null, json!(error)),
    };
    json!({
        "requestId": invocation.request_id,
        "result": result,
        "error": error,
        "report": invocation.report.to_string(),
    })
}

/// Compares in time independent of where the inputs differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn json_response(status: StatusCode, value: &Value) -> Response<Body> {
    let mut response = Response::new(Body::from(value.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
    response
}
