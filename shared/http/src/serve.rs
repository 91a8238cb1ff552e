//! Assembling a function's service (its routes, health, OpenAPI, the shared layers) and serving it to Lambda.
//!
//! `lambda_http` turns API Gateway v2 (HTTP API) and ALB events alike into `http::Request`s and the responses back
//! into the event source's format, so one router serves both.

use axum::Router;
use utoipa_axum::router::OpenApiRouter;

use crate::config::HttpConfig;
use crate::health::{self, Readiness};
use crate::layers;
use crate::openapi;

/// A function's HTTP service, ready to serve.
#[derive(Clone)]
pub struct ApiService {
    pub router: Router,
    pub openapi: utoipa::openapi::OpenApi,
}

impl std::fmt::Debug for ApiService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiService").field("title", &self.openapi.info.title).finish_non_exhaustive()
    }
}

impl ApiService {
    /// `routes` (with their state and any auth layer already applied) plus `/health`, `/health/ready` and
    /// `/openapi.json`, all behind the shared layer stack.
    pub fn new(
        title: &str,
        description: &str,
        routes: OpenApiRouter,
        readiness: Readiness,
        config: &HttpConfig,
    ) -> Self {
        let (router, doc) = routes.merge(health::routes(readiness)).split_for_parts();
        let doc = openapi::finish(doc, title, description);
        let router = layers::apply(router.merge(openapi::route(doc.clone())), config);
        Self { router, openapi: doc }
    }
}

/// Serves `service` to the Lambda Runtime API until the execution environment ends.
pub async fn serve(service: ApiService) -> Result<(), lambda_http::Error> {
    lambda_http::run(service.router).await
}
