//! The limits an upload must stay within, with defaults sized for a Lambda function of a few GiB, overridable
//! through `MEDVAULT_INTAKE_*` environment variables.

use std::num::ParseIntError;

/// Bounds checked before anything is decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted upload, in bytes.
    pub max_file_bytes: u64,
    /// Most pages a PDF or multi-page TIFF may have.
    pub max_pages: u32,
    /// Most pixels one image (or one PDF page image) may declare: width × height.
    pub max_pixels: u64,
    /// Most bytes one PDF stream may inflate to.
    pub max_stream_bytes: u64,
    /// Most bytes all of a PDF's inspected streams may inflate to together.
    pub max_document_inflated_bytes: u64,
    /// Longest accepted audio, in seconds.
    pub max_audio_seconds: u64,
    /// A PDF page with fewer letters and digits than this in its text layer is sent to OCR.
    pub min_text_chars_per_page: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_file_bytes: 100 * 1024 * 1024,
            max_pages: 500,
            // 100 megapixels: an A4 page scanned at 1200 dpi is about 140 MP in colour, at 600 dpi 35 MP.
            max_pixels: 100_000_000,
            max_stream_bytes: 256 * 1024 * 1024,
            max_document_inflated_bytes: 1024 * 1024 * 1024,
            // Four hours of dictation.
            max_audio_seconds: 4 * 60 * 60,
            min_text_chars_per_page: 20,
        }
    }
}

/// A limit variable was set but is not a whole number.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {name} must be a whole number")]
pub struct LimitsError {
    pub name: &'static str,
    #[source]
    source: ParseIntError,
}

impl Limits {
    /// The defaults, overridden by whichever `MEDVAULT_INTAKE_*` variables `lookup` finds (a function so that the
    /// worker can pass its own environment snapshot and tests can pass pairs).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, LimitsError> {
        fn read<T: std::str::FromStr<Err = ParseIntError>>(
            lookup: &impl Fn(&str) -> Option<String>,
            name: &'static str,
            default: T,
        ) -> Result<T, LimitsError> {
            match lookup(name).filter(|v| !v.trim().is_empty()) {
                Some(raw) => raw.trim().parse().map_err(|source| LimitsError { name, source }),
                None => Ok(default),
            }
        }
        let d = Self::default();
        Ok(Self {
            max_file_bytes: read(&lookup, "MEDVAULT_INTAKE_MAX_FILE_BYTES", d.max_file_bytes)?,
            max_pages: read(&lookup, "MEDVAULT_INTAKE_MAX_PAGES", d.max_pages)?,
            max_pixels: read(&lookup, "MEDVAULT_INTAKE_MAX_PIXELS", d.max_pixels)?,
            max_stream_bytes: read(&lookup, "MEDVAULT_INTAKE_MAX_STREAM_BYTES", d.max_stream_bytes)?,
            max_document_inflated_bytes: read(
                &lookup,
                "MEDVAULT_INTAKE_MAX_DOCUMENT_INFLATED_BYTES",
                d.max_document_inflated_bytes,
            )?,
            max_audio_seconds: read(&lookup, "MEDVAULT_INTAKE_MAX_AUDIO_SECONDS", d.max_audio_seconds)?,
            min_text_chars_per_page: read(&lookup, "MEDVAULT_INTAKE_MIN_TEXT_CHARS", d.min_text_chars_per_page)?,
        })
    }

    /// The defaults overridden from the process environment.
    pub fn from_env() -> Result<Self, LimitsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_override_defaults() {
        let limits = Limits::from_lookup(|name| (name == "MEDVAULT_INTAKE_MAX_PAGES").then(|| "7".to_owned())).unwrap();
        assert_eq!(limits.max_pages, 7);
        assert_eq!(limits.max_pixels, Limits::default().max_pixels);
    }

    #[test]
    fn a_malformed_variable_is_named() {
        let error =
            Limits::from_lookup(|name| (name == "MEDVAULT_INTAKE_MAX_PIXELS").then(|| "lots".to_owned())).unwrap_err();
        assert_eq!(error.name, "MEDVAULT_INTAKE_MAX_PIXELS");
    }
}
