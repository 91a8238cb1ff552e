//! Speech synthesised during the run by festival (`text2wave`, voice kal), converted by sox to WAV, FLAC, Ogg
//! Vorbis and MP3, decoded and resampled in Rust and transcribed by pocketsphinx with the PyPI model.
//!
//! Needs `MEDVAULT_ASR_MODEL_DIR` (the `pocketsphinx/model/en-us` folder of `.venv/pipeline`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use medvault_intake::{FileKind, ObjectRef};
use medvault_speech::{
    ChunkProgress, PocketsphinxEngine, SpeechEngine, SpeechError, SpeechRequest, SphinxConfig, SphinxEngine,
    no_progress, to_16k_mono,
};

/// A dictation with PHI the pipeline must catch: a name, a date and a number.
const SENTENCE: &str = "the patient john smith was seen on march fourth for chest pain";

fn run(program: &str, args: &[&str], package: &str) {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("`{program}` is needed for this test ({e}): install the Debian package {package}"));
    assert!(
        output.status.success(),
        "`{program} {}` failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// festival speaks `text` into a WAV (its native rate), then sox writes `ext` at `rate` Hz with `channels`.
fn speak(dir: &Path, text: &str, name: &str, ext: &str, rate: u32, channels: u32) -> PathBuf {
    let raw = dir.join(format!("{name}-festival.wav"));
    let text_file = dir.join(format!("{name}.txt"));
    std::fs::write(&text_file, text).expect("write text");
    run("text2wave", &["-o", p(&raw), p(&text_file)], "festival festvox-kallpc16k");
    let out = dir.join(format!("{name}.{ext}"));
    run("sox", &[p(&raw), "-r", &rate.to_string(), "-c", &channels.to_string(), p(&out)], "sox libsox-fmt-mp3");
    out
}

fn model_dir() -> PathBuf {
    let dir = std::env::var_os("MEDVAULT_ASR_MODEL_DIR").map(PathBuf::from).unwrap_or_else(|| {
        panic!(
            "MEDVAULT_ASR_MODEL_DIR is not set: point it at .venv/pipeline/lib/python3.11/site-packages/pocketsphinx/model/en-us \
             (the PyPI pocketsphinx model; cargo xtask test sets it)"
        )
    });
    assert!(dir.join("en-us.lm.bin").exists(), "MEDVAULT_ASR_MODEL_DIR={} holds no en-us.lm.bin", dir.display());
    dir
}

fn engine() -> PocketsphinxEngine {
    let sphinx = SphinxEngine::shared(&SphinxConfig { model_dir: model_dir(), threads: 2, chunk_seconds: 20 })
        .expect("pocketsphinx loads the model");
    PocketsphinxEngine::new(sphinx, 3600)
}

/// Word error rate: word-level Levenshtein distance (substitutions, insertions, deletions; the classic dynamic
/// programme, hand-written because strsim works on characters) over the number of reference words.
fn wer(reference: &str, hypothesis: &str) -> f64 {
    let r: Vec<&str> = reference.split_whitespace().collect();
    let h: Vec<&str> = hypothesis.split_whitespace().collect();
    let mut row: Vec<usize> = (0..=h.len()).collect();
    for (i, rw) in r.iter().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, hw) in h.iter().enumerate() {
            let substitution = previous + usize::from(!rw.eq_ignore_ascii_case(hw));
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[h.len()] as f64 / r.len().max(1) as f64
}

fn request(path: &Path, kind: FileKind) -> SpeechRequest {
    let object = ObjectRef { bucket: "uploads".into(), key: "dictation".into(), version_id: Some("v1".into()) };
    SpeechRequest { object, kind, audio: std::fs::read(path).expect("audio file") }
}

#[tokio::test]
async fn a_festival_dictation_is_transcribed_with_a_low_word_error_rate() {
    let dir = tempfile::tempdir().unwrap();
    let wav = speak(dir.path(), SENTENCE, "dictation", "wav", 16_000, 1);

    let transcript = engine().transcribe(request(&wav, FileKind::Wav), no_progress()).await.unwrap();

    let rate = wer(SENTENCE, &transcript.text);
    println!("WER {:.1}% | truth: {SENTENCE} | heard: {}", rate * 100.0, transcript.text);
    assert!(rate <= 0.25, "WER {rate:.2}: {:?}", transcript.text);
    assert!(transcript.text.contains("john smith"), "the name must be heard: {:?}", transcript.text);
}

#[tokio::test]
async fn wav_flac_ogg_and_mp3_at_other_rates_and_in_stereo_are_decoded_and_transcribed() {
    // Arrange: 44.1 kHz stereo FLAC, 22.05 kHz Ogg Vorbis, 44.1 kHz MP3, 8 kHz WAV.
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("flac", FileKind::Flac, 44_100, 2),
        ("ogg", FileKind::Ogg, 22_050, 1),
        ("mp3", FileKind::Mp3, 44_100, 2),
        ("wav", FileKind::Wav, 8_000, 1),
    ];
    let reference =
        to_16k_mono(FileKind::Wav, std::fs::read(speak(dir.path(), SENTENCE, "ref", "wav", 16_000, 1)).unwrap(), 60)
            .unwrap()
            .seconds();

    for (ext, kind, rate, channels) in cases {
        let path = speak(dir.path(), SENTENCE, &format!("d{rate}"), ext, rate, channels);

        // Act
        let audio = to_16k_mono(kind, std::fs::read(&path).unwrap(), 60).unwrap();
        let transcript = engine().transcribe(request(&path, kind), no_progress()).await.unwrap();

        // Assert: same duration at 16 kHz (MP3 adds encoder padding), and the words come through.
        assert!((audio.seconds() - reference).abs() < 0.15, "{ext}: {} s vs {reference} s", audio.seconds());
        let rate_w = wer(SENTENCE, &transcript.text);
        println!("{ext} {rate} Hz x{channels}: WER {:.1}% heard: {}", rate_w * 100.0, transcript.text);
        // Telephone-band audio loses everything above 4 kHz, which the wideband model was trained on.
        let limit = if rate == 8_000 { 0.6 } else { 0.3 };
        assert!(rate_w <= limit, "{ext}: WER {rate_w:.2}: {:?}", transcript.text);
    }
}

#[tokio::test]
async fn long_audio_is_transcribed_in_chunks_with_progress_and_nothing_dropped() {
    // Arrange: three sentences with pauses, chunks of at most 6 s.
    let dir = tempfile::tempdir().unwrap();
    let parts: Vec<PathBuf> = ["alpha", "bravo", "charlie"]
        .iter()
        .enumerate()
        .map(|(i, _)| speak(dir.path(), SENTENCE, &format!("part{i}"), "wav", 16_000, 1))
        .collect();
    let long = dir.path().join("long.wav");
    let silence = dir.path().join("silence.wav");
    run("sox", &["-n", "-r", "16000", "-c", "1", "-b", "16", p(&silence), "trim", "0", "1"], "sox");
    run("sox", &[p(&parts[0]), p(&silence), p(&parts[1]), p(&silence), p(&parts[2]), p(&long)], "sox");
    let sphinx = SphinxEngine::load(&SphinxConfig { model_dir: model_dir(), threads: 2, chunk_seconds: 6 }).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);

    // Act
    let transcript = PocketsphinxEngine::new(sphinx, 3600)
        .transcribe(request(&long, FileKind::Wav), Arc::new(move |p: ChunkProgress| record.lock().unwrap().push(p)))
        .await
        .unwrap();

    // Assert
    let seen = seen.lock().unwrap().clone();
    assert!(seen.len() >= 3, "progress per chunk: {seen:?}");
    assert_eq!(seen.last().map(|p| (p.done, p.total)), Some((seen.len() as u32, seen.len() as u32)));
    let three = [SENTENCE, SENTENCE, SENTENCE].join(" ");
    let rate = wer(&three, &transcript.text);
    println!("chunked WER {:.1}%: {}", rate * 100.0, transcript.text);
    assert!(rate <= 0.3, "WER {rate:.2}: {:?}", transcript.text);
    assert_eq!(transcript.text.matches("smith").count(), 3, "{:?}", transcript.text);
}

#[tokio::test]
async fn the_decoders_are_loaded_once_and_reused_for_later_recordings() {
    let dir = tempfile::tempdir().unwrap();
    let wav = speak(dir.path(), "hello", "short", "wav", 16_000, 1);
    engine().transcribe(request(&wav, FileKind::Wav), no_progress()).await.unwrap();
    let loads = SphinxEngine::model_loads();

    for _ in 0..2 {
        engine().transcribe(request(&wav, FileKind::Wav), no_progress()).await.unwrap();
    }

    assert_eq!(SphinxEngine::model_loads(), loads, "a later recording must not reload the model");
}

#[test]
fn truncated_and_garbage_audio_of_every_type_is_an_error_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    for (ext, kind) in
        [("wav", FileKind::Wav), ("flac", FileKind::Flac), ("ogg", FileKind::Ogg), ("mp3", FileKind::Mp3)]
    {
        let bytes = std::fs::read(speak(dir.path(), "one two three", &format!("t-{ext}"), ext, 16_000, 1)).unwrap();
        let stride = (bytes.len() / 60).max(1);
        for cut in (0..bytes.len()).step_by(stride) {
            let _ = to_16k_mono(kind, bytes[..cut].to_vec(), 60);
        }
        let mut garbage = bytes.clone();
        for (i, byte) in garbage.iter_mut().enumerate().skip(64) {
            *byte = byte.wrapping_mul(31).wrapping_add(i as u8);
        }
        let _ = to_16k_mono(kind, garbage, 60);
        assert!(matches!(to_16k_mono(kind, Vec::new(), 60), Err(SpeechError::Malformed { .. })));
    }
}

#[test]
fn audio_longer_than_the_limit_is_refused_while_decoding() {
    let dir = tempfile::tempdir().unwrap();
    let wav = speak(dir.path(), SENTENCE, "long", "wav", 16_000, 1);

    let error = to_16k_mono(FileKind::Wav, std::fs::read(wav).unwrap(), 1).unwrap_err();

    assert!(matches!(error, SpeechError::TooLong { limit_seconds: 1 }), "{error}");
}

#[test]
fn a_missing_model_is_a_load_error_naming_the_variable() {
    let error = SphinxEngine::load(&SphinxConfig { model_dir: "/nonexistent".into(), threads: 1, chunk_seconds: 20 })
        .unwrap_err();

    assert!(error.to_string().contains("MEDVAULT_ASR_MODEL_DIR"), "{error}");
}
