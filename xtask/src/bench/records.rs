//! `cargo xtask bench records`: AWS calls per request by kind (counted by an SDK interceptor on every client the
//! records service uses) and p50/p99 handler time of `GET /v1/patients/{id}`, against the AWS emulator.
//!
//! The measured program is `records-api`'s `records_bench` example: the function's own router driven in-process,
//! on tables, a key and secrets shaped like the template's. It is built in release mode without LTO (LTO would
//! only make the build minutes longer on two cores; the time measured is the SDK's and the emulator's).

use anyhow::Context;
use local_stack::emulator::Moto;

use crate::{python, workspace};

/// Warm reads measured.
const ITERATIONS: &str = "500";

pub async fn run() -> anyhow::Result<()> {
    let venv = python::ensure_tools()?;
    let moto = Moto::start(&venv.bin("moto_server")).await?;
    let result = measure(moto.endpoint_url());
    moto.stop().await;
    let output = result?;
    // The service's metrics are EMF JSON lines on stdout; the report is everything else.
    for line in output.lines().filter(|line| !line.starts_with('{')) {
        println!("{line}");
    }
    Ok(())
}

fn measure(endpoint: &str) -> anyhow::Result<String> {
    let mut command = workspace::cargo();
    command
        .args(["run", "--quiet", "--release", "-p", "records-api", "--example", "records_bench", "--", ITERATIONS])
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "bench")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env("MEDVAULT_LOG_LEVEL", "error")
        .env("CARGO_PROFILE_RELEASE_LTO", "false")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16");
    let output = command.output().context("running the records_bench example")?;
    anyhow::ensure!(
        output.status.success(),
        "records_bench failed: {}",
        String::from_utf8_lossy(&output.stderr).lines().rev().take(20).collect::<Vec<_>>().join("\n")
    );
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
