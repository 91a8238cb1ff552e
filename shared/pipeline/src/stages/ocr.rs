//! OCR, for images and scanned PDFs: page images through the configured engine (Tesseract, or Textract reading
//! the stored object), progress per page on the document, and each PDF page's text from its text layer where it
//! has one and from OCR where it is a scan.
//!
//! Tesseract reads a PDF a window of pages at a time (one page per engine): a window's images are decoded, read
//! and dropped before the next window's are decoded, so a long scan needs the memory of a few pages, not of all.

use std::collections::BTreeMap;
use std::sync::Arc;

use medvault_intake::{Family, FileKind, Limits, PageImage, PdfReader, Refusal, TiffReader, classify, raster};
use medvault_ocr::{ConfiguredOcr, OcrEngine, OcrError, OcrPage, OcrRequest, PageProgress, Progress, TesseractEngine};
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

/// Why a document's text could not be read: the upload itself (quarantined) or the engine.
enum ReadError {
    Refused(Refusal),
    Engine(OcrError),
}

impl From<Refusal> for ReadError {
    fn from(refusal: Refusal) -> Self {
        Self::Refused(refusal)
    }
}

impl From<OcrError> for ReadError {
    fn from(error: OcrError) -> Self {
        Self::Engine(error)
    }
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
        let kind = match classify(&bytes, Some(&job.media_type), &shared.limits) {
            Ok(kind) if kind.family() == Family::Audio => {
                return shared.fail(&job, "not_a_document", "the OCR stage received an audio file").await;
            }
            Ok(kind) => kind,
            Err(refusal) => return shared.quarantine(&job, &refusal).await,
        };
        let progress = ProgressWriter::start(shared.documents.clone(), job.document_id, job.version(), "pages");
        let report = progress.reporter();
        let report: Progress = Arc::new(move |p: PageProgress| report(p.done, p.total));
        let result = match &self.engine {
            ConfiguredOcr::Tesseract(engine) => {
                let (engine, limits) = (engine.clone(), shared.limits.clone());
                tokio::task::spawn_blocking(move || read_locally(&engine, kind, &bytes, &limits, &report))
                    .await
                    .unwrap_or(Err(ReadError::Engine(OcrError::WorkerLost)))
            }
            ConfiguredOcr::Textract(_) => self.read_in_the_cloud(&job, kind, bytes, report).await,
        };
        progress.finish().await;
        let pages = match result {
            Ok(pages) => pages,
            Err(ReadError::Refused(refusal)) => return shared.quarantine(&job, &refusal).await,
            Err(ReadError::Engine(error)) if error.failure() == Failure::Permanent => {
                return shared.fail(&job, "ocr_failed", &error.to_string()).await;
            }
            Err(ReadError::Engine(error)) => return Err(PipelineError::Engine(Box::new(error))),
        };
        shared.store_text(&job, pages, self.engine.name(), &self.phi_queue).await
    }

    /// An engine that reads the stored object itself (Textract): the PDF's text layer is read here (no image is
    /// decoded), the engine reads every page, and the layer wins where there is one.
    async fn read_in_the_cloud(
        &self,
        job: &Job,
        kind: FileKind,
        bytes: Vec<u8>,
        progress: Progress,
    ) -> Result<Vec<PageText>, ReadError> {
        let layer = if kind == FileKind::Pdf {
            let limits = Limits { min_text_chars_per_page: 0, ..self.shared.limits.clone() };
            let threshold = self.shared.limits.min_text_chars_per_page;
            tokio::task::spawn_blocking(move || text_layer(&bytes, &limits, threshold))
                .await
                .unwrap_or(Err(ReadError::Engine(OcrError::WorkerLost)))?
        } else {
            Vec::new()
        };
        let read = self.engine.recognize(OcrRequest { object: job.object(), pages: Vec::new() }, progress).await?;
        Ok(merge(layer, read.pages))
    }
}

/// The pages of a PDF whose text layer is thick enough to stand on its own, read without decoding any image.
fn text_layer(bytes: &[u8], limits: &Limits, threshold: usize) -> Result<Vec<PageText>, ReadError> {
    let reader = PdfReader::open(bytes, limits)?;
    let mut layer = Vec::new();
    for index in 0..reader.page_count() {
        let page = reader.page(index)?;
        if page.text.chars().filter(|c| c.is_alphanumeric()).count() >= threshold {
            layer.push(PageText { page: page.number, text: page.text });
        }
    }
    Ok(layer)
}

/// One page as the local engine meets it: text from the layer, or images to read.
enum LocalPage {
    Layer(PageText),
    Scan(Vec<PageImage>),
}

/// Reads a document with the local engine, blocking: a PDF or a TIFF a window of pages at a time, a PNG or JPEG
/// whole (one page).
fn read_locally(
    engine: &TesseractEngine,
    kind: FileKind,
    bytes: &[u8],
    limits: &Limits,
    progress: &Progress,
) -> Result<Vec<PageText>, ReadError> {
    type PageAt<'a> = Box<dyn Fn(usize) -> Result<LocalPage, Refusal> + 'a>;
    let (total, page_at): (usize, PageAt<'_>) = match kind {
        FileKind::Pdf => {
            let reader = PdfReader::open(bytes, limits)?;
            let total = reader.page_count();
            let page_at = move |index| {
                let page = reader.page(index)?;
                Ok(if page.needs_ocr && !page.images.is_empty() {
                    LocalPage::Scan(page.images)
                } else {
                    LocalPage::Layer(PageText { page: page.number, text: page.text })
                })
            };
            (total, Box::new(page_at))
        }
        FileKind::Tiff => {
            let reader = TiffReader::open(bytes, limits)?;
            (reader.page_count(), Box::new(move |index| Ok(LocalPage::Scan(vec![reader.page(index)?]))))
        }
        _ => {
            let images = raster::single_image(kind, bytes, limits)?;
            return Ok(merge(Vec::new(), engine.recognize_blocking(&images, progress)?.pages));
        }
    };
    if total > engine.max_pages() as usize {
        return Err(OcrError::TooManyPages { pages: total as u64, limit: u64::from(engine.max_pages()) }.into());
    }
    let total_u32 = u32::try_from(total).unwrap_or(u32::MAX);
    let window = engine.parallelism().max(1);
    let (mut layer, mut read) = (Vec::new(), Vec::new());
    let mut index = 0;
    while index < total {
        // Pages until the window holds one page image per engine; pages with a text layer cost no OCR.
        let first = u32::try_from(index).unwrap_or(u32::MAX);
        let mut images: Vec<PageImage> = Vec::new();
        while index < total && images.len() < window {
            match page_at(index)? {
                LocalPage::Scan(page_images) => images.extend(page_images),
                LocalPage::Layer(text) => layer.push(text),
            }
            index += 1;
        }
        let last = u32::try_from(index).unwrap_or(u32::MAX);
        if !images.is_empty() {
            let outer = Arc::clone(progress);
            let within: Progress = Arc::new(move |p: PageProgress| {
                outer(PageProgress { done: first.saturating_add(p.done).min(last), total: total_u32 });
            });
            read.extend(engine.recognize_blocking(&images, &within)?.pages);
        }
        progress(PageProgress { done: last, total: total_u32 });
    }
    Ok(merge(layer, read))
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
