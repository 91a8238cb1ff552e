//! `cargo xtask eval-phi`: scores the PHI detector (the release `phi` binary) on the labelled synthetic corpus,
//! prints the table for the baseline seed and a held-out seed, and with `--check` fails below the recorded baseline.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use serde_json::Value;

use crate::workspace::{self, run};

/// The seed the baseline is recorded on (medvault_phi::eval::BASELINE_SEED).
pub const BASELINE_SEED: u64 = 20_261_122;
/// A seed never used while tuning (medvault_phi::eval::HELD_OUT_SEED).
pub const HELD_OUT_SEED: u64 = 9_001;
const DOCUMENTS: usize = 2_000;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Exit non-zero if recall or precision (overall or for any type) fall below `shared/phi/eval/baseline.json`.
    #[arg(long)]
    pub check: bool,
    /// Write the baseline seed's scores to `shared/phi/eval/baseline.json`.
    #[arg(long)]
    pub record: bool,
}

fn baseline_path() -> PathBuf {
    workspace::root().join("shared/phi/eval/baseline.json")
}

/// Builds the release `phi` binary and returns its path.
pub fn build_phi() -> anyhow::Result<PathBuf> {
    run(workspace::cargo().args(["build", "--release", "-p", "medvault-cli", "--bin", "phi"]))?;
    Ok(workspace::target_dir().join("release/phi"))
}

/// Runs `phi` with `args`, writing its stdout to `out`.
pub fn phi_to_file(phi: &Path, args: &[&str], out: &Path) -> anyhow::Result<()> {
    let file = std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?;
    let status = Command::new(phi).args(args).stdout(file).stderr(Stdio::inherit()).status().context("running phi")?;
    if !status.success() {
        bail!("`phi {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

/// The scores of `predicted` against `gold` as JSON (`phi score --json`).
pub fn score(phi: &Path, gold: &Path, predicted: &Path) -> anyhow::Result<Value> {
    let out = Command::new(phi)
        .args(["score", "--json", "--gold"])
        .arg(gold)
        .arg("--predicted")
        .arg(predicted)
        .output()
        .context("running phi score")?;
    if !out.status.success() {
        bail!("phi score failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// The table of a score report (`phi score`).
pub fn table(phi: &Path, gold: &Path, predicted: &Path) -> anyhow::Result<String> {
    let out = Command::new(phi).args(["score", "--gold"]).arg(gold).arg("--predicted").arg(predicted).output()?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Writes the corpus of `seed` (gold and text-only) into `dir`; returns (gold, text) paths.
pub fn corpus(phi: &Path, dir: &Path, seed: u64, count: usize) -> anyhow::Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir)?;
    let (gold, text) = (dir.join(format!("gold-{seed}.jsonl")), dir.join(format!("text-{seed}.jsonl")));
    let (s, n) = (seed.to_string(), count.to_string());
    phi_to_file(phi, &["corpus", "--seed", &s, "--count", &n], &gold)?;
    phi_to_file(phi, &["corpus", "--seed", &s, "--count", &n, "--text-only"], &text)?;
    Ok((gold, text))
}

fn ratio(counts: &Value, found: &str, total: &str) -> f64 {
    let (a, b) = (counts[found].as_f64().unwrap_or(0.0), counts[total].as_f64().unwrap_or(0.0));
    if b == 0.0 { 1.0 } else { a / b }
}

const METRICS: [(&str, &str, &str); 4] = [
    ("char recall", "char_gold_found", "char_gold"),
    ("char precision", "char_pred_correct", "char_pred"),
    ("entity recall", "ent_gold_found", "ent_gold"),
    ("entity precision", "ent_pred_correct", "ent_pred"),
];

/// Every metric of `now` that is below `baseline` (overall and per type).
fn regressions(now: &Value, baseline: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut rows = vec![("OVERALL".to_owned(), &now["overall"], &baseline["overall"])];
    if let Some(types) = baseline["per_type"].as_object() {
        for (t, then) in types {
            rows.push((t.clone(), &now["per_type"][t], then));
        }
    }
    for (name, a, b) in rows {
        for (metric, found, total) in METRICS {
            let (x, y) = (ratio(a, found, total), ratio(b, found, total));
            if x + 1e-9 < y {
                out.push(format!("{name} {metric}: {x:.4} < baseline {y:.4}"));
            }
        }
    }
    out
}

pub fn run_eval(args: Args) -> anyhow::Result<()> {
    let phi = build_phi()?;
    let dir = workspace::target_dir().join("phi-eval");
    let mut baseline_report = Value::Null;
    for (label, seed) in [("baseline seed", BASELINE_SEED), ("held-out seed", HELD_OUT_SEED)] {
        let (gold, text) = corpus(&phi, &dir, seed, DOCUMENTS)?;
        let predicted = dir.join(format!("predicted-{seed}.jsonl"));
        let started = std::time::Instant::now();
        phi_to_file(&phi, &["analyze", "--input", text.to_str().unwrap_or_default()], &predicted)?;
        let elapsed = started.elapsed();
        println!("== {label} {seed} ({DOCUMENTS} documents, analyzed in {:.2} s)", elapsed.as_secs_f64());
        print!("{}", table(&phi, &gold, &predicted)?);
        if seed == BASELINE_SEED {
            baseline_report = score(&phi, &gold, &predicted)?;
        }
    }
    if args.record {
        let recorded = serde_json::json!({ "seed": BASELINE_SEED, "documents": DOCUMENTS, "report": baseline_report });
        std::fs::write(baseline_path(), serde_json::to_string_pretty(&recorded)? + "\n")?;
        println!("recorded {}", baseline_path().display());
    }
    if args.check {
        let text = std::fs::read_to_string(baseline_path())
            .with_context(|| format!("reading {}", baseline_path().display()))?;
        let recorded: Value = serde_json::from_str(&text)?;
        let failures = regressions(&baseline_report, &recorded["report"]);
        if !failures.is_empty() {
            bail!("PHI detection fell below the recorded baseline:\n  {}", failures.join("\n  "));
        }
        println!("eval-phi: at or above the recorded baseline");
    }
    Ok(())
}
