//! Fixtures shared by medvault's integration and end-to-end tests: the emulator's SDK configuration, unique
//! resource names, and a local stack per test.
//!
//! Every test makes its own resources (a unique stack name prefixes them all), so tests run in parallel on one
//! emulator. `cargo xtask test` starts the emulator and exports `AWS_ENDPOINT_URL`.

use std::path::PathBuf;

pub mod auth;

use local_stack::{LocalStack, StackOptions};

/// The SDK configuration for the emulator `cargo xtask test` started.
///
/// # Panics
/// When `AWS_ENDPOINT_URL` is unset (the message says how to run the tests).
pub async fn sdk_config() -> aws_config::SdkConfig {
    assert!(
        std::env::var_os("AWS_ENDPOINT_URL").is_some(),
        "AWS_ENDPOINT_URL is not set: run the tests with `cargo xtask test`, which starts the AWS emulator"
    );
    aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await
}

/// A name no other test uses: `<prefix>-<8 hex>`, valid for tables, queues, buckets and keys.
pub fn unique(prefix: &str) -> String {
    local_stack::unique_stack_name(prefix)
}

/// Starts the whole template on the emulator as its own stack, with every function as a process.
pub async fn stack(prefix: &str) -> LocalStack {
    stack_with(StackOptions::for_tests(prefix)).await
}

/// Starts a stack with adjusted options.
pub async fn stack_with(options: StackOptions) -> LocalStack {
    match LocalStack::start(options).await {
        Ok(stack) => stack,
        Err(error) => panic!("the local stack did not start: {error:#}"),
    }
}

/// A fixture from `events/`.
pub fn event(name: &str) -> serde_json::Value {
    let path = workspace_root().join("events").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    local_stack::workspace_root()
}
