//! What happens between requests: expiring what is due (every gateway), moving the clock,
//! and handing queued webhook events to the delivery tasks once the state lock is released.

use std::sync::Arc;
use std::time::Duration;

use crate::app::App;
use crate::gateways;
use crate::state::{push_bounded, Delivery, State};
use crate::webhooks::delivery::{spawn_delivery, DeliveryContext};

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

/// Starts delivery of queued webhook events. Called after the lock is
/// released so that a slow endpoint never blocks an API response.
pub(crate) fn flush(app: &Arc<App>) {
    let (events, endpoints) = {
        let mut state = app.lock();
        let events = std::mem::take(&mut state.outbox);
        (events, state.endpoints.clone())
    };
    for event in events {
        for (gateway, url) in &endpoints {
            if *gateway != event.gateway {
                continue;
            }
            let Ok(permit) = std::sync::Arc::clone(&app.deliveries_in_flight).try_acquire_owned()
            else {
                // Too many deliveries pending: record the event as undelivered rather than
                // queue it without bound.
                let delivery = Delivery::not_attempted(
                    &event,
                    url,
                    "not delivered: too many webhook deliveries pending",
                );
                let mut state = app.lock();
                push_bounded(&mut state.deliveries, delivery, app.config.log_capacity);
                continue;
            };
            let context = DeliveryContext {
                permit,
                runtime: app.runtime.clone(),
                http: app.http.clone(),
                shutdown: app.shutdown.clone(),
                policy: app.config.retry,
            };
            let signer = Arc::clone(app);
            let recorder = Arc::clone(app);
            let gateway = event.gateway;
            spawn_delivery(
                context,
                event.clone(),
                url.clone(),
                move |body| gateways::signature_headers(&signer, gateway, body),
                move |delivery| {
                    let capacity = recorder.config.log_capacity;
                    push_bounded(&mut recorder.lock().deliveries, delivery, capacity);
                },
            );
        }
    }
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
