//! `cargo xtask bench auth`: the CPU cost of authentication with criterion (`shared/auth/benches/auth.rs`): access-
//! token verification (target: under 50 µs), issuing, refresh, and argon2id sign-ins for known and unknown accounts.
//!
//! The bench profile's fat LTO would add many minutes on two cores for little change in these numbers (the time is
//! in aws-lc and argon2's own loops), so this run turns it off; criterion's report lands in `target/criterion`.

use crate::workspace;

/// Runs the benchmark and prints criterion's summary.
pub fn run() -> anyhow::Result<()> {
    let mut cargo = workspace::cargo();
    cargo
        .args(["bench", "-p", "medvault-auth", "--features", "accounts", "--bench", "auth"])
        .env("CARGO_PROFILE_BENCH_LTO", "off")
        .env("CARGO_PROFILE_BENCH_CODEGEN_UNITS", "16");
    workspace::run(&mut cargo)?;
    println!("\ncriterion's reports: {}", workspace::target_dir().join("criterion").display());
    Ok(())
}
