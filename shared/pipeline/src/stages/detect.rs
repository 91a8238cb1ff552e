//! PHI detection: the stored text through the PHI engine; the de-identified text sealed next to it, the entity
//! summary (types and counts) beside them, the document `ready` and its completion announced.

use std::sync::Arc;

use medvault_intake::Family;
use medvault_phi::{AnalyzeOptions, Analyzer};
use medvault_platform::Phi;
use medvault_records::model::DocumentStatus;
use medvault_records::store::Place;

use crate::documents::{ATTR_DEIDENTIFIED, ATTR_TEXT};
use crate::error::PipelineError;
use crate::job::Job;
use crate::keys::PatientKey;
use crate::notify::Completion;
use crate::runner::Outcome;
use crate::stages::Shared;
use crate::status::{Step, Verdict, judge};
use crate::text::entity_summary;

/// The detection stage.
#[derive(Debug, Clone)]
pub struct Detector {
    shared: Shared,
    analyzer: Arc<Analyzer>,
}

impl Detector {
    /// `analyzer` is loaded once per execution environment.
    pub fn new(shared: Shared, analyzer: Arc<Analyzer>) -> Self {
        Self { shared, analyzer }
    }

    /// Detects and de-identifies the PHI in the job's document.
    pub async fn detect(&self, job: Job) -> Result<Outcome, PipelineError> {
        let shared = &self.shared;
        let Some(document) = shared.documents.get(job.document_id).await? else { return Ok(Outcome::Superseded) };
        let version = job.version();
        match judge(Step::Finish, document.observed(), &version, None) {
            Verdict::Proceed => {}
            Verdict::AlreadyDone(_) => return shared.already_done(&job, &document, None).await,
            Verdict::Superseded => return Ok(Outcome::Superseded),
        }
        let key = match shared.keyring.key(job.patient_id).await? {
            PatientKey::Key(key) => key,
            PatientKey::Erased => return Ok(Outcome::Superseded),
        };
        let place = Place::document(&job.document_id.to_string());
        let text = place
            .open_text(&key, &document.item, ATTR_TEXT)?
            .map(Phi::new)
            .ok_or_else(|| PipelineError::Unreadable("the document has no stored text".into()))?;
        let analyzer = Arc::clone(&self.analyzer);
        // Text read from an image or a PDF may hold OCR's misreadings inside numbers (`03/l4/1962`).
        let scanned = job.kind().is_some_and(|kind| kind.family() != Family::Audio);
        let options = AnalyzeOptions::default().with_scanned(scanned);
        // Detection is CPU work: off the async workers.
        let output = tokio::task::spawn_blocking(move || medvault_phi::deidentify(&analyzer, text.expose(), &options))
            .await
            .map_err(|e| PipelineError::Unavailable(Box::new(e)))?
            // A de-identification failure is never stored as an empty text: the message is retried, then dead-lettered.
            .map_err(|e| PipelineError::Engine(Box::new(e)))?;
        let entities = entity_summary(&output.items);
        let sealed = place.seal(&key, ATTR_DEIDENTIFIED, output.text.as_bytes())?;
        if !shared.documents.finish(job.document_id, &version, sealed, &entities).await? {
            return Err(PipelineError::Contended);
        }
        tracing::info!(document = %job.document_id, entities = output.items.len(), "PHI detected and de-identified");
        let completion = Completion {
            document_id: job.document_id,
            patient_id: job.patient_id,
            status: DocumentStatus::Ready,
            reason_code: None,
            reason: None,
            entities: Some(entities),
        };
        shared.notifier.completed(&completion).await?;
        Ok(Outcome::Ready)
    }
}
