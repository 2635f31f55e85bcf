//! Creem's billing objects → the normalized `Subscription`, `Refund`, `Customer` and
//! `PortalSession`; lifecycle requests → Creem's bodies; and the pure rules that decide, from
//! a subscription's or a transaction's state, whether a lifecycle call is sent, answered
//! without a call, or refused with `InvalidState`.
//!
//! Creem's error answers carry no machine-readable code that tells "wrong state" from any
//! other 400, so these rules run on the state read just before the call (see `lifecycle.rs`).

use std::collections::BTreeMap;
use std::sync::Arc;

use payswitch_core::adapter::wire::Expandable;
use payswitch_core::{
    CancelAt, Catalog, Customer, CustomerRequest, Money, PaymentError, PortalRequest,
    PortalSession, Product, Proration, RawJson, Refund, RefundReason, RefundStatus, Subscription,
    SubscriptionItem, SubscriptionStatus,
};
use serde::Deserialize;
use time::OffsetDateTime;

use super::{decode_error, metadata, money_from_wire};
use crate::config::KIND;
use crate::wire;
use crate::wire::billing as bill;

// ---------------------------------------------------------------------------------------------
// Subscriptions
// ---------------------------------------------------------------------------------------------

/// A normalized subscription and the Creem status it was normalized from (the lifecycle rules
/// decide on Creem's own word: `scheduled_cancel` and `expired` have no payswitch twin).
#[derive(Debug, Clone)]
pub(crate) struct DecodedSubscription {
    pub(crate) subscription: Subscription,
    pub(crate) status: wire::SubscriptionStatus,
}

/// Decodes a `SubscriptionEntity` answer (retrieve, cancel, pause, resume, upgrade, update).
pub(crate) fn decode_subscription(body: &[u8]) -> Result<DecodedSubscription, PaymentError> {
    let raw: serde_json::Value =
        serde_json::from_slice(body).map_err(|error| decode_error("creem subscription", error))?;
    let wire = wire::Subscription::deserialize(&raw)
        .map_err(|error| decode_error("creem subscription", error))?;
    subscription(&wire, raw.into())
}

/// Decodes the subscription at `pointer` inside an already parsed document (a webhook's
/// `/object`, or a checkout's `/object/subscription`).
pub(crate) fn subscription_at(
    root: &Arc<serde_json::Value>,
    pointer: &'static str,
) -> Result<Subscription, PaymentError> {
    let raw = RawJson::at(root, pointer);
    let wire = wire::Subscription::deserialize(raw.value())
        .map_err(|error| decode_error("creem subscription", error))?;
    subscription(&wire, raw).map(|decoded| decoded.subscription)
}

/// One page of `GET /v1/customers/{id}/subscriptions`: the subscriptions and the next page
/// number, `None` on the last page.
pub(crate) fn decode_subscription_page(
    body: &[u8],
) -> Result<(Vec<Subscription>, Option<i64>), PaymentError> {
    let raw: serde_json::Value = serde_json::from_slice(body)
        .map_err(|error| decode_error("creem subscription list", error))?;
    let list = bill::SubscriptionList::deserialize(&raw)
        .map_err(|error| decode_error("creem subscription list", error))?;
    let raw_items = raw["items"].as_array();
    let mut subscriptions = Vec::with_capacity(list.items.len());
    for (index, item) in list.items.iter().enumerate() {
        let raw_item = raw_items
            .and_then(|items| items.get(index))
            .cloned()
            .unwrap_or_default();
        subscriptions.push(subscription(item, raw_item.into())?.subscription);
    }
    let next = list
        .pagination
        .and_then(|pagination| pagination.next_page)
        .map(|wire::Integer(page)| page);
    Ok((subscriptions, next))
}

/// What a Creem status means in payswitch's model.
struct Lifecycle {
    status: SubscriptionStatus,
    /// `scheduled_cancel`: active until the period ends.
    cancel_scheduled: bool,
    /// `trialing`: the current period is the trial.
    in_trial: bool,
    /// `canceled`: it ended when it was canceled.
    ended: bool,
}

/// Creem's subscription status in payswitch's vocabulary.
///
/// `expired` becomes `PastDue`, not `Expired`: Creem sends it when a period ran out unpaid and
/// says payment retries may follow and that only `canceled` is terminal, so it must not read
/// as ended (`SubscriptionStatus::is_ended`).
fn lifecycle(status: &wire::SubscriptionStatus) -> Lifecycle {
    let plain = |status| Lifecycle {
        status,
        cancel_scheduled: false,
        in_trial: false,
        ended: false,
    };
    match status {
        wire::SubscriptionStatus::Active => plain(SubscriptionStatus::Active),
        wire::SubscriptionStatus::Trialing => Lifecycle {
            in_trial: true,
            ..plain(SubscriptionStatus::Trialing)
        },
        wire::SubscriptionStatus::Paused => plain(SubscriptionStatus::Paused),
        wire::SubscriptionStatus::Canceled => Lifecycle {
            ended: true,
            ..plain(SubscriptionStatus::Canceled)
        },
        wire::SubscriptionStatus::Unpaid => plain(SubscriptionStatus::Unpaid),
        wire::SubscriptionStatus::PastDue | wire::SubscriptionStatus::Expired => {
            plain(SubscriptionStatus::PastDue)
        }
        wire::SubscriptionStatus::ScheduledCancel => Lifecycle {
            cancel_scheduled: true,
            ..plain(SubscriptionStatus::Active)
        },
        wire::SubscriptionStatus::Unknown(other) => plain(SubscriptionStatus::Other(other.clone())),
    }
}

/// Normalizes a Creem subscription.
pub(crate) fn subscription(
    wire: &wire::Subscription,
    raw: RawJson,
) -> Result<DecodedSubscription, PaymentError> {
    if wire.id.trim().is_empty() {
        return Err(PaymentError::decode(
            "creem subscription",
            "the id is empty",
        ));
    }
    let Some(status) = wire.status.clone() else {
        return Err(PaymentError::decode(
            "creem subscription",
            "the subscription has no status",
        ));
    };
    let meaning = lifecycle(&status);
    let period_end = instant(wire.current_period_end_date.as_ref());
    let canceled_at = instant(wire.canceled_at.as_ref());
    let mut subscription = Subscription::new(&wire.id, KIND, meaning.status);
    subscription.customer_id = wire
        .customer
        .as_ref()
        .map(|customer| customer.id().to_owned());
    subscription.items = items(wire)?;
    subscription.current_period_start = instant(wire.current_period_start_date.as_ref());
    subscription.current_period_end = period_end;
    // Creem has no trial-end field; a trialing subscription's period is its trial.
    subscription.trial_end = period_end.filter(|_| meaning.in_trial);
    subscription.cancel_at_period_end = meaning.cancel_scheduled;
    subscription.cancel_at = period_end.filter(|_| meaning.cancel_scheduled);
    subscription.canceled_at = canceled_at;
    // Creem has no end time of its own; a canceled subscription ended when it was canceled.
    subscription.ended_at = canceled_at.filter(|_| meaning.ended);
    subscription.created_at = instant(wire.created_at.as_ref());
    subscription.metadata = metadata(wire.metadata.as_ref());
    subscription.raw = raw;
    Ok(DecodedSubscription {
        subscription,
        status,
    })
}

/// The subscription's items. `units` is nullable in Creem's spec; an item without units is
/// one unit (a subscription sold without seats). The unit price is known when the product is
/// expanded and is the item's product.
fn items(wire: &wire::Subscription) -> Result<Vec<SubscriptionItem>, PaymentError> {
    let product = wire.product.as_ref().and_then(Expandable::object);
    let mut items = Vec::new();
    for item in wire.items.iter().flatten() {
        let quantity = match item.units {
            None => 1,
            Some(wire::Integer(units)) => u32::try_from(units).map_err(|_| {
                PaymentError::decode("creem subscription item", "units is out of range")
            })?,
        };
        let mut normalized = SubscriptionItem::new(quantity);
        normalized.id = item.id.clone();
        normalized.product_id = item.product_id.clone();
        normalized.price_id = item.price_id.clone();
        normalized.unit_amount = match product {
            Some(product) if item.product_id.as_deref() == Some(product.id.as_str()) => {
                unit_price(product)?
            }
            Some(_) | None => None,
        };
        items.push(normalized);
    }
    Ok(items)
}

fn unit_price(product: &wire::Product) -> Result<Option<Money>, PaymentError> {
    let (Some(wire::Integer(price)), Some(currency)) = (product.price, &product.currency) else {
        return Ok(None);
    };
    money_from_wire("creem product price", price, currency).map(Some)
}

/// An entity timestamp, when readable.
pub(crate) fn instant(timestamp: Option<&wire::Timestamp>) -> Option<OffsetDateTime> {
    match timestamp? {
        wire::Timestamp::At(at) => Some(*at),
        wire::Timestamp::Unreadable(_) => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Lifecycle rules and request bodies
// ---------------------------------------------------------------------------------------------

/// What to do with a lifecycle call, given the subscription's current state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Precheck {
    /// Send the call.
    Send,
    /// The subscription is already as asked: answer with it, send nothing.
    AlreadyDone,
    /// The call makes no sense in this state: `InvalidState` with this message, send nothing.
    Refuse(String),
}

fn refuse(what: &str, status: &wire::SubscriptionStatus) -> Precheck {
    Precheck::Refuse(format!("{what} (Creem status {:?})", status.as_str()))
}

/// `cancel_subscription`: a canceled subscription cannot be canceled again; a cancellation
/// already scheduled is what `PeriodEnd` asks for. An unknown status is left to Creem.
pub(crate) fn cancel_precheck(status: &wire::SubscriptionStatus, at: CancelAt) -> Precheck {
    match (status, at) {
        (wire::SubscriptionStatus::Canceled, CancelAt::PeriodEnd | CancelAt::Immediately) => {
            refuse("the subscription is already canceled", status)
        }
        (wire::SubscriptionStatus::ScheduledCancel, CancelAt::PeriodEnd) => Precheck::AlreadyDone,
        (wire::SubscriptionStatus::ScheduledCancel, CancelAt::Immediately)
        | (
            wire::SubscriptionStatus::Active
            | wire::SubscriptionStatus::Trialing
            | wire::SubscriptionStatus::Paused
            | wire::SubscriptionStatus::Unpaid
            | wire::SubscriptionStatus::PastDue
            | wire::SubscriptionStatus::Expired
            | wire::SubscriptionStatus::Unknown(_),
            CancelAt::PeriodEnd | CancelAt::Immediately,
        ) => Precheck::Send,
    }
}

/// `resume_subscription`: Creem resumes a subscription that is `paused` or
/// `scheduled_cancel` (its resume endpoint says so); anything else has nothing to resume.
pub(crate) fn resume_precheck(status: &wire::SubscriptionStatus) -> Precheck {
    match status {
        wire::SubscriptionStatus::Paused
        | wire::SubscriptionStatus::ScheduledCancel
        | wire::SubscriptionStatus::Unknown(_) => Precheck::Send,
        wire::SubscriptionStatus::Canceled => refuse(
            "the subscription is canceled, which cannot be undone",
            status,
        ),
        wire::SubscriptionStatus::Active
        | wire::SubscriptionStatus::Trialing
        | wire::SubscriptionStatus::Unpaid
        | wire::SubscriptionStatus::PastDue
        | wire::SubscriptionStatus::Expired => refuse(
            "the subscription has nothing to resume: it is neither paused nor scheduled to cancel",
            status,
        ),
    }
}

/// `pause_subscription`: a paused subscription is already as asked; a canceled one cannot be
/// paused. Everything else is left to Creem.
pub(crate) fn pause_precheck(status: &wire::SubscriptionStatus) -> Precheck {
    match status {
        wire::SubscriptionStatus::Paused => Precheck::AlreadyDone,
        wire::SubscriptionStatus::Canceled => {
            refuse("a canceled subscription cannot be paused", status)
        }
        wire::SubscriptionStatus::Active
        | wire::SubscriptionStatus::Trialing
        | wire::SubscriptionStatus::Unpaid
        | wire::SubscriptionStatus::PastDue
        | wire::SubscriptionStatus::Expired
        | wire::SubscriptionStatus::ScheduledCancel
        | wire::SubscriptionStatus::Unknown(_) => Precheck::Send,
    }
}

/// `CancelAt` → Creem's cancellation `mode`.
pub(crate) fn cancel_body(at: CancelAt) -> bill::CancelSubscriptionRequest {
    bill::CancelSubscriptionRequest {
        mode: match at {
            CancelAt::PeriodEnd => bill::CancelMode::Scheduled,
            CancelAt::Immediately => bill::CancelMode::Immediate,
        },
    }
}

/// `Proration` → Creem's `update_behavior`.
pub(crate) fn update_behavior(proration: Proration) -> bill::UpdateBehavior {
    match proration {
        Proration::Prorate => bill::UpdateBehavior::ProrationCharge,
        Proration::NoProration => bill::UpdateBehavior::ProrationNone,
        Proration::InvoiceNow => bill::UpdateBehavior::ProrationChargeImmediately,
    }
}

/// The Creem product a plan change moves to: a catalog SKU resolved like a checkout's line
/// item, or a Creem product id as is.
pub(crate) fn plan_product_id<'a>(
    plan: &'a Product,
    catalog: &'a Catalog,
) -> Result<&'a str, PaymentError> {
    match plan {
        Product::Sku(sku) => catalog.resolve(sku, KIND).ok_or_else(|| {
            PaymentError::invalid(
                "plan",
                format!("SKU {sku:?} has no {KIND} product id in the catalog"),
            )
        }),
        Product::Native(id) => Ok(id),
        Product::Custom(_) => Err(PaymentError::invalid(
            "plan",
            "a plan change takes a catalog SKU or a Creem product id, not a custom-priced product",
        )),
    }
}

/// The item a quantity change applies to: the one named, or the only one.
pub(crate) fn select_item<'a>(
    subscription: &'a Subscription,
    item_id: Option<&str>,
) -> Result<&'a SubscriptionItem, PaymentError> {
    let found = match (item_id, subscription.items.as_slice()) {
        (Some(wanted), items) => items
            .iter()
            .find(|item| item.id.as_deref() == Some(wanted))
            .ok_or_else(|| {
                PaymentError::invalid(
                    "item_id",
                    format!("subscription {:?} has no item {wanted:?}", subscription.id),
                )
            })?,
        (None, [only]) => only,
        (None, items) => {
            return Err(PaymentError::invalid(
                "item_id",
                format!(
                    "subscription {:?} has {} items; name the one to change",
                    subscription.id,
                    items.len()
                ),
            ))
        }
    };
    match found.id {
        Some(_) => Ok(found),
        None => Err(PaymentError::decode(
            "creem subscription item",
            "the item has no id, so its units cannot be changed",
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Transactions and refunds
// ---------------------------------------------------------------------------------------------

/// Where the money to refund is: a transaction by id, or the transaction of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PaymentSource {
    Transaction(String),
    Order(String),
}

/// A `RefundTarget::Payment` id: an order (`ord_…`, what `CheckoutResult::payment_id` holds)
/// or else a transaction (`tran_…`; Creem's own examples also spell them `txn_…`, so the
/// prefix is not checked and Creem answers `NotFound` for what is not one).
pub(crate) fn payment_source(id: &str) -> PaymentSource {
    if id.starts_with("ord_") {
        PaymentSource::Order(id.to_owned())
    } else {
        PaymentSource::Transaction(id.to_owned())
    }
}

/// The payment of a retrieved checkout: its order's transaction when the order is expanded
/// and names it, else the order. A checkout without an order was never paid.
pub(crate) fn checkout_payment(body: &[u8]) -> Result<PaymentSource, PaymentError> {
    let checkout: wire::Checkout =
        serde_json::from_slice(body).map_err(|error| decode_error("creem checkout", error))?;
    match &checkout.order {
        Some(Expandable::Object(order)) => match order.transaction.as_deref() {
            Some(transaction) if !transaction.trim().is_empty() => {
                Ok(PaymentSource::Transaction(transaction.to_owned()))
            }
            Some(_) | None => Ok(PaymentSource::Order(order.id.clone())),
        },
        Some(Expandable::Id(order)) => Ok(PaymentSource::Order(order.clone())),
        None => Err(PaymentError::InvalidState {
            message: format!("checkout {:?} has no order: nothing was paid", checkout.id),
            gateway: None,
        }),
    }
}

/// Decodes `GET /v1/transactions?transaction_id=`'s answer.
pub(crate) fn decode_transaction(body: &[u8]) -> Result<bill::Transaction, PaymentError> {
    let transaction: bill::Transaction =
        serde_json::from_slice(body).map_err(|error| decode_error("creem transaction", error))?;
    if transaction.id.trim().is_empty() {
        return Err(PaymentError::decode("creem transaction", "the id is empty"));
    }
    Ok(transaction)
}

/// Picks the transaction of `order_id` from `GET /v1/transactions/search?order_id=`'s answer:
/// the one that can still be refunded, or the only one.
pub(crate) fn transaction_of_order(
    body: &[u8],
    order_id: &str,
) -> Result<bill::Transaction, PaymentError> {
    let list: bill::TransactionList = serde_json::from_slice(body)
        .map_err(|error| decode_error("creem transaction list", error))?;
    let of_order: Vec<bill::Transaction> = list
        .items
        .into_iter()
        .filter(|transaction| {
            // Creem filters on the order already; an item naming another order is skipped.
            transaction
                .order
                .as_ref()
                .is_none_or(|order| order.id() == order_id)
        })
        .collect();
    let refundable: Vec<&bill::Transaction> = of_order
        .iter()
        .filter(|transaction| is_paid(transaction.status.as_ref()))
        .collect();
    match (refundable.as_slice(), of_order.first()) {
        ([only], _) => Ok((*only).clone()),
        ([], Some(first)) => Ok(first.clone()),
        ([], None) => Err(PaymentError::InvalidState {
            message: format!("order {order_id:?} has no transaction: nothing was paid"),
            gateway: None,
        }),
        ([_, _, ..], _) => Err(PaymentError::invalid(
            "target",
            format!(
                "order {order_id:?} has {} paid transactions; refund one by its transaction id (tran_…)",
                refundable.len()
            ),
        )),
    }
}

fn is_paid(status: Option<&bill::TransactionStatus>) -> bool {
    match status {
        Some(bill::TransactionStatus::Paid | bill::TransactionStatus::PartialRefund) => true,
        Some(
            bill::TransactionStatus::Pending
            | bill::TransactionStatus::Refunded
            | bill::TransactionStatus::ChargedBack
            | bill::TransactionStatus::Uncollectible
            | bill::TransactionStatus::Declined
            | bill::TransactionStatus::Void
            | bill::TransactionStatus::Canceled
            | bill::TransactionStatus::Unknown(_),
        )
        | None => false,
    }
}

/// Refuses, before `POST /v1/refunds`, a transaction with nothing left to refund. An unknown
/// or absent status is left to Creem.
pub(crate) fn check_refundable(transaction: &bill::Transaction) -> Result<(), PaymentError> {
    let state = |message: String| {
        Err(PaymentError::InvalidState {
            message,
            gateway: None,
        })
    };
    let id = &transaction.id;
    match &transaction.status {
        Some(bill::TransactionStatus::Paid | bill::TransactionStatus::PartialRefund) => {
            match (transaction.amount_paid, transaction.refunded_amount) {
                (Some(wire::Integer(paid)), Some(wire::Integer(refunded)))
                    if paid > 0 && refunded >= paid =>
                {
                    state(format!("transaction {id:?} is already refunded in full"))
                }
                (Some(_) | None, Some(_) | None) => Ok(()),
            }
        }
        Some(bill::TransactionStatus::Refunded) => {
            state(format!("transaction {id:?} is already refunded in full"))
        }
        Some(bill::TransactionStatus::ChargedBack) => state(format!(
            "transaction {id:?} was charged back; the customer already has the money"
        )),
        Some(
            status @ (bill::TransactionStatus::Pending
            | bill::TransactionStatus::Uncollectible
            | bill::TransactionStatus::Declined
            | bill::TransactionStatus::Void
            | bill::TransactionStatus::Canceled),
        ) => state(format!(
            "transaction {id:?} is {:?}: nothing was paid",
            status.as_str()
        )),
        Some(bill::TransactionStatus::Unknown(_)) | None => Ok(()),
    }
}

/// What is known about a refund besides Creem's refund object.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RefundContext<'a> {
    /// The refunded transaction, as read before the refund.
    pub(crate) transaction: Option<&'a bill::Transaction>,
    /// The checkout the application named.
    pub(crate) checkout_id: Option<&'a str>,
}

/// Decodes `POST /v1/refunds`'s answer. Creem documents only `status` in it, so the refund's
/// id falls back to the transaction's (one full refund per transaction identifies it; the
/// `ref_…` id arrives with `refund.created`), and the amount to what the transaction had left.
pub(crate) fn decode_refund_answer(
    body: &[u8],
    context: RefundContext<'_>,
) -> Result<Refund, PaymentError> {
    let raw: serde_json::Value =
        serde_json::from_slice(body).map_err(|error| decode_error("creem refund", error))?;
    let wire =
        bill::Refund::deserialize(&raw).map_err(|error| decode_error("creem refund", error))?;
    let fallback_id = context
        .transaction
        .map(|transaction| transaction.id.as_str());
    refund(&wire, fallback_id, context, raw.into())
}

/// Decodes the refund at `pointer` inside an already parsed document (a webhook's `/object`).
pub(crate) fn refund_at(
    root: &Arc<serde_json::Value>,
    pointer: &'static str,
) -> Result<Refund, PaymentError> {
    let raw = RawJson::at(root, pointer);
    let wire = bill::Refund::deserialize(raw.value())
        .map_err(|error| decode_error("creem refund", error))?;
    refund(&wire, None, RefundContext::default(), raw)
}

fn refund(
    wire: &bill::Refund,
    fallback_id: Option<&str>,
    context: RefundContext<'_>,
    raw: RawJson,
) -> Result<Refund, PaymentError> {
    let Some(id) = wire
        .id
        .as_deref()
        .filter(|id| !id.trim().is_empty())
        .or(fallback_id)
    else {
        return Err(PaymentError::decode("creem refund", "the refund has no id"));
    };
    let status = match &wire.status {
        Some(status) => refund_status(status),
        // Creem answered 200, so a refund exists; its state is unknown.
        None => RefundStatus::Other(String::new()),
    };
    let transaction = wire
        .transaction
        .as_ref()
        .and_then(Expandable::object)
        .or(context.transaction);
    let mut refund = Refund::new(id, KIND, status);
    refund.amount = match (wire.refund_amount, &wire.refund_currency) {
        (Some(wire::Integer(amount)), Some(currency)) => {
            Some(money_from_wire("creem refund amount", amount, currency)?)
        }
        (Some(_) | None, Some(_) | None) => match transaction {
            Some(transaction) => remaining(transaction)?,
            None => None,
        },
    };
    refund.payment_id = wire
        .transaction
        .as_ref()
        .map(|transaction| transaction.id().to_owned())
        .or_else(|| {
            context
                .transaction
                .map(|transaction| transaction.id.clone())
        });
    refund.checkout_id = wire
        .checkout
        .as_ref()
        .map(|checkout| checkout.id().to_owned())
        .or_else(|| context.checkout_id.map(str::to_owned));
    refund.subscription_id = wire
        .subscription
        .as_ref()
        .or_else(|| transaction.and_then(|transaction| transaction.subscription.as_ref()))
        .map(|subscription| subscription.id().to_owned());
    refund.reason = wire.reason.as_ref().map(refund_reason);
    refund.created_at = instant(wire.created_at.as_ref());
    refund.raw = raw;
    Ok(refund)
}

/// What a full refund of `transaction` returns: what the customer paid (tax included) less
/// what was already refunded. `None` when Creem has not stated what was paid.
fn remaining(transaction: &bill::Transaction) -> Result<Option<Money>, PaymentError> {
    let (Some(wire::Integer(paid)), Some(currency)) =
        (transaction.amount_paid, &transaction.currency)
    else {
        return Ok(None);
    };
    let refunded = transaction
        .refunded_amount
        .map_or(0, |wire::Integer(refunded)| refunded);
    match paid.checked_sub(refunded) {
        Some(left) if left > 0 => {
            money_from_wire("creem transaction amount", left, currency).map(Some)
        }
        Some(_) | None => Ok(None),
    }
}

fn refund_status(status: &bill::RefundStatus) -> RefundStatus {
    match status {
        bill::RefundStatus::Pending => RefundStatus::Pending,
        bill::RefundStatus::RequiresAction => RefundStatus::RequiresAction,
        bill::RefundStatus::Succeeded => RefundStatus::Succeeded,
        bill::RefundStatus::Failed => RefundStatus::Failed,
        bill::RefundStatus::Canceled => RefundStatus::Canceled,
        bill::RefundStatus::Unknown(other) => RefundStatus::Other(other.clone()),
    }
}

fn refund_reason(reason: &bill::RefundReason) -> RefundReason {
    match reason {
        bill::RefundReason::Duplicate => RefundReason::Duplicate,
        bill::RefundReason::Fraudulent => RefundReason::Fraudulent,
        bill::RefundReason::RequestedByCustomer => RefundReason::RequestedByCustomer,
        bill::RefundReason::Other => RefundReason::Other("other".to_owned()),
        bill::RefundReason::Unknown(other) => RefundReason::Other(other.clone()),
    }
}

// ---------------------------------------------------------------------------------------------
// Customers and the portal
// ---------------------------------------------------------------------------------------------

/// `POST /v1/customers`'s body. Creem requires an email and a name: a missing email is refused
/// here; a missing name is filled with the email, so the same `CustomerRequest` works on
/// gateways that need no name.
pub(crate) fn customer_body<'a>(
    request: &'a CustomerRequest,
    metadata: &'a BTreeMap<String, String>,
) -> Result<bill::CreateCustomerRequest<'a>, PaymentError> {
    let Some(email) = request.email.as_deref() else {
        return Err(PaymentError::invalid(
            "email",
            "Creem requires an email to create a customer",
        ));
    };
    let name = request
        .name
        .as_deref()
        .filter(|name| !name.trim().is_empty())
        .unwrap_or(email);
    Ok(bill::CreateCustomerRequest {
        email,
        name,
        metadata,
    })
}

/// Decodes a `CustomerEntity` answer.
pub(crate) fn decode_customer(body: &[u8]) -> Result<Customer, PaymentError> {
    let raw: serde_json::Value =
        serde_json::from_slice(body).map_err(|error| decode_error("creem customer", error))?;
    let wire =
        wire::Customer::deserialize(&raw).map_err(|error| decode_error("creem customer", error))?;
    if wire.id.trim().is_empty() {
        return Err(PaymentError::decode("creem customer", "the id is empty"));
    }
    let mut customer = Customer::new(&wire.id, KIND, metadata(wire.metadata.as_ref()));
    customer.email = wire.email;
    customer.name = wire.name;
    customer.created_at = instant(wire.created_at.as_ref());
    customer.raw = raw.into();
    Ok(customer)
}

/// Decodes `POST /v1/customers/billing`'s answer into a portal session. Creem's portal takes
/// no return URL, so one in the request is listed in `ignored`.
pub(crate) fn decode_portal(
    body: &[u8],
    request: &PortalRequest,
) -> Result<PortalSession, PaymentError> {
    let raw: serde_json::Value = serde_json::from_slice(body)
        .map_err(|error| decode_error("creem customer portal link", error))?;
    let links = bill::CustomerLinks::deserialize(&raw)
        .map_err(|error| decode_error("creem customer portal link", error))?;
    let Some(url) = links
        .customer_portal_link
        .filter(|url| !url.trim().is_empty())
    else {
        return Err(PaymentError::decode(
            "creem customer portal link",
            "customer_portal_link is missing",
        ));
    };
    let mut session = PortalSession::new(KIND, &request.customer_id, url);
    if request.return_url.is_some() {
        session.ignored.push("return_url".to_owned());
    }
    session.raw = raw.into();
    Ok(session)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wire::SubscriptionStatus as S;

    #[test]
    fn every_creem_status_has_a_meaning() {
        for (creem, status, scheduled) in [
            (S::Active, SubscriptionStatus::Active, false),
            (S::Trialing, SubscriptionStatus::Trialing, false),
            (S::Paused, SubscriptionStatus::Paused, false),
            (S::Canceled, SubscriptionStatus::Canceled, false),
            (S::Unpaid, SubscriptionStatus::Unpaid, false),
            (S::PastDue, SubscriptionStatus::PastDue, false),
            (S::Expired, SubscriptionStatus::PastDue, false),
            (S::ScheduledCancel, SubscriptionStatus::Active, true),
            (
                S::Unknown("frozen".into()),
                SubscriptionStatus::Other("frozen".into()),
                false,
            ),
        ] {
            let meaning = lifecycle(&creem);
            assert_eq!(meaning.status, status, "{creem:?}");
            assert_eq!(meaning.cancel_scheduled, scheduled, "{creem:?}");
        }
    }

    #[test]
    fn the_prechecks_follow_creem_states() {
        use Precheck::{AlreadyDone, Send};
        let refused = |check: Precheck| matches!(check, Precheck::Refuse(_));
        // (status, cancel at period end, cancel now, resume, pause)
        let table: [(S, Precheck, Precheck, bool, Precheck); 8] = [
            (S::Active, Send, Send, true, Send),
            (S::Trialing, Send, Send, true, Send),
            (S::Paused, Send, Send, false, AlreadyDone),
            (S::ScheduledCancel, AlreadyDone, Send, false, Send),
            (S::PastDue, Send, Send, true, Send),
            (S::Expired, Send, Send, true, Send),
            (S::Unpaid, Send, Send, true, Send),
            (S::Unknown("frozen".into()), Send, Send, false, Send),
        ];
        for (status, period_end, now, resume_refused, pause) in table {
            assert_eq!(
                cancel_precheck(&status, CancelAt::PeriodEnd),
                period_end,
                "{status:?}"
            );
            assert_eq!(
                cancel_precheck(&status, CancelAt::Immediately),
                now,
                "{status:?}"
            );
            assert_eq!(
                refused(resume_precheck(&status)),
                resume_refused,
                "{status:?}"
            );
            assert_eq!(pause_precheck(&status), pause, "{status:?}");
        }
        for check in [
            cancel_precheck(&S::Canceled, CancelAt::PeriodEnd),
            cancel_precheck(&S::Canceled, CancelAt::Immediately),
            resume_precheck(&S::Canceled),
            pause_precheck(&S::Canceled),
        ] {
            assert!(refused(check));
        }
        assert_eq!(
            resume_precheck(&S::Active),
            Precheck::Refuse(
                "the subscription has nothing to resume: it is neither paused nor scheduled to \
                 cancel (Creem status \"active\")"
                    .into()
            )
        );
    }

    #[test]
    fn prorations_and_cancellations_map_to_creem_words() {
        assert_eq!(
            update_behavior(Proration::Prorate),
            bill::UpdateBehavior::ProrationCharge
        );
        assert_eq!(
            update_behavior(Proration::NoProration),
            bill::UpdateBehavior::ProrationNone
        );
        assert_eq!(
            update_behavior(Proration::InvoiceNow),
            bill::UpdateBehavior::ProrationChargeImmediately
        );
        assert_eq!(
            cancel_body(CancelAt::PeriodEnd).mode,
            bill::CancelMode::Scheduled
        );
        assert_eq!(
            cancel_body(CancelAt::Immediately).mode,
            bill::CancelMode::Immediate
        );
    }

    fn transaction(status: &str, paid: i64, refunded: i64) -> bill::Transaction {
        serde_json::from_value(serde_json::json!({
            "id": "tran_1", "status": status, "amount": paid, "amount_paid": paid,
            "refunded_amount": refunded, "currency": "EUR", "order": "ord_1"
        }))
        .unwrap()
    }

    #[test]
    fn only_a_transaction_with_money_left_is_refundable() {
        assert!(check_refundable(&transaction("paid", 1210, 0)).is_ok());
        assert!(check_refundable(&transaction("partialRefund", 1210, 200)).is_ok());
        assert!(check_refundable(&transaction("brand_new", 1210, 0)).is_ok());
        for (status, paid, refunded) in [
            ("refunded", 1210, 1210),
            ("paid", 1210, 1210),
            ("partialRefund", 1210, 1300),
            ("chargedBack", 1210, 0),
            ("pending", 1210, 0),
            ("declined", 1210, 0),
            ("void", 1210, 0),
            ("uncollectible", 1210, 0),
            ("canceled", 1210, 0),
        ] {
            assert!(
                matches!(
                    check_refundable(&transaction(status, paid, refunded)),
                    Err(PaymentError::InvalidState { gateway: None, .. })
                ),
                "{status} {paid} {refunded}"
            );
        }
        let left = remaining(&transaction("partialRefund", 1210, 200))
            .unwrap()
            .unwrap();
        assert_eq!(left.amount(), 1010);
        assert_eq!(
            remaining(&transaction("refunded", 1210, 1210)).unwrap(),
            None
        );
    }

    #[test]
    fn a_missing_email_is_refused_and_a_missing_name_is_the_email() {
        let metadata = BTreeMap::new();
        let no_email = CustomerRequest::for_app_user("user_1");
        assert!(matches!(
            customer_body(&no_email, &metadata),
            Err(PaymentError::InvalidRequest { ref field, .. }) if field == "email"
        ));
        let no_name = CustomerRequest::with_email("ada@example.com");
        assert_eq!(
            customer_body(&no_name, &metadata).unwrap().name,
            "ada@example.com"
        );
        let named = CustomerRequest::with_email("ada@example.com").name("Ada");
        assert_eq!(customer_body(&named, &metadata).unwrap().name, "Ada");
    }
}
