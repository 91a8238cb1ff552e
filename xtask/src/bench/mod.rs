//! `cargo xtask bench <what>`: benchmarks that need processes, an emulator or release builds, so they live outside
//! criterion.

pub mod auth;
pub mod cold_start;
pub mod phi;
pub mod pipeline;
pub mod records;

/// The benchmarks.
#[derive(Debug, clap::Subcommand)]
pub enum Bench {
    /// Init Duration and first-invocation Duration of every function (median of 10 cold starts on the local
    /// emulator) next to a hello-world Rust Lambda, with release binary and zipped package sizes.
    ColdStart,
    /// OCR pages per second and speech real-time factor of the document pipeline, and upload-to-ready seconds.
    Pipeline,
    /// PHI detection throughput and scores of the release `phi` CLI next to Microsoft Presidio's analyzer.
    Phi,
    /// AWS calls per request by kind and p50/p99 handler time of the records API against the emulator.
    Records,
    /// The CPU cost of access-token verification (under 50 µs), issuing, refresh and argon2id sign-ins (criterion).
    Auth,
}

pub async fn run(bench: Bench) -> anyhow::Result<()> {
    match bench {
        Bench::ColdStart => cold_start::run().await,
        Bench::Pipeline => pipeline::run().await,
        Bench::Phi => phi::run(),
        Bench::Records => records::run().await,
        Bench::Auth => auth::run(),
    }
}
