//! The JSON routes under `/v1`: each translates the request into one call on `medvault_records::Records` and its
//! result into a response.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use medvault_auth::{Principal, UserId};
use medvault_http::{ApiError, Json};
use medvault_records::model::{
    DocumentId, DocumentInput, NoteInput, NoteView, Patient, PatientId, PatientInput, PatientPatch, PatientView,
};
use medvault_records::service::{
    AuditEntries, AuditEntry, AuditSearch, CreatedDocument, DocumentView, Download, Grant,
};
use medvault_records::{Records, RecordsError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Every records route, with its state.
pub fn routes(records: Records) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(create_patient, list_patients))
        .routes(routes!(get_patient, update_patient, erase_patient))
        .routes(routes!(add_member, remove_member))
        .routes(routes!(create_note, list_notes))
        .routes(routes!(create_document))
        .routes(routes!(get_document))
        .routes(routes!(document_content))
        .routes(routes!(break_glass))
        .routes(routes!(audit_events))
        .routes(routes!(disclosures))
        .merge(crate::fhir_routes::routes())
        .with_state(records)
}

/// Parses a path id; a malformed one is as unknown as a missing one.
pub(crate) fn parse_id<T: std::str::FromStr>(raw: &str) -> Result<T, RecordsError> {
    raw.parse().map_err(|_| RecordsError::NotFound)
}

fn etag(version: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

/// The version an `If-Match` names (`"3"` or `W/"3"`); anything else matches no version.
fn if_match(headers: &HeaderMap) -> Result<Option<u64>, RecordsError> {
    let Some(value) = headers.get(header::IF_MATCH) else { return Ok(None) };
    let text = value.to_str().map_err(|_| RecordsError::PreconditionFailed)?.trim();
    let text = text.strip_prefix("W/").unwrap_or(text);
    let version = text.trim_matches('"').parse().map_err(|_| RecordsError::PreconditionFailed)?;
    Ok(Some(version))
}

fn patient_response(status: StatusCode, patient: &Patient) -> Response {
    let mut response = (status, Json(PatientView::from(patient))).into_response();
    response.headers_mut().insert(header::ETAG, etag(patient.version));
    let location = HeaderValue::from_str(&format!("/v1/patients/{}", patient.id));
    if let (StatusCode::CREATED, Ok(location)) = (status, location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// Creates a patient; the creating clinician joins the care team.
#[utoipa::path(post, path = "/v1/patients", tag = "patients", request_body = PatientInput, responses(
    (status = 201, body = PatientView, description = "created; `ETag` carries the version"),
    (status = 409, body = medvault_http::Problem, description = "a patient with this MRN exists"),
    (status = 422, body = medvault_http::Problem, description = "invalid fields"),
))]
async fn create_patient(
    State(records): State<Records>,
    principal: Principal,
    Json(input): Json<PatientInput>,
) -> Result<Response, ApiError> {
    let patient = records.create_patient(&principal, &input).await?;
    Ok(patient_response(StatusCode::CREATED, &patient))
}

/// `GET /v1/patients` parameters.
#[derive(Debug, Deserialize, IntoParams)]
struct ListParams {
    /// Exact MRN match (through the keyed blind index).
    mrn: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Patients per page (1 to 50, default 20).
    limit: Option<usize>,
}

/// A page of patients.
#[derive(Debug, Serialize, ToSchema)]
struct PatientList {
    patients: Vec<PatientView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

/// The caller's care-team patients, paginated; or the patient with an MRN.
#[utoipa::path(get, path = "/v1/patients", tag = "patients", params(ListParams), responses(
    (status = 200, body = PatientList),
    (status = 400, body = medvault_http::Problem, description = "the cursor is not valid"),
))]
async fn list_patients(
    State(records): State<Records>,
    principal: Principal,
    Query(params): Query<ListParams>,
) -> Result<Json<PatientList>, ApiError> {
    if let Some(mrn) = params.mrn.as_deref() {
        let found = records.find_by_mrn(&principal, mrn, "patient.search").await?;
        return Ok(Json(PatientList { patients: found.iter().map(PatientView::from).collect(), next_cursor: None }));
    }
    let page = records.my_patients(&principal, params.limit.unwrap_or(20), params.cursor.as_deref()).await?;
    Ok(Json(PatientList {
        patients: page.patients.iter().map(PatientView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// A patient's demographics, with its version in `ETag`.
#[utoipa::path(get, path = "/v1/patients/{id}", tag = "patients", params(("id" = String, Path)), responses(
    (status = 200, body = PatientView),
    (status = 404, body = medvault_http::Problem, description = "no such patient, or one the caller may not see"),
))]
async fn get_patient(
    State(records): State<Records>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let patient = records.get_patient(&principal, parse_id(&id)?, "patient.read").await?;
    Ok(patient_response(StatusCode::OK, &patient))
}

/// Changes a patient; `If-Match` must carry the current `ETag`.
#[utoipa::path(patch, path = "/v1/patients/{id}", tag = "patients", request_body = PatientPatch,
    params(("id" = String, Path), ("If-Match" = String, Header)), responses(
    (status = 200, body = PatientView),
    (status = 404, body = medvault_http::Problem),
    (status = 412, body = medvault_http::Problem, description = "the patient changed since that version"),
    (status = 428, body = medvault_http::Problem, description = "If-Match is missing"),
))]
async fn update_patient(
    State(records): State<Records>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(patch): Json<PatientPatch>,
) -> Result<Response, ApiError> {
    let patient = records.update_patient(&principal, parse_id(&id)?, if_match(&headers)?, &patch).await?;
    Ok(patient_response(StatusCode::OK, &patient))
}

/// Erases a patient by crypto-shredding (admins): the data key is destroyed; a tombstone and the audit trail remain.
#[utoipa::path(delete, path = "/v1/patients/{id}", tag = "patients", params(("id" = String, Path)), responses(
    (status = 204, description = "erased"),
    (status = 404, body = medvault_http::Problem),
))]
async fn erase_patient(
    State(records): State<Records>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    records.erase_patient(&principal, parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds a user to the patient's care team.
#[utoipa::path(put, path = "/v1/patients/{id}/care-team/{user_id}", tag = "care team",
    params(("id" = String, Path), ("user_id" = String, Path)), responses(
    (status = 204, description = "the user is on the care team"),
    (status = 404, body = medvault_http::Problem),
))]
async fn add_member(
    State(records): State<Records>,
    principal: Principal,
    Path((id, user)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let user: UserId = user.parse().map_err(|_| ApiError::unprocessable("user_id must be a user id"))?;
    records.add_member(&principal, parse_id(&id)?, user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a user from the patient's care team.
#[utoipa::path(delete, path = "/v1/patients/{id}/care-team/{user_id}", tag = "care team",
    params(("id" = String, Path), ("user_id" = String, Path)), responses(
    (status = 204, description = "the user is not on the care team"),
    (status = 404, body = medvault_http::Problem),
))]
async fn remove_member(
    State(records): State<Records>,
    principal: Principal,
    Path((id, user)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let user: UserId = user.parse().map_err(|_| ApiError::unprocessable("user_id must be a user id"))?;
    records.remove_member(&principal, parse_id(&id)?, user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Writes a note; the PHI engine scans it and both forms are stored encrypted.
#[utoipa::path(post, path = "/v1/patients/{id}/notes", tag = "notes", request_body = NoteInput,
    params(("id" = String, Path)), responses(
    (status = 201, body = NoteView),
    (status = 404, body = medvault_http::Problem),
))]
async fn create_note(
    State(records): State<Records>,
    principal: Principal,
    Path(id): Path<String>,
    Json(input): Json<NoteInput>,
) -> Result<(StatusCode, Json<NoteView>), ApiError> {
    let note = records.create_note(&principal, parse_id(&id)?, &input.text).await?;
    Ok((StatusCode::CREATED, Json(note)))
}

/// The patient's notes, newest first; the full text only for roles with PHI access.
#[utoipa::path(get, path = "/v1/patients/{id}/notes", tag = "notes", params(("id" = String, Path)), responses(
    (status = 200, body = Vec<NoteView>),
    (status = 404, body = medvault_http::Problem),
))]
async fn list_notes(
    State(records): State<Records>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Vec<NoteView>>, ApiError> {
    Ok(Json(records.list_notes(&principal, parse_id(&id)?).await?))
}

/// Registers a document and returns a presigned upload (type, exact size and SSE-KMS are signed).
#[utoipa::path(post, path = "/v1/patients/{id}/documents", tag = "documents", request_body = DocumentInput,
    params(("id" = String, Path)), responses(
    (status = 201, body = CreatedDocument),
    (status = 404, body = medvault_http::Problem),
    (status = 422, body = medvault_http::Problem, description = "type not accepted or size out of range"),
))]
async fn create_document(
    State(records): State<Records>,
    principal: Principal,
    Path(id): Path<String>,
    Json(input): Json<DocumentInput>,
) -> Result<(StatusCode, Json<CreatedDocument>), ApiError> {
    let created = records.create_document(&principal, parse_id(&id)?, &input).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// A document's metadata and processing status; text fields per role.
#[utoipa::path(get, path = "/v1/documents/{id}", tag = "documents", params(("id" = String, Path)), responses(
    (status = 200, body = DocumentView),
    (status = 404, body = medvault_http::Problem),
))]
async fn get_document(
    State(records): State<Records>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<DocumentView>, ApiError> {
    let id: DocumentId = parse_id(&id)?;
    Ok(Json(records.get_document(&principal, id).await?))
}

/// A short-lived presigned download of the document's content, audited.
#[utoipa::path(get, path = "/v1/documents/{id}/content", tag = "documents", params(("id" = String, Path)), responses(
    (status = 200, body = Download),
    (status = 404, body = medvault_http::Problem),
    (status = 409, body = medvault_http::Problem, description = "not uploaded yet"),
))]
async fn document_content(
    State(records): State<Records>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Download>, ApiError> {
    let id: DocumentId = parse_id(&id)?;
    Ok(Json(records.document_content(&principal, id).await?))
}

/// `POST /v1/patients/{id}/break-glass`.
#[derive(Deserialize, ToSchema)]
struct BreakGlassInput {
    /// Why emergency access is needed (10 to 500 characters); stored encrypted, reviewed by auditors.
    reason: String,
}

impl std::fmt::Debug for BreakGlassInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BreakGlassInput([REDACTED])")
    }
}

/// Emergency access to a patient outside the care team, for a limited time; audited and raised as a security event.
#[utoipa::path(post, path = "/v1/patients/{id}/break-glass", tag = "break-glass", request_body = BreakGlassInput,
    params(("id" = String, Path)), responses(
    (status = 201, body = Grant),
    (status = 404, body = medvault_http::Problem),
))]
async fn break_glass(
    State(records): State<Records>,
    principal: Principal,
    Path(id): Path<String>,
    Json(input): Json<BreakGlassInput>,
) -> Result<(StatusCode, Json<Grant>), ApiError> {
    let grant = records.break_glass(&principal, parse_id(&id)?, &input.reason).await?;
    Ok((StatusCode::CREATED, Json(grant)))
}

/// Searches the audit trail (auditors): by patient, by actor, or by time (`from` and `to`).
#[utoipa::path(get, path = "/v1/audit/events", tag = "audit", params(AuditSearch), responses(
    (status = 200, body = AuditEntries),
    (status = 400, body = medvault_http::Problem, description = "the cursor is not valid"),
    (status = 403, body = medvault_http::Problem),
))]
async fn audit_events(
    State(records): State<Records>,
    principal: Principal,
    Query(search): Query<AuditSearch>,
) -> Result<Json<AuditEntries>, ApiError> {
    Ok(Json(records.search_audit(&principal, &search).await?))
}

/// The accounting of disclosures of a patient's PHI.
#[derive(Debug, Serialize, ToSchema)]
struct Disclosures {
    patient_id: PatientId,
    disclosures: Vec<AuditEntry>,
}

/// Who accessed the patient's PHI, when, and for what purpose.
#[utoipa::path(get, path = "/v1/patients/{id}/disclosures", tag = "audit", params(("id" = String, Path)), responses(
    (status = 200, body = Disclosures),
    (status = 404, body = medvault_http::Problem),
))]
async fn disclosures(
    State(records): State<Records>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Disclosures>, ApiError> {
    let id: PatientId = parse_id(&id)?;
    let disclosures = records.disclosures(&principal, id).await?;
    Ok(Json(Disclosures { patient_id: id, disclosures }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_takes_strong_and_weak_etags() {
        let mut headers = HeaderMap::new();
        assert_eq!(if_match(&headers).unwrap(), None);
        headers.insert(header::IF_MATCH, HeaderValue::from_static("\"3\""));
        assert_eq!(if_match(&headers).unwrap(), Some(3));
        headers.insert(header::IF_MATCH, HeaderValue::from_static("W/\"4\""));
        assert_eq!(if_match(&headers).unwrap(), Some(4));
        headers.insert(header::IF_MATCH, HeaderValue::from_static("\"abc\""));
        assert!(matches!(if_match(&headers), Err(RecordsError::PreconditionFailed)));
    }
}
