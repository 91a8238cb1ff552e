//! `medvault`: the operators' tool for audit exports and table restores.
//!
//! - `medvault audit verify <export> --public-key key.pem`: verifies an exported chain and its signed checkpoints
//!   offline, with only the signing key's public half (no AWS access, no trust in the running system).
//! - `medvault audit export --table <audit table> --bucket <checkpoint bucket> --out <dir>`: writes an export.
//! - `medvault audit public-key --key-id <key> [--out key.pem]`: the signing key's public half, as PEM.
//! - `medvault backup list --table <table>` and `medvault backup restore --table <table> --target <new table>`:
//!   list a table's backups and restore one (the newest by default) into a new table.
//!
//! The AWS commands use the standard credential chain and `AWS_ENDPOINT_URL` (the local stack's emulator).
//! Exit codes: 0 success, 1 an export that does not verify, 2 anything else (bad input, I/O, AWS).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use medvault_audit::DynamoDbAuditLog;
use medvault_ops::aws::backups::{Backups, TableState};
use medvault_ops::aws::checkpoints::{CheckpointStore, KmsSigner};
use medvault_ops::backup::latest;
use medvault_ops::checkpoint::SignedCheckpoint;
use medvault_ops::export::{ExportError, ExportWriter, verify_export};
use medvault_ops::public_key::PublicKey;
use medvault_platform::aws::{AwsClients, AwsSettings};
use medvault_platform::config::{EnvSource, FromEnv};

#[derive(Debug, Parser)]
#[command(
    name = "medvault",
    about = "medvault operators' tool: audit exports and their offline verification, table restores"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The audit chain: export it, verify an export offline, get the signing key's public half.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// DynamoDB backups: list a table's backups, restore one into a new table.
    Backup {
        #[command(subcommand)]
        command: BackupCommand,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Verifies an export (a directory written by `medvault audit export`) with only the public key.
    Verify {
        /// The export directory.
        export: PathBuf,
        /// The signing key's public half: PEM (`-----BEGIN PUBLIC KEY-----`) or DER SubjectPublicKeyInfo.
        #[arg(long)]
        public_key: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Exports the chain and every signed checkpoint to a new directory.
    Export {
        /// The audit table (physical name).
        #[arg(long)]
        table: String,
        /// The checkpoint bucket.
        #[arg(long)]
        bucket: String,
        /// The directory to write (created; must not hold an export).
        #[arg(long)]
        out: PathBuf,
        /// Export only the events after this checkpoint (a partial export, anchored by it).
        #[arg(long)]
        from_checkpoint: Option<u64>,
    },
    /// Writes the signing key's public half as PEM (to stdout, or a file).
    PublicKey {
        /// The KMS key: id, ARN or alias.
        #[arg(long)]
        key_id: String,
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum BackupCommand {
    /// Lists a table's backups, newest last.
    List {
        #[arg(long)]
        table: String,
    },
    /// Restores a backup of a table (the newest unless `--backup` names one) into a new table.
    Restore {
        /// The table whose backup to restore.
        #[arg(long)]
        table: String,
        /// The backup's ARN (default: the table's newest backup).
        #[arg(long)]
        backup: Option<String>,
        /// The new table's name (it must not exist).
        #[arg(long)]
        target: String,
        /// Return once the restore has started instead of waiting for the table to become active.
        #[arg(long)]
        no_wait: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("medvault: cannot start: {error}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("medvault: {error:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Audit { command: AuditCommand::Verify { export, public_key, json } } => {
            verify(&export, &public_key, json)
        }
        Command::Audit { command: AuditCommand::Export { table, bucket, out, from_checkpoint } } => {
            export(&table, &bucket, &out, from_checkpoint).await
        }
        Command::Audit { command: AuditCommand::PublicKey { key_id, out } } => public_key(&key_id, out).await,
        Command::Backup { command: BackupCommand::List { table } } => list(&table).await,
        Command::Backup { command: BackupCommand::Restore { table, backup, target, no_wait } } => {
            restore(&table, backup, &target, !no_wait).await
        }
    }
}

fn verify(export: &std::path::Path, key: &std::path::Path, json: bool) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(key).with_context(|| format!("reading the public key {}", key.display()))?;
    let key = PublicKey::from_pem_or_der(&bytes).context("the public key")?;
    match verify_export(export, &key) {
        Ok(report) => {
            if json {
                println!("{}", serde_json::to_string_pretty(&serde_json::json!({"verified": true, "report": report}))?);
            } else {
                println!(
                    "verified: events {}..{} ({}), {} signed checkpoints ({} reached by the events), signed through position {}, {} events after the last checkpoint",
                    report.first_seq,
                    report.last_seq,
                    report.events,
                    report.checkpoints,
                    report.checkpoints_matched,
                    report.signed_through,
                    report.unsigned_tail
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(error @ (ExportError::Chain(_) | ExportError::Checkpoint(_) | ExportError::NoCheckpoints)) => {
            if json {
                let detail = format!("{:#}", anyhow::Error::from(error));
                println!("{}", serde_json::to_string_pretty(&serde_json::json!({"verified": false, "error": detail}))?);
            } else {
                println!("NOT VERIFIED: {:#}", anyhow::Error::from(error));
            }
            Ok(ExitCode::from(1))
        }
        Err(other) => Err(anyhow::Error::from(other).context(format!("reading the export {}", export.display()))),
    }
}

async fn clients() -> anyhow::Result<AwsClients> {
    let settings = AwsSettings::from_env(&EnvSource::process()).context("MEDVAULT_S3_FORCE_PATH_STYLE")?;
    Ok(AwsClients::load(settings).await)
}

async fn export(table: &str, bucket: &str, out: &std::path::Path, from: Option<u64>) -> anyhow::Result<ExitCode> {
    let clients = clients().await?;
    // The retention is only used when writing checkpoints; exporting reads them.
    let store = CheckpointStore::new(clients.s3(), bucket, 0);
    let mut checkpoints: Vec<SignedCheckpoint> = Vec::new();
    for stored in store.all().await? {
        let checkpoint = stored
            .checkpoint
            .map_err(|detail| anyhow::anyhow!("checkpoint {} cannot be exported: {detail}", stored.number))?;
        checkpoints.push(checkpoint);
    }
    let after = match from {
        None => 0,
        Some(number) => checkpoints
            .iter()
            .find(|c| c.checkpoint.number == number)
            .map(|c| c.checkpoint.seq)
            .with_context(|| format!("no checkpoint {number} in s3://{bucket}"))?,
    };
    let key_id = checkpoints.last().map(|c| c.checkpoint.key_id.clone());
    let mut writer = ExportWriter::create(out, &checkpoints)?;
    let log = DynamoDbAuditLog::new(clients.dynamodb(), table);
    let mut position = after;
    let mut count = 0_u64;
    loop {
        let page = log.events_after(position, 1000).await.context("reading the audit table")?;
        let Some(last) = page.last() else { break };
        position = last.seq;
        for event in &page {
            writer.event(event)?;
            count += 1;
        }
    }
    writer.finish(key_id, checkpoints.len() as u64)?;
    println!(
        "exported {count} events (positions {}..{position}) and {} signed checkpoints to {}",
        after + 1,
        checkpoints.len(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

async fn public_key(key_id: &str, out: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let clients = clients().await?;
    let key = KmsSigner::new(clients.kms(), key_id).public_key().await?;
    match out {
        Some(path) => {
            std::fs::write(&path, key.to_pem()).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("wrote the public key of {key_id} to {}", path.display());
        }
        None => print!("{}", key.to_pem()),
    }
    Ok(ExitCode::SUCCESS)
}

async fn list(table: &str) -> anyhow::Result<ExitCode> {
    let backups = Backups::new(clients().await?.dynamodb());
    let mut listed = backups.list(table).await?;
    listed.sort_by_key(|b| b.created);
    for backup in &listed {
        println!("{}  {}  {}", backup.created.to_rfc3339(), backup.name, backup.arn);
    }
    if listed.is_empty() {
        eprintln!("{table} has no backups");
    }
    Ok(ExitCode::SUCCESS)
}

async fn restore(table: &str, backup: Option<String>, target: &str, wait: bool) -> anyhow::Result<ExitCode> {
    let backups = Backups::new(clients().await?.dynamodb());
    if backups.state(target).await? != TableState::Missing {
        bail!("{target} already exists: restore into a new table");
    }
    let arn = match backup {
        Some(arn) => arn,
        None => {
            let listed = backups.list(table).await?;
            latest(&listed).map(|b| b.arn.clone()).with_context(|| format!("{table} has no backup to restore"))?
        }
    };
    backups.restore(&arn, target).await?;
    eprintln!("restoring {arn} into {target}");
    if !wait {
        return Ok(ExitCode::SUCCESS);
    }
    loop {
        match backups.state(target).await? {
            TableState::Active => break,
            TableState::Missing => bail!("{target} disappeared while restoring"),
            TableState::Busy(status) => {
                eprintln!("{target}: {status}");
                tokio::time::sleep(Duration::from_secs(10)).await;
            }
        }
    }
    let items = backups.count(target).await?;
    let expected = backups.recorded_items(&arn).await?;
    println!(
        "restored {target}: {items} items (the backup recorded {})",
        expected.map_or_else(|| "no count".to_owned(), |n| n.to_string())
    );
    Ok(ExitCode::SUCCESS)
}
