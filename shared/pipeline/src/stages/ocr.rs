//! OCR, for images and scanned PDFs: page images through the configured engine (Tesseract, or Textract reading
//! the stored object), progress per page on the document, and each PDF page's text from its text layer where it
//! has one and from OCR where it is a scan.

use std::collections::BTreeMap;
use std::sync::Arc;

use medvault_intake::{Accepted, inspect};
use medvault_ocr::{ConfiguredOcr, OcrEngine, OcrPage, OcrRequest, PageProgress};
use medvault_platform::error::Failure;

use crate::error::PipelineError;
use crate::job::Job;
use crate::progress::ProgressWriter;
use crate::runner::Outcome;
use crate::stages::{Begin, Shared};
use crate::text::PageText;

/// The OCR stage.
#[derive(Debug, Clone)]
pub struct OcrStage {
    shared: Shared,
    engine: ConfiguredOcr,
    phi_queue: String,
}

impl OcrStage {
    /// `engine` is loaded once per execution environment.
    pub fn new(shared: Shared, engine: ConfiguredOcr, phi_queue: impl Into<String>) -> Self {
        Self { shared, engine, phi_queue: phi_queue.into() }
    }

    /// Reads the job's document.
    pub async fn extract(&self, job: Job) -> Result<Outcome, PipelineError> {
        let shared = &self.shared;
        if let Begin::Stop(outcome) = shared.begin_extraction(&job, &self.phi_queue).await? {
            return Ok(outcome);
        }
        let bytes = match shared.fetch(&job).await? {
            Ok(bytes) => bytes,
            Err(outcome) => return Ok(outcome),
        };
        let accepted = match inspect(&bytes, Some(&job.media_type), &shared.limits) {
            Ok(accepted) => accepted,
            Err(refusal) => return shared.quarantine(&job, &refusal).await,
        };
        drop(bytes);
        let (layer, images) = match accepted {
            Accepted::Pdf(pdf) => {
                let mut layer = Vec::new();
                let mut images = Vec::new();
                for page in pdf.pages {
                    if page.needs_ocr && !page.images.is_empty() {
                        images.extend(page.images);
                    } else {
                        layer.push(PageText { page: page.number, text: page.text });
                    }
                }
                (layer, images)
            }
            Accepted::Image { pages, .. } => (Vec::new(), pages),
            Accepted::Audio(_) => {
                return shared.fail(&job, "not_a_document", "the OCR stage received an audio file").await;
            }
        };
        let progress = ProgressWriter::start(shared.documents.clone(), job.document_id, job.version(), "pages");
        let report = progress.reporter();
        let request = OcrRequest { object: job.object(), pages: images };
        let result = self.engine.recognize(request, Arc::new(move |p: PageProgress| report(p.done, p.total))).await;
        progress.finish().await;
        let read = match result {
            Ok(read) => read,
            Err(error) if error.failure() == Failure::Permanent => {
                return shared.fail(&job, "ocr_failed", &error.to_string()).await;
            }
            Err(error) => return Err(PipelineError::Engine(Box::new(error))),
        };
        let pages = merge(layer, read.pages);
        shared.store_text(&job, pages, self.engine.name(), &self.phi_queue).await
    }
}

/// Each page's text: OCR's for the pages it read (several images of one page joined), the text layer's for the
/// others. An engine that reads whole documents (Textract) also returns pages that have a text layer; the layer,
/// being exact, wins there.
pub fn merge(layer: Vec<PageText>, read: Vec<OcrPage>) -> Vec<PageText> {
    let mut pages: BTreeMap<u32, String> = BTreeMap::new();
    for page in read {
        let text = pages.entry(page.page).or_default();
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&page.text);
    }
    for page in layer {
        pages.insert(page.page, page.text);
    }
    pages.into_iter().map(|(page, text)| PageText { page, text }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(page: u32, text: &str) -> OcrPage {
        OcrPage { page, text: text.into(), confidence: None }
    }

    #[test]
    fn layer_pages_keep_their_text_and_scanned_pages_take_ocr_in_page_order() {
        let layer = vec![PageText { page: 1, text: "typed page".into() }];
        let ocr = vec![read(3, "third"), read(2, "second, image a"), read(2, "image b"), read(1, "ocr of typed")];

        let pages = merge(layer, ocr);

        let texts: Vec<(u32, &str)> = pages.iter().map(|p| (p.page, p.text.as_str())).collect();
        assert_eq!(texts, [(1, "typed page"), (2, "second, image a\nimage b"), (3, "third")]);
    }
}
