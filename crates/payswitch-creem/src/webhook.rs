//! `creem-signature` webhooks: verified over the raw body, then normalized.
//!
//! Creem signs `hex(HMAC-SHA256(webhook secret, raw body))` and nothing else: there is no
//! signed timestamp, so a captured delivery verifies forever. Deduplicating on the event id
//! (`evt_…`) is the replay defence; Creem also redelivers, so handlers must be idempotent.

use std::sync::Arc;

use http::HeaderMap;
use payswitch_core::adapter::signature::matches_any;
use payswitch_core::{
    PaymentError, RawJson, Secret, SignatureError, WebhookEvent, WebhookEventKind,
};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::config::KIND;
use crate::convert;
use crate::wire;

/// The header that carries the webhook signature (matched in any letter case).
pub const SIGNATURE_HEADER: &str = "creem-signature";

/// Checks the signature against every configured secret (rotation), then decodes the event.
pub(crate) fn verify_webhook(
    secrets: &[Secret],
    headers: &HeaderMap,
    body: &[u8],
) -> Result<WebhookEvent, PaymentError> {
    verify_signature(secrets, headers, body)?;
    decode_event(body)
}

fn verify_signature(
    secrets: &[Secret],
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), SignatureError> {
    if secrets.is_empty() {
        return Err(SignatureError::NoSecret);
    }
    let header = headers
        .get(SIGNATURE_HEADER)
        .ok_or(SignatureError::Missing(SIGNATURE_HEADER.into()))?
        .to_str()
        .map_err(|_| SignatureError::Malformed("the creem-signature header is not ASCII".into()))?
        .trim();
    if header.is_empty() {
        return Err(SignatureError::Missing(SIGNATURE_HEADER.into()));
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

/// Decodes a verified body into a normalized event.
///
/// The body is parsed once; the envelope and the checkout are read from it by reference, and
/// the checkout's `raw` points into the event's, so nothing is deep-copied.
fn decode_event(body: &[u8]) -> Result<WebhookEvent, PaymentError> {
    let raw: serde_json::Value = serde_json::from_slice(body)
        .map_err(|error| PaymentError::decode("creem webhook", error))?;
    let envelope = wire::WebhookEnvelope::deserialize(&raw)
        .map_err(|error| PaymentError::decode("creem webhook", error))?;
    let root = Arc::new(raw);
    let created_at = epoch_millis(envelope.created_at.0)?;
    let kind = kind(&envelope.event_type);
    let checkout = match &envelope.event_type {
        wire::EventType::CheckoutCompleted => Some(convert::checkout_at(&root, "/object")?),
        wire::EventType::RefundCreated | wire::EventType::DisputeCreated => {
            attached_checkout(&root)?
        }
        wire::EventType::SubscriptionActive
        | wire::EventType::SubscriptionPaid
        | wire::EventType::SubscriptionCanceled
        | wire::EventType::SubscriptionScheduledCancel
        | wire::EventType::SubscriptionPastDue
        | wire::EventType::SubscriptionExpired
        | wire::EventType::SubscriptionTrialing
        | wire::EventType::SubscriptionPaused
        | wire::EventType::SubscriptionUpdate
        | wire::EventType::SubscriptionUnpaid
        | wire::EventType::Unknown(_) => None,
    };
    let mut event = WebhookEvent::new(
        envelope.id,
        KIND,
        kind,
        envelope.event_type.as_str(),
        created_at,
    );
    event.checkout = checkout;
    event.raw = RawJson::shared(&root);
    Ok(event)
}

/// Creem's event types in payswitch's vocabulary; the rest keep their own name in `Other`.
fn kind(event_type: &wire::EventType) -> WebhookEventKind {
    let other = || WebhookEventKind::Other(event_type.as_str().to_owned());
    match event_type {
        wire::EventType::CheckoutCompleted => WebhookEventKind::CheckoutCompleted,
        // Creem recommends `subscription.paid`, not `.active`, for granting access.
        wire::EventType::SubscriptionActive => WebhookEventKind::SubscriptionActive,
        wire::EventType::SubscriptionPaid => WebhookEventKind::SubscriptionRenewed,
        // `expired` may still be followed by payment retries; `canceled` is terminal.
        wire::EventType::SubscriptionCanceled | wire::EventType::SubscriptionExpired => {
            WebhookEventKind::SubscriptionCanceled
        }
        wire::EventType::RefundCreated => WebhookEventKind::Refunded,
        wire::EventType::DisputeCreated => WebhookEventKind::Disputed,
        wire::EventType::SubscriptionTrialing => WebhookEventKind::SubscriptionTrialing,
        // `unpaid` follows failed retries; both mean the last payment did not go through.
        wire::EventType::SubscriptionPastDue | wire::EventType::SubscriptionUnpaid => {
            WebhookEventKind::SubscriptionPastDue
        }
        wire::EventType::SubscriptionPaused => WebhookEventKind::SubscriptionPaused,
        // A cancellation scheduled for the period end is a change; access continues until then.
        wire::EventType::SubscriptionUpdate | wire::EventType::SubscriptionScheduledCancel => {
            WebhookEventKind::SubscriptionUpdated
        }
        wire::EventType::Unknown(_) => other(),
    }
}

/// The checkout a refund or dispute carries, when it carries one.
fn attached_checkout(
    root: &Arc<serde_json::Value>,
) -> Result<Option<payswitch_core::CheckoutResult>, PaymentError> {
    if !root["object"]["checkout"].is_object() {
        return Ok(None);
    }
    convert::checkout_at(root, "/object/checkout").map(Some)
}

fn epoch_millis(millis: i64) -> Result<OffsetDateTime, PaymentError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .map_err(|error| PaymentError::decode("creem webhook created_at", error))
}
