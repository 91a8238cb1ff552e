//! The shared HTTP stack driven the way Lambda drives it: API Gateway v2 and ALB events from `events/`, through
//! `lambda_http`'s adapter, into the router and back into each source's response format.

#![allow(clippy::unwrap_used)] // Test fixtures: a failed setup call should stop the test loudly.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::response::Html;
use axum::routing::{get, post};
use lambda_http::request::LambdaRequest;
use lambda_runtime::{Context, LambdaEvent};
use medvault_http::health::Readiness;
use medvault_http::{ApiService, HttpConfig, Json};
use serde_json::{Value, json};
use tower::{Service, ServiceExt};
use utoipa_axum::router::OpenApiRouter;

fn fixture(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events").join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

#[derive(serde::Deserialize)]
struct Note {
    #[allow(dead_code)]
    text: String,
}

async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_secs(5)).await;
    "late"
}

async fn boom() -> &'static str {
    panic!("internal detail: table medvault-secret-table")
}

async fn accept_note(Json(_note): Json<Note>) -> http::StatusCode {
    http::StatusCode::CREATED
}

fn service(config: HttpConfig) -> ApiService {
    let routes = OpenApiRouter::new()
        .route("/notes", post(accept_note))
        .route("/slow", get(slow))
        .route("/boom", get(boom))
        .route("/page", get(|| async { Html("<h1>docs</h1>") }))
        .route(
            "/fhir/missing",
            get(|| async {
                (
                    http::StatusCode::NOT_FOUND,
                    [(http::header::CONTENT_TYPE, "application/fhir+json")],
                    r#"{"resourceType":"OperationOutcome"}"#,
                )
            }),
        );
    ApiService::new("test API", "for tests", routes, Readiness::new(Vec::new()), &config)
}

/// Sends a Lambda event through the adapter Lambda uses and returns the serialized Lambda response.
async fn invoke(service: &ApiService, event: Value) -> Value {
    let request: LambdaRequest = serde_json::from_value(event).unwrap();
    let mut context = Context::default();
    context.request_id = "lambda-request-7".into();
    let mut adapter = lambda_http::Adapter::from(service.router.clone());
    let response = adapter.ready().await.unwrap().call(LambdaEvent::new(request, context)).await.unwrap();
    serde_json::to_value(response).unwrap()
}

fn header<'a>(response: &'a Value, name: &str) -> Option<&'a str> {
    response["headers"][name].as_str().or_else(|| response["multiValueHeaders"][name][0].as_str())
}

fn api_event(method: &str, path: &str, headers: Value, body: Option<&str>) -> Value {
    let mut event = fixture("apigw-v2-health.json");
    event["rawPath"] = json!(path);
    event["requestContext"]["http"]["method"] = json!(method);
    event["requestContext"]["http"]["path"] = json!(path);
    for (k, v) in headers.as_object().unwrap() {
        event["headers"][k] = v.clone();
    }
    if let Some(body) = body {
        event["body"] = json!(body);
    }
    event
}

#[tokio::test]
async fn api_gateway_v2_health_answers_with_security_headers_and_the_request_id() {
    let response = invoke(&service(HttpConfig::default()), fixture("apigw-v2-health.json")).await;
    assert_eq!(response["statusCode"], 200);
    assert_eq!(serde_json::from_str::<Value>(response["body"].as_str().unwrap()).unwrap(), json!({"status": "ok"}));
    assert_eq!(header(&response, "x-request-id"), Some("lambda-request-7"));
    assert_eq!(header(&response, "strict-transport-security"), Some("max-age=63072000; includeSubDomains"));
    assert_eq!(header(&response, "x-content-type-options"), Some("nosniff"));
    assert_eq!(header(&response, "referrer-policy"), Some("no-referrer"));
    assert_eq!(header(&response, "content-security-policy"), Some("default-src 'none'; frame-ancestors 'none'"));
    assert_eq!(header(&response, "cache-control"), None, "unauthenticated health may be cached");
}

#[tokio::test]
async fn alb_events_reach_the_same_router_and_get_alb_responses() {
    let service = service(HttpConfig::default());
    let ok = invoke(&service, fixture("alb-health.json")).await;
    assert_eq!(ok["statusCode"], 200);
    assert_eq!(ok["statusDescription"], "200 OK");
    let missing = invoke(&service, fixture("alb-not-found.json")).await;
    assert_eq!(missing["statusCode"], 404);
    assert_eq!(header(&missing, "content-type"), Some("application/problem+json"));
    let problem: Value = serde_json::from_str(missing["body"].as_str().unwrap()).unwrap();
    assert_eq!(problem["type"], "urn:medvault:problem:not-found");
    assert_eq!(problem["correlation_id"], "lambda-request-7");
}

#[tokio::test]
async fn bodies_over_the_limit_are_413_problems() {
    let service = service(HttpConfig { body_limit: 64, ..HttpConfig::default() });
    let body = json!({"text": "x".repeat(100)}).to_string();
    let response =
        invoke(&service, api_event("POST", "/notes", json!({"content-type": "application/json"}), Some(&body))).await;
    assert_eq!(response["statusCode"], 413);
    assert_eq!(header(&response, "content-type"), Some("application/problem+json"));
    let small = invoke(
        &service,
        api_event("POST", "/notes", json!({"content-type": "application/json"}), Some(r#"{"text":"ok"}"#)),
    )
    .await;
    assert_eq!(small["statusCode"], 201);
}

#[tokio::test]
async fn the_default_body_limit_is_one_mebibyte() {
    let service = service(HttpConfig::default());
    let just_over = json!({"text": "x".repeat(1024 * 1024)}).to_string();
    let response =
        invoke(&service, api_event("POST", "/notes", json!({"content-type": "application/json"}), Some(&just_over)))
            .await;
    assert_eq!(response["statusCode"], 413);
}

#[tokio::test]
async fn wrong_method_is_a_405_problem() {
    let response = invoke(&service(HttpConfig::default()), api_event("DELETE", "/health", json!({}), None)).await;
    assert_eq!(response["statusCode"], 405);
    assert_eq!(header(&response, "content-type"), Some("application/problem+json"));
}

#[tokio::test]
async fn json_error_bodies_of_other_media_types_are_kept() {
    let response = invoke(&service(HttpConfig::default()), api_event("GET", "/fhir/missing", json!({}), None)).await;
    assert_eq!(response["statusCode"], 404);
    assert_eq!(header(&response, "content-type"), Some("application/fhir+json"));
    assert_eq!(response["body"], r#"{"resourceType":"OperationOutcome"}"#);
}

#[tokio::test]
async fn credentials_make_responses_uncacheable() {
    let response = invoke(
        &service(HttpConfig::default()),
        api_event("GET", "/health", json!({"authorization": "Bearer x"}), None),
    )
    .await;
    assert_eq!(header(&response, "cache-control"), Some("no-store"));
}

#[tokio::test]
async fn cors_allows_configured_origins_only() {
    let config = HttpConfig { cors_origins: vec!["https://app.example.org".parse().unwrap()], ..HttpConfig::default() };
    let service = service(config);
    let preflight = |origin: &str| {
        api_event(
            "OPTIONS",
            "/notes",
            json!({"origin": origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type"}),
            None,
        )
    };
    let allowed = invoke(&service, preflight("https://app.example.org")).await;
    assert_eq!(header(&allowed, "access-control-allow-origin"), Some("https://app.example.org"));
    assert_eq!(header(&allowed, "access-control-allow-credentials"), Some("true"));
    let allowed_headers = header(&allowed, "access-control-allow-headers").unwrap_or_default().to_ascii_lowercase();
    for name in ["authorization", "content-type", "if-match", "x-request-id", "x-csrf-token"] {
        assert!(allowed_headers.split(',').any(|h| h.trim() == name), "{name} not in {allowed_headers}");
    }
    let refused = invoke(&service, preflight("https://evil.example.com")).await;
    assert_eq!(header(&refused, "access-control-allow-origin"), None);
}

#[tokio::test]
async fn a_panicking_handler_is_a_500_problem_without_internals() {
    let response = invoke(&service(HttpConfig::default()), api_event("GET", "/boom", json!({}), None)).await;
    assert_eq!(response["statusCode"], 500);
    let body = response["body"].as_str().unwrap();
    assert!(!body.contains("medvault-secret-table"), "{body}");
    assert_eq!(serde_json::from_str::<Value>(body).unwrap()["correlation_id"], "lambda-request-7");
}

#[tokio::test(start_paused = true)]
async fn a_slow_handler_is_a_504_problem() {
    let service = service(HttpConfig { request_timeout: Duration::from_secs(1), ..HttpConfig::default() });
    let response = invoke(&service, api_event("GET", "/slow", json!({}), None)).await;
    assert_eq!(response["statusCode"], 504);
    assert_eq!(header(&response, "content-type"), Some("application/problem+json"));
}

#[tokio::test]
async fn html_gets_a_strict_content_security_policy() {
    let response = invoke(&service(HttpConfig::default()), api_event("GET", "/page", json!({}), None)).await;
    let csp = header(&response, "content-security-policy").unwrap();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
}

#[tokio::test]
async fn openapi_document_is_3_1_and_lists_health() {
    let response = invoke(&service(HttpConfig::default()), api_event("GET", "/openapi.json", json!({}), None)).await;
    let doc: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(doc["paths"]["/health"]["get"].is_object());
    assert!(doc["paths"]["/health/ready"]["get"].is_object());
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    assert_eq!(doc["info"]["title"], "test API");
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'w> tracing_subscriber::fmt::MakeWriter<'w> for Capture {
    type Writer = Capture;
    fn make_writer(&'w self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn logs_of_requests_carrying_phi_contain_none_of_it() {
    // Arrange: every log line at every level goes to the capture, as JSON (the Lambda format).
    let capture = Capture::default();
    medvault_platform::telemetry::init_with(
        medvault_platform::telemetry::LogFormat::Json,
        Some("trace"),
        capture.clone(),
    );
    let service = service(HttpConfig::default());
    let phi = ["Jane Q. Roe", "078-05-1120", "MRN00456123", "jane.roe@example.org", "1962-03-14"];

    // Act: PHI in the query string, a header, a JSON body (valid, invalid and malformed) and a path.
    let query = format!("/health?mrn={}&name={}", phi[2], "Jane+Q.+Roe");
    let mut event = api_event("GET", "/health", json!({"x-patient-email": phi[3]}), None);
    event["rawQueryString"] = json!(query.split_once('?').unwrap().1);
    invoke(&service, event).await;
    let note = json!({"text": format!("{} SSN {} born {}", phi[0], phi[1], phi[4])}).to_string();
    invoke(&service, api_event("POST", "/notes", json!({"content-type": "application/json"}), Some(&note))).await;
    let wrong_type = json!({"text": 5, "name": phi[0], "ssn": phi[1]}).to_string();
    invoke(&service, api_event("POST", "/notes", json!({"content-type": "application/json"}), Some(&wrong_type))).await;
    invoke(
        &service,
        api_event(
            "POST",
            "/notes",
            json!({"content-type": "application/json"}),
            Some(&format!("{{\"text\": \"{}", phi[0])),
        ),
    )
    .await;
    invoke(&service, api_event("GET", &format!("/patients/{}", phi[1]), json!({}), None)).await;

    // Assert: requests were logged, and no PHI value appears anywhere in the logs.
    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("request handled"), "expected access-log lines, got: {logs}");
    for value in phi {
        assert!(!logs.contains(value), "{value} leaked into the logs:\n{logs}");
    }
    assert!(!logs.contains("Roe"), "a part of a name leaked:\n{logs}");
}
