//! The Lambda Runtime API emulator: every function's execution environments as processes of its own binary.
//!
//! Written here rather than taken from a tool, after looking at the candidates:
//! - cargo-lambda's emulator (`cargo lambda watch`) compiles and runs functions from source with `cargo run`, one
//!   process per function, and offers invoke and function-URL endpoints. It has no SQS, DynamoDB-stream or schedule
//!   event sources, no API Gateway v2 routing from a SAM template, no REPORT lines, no per-function concurrency or
//!   timeout enforcement, and cannot run the prebuilt release binaries the cold-start benchmark measures;
//! - AWS's Runtime Interface Emulator (`aws-lambda-rie`) is a Go binary shipped in container images, not
//!   installable from the registries this project uses, and runs one function per instance.
//!
//! What is left is small: four HTTP endpoints per environment (one listener each, because `lambda_runtime` takes
//! its host from `AWS_LAMBDA_RUNTIME_API`) and process supervision.
//!
//! Semantics, as Lambda's: environments are created on demand (cold start: Init Duration = spawn to the first
//! `/next`) and reused (warm), at most `ReservedConcurrentExecutions` at once (further invocations wait for one
//! to free up, where Lambda would throttle); a response or a reported error keeps the environment; a timeout, a
//! process exit or a failed init destroys it (its process group is killed) and the next invocation starts anew.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::{Semaphore, mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::function::FunctionSpec;
use crate::report::{FunctionError, Invocation, Report, ReportStatus};

/// How long a runtime may take to reach `/next` before its init counts as failed (Lambda's init limit).
const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// Captured lines (and reports) kept per function; older ones are dropped past this.
const MAX_LINES: usize = 50_000;

/// Where functions' output and REPORT lines go.
#[derive(Debug, Default)]
pub struct Sinks {
    logs: Mutex<BTreeMap<String, Vec<String>>>,
    reports: Mutex<Vec<Report>>,
    echo: bool,
}

impl Sinks {
    pub fn new(echo: bool) -> Self {
        Self { echo, ..Self::default() }
    }

    pub fn log(&self, function: &str, line: String) {
        if self.echo {
            println!("[{function}] {line}");
        }
        if let Ok(mut logs) = self.logs.lock() {
            let lines = logs.entry(function.to_owned()).or_default();
            // A long `cargo xtask dev` session keeps the most recent lines only.
            if lines.len() >= MAX_LINES {
                lines.drain(..MAX_LINES / 2);
            }
            lines.push(line);
        }
    }

    fn report(&self, report: Report) {
        self.log(&report.function, report.to_string());
        if let Ok(mut reports) = self.reports.lock() {
            if reports.len() >= MAX_LINES {
                reports.drain(..MAX_LINES / 2);
            }
            reports.push(report);
        }
    }

    pub fn logs(&self, function: &str) -> Vec<String> {
        self.logs.lock().map(|l| l.get(function).cloned().unwrap_or_default()).unwrap_or_default()
    }

    pub fn reports(&self) -> Vec<Report> {
        self.reports.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

/// One function: its binary, environment and pool of execution environments.
#[derive(Debug)]
pub struct FunctionRuntime {
    pub spec: FunctionSpec,
    binary: PathBuf,
    /// The process environment (clean: nothing inherited but what is listed here).
    environment: BTreeMap<String, String>,
    sinks: Arc<Sinks>,
    permits: Arc<Semaphore>,
    idle: Mutex<Vec<Environment>>,
    /// Environment id -> process id of every live environment, idle or busy.
    live: Arc<Mutex<BTreeMap<u64, u32>>>,
    next_id: AtomicU64,
    closed: AtomicBool,
}

impl FunctionRuntime {
    pub fn new(spec: FunctionSpec, binary: PathBuf, environment: BTreeMap<String, String>, sinks: Arc<Sinks>) -> Self {
        let permits = Arc::new(Semaphore::new(spec.concurrency));
        Self {
            spec,
            binary,
            environment,
            sinks,
            permits,
            idle: Mutex::new(Vec::new()),
            live: Arc::new(Mutex::new(BTreeMap::new())),
            next_id: AtomicU64::new(1),
            closed: AtomicBool::new(false),
        }
    }

    /// Adds a line of the emulator's own to the function's log (event source outcomes).
    pub fn log(&self, line: String) {
        self.sinks.log(&self.spec.logical_id, line);
    }

    /// Invokes the function with `event`, synchronously (`RequestResponse`).
    pub async fn invoke(&self, event: &Value) -> Invocation {
        let request_id = uuid::Uuid::new_v4().to_string();
        let payload = Bytes::from(event.to_string());
        let _permit = self.permits.clone().acquire_owned().await;
        let function = self.spec.logical_id.as_str();
        if self.closed.load(Ordering::SeqCst) {
            let error = FunctionError {
                error_type: "Runtime.Unavailable".into(),
                error_message: "the local stack is shutting down".into(),
            };
            return self.finish(
                request_id,
                Err(error),
                0.0,
                None,
                0,
                Some(ReportStatus::Error { error_type: "Runtime.Unavailable".into() }),
            );
        }
        let (environment, init) = match self.take_idle() {
            Some(environment) => (environment, None),
            None => match self.spawn().await {
                Ok((environment, init)) => (environment, Some(init)),
                Err(failure) => {
                    self.sinks.log(
                        function,
                        format!(
                            "INIT_REPORT Init Duration: {:.2} ms\tPhase: init\tStatus: error\tError Type: {}",
                            ms(failure.duration),
                            failure.error.error_type
                        ),
                    );
                    let status = Some(ReportStatus::Error { error_type: failure.error.error_type.clone() });
                    return self.finish(request_id, Err(failure.error), 0.0, Some(failure.duration), 0, status);
                }
            },
        };
        self.sinks.log(function, format!("START RequestId: {request_id} Version: $LATEST"));
        let outcome = environment.run(&request_id, payload, self.spec.timeout, &self.spec.arn).await;
        let memory = max_memory_used_mb(environment.pid);
        let (result, duration, status, keep) = match outcome {
            Outcome::Response(body, duration) => {
                let value = serde_json::from_slice(&body)
                    .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
                (Ok(value), duration, None, true)
            }
            Outcome::Error(error, duration) => (Err(error), duration, None, true),
            Outcome::Timeout(duration) => {
                let message = format!("Task timed out after {:.2} seconds", self.spec.timeout.as_secs_f64());
                self.sinks.log(function, format!("{} {request_id} {message}", chrono::Utc::now().to_rfc3339()));
                let error = FunctionError {
                    error_type: "Sandbox.Timedout".into(),
                    error_message: format!("RequestId: {request_id} Error: {message}"),
                };
                (Err(error), duration, Some(ReportStatus::Timeout), false)
            }
            Outcome::Exited(status, duration) => {
                let message = format!("RequestId: {request_id} Error: Runtime exited with error: {status}");
                self.sinks.log(function, message.clone());
                let error = FunctionError { error_type: "Runtime.ExitError".into(), error_message: message };
                (Err(error), duration, Some(ReportStatus::Error { error_type: "Runtime.ExitError".into() }), false)
            }
        };
        self.sinks.log(function, format!("END RequestId: {request_id}"));
        if keep && !self.closed.load(Ordering::SeqCst) {
            if let Ok(mut idle) = self.idle.lock() {
                idle.push(environment);
            }
        } else {
            drop(environment);
        }
        self.finish(request_id, result, ms(duration), init, memory, status)
    }

    fn finish(
        &self,
        request_id: String,
        result: Result<Value, FunctionError>,
        duration_ms: f64,
        init: Option<Duration>,
        max_memory_used_mb: u32,
        status: Option<ReportStatus>,
    ) -> Invocation {
        let init_duration_ms = init.map(ms);
        // Provided runtimes (provided.al2023) bill the init phase as well, rounded up to the millisecond.
        let billed = (duration_ms + init_duration_ms.unwrap_or(0.0)).ceil().max(1.0) as u64;
        let report = Report {
            function: self.spec.logical_id.clone(),
            request_id: request_id.clone(),
            duration_ms,
            billed_duration_ms: billed,
            memory_size_mb: self.spec.memory_mb,
            max_memory_used_mb,
            init_duration_ms,
            status,
        };
        self.sinks.report(report.clone());
        Invocation { request_id, result, report }
    }

    fn take_idle(&self) -> Option<Environment> {
        let mut idle = self.idle.lock().ok()?;
        while let Some(environment) = idle.pop() {
            if environment.exit.borrow().is_none() {
                return Some(environment);
            }
        }
        None
    }

    async fn spawn(&self) -> Result<(Environment, Duration), InitFailure> {
        let failure = |message: String| InitFailure {
            error: FunctionError { error_type: "Runtime.InvalidEntrypoint".into(), error_message: message },
            duration: Duration::ZERO,
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| failure(format!("no port for the Runtime API: {e}")))?;
        let port = listener.local_addr().map_err(|e| failure(e.to_string()))?.port();
        let (queue_tx, queue_rx) = mpsc::channel(1);
        let (ready_tx, ready_rx) = oneshot::channel();
        let (init_error_tx, init_error_rx) = oneshot::channel();
        let api = Arc::new(ApiState {
            queue: tokio::sync::Mutex::new(queue_rx),
            in_flight: Mutex::new(HashMap::new()),
            ready: Mutex::new(Some(ready_tx)),
            init_error: Mutex::new(Some(init_error_tx)),
        });
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, runtime_api(api)).await {
                tracing::debug!(%error, "runtime API listener stopped");
            }
        });
        let stream = format!("{}/[$LATEST]{}", chrono::Utc::now().format("%Y/%m/%d"), uuid::Uuid::new_v4().simple());
        let mut command = tokio::process::Command::new(&self.binary);
        command
            .env_clear()
            .envs(&self.environment)
            .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", stream)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            // Its own process group, so that killing the environment also kills anything it started.
            .process_group(0);
        let started = Instant::now();
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(error) => {
                server.abort();
                return Err(failure(format!("cannot start {}: {error}", self.binary.display())));
            }
        };
        let pid = child.id().unwrap_or_default();
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut live) = self.live.lock() {
            live.insert(id, pid);
        }
        let mut readers = Vec::new();
        for pipe in [child.stdout.take().map(boxed), child.stderr.take().map(boxed)].into_iter().flatten() {
            let sinks = self.sinks.clone();
            let function = self.spec.logical_id.clone();
            readers.push(tokio::spawn(async move {
                let mut lines = BufReader::new(pipe).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    sinks.log(&function, line);
                }
            }));
        }
        let (exit_tx, exit_rx) = watch::channel(None);
        let live = self.live.clone();
        tokio::spawn(async move {
            let status = match child.wait().await {
                Ok(status) => status.to_string(),
                Err(error) => error.to_string(),
            };
            // A process's last lines are logged before its exit is reported (an init failure's cause must be in the
            // log when the failed invocation returns); a child that kept the pipes open is not waited for long.
            let _ = tokio::time::timeout(Duration::from_secs(2), futures::future::join_all(readers)).await;
            if let Ok(mut live) = live.lock() {
                live.remove(&id);
            }
            let _ = exit_tx.send(Some(status));
        });
        let environment = Environment { pid, queue: queue_tx, exit: exit_rx, server };
        let mut exit = environment.exit.clone();
        tokio::select! {
            biased;
            Ok(error) = init_error_rx => Err(InitFailure { error, duration: started.elapsed() }),
            Ok(ready) = ready_rx => Ok((environment, ready.duration_since(started))),
            status = exited(&mut exit) => Err(InitFailure {
                error: FunctionError {
                    error_type: "Runtime.ExitError".into(),
                    error_message: format!("Runtime exited with error: {status} before reaching the Runtime API"),
                },
                duration: started.elapsed(),
            }),
            () = tokio::time::sleep(INIT_TIMEOUT) => Err(InitFailure {
                error: FunctionError {
                    error_type: "Sandbox.Timedout".into(),
                    error_message: format!("Init timed out after {:.2} seconds", INIT_TIMEOUT.as_secs_f64()),
                },
                duration: started.elapsed(),
            }),
        }
    }

    /// SIGKILLs every execution environment of the function (busy ones fail with `Runtime.ExitError`).
    pub async fn kill(&self) {
        let pids: Vec<u32> = self.live.lock().map(|l| l.values().copied().collect()).unwrap_or_default();
        for pid in pids {
            kill_group(pid);
        }
        for _ in 0..100 {
            if self.live.lock().map(|l| l.is_empty()).unwrap_or(true) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if let Ok(mut idle) = self.idle.lock() {
            idle.clear();
        }
    }

    /// Refuses new invocations and kills every environment, waiting until their processes are reaped.
    pub async fn shutdown(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.kill().await;
    }

    /// Kills every environment now, without waiting (for `Drop`).
    pub fn kill_now(&self) {
        self.closed.store(true, Ordering::SeqCst);
        for pid in self.live.lock().map(|l| l.values().copied().collect::<Vec<_>>()).unwrap_or_default() {
            kill_group(pid);
        }
    }

    /// Process ids of the function's live execution environments.
    pub fn process_ids(&self) -> Vec<u32> {
        self.live.lock().map(|l| l.values().copied().collect()).unwrap_or_default()
    }
}

fn boxed<R: AsyncRead + Unpin + Send + 'static>(reader: R) -> Box<dyn AsyncRead + Unpin + Send> {
    Box::new(reader)
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// SIGKILL to a process group (each environment leads its own).
pub fn kill_group(pid: u32) {
    if let Ok(raw) = i32::try_from(pid)
        && raw > 0
    {
        let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(raw), nix::sys::signal::Signal::SIGKILL);
    }
}

/// The peak resident set of `pid` (`VmHWM` in /proc), in MB rounded up; 0 where /proc is unavailable.
fn max_memory_used_mb(pid: u32) -> u32 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0, |kb| u32::try_from(kb.div_ceil(1024)).unwrap_or(u32::MAX))
}

struct InitFailure {
    error: FunctionError,
    duration: Duration,
}

enum Outcome {
    Response(Bytes, Duration),
    Error(FunctionError, Duration),
    Timeout(Duration),
    Exited(String, Duration),
}

/// One execution environment: a process and its Runtime API listener. Dropping it kills both.
#[derive(Debug)]
struct Environment {
    pid: u32,
    queue: mpsc::Sender<Pending>,
    exit: watch::Receiver<Option<String>>,
    server: JoinHandle<()>,
}

impl Drop for Environment {
    fn drop(&mut self) {
        kill_group(self.pid);
        self.server.abort();
    }
}

impl Environment {
    async fn run(&self, request_id: &str, payload: Bytes, timeout: Duration, arn: &str) -> Outcome {
        let sent = Instant::now();
        let (handed_tx, handed_rx) = oneshot::channel();
        let (reply_tx, reply_rx) = oneshot::channel();
        let pending = Pending {
            request_id: request_id.to_owned(),
            payload,
            timeout,
            arn: arn.to_owned(),
            handed: handed_tx,
            reply: reply_tx,
        };
        let mut exit = self.exit.clone();
        if self.queue.send(pending).await.is_err() {
            return Outcome::Exited("the Runtime API closed".into(), Duration::ZERO);
        }
        // A runtime that never asks for the event counts against the function's timeout too.
        let handed = tokio::select! {
            Ok(handed) = handed_rx => handed,
            status = exited(&mut exit) => return Outcome::Exited(status, Duration::ZERO),
            () = tokio::time::sleep(timeout) => return Outcome::Timeout(sent.elapsed()),
        };
        let deadline = tokio::time::Instant::from_std(handed + timeout);
        tokio::select! {
            biased;
            reply = reply_rx => match reply {
                Ok(Reply::Response(body)) => Outcome::Response(body, handed.elapsed()),
                Ok(Reply::Error(error)) => Outcome::Error(error, handed.elapsed()),
                Err(_) => Outcome::Exited(exited(&mut exit).await, handed.elapsed()),
            },
            status = exited(&mut exit) => Outcome::Exited(status, handed.elapsed()),
            () = tokio::time::sleep_until(deadline) => Outcome::Timeout(handed.elapsed()),
        }
    }
}

/// Waits until the process has exited and returns how (`exit status: 3`, `signal: 9 (SIGKILL)`).
async fn exited(exit: &mut watch::Receiver<Option<String>>) -> String {
    loop {
        if let Some(status) = exit.borrow().clone() {
            return status;
        }
        if exit.changed().await.is_err() {
            return exit.borrow().clone().unwrap_or_else(|| "unknown".into());
        }
    }
}

struct Pending {
    request_id: String,
    payload: Bytes,
    timeout: Duration,
    arn: String,
    handed: oneshot::Sender<Instant>,
    reply: oneshot::Sender<Reply>,
}

enum Reply {
    Response(Bytes),
    Error(FunctionError),
}

struct ApiState {
    queue: tokio::sync::Mutex<mpsc::Receiver<Pending>>,
    in_flight: Mutex<HashMap<String, oneshot::Sender<Reply>>>,
    ready: Mutex<Option<oneshot::Sender<Instant>>>,
    init_error: Mutex<Option<oneshot::Sender<FunctionError>>>,
}

fn runtime_api(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state(state)
}

async fn next(State(state): State<Arc<ApiState>>) -> Response {
    if let Some(ready) = state.ready.lock().ok().and_then(|mut r| r.take()) {
        let _ = ready.send(Instant::now());
    }
    let pending = state.queue.lock().await.recv().await;
    let Some(pending) = pending else {
        return StatusCode::GONE.into_response();
    };
    let deadline = SystemTime::now().checked_add(pending.timeout).unwrap_or_else(SystemTime::now);
    let deadline_ms = deadline.duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or_default();
    let mut headers = HeaderMap::new();
    let mut put = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    put("lambda-runtime-aws-request-id", pending.request_id.clone());
    put("lambda-runtime-deadline-ms", deadline_ms.to_string());
    put("lambda-runtime-invoked-function-arn", pending.arn.clone());
    put("lambda-runtime-trace-id", trace_id());
    put("content-type", "application/json".into());
    if let Ok(mut in_flight) = state.in_flight.lock() {
        in_flight.insert(pending.request_id.clone(), pending.reply);
    }
    let _ = pending.handed.send(Instant::now());
    (StatusCode::OK, headers, pending.payload).into_response()
}

async fn response(State(state): State<Arc<ApiState>>, Path(id): Path<String>, body: Bytes) -> Response {
    settle(&state, &id, Reply::Response(body))
}

async fn error(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    settle(&state, &id, Reply::Error(function_error(&headers, &body)))
}

async fn init_error(State(state): State<Arc<ApiState>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(sender) = state.init_error.lock().ok().and_then(|mut s| s.take()) {
        let _ = sender.send(function_error(&headers, &body));
    }
    (StatusCode::ACCEPTED, axum::Json(serde_json::json!({ "status": "OK" }))).into_response()
}

fn settle(state: &ApiState, id: &str, reply: Reply) -> Response {
    let sender = state.in_flight.lock().ok().and_then(|mut f| f.remove(id));
    match sender {
        Some(sender) => {
            let _ = sender.send(reply);
            (StatusCode::ACCEPTED, axum::Json(serde_json::json!({ "status": "OK" }))).into_response()
        }
        None => (
            StatusCode::BAD_REQUEST,
            axum::Json(
                serde_json::json!({ "errorType": "InvalidRequestID", "errorMessage": "unknown or settled request id" }),
            ),
        )
            .into_response(),
    }
}

fn function_error(headers: &HeaderMap, body: &[u8]) -> FunctionError {
    let mut error: FunctionError = serde_json::from_slice(body).unwrap_or_else(|_| FunctionError {
        error_type: String::new(),
        error_message: String::from_utf8_lossy(body).into_owned(),
    });
    if error.error_type.is_empty() {
        error.error_type = headers
            .get("lambda-runtime-function-error-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("Unhandled")
            .to_owned();
    }
    error
}

/// An X-Ray trace header of the shape Lambda passes (`Root=1-<time>-<24 hex>;Parent=<16 hex>;Sampled=0`).
fn trace_id() -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("Root=1-{now:08x}-{};Parent={};Sampled=0", &random[..24], &random[16..32])
}
