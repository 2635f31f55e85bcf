//! Normalized webhook events.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::kind::ProviderKind;
use crate::raw::RawJson;
use crate::refund::Refund;
use crate::result::CheckoutResult;
use crate::subscription::Subscription;

/// The largest webhook body any provider accepts, 1 MiB: gateways' events are far smaller
/// (Stripe's reach a few hundred KiB with expanded objects), and refusing larger bodies before
/// computing a signature bounds the work an unauthenticated sender can cause. Put the same
/// (or a smaller) limit on the HTTP route that receives webhooks.
pub const MAX_WEBHOOK_BODY_BYTES: usize = 1 << 20;

/// What happened, across gateways.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WebhookEventKind {
    /// A checkout completed (check `payment_status` before fulfilling).
    CheckoutCompleted,
    /// A checkout expired unpaid.
    CheckoutExpired,
    /// A delayed payment for a completed checkout succeeded: fulfil now.
    AsyncPaymentSucceeded,
    /// A delayed payment for a completed checkout failed.
    AsyncPaymentFailed,
    /// A payment succeeded.
    PaymentSucceeded,
    /// A payment failed.
    PaymentFailed,
    /// A subscription became active (status change; grant access on
    /// [`SubscriptionStarted`](Self::SubscriptionStarted) or the gateway's documented event).
    SubscriptionActive,
    /// A new subscription's first payment succeeded (Stripe `invoice.paid` with
    /// `billing_reason=subscription_create`): grant access.
    SubscriptionStarted,
    /// A later period of a subscription was paid (a renewal, never the first payment): extend
    /// access.
    SubscriptionRenewed,
    /// A cancellation was scheduled for the end of the current period; access continues until
    /// then (Stripe `customer.subscription.updated` with `cancel_at_period_end`, Creem
    /// `subscription.scheduled_cancel`).
    SubscriptionCancelScheduled,
    /// A subscription was canceled or ended: terminal, revoke access.
    SubscriptionCanceled,
    /// A subscription's period ended unpaid while the gateway may still retry the payment
    /// (Creem `subscription.expired`): not a cancellation, do not revoke yet.
    SubscriptionExpired,
    /// A subscription payment (a renewal invoice) failed (Stripe `invoice.payment_failed`).
    SubscriptionPaymentFailed,
    /// A subscription is in a free trial.
    SubscriptionTrialing,
    /// A subscription payment failed and is being retried: consider limiting access.
    SubscriptionPastDue,
    /// A subscription was paused.
    SubscriptionPaused,
    /// A subscription changed otherwise (plan, quantity, a cancellation scheduled for the
    /// period end): retrieve it for the details.
    SubscriptionUpdated,
    /// A payment was refunded.
    Refunded,
    /// A payment was disputed.
    Disputed,
    /// Any other event, with the gateway's own type name. Unknown events parse; they never fail.
    Other(String),
}

/// A verified webhook, normalized.
///
/// It serializes and deserializes (JSON round-trips it field for field), so a store can keep
/// the verified event and process it later without verifying the body again.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WebhookEvent {
    /// The gateway's event id: deduplicate on it, deliveries repeat.
    pub id: String,
    /// The gateway that sent it.
    pub provider: ProviderKind,
    /// What happened.
    pub kind: WebhookEventKind,
    /// The gateway's own event type, e.g. `checkout.session.completed`.
    pub event_type: String,
    /// When the gateway created the event.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The checkout, when the event carries one.
    pub checkout: Option<CheckoutResult>,
    /// The subscription, normalized, when the event carries one (subscription events, and
    /// Creem's checkout events for subscriptions): enough to keep an application's state
    /// from the event alone; retrieve it to confirm.
    pub subscription: Option<Subscription>,
    /// The refund, normalized, when the event carries one.
    pub refund: Option<Refund>,
    /// The whole event as the gateway sent it.
    pub raw: RawJson,
}

impl WebhookEvent {
    /// Makes an event with no checkout and a null `raw`.
    pub fn new(
        id: impl Into<String>,
        provider: ProviderKind,
        kind: WebhookEventKind,
        event_type: impl Into<String>,
        created_at: OffsetDateTime,
    ) -> Self {
        Self {
            id: id.into(),
            provider,
            kind,
            event_type: event_type.into(),
            created_at,
            checkout: None,
            subscription: None,
            refund: None,
            raw: RawJson::default(),
        }
    }
}
