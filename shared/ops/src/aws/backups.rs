//! DynamoDB on-demand backups, exports to S3, and restores into scratch tables.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, BackupTypeFilter, ExportFormat, ExportStatus, Select, TableStatus};

use super::{AwsError, to_chrono};
use crate::backup::BackupInfo;

/// What became of an export request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportOutcome {
    /// The export is running (it finishes asynchronously); its ARN.
    Started(String),
    /// The platform does not implement exports (a local emulator); the service's answer.
    Unsupported(String),
    /// The table has no point-in-time recovery, which exports read from.
    NoPointInTimeRecovery,
}

/// A table's status, or that it does not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableState {
    Missing,
    Active,
    /// Creating, restoring, updating or deleting.
    Busy(String),
}

/// Backups and restores of DynamoDB tables.
#[derive(Debug, Clone)]
pub struct Backups {
    client: Client,
}

impl Backups {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// The user-made backups of `table` that are available.
    pub async fn list(&self, table: &str) -> Result<Vec<BackupInfo>, AwsError> {
        let mut out = Vec::new();
        let mut start: Option<String> = None;
        loop {
            let page = self
                .client
                .list_backups()
                .table_name(table)
                .backup_type(BackupTypeFilter::User)
                .set_exclusive_start_backup_arn(start.take())
                .send()
                .await
                .map_err(AwsError::sdk("dynamodb:ListBackups"))?;
            for summary in page.backup_summaries() {
                let (Some(arn), Some(name), Some(created)) =
                    (summary.backup_arn(), summary.backup_name(), summary.backup_creation_date_time())
                else {
                    continue;
                };
                if summary.backup_status().is_some_and(|s| s.as_str() == "DELETED") {
                    continue;
                }
                out.push(BackupInfo {
                    arn: arn.to_owned(),
                    name: name.to_owned(),
                    table: table.to_owned(),
                    created: to_chrono(created),
                });
            }
            match page.last_evaluated_backup_arn {
                Some(last) if !last.is_empty() => start = Some(last),
                _ => break,
            }
        }
        Ok(out)
    }

    /// Makes an on-demand backup of `table` named `name`.
    pub async fn create(&self, table: &str, name: &str) -> Result<BackupInfo, AwsError> {
        let created = self
            .client
            .create_backup()
            .table_name(table)
            .backup_name(name)
            .send()
            .await
            .map_err(AwsError::sdk("dynamodb:CreateBackup"))?;
        let details =
            created.backup_details().ok_or_else(|| AwsError::malformed("dynamodb:CreateBackup", "details"))?;
        Ok(BackupInfo {
            arn: details.backup_arn().to_owned(),
            name: details.backup_name().to_owned(),
            table: table.to_owned(),
            created: to_chrono(details.backup_creation_date_time()),
        })
    }

    /// Deletes a backup; one already gone counts as deleted.
    pub async fn delete(&self, arn: &str) -> Result<(), AwsError> {
        match self.client.delete_backup().backup_arn(arn).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_backup_not_found_exception()) => Ok(()),
            Err(e) => Err(AwsError::sdk("dynamodb:DeleteBackup")(e)),
        }
    }

    /// The item count DynamoDB recorded for the backup's source table.
    pub async fn recorded_items(&self, arn: &str) -> Result<Option<i64>, AwsError> {
        let described = self
            .client
            .describe_backup()
            .backup_arn(arn)
            .send()
            .await
            .map_err(AwsError::sdk("dynamodb:DescribeBackup"))?;
        Ok(described.backup_description().and_then(|d| d.source_table_details()).and_then(|s| s.item_count()))
    }

    /// Starts restoring `backup` into `target`; a target that already exists (a resumed drill) is left as it is.
    pub async fn restore(&self, backup: &str, target: &str) -> Result<(), AwsError> {
        let result = self.client.restore_table_from_backup().backup_arn(backup).target_table_name(target).send().await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_table_already_exists_exception()) => Ok(()),
            Err(e) => Err(AwsError::sdk("dynamodb:RestoreTableFromBackup")(e)),
        }
    }

    /// Where a table is in its life.
    pub async fn state(&self, table: &str) -> Result<TableState, AwsError> {
        match self.client.describe_table().table_name(table).send().await {
            Ok(described) => Ok(match described.table().and_then(|t| t.table_status()) {
                Some(TableStatus::Active) => TableState::Active,
                Some(other) => TableState::Busy(other.as_str().to_owned()),
                None => TableState::Busy("UNKNOWN".into()),
            }),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => {
                Ok(TableState::Missing)
            }
            Err(e) => Err(AwsError::sdk("dynamodb:DescribeTable")(e)),
        }
    }

    /// Counts a table's items exactly (a `COUNT` scan, consistent reads).
    pub async fn count(&self, table: &str) -> Result<i64, AwsError> {
        let mut total = 0_i64;
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(table)
                .select(Select::Count)
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(AwsError::sdk("dynamodb:Scan"))?;
            total += i64::from(page.count());
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        Ok(total)
    }

    /// Up to `limit` items of a table (a drill's decryption sample).
    pub async fn sample(&self, table: &str, limit: i32) -> Result<Vec<HashMap<String, AttributeValue>>, AwsError> {
        let page =
            self.client.scan().table_name(table).limit(limit).send().await.map_err(AwsError::sdk("dynamodb:Scan"))?;
        Ok(page.items.unwrap_or_default())
    }

    /// Deletes a (scratch) table; one already gone counts as deleted.
    pub async fn delete_table(&self, table: &str) -> Result<(), AwsError> {
        match self.client.delete_table().table_name(table).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => Ok(()),
            Err(e) => Err(AwsError::sdk("dynamodb:DeleteTable")(e)),
        }
    }

    /// Starts a point-in-time export of `table_arn` to `s3://bucket/prefix`, or reports that the platform has none.
    ///
    /// `client_token` makes a retried request the same export (DynamoDB keeps tokens for 8 hours).
    pub async fn export(
        &self,
        table_arn: &str,
        bucket: &str,
        prefix: &str,
        client_token: &str,
    ) -> Result<ExportOutcome, AwsError> {
        let result = self
            .client
            .export_table_to_point_in_time()
            .table_arn(table_arn)
            .s3_bucket(bucket)
            .s3_prefix(prefix)
            .export_format(ExportFormat::DynamodbJson)
            .client_token(client_token)
            .send()
            .await;
        match result {
            Ok(started) => started
                .export_description()
                .and_then(|d| d.export_arn())
                .map(|arn| ExportOutcome::Started(arn.to_owned()))
                .ok_or_else(|| AwsError::malformed("dynamodb:ExportTableToPointInTime", "export ARN")),
            Err(error) => {
                let error = AwsError::sdk("dynamodb:ExportTableToPointInTime")(error);
                if error.is("PointInTimeRecoveryUnavailableException") {
                    Ok(ExportOutcome::NoPointInTimeRecovery)
                } else if is_unimplemented(&error) {
                    Ok(ExportOutcome::Unsupported(error.code.clone().unwrap_or_else(|| "no error code".into())))
                } else {
                    Err(error)
                }
            }
        }
    }

    /// The status of an export started earlier (`COMPLETED`, `IN_PROGRESS`, `FAILED`).
    pub async fn export_status(&self, export_arn: &str) -> Result<Option<ExportStatus>, AwsError> {
        let described = self
            .client
            .describe_export()
            .export_arn(export_arn)
            .send()
            .await
            .map_err(AwsError::sdk("dynamodb:DescribeExport"))?;
        Ok(described.export_description().and_then(|d| d.export_status()).cloned())
    }
}

/// Whether an error says the operation does not exist on this endpoint (what emulators answer for APIs they lack),
/// as opposed to a real failure of a real export.
fn is_unimplemented(error: &AwsError) -> bool {
    matches!(
        error.code.as_deref(),
        Some("UnknownOperationException" | "NotImplemented" | "NotImplementedException" | "InvalidAction")
    )
}

#[cfg(test)]
mod tests {
    use medvault_platform::Failure;

    use super::*;

    fn error(code: &str) -> AwsError {
        AwsError {
            operation: "dynamodb:ExportTableToPointInTime",
            code: Some(code.into()),
            failure: Failure::Permanent,
            source: "x".into(),
        }
    }

    #[test]
    fn only_an_unknown_operation_counts_as_unsupported_never_a_real_failure() {
        assert!(is_unimplemented(&error("UnknownOperationException")));
        assert!(is_unimplemented(&error("NotImplemented")));
        assert!(!is_unimplemented(&error("InternalServerError")));
        assert!(!is_unimplemented(&error("LimitExceededException")));
    }
}
