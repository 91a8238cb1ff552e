//! The DynamoDB idempotency store: one item per key, claimed with a conditional put.

use std::collections::HashMap;
use std::time::SystemTime;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};

use super::{Claim, IdempotencyStore, Record, Status, unix};
use crate::error::BoxError;

const KEY: &str = "id";
const STATUS: &str = "status";
const EXPIRES_AT: &str = "expiration";
const IN_PROGRESS_EXPIRES_AT: &str = "in_progress_expiration";
const PAYLOAD_HASH: &str = "validation";
const DATA: &str = "data";

/// Records in a DynamoDB table whose partition key is `id` (string) and whose TTL attribute is `expiration`.
#[derive(Debug, Clone)]
pub struct DynamoDbStore {
    client: Client,
    table: String,
}

impl DynamoDbStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    fn item(record: &Record) -> HashMap<String, AttributeValue> {
        let mut item = HashMap::from([
            (KEY.to_owned(), AttributeValue::S(record.key.clone())),
            (STATUS.to_owned(), AttributeValue::S(record.status.as_str().to_owned())),
            (EXPIRES_AT.to_owned(), AttributeValue::N(record.expires_at.to_string())),
            (PAYLOAD_HASH.to_owned(), AttributeValue::S(record.payload_hash.clone())),
        ]);
        if let Some(at) = record.in_progress_expires_at_ms {
            item.insert(IN_PROGRESS_EXPIRES_AT.to_owned(), AttributeValue::N(at.to_string()));
        }
        if let Some(data) = &record.data {
            item.insert(DATA.to_owned(), AttributeValue::S(data.clone()));
        }
        item
    }

    fn record(item: &HashMap<String, AttributeValue>) -> Option<Record> {
        let s = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
        let n = |name: &str| item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<i64>().ok());
        Some(Record {
            key: s(KEY)?,
            status: match s(STATUS)?.as_str() {
                "COMPLETED" => Status::Completed,
                _ => Status::InProgress,
            },
            expires_at: n(EXPIRES_AT)?,
            in_progress_expires_at_ms: n(IN_PROGRESS_EXPIRES_AT),
            payload_hash: s(PAYLOAD_HASH).unwrap_or_default(),
            data: s(DATA),
        })
    }

    async fn read(&self, key: &str) -> Result<Option<Record>, BoxError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(KEY, AttributeValue::S(key.to_owned()))
            .consistent_read(true)
            .send()
            .await?;
        Ok(output.item.as_ref().and_then(Self::record))
    }
}

impl IdempotencyStore for DynamoDbStore {
    async fn claim(&self, record: &Record, now: SystemTime) -> Result<Claim, BoxError> {
        let (secs, millis) = unix(now);
        // The same rule as `Record::is_claimable`.
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Self::item(record)))
            .condition_expression(
                "attribute_not_exists(#id) OR #expiry < :now OR (#status = :in_progress AND #in_progress_expiry < :now_ms)",
            )
            .expression_attribute_names("#id", KEY)
            .expression_attribute_names("#expiry", EXPIRES_AT)
            .expression_attribute_names("#status", STATUS)
            .expression_attribute_names("#in_progress_expiry", IN_PROGRESS_EXPIRES_AT)
            .expression_attribute_values(":now", AttributeValue::N(secs.to_string()))
            .expression_attribute_values(":now_ms", AttributeValue::N(millis.to_string()))
            .expression_attribute_values(":in_progress", AttributeValue::S(Status::InProgress.as_str().to_owned()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Claim::Claimed),
            Err(error) => match error.as_service_error() {
                Some(service) if service.is_conditional_check_failed_exception() => {
                    let returned = match service {
                        aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(e) => {
                            e.item().and_then(Self::record)
                        }
                        _ => None,
                    };
                    // Not every DynamoDB implementation returns the old item; read it when it is missing.
                    let existing = match returned {
                        Some(record) => Some(record),
                        None => self.read(&record.key).await?,
                    };
                    Ok(Claim::Held(existing))
                }
                _ => Err(Box::new(error)),
            },
        }
    }

    async fn complete(&self, record: &Record) -> Result<(), BoxError> {
        self.client.put_item().table_name(&self.table).set_item(Some(Self::item(record))).send().await?;
        Ok(())
    }

    async fn release(&self, key: &str) -> Result<(), BoxError> {
        self.client.delete_item().table_name(&self.table).key(KEY, AttributeValue::S(key.to_owned())).send().await?;
        Ok(())
    }
}
