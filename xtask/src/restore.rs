//! `cargo xtask restore`: restores a table of the running dev stack from one of its backups into a new table, by
//! hand (what the weekly restore drill does automatically). It runs the operators' `medvault backup` command
//! against the dev stack's emulator, so a deployed stack is restored with the same command (see
//! functions/backup-job/RUNBOOK.md).

use std::collections::BTreeMap;
use std::process::Command;

use anyhow::{Context, bail};
use local_stack::control::DevStack;
use serde_json::Value;

use crate::workspace;

/// Options of `cargo xtask restore`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The table: its logical id in template.yaml (`RecordsTable`) or its physical name.
    table: Option<String>,
    /// The backup to restore (an ARN from `--list`); default the table's newest.
    #[arg(long)]
    backup: Option<String>,
    /// The new table's name; default `restored-<Unix time>-<table>` (outside the stack's `<stack>-` names, so the
    /// scheduled jobs do not take the copy for one of the stack's tables).
    #[arg(long)]
    target: Option<String>,
    /// List the stack's tables and their backups instead.
    #[arg(long)]
    list: bool,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let state_file = workspace::root().join(".local/dev-stack.json");
    if DevStack::connect(&state_file).await.is_none() {
        bail!("no dev stack is running: start `cargo xtask dev` first (restore works on its tables)");
    }
    let text = std::fs::read_to_string(&state_file).with_context(|| format!("reading {}", state_file.display()))?;
    let state: Value = serde_json::from_str(&text).with_context(|| format!("{} is not JSON", state_file.display()))?;
    let tables = tables(&state);

    workspace::run(workspace::cargo().args(["build", "--quiet", "-p", "medvault-ops", "--bin", "medvault"]))?;
    let medvault = || {
        let mut command = Command::new(workspace::target_dir().join("debug").join("medvault"));
        command
            .env("AWS_ENDPOINT_URL", state["endpoint_url"].as_str().unwrap_or_default())
            .env("AWS_REGION", state["region"].as_str().unwrap_or("us-east-1"))
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("MEDVAULT_S3_FORCE_PATH_STYLE", "true");
        command
    };

    if args.list {
        for (logical, physical) in &tables {
            println!("{logical} ({physical}):");
            workspace::run(medvault().args(["backup", "list", "--table", physical]))?;
        }
        return Ok(());
    }
    let Some(wanted) = args.table else {
        let names: Vec<&str> = tables.keys().map(String::as_str).collect();
        bail!("name a table to restore: one of {}", names.join(", "));
    };
    let physical = tables
        .get(&wanted)
        .cloned()
        .or_else(|| tables.values().find(|p| **p == wanted).cloned())
        .with_context(|| format!("the dev stack has no table {wanted}"))?;
    let target = args.target.unwrap_or_else(|| format!("restored-{}-{physical}", unix_now()));
    let mut command = medvault();
    command.args(["backup", "restore", "--table", &physical, "--target", &target]);
    if let Some(backup) = &args.backup {
        command.args(["--backup", backup]);
    }
    workspace::run(&mut command)
}

/// The dev stack's DynamoDB tables: logical id to physical name.
fn tables(state: &Value) -> BTreeMap<String, String> {
    state["resources"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, r)| r["type"] == "AWS::DynamoDB::Table")
        .filter_map(|(logical, r)| Some((logical.clone(), r["physical_id"].as_str()?.to_owned())))
        .collect()
}

/// Seconds since the Unix epoch: a unique, sortable suffix for the default target name.
fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_files_tables_are_listed_by_logical_id() {
        let state = serde_json::json!({"resources": {
            "RecordsTable": {"type": "AWS::DynamoDB::Table", "physical_id": "medvault-local-RecordsTable"},
            "UploadBucket": {"type": "AWS::S3::Bucket", "physical_id": "medvault-local-uploadbucket"}
        }});
        assert_eq!(
            tables(&state),
            BTreeMap::from([("RecordsTable".to_owned(), "medvault-local-RecordsTable".to_owned())])
        );
    }
}
