//! Scorer: character-level and entity-level recall and precision, overall and per type (PHONE and FAX as one).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::entity::{Entity, EntityType};
use crate::eval::generate::Note;

/// Counts behind one row of the table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    /// Gold characters (non-whitespace) of this type covered by any prediction.
    pub char_gold_found: u64,
    pub char_gold: u64,
    /// Predicted characters (non-whitespace) of this type that are gold PHI of any type.
    pub char_pred_correct: u64,
    pub char_pred: u64,
    /// Gold entities overlapped by a prediction of the same group.
    pub ent_gold_found: u64,
    pub ent_gold: u64,
    /// Predictions overlapping a gold entity of the same group.
    pub ent_pred_correct: u64,
    pub ent_pred: u64,
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

impl Counts {
    pub fn char_recall(&self) -> f64 {
        ratio(self.char_gold_found, self.char_gold)
    }
    pub fn char_precision(&self) -> f64 {
        ratio(self.char_pred_correct, self.char_pred)
    }
    pub fn entity_recall(&self) -> f64 {
        ratio(self.ent_gold_found, self.ent_gold)
    }
    pub fn entity_precision(&self) -> f64 {
        ratio(self.ent_pred_correct, self.ent_pred)
    }

    fn add(&mut self, o: &Counts) {
        self.char_gold_found += o.char_gold_found;
        self.char_gold += o.char_gold;
        self.char_pred_correct += o.char_pred_correct;
        self.char_pred += o.char_pred;
        self.ent_gold_found += o.ent_gold_found;
        self.ent_gold += o.ent_gold;
        self.ent_pred_correct += o.ent_pred_correct;
        self.ent_pred += o.ent_pred;
    }
}

/// The scores of one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub documents: usize,
    pub characters: u64,
    pub overall: Counts,
    /// Keyed by the score group's taxonomy name (`PHONE` holds FAX too).
    pub per_type: BTreeMap<String, Counts>,
}

/// Scores `predictions[i]` against `notes[i]`.
pub fn score(notes: &[Note], predictions: &[Vec<Entity>]) -> Report {
    let mut report = Report { documents: notes.len(), ..Report::default() };
    let mut gold_mask: Vec<Option<EntityType>> = Vec::new();
    let mut pred_mask: Vec<Option<EntityType>> = Vec::new();
    for (note, predicted) in notes.iter().zip(predictions) {
        let chars: Vec<char> = note.text.chars().collect();
        report.characters += chars.len() as u64;
        gold_mask.clear();
        gold_mask.resize(chars.len(), None);
        pred_mask.clear();
        pred_mask.resize(chars.len(), None);
        for s in &note.spans {
            for m in &mut gold_mask[s.start.min(chars.len())..s.end.min(chars.len())] {
                *m = Some(s.entity_type.score_group());
            }
        }
        for p in predicted {
            for m in &mut pred_mask[p.start.min(chars.len())..p.end.min(chars.len())] {
                *m = Some(p.entity_type.score_group());
            }
        }
        let mut doc = BTreeMap::<EntityType, Counts>::new();
        for (i, c) in chars.iter().enumerate() {
            if c.is_whitespace() || matches!(c, '\u{200B}') {
                continue;
            }
            if let Some(g) = gold_mask[i] {
                let row = doc.entry(g).or_default();
                row.char_gold += 1;
                if pred_mask[i].is_some() {
                    row.char_gold_found += 1;
                }
            }
            if let Some(p) = pred_mask[i] {
                let row = doc.entry(p).or_default();
                row.char_pred += 1;
                if gold_mask[i].is_some() {
                    row.char_pred_correct += 1;
                }
            }
        }
        for s in &note.spans {
            let g = s.entity_type.score_group();
            let row = doc.entry(g).or_default();
            row.ent_gold += 1;
            if predicted.iter().any(|p| p.entity_type.score_group() == g && p.start < s.end && s.start < p.end) {
                row.ent_gold_found += 1;
            }
        }
        for p in predicted {
            let g = p.entity_type.score_group();
            let row = doc.entry(g).or_default();
            row.ent_pred += 1;
            if note.spans.iter().any(|s| s.entity_type.score_group() == g && p.start < s.end && s.start < p.end) {
                row.ent_pred_correct += 1;
            }
        }
        for (t, c) in doc {
            report.overall.add(&c);
            report.per_type.entry(t.as_str().to_owned()).or_default().add(&c);
        }
    }
    report
}

impl Report {
    /// The table `cargo xtask eval-phi` prints.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{} documents, {} characters", self.documents, self.characters);
        let _ = writeln!(
            out,
            "{:<16} {:>8} {:>8} {:>8} {:>8} {:>7} {:>7}",
            "type", "char R", "char P", "ent R", "ent P", "gold", "pred"
        );
        let mut row = |name: &str, c: &Counts| {
            let _ = writeln!(
                out,
                "{name:<16} {:>8.4} {:>8.4} {:>8.4} {:>8.4} {:>7} {:>7}",
                c.char_recall(),
                c.char_precision(),
                c.entity_recall(),
                c.entity_precision(),
                c.ent_gold,
                c.ent_pred
            );
        };
        for (t, c) in &self.per_type {
            row(if t == "PHONE" { "PHONE+FAX" } else { t }, c);
        }
        row("OVERALL", &self.overall);
        out
    }

    /// Where this run falls below `baseline` (more than `slack` under it): one line per shortfall.
    pub fn regressions(&self, baseline: &Report, slack: f64) -> Vec<String> {
        let mut out = Vec::new();
        let mut check = |name: &str, now: &Counts, then: &Counts| {
            for (metric, a, b) in [
                ("char recall", now.char_recall(), then.char_recall()),
                ("char precision", now.char_precision(), then.char_precision()),
                ("entity recall", now.entity_recall(), then.entity_recall()),
                ("entity precision", now.entity_precision(), then.entity_precision()),
            ] {
                if a + slack < b {
                    out.push(format!("{name} {metric} {a:.4} < baseline {b:.4}"));
                }
            }
        };
        check("OVERALL", &self.overall, &baseline.overall);
        for (t, then) in &baseline.per_type {
            let now = self.per_type.get(t).copied().unwrap_or_default();
            check(t, &now, then);
        }
        out
    }
}
