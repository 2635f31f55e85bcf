//! Stripe's subscriptions and refunds as the handle's gateway-neutral records.

use crate::billing::{RefundRecord, RefundStatus, SubscriptionRecord, SubscriptionStatus};
use crate::gateways::stripe::objects::{Subscription, SubscriptionStatus as Status};
use crate::state::{Gateway, State};

/// Maps a Stripe subscription to the neutral status: a scheduled cancellation is
/// `CancelScheduled` while it still runs and is paid up.
fn neutral_status(subscription: &Subscription) -> SubscriptionStatus {
    let scheduled = subscription.cancel_at_period_end || subscription.cancel_at.is_some();
    match subscription.status {
        Status::Canceled => SubscriptionStatus::Canceled,
        Status::Paused => SubscriptionStatus::Paused,
        Status::PastDue => SubscriptionStatus::PastDue,
        Status::Unpaid => SubscriptionStatus::Unpaid,
        Status::Trialing | Status::Active if scheduled => SubscriptionStatus::CancelScheduled,
        Status::Trialing => SubscriptionStatus::Trialing,
        Status::Active => SubscriptionStatus::Active,
    }
}

/// Every Stripe subscription, canceled ones included.
pub(crate) fn subscriptions(state: &State) -> Vec<SubscriptionRecord> {
    state
        .stripe
        .subscriptions
        .oldest_first()
        .map(|subscription| SubscriptionRecord {
            gateway: Gateway::Stripe,
            id: subscription.id.clone(),
            customer: subscription.customer.clone(),
            status: neutral_status(subscription),
            amount: subscription.items.iter().fold(0i64, |sum, item| {
                sum.saturating_add(item.price.unit_amount.saturating_mul(item.quantity))
            }),
            currency: subscription.currency.clone(),
        })
        .collect()
}

/// Every Stripe refund; the customer is the charge's (empty for a payment without one).
pub(crate) fn refunds(state: &State) -> Vec<RefundRecord> {
    state
        .stripe
        .refunds
        .oldest_first()
        .map(|refund| RefundRecord {
            gateway: Gateway::Stripe,
            id: refund.id.clone(),
            payment: refund.charge.clone(),
            customer: state
                .stripe
                .charges
                .get(&refund.charge)
                .and_then(|charge| charge.customer.clone())
                .unwrap_or_default(),
            amount: refund.amount,
            currency: refund.currency.clone(),
            // Card refunds succeed at once in the sandbox.
            status: RefundStatus::Succeeded,
        })
        .collect()
}
