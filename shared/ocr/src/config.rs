//! OCR configuration: which engine (`MEDVAULT_OCR_ENGINE`), and each engine's settings.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use medvault_platform::config::{ConfigError, EnvSource, FromEnv};

/// Which engine reads documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineKind {
    /// libtesseract in the function's own container (local stack, on-premises).
    Tesseract,
    /// Amazon Textract's asynchronous API (AWS deployments).
    Textract,
}

/// The value was not an engine name.
#[derive(Debug, thiserror::Error)]
#[error("expected tesseract or textract")]
pub struct UnknownEngine;

impl FromStr for EngineKind {
    type Err = UnknownEngine;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "tesseract" => Ok(Self::Tesseract),
            "textract" => Ok(Self::Textract),
            _ => Err(UnknownEngine),
        }
    }
}

/// Settings of the Tesseract engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TesseractConfig {
    /// The `tessdata` folder; `None` uses libtesseract's compiled-in default (Debian: /usr/share/tesseract-ocr/5/tessdata).
    pub data_dir: Option<PathBuf>,
    /// Tesseract language code(s), e.g. `eng`.
    pub language: String,
    /// Engines loaded side by side, one per core: pages of a document are read in parallel.
    pub threads: usize,
    /// Most pages one document may send to OCR.
    pub max_pages: u32,
    /// The resolution assumed for page images that carry none (PGM pages carry none).
    pub dpi: u32,
    /// Tesseract's page segmentation mode (`--psm`): 3, fully automatic layout analysis, is the `tesseract`
    /// command's default; the library's own default (6, one uniform block of text) misreads multi-column pages
    /// and forms.
    pub page_segmentation: u8,
}

/// Settings of the Textract engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextractConfig {
    /// Pause between status polls of a running job.
    pub poll_interval: Duration,
    /// How long to wait for a job before giving up (the message is retried and finds the same job).
    pub max_wait: Duration,
    /// Most pages one document may have.
    pub max_pages: u32,
}

impl Default for TextractConfig {
    fn default() -> Self {
        Self { poll_interval: Duration::from_secs(2), max_wait: Duration::from_secs(600), max_pages: 500 }
    }
}

/// The OCR configuration of a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OcrConfig {
    pub engine: EngineKind,
    pub tesseract: TesseractConfig,
    pub textract: TextractConfig,
}

fn default_threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

impl Default for TesseractConfig {
    fn default() -> Self {
        Self {
            data_dir: None,
            language: "eng".into(),
            threads: default_threads(),
            max_pages: 500,
            dpi: 300,
            page_segmentation: 3,
        }
    }
}

impl FromEnv for OcrConfig {
    fn from_env(env: &EnvSource) -> Result<Self, ConfigError> {
        let tesseract = TesseractConfig::default();
        let textract = TextractConfig::default();
        let max_pages = env.or("MEDVAULT_OCR_MAX_PAGES", tesseract.max_pages)?;
        Ok(Self {
            engine: env.or("MEDVAULT_OCR_ENGINE", EngineKind::Tesseract)?,
            tesseract: TesseractConfig {
                data_dir: env.optional("MEDVAULT_TESSDATA_DIR")?,
                language: env.or("MEDVAULT_OCR_LANGUAGE", tesseract.language)?,
                threads: env.or("MEDVAULT_OCR_THREADS", tesseract.threads)?.max(1),
                max_pages,
                dpi: env.or("MEDVAULT_OCR_DPI", tesseract.dpi)?,
                page_segmentation: env.or("MEDVAULT_OCR_PSM", tesseract.page_segmentation)?,
            },
            textract: TextractConfig {
                poll_interval: env.seconds("MEDVAULT_TEXTRACT_POLL_SECONDS", textract.poll_interval)?,
                max_wait: env.seconds("MEDVAULT_TEXTRACT_MAX_WAIT_SECONDS", textract.max_wait)?,
                max_pages,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tesseract_is_the_default_and_textract_is_chosen_by_name() {
        let default = OcrConfig::from_env(&EnvSource::from_pairs([])).unwrap();
        let textract = OcrConfig::from_env(&EnvSource::from_pairs([("MEDVAULT_OCR_ENGINE", "Textract")])).unwrap();
        assert_eq!(default.engine, EngineKind::Tesseract);
        assert_eq!(textract.engine, EngineKind::Textract);
    }

    #[test]
    fn an_unknown_engine_is_a_named_configuration_error() {
        let error = OcrConfig::from_env(&EnvSource::from_pairs([("MEDVAULT_OCR_ENGINE", "gocr")])).unwrap_err();
        assert_eq!(error.variable(), "MEDVAULT_OCR_ENGINE");
    }
}
