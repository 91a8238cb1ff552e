//! Streaming engine of the `phi` command: bounded chunks in, parallel work, ordered lines out.
//!
//! Memory stays constant in the input size: at most `chunk` documents (or text paragraphs of at most
//! [`MAX_PARAGRAPH`] bytes) are held at once.

use std::io::{BufRead, Write};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use medvault_phi::{AnalyzeOptions, Analyzer, DataKey, Entity, Keys, Policy, TenantKey, Transformed, transform};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Largest text paragraph processed as one document; longer ones are cut at a line boundary.
pub const MAX_PARAGRAPH: usize = 64 * 1024;

/// How the input is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One `{"id": ..., "text": ...}` object per line.
    Jsonl,
    /// Plain text; paragraphs (separated by blank lines) are the documents.
    Text,
}

/// What to do with each document.
#[derive(Debug)]
pub enum Job {
    Analyze,
    Transform { policy: Policy, tenant: Option<TenantKey>, data: Option<DataKey> },
}

/// Run settings.
#[derive(Debug)]
pub struct Settings {
    pub strict: bool,
    pub chunk: usize,
    pub progress: Option<ProgressBar>,
}

/// What a run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub documents: u64,
    pub malformed: u64,
    /// `--strict` stopped the run at a malformed line.
    pub failed_strict: bool,
}

#[derive(Debug, Deserialize)]
struct InputLine {
    id: serde_json::Value,
    text: String,
}

#[derive(Debug, Serialize)]
struct AnalyzeLine<'a> {
    id: &'a serde_json::Value,
    entities: &'a [Entity],
}

#[derive(Debug, Serialize)]
struct TransformLine<'a> {
    id: &'a serde_json::Value,
    text: &'a str,
    items: &'a [Transformed],
}

#[derive(Debug)]
enum Record {
    /// A JSONL line or a text paragraph, with the number of its first line.
    Document { line: u64, raw: String },
    /// Blank lines between text paragraphs, copied through.
    Passthrough(String),
}

/// A progress bar on stderr (callers create it only when stderr is a terminal).
pub fn progress_bar(total_bytes: Option<u64>) -> ProgressBar {
    let bar = match total_bytes {
        Some(n) => ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr()),
        None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
    };
    let template = if total_bytes.is_some() {
        "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}"
    } else {
        "{spinner} {bytes} {bytes_per_sec}"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}

struct Reader<R> {
    input: R,
    line: u64,
    pending: Option<String>,
    done: bool,
}

impl<R: BufRead> Reader<R> {
    fn next_line(&mut self) -> anyhow::Result<Option<String>> {
        if let Some(p) = self.pending.take() {
            return Ok(Some(p));
        }
        if self.done {
            return Ok(None);
        }
        let mut buf = String::new();
        let n = self.input.read_line(&mut buf).context("reading the input")?;
        if n == 0 {
            self.done = true;
            return Ok(None);
        }
        self.line += 1;
        Ok(Some(buf))
    }

    /// Up to `max` records; empty at the end of the input. Returns the bytes consumed too.
    fn chunk(&mut self, format: Format, max: usize) -> anyhow::Result<(Vec<Record>, u64)> {
        let mut records = Vec::with_capacity(max.min(4096));
        let mut bytes = 0u64;
        while records.len() < max {
            let Some(line) = self.next_line()? else { break };
            bytes += line.len() as u64;
            match format {
                Format::Jsonl => {
                    if !line.trim().is_empty() {
                        records.push(Record::Document { line: self.line, raw: line });
                    }
                }
                Format::Text if line.trim().is_empty() => records.push(Record::Passthrough(line)),
                Format::Text => {
                    let first = self.line;
                    let mut para = line;
                    while para.len() < MAX_PARAGRAPH {
                        match self.next_line()? {
                            Some(next) if !next.trim().is_empty() => {
                                bytes += next.len() as u64;
                                para.push_str(&next);
                            }
                            Some(blank) => {
                                self.pending = Some(blank);
                                break;
                            }
                            None => break,
                        }
                    }
                    records.push(Record::Document { line: first, raw: para });
                }
            }
        }
        Ok((records, bytes))
    }
}

fn process(
    analyzer: &Analyzer,
    options: &AnalyzeOptions,
    job: &Job,
    format: Format,
    line: u64,
    raw: &str,
) -> Result<String, String> {
    let (id, text) = match format {
        Format::Jsonl => {
            let parsed: InputLine =
                serde_json::from_str(raw).map_err(|e| format!("not a {{\"id\",\"text\"}} JSON object: {e}"))?;
            (parsed.id, std::borrow::Cow::Owned(parsed.text))
        }
        Format::Text => (serde_json::Value::from(line), std::borrow::Cow::Borrowed(raw)),
    };
    let entities = analyzer.analyze(&text, options);
    match job {
        Job::Analyze => serde_json::to_string(&AnalyzeLine { id: &id, entities: &entities }).map_err(|e| e.to_string()),
        Job::Transform { policy, tenant, data } => {
            let keys = Keys { tenant: tenant.as_ref(), data: data.as_ref() };
            let out = transform(&text, &entities, policy, keys).map_err(|e| e.to_string())?;
            match format {
                Format::Jsonl => serde_json::to_string(&TransformLine { id: &id, text: &out.text, items: &out.items })
                    .map_err(|e| e.to_string()),
                Format::Text => Ok(out.text),
            }
        }
    }
}

/// Streams `input` to `output`.
pub fn run<R: BufRead, W: Write>(
    analyzer: &Analyzer,
    options: &AnalyzeOptions,
    job: &Job,
    format: Format,
    input: R,
    mut output: W,
    settings: Settings,
) -> anyhow::Result<Summary> {
    let mut reader = Reader { input, line: 0, pending: None, done: false };
    let mut summary = Summary::default();
    loop {
        let (records, bytes) = reader.chunk(format, settings.chunk)?;
        if records.is_empty() {
            break;
        }
        let results: Vec<Result<String, String>> = records
            .par_iter()
            .map(|r| match r {
                Record::Document { line, raw } => {
                    let raw = if format == Format::Jsonl { raw.trim_end_matches(['\n', '\r']) } else { raw.as_str() };
                    process(analyzer, options, job, format, *line, raw)
                }
                Record::Passthrough(text) => Ok(text.clone()),
            })
            .collect();
        for (record, result) in records.iter().zip(results) {
            match result {
                Ok(line) => {
                    output.write_all(line.as_bytes()).context("writing the output")?;
                    if format == Format::Jsonl
                        || (matches!(job, Job::Analyze) && matches!(record, Record::Document { .. }))
                    {
                        output.write_all(b"\n").context("writing the output")?;
                    }
                    if matches!(record, Record::Document { .. }) {
                        summary.documents += 1;
                    }
                }
                Err(message) => {
                    let line = match record {
                        Record::Document { line, .. } => *line,
                        Record::Passthrough(_) => 0,
                    };
                    eprintln!("phi: line {line}: {message}");
                    summary.malformed += 1;
                    if settings.strict {
                        output.flush().context("writing the output")?;
                        summary.failed_strict = true;
                        return Ok(summary);
                    }
                }
            }
        }
        if let Some(bar) = &settings.progress {
            bar.inc(bytes);
        }
    }
    output.flush().context("writing the output")?;
    if let Some(bar) = &settings.progress {
        bar.finish_and_clear();
    }
    Ok(summary)
}
