//! Merging the OpenAPI documents of every API function into the one document the local stack serves.

use serde_json::{Map, Value, json};

/// Two functions describe the same thing differently.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("OpenAPI documents conflict: {0}")]
pub struct MergeConflict(pub String);

/// Merges `documents` (function logical id, document): paths and operations, components and tags. The same
/// operation (path and method) in two documents, or one component name with two different definitions, is a
/// conflict; identical duplicates (a shared `Problem` schema) are fine.
pub fn merge(title: &str, documents: &[(String, Value)]) -> Result<Value, MergeConflict> {
    let mut paths = Map::new();
    let mut components: Map<String, Value> = Map::new();
    let mut tags: Vec<Value> = Vec::new();
    let mut owners: Map<String, Value> = Map::new();
    for (function, document) in documents {
        for (path, item) in document.get("paths").and_then(Value::as_object).into_iter().flatten() {
            let Some(merged) = paths.entry(path.clone()).or_insert_with(|| Value::Object(Map::new())).as_object_mut()
            else {
                continue;
            };
            for (method, operation) in item.as_object().into_iter().flatten() {
                let key = format!("{} {path}", method.to_uppercase());
                if merged.get(method).is_some_and(|existing| existing != operation) {
                    let first = owners.get(&key).and_then(Value::as_str).unwrap_or("another function");
                    return Err(MergeConflict(format!("{key} is described by both {first} and {function}")));
                }
                owners.insert(key, Value::String(function.clone()));
                merged.insert(method.clone(), operation.clone());
            }
        }
        for (section, entries) in document.get("components").and_then(Value::as_object).into_iter().flatten() {
            let merged = components.entry(section.clone()).or_insert_with(|| Value::Object(Map::new()));
            for (name, definition) in entries.as_object().into_iter().flatten() {
                match merged.get(name) {
                    Some(existing) if existing != definition => {
                        return Err(MergeConflict(format!(
                            "components.{section}.{name} differs between {function} and an earlier function"
                        )));
                    }
                    _ => {
                        if let Some(map) = merged.as_object_mut() {
                            map.insert(name.clone(), definition.clone());
                        }
                    }
                }
            }
        }
        for tag in document.get("tags").and_then(Value::as_array).into_iter().flatten() {
            let name = tag.get("name");
            match tags.iter().find(|t| t.get("name") == name) {
                Some(existing) if existing != tag => {
                    return Err(MergeConflict(format!(
                        "tag {} differs between functions",
                        name.unwrap_or(&Value::Null)
                    )));
                }
                Some(_) => {}
                None => tags.push(tag.clone()),
            }
        }
    }
    let mut merged = json!({
        "openapi": "3.1.0",
        "info": { "title": title, "version": "local" },
        "paths": paths,
    });
    if !components.is_empty() {
        merged["components"] = Value::Object(components);
    }
    if !tags.is_empty() {
        merged["tags"] = Value::Array(tags);
    }
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(path: &str, description: &str) -> Value {
        json!({
            "openapi": "3.1.0",
            "paths": { path: { "get": { "responses": { "200": { "description": description } } } } },
            "components": { "schemas": { "Problem": { "type": "object" } } },
            "tags": [{ "name": "health" }],
        })
    }

    #[test]
    fn documents_merge_paths_components_and_tags() {
        let merged = merge("api", &[("A".into(), doc("/a", "ok")), ("B".into(), doc("/b", "ok"))]).unwrap();
        assert!(merged["paths"]["/a"]["get"].is_object() && merged["paths"]["/b"]["get"].is_object());
        assert_eq!(merged["components"]["schemas"]["Problem"]["type"], "object");
        assert_eq!(merged["tags"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn the_same_operation_described_twice_differently_is_a_conflict() {
        let error = merge("api", &[("A".into(), doc("/a", "ok")), ("B".into(), doc("/a", "other"))]).unwrap_err();
        assert!(error.0.contains("GET /a") && error.0.contains('A') && error.0.contains('B'), "{error}");
    }

    #[test]
    fn a_component_with_two_definitions_is_a_conflict() {
        let mut other = doc("/b", "ok");
        other["components"]["schemas"]["Problem"] = json!({ "type": "string" });
        assert!(merge("api", &[("A".into(), doc("/a", "ok")), ("B".into(), other)]).is_err());
    }
}
