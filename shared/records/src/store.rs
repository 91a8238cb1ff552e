//! The records' item layout on DynamoDB: keys, encrypted attributes, and reading them back.
//!
//! See `DATA-MODEL.md` for the tables and access patterns. Every PHI attribute is sealed with the patient's data
//! key and bound to `(table role, "pk|sk", attribute)`.

use std::collections::HashMap;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use medvault_crypto::{Aad, DataKey, open, seal};

use crate::error::RecordsError;
use crate::model::PatientId;

/// A DynamoDB item.
pub type Item = HashMap<String, AttributeValue>;

/// The records table's role name in associated data.
pub const RECORDS: &str = "records";
/// The documents table's role name in associated data.
pub const DOCUMENTS: &str = "documents";
/// The purpose in patients' key contexts.
pub const KEY_PURPOSE: &str = "medvault-records";

pub const PROFILE: &str = "PROFILE";

pub fn patient_pk(id: PatientId) -> String {
    format!("PATIENT#{id}")
}

pub fn care_sk(user: &str) -> String {
    format!("CARE#{user}")
}

pub fn grant_sk(user: &str) -> String {
    format!("GRANT#{user}")
}

pub fn member_pk(user: &str) -> String {
    format!("MEMBER#{user}")
}

pub fn mrn_pk(index: &str) -> String {
    format!("MRN#{index}")
}

pub fn time(value: DateTime<Utc>) -> AttributeValue {
    AttributeValue::S(value.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
}

pub fn text<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}

pub fn number(item: &Item, name: &str) -> Option<i64> {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok())
}

pub fn timestamp(item: &Item, name: &str) -> Option<DateTime<Utc>> {
    text(item, name).and_then(|t| DateTime::parse_from_rfc3339(t).ok()).map(|t| t.with_timezone(&Utc))
}

/// Where a sealed attribute lives.
#[derive(Debug, Clone)]
pub struct Place {
    pub table: &'static str,
    pub item: String,
}

impl Place {
    pub fn records(pk: &str, sk: &str) -> Self {
        Self { table: RECORDS, item: format!("{pk}|{sk}") }
    }

    pub fn document(id: &str) -> Self {
        Self { table: DOCUMENTS, item: id.to_owned() }
    }

    /// Seals `plaintext` for `attribute` of this item.
    pub fn seal(&self, key: &DataKey, attribute: &str, plaintext: &[u8]) -> Result<AttributeValue, RecordsError> {
        let aad = Aad { table: self.table, item: &self.item, attribute };
        seal(key, aad, plaintext)
            .map(|b| AttributeValue::B(Blob::new(b)))
            .map_err(|e| RecordsError::Unreadable(Box::new(e)))
    }

    /// Seals a JSON value.
    pub fn seal_json<T: serde::Serialize>(
        &self,
        key: &DataKey,
        attribute: &str,
        value: &T,
    ) -> Result<AttributeValue, RecordsError> {
        let bytes = serde_json::to_vec(value).map_err(|e| RecordsError::Unreadable(Box::new(e)))?;
        self.seal(key, attribute, &bytes)
    }

    /// Opens `attribute` of `item`, if present.
    pub fn open(&self, key: &DataKey, item: &Item, attribute: &str) -> Result<Option<Vec<u8>>, RecordsError> {
        let Some(value) = item.get(attribute) else { return Ok(None) };
        let sealed =
            value.as_b().map_err(|_| RecordsError::Unreadable("an encrypted attribute is not binary".into()))?;
        let aad = Aad { table: self.table, item: &self.item, attribute };
        open(key, aad, sealed.as_ref()).map(Some).map_err(|e| RecordsError::Unreadable(Box::new(e)))
    }

    /// Opens a UTF-8 attribute.
    pub fn open_text(&self, key: &DataKey, item: &Item, attribute: &str) -> Result<Option<String>, RecordsError> {
        self.open(key, item, attribute)?
            .map(|bytes| String::from_utf8(bytes).map_err(|e| RecordsError::Unreadable(Box::new(e))))
            .transpose()
    }

    /// Opens a JSON attribute.
    pub fn open_json<T: serde::de::DeserializeOwned>(
        &self,
        key: &DataKey,
        item: &Item,
        attribute: &str,
    ) -> Result<Option<T>, RecordsError> {
        self.open(key, item, attribute)?
            .map(|bytes| serde_json::from_slice(&bytes).map_err(|e| RecordsError::Unreadable(Box::new(e))))
            .transpose()
    }
}

/// Maps an SDK error to `Unavailable` (it says nothing about the data).
pub fn unavailable<E: std::error::Error + Send + Sync + 'static>(error: E) -> RecordsError {
    RecordsError::Unavailable(Box::new(error))
}
