//! The read-only FHIR R4 routes under `/fhir/R4`: the same records, access rules and audit as the JSON API, as
//! `application/fhir+json`, with search results in `Bundle`s and errors as `OperationOutcome`.

use axum::extract::{OriginalUri, Path, Query, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use medvault_auth::Principal;
use medvault_http::ApiError;
use medvault_records::model::PatientId;
use medvault_records::{Records, RecordsError, fhir};
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Records> {
    OpenApiRouter::new()
        .routes(routes!(read_patient))
        .routes(routes!(search_patients))
        .routes(routes!(search_document_references))
        .routes(routes!(search_audit_events))
}

fn fhir_json(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(fhir::FHIR_JSON));
    response
}

/// An error as an `OperationOutcome`, with the status the JSON API would answer.
fn outcome(error: RecordsError) -> Response {
    let api: ApiError = error.into();
    let status = api.status();
    let (code, diagnostics) = match status {
        StatusCode::NOT_FOUND => ("not-found", "no such resource"),
        StatusCode::FORBIDDEN => ("forbidden", "this action is not permitted"),
        StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => ("invalid", "the request is invalid"),
        s if s.is_server_error() => ("transient", "the server could not answer; try again"),
        _ => ("processing", "the request failed"),
    };
    // Log the cause the way the JSON API does, then answer in FHIR's shape.
    drop(api.into_response());
    fhir_json(status, &fhir::operation_outcome(code, diagnostics))
}

fn invalid(diagnostics: &str) -> Response {
    fhir_json(StatusCode::BAD_REQUEST, &fhir::operation_outcome("invalid", diagnostics))
}

fn not_found() -> Response {
    fhir_json(StatusCode::NOT_FOUND, &fhir::operation_outcome("not-found", "no such resource"))
}

/// A patient reference: `<id>` or `Patient/<id>`.
fn patient_reference(raw: &str) -> Option<PatientId> {
    raw.strip_prefix("Patient/").unwrap_or(raw).parse().ok()
}

/// A FHIR `Patient`.
#[utoipa::path(get, path = "/fhir/R4/Patient/{id}", tag = "fhir", params(("id" = String, Path)), responses(
    (status = 200, description = "a Patient resource", content_type = "application/fhir+json", body = Object),
    (status = 404, description = "an OperationOutcome", content_type = "application/fhir+json", body = Object),
))]
async fn read_patient(State(records): State<Records>, principal: Principal, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<PatientId>() else { return not_found() };
    match records.get_patient(&principal, id, "fhir.patient.read").await {
        Ok(patient) => {
            let mut response = fhir_json(StatusCode::OK, &fhir::patient(&patient));
            if let Ok(etag) = HeaderValue::from_str(&format!("W/\"{}\"", patient.version)) {
                response.headers_mut().insert(header::ETAG, etag);
            }
            response
        }
        Err(error) => outcome(error),
    }
}

/// `identifier` search parameter.
#[derive(Debug, Deserialize, IntoParams)]
struct IdentifierSearch {
    /// `urn:medvault:mrn|<MRN>` or `<MRN>`.
    identifier: Option<String>,
}

/// Patients by identifier (MRN), as a searchset `Bundle`.
#[utoipa::path(get, path = "/fhir/R4/Patient", tag = "fhir", params(IdentifierSearch), responses(
    (status = 200, description = "a searchset Bundle", content_type = "application/fhir+json", body = Object),
    (status = 400, description = "an OperationOutcome", content_type = "application/fhir+json", body = Object),
))]
async fn search_patients(
    State(records): State<Records>,
    principal: Principal,
    OriginalUri(uri): OriginalUri,
    Query(search): Query<IdentifierSearch>,
) -> Response {
    let Some(identifier) = search.identifier else { return invalid("the identifier parameter is required") };
    let value = match identifier.split_once('|') {
        Some((system, value)) if system.is_empty() || system == fhir::MRN_SYSTEM => value.to_owned(),
        Some(_) => return fhir_json(StatusCode::OK, &fhir::bundle(Vec::new(), &uri.to_string())),
        None => identifier,
    };
    match records.find_by_mrn(&principal, &value, "fhir.patient.search").await {
        Ok(found) => {
            fhir_json(StatusCode::OK, &fhir::bundle(found.iter().map(fhir::patient).collect(), &uri.to_string()))
        }
        Err(error) => outcome(error),
    }
}

/// `patient` search parameter.
#[derive(Debug, Deserialize, IntoParams)]
struct PatientSearch {
    /// `<id>` or `Patient/<id>`.
    patient: Option<String>,
}

/// A patient's documents as `DocumentReference`s in a searchset `Bundle`.
#[utoipa::path(get, path = "/fhir/R4/DocumentReference", tag = "fhir", params(PatientSearch), responses(
    (status = 200, description = "a searchset Bundle", content_type = "application/fhir+json", body = Object),
    (status = 404, description = "an OperationOutcome", content_type = "application/fhir+json", body = Object),
))]
async fn search_document_references(
    State(records): State<Records>,
    principal: Principal,
    OriginalUri(uri): OriginalUri,
    Query(search): Query<PatientSearch>,
) -> Response {
    let Some(patient) = search.patient.as_deref().and_then(patient_reference) else {
        return invalid("the patient parameter must name a patient");
    };
    match records.list_documents(&principal, patient, "fhir.document.search").await {
        Ok(documents) => fhir_json(
            StatusCode::OK,
            &fhir::bundle(documents.iter().map(fhir::document_reference).collect(), &uri.to_string()),
        ),
        Err(error) => outcome(error),
    }
}

/// A patient's audit events as `AuditEvent`s in a searchset `Bundle` (auditors).
#[utoipa::path(get, path = "/fhir/R4/AuditEvent", tag = "fhir", params(PatientSearch), responses(
    (status = 200, description = "a searchset Bundle", content_type = "application/fhir+json", body = Object),
    (status = 403, description = "an OperationOutcome", content_type = "application/fhir+json", body = Object),
))]
async fn search_audit_events(
    State(records): State<Records>,
    principal: Principal,
    OriginalUri(uri): OriginalUri,
    Query(search): Query<PatientSearch>,
) -> Response {
    let Some(patient) = search.patient.as_deref().and_then(patient_reference) else {
        return invalid("the patient parameter must name a patient");
    };
    match records.patient_audit_events(&principal, patient).await {
        Ok(events) => {
            fhir_json(StatusCode::OK, &fhir::bundle(events.iter().map(fhir::audit_event).collect(), &uri.to_string()))
        }
        Err(error) => outcome(error),
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;

    #[tokio::test]
    async fn errors_answer_as_operation_outcomes_in_fhir_json() {
        let response = outcome(RecordsError::NotFound);
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(response.headers()[header::CONTENT_TYPE], fhir::FHIR_JSON);
        let body: Value = serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
        assert_eq!(body["resourceType"], "OperationOutcome");
        assert_eq!(body["issue"][0]["code"], "not-found");
    }

    #[test]
    fn patient_references_take_ids_and_relative_references() {
        let id = PatientId::new();
        assert_eq!(patient_reference(&format!("Patient/{id}")), Some(id));
        assert_eq!(patient_reference(&id.to_string()), Some(id));
        assert_eq!(patient_reference("Practitioner/1"), None);
    }
}
