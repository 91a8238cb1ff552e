//! SQS event source mappings with Lambda's semantics.
//!
//! Batches of up to `BatchSize` messages, gathered for up to `MaximumBatchingWindowInSeconds`; records shaped as
//! Lambda shapes them; on success every message is deleted, except, with `ReportBatchItemFailures`, the reported
//! ones; a function error, or a response naming an empty or unknown id, fails the whole batch and deletes nothing.
//! Failed messages reappear after the queue's visibility timeout, and the emulator (moto) moves a message to the
//! dead-letter queue when a receive would exceed the redrive policy's `maxReceiveCount`, as SQS does.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName};
use base64::Engine;
use serde_json::{Map, Value, json};
use tokio::sync::{Semaphore, watch};

use crate::clients::Clients;
use crate::error::detail;
use crate::function::SqsSource;
use crate::runtime::FunctionRuntime;

/// Polls `source`'s queue and invokes `function` until `stop` turns true.
pub async fn run(
    source: SqsSource,
    function: Arc<FunctionRuntime>,
    clients: Clients,
    region: String,
    mut stop: watch::Receiver<bool>,
) {
    let Some(url) = queue_url(&clients, &source.queue_arn, &mut stop).await else { return };
    let concurrency =
        source.maximum_concurrency.unwrap_or(function.spec.concurrency).clamp(1, function.spec.concurrency);
    let permits = Arc::new(Semaphore::new(concurrency));
    while !*stop.borrow() {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit { Ok(p) => p, Err(_) => return },
            _ = stop.changed() => return,
        };
        let batch = tokio::select! {
            batch = gather(&clients, &url, &source) => batch,
            _ = stop.changed() => return,
        };
        if batch.is_empty() {
            continue;
        }
        let function = function.clone();
        let clients = clients.clone();
        let url = url.clone();
        let source = source.clone();
        let region = region.clone();
        tokio::spawn(async move {
            deliver(&function, &clients, &url, &source, &region, batch).await;
            drop(permit);
        });
    }
}

async fn queue_url(clients: &Clients, arn: &str, stop: &mut watch::Receiver<bool>) -> Option<String> {
    let mut parts = arn.split(':');
    let name = parts.next_back()?.to_owned();
    let account = parts.next_back().map(str::to_owned);
    loop {
        match clients.sqs.get_queue_url().queue_name(&name).set_queue_owner_aws_account_id(account.clone()).send().await
        {
            Ok(found) => return found.queue_url().map(str::to_owned),
            Err(error) => {
                tracing::warn!(queue = %arn, error = %detail(&error), "event source queue not found; retrying")
            }
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(2)) => {},
            _ = stop.changed() => return None,
        }
    }
}

/// Up to `BatchSize` messages: waits (long polling) for the first, then gathers more for the batching window.
async fn gather(clients: &Clients, url: &str, source: &SqsSource) -> Vec<Message> {
    let mut batch = Vec::new();
    let mut window_end: Option<tokio::time::Instant> = None;
    loop {
        let want = (source.batch_size - batch.len()).min(10);
        let wait = match window_end {
            None => 1,
            Some(end) => {
                let left = end.saturating_duration_since(tokio::time::Instant::now());
                if left.is_zero() && source.batching_window > Duration::ZERO {
                    break;
                }
                i32::from(left >= Duration::from_secs(1))
            }
        };
        let received = clients
            .sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(i32::try_from(want).unwrap_or(10))
            .wait_time_seconds(wait)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await;
        let messages = match received {
            Ok(output) => output.messages.unwrap_or_default(),
            Err(error) => {
                tracing::warn!(queue = url, error = %detail(&error), "ReceiveMessage failed");
                tokio::time::sleep(Duration::from_millis(500)).await;
                return batch;
            }
        };
        let got = messages.len();
        batch.extend(messages);
        if batch.is_empty() {
            return batch;
        }
        if got == 0 && wait == 0 {
            // Inside the last second of the window: poll gently rather than in a tight loop.
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        if window_end.is_none() {
            window_end = Some(tokio::time::Instant::now() + source.batching_window);
        }
        if batch.len() >= source.batch_size || (source.batching_window.is_zero() && got < want) {
            break;
        }
    }
    batch
}

async fn deliver(
    function: &FunctionRuntime,
    clients: &Clients,
    url: &str,
    source: &SqsSource,
    region: &str,
    batch: Vec<Message>,
) {
    let records: Vec<Value> = batch.iter().map(|m| record(m, &source.queue_arn, region)).collect();
    let invocation = function.invoke(&json!({ "Records": records })).await;
    let ids: Vec<&str> = batch.iter().filter_map(|m| m.message_id()).collect();
    let failed = match &invocation.result {
        Err(error) => {
            log(
                function,
                source,
                format!("{} records, function error ({}): nothing deleted", ids.len(), error.error_type),
            );
            return;
        }
        Ok(response) if source.report_batch_item_failures => match reported_failures(response, &ids) {
            Ok(failed) => failed,
            Err(reason) => {
                log(
                    function,
                    source,
                    format!("{} records, invalid batchItemFailures ({reason}): nothing deleted", ids.len()),
                );
                return;
            }
        },
        Ok(_) => HashSet::new(),
    };
    let done: Vec<&Message> = batch.iter().filter(|m| !failed.contains(m.message_id().unwrap_or_default())).collect();
    let mut reported: Vec<&String> = failed.iter().collect();
    reported.sort();
    log(
        function,
        source,
        format!("{} records, {} reported failed {:?}, {} deleted", ids.len(), failed.len(), reported, done.len()),
    );
    for chunk in done.chunks(10) {
        let entries: Vec<DeleteMessageBatchRequestEntry> = chunk
            .iter()
            .enumerate()
            .filter_map(|(i, m)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(m.receipt_handle()?)
                    .build()
                    .ok()
            })
            .collect();
        if let Err(error) = clients.sqs.delete_message_batch().queue_url(url).set_entries(Some(entries)).send().await {
            tracing::warn!(queue = url, error = %detail(&error), "DeleteMessageBatch failed; the messages will be delivered again");
        }
    }
}

fn log(function: &FunctionRuntime, source: &SqsSource, line: String) {
    function.log(format!("ESM {} ({}): {line}", source.name, source.queue_arn.rsplit(':').next().unwrap_or_default()));
}

/// The ids a `ReportBatchItemFailures` response names; an error (the whole batch fails) if the response is not
/// of that shape or names an id that is empty or not in the batch.
pub fn reported_failures(response: &Value, batch_ids: &[&str]) -> Result<HashSet<String>, String> {
    let failures = match response {
        Value::Null => return Ok(HashSet::new()),
        Value::Object(map) => match map.get("batchItemFailures") {
            None | Some(Value::Null) => return Ok(HashSet::new()),
            Some(Value::Array(items)) => items,
            Some(_) => return Err("batchItemFailures is not a list".into()),
        },
        _ => return Err("the response is not an object".into()),
    };
    let mut ids = HashSet::new();
    for item in failures {
        match item.get("itemIdentifier").and_then(Value::as_str) {
            Some(id) if !id.is_empty() && batch_ids.contains(&id) => {
                ids.insert(id.to_owned());
            }
            Some("") | None => return Err("an itemIdentifier is empty or missing".into()),
            Some(id) => return Err(format!("itemIdentifier {id} is not in the batch")),
        }
    }
    Ok(ids)
}

/// One SQS record, as Lambda builds it.
pub fn record(message: &Message, queue_arn: &str, region: &str) -> Value {
    let attributes: Map<String, Value> = message
        .attributes()
        .map(|a| a.iter().map(|(k, v)| (k.as_str().to_owned(), Value::String(v.clone()))).collect())
        .unwrap_or_default();
    let message_attributes: Map<String, Value> = message
        .message_attributes()
        .map(|a| {
            a.iter()
                .map(|(name, value)| {
                    let encode = |b: &aws_sdk_sqs::primitives::Blob| {
                        base64::engine::general_purpose::STANDARD.encode(b.as_ref())
                    };
                    let mut attribute = json!({
                        "stringListValues": value.string_list_values(),
                        "binaryListValues": value.binary_list_values().iter().map(encode).collect::<Vec<_>>(),
                        "dataType": value.data_type(),
                    });
                    if let Some(s) = value.string_value() {
                        attribute["stringValue"] = Value::String(s.to_owned());
                    }
                    if let Some(b) = value.binary_value() {
                        attribute["binaryValue"] = Value::String(encode(b));
                    }
                    (name.clone(), attribute)
                })
                .collect()
        })
        .unwrap_or_default();
    let mut record = json!({
        "messageId": message.message_id(),
        "receiptHandle": message.receipt_handle(),
        "body": message.body().unwrap_or_default(),
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message.md5_of_body(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    });
    if let Some(md5) = message.md5_of_message_attributes() {
        record["md5OfMessageAttributes"] = Value::String(md5.to_owned());
    }
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_reported_ids_fail_and_nothing_reported_means_success() {
        let ids = ["a", "b", "c"];
        let failed = reported_failures(&json!({"batchItemFailures": [{"itemIdentifier": "b"}]}), &ids).unwrap();
        assert_eq!(failed, HashSet::from(["b".to_owned()]));
        assert!(reported_failures(&json!({"batchItemFailures": []}), &ids).unwrap().is_empty());
        assert!(reported_failures(&Value::Null, &ids).unwrap().is_empty());
    }

    #[test]
    fn an_empty_or_unknown_identifier_fails_the_whole_batch() {
        let ids = ["a"];
        assert!(reported_failures(&json!({"batchItemFailures": [{"itemIdentifier": ""}]}), &ids).is_err());
        assert!(reported_failures(&json!({"batchItemFailures": [{"itemIdentifier": "zzz"}]}), &ids).is_err());
        assert!(reported_failures(&json!({"batchItemFailures": [{}]}), &ids).is_err());
    }
}
