//! Operators that rewrite detected entities (`redact`, `replace`, `mask`, `hash`, `pseudonymize`, `encrypt`,
//! Safe Harbor generalisation) and the reverse of `encrypt` for permitted callers.

use std::collections::BTreeMap;

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::entity::{Entity, EntityType};
use crate::error::PhiError;
use crate::keys::{DataKey, DecryptPermission, Keys};
use crate::safe_harbor;
use crate::text::{Normalized, char_byte_offsets};

/// What to do with one entity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "operator", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Operator {
    /// Remove the text.
    Redact,
    /// Put `with` in its place, `[TYPE]` by default.
    Replace {
        #[serde(default)]
        with: Option<String>,
    },
    /// Replace every character but the last `keep_last` with `mask_char`.
    Mask {
        #[serde(default = "default_keep_last")]
        keep_last: usize,
        #[serde(default = "default_mask_char")]
        mask_char: char,
    },
    /// HMAC-SHA256 of the type and normalized value under the tenant key, hex-encoded.
    Hash,
    /// `<TYPE_n>`, the same surrogate for the same value within one document.
    Pseudonymize,
    /// AES-256-GCM under the data key: `[enc:v1:TYPE:base64url(nonce|ciphertext)]`, reversible by [`reidentify`].
    Encrypt,
    /// 45 CFR 164.514(b)(2): dates to the year, ages over 89 to `90+`, ZIP to ZIP3 or `000`, others `[TYPE]`.
    SafeHarbor,
}

fn default_keep_last() -> usize {
    4
}

fn default_mask_char() -> char {
    '*'
}

impl Operator {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Redact => "redact",
            Self::Replace { .. } => "replace",
            Self::Mask { .. } => "mask",
            Self::Hash => "hash",
            Self::Pseudonymize => "pseudonymize",
            Self::Encrypt => "encrypt",
            Self::SafeHarbor => "safe-harbor",
        }
    }
}

/// An operator per entity type, with a default for the rest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub default: Operator,
    #[serde(default)]
    pub per_type: BTreeMap<EntityType, Operator>,
}

impl Policy {
    /// The same operator for every type.
    pub fn uniform(operator: Operator) -> Self {
        Self { default: operator, per_type: BTreeMap::new() }
    }

    /// The Safe Harbor profile.
    pub fn safe_harbor() -> Self {
        Self::uniform(Operator::SafeHarbor)
    }

    pub fn operator_for(&self, t: EntityType) -> &Operator {
        self.per_type.get(&t).unwrap_or(&self.default)
    }
}

/// One rewritten entity: where it was in the input and where its replacement is in the output (code points).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transformed {
    #[serde(rename = "type")]
    pub entity_type: EntityType,
    pub start: usize,
    pub end: usize,
    pub output_start: usize,
    pub output_end: usize,
    pub score: f32,
    pub operator: String,
}

/// A transformed document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Output {
    pub text: String,
    pub items: Vec<Transformed>,
}

/// Applies `policy` to the (sorted, non-overlapping) `entities` of `text`.
pub fn transform(text: &str, entities: &[Entity], policy: &Policy, keys: Keys<'_>) -> Result<Output, PhiError> {
    let offsets = if text.is_ascii() { None } else { Some(char_byte_offsets(text)) };
    let byte_at = |c: usize| offsets.as_ref().map_or(c, |o| o[c.min(o.len() - 1)]);
    let total_chars = offsets.as_ref().map_or(text.len(), |o| o.len() - 1);
    let mut out = String::with_capacity(text.len());
    let mut out_chars = 0usize;
    let mut items = Vec::with_capacity(entities.len());
    let mut pseudonyms: FxHashMap<(EntityType, String), usize> = FxHashMap::default();
    let mut counters: FxHashMap<EntityType, usize> = FxHashMap::default();
    let mut cursor = 0usize;
    for e in entities {
        if e.start < cursor || e.end > total_chars || e.start >= e.end {
            // Overlapping or out-of-range spans cannot come from the analyzer; skip rather than corrupt the text.
            continue;
        }
        let kept = &text[byte_at(cursor)..byte_at(e.start)];
        out.push_str(kept);
        out_chars += if offsets.is_some() { kept.chars().count() } else { kept.len() };
        let value = &text[byte_at(e.start)..byte_at(e.end)];
        let operator = policy.operator_for(e.entity_type);
        let replacement = apply(operator, e.entity_type, value, keys, &mut pseudonyms, &mut counters)?;
        let replacement_chars = replacement.chars().count();
        items.push(Transformed {
            entity_type: e.entity_type,
            start: e.start,
            end: e.end,
            output_start: out_chars,
            output_end: out_chars + replacement_chars,
            score: e.score,
            operator: operator.name().to_owned(),
        });
        out.push_str(&replacement);
        out_chars += replacement_chars;
        cursor = e.end;
    }
    out.push_str(&text[byte_at(cursor)..]);
    Ok(Output { text: out, items })
}

/// The value as compared by `hash` and `pseudonymize`: Unicode tricks folded, case and spacing ignored.
fn canonical(value: &str) -> String {
    let normalized = Normalized::new(value);
    normalized.as_str().split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

fn apply(
    operator: &Operator,
    t: EntityType,
    value: &str,
    keys: Keys<'_>,
    pseudonyms: &mut FxHashMap<(EntityType, String), usize>,
    counters: &mut FxHashMap<EntityType, usize>,
) -> Result<String, PhiError> {
    Ok(match operator {
        Operator::Redact => String::new(),
        Operator::Replace { with } => with.clone().unwrap_or_else(|| format!("[{t}]")),
        Operator::Mask { keep_last, mask_char } => {
            let n = value.chars().count();
            // Always hide at least one character, so a mask never returns the value itself.
            let keep = (*keep_last).min(n.saturating_sub(1));
            value
                .chars()
                .enumerate()
                .map(|(i, c)| if i < n - keep && !c.is_whitespace() { *mask_char } else { c })
                .collect()
        }
        Operator::Hash => {
            let key =
                keys.tenant.ok_or(PhiError::MissingKey { operator: "hash", entity_type: t, key: "tenant key" })?;
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.bytes())
                .map_err(|_| PhiError::InvalidOperator("the tenant hash key was rejected"))?;
            mac.update(t.as_str().as_bytes());
            mac.update(b"\0");
            mac.update(canonical(value).as_bytes());
            hex::encode(mac.finalize().into_bytes())
        }
        Operator::Pseudonymize => {
            let key = (t, canonical(value));
            let n = match pseudonyms.get(&key) {
                Some(n) => *n,
                None => {
                    let counter = counters.entry(t).or_insert(0);
                    *counter += 1;
                    pseudonyms.insert(key, *counter);
                    *counter
                }
            };
            format!("<{t}_{n}>")
        }
        Operator::Encrypt => {
            let key = keys.data.ok_or(PhiError::MissingKey { operator: "encrypt", entity_type: t, key: "data key" })?;
            encrypt_value(key, t, value)?
        }
        Operator::SafeHarbor => safe_harbor::generalize(t, value),
    })
}

const TOKEN_PREFIX: &str = "[enc:v1:";

fn encrypt_value(key: &DataKey, t: EntityType, value: &str) -> Result<String, PhiError> {
    let cipher = Aes256Gcm::new(key.bytes().into());
    let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
    let sealed = cipher
        .encrypt(&nonce, Payload { msg: value.as_bytes(), aad: t.as_str().as_bytes() })
        .map_err(|e| PhiError::Crypto("encrypted", e))?;
    let mut blob = nonce.to_vec();
    blob.extend_from_slice(&sealed);
    Ok(format!("{TOKEN_PREFIX}{t}:{}]", URL_SAFE_NO_PAD.encode(blob)))
}

fn decrypt_token(key: &DataKey, token: &str) -> Result<String, PhiError> {
    let body =
        token.strip_prefix(TOKEN_PREFIX).and_then(|b| b.strip_suffix(']')).ok_or(PhiError::MalformedToken(None))?;
    let (type_name, data) = body.split_once(':').ok_or(PhiError::MalformedToken(None))?;
    let t: EntityType = type_name.parse().map_err(|_| PhiError::MalformedToken(None))?;
    let blob = URL_SAFE_NO_PAD.decode(data).map_err(|e| PhiError::MalformedToken(Some(e)))?;
    if blob.len() < 12 + 16 {
        return Err(PhiError::MalformedToken(None));
    }
    let (nonce, sealed) = blob.split_at(12);
    let cipher = Aes256Gcm::new(key.bytes().into());
    let plain = cipher
        .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: t.as_str().as_bytes() })
        .map_err(|e| PhiError::Crypto("decrypted", e))?;
    String::from_utf8(plain).map_err(|_| PhiError::MalformedToken(None))
}

/// Restores every `encrypt` token in `text`, if `caller` may decrypt PHI; fails on the first bad token.
pub fn reidentify(text: &str, key: &DataKey, caller: &dyn DecryptPermission) -> Result<String, PhiError> {
    if !caller.may_decrypt_phi() {
        return Err(PhiError::DecryptNotPermitted);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(TOKEN_PREFIX) {
        out.push_str(&rest[..at]);
        let token_len = rest[at..].find(']').ok_or(PhiError::MalformedToken(None))? + 1;
        out.push_str(&decrypt_token(key, &rest[at..at + token_len])?);
        rest = &rest[at + token_len..];
    }
    out.push_str(rest);
    Ok(out)
}
