//! OCR behind one trait, [`OcrEngine`]: Tesseract through libtesseract (engine and model loaded once per
//! execution environment, pages in parallel across cores, one page at a time per engine) and Amazon Textract's
//! asynchronous API (a retry reuses the job through a `ClientRequestToken` derived from the object version).
//! [`ConfiguredOcr`] picks one from `MEDVAULT_OCR_ENGINE=tesseract|textract`.

pub mod config;
pub mod tesseract;
pub mod textract;

use std::fmt;
use std::future::Future;
use std::sync::Arc;

pub use medvault_intake::ObjectRef;
use medvault_intake::PageImage;
use medvault_platform::Failure;

pub use config::{EngineKind, OcrConfig};
pub use tesseract::TesseractEngine;
pub use textract::TextractEngine;

/// One document to read: where it is stored, and its page images (Tesseract reads these).
#[derive(Debug, Clone)]
pub struct OcrRequest {
    pub object: ObjectRef,
    pub pages: Vec<PageImage>,
}

/// The text of one page (PHI: its `Debug` shows only its size).
#[derive(Clone, PartialEq)]
pub struct OcrPage {
    /// 1-based page number.
    pub page: u32,
    pub text: String,
    /// Mean word confidence, 0 to 100, when the engine gives one.
    pub confidence: Option<f32>,
}

impl fmt::Debug for OcrPage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OcrPage")
            .field("page", &self.page)
            .field("text_chars", &self.text.chars().count())
            .field("confidence", &self.confidence)
            .finish()
    }
}

/// A document's text, page by page, in page order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OcrDocument {
    pub pages: Vec<OcrPage>,
}

/// Progress through a document: `done` of `total` pages are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageProgress {
    pub done: u32,
    pub total: u32,
}

/// Called as pages finish (from any thread).
pub type Progress = Arc<dyn Fn(PageProgress) + Send + Sync>;

/// A progress callback that ignores progress.
pub fn no_progress() -> Progress {
    Arc::new(|_| {})
}

/// Why a document could not be read.
#[derive(Debug, thiserror::Error)]
pub enum OcrError {
    #[error("the document has {pages} pages; the OCR limit is {limit}")]
    TooManyPages { pages: u64, limit: u64 },
    #[error("the OCR engine could not be loaded: {0}")]
    Load(String),
    #[error("page {page} could not be read: {detail}")]
    Page { page: u32, detail: String },
    #[error("the Textract request failed")]
    Textract(#[source] Box<dyn std::error::Error + Send + Sync>, Failure),
    #[error("the Textract job ended {status}: {message}")]
    JobFailed { status: String, message: String },
    #[error("the Textract job did not finish within {seconds} s")]
    JobTimeout { seconds: u64 },
    #[error("the OCR worker stopped unexpectedly")]
    WorkerLost,
}

impl OcrError {
    /// Whether trying the document again can help.
    pub fn failure(&self) -> Failure {
        match self {
            Self::Textract(_, failure) => *failure,
            Self::JobTimeout { .. } | Self::WorkerLost => Failure::Retryable,
            Self::TooManyPages { .. } | Self::Load(_) | Self::Page { .. } | Self::JobFailed { .. } => {
                Failure::Permanent
            }
        }
    }
}

/// An OCR engine: reads every page of a document, reporting progress as pages finish.
pub trait OcrEngine: Send + Sync {
    /// A short name for logs and metrics (`tesseract`, `textract`).
    fn name(&self) -> &'static str;

    /// Reads the document's pages, in page order.
    fn recognize(
        &self,
        request: OcrRequest,
        progress: Progress,
    ) -> impl Future<Output = Result<OcrDocument, OcrError>> + Send;
}

/// The engine the configuration chose.
#[derive(Debug, Clone)]
pub enum ConfiguredOcr {
    Tesseract(TesseractEngine),
    Textract(TextractEngine),
}

impl ConfiguredOcr {
    /// Builds the configured engine: Tesseract is loaded once per execution environment and shared; Textract
    /// uses a client from `sdk` (only needed for Textract).
    pub fn from_config(config: &OcrConfig, sdk: Option<&aws_config::SdkConfig>) -> Result<Self, OcrError> {
        match config.engine {
            EngineKind::Tesseract => Ok(Self::Tesseract(TesseractEngine::shared(&config.tesseract)?)),
            EngineKind::Textract => {
                let sdk = sdk.ok_or_else(|| OcrError::Load("the Textract engine needs AWS configuration".into()))?;
                Ok(Self::Textract(TextractEngine::new(aws_sdk_textract::Client::new(sdk), config.textract.clone())))
            }
        }
    }
}

impl OcrEngine for ConfiguredOcr {
    fn name(&self) -> &'static str {
        match self {
            Self::Tesseract(engine) => engine.name(),
            Self::Textract(engine) => engine.name(),
        }
    }

    async fn recognize(&self, request: OcrRequest, progress: Progress) -> Result<OcrDocument, OcrError> {
        match self {
            Self::Tesseract(engine) => engine.recognize(request, progress).await,
            Self::Textract(engine) => engine.recognize(request, progress).await,
        }
    }
}
