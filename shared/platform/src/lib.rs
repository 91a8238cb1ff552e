//! What every medvault function is made of: typed configuration, AWS clients, error classes, telemetry,
//! metrics, SQS batch handling, S3 notifications and idempotency.

pub mod aws;
pub mod batch;
pub mod config;
pub mod dynamo;
pub mod error;
pub mod idempotency;
pub mod metrics;
pub mod readiness;
pub mod redact;
pub mod s3_event;
pub mod telemetry;

pub use error::{Failure, WorkerError};
pub use redact::{Phi, Secret};
