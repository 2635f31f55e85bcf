//! Stripe's webhook events: the `event` envelope (fixtures3 shape) and the `Stripe-Signature`
//! header the sandbox signs each delivery attempt with.

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
    let event_id = new_id("evt_");
    let pending_webhooks = state.endpoints_for(Gateway::Stripe).len();
    let envelope = json!({
        "id": event_id,
        "object": "event",
        "api_version": app.config.stripe_api_version,
        "created": state.now(),
        "data": { "object": object },
        "livemode": false,
        "pending_webhooks": pending_webhooks,
        "request": {
            "id": context.map(|context| context.request_id),
            "idempotency_key": context.and_then(|context| context.idempotency_key),
        },
        "type": event_type,
    });
    state.emit(OutgoingEvent {
        gateway: Gateway::Stripe,
        event_id,
        event_type: event_type.to_owned(),
        body: envelope.to_string(),
    });
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
    fn signs_timestamp_dot_body_as_stripe_documents() {
        // Stripe's scheme: v1 = hex HMAC-SHA256(secret, "{t}.{payload}").
        let header = signature_header("whsec_test", 1492774577, "{\"id\":\"evt_1\"}");
        let expected = hmac_sha256_hex(b"whsec_test", b"1492774577.{\"id\":\"evt_1\"}");
        assert_eq!(header, format!("t=1492774577,v1={expected}"));
        assert_eq!(expected.len(), 64);
    }
}
