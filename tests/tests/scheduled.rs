//! Scheduled operations on the local stack: daily backups and their retention, the weekly restore drill (restore,
//! count, decrypt, report, clean up), the hourly audit job (signed checkpoints in an Object Lock bucket, tampering
//! and truncation detected and alerted, detection rules on seeded traffic), the real-time stream consumer, and the
//! retention job. Every test runs its own stack; schedules are fired by hand.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{TimeZone, Utc};
use local_stack::{Invocation, LocalStack, StackOptions};
use medvault_audit::{AuditEvent, AuditLog, DynamoDbAuditLog, Outcome};
use medvault_crypto::{KeyContext, KeyWrapper, KmsKeyWrapper};
use medvault_ops::checkpoint::SignedCheckpoint;
use medvault_ops::finding::Finding;
use medvault_ops::public_key::PublicKey;
use medvault_platform::aws::{AwsClients, AwsSettings};
use medvault_records::store::{KEY_PURPOSE, PROFILE, Place};
use medvault_tests::{sdk_config, stack_with, unique};
use serde_json::{Value, json};

// ------------------------------------------------------------------ fixture

/// A stack with its SDK clients, an SQS queue subscribed to the security alert topic, and a queue receiving the
/// security events of an event bus of its own.
struct Ops {
    stack: LocalStack,
    clients: AwsClients,
    alerts_queue: String,
    events_queue: String,
}

impl Ops {
    async fn start(prefix: &str, env: &[(&str, &str)]) -> Self {
        let clients = AwsClients::new(sdk_config().await, AwsSettings { s3_force_path_style: true });
        // Findings go to the default bus in a deployment; each test gets a bus of its own so that parallel stacks'
        // events do not mix.
        let events = aws_sdk_eventbridge::Client::new(clients.sdk_config());
        let bus = unique("security");
        events.create_event_bus().name(&bus).send().await.unwrap();
        let mut options = StackOptions::for_tests(prefix);
        options.env_overrides.insert("MEDVAULT_EVENT_BUS".into(), bus.clone());
        for (name, value) in env {
            options.env_overrides.insert((*name).to_owned(), (*value).to_owned());
        }
        let stack = stack_with(options).await;
        let sqs = clients.sqs();
        let alerts_queue = sqs.create_queue().queue_name(unique("alerts")).send().await.unwrap().queue_url.unwrap();
        let alerts_arn = queue_arn(&sqs, &alerts_queue).await;
        let sns = aws_sdk_sns::Client::new(clients.sdk_config());
        let topic = stack.resource("SecurityAlertTopic").unwrap().physical_id.clone();
        sns.subscribe().topic_arn(&topic).protocol("sqs").endpoint(&alerts_arn).send().await.unwrap();

        let events_queue = sqs.create_queue().queue_name(unique("events")).send().await.unwrap().queue_url.unwrap();
        let events_arn = queue_arn(&sqs, &events_queue).await;
        let rule = unique("findings");
        events
            .put_rule()
            .name(&rule)
            .event_bus_name(&bus)
            .event_pattern(json!({"source": ["medvault.security"]}).to_string())
            .send()
            .await
            .unwrap();
        events
            .put_targets()
            .rule(&rule)
            .event_bus_name(&bus)
            .targets(aws_sdk_eventbridge::types::Target::builder().id("queue").arn(events_arn).build().unwrap())
            .send()
            .await
            .unwrap();
        Self { stack, clients, alerts_queue, events_queue }
    }

    fn physical(&self, logical_id: &str) -> String {
        self.stack.resource(logical_id).unwrap_or_else(|| panic!("no resource {logical_id}")).physical_id.clone()
    }

    fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        self.clients.dynamodb()
    }

    fn audit_log(&self) -> DynamoDbAuditLog {
        DynamoDbAuditLog::new(self.dynamodb(), self.physical("AuditTable"))
    }

    async fn append(&self, events: Vec<AuditEvent>) {
        let log = self.audit_log();
        for event in events {
            log.append(event).await.unwrap();
        }
    }

    /// Fires `function`'s (first) schedule and returns its result, failing the test if the function failed.
    async fn fire(&self, function: &str) -> Value {
        let invocation = self.stack.fire_schedule(function).await.unwrap();
        ok(function, &invocation, &self.stack.logs(function))
    }

    async fn invoke(&self, function: &str, event: Value) -> Invocation {
        self.stack.invoke(function, event).await.unwrap()
    }

    /// The findings published on the alert topic so far (waits up to `wait` for at least `at_least`).
    async fn alerts(&self, at_least: usize, wait: Duration) -> Vec<Finding> {
        drain(&self.clients.sqs(), &self.alerts_queue, at_least, wait, |body| {
            let envelope: Value = serde_json::from_str(body).ok()?;
            serde_json::from_str(envelope["Message"].as_str()?).ok()
        })
        .await
    }

    /// The findings published on EventBridge so far.
    async fn events(&self, at_least: usize, wait: Duration) -> Vec<Finding> {
        drain(&self.clients.sqs(), &self.events_queue, at_least, wait, |body| {
            let event: Value = serde_json::from_str(body).ok()?;
            (event["detail-type"] == "medvault.security.finding").then_some(())?;
            serde_json::from_value(event["detail"].clone()).ok()
        })
        .await
    }

    fn stack_name(&self) -> String {
        self.stack.function_env("BackupJobFunction").unwrap()["MEDVAULT_STACK_NAME"].clone()
    }

    /// This stack's drill scratch tables (other tests' stacks share the emulator).
    async fn scratch_tables(&self) -> Vec<String> {
        let prefix = format!("{}--drill-", self.stack_name());
        let listed = self.dynamodb().list_tables().send().await.unwrap();
        listed.table_names().iter().filter(|n| n.starts_with(&prefix)).cloned().collect()
    }
}

fn ok(function: &str, invocation: &Invocation, logs: &[String]) -> Value {
    match &invocation.result {
        Ok(value) => value.clone(),
        Err(error) => panic!("{function} failed: {error:?}\n{}", logs.join("\n")),
    }
}

async fn queue_arn(sqs: &aws_sdk_sqs::Client, url: &str) -> String {
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap();
    attributes.attributes().unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn].clone()
}

/// Receives and deletes messages until at least `at_least` parsed, then for one more short poll; at most `wait`.
async fn drain<T>(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
    at_least: usize,
    wait: Duration,
    parse: impl Fn(&str) -> Option<T>,
) -> Vec<T> {
    let started = Instant::now();
    let mut out = Vec::new();
    loop {
        let received =
            sqs.receive_message().queue_url(url).max_number_of_messages(10).wait_time_seconds(1).send().await.unwrap();
        let messages = received.messages.unwrap_or_default();
        for message in &messages {
            if let Some(parsed) = message.body().and_then(&parse) {
                out.push(parsed);
            }
            sqs.delete_message().queue_url(url).receipt_handle(message.receipt_handle().unwrap()).send().await.unwrap();
        }
        if (out.len() >= at_least && messages.is_empty()) || started.elapsed() > wait {
            return out;
        }
    }
}

fn kinds(findings: &[Finding]) -> Vec<&'static str> {
    let mut kinds: Vec<&'static str> = findings.iter().map(|f| f.kind.as_str()).collect();
    kinds.sort_unstable();
    kinds
}

/// Wednesday 2026-11-18 at 10:`minute`:`second` UTC: inside the default working hours.
fn weekday(minute: u32, second: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 18, 10, minute, second).unwrap()
}

fn read(actor: &str, patient: &str, minute: u32, second: u32) -> AuditEvent {
    AuditEvent::new(actor, "patient.read", Outcome::Allow)
        .with_roles(["clinician"])
        .with_patient(patient)
        .with_purpose("treatment")
        .at(weekday(minute, second))
}

/// A morning of ordinary traffic: sign-ins (one mistyped password), reads of a few patients, a note, a refresh.
fn normal_traffic() -> Vec<AuditEvent> {
    vec![
        AuditEvent::new("u-alice", "auth.login", Outcome::Success).with_source_ip("10.0.0.1").at(weekday(0, 0)),
        AuditEvent::new("u-bob", "auth.login", Outcome::Failure)
            .with_source_ip("10.0.0.2")
            .with_reason("bad-password")
            .at(weekday(1, 0)),
        AuditEvent::new("u-bob", "auth.login", Outcome::Success).with_source_ip("10.0.0.2").at(weekday(1, 20)),
        read("u-alice", "p-1", 2, 0),
        read("u-alice", "p-2", 3, 0),
        read("u-bob", "p-3", 4, 0),
        AuditEvent::new("u-alice", "note.create", Outcome::Success).with_patient("p-1").at(weekday(5, 0)),
        AuditEvent::new("u-alice", "auth.refresh", Outcome::Success).at(weekday(6, 0)),
        read("u-alice", "p-1", 7, 0),
        read("u-bob", "p-4", 8, 0),
    ]
}

// ------------------------------------------------------------------ backups

/// The patient-keys table carries the template's `medvault:backup=exclude` tag on the emulator too, so that the
/// backup job finds what to skip exactly as it would in AWS.
async fn assert_keys_table_is_tagged_like_the_template(ops: &Ops) {
    let dynamodb = ops.dynamodb();
    let table = ops.physical("PatientKeysTable");
    let arn = dynamodb.describe_table().table_name(&table).send().await.unwrap().table.unwrap().table_arn.unwrap();
    let tags = dynamodb.list_tags_of_resource().resource_arn(&arn).send().await.unwrap();
    assert!(
        tags.tags().iter().any(|t| t.key() == "medvault:backup" && t.value() == "exclude"),
        "the local stack must apply the template's table tags: {:?}",
        tags.tags()
    );
}

/// The tables the template declares, by physical name.
fn template_tables(ops: &Ops) -> Vec<String> {
    let mut tables: Vec<String> = ops
        .stack
        .resources()
        .values()
        .filter(|r| r.kind == "AWS::DynamoDB::Table")
        .map(|r| r.physical_id.clone())
        .collect();
    tables.sort();
    tables
}

#[tokio::test]
async fn backup_job_backs_up_every_table_once_a_day_and_prunes_only_its_old_backups() {
    // Arrange: retention 0 days, so every earlier backup of the job is past it; one of the job's (by name) and one
    // made by hand exist already.
    let ops = Ops::start("ops-backup", &[("MEDVAULT_BACKUP_RETENTION_DAYS", "0")]).await;
    assert_keys_table_is_tagged_like_the_template(&ops).await;
    let dynamodb = ops.dynamodb();
    let records = ops.physical("RecordsTable");
    let old = dynamodb.create_backup().table_name(&records).backup_name("medvault-daily-2020-01-01").send().await;
    let old_arn = old.unwrap().backup_details.unwrap().backup_arn;
    dynamodb.create_backup().table_name(&records).backup_name("before-migration").send().await.unwrap();

    // Act
    let first = ops.fire("BackupJobFunction").await;
    let second = ops.fire("BackupJobFunction").await;

    // Assert: every table of the template except the patient-keys table, each backed up once.
    let keys = ops.physical("PatientKeysTable");
    let mut backed_up: Vec<String> =
        first["tables"].as_array().unwrap().iter().map(|t| t["table"].as_str().unwrap().to_owned()).collect();
    backed_up.sort();
    let expected: Vec<String> = template_tables(&ops).into_iter().filter(|t| *t != keys).collect();
    assert_eq!(backed_up, expected, "{first:#}");
    assert_eq!(first["excluded"], json!([keys]));
    assert!(first["tables"].as_array().unwrap().iter().all(|t| t["created"] == true && t["error"].is_null()));
    assert_eq!(second["replayed"], true, "{second:#}");
    assert_eq!(second["tables"], first["tables"]);

    let today = format!("medvault-daily-{}", Utc::now().format("%Y-%m-%d"));
    for table in &expected {
        let listed = dynamodb.list_backups().table_name(table).send().await.unwrap();
        let names: Vec<&str> = listed.backup_summaries().iter().filter_map(|b| b.backup_name()).collect();
        let todays = names.iter().filter(|n| **n == today).count();
        assert_eq!(todays, 1, "{table}: {names:?}");
    }
    let records_backups = dynamodb.list_backups().table_name(&records).send().await.unwrap();
    let arns: Vec<&str> = records_backups.backup_summaries().iter().filter_map(|b| b.backup_arn()).collect();
    assert!(!arns.contains(&old_arn.as_str()), "the job's backup past retention is pruned");
    let names: Vec<&str> = records_backups.backup_summaries().iter().filter_map(|b| b.backup_name()).collect();
    assert!(names.contains(&"before-migration"), "a backup the job did not make is never pruned: {names:?}");
    let records_outcome = first["tables"].as_array().unwrap().iter().find(|t| t["table"] == records.as_str()).unwrap();
    assert_eq!(records_outcome["pruned"], json!(["medvault-daily-2020-01-01"]));
    assert_eq!(dynamodb.list_backups().table_name(&keys).send().await.unwrap().backup_summaries().len(), 0);

    // Exports: started for real where the platform has them (the emulator writes the export's data file).
    let exports: Vec<&str> =
        first["tables"].as_array().unwrap().iter().map(|t| t["export"].as_str().unwrap()).collect();
    if exports.iter().all(|e| *e == "started") {
        let s3 = ops.clients.s3();
        let bucket = ops.physical("BackupBucket");
        let prefix = format!("exports/{records}/");
        let listed = s3.list_objects_v2().bucket(&bucket).prefix(&prefix).send().await.unwrap();
        assert!(listed.key_count().unwrap_or(0) > 0, "an export of {records} is in the backup bucket");
    } else {
        assert!(exports.iter().all(|e| e.starts_with("unsupported")), "{exports:?}");
    }
    ops.stack.shutdown().await;
}

/// Seeds a patient the way records-api stores one: a profile sealed under the patient's KMS data key, the wrapped
/// key in the keys table.
async fn seed_patient(ops: &Ops, name: &str) -> String {
    let patient = uuid::Uuid::now_v7().to_string();
    let tenant = ops.stack.function_env("RestoreDrillFunction").unwrap()["MEDVAULT_TENANT"].clone();
    let wrapper = KmsKeyWrapper::new(ops.clients.kms(), ops.physical("DataKey"));
    let (key, wrapped) = wrapper.generate(&KeyContext::new(&tenant, &patient, KEY_PURPOSE)).await.unwrap();
    let pk = format!("PATIENT#{patient}");
    let place = Place::records(&pk, PROFILE);
    let profile = HashMap::from([
        ("pk".to_owned(), AttributeValue::S(pk.clone())),
        ("sk".to_owned(), AttributeValue::S(PROFILE.to_owned())),
        ("status".to_owned(), AttributeValue::S("active".into())),
        ("name".to_owned(), place.seal_json(&key, "name", &json!({"given": [name], "family": "Roe"})).unwrap()),
        ("mrn".to_owned(), place.seal(&key, "mrn", format!("MRN-{name}").as_bytes()).unwrap()),
        ("birth_date".to_owned(), place.seal(&key, "birth_date", b"1970-01-01").unwrap()),
    ]);
    let dynamodb = ops.dynamodb();
    dynamodb.put_item().table_name(ops.physical("RecordsTable")).set_item(Some(profile)).send().await.unwrap();
    dynamodb
        .put_item()
        .table_name(ops.physical("PatientKeysTable"))
        .item("pk", AttributeValue::S(patient.clone()))
        .item("wrapped_key", AttributeValue::B(Blob::new(wrapped.0)))
        .item("tenant", AttributeValue::S(tenant))
        .send()
        .await
        .unwrap();
    patient
}

/// Marks a patient's profile erased (its identifying fields removed), as the records API's erasure does.
async fn mark_erased(ops: &Ops, patient: &str) {
    ops.dynamodb()
        .update_item()
        .table_name(ops.physical("RecordsTable"))
        .key("pk", AttributeValue::S(format!("PATIENT#{patient}")))
        .key("sk", AttributeValue::S(PROFILE.into()))
        .update_expression("SET #status = :erased REMOVE #name, mrn, birth_date")
        .expression_attribute_names("#status", "status")
        .expression_attribute_names("#name", "name")
        .expression_attribute_values(":erased", AttributeValue::S("erased".into()))
        .send()
        .await
        .unwrap();
}

async fn erase(ops: &Ops, patient: &str) {
    mark_erased(ops, patient).await;
    ops.dynamodb()
        .delete_item()
        .table_name(ops.physical("PatientKeysTable"))
        .key("pk", AttributeValue::S(patient.to_owned()))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_restore_drill_restores_counts_and_decrypts_the_newest_backups_then_cleans_up() {
    // Arrange: three patients, one of them erased (a tombstone, no key), backed up.
    let ops = Ops::start("ops-drill", &[]).await;
    assert_keys_table_is_tagged_like_the_template(&ops).await;
    for name in ["Ada", "Grace"] {
        seed_patient(&ops, name).await;
    }
    let erased = seed_patient(&ops, "Erased").await;
    erase(&ops, &erased).await;
    ops.fire("BackupJobFunction").await;

    // Act
    let first = ops.fire("RestoreDrillFunction").await;
    let second = ops.fire("RestoreDrillFunction").await;

    // Assert: every backed-up table restored with its item count, the records sample opened with the live keys.
    let report = &first["report"];
    assert_eq!(report["passed"], true, "{first:#}");
    let records = ops.physical("RecordsTable");
    let tables = report["tables"].as_array().unwrap();
    assert_eq!(tables.len(), template_tables(&ops).len() - 1, "every table but the keys table: {report:#}");
    let drill = tables.iter().find(|t| t["source_table"] == records.as_str()).unwrap();
    assert_eq!(drill["expected_items"], 3);
    assert_eq!(drill["restored_items"], 3);
    assert_eq!(drill["decrypt"], json!({"sampled": 3, "decrypted": 6, "shredded": 1, "failed": 0}), "{drill:#}");
    assert!(tables.iter().all(|t| t["scratch_deleted"] == true && t["restored_items"] == t["expected_items"]));
    assert!(ops.scratch_tables().await.is_empty(), "scratch tables are deleted");

    let s3 = ops.clients.s3();
    let key = first["report_key"].as_str().unwrap();
    let stored = s3.get_object().bucket(ops.physical("BackupBucket")).key(key).send().await.unwrap();
    let stored: Value = serde_json::from_slice(&stored.body.collect().await.unwrap().into_bytes()).unwrap();
    assert_eq!(&stored, report);
    assert_eq!(second["replayed"], true, "the week's drill runs once");
    ops.stack.shutdown().await;
}

#[tokio::test]
async fn a_restore_drill_that_cannot_decrypt_a_record_fails_and_says_so_in_its_report() {
    // Arrange: one patient's sealed name moved onto another patient before the backup.
    let ops = Ops::start("ops-drillfail", &[]).await;
    assert_keys_table_is_tagged_like_the_template(&ops).await;
    let a = seed_patient(&ops, "Ada").await;
    let b = seed_patient(&ops, "Grace").await;
    let dynamodb = ops.dynamodb();
    let records = ops.physical("RecordsTable");
    let item = |patient: &str| {
        dynamodb
            .get_item()
            .table_name(&records)
            .key("pk", AttributeValue::S(format!("PATIENT#{patient}")))
            .key("sk", AttributeValue::S(PROFILE.into()))
    };
    let stolen = item(&a).send().await.unwrap().item.unwrap()["name"].clone();
    dynamodb
        .update_item()
        .table_name(&records)
        .key("pk", AttributeValue::S(format!("PATIENT#{b}")))
        .key("sk", AttributeValue::S(PROFILE.into()))
        .update_expression("SET #name = :stolen")
        .expression_attribute_names("#name", "name")
        .expression_attribute_values(":stolen", stolen)
        .send()
        .await
        .unwrap();
    ops.fire("BackupJobFunction").await;

    // Act
    let invocation = ops.invoke("RestoreDrillFunction", json!({"task": "restore-drill"})).await;

    // Assert: the invocation fails (its alarm fires) and the report names the failure.
    let error = invocation.result.unwrap_err();
    assert_eq!(error.error_type, "RestoreDrillFailed", "{error:?}");
    let key = format!("drill-reports/{}/{}", ops.stack_name(), medvault_ops::backup::drill_id(Utc::now()));
    let stored =
        ops.clients.s3().get_object().bucket(ops.physical("BackupBucket")).key(format!("{key}.json")).send().await;
    let report: Value = serde_json::from_slice(&stored.unwrap().body.collect().await.unwrap().into_bytes()).unwrap();
    assert_eq!(report["passed"], false);
    let drill = report["tables"].as_array().unwrap().iter().find(|t| t["source_table"] == records.as_str()).unwrap();
    assert_eq!(drill["decrypt"]["failed"], 1, "{drill:#}");
    assert!(ops.scratch_tables().await.is_empty(), "scratch tables are deleted even when the drill fails");
    ops.stack.shutdown().await;
}

// ------------------------------------------------------------------ audit checkpoints

async fn checkpoints(ops: &Ops) -> Vec<(String, Option<String>)> {
    let listed = ops
        .clients
        .s3()
        .list_object_versions()
        .bucket(ops.physical("AuditCheckpointBucket"))
        .prefix("checkpoints/")
        .send()
        .await
        .unwrap();
    listed.versions().iter().map(|v| (v.key().unwrap().to_owned(), v.version_id().map(str::to_owned))).collect()
}

async fn public_key(ops: &Ops) -> PublicKey {
    let answer = ops.clients.kms().get_public_key().key_id(ops.physical("AuditSigningKey")).send().await.unwrap();
    PublicKey::from_der(answer.public_key().unwrap().as_ref()).unwrap()
}

async fn read_checkpoint(ops: &Ops, key: &str, version: Option<String>) -> SignedCheckpoint {
    let object = ops
        .clients
        .s3()
        .get_object()
        .bucket(ops.physical("AuditCheckpointBucket"))
        .key(key)
        .set_version_id(version)
        .send()
        .await
        .unwrap();
    serde_json::from_slice(&object.body.collect().await.unwrap().into_bytes()).unwrap()
}

#[tokio::test]
async fn audit_job_signs_one_checkpoint_per_new_stretch_of_the_chain_and_a_second_run_changes_nothing() {
    // Arrange
    let ops = Ops::start("ops-audit", &[]).await;
    ops.append(normal_traffic()).await;

    // Act
    let first = ops.fire("AuditJobFunction").await;
    let second = ops.fire("AuditJobFunction").await;

    // Assert: one checkpoint covering the ten events, signed by the KMS key, verifiable with its public half.
    assert_eq!(
        (first["status"].as_str(), first["to"].as_u64(), first["checkpoint"].as_u64()),
        (Some("checkpointed"), Some(10), Some(1)),
        "{first:#}"
    );
    assert_eq!(second["status"], "up-to-date", "{second:#}");
    let stored = checkpoints(&ops).await;
    assert_eq!(stored.len(), 1, "{stored:?}");
    let checkpoint = read_checkpoint(&ops, &stored[0].0, None).await;
    checkpoint.verify(&public_key(&ops).await).unwrap();
    let head = ops.audit_log().read_head().await.unwrap();
    assert_eq!((checkpoint.checkpoint.seq, checkpoint.checkpoint.head_hash), (head.seq, head.hash));
    assert!(ops.alerts(0, Duration::from_secs(2)).await.is_empty(), "normal traffic raises nothing");

    // More events: the next run verifies from the checkpoint and links the next one to it.
    ops.append(vec![read("u-alice", "p-2", 30, 0)]).await;
    let third = ops.fire("AuditJobFunction").await;
    assert_eq!(
        (third["from"].as_u64(), third["to"].as_u64(), third["checkpoint"].as_u64()),
        (Some(10), Some(11), Some(2))
    );
    let next = read_checkpoint(&ops, "checkpoints/00000000000000000002.json", None).await;
    assert_eq!(next.checkpoint.prev_signature.as_ref(), Some(&checkpoint.signature));
    ops.stack.shutdown().await;
}

#[tokio::test]
async fn a_checkpoint_cannot_be_deleted_or_overwritten_before_its_retention_ends() {
    // Arrange
    let ops = Ops::start("ops-lock", &[]).await;
    ops.append(normal_traffic()).await;
    ops.fire("AuditJobFunction").await;
    let s3 = ops.clients.s3();
    let bucket = ops.physical("AuditCheckpointBucket");
    let (key, version) = checkpoints(&ops).await.remove(0);
    let original = read_checkpoint(&ops, &key, version.clone()).await;

    // Act: delete the version, write over it, delete-mark it. (Shortening a compliance-mode retention is refused by
    // S3 too; the emulator does not enforce that, so it is not exercised here.)
    let deleted = s3.delete_object().bucket(&bucket).key(&key).set_version_id(version.clone()).send().await;
    let overwrite = s3.put_object().bucket(&bucket).key(&key).body(b"{\"forged\":true}".to_vec().into()).send().await;
    s3.delete_object().bucket(&bucket).key(&key).send().await.unwrap();

    // Assert: the locked version is still there, unchanged, locked in compliance mode for about seven years.
    assert!(deleted.is_err(), "deleting a locked version must be refused");
    if let Ok(written) = &overwrite {
        assert_ne!(
            written.version_id(),
            version.as_deref(),
            "a write makes a new version, never replaces the locked one"
        );
    }
    assert_eq!(read_checkpoint(&ops, &key, version.clone()).await, original);
    let head = s3.head_object().bucket(&bucket).key(&key).set_version_id(version).send().await.unwrap();
    assert_eq!(head.object_lock_mode(), Some(&aws_sdk_s3::types::ObjectLockMode::Compliance));
    let until = head.object_lock_retain_until_date().unwrap().secs();
    let years = (until - Utc::now().timestamp()) as f64 / (365.25 * 86_400.0);
    assert!((6.9..7.1).contains(&years), "retained for {years} years");

    // The job still finds the authentic checkpoint under the forged version and the delete marker.
    ops.append(vec![read("u-alice", "p-2", 30, 0)]).await;
    let next = ops.fire("AuditJobFunction").await;
    assert_eq!((next["status"].as_str(), next["checkpoint"].as_u64()), (Some("checkpointed"), Some(2)), "{next:#}");
    ops.stack.shutdown().await;
}

/// How the tests tamper with stored events (as someone with write access to the table would).
enum Tamper {
    Change(u64),
    Delete(u64),
    Swap(u64, u64),
    TruncateFrom(u64),
}

async fn tamper(ops: &Ops, how: Tamper) {
    let dynamodb = ops.dynamodb();
    let table = ops.physical("AuditTable");
    let key = |seq: u64| {
        HashMap::from([
            ("pk".to_owned(), AttributeValue::S("chain".into())),
            ("sk".to_owned(), AttributeValue::N(seq.to_string())),
        ])
    };
    let get = |seq: u64| {
        let dynamodb = dynamodb.clone();
        let table = table.clone();
        let key = key(seq);
        async move { dynamodb.get_item().table_name(table).set_key(Some(key)).send().await.unwrap().item.unwrap() }
    };
    match how {
        Tamper::Change(seq) => {
            dynamodb
                .update_item()
                .table_name(&table)
                .set_key(Some(key(seq)))
                .update_expression("SET #outcome = :allow")
                .expression_attribute_names("#outcome", "outcome")
                .expression_attribute_values(":allow", AttributeValue::S("deny".into()))
                .send()
                .await
                .unwrap();
        }
        Tamper::Delete(seq) => {
            dynamodb.delete_item().table_name(&table).set_key(Some(key(seq))).send().await.unwrap();
        }
        Tamper::Swap(a, b) => {
            let (mut first, mut second) = (get(a).await, get(b).await);
            first.insert("sk".into(), AttributeValue::N(b.to_string()));
            second.insert("sk".into(), AttributeValue::N(a.to_string()));
            dynamodb.put_item().table_name(&table).set_item(Some(second)).send().await.unwrap();
            dynamodb.put_item().table_name(&table).set_item(Some(first)).send().await.unwrap();
        }
        Tamper::TruncateFrom(seq) => {
            let head = ops.audit_log().read_head().await.unwrap().seq;
            for position in seq..=head {
                dynamodb.delete_item().table_name(&table).set_key(Some(key(position))).send().await.unwrap();
            }
        }
    }
}

/// Checkpoints ten events, appends five more, tampers, runs the hourly job: it must report the break and raise a
/// critical finding on the alert topic and EventBridge.
async fn assert_detected(prefix: &str, how: Tamper, code: &str, seq: u64) {
    // Arrange
    let ops = Ops::start(prefix, &[]).await;
    ops.append(normal_traffic()).await;
    assert_eq!(ops.fire("AuditJobFunction").await["checkpoint"], 1);
    ops.append((0..5).map(|i| read("u-bob", "p-3", 40 + i, 0)).collect()).await;
    tamper(&ops, how).await;

    // Act
    let run = ops.fire("AuditJobFunction").await;

    // Assert
    assert_eq!(
        (run["status"].as_str(), run["break_code"].as_str(), run["break_seq"].as_u64()),
        (Some("chain-broken"), Some(code), Some(seq)),
        "{run:#}"
    );
    assert_eq!(checkpoints(&ops).await.len(), 1, "nothing is signed over a broken chain");
    let alerts = ops.alerts(1, Duration::from_secs(10)).await;
    let broken: Vec<&Finding> = alerts.iter().filter(|f| f.kind.as_str() == "audit-chain-broken").collect();
    assert_eq!(broken.len(), 1, "{alerts:#?}");
    assert_eq!(broken[0].detail["code"], code);
    assert!(kinds(&ops.events(1, Duration::from_secs(10)).await).contains(&"audit-chain-broken"));

    // A second run reports the same break without publishing it again.
    let again = ops.fire("AuditJobFunction").await;
    assert_eq!((again["status"].as_str(), again["published"].as_u64()), (Some("chain-broken"), Some(0)));
    ops.stack.shutdown().await;
}

#[tokio::test]
async fn a_changed_audit_event_is_detected_and_alerted() {
    assert_detected("ops-changed", Tamper::Change(12), "altered", 12).await;
}

#[tokio::test]
async fn a_deleted_audit_event_is_detected_and_alerted() {
    assert_detected("ops-deleted", Tamper::Delete(12), "gap", 13).await;
}

#[tokio::test]
async fn reordered_audit_events_are_detected_and_alerted() {
    assert_detected("ops-reordered", Tamper::Swap(12, 13), "broken-link", 12).await;
}

#[tokio::test]
async fn a_truncated_audit_chain_is_detected_against_the_last_checkpoint_and_alerted() {
    // Events 8..15 removed: the checkpoint signed position 10, which is gone.
    assert_detected("ops-truncated", Tamper::TruncateFrom(8), "truncated", 9).await;
}

#[tokio::test]
async fn the_nightly_full_verification_catches_a_change_older_than_the_last_checkpoint() {
    // Arrange: ten events checkpointed, then one of them changed.
    let ops = Ops::start("ops-full", &[]).await;
    ops.append(normal_traffic()).await;
    ops.fire("AuditJobFunction").await;
    tamper(&ops, Tamper::Change(3)).await;

    // Act
    let hourly = ops.fire("AuditJobFunction").await;
    let full = ops.invoke("AuditJobFunction", json!({"task": "verify-full"})).await;

    // Assert: the hourly run checks only from the checkpoint on; the full pass finds the change.
    assert_eq!(hourly["status"], "up-to-date");
    let full = ok("AuditJobFunction", &full, &ops.stack.logs("AuditJobFunction"));
    assert_eq!(
        (full["status"].as_str(), full["break_code"].as_str(), full["break_seq"].as_u64()),
        (Some("chain-broken"), Some("altered"), Some(3)),
        "{full:#}"
    );
    let alerts = ops.alerts(1, Duration::from_secs(10)).await;
    assert!(kinds(&alerts).contains(&"audit-chain-broken"), "{alerts:#?}");
    ops.stack.shutdown().await;
}

// ------------------------------------------------------------------ detection rules

#[tokio::test]
async fn detection_rules_stay_quiet_on_normal_traffic_and_fire_on_bursts_break_glass_and_bulk_reads() {
    // Arrange: a normal morning, checked.
    let ops = Ops::start("ops-rules", &[]).await;
    ops.append(normal_traffic()).await;
    let quiet = ops.fire("AuditJobFunction").await;
    let quiet_alerts = ops.alerts(0, Duration::from_secs(2)).await;

    // Then bad traffic: six failed sign-ins for one account within a minute, a break-glass grant, one clinician
    // reading thirty patients.
    let mut bad: Vec<AuditEvent> = (0..6)
        .map(|i| {
            AuditEvent::new("u-carol", "auth.login", Outcome::Failure)
                .with_source_ip("203.0.113.9")
                .with_reason("bad-password")
                .at(weekday(20, i * 5))
        })
        .collect();
    bad.push(
        AuditEvent::new("u-dave", "breakglass.grant", Outcome::Success)
            .with_roles(["clinician"])
            .with_patient("p-77")
            .with_purpose("break-glass")
            .at(weekday(21, 0)),
    );
    bad.extend((0..30).map(|i| read("u-erin", &format!("p-{}", 100 + i), 22, i)));
    ops.append(bad).await;

    // Act
    let loud = ops.fire("AuditJobFunction").await;

    // Assert
    assert_eq!((quiet["findings"].as_u64(), quiet_alerts.len()), (Some(0), 0), "{quiet:#} {quiet_alerts:#?}");
    assert_eq!(loud["findings"], 3, "{loud:#}");
    let published: Vec<Finding> = ops.alerts(3, Duration::from_secs(10)).await;
    let from_job: Vec<&Finding> = published.iter().filter(|f| f.detector == "audit-job").collect();
    let mut found: Vec<(&str, &str)> = from_job.iter().map(|f| (f.kind.as_str(), f.subject.as_str())).collect();
    found.sort_unstable();
    assert_eq!(
        found,
        [
            ("break-glass", "actor:u-dave"),
            ("bulk-read", "actor:u-erin"),
            ("failed-login-burst-account", "actor:u-carol")
        ]
    );
    let on_bus = ops.events(3, Duration::from_secs(10)).await;
    assert!(["break-glass", "bulk-read", "failed-login-burst-account"].iter().all(|k| kinds(&on_bus).contains(k)));
    ops.stack.shutdown().await;
}

// ------------------------------------------------------------------ real time

#[tokio::test]
async fn a_break_glass_event_reaches_the_alert_topic_within_seconds_through_the_stream_consumer() {
    // Arrange
    let ops = Ops::start("ops-stream", &[]).await;
    ops.append(vec![read("u-alice", "p-1", 0, 0)]).await;

    // Act
    let appended = Instant::now();
    ops.append(vec![
        AuditEvent::new("u-dave", "breakglass.grant", Outcome::Success)
            .with_roles(["clinician"])
            .with_patient("p-77")
            .with_purpose("break-glass"),
    ])
    .await;
    let alerts = ops.alerts(1, Duration::from_secs(15)).await;
    let latency = appended.elapsed();

    // Assert: raised by the stream consumer, not the hourly job (which never ran).
    let glass: Vec<&Finding> = alerts.iter().filter(|f| f.kind.as_str() == "break-glass").collect();
    assert_eq!(glass.len(), 1, "{alerts:#?}");
    assert_eq!(
        (glass[0].detector.as_str(), glass[0].subject.as_str(), glass[0].detail["patient_id"].as_str()),
        ("security-alerts", "actor:u-dave", "p-77")
    );
    println!("break-glass alert received {latency:?} after the audit write");
    assert!(ops.stack.reports().iter().all(|r| r.function != "AuditJobFunction"));
    ops.stack.shutdown().await;
}

#[tokio::test]
async fn repeated_denials_and_a_modified_audit_item_are_raised_in_real_time() {
    // Arrange
    let ops = Ops::start("ops-denials", &[]).await;

    // Act: three denied reads by one user within seconds, then an edit of a stored event.
    ops.append(
        (0..3)
            .map(|i| {
                AuditEvent::new("u-mallory", "patient.read", Outcome::Deny)
                    .with_patient(format!("p-{i}"))
                    .with_reason("not-on-care-team")
            })
            .collect(),
    )
    .await;
    tamper(&ops, Tamper::Change(1)).await;
    let alerts = ops.alerts(2, Duration::from_secs(15)).await;

    // Assert: one repeated-denial alert (not three), one tampering alert.
    let mut found: Vec<(&str, &str)> = alerts.iter().map(|f| (f.kind.as_str(), f.subject.as_str())).collect();
    found.sort_unstable();
    assert_eq!(found, [("audit-tampering", "audit-log"), ("denied-phi-access", "actor:u-mallory")], "{alerts:#?}");
    ops.stack.shutdown().await;
}

// ------------------------------------------------------------------ retention

#[tokio::test]
async fn retention_job_deletes_what_is_past_due_purges_soft_deletes_completes_shredding_and_runs_once_a_day() {
    // Arrange: past-due and live items in two tables with TTLs, soft-deleted items, an erased patient whose key
    // and upload survived the erasure, and the audit log.
    let ops = Ops::start("ops-retention", &[]).await;
    let dynamodb = ops.dynamodb();
    let now = Utc::now().timestamp();
    let auth = ops.physical("AuthTable");
    let idempotency = ops.physical("IdempotencyTable");
    for (pk, expires) in [("session#old", now - 3600), ("challenge#old", now - 60), ("session#live", now + 3600)] {
        dynamodb
            .put_item()
            .table_name(&auth)
            .item("pk", AttributeValue::S(pk.into()))
            .item("sk", AttributeValue::S("x".into()))
            .item("expires_at", AttributeValue::N(expires.to_string()))
            .send()
            .await
            .unwrap();
    }
    dynamodb
        .put_item()
        .table_name(&idempotency)
        .item("id", AttributeValue::S("ingest#old".into()))
        .item("expiration", AttributeValue::N((now - 10).to_string()))
        .send()
        .await
        .unwrap();
    let records = ops.physical("RecordsTable");
    let soft = |pk: &str, deleted_at: AttributeValue| {
        dynamodb
            .put_item()
            .table_name(&records)
            .item("pk", AttributeValue::S(pk.into()))
            .item("sk", AttributeValue::S("NOTE#1".into()))
            .item("deleted_at", deleted_at)
    };
    soft("PATIENT#soft-old", AttributeValue::S("2020-01-01T00:00:00Z".into())).send().await.unwrap();
    soft("PATIENT#soft-old-n", AttributeValue::N((now - 90 * 86_400).to_string())).send().await.unwrap();
    soft("PATIENT#soft-recent", AttributeValue::S(Utc::now().to_rfc3339())).send().await.unwrap();
    let erased = seed_patient(&ops, "Erased").await;
    mark_erased(&ops, &erased).await;
    let uploads = ops.physical("UploadBucket");
    let s3 = ops.clients.s3();
    s3.put_object()
        .bucket(&uploads)
        .key(format!("documents/{erased}/scan.pdf"))
        .body(b"%PDF".to_vec().into())
        .send()
        .await
        .unwrap();
    ops.append(normal_traffic()).await;

    // Act
    let first = ops.fire("RetentionJobFunction").await;
    let second = ops.fire("RetentionJobFunction").await;

    // Assert
    let exists = |table: &str, key: HashMap<String, AttributeValue>| {
        let dynamodb = dynamodb.clone();
        let table = table.to_owned();
        async move {
            dynamodb
                .get_item()
                .table_name(table)
                .set_key(Some(key))
                .consistent_read(true)
                .send()
                .await
                .unwrap()
                .item
                .is_some()
        }
    };
    let pk_sk = |pk: &str, sk: &str| {
        HashMap::from([
            ("pk".to_owned(), AttributeValue::S(pk.into())),
            ("sk".to_owned(), AttributeValue::S(sk.into())),
        ])
    };
    assert!(!exists(&auth, pk_sk("session#old", "x")).await);
    assert!(!exists(&auth, pk_sk("challenge#old", "x")).await);
    assert!(exists(&auth, pk_sk("session#live", "x")).await, "a live session stays");
    assert!(!exists(&idempotency, HashMap::from([("id".to_owned(), AttributeValue::S("ingest#old".into()))])).await);
    assert!(!exists(&records, pk_sk("PATIENT#soft-old", "NOTE#1")).await);
    assert!(!exists(&records, pk_sk("PATIENT#soft-old-n", "NOTE#1")).await);
    assert!(exists(&records, pk_sk("PATIENT#soft-recent", "NOTE#1")).await, "a recent soft delete stays");
    assert!(exists(&records, pk_sk(&format!("PATIENT#{erased}"), PROFILE)).await, "the tombstone stays");
    assert!(
        !exists(
            &ops.physical("PatientKeysTable"),
            HashMap::from([("pk".to_owned(), AttributeValue::S(erased.clone()))])
        )
        .await
    );
    let left = s3.list_object_versions().bucket(&uploads).prefix(format!("documents/{erased}/")).send().await.unwrap();
    assert!(left.versions().is_empty(), "every version of the erased patient's uploads is gone");
    assert_eq!(
        (first["shredded_patients"].as_u64(), first["keys_deleted"].as_u64(), first["objects_deleted"].as_u64()),
        (Some(1), Some(1), Some(1)),
        "{first:#}"
    );
    assert_eq!(ops.audit_log().read_head().await.unwrap().seq, 10, "the audit log is never touched");
    assert!(first["tables"].as_array().unwrap().iter().all(|t| t["table"] != ops.physical("AuditTable").as_str()));
    assert_eq!(second["replayed"], true, "{second:#}");
    ops.stack.shutdown().await;
}

// ------------------------------------------------------------------ offline verification

/// Runs the operators' `medvault` command (built by `cargo build --workspace --bins`).
fn medvault(args: &[&str], endpoint: &str) -> std::process::Output {
    let bin_dir = std::env::var_os("MEDVAULT_BIN_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| medvault_tests::workspace_root().join("target/debug"));
    std::process::Command::new(bin_dir.join("medvault"))
        .args(args)
        .env_clear()
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("MEDVAULT_S3_FORCE_PATH_STYLE", "true")
        .output()
        .expect("the medvault binary runs (cargo build --workspace --bins)")
}

fn text(output: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

#[tokio::test]
async fn an_auditor_verifies_an_export_offline_with_only_the_public_key_and_sees_any_change() {
    // Arrange: a checkpointed chain with a tail after the checkpoint, exported with its public key.
    let ops = Ops::start("ops-export", &[]).await;
    ops.append(normal_traffic()).await;
    ops.fire("AuditJobFunction").await;
    ops.append(vec![read("u-alice", "p-2", 30, 0)]).await;
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap();
    let dir = std::env::temp_dir().join(unique("audit-export"));
    let export = dir.join("export");
    let key = dir.join("audit-signing.pem");
    let (key_s, export_s) = (key.to_str().unwrap(), export.to_str().unwrap());
    let signing_key = ops.physical("AuditSigningKey");
    std::fs::create_dir_all(&dir).unwrap();
    let published = medvault(&["audit", "public-key", "--key-id", &signing_key, "--out", key_s], &endpoint);
    assert!(published.status.success(), "{}", text(&published));
    let table = ops.physical("AuditTable");
    let bucket = ops.physical("AuditCheckpointBucket");
    let exported = medvault(&["audit", "export", "--table", &table, "--bucket", &bucket, "--out", export_s], &endpoint);
    assert!(exported.status.success(), "{}", text(&exported));

    // Act: verify with no AWS at all (the endpoint points nowhere), then after changing an event, then truncated.
    let offline = "http://127.0.0.1:9";
    let verified = medvault(&["audit", "verify", export_s, "--public-key", key_s, "--json"], offline);
    let events_path = export.join("events.jsonl");
    let original = std::fs::read_to_string(&events_path).unwrap();
    std::fs::write(&events_path, original.replacen("\"u-bob\"", "\"u-mallory\"", 1)).unwrap();
    let changed = medvault(&["audit", "verify", export_s, "--public-key", key_s], offline);
    let first_eight: String = original.lines().take(8).map(|l| format!("{l}\n")).collect();
    std::fs::write(&events_path, first_eight).unwrap();
    let truncated = medvault(&["audit", "verify", export_s, "--public-key", key_s], offline);

    // Assert
    assert!(verified.status.success(), "{}", text(&verified));
    let report: Value = serde_json::from_slice(&verified.stdout).unwrap();
    assert_eq!(
        report,
        json!({"verified": true, "report": {"events": 11, "first_seq": 1, "last_seq": 11, "checkpoints": 1,
               "checkpoints_matched": 1, "signed_through": 10, "unsigned_tail": 1}})
    );
    assert_eq!(changed.status.code(), Some(1), "{}", text(&changed));
    assert!(text(&changed).contains("NOT VERIFIED"), "{}", text(&changed));
    assert_eq!(truncated.status.code(), Some(1), "{}", text(&truncated));
    assert!(text(&truncated).contains("checkpoint 1 covers position 10"), "{}", text(&truncated));
    std::fs::remove_dir_all(&dir).unwrap();
    ops.stack.shutdown().await;
}

#[tokio::test]
async fn an_operator_restores_a_table_from_its_newest_backup_with_the_medvault_command() {
    // Arrange: two patients, backed up by the job; a third written after the backup.
    let ops = Ops::start("ops-restore", &[]).await;
    assert_keys_table_is_tagged_like_the_template(&ops).await;
    seed_patient(&ops, "Ada").await;
    seed_patient(&ops, "Grace").await;
    ops.fire("BackupJobFunction").await;
    seed_patient(&ops, "Later").await;
    let records = ops.physical("RecordsTable");
    let target = format!("restored-{records}");
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap();

    // Act
    let listed = medvault(&["backup", "list", "--table", &records], &endpoint);
    let restored = medvault(&["backup", "restore", "--table", &records, "--target", &target], &endpoint);
    let again = medvault(&["backup", "restore", "--table", &records, "--target", &target], &endpoint);

    // Assert: the restored table holds what the backup held, not what came after it; no restore over a table.
    assert!(text(&listed).contains(&format!("medvault-daily-{}", Utc::now().format("%Y-%m-%d"))), "{}", text(&listed));
    assert!(restored.status.success(), "{}", text(&restored));
    assert!(text(&restored).contains("2 items (the backup recorded 2)"), "{}", text(&restored));
    let count = ops.dynamodb().scan().table_name(&target).select(aws_sdk_dynamodb::types::Select::Count).send().await;
    assert_eq!(count.unwrap().count(), 2);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    assert!(text(&again).contains("already exists"), "{}", text(&again));
    ops.dynamodb().delete_table().table_name(&target).send().await.unwrap();
    ops.stack.shutdown().await;
}

#[tokio::test]
async fn a_stream_record_that_fails_is_reported_by_its_sequence_number_and_nothing_after_it_runs() {
    // Arrange: alerts cannot be published (the topic does not exist); a batch of three records, the second and
    // third break-glass grants.
    let ops =
        Ops::start("ops-streamfail", &[("MEDVAULT_ALERT_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:missing")])
            .await;
    let fixture = medvault_tests::event("dynamodb-stream-audit-break-glass.json");
    let grant = fixture["Records"][0].clone();
    let record = |sequence: &str| {
        let mut record = grant.clone();
        record["dynamodb"]["SequenceNumber"] = json!(sequence);
        record
    };
    // First an item of the table that is not a chain event: skipped without an alert.
    let mut other = record("100");
    other["dynamodb"]["Keys"]["pk"] = json!({"S": "not-the-chain"});
    let batch = json!({"Records": [other, record("200"), record("300")]});

    // Act
    let invocation = ops.invoke("SecurityAlertsFunction", batch).await;

    // Assert
    let response = ok("SecurityAlertsFunction", &invocation, &ops.stack.logs("SecurityAlertsFunction"));
    assert_eq!(response["batchItemFailures"], json!([{"itemIdentifier": "200"}]), "{response:#}");
    ops.stack.shutdown().await;
}
