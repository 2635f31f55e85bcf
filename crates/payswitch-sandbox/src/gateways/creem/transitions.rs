//! Creem subscription status changes: `POST /v1/subscriptions/{id}/cancel`, `…/pause` and
//! `…/resume`, which change is allowed from which status, and what happens when a period ends
//! on the sandbox clock (renewal, or the scheduled cancellation or pause).
//!
//! Facts, and where they come from:
//! - cancel `mode` is `immediate` or `scheduled`; `onExecute` (`cancel` or `pause`) applies to
//!   `scheduled` only and is "ignored when mode is immediate or not provided" [confirmed, OAS].
//!   The default mode "can be configured in the store billing settings" [confirmed, OAS]; the
//!   docs' call without a body answers `status: canceled` with `canceled_at` [confirmed,
//!   refunds-and-cancellations docs], so the sandbox's store defaults to `immediate`.
//! - `scheduled_cancel` keeps the subscription until `current_period_end_date`, "after which it
//!   transitions to `canceled`", and resume before then changes "the status back to `active`
//!   and prevent[s] the cancellation" [confirmed, webhooks docs]; resume needs status
//!   `paused` or `scheduled_cancel` [confirmed, OAS].
//! - events: `subscription.canceled`, `subscription.scheduled_cancel`, `subscription.paused`
//!   [confirmed, webhooks docs]. Creem documents no event for resume; the sandbox sends
//!   `subscription.update` ("A subscription object was updated") [inferred].
//! - refused changes (cancel a canceled subscription, pause a canceled one, resume an active
//!   one) answer Creem's documented 400 error body; Creem documents neither the status code nor
//!   the message for them [inferred], so the message names the action and the status.

use serde_json::{Map, Value};

use crate::gateways::creem::error::Failure;
use crate::gateways::creem::events::{emit, EventType};
use crate::gateways::creem::objects::TransactionKind;
use crate::gateways::creem::objects::{period_end_matters, OnExecute, SubscriptionStatus};
use crate::gateways::creem::periods::period_end;
use crate::gateways::creem::subscriptions::{
    find, period_amounts, render_subscription, render_subscription_id,
};
use crate::gateways::creem::transactions::{record_charge, Charge};
use crate::gateways::creem::validate::{parse_json, Checker};
use crate::state::{new_id, State};

/// Most periods one subscription is renewed for in one sweep; the clock moves at most about a
/// century, which is 1 200 monthly periods.
const MAX_RENEWALS: u32 = 1_500;

/// A change asked of a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    CancelNow,
    CancelAtPeriodEnd(OnExecute),
    Pause,
    Resume,
}

impl Change {
    /// The verb of the refusal message.
    fn verb(self) -> &'static str {
        match self {
            Change::CancelNow | Change::CancelAtPeriodEnd(_) => "cancel",
            Change::Pause => "pause",
            Change::Resume => "resume",
        }
    }
}

/// Decides the status `change` leads to from `from`; `in_trial` is whether the subscription is
/// still in its trial (a resumed trial is `trialing` again).
///
/// # Errors
/// The refusal message when the change is not possible from `from`.
pub(crate) fn next_status(
    from: SubscriptionStatus,
    change: Change,
    in_trial: bool,
) -> Result<SubscriptionStatus, String> {
    use SubscriptionStatus::{Active, Canceled, Paused, ScheduledCancel, Trialing};
    let running = if in_trial { Trialing } else { Active };
    let next = match (change, from) {
        (Change::CancelNow, Active | Trialing | Paused | ScheduledCancel) => Some(Canceled),
        (Change::CancelAtPeriodEnd(_), Active | Trialing) => Some(ScheduledCancel),
        (Change::Pause, Active | Trialing) => Some(Paused),
        (Change::Resume, Paused | ScheduledCancel) => Some(running),
        (Change::CancelNow, Canceled)
        | (Change::CancelAtPeriodEnd(_), Paused | ScheduledCancel | Canceled)
        | (Change::Pause, Paused | ScheduledCancel | Canceled)
        | (Change::Resume, Active | Trialing | Canceled) => None,
    };
    next.ok_or_else(|| {
        format!(
            "Cannot {} a subscription with status {}",
            change.verb(),
            from.as_str()
        )
    })
}

/// `POST /v1/subscriptions/{id}/cancel` with `{mode?, onExecute?}`; an empty body is `{}`.
pub(crate) fn cancel_endpoint(state: &mut State, id: &str, body: &[u8]) -> Result<Value, Failure> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        parse_json(body)?
    };
    let mut check = Checker::new(&body);
    let mode = check.one_of("mode", false, &["immediate", "scheduled"]);
    let on_execute = check.one_of("onExecute", false, &["cancel", "pause"]);
    check.finish()?;
    let change = match (mode, on_execute) {
        (Some("scheduled"), Some("pause")) => Change::CancelAtPeriodEnd(OnExecute::Pause),
        (Some("scheduled"), _) => Change::CancelAtPeriodEnd(OnExecute::Cancel),
        _ => Change::CancelNow,
    };
    apply(state, id, change)
}

/// `POST /v1/subscriptions/{id}/pause`.
pub(crate) fn pause_endpoint(state: &mut State, id: &str) -> Result<Value, Failure> {
    apply(state, id, Change::Pause)
}

/// `POST /v1/subscriptions/{id}/resume`.
pub(crate) fn resume_endpoint(state: &mut State, id: &str) -> Result<Value, Failure> {
    apply(state, id, Change::Resume)
}

/// Applies a change, sends its webhook and answers the changed `SubscriptionEntity`.
///
/// # Errors
/// 404 for an unknown subscription, 400 for a change its status does not allow.
pub(crate) fn apply(state: &mut State, id: &str, change: Change) -> Result<Value, Failure> {
    let now = state.now();
    let subscription = find(state, id)?;
    let from = subscription.status;
    let in_trial =
        subscription.period_index.is_none() && subscription.last_transaction_id.is_none();
    let to = next_status(from, change, in_trial)
        .map_err(|message| Failure::bad_request(vec![message]))?;
    let period_over = subscription.period_end <= now;
    let Some(subscription) = state.creem.subscriptions.get_mut(id) else {
        return Err(Failure::not_found("Subscription not found"));
    };
    subscription.status = to;
    subscription.updated = now;
    subscription.on_period_end = match change {
        Change::CancelAtPeriodEnd(on_execute) => Some(on_execute),
        Change::CancelNow | Change::Pause | Change::Resume => None,
    };
    if to == SubscriptionStatus::Canceled {
        subscription.canceled_at = Some(now);
    }
    let next_end = subscription.period_end;
    let event = match change {
        Change::CancelNow => EventType::SubscriptionCanceled,
        Change::CancelAtPeriodEnd(_) => EventType::SubscriptionScheduledCancel,
        Change::Pause => EventType::SubscriptionPaused,
        Change::Resume => EventType::SubscriptionUpdate,
    };
    let object = render_subscription_id(state, id, true);
    emit(state, event, object);
    if period_end_matters(to) {
        state.note_expiry(next_end);
    }
    // A subscription resumed after its paused period ended starts billing again now.
    if change == Change::Resume && from == SubscriptionStatus::Paused && period_over {
        catch_up(state, id, now);
    }
    Ok(render_subscription(state, find(state, id)?, true))
}

/// Moves a resumed subscription whose period ended while paused to the period that contains
/// `now` (counted from its anchor, so the renewal day stays), and bills it.
fn catch_up(state: &mut State, id: &str, now: i64) {
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
    let mut steps = 0;
    while period_end(anchor, &billing_period, index) <= now && steps < MAX_RENEWALS {
        index = index.saturating_add(1);
        steps += 1;
    }
    let start = match index.checked_sub(1) {
        Some(previous) => period_end(anchor, &billing_period, previous),
        None => anchor,
    };
    bill_period(state, id, index, start, now);
}

/// Charges paid period `index` (`start` to the end counted from the anchor), makes it the
/// current period and sends `subscription.paid` (after `subscription.active` when the
/// subscription leaves its trial) [inferred: Creem documents the renewal's `subscription.paid`
/// but not whether a trial's end also sends `subscription.active`]. Returns `false` when the
/// plan's product is gone, so nothing can be charged.
fn bill_period(state: &mut State, id: &str, index: u32, start: i64, at: i64) -> bool {
    let Some(subscription) = state.creem.subscriptions.get(id) else {
        return false;
    };
    let Some((amounts, currency)) = period_amounts(state, subscription, index) else {
        return false;
    };
    let Some(billing_period) = state
        .creem
        .products
        .get(&subscription.product_id)
        .map(|product| product.billing_period.clone())
    else {
        return false;
    };
    let end = period_end(subscription.billing_anchor, &billing_period, index);
    let leaves_trial = subscription.status == SubscriptionStatus::Trialing;
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
        return false;
    };
    subscription.status = SubscriptionStatus::Active;
    subscription.period_index = Some(index);
    subscription.period_start = start;
    subscription.period_end = end;
    subscription.last_transaction_id = Some(transaction_id);
    subscription.last_transaction_at = Some(at);
    subscription.updated = at;
    state.note_expiry(end);
    if leaves_trial {
        let object = render_subscription_id(state, id, true);
        emit(state, EventType::SubscriptionActive, object);
    }
    let object = render_subscription_id(state, id, true);
    emit(state, EventType::SubscriptionPaid, object);
    true
}

/// Settles every subscription whose period has ended by `now` on the sandbox clock: active and
/// trialing ones are billed for the next period (once per period the clock passed), scheduled
/// cancellations are canceled or paused at the period's end. Oldest period ends first, so the
/// events come in a deterministic order.
pub(crate) fn settle_due(state: &mut State) {
    let now = state.now();
    let mut due: Vec<(i64, u64, String)> = state
        .creem
        .subscriptions
        .values()
        .filter(|subscription| {
            period_end_matters(subscription.status) && subscription.period_end <= now
        })
        .map(|subscription| {
            (
                subscription.period_end,
                subscription.seq,
                subscription.id.clone(),
            )
        })
        .collect();
    due.sort_unstable();
    for (_, _, id) in due {
        settle(state, &id, now);
    }
}

/// Settles one subscription's ended periods.
fn settle(state: &mut State, id: &str, now: i64) {
    for _ in 0..MAX_RENEWALS {
        let Some(subscription) = state.creem.subscriptions.get(id) else {
            return;
        };
        let ended_at = subscription.period_end;
        if ended_at > now || !period_end_matters(subscription.status) {
            return;
        }
        match subscription.status {
            SubscriptionStatus::ScheduledCancel => {
                execute_scheduled(state, id, ended_at);
                return;
            }
            SubscriptionStatus::Active | SubscriptionStatus::Trialing => {
                let index = subscription
                    .period_index
                    .map_or(0, |index| index.saturating_add(1));
                if !bill_period(state, id, index, ended_at, ended_at) {
                    return;
                }
            }
            SubscriptionStatus::Paused | SubscriptionStatus::Canceled => return,
        }
    }
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
    emit(state, event, object);
}

#[cfg(test)]
mod tests {
    use super::*;
    use SubscriptionStatus::{Active, Canceled, Paused, ScheduledCancel, Trialing};

    #[test]
    fn the_transition_table() {
        let scheduled = Change::CancelAtPeriodEnd(OnExecute::Cancel);
        // (from, change, in trial, expected)
        let table = [
            (Active, Change::CancelNow, false, Ok(Canceled)),
            (Paused, Change::CancelNow, false, Ok(Canceled)),
            (ScheduledCancel, Change::CancelNow, false, Ok(Canceled)),
            (Trialing, Change::CancelNow, true, Ok(Canceled)),
            (Active, scheduled, false, Ok(ScheduledCancel)),
            (Trialing, scheduled, true, Ok(ScheduledCancel)),
            (Active, Change::Pause, false, Ok(Paused)),
            (Paused, Change::Resume, false, Ok(Active)),
            (ScheduledCancel, Change::Resume, false, Ok(Active)),
            (ScheduledCancel, Change::Resume, true, Ok(Trialing)),
            (
                Canceled,
                Change::CancelNow,
                false,
                Err("Cannot cancel a subscription with status canceled"),
            ),
            (
                ScheduledCancel,
                scheduled,
                false,
                Err("Cannot cancel a subscription with status scheduled_cancel"),
            ),
            (
                Canceled,
                Change::Pause,
                false,
                Err("Cannot pause a subscription with status canceled"),
            ),
            (
                Paused,
                Change::Pause,
                false,
                Err("Cannot pause a subscription with status paused"),
            ),
            (
                Active,
                Change::Resume,
                false,
                Err("Cannot resume a subscription with status active"),
            ),
            (
                Canceled,
                Change::Resume,
                false,
                Err("Cannot resume a subscription with status canceled"),
            ),
        ];
        for (from, change, in_trial, expected) in table {
            assert_eq!(
                next_status(from, change, in_trial),
                expected.map_err(str::to_owned),
                "{from:?} {change:?}"
            );
        }
    }
}
