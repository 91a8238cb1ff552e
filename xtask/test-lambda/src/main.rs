//! `fixture-fn`: one Lambda binary whose behaviour the event chooses, for testing the local stack's emulator.
//!
//! - an API Gateway v2 event: answers with what it was given (route key, path parameters, query, headers,
//!   cookies), or its OpenAPI document for `GET /openapi.json` (title and paths from `FIXTURE_API_TITLE` and
//!   `FIXTURE_API_PATHS`);
//! - an SQS event: prints `processed <body>` per record and reports every record whose body contains `fail`;
//! - a DynamoDB stream event: prints `stream <eventName> <pk>` per record and reports (by sequence number) every
//!   record whose new image has a `fail` attribute;
//! - a scheduled event: returns `{"scheduled": <event>}`;
//! - any other JSON: `{"sleep_ms": n}` sleeps, `{"crash": true}` exits the process, `{"fail": "m"}` returns an
//!   error, `{"env": ["NAME"]}` returns those variables, anything else is echoed back.
//!
//! With `FIXTURE_FAIL_INIT` set it exits before reaching the Runtime API, as a function with a broken
//! configuration does.

use std::time::Duration;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Map, Value, json};

#[tokio::main]
async fn main() -> Result<(), Error> {
    if let Ok(reason) = std::env::var("FIXTURE_FAIL_INIT") {
        eprintln!("init failed: {reason}");
        std::process::exit(2);
    }
    println!("init pid={}", std::process::id());
    lambda_runtime::run(service_fn(handle)).await
}

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let (payload, context) = event.into_parts();
    println!("invoked request_id={}", context.request_id);
    if payload.get("routeKey").is_some() {
        return Ok(http(&payload));
    }
    if let Some(records) = payload.get("Records").and_then(Value::as_array) {
        if records.first().is_some_and(|r| r["eventSource"] == "aws:dynamodb") {
            return Ok(stream(records));
        }
        return Ok(sqs(records));
    }
    if payload.get("detail-type").is_some() {
        return Ok(json!({ "scheduled": payload }));
    }
    if let Some(ms) = payload.get("sleep_ms").and_then(Value::as_u64) {
        println!("sleeping {ms} ms");
        tokio::time::sleep(Duration::from_millis(ms)).await;
        return Ok(json!({ "slept_ms": ms }));
    }
    if payload.get("crash").is_some() {
        eprintln!("crashing on purpose");
        std::process::exit(3);
    }
    if let Some(message) = payload.get("fail").and_then(Value::as_str) {
        return Err(message.into());
    }
    if let Some(names) = payload.get("env").and_then(Value::as_array) {
        let values: Map<String, Value> = names
            .iter()
            .filter_map(Value::as_str)
            .map(|name| (name.to_owned(), std::env::var(name).map_or(Value::Null, Value::String)))
            .collect();
        return Ok(Value::Object(values));
    }
    Ok(json!({ "echo": payload }))
}

fn http(event: &Value) -> Value {
    if event["rawPath"] == "/openapi.json" {
        return json!({ "statusCode": 200, "headers": { "content-type": "application/json" }, "body": openapi().to_string() });
    }
    let body = json!({
        "routeKey": event["routeKey"],
        "rawPath": event["rawPath"],
        "rawQueryString": event["rawQueryString"],
        "pathParameters": event["pathParameters"],
        "queryStringParameters": event["queryStringParameters"],
        "headers": event["headers"],
        "cookies": event["cookies"],
        "body": event["body"],
        "isBase64Encoded": event["isBase64Encoded"],
        "method": event["requestContext"]["http"]["method"],
    });
    json!({
        "statusCode": 200,
        "headers": { "content-type": "application/json", "x-fixture": "yes" },
        "cookies": ["session=abc; HttpOnly"],
        "body": body.to_string(),
    })
}

fn openapi() -> Value {
    let title = std::env::var("FIXTURE_API_TITLE").unwrap_or_else(|_| "fixture".into());
    let paths: Map<String, Value> = std::env::var("FIXTURE_API_PATHS")
        .unwrap_or_default()
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|path| {
            (path.to_owned(), json!({ "get": { "tags": [title], "responses": { "200": { "description": "ok" } } } }))
        })
        .collect();
    json!({
        "openapi": "3.1.0",
        "info": { "title": title, "version": "1" },
        "paths": paths,
        "components": { "schemas": { "Problem": { "type": "object" } } },
        "tags": [{ "name": title }],
    })
}

fn sqs(records: &[Value]) -> Value {
    let mut failures = Vec::new();
    for record in records {
        let body = record["body"].as_str().unwrap_or_default();
        println!("processed {body}");
        if body.contains("fail") {
            failures.push(json!({ "itemIdentifier": record["messageId"] }));
        }
    }
    json!({ "batchItemFailures": failures })
}

fn stream(records: &[Value]) -> Value {
    let mut failures = Vec::new();
    for record in records {
        let key = record["dynamodb"]["Keys"]["pk"]["S"].as_str().unwrap_or_default();
        println!("stream {} {key}", record["eventName"].as_str().unwrap_or_default());
        if record["dynamodb"]["NewImage"].get("fail").is_some() {
            failures.push(json!({ "itemIdentifier": record["dynamodb"]["SequenceNumber"] }));
        }
    }
    json!({ "batchItemFailures": failures })
}
