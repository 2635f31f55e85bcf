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
//! A paid subscription order also learns the gateway's customer and subscription ids (from
//! the checkout, or from the subscription an event carries), which the account page needs;
//! and subscription and refund events update the shop's records of those objects
//! ([`crate::billing`]), after the same deduplication.
//!
//! Everything happens under one lock, so the check and the change cannot interleave with
//! another request. A real application keeps this in its database: a unique constraint on
//! processed event ids and an `UPDATE … WHERE status = 'pending'` give the same guarantees.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};

use payswitch::{
    CheckoutResult, Money, ProviderKind, Refund, Subscription, WebhookEvent, WebhookEventKind,
};
use serde::Serialize;

use crate::billing::{refunds_payment, Billing, Recorded, RefundRecord, SubscriptionRecord};
use crate::catalog::{Billing as Cadence, Offer};

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
    /// Whether the order is a subscription (else a one-time purchase).
    pub subscription: bool,
    /// The gateway's customer id, once the order is paid and the gateway said.
    pub customer_id: Option<String>,
    /// The gateway's payment id, once paid (what a refund refunds).
    pub payment_id: Option<String>,
    /// The gateway's subscription id, once a subscription order is paid and the gateway said.
    pub subscription_id: Option<String>,
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
    /// `duplicate`, `marked_paid`, `already_paid`, `not_paid`, `subscription_recorded`,
    /// `subscription_tied` (another state of the same time is held: retrieve to settle),
    /// `subscription_settled` (retrieved after a tie), `refund_recorded`, `stale` (an older
    /// state than the one held) or `ignored`.
    pub outcome: &'static str,
    /// The order the event was about, when it named one of ours.
    pub order_id: Option<String>,
    /// Why nothing changed, when nothing did.
    pub reason: Option<String>,
    /// The subscription to retrieve from the gateway to settle a tie, when there is one.
    #[serde(skip)]
    pub settle: Option<String>,
}

impl EventOutcome {
    fn new(
        event: &WebhookEvent,
        outcome: &'static str,
        order_id: Option<&str>,
        reason: Option<String>,
    ) -> Self {
        Self {
            event_id: event.id.clone(),
            outcome,
            order_id: order_id.map(str::to_owned),
            reason,
            settle: None,
        }
    }
}

/// Processed-event bookkeeping and the orders, behind one lock.
#[derive(Debug, Default)]
struct Inner {
    next_order: u64,
    orders: BTreeMap<String, Order>,
    processed: HashSet<(ProviderKind, String)>,
    processed_ids: Vec<String>,
    duplicate_deliveries: u64,
    billing: Billing,
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
    /// Every subscription as its latest event reported it.
    pub subscriptions: Vec<SubscriptionRecord>,
    /// Every refund as last reported.
    pub refunds: Vec<RefundRecord>,
}

/// One order with what the webhooks said about its subscription and refunds.
#[derive(Debug, Clone, Serialize)]
pub struct OrderRecords {
    /// The order.
    pub order: Order,
    /// Its subscription as the latest event reported it, when one did.
    pub subscription: Option<SubscriptionRecord>,
    /// The refunds of its payment.
    pub refunds: Vec<RefundRecord>,
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
            subscription: offer.billing == Cadence::Monthly,
            customer_id: None,
            payment_id: None,
            subscription_id: None,
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
            subscriptions: inner.billing.subscriptions().cloned().collect(),
            refunds: inner.billing.refunds().cloned().collect(),
        }
    }

    /// One order with its subscription and refund records.
    pub fn records(&self, order_id: &str) -> Option<OrderRecords> {
        let inner = self.lock();
        let order = inner.orders.get(order_id)?.clone();
        let subscription = order
            .subscription_id
            .as_deref()
            .and_then(|id| inner.billing.subscription(id))
            .cloned();
        let refunds = inner
            .billing
            .refunds_for(order.checkout_id.as_deref(), order.payment_id.as_deref());
        Some(OrderRecords {
            order,
            subscription,
            refunds,
        })
    }

    /// Learns the gateway's ids from a paid checkout retrieved for its order (the account
    /// page does this when no signal has told us the subscription yet).
    pub fn learn_ids(&self, checkout: &CheckoutResult) {
        let mut inner = self.lock();
        if let Some(order) = order_of_checkout(&mut inner, checkout) {
            learn_ids(order, checkout);
        }
    }

    /// Records the gateway's answer to a refund request.
    pub fn record_refund(&self, refund: &Refund) {
        self.lock().billing.record_refund_answer(refund);
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
        // Gateways deliver at least once; the id is the same on every delivery of an event.
        if !inner.processed.insert((event.provider, event.id.clone())) {
            inner.duplicate_deliveries += 1;
            return EventOutcome::new(event, "duplicate", None, None);
        }
        inner.processed_ids.push(event.id.clone());
        // An event may carry a subscription or a refund besides (or instead of) a checkout;
        // each is recorded, and the checkout, when there is one, decides the answer.
        let mut answer = None;
        let mut settle = None;
        if let Some(subscription) = &event.subscription {
            let recorded =
                inner
                    .billing
                    .record_subscription(subscription, event.created_at, &event.id);
            let order_id = link_subscription(&mut inner, subscription, event);
            let word = match recorded {
                Recorded::Updated => "subscription_recorded",
                Recorded::Stale => "stale",
                Recorded::Tied => {
                    settle = Some(subscription.id.clone());
                    "subscription_tied"
                }
            };
            answer = Some(EventOutcome::new(event, word, order_id.as_deref(), None));
        }
        if let Some(refund) = &event.refund {
            let recorded = inner
                .billing
                .record_refund_event(refund, event.created_at, &event.id);
            let order_id = order_of_refund(&inner, refund);
            if let Some(order) = order_id.as_deref().and_then(|id| inner.orders.get_mut(id)) {
                note_event(order, &event.id);
            }
            let word = match recorded {
                Recorded::Updated | Recorded::Tied => "refund_recorded",
                Recorded::Stale => "stale",
            };
            answer = Some(EventOutcome::new(event, word, order_id.as_deref(), None));
        }
        let mut outcome = checkout_outcome(&mut inner, event, answer);
        outcome.settle = settle;
        outcome
    }

    /// Records a subscription retrieved to settle a tie between events of the event's time
    /// (see [`EventOutcome::settle`]).
    pub fn settle_subscription(
        &self,
        subscription: &Subscription,
        event: &WebhookEvent,
    ) -> Recorded {
        self.lock()
            .billing
            .settle_subscription(subscription, event.created_at, &event.id)
    }
}

/// What an event's checkout does (the pending → paid transition), or `answer` (what its
/// subscription or refund did) when it has no checkout that fulfils.
fn checkout_outcome(
    inner: &mut Inner,
    event: &WebhookEvent,
    answer: Option<EventOutcome>,
) -> EventOutcome {
    let outcome =
        |word, order_id: Option<&str>, reason| EventOutcome::new(event, word, order_id, reason);
    let Some(checkout) = &event.checkout else {
        return answer.unwrap_or_else(|| {
            outcome(
                "ignored",
                None,
                Some("the event carries no checkout, subscription or refund".into()),
            )
        });
    };
    let order_id = checkout.reference.as_deref();
    if let Some(order) = order_id.and_then(|id| inner.orders.get_mut(id)) {
        note_event(order, &event.id);
    }
    // A completed checkout can still be unpaid (a delayed payment method); its
    // AsyncPaymentSucceeded event comes later and fulfils then.
    let fulfils = matches!(
        event.kind,
        WebhookEventKind::CheckoutCompleted | WebhookEventKind::AsyncPaymentSucceeded
    );
    if !fulfils {
        if let Some(answer) = answer {
            return answer;
        }
        let reason = format!("{} needs no action here", event.event_type);
        return outcome("ignored", order_id, Some(reason));
    }
    match confirm(inner, checkout, PaidVia::Webhook) {
        Ok(Confirmed::MarkedPaid(_)) => outcome("marked_paid", order_id, None),
        Ok(Confirmed::AlreadyPaid(_)) => outcome("already_paid", order_id, None),
        Err(NotConfirmed::NotPaid(_)) => outcome("not_paid", order_id, None),
        Err(NotConfirmed::UnknownOrder) => {
            outcome("ignored", order_id, Some("no such order".into()))
        }
        Err(NotConfirmed::Mismatch(_, reason)) => outcome("ignored", order_id, Some(reason)),
    }
}

/// Adds an event id to the order's list once (one event can name the order twice, through
/// its checkout and its subscription).
fn note_event(order: &mut Order, event_id: &str) {
    if !order.event_ids.iter().any(|id| id == event_id) {
        order.event_ids.push(event_id.to_owned());
    }
}

/// The order a checkout belongs to: the one its reference names, if the checkout is that
/// order's own.
fn order_of_checkout<'a>(inner: &'a mut Inner, checkout: &CheckoutResult) -> Option<&'a mut Order> {
    let order = inner.orders.get_mut(checkout.reference.as_deref()?)?;
    (order.checkout_id.as_deref() == Some(checkout.id.as_str())).then_some(order)
}

/// Copies the gateway's ids from a paid checkout onto its order, keeping ids already known.
fn learn_ids(order: &mut Order, checkout: &CheckoutResult) {
    if !checkout.is_paid() {
        return;
    }
    for (ours, theirs) in [
        (&mut order.customer_id, &checkout.customer_id),
        (&mut order.payment_id, &checkout.payment_id),
        (&mut order.subscription_id, &checkout.subscription_id),
    ] {
        if ours.is_none() {
            ours.clone_from(theirs);
        }
    }
}

/// Finds the order of an event's subscription and ties them together: the order whose
/// subscription it already is, else the order the event's checkout or the subscription's
/// reference names (a subscription order without a subscription yet). Returns its id.
fn link_subscription(
    inner: &mut Inner,
    subscription: &Subscription,
    event: &WebhookEvent,
) -> Option<String> {
    let known = inner
        .orders
        .values()
        .find(|order| order.subscription_id.as_deref() == Some(subscription.id.as_str()))
        .map(|order| order.id.clone());
    let order_id = known.or_else(|| {
        let order = match &event.checkout {
            // Only the order's own checkout: a reference alone could name any order.
            Some(checkout) => inner
                .orders
                .get(checkout.reference.as_deref()?)
                .filter(|order| order.checkout_id.as_deref() == Some(checkout.id.as_str()))?,
            None => inner.orders.get(subscription.reference.as_deref()?)?,
        };
        (order.subscription && order.subscription_id.is_none()).then(|| order.id.clone())
    })?;
    let order = inner.orders.get_mut(&order_id)?;
    order.subscription_id = Some(subscription.id.clone());
    if order.customer_id.is_none() {
        order.customer_id.clone_from(&subscription.customer_id);
    }
    note_event(order, &event.id);
    Some(order_id)
}

/// The order whose payment a refund refunds.
fn order_of_refund(inner: &Inner, refund: &Refund) -> Option<String> {
    let refunded = (refund.checkout_id.as_deref(), refund.payment_id.as_deref());
    inner
        .orders
        .values()
        .find(|order| {
            refunds_payment(
                refunded,
                (order.checkout_id.as_deref(), order.payment_id.as_deref()),
            )
        })
        .map(|order| order.id.clone())
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
    learn_ids(order, checkout);
    if order.status == OrderStatus::Paid {
        return Ok(Confirmed::AlreadyPaid(Box::new(order.clone())));
    }
    order.status = OrderStatus::Paid;
    order.times_marked_paid += 1;
    order.paid_via = Some(via);
    Ok(Confirmed::MarkedPaid(Box::new(order.clone())))
}

#[cfg(test)]
mod tests {
    use payswitch::{
        CheckoutStatus, PaymentStatus, RefundStatus, SubscriptionStatus, WebhookEventKind,
    };
    use time::macros::datetime;
    use time::OffsetDateTime;

    use super::*;
    use crate::catalog;

    const KIND: ProviderKind = ProviderKind::MEMORY;

    fn event(id: &str, kind: WebhookEventKind, at: OffsetDateTime) -> WebhookEvent {
        WebhookEvent::new(id, KIND, kind, "test.event", at)
    }

    fn paid_checkout(order: &Order, subscription_id: Option<&str>) -> CheckoutResult {
        let mut checkout =
            CheckoutResult::new("cs_1", KIND, CheckoutStatus::Complete, PaymentStatus::Paid);
        checkout.reference = Some(order.id.clone());
        checkout.amount_total = Some(order.price);
        checkout.customer_id = Some("cus_1".into());
        checkout.payment_id = Some("pay_1".into());
        checkout.subscription_id = subscription_id.map(str::to_owned);
        checkout
    }

    fn subscription(cancel_scheduled: bool) -> Subscription {
        let mut subscription = Subscription::new("sub_1", KIND, SubscriptionStatus::Active);
        subscription.customer_id = Some("cus_1".into());
        subscription.cancel_at_period_end = cancel_scheduled;
        subscription
    }

    fn subscription_order(orders: &Orders) -> Order {
        let order = orders.create(catalog::find("pro_monthly").expect("offer"));
        orders.attach_checkout(&order.id, "cs_1");
        order
    }

    #[test]
    fn a_paid_subscription_order_learns_its_ids() {
        let orders = Orders::new("memory", 1);
        let order = subscription_order(&orders);
        assert!(order.subscription);
        let confirmed = orders
            .confirm_paid(&paid_checkout(&order, Some("sub_1")), PaidVia::Return)
            .expect("paid");
        let paid = confirmed.order();
        assert_eq!(paid.customer_id.as_deref(), Some("cus_1"));
        assert_eq!(paid.subscription_id.as_deref(), Some("sub_1"));
        assert_eq!(paid.payment_id.as_deref(), Some("pay_1"));
    }

    #[test]
    fn a_checkout_event_ties_its_subscription_to_the_order() {
        let orders = Orders::new("memory", 1);
        let order = subscription_order(&orders);
        // The checkout names no subscription (as on some gateways); the event carries it.
        let mut completed = event(
            "evt_1",
            WebhookEventKind::CheckoutCompleted,
            datetime!(2030-01-01 12:00 UTC),
        );
        completed.checkout = Some(paid_checkout(&order, None));
        completed.subscription = Some(subscription(false));
        assert_eq!(orders.apply_event(&completed).outcome, "marked_paid");
        let records = orders.records(&order.id).expect("order");
        assert_eq!(records.order.subscription_id.as_deref(), Some("sub_1"));
        assert_eq!(records.order.event_ids, ["evt_1"]);
        let record = records.subscription.expect("recorded");
        assert_eq!(record.status, SubscriptionStatus::Active);
    }

    #[test]
    fn subscription_events_out_of_order() {
        let orders = Orders::new("memory", 1);
        let order = subscription_order(&orders);
        orders
            .confirm_paid(&paid_checkout(&order, Some("sub_1")), PaidVia::Return)
            .expect("paid");
        let mut scheduled = event(
            "evt_cancel",
            WebhookEventKind::SubscriptionCancelScheduled,
            datetime!(2030-01-01 12:00 UTC),
        );
        scheduled.subscription = Some(subscription(true));
        let mut resumed = event(
            "evt_resume",
            WebhookEventKind::SubscriptionUpdated,
            datetime!(2030-01-01 12:01 UTC),
        );
        resumed.subscription = Some(subscription(false));
        // The later event arrives first; the earlier one changes nothing.
        let first = orders.apply_event(&resumed);
        assert_eq!(first.outcome, "subscription_recorded");
        assert_eq!(first.order_id.as_deref(), Some(order.id.as_str()));
        assert_eq!(orders.apply_event(&scheduled).outcome, "stale");
        assert_eq!(orders.apply_event(&scheduled).outcome, "duplicate");
        let records = orders.records(&order.id).expect("order");
        let record = records.subscription.expect("recorded");
        assert!(!record.cancel_scheduled);
        assert_eq!(record.event_id, "evt_resume");
        assert_eq!(records.order.event_ids, ["evt_resume", "evt_cancel"]);
    }

    #[test]
    fn refund_events_find_the_order_by_checkout_or_payment() {
        let orders = Orders::new("memory", 1);
        let order = orders.create(catalog::find("pro_licence").expect("offer"));
        orders.attach_checkout(&order.id, "cs_1");
        orders
            .confirm_paid(&paid_checkout(&order, None), PaidVia::Webhook)
            .expect("paid");
        let mut refund = Refund::new("re_1", KIND, RefundStatus::Pending);
        // Only the payment id, as Stripe reports a refund.
        refund.payment_id = Some("pay_1".into());
        orders.record_refund(&refund);
        refund.status = RefundStatus::Succeeded;
        let mut refunded = event(
            "evt_refund",
            WebhookEventKind::Refunded,
            datetime!(2030-01-01 12:00 UTC),
        );
        refunded.refund = Some(refund);
        let outcome = orders.apply_event(&refunded);
        assert_eq!(outcome.outcome, "refund_recorded");
        assert_eq!(outcome.order_id.as_deref(), Some(order.id.as_str()));
        let records = orders.records(&order.id).expect("order");
        assert_eq!(records.refunds.len(), 1);
        assert_eq!(records.refunds[0].status, RefundStatus::Succeeded);
        assert_eq!(records.order.event_ids, ["evt_refund"]);
    }

    #[test]
    fn an_event_with_nothing_for_us_is_ignored() {
        let orders = Orders::new("memory", 1);
        let outcome = orders.apply_event(&event(
            "evt_x",
            WebhookEventKind::Disputed,
            datetime!(2030-01-01 12:00 UTC),
        ));
        assert_eq!(outcome.outcome, "ignored");
    }
}
