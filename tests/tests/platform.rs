//! The platform's AWS adapters against the emulator: the DynamoDB idempotency store with every Powertools rule,
//! readiness probes, S3 path-style clients, and a function's cold start stopping on bad configuration.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType};
use medvault_platform::aws::{AwsClients, AwsSettings};
use medvault_platform::idempotency::{Completed, DynamoDbStore, Idempotency, IdempotencyError};
use medvault_platform::readiness::{ReadinessCheck, probes, run_checks};
use medvault_tests::{sdk_config, unique};

async fn idempotency_table(client: &aws_sdk_dynamodb::Client) -> String {
    let name = unique("idem");
    client
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder().attribute_name("id").attribute_type(ScalarAttributeType::S).build().unwrap(),
        )
        .key_schema(KeySchemaElement::builder().attribute_name("id").key_type(KeyType::Hash).build().unwrap())
        .send()
        .await
        .unwrap();
    name
}

struct Fixture {
    client: aws_sdk_dynamodb::Client,
    table: String,
    runs: Arc<AtomicUsize>,
}

impl Fixture {
    async fn new() -> Self {
        let client = aws_sdk_dynamodb::Client::new(&sdk_config().await);
        let table = idempotency_table(&client).await;
        Self { client, table, runs: Arc::new(AtomicUsize::new(0)) }
    }

    fn idempotency(&self, offset: Duration) -> Idempotency<DynamoDbStore> {
        Idempotency::new(DynamoDbStore::new(self.client.clone(), &self.table), "ingest-worker")
            .with_ttl(Duration::from_secs(3600))
            .with_clock(move || SystemTime::now() + offset)
    }

    async fn call(
        &self,
        idempotency: &Idempotency<DynamoDbStore>,
        payload: &str,
        deadline: SystemTime,
        outcome: Result<(), &'static str>,
    ) -> Result<Completed<u64>, IdempotencyError<&'static str>> {
        let runs = self.runs.clone();
        idempotency
            .run("s3://uploads/a.pdf#v1", payload, Some(deadline), || async move {
                let n = runs.fetch_add(1, Ordering::SeqCst) as u64 + 1;
                outcome.map(|()| n * 100)
            })
            .await
    }

    fn runs(&self) -> usize {
        self.runs.load(Ordering::SeqCst)
    }
}

fn soon() -> SystemTime {
    SystemTime::now() + Duration::from_secs(30)
}

#[tokio::test]
async fn a_duplicate_gets_the_stored_result_and_the_handler_runs_once() {
    let f = Fixture::new().await;
    let idem = f.idempotency(Duration::ZERO);
    let first = f.call(&idem, "p", soon(), Ok(())).await.unwrap();
    let second = f.call(&idem, "p", soon(), Ok(())).await.unwrap();
    assert_eq!(first, Completed { value: 100, replayed: false });
    assert_eq!(second, Completed { value: 100, replayed: true });
    assert_eq!(f.runs(), 1);
}

#[tokio::test]
async fn the_same_key_with_another_payload_is_refused() {
    let f = Fixture::new().await;
    let idem = f.idempotency(Duration::ZERO);
    f.call(&idem, "p", soon(), Ok(())).await.unwrap();
    let error = f.call(&idem, "different payload", soon(), Ok(())).await.unwrap_err();
    assert!(matches!(error, IdempotencyError::PayloadMismatch), "{error:?}");
    assert_eq!(f.runs(), 1);
}

#[tokio::test]
async fn of_eight_concurrent_callers_exactly_one_runs_the_handler() {
    let f = Fixture::new().await;
    let callers = (0..8).map(|_| {
        let idem = f.idempotency(Duration::ZERO);
        let runs = f.runs.clone();
        tokio::spawn(async move {
            idem.run("s3://uploads/a.pdf#v1", "p", Some(soon()), || async move {
                runs.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(500)).await;
                Ok::<_, &'static str>(1u64)
            })
            .await
        })
    });
    let results: Vec<_> = futures::future::join_all(callers).await.into_iter().map(Result::unwrap).collect();
    let ran = results.iter().filter(|r| matches!(r, Ok(c) if !c.replayed)).count();
    let refused = results.iter().filter(|r| matches!(r, Err(IdempotencyError::AlreadyInProgress))).count();
    assert_eq!(f.runs(), 1);
    assert_eq!(ran, 1);
    assert_eq!(ran + refused, 8, "{results:?}");
}

#[tokio::test]
async fn a_live_in_progress_claim_blocks_a_second_caller() {
    let f = Fixture::new().await;
    let idem = f.idempotency(Duration::ZERO);
    let gate = Arc::new(tokio::sync::Notify::new());
    let held = gate.clone();
    let runs = f.runs.clone();
    let first = idem.run("s3://uploads/a.pdf#v1", "p", Some(soon()), || async move {
        runs.fetch_add(1, Ordering::SeqCst);
        held.notified().await;
        Ok::<_, &'static str>(7u64)
    });
    let second = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let result = f.call(&f.idempotency(Duration::ZERO), "p", soon(), Ok(())).await;
        gate.notify_one();
        result
    };
    let (first, second) = tokio::join!(first, second);
    assert_eq!(first.unwrap().value, 7);
    assert!(matches!(second, Err(IdempotencyError::AlreadyInProgress)), "{second:?}");
    assert_eq!(f.runs(), 1);
}

#[tokio::test]
async fn a_timed_out_invocation_frees_its_key_at_its_deadline_not_after_the_record_ttl() {
    let f = Fixture::new().await;
    // The first invocation claims the key with a deadline 2 s away and never finishes (Lambda killed it).
    let crashed = f.idempotency(Duration::ZERO);
    let deadline = SystemTime::now() + Duration::from_secs(2);
    let never = crashed.run("s3://uploads/a.pdf#v1", "p", Some(deadline), std::future::pending::<Result<u64, &str>>);
    assert!(tokio::time::timeout(Duration::from_millis(500), never).await.is_err());

    // Before the deadline a retry is refused; after it (the record's one-hour TTL is far away) the retry runs.
    let retry = f.idempotency(Duration::ZERO);
    assert!(matches!(f.call(&retry, "p", soon(), Ok(())).await, Err(IdempotencyError::AlreadyInProgress)));
    let after_deadline = f.idempotency(Duration::from_secs(3));
    let result = f.call(&after_deadline, "p", soon() + Duration::from_secs(3), Ok(())).await.unwrap();
    assert!(!result.replayed);
    assert_eq!(f.runs(), 1);
}

#[tokio::test]
async fn an_expired_record_is_ignored_in_code_even_before_dynamodb_deletes_it() {
    let f = Fixture::new().await;
    f.call(&f.idempotency(Duration::ZERO), "p", soon(), Ok(())).await.unwrap();
    // Two hours later the item is still in the table (TTL deletion is lazy) but no longer counts.
    let later = f.idempotency(Duration::from_secs(7200));
    let result = f.call(&later, "p", soon() + Duration::from_secs(7200), Ok(())).await.unwrap();
    assert_eq!(result, Completed { value: 200, replayed: false });
}

#[tokio::test]
async fn a_failed_handler_deletes_its_record_so_a_retry_runs() {
    let f = Fixture::new().await;
    let idem = f.idempotency(Duration::ZERO);
    let error = f.call(&idem, "p", soon(), Err("dependency down")).await.unwrap_err();
    assert!(matches!(error, IdempotencyError::Handler("dependency down")));
    let items = f.client.scan().table_name(&f.table).send().await.unwrap();
    assert_eq!(items.count(), 0, "the failed claim must be deleted");
    assert!(!f.call(&idem, "p", soon(), Ok(())).await.unwrap().replayed);
    assert_eq!(f.runs(), 2);
}

#[tokio::test]
async fn readiness_probes_tell_present_from_missing_resources() {
    let clients = AwsClients::new(sdk_config().await, AwsSettings { s3_force_path_style: true });
    let table = idempotency_table(&clients.dynamodb()).await;
    let bucket = unique("ready");
    clients.s3().create_bucket().bucket(&bucket).send().await.unwrap();
    let key = clients.kms().create_key().send().await.unwrap().key_metadata.unwrap().key_id;
    let checks: Vec<Box<dyn ReadinessCheck>> = vec![
        Box::new(probes::DynamoTable::new("table", clients.dynamodb(), &table)),
        Box::new(probes::S3Bucket::new("bucket", clients.s3(), &bucket)),
        Box::new(probes::KmsKey::new("key", clients.kms(), &key)),
        Box::new(probes::DynamoTable::new("missing-table", clients.dynamodb(), unique("absent"))),
        Box::new(probes::S3Bucket::new("missing-bucket", clients.s3(), unique("absent"))),
    ];
    let outcomes = run_checks(&checks, Duration::from_secs(5)).await;
    let ok: Vec<(&str, bool)> = outcomes.iter().map(|o| (o.name.as_str(), o.ok)).collect();
    assert_eq!(
        ok,
        [("table", true), ("bucket", true), ("key", true), ("missing-table", false), ("missing-bucket", false)]
    );
}

#[tokio::test]
async fn s3_clients_use_path_style_when_configured() {
    let clients = AwsClients::new(sdk_config().await, AwsSettings { s3_force_path_style: true });
    let bucket = unique("paths");
    clients.s3().create_bucket().bucket(&bucket).send().await.unwrap();
    clients.s3().put_object().bucket(&bucket).key("a b/é.txt").body(b"hello".to_vec().into()).send().await.unwrap();
    let got = clients.s3().get_object().bucket(&bucket).key("a b/é.txt").send().await.unwrap();
    assert_eq!(got.body.collect().await.unwrap().into_bytes().as_ref(), b"hello");
}

#[test]
fn a_function_with_a_missing_variable_stops_its_cold_start_naming_it() {
    let bin = std::env::var_os("MEDVAULT_BIN_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| medvault_tests::workspace_root().join("target/debug"))
        .join("records-api");
    let output = std::process::Command::new(&bin)
        .env_clear()
        .env("MEDVAULT_DOCUMENTS_TABLE", "t")
        .env("MEDVAULT_UPLOAD_BUCKET", "b")
        .env("MEDVAULT_LOG_FORMAT", "text")
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e} (build the binaries first)", bin.display()));
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("MEDVAULT_DATA_KEY_ID is not set"), "{stderr}");

    let output = std::process::Command::new(&bin)
        .env_clear()
        .env("MEDVAULT_DOCUMENTS_TABLE", "t")
        .env("MEDVAULT_UPLOAD_BUCKET", "b")
        .env("MEDVAULT_DATA_KEY_ID", "k")
        .env("MEDVAULT_BODY_LIMIT_BYTES", "lots-and-lots")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("MEDVAULT_BODY_LIMIT_BYTES is malformed"), "{stderr}");
    assert!(!stderr.contains("lots-and-lots"), "the value must not be echoed: {stderr}");
}
