//! SQS partial batch failures: run each message in its own span, report only the ids of those that failed.
//!
//! Lambda's contract: an empty `batchItemFailures` deletes the whole batch; a listed id returns to the queue (and
//! reaches the DLQ after maxReceiveCount); an empty or unknown id fails the whole batch. So a message without an id
//! fails the invocation before anything runs: nothing is processed twice by accident and nothing is lost.
//! On a FIFO queue, processing stops at the first failure and every later message is reported too, so that order
//! is kept.

use std::future::Future;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use tracing::Instrument;

use crate::error::{Failure, WorkerError};
use crate::metrics::{self, Unit};

/// Why a batch could not be handled message by message.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("SQS record {index} has no message id; failing the whole batch so it is retried intact")]
    MissingMessageId { index: usize },
}

impl From<BatchError> for lambda_runtime::Diagnostic {
    fn from(error: BatchError) -> Self {
        lambda_runtime::Diagnostic { error_type: "BatchError".to_owned(), error_message: error.to_string() }
    }
}

/// Runs `handler` on every message and reports the ids of those that failed.
pub async fn process_sqs_batch<F, Fut>(event: SqsEvent, handler: F) -> Result<SqsBatchResponse, BatchError>
where
    F: Fn(SqsMessage) -> Fut,
    Fut: Future<Output = Result<(), WorkerError>>,
{
    if let Some(index) = event.records.iter().position(|m| m.message_id.as_deref().is_none_or(str::is_empty)) {
        return Err(BatchError::MissingMessageId { index });
    }
    let fifo =
        event.records.first().and_then(|m| m.event_source_arn.as_deref()).is_some_and(|arn| arn.ends_with(".fifo"));

    let mut response = SqsBatchResponse::default();
    let mut halted = false;
    for message in event.records {
        let id = message.message_id.clone().unwrap_or_default();
        if halted {
            response.batch_item_failures.push(failure(id));
            continue;
        }
        let receive_count = message.attributes.get("ApproximateReceiveCount").cloned().unwrap_or_default();
        let span = tracing::info_span!("sqs_message", message_id = %id, receive_count = %receive_count);
        let outcome = handler(message).instrument(span.clone()).await;
        let _entered = span.enter();
        match outcome {
            Ok(()) => metrics::record("MessagesProcessed", Unit::Count, 1.0),
            Err(error) => {
                let class = match error.failure() {
                    Failure::Retryable => "retryable",
                    Failure::Permanent => "permanent",
                };
                tracing::error!(failure = class, error = %crate::error::chain(&error), "message failed");
                metrics::record("MessagesFailed", Unit::Count, 1.0);
                response.batch_item_failures.push(failure(id));
                halted = fifo;
            }
        }
    }
    Ok(response)
}

fn failure(id: String) -> BatchItemFailure {
    let mut item = BatchItemFailure::default();
    item.item_identifier = id;
    item
}

/// Parses a message's JSON body; a missing or malformed body is a permanent failure.
pub fn json_body<T: serde::de::DeserializeOwned>(message: &SqsMessage) -> Result<T, WorkerError> {
    let body = message.body.as_deref().ok_or_else(|| WorkerError::permanent("message has no body"))?;
    serde_json::from_str(body).map_err(WorkerError::permanent)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    fn event(arn: &str, bodies: &[(&str, &str)]) -> SqsEvent {
        let records: Vec<serde_json::Value> = bodies
            .iter()
            .map(|(id, body)| serde_json::json!({"messageId": id, "body": body, "eventSourceARN": arn, "attributes": {"ApproximateReceiveCount": "1"}}))
            .collect();
        serde_json::from_value(serde_json::json!({ "Records": records })).unwrap()
    }

    fn ids(response: &SqsBatchResponse) -> Vec<&str> {
        response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect()
    }

    async fn handle(message: SqsMessage, seen: &Mutex<Vec<String>>) -> Result<(), WorkerError> {
        let body: serde_json::Value = json_body(&message)?;
        seen.lock().unwrap().push(message.message_id.unwrap());
        if body["fail"] == true { Err(WorkerError::retryable("asked to fail")) } else { Ok(()) }
    }

    #[tokio::test]
    async fn reports_only_the_failed_and_malformed_ids() {
        let seen = Mutex::new(Vec::new());
        let batch = event(
            "arn:aws:sqs:us-east-1:1:q",
            &[("a", "{}"), ("b", "not json"), ("c", r#"{"fail":true}"#), ("d", "{}")],
        );
        let response = process_sqs_batch(batch, |m| handle(m, &seen)).await.unwrap();
        assert_eq!(ids(&response), ["b", "c"]);
        assert_eq!(*seen.lock().unwrap(), ["a", "c", "d"]);
    }

    #[tokio::test]
    async fn all_good_reports_nothing() {
        let seen = Mutex::new(Vec::new());
        let response = process_sqs_batch(event("arn:q", &[("a", "{}")]), |m| handle(m, &seen)).await.unwrap();
        assert!(response.batch_item_failures.is_empty());
        assert_eq!(serde_json::to_value(&response).unwrap(), serde_json::json!({"batchItemFailures": []}));
    }

    #[tokio::test]
    async fn fifo_stops_at_the_first_failure_and_reports_the_rest() {
        let seen = Mutex::new(Vec::new());
        let batch = event("arn:aws:sqs:us-east-1:1:q.fifo", &[("a", "{}"), ("b", r#"{"fail":true}"#), ("c", "{}")]);
        let response = process_sqs_batch(batch, |m| handle(m, &seen)).await.unwrap();
        assert_eq!(ids(&response), ["b", "c"]);
        assert_eq!(*seen.lock().unwrap(), ["a", "b"]);
    }

    #[tokio::test]
    async fn a_message_without_id_fails_the_batch_before_anything_runs() {
        let seen = Mutex::new(Vec::new());
        let batch: SqsEvent =
            serde_json::from_value(serde_json::json!({"Records": [{"messageId": "a", "body": "{}"}, {"body": "{}"}]}))
                .unwrap();
        let error = process_sqs_batch(batch, |m| handle(m, &seen)).await.unwrap_err();
        assert!(matches!(error, BatchError::MissingMessageId { index: 1 }));
        assert!(seen.lock().unwrap().is_empty());
    }
}
