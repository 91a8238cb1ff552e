//! Detection throughput on the synthetic corpus, single thread (a developer's probe; the criterion bench is canonical).
//!
//! `cargo run --release -p medvault-phi --example throughput [ROUNDS] [mixed|no_phi] [--stages]`; with `--stages`, the
//! throughput of `analyze`'s work up to each stage as well, so that the time of each stage is the difference.

use std::time::Instant;

use medvault_phi::eval::{corpus, phi_free_text};
use medvault_phi::{AnalyzeOptions, Analyzer, Stage};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let analyzer = Analyzer::new()?;
    let options = AnalyzeOptions::default();
    let stages = std::env::args().any(|a| a == "--stages");
    let positional: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let rounds = positional.first().and_then(|a| a.parse().ok()).unwrap_or(3);
    let only = positional.get(1);
    let mixed: Vec<String> = corpus(1, 2000).into_iter().map(|n| n.text).collect();
    let clean: Vec<String> = (0..1000).map(|i| phi_free_text(i, 2048)).collect();
    for (name, docs) in [("mixed", &mixed), ("no_phi", &clean)] {
        if only.is_some_and(|o| o != name) {
            continue;
        }
        let bytes: usize = docs.iter().map(String::len).sum();
        let total = (bytes * rounds) as f64 / 1e6;
        if stages {
            // Every stage is timed with the automaton's states already built (the first pass over new text builds
            // them), so that the order of the stages does not move their times.
            docs.iter().for_each(|d| drop(analyzer.analyze(d, &options)));
            for stage in [Stage::Normalize, Stage::ShapesAutomaton, Stage::Structured, Stage::Words] {
                let (seconds, found) = timed(rounds, || docs.iter().map(|d| analyzer.stage_candidates(stage, d)).sum());
                println!("{name}, up to {stage:?}: {:.2} MB/s ({found})", total / seconds);
            }
        }
        let (seconds, found) = timed(rounds, || docs.iter().map(|d| analyzer.analyze(d, &options).len()).sum());
        println!("{name}, analyze: {:.2} MB/s ({found} entities)", total / seconds);
    }
    Ok(())
}

/// Seconds of this thread's CPU time for `rounds` runs of `work`, and the sum of what the runs returned. CPU time,
/// because on a machine shared with other builds wall time counts the time the scheduler gave to others; wall time
/// where CPU time cannot be read or is too short for its tick-based clock.
fn timed(rounds: usize, mut work: impl FnMut() -> usize) -> (f64, usize) {
    let started = Instant::now();
    let cpu_started = thread_cpu_seconds();
    let found = (0..rounds).map(|_| work()).sum();
    let wall = started.elapsed().as_secs_f64();
    match (cpu_started, thread_cpu_seconds()) {
        (Some(a), Some(b)) if wall > 0.1 => (b - a, found),
        _ => (wall, found),
    }
}

/// CPU time of this thread (Linux schedstat, nanoseconds).
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}
