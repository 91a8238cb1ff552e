//! The stages, and what they share: reading the document and its object, quarantining or failing it with a
//! reason, storing its text sealed under the patient's key and handing it to PHI detection, announcing the end.

pub mod detect;
pub mod intake;
#[cfg(feature = "ocr")]
pub mod ocr;
#[cfg(feature = "speech")]
pub mod speech;

use std::sync::Arc;

use medvault_crypto::{KmsKeyWrapper, PatientKeys};
use medvault_intake::{Limits, Refusal};
use medvault_platform::aws::AwsClients;
use medvault_platform::idempotency::{DynamoDbStore, Idempotency};
use medvault_records::model::DocumentStatus;
use medvault_records::store::{Place, text};

use crate::config::PipelineConfig;
use crate::documents::{ATTR_ENTITIES, ATTR_REASON, ATTR_REASON_CODE, ATTR_TEXT, DocumentRecord, DocumentStore};
use crate::error::PipelineError;
use crate::job::Job;
use crate::keys::{Keyring, PatientKey};
use crate::notify::{Completion, Notifier};
use crate::runner::{Outcome, Runner};
use crate::source::{Fetched, ObjectSource};
use crate::status::{Step, Verdict, is_terminal, judge};
use crate::text::{PageText, check_size, join_pages};

/// What every stage works with, built once per execution environment.
#[derive(Debug, Clone)]
pub struct Shared {
    pub documents: DocumentStore,
    pub keyring: Keyring,
    pub notifier: Notifier,
    pub source: ObjectSource,
    pub limits: Limits,
    pub max_text_bytes: usize,
}

/// Whether an extraction stage goes on with a document.
#[derive(Debug)]
pub enum Begin {
    Go(Box<DocumentRecord>),
    Stop(Outcome),
}

impl Shared {
    /// The stages' dependencies and the runner, from the worker's configuration and clients.
    pub fn build(config: &PipelineConfig, clients: &AwsClients) -> (Self, Runner) {
        let dynamodb = clients.dynamodb();
        let documents = DocumentStore::new(dynamodb.clone(), &config.documents_table);
        let wrapper = Arc::new(KmsKeyWrapper::new(clients.kms(), &config.data_key_id));
        let keyring = Keyring::new(
            dynamodb.clone(),
            &config.patient_keys_table,
            &config.tenant,
            PatientKeys::new(wrapper, config.data_key_cache),
        );
        let notifier =
            Notifier::new(clients.sqs(), aws_sdk_eventbridge::Client::new(clients.sdk_config()), &config.event_bus);
        let idempotency = Idempotency::new(
            DynamoDbStore::new(dynamodb, &config.idempotency_table),
            medvault_platform::telemetry::function_name(),
        )
        .with_ttl(config.idempotency_ttl);
        let runner = Runner::new(idempotency, documents.clone(), notifier.clone(), config.max_receives);
        let shared = Self {
            documents,
            keyring,
            notifier,
            source: ObjectSource::new(clients.s3()),
            limits: config.limits.clone(),
            max_text_bytes: config.max_text_bytes,
        };
        (shared, runner)
    }

    /// Reads the job's object version, or the outcome that ends the job (too large: quarantined; gone).
    pub async fn fetch(&self, job: &Job) -> Result<Result<Vec<u8>, Outcome>, PipelineError> {
        Ok(match self.source.fetch(job, self.limits.max_file_bytes).await? {
            Fetched::Bytes(bytes) => Ok(bytes),
            Fetched::Refused(refusal) => Err(self.quarantine(job, &refusal).await?),
            Fetched::Gone => {
                tracing::warn!(document = %job.document_id, "the uploaded object version is gone");
                Err(Outcome::Superseded)
            }
        })
    }

    /// Reads the document and moves it to `extracting` (taking over what a killed attempt left), or says why not.
    pub async fn begin_extraction(&self, job: &Job, phi_queue: &str) -> Result<Begin, PipelineError> {
        let Some(document) = self.documents.get(job.document_id).await? else {
            return Ok(Begin::Stop(Outcome::Superseded));
        };
        let version = job.version();
        match judge(Step::Extract, document.observed(), &version, None) {
            Verdict::Proceed => {}
            Verdict::AlreadyDone(_) => {
                return self.already_done(job, &document, Some(phi_queue)).await.map(Begin::Stop);
            }
            Verdict::Superseded => return Ok(Begin::Stop(Outcome::Superseded)),
        }
        if !self.documents.start_extraction(job.document_id, &version).await? {
            return Err(PipelineError::Contended);
        }
        Ok(Begin::Go(Box::new(document)))
    }

    /// Quarantines the document for `refusal` and announces it.
    pub async fn quarantine(&self, job: &Job, refusal: &Refusal) -> Result<Outcome, PipelineError> {
        self.end(job, DocumentStatus::Quarantined, refusal.code(), &refusal.to_string()).await
    }

    /// Quarantines the document for a reason found after intake (an engine could not decode the upload).
    pub async fn end_quarantined(&self, job: &Job, code: &str, reason: &str) -> Result<Outcome, PipelineError> {
        self.end(job, DocumentStatus::Quarantined, code, reason).await
    }

    /// Fails the document with a reason and announces it.
    pub async fn fail(&self, job: &Job, code: &str, reason: &str) -> Result<Outcome, PipelineError> {
        self.end(job, DocumentStatus::Failed, code, reason).await
    }

    async fn end(&self, job: &Job, status: DocumentStatus, code: &str, reason: &str) -> Result<Outcome, PipelineError> {
        let version = job.version();
        let applied = match status {
            DocumentStatus::Quarantined => self.documents.quarantine(job.document_id, &version, code, reason).await?,
            _ => self.documents.fail(job.document_id, &version, code, reason).await?,
        };
        if !applied {
            return Err(PipelineError::Contended);
        }
        tracing::warn!(document = %job.document_id, status = status.as_str(), code, "document processing ended early");
        let completion = Completion {
            document_id: job.document_id,
            patient_id: job.patient_id,
            status,
            reason_code: Some(code.to_owned()),
            reason: Some(reason.to_owned()),
            entities: None,
        };
        self.notifier.completed(&completion).await?;
        Ok(if status == DocumentStatus::Quarantined { Outcome::Quarantined } else { Outcome::Failed })
    }

    /// Seals the extracted pages' text under the patient's key, stores it (`detecting`) and queues PHI detection.
    pub async fn store_text(
        &self,
        job: &Job,
        pages: Vec<PageText>,
        engine: &str,
        phi_queue: &str,
    ) -> Result<Outcome, PipelineError> {
        let page_count = u32::try_from(pages.len()).unwrap_or(u32::MAX);
        let text = medvault_platform::Phi::new(join_pages(pages));
        if let Err(too_large) = check_size(text.expose(), self.max_text_bytes) {
            return self.fail(job, "text_too_large", &too_large.to_string()).await;
        }
        let key = match self.keyring.key(job.patient_id).await? {
            PatientKey::Key(key) => key,
            PatientKey::Erased => {
                tracing::warn!(document = %job.document_id, "the patient was erased; nothing is stored");
                return Ok(Outcome::Superseded);
            }
        };
        let sealed = Place::document(&job.document_id.to_string()).seal(&key, ATTR_TEXT, text.expose().as_bytes())?;
        if !self.documents.store_text(job.document_id, &job.version(), sealed, page_count, engine).await? {
            return Err(PipelineError::Contended);
        }
        tracing::info!(document = %job.document_id, pages = page_count, engine, "text extracted");
        self.notifier.send(phi_queue, job).await?;
        Ok(Outcome::Dispatched { stage: "phi".into() })
    }

    /// A document already past a stage: finish what a killed attempt may have left undone, at least once. A
    /// document in `detecting` has its PHI job queued again (detection is idempotent); a finished one has its
    /// completion announced again (consumers see events at least once).
    pub async fn already_done(
        &self,
        job: &Job,
        document: &DocumentRecord,
        phi_queue: Option<&str>,
    ) -> Result<Outcome, PipelineError> {
        match (document.status, phi_queue) {
            (DocumentStatus::Detecting, Some(queue)) => self.notifier.send(queue, job).await?,
            (status, _) if is_terminal(status) => self.notifier.completed(&completion_of(job, document)).await?,
            _ => {}
        }
        Ok(Outcome::AlreadyDone)
    }
}

/// The completion event of a document in a final state, from its item.
fn completion_of(job: &Job, document: &DocumentRecord) -> Completion {
    Completion {
        document_id: job.document_id,
        patient_id: job.patient_id,
        status: document.status,
        reason_code: text(&document.item, ATTR_REASON_CODE).map(str::to_owned),
        reason: text(&document.item, ATTR_REASON).map(str::to_owned),
        entities: text(&document.item, ATTR_ENTITIES).and_then(|e| serde_json::from_str(e).ok()),
    }
}
