//! Each API function's OpenAPI 3.1 document, generated from its handlers, served at `GET /openapi.json`.
//! The local stack merges the documents of every function into one.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ComponentsBuilder, InfoBuilder, OpenApi};

use crate::json::Json;
use crate::problem::Problem;

/// The name of the bearer-token security scheme every protected route refers to.
pub const BEARER: &str = "bearer";

/// Sets the document's title and version, and adds the shared components: the problem schema and the bearer
/// security scheme.
pub fn finish(mut doc: OpenApi, title: &str, description: &str) -> OpenApi {
    doc.info =
        InfoBuilder::new().title(title).version(env!("CARGO_PKG_VERSION")).description(Some(description)).build();
    let shared = ComponentsBuilder::new()
        .schema_from::<Problem>()
        .security_scheme(
            BEARER,
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        )
        .build();
    match doc.components.as_mut() {
        Some(components) => {
            components.schemas.extend(shared.schemas);
            components.security_schemes.extend(shared.security_schemes);
        }
        None => doc.components = Some(shared),
    }
    doc
}

/// `GET /openapi.json` serving `doc`.
pub fn route(doc: OpenApi) -> Router {
    Router::new().route("/openapi.json", get(serve_doc)).with_state(Arc::new(doc))
}

async fn serve_doc(State(doc): State<Arc<OpenApi>>) -> Json<OpenApi> {
    Json(OpenApi::clone(&doc))
}
