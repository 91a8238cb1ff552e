//! What the stages send: the next stage's job to its queue, and the completion event on EventBridge.

use std::collections::BTreeMap;

use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use medvault_records::model::{DocumentId, DocumentStatus, PatientId};
use serde::Serialize;

use crate::error::PipelineError;
use crate::job::Job;

/// The completion event's `source`.
pub const EVENT_SOURCE: &str = "medvault.pipeline";
/// The completion event's `detail-type`.
pub const EVENT_DETAIL_TYPE: &str = "Document Processed";

/// The detail of the event that announces a document reached `ready`, `quarantined` or `failed`. Identifiers,
/// the state, a reason without content and entity counts: nothing a consumer could read PHI from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Completion {
    pub document_id: DocumentId,
    pub patient_id: PatientId,
    pub status: DocumentStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entities: Option<BTreeMap<String, u64>>,
}

/// Sends jobs and events.
#[derive(Debug, Clone)]
pub struct Notifier {
    sqs: aws_sdk_sqs::Client,
    events: aws_sdk_eventbridge::Client,
    bus: String,
}

impl Notifier {
    pub fn new(sqs: aws_sdk_sqs::Client, events: aws_sdk_eventbridge::Client, bus: impl Into<String>) -> Self {
        Self { sqs, events, bus: bus.into() }
    }

    /// Queues `job` for the next stage.
    pub async fn send(&self, queue_url: &str, job: &Job) -> Result<(), PipelineError> {
        let body = serde_json::to_string(job).map_err(|e| PipelineError::Unreadable(Box::new(e)))?;
        self.sqs.send_message().queue_url(queue_url).message_body(body).send().await.map_err(PipelineError::sdk)?;
        Ok(())
    }

    /// Announces that a document reached a final state.
    pub async fn completed(&self, completion: &Completion) -> Result<(), PipelineError> {
        let detail = serde_json::to_string(completion).map_err(|e| PipelineError::Unreadable(Box::new(e)))?;
        let entry = PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(EVENT_SOURCE)
            .detail_type(EVENT_DETAIL_TYPE)
            .resources(format!("medvault:document:{}", completion.document_id))
            .detail(detail)
            .build();
        let output = self.events.put_events().entries(entry).send().await.map_err(PipelineError::sdk)?;
        if output.failed_entry_count() > 0 {
            let code = output.entries().first().and_then(|e| e.error_code()).unwrap_or("unknown").to_owned();
            return Err(PipelineError::Unavailable(format!("EventBridge did not take the event ({code})").into()));
        }
        tracing::info!(document = %completion.document_id, status = completion.status.as_str(), "completion announced");
        Ok(())
    }
}
