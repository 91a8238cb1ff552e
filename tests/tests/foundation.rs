//! The foundation's vertical slice through the local stack: the template's resources on the emulator, records-api
//! behind the local API Gateway, ingest-worker behind the SQS event source fed by S3 notifications.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use local_stack::{LocalStack, StackOptions};
use medvault_platform::aws::{AwsClients, AwsSettings};
use medvault_tests::{event, sdk_config, stack, stack_with};
use serde_json::{Value, json};

async fn clients() -> AwsClients {
    AwsClients::new(sdk_config().await, AwsSettings { s3_force_path_style: true })
}

fn physical(stack: &LocalStack, logical_id: &str) -> String {
    stack.resource(logical_id).unwrap_or_else(|| panic!("no resource {logical_id}")).physical_id.clone()
}

/// Polls `check` every 200 ms until it returns `Some`, or fails after `limit`.
async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(started.elapsed() < limit, "timed out after {limit:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn upload_items(clients: &AwsClients, table: &str) -> Vec<BTreeMap<String, AttributeValue>> {
    let scan = clients.dynamodb().scan().table_name(table).consistent_read(true).send().await.unwrap();
    scan.items().iter().map(|item| item.clone().into_iter().collect()).collect()
}

fn number(item: &BTreeMap<String, AttributeValue>, name: &str) -> i64 {
    item[name].as_n().unwrap().parse().unwrap()
}

#[tokio::test]
async fn health_and_readiness_answer_through_the_local_api_with_report_lines() {
    let stack = stack("health").await;
    let http = reqwest::Client::new();

    let health = http.get(format!("{}/health", stack.api_url())).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert!(health.headers().contains_key("x-request-id"));
    assert!(health.headers().contains_key("apigw-requestid"));
    assert_eq!(health.headers()["strict-transport-security"], "max-age=63072000; includeSubDomains");
    assert_eq!(health.json::<Value>().await.unwrap(), json!({"status": "ok"}));

    let ready = http.get(format!("{}/health/ready", stack.api_url())).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let report: Value = ready.json().await.unwrap();
    assert_eq!(report["status"], "ok", "{report}");
    let names: Vec<&str> = report["checks"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "dynamodb:documents",
            "s3:uploads",
            "kms:data-key",
            "dynamodb:records",
            "dynamodb:patient-keys",
            "dynamodb:audit",
            "secretsmanager:jwt-public-keys"
        ]
    );

    let reports: Vec<_> = stack.reports().into_iter().filter(|r| r.function == "RecordsApiFunction").collect();
    assert_eq!(reports.len(), 2, "one REPORT per invocation");
    assert!(reports[0].init_duration_ms.is_some(), "the first invocation is a cold start");
    assert!(reports[1].init_duration_ms.is_none(), "the second reuses the environment");
    let line = reports[0].to_string();
    for part in [
        "REPORT RequestId: ",
        "Duration: ",
        "Billed Duration: ",
        "Memory Size: ",
        "Max Memory Used: ",
        "Init Duration: ",
    ] {
        assert!(line.contains(part), "{line}");
    }
    stack.shutdown().await;
}

#[tokio::test]
async fn readiness_is_503_when_a_dependency_is_missing() {
    let stack = stack("unready").await;
    let clients = clients().await;
    clients.dynamodb().delete_table().table_name(physical(&stack, "DocumentsTable")).send().await.unwrap();
    let ready = reqwest::get(format!("{}/health/ready", stack.api_url())).await.unwrap();
    assert_eq!(ready.status(), 503);
    let report: Value = ready.json().await.unwrap();
    assert_eq!(report["status"], "unavailable");
    assert_eq!(report["checks"][0]["status"], "unavailable");
    assert_eq!(report["checks"][1]["status"], "ok");
    stack.shutdown().await;
}

#[tokio::test]
async fn the_alb_fixture_is_served_by_the_same_function() {
    let stack = stack("alb").await;
    let invocation = stack.invoke("RecordsApiFunction", event("alb-health.json")).await.unwrap();
    let response = invocation.result.unwrap();
    assert_eq!(response["statusCode"], 200);
    assert_eq!(response["statusDescription"], "200 OK");
    let missing = stack.invoke("RecordsApiFunction", event("alb-not-found.json")).await.unwrap().result.unwrap();
    assert_eq!(missing["statusCode"], 404);
    stack.shutdown().await;
}

#[tokio::test]
async fn a_batch_with_one_bad_message_reports_only_that_id() {
    let stack = stack("batch").await;
    let mut batch = event("sqs-s3-object-created.json");
    let good_object = batch["Records"][0].clone();
    let test_event = event("sqs-s3-test-event.json")["Records"][0].clone();
    let mut bad = good_object.clone();
    bad["messageId"] = json!("bad-message");
    bad["body"] = json!("{\"Records\": [ this is not json");
    batch["Records"] = json!([test_event, bad, good_object]);

    let invocation = stack.invoke("IngestWorkerFunction", batch).await.unwrap();

    assert_eq!(invocation.result.unwrap(), json!({"batchItemFailures": [{"itemIdentifier": "bad-message"}]}));
    stack.shutdown().await;
}

#[tokio::test]
async fn the_same_notification_delivered_twice_is_recorded_once() {
    let stack = stack("dupes").await;
    let clients = clients().await;
    let first = event("sqs-s3-object-created.json");
    let mut redelivered = first.clone();
    redelivered["Records"][0]["messageId"] = json!("redelivered-message");

    let a = stack.invoke("IngestWorkerFunction", first).await.unwrap();
    let b = stack.invoke("IngestWorkerFunction", redelivered).await.unwrap();

    assert_eq!(a.result.unwrap(), json!({"batchItemFailures": []}));
    assert_eq!(b.result.unwrap(), json!({"batchItemFailures": []}));
    let items = upload_items(&clients, &physical(&stack, "DocumentsTable")).await;
    assert_eq!(items.len(), 1);
    assert_eq!(number(&items[0], "deliveries"), 1, "the second delivery must not run the work again");
    assert_eq!(items[0]["object_key"].as_s().unwrap(), "uploads/a b c/é.pdf", "the key is URL-decoded");
    assert!(stack.logs("IngestWorkerFunction").iter().any(|l| l.contains("replayed=true")));
    stack.shutdown().await;
}

#[tokio::test]
async fn uploads_are_processed_exactly_once_and_a_poison_message_reaches_the_dead_letter_queue() {
    // Arrange: short visibility so five failed receives take seconds, not the production fifteen minutes.
    let mut options = StackOptions::for_tests("pipeline");
    options.parameter_overrides.insert("IngestQueueVisibilityTimeout".into(), "2".into());
    options.parameter_overrides.insert("IngestMaxReceiveCount".into(), "5".into());
    let stack = stack_with(options).await;
    let clients = clients().await;
    let bucket = physical(&stack, "UploadBucket");
    let table = physical(&stack, "DocumentsTable");
    let queue_url = stack.resource("IngestQueue").unwrap().attribute("QueueUrl").unwrap().to_owned();
    let dlq_url = stack.resource("IngestDeadLetterQueue").unwrap().attribute("QueueUrl").unwrap().to_owned();

    // Act: three uploads through S3 notifications, and one message that is not an S3 notification at all.
    for key in ["uploads/one.pdf", "uploads/two.png", "uploads/three.wav"] {
        clients.s3().put_object().bucket(&bucket).key(key).body(b"bytes".to_vec().into()).send().await.unwrap();
    }
    clients.sqs().send_message().queue_url(&queue_url).message_body("poison: not an S3 event").send().await.unwrap();

    // Assert: each upload recorded exactly once ...
    let items = eventually(Duration::from_secs(30), "three recorded uploads", || async {
        let items = upload_items(&clients, &table).await;
        (items.len() == 3).then_some(items)
    })
    .await;
    for item in &items {
        assert_eq!(number(item, "deliveries"), 1, "{item:?}");
        assert_eq!(item["status"].as_s().unwrap(), "uploaded");
    }
    // ... and the poison message in the dead-letter queue after maxReceiveCount receives, intact.
    let dead = eventually(Duration::from_secs(60), "the poison message in the DLQ", || async {
        let received = clients.sqs().receive_message().queue_url(&dlq_url).wait_time_seconds(1).send().await.unwrap();
        received.messages.unwrap_or_default().into_iter().next()
    })
    .await;
    assert_eq!(dead.body(), Some("poison: not an S3 event"));
    let ingest_logs = stack.logs("IngestWorkerFunction").join("\n");
    assert!(ingest_logs.contains("message failed"), "{ingest_logs}");
    // Nothing was processed twice while the poison message was retried.
    for item in upload_items(&clients, &table).await {
        assert_eq!(number(&item, "deliveries"), 1);
    }
    stack.shutdown().await;
}

#[tokio::test]
async fn function_logs_of_requests_and_uploads_carrying_phi_contain_none_of_it() {
    let stack = stack("phi-logs").await;
    let clients = clients().await;
    let http = reqwest::Client::new();
    let phi = ["Jane Quinn Roe", "078-05-1120", "MRN00456123", "jane.roe@example.org", "03/14/1962"];

    http.get(format!("{}/health?name=Jane+Quinn+Roe&ssn=078-05-1120&mrn=MRN00456123", stack.api_url()))
        .header("x-patient-email", phi[3])
        .send()
        .await
        .unwrap();
    http.post(format!("{}/health", stack.api_url()))
        .json(&json!({"name": phi[0], "dob": phi[4], "ssn": phi[1]}))
        .send()
        .await
        .unwrap();
    let key = format!("uploads/{} {} referral.pdf", phi[0], phi[1]);
    clients
        .s3()
        .put_object()
        .bucket(physical(&stack, "UploadBucket"))
        .key(&key)
        .body(b"%PDF-1.7".to_vec().into())
        .send()
        .await
        .unwrap();
    let table = physical(&stack, "DocumentsTable");
    eventually(Duration::from_secs(30), "the upload recorded", || async {
        (upload_items(&clients, &table).await.len() == 1).then_some(())
    })
    .await;

    let logs = [stack.logs("RecordsApiFunction"), stack.logs("IngestWorkerFunction")].concat().join("\n");
    assert!(logs.contains("request handled") && logs.contains("upload recorded"), "{logs}");
    for value in phi {
        assert!(!logs.contains(value), "{value} leaked:\n{logs}");
    }
    assert!(!logs.contains("Roe"), "part of a name leaked:\n{logs}");
    stack.shutdown().await;
}
