//! medvault's scheduled operations, the parts that decide: signed checkpoints of the audit chain and how an
//! auditor verifies them offline, detection rules and real-time signals, backup planning and restore-drill
//! reports. Pure logic at the top level; the AWS adapters the jobs run on live in [`aws`] (feature `aws`).
//!
//! - [`checkpoint`]: the signed checkpoint format; [`public_key`]: the signing key's public half.
//! - [`verify`]: the chain against checkpoints (hourly, nightly and offline share it); [`export`]: the export an
//!   auditor verifies with `medvault audit verify`.
//! - [`rules`]: detection rules over a window; [`realtime`] and [`stream`]: the stream consumer's signals;
//!   [`finding`]: what they raise.
//! - [`backup`]: which tables, backup names, retention; [`drill`]: the restore drill's report.

pub mod backup;
pub mod checkpoint;
pub mod drill;
pub mod export;
pub mod finding;
pub mod public_key;
pub mod realtime;
pub mod rules;
pub mod stream;
pub mod verify;

#[cfg(feature = "aws")]
pub mod aws;
