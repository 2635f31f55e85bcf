//! The sandbox's in-memory state: one store per gateway, the clock, the logs tests read, the
//! queue of webhook events (and the delivery modes, the events kept for replay and the
//! deliveries waiting for the clock), object counts and id generators; also the public
//! [`Gateway`] enum and the records of deliveries.

use std::collections::{HashMap, VecDeque};
use std::time::{SystemTime, UNIX_EPOCH};

use rand::distr::Alphanumeric;
use rand::Rng;
use serde::Serialize;

use crate::checkout::CheckoutStatus;
use crate::faults::Fault;
use crate::gateways::creem::objects as creem;
use crate::gateways::stripe::objects as stripe;
use crate::webhooks::modes::{DeliveryModes, DeliverySettings};
use crate::webhooks::queue::{ClockQueue, Recent};

/// Which gateway's wire protocol a request, object or webhook belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Gateway {
    /// Stripe: form bodies, `Authorization` key, `Stripe-Signature` webhooks.
    Stripe,
    /// Creem: JSON bodies, `x-api-key`, `creem-signature` webhooks.
    Creem,
}

impl Gateway {
    /// Every gateway, in the order requests are matched against them.
    pub(crate) const ALL: [Gateway; 2] = [Gateway::Stripe, Gateway::Creem];
}

/// Why a webhook delivery was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DeliveryReason {
    /// The event's own delivery, retries included.
    Original,
    /// The second delivery of the `duplicate` mode.
    Duplicate,
    /// The late delivery of the `redeliver_old` mode.
    Redelivery,
    /// A replay asked for with `POST /__sandbox/events/{id}/replay` or
    /// [`SandboxHandle::replay_event`](crate::SandboxHandle::replay_event).
    Replay,
}

/// One webhook delivery attempt, recorded whatever its outcome.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Delivery {
    /// Gateway whose envelope and signature were used.
    pub gateway: Gateway,
    /// Event id (`evt_...`), the same on every attempt of one event.
    pub event_id: String,
    /// Event type, e.g. `checkout.session.completed` or `checkout.completed`.
    pub event_type: String,
    /// Endpoint URL the attempt was posted to.
    pub url: String,
    /// 1 for the first attempt of this delivery, 2 for its first retry, and so on; 0 when it
    /// was never attempted.
    pub attempt: u32,
    /// Why this delivery was made: the event's own, or a duplicate, redelivery or replay.
    pub reason: DeliveryReason,
    /// Whether the `drop` mode lost this attempt: nothing reached the endpoint, and the
    /// attempt counts as a timeout.
    pub dropped: bool,
    /// Sandbox time of the attempt, Unix seconds.
    pub sandbox_time: i64,
    /// Headers sent, as (name, value) pairs.
    pub headers: Vec<(String, String)>,
    /// Raw JSON body sent, cut at [`MAX_RECORDED_BODY`] bytes.
    pub body: String,
    /// Whether `body` was cut at [`MAX_RECORDED_BODY`] bytes (the endpoint got all of it).
    pub body_truncated: bool,
    /// HTTP status answered by the endpoint, `None` on a network error, timeout or drop.
    pub response_status: Option<u16>,
    /// Network error, timeout or drop text, when there was no status.
    pub error: Option<String>,
}

impl Delivery {
    /// A delivery that was never attempted (no slot for it), recorded with `error`.
    pub(crate) fn not_attempted(job: &PendingDelivery, sandbox_time: i64, error: &str) -> Self {
        let (body, body_truncated) = recorded_body(job.event.body.as_bytes());
        Self {
            gateway: job.event.gateway,
            event_id: job.event.event_id.clone(),
            event_type: job.event.event_type.clone(),
            url: job.url.clone(),
            attempt: 0,
            reason: job.reason,
            dropped: false,
            sandbox_time,
            headers: Vec::new(),
            body,
            body_truncated,
            response_status: None,
            error: Some(error.to_owned()),
        }
    }
}

/// A webhook delivery waiting for the sandbox clock: a retry on the gateway's schedule, or an
/// old event to deliver again.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct WaitingDelivery {
    /// Sandbox time the attempt is due, Unix seconds.
    pub due_at: i64,
    /// Gateway whose envelope and signature are used.
    pub gateway: Gateway,
    /// Event id (`evt_...`).
    pub event_id: String,
    /// Event type.
    pub event_type: String,
    /// Endpoint URL.
    pub url: String,
    /// The attempt number it will be.
    pub attempt: u32,
    /// Why the delivery is made.
    pub reason: DeliveryReason,
}

/// One delivery of one event to one endpoint, from attempt `attempt` on: what a delivery task
/// runs, and what waits in [`State::waiting`] for the sandbox clock.
#[derive(Debug, Clone)]
pub(crate) struct PendingDelivery {
    pub(crate) event: OutgoingEvent,
    pub(crate) url: String,
    /// The next attempt's number, from 1.
    pub(crate) attempt: u32,
    pub(crate) reason: DeliveryReason,
    /// The endpoint's modes when the event was emitted (empty for duplicates, redeliveries
    /// and replays, which are plain deliveries).
    pub(crate) modes: DeliveryModes,
    /// Sandbox time the next attempt is due; the gateway's retry schedule counts from it.
    pub(crate) due: i64,
    /// Whether an attempt of this delivery already reached the endpoint (the `duplicate`
    /// mode's copy follows the first one that did).
    pub(crate) reached: bool,
}

impl PendingDelivery {
    /// Describes the delivery for [`SandboxHandle::waiting_deliveries`](crate::SandboxHandle).
    pub(crate) fn waiting(&self, due_at: i64) -> WaitingDelivery {
        WaitingDelivery {
            due_at,
            gateway: self.event.gateway,
            event_id: self.event.event_id.clone(),
            event_type: self.event.event_type.clone(),
            url: self.url.clone(),
            attempt: self.attempt,
            reason: self.reason,
        }
    }
}

/// One request the sandbox received on a gateway path (admin calls excluded).
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// Path without the query string.
    pub path: String,
    /// Raw query string, empty when there was none.
    pub query: String,
    /// Request headers, as (name, value) pairs; non-UTF-8 values are lossy. The credentials
    /// in `authorization` and `x-api-key` are recorded as `[redacted]`.
    pub headers: Vec<(String, String)>,
    /// Raw body, lossily decoded as UTF-8, cut at [`MAX_RECORDED_BODY`] bytes.
    pub body: String,
    /// Whether `body` was cut at [`MAX_RECORDED_BODY`] bytes.
    pub body_truncated: bool,
    /// Status the sandbox answered, `None` when the connection was dropped.
    pub response_status: Option<u16>,
}

/// One checkout the sandbox holds, whatever its gateway: for tests that check what exists
/// after faults (e.g. that no order has two payable checkouts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutRecord {
    /// The gateway that holds it.
    pub gateway: Gateway,
    /// Its id (`cs_test_…`, `ch_…`).
    pub id: String,
    /// The application's order reference (Stripe `client_reference_id`, Creem `request_id`).
    pub reference: Option<String>,
    /// Open (payable), complete or expired.
    pub status: CheckoutStatus,
}

/// How many objects the sandbox has created, so tests can prove
/// exactly-once creation under retries and faults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ObjectCounts {
    /// Stripe Checkout Sessions created.
    pub stripe_checkout_sessions: u64,
    /// Stripe PaymentIntents created (directly or by paying a session).
    pub stripe_payment_intents: u64,
    /// Creem checkouts created.
    pub creem_checkouts: u64,
    /// Creem products created (seeded ones included).
    pub creem_products: u64,
    /// Stripe Prices created (seeded ones included).
    pub stripe_prices: u64,
    /// Creem orders created by payments.
    pub creem_orders: u64,
    /// Webhook events emitted (not attempts).
    pub webhook_events: u64,
}

/// A webhook event waiting to be handed to the delivery tasks.
#[derive(Debug, Clone)]
pub(crate) struct OutgoingEvent {
    pub(crate) gateway: Gateway,
    pub(crate) event_id: String,
    pub(crate) event_type: String,
    pub(crate) body: String,
}

/// Everything the sandbox remembers, behind one mutex.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// Seconds added to the wall clock by `advance_clock`.
    pub(crate) clock_offset: i64,
    /// The time [`State::now`] reads while the clock steps through due times one at a time,
    /// so everything one step creates carries that step's time, as a Stripe test clock
    /// stamps each event with the frozen time it happened at.
    pub(crate) pinned_now: Option<i64>,
    /// Stripe's sessions, PaymentIntents, catalog, customers and idempotency keys.
    pub(crate) stripe: stripe::Store,
    /// Creem's products, checkouts and customers.
    pub(crate) creem: creem::Store,
    pub(crate) endpoints: Vec<(Gateway, String)>,
    /// The newest delivery attempts, at most the configured log capacity.
    pub(crate) deliveries: VecDeque<Delivery>,
    /// The newest gateway requests, at most the configured log capacity.
    pub(crate) requests: VecDeque<RecordedRequest>,
    pub(crate) faults: Vec<Fault>,
    pub(crate) counts: ObjectCounts,
    pub(crate) outbox: Vec<OutgoingEvent>,
    /// No open session or checkout expires before this time (a lower bound, `None` when
    /// nothing is open), so the per-request expiry sweep is O(1) until something is due.
    pub(crate) next_expiry: Option<i64>,
    /// The hostile delivery modes in force.
    pub(crate) delivery_modes: DeliverySettings,
    /// The newest emitted events, at most the log capacity, for replays.
    pub(crate) sent_events: Recent<OutgoingEvent>,
    /// Deliveries waiting for the sandbox clock (gateway-schedule retries, redeliveries).
    pub(crate) waiting: ClockQueue<PendingDelivery>,
    /// Events held for an endpoint's reorder window, by gateway and URL.
    pub(crate) held: HashMap<(Gateway, String), Vec<OutgoingEvent>>,
}

impl State {
    /// Returns the sandbox time in Unix seconds: wall clock plus the offset, or the due time
    /// being stepped through.
    pub(crate) fn now(&self) -> i64 {
        self.pinned_now
            .unwrap_or_else(|| wall_clock_seconds().saturating_add(self.clock_offset))
    }

    /// Returns the ids of webhook endpoints registered for a gateway.
    pub(crate) fn endpoints_for(&self, gateway: Gateway) -> Vec<String> {
        self.endpoints
            .iter()
            .filter(|(endpoint_gateway, _)| *endpoint_gateway == gateway)
            .map(|(_, url)| url.clone())
            .collect()
    }

    /// Records that an open session or checkout expires at `at`.
    pub(crate) fn note_expiry(&mut self, at: i64) {
        self.next_expiry = Some(self.next_expiry.map_or(at, |next| next.min(at)));
    }

    /// Queues a webhook event; delivery starts once the lock is released.
    pub(crate) fn emit(&mut self, event: OutgoingEvent) {
        self.counts.webhook_events += 1;
        self.outbox.push(event);
    }
}

/// Longest body, in bytes, the request and delivery logs keep of one entry; the rest is cut.
pub const MAX_RECORDED_BODY: usize = 64 * 1024;

/// What a recorded header's value is replaced with when it carries a credential.
pub(crate) const REDACTED: &str = "[redacted]";

/// Appends to a log, dropping the oldest entries past `capacity`: a long-running sandbox keeps
/// the newest entries and a bounded amount of memory.
pub(crate) fn push_bounded<T>(log: &mut VecDeque<T>, entry: T, capacity: usize) {
    while log.len() >= capacity.max(1) {
        log.pop_front();
    }
    log.push_back(entry);
}

/// Returns a body as the logs keep it: lossy UTF-8 cut at [`MAX_RECORDED_BODY`] bytes (on a
/// character boundary), and whether it was cut.
pub(crate) fn recorded_body(body: &[u8]) -> (String, bool) {
    let truncated = body.len() > MAX_RECORDED_BODY;
    let mut text = String::from_utf8_lossy(&body[..body.len().min(MAX_RECORDED_BODY)]).into_owned();
    if truncated {
        // A multi-byte character cut in half decodes as U+FFFD; drop it.
        if text.ends_with(char::REPLACEMENT_CHARACTER) {
            text.pop();
        }
    }
    (text, truncated)
}

/// Returns headers as the request log keeps them: credentials replaced by `[redacted]`, so the
/// log (served at `/__sandbox/requests`) never holds a key, even a real one pointed here.
pub(crate) fn redact_headers(headers: Vec<(String, String)>) -> Vec<(String, String)> {
    headers
        .into_iter()
        .map(|(name, value)| {
            if name.eq_ignore_ascii_case("authorization") || name.eq_ignore_ascii_case("x-api-key")
            {
                (name, REDACTED.to_owned())
            } else {
                (name, value)
            }
        })
        .collect()
}

/// Returns the real wall clock in Unix seconds.
pub(crate) fn wall_clock_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Returns a random alphanumeric string, the tail of every generated id.
pub(crate) fn random_token(length: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(length)
        .map(char::from)
        .collect()
}

/// Returns a fresh id such as `cs_test_a1B2...`.
pub(crate) fn new_id(prefix: &str) -> String {
    format!("{prefix}{}", random_token(24))
}

/// Returns a Stripe-style request id (`req_...`).
pub(crate) fn new_request_id() -> String {
    format!("req_{}", random_token(14))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_keep_the_newest_entries() {
        let mut log = VecDeque::new();
        for entry in 0..10 {
            push_bounded(&mut log, entry, 3);
        }
        assert_eq!(log, VecDeque::from([7, 8, 9]));
    }

    #[test]
    fn bodies_are_cut_and_marked() {
        assert_eq!(recorded_body(b"a=1"), ("a=1".to_owned(), false));
        let long = vec![b'x'; MAX_RECORDED_BODY + 1];
        let (text, truncated) = recorded_body(&long);
        assert!(truncated);
        assert_eq!(text.len(), MAX_RECORDED_BODY);
        // A two-byte character straddling the cut is dropped whole.
        let mut straddling = vec![b'x'; MAX_RECORDED_BODY - 1];
        straddling.extend("é".as_bytes());
        let (text, truncated) = recorded_body(&straddling);
        assert!(truncated);
        assert_eq!(text.len(), MAX_RECORDED_BODY - 1);
    }

    #[test]
    fn credentials_are_redacted() {
        let headers = redact_headers(vec![
            ("authorization".into(), "Bearer sk_test_x".into()),
            ("X-Api-Key".into(), "creem_test_x".into()),
            ("idempotency-key".into(), "k1".into()),
        ]);
        assert_eq!(headers[0].1, "[redacted]");
        assert_eq!(headers[1].1, "[redacted]");
        assert_eq!(headers[2].1, "k1");
    }

    /// serde's derived `Deserialize` lists every variant in its "unknown variant" error, so
    /// this fails when a new `Gateway` variant is missing from `Gateway::ALL`.
    #[test]
    fn all_lists_every_gateway() {
        let error = serde_json::from_str::<Gateway>("\"no-such-gateway\"")
            .expect_err("not a gateway")
            .to_string();
        let expected = error
            .split_once("expected ")
            .map(|(_, rest)| rest)
            .expect("serde lists the variants");
        // The names are the back-quoted words: `stripe` or `creem`.
        let names: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        assert!(!names.is_empty(), "{error}");
        for name in &names {
            let gateway: Gateway =
                serde_json::from_str(&format!("\"{name}\"")).expect("a listed variant parses");
            assert!(
                Gateway::ALL.contains(&gateway),
                "{name} is missing from Gateway::ALL"
            );
        }
        assert_eq!(names.len(), Gateway::ALL.len(), "{error}");
    }
}
