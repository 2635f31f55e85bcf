//! The sandbox's in-memory state: objects of both gateways, the clock, the
//! idempotency store, the logs tests read, and the queue of webhook events.

use std::collections::{BTreeMap, HashMap};
use std::time::{SystemTime, UNIX_EPOCH};

use rand::distr::Alphanumeric;
use rand::Rng;
use serde::Serialize;

use crate::faults::Fault;

/// Which gateway's wire protocol a request, object or webhook belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Gateway {
    /// Stripe: form bodies, `Authorization` key, `Stripe-Signature` webhooks.
    Stripe,
    /// Creem: JSON bodies, `x-api-key`, `creem-signature` webhooks.
    Creem,
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

/// Lifecycle shared by Stripe sessions and Creem checkouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CheckoutStatus {
    /// Can be paid: Stripe `open`, Creem `pending`.
    Open,
    /// Paid: Stripe `complete`, Creem `completed`.
    Complete,
    /// Expired: `expired` on both.
    Expired,
}

/// Recurring price details of a Stripe line item.
#[derive(Debug, Clone)]
pub(crate) struct Recurring {
    pub(crate) interval: String,
    pub(crate) interval_count: i64,
}

/// A Stripe Price in the catalog (`POST /v1/prices` or a seed).
#[derive(Debug, Clone)]
pub(crate) struct StripePrice {
    pub(crate) id: String,
    pub(crate) product_id: String,
    pub(crate) currency: String,
    pub(crate) unit_amount: i64,
    pub(crate) recurring: Option<Recurring>,
    pub(crate) active: bool,
    pub(crate) nickname: Option<String>,
    pub(crate) metadata: BTreeMap<String, String>,
    pub(crate) created: i64,
}

/// The minimal Stripe Product a price belongs to; only its name is shown.
#[derive(Debug, Clone)]
pub(crate) struct StripeProduct {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) created: i64,
}

/// A Stripe line item built from `price_data` or a catalog `price`.
#[derive(Debug, Clone)]
pub(crate) struct LineItem {
    pub(crate) id: String,
    pub(crate) price_id: String,
    pub(crate) product_id: String,
    pub(crate) name: String,
    pub(crate) currency: String,
    pub(crate) unit_amount: i64,
    pub(crate) quantity: i64,
    pub(crate) recurring: Option<Recurring>,
    pub(crate) metadata: BTreeMap<String, String>,
}

/// A Stripe Checkout Session.
#[derive(Debug, Clone)]
pub(crate) struct StripeSession {
    pub(crate) id: String,
    pub(crate) created: i64,
    pub(crate) expires_at: i64,
    pub(crate) mode: String,
    pub(crate) ui_mode: String,
    pub(crate) embedded: bool,
    pub(crate) status: CheckoutStatus,
    pub(crate) currency: Option<String>,
    pub(crate) line_items: Vec<LineItem>,
    pub(crate) amount_total: i64,
    pub(crate) success_url: Option<String>,
    pub(crate) cancel_url: Option<String>,
    pub(crate) return_url: Option<String>,
    pub(crate) client_secret: Option<String>,
    pub(crate) metadata: BTreeMap<String, String>,
    pub(crate) client_reference_id: Option<String>,
    pub(crate) customer_email: Option<String>,
    pub(crate) customer: Option<String>,
    pub(crate) paid_email: Option<String>,
    pub(crate) payment_intent: Option<String>,
    pub(crate) subscription: Option<String>,
    pub(crate) locale: Option<String>,
    pub(crate) allow_promotion_codes: Option<bool>,
}

/// A Stripe PaymentIntent.
#[derive(Debug, Clone)]
pub(crate) struct PaymentIntent {
    pub(crate) id: String,
    pub(crate) client_secret: String,
    pub(crate) amount: i64,
    pub(crate) currency: String,
    pub(crate) status: String,
    pub(crate) created: i64,
    pub(crate) metadata: BTreeMap<String, String>,
    pub(crate) payment_method: Option<String>,
    pub(crate) latest_charge: Option<String>,
    pub(crate) last_payment_error: Option<serde_json::Value>,
    pub(crate) description: Option<String>,
    pub(crate) customer: Option<String>,
    pub(crate) capture_method: String,
    pub(crate) automatic_payment_methods: Option<serde_json::Value>,
    pub(crate) receipt_email: Option<String>,
}

/// A Creem product in the catalog.
#[derive(Debug, Clone)]
pub(crate) struct Product {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) price: i64,
    pub(crate) currency: String,
    pub(crate) billing_type: String,
    pub(crate) billing_period: String,
    pub(crate) tax_mode: String,
    pub(crate) tax_category: String,
    pub(crate) default_success_url: Option<String>,
    pub(crate) image_url: Option<String>,
    pub(crate) created: i64,
}

/// What Creem creates when a checkout is paid.
#[derive(Debug, Clone)]
pub(crate) struct CreemPayment {
    pub(crate) order_id: String,
    pub(crate) transaction_id: String,
    pub(crate) customer_id: String,
    pub(crate) email: String,
    pub(crate) subscription_id: Option<String>,
    pub(crate) paid_at: i64,
}

/// A Creem checkout session.
#[derive(Debug, Clone)]
pub(crate) struct CreemCheckout {
    pub(crate) id: String,
    pub(crate) product_id: String,
    pub(crate) units: i64,
    pub(crate) request_id: Option<String>,
    pub(crate) status: CheckoutStatus,
    pub(crate) success_url: Option<String>,
    pub(crate) metadata: Option<serde_json::Value>,
    pub(crate) customer_email: Option<String>,
    pub(crate) customer_id: Option<String>,
    pub(crate) expires_at: i64,
    pub(crate) payment: Option<CreemPayment>,
}

/// A response saved under a Stripe `Idempotency-Key`.
#[derive(Debug, Clone)]
pub(crate) struct SavedResponse {
    /// Method, path and canonical parameters of the first request.
    pub(crate) fingerprint: String,
    pub(crate) status: u16,
    pub(crate) body: String,
    pub(crate) request_id: String,
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
    pub(crate) sessions: HashMap<String, StripeSession>,
    /// Session ids in creation order, for newest-first listing.
    pub(crate) session_order: Vec<String>,
    pub(crate) payment_intents: HashMap<String, PaymentIntent>,
    pub(crate) products: HashMap<String, Product>,
    /// Stripe's Price catalog, apart from Creem's products.
    pub(crate) stripe_prices: HashMap<String, StripePrice>,
    pub(crate) stripe_products: HashMap<String, StripeProduct>,
    pub(crate) checkouts: HashMap<String, CreemCheckout>,
    /// Stripe customers by email, so a returning payer keeps one id.
    pub(crate) stripe_customers: HashMap<String, String>,
    /// Creem customers by email.
    pub(crate) creem_customers: HashMap<String, String>,
    pub(crate) idempotency: HashMap<String, SavedResponse>,
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

    /// Recomputes the lower bound from what is still open, after a sweep.
    pub(crate) fn recompute_next_expiry(&mut self) {
        let sessions = self
            .sessions
            .values()
            .filter(|session| session.status == CheckoutStatus::Open)
            .map(|session| session.expires_at);
        let checkouts = self
            .checkouts
            .values()
            .filter(|checkout| checkout.status == CheckoutStatus::Open)
            .map(|checkout| checkout.expires_at);
        self.next_expiry = sessions.chain(checkouts).min();
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
