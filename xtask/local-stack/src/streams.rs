//! DynamoDB stream event sources with Lambda's semantics.
//!
//! Every shard is polled (four times a second, as Lambda does) from `StartingPosition`; records go to the function
//! in order, in batches of up to `BatchSize`, as Lambda's DynamoDB event. A failed batch is retried (the shard
//! waits, as in Lambda) until `MaximumRetryAttempts` (unbounded when unset) and then skipped; with
//! `ReportBatchItemFailures` the shard checkpoints before the lowest reported sequence number and retries from it,
//! and an empty or unknown identifier fails the whole batch.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodbstreams::types::{AttributeValue, Record, ShardIteratorType};
use base64::Engine;
use serde_json::{Map, Value, json};
use tokio::sync::watch;

use crate::error::detail;
use crate::function::StreamSource;
use crate::runtime::FunctionRuntime;

const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// Polls `source`'s stream and invokes `function` until `stop` turns true.
pub async fn run(
    source: StreamSource,
    function: Arc<FunctionRuntime>,
    client: aws_sdk_dynamodbstreams::Client,
    region: String,
    mut stop: watch::Receiver<bool>,
) {
    let mut shards: BTreeMap<String, Shard> = BTreeMap::new();
    let mut first_listing = true;
    let mut next_listing = tokio::time::Instant::now();
    while !*stop.borrow() {
        if tokio::time::Instant::now() >= next_listing {
            discover(&client, &source, &mut shards, first_listing).await;
            first_listing = false;
            next_listing = tokio::time::Instant::now() + Duration::from_secs(5);
        }
        for shard in shards.values_mut() {
            poll(&client, &function, &source, &region, shard).await;
        }
        tokio::select! {
            () = tokio::time::sleep(POLL_INTERVAL) => {},
            _ = stop.changed() => return,
        }
    }
}

/// One shard's reading position and the records waiting to be delivered (a failed batch is kept for retry).
#[derive(Debug, Default)]
struct Shard {
    iterator: Option<String>,
    pending: Vec<Record>,
    attempts: u32,
}

async fn discover(
    client: &aws_sdk_dynamodbstreams::Client,
    source: &StreamSource,
    shards: &mut BTreeMap<String, Shard>,
    first_listing: bool,
) {
    let described = match client.describe_stream().stream_arn(&source.stream_arn).send().await {
        Ok(described) => described,
        Err(error) => {
            tracing::warn!(stream = %source.stream_arn, error = %detail(&error), "DescribeStream failed");
            return;
        }
    };
    let listed = described.stream_description().map(|d| d.shards().to_vec()).unwrap_or_default();
    for shard in listed {
        let Some(id) = shard.shard_id() else { continue };
        if shards.contains_key(id) {
            continue;
        }
        // Shards that appear later are read from their start, so that nothing written to them is missed.
        let position = if first_listing && source.starting_position == "LATEST" {
            ShardIteratorType::Latest
        } else {
            ShardIteratorType::TrimHorizon
        };
        let iterator = client
            .get_shard_iterator()
            .stream_arn(&source.stream_arn)
            .shard_id(id)
            .shard_iterator_type(position)
            .send()
            .await;
        match iterator {
            Ok(found) => {
                shards.insert(id.to_owned(), Shard { iterator: found.shard_iterator, ..Shard::default() });
            }
            Err(error) => tracing::warn!(shard = id, error = %detail(&error), "GetShardIterator failed"),
        }
    }
}

async fn poll(
    client: &aws_sdk_dynamodbstreams::Client,
    function: &FunctionRuntime,
    source: &StreamSource,
    region: &str,
    shard: &mut Shard,
) {
    if shard.pending.len() < source.batch_size
        && let Some(iterator) = shard.iterator.clone()
    {
        let limit = i32::try_from(source.batch_size - shard.pending.len()).unwrap_or(100);
        match client.get_records().shard_iterator(iterator).limit(limit).send().await {
            Ok(output) => {
                shard.iterator = output.next_shard_iterator;
                shard.pending.extend(output.records.unwrap_or_default());
            }
            Err(error) => {
                tracing::warn!(stream = %source.stream_arn, error = %detail(&error), "GetRecords failed");
                return;
            }
        }
    }
    if shard.pending.is_empty() {
        return;
    }
    let batch: Vec<Record> = shard.pending.iter().take(source.batch_size).cloned().collect();
    let records: Vec<Value> = batch.iter().map(|r| record(r, &source.stream_arn, region)).collect();
    let invocation = function.invoke(&json!({ "Records": records })).await;
    let sequence_numbers: Vec<&str> =
        batch.iter().filter_map(|r| r.dynamodb().and_then(|d| d.sequence_number())).collect();
    let outcome = match &invocation.result {
        Err(error) => Err(format!("function error ({})", error.error_type)),
        Ok(response) if source.report_batch_item_failures => {
            crate::sqs_source::reported_failures(response, &sequence_numbers)
                .map_err(|r| format!("invalid batchItemFailures ({r})"))
        }
        Ok(_) => Ok(Default::default()),
    };
    let log = |line: String| function.log(format!("ESM {} (stream): {line}", source.name));
    match outcome {
        Ok(failed) if failed.is_empty() => {
            log(format!("{} records delivered", batch.len()));
            shard.pending.drain(..batch.len());
            shard.attempts = 0;
        }
        Ok(failed) => {
            // Checkpoint before the first reported record; retry from it.
            let first_failed = batch
                .iter()
                .position(|r| r.dynamodb().and_then(|d| d.sequence_number()).is_some_and(|s| failed.contains(s)))
                .unwrap_or(0);
            log(format!(
                "{} records, {} reported failed; retrying from record {first_failed}",
                batch.len(),
                failed.len()
            ));
            shard.pending.drain(..first_failed);
            retry_or_skip(shard, source, &log, batch.len() - first_failed);
        }
        Err(reason) => {
            log(format!("{} records, {reason}", batch.len()));
            retry_or_skip(shard, source, &log, batch.len());
        }
    }
}

fn retry_or_skip(shard: &mut Shard, source: &StreamSource, log: &dyn Fn(String), failed_batch: usize) {
    shard.attempts += 1;
    if source.maximum_retry_attempts.is_some_and(|max| shard.attempts > max) {
        log(format!("retries exhausted: {failed_batch} records skipped"));
        shard.pending.drain(..failed_batch.min(shard.pending.len()));
        shard.attempts = 0;
    }
}

/// One record of Lambda's DynamoDB event.
fn record(record: &Record, stream_arn: &str, region: &str) -> Value {
    let mut dynamodb = Map::new();
    if let Some(stream) = record.dynamodb() {
        if let Some(at) = stream.approximate_creation_date_time() {
            dynamodb.insert("ApproximateCreationDateTime".into(), json!(at.secs()));
        }
        for (key, image) in
            [("Keys", stream.keys()), ("NewImage", stream.new_image()), ("OldImage", stream.old_image())]
        {
            if let Some(image) = image {
                dynamodb.insert(key.into(), item(image));
            }
        }
        if let Some(sequence) = stream.sequence_number() {
            dynamodb.insert("SequenceNumber".into(), json!(sequence));
        }
        if let Some(size) = stream.size_bytes() {
            dynamodb.insert("SizeBytes".into(), json!(size));
        }
        if let Some(view) = stream.stream_view_type() {
            dynamodb.insert("StreamViewType".into(), json!(view.as_str()));
        }
    }
    json!({
        "eventID": record.event_id(),
        "eventName": record.event_name().map(|n| n.as_str()),
        "eventVersion": record.event_version().unwrap_or("1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": record.aws_region().unwrap_or(region),
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    })
}

fn item(image: &HashMap<String, AttributeValue>) -> Value {
    Value::Object(image.iter().map(|(k, v)| (k.clone(), attribute(v))).collect())
}

/// DynamoDB's JSON for an attribute value (`{"S": "x"}`, `{"N": "1"}`, ...).
fn attribute(value: &AttributeValue) -> Value {
    let b64 =
        |b: &aws_sdk_dynamodbstreams::primitives::Blob| base64::engine::general_purpose::STANDARD.encode(b.as_ref());
    match value {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::B(b) => json!({ "B": b64(b) }),
        AttributeValue::Ss(v) => json!({ "SS": v }),
        AttributeValue::Ns(v) => json!({ "NS": v }),
        AttributeValue::Bs(v) => json!({ "BS": v.iter().map(b64).collect::<Vec<_>>() }),
        AttributeValue::M(m) => json!({ "M": item(m) }),
        AttributeValue::L(l) => json!({ "L": l.iter().map(attribute).collect::<Vec<_>>() }),
        AttributeValue::Null(n) => json!({ "NULL": n }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        _ => Value::Null,
    }
}
