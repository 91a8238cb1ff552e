//! Logging: JSON lines in Lambda (timestamp, level, request id, X-Ray trace id, function, cold start), readable
//! text locally.
//!
//! The format is `MEDVAULT_LOG_FORMAT` (`json` or `text`); it defaults to JSON inside Lambda and text elsewhere.
//! The level filter is `RUST_LOG`, else `MEDVAULT_LOG_LEVEL`, else `info`. The request and trace ids come from the
//! span `lambda_runtime` opens around every invocation; the first invocation of a process is the cold start.
//! Nothing here knows what a field means: keeping PHI out is the job of the [`crate::redact`] types.

use std::fmt;
use std::io::Write;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// The name of the span `lambda_runtime` opens for each invocation.
const INVOCATION_SPAN: &str = "Lambda runtime invoke";

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Text,
}

impl LogFormat {
    /// `MEDVAULT_LOG_FORMAT`, else JSON inside Lambda and text elsewhere.
    pub fn from_env() -> Self {
        match std::env::var("MEDVAULT_LOG_FORMAT").as_deref() {
            Ok("json") => Self::Json,
            Ok("text") => Self::Text,
            _ if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() => Self::Json,
            _ => Self::Text,
        }
    }
}

fn filter(directive: Option<&str>) -> EnvFilter {
    if let Some(directive) = directive {
        return EnvFilter::new(directive);
    }
    EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(std::env::var("MEDVAULT_LOG_LEVEL").unwrap_or_else(|_| "info".into())))
        .unwrap_or_else(|_| EnvFilter::new("info"))
}

/// Installs the process's subscriber and panic hook. Call once, first thing in `main`.
pub fn init() {
    init_with(LogFormat::from_env(), None, std::io::stdout);
    std::panic::set_hook(Box::new(log_panic));
}

/// Logs a panic as an error line of the log, in place of Rust's default message on stderr. That message quotes the
/// panic's payload, which can hold PHI (a string sliced out of bounds is printed whole, `unwrap` prints the error);
/// only the source location is kept. The line carries the invocation's request id like every other.
fn log_panic(info: &std::panic::PanicHookInfo<'_>) {
    let location = info.location().map_or_else(|| "unknown".to_owned(), |l| format!("{}:{}", l.file(), l.line()));
    tracing::error!(location = %location, "panic: a bug stopped the function (its message is withheld: it may quote PHI)");
}

/// Installs a subscriber writing to `writer` (tests capture logs with it); `directive` overrides the level filter.
pub fn init_with<W>(format: LogFormat, directive: Option<&str>, writer: W)
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let function = function_name();
    let result = match format {
        LogFormat::Json => {
            tracing_subscriber::registry().with(filter(directive)).with(JsonLayer { function, writer }).try_init()
        }
        LogFormat::Text => tracing_subscriber::registry()
            .with(filter(directive))
            .with(tracing_subscriber::fmt::layer().with_ansi(false).with_target(false).with_writer(writer))
            .try_init(),
    };
    // A second init (tests) keeps the first subscriber.
    let _ = result;
}

/// The function's name in Lambda, or the binary's name elsewhere.
pub fn function_name() -> String {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        std::env::var("AWS_LAMBDA_FUNCTION_NAME").ok().filter(|n| !n.is_empty()).unwrap_or_else(|| {
            std::env::current_exe()
                .ok()
                .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
                .unwrap_or_else(|| "medvault".into())
        })
    })
    .clone()
}

/// Invocations this process has started; the first one is the cold start.
static INVOCATIONS: AtomicU64 = AtomicU64::new(0);

/// Fields of a span, kept in its extensions for the JSON writer.
#[derive(Default)]
struct SpanFields(Map<String, Value>);

/// Writes one JSON object per event, with the fields of every span in scope flattened in.
///
/// Hand-written because tracing-subscriber's JSON format nests span fields under `span`/`spans`, while Lambda log
/// tooling (CloudWatch Logs Insights, Powertools conventions) expects `request_id` and friends at the top level.
struct JsonLayer<W> {
    function: String,
    writer: W,
}

impl<S, W> Layer<S> for JsonLayer<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + 'static,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = SpanFields::default();
        attrs.record(&mut JsonVisitor(&mut fields.0));
        if attrs.metadata().name() == INVOCATION_SPAN {
            let n = INVOCATIONS.fetch_add(1, Ordering::SeqCst);
            fields.0.insert("cold_start".into(), Value::Bool(n == 0));
        }
        span.extensions_mut().insert(fields);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if let Some(fields) = extensions.get_mut::<SpanFields>() {
            values.record(&mut JsonVisitor(&mut fields.0));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut line = Map::new();
        line.insert(
            "timestamp".into(),
            Value::String(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        );
        line.insert("level".into(), Value::String(event.metadata().level().to_string()));
        line.insert("function".into(), Value::String(self.function.clone()));
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(fields) = span.extensions().get::<SpanFields>() {
                    for (key, value) in &fields.0 {
                        line.insert(rename(key), value.clone());
                    }
                }
            }
        }
        let mut fields = Map::new();
        event.record(&mut JsonVisitor(&mut fields));
        for (key, value) in fields {
            line.insert(key, value);
        }
        line.insert("target".into(), Value::String(event.metadata().target().to_owned()));
        let mut out = serde_json::to_vec(&line).unwrap_or_default();
        out.push(b'\n');
        let _ = self.writer.make_writer().write_all(&out);
    }
}

/// `lambda_runtime` names its fields in camel case; medvault's logs use snake case throughout.
fn rename(key: &str) -> String {
    match key {
        "requestId" => "request_id".into(),
        "xrayTraceId" => "xray_trace_id".into(),
        "tenantId" => "tenant_id".into(),
        other => other.to_owned(),
    }
}

struct JsonVisitor<'a>(&'a mut Map<String, Value>);

impl Visit for JsonVisitor<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), Value::String(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), Value::String(value.to_owned()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0.insert(field.name().to_owned(), Value::String(crate::error::chain(value)));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::redact::Phi;

    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'w> tracing_subscriber::fmt::MakeWriter<'w> for Capture {
        type Writer = Capture;
        fn make_writer(&'w self) -> Self::Writer {
            self.clone()
        }
    }

    #[test]
    fn json_lines_carry_request_trace_function_and_cold_start() {
        let capture = Capture::default();
        let subscriber =
            tracing_subscriber::registry().with(JsonLayer { function: "records-api".into(), writer: capture.clone() });
        tracing::subscriber::with_default(subscriber, || {
            for request in ["req-1", "req-2"] {
                let span =
                    tracing::info_span!("Lambda runtime invoke", requestId = request, xrayTraceId = "Root=1-abc");
                let _entered = span.enter();
                tracing::info!(patient = %Phi::new("Jane Roe"), count = 3, "handled");
            }
        });
        let text = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["request_id"], "req-1");
        assert_eq!(lines[0]["xray_trace_id"], "Root=1-abc");
        assert_eq!(lines[0]["function"], "records-api");
        assert_eq!(lines[0]["level"], "INFO");
        assert_eq!(lines[0]["message"], "handled");
        assert_eq!(lines[0]["count"], 3);
        assert!(lines[0]["timestamp"].as_str().unwrap().ends_with('Z'));
        assert_eq!(lines[1]["request_id"], "req-2");
        // The counter is process-wide; the second invocation is never a cold start.
        assert_eq!(lines[1]["cold_start"], false);
        assert!(!text.contains("Jane"), "PHI leaked: {text}");
    }

    #[test]
    fn a_panic_is_logged_with_its_location_and_request_but_never_its_message() {
        let capture = Capture::default();
        let subscriber =
            tracing_subscriber::registry().with(JsonLayer { function: "phi-worker".into(), writer: capture.clone() });
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(log_panic));
        let note = String::from("Patient Renée Dubois");
        let caught = tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("Lambda runtime invoke", requestId = "req-9");
            let _entered = span.enter();
            // A slice inside `é`: std's message quotes the whole string.
            std::panic::catch_unwind(|| note[..12].len())
        });
        std::panic::set_hook(default);
        assert!(caught.is_err());
        let text = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
        let line: Value = serde_json::from_str(text.lines().next().expect("a log line")).unwrap();
        assert_eq!(line["level"], "ERROR");
        assert_eq!(line["request_id"], "req-9");
        assert!(line["location"].as_str().unwrap().contains("telemetry.rs:"), "{text}");
        assert!(!text.contains("Ren") && !text.contains("Dubois"), "PHI leaked: {text}");
    }
}
