//! Seconds from upload to `ready` for a one-page image on the local stack (used by `cargo xtask bench pipeline`):
//! the template's functions from `MEDVAULT_BIN_DIR` on the emulator at `AWS_ENDPOINT_URL`; a clinician's token
//! and a patient through the records API; then, per run, a document registered, its bytes PUT to the presigned
//! URL, and the clock stopped when the document item says `ready`. The first run pays every cold start and is
//! reported apart. Prints one JSON line.
//!
//! Usage: `upload_to_ready IMAGE RUNS`

use std::path::PathBuf;
use std::time::{Duration, Instant};

use local_stack::{LocalStack, StackOptions};
use medvault_auth::keys::SigningKey;
use medvault_auth::layer::{DEFAULT_AUDIENCE, DEFAULT_ISSUER};
use medvault_auth::{AuthMethod, Role, TokenAudience, TokenIssuer, UserId};
use serde_json::{Value, json};

type Error = Box<dyn std::error::Error>;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let image = args.next().ok_or("usage: upload_to_ready IMAGE RUNS")?;
    let runs: usize = args.next().ok_or("usage: upload_to_ready IMAGE RUNS")?.parse()?;
    let bytes = std::fs::read(&image)?;
    let mut options = StackOptions::for_tests("bench-pipeline");
    options.bin_dir = std::env::var_os("MEDVAULT_BIN_DIR").map(PathBuf::from).ok_or("MEDVAULT_BIN_DIR is not set")?;
    if let Ok(model) = std::env::var("MEDVAULT_ASR_MODEL_DIR") {
        options.parameter_overrides.insert("AsrModelDir".into(), model);
    }
    let stack = LocalStack::start(options).await?;
    let result = measure(&stack, &bytes, runs).await;
    stack.shutdown().await;
    let (cold, warm) = result?;
    let mut sorted = warm.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or(0.0);
    let max = sorted.last().copied().unwrap_or(0.0);
    let min = sorted.first().copied().unwrap_or(0.0);
    println!("{}", json!({ "cold_seconds": cold, "warm_seconds": warm, "median": median, "min": min, "max": max }));
    Ok(())
}

async fn measure(stack: &LocalStack, bytes: &[u8], runs: usize) -> Result<(f64, Vec<f64>), Error> {
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await;
    let key = SigningKey::generate()?;
    let secret = stack.resource("JwtPublicKeysSecret").ok_or("no JwtPublicKeysSecret")?.physical_id.clone();
    aws_sdk_secretsmanager::Client::new(&sdk)
        .put_secret_value()
        .secret_id(secret)
        .secret_string(json!({ "keys": [key.public().to_jwk()] }).to_string())
        .send()
        .await?;
    let issuer = TokenIssuer::new(
        TokenAudience { issuer: DEFAULT_ISSUER.into(), audience: DEFAULT_AUDIENCE.into() },
        Duration::from_secs(3600),
    );
    let token =
        issuer.issue(&key, UserId::new(), &[Role::Clinician], &[AuthMethod::Pwd, AuthMethod::Otp], "bench")?.token;
    let http = reqwest::Client::new();
    let api = stack.api_url();
    let mrn = format!("MRN-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]).to_uppercase();
    let patient: Value = http
        .post(format!("{api}/v1/patients"))
        .bearer_auth(&token)
        .json(&json!({ "mrn": mrn, "name": { "given": ["Bench"], "family": "Mark" }, "birth_date": "1970-01-01", "sex": "other" }))
        .send()
        .await?
        .json()
        .await?;
    let patient = patient["id"].as_str().ok_or("no patient id")?.to_owned();
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let table = stack.resource("DocumentsTable").ok_or("no DocumentsTable")?.physical_id.clone();
    let mut seconds = Vec::with_capacity(runs + 1);
    for _ in 0..=runs {
        let created: Value = http
            .post(format!("{api}/v1/patients/{patient}/documents"))
            .bearer_auth(&token)
            .json(&json!({ "filename": "page.png", "content_type": "image/png", "size": bytes.len() }))
            .send()
            .await?
            .json()
            .await?;
        let id = created["id"].as_str().ok_or("no document id")?.to_owned();
        let upload = &created["upload"];
        let mut put = http.put(upload["url"].as_str().ok_or("no upload url")?).body(bytes.to_vec());
        for (name, value) in upload["headers"].as_object().ok_or("no upload headers")? {
            if name != "content-length" {
                put = put.header(name, value.as_str().unwrap_or_default());
            }
        }
        let started = Instant::now();
        let response = put.send().await?;
        if !response.status().is_success() {
            return Err(format!("the upload was refused: {}", response.status()).into());
        }
        loop {
            let item = dynamodb
                .get_item()
                .table_name(&table)
                .key("id", aws_sdk_dynamodb::types::AttributeValue::S(id.clone()))
                .consistent_read(true)
                .send()
                .await?
                .item
                .unwrap_or_default();
            match item.get("status").and_then(|s| s.as_s().ok()).map(String::as_str) {
                Some("ready") => break,
                Some(status @ ("quarantined" | "failed")) => return Err(format!("the document ended {status}").into()),
                _ if started.elapsed() > Duration::from_secs(120) => return Err("no ready within 120 s".into()),
                _ => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
        seconds.push((started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0);
    }
    let cold = seconds.remove(0);
    Ok((cold, seconds))
}
