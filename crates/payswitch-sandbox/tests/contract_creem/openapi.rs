//! Creem's published OpenAPI 3.0 document as JSON Schema validators: where the document is
//! found, the two OpenAPI 3.0 specifics translated (`nullable`, `$ref` to components), the
//! response schema of each operation, and the few schemas Creem documents outside the OAS.

use std::collections::HashMap;
use std::path::PathBuf;

use jsonschema::{Draft, Validator};
use serde_json::{json, Map, Value};

/// Where the OAS is: `PAYSWITCH_CREEM_OPENAPI`, else the copy committed beside the Stripe
/// cut (`tests/contract/creem-openapi.json`, Creem's published document as its SDK repository
/// carries it), so the test runs on any clone.
pub fn spec_path() -> PathBuf {
    std::env::var_os("PAYSWITCH_CREEM_OPENAPI")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/contract/creem-openapi.json")
        })
}

/// Rewrites one OpenAPI 3.0 schema as JSON Schema (draft 2020-12):
/// - `$ref: #/components/schemas/X` points at `#/$defs/X`, where the components are put;
/// - `nullable: true` (an OpenAPI 3.0 keyword JSON Schema lacks) admits `null`: added to
///   `type` and `enum` when the schema has them, otherwise (a `$ref` or `allOf`) the schema
///   becomes `anyOf: [null, schema]`.
///
/// Everything else (`example`, `description`, `format`, …) is the same in both languages.
pub fn translate(schema: &Value) -> Value {
    match schema {
        Value::Array(items) => Value::Array(items.iter().map(translate).collect()),
        Value::Object(fields) => {
            let nullable = fields.get("nullable") == Some(&Value::Bool(true));
            let mut out = Map::new();
            for (key, value) in fields {
                match (key.as_str(), value) {
                    ("nullable", _) => {}
                    ("$ref", Value::String(target)) => {
                        let name = target.trim_start_matches("#/components/schemas/");
                        out.insert(key.clone(), json!(format!("#/$defs/{name}")));
                    }
                    _ => {
                        out.insert(key.clone(), translate(value));
                    }
                }
            }
            if !nullable {
                return Value::Object(out);
            }
            match out.get("type").cloned() {
                Some(Value::String(kind)) => {
                    out.insert("type".into(), json!([kind, "null"]));
                    if let Some(Value::Array(allowed)) = out.get_mut("enum") {
                        allowed.push(Value::Null);
                    }
                    Value::Object(out)
                }
                _ => json!({ "anyOf": [{ "type": "null" }, Value::Object(out)] }),
            }
        }
        other => other.clone(),
    }
}

/// Schemas Creem documents outside its OAS, and the one gap the OAS has, each with its source.
fn documented_elsewhere(defs: &mut Map<String, Value>) {
    // `past_due` is missing from the OAS enum; Creem's `subscription.past_due` sample carries
    // it (docs.creem.io/code/webhooks) and the official SDK's enum (creem 1.13.0) has it.
    if let Some(Value::Array(allowed)) = defs
        .get_mut("SubscriptionStatus")
        .and_then(|status| status.get_mut("enum"))
    {
        allowed.push(json!("past_due"));
    }
    // The error body of docs.creem.io/api-reference/error-codes.
    defs.insert(
        "ErrorResponse".into(),
        json!({
            "type": "object",
            "required": ["trace_id", "status", "error", "timestamp"],
            "properties": {
                "trace_id": { "type": "string" },
                "status": { "type": "integer" },
                "error": { "type": "string" },
                "message": { "type": "array", "items": { "type": "string" } },
                "timestamp": { "type": "integer" },
            },
        }),
    );
    // `POST /v1/refunds` answers `RefundResponseEntity` (docs.creem.io/api-reference/endpoint/
    // refund-payment); the OAS in the reference folder predates the endpoint.
    defs.insert(
        "RefundResponseEntity".into(),
        json!({
            "type": "object",
            "required": ["status"],
            "properties": {
                "status": { "enum": ["pending", "requiresAction", "succeeded", "failed", "canceled"] },
            },
        }),
    );
    // The refund of `refund.created` (docs.creem.io/code/webhooks), built on the OAS entities.
    defs.insert(
        "RefundEntity".into(),
        json!({
            "type": "object",
            "required": ["id", "mode", "object", "status", "refund_amount", "refund_currency",
                         "reason", "transaction", "created_at"],
            "properties": {
                "id": { "type": "string", "pattern": "^ref_" },
                "mode": { "$ref": "#/$defs/EnvironmentMode" },
                "object": { "const": "refund" },
                "status": { "enum": ["pending", "succeeded", "canceled", "failed"] },
                "refund_amount": { "type": "integer" },
                "refund_currency": { "type": "string" },
                "reason": { "enum": ["duplicate", "fraudulent", "requested_by_customer", "other"] },
                "transaction": { "$ref": "#/$defs/TransactionEntity" },
                "checkout": { "oneOf": [{ "type": "string" }, { "$ref": "#/$defs/CheckoutEntity" }] },
                "order": { "oneOf": [{ "type": "string" }, { "$ref": "#/$defs/OrderEntity" }] },
                "subscription": { "oneOf": [{ "type": "string" }, { "$ref": "#/$defs/SubscriptionEntity" }] },
                "customer": { "oneOf": [{ "type": "string" }, { "$ref": "#/$defs/CustomerEntity" }] },
                "created_at": { "type": "integer" },
            },
        }),
    );
    // The event envelope of docs.creem.io/code/webhooks.
    defs.insert(
        "WebhookEvent".into(),
        json!({
            "type": "object",
            "required": ["id", "eventType", "created_at", "object"],
            "properties": {
                "id": { "type": "string", "pattern": "^evt_" },
                "eventType": { "type": "string" },
                "created_at": { "type": "integer" },
                "object": { "type": "object" },
            },
        }),
    );
}

/// Creem's OAS, translated, with a validator per schema name.
pub struct Contract {
    spec: Value,
    defs: Value,
    validators: HashMap<String, Validator>,
}

impl Contract {
    /// Reads and translates the OAS.
    pub fn load(text: &str) -> Self {
        let spec: Value = serde_json::from_str(text).expect("the OAS is JSON");
        let mut defs = match translate(&spec["components"]["schemas"]) {
            Value::Object(defs) => defs,
            _ => panic!("the OAS has components.schemas"),
        };
        documented_elsewhere(&mut defs);
        Self {
            spec,
            defs: Value::Object(defs),
            validators: HashMap::new(),
        }
    }

    /// The schema name an operation answers `status` with: from the OAS's `paths` (its
    /// templates matched against `path`), `ErrorResponse` for an error, and the two
    /// operations the OAS lacks.
    pub fn response_schema(&self, method: &str, path: &str, status: u16) -> String {
        if status >= 400 {
            return "ErrorResponse".into();
        }
        match (method, path) {
            ("post", "/v1/refunds") => return "RefundResponseEntity".into(),
            // The SDK's `GET /v1/products/{id}` (newer than this OAS) answers a product.
            ("get", _) if path.starts_with("/v1/products/") && path != "/v1/products/search" => {
                return "ProductEntity".into()
            }
            _ => {}
        }
        let paths = self.spec["paths"].as_object().expect("paths");
        let operation = paths
            .iter()
            .filter(|(template, _)| template_matches(template, path))
            // A literal segment (`/search`) wins over a parameter (`/{id}`).
            .min_by_key(|(template, _)| template.matches('{').count())
            .map(|(_, operations)| &operations[method])
            .unwrap_or_else(|| panic!("no OAS operation for {method} {path}"));
        let reference = operation["responses"][status.to_string()]["content"]["application/json"]
            ["schema"]["$ref"]
            .as_str()
            .unwrap_or_else(|| panic!("no {status} schema for {method} {path}"));
        reference
            .trim_start_matches("#/components/schemas/")
            .to_owned()
    }

    /// Validates `instance` against the named schema; returns one line per violation.
    pub fn violations(&mut self, name: &str, instance: &Value) -> Vec<String> {
        let defs = self.defs.clone();
        let validator = self.validators.entry(name.to_owned()).or_insert_with(|| {
            let root = json!({ "$defs": defs, "$ref": format!("#/$defs/{name}") });
            jsonschema::options()
                .with_draft(Draft::Draft202012)
                .should_validate_formats(true)
                .build(&root)
                .unwrap_or_else(|error| panic!("schema {name}: {error}"))
        });
        validator
            .iter_errors(instance)
            .map(|error| format!("{name} at {}: {error}", error.instance_path()))
            .collect()
    }
}

/// Whether an OAS path template (`/v1/customers/{id}/orders`) matches a concrete path.
fn template_matches(template: &str, path: &str) -> bool {
    let template: Vec<&str> = template.split('/').collect();
    let path: Vec<&str> = path.split('/').collect();
    template.len() == path.len()
        && template
            .iter()
            .zip(&path)
            .all(|(expected, actual)| expected.starts_with('{') || expected == actual)
}

#[test]
fn nullable_and_refs_translate() {
    let translated = translate(&json!({
        "properties": {
            "a": { "type": "string", "nullable": true, "enum": ["x"] },
            "b": { "nullable": true, "allOf": [{ "$ref": "#/components/schemas/B" }] },
            "c": { "$ref": "#/components/schemas/C" },
        }
    }));
    assert_eq!(
        translated,
        json!({
            "properties": {
                "a": { "type": ["string", "null"], "enum": ["x", null] },
                "b": { "anyOf": [{ "type": "null" }, { "allOf": [{ "$ref": "#/$defs/B" }] }] },
                "c": { "$ref": "#/$defs/C" },
            }
        })
    );
    assert!(template_matches(
        "/v1/customers/{id}/orders",
        "/v1/customers/cust_1/orders"
    ));
    assert!(!template_matches(
        "/v1/customers/{id}/orders",
        "/v1/customers/list"
    ));
}
