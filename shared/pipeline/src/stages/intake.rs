//! Intake, the first stage: an uploaded object version is matched to its document, identified by its bytes and
//! refused (quarantined with a reason) or routed. A PDF whose every page has a text layer is read right here (the
//! fast path, pure Rust); images and scanned PDFs go to OCR, audio to speech recognition.

use medvault_intake::{Family, Limits, Refusal, audio, classify, pdf};
use medvault_platform::s3_event::S3ObjectRef;

use crate::error::PipelineError;
use crate::job::{Job, document_of, version_token};
use crate::runner::Outcome;
use crate::stages::Shared;
use crate::status::{Step, Verdict, judge};
use crate::text::PageText;

/// The queues intake routes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queues {
    pub ocr: String,
    pub asr: String,
    pub phi: String,
}

/// The intake stage.
#[derive(Debug, Clone)]
pub struct Intake {
    shared: Shared,
    queues: Queues,
}

/// What intake found in a PDF.
enum PdfRoute {
    /// Every page has a text layer: its pages' text.
    Text(Vec<PageText>),
    /// Some page is thin or a scan: OCR reads it.
    Ocr,
}

impl Intake {
    pub fn new(shared: Shared, queues: Queues) -> Self {
        Self { shared, queues }
    }

    /// Receives one uploaded object version.
    pub async fn receive(&self, object: &S3ObjectRef) -> Result<Outcome, PipelineError> {
        let shared = &self.shared;
        let Some((patient_id, document_id)) = document_of(&object.key) else { return Ok(Outcome::Ignored) };
        let Some(document) = shared.documents.get(document_id).await? else {
            tracing::warn!(document = %document_id, "an object arrived for a document that does not exist");
            return Ok(Outcome::Ignored);
        };
        if document.patient_id != patient_id {
            tracing::warn!(document = %document_id, "an object arrived under another patient's prefix");
            return Ok(Outcome::Ignored);
        }
        let mut job = Job {
            document_id,
            patient_id,
            bucket: object.bucket.clone(),
            key: object.key.clone(),
            version_id: object.version_id.clone(),
            etag: object.etag.clone(),
            media_type: document.content_type.clone(),
        };
        let version = version_token(object.version_id.as_deref(), object.etag.as_deref());
        match judge(Step::Receive, document.observed(), &version, object.sequencer.as_deref()) {
            Verdict::Proceed => {}
            Verdict::AlreadyDone(_) => return shared.already_done(&job, &document, Some(&self.queues.phi)).await,
            Verdict::Superseded => return Ok(Outcome::Superseded),
        }
        if !shared.documents.receive(&document, &version, object.sequencer.as_deref()).await? {
            return Err(PipelineError::Contended);
        }
        let bytes = match shared.fetch(&job).await? {
            Ok(bytes) => bytes,
            Err(outcome) => return Ok(outcome),
        };
        let kind = match classify(&bytes, Some(&document.content_type), &shared.limits) {
            Ok(kind) => kind,
            Err(refusal) => return shared.quarantine(&job, &refusal).await,
        };
        job.media_type = kind.media_type().to_owned();
        shared.documents.set_detected_type(document_id, &version, kind.media_type()).await?;
        match kind.family() {
            Family::Document => match read_pdf(&bytes, &shared.limits) {
                Err(refusal) => shared.quarantine(&job, &refusal).await,
                Ok(PdfRoute::Ocr) => self.dispatch(&job, &self.queues.ocr, "ocr").await,
                Ok(PdfRoute::Text(pages)) => {
                    if !shared.documents.start_extraction(document_id, &version).await? {
                        return Err(PipelineError::Contended);
                    }
                    shared.store_text(&job, pages, "text-layer", &self.queues.phi).await
                }
            },
            Family::Image => self.dispatch(&job, &self.queues.ocr, "ocr").await,
            Family::Audio => match audio::probe(kind, &bytes, &shared.limits) {
                Err(refusal) => shared.quarantine(&job, &refusal).await,
                Ok(_) => self.dispatch(&job, &self.queues.asr, "asr").await,
            },
        }
    }

    /// Moves the document to `extracting` and queues it for an extraction stage.
    async fn dispatch(&self, job: &Job, queue: &str, stage: &str) -> Result<Outcome, PipelineError> {
        if !self.shared.documents.start_extraction(job.document_id, &job.version()).await? {
            return Err(PipelineError::Contended);
        }
        self.shared.notifier.send(queue, job).await?;
        Ok(Outcome::Dispatched { stage: stage.to_owned() })
    }
}

/// Reads a PDF's text layer without decoding any page image (intake's threshold for OCR set to zero, so it
/// extracts none), then applies the real threshold here: if any page is thin, the OCR stage reads the document
/// with its images. Refusals (encrypted, malformed, bombs, too many pages) come from the same read.
fn read_pdf(bytes: &[u8], limits: &Limits) -> Result<PdfRoute, Refusal> {
    let text_only = Limits { min_text_chars_per_page: 0, ..limits.clone() };
    let document = pdf::read(bytes, &text_only)?;
    // The same rule as intake's `needs_ocr`: fewer letters and digits than the threshold.
    let thin = document
        .pages
        .iter()
        .any(|page| page.text.chars().filter(|c| c.is_alphanumeric()).count() < limits.min_text_chars_per_page);
    if thin {
        return Ok(PdfRoute::Ocr);
    }
    Ok(PdfRoute::Text(document.pages.into_iter().map(|p| PageText { page: p.number, text: p.text }).collect()))
}
