//! Upload intake: identify an upload by its bytes, refuse it with a typed reason (mismatch, unsupported, encrypted,
//! malformed, decompression bomb, oversize, too many pages), and hand the pipeline what it can work on: a PDF's text
//! layer and the page images that need OCR, an image's pages, or an audio file's checked header.
//!
//! Pure Rust on purpose: it runs in zip-deployed functions that link no native library.

pub mod audio;
pub mod kind;
pub mod limits;
pub mod pdf;
pub mod raster;
pub mod refusal;

use serde::Serialize;
use sha2::{Digest, Sha256};

pub use audio::AudioHeader;
pub use kind::{Detected, Family, FileKind, identify};
pub use limits::Limits;
pub use pdf::{PdfDocument, PdfPage, PdfReader};
pub use raster::{PageImage, TiffReader};
pub use refusal::{Bomb, Refusal};

/// The stored object an upload is: cloud engines (Textract, Transcribe) read it from S3 themselves, and its
/// version makes a retry of the same upload recognisable as the same work.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ObjectRef {
    pub bucket: String,
    pub key: String,
    pub version_id: Option<String>,
}

impl ObjectRef {
    /// A stable digest of bucket, key and version (hex SHA-256), from which idempotent job names and request
    /// tokens are made: the same version always gives the same digest, a new version a new one.
    pub fn version_digest(&self) -> String {
        let mut hash = Sha256::new();
        for part in [self.bucket.as_str(), self.key.as_str(), self.version_id.as_deref().unwrap_or("")] {
            // Length-prefixed, so ("a", "bc") and ("ab", "c") differ.
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part.as_bytes());
        }
        hex::encode(hash.finalize())
    }
}

/// What an accepted upload holds for the next stage.
#[derive(Debug, Clone, PartialEq)]
pub enum Accepted {
    /// A PDF: per-page text, and page images where the text layer is too thin.
    Pdf(PdfDocument),
    /// A PNG, JPEG or TIFF: its pages, for OCR.
    Image { kind: FileKind, pages: Vec<PageImage> },
    /// Audio: its checked header; decoding is the speech engine's.
    Audio(AudioHeader),
}

impl Accepted {
    pub fn kind(&self) -> FileKind {
        match self {
            Self::Pdf(_) => FileKind::Pdf,
            Self::Image { kind, .. } => *kind,
            Self::Audio(header) => header.kind,
        }
    }
}

/// Identifies `bytes` and compares them with the declared content type, without decoding anything.
///
/// `declared` is the `Content-Type` the uploader gave; `None` (or `application/octet-stream`) accepts whatever
/// the bytes are.
pub fn classify(bytes: &[u8], declared: Option<&str>, limits: &Limits) -> Result<FileKind, Refusal> {
    if bytes.is_empty() {
        return Err(Refusal::Empty);
    }
    let size = bytes.len() as u64;
    if size > limits.max_file_bytes {
        return Err(Refusal::Oversize { size, limit: limits.max_file_bytes });
    }
    let detected = match identify(bytes) {
        Detected::Accepted(kind) => kind,
        Detected::Other(media_type) => return Err(Refusal::UnsupportedType { detected: media_type.to_owned() }),
        Detected::Unknown => return Err(Refusal::UnsupportedType { detected: "unknown".to_owned() }),
    };
    let declared = declared.map(str::trim).filter(|d| !d.is_empty() && !d.starts_with("application/octet-stream"));
    if let Some(declared) = declared
        && FileKind::from_content_type(declared) != Some(detected)
    {
        return Err(Refusal::TypeMismatch {
            declared: declared.to_owned(),
            detected: detected.media_type().to_owned(),
        });
    }
    Ok(detected)
}

/// Classifies an upload, then reads it as far as the pipeline needs: a PDF's text and OCR images, an image's
/// pages, an audio file's header. Every refusal is permanent; nothing here panics on hostile input.
pub fn inspect(bytes: &[u8], declared: Option<&str>, limits: &Limits) -> Result<Accepted, Refusal> {
    let kind = classify(bytes, declared, limits)?;
    match kind.family() {
        Family::Document => pdf::read(bytes, limits).map(Accepted::Pdf),
        Family::Image => raster::single_image(kind, bytes, limits).map(|pages| Accepted::Image { kind, pages }),
        Family::Audio => audio::probe(kind, bytes, limits).map(Accepted::Audio),
    }
}
