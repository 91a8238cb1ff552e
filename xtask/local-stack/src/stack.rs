//! The running local stack: resources created from the template, functions behind the Runtime API emulator, the
//! HTTP API, and the event sources (SQS, DynamoDB streams, schedules) feeding the functions.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::StackOptions;
use crate::clients::Clients;
use crate::error::StackError;
use crate::function::{FunctionSpec, ScheduleSource};
use crate::http_api::{self, Route, RouteTable};
use crate::provision::{Provision, list, text};
use crate::report::{Invocation, Report};
use crate::resource::{Resource, default_name};
use crate::rotation::{self, CompletedRotation, PendingRotation};
use crate::runtime::{FunctionRuntime, Sinks};
use crate::schedule::Schedule;
use crate::template::{ACCOUNT_ID, Resolver, Template};
use crate::{schedule, server, sqs_source, streams};

/// What the server, the event sources and the public API share.
#[derive(Debug)]
pub(crate) struct Inner {
    pub options: StackOptions,
    pub api_url: String,
    pub resources: BTreeMap<String, Resource>,
    pub functions: BTreeMap<String, Arc<FunctionRuntime>>,
    pub environments: BTreeMap<String, BTreeMap<String, String>>,
    pub routes: RouteTable,
    pub clients: Clients,
    pub sinks: Arc<Sinks>,
    pub control_token: String,
}

impl Inner {
    /// A function by logical id or binary name.
    pub fn function(&self, name: &str) -> Result<&Arc<FunctionRuntime>, StackError> {
        self.functions
            .get(name)
            .or_else(|| self.functions.values().find(|f| f.spec.binary == name || f.spec.name == name))
            .ok_or_else(|| StackError::UnknownFunction(name.to_owned()))
    }

    /// Fires the function's first schedule now.
    pub async fn fire_schedule(&self, function: &str) -> Result<Invocation, StackError> {
        let runtime = self.function(function)?;
        let source = runtime
            .spec
            .schedules
            .first()
            .ok_or_else(|| StackError::Function(format!("{function} has no Schedule event")))?;
        let event = schedule::payload(source, &self.options.region, chrono::Utc::now());
        Ok(runtime.invoke(&event).await)
    }

    /// Moves every message of a dead-letter queue back to its source queue.
    pub async fn redrive(&self, queue: &str) -> Result<Redrive, StackError> {
        let queues: Vec<&Resource> = self.resources.values().filter(|r| r.kind == "AWS::SQS::Queue").collect();
        let named = queues
            .iter()
            .find(|r| r.logical_id == queue || r.attribute("QueueName") == Some(queue))
            .ok_or_else(|| StackError::Function(format!("no queue {queue} in the template")))?;
        let mut pairs = Vec::new();
        for source in &queues {
            let attributes = self
                .clients
                .sqs
                .get_queue_attributes()
                .queue_url(&source.physical_id)
                .attribute_names(aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy)
                .send()
                .await
                .map_err(StackError::aws(format!("reading the redrive policy of {}", source.logical_id)))?;
            let policy = attributes
                .attributes()
                .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy))
                .and_then(|p| serde_json::from_str::<Value>(p).ok());
            let target = policy.as_ref().and_then(|p| p["deadLetterTargetArn"].as_str()).map(str::to_owned);
            if let Some(dlq) = target.and_then(|arn| queues.iter().find(|q| q.arn() == Some(arn.as_str()))) {
                pairs.push((*source, *dlq));
            }
        }
        let (source, dlq) = match pairs.iter().find(|(s, _)| s.logical_id == named.logical_id) {
            Some(pair) => *pair,
            None => {
                let sources: Vec<_> = pairs.iter().filter(|(_, d)| d.logical_id == named.logical_id).collect();
                match sources.as_slice() {
                    [one] => **one,
                    [] => {
                        return Err(StackError::Function(format!(
                            "{queue} is neither a dead-letter queue nor has one"
                        )));
                    }
                    _ => {
                        return Err(StackError::Function(format!(
                            "{queue} is the dead-letter queue of several queues; name the source queue"
                        )));
                    }
                }
            }
        };
        let moved = move_messages(&self.clients, &dlq.physical_id, &source.physical_id).await?;
        Ok(Redrive { moved, from: dlq.logical_id.clone(), to: source.logical_id.clone() })
    }

    /// The JSON the control API and `.local/dev-stack.json` describe the stack with.
    pub fn describe(&self) -> Value {
        let resources: serde_json::Map<String, Value> = self
            .resources
            .values()
            .filter(|r| r.emulated || r.kind == "AWS::Serverless::Function")
            .map(|r| {
                (
                    r.logical_id.clone(),
                    json!({ "type": r.kind, "physical_id": r.physical_id, "attributes": r.attributes }),
                )
            })
            .collect();
        let routes: Vec<Value> = self
            .routes
            .routes()
            .iter()
            .map(|r| json!({ "route": r.route.route_key(), "function": r.function }))
            .collect();
        json!({
            "stack_name": self.options.stack_name,
            "api_url": self.api_url,
            "endpoint_url": self.options.endpoint_url,
            "region": self.options.region,
            "control_token": self.control_token,
            "pid": std::process::id(),
            "resources": resources,
            "routes": routes,
        })
    }
}

/// The outcome of a DLQ redrive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redrive {
    pub moved: usize,
    /// The dead-letter queue's logical id.
    pub from: String,
    /// The source queue's logical id.
    pub to: String,
}

async fn move_messages(clients: &Clients, from: &str, to: &str) -> Result<usize, StackError> {
    let mut moved = 0;
    loop {
        let received = clients
            .sqs
            .receive_message()
            .queue_url(from)
            .max_number_of_messages(10)
            .wait_time_seconds(0)
            .visibility_timeout(30)
            .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(StackError::aws("receiving from the dead-letter queue"))?;
        let messages = received.messages.unwrap_or_default();
        if messages.is_empty() {
            return Ok(moved);
        }
        for message in messages {
            let system = message.attributes().cloned().unwrap_or_default();
            let group = system.get(&aws_sdk_sqs::types::MessageSystemAttributeName::MessageGroupId).cloned();
            let dedup = system.get(&aws_sdk_sqs::types::MessageSystemAttributeName::MessageDeduplicationId).cloned();
            clients
                .sqs
                .send_message()
                .queue_url(to)
                .message_body(message.body().unwrap_or_default())
                .set_message_attributes(message.message_attributes().cloned())
                .set_message_group_id(group)
                .set_message_deduplication_id(dedup)
                .send()
                .await
                .map_err(StackError::aws("sending to the source queue"))?;
            if let Some(handle) = message.receipt_handle() {
                clients
                    .sqs
                    .delete_message()
                    .queue_url(from)
                    .receipt_handle(handle)
                    .send()
                    .await
                    .map_err(StackError::aws("deleting from the dead-letter queue"))?;
            }
            moved += 1;
        }
    }
}

/// A running local stack. Stop it with [`LocalStack::shutdown`]; dropping it also kills every process it started.
#[derive(Debug)]
pub struct LocalStack {
    pub(crate) inner: Arc<Inner>,
    tasks: Vec<JoinHandle<()>>,
    stop: watch::Sender<bool>,
    rotated: Vec<CompletedRotation>,
}

impl LocalStack {
    /// Creates the template's resources on the emulator and starts serving. Function processes start on demand.
    pub async fn start(options: StackOptions) -> Result<LocalStack, StackError> {
        let template = Template::load(&options.template, &known_overrides(&options))?;
        let clients = Clients::new(&options.endpoint_url, &options.region).await;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.http_port))
            .await
            .map_err(StackError::io(format!("cannot listen on 127.0.0.1:{}", options.http_port)))?;
        let port = listener.local_addr().map_err(StackError::io("reading the API's port"))?.port();
        let api_url = format!("http://127.0.0.1:{port}");

        let (resources, specs, rotations) = create_resources(&template, &options, &clients, &api_url).await?;
        let sinks = Arc::new(Sinks::new(options.echo_logs));
        let mut functions = BTreeMap::new();
        let mut environments = BTreeMap::new();
        let mut routes = Vec::new();
        for spec in specs {
            let binary = options.bin_dir.join(&spec.binary);
            if !binary.is_file() {
                return Err(StackError::Function(format!(
                    "function {}: binary {} not found; build it first (`cargo build --bins`, or `cargo xtask dev` builds every function)",
                    spec.logical_id,
                    binary.display()
                )));
            }
            let environment = process_environment(&spec, &options);
            routes
                .extend(spec.http_routes.iter().map(|r| Route { route: r.clone(), function: spec.logical_id.clone() }));
            environments.insert(spec.logical_id.clone(), environment.clone());
            functions.insert(
                spec.logical_id.clone(),
                Arc::new(FunctionRuntime::new(spec, binary, environment, sinks.clone())),
            );
        }
        let inner = Arc::new(Inner {
            options,
            api_url,
            resources,
            functions,
            environments,
            routes: RouteTable::new(routes),
            clients,
            sinks,
            control_token: uuid::Uuid::new_v4().simple().to_string(),
        });
        let (stop, stopped) = watch::channel(false);
        let mut tasks = vec![tokio::spawn(server::serve(listener, inner.clone(), stopped.clone()))];
        for runtime in inner.functions.values() {
            for source in runtime.spec.sqs.iter().filter(|s| s.enabled) {
                tasks.push(tokio::spawn(sqs_source::run(
                    source.clone(),
                    runtime.clone(),
                    inner.clients.clone(),
                    inner.options.region.clone(),
                    stopped.clone(),
                )));
            }
            if inner.options.run_schedules {
                for source in runtime.spec.schedules.iter().filter(|s| s.enabled) {
                    let expression = Schedule::parse(&source.expression).map_err(|m| {
                        StackError::Function(format!(
                            "function {}, event {}: {m}",
                            runtime.spec.logical_id, source.name
                        ))
                    })?;
                    tasks.push(tokio::spawn(run_schedule(
                        expression,
                        source.clone(),
                        runtime.clone(),
                        inner.options.region.clone(),
                        stopped.clone(),
                    )));
                }
            }
            for source in runtime.spec.streams.iter().filter(|s| s.enabled) {
                tasks.push(tokio::spawn(streams::run(
                    source.clone(),
                    runtime.clone(),
                    inner.clients.dynamodb_streams.clone(),
                    inner.options.region.clone(),
                    stopped.clone(),
                )));
            }
        }
        let mut stack = LocalStack { inner, tasks, stop, rotated: Vec::new() };
        for rotation in &rotations {
            let done = rotation::rotate(&stack.inner, rotation).await?;
            stack.rotated.push(done);
        }
        if let Some(path) = &stack.inner.options.state_file {
            write_state(path, &stack.inner.describe())?;
        }
        Ok(stack)
    }

    /// The secret rotations the stack ran at its start (one per immediately rotating `RotationSchedule`).
    pub fn rotations(&self) -> &[CompletedRotation] {
        &self.rotated
    }

    /// `http://127.0.0.1:<port>`: the HTTP API, `/openapi.json`, `/docs` and the control API.
    pub fn api_url(&self) -> String {
        self.inner.api_url.clone()
    }

    /// A resource by logical id: its physical id (`Ref`) and attributes (`Fn::GetAtt`).
    pub fn resource(&self, logical_id: &str) -> Option<&Resource> {
        self.inner.resources.get(logical_id)
    }

    /// Every resource of the stack, by logical id.
    pub fn resources(&self) -> &BTreeMap<String, Resource> {
        &self.inner.resources
    }

    /// A function's whole process environment (template variables resolved, Lambda's variables, overrides),
    /// except the per-environment `AWS_LAMBDA_RUNTIME_API` and `AWS_LAMBDA_LOG_STREAM_NAME`.
    pub fn function_env(&self, function: &str) -> Option<&BTreeMap<String, String>> {
        let runtime = self.inner.function(function).ok()?;
        self.inner.environments.get(&runtime.spec.logical_id)
    }

    /// The stack's functions, by logical id.
    pub fn functions(&self) -> Vec<&FunctionSpec> {
        self.inner.functions.values().map(|f| &f.spec).collect()
    }

    /// Route keys of the HTTP API and the function behind each.
    pub fn routes(&self) -> Vec<(String, String)> {
        self.inner.routes.routes().iter().map(|r| (r.route.route_key(), r.function.clone())).collect()
    }

    /// Invokes a function (logical id or binary name) with `event`, as `lambda:Invoke` would.
    pub async fn invoke(&self, function: &str, event: Value) -> Result<Invocation, StackError> {
        Ok(self.inner.function(function)?.invoke(&event).await)
    }

    /// Fires the function's (first) schedule now, with its `Input` or the "Scheduled Event" payload.
    pub async fn fire_schedule(&self, function: &str) -> Result<Invocation, StackError> {
        self.inner.fire_schedule(function).await
    }

    /// Moves a dead-letter queue's messages back to its source queue (`queue`: either's logical id).
    pub async fn redrive(&self, queue: &str) -> Result<Redrive, StackError> {
        self.inner.redrive(queue).await
    }

    /// Every REPORT so far, in order.
    pub fn reports(&self) -> Vec<Report> {
        self.inner.sinks.reports()
    }

    /// Captured output of every process of `function` (stdout and stderr lines), with the emulator's START,
    /// END, REPORT and event-source lines.
    pub fn logs(&self, function: &str) -> Vec<String> {
        match self.inner.function(function) {
            Ok(runtime) => self.inner.sinks.logs(&runtime.spec.logical_id),
            Err(_) => Vec::new(),
        }
    }

    /// SIGKILLs every execution environment of `function`; an invocation in flight fails with `Runtime.ExitError`.
    pub async fn kill(&self, function: &str) {
        if let Ok(runtime) = self.inner.function(function) {
            runtime.kill().await;
        }
    }

    /// Process ids of every live execution environment.
    pub fn process_ids(&self) -> Vec<u32> {
        self.inner.functions.values().flat_map(|f| f.process_ids()).collect()
    }

    /// The token the control API (`/_local/...`) requires in `x-medvault-local-token`.
    pub fn control_token(&self) -> &str {
        &self.inner.control_token
    }

    /// Stops the event sources and the server, kills every function process and waits until they are gone.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for task in self.tasks.drain(..) {
            task.abort();
            let _ = task.await;
        }
        for runtime in self.inner.functions.values() {
            runtime.shutdown().await;
        }
        if let Some(path) = &self.inner.options.state_file {
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Drop for LocalStack {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        for task in &self.tasks {
            task.abort();
        }
        for runtime in self.inner.functions.values() {
            runtime.kill_now();
        }
        if !self.tasks.is_empty()
            && let Some(path) = &self.inner.options.state_file
        {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Overrides for parameters the template declares; others are dropped with a warning (a test helper passes
/// `Stage=local` to templates that may not have it).
fn known_overrides(options: &StackOptions) -> BTreeMap<String, String> {
    let Ok(text) = std::fs::read_to_string(&options.template) else { return options.parameter_overrides.clone() };
    let declared: Option<serde_yaml_ng::Value> = serde_yaml_ng::from_str(&text).ok();
    let parameters = declared.as_ref().and_then(|d| d.get("Parameters")).and_then(|p| p.as_mapping());
    options
        .parameter_overrides
        .iter()
        .filter(|(name, _)| {
            let known = parameters.is_some_and(|p| p.contains_key(name.as_str()));
            if !known {
                tracing::warn!(parameter = %name, "override ignored: the template declares no such parameter");
            }
            known
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

async fn create_resources(
    template: &Template,
    options: &StackOptions,
    clients: &Clients,
    api_url: &str,
) -> Result<(BTreeMap<String, Resource>, Vec<FunctionSpec>, Vec<PendingRotation>), StackError> {
    let stack = options.stack_name.as_str();
    let region = options.region.as_str();
    let mut resources: BTreeMap<String, Resource> = BTreeMap::new();
    let mut function_arns = Vec::new();
    let mut functions = Vec::new();
    let mut rotations = Vec::new();
    for id in template.creation_order()? {
        let raw = &template.resources[&id];
        let resolver = Resolver { template, stack_name: stack, region, resources: &resources };
        if let Some(condition) = &raw.condition
            && !resolver.condition(condition)?
        {
            tracing::debug!(logical_id = %id, %condition, "condition is false: not created");
            continue;
        }
        let resource = match raw.kind.as_str() {
            "AWS::Serverless::Function" => {
                let name = match raw.properties.get("FunctionName") {
                    Some(name) => text(&resolver.value(name)?, "").unwrap_or_default(),
                    None => String::new(),
                };
                let name = if name.is_empty() { default_name(stack, &id) } else { name };
                let arn = format!("arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{name}");
                function_arns.push(arn.clone());
                functions.push((id.clone(), name.clone(), arn.clone()));
                let mut resource = Resource::new(&id, &raw.kind, &name).with("Arn", arn);
                resource.emulated = false;
                resource
            }
            "AWS::SecretsManager::RotationSchedule" => {
                let properties = resolver.value(&raw.properties)?;
                let immediately = properties.get("RotateImmediatelyOnUpdate").and_then(Value::as_bool).unwrap_or(true);
                let secret_id = text(&properties, "SecretId").unwrap_or_default();
                let function_arn = text(&properties, "RotationLambdaARN").unwrap_or_default();
                if immediately && !secret_id.is_empty() && !function_arn.is_empty() {
                    rotations.push(PendingRotation { schedule: id.clone(), secret_id, function_arn });
                }
                let mut resource = Resource::new(&id, &raw.kind, default_name(stack, &id));
                resource.emulated = false;
                resource
            }
            "AWS::Serverless::HttpApi" | "AWS::ApiGatewayV2::Api" => {
                let mut resource = Resource::new(&id, &raw.kind, http_api::API_ID).with("ApiEndpoint", api_url);
                resource.emulated = false;
                resource
            }
            _ => {
                let properties = resolver.value(&raw.properties)?;
                let provision = Provision { clients, stack_name: stack, region, function_arns: &function_arns };
                provision.create(raw, &properties).await?
            }
        };
        resources.insert(id, resource);
    }
    // SAM's implicit API, which Outputs often reference.
    resources.entry("ServerlessHttpApi".into()).or_insert_with(|| {
        let mut api = Resource::new("ServerlessHttpApi", "AWS::Serverless::HttpApi", http_api::API_ID)
            .with("ApiEndpoint", api_url);
        api.emulated = false;
        api
    });
    let resolver = Resolver { template, stack_name: stack, region, resources: &resources };
    let mut specs = Vec::new();
    for (id, name, arn) in functions {
        specs.push(FunctionSpec::from_template(&template.resources[&id], &resolver, &name, &arn)?);
    }
    add_rule_schedules(template, &resolver, &mut specs)?;
    Ok((resources, specs, rotations))
}

/// `AWS::Events::Rule`s with a `ScheduleExpression` and a target that is one of the stack's functions.
fn add_rule_schedules(
    template: &Template,
    resolver: &Resolver<'_>,
    specs: &mut [FunctionSpec],
) -> Result<(), StackError> {
    for raw in template.resources.values().filter(|r| r.kind == "AWS::Events::Rule") {
        let Some(resource) = resolver.resources.get(&raw.logical_id) else { continue };
        let properties = resolver.value(&raw.properties)?;
        let Some(expression) = text(&properties, "ScheduleExpression") else { continue };
        for target in list(&properties, "Targets") {
            let arn = text(target, "Arn").unwrap_or_default();
            if let Some(spec) = specs.iter_mut().find(|s| s.arn == arn) {
                spec.schedules.push(ScheduleSource {
                    name: raw.logical_id.clone(),
                    expression: expression.clone(),
                    input: text(target, "Input"),
                    enabled: text(&properties, "State").is_none_or(|s| s == "ENABLED"),
                    source: "aws.events",
                    rule_arn: resource.arn().unwrap_or_default().to_owned(),
                });
            }
        }
    }
    Ok(())
}

/// The clean process environment of a function: nothing of the developer's own (no AWS credentials).
fn process_environment(spec: &FunctionSpec, options: &StackOptions) -> BTreeMap<String, String> {
    let mut env = spec.environment.clone();
    let region = options.region.clone();
    let fixed = [
        ("AWS_LAMBDA_FUNCTION_NAME", spec.name.clone()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", spec.memory_mb.to_string()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{}", spec.name)),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into()),
        ("AWS_REGION", region.clone()),
        ("AWS_DEFAULT_REGION", region),
        ("AWS_ENDPOINT_URL", options.endpoint_url.clone()),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("MEDVAULT_S3_FORCE_PATH_STYLE", "true".into()),
        ("MEDVAULT_LOG_FORMAT", "text".into()),
        ("_HANDLER", spec.handler.clone()),
        ("TZ", ":UTC".into()),
    ];
    for (key, value) in fixed {
        env.insert(key.to_owned(), value);
    }
    for key in ["PATH", "HOME", "LANG", "RUST_LOG", "RUST_BACKTRACE"] {
        if let Ok(value) = std::env::var(key) {
            env.insert(key.to_owned(), value);
        }
    }
    env.extend(options.env_overrides.clone());
    env
}

async fn run_schedule(
    schedule: Schedule,
    source: ScheduleSource,
    runtime: Arc<FunctionRuntime>,
    region: String,
    mut stop: watch::Receiver<bool>,
) {
    let started = chrono::Utc::now();
    loop {
        let now = chrono::Utc::now();
        let Some(next) = schedule.next_after(started, now) else { return };
        let wait = (next - now).to_std().unwrap_or(Duration::ZERO);
        tokio::select! {
            () = tokio::time::sleep(wait) => {},
            _ = stop.changed() => return,
        }
        let event = schedule::payload(&source, &region, next);
        let runtime = runtime.clone();
        tokio::spawn(async move {
            runtime.invoke(&event).await;
        });
    }
}

/// Writes the stack's description (with the control token) readable by the owner only.
fn write_state(path: &PathBuf, description: &Value) -> Result<(), StackError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(StackError::io(format!("creating {}", dir.display())))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(StackError::io(format!("writing {}", path.display())))?;
    let text = serde_json::to_string_pretty(description).unwrap_or_default();
    file.write_all(text.as_bytes()).map_err(StackError::io(format!("writing {}", path.display())))
}
