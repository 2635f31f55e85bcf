//! Creem's webhook events: the `{id, eventType, created_at, object}` envelope, the event types
//! the sandbox sends, and the `creem-signature` header.

use serde_json::{json, Value};

use crate::app::App;
use crate::signature::hmac_sha256_hex;
use crate::state::{new_id, Gateway, OutgoingEvent, State};

/// The Creem event types the sandbox sends, named as in Creem's webhook docs
/// (docs.creem.io/code/webhooks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventType {
    CheckoutCompleted,
    SubscriptionActive,
    SubscriptionTrialing,
    SubscriptionPaid,
    SubscriptionCanceled,
    SubscriptionScheduledCancel,
    SubscriptionPaused,
    SubscriptionUpdate,
    SubscriptionPastDue,
    SubscriptionExpired,
    RefundCreated,
}

impl EventType {
    /// The `eventType` value.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            EventType::CheckoutCompleted => "checkout.completed",
            EventType::SubscriptionActive => "subscription.active",
            EventType::SubscriptionTrialing => "subscription.trialing",
            EventType::SubscriptionPaid => "subscription.paid",
            EventType::SubscriptionCanceled => "subscription.canceled",
            EventType::SubscriptionScheduledCancel => "subscription.scheduled_cancel",
            EventType::SubscriptionPaused => "subscription.paused",
            EventType::SubscriptionUpdate => "subscription.update",
            EventType::SubscriptionPastDue => "subscription.past_due",
            EventType::SubscriptionExpired => "subscription.expired",
            EventType::RefundCreated => "refund.created",
        }
    }
}

/// Queues one event with `object` as its payload, happening now on the sandbox clock.
pub(crate) fn emit(state: &mut State, event_type: EventType, object: Value) {
    let now = state.now();
    emit_at(state, event_type, object, now);
}

/// Queues one event that happened at `at` (Unix seconds): a renewal, retry or scheduled
/// cancellation the clock caught up with is stamped with the time it was due, not the time the
/// clock was moved to. `created_at` (epoch ms) is also after the previous event's, so sorting by
/// it gives the order the events were sent in (deliveries run concurrently and may arrive in
/// any order, as Creem's do).
pub(crate) fn emit_at(state: &mut State, event_type: EventType, object: Value, at: i64) {
    let at_ms = at.saturating_mul(1000);
    let created_at = at_ms.max(state.creem.last_event_ms.saturating_add(1));
    state.creem.last_event_ms = created_at;
    let event_id = new_id("evt_");
    let envelope = json!({
        "id": event_id,
        "eventType": event_type.as_str(),
        "created_at": created_at,
        "object": object,
    });
    state.emit(OutgoingEvent {
        gateway: Gateway::Creem,
        event_id,
        event_type: event_type.as_str().to_owned(),
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
