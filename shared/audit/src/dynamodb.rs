//! The audit log on DynamoDB: one chain partition, a head pointer, and three indexes (by patient, actor, day).
//!
//! Item layout (table keys `pk` S, `sk` N): every event is `pk = "chain"`, `sk = seq`, with the event's fields as
//! attributes plus `prev_hash`, `hash`, `time_seq` (`<time>#<seq, 20 digits>`, the indexes' sort key) and `day`
//! (`YYYY-MM-DD`). The head of the chain is its last item (a descending query with `Limit 1`).
//!
//! An append is one conditional `PutItem`: write event `n` (linked to event `n - 1`'s hash) only if no item holds
//! position `n`. Two writers that read the same head both build event `n`; exactly one put succeeds, and the other
//! re-reads the head and links to the winner at `n + 1`. A position is written once and never changed, so every
//! event links to the one event that holds the position before it: the chain cannot fork. The application never
//! updates or deletes an item. Events removed from the end are detected against a signed checkpoint
//! ([`DynamoDbAuditLog::verify_against`]); a separate head pointer would need a second write per append, which
//! a transaction could make atomic, at twice the write cost.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Days, NaiveDate, Utc};
use futures::future::BoxFuture;
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::chain::{ChainBreak, ChainHead, ChainedEvent, Hash, verify_next};
use crate::event::{AuditEvent, Outcome, format_time};
use crate::log::{AuditError, AuditLog, AuditPage, AuditQuery, Receipt, VerifyReport, page_size};

/// The index of events by `patient_id`, sorted by `time_seq`.
pub const INDEX_BY_PATIENT: &str = "by-patient";
/// The index of events by `actor_id`, sorted by `time_seq`.
pub const INDEX_BY_ACTOR: &str = "by-actor";
/// The index of events by `day`, sorted by `time_seq`.
pub const INDEX_BY_DAY: &str = "by-day";

const CHAIN_PK: &str = "chain";
/// Appends give up after this many lost races (each costs one head read).
const MAX_ATTEMPTS: u32 = 40;
/// A time-only query may span at most this many days (one index partition per day).
const MAX_QUERY_DAYS: u64 = 400;

/// The DynamoDB audit log.
#[derive(Debug)]
pub struct DynamoDbAuditLog {
    client: Client,
    table: String,
    /// The head this process last wrote or read: a warm append needs no read. Held across an append, so appends
    /// from one process queue here instead of racing each other on the table.
    head: Mutex<Option<ChainHead>>,
}

impl DynamoDbAuditLog {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into(), head: Mutex::new(None) }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    async fn append_event(&self, event: AuditEvent) -> Result<Receipt, AuditError> {
        let mut cached = self.head.lock().await;
        let mut head = match *cached {
            Some(head) => head,
            None => self.read_head().await?,
        };
        for attempt in 1..=MAX_ATTEMPTS {
            let chained = head.next(event.clone());
            match self.claim(&chained).await {
                Ok(()) => {
                    let receipt = Receipt { seq: chained.seq, hash: chained.hash };
                    *cached = Some(ChainHead { seq: chained.seq, hash: chained.hash });
                    return Ok(receipt);
                }
                Err(Claim::Lost) => {
                    *cached = None;
                    if attempt > 1 {
                        tokio::time::sleep(backoff(attempt)).await;
                    }
                    head = self.read_head().await?;
                }
                Err(Claim::Failed(error)) => {
                    *cached = None;
                    return Err(error);
                }
            }
        }
        Err(AuditError::Contended { attempts: MAX_ATTEMPTS })
    }

    /// Writes `chained` at its position if no event holds it yet: one conditional put, the claim itself.
    async fn claim(&self, chained: &ChainedEvent) -> Result<(), Claim> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(event_item(chained)))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) if error.as_service_error().is_some_and(PutItemError::is_conditional_check_failed_exception) => {
                Err(Claim::Lost)
            }
            Err(error) => Err(Claim::Failed(AuditError::Unavailable(Box::new(error)))),
        }
    }

    /// The last event's position and hash, read consistently ([`ChainHead::EMPTY`] for an empty log).
    pub async fn read_head(&self) -> Result<ChainHead, AuditError> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(CHAIN_PK.into()))
            .scan_index_forward(false)
            .limit(1)
            .consistent_read(true)
            .projection_expression("sk, #hash")
            .expression_attribute_names("#hash", "hash")
            .send()
            .await
            .map_err(|e| AuditError::Unavailable(Box::new(e)))?;
        let Some(item) = output.items().first() else { return Ok(ChainHead::EMPTY) };
        let seq = number(item, "sk").ok_or(AuditError::Malformed { seq: 0, what: "sk" })?;
        let hash = text(item, "hash").and_then(Hash::from_hex).ok_or(AuditError::Malformed { seq, what: "hash" })?;
        Ok(ChainHead { seq, hash })
    }

    /// Up to `limit` events after position `after`, in chain order (for verification jobs and exports).
    pub async fn events_after(&self, after: u64, limit: usize) -> Result<Vec<ChainedEvent>, AuditError> {
        let mut events = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let remaining = limit.saturating_sub(events.len());
            if remaining == 0 {
                break;
            }
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND sk > :after")
                .expression_attribute_values(":pk", AttributeValue::S(CHAIN_PK.into()))
                .expression_attribute_values(":after", AttributeValue::N(after.to_string()))
                .consistent_read(true)
                .limit(i32::try_from(remaining.min(1000)).unwrap_or(1000))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| AuditError::Unavailable(Box::new(e)))?;
            for item in output.items() {
                events.push(chained_from_item(item)?);
            }
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        Ok(events)
    }

    /// Recomputes the whole stored chain.
    pub async fn verify(&self) -> Result<VerifyReport, AuditError> {
        self.verify_from(ChainHead::EMPTY).await
    }

    /// Recomputes the chain after a trusted position (a verified checkpoint).
    pub async fn verify_from(&self, start: ChainHead) -> Result<VerifyReport, AuditError> {
        let mut head = start;
        loop {
            let batch = self.events_after(head.seq, 1000).await?;
            if batch.is_empty() {
                break;
            }
            for chained in &batch {
                head = verify_next(head, chained).map_err(AuditError::Broken)?;
            }
        }
        Ok(VerifyReport { head })
    }

    /// Recomputes the whole chain and checks that it still holds a signed checkpoint: the same hash at the
    /// checkpoint's position. This is what detects events removed from the end of the chain.
    pub async fn verify_against(&self, checkpoint: ChainHead) -> Result<VerifyReport, AuditError> {
        let mut head = ChainHead::EMPTY;
        loop {
            let batch = self.events_after(head.seq, 1000).await?;
            if batch.is_empty() {
                break;
            }
            for chained in &batch {
                head = verify_next(head, chained).map_err(AuditError::Broken)?;
                if head.seq == checkpoint.seq && head.hash != checkpoint.hash {
                    return Err(AuditError::Broken(ChainBreak::Altered { seq: head.seq }));
                }
            }
        }
        if head.seq < checkpoint.seq {
            return Err(AuditError::Broken(ChainBreak::Truncated { last: head.seq, head: checkpoint.seq }));
        }
        Ok(VerifyReport { head })
    }

    /// Events matching `query` in time order, one page at a time.
    pub async fn query(&self, query: &AuditQuery) -> Result<AuditPage, AuditError> {
        let limit = page_size(query.limit);
        let lower = query.from.map(format_time).unwrap_or_else(|| "0".into());
        // "0" sorts before every time and `~` after every character a time_seq holds, so the bound covers every event before `to`.
        let upper = query.to.map(format_time).unwrap_or_else(|| "~".into());
        let mut lower_exclusive = false;
        let mut lower = lower;
        if let Some(after) = query.after.as_ref().filter(|after| after.as_str() >= lower.as_str()) {
            lower = after.clone();
            lower_exclusive = true;
        }
        let partitions: Vec<(&'static str, &'static str, String)> = match (&query.patient_id, &query.actor_id) {
            (Some(patient), _) => vec![(INDEX_BY_PATIENT, "patient_id", patient.clone())],
            (None, Some(actor)) => vec![(INDEX_BY_ACTOR, "actor_id", actor.clone())],
            (None, None) => {
                let (Some(from), Some(to)) = (query.from, query.to) else {
                    return Err(AuditError::InvalidQuery("a query without patient or actor needs from and to"));
                };
                days(from, to)?.into_iter().map(|day| (INDEX_BY_DAY, "day", day)).collect()
            }
        };
        let actor_filter = query.patient_id.as_ref().and(query.actor_id.clone());
        let mut events = Vec::new();
        let mut more = false;
        'partitions: for (index, attribute, value) in partitions {
            let mut start: Option<HashMap<String, AttributeValue>> = None;
            loop {
                let mut request = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .index_name(index)
                    .key_condition_expression(format!("{attribute} = :key AND time_seq BETWEEN :lower AND :upper"))
                    .expression_attribute_values(":key", AttributeValue::S(value.clone()))
                    .expression_attribute_values(":lower", AttributeValue::S(lower.clone()))
                    .expression_attribute_values(":upper", AttributeValue::S(upper.clone()))
                    .limit(i32::try_from(limit + 1).unwrap_or(1001))
                    .set_exclusive_start_key(start.take());
                if let Some(actor) = &actor_filter {
                    request = request
                        .filter_expression("actor_id = :actor")
                        .expression_attribute_values(":actor", AttributeValue::S(actor.clone()));
                }
                let output = request.send().await.map_err(|e| AuditError::Unavailable(Box::new(e)))?;
                for item in output.items() {
                    let time_seq = text(item, "time_seq").unwrap_or_default();
                    if lower_exclusive && time_seq <= lower.as_str() {
                        continue;
                    }
                    // `BETWEEN` includes `upper`; `to` is exclusive.
                    if query.to.is_some() && time_seq >= upper.as_str() {
                        continue;
                    }
                    if events.len() == limit {
                        more = true;
                        break 'partitions;
                    }
                    events.push(chained_from_item(item)?);
                }
                match output.last_evaluated_key {
                    Some(key) if !key.is_empty() => start = Some(key),
                    _ => break,
                }
            }
        }
        let next = if more { events.last().map(time_seq) } else { None };
        Ok(AuditPage { events, next })
    }
}

impl AuditLog for DynamoDbAuditLog {
    fn append(&self, event: AuditEvent) -> BoxFuture<'_, Result<Receipt, AuditError>> {
        Box::pin(self.append_event(event))
    }
}

enum Claim {
    /// Another writer took the position.
    Lost,
    Failed(AuditError),
}

/// A short, growing, jittered pause between lost races, so that writers stop colliding in lockstep.
fn backoff(attempt: u32) -> Duration {
    // A v4 UUID is 122 random bits from the OS generator: enough jitter without another dependency.
    let jitter = u64::try_from(Uuid::new_v4().as_u128() % 1000).unwrap_or(0);
    let base = 2u64.saturating_pow(attempt.min(6));
    Duration::from_micros(base * 500 + jitter * u64::from(attempt.min(8)))
}

/// The days (`YYYY-MM-DD`) a time range touches.
fn days(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<String>, AuditError> {
    if to <= from {
        return Err(AuditError::InvalidQuery("to must be after from"));
    }
    let first = from.date_naive();
    let last = to.date_naive();
    let span = u64::try_from((last - first).num_days()).unwrap_or(u64::MAX);
    if span > MAX_QUERY_DAYS {
        return Err(AuditError::InvalidQuery("a time-only query spans at most 400 days"));
    }
    let mut out = Vec::new();
    let mut day: NaiveDate = first;
    while day <= last {
        out.push(day.format("%Y-%m-%d").to_string());
        day = day.checked_add_days(Days::new(1)).unwrap_or(NaiveDate::MAX);
    }
    Ok(out)
}

fn time_seq(chained: &ChainedEvent) -> String {
    format!("{}#{:020}", chained.event.time_text(), chained.seq)
}

fn event_item(chained: &ChainedEvent) -> HashMap<String, AttributeValue> {
    let event = &chained.event;
    let mut item = HashMap::from([
        ("pk".to_owned(), AttributeValue::S(CHAIN_PK.into())),
        ("sk".to_owned(), AttributeValue::N(chained.seq.to_string())),
        ("prev_hash".to_owned(), AttributeValue::S(chained.prev_hash.to_hex())),
        ("hash".to_owned(), AttributeValue::S(chained.hash.to_hex())),
        ("time_seq".to_owned(), AttributeValue::S(time_seq(chained))),
        ("day".to_owned(), AttributeValue::S(event.time.format("%Y-%m-%d").to_string())),
        ("id".to_owned(), AttributeValue::S(event.id.hyphenated().to_string())),
        ("time".to_owned(), AttributeValue::S(event.time_text())),
        ("actor_id".to_owned(), AttributeValue::S(event.actor_id.clone())),
        ("roles".to_owned(), AttributeValue::L(event.roles.iter().cloned().map(AttributeValue::S).collect())),
        ("action".to_owned(), AttributeValue::S(event.action.clone())),
        ("outcome".to_owned(), AttributeValue::S(event.outcome.as_str().into())),
    ]);
    let optional = [
        ("patient_id", &event.patient_id),
        ("resource", &event.resource),
        ("request_id", &event.request_id),
        ("purpose", &event.purpose),
        ("source_ip", &event.source_ip),
        ("reason", &event.reason),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            item.insert(name.to_owned(), AttributeValue::S(value.clone()));
        }
    }
    item
}

fn text<'a>(item: &'a HashMap<String, AttributeValue>, name: &str) -> Option<&'a str> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}

fn number(item: &HashMap<String, AttributeValue>, name: &str) -> Option<u64> {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok())
}

fn chained_from_item(item: &HashMap<String, AttributeValue>) -> Result<ChainedEvent, AuditError> {
    let seq = number(item, "sk").ok_or(AuditError::Malformed { seq: 0, what: "sk" })?;
    let malformed = |what| AuditError::Malformed { seq, what };
    let hash = |name| text(item, name).and_then(Hash::from_hex);
    let optional = |name| text(item, name).map(str::to_owned);
    let event = AuditEvent {
        id: text(item, "id").and_then(|id| Uuid::parse_str(id).ok()).ok_or_else(|| malformed("id"))?,
        time: text(item, "time")
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| malformed("time"))?,
        actor_id: optional("actor_id").ok_or_else(|| malformed("actor_id"))?,
        roles: item
            .get("roles")
            .and_then(|v| v.as_l().ok())
            .map(|roles| roles.iter().filter_map(|r| r.as_s().ok().cloned()).collect())
            .ok_or_else(|| malformed("roles"))?,
        action: optional("action").ok_or_else(|| malformed("action"))?,
        outcome: text(item, "outcome").and_then(Outcome::parse).ok_or_else(|| malformed("outcome"))?,
        patient_id: optional("patient_id"),
        resource: optional("resource"),
        request_id: optional("request_id"),
        purpose: optional("purpose"),
        source_ip: optional("source_ip"),
        reason: optional("reason"),
    };
    Ok(ChainedEvent {
        seq,
        prev_hash: hash("prev_hash").ok_or_else(|| malformed("prev_hash"))?,
        hash: hash("hash").ok_or_else(|| malformed("hash"))?,
        event,
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn stored_items_read_back_as_the_same_event() {
        let event = AuditEvent::new("u-1", "note.read", Outcome::Allow)
            .with_roles(["clinician", "admin"])
            .with_patient("p-1")
            .with_resource("note:n-1")
            .with_purpose("treatment");
        let chained = ChainHead::EMPTY.next(event);
        assert_eq!(chained_from_item(&event_item(&chained)).unwrap(), chained);
    }

    #[test]
    fn a_time_range_covers_each_day_it_touches() {
        let from = Utc.with_ymd_and_hms(2026, 2, 27, 23, 0, 0).unwrap();
        let to = Utc.with_ymd_and_hms(2026, 3, 1, 1, 0, 0).unwrap();
        assert_eq!(days(from, to).unwrap(), ["2026-02-27", "2026-02-28", "2026-03-01"]);
        assert!(days(to, from).is_err());
    }
}
