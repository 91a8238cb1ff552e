//! `cargo xtask dev`: the whole system on this machine — moto, the template's resources, every function behind
//! the Lambda Runtime API emulator, the HTTP API on http://127.0.0.1:3000, SQS event sources and schedules.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use local_stack::{LocalStack, StackOptions, TemplateFunction, emulator::Moto};

use crate::{debian, python, workspace};

/// The Swagger UI release `/docs` serves (npm package `swagger-ui-dist`).
const SWAGGER_UI_VERSION: &str = "5.35.0";

/// Options of `cargo xtask dev`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Port of the HTTP API on 127.0.0.1.
    #[arg(long, env = "PORT", default_value_t = 3000)]
    port: u16,
    /// Run release builds of the functions.
    #[arg(long)]
    release: bool,
    /// Extra environment for every function process (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    env: Vec<String>,
    /// E-mail of the admin the auth API seeds on the local stack.
    #[arg(long, env = "MEDVAULT_DEV_ADMIN_EMAIL", default_value = DEV_ADMIN_EMAIL)]
    admin_email: String,
    /// Password of that admin (12 characters or more, not on the breached list).
    #[arg(long, env = "MEDVAULT_DEV_ADMIN_PASSWORD", default_value = DEV_ADMIN_PASSWORD, hide_default_value = true)]
    admin_password: String,
}

/// The local stack's admin unless `MEDVAULT_DEV_ADMIN_EMAIL` / `MEDVAULT_DEV_ADMIN_PASSWORD` say otherwise; the
/// auth API seeds it only when `Stage=local`, so a deployed stack never has it.
const DEV_ADMIN_EMAIL: &str = "admin@medvault.test";
const DEV_ADMIN_PASSWORD: &str = "medvault local admin";

/// The template every command runs.
pub fn template() -> PathBuf {
    workspace::root().join("template.yaml")
}

/// Where the running dev stack describes itself (URLs, physical names, control token).
pub fn state_file() -> PathBuf {
    workspace::root().join(".local/dev-stack.json")
}

/// `Stage=local`, the parameter every local run uses.
pub fn local_parameters() -> BTreeMap<String, String> {
    BTreeMap::from([("Stage".to_owned(), "local".to_owned())])
}

/// Builds every function binary the template names (and `extra` binaries) and returns the template's functions.
pub fn build_functions(release: bool, extra: &[&str]) -> anyhow::Result<Vec<TemplateFunction>> {
    // The OCR and speech workers link libtesseract and libpocketsphinx: on a new machine `cargo xtask dev` (or
    // `invoke`) is often the first command run, before `test` or `setup` has installed them.
    debian::ensure(&debian::packages()?)?;
    let functions = local_stack::template_functions(&template(), &local_parameters())
        .with_context(|| format!("reading {}", template().display()))?;
    // Only the binaries the template names, so that a crate elsewhere in the workspace cannot stop the stack.
    let mut command = workspace::cargo();
    command.arg("build");
    if release {
        command.arg("--release");
    }
    let mut binaries: Vec<&str> = functions.iter().map(|f| f.binary.as_str()).chain(extra.iter().copied()).collect();
    binaries.sort_unstable();
    binaries.dedup();
    for binary in binaries {
        command.args(["--bin", binary]);
    }
    workspace::run(&mut command)?;
    Ok(functions)
}

/// The binaries' folder for a profile.
pub fn bin_dir(release: bool) -> PathBuf {
    workspace::target_dir().join(if release { "release" } else { "debug" })
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let mut env_overrides = BTreeMap::from([
        ("MEDVAULT_DEV_ADMIN_EMAIL".to_owned(), args.admin_email.clone()),
        ("MEDVAULT_DEV_ADMIN_PASSWORD".to_owned(), args.admin_password.clone()),
    ]);
    env_overrides.extend(parse_env(&args.env)?);
    let venv = python::ensure_tools()?;
    build_functions(args.release, &[])?;
    let docs_assets = swagger_ui();
    let moto = Moto::start(&venv.bin("moto_server")).await?;
    eprintln!("xtask: AWS emulator (moto) at {}", moto.endpoint_url());
    let parameter_overrides = with_speech_model(local_parameters());
    let options = StackOptions {
        stack_name: "medvault-local".into(),
        template: template(),
        bin_dir: bin_dir(args.release),
        endpoint_url: moto.endpoint_url().to_owned(),
        region: "us-east-1".into(),
        http_port: args.port,
        parameter_overrides,
        env_overrides,
        run_schedules: true,
        echo_logs: true,
        docs_assets,
        state_file: Some(state_file()),
    };
    let stack = match LocalStack::start(options).await {
        Ok(stack) => stack,
        Err(error) => {
            moto.stop().await;
            return Err(error).context("starting the local stack");
        }
    };
    print_stack(&stack, moto.endpoint_url());
    let password = if args.admin_password == DEV_ADMIN_PASSWORD {
        format!("password \"{DEV_ADMIN_PASSWORD}\"")
    } else {
        "password from MEDVAULT_DEV_ADMIN_PASSWORD".to_owned()
    };
    println!(
        "dev admin: {} with {password} (set MEDVAULT_DEV_ADMIN_EMAIL / MEDVAULT_DEV_ADMIN_PASSWORD to change)",
        args.admin_email
    );
    println!("medvault dev stack ready at {}", stack.api_url());
    wait_for_stop().await;
    eprintln!("xtask: stopping the dev stack");
    stack.shutdown().await;
    moto.stop().await;
    Ok(())
}

/// Points the speech worker at the PyPI pocketsphinx model in `.venv/pipeline` (made on first use): the template's
/// default is the path inside the asr-worker image. Without it everything else still runs, and the speech worker's
/// cold start names the missing model.
pub fn with_speech_model(mut parameters: BTreeMap<String, String>) -> BTreeMap<String, String> {
    match crate::pipeline_env::ensure() {
        Ok(env) => {
            if let Some((_, model)) = env.into_iter().find(|(name, _)| name == "MEDVAULT_ASR_MODEL_DIR") {
                parameters.insert("AsrModelDir".to_owned(), model);
            }
        }
        Err(error) => {
            eprintln!("xtask: no speech model for asr-worker ({error:#}); dictations will fail to transcribe")
        }
    }
    parameters
}

fn parse_env(pairs: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    pairs
        .iter()
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
            _ => bail!("--env takes KEY=VALUE, got `{pair}`"),
        })
        .collect()
}

fn print_stack(stack: &LocalStack, endpoint: &str) {
    println!("AWS emulator: {endpoint} (region us-east-1, credentials test/test)");
    println!("resources:");
    for resource in stack.resources().values().filter(|r| r.emulated) {
        println!("  {:<28} {:<30} {}", resource.logical_id, resource.kind, resource.physical_id);
    }
    println!("functions:");
    for function in stack.functions() {
        let sources: Vec<String> = function
            .sqs
            .iter()
            .map(|s| format!("SQS {}", s.queue_arn.rsplit(':').next().unwrap_or_default()))
            .chain(function.schedules.iter().map(|s| s.expression.clone()))
            .collect();
        println!("  {:<28} {:<30} {}", function.logical_id, function.binary, sources.join(", "));
    }
    println!("routes:");
    for (route, function) in stack.routes() {
        println!("  {route:<40} -> {function}");
    }
    println!("  GET /openapi.json (merged)  GET /docs");
}

/// Ctrl-C or SIGTERM.
async fn wait_for_stop() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        () = terminate => {},
    }
}

/// `.local/swagger-ui-dist-<version>/package`, fetched with `npm pack` when missing; `None` (and a note) when npm
/// cannot fetch it: `/docs` then says so and everything else works.
fn swagger_ui() -> Option<PathBuf> {
    let dir = workspace::root().join(".local").join(format!("swagger-ui-dist-{SWAGGER_UI_VERSION}"));
    let package = dir.join("package");
    if package.join("swagger-ui-bundle.js").is_file() {
        return Some(package);
    }
    match fetch_swagger_ui(&dir) {
        Ok(()) if package.join("swagger-ui-bundle.js").is_file() => Some(package),
        Ok(()) => {
            eprintln!("xtask: swagger-ui-dist unpacked without swagger-ui-bundle.js; /docs will say so");
            None
        }
        Err(error) => {
            eprintln!(
                "xtask: could not fetch swagger-ui-dist@{SWAGGER_UI_VERSION} with npm ({error:#}); /docs will say so"
            );
            None
        }
    }
}

fn fetch_swagger_ui(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let output = std::process::Command::new("npm")
        .args(["pack", "--silent", &format!("swagger-ui-dist@{SWAGGER_UI_VERSION}"), "--pack-destination"])
        .arg(dir)
        .output()
        .context("running npm")?;
    if !output.status.success() {
        bail!("npm pack failed: {}", String::from_utf8_lossy(&output.stderr).trim());
    }
    let tarball = String::from_utf8_lossy(&output.stdout).trim().lines().last().unwrap_or_default().to_owned();
    workspace::run(std::process::Command::new("tar").arg("-xzf").arg(dir.join(&tarball)).arg("-C").arg(dir))?;
    Ok(())
}
