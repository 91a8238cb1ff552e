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
        let cpu_started = thread_cpu_seconds();
        let mut found = 0;
        for _ in 0..rounds {
            found += docs.iter().map(|d| analyzer.analyze(d, &options).len()).sum::<usize>();
        }
        let seconds = started.elapsed().as_secs_f64();
        let total = (bytes * rounds) as f64 / 1e6;
        match (cpu_started, thread_cpu_seconds()) {
            (Some(a), Some(b)) => println!(
                "{name}: {:.2} MB/s wall, {:.2} MB/s of this thread's CPU time ({found} entities)",
                total / seconds,
                total / (b - a)
            ),
            _ => println!("{name}: {:.2} MB/s ({found} entities)", total / seconds),
        }
    }
    Ok(())
}

/// CPU time of this thread (Linux schedstat, nanoseconds): on a machine shared with other builds, wall time counts
/// the time the scheduler gave to others.
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}
