//! What an upload is, told by its bytes (magic numbers), and how that compares with the type it was declared as.

use std::fmt;

use serde::Serialize;

/// The kinds of file medvault accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    Pdf,
    Png,
    Jpeg,
    Tiff,
    Wav,
    Flac,
    Mp3,
    Ogg,
}

/// What the pipeline does with a kind: read text from it, OCR it, or transcribe it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Document,
    Image,
    Audio,
}

impl FileKind {
    pub const ALL: [FileKind; 8] = [
        FileKind::Pdf,
        FileKind::Png,
        FileKind::Jpeg,
        FileKind::Tiff,
        FileKind::Wav,
        FileKind::Flac,
        FileKind::Mp3,
        FileKind::Ogg,
    ];

    /// The canonical media type.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Tiff => "image/tiff",
            Self::Wav => "audio/wav",
            Self::Flac => "audio/flac",
            Self::Mp3 => "audio/mpeg",
            Self::Ogg => "audio/ogg",
        }
    }

    pub fn family(self) -> Family {
        match self {
            Self::Pdf => Family::Document,
            Self::Png | Self::Jpeg | Self::Tiff => Family::Image,
            Self::Wav | Self::Flac | Self::Mp3 | Self::Ogg => Family::Audio,
        }
    }

    /// Parses a declared `Content-Type`, accepting the aliases browsers and tools send; parameters
    /// (`; charset=...`) are ignored. `None` for anything medvault does not accept.
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        Some(match essence.as_str() {
            "application/pdf" | "application/x-pdf" => Self::Pdf,
            "image/png" => Self::Png,
            "image/jpeg" | "image/jpg" | "image/pjpeg" => Self::Jpeg,
            "image/tiff" | "image/tif" => Self::Tiff,
            "audio/wav" | "audio/x-wav" | "audio/wave" | "audio/vnd.wave" => Self::Wav,
            "audio/flac" | "audio/x-flac" => Self::Flac,
            "audio/mpeg" | "audio/mp3" | "audio/x-mp3" | "audio/mpeg3" => Self::Mp3,
            "audio/ogg" | "audio/vorbis" | "application/ogg" => Self::Ogg,
            _ => return None,
        })
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.media_type())
    }
}

/// What the bytes say a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detected {
    /// One of the accepted kinds.
    Accepted(FileKind),
    /// A known type medvault does not accept (its media type, e.g. `application/zip`, `audio/opus`).
    Other(&'static str),
    /// No signature matched.
    Unknown,
}

/// Identifies `bytes` by their magic numbers with the `infer` crate (a maintained signature table that also
/// separates Ogg Opus from Ogg Vorbis, and CR2 raw photos from TIFF).
pub fn identify(bytes: &[u8]) -> Detected {
    let Some(found) = infer::get(bytes) else { return Detected::Unknown };
    let kind = match found.mime_type() {
        "application/pdf" => FileKind::Pdf,
        "image/png" => FileKind::Png,
        "image/jpeg" => FileKind::Jpeg,
        "image/tiff" => FileKind::Tiff,
        "audio/x-wav" => FileKind::Wav,
        "audio/x-flac" => FileKind::Flac,
        "audio/mpeg" => FileKind::Mp3,
        "audio/ogg" => FileKind::Ogg,
        other => return Detected::Other(other),
    };
    Detected::Accepted(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_type_aliases_and_parameters_are_understood() {
        assert_eq!(FileKind::from_content_type("Audio/X-WAV; codecs=1"), Some(FileKind::Wav));
        assert_eq!(FileKind::from_content_type("image/jpg"), Some(FileKind::Jpeg));
        assert_eq!(FileKind::from_content_type("application/zip"), None);
    }

    #[test]
    fn every_kind_round_trips_through_its_media_type() {
        for kind in FileKind::ALL {
            assert_eq!(FileKind::from_content_type(kind.media_type()), Some(kind));
        }
    }

    #[test]
    fn ogg_opus_is_not_mistaken_for_ogg_vorbis() {
        let mut page = b"OggS".to_vec();
        page.resize(28, 0);
        page.extend_from_slice(b"OpusHead");
        assert_eq!(identify(&page), Detected::Other("audio/opus"));
    }

    #[test]
    fn unknown_bytes_are_unknown() {
        assert_eq!(identify(b"hello, world"), Detected::Unknown);
    }
}
