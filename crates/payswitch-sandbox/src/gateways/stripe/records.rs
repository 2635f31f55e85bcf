//! Stripe's subscriptions and refunds as the handle's gateway-neutral records.

use crate::records::{RefundRecord, SubscriptionRecord};
use crate::state::{Gateway, State};

/// Every Stripe subscription, canceled ones included.
pub(crate) fn subscriptions(state: &State) -> Vec<SubscriptionRecord> {
    state
        .stripe
        .subscriptions
        .oldest_first()
        .map(|subscription| SubscriptionRecord {
            gateway: Gateway::Stripe,
            id: subscription.id.clone(),
            customer: Some(subscription.customer.clone()),
            status: subscription.status.as_str().to_owned(),
            amount: subscription.items.iter().fold(0i64, |sum, item| {
                sum.saturating_add(item.price.unit_amount.saturating_mul(item.quantity))
            }),
            currency: subscription.currency.clone(),
            cancel_at_period_end: subscription.cancel_at_period_end,
        })
        .collect()
}

/// Every Stripe refund.
pub(crate) fn refunds(state: &State) -> Vec<RefundRecord> {
    state
        .stripe
        .refunds
        .oldest_first()
        .map(|refund| RefundRecord {
            gateway: Gateway::Stripe,
            id: refund.id.clone(),
            payment: refund.charge.clone(),
            amount: refund.amount,
            currency: refund.currency.clone(),
            // Card refunds succeed at once in the sandbox, as `render` shows.
            status: "succeeded".to_owned(),
        })
        .collect()
}
