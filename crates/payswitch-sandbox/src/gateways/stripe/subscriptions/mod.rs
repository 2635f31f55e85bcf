//! Stripe Subscriptions: created by a paid subscription-mode checkout ([`create`]), rendered
//! ([`render`]), read and listed ([`read`]), changed ([`update`], with item changes and their
//! prorations in [`changes`]), canceled, paused and resumed ([`cancel`]), and moved along by
//! the sandbox clock: renewals, trial ends, cancellation at period end ([`clock`]).

pub(crate) mod cancel;
pub(crate) mod changes;
pub(crate) mod clock;
pub(crate) mod create;
pub(crate) mod read;
pub(crate) mod render;
pub(crate) mod update;

use crate::gateways::stripe::calendar::after_intervals;
use crate::gateways::stripe::error::Failure;
use crate::gateways::stripe::objects::{Coupon, Recurring, Subscription};
use crate::state::State;

/// Returns the subscription `id`, or Stripe's 404 naming `param`.
pub(crate) fn find<'a>(
    state: &'a State,
    id: &str,
    param: &str,
) -> Result<&'a Subscription, Failure> {
    state
        .stripe
        .subscriptions
        .get(id)
        .ok_or_else(|| Failure::not_found("subscription", param, id))
}

/// The end of the period of `recurring` that starts at `start`, one interval later; a date
/// past the calendar's range (never reached: the clock is capped) falls back to `start`.
pub(crate) fn period_end(start: i64, recurring: &Recurring) -> i64 {
    after_intervals(start, &recurring.interval, recurring.interval_count, 1).unwrap_or(start)
}

/// The subscription's discount and its coupon, when it applies to a period starting at
/// `period_start` (a `repeating` coupon stops at its end).
pub(crate) fn discount_at(
    state: &State,
    subscription: &Subscription,
    period_start: i64,
) -> Option<(String, Coupon)> {
    let discount = subscription.discount.as_ref()?;
    if discount.end.is_some_and(|end| period_start >= end) {
        return None;
    }
    let coupon = state.stripe.coupons.get(&discount.coupon_id)?;
    Some((discount.id.clone(), coupon.clone()))
}

/// Tells the clock when this subscription next needs it.
pub(crate) fn schedule(state: &mut State, id: &str) {
    if let Some(due) = state
        .stripe
        .subscriptions
        .get(id)
        .and_then(Subscription::next_due)
    {
        state.note_expiry(due);
    }
}
