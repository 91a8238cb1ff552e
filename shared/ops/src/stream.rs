//! Audit events as the audit table's DynamoDB stream delivers them: a stream record's image (DynamoDB JSON, e.g.
//! `{"sk": {"N": "5"}, "actor_id": {"S": "u-1"}}`) read back into a [`ChainedEvent`], following the item layout
//! the audit crate documents (`medvault_audit`'s DynamoDB module). Pure: JSON in, event out.

use chrono::{DateTime, Utc};
use medvault_audit::{AuditEvent, ChainedEvent, Hash, Outcome};
use serde_json::Value;
use uuid::Uuid;

/// What a stream record says happened to an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Insert,
    Modify,
    Remove,
}

impl Change {
    /// Parses the record's `eventName`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "INSERT" => Some(Self::Insert),
            "MODIFY" => Some(Self::Modify),
            "REMOVE" => Some(Self::Remove),
            _ => None,
        }
    }
}

/// Why an image is not an audit event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the stream image has no valid {0}")]
pub struct ImageError(pub &'static str);

/// The chain position an image's keys name (`sk`), when they do.
pub fn position(keys: &Value) -> Option<u64> {
    number(keys, "sk")
}

/// Reads an item image (DynamoDB JSON) as an audit event at its place in the chain.
pub fn chained_event(image: &Value) -> Result<ChainedEvent, ImageError> {
    let seq = number(image, "sk").ok_or(ImageError("sk"))?;
    let hash = |name| text(image, name).and_then(Hash::from_hex).ok_or(ImageError(name));
    let optional = |name| text(image, name).map(str::to_owned);
    let roles = image
        .get("roles")
        .and_then(|v| v.get("L"))
        .and_then(Value::as_array)
        .map(|roles| roles.iter().filter_map(|r| r.get("S").and_then(Value::as_str)).map(str::to_owned).collect())
        .ok_or(ImageError("roles"))?;
    let event = AuditEvent {
        id: text(image, "id").and_then(|id| Uuid::parse_str(id).ok()).ok_or(ImageError("id"))?,
        time: text(image, "time")
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
            .ok_or(ImageError("time"))?,
        actor_id: optional("actor_id").ok_or(ImageError("actor_id"))?,
        roles,
        action: optional("action").ok_or(ImageError("action"))?,
        outcome: text(image, "outcome").and_then(Outcome::parse).ok_or(ImageError("outcome"))?,
        patient_id: optional("patient_id"),
        resource: optional("resource"),
        request_id: optional("request_id"),
        purpose: optional("purpose"),
        source_ip: optional("source_ip"),
        reason: optional("reason"),
    };
    Ok(ChainedEvent { seq, prev_hash: hash("prev_hash")?, hash: hash("hash")?, event })
}

fn text<'a>(image: &'a Value, name: &str) -> Option<&'a str> {
    image.get(name)?.get("S")?.as_str()
}

fn number(image: &Value, name: &str) -> Option<u64> {
    image.get(name)?.get("N")?.as_str()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use medvault_audit::ChainHead;
    use serde_json::json;

    use super::*;

    /// The image the audit table's stream carries for `chained` (the audit crate's item layout).
    pub(crate) fn image(chained: &ChainedEvent) -> Value {
        let e = &chained.event;
        let mut image = json!({
            "pk": {"S": "chain"},
            "sk": {"N": chained.seq.to_string()},
            "prev_hash": {"S": chained.prev_hash.to_hex()},
            "hash": {"S": chained.hash.to_hex()},
            "id": {"S": e.id.hyphenated().to_string()},
            "time": {"S": e.time_text()},
            "actor_id": {"S": e.actor_id},
            "roles": {"L": e.roles.iter().map(|r| json!({"S": r})).collect::<Vec<_>>()},
            "action": {"S": e.action},
            "outcome": {"S": e.outcome.as_str()},
        });
        if let Some(patient) = &e.patient_id {
            image["patient_id"] = json!({"S": patient});
        }
        image
    }

    #[test]
    fn a_stream_image_reads_back_as_the_event_with_its_hash_intact() {
        let chained = ChainHead::EMPTY.next(
            AuditEvent::new("u-1", "breakglass.grant", Outcome::Success).with_roles(["clinician"]).with_patient("p-1"),
        );
        let back = chained_event(&image(&chained)).unwrap();
        assert_eq!(back, chained);
        assert_eq!(position(&json!({"pk": {"S": "chain"}, "sk": {"N": "1"}})), Some(1));
    }

    #[test]
    fn an_image_missing_a_field_names_it() {
        let chained = ChainHead::EMPTY.next(AuditEvent::new("u-1", "patient.read", Outcome::Allow));
        let mut broken = image(&chained);
        broken.as_object_mut().unwrap().remove("outcome");
        assert_eq!(chained_event(&broken), Err(ImageError("outcome")));
        assert_eq!(Change::parse("MODIFY"), Some(Change::Modify));
    }
}
