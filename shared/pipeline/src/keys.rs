//! The patient's data key, under which a document's text and de-identified text are sealed: the wrapped key from
//! the patient-keys table, unwrapped by KMS under the patient's encryption context, cached per execution
//! environment (see medvault-crypto).

use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use medvault_crypto::{DataKey, KeyContext, KeyError, PatientKeys, WrappedKey};
use medvault_records::model::PatientId;
use medvault_records::store::KEY_PURPOSE;

use crate::error::PipelineError;

/// Patients' data keys for the pipeline.
#[derive(Debug, Clone)]
pub struct Keyring {
    dynamodb: aws_sdk_dynamodb::Client,
    table: String,
    tenant: String,
    keys: PatientKeys,
}

/// What became of a patient's key.
#[derive(Debug)]
pub enum PatientKey {
    Key(Arc<DataKey>),
    /// The patient was erased (crypto-shredded): nothing can be stored for them any more.
    Erased,
}

impl Keyring {
    pub fn new(
        dynamodb: aws_sdk_dynamodb::Client,
        table: impl Into<String>,
        tenant: impl Into<String>,
        keys: PatientKeys,
    ) -> Self {
        Self { dynamodb, table: table.into(), tenant: tenant.into(), keys }
    }

    /// The patient's data key: cached when warm, else read and unwrapped.
    pub async fn key(&self, patient: PatientId) -> Result<PatientKey, PipelineError> {
        let context = KeyContext::new(&self.tenant, patient.to_string(), KEY_PURPOSE);
        let output = self
            .dynamodb
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(patient.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(PipelineError::sdk)?;
        let Some(wrapped) = output
            .item
            .as_ref()
            .and_then(|i| i.get("wrapped_key"))
            .and_then(|k| k.as_b().ok())
            .map(|b| WrappedKey(b.clone().into_inner()))
        else {
            return Ok(PatientKey::Erased);
        };
        match self.keys.get(&context, &wrapped).await {
            Ok(key) => Ok(PatientKey::Key(key)),
            Err(KeyError::Unavailable(source)) => Err(PipelineError::Unavailable(source)),
            Err(KeyError::Refused(source)) => Err(PipelineError::Refused(source)),
        }
    }
}
