//! What happens between requests: expiring what is due (every gateway), moving the clock,
//! and handing queued webhook events to the delivery tasks once the state lock is released.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::app::App;
use crate::gateways;
use crate::state::State;
use crate::webhooks::dispatch;

/// Largest total clock advance, in seconds (about 100 years).
const MAX_CLOCK_OFFSET: i64 = 100 * 366 * 24 * 60 * 60;

/// Expires every open session and checkout whose time has come; a no-op until the
/// earliest expiry is due, so requests do not walk every stored session.
pub(crate) fn expire_due(app: &App, state: &mut State) {
    if state.next_expiry.is_none_or(|at| at > state.now()) {
        return;
    }
    gateways::expire_due(app, state);
}

/// Expires every session whose time has come, then starts delivery of
/// every queued webhook event.
pub(crate) fn sweep_and_flush(app: &Arc<App>) {
    {
        let mut state = app.lock();
        expire_due(app, &mut state);
    }
    flush(app);
}

/// Starts delivery of queued webhook events and of the deliveries the clock made due. Called
/// after the lock is released so that a slow endpoint never blocks an API response.
pub(crate) fn flush(app: &Arc<App>) {
    dispatch::flush(app);
}

/// Forgets finished transactional objects older than the retention and the oldest ones past
/// the object cap, in every gateway, so a long-running sandbox stays bounded.
pub(crate) fn forget_old(app: &App) {
    let mut state = app.lock();
    gateways::forget_old(
        &mut state,
        app.config.retention_seconds,
        app.config.max_objects,
    );
}

/// Returns how many entries each store keeps now, by name: the logs, the webhook stores and
/// every gateway's (`stripe.sessions`, `creem.checkouts`, …). Each is capped or expires; see
/// `docs/sandbox.md`, "Limits".
pub(crate) fn retained(state: &State) -> BTreeMap<String, usize> {
    let mut sizes = BTreeMap::from([
        ("request_log".to_owned(), state.requests.len()),
        ("delivery_log".to_owned(), state.deliveries.len()),
        ("webhook_events".to_owned(), state.sent_events.len()),
        ("waiting_deliveries".to_owned(), state.waiting.len()),
        (
            "held_deliveries".to_owned(),
            state.held.values().map(Vec::len).sum(),
        ),
        ("webhook_endpoints".to_owned(), state.endpoints.len()),
        ("faults".to_owned(), state.faults.len()),
    ]);
    sizes.extend(gateways::store_sizes(state));
    sizes
}

/// Moves the clock forward and expires what became due.
pub(crate) fn advance_clock(app: &Arc<App>, by: Duration) {
    {
        let mut state = app.lock();
        let seconds = i64::try_from(by.as_secs()).unwrap_or(i64::MAX);
        // Capped at about a century so later `now + lifetime` sums cannot overflow.
        state.clock_offset = state
            .clock_offset
            .saturating_add(seconds)
            .min(MAX_CLOCK_OFFSET);
    }
    sweep_and_flush(app);
    forget_old(app);
}
