//! `phi corpus` and `phi score`: the labelled synthetic corpus out, a detector's predictions scored against it.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::Path;

use anyhow::Context;
use medvault_phi::Entity;
use medvault_phi::eval::{Note, corpus, phi_free_text, score};
use serde::Deserialize;

use super::Summary;

/// Writes `count` notes of `seed` to stdout, one JSON object per line.
pub fn write_corpus(seed: u64, count: usize, text_only: bool, no_phi: bool) -> anyhow::Result<Summary> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if no_phi {
        for i in 0..count {
            let text = phi_free_text(seed.wrapping_add(i as u64), 2048);
            writeln!(out, "{}", serde_json::json!({ "id": format!("clean-{i}"), "text": text }))
                .context("writing the corpus")?;
        }
        out.flush().context("writing the corpus")?;
        return Ok(Summary { documents: count as u64, ..Summary::default() });
    }
    for note in corpus(seed, count) {
        let line = if text_only {
            serde_json::to_string(&serde_json::json!({ "id": note.id, "text": note.text }))?
        } else {
            serde_json::to_string(&note)?
        };
        writeln!(out, "{line}").context("writing the corpus")?;
    }
    out.flush().context("writing the corpus")?;
    Ok(Summary { documents: count as u64, ..Summary::default() })
}

#[derive(Debug, Deserialize)]
struct Predicted {
    id: serde_json::Value,
    entities: Vec<Entity>,
}

fn id_key(id: &serde_json::Value) -> String {
    match id {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Scores a predictions file against a corpus file (matched by `id`; a missing prediction counts as none).
pub fn score_files(gold: &Path, predicted: &Path, json: bool) -> anyhow::Result<Summary> {
    let open = |p: &Path| -> anyhow::Result<std::io::BufReader<std::fs::File>> {
        Ok(std::io::BufReader::new(std::fs::File::open(p).with_context(|| format!("opening {}", p.display()))?))
    };
    let mut notes = Vec::new();
    for (i, line) in open(gold)?.lines().enumerate() {
        let line = line?;
        if !line.trim().is_empty() {
            notes.push(
                serde_json::from_str::<Note>(&line).with_context(|| format!("{} line {}", gold.display(), i + 1))?,
            );
        }
    }
    let mut by_id: HashMap<String, Vec<Entity>> = HashMap::new();
    for (i, line) in open(predicted)?.lines().enumerate() {
        let line = line?;
        if !line.trim().is_empty() {
            let p: Predicted =
                serde_json::from_str(&line).with_context(|| format!("{} line {}", predicted.display(), i + 1))?;
            by_id.insert(id_key(&p.id), p.entities);
        }
    }
    let predictions: Vec<Vec<Entity>> = notes.iter().map(|n| by_id.remove(&n.id).unwrap_or_default()).collect();
    let report = score(&notes, &predictions);
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.table());
    }
    Ok(Summary { documents: notes.len() as u64, ..Summary::default() })
}
