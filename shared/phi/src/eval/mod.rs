//! Evaluation: a labelled synthetic clinical corpus and a scorer (used by `cargo xtask eval-phi` and the benches).

pub mod generate;
pub mod score;

pub use generate::{GoldSpan, KINDS, Note, Rng, corpus, phi_free_text};
pub use score::{Counts, Report, score};

use crate::{AnalyzeOptions, Analyzer};

/// The seed the recorded baseline is measured on.
pub const BASELINE_SEED: u64 = 20_261_122;
/// A seed never looked at while tuning the detector; reported beside the baseline to show over-fitting.
pub const HELD_OUT_SEED: u64 = 9_001;

/// Runs `analyzer` over `notes` and scores it.
pub fn evaluate(analyzer: &Analyzer, options: &AnalyzeOptions, notes: &[Note]) -> Report {
    let predictions: Vec<_> = notes.iter().map(|n| analyzer.analyze(&n.text, options)).collect();
    score(notes, &predictions)
}
