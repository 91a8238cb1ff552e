//! Why an upload is refused: a typed reason that the document's `quarantined` status carries. A refusal is
//! permanent (the same bytes give the same answer), so the worker quarantines instead of retrying.

use serde::Serialize;

use crate::kind::FileKind;

/// What kind of decompression bomb was caught, and by which limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Bomb {
    /// An image (or a PDF page image) declares more pixels than allowed.
    Pixels { width: u64, height: u64, limit: u64 },
    /// A PDF stream inflates past the per-stream limit.
    PdfStream { limit: u64 },
    /// A PDF's streams together inflate past the per-document limit.
    PdfDocument { limit: u64 },
    /// An image decoder would need more memory than the pixel limit allows.
    DecoderAllocation { limit: u64 },
    /// Audio longer than allowed.
    AudioDuration { seconds: u64, limit: u64 },
}

/// The reason an upload is quarantined. `Display` is safe to store and show: it never contains document content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Refusal {
    #[error("the file is {detected} but was declared as {declared}")]
    TypeMismatch { declared: String, detected: String },
    #[error("unsupported file type {detected}")]
    UnsupportedType { detected: String },
    #[error("the PDF is encrypted")]
    EncryptedPdf,
    #[error("the PDF is malformed: {detail}")]
    MalformedPdf { detail: String },
    #[error("the {kind} image is malformed: {detail}")]
    MalformedImage { kind: FileKind, detail: String },
    #[error("the {kind} audio is malformed: {detail}")]
    MalformedAudio { kind: FileKind, detail: String },
    #[error("the PDF holds an image encoded as {encoding}, which cannot be decoded for OCR")]
    UnsupportedImageEncoding { encoding: String },
    #[error("decompression bomb: {0:?}")]
    DecompressionBomb(Bomb),
    #[error("the file is {size} bytes; the limit is {limit}")]
    Oversize { size: u64, limit: u64 },
    #[error("the document has {pages} pages; the limit is {limit}")]
    TooManyPages { pages: u64, limit: u64 },
    #[error("the file is empty")]
    Empty,
}

impl Refusal {
    /// A stable, machine-readable code for the status record and metrics (`type_mismatch`, `encrypted_pdf`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            Self::TypeMismatch { .. } => "type_mismatch",
            Self::UnsupportedType { .. } => "unsupported_type",
            Self::EncryptedPdf => "encrypted_pdf",
            Self::MalformedPdf { .. } => "malformed_pdf",
            Self::MalformedImage { .. } => "malformed_image",
            Self::MalformedAudio { .. } => "malformed_audio",
            Self::UnsupportedImageEncoding { .. } => "unsupported_image_encoding",
            Self::DecompressionBomb(_) => "decompression_bomb",
            Self::Oversize { .. } => "oversize",
            Self::TooManyPages { .. } => "too_many_pages",
            Self::Empty => "empty",
        }
    }

    pub(crate) fn malformed_pdf(detail: impl ToString) -> Self {
        Self::MalformedPdf { detail: truncate(detail.to_string()) }
    }

    pub(crate) fn malformed_image(kind: FileKind, detail: impl ToString) -> Self {
        Self::MalformedImage { kind, detail: truncate(detail.to_string()) }
    }

    pub(crate) fn malformed_audio(kind: FileKind, detail: impl ToString) -> Self {
        Self::MalformedAudio { kind, detail: truncate(detail.to_string()) }
    }
}

/// Parser messages describe structure, not content, but can be long; a status reason stays short.
fn truncate(mut detail: String) -> String {
    const MAX: usize = 200;
    if detail.len() > MAX {
        let cut = (0..=MAX).rev().find(|i| detail.is_char_boundary(*i)).unwrap_or(0);
        detail.truncate(cut);
        detail.push('…');
    }
    detail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_serialize_with_their_code_as_reason() {
        let refusal = Refusal::TooManyPages { pages: 900, limit: 500 };
        let json = serde_json::to_value(&refusal).unwrap();
        assert_eq!(json["reason"], refusal.code());
        assert_eq!(json["pages"], 900);
    }

    #[test]
    fn long_details_are_cut_on_a_character_boundary() {
        let refusal = Refusal::malformed_pdf("é".repeat(300));
        let Refusal::MalformedPdf { detail } = refusal else { panic!("wrong variant") };
        assert!(detail.len() <= 204);
        assert!(detail.ends_with('…'));
    }
}
