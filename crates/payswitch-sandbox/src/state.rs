//! The sandbox's in-memory state: one store per gateway, the clock, the logs tests read, the
//! queue of webhook events, object counts and id generators; also the public [`Gateway`] enum.

use std::time::{SystemTime, UNIX_EPOCH};

use rand::distr::Alphanumeric;
use rand::Rng;
use serde::Serialize;

use crate::checkout::CheckoutStatus;
use crate::faults::Fault;
use crate::gateways::creem::objects as creem;
use crate::gateways::stripe::objects as stripe;

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
    /// 1 for the first attempt, 2 for the first retry, and so on.
    pub attempt: u32,
    /// Headers sent, as (name, value) pairs.
    pub headers: Vec<(String, String)>,
    /// Raw JSON body sent.
    pub body: String,
    /// HTTP status answered by the endpoint, `None` on a network error or timeout.
    pub response_status: Option<u16>,
    /// Network error or timeout text, when there was no status.
    pub error: Option<String>,
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
    /// Request headers, as (name, value) pairs; non-UTF-8 values are lossy.
    pub headers: Vec<(String, String)>,
    /// Raw body, lossily decoded as UTF-8.
    pub body: String,
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
    /// Stripe's sessions, PaymentIntents, catalog, customers and idempotency keys.
    pub(crate) stripe: stripe::Store,
    /// Creem's products, checkouts and customers.
    pub(crate) creem: creem::Store,
    pub(crate) endpoints: Vec<(Gateway, String)>,
    pub(crate) deliveries: Vec<Delivery>,
    pub(crate) requests: Vec<RecordedRequest>,
    pub(crate) faults: Vec<Fault>,
    pub(crate) counts: ObjectCounts,
    pub(crate) outbox: Vec<OutgoingEvent>,
    /// No open session or checkout expires before this time (a lower bound, `None` when
    /// nothing is open), so the per-request expiry sweep is O(1) until something is due.
    pub(crate) next_expiry: Option<i64>,
}

impl State {
    /// Returns the sandbox time in Unix seconds: wall clock plus the offset.
    pub(crate) fn now(&self) -> i64 {
        wall_clock_seconds().saturating_add(self.clock_offset)
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
