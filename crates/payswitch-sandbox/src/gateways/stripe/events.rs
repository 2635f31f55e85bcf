//! Stripe's webhook events: the `event` envelope (fixtures3 shape, with
//! `data.previous_attributes` on `*.updated` events) and the `Stripe-Signature` header the
//! sandbox signs each delivery attempt with.

use serde_json::{json, Value};

use crate::app::App;
use crate::gateways::stripe::params::CallContext;
use crate::signature::hmac_sha256_hex;
use crate::state::{new_id, wall_clock_seconds, Gateway, OutgoingEvent, State};

/// Queues a Stripe event with the `event` envelope of fixtures3.
pub(crate) fn emit_event(
    app: &App,
    state: &mut State,
    event_type: &str,
    object: Value,
    context: Option<&CallContext<'_>>,
) {
    let version = app.config.stripe_api_version.as_str();
    queue(
        version,
        state,
        event_type,
        json!({ "object": object }),
        context,
    );
}

/// Queues a `*.updated` event: `data.previous_attributes` holds the old values of the fields
/// that changed, as Stripe sends them.
pub(crate) fn emit_update_event(
    app: &App,
    state: &mut State,
    event_type: &str,
    object: Value,
    previous_attributes: Value,
    context: Option<&CallContext<'_>>,
) {
    let version = app.config.stripe_api_version.as_str();
    emit_update_event_as(
        version,
        state,
        event_type,
        object,
        previous_attributes,
        context,
    );
}

/// Queues a `*.updated` event rendered for `api_version`, for callers that hold the state but
/// not the running sandbox (the portal page records the account's version on its session).
pub(crate) fn emit_update_event_as(
    api_version: &str,
    state: &mut State,
    event_type: &str,
    object: Value,
    previous_attributes: Value,
    context: Option<&CallContext<'_>>,
) {
    let data = json!({ "object": object, "previous_attributes": previous_attributes });
    queue(api_version, state, event_type, data, context);
}

fn queue(
    api_version: &str,
    state: &mut State,
    event_type: &str,
    data: Value,
    context: Option<&CallContext<'_>>,
) {
    let event_id = new_id("evt_");
    let pending_webhooks = state.endpoints_for(Gateway::Stripe).len();
    let envelope = json!({
        "id": event_id,
        "object": "event",
        "api_version": api_version,
        "created": state.now(),
        "data": data,
        "livemode": false,
        "pending_webhooks": pending_webhooks,
        "request": {
            "id": context.map(|context| context.request_id),
            "idempotency_key": context.and_then(|context| context.idempotency_key),
        },
        "type": event_type,
    });
    let body = envelope.to_string();
    state.stripe.events.insert(event_id.clone(), envelope);
    state.emit(OutgoingEvent {
        gateway: Gateway::Stripe,
        event_id,
        event_type: event_type.to_owned(),
        body,
    });
}

/// Returns the old values of the top-level fields that differ between two renderings of an
/// object, for `data.previous_attributes`. `metadata` lists only the keys that changed, with
/// `null` for a key that was added, as Stripe does for hashes.
pub(crate) fn previous_attributes(before: &Value, after: &Value) -> Value {
    let mut changed = serde_json::Map::new();
    if let (Some(before), Some(after)) = (before.as_object(), after.as_object()) {
        for (key, old) in before {
            let new = after.get(key).unwrap_or(&Value::Null);
            if new == old {
                continue;
            }
            let value = match (key.as_str(), old.as_object(), new.as_object()) {
                ("metadata", Some(old), Some(new)) => {
                    let mut keys = serde_json::Map::new();
                    for (name, value) in old {
                        if new.get(name) != Some(value) {
                            keys.insert(name.clone(), value.clone());
                        }
                    }
                    for name in new.keys() {
                        if !old.contains_key(name) {
                            keys.insert(name.clone(), Value::Null);
                        }
                    }
                    Value::Object(keys)
                }
                _ => old.clone(),
            };
            changed.insert(key.clone(), value);
        }
    }
    Value::Object(changed)
}

/// Builds the headers of one delivery attempt. Stripe signs `"{t}.{body}"` with the whole
/// `whsec_` secret and uses the real wall clock for `t`, so receivers' tolerance checks pass
/// even after the sandbox clock was advanced.
///
/// The signature is independent of the adapters on purpose (STYLE #9): a bug shared by the
/// signer and the verifier would otherwise pass every test.
pub(crate) fn signature_headers(app: &App, body: &str) -> Vec<(String, String)> {
    let timestamp = wall_clock_seconds();
    vec![
        (
            "content-type".into(),
            "application/json; charset=utf-8".into(),
        ),
        (
            "user-agent".into(),
            "Stripe/1.0 (+https://stripe.com/docs/webhooks)".into(),
        ),
        (
            "stripe-signature".into(),
            signature_header(&app.config.stripe_webhook_secret, timestamp, body),
        ),
    ]
}

/// Returns the `Stripe-Signature` value `t={timestamp},v1={hex HMAC-SHA256 of "t.body"}`.
fn signature_header(secret: &str, timestamp: i64, body: &str) -> String {
    let signed = format!("{timestamp}.{body}");
    let signature = hmac_sha256_hex(secret.as_bytes(), signed.as_bytes());
    format!("t={timestamp},v1={signature}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previous_attributes_hold_the_old_values_of_changed_fields() {
        let before = json!({ "id": "sub_1", "status": "active", "cancel_at_period_end": false });
        let after = json!({ "id": "sub_1", "status": "active", "cancel_at_period_end": true });
        assert_eq!(
            previous_attributes(&before, &after),
            json!({ "cancel_at_period_end": false })
        );
        assert_eq!(previous_attributes(&before, &before), json!({}));
        let before = json!({ "metadata": { "a": "1", "b": "2" } });
        let after = json!({ "metadata": { "a": "1", "b": "3", "c": "4" } });
        assert_eq!(
            previous_attributes(&before, &after),
            json!({ "metadata": { "b": "2", "c": null } })
        );
    }

    #[test]
    fn signs_timestamp_dot_body_as_stripe_documents() {
        // Stripe's scheme: v1 = hex HMAC-SHA256(secret, "{t}.{payload}").
        let header = signature_header("whsec_test", 1492774577, "{\"id\":\"evt_1\"}");
        let expected = hmac_sha256_hex(b"whsec_test", b"1492774577.{\"id\":\"evt_1\"}");
        assert_eq!(header, format!("t=1492774577,v1={expected}"));
        assert_eq!(expected.len(), 64);
    }
}
