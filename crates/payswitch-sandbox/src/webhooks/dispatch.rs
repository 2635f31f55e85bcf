//! Hands emitted webhook events to their endpoints, in background tasks so no API response
//! waits: plain delivery, or the hostile modes an endpoint has (reordered batches, delays,
//! duplicates, attempts dropped and retried on the gateway's schedule, late redeliveries).
//! Also runs the deliveries the sandbox clock has made due, and replays past events. Every
//! attempt is recorded in the delivery log. The only gateway knowledge used is what
//! [`gateways`] hands out: signature headers and retry schedules.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::OwnedSemaphorePermit;

use crate::app::App;
use crate::error::SandboxError;
use crate::gateways;
use crate::state::{
    push_bounded, recorded_body, Delivery, DeliveryReason, Gateway, OutgoingEvent, PendingDelivery,
    State, WaitingDelivery,
};
use crate::webhooks::delivery::{send_attempt, AttemptResult};
use crate::webhooks::modes::DeliveryModes;
use crate::webhooks::plan::{
    after_failure, delivery_order, is_dropped, wait_before, AfterFailure, RetryRule,
};

/// Most deliveries waiting for the sandbox clock at once (gateway-schedule retries and
/// redeliveries); more are recorded as not delivered instead of queued without bound.
pub const MAX_WAITING_DELIVERIES: usize = 10_000;

/// Most events held for one endpoint's reorder window; more go out at once, so a flood of
/// events cannot grow the hold without bound.
pub(crate) const MAX_HELD_EVENTS: usize = 1_000;

/// The error recorded for an attempt the `drop` mode lost.
const DROPPED: &str = "dropped by the sandbox's drop mode: counted as a timeout";

/// The error recorded for a delivery that found no task slot.
const NO_SLOT: &str = "not delivered: too many webhook deliveries pending";

/// The error recorded for a delivery the clock queue had no room for.
const NO_CLOCK_ROOM: &str = "not delivered: too many webhook deliveries wait for the sandbox clock";

/// One endpoint's share of a flush.
enum Work {
    /// Each event on its own task, at once (no modes).
    Plain(Vec<PendingDelivery>),
    /// One task delivering the events one after another, each after its wait.
    Batch(Vec<(PendingDelivery, Duration)>),
    /// Events held for the endpoint's reorder window, planned when it closes.
    Window {
        gateway: Gateway,
        url: String,
        wait: Duration,
    },
}

/// Starts delivery of the queued events, then of the deliveries the sandbox clock made due.
/// Called after the state lock is released, so a slow endpoint never blocks an API response.
pub(crate) fn flush(app: &Arc<App>) {
    let (work, due) = {
        let mut state = app.lock();
        let events = std::mem::take(&mut state.outbox);
        let now = state.now();
        let mut work = Vec::new();
        if !events.is_empty() {
            let capacity = app.config.log_capacity;
            for event in &events {
                state
                    .sent_events
                    .insert(event.event_id.clone(), event.clone(), capacity);
            }
            let endpoints = state.endpoints.clone();
            for (gateway, url) in endpoints {
                let mine: Vec<OutgoingEvent> = events
                    .iter()
                    .filter(|event| event.gateway == gateway)
                    .cloned()
                    .collect();
                if !mine.is_empty() {
                    work.extend(plan_endpoint(&mut state, gateway, &url, mine, now));
                }
            }
        }
        (work, state.waiting.take_due(now))
    };
    for item in work {
        start(app, item);
    }
    for job in due {
        spawn_job(app, job, Duration::ZERO);
    }
}

/// The first delivery of `event` to `url`, under `modes`.
fn original(event: OutgoingEvent, url: &str, modes: &DeliveryModes, now: i64) -> PendingDelivery {
    PendingDelivery {
        event,
        url: url.to_owned(),
        attempt: 1,
        reason: DeliveryReason::Original,
        modes: modes.clone(),
        due: now,
        reached: false,
    }
}

/// Decides how one endpoint gets its events of this flush.
fn plan_endpoint(
    state: &mut State,
    gateway: Gateway,
    url: &str,
    events: Vec<OutgoingEvent>,
    now: i64,
) -> Vec<Work> {
    let modes = state.delivery_modes.modes_for(url).clone();
    if modes.is_empty() {
        let jobs = events
            .into_iter()
            .map(|event| original(event, url, &modes, now))
            .collect();
        return vec![Work::Plain(jobs)];
    }
    let Some(wait) = modes.reorder_window() else {
        return vec![Work::Batch(batch(state, url, events, now))];
    };
    let held = state.held.entry((gateway, url.to_owned())).or_default();
    let opens = held.is_empty();
    let room = MAX_HELD_EVENTS.saturating_sub(held.len()).min(events.len());
    let mut events = events;
    let overflow = events.split_off(room);
    held.extend(events);
    let mut work = Vec::new();
    if opens && room > 0 {
        work.push(Work::Window {
            gateway,
            url: url.to_owned(),
            wait,
        });
    }
    if !overflow.is_empty() {
        work.push(Work::Batch(batch(state, url, overflow, now)));
    }
    work
}

/// Puts a batch of one endpoint's events in the order and with the waits its modes draw.
fn batch(
    state: &mut State,
    url: &str,
    events: Vec<OutgoingEvent>,
    now: i64,
) -> Vec<(PendingDelivery, Duration)> {
    let scope = state.delivery_modes.scope_for(url);
    let modes = scope.modes.clone();
    let order = delivery_order(
        events.len(),
        modes.reorder.map(|reorder| reorder.order),
        &mut scope.random,
    );
    let mut slots: Vec<Option<OutgoingEvent>> = events.into_iter().map(Some).collect();
    order
        .into_iter()
        .filter_map(|index| slots.get_mut(index).and_then(Option::take))
        .map(|event| {
            let wait = wait_before(modes.delay.as_ref(), &mut scope.random);
            (original(event, url, &modes, now), wait)
        })
        .collect()
}

/// Takes a delivery task slot, if one is free.
fn slot(app: &App) -> Option<OwnedSemaphorePermit> {
    Arc::clone(&app.deliveries_in_flight)
        .try_acquire_owned()
        .ok()
}

/// Starts one endpoint's share of a flush.
fn start(app: &Arc<App>, work: Work) {
    match work {
        Work::Plain(jobs) => {
            for job in jobs {
                spawn_job(app, job, Duration::ZERO);
            }
        }
        Work::Batch(items) => {
            let Some(permit) = slot(app) else {
                for (job, _) in &items {
                    record_not_delivered(app, job, NO_SLOT);
                }
                return;
            };
            let task_app = Arc::clone(app);
            app.runtime.spawn(async move {
                let _permit = permit;
                run_batch(&task_app, items).await;
            });
        }
        Work::Window { gateway, url, wait } => {
            let Some(permit) = slot(app) else {
                let (held, now) = {
                    let mut state = app.lock();
                    let held = state.held.remove(&(gateway, url.clone()));
                    (held.unwrap_or_default(), state.now())
                };
                for event in held {
                    let job = original(event, &url, &DeliveryModes::new(), now);
                    record_not_delivered(app, &job, NO_SLOT);
                }
                return;
            };
            let task_app = Arc::clone(app);
            app.runtime.spawn(async move {
                let _permit = permit;
                if !pause(&task_app, wait).await {
                    return;
                }
                let items = {
                    let mut state = task_app.lock();
                    let events = state
                        .held
                        .remove(&(gateway, url.clone()))
                        .unwrap_or_default();
                    let now = state.now();
                    batch(&mut state, &url, events, now)
                };
                run_batch(&task_app, items).await;
            });
        }
    }
}

/// Delivers a batch in its order: each event's first attempt after its wait, one after
/// another; retries and duplicates go on tasks of their own so they hold nothing up.
async fn run_batch(app: &Arc<App>, items: Vec<(PendingDelivery, Duration)>) {
    for (mut job, wait) in items {
        if !pause(app, wait).await {
            return;
        }
        let (dropped, result) = attempt(app, &mut job).await;
        if let Some(wait) = follow_up(app, &mut job, dropped, &result) {
            spawn_job(app, job, wait);
        }
    }
}

/// Runs a delivery on a task of its own, after `wait`; recorded as not delivered when no
/// task slot is free.
fn spawn_job(app: &Arc<App>, job: PendingDelivery, wait: Duration) {
    let Some(permit) = slot(app) else {
        record_not_delivered(app, &job, NO_SLOT);
        return;
    };
    let task_app = Arc::clone(app);
    app.runtime.spawn(async move {
        let _permit = permit;
        if pause(&task_app, wait).await {
            run_job(&task_app, job).await;
        }
    });
}

/// Attempts a delivery until it is accepted, gives up, or waits for the sandbox clock.
async fn run_job(app: &Arc<App>, mut job: PendingDelivery) {
    loop {
        let (dropped, result) = attempt(app, &mut job).await;
        match follow_up(app, &mut job, dropped, &result) {
            Some(wait) => {
                if !pause(app, wait).await {
                    return;
                }
            }
            None => return,
        }
    }
}

/// Waits `wait`; `false` when the sandbox stops meanwhile (pending deliveries are abandoned).
async fn pause(app: &App, wait: Duration) -> bool {
    let mut shutdown = app.shutdown.clone();
    if *shutdown.borrow() {
        return false;
    }
    if wait.is_zero() {
        return true;
    }
    tokio::select! {
        _ = tokio::time::sleep(wait) => true,
        _ = shutdown.changed() => false,
    }
}

/// Makes the job's next attempt, freshly signed, and records it. Returns whether the `drop`
/// mode lost it, and what came back.
async fn attempt(app: &Arc<App>, job: &mut PendingDelivery) -> (bool, AttemptResult) {
    let headers = gateways::signature_headers(app, job.event.gateway, &job.event.body);
    let sandbox_time = app.lock().now();
    if job.attempt == 1 {
        // The gateway's retry schedule counts from the first attempt, however late it went.
        job.due = sandbox_time;
    }
    let dropped = is_dropped(job.attempt, job.modes.drop.as_ref());
    let result = if dropped {
        AttemptResult {
            status: None,
            error: Some(DROPPED.to_owned()),
        }
    } else {
        send_attempt(
            &app.http,
            &job.url,
            &headers,
            &job.event.body,
            app.config.retry.attempt_timeout,
        )
        .await
    };
    let (body, body_truncated) = recorded_body(job.event.body.as_bytes());
    let delivery = Delivery {
        gateway: job.event.gateway,
        event_id: job.event.event_id.clone(),
        event_type: job.event.event_type.clone(),
        url: job.url.clone(),
        attempt: job.attempt,
        reason: job.reason,
        dropped,
        sandbox_time,
        headers,
        body,
        body_truncated,
        response_status: result.status,
        error: result.error.clone(),
    };
    let capacity = app.config.log_capacity;
    push_bounded(&mut app.lock().deliveries, delivery, capacity);
    (dropped, result)
}

/// Arranges what follows an attempt: the duplicate after the first attempt that reached the
/// endpoint, the late redelivery after it accepted, or the next attempt. Returns the wait
/// before the next attempt when it runs on this task.
fn follow_up(
    app: &Arc<App>,
    job: &mut PendingDelivery,
    dropped: bool,
    result: &AttemptResult,
) -> Option<Duration> {
    let original = job.reason == DeliveryReason::Original;
    if !dropped && !job.reached {
        job.reached = true;
        if let Some(duplicate) = job.modes.duplicate.filter(|_| original) {
            let copy = job.copy(DeliveryReason::Duplicate, job.due);
            spawn_job(app, copy, Duration::from_millis(duplicate.gap_ms));
        }
    }
    if result.accepted() {
        if let Some(redeliver) = job.modes.redeliver_old.filter(|_| original) {
            let age = i64::try_from(redeliver.after_seconds).unwrap_or(i64::MAX);
            let due = app.lock().now().saturating_add(age);
            wait_for_clock(app, job.copy(DeliveryReason::Redelivery, due));
        }
        return None;
    }
    let rule = match job.modes.drop {
        Some(_) => RetryRule::GatewaySchedule(gateways::webhook_retry_waits(job.event.gateway)),
        None => RetryRule::Fast(&app.config.retry),
    };
    match after_failure(job.attempt, rule, job.due) {
        AfterFailure::GiveUp => None,
        AfterFailure::RetryIn(wait) => {
            job.attempt += 1;
            Some(wait)
        }
        AfterFailure::RetryAt(due) => {
            job.attempt += 1;
            job.due = due;
            if due <= app.lock().now() {
                // The clock already passed it (moved days ahead): catch up at once, in order.
                Some(Duration::ZERO)
            } else {
                wait_for_clock(app, job.clone());
                None
            }
        }
    }
}

/// Queues a delivery until its due time on the sandbox clock.
fn wait_for_clock(app: &App, job: PendingDelivery) {
    let due = job.due;
    let refused = app
        .lock()
        .waiting
        .push(due, job, MAX_WAITING_DELIVERIES)
        .err();
    if let Some(job) = refused {
        record_not_delivered(app, &job, NO_CLOCK_ROOM);
    }
}

/// Records a delivery that was never attempted.
fn record_not_delivered(app: &App, job: &PendingDelivery, error: &str) {
    let capacity = app.config.log_capacity;
    let mut state = app.lock();
    let delivery = Delivery::not_attempted(job, state.now(), error);
    push_bounded(&mut state.deliveries, delivery, capacity);
}

impl PendingDelivery {
    /// A plain delivery of the same event to the same endpoint, for `reason`, due at `due`.
    fn copy(&self, reason: DeliveryReason, due: i64) -> PendingDelivery {
        PendingDelivery {
            event: self.event.clone(),
            url: self.url.clone(),
            attempt: 1,
            reason,
            modes: DeliveryModes::new(),
            due,
            reached: false,
        }
    }
}

/// Sends an emitted event again to its gateway's endpoints (or only to `only_url`), as
/// Stripe's "Resend": same id and body, a fresh signature, plain delivery. Returns the URLs.
///
/// # Errors
/// [`SandboxError::EventNotFound`] for an id never emitted or no longer kept;
/// [`SandboxError::InvalidUrl`] when `only_url` is not an endpoint of the event's gateway.
pub(crate) fn replay(
    app: &Arc<App>,
    event_id: &str,
    only_url: Option<&str>,
) -> Result<Vec<String>, SandboxError> {
    let (event, urls, now) = {
        let state = app.lock();
        let event = state
            .sent_events
            .get(event_id)
            .cloned()
            .ok_or_else(|| SandboxError::EventNotFound(event_id.to_owned()))?;
        let mut urls = state.endpoints_for(event.gateway);
        if let Some(only) = only_url {
            if !urls.iter().any(|url| url == only) {
                return Err(SandboxError::InvalidUrl(format!(
                    "{only} is not a webhook endpoint of event {event_id}'s gateway"
                )));
            }
            urls = vec![only.to_owned()];
        }
        (event, urls, state.now())
    };
    for url in &urls {
        let job = PendingDelivery {
            event: event.clone(),
            url: url.clone(),
            attempt: 1,
            reason: DeliveryReason::Replay,
            modes: DeliveryModes::new(),
            due: now,
            reached: false,
        };
        spawn_job(app, job, Duration::ZERO);
    }
    Ok(urls)
}

/// The deliveries waiting for the sandbox clock, earliest first.
pub(crate) fn waiting(state: &State) -> Vec<WaitingDelivery> {
    state
        .waiting
        .iter()
        .map(|(due, job)| job.waiting(due))
        .collect()
}
