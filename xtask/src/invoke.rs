//! `cargo xtask invoke <function> --event events/<file>.json`: one invocation, through the running dev stack when
//! there is one, else on an ephemeral stack of its own; prints the response and the REPORT line.

use std::path::PathBuf;

use anyhow::{Context, bail};
use local_stack::control::DevStack;
use local_stack::{LocalStack, StackOptions, emulator::Moto};
use serde_json::Value;

use crate::{dev, python, workspace};

/// Options of `cargo xtask invoke`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The function: its logical id in template.yaml or its binary name.
    function: String,
    /// The event, a JSON file (e.g. events/apigw-v2-health.json).
    #[arg(long)]
    event: PathBuf,
    /// On an ephemeral stack, run the release build.
    #[arg(long)]
    release: bool,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let path = if args.event.is_absolute() || args.event.exists() {
        args.event.clone()
    } else {
        workspace::root().join(&args.event)
    };
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading the event {}", path.display()))?;
    let event: Value = serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;

    if let Some(stack) = DevStack::connect(&dev::state_file()).await {
        eprintln!("xtask: invoking {} on the running dev stack at {}", args.function, stack.api_url);
        let answer = stack.invoke(&args.function, &event).await?;
        return print(&answer);
    }

    eprintln!("xtask: no dev stack running; starting an ephemeral one");
    let venv = python::ensure_tools()?;
    dev::build_functions(args.release, &[])?;
    let moto = Moto::start(&venv.bin("moto_server")).await?;
    let options = StackOptions {
        stack_name: local_stack::unique_stack_name("invoke"),
        template: dev::template(),
        bin_dir: dev::bin_dir(args.release),
        endpoint_url: moto.endpoint_url().to_owned(),
        region: "us-east-1".into(),
        http_port: 0,
        parameter_overrides: dev::local_parameters(),
        env_overrides: Default::default(),
        run_schedules: false,
        echo_logs: true,
        docs_assets: None,
        state_file: None,
    };
    let stack = LocalStack::start(options).await.context("starting the local stack")?;
    let invocation = stack.invoke(&args.function, event).await;
    stack.shutdown().await;
    moto.stop().await;
    let invocation = invocation?;
    print(&local_stack::control::invocation_json(&invocation))
}

fn print(answer: &Value) -> anyhow::Result<()> {
    let failed = !answer["error"].is_null();
    let shown = if failed { &answer["error"] } else { &answer["result"] };
    println!("{}", serde_json::to_string_pretty(shown)?);
    println!("{}", answer["report"].as_str().unwrap_or_default());
    if failed {
        bail!("the function failed: {}", answer["error"]["errorType"].as_str().unwrap_or("error"));
    }
    Ok(())
}
