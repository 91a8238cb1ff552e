//! `cargo xtask redrive <queue>`: moves a dead-letter queue's messages back to its source queue on the running dev
//! stack (name either queue by its logical id).

use anyhow::bail;
use local_stack::control::DevStack;

use crate::dev;

/// Options of `cargo xtask redrive`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The dead-letter queue, or the queue whose dead-letter queue to redrive (logical ids in template.yaml).
    queue: String,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let Some(stack) = DevStack::connect(&dev::state_file()).await else {
        bail!("no dev stack is running: start `cargo xtask dev` first (redrive works on its queues)");
    };
    let answer = stack.redrive(&args.queue).await?;
    println!(
        "moved {} message(s) from {} back to {}",
        answer["moved"],
        answer["from"].as_str().unwrap_or_default(),
        answer["to"].as_str().unwrap_or_default()
    );
    Ok(())
}
