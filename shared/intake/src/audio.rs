//! Audio uploads: the container and codec are probed with `symphonia` (pure Rust) and the duration read from the
//! headers is checked against the limit before anything is decoded.

use std::io::Cursor;

use serde::Serialize;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use crate::kind::FileKind;
use crate::limits::Limits;
use crate::refusal::{Bomb, Refusal};

/// What the headers of an audio upload say.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AudioHeader {
    pub kind: FileKind,
    pub sample_rate: u32,
    pub channels: u32,
    /// Frames (samples per channel), when the container states them (MP3 without a Xing header may not).
    pub frames: Option<u64>,
}

impl AudioHeader {
    /// The duration the headers state, in seconds.
    pub fn seconds(&self) -> Option<f64> {
        self.frames.map(|f| f as f64 / f64::from(self.sample_rate.max(1)))
    }
}

/// Probes an audio upload and refuses it if its stated duration is over the limit.
pub fn probe(kind: FileKind, bytes: &[u8], limits: &Limits) -> Result<AudioHeader, Refusal> {
    let source = MediaSourceStream::new(Box::new(Cursor::new(bytes.to_vec())), Default::default());
    let mut hint = Hint::new();
    hint.with_extension(extension(kind));
    let format = symphonia::default::get_probe()
        .probe(&hint, source, FormatOptions::default(), MetadataOptions::default())
        .map_err(|e| Refusal::malformed_audio(kind, e))?;
    let track =
        format.default_track(TrackType::Audio).ok_or_else(|| Refusal::malformed_audio(kind, "no audio track"))?;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| Refusal::malformed_audio(kind, "no audio codec parameters"))?;
    let sample_rate =
        params.sample_rate.filter(|r| *r > 0).ok_or_else(|| Refusal::malformed_audio(kind, "no sample rate"))?;
    let channels = params.channels.as_ref().map(|c| c.count() as u32).unwrap_or(1);
    if channels == 0 {
        return Err(Refusal::malformed_audio(kind, "no channels"));
    }
    let header = AudioHeader { kind, sample_rate, channels, frames: track.num_frames };
    if let Some(seconds) = header.seconds()
        && seconds > limits.max_audio_seconds as f64
    {
        return Err(Refusal::DecompressionBomb(Bomb::AudioDuration {
            seconds: seconds.ceil() as u64,
            limit: limits.max_audio_seconds,
        }));
    }
    Ok(header)
}

/// The file extension symphonia's probe takes as a hint.
pub fn extension(kind: FileKind) -> &'static str {
    match kind {
        FileKind::Wav => "wav",
        FileKind::Flac => "flac",
        FileKind::Mp3 => "mp3",
        FileKind::Ogg => "ogg",
        FileKind::Pdf => "pdf",
        FileKind::Png => "png",
        FileKind::Jpeg => "jpg",
        FileKind::Tiff => "tiff",
    }
}
