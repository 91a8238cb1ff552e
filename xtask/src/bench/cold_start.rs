//! `cargo xtask bench cold-start`: per function, the median Init Duration and first-invocation Duration of 10 cold
//! starts on the local emulator, as ratios to a hello-world Rust Lambda built with the same (release) profile, and
//! the release binary's size and its zipped package size (the binary as `bootstrap`, as Lambda takes it).
//!
//! Numbers come from the local stack's REPORT lines: Init Duration is process spawn to the runtime's first
//! `/next`, Duration is event handed out to response. They are x86_64 numbers on this machine, not Lambda's arm64
//! ones; the ratio to hello-lambda is what carries over. When the aarch64 target and cargo-lambda are available,
//! the arm64 zips `cargo lambda build --release --arm64 --output-format zip` makes are measured as well.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use local_stack::{LocalStack, StackOptions, TemplateFunction, emulator::Moto};
use serde_json::Value;

use crate::{dev, python, workspace};

const COLD_STARTS: usize = 10;
const HELLO: &str = "hello-lambda";

/// One function's measurements.
#[derive(Debug)]
struct Measured {
    name: String,
    binary: String,
    event: String,
    init_ms: f64,
    first_invoke_ms: f64,
    max_memory_mb: u32,
    failures: usize,
}

pub async fn run() -> anyhow::Result<()> {
    let functions = dev::build_functions(true, &[HELLO])?;
    let venv = python::ensure_tools()?;
    let moto = Moto::start(&venv.bin("moto_server")).await?;
    let bench_dir = workspace::target_dir().join("bench-cold-start");
    std::fs::create_dir_all(&bench_dir)?;

    let result = measure_all(&moto, &functions, &bench_dir).await;
    moto.stop().await;
    let (hello, measured) = result?;

    println!(
        "\n== cold starts on the local emulator: median of {COLD_STARTS} per function, release profile (lto, codegen-units=1, strip, panic=abort)"
    );
    println!(
        "{:<24} {:<38} {:>11} {:>9} {:>13} {:>9} {:>8} {:>11} {:>10} {:>6}",
        "function", "event", "init ms", "init ×", "1st invoke ms", "invoke ×", "max MB", "binary", "zip", "errors"
    );
    for m in std::iter::once(&hello).chain(measured.iter()) {
        let binary = dev::bin_dir(true).join(&m.binary);
        let size = std::fs::metadata(&binary).map(|m| m.len()).unwrap_or(0);
        let zipped = zip_size(&binary, &bench_dir).unwrap_or(0);
        println!(
            "{:<24} {:<38} {:>11.2} {:>9.2} {:>13.2} {:>9.2} {:>8} {:>11} {:>10} {:>6}",
            m.name,
            m.event,
            m.init_ms,
            m.init_ms / hello.init_ms,
            m.first_invoke_ms,
            m.first_invoke_ms / hello.first_invoke_ms,
            m.max_memory_mb,
            human(size),
            human(zipped),
            m.failures,
        );
    }
    println!("(× = ratio to {HELLO}; errors = invocations of the {COLD_STARTS} that returned an error)");
    arm64_zips(&functions);
    Ok(())
}

async fn measure_all(
    moto: &Moto,
    functions: &[TemplateFunction],
    bench_dir: &Path,
) -> anyhow::Result<(Measured, Vec<Measured>)> {
    let hello_template = bench_dir.join("hello-template.yaml");
    std::fs::write(&hello_template, HELLO_TEMPLATE)?;
    let hello_stack = LocalStack::start(options("bench-hello", hello_template, moto)).await?;
    let hello = measure(&hello_stack, "Hello", HELLO, ("(any)".into(), serde_json::json!({}))).await;
    hello_stack.shutdown().await;
    let hello = hello?;

    let stack = LocalStack::start(options("bench", dev::template(), moto)).await.context("starting the local stack")?;
    // Let event sources settle (an S3 bucket's s3:TestEvent reaching a worker) before measuring.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let measured = async {
        let mut measured = Vec::new();
        for function in functions {
            let event = event_for(&stack, function)?;
            measured.push(measure(&stack, &function.logical_id, &function.binary, event).await?);
        }
        anyhow::Ok(measured)
    }
    .await;
    // Shut down whether or not every function was measured.
    stack.shutdown().await;
    Ok((hello, measured?))
}

fn options(name: &str, template: PathBuf, moto: &Moto) -> StackOptions {
    StackOptions {
        stack_name: local_stack::unique_stack_name(name),
        template,
        bin_dir: dev::bin_dir(true),
        endpoint_url: moto.endpoint_url().to_owned(),
        region: "us-east-1".into(),
        http_port: 0,
        parameter_overrides: dev::with_speech_model(dev::local_parameters()),
        env_overrides: Default::default(),
        run_schedules: false,
        echo_logs: false,
        docs_assets: None,
        state_file: None,
    }
}

/// `COLD_STARTS` invocations, each in a fresh execution environment.
async fn measure(stack: &LocalStack, function: &str, binary: &str, event: (String, Value)) -> anyhow::Result<Measured> {
    let (event_name, payload) = event;
    let mut init = Vec::new();
    let mut first = Vec::new();
    let mut memory = 0;
    let mut failures = 0;
    for _ in 0..COLD_STARTS {
        stack.kill(function).await;
        let invocation = stack.invoke(function, payload.clone()).await?;
        let Some(init_ms) = invocation.report.init_duration_ms else {
            bail!("{function}: an invocation after kill was not a cold start");
        };
        init.push(init_ms);
        first.push(invocation.report.duration_ms);
        memory = memory.max(invocation.report.max_memory_used_mb);
        failures += usize::from(invocation.result.is_err());
    }
    stack.kill(function).await;
    Ok(Measured {
        name: function.to_owned(),
        binary: binary.to_owned(),
        event: event_name,
        init_ms: median(&mut init),
        first_invoke_ms: median(&mut first),
        max_memory_mb: memory,
        failures,
    })
}

/// The event each function is measured with: a fixture of its kind of event source, so that the first invocation
/// takes the path it takes in production (a health check, an S3 test event, a scheduled run, a stream record); the
/// rotation function, which only Secrets Manager invokes, replays the last step of the rotation the stack ran at its
/// start (a no-op that still reads the secret).
fn event_for(stack: &LocalStack, function: &TemplateFunction) -> anyhow::Result<(String, Value)> {
    let kinds = &function.event_types;
    let spec = stack.functions().into_iter().find(|f| f.logical_id == function.logical_id);
    let file = if kinds.iter().any(|k| k == "HttpApi") {
        "apigw-v2-health.json"
    } else if kinds.iter().any(|k| k == "SQS") {
        "sqs-s3-test-event.json"
    } else if kinds.iter().any(|k| k == "Schedule" || k == "ScheduleV2") {
        "eventbridge-scheduled.json"
    } else if spec.is_some_and(|s| !s.streams.is_empty()) {
        "dynamodb-stream-audit-break-glass.json"
    } else if let Some(rotation) = stack.rotations().iter().find(|r| r.function == function.logical_id) {
        let event = serde_json::json!({
            "Step": "finishSecret", "SecretId": rotation.secret_id, "ClientRequestToken": rotation.token
        });
        return Ok(("finishSecret (replayed)".into(), event));
    } else {
        return Ok(("(empty event)".into(), serde_json::json!({})));
    };
    let path = workspace::root().join("events").join(file);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "{}: the cold-start benchmark needs the fixture {} for {}",
            function.logical_id,
            path.display(),
            kinds.join("/")
        )
    })?;
    let event = serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    Ok((file.to_owned(), event))
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// The size of a Lambda zip package holding `binary` as `bootstrap` (Debian's `zip`, default compression).
fn zip_size(binary: &Path, dir: &Path) -> anyhow::Result<u64> {
    let name = binary.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let staging = dir.join(&name);
    std::fs::create_dir_all(&staging)?;
    std::fs::copy(binary, staging.join("bootstrap"))?;
    let zip = dir.join(format!("{name}.zip"));
    let _ = std::fs::remove_file(&zip);
    let status = Command::new("zip")
        .args(["-q", "-X", "-j"])
        .arg(&zip)
        .arg(staging.join("bootstrap"))
        .status()
        .context("running zip (Debian package zip)")?;
    if !status.success() {
        bail!("zip failed for {name}");
    }
    Ok(std::fs::metadata(&zip)?.len())
}

/// arm64 packages from cargo-lambda, when the aarch64 target is (or can be) installed; otherwise a note.
fn arm64_zips(functions: &[TemplateFunction]) {
    const TARGET: &str = "aarch64-unknown-linux-gnu";
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).lines().any(|l| l.trim() == TARGET));
    if !installed {
        let added = Command::new("rustup").args(["target", "add", TARGET]).output();
        if !added.is_ok_and(|o| o.status.success()) {
            println!(
                "arm64 zips: skipped — the {TARGET} target is not installed and `rustup target add {TARGET}` failed here"
            );
            return;
        }
    }
    let requirements = workspace::root().join("infra/local/requirements-lambda.txt");
    let venv = match python::ensure("lambda", &requirements) {
        Ok(venv) => venv,
        Err(error) => {
            println!("arm64 zips: skipped — cargo-lambda could not be installed ({error:#})");
            return;
        }
    };
    let mut command = venv.command("cargo-lambda");
    command.current_dir(workspace::root()).args(["lambda", "build", "--release", "--arm64", "--output-format", "zip"]);
    // Container-image functions (the OCR and speech workers link native libraries) are built by their Dockerfiles.
    let mut binaries: Vec<&str> =
        functions.iter().filter(|f| !f.image).map(|f| f.binary.as_str()).chain([HELLO]).collect();
    binaries.sort_unstable();
    binaries.dedup();
    for binary in &binaries {
        command.args(["--bin", binary]);
    }
    if let Err(error) = workspace::run(&mut command) {
        println!("arm64 zips: skipped — cargo lambda build failed ({error:#})");
        return;
    }
    println!("arm64 zips (cargo lambda build --release --arm64 --output-format zip):");
    for name in binaries {
        let zip = workspace::target_dir().join("lambda").join(name).join("bootstrap.zip");
        match std::fs::metadata(&zip) {
            Ok(meta) => println!("  {name:<28} {:>10}", human(meta.len())),
            Err(_) => println!("  {name:<28} (no {})", zip.display()),
        }
    }
}

fn human(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.2} MiB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }
}

const HELLO_TEMPLATE: &str = r#"AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Description: The cold-start benchmark's baseline, a hello-world Rust Lambda.
Parameters:
  Stage: { Type: String, Default: local }
Resources:
  Hello:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: rust-cargolambda
      BuildProperties: { Binary: hello-lambda }
    Properties:
      Runtime: provided.al2023
      Handler: bootstrap
      MemorySize: 128
      Timeout: 10
"#;
