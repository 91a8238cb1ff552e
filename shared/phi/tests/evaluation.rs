//! The recall and precision targets on a fixed-seed synthetic corpus (`cargo xtask eval-phi` runs a larger one).

use medvault_phi::eval::{BASELINE_SEED, HELD_OUT_SEED, corpus, evaluate};
use medvault_phi::{AnalyzeOptions, Analyzer};

fn check(seed: u64) {
    // Arrange
    let analyzer = Analyzer::new().expect("analyzer");
    let notes = corpus(seed, 500);

    // Act
    let report = evaluate(&analyzer, &AnalyzeOptions::default(), &notes);

    // Assert: the targets.
    let table = report.table();
    assert!(report.overall.char_recall() >= 0.99, "{table}");
    assert!(report.overall.char_precision() >= 0.95, "{table}");
    for (t, c) in &report.per_type {
        assert!(c.char_recall() >= 0.97, "{t} recall below 0.97\n{table}");
    }
}

#[test]
fn targets_hold_on_the_baseline_seed() {
    check(BASELINE_SEED);
}

#[test]
fn targets_hold_on_the_held_out_seed() {
    check(HELD_OUT_SEED);
}

/// The evaluation `cargo xtask eval-phi --record` wrote: its seed, corpus size and counts.
#[derive(serde::Deserialize)]
struct Recorded {
    seed: u64,
    documents: usize,
    report: medvault_phi::eval::Report,
}

#[test]
fn no_metric_falls_below_the_recorded_baseline() {
    // Arrange: the recorded baseline and the same corpus it was scored on.
    let recorded: Recorded = serde_json::from_str(include_str!("../eval/baseline.json")).expect("baseline.json");
    let analyzer = Analyzer::new().expect("analyzer");
    let notes = corpus(recorded.seed, recorded.documents);

    // Act
    let report = evaluate(&analyzer, &AnalyzeOptions::default(), &notes);

    // Assert: no overall or per-type recall or precision below what was recorded.
    let regressions = report.regressions(&recorded.report, 0.0);
    assert!(regressions.is_empty(), "below the recorded baseline:\n{}\n{}", regressions.join("\n"), report.table());
}
