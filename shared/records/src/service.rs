//! The records service: every operation checks the role, then the relationship, writes its audit event, and only
//! then touches or returns PHI. If the audit event cannot be written, the operation stops there.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, Delete, KeysAndAttributes, Put, TransactWriteItem, Update};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::types::ServerSideEncryption;
use chrono::{DateTime, NaiveDate, Utc};
use medvault_audit::{AuditEvent, AuditLog, AuditQuery, ChainedEvent, DynamoDbAuditLog, Outcome};
use medvault_auth::{Permission, Principal, Role, UserId};
use medvault_crypto::{DataKey, IndexKey, KeyContext, KeyError, PatientKeys, WrappedKey};
use medvault_phi::{AnalyzeOptions, Analyzer};
use medvault_platform::Phi;
use medvault_platform::dynamo::{n, s};
use serde::{Deserialize, Serialize};

use crate::access::{Basis, Decision, Intent, Relationship, decide};
use crate::cursor;
use crate::error::RecordsError;
use crate::model::{
    Demographics, DocumentId, DocumentInput, DocumentStatus, MAX_NOTE_CHARS, NewDocument, NoteId, NoteView, Patient,
    PatientId, PatientInput, PatientPatch,
};
use crate::store::{
    Item, KEY_PURPOSE, PROFILE, Place, care_sk, grant_sk, member_pk, mrn_pk, number, patient_pk, text, time, timestamp,
    unavailable,
};

/// What the records service needs to know about its deployment.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The tenant in every key context and blind index.
    pub tenant: String,
    pub records_table: String,
    pub keys_table: String,
    pub documents_table: String,
    pub upload_bucket: String,
    /// The KMS key uploads must be encrypted with (SSE-KMS), chosen by the service.
    pub upload_kms_key: String,
    /// How long a break-glass grant lasts.
    pub break_glass: Duration,
    /// The largest upload accepted, in bytes.
    pub max_upload_bytes: u64,
    pub upload_url_ttl: Duration,
    pub download_url_ttl: Duration,
    /// The EventBridge bus security events go to.
    pub event_bus: String,
}

/// The service's dependencies, built once per execution environment.
#[derive(Clone)]
pub struct Records {
    settings: Arc<Settings>,
    dynamodb: aws_sdk_dynamodb::Client,
    s3: aws_sdk_s3::Client,
    events: aws_sdk_eventbridge::Client,
    keys: PatientKeys,
    index_key: IndexKey,
    audit: Arc<DynamoDbAuditLog>,
    analyzer: Arc<Analyzer>,
}

impl std::fmt::Debug for Records {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Records").field("settings", &self.settings).finish_non_exhaustive()
    }
}

/// A page of patients.
#[derive(Debug)]
pub struct PatientPage {
    pub patients: Vec<Patient>,
    pub next_cursor: Option<String>,
}

/// A new document and how to upload it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedDocument {
    pub id: DocumentId,
    pub patient_id: PatientId,
    pub status: DocumentStatus,
    pub upload: Upload,
}

/// A presigned upload: send exactly these headers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Upload {
    pub method: String,
    pub url: String,
    pub headers: HashMap<String, String>,
    pub expires_in: u64,
}

/// A presigned download.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Download {
    pub url: String,
    pub expires_in: u64,
}

/// A document as a caller may see it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DocumentView {
    pub id: DocumentId,
    pub patient_id: PatientId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    pub content_type: String,
    pub size: u64,
    pub status: DocumentStatus,
    /// Why the document was quarantined or failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deidentified_text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub entities: Option<serde_json::Value>,
}

impl std::fmt::Debug for DocumentView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentView").field("id", &self.id).field("status", &self.status).finish_non_exhaustive()
    }
}

/// A break-glass grant.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Grant {
    pub patient_id: PatientId,
    pub user_id: String,
    pub expires_at: DateTime<Utc>,
}

/// One audit event as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub seq: u64,
    pub hash: String,
    pub prev_hash: String,
    pub id: String,
    pub time: DateTime<Utc>,
    pub actor_id: String,
    pub roles: Vec<String>,
    pub action: String,
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patient_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl From<&ChainedEvent> for AuditEntry {
    fn from(chained: &ChainedEvent) -> Self {
        let e = &chained.event;
        Self {
            seq: chained.seq,
            hash: chained.hash.to_hex(),
            prev_hash: chained.prev_hash.to_hex(),
            id: e.id.to_string(),
            time: e.time,
            actor_id: e.actor_id.clone(),
            roles: e.roles.clone(),
            action: e.action.clone(),
            outcome: e.outcome.as_str().to_owned(),
            patient_id: e.patient_id.clone(),
            resource: e.resource.clone(),
            request_id: e.request_id.clone(),
            purpose: e.purpose.clone(),
            source_ip: e.source_ip.clone(),
            reason: e.reason.clone(),
        }
    }
}

/// A page of audit events.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEntries {
    pub events: Vec<AuditEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// An audit search as the API takes it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
pub struct AuditSearch {
    pub patient_id: Option<String>,
    pub actor_id: Option<String>,
    /// RFC 3339, inclusive.
    pub from: Option<DateTime<Utc>>,
    /// RFC 3339, exclusive.
    pub to: Option<DateTime<Utc>>,
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

/// The actions that disclose PHI, listed in the accounting of disclosures.
const DISCLOSING_ACTIONS: &[&str] = &[
    "patient.read",
    "patient.list",
    "patient.search",
    "patient.update",
    "note.list",
    "note.create",
    "document.read",
    "document.content",
    "fhir.patient.read",
    "fhir.patient.search",
    "fhir.document.search",
];

/// What the caller is, for the pure rules.
fn is_admin(principal: &Principal) -> bool {
    principal.is(Role::Admin)
}

impl Records {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        settings: Settings,
        dynamodb: aws_sdk_dynamodb::Client,
        s3: aws_sdk_s3::Client,
        events: aws_sdk_eventbridge::Client,
        keys: PatientKeys,
        index_key: IndexKey,
        audit: Arc<DynamoDbAuditLog>,
        analyzer: Arc<Analyzer>,
    ) -> Self {
        Self { settings: Arc::new(settings), dynamodb, s3, events, keys, index_key, audit, analyzer }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn audit_log(&self) -> &Arc<DynamoDbAuditLog> {
        &self.audit
    }

    fn key_context(&self, patient: PatientId) -> KeyContext {
        KeyContext::new(&self.settings.tenant, patient.to_string(), KEY_PURPOSE)
    }

    fn mrn_index(&self, mrn: &str) -> String {
        self.index_key.blind_index("mrn", &format!("{}\u{1f}{mrn}", self.settings.tenant))
    }

    /// Writes an audit event by `principal`; a failure stops the operation.
    async fn audit(&self, event: AuditEvent) -> Result<(), RecordsError> {
        self.audit.append(event).await.map(|_| ()).map_err(RecordsError::Audit)
    }

    fn event(
        &self,
        principal: &Principal,
        action: &str,
        outcome: Outcome,
        patient: Option<PatientId>,
        purpose: Option<&str>,
    ) -> AuditEvent {
        let mut event = principal.audit_event(action, outcome);
        if let Some(patient) = patient {
            event = event.with_patient(patient.to_string());
        }
        if let Some(purpose) = purpose {
            event = event.with_purpose(purpose);
        }
        event
    }

    // ------------------------------------------------------------------ loading and deciding

    /// One `BatchGetItem`: the profile, the caller's care-team and grant items, and the wrapped key.
    async fn load(&self, patient: PatientId, user: &str) -> Result<Loaded, RecordsError> {
        let pk = patient_pk(patient);
        let key = |sk: &str| HashMap::from([("pk".to_owned(), s(&pk)), ("sk".to_owned(), s(sk))]);
        let records = KeysAndAttributes::builder()
            .keys(key(PROFILE))
            .keys(key(&care_sk(user)))
            .keys(key(&grant_sk(user)))
            .consistent_read(true)
            .build()
            .map_err(unavailable)?;
        let keys = KeysAndAttributes::builder()
            .keys(HashMap::from([("pk".to_owned(), s(patient.to_string()))]))
            .consistent_read(true)
            .build()
            .map_err(unavailable)?;
        let mut request =
            HashMap::from([(self.settings.records_table.clone(), records), (self.settings.keys_table.clone(), keys)]);
        let mut loaded = Loaded::default();
        // Unprocessed keys come back under throttling; a few rounds are enough before giving up as unavailable.
        for _ in 0..5 {
            let output =
                self.dynamodb.batch_get_item().set_request_items(Some(request)).send().await.map_err(unavailable)?;
            for (table, items) in output.responses.unwrap_or_default() {
                for item in items {
                    loaded.absorb(table == self.settings.keys_table, item);
                }
            }
            match output.unprocessed_keys {
                Some(rest) if !rest.is_empty() => request = rest,
                _ => return Ok(loaded),
            }
        }
        Err(RecordsError::Unavailable("DynamoDB left keys unprocessed".into()))
    }

    /// Loads the patient and decides `intent` for the caller. A missing, erased or forbidden patient writes a
    /// `deny` event and answers `NotFound`; an allowed one writes an `allow` event for `action` before returning.
    async fn authorize(
        &self,
        principal: &Principal,
        patient: PatientId,
        intent: Intent,
        action: &str,
        resource: Option<String>,
    ) -> Result<(Loaded, Basis), RecordsError> {
        let loaded = self.load(patient, &principal.user_id.to_string()).await?;
        let decision = match &loaded.profile {
            None => Decision::Deny("not-found"),
            Some(profile) if text(profile, "status") == Some("erased") => Decision::Deny("erased"),
            Some(_) => decide(intent, loaded.relationship(), is_admin(principal), Utc::now()),
        };
        let (outcome, purpose, reason) = match decision {
            Decision::Allow(basis) => (Outcome::Allow, Some(basis.purpose()), None),
            Decision::Deny(reason) => (Outcome::Deny, None, Some(reason)),
        };
        let mut event = self.event(principal, action, outcome, Some(patient), purpose);
        if let Some(resource) = resource {
            event = event.with_resource(resource);
        }
        if let Some(reason) = reason {
            event = event.with_reason(reason);
        }
        self.audit(event).await?;
        match decision {
            Decision::Allow(basis) => Ok((loaded, basis)),
            Decision::Deny(_) => Err(RecordsError::NotFound),
        }
    }

    async fn data_key(&self, patient: PatientId, loaded: &Loaded) -> Result<Arc<DataKey>, RecordsError> {
        let wrapped =
            loaded.wrapped_key.as_ref().ok_or(RecordsError::Unreadable("the patient's key is gone".into()))?;
        self.keys.get(&self.key_context(patient), wrapped).await.map_err(key_error)
    }

    fn decrypt_profile(&self, patient: PatientId, key: &DataKey, item: &Item) -> Result<Patient, RecordsError> {
        decrypt_profile(patient, key, item)
    }

    // ------------------------------------------------------------------ patients

    /// `POST /v1/patients`: the creating clinician joins the care team.
    pub async fn create_patient(&self, principal: &Principal, input: &PatientInput) -> Result<Patient, RecordsError> {
        principal.require(Permission::PatientsWrite).await?;
        let demographics = Demographics::parse(input, today())?;
        let id = PatientId::new();
        self.audit(self.event(principal, "patient.create", Outcome::Success, Some(id), Some("treatment"))).await?;
        let context = self.key_context(id);
        let (key, wrapped) = self.keys.create(&context).await.map_err(key_error)?;
        let now = Utc::now();
        let user = principal.user_id.to_string();
        let mrn_index = self.mrn_index(demographics.mrn.expose());
        let mut profile = profile_item(id, &key, &demographics, 1, now, now)?;
        profile.insert("created_by".into(), s(&user));
        profile.insert("mrn_index".into(), s(&mrn_index));
        let key_item = HashMap::from([
            ("pk".to_owned(), s(id.to_string())),
            ("wrapped_key".to_owned(), AttributeValue::B(aws_sdk_dynamodb::primitives::Blob::new(wrapped.0.clone()))),
            ("tenant".to_owned(), s(&self.settings.tenant)),
            ("created_at".to_owned(), time(now)),
        ]);
        let index_item = HashMap::from([
            ("pk".to_owned(), s(mrn_pk(&mrn_index))),
            ("sk".to_owned(), s("MRN")),
            ("patient_id".to_owned(), s(id.to_string())),
        ]);
        let items = vec![
            put(&self.settings.keys_table, key_item, Some("attribute_not_exists(pk)"))?,
            put(&self.settings.records_table, profile.clone(), Some("attribute_not_exists(pk)"))?,
            put(&self.settings.records_table, index_item, Some("attribute_not_exists(pk)"))?,
            put(&self.settings.records_table, care_item(id, &user, &user, now), None)?,
        ];
        let result = self.dynamodb.transact_write_items().set_transact_items(Some(items)).send().await;
        if let Err(error) = result {
            self.keys.forget(&context);
            return Err(if transaction_condition_failed(&error) {
                RecordsError::Conflict("a patient with this MRN exists")
            } else {
                unavailable(error)
            });
        }
        Ok(Patient { id, version: 1, demographics, created_at: now, updated_at: now })
    }

    /// `GET /v1/patients/{id}`: one read, one audit write, and no KMS call when the key is warm.
    pub async fn get_patient(
        &self,
        principal: &Principal,
        id: PatientId,
        action: &str,
    ) -> Result<Patient, RecordsError> {
        principal.require(Permission::PatientsRead).await?;
        let (loaded, _) = self.authorize(principal, id, Intent::ReadPhi, action, None).await?;
        let key = self.data_key(id, &loaded).await?;
        self.decrypt_profile(id, &key, loaded.profile.as_ref().ok_or(RecordsError::NotFound)?)
    }

    /// `PATCH /v1/patients/{id}` with `If-Match`.
    pub async fn update_patient(
        &self,
        principal: &Principal,
        id: PatientId,
        if_match: Option<u64>,
        patch: &PatientPatch,
    ) -> Result<Patient, RecordsError> {
        principal.require(Permission::PatientsWrite).await?;
        let expected = if_match.ok_or(RecordsError::PreconditionRequired)?;
        let (loaded, _) = self.authorize(principal, id, Intent::WritePhi, "patient.update", None).await?;
        let profile = loaded.profile.as_ref().ok_or(RecordsError::NotFound)?;
        let key = self.data_key(id, &loaded).await?;
        let current = self.decrypt_profile(id, &key, profile)?;
        if current.version != expected {
            return Err(RecordsError::PreconditionFailed);
        }
        let next = current.demographics.patched(patch, today())?;
        let now = Utc::now();
        let version = current.version + 1;
        let mut item = profile_item(id, &key, &next, version, current.created_at, now)?;
        for kept in ["created_by"] {
            if let Some(value) = profile.get(kept) {
                item.insert(kept.to_owned(), value.clone());
            }
        }
        let old_index = text(profile, "mrn_index").unwrap_or_default().to_owned();
        let new_index = self.mrn_index(next.mrn.expose());
        item.insert("mrn_index".into(), s(&new_index));
        let guarded = Put::builder()
            .table_name(&self.settings.records_table)
            .set_item(Some(item))
            .condition_expression("#v = :expected AND #status = :active")
            .expression_attribute_names("#v", "version")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":expected", n(expected))
            .expression_attribute_values(":active", s("active"))
            .build()
            .map_err(unavailable)?;
        let mut items = vec![TransactWriteItem::builder().put(guarded).build()];
        if new_index != old_index {
            let index_item = HashMap::from([
                ("pk".to_owned(), s(mrn_pk(&new_index))),
                ("sk".to_owned(), s("MRN")),
                ("patient_id".to_owned(), s(id.to_string())),
            ]);
            items.push(put(&self.settings.records_table, index_item, Some("attribute_not_exists(pk)"))?);
            let delete = Delete::builder()
                .table_name(&self.settings.records_table)
                .key("pk", s(mrn_pk(&old_index)))
                .key("sk", s("MRN"))
                .build()
                .map_err(unavailable)?;
            items.push(TransactWriteItem::builder().delete(delete).build());
        }
        let result = self.dynamodb.transact_write_items().set_transact_items(Some(items)).send().await;
        match result {
            Ok(_) => Ok(Patient { id, version, demographics: next, created_at: current.created_at, updated_at: now }),
            Err(error) => match transaction_failure(&error) {
                Some(0) => Err(RecordsError::PreconditionFailed),
                Some(_) => Err(RecordsError::Conflict("a patient with this MRN exists")),
                None => Err(unavailable(error)),
            },
        }
    }

    /// `GET /v1/patients?mrn=`: exact match through the blind index; a patient the caller may not see is absent.
    pub async fn find_by_mrn(
        &self,
        principal: &Principal,
        mrn: &str,
        action: &str,
    ) -> Result<Option<Patient>, RecordsError> {
        principal.require(Permission::PatientsRead).await?;
        let mrn = crate::model::Mrn::parse(mrn)?;
        let output = self
            .dynamodb
            .get_item()
            .table_name(&self.settings.records_table)
            .key("pk", s(mrn_pk(&self.mrn_index(mrn.expose()))))
            .key("sk", s("MRN"))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        let Some(id) = output.item.as_ref().and_then(|i| text(i, "patient_id")).and_then(|i| i.parse().ok()) else {
            self.audit(self.event(principal, action, Outcome::Deny, None, None).with_reason("not-found")).await?;
            return Ok(None);
        };
        match self.get_patient(principal, id, action).await {
            Ok(patient) => Ok(Some(patient)),
            Err(RecordsError::NotFound) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// `GET /v1/patients`: the caller's care-team patients, a page at a time.
    pub async fn my_patients(
        &self,
        principal: &Principal,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<PatientPage, RecordsError> {
        principal.require(Permission::PatientsRead).await?;
        let user = principal.user_id.to_string();
        let limit = limit.clamp(1, 50);
        let after: Option<String> =
            cursor.map(|c| cursor::open(&self.index_key, "my-patients", &user, c)).transpose()?;
        let mut request = self
            .dynamodb
            .query()
            .table_name(&self.settings.records_table)
            .index_name("by-member")
            .key_condition_expression("gsi1pk = :member")
            .expression_attribute_values(":member", s(member_pk(&user)))
            .limit(i32::try_from(limit).unwrap_or(50));
        if let Some(after) = &after {
            let pk = format!("PATIENT#{after}");
            request = request
                .exclusive_start_key("pk", s(&pk))
                .exclusive_start_key("sk", s(care_sk(&user)))
                .exclusive_start_key("gsi1pk", s(member_pk(&user)))
                .exclusive_start_key("gsi1sk", s(&pk));
        }
        let output = request.send().await.map_err(unavailable)?;
        // The index projects keys only: the patient is in its sort key.
        let ids: Vec<PatientId> = output
            .items()
            .iter()
            .filter_map(|item| text(item, "gsi1sk").and_then(|k| k.strip_prefix("PATIENT#")))
            .filter_map(|id| id.parse().ok())
            .collect();
        let more = output.last_evaluated_key.as_ref().is_some_and(|k| !k.is_empty());
        let mut patients = Vec::with_capacity(ids.len());
        for id in &ids {
            match self.get_patient(principal, *id, "patient.list").await {
                Ok(patient) => patients.push(patient),
                // Erased since the listing, or the key is gone: skip it, the audit trail says why.
                Err(RecordsError::NotFound | RecordsError::Unreadable(_)) => {}
                Err(other) => return Err(other),
            }
        }
        let next_cursor = if more {
            ids.last().map(|last| cursor::seal(&self.index_key, "my-patients", &user, &last.to_string()))
        } else {
            None
        };
        Ok(PatientPage { patients, next_cursor })
    }

    /// `DELETE /v1/patients/{id}`: erasure by crypto-shredding. The patient's wrapped data key is deleted from the
    /// key table (which no backup holds), every encrypted attribute is removed from the profile, the MRN index and
    /// the uploaded objects are deleted; a tombstone and the audit trail remain.
    pub async fn erase_patient(&self, principal: &Principal, id: PatientId) -> Result<(), RecordsError> {
        principal.require(Permission::PatientsErase).await?;
        let (loaded, _) = self.authorize(principal, id, Intent::Administer, "patient.erase", None).await?;
        let profile = loaded.profile.as_ref().ok_or(RecordsError::NotFound)?;
        let now = Utc::now();
        let tombstone = Update::builder()
            .table_name(&self.settings.records_table)
            .key("pk", s(patient_pk(id)))
            .key("sk", s(PROFILE))
            .update_expression(
                "SET #status = :erased, erased_at = :now, erased_by = :by \
                 REMOVE mrn, #name, birth_date, sex, phone, email, address, mrn_index",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#name", "name")
            .expression_attribute_values(":erased", s("erased"))
            .expression_attribute_values(":now", time(now))
            .expression_attribute_values(":by", s(principal.user_id.to_string()))
            .build()
            .map_err(unavailable)?;
        let mut items = vec![TransactWriteItem::builder().update(tombstone).build()];
        if let Some(index) = text(profile, "mrn_index") {
            let delete = Delete::builder()
                .table_name(&self.settings.records_table)
                .key("pk", s(mrn_pk(index)))
                .key("sk", s("MRN"))
                .build()
                .map_err(unavailable)?;
            items.push(TransactWriteItem::builder().delete(delete).build());
        }
        let shred = Delete::builder()
            .table_name(&self.settings.keys_table)
            .key("pk", s(id.to_string()))
            .build()
            .map_err(unavailable)?;
        items.push(TransactWriteItem::builder().delete(shred).build());
        self.dynamodb.transact_write_items().set_transact_items(Some(items)).send().await.map_err(unavailable)?;
        self.keys.forget(&self.key_context(id));
        self.delete_objects(id).await?;
        tracing::warn!(security_event = "patient-erased", patient_id = %id, "patient erased by crypto-shredding");
        Ok(())
    }

    /// Deletes every version of every object uploaded for the patient.
    async fn delete_objects(&self, id: PatientId) -> Result<(), RecordsError> {
        let prefix = format!("documents/{id}/");
        let mut key_marker: Option<String> = None;
        let mut version_marker: Option<String> = None;
        loop {
            let output = self
                .s3
                .list_object_versions()
                .bucket(&self.settings.upload_bucket)
                .prefix(&prefix)
                .set_key_marker(key_marker.take())
                .set_version_id_marker(version_marker.take())
                .send()
                .await
                .map_err(unavailable)?;
            let versions = output
                .versions()
                .iter()
                .map(|v| (v.key().unwrap_or_default().to_owned(), v.version_id().map(str::to_owned)))
                .chain(
                    output
                        .delete_markers()
                        .iter()
                        .map(|m| (m.key().unwrap_or_default().to_owned(), m.version_id().map(str::to_owned))),
                );
            for (key, version) in versions {
                self.s3
                    .delete_object()
                    .bucket(&self.settings.upload_bucket)
                    .key(key)
                    .set_version_id(version)
                    .send()
                    .await
                    .map_err(unavailable)?;
            }
            if output.is_truncated() != Some(true) {
                return Ok(());
            }
            key_marker = output.next_key_marker;
            version_marker = output.next_version_id_marker;
        }
    }

    // ------------------------------------------------------------------ care team and break-glass

    /// `PUT /v1/patients/{id}/care-team/{user_id}`.
    pub async fn add_member(&self, principal: &Principal, id: PatientId, member: UserId) -> Result<(), RecordsError> {
        principal.require(Permission::CareTeamManage).await?;
        self.authorize(principal, id, Intent::ManageCareTeam, "careteam.add", Some(format!("user:{member}"))).await?;
        let item = care_item(id, &member.to_string(), &principal.user_id.to_string(), Utc::now());
        self.dynamodb
            .put_item()
            .table_name(&self.settings.records_table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// `DELETE /v1/patients/{id}/care-team/{user_id}`.
    pub async fn remove_member(
        &self,
        principal: &Principal,
        id: PatientId,
        member: UserId,
    ) -> Result<(), RecordsError> {
        principal.require(Permission::CareTeamManage).await?;
        self.authorize(principal, id, Intent::ManageCareTeam, "careteam.remove", Some(format!("user:{member}")))
            .await?;
        self.dynamodb
            .delete_item()
            .table_name(&self.settings.records_table)
            .key("pk", s(patient_pk(id)))
            .key("sk", s(care_sk(&member.to_string())))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// `POST /v1/patients/{id}/break-glass`: time-boxed access outside the care team, audited and raised as a
    /// security event.
    pub async fn break_glass(&self, principal: &Principal, id: PatientId, reason: &str) -> Result<Grant, RecordsError> {
        principal.require(Permission::BreakGlassRequest).await?;
        let reason = reason.trim();
        let length = reason.chars().count();
        if !(10..=500).contains(&length) {
            return Err(crate::model::Invalid { field: "reason", problem: "must be 10 to 500 characters" }.into());
        }
        let user = principal.user_id.to_string();
        let loaded = self.load(id, &user).await?;
        let exists = loaded.profile.as_ref().is_some_and(|p| text(p, "status") == Some("active"));
        if !exists {
            self.audit(
                self.event(principal, "breakglass.grant", Outcome::Deny, Some(id), None).with_reason("not-found"),
            )
            .await?;
            return Err(RecordsError::NotFound);
        }
        let now = Utc::now();
        let expires_at =
            now + chrono::Duration::from_std(self.settings.break_glass).unwrap_or(chrono::Duration::hours(1));
        self.audit(
            self.event(principal, "breakglass.grant", Outcome::Success, Some(id), Some("break-glass"))
                .with_reason("emergency-access"),
        )
        .await?;
        let key = self.data_key(id, &loaded).await?;
        let pk = patient_pk(id);
        let sk = grant_sk(&user);
        let place = Place::records(&pk, &sk);
        let item = HashMap::from([
            ("pk".to_owned(), s(&pk)),
            ("sk".to_owned(), s(&sk)),
            ("user_id".to_owned(), s(&user)),
            ("granted_at".to_owned(), time(now)),
            ("expires_at".to_owned(), time(expires_at)),
            ("reason".to_owned(), place.seal(&key, "reason", reason.as_bytes())?),
            // Kept for the audit job's review window, then removed by DynamoDB's TTL.
            ("expiration".to_owned(), n(expires_at.timestamp() + 90 * 24 * 3600)),
        ]);
        self.dynamodb
            .put_item()
            .table_name(&self.settings.records_table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(unavailable)?;
        self.raise_break_glass(principal, id, expires_at).await;
        Ok(Grant { patient_id: id, user_id: user, expires_at })
    }

    /// Publishes the security event. The audit event is the durable record (the stream consumer alerts on it
    /// too), so a failed publish is logged and counted rather than undoing the grant.
    async fn raise_break_glass(&self, principal: &Principal, id: PatientId, expires_at: DateTime<Utc>) {
        tracing::warn!(security_event = "break-glass", patient_id = %id, user_id = %principal.user_id, "break-glass access granted");
        let detail = serde_json::json!({
            "patient_id": id.to_string(),
            "user_id": principal.user_id.to_string(),
            "expires_at": expires_at.to_rfc3339(),
            "request_id": medvault_http::correlation_id(),
        });
        let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
            .event_bus_name(&self.settings.event_bus)
            .source("medvault.records")
            .detail_type("BreakGlassGranted")
            .detail(detail.to_string())
            .build();
        let result = self.events.put_events().entries(entry).send().await;
        let failed = match &result {
            Ok(output) => output.failed_entry_count() > 0,
            Err(_) => true,
        };
        if failed {
            tracing::error!(security_event = "break-glass", "the break-glass security event could not be published");
            medvault_platform::metrics::record(
                "SecurityEventPublishFailed",
                medvault_platform::metrics::Unit::Count,
                1.0,
            );
        }
    }

    // ------------------------------------------------------------------ notes

    /// `POST /v1/patients/{id}/notes`: scanned by the PHI engine; the text and its de-identified form stored
    /// encrypted.
    pub async fn create_note(
        &self,
        principal: &Principal,
        id: PatientId,
        text_in: &str,
    ) -> Result<NoteView, RecordsError> {
        principal.require(Permission::NotesWrite).await?;
        let length = text_in.chars().count();
        if text_in.trim().is_empty() || length > MAX_NOTE_CHARS {
            return Err(crate::model::Invalid { field: "text", problem: "must be 1 to 100000 characters" }.into());
        }
        let note_id = NoteId::new();
        let (loaded, _) =
            self.authorize(principal, id, Intent::WritePhi, "note.create", Some(format!("note:{note_id}"))).await?;
        let key = self.data_key(id, &loaded).await?;
        let analyzer = Arc::clone(&self.analyzer);
        let owned = Phi::new(text_in.to_owned());
        // Detection is CPU work: keep it off the async workers.
        let output = tokio::task::spawn_blocking(move || {
            medvault_phi::deidentify(&analyzer, owned.expose(), &AnalyzeOptions::default())
        })
        .await
        .map_err(|e| RecordsError::Unavailable(Box::new(e)))?
        // The de-identification itself failed: the note is not stored (never with an empty de-identified text).
        .map_err(|e| RecordsError::Unavailable(Box::new(e)))?;
        let mut entities = serde_json::Map::new();
        for item in &output.items {
            let entry = entities.entry(item.entity_type.as_str().to_owned()).or_insert(serde_json::json!(0));
            *entry = serde_json::json!(entry.as_u64().unwrap_or(0) + 1);
        }
        let now = Utc::now();
        let pk = patient_pk(id);
        let sk = format!("NOTE#{note_id}");
        let place = Place::records(&pk, &sk);
        let user = principal.user_id.to_string();
        let item = HashMap::from([
            ("pk".to_owned(), s(&pk)),
            ("sk".to_owned(), s(&sk)),
            ("author_id".to_owned(), s(&user)),
            ("created_at".to_owned(), time(now)),
            ("text".to_owned(), place.seal(&key, "text", text_in.as_bytes())?),
            ("deidentified_text".to_owned(), place.seal(&key, "deidentified_text", output.text.as_bytes())?),
            ("entities".to_owned(), s(serde_json::Value::Object(entities.clone()).to_string())),
        ]);
        self.dynamodb
            .put_item()
            .table_name(&self.settings.records_table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(NoteView {
            id: note_id,
            patient_id: id,
            author_id: user,
            created_at: now,
            text: Some(text_in.to_owned()),
            deidentified_text: output.text,
            entities,
        })
    }

    /// `GET /v1/patients/{id}/notes`: newest first; the full text only for roles with PHI access.
    pub async fn list_notes(&self, principal: &Principal, id: PatientId) -> Result<Vec<NoteView>, RecordsError> {
        let full = principal.has(Permission::NotesReadPhi);
        if !full {
            principal.require(Permission::NotesReadDeidentified).await?;
        }
        let intent = if full { Intent::ReadPhi } else { Intent::ReadDeidentified };
        let (loaded, _) = self.authorize(principal, id, intent, "note.list", None).await?;
        let key = self.data_key(id, &loaded).await?;
        let pk = patient_pk(id);
        let output = self
            .dynamodb
            .query()
            .table_name(&self.settings.records_table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :note)")
            .expression_attribute_values(":pk", s(&pk))
            .expression_attribute_values(":note", s("NOTE#"))
            .scan_index_forward(false)
            .limit(100)
            .send()
            .await
            .map_err(unavailable)?;
        output
            .items()
            .iter()
            .map(|item| {
                let sk = text(item, "sk").unwrap_or_default();
                let place = Place::records(&pk, sk);
                let note_id =
                    sk.trim_start_matches("NOTE#").parse().map_err(|e| RecordsError::Unreadable(Box::new(e)))?;
                Ok(NoteView {
                    id: note_id,
                    patient_id: id,
                    author_id: text(item, "author_id").unwrap_or_default().to_owned(),
                    created_at: timestamp(item, "created_at").unwrap_or_default(),
                    text: if full { place.open_text(&key, item, "text")? } else { None },
                    deidentified_text: place.open_text(&key, item, "deidentified_text")?.unwrap_or_default(),
                    entities: text(item, "entities").and_then(|e| serde_json::from_str(e).ok()).unwrap_or_default(),
                })
            })
            .collect()
    }

    // ------------------------------------------------------------------ documents

    /// `POST /v1/patients/{id}/documents`: registers the document and presigns its upload.
    pub async fn create_document(
        &self,
        principal: &Principal,
        id: PatientId,
        input: &DocumentInput,
    ) -> Result<CreatedDocument, RecordsError> {
        principal.require(Permission::DocumentsWrite).await?;
        let document = NewDocument::parse(input, self.settings.max_upload_bytes)?;
        let document_id = DocumentId::new();
        let intent = if principal.has(Permission::DocumentsReadPhi) { Intent::WritePhi } else { Intent::Administer };
        let (loaded, _) =
            self.authorize(principal, id, intent, "document.create", Some(format!("document:{document_id}"))).await?;
        let key = self.data_key(id, &loaded).await?;
        let object_key = format!("documents/{id}/{document_id}");
        let place = Place::document(&document_id.to_string());
        let now = Utc::now();
        let item = HashMap::from([
            ("id".to_owned(), s(document_id.to_string())),
            ("patient_id".to_owned(), s(id.to_string())),
            ("created_at".to_owned(), time(now)),
            ("created_by".to_owned(), s(principal.user_id.to_string())),
            ("status".to_owned(), s(DocumentStatus::PendingUpload.as_str())),
            ("content_type".to_owned(), s(document.content_type)),
            ("size_bytes".to_owned(), n(document.size)),
            ("bucket".to_owned(), s(&self.settings.upload_bucket)),
            ("object_key".to_owned(), s(&object_key)),
            ("filename".to_owned(), place.seal(&key, "filename", document.filename.expose().as_bytes())?),
        ]);
        self.dynamodb
            .put_item()
            .table_name(&self.settings.documents_table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(id)")
            .send()
            .await
            .map_err(unavailable)?;
        let upload = self.presign_upload(&object_key, &document).await?;
        Ok(CreatedDocument { id: document_id, patient_id: id, status: DocumentStatus::PendingUpload, upload })
    }

    /// A presigned `PUT` whose signature covers the content type, the exact length and SSE-KMS with the service's
    /// key: an upload with another size, type or key is refused by S3.
    async fn presign_upload(&self, object_key: &str, document: &NewDocument) -> Result<Upload, RecordsError> {
        let config = PresigningConfig::expires_in(self.settings.upload_url_ttl).map_err(unavailable)?;
        let presigned = self
            .s3
            .put_object()
            .bucket(&self.settings.upload_bucket)
            .key(object_key)
            .content_type(document.content_type)
            .content_length(i64::try_from(document.size).unwrap_or(i64::MAX))
            .server_side_encryption(ServerSideEncryption::AwsKms)
            .ssekms_key_id(&self.settings.upload_kms_key)
            .presigned(config)
            .await
            .map_err(unavailable)?;
        Ok(Upload {
            method: presigned.method().to_owned(),
            url: presigned.uri().to_owned(),
            headers: presigned.headers().map(|(k, v)| (k.to_owned(), v.to_owned())).collect(),
            expires_in: self.settings.upload_url_ttl.as_secs(),
        })
    }

    async fn document_item(&self, id: DocumentId) -> Result<Option<Item>, RecordsError> {
        let output = self
            .dynamodb
            .get_item()
            .table_name(&self.settings.documents_table)
            .key("id", s(id.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(output.item)
    }

    /// The document's item and patient, or a `deny` event and `NotFound`.
    async fn authorize_document(
        &self,
        principal: &Principal,
        id: DocumentId,
        intent: Intent,
        action: &str,
    ) -> Result<(Item, PatientId, Loaded, Basis), RecordsError> {
        let item = self.document_item(id).await?;
        let Some((item, patient)) = item.and_then(|i| {
            let patient = text(&i, "patient_id").and_then(|p| p.parse::<PatientId>().ok())?;
            Some((i, patient))
        }) else {
            let event = self.event(principal, action, Outcome::Deny, None, None);
            self.audit(event.with_resource(format!("document:{id}")).with_reason("not-found")).await?;
            return Err(RecordsError::NotFound);
        };
        let (loaded, basis) =
            self.authorize(principal, patient, intent, action, Some(format!("document:{id}"))).await?;
        Ok((item, patient, loaded, basis))
    }

    /// `GET /v1/documents/{id}`: metadata and status for every document role, text per role.
    pub async fn get_document(&self, principal: &Principal, id: DocumentId) -> Result<DocumentView, RecordsError> {
        principal.require(Permission::DocumentsRead).await?;
        let full = principal.has(Permission::DocumentsReadPhi);
        let intent = if full { Intent::ReadPhi } else { Intent::ReadDeidentified };
        let (item, patient, loaded, _) = self.authorize_document(principal, id, intent, "document.read").await?;
        let key = self.data_key(patient, &loaded).await?;
        let place = Place::document(&id.to_string());
        let deidentified_allowed = full || principal.has(Permission::DocumentsReadDeidentified);
        Ok(DocumentView {
            id,
            patient_id: patient,
            filename: if full { place.open_text(&key, &item, "filename")? } else { None },
            content_type: text(&item, "content_type").unwrap_or_default().to_owned(),
            size: number(&item, "size_bytes").and_then(|n| u64::try_from(n).ok()).unwrap_or(0),
            status: text(&item, "status").and_then(DocumentStatus::parse).unwrap_or(DocumentStatus::Failed),
            reason: text(&item, "reason").map(str::to_owned),
            created_at: timestamp(&item, "created_at").unwrap_or_default(),
            text: if full { place.open_text(&key, &item, "text")? } else { None },
            deidentified_text: if deidentified_allowed {
                place.open_text(&key, &item, "deidentified_text")?
            } else {
                None
            },
            entities: text(&item, "entities").and_then(|e| serde_json::from_str(e).ok()),
        })
    }

    /// `GET /v1/documents/{id}/content`: a short-lived presigned `GET`, audited.
    pub async fn document_content(&self, principal: &Principal, id: DocumentId) -> Result<Download, RecordsError> {
        principal.require(Permission::DocumentsReadPhi).await?;
        let (item, _, _, _) = self.authorize_document(principal, id, Intent::ReadPhi, "document.content").await?;
        if text(&item, "status") == Some(DocumentStatus::PendingUpload.as_str()) {
            return Err(RecordsError::Conflict("the document has not been uploaded yet"));
        }
        let object_key = text(&item, "object_key").ok_or(RecordsError::NotFound)?;
        let config = PresigningConfig::expires_in(self.settings.download_url_ttl).map_err(unavailable)?;
        let presigned = self
            .s3
            .get_object()
            .bucket(text(&item, "bucket").unwrap_or(&self.settings.upload_bucket))
            .key(object_key)
            .presigned(config)
            .await
            .map_err(unavailable)?;
        Ok(Download { url: presigned.uri().to_owned(), expires_in: self.settings.download_url_ttl.as_secs() })
    }

    /// The patient's documents (for FHIR `DocumentReference`).
    pub async fn list_documents(
        &self,
        principal: &Principal,
        id: PatientId,
        action: &str,
    ) -> Result<Vec<DocumentView>, RecordsError> {
        principal.require(Permission::DocumentsRead).await?;
        let full = principal.has(Permission::DocumentsReadPhi);
        let intent = if full { Intent::ReadPhi } else { Intent::ReadDeidentified };
        let (loaded, _) = self.authorize(principal, id, intent, action, None).await?;
        let key = self.data_key(id, &loaded).await?;
        let output = self
            .dynamodb
            .query()
            .table_name(&self.settings.documents_table)
            .index_name("by-patient")
            .key_condition_expression("patient_id = :p")
            .expression_attribute_values(":p", s(id.to_string()))
            .scan_index_forward(false)
            .limit(100)
            .send()
            .await
            .map_err(unavailable)?;
        output
            .items()
            .iter()
            .map(|item| {
                let doc_id: DocumentId = text(item, "id")
                    .and_then(|d| d.parse().ok())
                    .ok_or(RecordsError::Unreadable("a document item has no id".into()))?;
                let place = Place::document(&doc_id.to_string());
                Ok(DocumentView {
                    id: doc_id,
                    patient_id: id,
                    filename: if full { place.open_text(&key, item, "filename")? } else { None },
                    content_type: text(item, "content_type").unwrap_or_default().to_owned(),
                    size: number(item, "size_bytes").and_then(|n| u64::try_from(n).ok()).unwrap_or(0),
                    status: text(item, "status").and_then(DocumentStatus::parse).unwrap_or(DocumentStatus::Failed),
                    reason: text(item, "reason").map(str::to_owned),
                    created_at: timestamp(item, "created_at").unwrap_or_default(),
                    text: None,
                    deidentified_text: None,
                    entities: None,
                })
            })
            .collect()
    }

    // ------------------------------------------------------------------ audit

    /// `GET /v1/audit/events` (auditors): the query is itself audited.
    pub async fn search_audit(
        &self,
        principal: &Principal,
        search: &AuditSearch,
    ) -> Result<AuditEntries, RecordsError> {
        principal.require(Permission::AuditRead).await?;
        let user = principal.user_id.to_string();
        let scope = format!(
            "{user}|{}|{}|{}|{}",
            search.patient_id.as_deref().unwrap_or_default(),
            search.actor_id.as_deref().unwrap_or_default(),
            search.from.map(|t| t.to_rfc3339()).unwrap_or_default(),
            search.to.map(|t| t.to_rfc3339()).unwrap_or_default()
        );
        let after: Option<String> =
            search.cursor.as_deref().map(|c| cursor::open(&self.index_key, "audit", &scope, c)).transpose()?;
        if search.patient_id.is_none() && search.actor_id.is_none() && (search.from.is_none() || search.to.is_none()) {
            return Err(
                crate::model::Invalid { field: "from", problem: "give patient_id, actor_id, or from and to" }.into()
            );
        }
        let mut event = self.event(principal, "audit.query", Outcome::Allow, None, Some("audit"));
        if let Some(patient) = &search.patient_id {
            event = event.with_patient(patient.clone());
        }
        self.audit(event).await?;
        let query = AuditQuery {
            patient_id: search.patient_id.clone(),
            actor_id: search.actor_id.clone(),
            from: search.from,
            to: search.to,
            limit: search.limit.unwrap_or(100).clamp(1, 500),
            after,
        };
        let page = self.audit.query(&query).await.map_err(|e| match e {
            medvault_audit::AuditError::InvalidQuery(problem) => {
                RecordsError::Invalid(crate::model::Invalid { field: "from", problem })
            }
            other => RecordsError::Unavailable(Box::new(other)),
        })?;
        Ok(AuditEntries {
            events: page.events.iter().map(AuditEntry::from).collect(),
            next_cursor: page.next.map(|next| cursor::seal(&self.index_key, "audit", &scope, &next)),
        })
    }

    /// The audit events of one patient (FHIR `AuditEvent`), for auditors.
    pub async fn patient_audit_events(
        &self,
        principal: &Principal,
        id: PatientId,
    ) -> Result<Vec<ChainedEvent>, RecordsError> {
        principal.require(Permission::AuditRead).await?;
        self.audit(self.event(principal, "audit.query", Outcome::Allow, Some(id), Some("audit"))).await?;
        let query = AuditQuery { patient_id: Some(id.to_string()), limit: 1000, ..AuditQuery::default() };
        let page = self.audit.query(&query).await.map_err(|e| RecordsError::Unavailable(Box::new(e)))?;
        Ok(page.events)
    }

    /// `GET /v1/patients/{id}/disclosures`: who saw or changed the patient's PHI, when and why.
    pub async fn disclosures(&self, principal: &Principal, id: PatientId) -> Result<Vec<AuditEntry>, RecordsError> {
        principal.require(Permission::DisclosuresRead).await?;
        let loaded = self.load(id, &principal.user_id.to_string()).await?;
        if loaded.profile.is_none() {
            self.audit(
                self.event(principal, "disclosures.read", Outcome::Deny, Some(id), None).with_reason("not-found"),
            )
            .await?;
            return Err(RecordsError::NotFound);
        }
        self.audit(self.event(principal, "disclosures.read", Outcome::Allow, Some(id), Some("operations"))).await?;
        let mut entries = Vec::new();
        let mut after = None;
        loop {
            let query = AuditQuery { patient_id: Some(id.to_string()), limit: 1000, after, ..AuditQuery::default() };
            let page = self.audit.query(&query).await.map_err(|e| RecordsError::Unavailable(Box::new(e)))?;
            entries.extend(
                page.events
                    .iter()
                    .filter(|c| {
                        c.event.outcome == Outcome::Allow && DISCLOSING_ACTIONS.contains(&c.event.action.as_str())
                    })
                    .map(AuditEntry::from),
            );
            match page.next {
                Some(next) if entries.len() < 10_000 => after = Some(next),
                _ => return Ok(entries),
            }
        }
    }
}

/// What one `BatchGetItem` found.
#[derive(Debug, Default, Clone)]
pub(crate) struct Loaded {
    profile: Option<Item>,
    on_care_team: bool,
    grant_expires_at: Option<DateTime<Utc>>,
    wrapped_key: Option<WrappedKey>,
}

impl Loaded {
    fn absorb(&mut self, from_keys_table: bool, item: Item) {
        if from_keys_table {
            self.wrapped_key =
                item.get("wrapped_key").and_then(|k| k.as_b().ok()).map(|b| WrappedKey(b.clone().into_inner()));
            return;
        }
        match text(&item, "sk") {
            Some(PROFILE) => self.profile = Some(item),
            Some(sk) if sk.starts_with("CARE#") => self.on_care_team = true,
            Some(sk) if sk.starts_with("GRANT#") => self.grant_expires_at = timestamp(&item, "expires_at"),
            _ => {}
        }
    }

    fn relationship(&self) -> Relationship {
        Relationship { on_care_team: self.on_care_team, grant_expires_at: self.grant_expires_at }
    }
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn key_error(error: KeyError) -> RecordsError {
    match error {
        KeyError::Unavailable(source) => RecordsError::Unavailable(source),
        KeyError::Refused(source) => RecordsError::Unreadable(source),
    }
}

fn put(table: &str, item: Item, condition: Option<&str>) -> Result<TransactWriteItem, RecordsError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .set_condition_expression(condition.map(str::to_owned))
        .build()
        .map_err(unavailable)?;
    Ok(TransactWriteItem::builder().put(put).build())
}

fn care_item(patient: PatientId, user: &str, added_by: &str, now: DateTime<Utc>) -> Item {
    let pk = patient_pk(patient);
    HashMap::from([
        ("pk".to_owned(), s(&pk)),
        ("sk".to_owned(), s(care_sk(user))),
        ("gsi1pk".to_owned(), s(member_pk(user))),
        ("gsi1sk".to_owned(), s(&pk)),
        ("patient_id".to_owned(), s(patient.to_string())),
        ("user_id".to_owned(), s(user)),
        ("added_by".to_owned(), s(added_by)),
        ("added_at".to_owned(), time(now)),
    ])
}

/// The profile item with every demographic field sealed under the patient's key.
pub(crate) fn profile_item(
    id: PatientId,
    key: &DataKey,
    demographics: &Demographics,
    version: u64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
) -> Result<Item, RecordsError> {
    let pk = patient_pk(id);
    let place = Place::records(&pk, PROFILE);
    let mut item = HashMap::from([
        ("pk".to_owned(), s(&pk)),
        ("sk".to_owned(), s(PROFILE)),
        ("patient_id".to_owned(), s(id.to_string())),
        ("status".to_owned(), s("active")),
        ("version".to_owned(), n(version)),
        ("created_at".to_owned(), time(created_at)),
        ("updated_at".to_owned(), time(updated_at)),
        ("mrn".to_owned(), place.seal(key, "mrn", demographics.mrn.expose().as_bytes())?),
        ("name".to_owned(), place.seal_json(key, "name", &demographics.name)?),
        ("birth_date".to_owned(), place.seal(key, "birth_date", demographics.birth_date.to_string().as_bytes())?),
        ("sex".to_owned(), place.seal(key, "sex", demographics.sex.as_str().as_bytes())?),
    ]);
    if let Some(phone) = &demographics.phone {
        item.insert("phone".into(), place.seal(key, "phone", phone.as_bytes())?);
    }
    if let Some(email) = &demographics.email {
        item.insert("email".into(), place.seal(key, "email", email.as_bytes())?);
    }
    if let Some(address) = &demographics.address {
        item.insert("address".into(), place.seal_json(key, "address", address)?);
    }
    Ok(item)
}

/// Decrypts a profile item. Fails when any field was moved here from another place or patient.
pub fn decrypt_profile(id: PatientId, key: &DataKey, item: &Item) -> Result<Patient, RecordsError> {
    let pk = patient_pk(id);
    let place = Place::records(&pk, PROFILE);
    let missing = || RecordsError::Unreadable("a required field is missing".into());
    let input = PatientInput {
        mrn: place.open_text(key, item, "mrn")?.ok_or_else(missing)?,
        name: place.open_json(key, item, "name")?.ok_or_else(missing)?,
        birth_date: place.open_text(key, item, "birth_date")?.ok_or_else(missing)?,
        sex: crate::model::Sex::parse(&place.open_text(key, item, "sex")?.ok_or_else(missing)?)
            .map_err(|e| RecordsError::Unreadable(Box::new(e)))?,
        phone: place.open_text(key, item, "phone")?,
        email: place.open_text(key, item, "email")?,
        address: place.open_json(key, item, "address")?,
    };
    // Stored values were validated when written; parsing again only restores the types.
    let demographics =
        Demographics::parse(&input, NaiveDate::MAX).map_err(|e| RecordsError::Unreadable(Box::new(e)))?;
    Ok(Patient {
        id,
        version: number(item, "version").and_then(|v| u64::try_from(v).ok()).unwrap_or(0),
        demographics,
        created_at: timestamp(item, "created_at").unwrap_or_default(),
        updated_at: timestamp(item, "updated_at").unwrap_or_default(),
    })
}

/// Which transaction item's condition failed, if that is why it was cancelled.
fn transaction_failure<R>(
    error: &aws_sdk_dynamodb::error::SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
        R,
    >,
) -> Option<usize> {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    match error.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
            cancelled.cancellation_reasons().iter().position(|r| r.code() == Some("ConditionalCheckFailed"))
        }
        _ => None,
    }
}

fn transaction_condition_failed<R>(
    error: &aws_sdk_dynamodb::error::SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
        R,
    >,
) -> bool {
    transaction_failure(error).is_some()
}
