//! AWS calls per request, by kind, and handler time of the records API against the AWS emulator
//! (`cargo xtask bench records` runs this with `AWS_ENDPOINT_URL` set).
//!
//! The router is the function's own (`records_api::service`), driven in-process; every SDK client the records
//! service uses carries an interceptor that counts each operation it sends, so the counts are observed, not
//! inferred. The authorizer's key-set read (Secrets Manager, cached for 5 minutes) is outside the counted clients.
#![allow(clippy::unwrap_used, clippy::print_stdout)] // A benchmark driver: a failed setup should stop it loudly.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType,
};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use medvault_audit::DynamoDbAuditLog;
use medvault_auth::keys::SigningKey;
use medvault_auth::layer::{DEFAULT_AUDIENCE, DEFAULT_ISSUER};
use medvault_auth::{AuthMethod, Role, TokenAudience, TokenIssuer, UserId};
use medvault_crypto::{IndexKey, KmsKeyWrapper, PatientKeys};
use medvault_platform::aws::{AwsClients, AwsSettings};
use medvault_platform::config::{EnvSource, FromEnv};
use medvault_records::{Records, Settings};
use tower::ServiceExt;

/// Counts every operation the clients send, as `Service.Operation`.
#[derive(Debug, Clone, Default)]
struct Counter(Arc<Mutex<BTreeMap<String, u64>>>);

impl Intercept for Counter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let key = cfg
            .load::<Metadata>()
            .map(|m| format!("{}.{}", m.service(), m.name()))
            .unwrap_or_else(|| "unknown".to_owned());
        *self.0.lock().unwrap().entry(key).or_default() += 1;
        Ok(())
    }
}

impl Counter {
    fn take(&self) -> BTreeMap<String, u64> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

async fn table(
    client: &aws_sdk_dynamodb::Client,
    name: &str,
    keys: &[(&str, ScalarAttributeType, KeyType)],
    indexes: &[(&str, &str, &str, ScalarAttributeType)],
) {
    let mut request = client.create_table().table_name(name).billing_mode(BillingMode::PayPerRequest);
    let mut defined = std::collections::BTreeSet::new();
    for (attribute, kind, key_type) in keys {
        defined.insert(attribute.to_string());
        request = request
            .attribute_definitions(
                AttributeDefinition::builder().attribute_name(*attribute).attribute_type(kind.clone()).build().unwrap(),
            )
            .key_schema(
                KeySchemaElement::builder().attribute_name(*attribute).key_type(key_type.clone()).build().unwrap(),
            );
    }
    for (index, hash, range, range_type) in indexes {
        for (attribute, kind) in [(*hash, ScalarAttributeType::S), (*range, range_type.clone())] {
            if defined.insert(attribute.to_owned()) {
                request = request.attribute_definitions(
                    AttributeDefinition::builder().attribute_name(attribute).attribute_type(kind).build().unwrap(),
                );
            }
        }
        request = request.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(*index)
                .key_schema(KeySchemaElement::builder().attribute_name(*hash).key_type(KeyType::Hash).build().unwrap())
                .key_schema(
                    KeySchemaElement::builder().attribute_name(*range).key_type(KeyType::Range).build().unwrap(),
                )
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()
                .unwrap(),
        );
    }
    request.send().await.unwrap();
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() {
    let iterations: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(200);
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await;
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let name = |what: &str| format!("bench-{what}-{suffix}");

    // Resources shaped like the template's.
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    use KeyType::{Hash, Range};
    use ScalarAttributeType::{N, S};
    table(&ddb, &name("records"), &[("pk", S, Hash), ("sk", S, Range)], &[("by-member", "gsi1pk", "gsi1sk", S)]).await;
    table(&ddb, &name("keys"), &[("pk", S, Hash)], &[]).await;
    table(&ddb, &name("documents"), &[("id", S, Hash)], &[("by-patient", "patient_id", "created_at", S)]).await;
    table(
        &ddb,
        &name("audit"),
        &[("pk", S, Hash), ("sk", N, Range)],
        &[
            ("by-patient", "patient_id", "time_seq", S),
            ("by-actor", "actor_id", "time_seq", S),
            ("by-day", "day", "time_seq", S),
        ],
    )
    .await;
    let kms_plain = aws_sdk_kms::Client::new(&sdk);
    let key_id = kms_plain.create_key().send().await.unwrap().key_metadata.unwrap().key_id;
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
    let index_secret = name("index");
    secrets
        .create_secret()
        .name(&index_secret)
        .secret_string(format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple()))
        .send()
        .await
        .unwrap();
    let signing = SigningKey::generate().unwrap();
    let jwks_secret = name("jwks");
    let jwks = serde_json::json!({ "keys": [signing.public().to_jwk()] });
    secrets.create_secret().name(&jwks_secret).secret_string(jwks.to_string()).send().await.unwrap();
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
    s3.create_bucket().bucket(name("uploads")).send().await.unwrap();

    let env = EnvSource::from_pairs([
        ("MEDVAULT_DOCUMENTS_TABLE", name("documents").as_str()),
        ("MEDVAULT_UPLOAD_BUCKET", name("uploads").as_str()),
        ("MEDVAULT_DATA_KEY_ID", key_id.as_str()),
        ("MEDVAULT_RECORDS_TABLE", name("records").as_str()),
        ("MEDVAULT_PATIENT_KEYS_TABLE", name("keys").as_str()),
        ("MEDVAULT_AUDIT_TABLE", name("audit").as_str()),
        ("MEDVAULT_INDEX_KEY_SECRET", index_secret.as_str()),
        ("MEDVAULT_JWT_PUBLIC_KEYS_SECRET", jwks_secret.as_str()),
        ("MEDVAULT_STAGE", "local"),
        ("MEDVAULT_S3_FORCE_PATH_STYLE", "true"),
    ]);
    let config = records_api::Config::from_env(&env).unwrap();
    let clients = AwsClients::new(sdk.clone(), AwsSettings { s3_force_path_style: true });

    // The records service on counted clients.
    let counter = Counter::default();
    let build = |counter: &Counter| {
        let dynamodb = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&sdk).interceptor(counter.clone()).build(),
        );
        let kms = aws_sdk_kms::Client::from_conf(
            aws_sdk_kms::config::Builder::from(&sdk).interceptor(counter.clone()).build(),
        );
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).interceptor(counter.clone()).build(),
        );
        let events = aws_sdk_eventbridge::Client::from_conf(
            aws_sdk_eventbridge::config::Builder::from(&sdk).interceptor(counter.clone()).build(),
        );
        (dynamodb, kms, s3, events)
    };
    let index_key = IndexKey::load(&secrets, &index_secret).await.unwrap();
    let analyzer = Arc::new(medvault_phi::Analyzer::new().unwrap());
    let settings = Settings {
        tenant: "bench".into(),
        records_table: name("records"),
        keys_table: name("keys"),
        documents_table: name("documents"),
        upload_bucket: name("uploads"),
        upload_kms_key: key_id.clone(),
        break_glass: Duration::from_secs(3600),
        max_upload_bytes: 1 << 20,
        upload_url_ttl: Duration::from_secs(300),
        download_url_ttl: Duration::from_secs(60),
        event_bus: "default".into(),
    };
    let records_for = |counter: &Counter| {
        let (dynamodb, kms, s3, events) = build(counter);
        Records::new(
            settings.clone(),
            dynamodb.clone(),
            s3,
            events,
            PatientKeys::new(Arc::new(KmsKeyWrapper::new(kms, &key_id)), config.data_key_cache),
            index_key.clone(),
            Arc::new(DynamoDbAuditLog::new(dynamodb, name("audit"))),
            Arc::clone(&analyzer),
        )
    };
    let router = records_api::service(&config, &clients, records_for(&counter)).router;

    let issuer = TokenIssuer::new(
        TokenAudience { issuer: DEFAULT_ISSUER.into(), audience: DEFAULT_AUDIENCE.into() },
        Duration::from_secs(900),
    );
    let token = issuer.issue(&signing, UserId::new(), &[Role::Clinician], &[AuthMethod::Pwd], "bench").unwrap().token;
    let request = |method: &str, path: &str, body: Option<serde_json::Value>| {
        let builder = http::Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json");
        builder.body(axum::body::Body::from(body.map(|b| b.to_string()).unwrap_or_default())).unwrap()
    };
    let call = |router: axum::Router, req: http::Request<axum::body::Body>| async move {
        let started = Instant::now();
        let response: axum::response::Response = router.oneshot(req).await.unwrap();
        let elapsed = started.elapsed().as_secs_f64() * 1000.0;
        let status = response.status();
        let body = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes();
        (status, elapsed, serde_json::from_slice::<serde_json::Value>(&body).unwrap_or_default())
    };

    // Warm the authorizer's key set, then create a patient.
    let patient_body = serde_json::json!({"mrn": format!("B{suffix}"), "name": {"given": ["Jane"], "family": "Roe"}, "birth_date": "1961-03-14", "sex": "female"});
    let (status, create_ms, created) = call(router.clone(), request("POST", "/v1/patients", Some(patient_body))).await;
    assert_eq!(status, 201, "{created}");
    let create_calls = counter.take();
    let id = created["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/patients/{id}");

    // A cold read: a fresh execution environment (empty key cache) on the same tables.
    let cold_counter = Counter::default();
    let cold_router = records_api::service(&config, &clients, records_for(&cold_counter)).router;
    let (status, cold_ms, _) = call(cold_router, request("GET", &path, None)).await;
    assert_eq!(status, 200);
    let cold_calls = cold_counter.take();

    // Warm reads.
    let mut times = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let (status, ms, _) = call(router.clone(), request("GET", &path, None)).await;
        assert_eq!(status, 200);
        times.push(ms);
    }
    let warm_calls = counter.take();
    times.sort_by(f64::total_cmp);

    let (status, note_ms, _) = call(
        router.clone(),
        request("POST", &format!("{path}/notes"), Some(serde_json::json!({"text": "Jane Roe seen today, BP 120/80."}))),
    )
    .await;
    assert_eq!(status, 201);
    let note_calls = counter.take();

    let show = |label: &str, calls: &BTreeMap<String, u64>, per: u64| {
        let kinds: Vec<String> = calls.iter().map(|(k, v)| format!("{k} {:.2}", *v as f64 / per as f64)).collect();
        println!("{label:<34} {}", if kinds.is_empty() { "none".to_owned() } else { kinds.join(", ") });
    };
    println!("\n== records API: AWS calls per request by kind (counted by an SDK interceptor), against the emulator");
    show("POST /v1/patients", &create_calls, 1);
    show("GET /v1/patients/{id} cold", &cold_calls, 1);
    show(&format!("GET /v1/patients/{{id}} warm (x{iterations})"), &warm_calls, iterations as u64);
    show("POST /v1/patients/{id}/notes", &note_calls, 1);
    let kms_warm: u64 =
        warm_calls.iter().filter(|(k, _)| k.starts_with("kms") || k.starts_with("KMS")).map(|(_, v)| v).sum();
    println!("warm GET: KMS calls in total over {iterations} requests: {kms_warm}");
    println!("\n== handler time (in-process router, the shared layer stack included)");
    println!("POST /v1/patients                  {create_ms:.2} ms");
    println!("GET /v1/patients/{{id}} cold         {cold_ms:.2} ms");
    println!(
        "GET /v1/patients/{{id}} warm         p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (n = {iterations})",
        percentile(&times, 50.0),
        percentile(&times, 99.0),
        times.last().copied().unwrap_or_default()
    );
    println!("POST /v1/patients/{{id}}/notes       {note_ms:.2} ms");
}
