//! medvault's developer commands: `cargo xtask <command>`.

mod debian;
mod python;
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
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Setup => {
            debian::ensure(&debian::packages()?)?;
            python::ensure_tools()?;
            Ok(())
        }
    }
}
