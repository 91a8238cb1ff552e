//! medvault's local stack: a SAM template run on one machine against moto's server, with no Docker.
//!
//! [`LocalStack::start`] reads the template (CloudFormation short tags, `Globals`, `Parameters`, `Conditions`,
//! `Mappings`, pseudo parameters and intrinsics), creates its tables, buckets, queues, topics, keys, secrets, event
//! buses and rules on the emulator in dependency order, and runs every `AWS::Serverless::Function` as processes of
//! its own binary behind a Lambda Runtime API emulator. It serves the functions' `HttpApi` routes as API Gateway
//! v2 does, polls their `SQS` and `DynamoDB` stream event sources with Lambda's semantics, fires their schedules,
//! prints Lambda's REPORT lines, merges their OpenAPI documents at `/openapi.json`, serves Swagger UI at `/docs`,
//! and offers a token-guarded control API under `/_local/`.
//!
//! Resource types the emulator does not hold (skipped, names only) are listed in the `provision` module's
//! documentation: IAM, CloudWatch alarms and dashboards, log groups, WAF, load balancers, API Gateway resources,
//! Lambda permissions and versions, SSM parameters, and anything else not created there.

mod clients;
pub mod control;
pub mod emulator;
mod error;
mod function;
mod http_api;
mod openapi;
mod provision;
mod report;
mod resource;
mod rotation;
mod runtime;
mod schedule;
mod server;
mod sqs_source;
mod stack;
mod streams;
mod template;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use error::StackError;
pub use function::{
    FunctionSpec, HttpRoute, ScheduleSource, SqsSource, StreamSource, TemplateFunction, template_functions,
};
pub use openapi::{MergeConflict, merge as merge_openapi};
pub use report::{FunctionError, Invocation, Report, ReportStatus};
pub use resource::Resource;
pub use rotation::CompletedRotation;
pub use server::TOKEN_HEADER;
pub use stack::{LocalStack, Redrive};
pub use template::{ACCOUNT_ID, TemplateError};

/// How to run a stack.
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// Prefix of every physical name, so that stacks never collide on one emulator.
    pub stack_name: String,
    pub template: PathBuf,
    /// Where the function binaries are (`target/debug` or `target/release`).
    pub bin_dir: PathBuf,
    /// The AWS emulator, e.g. `http://127.0.0.1:5000`.
    pub endpoint_url: String,
    pub region: String,
    /// The HTTP API's port on 127.0.0.1; 0 picks a free one.
    pub http_port: u16,
    /// Values for the template's `Parameters` (e.g. `Stage=local`); overrides of undeclared parameters are ignored
    /// with a warning.
    pub parameter_overrides: BTreeMap<String, String>,
    /// Extra variables for every function process (applied last).
    pub env_overrides: BTreeMap<String, String>,
    /// Fire `Schedule` events on their timers (dev: yes; tests fire them with [`LocalStack::fire_schedule`]).
    pub run_schedules: bool,
    /// Print function output and REPORT lines to stdout, each prefixed by `[LogicalId]`.
    pub echo_logs: bool,
    /// The `swagger-ui-dist` folder served under `/docs`.
    pub docs_assets: Option<PathBuf>,
    /// Where to write the stack's URLs, physical names and control token (removed on shutdown).
    pub state_file: Option<PathBuf>,
}

impl StackOptions {
    /// Options for an integration test: `AWS_ENDPOINT_URL` from the environment, `MEDVAULT_BIN_DIR` or
    /// `<workspace>/target/debug`, the workspace's `template.yaml` (`MEDVAULT_TEMPLATE` overrides), a unique stack
    /// name from `prefix`, any free port, `Stage=local`, schedules off, logs captured and not echoed.
    ///
    /// # Panics
    /// When `AWS_ENDPOINT_URL` is unset: the tests need the emulator that `cargo xtask test` starts.
    #[allow(clippy::panic)]
    pub fn for_tests(prefix: &str) -> Self {
        let Ok(endpoint_url) = std::env::var("AWS_ENDPOINT_URL") else {
            panic!(
                "AWS_ENDPOINT_URL is not set: run the tests with `cargo xtask test`, which starts the AWS emulator \
                 (moto) and exports it; or start `.venv/tools/bin/moto_server -H 127.0.0.1 -p PORT` and export \
                 AWS_ENDPOINT_URL=http://127.0.0.1:PORT yourself"
            );
        };
        let root = workspace_root();
        let bin_dir = std::env::var_os("MEDVAULT_BIN_DIR").map(PathBuf::from).unwrap_or_else(|| {
            std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target")).join("debug")
        });
        let template =
            std::env::var_os("MEDVAULT_TEMPLATE").map(PathBuf::from).unwrap_or_else(|| root.join("template.yaml"));
        Self {
            stack_name: unique_stack_name(prefix),
            template,
            bin_dir,
            endpoint_url,
            region: std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into()),
            http_port: 0,
            parameter_overrides: BTreeMap::from([("Stage".to_owned(), "local".to_owned())]),
            env_overrides: BTreeMap::new(),
            run_schedules: false,
            echo_logs: false,
            docs_assets: None,
            state_file: None,
        }
    }
}

/// The workspace root: two levels above this crate (`xtask/local-stack`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// `<prefix>-<8 random hex>`, lower case, safe for every resource type's names (bucket names included).
pub fn unique_stack_name(prefix: &str) -> String {
    let mut clean: String =
        prefix.to_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    clean.truncate(24);
    let clean = clean.trim_matches('-');
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..8];
    if clean.is_empty() { format!("stack-{suffix}") } else { format!("{clean}-{suffix}") }
}
