//! What the sandbox clock does to Creem subscriptions: renewals at the period end, the end of
//! a free trial, scheduled cancellations, and the dunning path of a declined renewal (retries,
//! then recovery or cancellation). Everything due is settled in the order it fell due, so the
//! same script of calls and clock moves sends the same events in the same order.
//!
//! Facts, and where they come from:
//! - a renewal sends `subscription.paid` ("A subscription transaction was paid by the
//!   customer") [confirmed, webhooks docs].
//! - "The subscription payment has failed and the subscription is now past due … Creem will
//!   automatically retry the payment according to the retry schedule. If a retry succeeds, the
//!   subscription transitions back to `active`. If all retries are exhausted, the subscription
//!   is canceled." (`subscription.past_due`, status `past_due`) [confirmed, webhooks docs].
//! - `subscription.expired`: "the `current_end_period` has been reached without a new payment.
//!   Payment retries can happen at this stage, and the subscription status will be terminal
//!   only when status is changed to `canceled`"; its sample still shows status `active`
//!   [confirmed, webhooks docs]. So the sandbox sends it when a renewal is declined, before the
//!   status turns `past_due` [inferred: the order of the two].
//! - the retry schedule is not published; the sandbox retries 3, 5 and 7 days after the
//!   declined renewal [inferred], sends no event for a retry that is declined again
//!   [inferred: Creem documents none], `subscription.paid` for one that pays, and
//!   `subscription.canceled` (`canceled_at` = the last retry) when the last one is declined.
//!   The store setting that ends in `unpaid` instead is not emulated.
//! - a declined charge is a `declined` transaction without an order [inferred]; the
//!   subscription's period stays the unpaid one until a retry pays it, as in the
//!   `subscription.past_due` sample [confirmed].

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::gateways::creem::cards::{charge, ChargeOutcome};
use crate::gateways::creem::events::{emit_at, EventType};
use crate::gateways::creem::objects::{
    next_due, Dunning, OnExecute, SubscriptionStatus, TransactionKind,
};
use crate::gateways::creem::periods::{period_end, DAY};
use crate::gateways::creem::subscriptions::{period_amounts, render_subscription_id};
use crate::gateways::creem::transactions::{record_charge, record_declined, Charge};
use crate::state::{new_id, State};

/// Days after a declined renewal when it is retried [inferred: Creem publishes no schedule].
const RETRY_DAYS: [i64; 3] = [3, 5, 7];

/// Most steps one sweep takes; what is left stays due and the next sweep (the next request, or
/// the 1-second ticker) carries on, so a clock moved by a century never stalls one request.
const MAX_STEPS_PER_SWEEP: usize = 100_000;

/// Most periods a resumed subscription skips to reach the one it resumes in; the clock moves
/// at most about a century, which is 1 200 monthly periods.
const MAX_SKIPPED_PERIODS: u32 = 1_500;

/// Decides when a declined renewal is retried next: `declined` charges so far (the renewal's
/// own included) were declined, the first at `declined_at`; `None` when the retries are
/// exhausted.
pub(crate) fn next_retry(declined_at: i64, declined: u32) -> Option<i64> {
    let index = usize::try_from(declined.checked_sub(1)?).ok()?;
    RETRY_DAYS
        .get(index)
        .map(|days| declined_at.saturating_add(days.saturating_mul(DAY)))
}

/// Settles everything due by now on the sandbox clock, earliest first (ties in the order the
/// subscriptions were created): renewals and trial ends are charged to the card on file,
/// declined ones retried, scheduled cancellations executed.
pub(crate) fn settle_due(state: &mut State) {
    let now = state.now();
    let mut queue: BinaryHeap<Reverse<(i64, u64, String)>> = state
        .creem
        .subscriptions
        .values()
        .filter_map(|subscription| {
            next_due(subscription)
                .filter(|due| *due <= now)
                .map(|due| Reverse((due, subscription.seq, subscription.id.clone())))
        })
        .collect();
    let mut steps = 0;
    while let Some(Reverse((due, seq, id))) = queue.pop() {
        if steps >= MAX_STEPS_PER_SWEEP {
            break;
        }
        steps += 1;
        step(state, &id, due);
        let next = state.creem.subscriptions.get(&id).and_then(next_due);
        // A step that moved nothing (the plan's product is gone) is not repeated.
        if let Some(next) = next.filter(|next| *next <= now && *next > due) {
            queue.push(Reverse((next, seq, id)));
        }
    }
}

/// Does what is due at `at` for one subscription.
fn step(state: &mut State, id: &str, at: i64) {
    let Some(subscription) = state.creem.subscriptions.get(id) else {
        return;
    };
    match subscription.status {
        SubscriptionStatus::ScheduledCancel => execute_scheduled(state, id, at),
        SubscriptionStatus::Active | SubscriptionStatus::Trialing => {
            let index = subscription
                .period_index
                .map_or(0, |index| index.saturating_add(1));
            collect(state, id, index, at, at);
        }
        SubscriptionStatus::PastDue => {
            if let Some(dunning) = subscription.dunning {
                collect(state, id, dunning.period_index, dunning.period_start, at);
            }
        }
        SubscriptionStatus::Paused | SubscriptionStatus::Canceled => {}
    }
}

/// Charges paid period `index` (starting at `start`) to the card on file at `at`: paid, it
/// becomes the current period; declined, the dunning path goes on.
fn collect(state: &mut State, id: &str, index: u32, start: i64, at: i64) {
    let Some(subscription) = state.creem.subscriptions.get_mut(id) else {
        return;
    };
    let (outcome, card) = charge(subscription.card);
    subscription.card = card;
    match outcome {
        ChargeOutcome::Paid => bill_period(state, id, index, start, at),
        ChargeOutcome::Declined => decline(state, id, index, start, at),
    }
}

/// Bills a resumed subscription whose period ended while it was paused: the period that
/// contains `now` (counted from its anchor, so the renewal day stays) is charged now.
pub(crate) fn bill_resumed(state: &mut State, id: &str, now: i64) {
    let Some(subscription) = state.creem.subscriptions.get(id) else {
        return;
    };
    let Some(billing_period) = state
        .creem
        .products
        .get(&subscription.product_id)
        .map(|product| product.billing_period.clone())
    else {
        return;
    };
    let anchor = subscription.billing_anchor;
    let mut index = subscription
        .period_index
        .map_or(0, |index| index.saturating_add(1));
    let mut skipped = 0;
    while period_end(anchor, &billing_period, index) <= now && skipped < MAX_SKIPPED_PERIODS {
        index = index.saturating_add(1);
        skipped += 1;
    }
    let start = match index.checked_sub(1) {
        Some(previous) => period_end(anchor, &billing_period, previous),
        None => anchor,
    };
    collect(state, id, index, start, now);
}

/// Records the paid charge for period `index` (`start` to the end counted from the anchor),
/// makes it the current period and sends `subscription.paid` (after `subscription.active` when
/// it is the first paid period, the end of a trial [inferred: Creem documents the renewal's
/// `subscription.paid` but not whether a trial's end also sends `subscription.active`]).
fn bill_period(state: &mut State, id: &str, index: u32, start: i64, at: i64) {
    let Some(subscription) = state.creem.subscriptions.get(id) else {
        return;
    };
    let Some((amounts, currency)) = period_amounts(state, subscription, index) else {
        return;
    };
    let Some(billing_period) = state
        .creem
        .products
        .get(&subscription.product_id)
        .map(|product| product.billing_period.clone())
    else {
        return;
    };
    let end = period_end(subscription.billing_anchor, &billing_period, index);
    let first_paid_period = subscription.period_index.is_none();
    let customer_id = subscription.customer_id.clone();
    let product_id = subscription.product_id.clone();
    let order_id = new_id("ord_");
    let transaction_id = record_charge(
        state,
        Charge {
            kind: TransactionKind::Invoice,
            amounts,
            currency: &currency,
            customer_id: &customer_id,
            product_id: &product_id,
            subscription_id: Some(id),
            checkout_id: None,
            order_id: Some(&order_id),
            description: "Subscription payment",
            period: Some((start, end)),
            at,
        },
    );
    state.counts.creem_orders += 1;
    let Some(subscription) = state.creem.subscriptions.get_mut(id) else {
        return;
    };
    subscription.status = SubscriptionStatus::Active;
    subscription.dunning = None;
    subscription.period_index = Some(index);
    subscription.period_start = start;
    subscription.period_end = end;
    subscription.last_transaction_id = Some(transaction_id);
    subscription.last_transaction_at = Some(at);
    subscription.updated = at;
    state.note_expiry(end);
    if first_paid_period {
        let object = render_subscription_id(state, id, true);
        emit_at(state, EventType::SubscriptionActive, object, at);
    }
    let object = render_subscription_id(state, id, true);
    emit_at(state, EventType::SubscriptionPaid, object, at);
}

/// Records a declined charge for period `index` and moves the dunning path on: the renewal's
/// own decline sends `subscription.expired` and `subscription.past_due` and schedules the first
/// retry; a declined retry schedules the next, or cancels the subscription when none is left.
fn decline(state: &mut State, id: &str, index: u32, start: i64, at: i64) {
    let Some(subscription) = state.creem.subscriptions.get(id) else {
        return;
    };
    let Some((amounts, currency)) = period_amounts(state, subscription, index) else {
        return;
    };
    let customer_id = subscription.customer_id.clone();
    let product_id = subscription.product_id.clone();
    let previous = subscription.dunning;
    record_declined(
        state,
        Charge {
            kind: TransactionKind::Invoice,
            amounts,
            currency: &currency,
            customer_id: &customer_id,
            product_id: &product_id,
            subscription_id: Some(id),
            checkout_id: None,
            order_id: None,
            description: "Subscription payment",
            period: None,
            at,
        },
    );
    let dunning = match previous {
        None => {
            // The period ended without a payment: `expired` shows the subscription as it was.
            let object = render_subscription_id(state, id, true);
            emit_at(state, EventType::SubscriptionExpired, object, at);
            Dunning {
                period_index: index,
                period_start: start,
                declined_at: at,
                declined: 1,
                next_retry: next_retry(at, 1).unwrap_or(at),
            }
        }
        Some(dunning) => {
            let declined = dunning.declined.saturating_add(1);
            match next_retry(dunning.declined_at, declined) {
                Some(next) => Dunning {
                    declined,
                    next_retry: next,
                    ..dunning
                },
                None => return exhaust(state, id, at),
            }
        }
    };
    let Some(subscription) = state.creem.subscriptions.get_mut(id) else {
        return;
    };
    subscription.dunning = Some(dunning);
    subscription.updated = at;
    let entering = previous.is_none();
    if entering {
        subscription.status = SubscriptionStatus::PastDue;
    }
    state.note_expiry(dunning.next_retry);
    if entering {
        let object = render_subscription_id(state, id, true);
        emit_at(state, EventType::SubscriptionPastDue, object, at);
    }
}

/// Cancels a subscription whose last retry was declined, and sends `subscription.canceled`.
fn exhaust(state: &mut State, id: &str, at: i64) {
    let Some(subscription) = state.creem.subscriptions.get_mut(id) else {
        return;
    };
    subscription.status = SubscriptionStatus::Canceled;
    subscription.dunning = None;
    subscription.canceled_at = Some(at);
    subscription.updated = at;
    let object = render_subscription_id(state, id, true);
    emit_at(state, EventType::SubscriptionCanceled, object, at);
}

/// Executes a scheduled cancellation at the period's end: `canceled` (with `canceled_at` the
/// period's end) or, with `onExecute: pause`, `paused`.
fn execute_scheduled(state: &mut State, id: &str, at: i64) {
    let Some(subscription) = state.creem.subscriptions.get_mut(id) else {
        return;
    };
    let event = match subscription.on_period_end.take() {
        Some(OnExecute::Pause) => {
            subscription.status = SubscriptionStatus::Paused;
            EventType::SubscriptionPaused
        }
        Some(OnExecute::Cancel) | None => {
            subscription.status = SubscriptionStatus::Canceled;
            subscription.canceled_at = Some(at);
            EventType::SubscriptionCanceled
        }
    };
    subscription.updated = at;
    let object = render_subscription_id(state, id, true);
    emit_at(state, event, object, at);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_come_3_5_and_7_days_after_the_declined_renewal() {
        let declined_at = 1_000;
        assert_eq!(next_retry(declined_at, 1), Some(declined_at + 3 * DAY));
        assert_eq!(next_retry(declined_at, 2), Some(declined_at + 5 * DAY));
        assert_eq!(next_retry(declined_at, 3), Some(declined_at + 7 * DAY));
        assert_eq!(next_retry(declined_at, 4), None);
        assert_eq!(next_retry(declined_at, 0), None);
    }
}
