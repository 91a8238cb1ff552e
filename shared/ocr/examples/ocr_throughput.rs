//! OCR throughput of the Tesseract engine on the given images (used by `cargo xtask bench pipeline`): one engine
//! on one core, then one engine per core, model load and each engine's first page excluded (the load reported
//! apart). Prints one JSON line.

use std::time::Instant;

use medvault_intake::{Accepted, Limits, inspect};
use medvault_ocr::config::TesseractConfig;
use medvault_ocr::{TesseractEngine, no_progress};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        return Err("usage: ocr_throughput IMAGE...".into());
    }
    let decode_start = Instant::now();
    let mut pages = Vec::new();
    for path in &paths {
        match inspect(&std::fs::read(path)?, None, &Limits::default())? {
            Accepted::Image { pages: p, .. } => pages.extend(p),
            other => return Err(format!("{path} is not an image: {other:?}").into()),
        }
    }
    let decode_seconds = decode_start.elapsed().as_secs_f64();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mut results = Vec::new();
    for threads in [1, cores] {
        let load_start = Instant::now();
        let engine = TesseractEngine::load(&TesseractConfig { threads, ..TesseractConfig::default() })?;
        let load_seconds = load_start.elapsed().as_secs_f64();
        // The first page an engine reads pays one-time set-up inside libtesseract; the CLI's figure drops it too
        // (its one-page run is subtracted), so each engine reads one page before the clock starts.
        let warm: Vec<_> = pages.iter().take(threads).cloned().collect();
        engine.recognize_blocking(&warm, &no_progress())?;
        let start = Instant::now();
        let document = engine.recognize_blocking(&pages, &no_progress())?;
        let seconds = start.elapsed().as_secs_f64();
        let chars: usize = document.pages.iter().map(|p| p.text.len()).sum();
        results.push(format!(
            "{{\"threads\":{threads},\"pages\":{},\"seconds\":{seconds:.3},\"pages_per_second\":{:.3},\"load_seconds\":{load_seconds:.3},\"chars\":{chars}}}",
            pages.len(),
            pages.len() as f64 / seconds
        ));
    }
    println!("{{\"decode_seconds\":{decode_seconds:.3},\"runs\":[{}]}}", results.join(","));
    Ok(())
}
