//! The order store, and the one transition that matters: pending → paid, exactly once.
//!
//! Two signals can say an order was paid: the gateway's signed webhook and the customer's
//! return to the success page (after the checkout was retrieved from the gateway). Either may
//! come first, the webhook may come twice, and both may race. So both go through
//! [`Orders::confirm_paid`], which marks an order paid only from `Pending` and only when the
//! gateway's checkout says it was paid for this order and this amount; the second signal finds
//! the order already paid and changes nothing. Webhook events are also deduplicated on their
//! id, so a re-delivered event is recognised before it is looked at.
//!
//! Everything happens under one lock, so the check and the change cannot interleave with
//! another request. A real application keeps this in its database: a unique constraint on
//! processed event ids and an `UPDATE … WHERE status = 'pending'` give the same guarantees.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};

use payswitch::{CheckoutResult, Money, ProviderKind, WebhookEvent, WebhookEventKind};
use serde::Serialize;

use crate::catalog::Offer;

/// Where an order is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Created; the customer has not paid (or we have not heard yet).
    Pending,
    /// The gateway confirmed the payment.
    Paid,
}

/// Which signal marked the order paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PaidVia {
    /// A verified webhook event.
    Webhook,
    /// The success page, after retrieving the checkout from the gateway.
    Return,
}

/// One order, as the tests and the pages see it.
#[derive(Debug, Clone, Serialize)]
pub struct Order {
    /// The order id, sent to the gateway as the checkout's `reference`.
    pub id: String,
    /// What was ordered.
    pub sku: String,
    /// Its name.
    pub product: String,
    /// What the server's catalog says it costs.
    pub price: Money,
    /// The gateway the checkout was opened on.
    pub gateway: String,
    /// The gateway's checkout id, once the checkout exists.
    pub checkout_id: Option<String>,
    /// Pending or paid.
    pub status: OrderStatus,
    /// How many times the order went from pending to paid: 1 at most, whatever the gateway
    /// and the browser do. Kept so tests can prove it.
    pub times_marked_paid: u32,
    /// The signal that marked it paid.
    pub paid_via: Option<PaidVia>,
    /// The ids of the webhook events processed for this order.
    pub event_ids: Vec<String>,
}

/// Why a checkout did not (yet) make its order paid.
#[derive(Debug)]
pub enum NotConfirmed {
    /// The checkout's reference names no order of ours.
    UnknownOrder,
    /// The checkout exists but is not paid (yet).
    NotPaid(Box<Order>),
    /// The checkout does not match the order (another checkout, another amount).
    Mismatch(Box<Order>, String),
}

/// The result of a confirmed payment.
#[derive(Debug)]
pub enum Confirmed {
    /// This call moved the order from pending to paid.
    MarkedPaid(Box<Order>),
    /// The order was already paid; nothing changed.
    AlreadyPaid(Box<Order>),
}

impl Confirmed {
    /// The order, paid either way.
    pub fn order(&self) -> &Order {
        match self {
            Confirmed::MarkedPaid(order) | Confirmed::AlreadyPaid(order) => order,
        }
    }
}

/// What the webhook endpoint did with an event; also its JSON answer.
#[derive(Debug, Clone, Serialize)]
pub struct EventOutcome {
    /// The gateway's event id.
    pub event_id: String,
    /// `duplicate`, `marked_paid`, `already_paid`, `not_paid` or `ignored`.
    pub outcome: &'static str,
    /// The order the event was about, when it named one of ours.
    pub order_id: Option<String>,
    /// Why nothing changed, when nothing did.
    pub reason: Option<String>,
}

/// Processed-event bookkeeping and the orders, behind one lock.
#[derive(Debug, Default)]
struct Inner {
    next_order: u64,
    orders: BTreeMap<String, Order>,
    processed: HashSet<(ProviderKind, String)>,
    processed_ids: Vec<String>,
    duplicate_deliveries: u64,
}

/// A snapshot of the whole store, for `/orders.json`.
#[derive(Debug, Serialize)]
pub struct Snapshot {
    /// The gateway this storefront runs on.
    pub gateway: String,
    /// Every order, by id.
    pub orders: Vec<Order>,
    /// Every webhook event id processed, in order; each appears once.
    pub processed_event_ids: Vec<String>,
    /// Deliveries recognised as repeats of a processed event.
    pub duplicate_deliveries: u64,
}

/// The in-memory order store.
#[derive(Debug)]
pub struct Orders {
    run_id: u64,
    gateway: String,
    inner: Mutex<Inner>,
}

impl Orders {
    /// An empty store for a storefront on `gateway`. Order ids include `run_id` so a
    /// restarted storefront never reuses an id the gateway has already seen.
    pub fn new(gateway: impl Into<String>, run_id: u64) -> Self {
        Self {
            run_id,
            gateway: gateway.into(),
            inner: Mutex::new(Inner::default()),
        }
    }

    // A panic elsewhere while holding the lock leaves consistent data (every change is a
    // single assignment), so a poisoned lock is still usable.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Creates a pending order for one unit of `offer`.
    pub fn create(&self, offer: &Offer) -> Order {
        let mut inner = self.lock();
        inner.next_order += 1;
        let order = Order {
            id: format!("order-{}-{}", self.run_id, inner.next_order),
            sku: offer.sku.to_owned(),
            product: offer.name.to_owned(),
            price: offer.price,
            gateway: self.gateway.clone(),
            checkout_id: None,
            status: OrderStatus::Pending,
            times_marked_paid: 0,
            paid_via: None,
            event_ids: Vec::new(),
        };
        inner.orders.insert(order.id.clone(), order.clone());
        order
    }

    /// Records the gateway checkout opened for an order.
    pub fn attach_checkout(&self, order_id: &str, checkout_id: &str) {
        if let Some(order) = self.lock().orders.get_mut(order_id) {
            order.checkout_id = Some(checkout_id.to_owned());
        }
    }

    /// One order.
    pub fn get(&self, order_id: &str) -> Option<Order> {
        self.lock().orders.get(order_id).cloned()
    }

    /// Everything, for tests and operators.
    pub fn snapshot(&self) -> Snapshot {
        let inner = self.lock();
        Snapshot {
            gateway: self.gateway.clone(),
            orders: inner.orders.values().cloned().collect(),
            processed_event_ids: inner.processed_ids.clone(),
            duplicate_deliveries: inner.duplicate_deliveries,
        }
    }

    /// Marks the checkout's order paid if the checkout proves it, at most once.
    pub fn confirm_paid(
        &self,
        checkout: &CheckoutResult,
        via: PaidVia,
    ) -> Result<Confirmed, NotConfirmed> {
        confirm(&mut self.lock(), checkout, via)
    }

    /// Applies a verified webhook event once: a repeated event id changes nothing.
    pub fn apply_event(&self, event: &WebhookEvent) -> EventOutcome {
        let mut inner = self.lock();
        let outcome = |outcome, order_id: Option<&str>, reason: Option<String>| EventOutcome {
            event_id: event.id.clone(),
            outcome,
            order_id: order_id.map(str::to_owned),
            reason,
        };
        // Gateways deliver at least once; the id is the same on every delivery of an event.
        if !inner.processed.insert((event.provider, event.id.clone())) {
            inner.duplicate_deliveries += 1;
            return outcome("duplicate", None, None);
        }
        inner.processed_ids.push(event.id.clone());
        let Some(checkout) = &event.checkout else {
            return outcome(
                "ignored",
                None,
                Some("the event carries no checkout".into()),
            );
        };
        let order_id = checkout.reference.as_deref();
        if let Some(order) = order_id.and_then(|id| inner.orders.get_mut(id)) {
            order.event_ids.push(event.id.clone());
        }
        // A completed checkout can still be unpaid (a delayed payment method); its
        // AsyncPaymentSucceeded event comes later and fulfils then.
        let fulfils = matches!(
            event.kind,
            WebhookEventKind::CheckoutCompleted | WebhookEventKind::AsyncPaymentSucceeded
        );
        if !fulfils {
            let reason = format!("{} needs no action here", event.event_type);
            return outcome("ignored", order_id, Some(reason));
        }
        match confirm(&mut inner, checkout, PaidVia::Webhook) {
            Ok(Confirmed::MarkedPaid(_)) => outcome("marked_paid", order_id, None),
            Ok(Confirmed::AlreadyPaid(_)) => outcome("already_paid", order_id, None),
            Err(NotConfirmed::NotPaid(_)) => outcome("not_paid", order_id, None),
            Err(NotConfirmed::UnknownOrder) => {
                outcome("ignored", order_id, Some("no such order".into()))
            }
            Err(NotConfirmed::Mismatch(_, reason)) => outcome("ignored", order_id, Some(reason)),
        }
    }
}

/// The pending → paid transition, with every check the gateway's checkout must pass.
fn confirm(
    inner: &mut Inner,
    checkout: &CheckoutResult,
    via: PaidVia,
) -> Result<Confirmed, NotConfirmed> {
    let order = checkout
        .reference
        .as_deref()
        .and_then(|id| inner.orders.get_mut(id))
        .ok_or(NotConfirmed::UnknownOrder)?;
    if order
        .checkout_id
        .as_deref()
        .is_some_and(|expected| expected != checkout.id)
    {
        let reason = format!("checkout {} is not this order's checkout", checkout.id);
        return Err(NotConfirmed::Mismatch(Box::new(order.clone()), reason));
    }
    if !checkout.is_paid() {
        return Err(NotConfirmed::NotPaid(Box::new(order.clone())));
    }
    // The gateway charged its own price for the SKU; refuse to fulfil if it differs from
    // ours (a catalog that drifted from the gateway's prices).
    if let Some(paid) = checkout.amount_total {
        if paid != order.price {
            let reason = format!(
                "the gateway charged {paid}, the order costs {}",
                order.price
            );
            return Err(NotConfirmed::Mismatch(Box::new(order.clone()), reason));
        }
    }
    if order.status == OrderStatus::Paid {
        return Ok(Confirmed::AlreadyPaid(Box::new(order.clone())));
    }
    order.status = OrderStatus::Paid;
    order.times_marked_paid += 1;
    order.paid_via = Some(via);
    Ok(Confirmed::MarkedPaid(Box::new(order.clone())))
}
