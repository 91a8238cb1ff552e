//! The restore drill's decryption check: a sample of a restored copy of the records or documents table, opened
//! with the patients' keys, exactly as records-api opens them (`medvault_records::store::Place`).
//!
//! Keys are never restored: the patient-keys table is outside every backup, so a restored record opens only with
//! its patient's live key. A patient erased since the backup has no key any more: their records count as shredded,
//! which is erasure working, not a failed restore.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use medvault_crypto::{CachePolicy, KeyContext, KmsKeyWrapper, PatientKeys, WrappedKey};
use medvault_ops::aws::AwsError;
use medvault_ops::drill::DecryptCheck;
use medvault_records::store::{KEY_PURPOSE, Place};

/// Which kind of table a restored copy is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Keys `pk` (`PATIENT#<id>`) and `sk`; associated data `records`, `pk|sk`.
    Records,
    /// Key `id`, the patient in `patient_id`; associated data `documents`, `id`.
    Documents,
}

/// Opens sampled items with their patients' live keys.
#[derive(Debug, Clone)]
pub struct SampleDecryptor {
    dynamodb: Client,
    keys_table: String,
    tenant: String,
    keys: PatientKeys,
}

type Item = HashMap<String, AttributeValue>;

impl SampleDecryptor {
    pub fn new(dynamodb: Client, kms: aws_sdk_kms::Client, data_key_id: &str, keys_table: &str, tenant: &str) -> Self {
        let wrapper = Arc::new(KmsKeyWrapper::new(kms, data_key_id));
        Self {
            dynamodb,
            keys_table: keys_table.to_owned(),
            tenant: tenant.to_owned(),
            keys: PatientKeys::new(wrapper, CachePolicy::default()),
        }
    }

    /// Opens every encrypted (binary) attribute of the items that hold one.
    pub async fn check(&self, role: Role, items: &[Item]) -> Result<DecryptCheck, AwsError> {
        let mut check = DecryptCheck::default();
        for item in items {
            let sealed: Vec<&String> = item.iter().filter(|(_, v)| v.is_b()).map(|(name, _)| name).collect();
            let Some((patient, place)) = locate(role, item) else { continue };
            if sealed.is_empty() && !is_erased(item) {
                continue;
            }
            check.sampled += 1;
            if is_erased(item) {
                check.shredded += 1;
                continue;
            }
            let Some(wrapped) = self.wrapped_key(&patient).await? else {
                check.shredded += 1;
                continue;
            };
            let context = KeyContext::new(&self.tenant, &patient, KEY_PURPOSE);
            let key = match self.keys.get(&context, &wrapped).await {
                Ok(key) => key,
                Err(medvault_crypto::KeyError::Unavailable(source)) => {
                    return Err(AwsError {
                        operation: "kms:Decrypt",
                        code: None,
                        failure: medvault_platform::Failure::Retryable,
                        source,
                    });
                }
                Err(medvault_crypto::KeyError::Refused(_)) => {
                    check.failed += sealed.len() as u64;
                    continue;
                }
            };
            for attribute in sealed {
                match place.open(&key, item, attribute) {
                    Ok(Some(_)) => check.decrypted += 1,
                    Ok(None) | Err(_) => check.failed += 1,
                }
            }
        }
        Ok(check)
    }

    async fn wrapped_key(&self, patient: &str) -> Result<Option<WrappedKey>, AwsError> {
        let answer = self
            .dynamodb
            .get_item()
            .table_name(&self.keys_table)
            .key("pk", AttributeValue::S(patient.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(AwsError::sdk("dynamodb:GetItem"))?;
        Ok(answer.item.and_then(|item| {
            item.get("wrapped_key").and_then(|k| k.as_b().ok()).map(|b| WrappedKey(b.as_ref().to_vec()))
        }))
    }
}

fn text<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}

/// A tombstone left by erasure.
fn is_erased(item: &Item) -> bool {
    text(item, "status") == Some("erased")
}

/// The patient an item belongs to and where its sealed attributes are bound.
fn locate(role: Role, item: &Item) -> Option<(String, Place)> {
    match role {
        Role::Records => {
            let pk = text(item, "pk")?;
            let sk = text(item, "sk")?;
            let patient = pk.strip_prefix("PATIENT#")?;
            Some((patient.to_owned(), Place::records(pk, sk)))
        }
        Role::Documents => {
            let id = text(item, "id")?;
            let patient = text(item, "patient_id")?;
            Some((patient.to_owned(), Place::document(id)))
        }
    }
}
