//! What the Stripe side does when the sandbox clock passes a due time: open Checkout
//! Sessions expire; subscriptions renew, end their trials and end as scheduled.

use crate::app::App;
use crate::gateways::stripe::sessions::lifecycle;
use crate::gateways::stripe::subscriptions::clock as subscription_clock;
use crate::state::State;

/// Runs everything due on the Stripe side.
pub(crate) fn run_due(app: &App, state: &mut State) {
    lifecycle::expire_due(app, state);
    subscription_clock::run_due(app, state);
}
