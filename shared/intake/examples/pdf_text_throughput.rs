//! Text-layer PDF throughput of intake (used by `cargo xtask bench pipeline`): reads the given PDF repeatedly and
//! prints pages per second as one JSON line.

use std::time::Instant;

use medvault_intake::{Accepted, Limits, inspect};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: pdf_text_throughput PDF [ROUNDS]")?;
    let rounds: usize = std::env::args().nth(2).map(|r| r.parse()).transpose()?.unwrap_or(20);
    let bytes = std::fs::read(&path)?;
    let mut pages = 0usize;
    let start = Instant::now();
    for _ in 0..rounds {
        match inspect(&bytes, Some("application/pdf"), &Limits::default())? {
            Accepted::Pdf(document) => {
                if document.pages.iter().any(|p| p.needs_ocr) {
                    return Err("a page of the benchmark PDF has no text layer".into());
                }
                pages += document.pages.len();
            }
            _ => return Err("not a PDF".into()),
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    println!("{{\"pages\":{pages},\"seconds\":{seconds:.3},\"pages_per_second\":{:.1}}}", pages as f64 / seconds);
    Ok(())
}
