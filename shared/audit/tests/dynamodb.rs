//! The DynamoDB audit log against the local emulator: appends chain, concurrent writers never fork, queries find
//! events by patient, actor and time, and verification catches an altered, deleted or truncated event.
#![allow(clippy::unwrap_used)] // Test fixtures: a failed setup call should stop the test loudly.

use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};
use chrono::{Duration, Utc};
use medvault_audit::{
    AuditError, AuditEvent, AuditLog, AuditQuery, ChainBreak, DynamoDbAuditLog, INDEX_BY_ACTOR, INDEX_BY_DAY,
    INDEX_BY_PATIENT, Outcome,
};

async fn client() -> Client {
    assert!(std::env::var_os("AWS_ENDPOINT_URL").is_some(), "AWS_ENDPOINT_URL must point at the emulator");
    Client::new(&aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await)
}

/// A fresh table shaped like the template's `AuditTable`.
async fn fresh_log() -> (Client, DynamoDbAuditLog) {
    let client = client().await;
    let name = format!("audit-test-{}", uuid::Uuid::new_v4().simple());
    let attribute =
        |name: &str, kind| AttributeDefinition::builder().attribute_name(name).attribute_type(kind).build().unwrap();
    let key = |name: &str, kind| KeySchemaElement::builder().attribute_name(name).key_type(kind).build().unwrap();
    let index = |index: &str, hash: &str| {
        GlobalSecondaryIndex::builder()
            .index_name(index)
            .key_schema(key(hash, KeyType::Hash))
            .key_schema(key("time_seq", KeyType::Range))
            .projection(Projection::builder().projection_type(ProjectionType::All).build())
            .build()
            .unwrap()
    };
    client
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute("pk", ScalarAttributeType::S))
        .attribute_definitions(attribute("sk", ScalarAttributeType::N))
        .attribute_definitions(attribute("patient_id", ScalarAttributeType::S))
        .attribute_definitions(attribute("actor_id", ScalarAttributeType::S))
        .attribute_definitions(attribute("day", ScalarAttributeType::S))
        .attribute_definitions(attribute("time_seq", ScalarAttributeType::S))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .global_secondary_indexes(index(INDEX_BY_PATIENT, "patient_id"))
        .global_secondary_indexes(index(INDEX_BY_ACTOR, "actor_id"))
        .global_secondary_indexes(index(INDEX_BY_DAY, "day"))
        .send()
        .await
        .unwrap();
    (client.clone(), DynamoDbAuditLog::new(client, name))
}

fn read(actor: &str, patient: &str) -> AuditEvent {
    AuditEvent::new(actor, "patient.read", Outcome::Allow).with_roles(["clinician"]).with_patient(patient)
}

#[tokio::test]
async fn appended_events_form_a_chain_that_verifies() {
    let (_, log) = fresh_log().await;

    let first = log.append(read("u-1", "p-1")).await.unwrap();
    let second = log.append(read("u-2", "p-1")).await.unwrap();

    assert_eq!((first.seq, second.seq), (1, 2));
    let events = log.events_after(0, 10).await.unwrap();
    assert_eq!(events[1].prev_hash, first.hash);
    assert_eq!(log.verify().await.unwrap().head.hash, second.hash);
}

#[tokio::test]
async fn concurrent_writers_in_separate_processes_never_fork_the_chain() {
    // Arrange: four logs on one table stand for four execution environments, each with its own head cache.
    let (client, first) = fresh_log().await;
    let table = first.table().to_owned();
    let logs: Vec<Arc<DynamoDbAuditLog>> =
        (0..4).map(|_| Arc::new(DynamoDbAuditLog::new(client.clone(), table.clone()))).collect();

    // Act
    let mut tasks = Vec::new();
    for (writer, log) in logs.iter().enumerate() {
        for n in 0..10 {
            let log = Arc::clone(log);
            tasks.push(tokio::spawn(async move { log.append(read(&format!("u-{writer}"), &format!("p-{n}"))).await }));
        }
    }
    let mut seqs = Vec::new();
    for task in tasks {
        seqs.push(task.await.unwrap().unwrap().seq);
    }

    // Assert: forty distinct positions, one unbroken chain.
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=40).collect::<Vec<u64>>());
    assert_eq!(first.verify().await.unwrap().head.seq, 40);
}

#[tokio::test]
async fn queries_find_events_by_patient_actor_and_time_with_pages() {
    let (_, log) = fresh_log().await;
    for (actor, patient) in [("u-1", "p-1"), ("u-2", "p-1"), ("u-1", "p-2"), ("u-1", "p-1")] {
        log.append(read(actor, patient)).await.unwrap();
    }

    let by_patient = log.query(&AuditQuery { patient_id: Some("p-1".into()), ..Default::default() }).await.unwrap();
    let by_actor = log.query(&AuditQuery { actor_id: Some("u-1".into()), ..Default::default() }).await.unwrap();
    let both = log
        .query(&AuditQuery { patient_id: Some("p-1".into()), actor_id: Some("u-1".into()), ..Default::default() })
        .await
        .unwrap();
    let now = Utc::now();
    let window = AuditQuery {
        from: Some(now - Duration::hours(1)),
        to: Some(now + Duration::hours(1)),
        limit: 3,
        ..Default::default()
    };
    let page_one = log.query(&window).await.unwrap();
    let page_two = log.query(&AuditQuery { after: page_one.next.clone(), ..window.clone() }).await.unwrap();
    let empty = log
        .query(&AuditQuery {
            to: Some(now - Duration::hours(1)),
            from: Some(now - Duration::hours(2)),
            ..Default::default()
        })
        .await
        .unwrap();

    let seqs = |page: &medvault_audit::AuditPage| page.events.iter().map(|c| c.seq).collect::<Vec<_>>();
    assert_eq!(seqs(&by_patient), [1, 2, 4]);
    assert_eq!(seqs(&by_actor), [1, 3, 4]);
    assert_eq!(seqs(&both), [1, 4]);
    assert_eq!((seqs(&page_one), seqs(&page_two)), (vec![1, 2, 3], vec![4]));
    assert!(page_one.next.is_some() && page_two.next.is_none());
    assert!(empty.events.is_empty());
}

#[tokio::test]
async fn verification_fails_after_one_stored_event_is_altered() {
    // Arrange
    let (client, log) = fresh_log().await;
    for n in 0..5 {
        log.append(read("u-1", &format!("p-{n}"))).await.unwrap();
    }
    assert!(log.verify().await.is_ok());

    // Act: someone with table access turns a deny into an allow... here, rewrites one event's outcome.
    client
        .update_item()
        .table_name(log.table())
        .key("pk", AttributeValue::S("chain".into()))
        .key("sk", AttributeValue::N("3".into()))
        .update_expression("SET outcome = :o")
        .expression_attribute_values(":o", AttributeValue::S("deny".into()))
        .send()
        .await
        .unwrap();

    // Assert
    let result = log.verify().await;
    assert!(matches!(result, Err(AuditError::Broken(ChainBreak::Altered { seq: 3 }))), "{result:?}");
}

#[tokio::test]
async fn verification_against_a_checkpoint_fails_when_the_last_events_are_deleted() {
    // Arrange: three events, and a checkpoint of the third (what the audit job signs).
    let (client, log) = fresh_log().await;
    for n in 0..3 {
        log.append(read("u-1", &format!("p-{n}"))).await.unwrap();
    }
    let checkpoint = log.verify().await.unwrap().head;

    // Act
    client
        .delete_item()
        .table_name(log.table())
        .key("pk", AttributeValue::S("chain".into()))
        .key("sk", AttributeValue::N("3".into()))
        .send()
        .await
        .unwrap();

    // Assert: the shortened chain is still internally consistent, but no longer reaches the checkpoint.
    assert_eq!(log.verify().await.unwrap().head.seq, 2);
    let result = log.verify_against(checkpoint).await;
    assert!(matches!(result, Err(AuditError::Broken(ChainBreak::Truncated { last: 2, head: 3 }))), "{result:?}");
}
