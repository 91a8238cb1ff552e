//! medvault's developer commands: `cargo xtask <command>`.

mod debian;
mod lint;
mod pipeline_env;
mod python;
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
    }
}
