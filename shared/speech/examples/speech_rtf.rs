//! Speech real-time factor (used by `cargo xtask bench pipeline`): decode, resample and transcribe the given WAV
//! with one decoder per core (model load excluded, reported apart). Prints one JSON line.

use std::path::PathBuf;
use std::time::Instant;

use medvault_intake::{FileKind, ObjectRef};
use medvault_speech::{PocketsphinxEngine, SpeechRequest, SphinxConfig, SphinxEngine, no_progress};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: speech_rtf WAV")?;
    let model_dir =
        std::env::var_os("MEDVAULT_ASR_MODEL_DIR").map(PathBuf::from).ok_or("MEDVAULT_ASR_MODEL_DIR is not set")?;
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let audio = std::fs::read(&path)?;
    let mut runs = Vec::new();
    for threads in [1, cores] {
        let load_start = Instant::now();
        let sphinx = SphinxEngine::load(&SphinxConfig { model_dir: model_dir.clone(), threads, chunk_seconds: 20 })?;
        let load_seconds = load_start.elapsed().as_secs_f64();
        let engine = PocketsphinxEngine::new(sphinx, 4 * 3600);
        let object = ObjectRef { bucket: String::new(), key: String::new(), version_id: None };
        let request = SpeechRequest { object, kind: FileKind::Wav, audio: audio.clone() };
        let start = Instant::now();
        let transcript = engine.transcribe_blocking(request, &no_progress())?;
        let seconds = start.elapsed().as_secs_f64();
        let audio_seconds = transcript.audio_seconds.unwrap_or(0.0);
        runs.push(format!(
            "{{\"threads\":{threads},\"audio_seconds\":{audio_seconds:.2},\"seconds\":{seconds:.3},\"rtf\":{:.3},\"load_seconds\":{load_seconds:.3},\"words\":{}}}",
            seconds / audio_seconds.max(0.001),
            transcript.text.split_whitespace().count()
        ));
    }
    println!("{{\"runs\":[{}]}}", runs.join(","));
    Ok(())
}
