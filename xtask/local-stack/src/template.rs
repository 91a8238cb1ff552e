//! Reading a SAM template: YAML with CloudFormation's short tags, `Globals`, `Parameters`, `Conditions`,
//! `Mappings`, pseudo parameters and the intrinsic functions, resolved against the stack's physical names.
//!
//! Hand-written because no Rust crate evaluates CloudFormation intrinsics; the YAML itself is parsed by
//! `serde_yaml_ng`, which keeps short tags (`!Ref`, `!Sub`, ...) as tagged values that we turn into their long
//! forms (`{"Ref": ..}`, `{"Fn::Sub": ..}`) so that one evaluator handles both spellings.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::resource::Resource;

/// The account id moto answers with; CloudFormation's `AWS::AccountId` on the local stack.
pub const ACCOUNT_ID: &str = "123456789012";

/// A template that could not be read or evaluated.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read the template {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the template {path} is not valid YAML")]
    Yaml {
        path: PathBuf,
        #[source]
        source: serde_yaml_ng::Error,
    },
    #[error("template: {0}")]
    Invalid(String),
}

fn invalid(message: impl Into<String>) -> TemplateError {
    TemplateError::Invalid(message.into())
}

/// One entry of the template's `Resources`, with `Globals` already merged into functions.
#[derive(Debug, Clone)]
pub struct RawResource {
    pub logical_id: String,
    pub kind: String,
    pub properties: Value,
    pub metadata: Value,
    pub condition: Option<String>,
    pub depends_on: Vec<String>,
}

/// A parsed template, before any resource exists.
#[derive(Debug, Clone)]
pub struct Template {
    /// The folder holding the template (relative `CodeUri`s start there).
    pub dir: PathBuf,
    parameters: BTreeMap<String, Value>,
    conditions: Map<String, Value>,
    mappings: Value,
    pub resources: BTreeMap<String, RawResource>,
}

impl Template {
    /// Reads `path` and applies parameter `overrides` over the parameters' defaults.
    pub fn load(path: &Path, overrides: &BTreeMap<String, String>) -> Result<Self, TemplateError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| TemplateError::Read { path: path.to_owned(), source })?;
        let yaml: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(&text).map_err(|source| TemplateError::Yaml { path: path.to_owned(), source })?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
        Self::from_value(yaml_to_json(yaml), dir, overrides)
    }

    fn from_value(root: Value, dir: PathBuf, overrides: &BTreeMap<String, String>) -> Result<Self, TemplateError> {
        let parameters = parameters(&root, overrides)?;
        let conditions = root.get("Conditions").and_then(Value::as_object).cloned().unwrap_or_default();
        let mappings = root.get("Mappings").cloned().unwrap_or(Value::Null);
        let function_globals = root.pointer("/Globals/Function").cloned().unwrap_or(Value::Null);
        let Some(declared) = root.get("Resources").and_then(Value::as_object) else {
            return Err(invalid("the template has no Resources"));
        };
        let mut resources = BTreeMap::new();
        for (logical_id, body) in declared {
            let kind =
                body.get("Type").and_then(Value::as_str).ok_or_else(|| invalid(format!("{logical_id} has no Type")))?;
            let mut properties = body.get("Properties").cloned().unwrap_or_else(|| Value::Object(Map::new()));
            if kind == "AWS::Serverless::Function" && function_globals.is_object() {
                properties = merge_globals(&function_globals, properties);
            }
            let depends_on = match body.get("DependsOn") {
                Some(Value::String(one)) => vec![one.clone()],
                Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
                _ => Vec::new(),
            };
            resources.insert(
                logical_id.clone(),
                RawResource {
                    logical_id: logical_id.clone(),
                    kind: kind.to_owned(),
                    properties,
                    metadata: body.get("Metadata").cloned().unwrap_or(Value::Null),
                    condition: body.get("Condition").and_then(Value::as_str).map(str::to_owned),
                    depends_on,
                },
            );
        }
        Ok(Self { dir, parameters, conditions, mappings, resources })
    }

    /// Logical ids in an order where every resource comes after the resources it refers to.
    pub fn creation_order(&self) -> Result<Vec<String>, TemplateError> {
        let mut dependencies: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for (id, resource) in &self.resources {
            let mut found = BTreeSet::new();
            references(&resource.properties, &mut found);
            found.extend(resource.depends_on.iter().cloned());
            found.retain(|other| other != id && self.resources.contains_key(other));
            dependencies.insert(id, found);
        }
        let mut order = Vec::new();
        let mut done = BTreeSet::new();
        while order.len() < dependencies.len() {
            let ready: Vec<&str> = dependencies
                .iter()
                .filter(|(id, deps)| !done.contains(**id) && deps.iter().all(|d| done.contains(d.as_str())))
                .map(|(id, _)| *id)
                .collect();
            if ready.is_empty() {
                let stuck: Vec<&str> = dependencies.keys().filter(|id| !done.contains(**id)).copied().collect();
                return Err(invalid(format!("circular references between {}", stuck.join(", "))));
            }
            for id in ready {
                done.insert(id.to_owned());
                order.push(id.to_owned());
            }
        }
        Ok(order)
    }
}

/// Parameter values: overrides, else defaults; a parameter with neither is an error naming it.
fn parameters(root: &Value, overrides: &BTreeMap<String, String>) -> Result<BTreeMap<String, Value>, TemplateError> {
    let mut values = BTreeMap::new();
    let declared = root.get("Parameters").and_then(Value::as_object).cloned().unwrap_or_default();
    for (name, declaration) in &declared {
        let kind = declaration.get("Type").and_then(Value::as_str).unwrap_or("String");
        let raw = match (overrides.get(name), declaration.get("Default")) {
            (Some(value), _) => value.clone(),
            (None, Some(Value::String(s))) => s.clone(),
            (None, Some(Value::Number(n))) => n.to_string(),
            (None, Some(Value::Bool(b))) => b.to_string(),
            (None, Some(Value::Array(items))) => items
                .iter()
                .map(|i| i.as_str().map(str::to_owned).unwrap_or_else(|| i.to_string()))
                .collect::<Vec<_>>()
                .join(","),
            _ => return Err(invalid(format!("parameter {name} has no Default; pass it as an override"))),
        };
        if let Some(allowed) = declaration.get("AllowedValues").and_then(Value::as_array)
            && !allowed.iter().any(|a| a.as_str() == Some(raw.as_str()) || *a == raw)
        {
            return Err(invalid(format!("parameter {name}={raw} is not one of its AllowedValues")));
        }
        let value = if kind == "CommaDelimitedList" || kind.starts_with("List<") {
            Value::Array(raw.split(',').map(|s| Value::String(s.trim().to_owned())).collect())
        } else {
            Value::String(raw)
        };
        values.insert(name.clone(), value);
    }
    if let Some(unknown) = overrides.keys().find(|k| !declared.contains_key(*k)) {
        return Err(invalid(format!("parameter override {unknown} is not a parameter of the template")));
    }
    Ok(values)
}

/// SAM's `Globals.Function` under a function's own properties: maps merge, the function's scalars and lists win.
fn merge_globals(globals: &Value, own: Value) -> Value {
    match (globals, own) {
        (Value::Object(g), Value::Object(mut o)) => {
            for (key, gv) in g {
                let merged = match o.remove(key) {
                    Some(ov) => merge_globals(gv, ov),
                    None => gv.clone(),
                };
                o.insert(key.clone(), merged);
            }
            Value::Object(o)
        }
        (_, own) => own,
    }
}

/// Turns YAML (with short tags) into JSON with CloudFormation's long-form intrinsics.
pub fn yaml_to_json(yaml: serde_yaml_ng::Value) -> Value {
    use serde_yaml_ng::Value as Y;
    match yaml {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64().and_then(serde_json::Number::from_f64).map_or(Value::Null, Value::Number)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(yaml_to_json).collect()),
        Y::Mapping(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let key = match yaml_to_json(k) {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (key, yaml_to_json(v))
                })
                .collect(),
        ),
        Y::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!').to_owned();
            let value = yaml_to_json(tagged.value);
            let long = match name.as_str() {
                "Ref" => return single("Ref", value),
                "Condition" => return single("Condition", value),
                "GetAtt" => match value {
                    Value::String(s) => match s.split_once('.') {
                        Some((id, attribute)) => Value::Array(vec![id.into(), attribute.into()]),
                        None => Value::String(s),
                    },
                    other => other,
                },
                _ => value,
            };
            single(&format!("Fn::{name}"), long)
        }
    }
}

fn single(key: &str, value: Value) -> Value {
    let mut map = Map::new();
    map.insert(key.to_owned(), value);
    Value::Object(map)
}

/// Every logical id `value` refers to (`Ref`, `Fn::GetAtt`, `${..}` in `Fn::Sub`).
pub fn references(value: &Value, found: &mut BTreeSet<String>) {
    match value {
        Value::Array(items) => items.iter().for_each(|v| references(v, found)),
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("Ref") {
                found.insert(target.clone());
            }
            if let Some(Value::Array(parts)) = map.get("Fn::GetAtt")
                && let Some(Value::String(id)) = parts.first()
            {
                found.insert(id.clone());
            }
            if let Some(sub) = map.get("Fn::Sub") {
                let text = match sub {
                    Value::String(s) => Some(s.as_str()),
                    Value::Array(parts) => parts.first().and_then(Value::as_str),
                    _ => None,
                };
                for name in text.map(sub_names).unwrap_or_default() {
                    found.insert(name.split('.').next().unwrap_or(&name).to_owned());
                }
            }
            map.values().for_each(|v| references(v, found));
        }
        _ => {}
    }
}

/// The `${Name}` placeholders of a `Fn::Sub` string (not `${!Literal}`).
fn sub_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let name = &after[..end];
        if !name.starts_with('!') {
            names.push(name.trim().to_owned());
        }
        rest = &after[end + 1..];
    }
    names
}

/// Evaluates intrinsic functions against the stack's parameters and the resources known so far.
#[derive(Debug)]
pub struct Resolver<'a> {
    pub template: &'a Template,
    pub stack_name: &'a str,
    pub region: &'a str,
    pub resources: &'a BTreeMap<String, Resource>,
}

impl Resolver<'_> {
    /// Resolves `value`; `None` is `AWS::NoValue` (the key or element disappears).
    pub fn resolve(&self, value: &Value) -> Result<Option<Value>, TemplateError> {
        match value {
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    if let Some(v) = self.resolve(item)? {
                        out.push(v);
                    }
                }
                Ok(Some(Value::Array(out)))
            }
            Value::Object(map) if map.len() == 1 => {
                let (key, argument) = map.iter().next().map(|(k, v)| (k.as_str(), v)).unwrap_or(("", &Value::Null));
                match key {
                    "Ref" => self.reference(argument),
                    "Condition" => {
                        let name = argument.as_str().ok_or_else(|| invalid("Condition takes a name"))?;
                        Ok(Some(Value::Bool(self.condition(name)?)))
                    }
                    k if k.starts_with("Fn::") => self.function(&k[4..], argument),
                    _ => self.object(map),
                }
            }
            Value::Object(map) => self.object(map),
            other => Ok(Some(other.clone())),
        }
    }

    /// Resolves `value` and insists on a result (`AWS::NoValue` is an error here).
    pub fn value(&self, value: &Value) -> Result<Value, TemplateError> {
        Ok(self.resolve(value)?.unwrap_or(Value::Null))
    }

    fn object(&self, map: &Map<String, Value>) -> Result<Option<Value>, TemplateError> {
        let mut out = Map::new();
        for (k, v) in map {
            if let Some(resolved) = self.resolve(v)? {
                out.insert(k.clone(), resolved);
            }
        }
        Ok(Some(Value::Object(out)))
    }

    /// Whether the named condition holds.
    pub fn condition(&self, name: &str) -> Result<bool, TemplateError> {
        let definition =
            self.template.conditions.get(name).ok_or_else(|| invalid(format!("unknown condition {name}")))?;
        self.truth(definition)
    }

    fn truth(&self, value: &Value) -> Result<bool, TemplateError> {
        match self.value(value)? {
            Value::Bool(b) => Ok(b),
            Value::String(s) if s == "true" || s == "false" => Ok(s == "true"),
            other => Err(invalid(format!("a condition evaluated to {other}, not a boolean"))),
        }
    }

    fn reference(&self, argument: &Value) -> Result<Option<Value>, TemplateError> {
        let name = argument.as_str().ok_or_else(|| invalid("Ref takes a name"))?;
        match name {
            "AWS::NoValue" => return Ok(None),
            "AWS::Region" => return Ok(Some(self.region.into())),
            "AWS::AccountId" => return Ok(Some(ACCOUNT_ID.into())),
            "AWS::StackName" => return Ok(Some(self.stack_name.into())),
            "AWS::StackId" => {
                return Ok(Some(
                    format!("arn:aws:cloudformation:{}:{ACCOUNT_ID}:stack/{}/local", self.region, self.stack_name)
                        .into(),
                ));
            }
            "AWS::Partition" => return Ok(Some("aws".into())),
            "AWS::URLSuffix" => return Ok(Some("amazonaws.com".into())),
            "AWS::NotificationARNs" => return Ok(Some(Value::Array(Vec::new()))),
            _ => {}
        }
        if let Some(value) = self.template.parameters.get(name) {
            return Ok(Some(value.clone()));
        }
        match self.resources.get(name) {
            Some(resource) => Ok(Some(Value::String(resource.physical_id.clone()))),
            None => {
                Err(invalid(format!("Ref to {name}, which is neither a parameter nor a resource created before it")))
            }
        }
    }

    fn get_att(&self, id: &str, attribute: &str) -> Result<Value, TemplateError> {
        let resource = self
            .resources
            .get(id)
            .ok_or_else(|| invalid(format!("Fn::GetAtt {id}.{attribute}: no such resource created before it")))?;
        resource.attributes.get(attribute).map(|v| Value::String(v.clone())).ok_or_else(|| {
            invalid(format!("Fn::GetAtt {id}.{attribute}: {} has no attribute {attribute} locally", resource.kind))
        })
    }

    fn function(&self, name: &str, argument: &Value) -> Result<Option<Value>, TemplateError> {
        let list = |expected: usize| -> Result<Vec<Value>, TemplateError> {
            match argument {
                Value::Array(items) if items.len() == expected => Ok(items.clone()),
                _ => Err(invalid(format!("Fn::{name} takes a list of {expected}"))),
            }
        };
        match name {
            "GetAtt" => {
                let parts = match argument {
                    Value::Array(parts) => parts.clone(),
                    Value::String(s) => s.splitn(2, '.').map(|p| Value::String(p.to_owned())).collect(),
                    _ => Vec::new(),
                };
                let id = parts.first().and_then(Value::as_str).ok_or_else(|| invalid("Fn::GetAtt needs a resource"))?;
                let attribute = match parts.get(1) {
                    Some(v) => self.value(v)?.as_str().map(str::to_owned),
                    None => None,
                }
                .ok_or_else(|| invalid("Fn::GetAtt needs an attribute"))?;
                Ok(Some(self.get_att(id, &attribute)?))
            }
            "Sub" => self.sub(argument).map(Some),
            "Join" => {
                let [separator, items] = <[Value; 2]>::try_from(list(2)?).map_err(|_| invalid("Fn::Join"))?;
                let separator = self.value(&separator)?.as_str().unwrap_or_default().to_owned();
                let items = match self.value(&items)? {
                    Value::Array(items) => items,
                    _ => return Err(invalid("Fn::Join takes a list to join")),
                };
                Ok(Some(Value::String(items.iter().map(scalar_text).collect::<Vec<_>>().join(&separator))))
            }
            "Select" => {
                let [index, items] = <[Value; 2]>::try_from(list(2)?).map_err(|_| invalid("Fn::Select"))?;
                let index = scalar_text(&self.value(&index)?)
                    .parse::<usize>()
                    .map_err(|_| invalid("Fn::Select takes a numeric index"))?;
                match self.value(&items)? {
                    Value::Array(items) => {
                        items.get(index).cloned().map(Some).ok_or_else(|| invalid("Fn::Select index out of range"))
                    }
                    _ => Err(invalid("Fn::Select takes a list")),
                }
            }
            "Split" => {
                let [separator, text] = <[Value; 2]>::try_from(list(2)?).map_err(|_| invalid("Fn::Split"))?;
                let separator = scalar_text(&self.value(&separator)?);
                let text = scalar_text(&self.value(&text)?);
                Ok(Some(Value::Array(text.split(separator.as_str()).map(|s| Value::String(s.to_owned())).collect())))
            }
            "FindInMap" => {
                let items = match argument {
                    Value::Array(items) if items.len() >= 3 => items,
                    _ => return Err(invalid("Fn::FindInMap takes [map, key, key]")),
                };
                let mut keys = Vec::new();
                for item in &items[..3] {
                    keys.push(scalar_text(&self.value(item)?));
                }
                let found =
                    self.template.mappings.get(&keys[0]).and_then(|m| m.get(&keys[1])).and_then(|m| m.get(&keys[2]));
                match (found, items.get(3)) {
                    (Some(v), _) => Ok(Some(v.clone())),
                    (None, Some(default)) => self.resolve(default.get("DefaultValue").unwrap_or(default)),
                    (None, None) => Err(invalid(format!("Fn::FindInMap: no {}.{}.{}", keys[0], keys[1], keys[2]))),
                }
            }
            "If" => {
                let [condition, yes, no] = <[Value; 3]>::try_from(list(3)?).map_err(|_| invalid("Fn::If"))?;
                let name = condition.as_str().ok_or_else(|| invalid("Fn::If takes a condition name"))?;
                if self.condition(name)? { self.resolve(&yes) } else { self.resolve(&no) }
            }
            "Equals" => {
                let [a, b] = <[Value; 2]>::try_from(list(2)?).map_err(|_| invalid("Fn::Equals"))?;
                Ok(Some(Value::Bool(scalar_text(&self.value(&a)?) == scalar_text(&self.value(&b)?))))
            }
            "Not" => {
                let [a] = <[Value; 1]>::try_from(list(1)?).map_err(|_| invalid("Fn::Not"))?;
                Ok(Some(Value::Bool(!self.truth(&a)?)))
            }
            "And" | "Or" => {
                let items = argument.as_array().ok_or_else(|| invalid(format!("Fn::{name} takes a list")))?;
                let mut results = Vec::new();
                for item in items {
                    results.push(self.truth(item)?);
                }
                let result = if name == "And" { results.iter().all(|b| *b) } else { results.iter().any(|b| *b) };
                Ok(Some(Value::Bool(result)))
            }
            "Base64" => {
                use base64::Engine;
                let text = scalar_text(&self.value(argument)?);
                Ok(Some(Value::String(base64::engine::general_purpose::STANDARD.encode(text))))
            }
            "GetAZs" => Ok(Some(Value::Array(
                ["a", "b", "c"].iter().map(|z| Value::String(format!("{}{z}", self.region))).collect(),
            ))),
            "ToJsonString" => Ok(Some(Value::String(self.value(argument)?.to_string()))),
            "Length" => match self.value(argument)? {
                Value::Array(items) => Ok(Some(Value::from(items.len()))),
                _ => Err(invalid("Fn::Length takes a list")),
            },
            other => Err(invalid(format!("Fn::{other} is not supported by the local stack"))),
        }
    }

    fn sub(&self, argument: &Value) -> Result<Value, TemplateError> {
        let (text, variables) = match argument {
            Value::String(s) => (s.clone(), Map::new()),
            Value::Array(parts) if !parts.is_empty() => {
                let text = parts[0].as_str().ok_or_else(|| invalid("Fn::Sub takes a string"))?.to_owned();
                let mut variables = Map::new();
                if let Some(Value::Object(vars)) = parts.get(1) {
                    for (k, v) in vars {
                        variables.insert(k.clone(), self.value(v)?);
                    }
                }
                (text, variables)
            }
            _ => return Err(invalid("Fn::Sub takes a string or [string, variables]")),
        };
        let mut out = String::new();
        let mut rest = text.as_str();
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                rest = "";
                break;
            };
            let name = after[..end].trim();
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else if let Some(value) = variables.get(name) {
                out.push_str(&scalar_text(value));
            } else if let Some((id, attribute)) =
                name.split_once('.').filter(|(id, _)| self.resources.contains_key(*id))
            {
                out.push_str(&scalar_text(&self.get_att(id, attribute)?));
            } else {
                let value = self.reference(&Value::String(name.to_owned()))?.unwrap_or(Value::Null);
                out.push_str(&scalar_text(&value));
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(Value::String(out))
    }
}

/// A scalar as CloudFormation would write it into a string.
pub fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Array(items) => items.iter().map(scalar_text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(yaml: &str, overrides: &[(&str, &str)]) -> Template {
        let value = yaml_to_json(serde_yaml_ng::from_str(yaml).unwrap());
        let overrides = overrides.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Template::from_value(value, PathBuf::from("."), &overrides).unwrap()
    }

    const YAML: &str = r#"
Parameters:
  Stage: { Type: String, Default: dev, AllowedValues: [dev, local, prod] }
  Names: { Type: CommaDelimitedList, Default: "a,b" }
Conditions:
  IsLocal: !Equals [!Ref Stage, local]
  NotLocal: !Not [!Condition IsLocal]
Mappings:
  Sizes: { local: { Memory: 128 }, dev: { Memory: 256 } }
Globals:
  Function:
    Timeout: 5
    Environment: { Variables: { SHARED: yes, STAGE: !Ref Stage } }
Resources:
  Queue: { Type: AWS::SQS::Queue, Properties: { RedrivePolicy: { deadLetterTargetArn: !GetAtt Dlq.Arn } } }
  Dlq: { Type: AWS::SQS::Queue }
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Timeout: 9
      Environment: { Variables: { OWN: !Sub "${AWS::StackName}-${Queue}-${Dlq.Arn}-${!Literal}" } }
"#;

    #[test]
    fn short_tags_become_long_form_intrinsics() {
        let value = yaml_to_json(serde_yaml_ng::from_str("a: !GetAtt X.Arn\nb: !Ref Y\nc: !Sub 'x'").unwrap());
        assert_eq!(value["a"], serde_json::json!({"Fn::GetAtt": ["X", "Arn"]}));
        assert_eq!(value["b"], serde_json::json!({"Ref": "Y"}));
        assert_eq!(value["c"], serde_json::json!({"Fn::Sub": "x"}));
    }

    #[test]
    fn globals_merge_under_the_function_and_its_own_values_win() {
        let t = template(YAML, &[]);
        let props = &t.resources["Fn"].properties;
        assert_eq!(props["Timeout"], 9);
        assert_eq!(props["Environment"]["Variables"]["SHARED"], "yes");
        assert!(props["Environment"]["Variables"]["OWN"].is_object());
    }

    #[test]
    fn creation_order_puts_referenced_resources_first() {
        let order = template(YAML, &[]).creation_order().unwrap();
        let position = |id: &str| order.iter().position(|o| o == id).unwrap();
        assert!(position("Dlq") < position("Queue"));
        assert!(position("Queue") < position("Fn"));
    }

    #[test]
    fn conditions_mappings_and_sub_resolve_against_parameters_and_resources() {
        let t = template(YAML, &[("Stage", "local")]);
        let mut resources = BTreeMap::new();
        let mut queue = Resource::new("Queue", "AWS::SQS::Queue", "http://q/s-Queue");
        queue.attributes.insert("Arn".into(), "arn:q".into());
        resources.insert("Queue".into(), queue.clone());
        let mut dlq = queue;
        dlq.attributes.insert("Arn".into(), "arn:dlq".into());
        resources.insert("Dlq".into(), dlq);
        let r = Resolver { template: &t, stack_name: "s", region: "us-east-1", resources: &resources };

        assert!(r.condition("IsLocal").unwrap());
        assert!(!r.condition("NotLocal").unwrap());
        let own = r.value(&t.resources["Fn"].properties["Environment"]["Variables"]["OWN"]).unwrap();
        assert_eq!(own, "s-http://q/s-Queue-arn:dlq-${Literal}");
        let memory = r.value(&serde_json::json!({"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "Memory"]})).unwrap();
        assert_eq!(memory, 128);
        let no_value = r.resolve(&serde_json::json!({"Fn::If": ["IsLocal", {"Ref": "AWS::NoValue"}, 1]})).unwrap();
        assert_eq!(no_value, None);
        let joined = r.value(&serde_json::json!({"Fn::Join": ["-", {"Ref": "Names"}]})).unwrap();
        assert_eq!(joined, "a-b");
    }

    #[test]
    fn an_override_outside_the_allowed_values_is_refused() {
        let value = yaml_to_json(serde_yaml_ng::from_str(YAML).unwrap());
        let overrides = [("Stage".to_string(), "qa".to_string())].into_iter().collect();
        let error = Template::from_value(value, PathBuf::from("."), &overrides).unwrap_err();
        assert!(error.to_string().contains("AllowedValues"), "{error}");
    }
}
