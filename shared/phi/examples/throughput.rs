//! Detection throughput on the synthetic corpus, single thread (a developer's probe; the criterion bench is canonical).

use std::time::Instant;

use medvault_phi::eval::{corpus, phi_free_text};
use medvault_phi::{AnalyzeOptions, Analyzer};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let analyzer = Analyzer::new()?;
    let options = AnalyzeOptions::default();
    let mixed: Vec<String> = corpus(1, 2000).into_iter().map(|n| n.text).collect();
    let clean: Vec<String> = (0..1000).map(|i| phi_free_text(i, 2048)).collect();
    let only = std::env::args().nth(2);
    for (name, docs) in [("mixed", &mixed), ("no_phi", &clean)] {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        let bytes: usize = docs.iter().map(String::len).sum();
        let rounds = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(3);
        let started = Instant::now();
        let mut found = 0;
        for _ in 0..rounds {
            found += docs.iter().map(|d| analyzer.analyze(d, &options).len()).sum::<usize>();
        }
        let seconds = started.elapsed().as_secs_f64();
        println!("{name}: {:.2} MB/s ({found} entities)", (bytes * rounds) as f64 / seconds / 1e6);
    }
    Ok(())
}
