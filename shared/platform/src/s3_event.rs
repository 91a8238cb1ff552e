//! S3 event notifications as they arrive in SQS message bodies: object records with decoded keys, or a test event.

use serde::Deserialize;

/// An S3 object named by an event record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3ObjectRef {
    pub bucket: String,
    /// The object key, URL-decoded (S3 encodes keys in notifications as form data: `+` is a space).
    pub key: String,
    pub version_id: Option<String>,
    pub size: Option<i64>,
    pub etag: Option<String>,
    pub sequencer: Option<String>,
    pub event_name: String,
}

impl S3ObjectRef {
    /// A key naming this exact object version, for idempotency.
    pub fn identity(&self) -> String {
        format!(
            "s3://{}/{}#{}",
            self.bucket,
            self.key,
            self.version_id.as_deref().or(self.sequencer.as_deref()).or(self.etag.as_deref()).unwrap_or("")
        )
    }
}

/// What an S3 notification message holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum S3Notification {
    /// The `s3:TestEvent` S3 sends when notifications are configured: nothing to do.
    Test,
    Objects(Vec<S3ObjectRef>),
}

/// Why a message body is not an S3 notification.
#[derive(Debug, thiserror::Error)]
pub enum S3EventError {
    #[error("message body is not an S3 notification")]
    Malformed(#[source] serde_json::Error),
    #[error("object key is not valid percent-encoded UTF-8")]
    BadKey(#[source] std::string::FromUtf8Error),
}

#[derive(Deserialize)]
struct RawNotification {
    #[serde(rename = "Event")]
    event: Option<String>,
    #[serde(rename = "Records")]
    records: Option<Vec<RawRecord>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRecord {
    event_name: String,
    s3: RawS3,
}

#[derive(Deserialize)]
struct RawS3 {
    bucket: RawBucket,
    object: RawObject,
}

#[derive(Deserialize)]
struct RawBucket {
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawObject {
    key: String,
    size: Option<i64>,
    e_tag: Option<String>,
    version_id: Option<String>,
    sequencer: Option<String>,
}

/// Parses an SQS message body sent by an S3 bucket notification.
pub fn parse(body: &str) -> Result<S3Notification, S3EventError> {
    let raw: RawNotification = serde_json::from_str(body).map_err(S3EventError::Malformed)?;
    if raw.event.as_deref() == Some("s3:TestEvent") {
        return Ok(S3Notification::Test);
    }
    let Some(records) = raw.records else {
        return Err(S3EventError::Malformed(serde::de::Error::missing_field("Records")));
    };
    records
        .into_iter()
        .map(|r| {
            Ok(S3ObjectRef {
                bucket: r.s3.bucket.name,
                key: decode_key(&r.s3.object.key)?,
                version_id: r.s3.object.version_id.filter(|v| !v.is_empty() && v != "null"),
                size: r.s3.object.size,
                etag: r.s3.object.e_tag,
                sequencer: r.s3.object.sequencer,
                event_name: r.event_name,
            })
        })
        .collect::<Result<_, _>>()
        .map(S3Notification::Objects)
}

/// Decodes an S3 notification key: `+` is a space and `%XX` a byte, as in HTML form encoding.
///
/// Hand-written: it is ten lines, and the common crates decode `+` differently depending on the mode.
pub fn decode_key(encoded: &str) -> Result<String, S3EventError> {
    let bytes = encoded.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                match (bytes.get(i + 1).and_then(|b| hex_value(*b)), bytes.get(i + 2).and_then(|b| hex_value(*b))) {
                    (Some(high), Some(low)) => {
                        out.push(high * 16 + low);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(S3EventError::BadKey)
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plus_percent_and_utf8_keys() {
        assert_eq!(decode_key("a+b%20c/%C3%A9.pdf").unwrap(), "a b c/é.pdf");
        assert_eq!(decode_key("100%25+sure").unwrap(), "100% sure");
        assert_eq!(decode_key("trailing%2").unwrap(), "trailing%2");
        assert!(decode_key("%FF%FE").is_err());
    }

    #[test]
    fn test_event_is_recognised() {
        let body = r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-01-01T00:00:00.000Z","Bucket":"b","RequestId":"r","HostId":"h"}"#;
        assert_eq!(parse(body).unwrap(), S3Notification::Test);
    }

    #[test]
    fn object_records_are_parsed_with_decoded_keys() {
        let body = r#"{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put",
            "s3":{"bucket":{"name":"uploads"},"object":{"key":"a+b%20c/%C3%A9.pdf","size":12,"eTag":"e","versionId":"v1","sequencer":"01"}}}]}"#;
        let S3Notification::Objects(objects) = parse(body).unwrap() else { panic!("expected objects") };
        assert_eq!(objects[0].key, "a b c/é.pdf");
        assert_eq!(objects[0].identity(), "s3://uploads/a b c/é.pdf#v1");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for body in ["", "null", "{}", "[1,2]", r#"{"Records":[{}]}"#] {
            assert!(parse(body).is_err(), "{body}");
        }
    }
}
