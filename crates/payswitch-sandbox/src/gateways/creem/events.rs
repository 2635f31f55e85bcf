//! Creem's webhook events: the `checkout.completed` envelope and the `creem-signature` header.

use serde_json::{json, Value};

use crate::app::App;
use crate::signature::hmac_sha256_hex;
use crate::state::{new_id, Gateway, OutgoingEvent, State};

/// Queues `checkout.completed` with the expanded checkout as its `object`.
pub(crate) fn emit_checkout_completed(state: &mut State, object: Value, now: i64) {
    let event_id = new_id("evt_");
    let envelope = json!({
        "id": event_id,
        "eventType": "checkout.completed",
        "created_at": now.saturating_mul(1000),
        "object": object,
    });
    state.emit(OutgoingEvent {
        gateway: Gateway::Creem,
        event_id,
        event_type: "checkout.completed".to_owned(),
        body: envelope.to_string(),
    });
}

/// Builds the headers of one delivery attempt: `creem-signature` is the lowercase hex
/// HMAC-SHA256 of the raw body keyed with the webhook secret.
pub(crate) fn signature_headers(app: &App, body: &str) -> Vec<(String, String)> {
    vec![
        ("content-type".into(), "application/json".into()),
        (
            "creem-signature".into(),
            hmac_sha256_hex(app.config.creem_webhook_secret.as_bytes(), body.as_bytes()),
        ),
    ]
}
