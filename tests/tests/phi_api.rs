//! The PHI API through the local stack: analyze, redact, deidentify and decrypt as a signed-in user calls them, the
//! roles each needs, the problems bad requests get, the OpenAPI document, and logs free of the PHI sent.

use medvault_tests::auth::{Answer, Api, start};
use reqwest::Method;
use serde_json::{Value, json};

/// A note with PHI after non-ASCII characters, so byte offsets and code-point offsets differ.
const NOTE: &str = "Café visit — Patient: John Smith, DOB 03/14/1962, MRN 00456123, SSN 078-05-1120, \
                    phone (617) 555-0143, email john.smith@example.org.";

/// Every PHI value of [`NOTE`] with its type.
const NOTE_PHI: &[(&str, &str)] = &[
    ("PERSON", "John Smith"),
    ("DATE", "03/14/1962"),
    ("MRN", "00456123"),
    ("SSN", "078-05-1120"),
    ("PHONE", "(617) 555-0143"),
    ("EMAIL", "john.smith@example.org"),
];

/// A signed-in user holding `roles`: (user id, access token).
async fn signed_in(api: &Api, roles: &[&str]) -> (String, String) {
    let (id, email, password) = api.user(roles).await;
    let tokens = api.login(&email, &password).await;
    (id, tokens["access_token"].as_str().unwrap().to_owned())
}

/// The code points `start..end` of `text`.
fn span(text: &str, start: u64, end: u64) -> String {
    text.chars().skip(start as usize).take((end - start) as usize).collect()
}

fn assert_problem(answer: &Answer, status: u16) {
    assert_eq!(answer.status, status, "{:?}", answer.body);
    assert_eq!(answer.headers["content-type"], "application/problem+json", "{:?}", answer.body);
    assert_eq!(answer.body["status"], status);
}

/// Sends `body` as it is, with `content_type`.
async fn post_raw(api: &Api, path: &str, token: &str, content_type: &str, body: impl Into<reqwest::Body>) -> Answer {
    let response = api
        .http
        .post(format!("{}{path}", api.stack.api_url()))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    Answer { status, headers, body: serde_json::from_str(&text).unwrap_or(Value::Null) }
}

#[tokio::test]
async fn analyze_reports_every_phi_value_at_its_code_point_offsets() {
    let api = start("phi-analyze", &[]).await;
    let (_, clinician) = signed_in(&api, &["clinician"]).await;
    let (_, staff) = signed_in(&api, &["staff"]).await;

    let answer = api.post("/v1/phi/analyze", Some(&clinician), json!({"text": NOTE})).await;
    let by_staff = api.post("/v1/phi/analyze", Some(&staff), json!({"text": NOTE})).await;

    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let entities = answer.body["entities"].as_array().unwrap();
    for (kind, value) in NOTE_PHI {
        let found = entities.iter().any(|e| {
            e["type"] == *kind && span(NOTE, e["start"].as_u64().unwrap(), e["end"].as_u64().unwrap()) == *value
        });
        assert!(found, "{kind} {value:?} not at its code-point offsets in {entities:?}");
    }
    assert_ne!(NOTE.find("John Smith"), Some(22), "the byte offset differs, so the check above tells them apart");
    assert!(entities.iter().all(|e| (0.0..=1.0).contains(&e["score"].as_f64().unwrap())));
    assert!(entities.iter().all(|e| e.as_object().unwrap().len() == 4), "only type, start, end, score: {entities:?}");
    assert_eq!(by_staff.status, 200, "staff hold phi:analyze too: {:?}", by_staff.body);
    assert_eq!(by_staff.body, answer.body);
}

#[tokio::test]
async fn detection_options_narrow_the_types_raise_the_threshold_and_add_recognizers() {
    let api = start("phi-options", &[]).await;
    let (_, token) = signed_in(&api, &["clinician"]).await;
    let text = "Patient: John Smith, MRN 00456123, case CASE-884211.";

    let only_mrn =
        api.post("/v1/phi/analyze", Some(&token), json!({"text": text, "detection": {"entities": ["MRN"]}})).await;
    let no_person =
        api.post("/v1/phi/analyze", Some(&token), json!({"text": text, "detection": {"exclude": ["PERSON"]}})).await;
    let strict =
        api.post("/v1/phi/analyze", Some(&token), json!({"text": text, "detection": {"threshold": 1.0}})).await;
    let custom = api
        .post(
            "/v1/phi/analyze",
            Some(&token),
            json!({"text": text, "detection": {"recognizers": [{"type": "OTHER_ID", "pattern": "CASE-\\d{6}", "score": 0.99}]}}),
        )
        .await;

    let types = |answer: &Answer| -> Vec<String> {
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        answer.body["entities"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(types(&only_mrn), ["MRN"]);
    assert!(!types(&no_person).contains(&"PERSON".to_owned()) && types(&no_person).contains(&"MRN".to_owned()));
    assert!(types(&strict).is_empty(), "{:?}", strict.body);
    let other = custom.body["entities"].as_array().unwrap().iter().find(|e| e["type"] == "OTHER_ID").cloned().unwrap();
    assert_eq!(span(text, other["start"].as_u64().unwrap(), other["end"].as_u64().unwrap()), "CASE-884211");
    assert_eq!(other["score"].as_f64().unwrap() as f32, 0.99);
}

#[tokio::test]
async fn redact_and_deidentify_return_the_text_without_its_phi_values() {
    let api = start("phi-redact", &[]).await;
    let (_, token) = signed_in(&api, &["clinician"]).await;
    let hashed = json!({"default": {"operator": "hash"}, "per_type": {"SSN": {"operator": "mask", "keep_last": 4}}});

    let replaced = api.post("/v1/phi/redact", Some(&token), json!({"text": NOTE})).await;
    let removed = api
        .post("/v1/phi/redact", Some(&token), json!({"text": NOTE, "policy": {"default": {"operator": "redact"}}}))
        .await;
    let hashed_once = api.post("/v1/phi/redact", Some(&token), json!({"text": NOTE, "policy": hashed})).await;
    let hashed_again = api.post("/v1/phi/redact", Some(&token), json!({"text": NOTE, "policy": hashed})).await;
    let deidentified = api
        .post(
            "/v1/phi/deidentify",
            Some(&token),
            json!({"text": "Seen on 03/14/2024 in Boston, MA 02139. Age 93. Patient: Jane Roe."}),
        )
        .await;

    for answer in [&replaced, &removed, &hashed_once, &deidentified] {
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        let text = answer.body["text"].as_str().unwrap();
        for (_, value) in NOTE_PHI.iter().chain(&[("PERSON", "Jane Roe"), ("DATE", "03/14/2024"), ("ZIP", "02139")]) {
            assert!(!text.contains(value), "{value:?} survived: {text}");
        }
        assert!(answer.body.get("wrapped_key").is_none());
    }
    let text = replaced.body["text"].as_str().unwrap();
    assert!(text.starts_with("Café visit — Patient: [PERSON], DOB [DATE], MRN [MRN], SSN [SSN]"), "{text}");
    let item = &replaced.body["items"][0];
    assert_eq!((item["type"].as_str(), item["operator"].as_str()), (Some("PERSON"), Some("replace")));
    assert_eq!(span(text, item["output_start"].as_u64().unwrap(), item["output_end"].as_u64().unwrap()), "[PERSON]");
    let hashed_text = hashed_once.body["text"].as_str().unwrap();
    assert!(hashed_text.contains("SSN *******1120"), "the SSN is masked to its last four: {hashed_text}");
    let mrn_hash = hashed_text.split("MRN ").nth(1).unwrap().split(',').next().unwrap();
    assert!(mrn_hash.len() == 64 && mrn_hash.chars().all(|c| c.is_ascii_hexdigit()), "{hashed_text}");
    assert_eq!(hashed_again.body["text"], hashed_once.body["text"], "the tenant's hashes are stable across calls");
    assert_eq!(
        deidentified.body["text"], "Seen on 2024 in [CITY], MA 021. Age 90+. Patient: [PERSON].",
        "Safe Harbor: year only, ZIP3, 90+, identifiers removed"
    );
}

#[tokio::test]
async fn pseudonyms_are_consistent_within_a_document() {
    let api = start("phi-pseudonyms", &[]).await;
    let (_, token) = signed_in(&api, &["staff"]).await;
    let text =
        "Referral for Patient: John Smith. Dr. Mary Jones reviewed the chart; Dr. Mary Jones will call Mr. John Smith.";

    let answer = api
        .post(
            "/v1/phi/redact",
            Some(&token),
            json!({"text": text, "policy": {"default": {"operator": "pseudonymize"}}}),
        )
        .await;

    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(
        answer.body["text"],
        "Referral for Patient: <PERSON_1>. Dr. <PERSON_2> reviewed the chart; Dr. <PERSON_2> will call Mr. <PERSON_1>."
    );
}

#[tokio::test]
async fn encrypted_values_decrypt_for_a_clinician_only_and_every_decryption_is_audited() {
    let api = start("phi-encrypt", &[]).await;
    let (clinician_id, clinician) = signed_in(&api, &["clinician"]).await;
    let (_, staff) = signed_in(&api, &["staff"]).await;
    let encrypt = json!({"default": {"operator": "encrypt"}});
    let sealed = api.post("/v1/phi/redact", Some(&staff), json!({"text": NOTE, "policy": encrypt})).await;
    let other_call = api.post("/v1/phi/redact", Some(&staff), json!({"text": "MRN 00456123", "policy": encrypt})).await;
    assert_eq!(sealed.status, 200, "{:?}", sealed.body);
    let (text, key) = (sealed.body["text"].as_str().unwrap(), sealed.body["wrapped_key"].as_str().unwrap());
    assert!(text.contains("[enc:v1:PERSON:"), "{text}");
    for (_, value) in NOTE_PHI {
        assert!(!text.contains(value), "{value:?} survived encryption: {text}");
    }

    let restored = api.post("/v1/phi/decrypt", Some(&clinician), json!({"text": text, "wrapped_key": key})).await;
    let refused = api.post("/v1/phi/decrypt", Some(&staff), json!({"text": text, "wrapped_key": key})).await;
    let wrong_key = api
        .post("/v1/phi/decrypt", Some(&clinician), json!({"text": text, "wrapped_key": other_call.body["wrapped_key"]}))
        .await;
    let forged_key = api
        .post("/v1/phi/decrypt", Some(&clinician), json!({"text": text, "wrapped_key": "AQIDBAUGBwgJCgsMDQ4PEA=="}))
        .await;

    assert_eq!(restored.status, 200, "{:?}", restored.body);
    assert_eq!(restored.body["text"], NOTE);
    assert_problem(&refused, 403);
    assert!(refused.body.get("text").is_none());
    assert_problem(&wrong_key, 422);
    assert_problem(&forged_key, 422);
    let decryptions = api.audit_events("phi.decrypt").await;
    let outcomes: Vec<(&str, &str)> = decryptions
        .iter()
        .map(|e| (e["actor_id"].as_s().unwrap().as_str(), e["outcome"].as_s().unwrap().as_str()))
        .collect();
    assert_eq!(outcomes.iter().filter(|o| **o == (clinician_id.as_str(), "success")).count(), 1, "{outcomes:?}");
    assert_eq!(outcomes.iter().filter(|o| o.1 == "failure").count(), 2, "{outcomes:?}");
    let denied = api.audit_events("access.denied").await;
    assert!(
        denied
            .iter()
            .any(|e| e.get("resource").and_then(|r| r.as_s().ok()).is_some_and(|r| r == "permission:phi:decrypt")),
        "the staff attempt is audited as a denial"
    );
}

#[tokio::test]
async fn every_route_needs_a_token_and_a_role_that_grants_it() {
    let api = start("phi-authz", &[]).await;
    let admin = api.admin_token().await;
    let routes = ["/v1/phi/analyze", "/v1/phi/redact", "/v1/phi/deidentify", "/v1/phi/decrypt"];

    for route in routes {
        let anonymous = api.post(route, None, json!({"text": NOTE, "wrapped_key": "AA=="})).await;
        let forged = api.post(route, Some("not-a-token"), json!({"text": NOTE, "wrapped_key": "AA=="})).await;
        let wrong_role = api.post(route, Some(&admin), json!({"text": NOTE, "wrapped_key": "AA=="})).await;

        assert_problem(&anonymous, 401);
        assert_eq!(anonymous.headers["www-authenticate"], "Bearer");
        assert_problem(&forged, 401);
        assert_problem(&wrong_role, 403);
    }
}

#[tokio::test]
async fn bad_bodies_are_problems_and_never_server_errors() {
    let api = start("phi-bad-input", &[]).await;
    let (_, token) = signed_in(&api, &["clinician"]).await;
    let too_large = serde_json::to_vec(&json!({"text": "x".repeat(1024 * 1024)})).unwrap();

    let over_limit = post_raw(&api, "/v1/phi/analyze", &token, "application/json", too_large).await;
    let not_json_type =
        post_raw(&api, "/v1/phi/analyze", &token, "text/plain", format!("{{\"text\":\"{NOTE}\"}}")).await;
    let not_json = post_raw(&api, "/v1/phi/redact", &token, "application/json", "{\"text\": \"John").await;
    let invalid = [
        ("/v1/phi/analyze", json!({"txt": NOTE})),
        ("/v1/phi/analyze", json!({"text": NOTE, "detection": {"entities": ["NAME"]}})),
        ("/v1/phi/analyze", json!({"text": NOTE, "detection": {"threshold": 2}})),
        ("/v1/phi/analyze", json!({"text": NOTE, "detection": {"recognizers": [{"type": "MRN", "pattern": "(open"}]}})),
        ("/v1/phi/redact", json!({"text": NOTE, "policy": {"default": {"operator": "shred"}}})),
        (
            "/v1/phi/redact",
            json!({"text": NOTE, "policy": {"default": {"operator": "replace", "with": "x".repeat(65)}}}),
        ),
        ("/v1/phi/deidentify", json!({"text": NOTE, "detection": {"exclude": ["DATE"]}})),
        ("/v1/phi/decrypt", json!({"text": NOTE, "wrapped_key": "not base64!"})),
    ];

    assert_problem(&over_limit, 413);
    assert_problem(&not_json_type, 415);
    assert_problem(&not_json, 400);
    for (route, body) in invalid {
        let answer = api.call(Method::POST, route, Some(&token), Some(body.clone()), &[]).await;
        assert_problem(&answer, 422);
        assert!(answer.body["detail"].is_string(), "{route} {body}: {:?}", answer.body);
    }
    let pattern = api
        .post(
            "/v1/phi/analyze",
            Some(&token),
            json!({"text": NOTE, "detection": {"recognizers": [{"type": "MRN", "pattern": "(open"}]}}),
        )
        .await;
    assert!(pattern.body["detail"].as_str().unwrap().contains("recognizers[0].pattern"), "{:?}", pattern.body);
}

#[tokio::test]
async fn the_phi_routes_are_documented_in_the_merged_openapi_document() {
    let api = start("phi-openapi", &[]).await;

    let document = api.get("/openapi.json", None).await;

    assert_eq!(document.status, 200, "{:?}", document.body);
    for route in ["/v1/phi/analyze", "/v1/phi/redact", "/v1/phi/deidentify", "/v1/phi/decrypt"] {
        let operation = &document.body["paths"][route]["post"];
        assert!(operation.is_object(), "{route} is missing");
        assert_eq!(operation["security"], json!([{"bearer": []}]), "{route}");
        for status in ["200", "401", "403", "413", "422"] {
            assert!(operation["responses"][status].is_object(), "{route} documents no {status}");
        }
    }
    let schemas = &document.body["components"]["schemas"];
    assert_eq!(schemas["PhiEntity"]["required"], json!(["type", "start", "end", "score"]));
    assert!(schemas["PhiEntityType"]["enum"].as_array().unwrap().contains(&json!("AGE_OVER_89")));
    assert!(schemas["OperatorSpec"].is_object());
}

#[tokio::test]
async fn requests_carrying_phi_leave_none_of_it_in_the_function_logs() {
    let api = start("phi-logs", &[]).await;
    let (_, clinician) = signed_in(&api, &["clinician"]).await;
    let (_, staff) = signed_in(&api, &["staff"]).await;
    let recognizer = json!({"recognizers": [{"type": "PERSON", "pattern": "Quinn Oduya"}]});

    api.post("/v1/phi/analyze", Some(&clinician), json!({"text": NOTE, "detection": recognizer})).await;
    api.post("/v1/phi/deidentify", Some(&clinician), json!({"text": NOTE})).await;
    let sealed = api
        .post("/v1/phi/redact", Some(&clinician), json!({"text": NOTE, "policy": {"default": {"operator": "encrypt"}}}))
        .await;
    let body = json!({"text": sealed.body["text"], "wrapped_key": sealed.body["wrapped_key"]});
    api.post("/v1/phi/decrypt", Some(&clinician), body.clone()).await;
    api.post("/v1/phi/decrypt", Some(&staff), body).await;
    api.post("/v1/phi/analyze", Some(&clinician), json!({"text": NOTE, "detection": {"entities": ["John Smith"]}}))
        .await;
    api.post(
        "/v1/phi/redact",
        Some(&clinician),
        json!({"text": NOTE, "detection": {"recognizers": [{"type": "PERSON", "pattern": "(Quinn Oduya"}]}}),
    )
    .await;

    let logs = api.stack.logs("PhiApiFunction").join("\n");
    assert!(logs.contains("request handled"), "the function's access log lines were captured: {logs}");
    for value in NOTE_PHI.iter().map(|(_, v)| *v).chain(["Quinn Oduya", "555-0143", "00456123"]) {
        assert!(!logs.contains(value), "{value:?} reached the logs");
    }
}

#[tokio::test]
async fn the_api_gateway_fixture_is_refused_without_a_token_and_analyzed_with_one() {
    let api = start("phi-fixture", &[]).await;
    let (_, token) = signed_in(&api, &["clinician"]).await;
    let anonymous = medvault_tests::event("phi-apigw-v2-analyze.json");
    let mut signed = anonymous.clone();
    signed["headers"]["authorization"] = json!(format!("Bearer {token}"));

    let refused = api.stack.invoke("PhiApiFunction", anonymous).await.unwrap().result.unwrap();
    let analyzed = api.stack.invoke("PhiApiFunction", signed).await.unwrap().result.unwrap();

    assert_eq!(refused["statusCode"], 401, "{refused}");
    assert_eq!(refused["headers"]["content-type"], "application/problem+json");
    assert_eq!(analyzed["statusCode"], 200, "{analyzed}");
    let body: Value = serde_json::from_str(analyzed["body"].as_str().unwrap()).unwrap();
    let types: Vec<&str> = body["entities"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["PERSON", "DATE", "MRN"]);
}

#[tokio::test]
async fn its_readiness_probes_every_dependency_it_uses() {
    let api = start("phi-ready", &[]).await;

    let ready = api.stack.invoke("PhiApiFunction", medvault_tests::event("apigw-v2-ready.json")).await.unwrap();

    let response = ready.result.unwrap();
    assert_eq!(response["statusCode"], 200, "{response}");
    let report: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    let mut names: Vec<&str> =
        report["checks"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(report["status"], "ok", "{report}");
    assert_eq!(
        names,
        ["dynamodb:audit", "kms:data-key", "secretsmanager:jwt-public-keys", "secretsmanager:phi-hash-key"],
        "{report}"
    );
}
