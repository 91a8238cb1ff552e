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
