//! `cargo xtask test`: everything a fresh machine needs, then every check.
//!
//! 1. Debian packages (infra/local/debian-packages.txt) and the pinned Python environments;
//! 2. rustfmt and clippy;
//! 3. the function binaries the local stack runs;
//! 4. moto's server on a free loopback port, then unit, integration and end-to-end tests with `cargo nextest`
//!    (every test on its own uniquely named resources, so they run in parallel);
//! 5. the infrastructure-as-code checks.
//!
//! Every step runs even when an earlier one failed (unless `--fail-fast`), and the command exits non-zero if any did.

use std::process::Command;

use clap::Args as ClapArgs;

use crate::lint::{self, Outcome};
use crate::workspace::{self, run};
use crate::{debian, pipeline_env, python};

/// Options of `cargo xtask test`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Stop at the first failing step.
    #[arg(long)]
    fail_fast: bool,
    /// Skip rustfmt, clippy and the IaC checks.
    #[arg(long)]
    no_lint: bool,
    /// Only tests whose name matches (passed to nextest).
    filter: Vec<String>,
}

pub async fn run_all(args: Args) -> anyhow::Result<()> {
    debian::ensure(&debian::packages()?)?;
    let venv = python::ensure_tools()?;
    let mut test_env: Vec<(String, String)> = pipeline_env::ensure()?;
    let fhir = python::ensure("fhir", &workspace::root().join("infra/local/requirements-fhir.txt"))?;
    test_env.push(("MEDVAULT_FHIR_PYTHON".to_owned(), fhir.bin("python").display().to_string()));

    let mut outcomes: Vec<Outcome> = Vec::new();
    let failed = |outcomes: &[Outcome]| outcomes.iter().any(|o| o.result.is_err());
    if !args.no_lint {
        outcomes.extend(lint::rust_checks());
        if args.fail_fast && failed(&outcomes) {
            return lint::summarize(&outcomes);
        }
    }

    outcomes.push(Outcome {
        name: "cargo build (function binaries)",
        result: run(workspace::cargo().args(["build", "--workspace", "--bins"])),
    });

    let moto = local_stack::emulator::Moto::start(&venv.bin("moto_server")).await?;
    eprintln!("xtask: AWS emulator (moto) at {}", moto.endpoint_url());
    test_env.extend([
        ("AWS_ENDPOINT_URL".to_owned(), moto.endpoint_url().to_owned()),
        ("AWS_REGION".to_owned(), "us-east-1".to_owned()),
        ("AWS_DEFAULT_REGION".to_owned(), "us-east-1".to_owned()),
        ("AWS_ACCESS_KEY_ID".to_owned(), "test".to_owned()),
        ("AWS_SECRET_ACCESS_KEY".to_owned(), "test".to_owned()),
        ("AWS_EC2_METADATA_DISABLED".to_owned(), "true".to_owned()),
        ("MEDVAULT_BIN_DIR".to_owned(), workspace::target_dir().join("debug").display().to_string()),
    ]);
    let mut tests = nextest_or_cargo_test(&args.filter);
    tests.envs(test_env);
    outcomes.push(Outcome { name: "tests", result: run(&mut tests) });
    moto.stop().await;

    let stop_early = args.fail_fast && failed(&outcomes);
    if !args.no_lint && !stop_early {
        outcomes.extend(lint::iac_checks(&venv));
    }
    lint::summarize(&outcomes)
}

/// `cargo nextest run` when nextest is installed (it is on the project's machines), else `cargo test`.
fn nextest_or_cargo_test(filter: &[String]) -> Command {
    let has_nextest = workspace::cargo().args(["nextest", "--version"]).output().is_ok_and(|o| o.status.success());
    let mut command = workspace::cargo();
    if has_nextest {
        command.args(["nextest", "run", "--workspace", "--profile", "ci", "--no-fail-fast"]).args(filter);
    } else {
        eprintln!("xtask: cargo-nextest not found; running cargo test");
        command.args(["test", "--workspace", "--no-fail-fast"]).args(filter);
    }
    command
}
