//! `cargo xtask build`: `sam build` for one samconfig.toml environment, with cargo-lambda and zig from the pinned
//! `.venv/lambda` on PATH, the aarch64 target installed, and image functions skipped where no Docker engine runs.
//!
//! SAM CLI 1.170 needs no `--beta-features` for `BuildMethod: rust-cargolambda` (only `python-uv` is still beta);
//! it runs `cargo lambda build --release --arm64 --bin <Binary>` in the template's CodeUri and copies the binary
//! into `.aws-sam/build/<LogicalId>/bootstrap`, where `sam deploy` takes it from.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args as ClapArgs;
use serde_yaml_ng::Value;

use crate::iac_check;
use crate::python::{self, Venv};
use crate::workspace::{self, run};

/// The Rust target of `provided.al2023` on arm64.
const ARM64_TARGET: &str = "aarch64-unknown-linux-gnu";

/// Options of `cargo xtask build`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The samconfig.toml environment whose build parameters apply (dev, staging or prod).
    #[arg(long, default_value = "dev")]
    config_env: String,
}

/// A function of the template and how it is packaged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packaged {
    pub logical_id: String,
    pub image: bool,
}

pub fn run_build(args: Args) -> anyhow::Result<()> {
    let root = workspace::root();
    let template = root.join("template.yaml");
    // A template that would deploy queues with broken retry semantics is not worth building.
    iac_check::check(&template)?;

    let functions = packaged_functions(&template)?;
    let images: Vec<&str> = functions.iter().filter(|f| f.image).map(|f| f.logical_id.as_str()).collect();
    let skip_images = !images.is_empty() && !docker_engine_runs();

    ensure_arm64_target()?;
    let lambda = python::ensure("lambda", &root.join("infra/local/requirements-lambda.txt"))?;
    let tools = python::ensure_tools()?;

    let mut command = sam_build(&tools, &lambda, &args.config_env);
    if skip_images {
        for id in &images {
            command.args(["--exclude", id]);
        }
    }
    let started = Instant::now();
    run(&mut command)?;
    let elapsed = started.elapsed();

    eprintln!("xtask: sam build --config-env {} took {:.1} s", args.config_env, elapsed.as_secs_f64());
    for function in &functions {
        let artifact = root.join(".aws-sam/build").join(&function.logical_id).join("bootstrap");
        match (function.image, skip_images) {
            (true, true) => {
                eprintln!("  {:<32} skipped: image function and no Docker engine runs here", function.logical_id)
            }
            (true, false) => eprintln!("  {:<32} image built", function.logical_id),
            (false, _) => match std::fs::metadata(&artifact) {
                Ok(meta) => eprintln!("  {:<32} bootstrap {:>6.1} MiB", function.logical_id, mebibytes(meta.len())),
                Err(_) => bail!("sam build left no {}", artifact.display()),
            },
        }
    }
    Ok(())
}

/// `sam build --config-env ENV` with both environments' `bin` on PATH: `.venv/lambda` first, because cargo-lambda
/// finds zig through `python3 -m ziglang`, which only that environment's Python has.
fn sam_build(tools: &Venv, lambda: &Venv, config_env: &str) -> Command {
    let mut command = Command::new(tools.bin("sam"));
    let inherited = std::env::var_os("PATH").unwrap_or_default();
    let paths: Vec<PathBuf> =
        [lambda.dir.join("bin"), tools.dir.join("bin")].into_iter().chain(std::env::split_paths(&inherited)).collect();
    if let Ok(joined) = std::env::join_paths(paths) {
        command.env("PATH", joined);
    }
    command.current_dir(workspace::root()).env("SAM_CLI_TELEMETRY", "0").args([
        "build",
        "--config-env",
        config_env,
        "--template-file",
        "template.yaml",
    ]);
    command
}

/// Installs the arm64 target with rustup when it is missing.
fn ensure_arm64_target() -> anyhow::Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).lines().any(|l| l.trim() == ARM64_TARGET));
    if installed {
        return Ok(());
    }
    run(Command::new("rustup").args(["target", "add", ARM64_TARGET]))
        .with_context(|| format!("installing the {ARM64_TARGET} target (rustup target add {ARM64_TARGET})"))
}

/// Whether a Docker engine answers (the CLI alone is not enough to build image functions).
fn docker_engine_runs() -> bool {
    Command::new("docker").args(["info", "--format", "{{.ServerVersion}}"]).output().is_ok_and(|o| o.status.success())
}

/// Every `AWS::Serverless::Function` of `template`, image or zip (`PackageType`, its own or from `Globals`).
pub fn packaged_functions(template: &Path) -> anyhow::Result<Vec<Packaged>> {
    let text = std::fs::read_to_string(template).with_context(|| format!("reading {}", template.display()))?;
    let root: Value = serde_yaml_ng::from_str(&text).with_context(|| format!("{} is not YAML", template.display()))?;
    let default_type = root.get("Globals").and_then(|g| g.get("Function")).and_then(|f| f.get("PackageType"));
    let resources = root.get("Resources").and_then(Value::as_mapping).context("the template has no Resources")?;
    let mut functions = Vec::new();
    for (id, body) in resources {
        if body.get("Type").and_then(Value::as_str) != Some("AWS::Serverless::Function") {
            continue;
        }
        let own = body.get("Properties").and_then(|p| p.get("PackageType"));
        let image = own.or(default_type).and_then(Value::as_str) == Some("Image");
        functions.push(Packaged { logical_id: id.as_str().unwrap_or_default().to_owned(), image });
    }
    Ok(functions)
}

fn mebibytes(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_functions_are_told_from_zip_functions_by_their_own_or_the_global_package_type() {
        let dir = std::env::temp_dir().join(format!("xtask-build-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let template = dir.join("template.yaml");
        std::fs::write(
            &template,
            "Globals: { Function: { Runtime: provided.al2023 } }\nResources:\n  \
             Api: { Type: AWS::Serverless::Function, Properties: { CodeUri: . } }\n  \
             Ocr: { Type: AWS::Serverless::Function, Properties: { PackageType: Image } }\n  \
             Queue: { Type: AWS::SQS::Queue }\n",
        )
        .unwrap();

        let functions = packaged_functions(&template).unwrap();

        assert_eq!(
            functions,
            vec![
                Packaged { logical_id: "Api".into(), image: false },
                Packaged { logical_id: "Ocr".into(), image: true }
            ]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn every_function_of_the_real_template_is_found() {
        let functions = packaged_functions(&workspace::root().join("template.yaml")).unwrap();

        assert!(functions.iter().any(|f| f.logical_id == "RecordsApiFunction" && !f.image), "{functions:?}");
    }
}
