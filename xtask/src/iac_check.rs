//! A custom IaC check of the SAM template's SQS queues: every queue a function consumes keeps a message hidden at
//! least six times that function's timeout, and every source queue has a redrive policy with maxReceiveCount ≥ 5.
//!
//! Why six times: Lambda's poller keeps a batch invisible while it retries throttled or failed invocations; AWS
//! recommends a visibility timeout of at least six times the function timeout, else a message becomes visible
//! again while it is still being processed and runs twice. Why a redrive policy with at least five receives: a
//! message that can never succeed must end in a dead-letter queue (where an alarm watches) rather than loop until
//! its retention expires, and fewer than five receives sends messages there on a burst of throttling alone.
//!
//! The template is evaluated as CloudFormation would with no parameter overrides: parameters take their defaults,
//! `Globals.Function` applies to functions that do not set their own value, and an `Fn::If` counts with the worse of
//! its branches. Anything else the check cannot evaluate (e.g. `Fn::FindInMap`) is an error naming the property,
//! never a silent pass. The local stack's evaluator (`local_stack`) does not expose its template API yet; until it
//! does, the few intrinsics these properties use are evaluated here.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use anyhow::{Context, bail};
use serde_yaml_ng::{Mapping, Value};

/// Visibility timeout of a queue that does not set one (seconds).
const DEFAULT_VISIBILITY_TIMEOUT: u64 = 30;
/// Timeout of a function that sets none, directly or through `Globals` (seconds).
const DEFAULT_FUNCTION_TIMEOUT: u64 = 3;
/// A consumed queue hides a message for at least this many times its consumer's timeout.
pub const VISIBILITY_FACTOR: u64 = 6;
/// The fewest receives before a message moves to the dead-letter queue.
pub const MIN_MAX_RECEIVE_COUNT: u64 = 5;

/// Keys under which a resource names a queue as somebody's dead-letter queue (SQS redrive, SAM `DeadLetterQueue`,
/// Lambda and EventBridge `DeadLetterConfig`, event source mapping and async-invoke `OnFailure` destinations).
const DEAD_LETTER_KEYS: &[&str] = &["deadLetterTargetArn", "DeadLetterQueue", "DeadLetterConfig", "OnFailure"];

/// One rule the template breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// A consumed queue's visibility timeout is below six times the consumer's timeout.
    VisibilityTooShort { queue: String, visibility: u64, consumer: String, timeout: u64 },
    /// A queue that is nobody's dead-letter queue has no redrive policy.
    NoRedrivePolicy { queue: String },
    /// A redrive policy moves messages to the dead-letter queue after fewer than five receives.
    MaxReceiveCountTooLow { queue: String, max_receive_count: u64 },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::VisibilityTooShort { queue, visibility, consumer, timeout } => write!(
                f,
                "{queue}: VisibilityTimeout {visibility} s is below {VISIBILITY_FACTOR} × {timeout} s = {} s, the \
                 Timeout of its consumer {consumer}; raise the queue's VisibilityTimeout or lower the function's Timeout",
                VISIBILITY_FACTOR * timeout
            ),
            Self::NoRedrivePolicy { queue } => write!(
                f,
                "{queue}: no RedrivePolicy; give it a dead-letter queue (deadLetterTargetArn) and maxReceiveCount ≥ \
                 {MIN_MAX_RECEIVE_COUNT}"
            ),
            Self::MaxReceiveCountTooLow { queue, max_receive_count } => write!(
                f,
                "{queue}: RedrivePolicy maxReceiveCount {max_receive_count} is below {MIN_MAX_RECEIVE_COUNT}; throttling \
                 alone would send messages to the dead-letter queue"
            ),
        }
    }
}

/// Checks `template` (a SAM or CloudFormation template in YAML or JSON); fails listing every violation.
pub fn check(template: &Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(template).with_context(|| format!("reading {}", template.display()))?;
    let found = violations(&text).with_context(|| format!("evaluating {}", template.display()))?;
    if found.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = found.iter().map(|v| format!("  - {v}")).collect();
    bail!("{} violates the SQS queue rules:\n{}", template.display(), lines.join("\n"))
}

/// Every violation in the template `text`, parameters at their defaults.
pub fn violations(text: &str) -> anyhow::Result<Vec<Violation>> {
    let root: Value = serde_yaml_ng::from_str(text).context("the template is not valid YAML")?;
    let template = Template::new(&root)?;
    let mut found = Vec::new();

    let dead_letter_queues = template.dead_letter_queues();
    for (queue, properties) in template.of_type("AWS::SQS::Queue") {
        if !dead_letter_queues.contains(queue) {
            found.extend(template.redrive_violations(queue, properties)?);
        }
    }
    for consumer in template.consumers()? {
        let Some(queue) = template.resources.get(&consumer.queue) else { continue };
        let property = format!("{}.VisibilityTimeout", consumer.queue);
        let visibility = template
            .numbers(queue.get("Properties").and_then(|p| p.get("VisibilityTimeout")), &property)?
            .into_iter()
            .min()
            .unwrap_or(DEFAULT_VISIBILITY_TIMEOUT);
        if visibility < VISIBILITY_FACTOR.saturating_mul(consumer.timeout) {
            found.push(Violation::VisibilityTooShort {
                queue: consumer.queue.clone(),
                visibility,
                consumer: consumer.name,
                timeout: consumer.timeout,
            });
        }
    }
    Ok(found)
}

/// A function reading a queue, with the longest timeout it may run for.
#[derive(Debug)]
struct Consumer {
    /// `Function` or `Function (event Name)`, for messages.
    name: String,
    /// The queue's logical id.
    queue: String,
    timeout: u64,
}

/// The parts of a template the check reads.
#[derive(Debug)]
struct Template<'a> {
    /// Parameter defaults as CloudFormation passes them (text).
    parameters: BTreeMap<String, String>,
    globals_timeout: Option<&'a Value>,
    resources: BTreeMap<String, &'a Value>,
}

impl<'a> Template<'a> {
    fn new(root: &'a Value) -> anyhow::Result<Self> {
        let mut parameters = BTreeMap::new();
        if let Some(declared) = root.get("Parameters").and_then(Value::as_mapping) {
            for (name, declaration) in declared {
                let (Some(name), Some(default)) = (name.as_str(), declaration.get("Default")) else { continue };
                parameters.insert(name.to_owned(), scalar_text(default));
            }
        }
        let resources: BTreeMap<String, &Value> = root
            .get("Resources")
            .and_then(Value::as_mapping)
            .context("the template has no Resources")?
            .iter()
            .filter_map(|(id, body)| Some((id.as_str()?.to_owned(), body)))
            .collect();
        let globals_timeout = root.get("Globals").and_then(|g| g.get("Function")).and_then(|f| f.get("Timeout"));
        Ok(Self { parameters, globals_timeout, resources })
    }

    /// `(logical id, Properties)` of every resource of `kind`.
    fn of_type(&self, kind: &'a str) -> impl Iterator<Item = (&String, Option<&'a Value>)> + '_ {
        self.resources
            .iter()
            .filter(move |(_, body)| body.get("Type").and_then(Value::as_str) == Some(kind))
            .map(|(id, body)| (id, body.get("Properties")))
    }

    /// Logical ids of the queues some resource names as its dead-letter queue or failure destination.
    fn dead_letter_queues(&self) -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        for body in self.resources.values() {
            if let Some(properties) = body.get("Properties") {
                collect_dead_letter_targets(properties, false, &mut found);
            }
        }
        found.retain(|id| self.kind(id) == Some("AWS::SQS::Queue"));
        found
    }

    fn redrive_violations(&self, queue: &str, properties: Option<&Value>) -> anyhow::Result<Vec<Violation>> {
        let policy = properties.and_then(|p| p.get("RedrivePolicy"));
        let mut found = Vec::new();
        // Every branch of an Fn::If must have a policy: the condition may pick any of them.
        for branch in branches(policy) {
            let parsed;
            let policy = match branch {
                Some(Value::String(json)) => {
                    parsed = serde_yaml_ng::from_str::<Value>(json)
                        .with_context(|| format!("{queue}.RedrivePolicy is not valid JSON"))?;
                    Some(&parsed)
                }
                other => other,
            };
            let Some(policy) = policy.filter(|p| p.get("deadLetterTargetArn").is_some()) else {
                found.push(Violation::NoRedrivePolicy { queue: queue.to_owned() });
                continue;
            };
            let property = format!("{queue}.RedrivePolicy.maxReceiveCount");
            let counts = self.numbers(policy.get("maxReceiveCount"), &property)?;
            if counts.is_empty() {
                bail!("{property} is missing");
            }
            if let Some(lowest) = counts.into_iter().min().filter(|n| *n < MIN_MAX_RECEIVE_COUNT) {
                found.push(Violation::MaxReceiveCountTooLow { queue: queue.to_owned(), max_receive_count: lowest });
            }
        }
        found.dedup();
        Ok(found)
    }

    /// Every function reading a queue of this template: SAM `SQS` events and `AWS::Lambda::EventSourceMapping`s.
    fn consumers(&self) -> anyhow::Result<Vec<Consumer>> {
        let mut consumers = Vec::new();
        for (function, properties) in self.of_type("AWS::Serverless::Function") {
            let Some(events) = properties.and_then(|p| p.get("Events")).and_then(Value::as_mapping) else { continue };
            for (event, body) in events {
                if body.get("Type").and_then(Value::as_str) != Some("SQS") {
                    continue;
                }
                let queue = body.get("Properties").and_then(|p| p.get("Queue")).and_then(logical_target);
                if let Some(queue) = queue {
                    consumers.push(Consumer {
                        name: format!("{function} (event {})", scalar_text(event)),
                        queue,
                        timeout: self.function_timeout(function)?,
                    });
                }
            }
        }
        for (mapping, properties) in self.of_type("AWS::Lambda::EventSourceMapping") {
            let queue = properties.and_then(|p| p.get("EventSourceArn")).and_then(logical_target);
            let function = properties.and_then(|p| p.get("FunctionName")).and_then(logical_target);
            if let (Some(queue), Some(function)) = (queue, function)
                && self.kind(&queue) == Some("AWS::SQS::Queue")
                && self.resources.contains_key(&function)
            {
                consumers.push(Consumer {
                    name: format!("{function} (mapping {mapping})"),
                    queue,
                    timeout: self.function_timeout(&function)?,
                });
            }
        }
        Ok(consumers)
    }

    /// The longest `Timeout` the function may have: its own, else `Globals.Function` (SAM functions), else Lambda's.
    fn function_timeout(&self, function: &str) -> anyhow::Result<u64> {
        let body = self.resources.get(function).copied();
        let own = body.and_then(|b| b.get("Properties")).and_then(|p| p.get("Timeout"));
        let serverless = self.kind(function) == Some("AWS::Serverless::Function");
        let timeout = match own {
            Some(value) => Some(value),
            None if serverless => self.globals_timeout,
            None => None,
        };
        let property = format!("{function}.Timeout");
        Ok(self.numbers(timeout, &property)?.into_iter().max().unwrap_or(DEFAULT_FUNCTION_TIMEOUT))
    }

    fn kind(&self, logical_id: &str) -> Option<&str> {
        self.resources.get(logical_id).and_then(|b| b.get("Type")).and_then(Value::as_str)
    }

    /// The values a numeric property may take (every `Fn::If` branch); empty when it is absent.
    fn numbers(&self, value: Option<&Value>, property: &str) -> anyhow::Result<Vec<u64>> {
        let mut out = Vec::new();
        for branch in branches(value).into_iter().flatten() {
            let text = match intrinsic(branch) {
                None => scalar_text(branch),
                Some(("Ref", Value::String(name))) => self
                    .parameters
                    .get(name)
                    .cloned()
                    .with_context(|| format!("{property}: !Ref {name} is not a parameter with a Default"))?,
                Some((name, _)) => {
                    bail!("{property}: cannot evaluate Fn::{name} (use a number, a parameter or Fn::If)")
                }
            };
            out.push(text.trim().parse().with_context(|| format!("{property}: {text:?} is not a whole number"))?);
        }
        Ok(out)
    }
}

/// The alternatives of a value: both branches of every `Fn::If`, `None` for `AWS::NoValue` or an absent value.
fn branches(value: Option<&Value>) -> Vec<Option<&Value>> {
    let Some(value) = value else { return vec![None] };
    match intrinsic(value) {
        Some(("If", Value::Sequence(parts))) if parts.len() == 3 => {
            let mut out = branches(parts.get(1));
            out.extend(branches(parts.get(2)));
            out
        }
        Some(("Ref", Value::String(name))) if name == "AWS::NoValue" => vec![None],
        _ => vec![Some(value)],
    }
}

/// `(name, argument)` of an intrinsic function in either spelling: `!GetAtt X.Arn` or `{"Fn::GetAtt": [X, Arn]}`.
fn intrinsic(value: &Value) -> Option<(&str, &Value)> {
    match value {
        Value::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = INTRINSICS.iter().find(|known| tag.trim_start_matches('!') == **known)?;
            Some((name, &tagged.value))
        }
        Value::Mapping(map) if map.len() == 1 => {
            let (key, argument) = map.iter().next()?;
            let key = key.as_str()?;
            let name = if key == "Ref" { Some("Ref") } else { key.strip_prefix("Fn::") }?;
            INTRINSICS.iter().find(|known| **known == name).map(|known| (*known, argument))
        }
        _ => None,
    }
}

const INTRINSICS: &[&str] = &[
    "Ref",
    "GetAtt",
    "Sub",
    "If",
    "FindInMap",
    "Join",
    "Select",
    "Split",
    "ImportValue",
    "GetAZs",
    "Base64",
    "Cidr",
    "Equals",
    "Not",
    "And",
    "Or",
    "Condition",
    "ToJsonString",
    "Length",
];

/// The logical id a `!Ref X`, `!GetAtt X.Arn` or `!Sub "${X.Arn}"` points at.
fn logical_target(value: &Value) -> Option<String> {
    let (name, argument) = intrinsic(value)?;
    let id = match (name, argument) {
        ("Ref", Value::String(id)) => id.clone(),
        ("GetAtt", Value::String(dotted)) => dotted.split('.').next()?.to_owned(),
        ("GetAtt", Value::Sequence(parts)) => parts.first()?.as_str()?.to_owned(),
        ("Sub", Value::String(text)) => {
            let inner = text.strip_prefix("${")?.strip_suffix('}')?;
            inner.split('.').next()?.to_owned()
        }
        _ => return None,
    };
    Some(id)
}

/// Collects the logical ids referenced anywhere under a dead-letter key.
fn collect_dead_letter_targets(value: &Value, under_dead_letter_key: bool, found: &mut BTreeSet<String>) {
    if under_dead_letter_key && let Some(id) = logical_target(value) {
        found.insert(id);
    }
    match value {
        Value::Mapping(map) => collect_in_mapping(map, under_dead_letter_key, found),
        Value::Sequence(items) => {
            items.iter().for_each(|v| collect_dead_letter_targets(v, under_dead_letter_key, found))
        }
        Value::Tagged(tagged) => collect_dead_letter_targets(&tagged.value, under_dead_letter_key, found),
        _ => {}
    }
}

fn collect_in_mapping(map: &Mapping, under_dead_letter_key: bool, found: &mut BTreeSet<String>) {
    for (key, value) in map {
        let is_dead_letter_key = key.as_str().is_some_and(|k| DEAD_LETTER_KEYS.contains(&k));
        collect_dead_letter_targets(value, under_dead_letter_key || is_dead_letter_key, found);
    }
}

/// A YAML scalar as CloudFormation reads it into a parameter or property (text).
fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => serde_yaml_ng::to_string(other).unwrap_or_default().trim().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A template with a consumed queue `Work`, a dead-letter queue `WorkDlq` (always the DLQ of queue `Other`) and a
    /// function `Worker` reading `Work`; the queue's and the function's properties are filled per test.
    fn template(queue_properties: &str, function_properties: &str) -> String {
        format!(
            r#"
Transform: AWS::Serverless-2016-10-31
Parameters:
  WorkerTimeout: {{ Type: Number, Default: 20 }}
  Visibility: {{ Type: Number, Default: 90 }}
  Receives: {{ Type: Number, Default: 3 }}
Conditions:
  IsProd: !Equals [prod, prod]
Globals:
  Function:
    Timeout: 15
Resources:
  Work:
    Type: AWS::SQS::Queue
    Properties:
{queue_properties}
  WorkDlq:
    Type: AWS::SQS::Queue
  Other:
    Type: AWS::SQS::Queue
    Properties: {{ RedrivePolicy: {{ deadLetterTargetArn: !GetAtt WorkDlq.Arn, maxReceiveCount: 10 }} }}
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
{function_properties}
      Events:
        Jobs:
          Type: SQS
          Properties: {{ Queue: !GetAtt Work.Arn }}
"#
        )
    }

    const GOOD_REDRIVE: &str = "      RedrivePolicy: { deadLetterTargetArn: !GetAtt WorkDlq.Arn, maxReceiveCount: 5 }";

    fn queue(lines: &[&str]) -> String {
        lines.iter().map(|l| format!("      {l}\n")).collect::<String>() + GOOD_REDRIVE
    }

    #[test]
    fn the_real_template_passes() {
        let root = crate::workspace::root();

        let result = check(&root.join("template.yaml"));

        assert!(result.is_ok(), "{:#}", result.unwrap_err());
    }

    #[test]
    fn a_queue_hiding_messages_for_less_than_six_function_timeouts_fails() {
        let text = template(&queue(&["VisibilityTimeout: 60"]), "      Timeout: 11");

        let found = violations(&text).unwrap();

        assert_eq!(
            found,
            vec![Violation::VisibilityTooShort {
                queue: "Work".into(),
                visibility: 60,
                consumer: "Worker (event Jobs)".into(),
                timeout: 11
            }]
        );
        assert!(found[0].to_string().contains("below 6 × 11 s = 66 s"), "{}", found[0]);
    }

    #[test]
    fn exactly_six_function_timeouts_passes() {
        let text = template(&queue(&["VisibilityTimeout: 66"]), "      Timeout: 11");

        assert_eq!(violations(&text).unwrap(), vec![]);
    }

    #[test]
    fn the_globals_timeout_applies_to_a_function_without_its_own() {
        // 80 s would do for Lambda's 3 s default, not for the 15 s of Globals.
        let text = template(&queue(&["VisibilityTimeout: 80"]), "      MemorySize: 128");

        let found = violations(&text).unwrap();

        assert!(matches!(&found[..], [Violation::VisibilityTooShort { timeout: 15, visibility: 80, .. }]), "{found:?}");
    }

    #[test]
    fn an_unset_visibility_timeout_counts_as_sqs_default_of_thirty_seconds() {
        let text = template(&queue(&[]), "      Timeout: 6");

        let found = violations(&text).unwrap();

        assert!(matches!(&found[..], [Violation::VisibilityTooShort { visibility: 30, timeout: 6, .. }]), "{found:?}");
    }

    #[test]
    fn parameters_are_evaluated_with_their_defaults() {
        // Visibility 90 s against 6 × 20 s.
        let text = template(&queue(&["VisibilityTimeout: !Ref Visibility"]), "      Timeout: !Ref WorkerTimeout");

        let found = violations(&text).unwrap();

        assert!(matches!(&found[..], [Violation::VisibilityTooShort { visibility: 90, timeout: 20, .. }]), "{found:?}");
    }

    #[test]
    fn a_conditional_value_counts_with_its_worse_branch() {
        let text = template(&queue(&["VisibilityTimeout: !If [IsProd, 900, 60]"]), "      Timeout: 30");

        let found = violations(&text).unwrap();

        assert!(matches!(&found[..], [Violation::VisibilityTooShort { visibility: 60, .. }]), "{found:?}");
    }

    #[test]
    fn a_source_queue_without_a_redrive_policy_fails_and_its_dead_letter_queue_does_not() {
        let text = template("      VisibilityTimeout: 900", "      Timeout: 10");

        let found = violations(&text).unwrap();

        assert_eq!(found, vec![Violation::NoRedrivePolicy { queue: "Work".into() }]);
    }

    #[test]
    fn a_queue_used_as_a_functions_dead_letter_queue_needs_no_redrive_policy() {
        let text = template(&queue(&["VisibilityTimeout: 900"]), "      Timeout: 10")
            + "  Async:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: .\n      \
               DeadLetterQueue: { Type: SQS, TargetArn: !GetAtt AsyncDlq.Arn }\n  AsyncDlq:\n    Type: AWS::SQS::Queue\n";

        assert_eq!(violations(&text).unwrap(), vec![]);
    }

    #[test]
    fn a_redrive_policy_left_out_by_a_condition_fails() {
        let text = template(
            "      VisibilityTimeout: 900\n      RedrivePolicy: !If [IsProd, { deadLetterTargetArn: !GetAtt WorkDlq.Arn, \
             maxReceiveCount: 5 }, !Ref AWS::NoValue]",
            "      Timeout: 10",
        );

        assert_eq!(violations(&text).unwrap(), vec![Violation::NoRedrivePolicy { queue: "Work".into() }]);
    }

    #[test]
    fn a_max_receive_count_below_five_fails_whether_literal_or_a_parameter() {
        for count in ["2", "!Ref Receives"] {
            let text = template(
                &format!(
                    "      VisibilityTimeout: 900\n      RedrivePolicy: {{ deadLetterTargetArn: !GetAtt WorkDlq.Arn, \
                     maxReceiveCount: {count} }}"
                ),
                "      Timeout: 10",
            );

            let found = violations(&text).unwrap();

            assert!(
                matches!(&found[..], [Violation::MaxReceiveCountTooLow { max_receive_count: 2 | 3, .. }]),
                "{found:?}"
            );
        }
    }

    #[test]
    fn a_redrive_policy_written_as_json_text_is_read() {
        let text = template(
            "      VisibilityTimeout: 900\n      RedrivePolicy: '{\"deadLetterTargetArn\": \"arn:aws:sqs:us-east-1:1:dlq\", \
             \"maxReceiveCount\": 4}'",
            "      Timeout: 10",
        );

        let found = violations(&text).unwrap();

        assert_eq!(found, vec![Violation::MaxReceiveCountTooLow { queue: "Work".into(), max_receive_count: 4 }]);
    }

    #[test]
    fn an_event_source_mapping_is_a_consumer_too() {
        let text = template(&queue(&["VisibilityTimeout: 100"]), "      Timeout: 1").replace(
            "  WorkDlq:",
            "  Plain:\n    Type: AWS::Lambda::Function\n    Properties: { Timeout: 20 }\n  PlainMapping:\n    \
             Type: AWS::Lambda::EventSourceMapping\n    Properties: { EventSourceArn: !GetAtt Work.Arn, FunctionName: \
             !Ref Plain }\n  WorkDlq:",
        );

        let found = violations(&text).unwrap();

        assert_eq!(
            found,
            vec![Violation::VisibilityTooShort {
                queue: "Work".into(),
                visibility: 100,
                consumer: "Plain (mapping PlainMapping)".into(),
                timeout: 20
            }]
        );
    }

    #[test]
    fn a_value_the_check_cannot_evaluate_is_an_error_naming_it() {
        let text = template(&queue(&["VisibilityTimeout: !FindInMap [Sizes, prod, Visibility]"]), "      Timeout: 10");

        let error = violations(&text).unwrap_err();

        assert!(error.to_string().contains("Work.VisibilityTimeout: cannot evaluate Fn::FindInMap"), "{error}");
    }

    #[test]
    fn check_lists_every_violation_in_its_error() {
        let dir = std::env::temp_dir().join(format!("iac-check-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("template.yaml");
        std::fs::write(&path, template("      VisibilityTimeout: 10", "      Timeout: 10")).unwrap();

        let error = check(&path).unwrap_err();

        let message = format!("{error:#}");
        assert!(message.contains("Work: VisibilityTimeout 10 s is below"), "{message}");
        assert!(message.contains("Work: no RedrivePolicy"), "{message}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
