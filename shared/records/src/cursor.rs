//! Opaque, tamper-proof page cursors: the position, base64url-encoded, with an HMAC tag that binds it to its
//! purpose and to the caller (or query) it was issued for. A changed byte, or a cursor replayed by another user,
//! is refused.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use medvault_crypto::IndexKey;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The cursor was altered, truncated, or issued for someone or something else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the cursor is not valid here")]
pub struct BadCursor;

/// The longest cursor accepted, in characters.
const MAX_CURSOR_LEN: usize = 2048;

fn signed_bytes(scope: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(scope.len() + 1 + payload.len());
    out.extend_from_slice(scope.as_bytes());
    out.push(0x1f);
    out.extend_from_slice(payload);
    out
}

/// Encodes `position` as a cursor for `purpose` (`my-patients`) and `scope` (the caller's id, the query).
pub fn seal<T: Serialize>(key: &IndexKey, purpose: &str, scope: &str, position: &T) -> String {
    let payload = serde_json::to_vec(position).unwrap_or_default();
    let tag = key.tag(purpose, &signed_bytes(scope, &payload));
    format!("{}.{}", URL_SAFE_NO_PAD.encode(&payload), URL_SAFE_NO_PAD.encode(tag))
}

/// Decodes a cursor made by [`seal`] with the same key, purpose and scope.
pub fn open<T: DeserializeOwned>(key: &IndexKey, purpose: &str, scope: &str, cursor: &str) -> Result<T, BadCursor> {
    if cursor.len() > MAX_CURSOR_LEN {
        return Err(BadCursor);
    }
    let (payload, tag) = cursor.split_once('.').ok_or(BadCursor)?;
    let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| BadCursor)?;
    let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| BadCursor)?;
    if !key.verify_tag(purpose, &signed_bytes(scope, &payload), &tag) {
        return Err(BadCursor);
    }
    serde_json::from_slice(&payload).map_err(|_| BadCursor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> IndexKey {
        IndexKey::new(vec![4; 32]).unwrap()
    }

    #[test]
    fn a_cursor_round_trips_for_its_scope() {
        let cursor = seal(&key(), "my-patients", "user-1", &"patient-9");
        assert_eq!(open::<String>(&key(), "my-patients", "user-1", &cursor).unwrap(), "patient-9");
    }

    #[test]
    fn a_changed_cursor_or_another_scope_is_refused() {
        let cursor = seal(&key(), "my-patients", "user-1", &"patient-9");
        let forged = format!("{}.{}", URL_SAFE_NO_PAD.encode(br#""patient-1""#), cursor.split_once('.').unwrap().1);
        assert_eq!(open::<String>(&key(), "my-patients", "user-1", &forged), Err(BadCursor));
        assert_eq!(open::<String>(&key(), "my-patients", "user-2", &cursor), Err(BadCursor));
        assert_eq!(open::<String>(&key(), "audit", "user-1", &cursor), Err(BadCursor));
        assert_eq!(open::<String>(&key(), "my-patients", "user-1", "garbage"), Err(BadCursor));
    }
}
