//! The routes under `/v1/phi`: each parses its body, makes one call on [`PhiEngine`] and renders the result.

use axum::extract::State;
use medvault_auth::{Permission, Principal, require};
use medvault_http::{ApiError, Json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::engine::PhiEngine;
use crate::request::{
    AnalyzeRequest, AnalyzeResponse, DecryptRequest, DecryptResponse, DeidentifyRequest, PhiEntity, PhiTransformed,
    RedactRequest, TransformResponse, wrapped_key, wrapped_key_text,
};

/// Every PHI route, each behind the permission it needs (`phi:analyze`; `phi:decrypt` for decryption).
pub fn routes(engine: PhiEngine) -> OpenApiRouter {
    let analysis = OpenApiRouter::new()
        .routes(routes!(analyze))
        .routes(routes!(redact))
        .routes(routes!(deidentify))
        .route_layer(require(Permission::PhiAnalyze));
    let decryption = OpenApiRouter::new().routes(routes!(decrypt)).route_layer(require(Permission::PhiDecrypt));
    analysis.merge(decryption).with_state(engine)
}

/// Finds PHI in a text: entity types, code-point offsets and scores; the values are not repeated.
#[utoipa::path(post, path = "/v1/phi/analyze", tag = "phi", request_body = AnalyzeRequest, responses(
    (status = 200, body = AnalyzeResponse),
    (status = 400, body = medvault_http::Problem, description = "the body is not JSON"),
    (status = 413, body = medvault_http::Problem, description = "the body is over the size limit"),
    (status = 415, body = medvault_http::Problem, description = "the body is not application/json"),
    (status = 422, body = medvault_http::Problem, description = "unknown fields or types, a bad score or pattern"),
))]
async fn analyze(
    State(engine): State<PhiEngine>,
    Json(request): Json<AnalyzeRequest>,
) -> Result<Json<AnalyzeResponse>, ApiError> {
    let options = request.detection.compile()?;
    let entities = engine.analyze(request.text, options).await?;
    Ok(Json(AnalyzeResponse { entities: entities.iter().map(PhiEntity::from).collect() }))
}

/// Rewrites the PHI of a text with an operator per entity type (`redact`, `replace`, `mask`, `hash`,
/// `pseudonymize`, `encrypt`, `safe-harbor`).
#[utoipa::path(post, path = "/v1/phi/redact", tag = "phi", request_body = RedactRequest, responses(
    (status = 200, body = TransformResponse),
    (status = 400, body = medvault_http::Problem, description = "the body is not JSON"),
    (status = 413, body = medvault_http::Problem, description = "the body is over the size limit"),
    (status = 415, body = medvault_http::Problem, description = "the body is not application/json"),
    (status = 422, body = medvault_http::Problem, description = "unknown fields, operators or types, or bad options"),
    (status = 503, body = medvault_http::Problem, description = "the key service is unavailable; retry"),
))]
async fn redact(
    State(engine): State<PhiEngine>,
    Json(request): Json<RedactRequest>,
) -> Result<Json<TransformResponse>, ApiError> {
    let options = request.detection.compile()?;
    let policy = request.policy.to_policy()?;
    let redacted = engine.redact(request.text, options, policy).await?;
    Ok(Json(TransformResponse {
        text: redacted.output.text,
        items: redacted.output.items.iter().map(PhiTransformed::from).collect(),
        wrapped_key: redacted.wrapped_key.as_ref().map(wrapped_key_text),
    }))
}

/// De-identifies a text under HIPAA Safe Harbor (45 CFR 164.514(b)(2)): dates to the year, ages over 89 to `90+`,
/// ZIP codes to their first three digits (`000` for sparse areas), every other identifier to `[TYPE]`.
#[utoipa::path(post, path = "/v1/phi/deidentify", tag = "phi", request_body = DeidentifyRequest, responses(
    (status = 200, body = TransformResponse),
    (status = 400, body = medvault_http::Problem, description = "the body is not JSON"),
    (status = 413, body = medvault_http::Problem, description = "the body is over the size limit"),
    (status = 415, body = medvault_http::Problem, description = "the body is not application/json"),
    (status = 422, body = medvault_http::Problem, description = "unknown fields, a bad score or pattern"),
))]
async fn deidentify(
    State(engine): State<PhiEngine>,
    Json(request): Json<DeidentifyRequest>,
) -> Result<Json<TransformResponse>, ApiError> {
    let options = request.detection.compile()?;
    let output = engine.deidentify(request.text, options).await?;
    Ok(Json(TransformResponse {
        text: output.text,
        items: output.items.iter().map(PhiTransformed::from).collect(),
        wrapped_key: None,
    }))
}

/// Restores the values an `encrypt` operator hid, given the `wrapped_key` of that `redact` call. Only roles with
/// `phi:decrypt`; every attempt is written to the audit trail.
#[utoipa::path(post, path = "/v1/phi/decrypt", tag = "phi", request_body = DecryptRequest, responses(
    (status = 200, body = DecryptResponse),
    (status = 400, body = medvault_http::Problem, description = "the body is not JSON"),
    (status = 413, body = medvault_http::Problem, description = "the body is over the size limit"),
    (status = 415, body = medvault_http::Problem, description = "the body is not application/json"),
    (status = 422, body = medvault_http::Problem, description = "a token or the wrapped key does not open"),
    (status = 503, body = medvault_http::Problem, description = "the key service is unavailable; retry"),
))]
async fn decrypt(
    State(engine): State<PhiEngine>,
    principal: Principal,
    Json(request): Json<DecryptRequest>,
) -> Result<Json<DecryptResponse>, ApiError> {
    let key = wrapped_key(&request.wrapped_key)?;
    let text = engine.decrypt(&principal, request.text, &key).await?;
    Ok(Json(DecryptResponse { text }))
}
