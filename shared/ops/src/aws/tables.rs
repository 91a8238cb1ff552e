//! The stack's DynamoDB tables, listed from the account rather than from a list kept beside the template (see
//! [`crate::backup`] for how a table is recognised as the stack's).

use aws_sdk_dynamodb::Client;

use super::AwsError;
use crate::backup::{excluded_from_backup, is_stack_table, tags_allow};

/// A table of the stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackTable {
    pub name: String,
    pub arn: String,
    /// Its tags (key, value).
    pub tags: Vec<(String, String)>,
}

impl StackTable {
    /// Whether its tags keep it out of backups (see [`crate::backup::BACKUP_TAG`]).
    pub fn excluded_from_backup(&self) -> bool {
        excluded_from_backup(self.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }
}

/// Every table of `stack`, by name, in name order.
pub async fn stack_tables(client: &Client, stack: &str) -> Result<Vec<StackTable>, AwsError> {
    let mut names = Vec::new();
    let mut start: Option<String> = None;
    loop {
        let page = client
            .list_tables()
            .set_exclusive_start_table_name(start.take())
            .send()
            .await
            .map_err(AwsError::sdk("dynamodb:ListTables"))?;
        names.extend(page.table_names().iter().filter(|n| is_stack_table(stack, n)).cloned());
        match page.last_evaluated_table_name {
            Some(last) => start = Some(last),
            None => break,
        }
    }
    let mut tables = Vec::new();
    for name in names {
        let described = client.describe_table().table_name(&name).send().await;
        let described = match described {
            Ok(d) => d,
            // Dropped between the listing and now (a drill cleaning up, an operator): not ours to back up.
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => continue,
            Err(e) => return Err(AwsError::sdk("dynamodb:DescribeTable")(e)),
        };
        let arn = described
            .table()
            .and_then(|t| t.table_arn())
            .ok_or_else(|| AwsError::malformed("dynamodb:DescribeTable", "table ARN"))?
            .to_owned();
        let tags = client
            .list_tags_of_resource()
            .resource_arn(&arn)
            .send()
            .await
            .map_err(AwsError::sdk("dynamodb:ListTagsOfResource"))?;
        let tags: Vec<(String, String)> =
            tags.tags().iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect();
        if tags_allow(stack, tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
            tables.push(StackTable { name, arn, tags });
        }
    }
    Ok(tables)
}
