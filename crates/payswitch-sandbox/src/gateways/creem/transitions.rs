//! Creem subscription status changes: `POST /v1/subscriptions/{id}/cancel`, `…/pause` and
//! `…/resume`, and which change is allowed from which status. What the clock does at a
//! period's end is in `renewals.rs`.
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
use crate::gateways::creem::objects::{next_due, OnExecute, SubscriptionStatus};
use crate::gateways::creem::renewals::bill_resumed;
use crate::gateways::creem::subscriptions::{find, render_subscription, render_subscription_id};
use crate::gateways::creem::validate::{parse_json, Checker};
use crate::state::State;

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
    use SubscriptionStatus::{Active, Canceled, PastDue, Paused, ScheduledCancel, Trialing};
    let running = if in_trial { Trialing } else { Active };
    // [inferred] While `past_due` only an immediate cancellation is taken: the unpaid renewal
    // is being retried, so there is no paid period to end or pause at.
    let next = match (change, from) {
        (Change::CancelNow, Active | Trialing | Paused | ScheduledCancel | PastDue) => {
            Some(Canceled)
        }
        (Change::CancelAtPeriodEnd(_), Active | Trialing) => Some(ScheduledCancel),
        (Change::Pause, Active | Trialing) => Some(Paused),
        (Change::Resume, Paused | ScheduledCancel) => Some(running),
        (Change::CancelNow, Canceled)
        | (Change::CancelAtPeriodEnd(_), Paused | ScheduledCancel | PastDue | Canceled)
        | (Change::Pause, Paused | ScheduledCancel | PastDue | Canceled)
        | (Change::Resume, Active | Trialing | PastDue | Canceled) => None,
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
        subscription.dunning = None;
    }
    let due = next_due(subscription);
    let event = match change {
        Change::CancelNow => EventType::SubscriptionCanceled,
        Change::CancelAtPeriodEnd(_) => EventType::SubscriptionScheduledCancel,
        Change::Pause => EventType::SubscriptionPaused,
        Change::Resume => EventType::SubscriptionUpdate,
    };
    let object = render_subscription_id(state, id, true);
    emit(state, event, object);
    if let Some(due) = due {
        state.note_expiry(due);
    }
    // A subscription resumed after its paused period ended starts billing again now.
    if change == Change::Resume && from == SubscriptionStatus::Paused && period_over {
        bill_resumed(state, id, now);
    }
    Ok(render_subscription(state, find(state, id)?, true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use SubscriptionStatus::{Active, Canceled, PastDue, Paused, ScheduledCancel, Trialing};

    #[test]
    fn the_transition_table() {
        let scheduled = Change::CancelAtPeriodEnd(OnExecute::Cancel);
        // (from, change, in trial, expected)
        let table = [
            (Active, Change::CancelNow, false, Ok(Canceled)),
            (Paused, Change::CancelNow, false, Ok(Canceled)),
            (ScheduledCancel, Change::CancelNow, false, Ok(Canceled)),
            (Trialing, Change::CancelNow, true, Ok(Canceled)),
            (PastDue, Change::CancelNow, false, Ok(Canceled)),
            (
                PastDue,
                Change::Pause,
                false,
                Err("Cannot pause a subscription with status past_due"),
            ),
            (
                PastDue,
                Change::Resume,
                false,
                Err("Cannot resume a subscription with status past_due"),
            ),
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
