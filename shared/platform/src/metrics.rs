//! CloudWatch Embedded Metric Format: metrics recorded during an invocation, written as one JSON line when it ends.
//!
//! [`scope`] runs an invocation with a fresh recorder and flushes it once at the end; [`record`] adds a value to
//! the recorder of the invocation it runs in (and does nothing outside one, so library code can always call it).

use std::future::Future;
use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};

/// CloudWatch's namespace for medvault's metrics.
pub const NAMESPACE: &str = "medvault";

/// CloudWatch allows at most 100 metrics in one EMF object.
const MAX_METRICS_PER_LINE: usize = 100;

/// The units CloudWatch understands that medvault uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
    Bytes,
    Percent,
    None,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Self::Count => "Count",
            Self::Milliseconds => "Milliseconds",
            Self::Bytes => "Bytes",
            Self::Percent => "Percent",
            Self::None => "None",
        }
    }
}

/// Values recorded during one invocation, in the order first seen.
#[derive(Debug, Default)]
pub struct Recorder {
    values: Vec<(&'static str, Unit, Vec<f64>)>,
}

impl Recorder {
    pub fn add(&mut self, name: &'static str, unit: Unit, value: f64) {
        match self.values.iter_mut().find(|(n, _, _)| *n == name) {
            Some((_, _, values)) => values.push(value),
            None => self.values.push((name, unit, vec![value])),
        }
    }

    /// The EMF lines for what was recorded (none when nothing was), with `function` as the dimension.
    pub fn to_emf_lines(&self, function: &str, timestamp_ms: i64) -> Vec<String> {
        self.values
            .chunks(MAX_METRICS_PER_LINE)
            .map(|chunk| {
                let mut object = Map::new();
                let definitions: Vec<Value> =
                    chunk.iter().map(|(name, unit, _)| json!({"Name": name, "Unit": unit.as_str()})).collect();
                object.insert(
                    "_aws".into(),
                    json!({
                        "Timestamp": timestamp_ms,
                        "CloudWatchMetrics": [{"Namespace": NAMESPACE, "Dimensions": [["function"]], "Metrics": definitions}]
                    }),
                );
                object.insert("function".into(), Value::String(function.to_owned()));
                for (name, _, values) in chunk {
                    let value = if values.len() == 1 { json!(values[0]) } else { json!(values) };
                    object.insert((*name).to_owned(), value);
                }
                Value::Object(object).to_string()
            })
            .collect()
    }
}

tokio::task_local! {
    static CURRENT: Arc<Mutex<Recorder>>;
}

/// Adds a value to the current invocation's metrics; outside an invocation it does nothing.
pub fn record(name: &'static str, unit: Unit, value: f64) {
    let _ = CURRENT.try_with(|recorder| {
        if let Ok(mut recorder) = recorder.lock() {
            recorder.add(name, unit, value);
        }
    });
}

/// Runs `invocation` with a fresh recorder, then writes its metrics to stdout once.
pub async fn scope<F: Future>(invocation: F) -> F::Output {
    let recorder = Arc::new(Mutex::new(Recorder::default()));
    let output = CURRENT.scope(recorder.clone(), invocation).await;
    flush(&recorder);
    output
}

fn flush(recorder: &Mutex<Recorder>) {
    let Ok(recorder) = recorder.lock() else { return };
    let lines = recorder.to_emf_lines(&crate::telemetry::function_name(), chrono::Utc::now().timestamp_millis());
    if lines.is_empty() {
        return;
    }
    let mut stdout = std::io::stdout().lock();
    for line in lines {
        let _ = writeln!(stdout, "{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_line_declares_each_metric_once_with_all_values() {
        let mut recorder = Recorder::default();
        recorder.add("MessagesProcessed", Unit::Count, 1.0);
        recorder.add("MessagesProcessed", Unit::Count, 1.0);
        recorder.add("HandlerTime", Unit::Milliseconds, 12.5);
        let lines = recorder.to_emf_lines("ingest-worker", 1_700_000_000_000);
        assert_eq!(lines.len(), 1);
        let object: Value = serde_json::from_str(&lines[0]).unwrap();
        let directive = &object["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], NAMESPACE);
        assert_eq!(directive["Dimensions"], json!([["function"]]));
        assert_eq!(directive["Metrics"].as_array().unwrap().len(), 2);
        assert_eq!(object["_aws"]["Timestamp"], 1_700_000_000_000_i64);
        assert_eq!(object["function"], "ingest-worker");
        assert_eq!(object["MessagesProcessed"], json!([1.0, 1.0]));
        assert_eq!(object["HandlerTime"], json!(12.5));
    }

    #[test]
    fn nothing_recorded_writes_nothing() {
        assert!(Recorder::default().to_emf_lines("f", 0).is_empty());
    }

    #[test]
    fn more_than_a_hundred_metrics_split_across_lines() {
        let mut recorder = Recorder::default();
        for i in 0..101 {
            let name: &'static str = Box::leak(format!("m{i}").into_boxed_str());
            recorder.add(name, Unit::Count, 1.0);
        }
        assert_eq!(recorder.to_emf_lines("f", 0).len(), 2);
    }

    #[tokio::test]
    async fn record_reaches_the_scope_it_runs_in_and_is_ignored_outside() {
        record("Outside", Unit::Count, 1.0);
        let seen = CURRENT
            .scope(Arc::new(Mutex::new(Recorder::default())), async {
                record("Inside", Unit::Count, 2.0);
                CURRENT.with(|r| r.lock().unwrap().values.len())
            })
            .await;
        assert_eq!(seen, 1);
    }
}
