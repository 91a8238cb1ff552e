//! medvault's developer commands: `cargo xtask <command>`.

mod bench;
mod build;
mod debian;
mod dev;
mod eval_phi;
mod iac_check;
mod invoke;
mod lint;
mod pipeline_env;
mod python;
mod redrive;
mod restore;
mod test;
mod workspace;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "medvault developer commands")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Installs the pinned Python tools (emulator, IaC checkers) and Debian packages this project needs.
    Setup,
    /// Every check: rustfmt, clippy, unit, integration and end-to-end tests on a local emulator, IaC scans.
    Test(test::Args),
    /// rustfmt, clippy and the infrastructure-as-code checks.
    Lint,
    /// `sam build` of every function (cargo-lambda and zig from .venv/lambda; image functions need Docker).
    Build(build::Args),
    /// Scores the PHI detector on the synthetic labelled corpus (`--check`: fail below the recorded baseline).
    EvalPhi(eval_phi::Args),
    /// The whole system locally: moto, the template's resources, every function, the HTTP API on :3000.
    Dev(dev::Args),
    /// Invokes one function with an event file, on the running dev stack or an ephemeral one.
    Invoke(invoke::Args),
    /// Moves a dead-letter queue's messages back to its source queue on the running dev stack.
    Redrive(redrive::Args),
    /// Restores a table of the running dev stack from a backup into a new table (`--list` shows them).
    Restore(restore::Args),
    /// Benchmarks that need processes or release builds.
    Bench {
        #[command(subcommand)]
        bench: bench::Bench,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Setup => {
            debian::ensure(&debian::packages()?)?;
            python::ensure_tools()?;
            pipeline_env::ensure()?;
            Ok(())
        }
        Command::Test(args) => test::run_all(args).await,
        Command::Lint => lint::run_all(),
        Command::Build(args) => build::run_build(args),
        Command::EvalPhi(args) => eval_phi::run_eval(args),
        Command::Dev(args) => dev::run(args).await,
        Command::Invoke(args) => invoke::run(args).await,
        Command::Redrive(args) => redrive::run(args).await,
        Command::Restore(args) => restore::run(args).await,
        Command::Bench { bench } => bench::run(bench).await,
    }
}
