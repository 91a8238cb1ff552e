//! Audio to 16 kHz mono 16-bit PCM: decoded with `symphonia` (WAV, FLAC, MP3, Ogg Vorbis), channels averaged,
//! resampled with `rubato`'s synchronous FFT resampler (a fixed ratio, the fast and exact choice offline).

use std::io::Cursor;

use medvault_intake::FileKind;
use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};
use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use crate::SpeechError;

/// The rate pocketsphinx's acoustic model was trained at.
pub const TARGET_RATE: u32 = 16_000;

/// Mono 16-bit samples at [`TARGET_RATE`].
#[derive(Clone, PartialEq, Eq)]
pub struct Pcm16k {
    pub samples: Vec<i16>,
}

impl std::fmt::Debug for Pcm16k {
    // A recording of a patient is PHI: only its length is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pcm16k({:.2} s)", self.seconds())
    }
}

impl Pcm16k {
    pub fn seconds(&self) -> f64 {
        self.samples.len() as f64 / f64::from(TARGET_RATE)
    }
}

/// Decodes an audio file to 16 kHz mono, refusing more than `max_seconds` of it (counted while decoding, so a
/// file whose header understates its length is caught too).
pub fn to_16k_mono(kind: FileKind, bytes: Vec<u8>, max_seconds: u64) -> Result<Pcm16k, SpeechError> {
    let malformed = |detail: String| SpeechError::Malformed { kind, detail };
    let source = MediaSourceStream::new(Box::new(Cursor::new(bytes)), Default::default());
    let mut hint = Hint::new();
    hint.with_extension(medvault_intake::audio::extension(kind));
    let mut format = symphonia::default::get_probe()
        .probe(&hint, source, FormatOptions::default(), MetadataOptions::default())
        .map_err(|e| malformed(e.to_string()))?;
    let track = format.default_track(TrackType::Audio).ok_or_else(|| malformed("no audio track".into()))?;
    let track_id = track.id;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| malformed("no audio codec parameters".into()))?
        .clone();
    let rate = params.sample_rate.filter(|r| *r > 0).ok_or_else(|| malformed("no sample rate".into()))?;
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(|e| malformed(e.to_string()))?;
    let max_frames = max_seconds.saturating_mul(u64::from(rate));

    let mut mono: Vec<f32> = Vec::new();
    let mut interleaved: Vec<f32> = Vec::new();
    loop {
        let packet = match format.next_packet() {
            Ok(Some(packet)) => packet,
            Ok(None) => break,
            // A truncated file ends early; what decoded so far is kept, as a player would play it.
            Err(symphonia::core::errors::Error::IoError(_)) => break,
            Err(e) => return Err(malformed(e.to_string())),
        };
        if packet.track_id != track_id {
            continue;
        }
        let buffer = match decoder.decode(&packet) {
            Ok(buffer) => buffer,
            // One corrupt packet is skipped, as players do.
            Err(symphonia::core::errors::Error::DecodeError(_)) => continue,
            Err(e) => return Err(malformed(e.to_string())),
        };
        let channels = buffer.spec().channels().count().max(1);
        interleaved.resize(buffer.samples_interleaved(), 0.0);
        buffer.copy_to_slice_interleaved(&mut interleaved);
        mono.extend(interleaved.chunks_exact(channels).map(|frame| frame.iter().sum::<f32>() / channels as f32));
        if mono.len() as u64 > max_frames {
            return Err(SpeechError::TooLong { limit_seconds: max_seconds });
        }
    }
    if mono.is_empty() {
        return Err(malformed("no audio decoded".into()));
    }
    let resampled = resample(&mono, rate)?;
    let samples = resampled.iter().map(|s| (s * 32767.0).round().clamp(-32768.0, 32767.0) as i16).collect();
    Ok(Pcm16k { samples })
}

/// Resamples mono `input` at `rate` to [`TARGET_RATE`].
pub fn resample(input: &[f32], rate: u32) -> Result<Vec<f32>, SpeechError> {
    if rate == TARGET_RATE {
        return Ok(input.to_vec());
    }
    let failed = |e: &dyn std::fmt::Display| SpeechError::Resample(e.to_string());
    let mut resampler =
        Fft::<f32>::new(rate as usize, TARGET_RATE as usize, 1024, 1, FixedSync::Input).map_err(|e| failed(&e))?;
    let adapter = InterleavedSlice::new(input, 1, input.len()).map_err(|e| failed(&e))?;
    let output = resampler.process_all(&adapter, input.len(), None).map_err(|e| failed(&e))?;
    Ok(output.take_data())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resampling_keeps_duration_and_pitch() {
        // One second of 440 Hz at 44.1 kHz becomes one second at 16 kHz with the same zero crossings.
        let input: Vec<f32> =
            (0..44_100).map(|i| (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 44_100.0).sin() * 0.5).collect();

        let output = resample(&input, 44_100).unwrap();

        assert!((output.len() as i64 - 16_000).abs() <= 2, "{} samples", output.len());
        let crossings = output[1000..15_000].windows(2).filter(|w| w[0] < 0.0 && w[1] >= 0.0).count();
        assert!((crossings as i64 - 385).abs() <= 2, "{crossings} rising zero crossings in 0.875 s");
    }
}
