//! A template function as the local stack runs it: binary, memory, timeout, concurrency, resolved environment and
//! the event sources its `Events` declare.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::provision::{flag, list, number, text};
use crate::template::{RawResource, Resolver, TemplateError, scalar_text};

/// Concurrent execution environments per function when the template sets no `ReservedConcurrentExecutions`.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// The function properties the local stack reads.
const RESOLVED_PROPERTIES: &[&str] = &[
    "Environment",
    "Events",
    "MemorySize",
    "Timeout",
    "ReservedConcurrentExecutions",
    "Handler",
    "PackageType",
    "CodeUri",
];

/// One `AWS::Serverless::Function` of the template, resolved.
#[derive(Debug, Clone)]
pub struct FunctionSpec {
    pub logical_id: String,
    /// The physical function name (`FunctionName`, else `<stack>-<LogicalId>`).
    pub name: String,
    pub arn: String,
    /// The binary's file name in the stack's `bin_dir`.
    pub binary: String,
    pub memory_mb: u32,
    pub timeout: Duration,
    pub concurrency: usize,
    /// `Environment.Variables`, Globals merged, intrinsics resolved.
    pub environment: BTreeMap<String, String>,
    pub handler: String,
    pub http_routes: Vec<HttpRoute>,
    pub sqs: Vec<SqsSource>,
    pub schedules: Vec<ScheduleSource>,
    pub streams: Vec<StreamSource>,
}

/// An `HttpApi` event: one route of the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRoute {
    /// `GET`, `POST`, ..., or `ANY`.
    pub method: String,
    /// The path template, e.g. `/patients/{id}` or `/files/{proxy+}`; `None` for the `$default` route.
    pub path: Option<String>,
}

impl HttpRoute {
    /// API Gateway's route key: `GET /patients/{id}` or `$default`.
    pub fn route_key(&self) -> String {
        match &self.path {
            Some(path) => format!("{} {path}", self.method),
            None => "$default".into(),
        }
    }
}

/// An `SQS` event: an event source mapping.
#[derive(Debug, Clone)]
pub struct SqsSource {
    pub name: String,
    pub queue_arn: String,
    pub batch_size: usize,
    pub batching_window: Duration,
    pub report_batch_item_failures: bool,
    pub enabled: bool,
    pub maximum_concurrency: Option<usize>,
}

/// A `Schedule` or `ScheduleV2` event (or an `AWS::Events::Rule` with a schedule targeting the function).
#[derive(Debug, Clone)]
pub struct ScheduleSource {
    pub name: String,
    /// `rate(5 minutes)` or `cron(0 3 * * ? *)`.
    pub expression: String,
    /// The template's `Input` (JSON text); else the EventBridge "Scheduled Event" payload.
    pub input: Option<String>,
    pub enabled: bool,
    /// `aws.events` for Schedule and rules, `aws.scheduler` for ScheduleV2.
    pub source: &'static str,
    pub rule_arn: String,
}

/// A `DynamoDB` stream event.
#[derive(Debug, Clone)]
pub struct StreamSource {
    pub name: String,
    pub stream_arn: String,
    pub batch_size: usize,
    pub batching_window: Duration,
    pub starting_position: String,
    pub report_batch_item_failures: bool,
    pub maximum_retry_attempts: Option<u32>,
    pub enabled: bool,
}

impl FunctionSpec {
    /// Reads `raw` (a function whose `Condition`, if any, holds) through `resolver`.
    pub fn from_template(
        raw: &RawResource,
        resolver: &Resolver<'_>,
        name: &str,
        arn: &str,
    ) -> Result<Self, TemplateError> {
        // Only what running the function needs is resolved: policies, roles, VPC settings and the like may use
        // intrinsics the local stack has no answer for, and do not matter here.
        let mut needed = serde_json::Map::new();
        for key in RESOLVED_PROPERTIES {
            if let Some(value) = raw.properties.get(*key) {
                needed.insert((*key).to_owned(), value.clone());
            }
        }
        let p = resolver.value(&Value::Object(needed))?;
        let invalid = |m: String| TemplateError::Invalid(format!("function {}: {m}", raw.logical_id));
        let binary = binary_name(raw, &p, &resolver.template.dir).ok_or_else(|| {
            invalid("no binary: set Metadata.BuildProperties.Binary (rust-cargolambda) or Metadata.DockerBuildArgs.BINARY (Image)".into())
        })?;
        let mut environment = BTreeMap::new();
        if let Some(Value::Object(variables)) = p.pointer("/Environment/Variables") {
            for (key, value) in variables {
                environment.insert(key.clone(), scalar_text(value));
            }
        }
        let mut spec = Self {
            logical_id: raw.logical_id.clone(),
            name: name.to_owned(),
            arn: arn.to_owned(),
            binary,
            memory_mb: number(&p, "MemorySize").unwrap_or(128),
            timeout: Duration::from_secs(number(&p, "Timeout").unwrap_or(3)),
            concurrency: number::<usize>(&p, "ReservedConcurrentExecutions")
                .filter(|n| *n > 0)
                .unwrap_or(DEFAULT_CONCURRENCY),
            environment,
            handler: text(&p, "Handler").unwrap_or_else(|| "bootstrap".into()),
            http_routes: Vec::new(),
            sqs: Vec::new(),
            schedules: Vec::new(),
            streams: Vec::new(),
        };
        let events = p.get("Events").and_then(Value::as_object).cloned().unwrap_or_default();
        for (event_name, event) in &events {
            let props = event.get("Properties").cloned().unwrap_or(Value::Null);
            let enabled = flag(&props, "Enabled").unwrap_or(true);
            match event.get("Type").and_then(Value::as_str).unwrap_or_default() {
                "HttpApi" => spec.http_routes.push(HttpRoute {
                    method: text(&props, "Method").map(|m| m.to_uppercase()).unwrap_or_else(|| "ANY".into()),
                    path: text(&props, "Path"),
                }),
                "SQS" => spec.sqs.push(SqsSource {
                    name: event_name.clone(),
                    queue_arn: text(&props, "Queue")
                        .ok_or_else(|| invalid(format!("{event_name}: SQS event without Queue")))?,
                    batch_size: number(&props, "BatchSize").unwrap_or(10),
                    batching_window: Duration::from_secs(number(&props, "MaximumBatchingWindowInSeconds").unwrap_or(0)),
                    report_batch_item_failures: reports_item_failures(&props),
                    enabled,
                    maximum_concurrency: number(&props, "ScalingConfig/MaximumConcurrency"),
                }),
                kind @ ("Schedule" | "ScheduleV2") => {
                    let key = if kind == "Schedule" { "Schedule" } else { "ScheduleExpression" };
                    let expression = text(&props, key).ok_or_else(|| invalid(format!("{event_name}: no {key}")))?;
                    let state = text(&props, "State").unwrap_or_else(|| "ENABLED".into());
                    spec.schedules.push(ScheduleSource {
                        name: event_name.clone(),
                        expression,
                        input: text(&props, "Input"),
                        enabled: enabled && state == "ENABLED",
                        source: if kind == "Schedule" { "aws.events" } else { "aws.scheduler" },
                        rule_arn: format!(
                            "arn:aws:events:{}:{}:rule/{}-{event_name}",
                            resolver.region,
                            crate::template::ACCOUNT_ID,
                            spec.name
                        ),
                    });
                }
                "DynamoDB" => spec.streams.push(StreamSource {
                    name: event_name.clone(),
                    stream_arn: text(&props, "Stream").ok_or_else(|| invalid(format!("{event_name}: no Stream")))?,
                    batch_size: number(&props, "BatchSize").unwrap_or(100),
                    batching_window: Duration::from_secs(number(&props, "MaximumBatchingWindowInSeconds").unwrap_or(0)),
                    starting_position: text(&props, "StartingPosition").unwrap_or_else(|| "LATEST".into()),
                    report_batch_item_failures: reports_item_failures(&props),
                    maximum_retry_attempts: number::<i64>(&props, "MaximumRetryAttempts")
                        .and_then(|n| u32::try_from(n).ok()),
                    enabled,
                }),
                other => {
                    tracing::debug!(function = %raw.logical_id, event = %event_name, kind = other, "event source not emulated")
                }
            }
        }
        Ok(spec)
    }
}

fn reports_item_failures(props: &Value) -> bool {
    list(props, "FunctionResponseTypes").iter().any(|t| t.as_str() == Some("ReportBatchItemFailures"))
}

/// `Metadata.BuildProperties.Binary` (cargo-lambda zip functions), `Metadata.DockerBuildArgs.BINARY` (images),
/// else the package name of the crate at `CodeUri` (what cargo-lambda builds when no binary is named).
fn binary_name(raw: &RawResource, properties: &Value, template_dir: &Path) -> Option<String> {
    let image = text(properties, "PackageType").is_some_and(|t| t == "Image");
    let named = if image {
        text(&raw.metadata, "DockerBuildArgs/BINARY")
    } else {
        text(&raw.metadata, "BuildProperties/Binary")
    };
    named.or_else(|| {
        let code_uri = text(properties, "CodeUri")?;
        package_name(&template_dir.join(code_uri).join("Cargo.toml"))
    })
}

/// The `name` of a Cargo.toml's `[package]` (a line scan: the one field we need).
fn package_name(manifest: &PathBuf) -> Option<String> {
    let text = std::fs::read_to_string(manifest).ok()?;
    let mut in_package = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package
            && let Some(value) = line.strip_prefix("name").map(str::trim).and_then(|r| r.strip_prefix('='))
        {
            return Some(value.trim().trim_matches('"').to_owned());
        }
    }
    None
}

/// A function as the template declares it, before any stack runs it (what to build, what to benchmark).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateFunction {
    pub logical_id: String,
    /// The binary's name (`Metadata.BuildProperties.Binary`, `Metadata.DockerBuildArgs.BINARY`, or the crate's).
    pub binary: String,
    /// The `Type` of each of its `Events` (`HttpApi`, `SQS`, `Schedule`, ...).
    pub event_types: Vec<String>,
    /// `PackageType: Image`: deployed as a container image (built from its Dockerfile), not a zip.
    pub image: bool,
}

/// The functions of `template` whose `Condition` (if any) holds under `overrides`.
pub fn template_functions(
    template: &Path,
    overrides: &BTreeMap<String, String>,
) -> Result<Vec<TemplateFunction>, TemplateError> {
    let template = crate::template::Template::load(template, overrides)?;
    let resources = BTreeMap::new();
    let resolver = Resolver { template: &template, stack_name: "template", region: "us-east-1", resources: &resources };
    let mut functions = Vec::new();
    for raw in template.resources.values().filter(|r| r.kind == "AWS::Serverless::Function") {
        if let Some(condition) = &raw.condition
            && !resolver.condition(condition).unwrap_or(true)
        {
            continue;
        }
        let binary = binary_name(raw, &raw.properties, &template.dir).ok_or_else(|| {
            TemplateError::Invalid(format!("function {}: no binary named in its Metadata", raw.logical_id))
        })?;
        let event_types = raw
            .properties
            .get("Events")
            .and_then(Value::as_object)
            .map(|events| {
                events.values().filter_map(|e| e.get("Type").and_then(Value::as_str)).map(str::to_owned).collect()
            })
            .unwrap_or_default();
        let image = raw.properties.get("PackageType").and_then(Value::as_str) == Some("Image");
        functions.push(TemplateFunction { logical_id: raw.logical_id.clone(), binary, event_types, image });
    }
    Ok(functions)
}
