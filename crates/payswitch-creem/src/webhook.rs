//! `creem-signature` webhooks: verified over the raw body, then normalized.
//!
//! Creem signs `hex(HMAC-SHA256(webhook secret, raw body))` and no header timestamp. The body's
//! `created_at` is signed with it, so an opt-in maximum age (`webhook_max_age`) refuses old
//! deliveries after the MAC; deduplicating on the event id (`evt_…`) stays the replay defence
//! either way, and Creem redelivers, so handlers must be idempotent.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;
use payswitch_core::adapter::check_webhook_body;
use payswitch_core::adapter::signature::matches_any;
use payswitch_core::{
    CheckoutResult, PaymentError, RawJson, Secret, SignatureError, WebhookEvent, WebhookEventKind,
};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::config::KIND;
use crate::convert;
use crate::convert::billing;
use crate::wire;

/// The header that carries the webhook signature (matched in any letter case).
pub const SIGNATURE_HEADER: &str = "creem-signature";

/// How far apart a subscription's creation and its current period's start may be for a
/// `subscription.paid` to count as the first payment. Creem's own sample of a first payment
/// has the period start 7 s before the creation; Creem's shortest billing period is a month,
/// so a renewal's period starts at least 28 days after the creation.
const FIRST_PERIOD_SLACK: time::Duration = time::Duration::days(1);

/// What `verify_webhook` checks besides the signature.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WebhookPolicy {
    /// Refuse events whose signed `created_at` is older than this (opt-in).
    pub(crate) max_age: Option<Duration>,
    /// The time the age is measured against.
    pub(crate) now: OffsetDateTime,
}

/// Checks the size, the signature against every configured secret (rotation) and the
/// optional maximum age, then decodes the event.
pub(crate) fn verify_webhook(
    secrets: &[Secret],
    policy: WebhookPolicy,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<WebhookEvent, PaymentError> {
    check_webhook_body(body)?;
    verify_signature(secrets, headers, body)?;
    let event = decode_event(body)?;
    check_age(&event, policy)?;
    Ok(event)
}

fn verify_signature(
    secrets: &[Secret],
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), SignatureError> {
    // The header first: without it this is not a Creem delivery at all, whatever the secrets
    // (a router asks every gateway and must get `Missing` from the wrong one).
    let header = headers
        .get(SIGNATURE_HEADER)
        .ok_or(SignatureError::Missing("creem-signature header".into()))?
        .to_str()
        .map_err(|_| SignatureError::Malformed("the creem-signature header is not ASCII".into()))?
        .trim();
    if header.is_empty() {
        return Err(SignatureError::Missing("creem-signature header".into()));
    }
    if secrets.is_empty() {
        return Err(SignatureError::NoSecret);
    }
    if header.len() != 64 && hex::decode(header).is_ok() {
        return Err(SignatureError::Malformed(format!(
            "creem-signature has {} bytes, an HMAC-SHA256 has 32",
            header.len() / 2
        )));
    }
    let mut signature = [0u8; 32];
    hex::decode_to_slice(header, &mut signature).map_err(|_| {
        SignatureError::Malformed("creem-signature is not a hex HMAC-SHA256".into())
    })?;
    // Constant time, against every configured secret (rotation).
    if matches_any(secrets, &[body], &[&signature]) {
        return Ok(());
    }
    Err(SignatureError::Mismatch)
}

/// Refuses an event whose signed `created_at` is older than the configured maximum age.
/// Future timestamps pass (one-sided, as Stripe's SDKs do).
fn check_age(event: &WebhookEvent, policy: WebhookPolicy) -> Result<(), SignatureError> {
    let Some(max_age) = policy.max_age else {
        return Ok(());
    };
    let age = policy.now - event.created_at;
    if age.is_positive() && age.unsigned_abs() > max_age {
        return Err(SignatureError::Expired {
            age_secs: age.whole_seconds(),
            tolerance_secs: max_age.as_secs(),
        });
    }
    Ok(())
}

/// Decodes a verified body into a normalized event.
///
/// Only the envelope (`id`, `eventType`, `created_at`) must decode. A nested object that does
/// not (a changed shape, a new field type) leaves `checkout`, `subscription` or `refund` as
/// `None` with `raw` kept, so a verified event is never refused whole and redelivered for a
/// day.
fn decode_event(body: &[u8]) -> Result<WebhookEvent, PaymentError> {
    let raw: serde_json::Value = serde_json::from_slice(body)
        .map_err(|error| convert::decode_error("creem webhook", error))?;
    let envelope = wire::WebhookEnvelope::deserialize(&raw)
        .map_err(|error| convert::decode_error("creem webhook", error))?;
    let root = Arc::new(raw);
    let created_at = epoch_millis(envelope.created_at.0)?;
    let kind = kind(&envelope.event_type, &root["object"]);
    let mut event = WebhookEvent::new(
        &envelope.id,
        KIND,
        kind,
        envelope.event_type.as_str(),
        created_at,
    );
    match &envelope.event_type {
        wire::EventType::CheckoutCompleted => {
            event.checkout = nested(convert::checkout_at(&root, "/object"), "checkout");
            // A subscription checkout carries its subscription, expanded or as an id.
            if root["object"]["subscription"].is_object() {
                event.subscription = nested(
                    billing::subscription_at(&root, "/object/subscription"),
                    "subscription",
                );
            }
        }
        wire::EventType::RefundCreated => {
            event.refund = nested(billing::refund_at(&root, "/object"), "refund");
            event.checkout = attached_checkout(&root);
        }
        wire::EventType::DisputeCreated => event.checkout = attached_checkout(&root),
        wire::EventType::SubscriptionActive
        | wire::EventType::SubscriptionPaid
        | wire::EventType::SubscriptionCanceled
        | wire::EventType::SubscriptionScheduledCancel
        | wire::EventType::SubscriptionPastDue
        | wire::EventType::SubscriptionExpired
        | wire::EventType::SubscriptionTrialing
        | wire::EventType::SubscriptionPaused
        | wire::EventType::SubscriptionUpdate
        | wire::EventType::SubscriptionUnpaid => {
            event.subscription = nested(billing::subscription_at(&root, "/object"), "subscription");
        }
        wire::EventType::Unknown(_) => {}
    }
    event.raw = RawJson::shared(&root);
    Ok(event)
}

/// The checkout a refund or dispute carries, when it carries one as an object.
fn attached_checkout(root: &Arc<serde_json::Value>) -> Option<CheckoutResult> {
    if root["object"]["checkout"].is_object() {
        nested(convert::checkout_at(root, "/object/checkout"), "checkout")
    } else {
        None
    }
}

/// A nested object, or `None` (logged) when it does not decode.
fn nested<T>(decoded: Result<T, PaymentError>, what: &'static str) -> Option<T> {
    match decoded {
        Ok(value) => Some(value),
        Err(error) => {
            tracing::warn!(
                error = ?error,
                object = what,
                "a verified Creem webhook carries an object that does not decode; `raw` keeps it"
            );
            None
        }
    }
}

/// Creem's event types in payswitch's vocabulary; the rest keep their own name in `Other`.
fn kind(event_type: &wire::EventType, object: &serde_json::Value) -> WebhookEventKind {
    match event_type {
        wire::EventType::CheckoutCompleted => WebhookEventKind::CheckoutCompleted,
        // Creem recommends `subscription.paid`, not `.active`, for granting access.
        wire::EventType::SubscriptionActive => WebhookEventKind::SubscriptionActive,
        wire::EventType::SubscriptionPaid => paid_kind(object),
        wire::EventType::SubscriptionCanceled => WebhookEventKind::SubscriptionCanceled,
        // Creem: payment retries may follow `expired`; only `canceled` is terminal.
        wire::EventType::SubscriptionExpired => WebhookEventKind::SubscriptionExpired,
        // Access continues until the period ends.
        wire::EventType::SubscriptionScheduledCancel => {
            WebhookEventKind::SubscriptionCancelScheduled
        }
        wire::EventType::RefundCreated => WebhookEventKind::Refunded,
        wire::EventType::DisputeCreated => WebhookEventKind::Disputed,
        wire::EventType::SubscriptionTrialing => WebhookEventKind::SubscriptionTrialing,
        // `unpaid` follows failed retries; both mean the last payment did not go through.
        wire::EventType::SubscriptionPastDue | wire::EventType::SubscriptionUnpaid => {
            WebhookEventKind::SubscriptionPastDue
        }
        wire::EventType::SubscriptionPaused => WebhookEventKind::SubscriptionPaused,
        wire::EventType::SubscriptionUpdate => WebhookEventKind::SubscriptionUpdated,
        wire::EventType::Unknown(other) => WebhookEventKind::Other(other.clone()),
    }
}

/// `subscription.paid` for the first period (`SubscriptionStarted`) or a later one
/// (`SubscriptionRenewed`).
///
/// Creem's payload has no billing reason; the subscription's `current_period_start_date` is
/// its `created_at` (within [`FIRST_PERIOD_SLACK`]) only while the first period is being paid.
/// When either date is absent or unreadable the payment is reported as a renewal: `Started`
/// is claimed only when the payload shows it. After a free trial the first charge opens a
/// period that starts at the trial's end, so it is reported as `SubscriptionRenewed`.
fn paid_kind(object: &serde_json::Value) -> WebhookEventKind {
    let Ok(subscription) = wire::Subscription::deserialize(object) else {
        return WebhookEventKind::SubscriptionRenewed;
    };
    let created = billing::instant(subscription.created_at.as_ref());
    let period_start = billing::instant(subscription.current_period_start_date.as_ref());
    match (created, period_start) {
        (Some(created), Some(period_start))
            if (period_start - created).abs() <= FIRST_PERIOD_SLACK =>
        {
            WebhookEventKind::SubscriptionStarted
        }
        (Some(_) | None, Some(_) | None) => WebhookEventKind::SubscriptionRenewed,
    }
}

fn epoch_millis(millis: i64) -> Result<OffsetDateTime, PaymentError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .map_err(|_| PaymentError::decode("creem webhook created_at", "out of range"))
}
