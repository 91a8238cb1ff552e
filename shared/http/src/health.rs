//! `GET /health` (the process answers; no dependency is touched) and `GET /health/ready` (every dependency's status
//! and latency; 503 when one is down).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use medvault_platform::readiness::{ReadinessCheck, run_checks};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::json::Json;

/// The dependencies a function checks for readiness, and how long each may take.
pub struct Readiness {
    checks: Vec<Box<dyn ReadinessCheck>>,
    timeout: Duration,
}

impl std::fmt::Debug for Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.checks.iter().map(|c| c.name())).finish()
    }
}

impl Readiness {
    pub fn new(checks: Vec<Box<dyn ReadinessCheck>>) -> Self {
        Self { checks, timeout: Duration::from_secs(2) }
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// `GET /health`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    pub status: &'static str,
}

/// One dependency in `GET /health/ready`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DependencyStatus {
    pub name: String,
    /// `ok` or `unavailable`.
    pub status: &'static str,
    pub latency_ms: f64,
}

/// `GET /health/ready`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadinessReport {
    /// `ok` when every dependency answered, else `unavailable`.
    pub status: &'static str,
    pub checks: Vec<DependencyStatus>,
}

/// The health routes, with their OpenAPI.
pub fn routes(readiness: Readiness) -> OpenApiRouter {
    OpenApiRouter::new().routes(routes!(health)).routes(routes!(ready)).with_state(Arc::new(readiness))
}

/// Liveness: the function runs. Touches no dependency.
#[utoipa::path(get, path = "/health", tag = "health", responses((status = 200, body = Health)))]
async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Readiness: every dependency this function needs answers, with each one's latency.
#[utoipa::path(get, path = "/health/ready", tag = "health", responses(
    (status = 200, body = ReadinessReport, description = "every dependency answered"),
    (status = 503, body = ReadinessReport, description = "at least one dependency did not answer"),
))]
async fn ready(State(readiness): State<Arc<Readiness>>) -> Response {
    let outcomes = run_checks(&readiness.checks, readiness.timeout).await;
    let all_ok = outcomes.iter().all(|o| o.ok);
    let report = ReadinessReport {
        status: if all_ok { "ok" } else { "unavailable" },
        checks: outcomes
            .into_iter()
            .map(|o| DependencyStatus {
                name: o.name,
                status: if o.ok { "ok" } else { "unavailable" },
                latency_ms: (o.latency_ms * 100.0).round() / 100.0,
            })
            .collect(),
    };
    let status = if all_ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(report)).into_response()
}
