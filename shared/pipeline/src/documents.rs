//! The document item on DynamoDB as the pipeline reads and moves it: its state, the object version it was
//! received as, progress, the sealed text and results. Each write is conditioned on [`crate::status`]'s rule, so
//! a write that loses a race changes nothing and says so.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use medvault_platform::dynamo::s;
use medvault_records::model::{DocumentId, DocumentStatus, PatientId};
use medvault_records::store::{Item, number, text};

use crate::error::PipelineError;
use crate::status::{Observed, Step, padded};

/// What the pipeline needs of a document item.
#[derive(Clone)]
pub struct DocumentRecord {
    pub id: DocumentId,
    pub patient_id: PatientId,
    pub status: DocumentStatus,
    /// The content type the uploader declared.
    pub content_type: String,
    pub version: Option<String>,
    pub sequencer: Option<String>,
    /// The whole item, for opening its sealed attributes.
    pub item: Item,
}

impl std::fmt::Debug for DocumentRecord {
    // The item holds sealed PHI and the encrypted file name: only identifiers and state are shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentRecord")
            .field("id", &self.id)
            .field("status", &self.status)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl DocumentRecord {
    pub fn observed(&self) -> Observed<'_> {
        Observed { status: self.status, version: self.version.as_deref(), sequencer: self.sequencer.as_deref() }
    }

    /// How many times text was stored for this document (each extraction that completed).
    pub fn extractions(&self) -> i64 {
        number(&self.item, ATTR_EXTRACTIONS).unwrap_or(0)
    }

    fn parse(item: Item) -> Result<Self, PipelineError> {
        let unreadable =
            |what: &str| PipelineError::Unreadable(format!("the document item has no valid {what}").into());
        let id = text(&item, "id").and_then(|v| v.parse().ok()).ok_or_else(|| unreadable("id"))?;
        let patient_id = text(&item, "patient_id").and_then(|v| v.parse().ok()).ok_or_else(|| unreadable("patient"))?;
        let status = text(&item, "status").and_then(DocumentStatus::parse).ok_or_else(|| unreadable("status"))?;
        Ok(Self {
            id,
            patient_id,
            status,
            content_type: text(&item, "content_type").unwrap_or_default().to_owned(),
            version: text(&item, ATTR_VERSION).map(str::to_owned),
            sequencer: text(&item, ATTR_SEQUENCER).map(str::to_owned),
            item,
        })
    }
}

/// Attributes the pipeline owns on the document item (the records service owns the rest).
pub const ATTR_VERSION: &str = "object_version";
pub const ATTR_SEQUENCER: &str = "object_sequencer";
pub const ATTR_DETECTED_TYPE: &str = "detected_type";
pub const ATTR_PROGRESS: &str = "progress";
pub const ATTR_PAGES: &str = "page_count";
pub const ATTR_ENGINE: &str = "extraction_engine";
pub const ATTR_EXTRACTIONS: &str = "extractions";
pub const ATTR_REASON: &str = "reason";
pub const ATTR_REASON_CODE: &str = "reason_code";
pub const ATTR_UPDATED: &str = "updated_at";
/// Sealed (AES-GCM under the patient's key, bound to the document and attribute).
pub const ATTR_TEXT: &str = "text";
pub const ATTR_DEIDENTIFIED: &str = "deidentified_text";
/// Plain JSON: entity type -> count.
pub const ATTR_ENTITIES: &str = "entities";

/// A conditional update being built: `SET` and `REMOVE` clauses plus the step's condition.
struct Update {
    set: Vec<String>,
    remove: Vec<&'static str>,
    add: Vec<String>,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Update {
    fn new() -> Self {
        Self { set: Vec::new(), remove: Vec::new(), add: Vec::new(), names: HashMap::new(), values: HashMap::new() }
    }

    fn set(mut self, attribute: &str, value: AttributeValue) -> Self {
        let n = self.set.len();
        self.names.insert(format!("#s{n}"), attribute.to_owned());
        self.values.insert(format!(":s{n}"), value);
        self.set.push(format!("#s{n} = :s{n}"));
        self
    }

    fn remove(mut self, attributes: &[&'static str]) -> Self {
        self.remove.extend_from_slice(attributes);
        self
    }

    fn add_one(mut self, attribute: &str) -> Self {
        let n = self.add.len();
        self.names.insert(format!("#a{n}"), attribute.to_owned());
        self.values.insert(":one".into(), AttributeValue::N("1".into()));
        self.add.push(format!("#a{n} :one"));
        self
    }

    fn expression(&mut self) -> String {
        let mut clauses = vec![format!("SET {}", self.set.join(", "))];
        if !self.remove.is_empty() {
            let names: Vec<String> = self
                .remove
                .iter()
                .enumerate()
                .map(|(i, attribute)| {
                    self.names.insert(format!("#r{i}"), (*attribute).to_owned());
                    format!("#r{i}")
                })
                .collect();
            clauses.push(format!("REMOVE {}", names.join(", ")));
        }
        if !self.add.is_empty() {
            clauses.push(format!("ADD {}", self.add.join(", ")));
        }
        clauses.join(" ")
    }
}

fn now() -> AttributeValue {
    s(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

/// Documents on DynamoDB.
#[derive(Debug, Clone)]
pub struct DocumentStore {
    dynamodb: aws_sdk_dynamodb::Client,
    table: String,
}

impl DocumentStore {
    pub fn new(dynamodb: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self { dynamodb, table: table.into() }
    }

    /// The document, read consistently; `None` if no such document exists.
    pub async fn get(&self, id: DocumentId) -> Result<Option<DocumentRecord>, PipelineError> {
        let output = self
            .dynamodb
            .get_item()
            .table_name(&self.table)
            .key("id", s(id.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(PipelineError::sdk)?;
        output.item.map(DocumentRecord::parse).transpose()
    }

    /// Records that object version `version` of the document arrived; a new version clears the previous one's
    /// results.
    pub async fn receive(
        &self,
        document: &DocumentRecord,
        version: &str,
        sequencer: Option<&str>,
    ) -> Result<bool, PipelineError> {
        let mut update = Update::new().set(ATTR_VERSION, s(version));
        update = match sequencer {
            Some(sequencer) => update.set(ATTR_SEQUENCER, s(padded(sequencer))),
            None => update.remove(&[ATTR_SEQUENCER]),
        };
        if document.version.as_deref() != Some(version) {
            // Another object version: nothing of the previous one's results may survive next to it.
            update = update.remove(&[
                ATTR_TEXT,
                ATTR_DEIDENTIFIED,
                ATTR_ENTITIES,
                ATTR_PROGRESS,
                ATTR_PAGES,
                ATTR_ENGINE,
                ATTR_REASON,
                ATTR_REASON_CODE,
            ]);
        }
        // The condition: the state the judgement was made on is still the state stored.
        let condition = match &document.version {
            Some(stored) => Condition::VersionAndStatus(stored.clone(), document.status),
            None => Condition::NoVersionAndStatus(document.status),
        };
        self.apply(document.id, Step::Receive, update, condition).await
    }

    /// Moves the document to `extracting` (or takes over an attempt that left it there).
    pub async fn start_extraction(&self, id: DocumentId, version: &str) -> Result<bool, PipelineError> {
        let update = Update::new().remove(&[ATTR_REASON, ATTR_REASON_CODE]);
        self.step(id, version, Step::Extract, update).await
    }

    /// Records what the bytes were identified as.
    pub async fn set_detected_type(
        &self,
        id: DocumentId,
        version: &str,
        media_type: &str,
    ) -> Result<(), PipelineError> {
        let condition = Condition::Version(version.to_owned());
        self.apply_raw(id, Update::new().set(ATTR_DETECTED_TYPE, s(media_type)), condition).await.map(|_| ())
    }

    /// Stores the sealed text and moves the document to `detecting`.
    pub async fn store_text(
        &self,
        id: DocumentId,
        version: &str,
        sealed_text: AttributeValue,
        pages: u32,
        engine: &str,
    ) -> Result<bool, PipelineError> {
        let update = Update::new()
            .set(ATTR_TEXT, sealed_text)
            .set(ATTR_PAGES, AttributeValue::N(pages.to_string()))
            .set(ATTR_ENGINE, s(engine))
            .add_one(ATTR_EXTRACTIONS);
        self.step(id, version, Step::StoreText, update).await
    }

    /// Stores the sealed de-identified text and entity summary and moves the document to `ready`.
    pub async fn finish(
        &self,
        id: DocumentId,
        version: &str,
        sealed_deidentified: AttributeValue,
        entities: &BTreeMap<String, u64>,
    ) -> Result<bool, PipelineError> {
        let summary = serde_json::to_string(entities).map_err(|e| PipelineError::Unreadable(Box::new(e)))?;
        let update = Update::new()
            .set(ATTR_DEIDENTIFIED, sealed_deidentified)
            .set(ATTR_ENTITIES, s(summary))
            .set("processed_at", now())
            .remove(&[ATTR_REASON, ATTR_REASON_CODE]);
        self.step(id, version, Step::Finish, update).await
    }

    /// Quarantines the document with a reason (`code`: machine-readable; `reason`: a sentence without content).
    pub async fn quarantine(
        &self,
        id: DocumentId,
        version: &str,
        code: &str,
        reason: &str,
    ) -> Result<bool, PipelineError> {
        let update = Update::new().set(ATTR_REASON_CODE, s(code)).set(ATTR_REASON, s(reason));
        self.step(id, version, Step::Quarantine, update).await
    }

    /// Marks the document failed with a reason.
    pub async fn fail(&self, id: DocumentId, version: &str, code: &str, reason: &str) -> Result<bool, PipelineError> {
        let update = Update::new().set(ATTR_REASON_CODE, s(code)).set(ATTR_REASON, s(reason));
        self.step(id, version, Step::Fail, update).await
    }

    /// Records extraction progress (`done` of `total` pages or chunks) while the document is `extracting`.
    pub async fn progress(
        &self,
        id: DocumentId,
        version: &str,
        done: u32,
        total: u32,
        unit: &str,
    ) -> Result<bool, PipelineError> {
        let progress = AttributeValue::M(HashMap::from([
            ("done".to_owned(), AttributeValue::N(done.to_string())),
            ("total".to_owned(), AttributeValue::N(total.to_string())),
            ("unit".to_owned(), s(unit)),
        ]));
        let condition = Condition::VersionAndStatus(version.to_owned(), DocumentStatus::Extracting);
        self.apply_raw(id, Update::new().set(ATTR_PROGRESS, progress), condition).await
    }

    async fn step(&self, id: DocumentId, version: &str, step: Step, update: Update) -> Result<bool, PipelineError> {
        self.apply(id, step, update, Condition::VersionIn(version.to_owned(), step.from_states())).await
    }

    async fn apply(
        &self,
        id: DocumentId,
        step: Step,
        update: Update,
        condition: Condition,
    ) -> Result<bool, PipelineError> {
        let update = update.set("status", s(step.to_state().as_str())).set(ATTR_UPDATED, now());
        let applied = self.apply_raw(id, update, condition).await?;
        if applied {
            tracing::info!(document = %id, status = step.to_state().as_str(), "document state changed");
        }
        Ok(applied)
    }

    /// Runs the update under `condition`; `false` when the condition no longer holds.
    async fn apply_raw(&self, id: DocumentId, mut update: Update, condition: Condition) -> Result<bool, PipelineError> {
        let expression = update.expression();
        let (condition, names, values) = condition.render();
        update.names.extend(names);
        update.values.extend(values);
        let result = self
            .dynamodb
            .update_item()
            .table_name(&self.table)
            .key("id", s(id.to_string()))
            .update_expression(expression)
            .condition_expression(condition)
            .set_expression_attribute_names(Some(update.names))
            .set_expression_attribute_values(Some(update.values))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                Ok(false)
            }
            Err(error) => Err(PipelineError::sdk(error)),
        }
    }
}

/// The condition of a write.
enum Condition {
    /// The document holds `version` and is in one of the states.
    VersionIn(String, &'static [DocumentStatus]),
    /// The document holds `version` and is in that state.
    VersionAndStatus(String, DocumentStatus),
    /// The document has no version yet and is in that state.
    NoVersionAndStatus(DocumentStatus),
    /// The document holds `version`.
    Version(String),
}

impl Condition {
    fn render(self) -> (String, HashMap<String, String>, HashMap<String, AttributeValue>) {
        let mut names = HashMap::from([("#cid".to_owned(), "id".to_owned())]);
        let mut values = HashMap::new();
        let mut parts = vec!["attribute_exists(#cid)".to_owned()];
        let mut version = |parts: &mut Vec<String>, version: Option<String>| match version {
            Some(version) => {
                names.insert("#cversion".into(), ATTR_VERSION.into());
                values.insert(":cversion".into(), s(version));
                parts.push("#cversion = :cversion".into());
            }
            None => {
                names.insert("#cversion".into(), ATTR_VERSION.into());
                parts.push("attribute_not_exists(#cversion)".into());
            }
        };
        let statuses: Vec<DocumentStatus> = match self {
            Self::VersionIn(v, states) => {
                version(&mut parts, Some(v));
                states.to_vec()
            }
            Self::VersionAndStatus(v, state) => {
                version(&mut parts, Some(v));
                vec![state]
            }
            Self::NoVersionAndStatus(state) => {
                version(&mut parts, None);
                vec![state]
            }
            Self::Version(v) => {
                version(&mut parts, Some(v));
                Vec::new()
            }
        };
        if !statuses.is_empty() {
            names.insert("#cstatus".into(), "status".into());
            let placeholders: Vec<String> = statuses
                .iter()
                .enumerate()
                .map(|(i, status)| {
                    values.insert(format!(":cstatus{i}"), s(status.as_str()));
                    format!(":cstatus{i}")
                })
                .collect();
            parts.push(format!("#cstatus IN ({})", placeholders.join(", ")));
        }
        (parts.join(" AND "), names, values)
    }
}
