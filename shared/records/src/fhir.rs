//! Read-only FHIR R4 (4.0.1) views of the records: `Patient`, `DocumentReference`, `AuditEvent`, search `Bundle`s
//! and `OperationOutcome` errors, served as `application/fhir+json`.

use medvault_audit::{ChainedEvent, Outcome};
use serde_json::{Value, json};

use crate::model::{DocumentStatus, Patient};
use crate::service::DocumentView;

/// The FHIR JSON media type.
pub const FHIR_JSON: &str = "application/fhir+json";
/// The identifier system of medvault's MRNs.
pub const MRN_SYSTEM: &str = "urn:medvault:mrn";
/// The identifier system of medvault's user ids.
pub const USER_SYSTEM: &str = "urn:medvault:user";

fn instant(time: chrono::DateTime<chrono::Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A `Patient`.
pub fn patient(patient: &Patient) -> Value {
    let d = &patient.demographics;
    let mut resource = json!({
        "resourceType": "Patient",
        "id": patient.id.to_string(),
        "meta": { "versionId": patient.version.to_string(), "lastUpdated": instant(patient.updated_at) },
        "identifier": [{
            "use": "usual",
            "type": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR" }] },
            "system": MRN_SYSTEM,
            "value": d.mrn.expose(),
        }],
        "active": true,
        "name": [{ "use": "official", "family": d.name.family, "given": d.name.given }],
        "gender": d.sex.as_str(),
        "birthDate": d.birth_date.format("%Y-%m-%d").to_string(),
    });
    let mut telecom = Vec::new();
    if let Some(phone) = &d.phone {
        telecom.push(json!({ "system": "phone", "value": phone }));
    }
    if let Some(email) = &d.email {
        telecom.push(json!({ "system": "email", "value": email }));
    }
    if !telecom.is_empty() {
        resource["telecom"] = Value::Array(telecom);
    }
    if let Some(address) = &d.address {
        resource["address"] = json!([{
            "line": address.line, "city": address.city, "state": address.state, "postalCode": address.postal_code,
        }]);
    }
    resource
}

/// A `DocumentReference` (the title only for callers who may read the file name).
pub fn document_reference(document: &DocumentView) -> Value {
    let mut attachment = json!({ "contentType": document.content_type, "size": document.size });
    if let Some(filename) = &document.filename {
        attachment["title"] = json!(filename);
    }
    json!({
        "resourceType": "DocumentReference",
        "id": document.id.to_string(),
        "status": "current",
        "docStatus": if document.status == DocumentStatus::Ready { "final" } else { "preliminary" },
        "subject": { "reference": format!("Patient/{}", document.patient_id) },
        "date": instant(document.created_at),
        "content": [{ "attachment": attachment }],
    })
}

/// The FHIR action code of an audit action (`C`reate, `R`ead, `U`pdate, `D`elete, `E`xecute).
fn action_code(action: &str) -> &'static str {
    let verb = action.rsplit('.').next().unwrap_or_default();
    match verb {
        "create" | "add" | "grant" => "C",
        "read" | "list" | "search" | "content" | "query" => "R",
        "update" => "U",
        "erase" | "remove" | "delete" => "D",
        _ => "E",
    }
}

/// The v3 `ActReason` code of an audit purpose.
fn purpose_code(purpose: &str) -> Option<&'static str> {
    match purpose {
        "treatment" => Some("TREAT"),
        "break-glass" => Some("ETREAT"),
        "operations" => Some("HOPERAT"),
        "audit" => Some("HSYSADMIN"),
        _ => None,
    }
}

/// An `AuditEvent`.
pub fn audit_event(chained: &ChainedEvent) -> Value {
    let e = &chained.event;
    let mut agent = json!({
        "who": { "identifier": { "system": USER_SYSTEM, "value": e.actor_id } },
        "requestor": true,
    });
    if !e.roles.is_empty() {
        agent["role"] = Value::Array(e.roles.iter().map(|r| json!({ "text": r })).collect());
    }
    if let Some(ip) = &e.source_ip {
        agent["network"] = json!({ "address": ip, "type": "2" });
    }
    let mut resource = json!({
        "resourceType": "AuditEvent",
        "id": e.id.to_string(),
        "type": {
            "system": "http://terminology.hl7.org/CodeSystem/audit-event-type",
            "code": "rest",
            "display": "RESTful Operation",
        },
        "subtype": [{ "system": "urn:medvault:audit-action", "code": e.action }],
        "action": action_code(&e.action),
        "recorded": instant(e.time),
        "outcome": match e.outcome { Outcome::Allow | Outcome::Success => "0", Outcome::Deny => "4", Outcome::Failure => "8" },
        "agent": [agent],
        "source": { "observer": { "display": "medvault" } },
    });
    if let Some(reason) = &e.reason {
        resource["outcomeDesc"] = json!(reason);
    }
    if let Some(code) = e.purpose.as_deref().and_then(purpose_code) {
        resource["purposeOfEvent"] =
            json!([{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": code }] }]);
    }
    if let Some(patient) = &e.patient_id {
        resource["entity"] = json!([{ "what": { "reference": format!("Patient/{patient}") } }]);
    }
    resource
}

/// A `searchset` `Bundle` of `resources`.
pub fn bundle(resources: Vec<Value>, self_url: &str) -> Value {
    let entries: Vec<Value> = resources
        .into_iter()
        .map(|resource| {
            let full_url = format!("urn:uuid:{}", resource["id"].as_str().unwrap_or_default());
            json!({ "fullUrl": full_url, "resource": resource, "search": { "mode": "match" } })
        })
        .collect();
    json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "total": entries.len(),
        "link": [{ "relation": "self", "url": self_url }],
        "entry": entries,
    })
}

/// An `OperationOutcome` with one error issue.
pub fn operation_outcome(code: &str, diagnostics: &str) -> Value {
    json!({
        "resourceType": "OperationOutcome",
        "issue": [{ "severity": "error", "code": code, "diagnostics": diagnostics }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_actions_map_to_fhir_action_codes() {
        assert_eq!(action_code("patient.read"), "R");
        assert_eq!(action_code("note.create"), "C");
        assert_eq!(action_code("patient.erase"), "D");
        assert_eq!(action_code("auth.login"), "E");
    }

    #[test]
    fn a_bundle_counts_and_wraps_its_entries() {
        let b = bundle(vec![json!({"resourceType": "Patient", "id": "p1"})], "https://x/fhir/R4/Patient?identifier=a");
        assert_eq!(b["total"], 1);
        assert_eq!(b["entry"][0]["fullUrl"], "urn:uuid:p1");
        assert_eq!(b["entry"][0]["search"]["mode"], "match");
    }
}
