//! Validates JSON against component schemas of an OpenAPI 3.0 document, for the contract
//! tests. OpenAPI 3.0 schemas are almost JSON Schema; [`json_schema`] translates the
//! differences, then the `jsonschema` crate validates and reports each violation with its path.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

/// Translates one OpenAPI 3.0 schema into JSON Schema (draft 2020-12):
///
/// - `nullable: true` (OpenAPI's way to admit `null`) becomes `null` in `type`, in `enum`,
///   or an extra `anyOf` branch, whichever the schema uses;
/// - `$ref: #/components/schemas/X` points at `#/$defs/X`, where [`SchemaSet`] keeps them;
/// - `anyOf` (Stripe's expandable fields: an id string or the object) is kept, each branch
///   translated;
/// - `format` (`unix-time`, `decimal`) is dropped: OpenAPI formats are not JSON Schema's;
/// - with `closed`, an object schema that lists its `properties` and says nothing of others
///   gets `additionalProperties: false`, so a field the publisher does not document is reported
///   (a response that invents fields is not the gateway's either).
pub fn json_schema(schema: &Value, closed: bool) -> Value {
    let Some(object) = schema.as_object() else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (key, value) in object {
        match key.as_str() {
            "$ref" => {
                let name = value
                    .as_str()
                    .and_then(|target| target.strip_prefix("#/components/schemas/"))
                    .unwrap_or_default();
                out.insert(key.clone(), json!(format!("#/$defs/{name}")));
            }
            "nullable" | "format" => {}
            "properties" => {
                let properties: Map<String, Value> = value
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(name, sub)| (name.clone(), json_schema(sub, closed)))
                    .collect();
                out.insert(key.clone(), Value::Object(properties));
            }
            "anyOf" | "oneOf" | "allOf" => {
                let branches: Vec<Value> = value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|sub| json_schema(sub, closed))
                    .collect();
                out.insert(key.clone(), Value::Array(branches));
            }
            "items" | "additionalProperties" if value.is_object() => {
                out.insert(key.clone(), json_schema(value, closed));
            }
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    if closed && out.contains_key("properties") && !out.contains_key("additionalProperties") {
        out.insert("additionalProperties".into(), json!(false));
    }
    if object.get("nullable") == Some(&json!(true)) {
        admit_null(&mut out);
    }
    Value::Object(out)
}

/// Makes a translated schema accept `null` as OpenAPI's `nullable` does.
fn admit_null(schema: &mut Map<String, Value>) {
    if let Some(Value::Array(values)) = schema.get_mut("enum") {
        values.push(Value::Null);
    }
    match schema.get_mut("type") {
        Some(Value::String(kind)) => {
            let kind = kind.clone();
            schema.insert("type".into(), json!([kind, "null"]));
        }
        Some(_) => {}
        None => {
            if let Some(Value::Array(branches)) = schema.get_mut("anyOf") {
                branches.push(json!({ "type": "null" }));
            } else {
                // A nullable `$ref` or an untyped schema: either it, or null.
                let inner = Value::Object(std::mem::take(schema));
                schema.insert("anyOf".into(), json!([inner, { "type": "null" }]));
            }
        }
    }
}

/// One validator per component schema of interest, sharing the translated definitions.
pub struct SchemaSet {
    validators: HashMap<String, jsonschema::Validator>,
}

impl SchemaSet {
    /// Compiles validators for `roots`, with every schema of `components` translated by
    /// [`json_schema`] into the shared `$defs`.
    pub fn new(components: &Map<String, Value>, roots: &[&str], closed: bool) -> Self {
        let defs: Map<String, Value> = components
            .iter()
            .map(|(name, schema)| (name.clone(), json_schema(schema, closed)))
            .collect();
        let defs = Value::Object(defs);
        let validators = roots
            .iter()
            .map(|root| {
                let schema = json!({ "$ref": format!("#/$defs/{root}"), "$defs": defs });
                let validator = jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft202012)
                    .build(&schema)
                    .unwrap_or_else(|error| panic!("schema {root} does not compile: {error}"));
                ((*root).to_owned(), validator)
            })
            .collect();
        Self { validators }
    }

    /// Whether a validator exists for `name`.
    pub fn knows(&self, name: &str) -> bool {
        self.validators.contains_key(name)
    }

    /// Every violation of `instance` against the schema `name`, as `path: message` lines.
    pub fn violations(&self, name: &str, instance: &Value) -> Vec<String> {
        let Some(validator) = self.validators.get(name) else {
            return vec![format!("no schema named {name}")];
        };
        validator
            .iter_errors(instance)
            .map(|error| {
                let path = error.instance_path().to_string();
                let path = if path.is_empty() {
                    "/".to_owned()
                } else {
                    path
                };
                format!("{path}: {}", shorten(&error.to_string()))
            })
            .collect()
    }
}

/// Keeps a violation readable: the message quotes the whole failing value, which for a
/// nested object is kilobytes.
fn shorten(message: &str) -> String {
    const LIMIT: usize = 300;
    if message.chars().count() <= LIMIT {
        return message.to_owned();
    }
    let head: String = message.chars().take(LIMIT).collect();
    format!("{head}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nullable_becomes_a_null_type_an_enum_value_or_a_branch() {
        assert_eq!(
            json_schema(&json!({"type": "string", "nullable": true}), false),
            json!({"type": ["string", "null"]})
        );
        assert_eq!(
            json_schema(
                &json!({"type": "string", "enum": ["a"], "nullable": true}),
                false
            ),
            json!({"type": ["string", "null"], "enum": ["a", null]})
        );
        assert_eq!(
            json_schema(
                &json!({"anyOf": [{"$ref": "#/components/schemas/x"}], "nullable": true}),
                false
            ),
            json!({"anyOf": [{"$ref": "#/$defs/x"}, {"type": "null"}]})
        );
    }

    #[test]
    fn closed_objects_refuse_undocumented_fields() {
        let schema = json!({"type": "object", "properties": {"a": {"type": "integer"}}});
        assert_eq!(
            json_schema(&schema, true)["additionalProperties"],
            json!(false)
        );
        let metadata = json!({"type": "object", "additionalProperties": {"type": "string"}});
        assert_eq!(json_schema(&metadata, true), metadata);
    }
}
