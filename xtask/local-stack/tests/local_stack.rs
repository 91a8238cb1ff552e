//! The local stack against moto, with the fixture template and the `fixture-fn` binary: resources, the HTTP API,
//! Lambda's execution-environment semantics, the SQS event source, schedules, OpenAPI, control API, shutdown.

mod common;

use std::time::{Duration, Instant};

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use local_stack::{ReportStatus, TOKEN_HEADER};
use serde_json::{Value, json};

async fn clients(
    stack: &local_stack::LocalStack,
) -> (
    aws_sdk_dynamodb::Client,
    aws_sdk_sqs::Client,
    aws_sdk_s3::Client,
    aws_sdk_kms::Client,
    aws_sdk_secretsmanager::Client,
) {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL names the emulator");
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_sqs::config::Credentials::new("test", "test", None, None, "test"))
        .load()
        .await;
    let s3 = aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build();
    let _ = stack;
    (
        aws_sdk_dynamodb::Client::new(&sdk),
        aws_sdk_sqs::Client::new(&sdk),
        aws_sdk_s3::Client::from_conf(s3),
        aws_sdk_kms::Client::new(&sdk),
        aws_sdk_secretsmanager::Client::new(&sdk),
    )
}

async fn queue_depth(sqs: &aws_sdk_sqs::Client, url: &str) -> usize {
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
        .send()
        .await
        .expect("GetQueueAttributes answers");
    let get = |name: aws_sdk_sqs::types::QueueAttributeName| {
        attributes.attributes().and_then(|a| a.get(&name)).and_then(|v| v.parse::<usize>().ok()).unwrap_or(0)
    };
    get(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
        + get(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
}

async fn eventually(what: &str, timeout: Duration, mut check: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < timeout, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resources_are_created_from_the_template_with_their_settings() {
    // Arrange / Act
    let stack = common::start("resources").await;
    let (dynamodb, sqs, s3, kms, secrets) = clients(&stack).await;

    // Assert: the table, its GSI and stream.
    let table = stack.resource("RecordsTable").unwrap();
    let described = dynamodb.describe_table().table_name(&table.physical_id).send().await.unwrap();
    let described = described.table().unwrap();
    assert_eq!(described.global_secondary_indexes()[0].index_name(), Some("gsi1"));
    assert!(table.attribute("StreamArn").is_some_and(|arn| arn.contains(&table.physical_id)));
    assert!(table.physical_id.starts_with("resources-"));

    // The queue's redrive policy names the DLQ's resolved ARN.
    let queue = stack.resource("WorkQueue").unwrap();
    let dlq = stack.resource("WorkDlq").unwrap();
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(&queue.physical_id)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
        .send()
        .await
        .unwrap();
    let attributes = attributes.attributes().unwrap();
    let policy: Value =
        serde_json::from_str(&attributes[&aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy]).unwrap();
    assert_eq!(policy["deadLetterTargetArn"], dlq.arn().unwrap());
    assert_eq!(policy["maxReceiveCount"], 2);
    assert_eq!(attributes[&aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout], "3");

    // The bucket notifies the queue.
    let bucket = stack.resource("UploadBucket").unwrap();
    let notifications = s3.get_bucket_notification_configuration().bucket(&bucket.physical_id).send().await.unwrap();
    assert_eq!(notifications.queue_configurations()[0].queue_arn(), queue.arn().unwrap());

    // Keys: a symmetric key behind its alias, an asymmetric signing key.
    let alias = stack.resource("DataKeyAlias").unwrap();
    let by_alias = kms.describe_key().key_id(&alias.physical_id).send().await.unwrap();
    assert_eq!(by_alias.key_metadata().unwrap().key_id(), stack.resource("DataKey").unwrap().physical_id);
    let signing = kms.describe_key().key_id(&stack.resource("SigningKey").unwrap().physical_id).send().await.unwrap();
    assert_eq!(signing.key_metadata().unwrap().key_spec().map(|s| s.as_str()), Some("ECC_NIST_P256"));

    // The generated secret follows its template.
    let secret = secrets
        .get_secret_value()
        .secret_id(&stack.resource("ServiceSecret").unwrap().physical_id)
        .send()
        .await
        .unwrap();
    let secret: Value = serde_json::from_str(secret.secret_string().unwrap()).unwrap();
    assert_eq!(secret["user"], "svc");
    assert_eq!(secret["password"].as_str().unwrap().len(), 24);

    // Skipped and conditional resources.
    let role = stack.resource("ExecutionRole").unwrap();
    assert!(!role.emulated && role.arn().unwrap().starts_with("arn:aws:iam::"));
    assert!(stack.resource("NeverCreatedQueue").is_none());

    // Function environments: Globals merged, intrinsics resolved, the emulator's credentials only.
    let env = stack.function_env("ApiFunction").unwrap();
    assert_eq!(env["STAGE"], "local");
    assert_eq!(env["LOG_LEVEL"], "debug");
    assert_eq!(env["IS_LOCAL"], "yes");
    assert_eq!(env["RECORDS_TABLE"], table.physical_id);
    assert_eq!(env["FIXTURE_API_TITLE"], "items");
    assert_eq!(env["AWS_ACCESS_KEY_ID"], "test");
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn function_processes_get_a_clean_environment() {
    // Arrange: cargo sets CARGO_PKG_NAME for this test process; a function must not inherit it.
    let stack = common::start("clean-env").await;
    assert!(std::env::var("CARGO_PKG_NAME").is_ok());

    // Act
    let invocation = stack
        .invoke("SlowFunction", json!({ "env": ["CARGO_PKG_NAME", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_ENDPOINT_URL", "AWS_SECRET_ACCESS_KEY"] }))
        .await
        .unwrap();

    // Assert
    let env = invocation.result.unwrap();
    assert_eq!(env["CARGO_PKG_NAME"], Value::Null);
    assert!(env["AWS_LAMBDA_FUNCTION_NAME"].as_str().unwrap().ends_with("-SlowFunction"));
    assert_eq!(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "256");
    assert_eq!(env["AWS_ENDPOINT_URL"], std::env::var("AWS_ENDPOINT_URL").unwrap());
    assert_eq!(env["AWS_SECRET_ACCESS_KEY"], "test");
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_routes_deliver_v2_events_and_unknown_routes_are_404() {
    // Arrange
    let stack = common::start("http").await;
    let http = reqwest::Client::new();

    // Act
    let found = http
        .get(format!("{}/items/42?view=full&tag=a&tag=b", stack.api_url()))
        .header("cookie", "a=1; b=2")
        .header("x-multi", "one")
        .send()
        .await
        .unwrap();
    let greedy = http.put(format!("{}/files/a/b/c.pdf", stack.api_url())).body("%PDF").send().await.unwrap();
    let missing = http.get(format!("{}/nope", stack.api_url())).send().await.unwrap();

    // Assert
    assert_eq!(found.status(), 200);
    assert!(found.headers().contains_key("apigw-requestid"));
    assert_eq!(found.headers()["x-fixture"], "yes");
    assert_eq!(found.headers()["set-cookie"], "session=abc; HttpOnly");
    let event: Value = found.json().await.unwrap();
    assert_eq!(event["routeKey"], "GET /items/{id}");
    assert_eq!(event["pathParameters"]["id"], "42");
    assert_eq!(event["queryStringParameters"]["tag"], "a,b");
    assert_eq!(event["rawQueryString"], "view=full&tag=a&tag=b");
    assert_eq!(event["cookies"], json!(["a=1", "b=2"]));
    assert_eq!(event["headers"]["x-multi"], "one");
    assert_eq!(event["method"], "GET");

    let greedy: Value = greedy.json().await.unwrap();
    assert_eq!(greedy["routeKey"], "ANY /files/{proxy+}");
    assert_eq!(greedy["pathParameters"]["proxy"], "a/b/c.pdf");
    assert_eq!(greedy["method"], "PUT");

    assert_eq!(missing.status(), 404);
    assert_eq!(missing.json::<Value>().await.unwrap(), json!({ "message": "Not Found" }));
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_invocation_is_a_cold_start_and_the_next_reuses_the_environment() {
    // Arrange
    let stack = common::start("cold-warm").await;

    // Act
    let first = stack.invoke("SlowFunction", json!({ "hello": 1 })).await.unwrap();
    let second = stack.invoke("fixture-fn", json!({ "hello": 2 })).await.unwrap();
    let logs = stack.logs("SlowFunction");

    // Assert (`fixture-fn`, a binary name, finds a function too)
    assert_eq!(first.result.clone().unwrap(), json!({ "echo": { "hello": 1 } }));
    assert!(first.cold_start() && first.report.init_duration_ms.unwrap() > 0.0);
    assert!(first.report.to_string().contains("\tInit Duration: "));
    let warm = stack.invoke("SlowFunction", json!({ "hello": 3 })).await.unwrap();
    assert!(!warm.cold_start());
    assert!(!warm.report.to_string().contains("Init Duration"));
    assert_eq!(logs.iter().filter(|l| l.starts_with("init pid=")).count(), 1);
    assert!(second.result.is_ok());
    let report = &first.report;
    assert_eq!(report.memory_size_mb, 256);
    assert!(report.max_memory_used_mb > 0);
    assert!(report.billed_duration_ms as f64 >= report.duration_ms);
    let reports = stack.reports();
    assert!(reports.iter().any(|r| r.request_id == warm.request_id && r.init_duration_ms.is_none()));
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_fails_the_invocation_and_replaces_the_environment() {
    // Arrange: SlowFunction has Timeout: 1.
    let stack = common::start("timeout").await;
    stack.invoke("SlowFunction", json!({})).await.unwrap();

    // Act
    let started = Instant::now();
    let timed_out = stack.invoke("SlowFunction", json!({ "sleep_ms": 5000 })).await.unwrap();
    let elapsed = started.elapsed();
    let next = stack.invoke("SlowFunction", json!({ "after": true })).await.unwrap();

    // Assert
    let error = timed_out.result.unwrap_err();
    assert_eq!(error.error_type, "Sandbox.Timedout");
    assert!(error.error_message.contains("Task timed out after 1.00 seconds"), "{}", error.error_message);
    assert_eq!(timed_out.report.status, Some(ReportStatus::Timeout));
    assert!(elapsed < Duration::from_secs(4), "the timeout was not enforced: {elapsed:?}");
    assert!(next.cold_start(), "a timed-out environment is replaced");
    assert_eq!(next.result.unwrap(), json!({ "echo": { "after": true } }));
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_fails_one_invocation_and_the_next_one_works() {
    // Arrange
    let stack = common::start("crash").await;

    // Act
    let crashed = stack.invoke("SlowFunction", json!({ "crash": true })).await.unwrap();
    let next = stack.invoke("SlowFunction", json!({ "n": 2 })).await.unwrap();

    // Assert
    let error = crashed.result.unwrap_err();
    assert_eq!(error.error_type, "Runtime.ExitError");
    assert!(error.error_message.contains("exit status: 3"), "{}", error.error_message);
    assert!(common::count(&stack, "SlowFunction", "crashing on purpose") == 1);
    assert!(next.cold_start());
    assert_eq!(next.result.unwrap(), json!({ "echo": { "n": 2 } }));
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_error_is_returned_and_keeps_the_environment() {
    // Arrange
    let stack = common::start("handler-error").await;

    // Act
    let failed = stack.invoke("SlowFunction", json!({ "fail": "bad input" })).await.unwrap();
    let next = stack.invoke("SlowFunction", json!({})).await.unwrap();

    // Assert
    assert_eq!(failed.result.unwrap_err().error_message, "bad input");
    assert_eq!(failed.report.status, None);
    assert!(!next.cold_start());
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_init_failure_fails_the_invocation_with_its_cause() {
    // Arrange
    let stack = common::start("init-fail").await;

    // Act
    let invocation = stack.invoke("BrokenFunction", json!({})).await.unwrap();

    // Assert
    let error = invocation.result.unwrap_err();
    assert_eq!(error.error_type, "Runtime.ExitError");
    assert!(error.error_message.contains("exit status: 2"), "{}", error.error_message);
    assert!(common::count(&stack, "BrokenFunction", "init failed: missing configuration") == 1);
    assert!(invocation.report.init_duration_ms.is_some());
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sqs_batch_with_one_bad_message_retries_only_it_until_the_dlq() {
    // Arrange
    let stack = common::start("sqs-batch").await;
    let (_, sqs, _, _, _) = clients(&stack).await;
    let queue = stack.resource("WorkQueue").unwrap().physical_id.clone();
    let dlq = stack.resource("WorkDlq").unwrap().physical_id.clone();
    let entries = ["good-1", "fail-2", "good-3"]
        .iter()
        .enumerate()
        .map(|(i, body)| SendMessageBatchRequestEntry::builder().id(i.to_string()).message_body(*body).build().unwrap())
        .collect::<Vec<_>>();

    // Act
    sqs.send_message_batch().queue_url(&queue).set_entries(Some(entries)).send().await.unwrap();

    // Assert: after maxReceiveCount (2) failed receives the bad message is in the DLQ.
    eventually("the bad message in the DLQ", Duration::from_secs(30), async || queue_depth(&sqs, &dlq).await == 1)
        .await;
    let moved = sqs.receive_message().queue_url(&dlq).send().await.unwrap();
    assert_eq!(moved.messages()[0].body(), Some("fail-2"));
    // Past another visibility timeout, nothing was delivered again.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert_eq!(common::count(&stack, "WorkerFunction", "processed good-1"), 1);
    assert_eq!(common::count(&stack, "WorkerFunction", "processed good-3"), 1);
    assert_eq!(common::count(&stack, "WorkerFunction", "processed fail-2"), 2);
    assert_eq!(queue_depth(&sqs, &queue).await, 0);
    let outcomes: Vec<String> =
        stack.logs("WorkerFunction").into_iter().filter(|l| l.starts_with("ESM Work")).collect();
    assert!(outcomes.iter().any(|l| l.contains("1 reported failed")), "{outcomes:?}");
    assert!(outcomes.iter().all(|l| !l.contains("nothing deleted")), "{outcomes:?}");
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_uploads_reach_the_worker_through_the_bucket_notification() {
    // Arrange
    let stack = common::start("s3-notify").await;
    let (_, _, s3, _, _) = clients(&stack).await;
    let bucket = stack.resource("UploadBucket").unwrap().physical_id.clone();

    // Act
    s3.put_object().bucket(&bucket).key("uploads/scan-1.pdf").body(b"%PDF-1.7".to_vec().into()).send().await.unwrap();
    s3.put_object().bucket(&bucket).key("elsewhere/skip.pdf").body(b"x".to_vec().into()).send().await.unwrap();

    // Assert: the initial s3:TestEvent and the upload under the filter's prefix arrive (moto URL-encodes the key,
    // `uploads%2Fscan-1.pdf`); the key outside the prefix does not.
    eventually("the upload's notification processed", Duration::from_secs(15), async || {
        common::count(&stack, "WorkerFunction", "scan-1.pdf") == 1
    })
    .await;
    assert_eq!(common::count(&stack, "WorkerFunction", "s3:TestEvent"), 1);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(common::count(&stack, "WorkerFunction", "skip.pdf"), 0);
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_stream_records_reach_the_function_and_a_failing_record_is_retried_then_skipped() {
    // Arrange: StreamFunction reads RecordsTable's stream from TRIM_HORIZON, MaximumRetryAttempts 1.
    let stack = common::start("streams").await;
    let (dynamodb, _, _, _, _) = clients(&stack).await;
    let table = stack.resource("RecordsTable").unwrap().physical_id.clone();
    let put = async |pk: &str, fail: bool| {
        let mut request = dynamodb
            .put_item()
            .table_name(&table)
            .item("pk", aws_sdk_dynamodb::types::AttributeValue::S(pk.into()))
            .item("sk", aws_sdk_dynamodb::types::AttributeValue::S("v1".into()));
        if fail {
            request = request.item("fail", aws_sdk_dynamodb::types::AttributeValue::Bool(true));
        }
        request.send().await.unwrap();
    };

    // Act
    put("ok-1", false).await;
    put("bad-2", true).await;
    eventually("the failing record skipped", Duration::from_secs(20), async || {
        common::count(&stack, "StreamFunction", "retries exhausted") == 1
    })
    .await;
    put("ok-3", false).await;

    // Assert: the shard moved on past the skipped record; the good ones were delivered once.
    eventually("the next record delivered", Duration::from_secs(20), async || {
        common::count(&stack, "StreamFunction", "stream INSERT ok-3") == 1
    })
    .await;
    assert_eq!(common::count(&stack, "StreamFunction", "stream INSERT ok-1"), 1);
    assert_eq!(
        common::count(&stack, "StreamFunction", "stream INSERT bad-2"),
        2,
        "{:#?}",
        stack.logs("StreamFunction")
    );
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_fires_now_with_the_scheduled_event_payload() {
    // Arrange
    let stack = common::start("schedule").await;

    // Act
    let invocation = stack.fire_schedule("NightlyFunction").await.unwrap();

    // Assert
    let event = &invocation.result.unwrap()["scheduled"];
    assert_eq!(event["detail-type"], "Scheduled Event");
    assert_eq!(event["source"], "aws.events");
    assert_eq!(event["account"], "123456789012");
    assert!(event["resources"][0].as_str().unwrap().contains(":rule/"));
    assert!(stack.fire_schedule("SlowFunction").await.is_err());
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_during_an_invocation_fails_it_and_the_next_starts_fresh() {
    // Arrange
    let stack = std::sync::Arc::new(common::start("kill").await);
    let running = {
        let stack = stack.clone();
        tokio::spawn(async move { stack.invoke("ApiFunction", json!({ "sleep_ms": 4000 })).await.unwrap() })
    };
    eventually("the invocation running", Duration::from_secs(10), async || {
        common::count(&stack, "ApiFunction", "sleeping 4000 ms") == 1
    })
    .await;

    // Act
    stack.kill("ApiFunction").await;
    let killed = running.await.unwrap();
    let next = stack.invoke("ApiFunction", json!({ "after": "kill" })).await.unwrap();

    // Assert
    let error = killed.result.unwrap_err();
    assert_eq!(error.error_type, "Runtime.ExitError");
    assert!(error.error_message.contains("signal: 9"), "{}", error.error_message);
    assert!(killed.report.duration_ms < 4000.0);
    assert!(next.cold_start());
    std::sync::Arc::into_inner(stack).unwrap().shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_documents_of_every_api_function_are_merged() {
    // Arrange
    let stack = common::start("openapi").await;

    // Act
    let merged: Value = reqwest::get(format!("{}/openapi.json", stack.api_url())).await.unwrap().json().await.unwrap();

    // Assert
    assert_eq!(merged["openapi"], "3.1.0");
    for path in ["/items/{id}", "/health", "/other"] {
        assert!(merged["paths"][path]["get"].is_object(), "{path} missing from {merged}");
    }
    let tags: Vec<&str> = merged["tags"].as_array().unwrap().iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(tags, ["items", "other"]);
    assert!(merged["components"]["schemas"]["Problem"].is_object());
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_control_api_needs_the_token_and_redrives_a_dlq() {
    // Arrange
    let stack = common::start("control").await;
    let (_, sqs, _, _, _) = clients(&stack).await;
    let dlq = stack.resource("WorkDlq").unwrap().physical_id.clone();
    sqs.send_message().queue_url(&dlq).message_body("redriven-1").send().await.unwrap();
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}/_local/{path}", stack.api_url());

    // Act
    let refused = http.post(url("invoke/SlowFunction")).body("{}").send().await.unwrap();
    let invoked = http
        .post(url("invoke/SlowFunction"))
        .header(TOKEN_HEADER, stack.control_token())
        .body(r#"{"via":"control"}"#)
        .send()
        .await
        .unwrap();
    let redriven = http.post(url("redrive/WorkDlq")).header(TOKEN_HEADER, stack.control_token()).send().await.unwrap();

    // Assert
    assert_eq!(refused.status(), 403);
    let invoked: Value = invoked.json().await.unwrap();
    assert_eq!(invoked["result"], json!({ "echo": { "via": "control" } }));
    assert!(invoked["report"].as_str().unwrap().starts_with("REPORT RequestId: "));
    let redriven: Value = redriven.json().await.unwrap();
    assert_eq!(redriven, json!({ "moved": 1, "from": "WorkDlq", "to": "WorkQueue" }));
    eventually("the redriven message processed", Duration::from_secs(15), async || {
        common::count(&stack, "WorkerFunction", "processed redriven-1") == 1
    })
    .await;
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_leaves_no_function_process_behind() {
    // Arrange
    let stack = common::start("shutdown").await;
    for function in ["SlowFunction", "ApiFunction", "NightlyFunction"] {
        stack.invoke(function, json!({})).await.unwrap();
    }
    let pids = stack.process_ids();
    assert!(pids.len() >= 3, "{pids:?}");
    assert!(pids.iter().all(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists()));

    // Act
    stack.shutdown().await;

    // Assert
    for pid in pids {
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists(), "process {pid} outlived the stack");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docs_page_serves_swagger_ui_from_its_folder_under_a_strict_csp() {
    // Arrange: a stand-in swagger-ui-dist folder.
    let assets = std::env::temp_dir().join(format!("swagger-ui-{}", local_stack::unique_stack_name("docs")));
    std::fs::create_dir_all(&assets).unwrap();
    std::fs::write(assets.join("swagger-ui-bundle.js"), "window.SwaggerUIBundle = function () {};").unwrap();
    let mut options = common::options("docs");
    options.docs_assets = Some(assets.clone());
    let stack = local_stack::LocalStack::start(options).await.unwrap();
    let get = async |path: &str| reqwest::get(format!("{}{path}", stack.api_url())).await.unwrap();

    // Act
    let page = get("/docs").await;
    let init = get("/docs/docs-init.js").await;
    let bundle = get("/docs/swagger-ui-bundle.js").await;
    let traversal = get("/docs/..%2F..%2Fetc%2Fpasswd").await;

    // Assert
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.starts_with("default-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<script src="/docs/docs-init.js"></script>"#));
    assert!(!html.contains("<script>"), "no inline script");
    assert_eq!(init.headers()["content-type"], "text/javascript; charset=utf-8");
    assert!(init.text().await.unwrap().contains("url: '/openapi.json'"));
    assert_eq!(bundle.text().await.unwrap(), "window.SwaggerUIBundle = function () {};");
    assert_eq!(traversal.status(), 404);
    stack.shutdown().await;
    std::fs::remove_dir_all(assets).unwrap();
}
