//! What the Stripe side does when the sandbox clock passes due times, one due time after
//! another in time order, as a Stripe test clock advances: open Checkout Sessions expire,
//! bank debits settle, subscriptions renew, end their trials and end as scheduled, renewal
//! drafts are finalized and collected an hour later, and failed payments are retried.
//! Each step runs with the clock pinned at its due time, so the objects and events it makes
//! carry that time and the same script always gives the same events in the same order.

use crate::app::App;
use crate::gateways::stripe::invoices::clock as invoice_clock;
use crate::gateways::stripe::invoices::collect;
use crate::gateways::stripe::payments;
use crate::gateways::stripe::sessions::lifecycle;
use crate::gateways::stripe::subscriptions::clock as subscription_clock;
use crate::state::State;

/// Most due times one sweep steps through; the once-a-second ticker takes the rest, so a
/// clock advanced by decades cannot stall a request for long.
const MAX_STEPS: usize = 10_000;

/// Most steps at one and the same time (each may make something due at once, a debit that
/// settles at the next step); past it the sweep gives up rather than spin.
const MAX_STEPS_AT_ONE_TIME: usize = 64;

/// Runs everything due on the Stripe side, earliest first.
pub(crate) fn run_due(app: &App, state: &mut State) {
    let target = state.now();
    let mut last: Option<i64> = None;
    let mut at_same_time = 0;
    for _ in 0..MAX_STEPS {
        let Some(due) = state.stripe.next_expiry().filter(|due| *due <= target) else {
            break;
        };
        // The clock never goes back: something made due earlier than the last step runs now.
        let step = last.map_or(due, |last| due.max(last));
        if last == Some(step) {
            at_same_time += 1;
            if at_same_time > MAX_STEPS_AT_ONE_TIME {
                break;
            }
        } else {
            at_same_time = 0;
        }
        state.pinned_now = Some(step);
        run_step(app, state);
        last = Some(step);
    }
    state.pinned_now = None;
}

/// Everything due at the pinned time, in a fixed order.
fn run_step(app: &App, state: &mut State) {
    lifecycle::expire_due(app, state);
    for settled in payments::settle_due(app, state) {
        lifecycle::settle_delayed(app, state, &settled);
        collect::settle_delayed(app, state, &settled);
    }
    subscription_clock::run_due(app, state);
    invoice_clock::run_due(app, state);
}
