//! Publishing findings: to the security alert topic (SNS) and as events on EventBridge, so that people are paged
//! and other systems (a SIEM, a ticketing rule) can subscribe.

use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_sdk_sns::types::MessageAttributeValue;

use super::AwsError;
use crate::finding::{EVENT_SOURCE, FINDING_DETAIL_TYPE, Finding};

/// Where findings go.
#[derive(Debug, Clone)]
pub struct AlertPublisher {
    sns: aws_sdk_sns::Client,
    topic_arn: String,
    events: aws_sdk_eventbridge::Client,
    bus: String,
}

impl AlertPublisher {
    pub fn new(
        sns: aws_sdk_sns::Client,
        topic_arn: impl Into<String>,
        events: aws_sdk_eventbridge::Client,
        bus: impl Into<String>,
    ) -> Self {
        Self { sns, topic_arn: topic_arn.into(), events, bus: bus.into() }
    }

    /// Publishes `finding` to the topic and the event bus.
    pub async fn publish(&self, finding: &Finding) -> Result<(), AwsError> {
        let body = serde_json::to_string(finding).map_err(|e| AwsError {
            operation: "sns:Publish",
            code: None,
            failure: medvault_platform::Failure::Permanent,
            source: Box::new(e),
        })?;
        let attribute = |value: &str| {
            MessageAttributeValue::builder().data_type("String").string_value(value).build().map_err(|e| AwsError {
                operation: "sns:Publish",
                code: None,
                failure: medvault_platform::Failure::Permanent,
                source: Box::new(e),
            })
        };
        self.sns
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(format!("medvault {} alert: {}", severity_word(finding), finding.kind.as_str()))
            .message(&body)
            .message_attributes("kind", attribute(finding.kind.as_str())?)
            .message_attributes("severity", attribute(severity_word(finding))?)
            .send()
            .await
            .map_err(AwsError::sdk("sns:Publish"))?;
        let entry = PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(EVENT_SOURCE)
            .detail_type(FINDING_DETAIL_TYPE)
            .detail(&body)
            .build();
        let put = self.events.put_events().entries(entry).send().await.map_err(AwsError::sdk("events:PutEvents"))?;
        if put.failed_entry_count() > 0 {
            let code = put.entries().iter().find_map(|e| e.error_code()).map(str::to_owned);
            return Err(AwsError {
                operation: "events:PutEvents",
                failure: medvault_platform::Failure::Retryable,
                source: format!("EventBridge refused the event ({})", code.as_deref().unwrap_or("no code")).into(),
                code,
            });
        }
        Ok(())
    }
}

fn severity_word(finding: &Finding) -> &'static str {
    match finding.severity {
        crate::finding::Severity::Low => "low",
        crate::finding::Severity::Medium => "medium",
        crate::finding::Severity::High => "high",
        crate::finding::Severity::Critical => "critical",
    }
}
