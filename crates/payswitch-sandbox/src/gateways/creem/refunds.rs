//! Creem refunds: `POST /v1/refunds` `{transaction_id}`, refunding part of a transaction (the
//! unused time of a downgrade), rendering as `RefundEntity`, and the `refund.created` webhook.
//!
//! Facts, and where they come from:
//! - `POST /v1/refunds` takes `{transaction_id}` and issues "a full refund … The full remaining
//!   refundable amount is resolved automatically"; it answers 200 with `RefundResponseEntity`,
//!   whose only field is `status` (`pending | requiresAction | succeeded | failed | canceled`)
//!   [confirmed, docs.creem.io/api-reference/endpoint/refund-payment and the newer OAS]. The
//!   sandbox's refunds succeed at once.
//! - `RefundEntity` has `id, mode, object, status, refund_amount, refund_currency, reason,
//!   transaction` (expanded), `checkout, order, subscription, customer` (id or object) and
//!   `created_at` in epoch ms; the `refund.created` sample expands all of them and shows the
//!   transaction `refunded` with `refunded_amount` [confirmed, OAS and webhooks docs].
//! - The API takes no reason; the sandbox says `requested_by_customer`, as Creem's sample does
//!   [inferred].
//! - Refunding a refunded transaction, one with nothing paid, or an unknown one: Creem
//!   documents no status or message [inferred]; the sandbox answers its documented 400 error
//!   body (404 for an unknown id, as for every other unknown object).

use serde_json::{json, Map, Value};

use crate::app::App;
use crate::billing::{RefundRecord, RefundStatus};
use crate::gateways::creem::checkouts::{checkout_amounts, render_checkout, render_order};
use crate::gateways::creem::customers::render_customer_id;
use crate::gateways::creem::error::Failure;
use crate::gateways::creem::events::{emit, EventType};
use crate::gateways::creem::objects::{Refund, TransactionStatus};
use crate::gateways::creem::subscriptions::render_subscription_id;
use crate::gateways::creem::transactions::render_transaction;
use crate::gateways::creem::validate::Checker;
use crate::state::{new_id, Gateway, State};

/// `POST /v1/refunds`.
pub(crate) fn refund_endpoint(
    app: &App,
    state: &mut State,
    body: &Map<String, Value>,
) -> Result<Value, Failure> {
    let mut check = Checker::new(body);
    let transaction_id = check.string("transaction_id", true);
    check.finish()?;
    let Some(transaction_id) = transaction_id else {
        return Err(Failure::bad_request(vec![
            "transaction_id must be a string".to_owned(),
        ]));
    };
    refund(app, state, transaction_id, None)?;
    Ok(json!({ "status": "succeeded" }))
}

/// Refunds `amount` of a transaction (all that remains when `None`, at most that), records the
/// refund, sends `refund.created` and returns the refund's id.
///
/// # Errors
/// 404 for an unknown transaction, 400 when it is refunded already or has nothing left.
pub(crate) fn refund(
    app: &App,
    state: &mut State,
    transaction_id: &str,
    amount: Option<i64>,
) -> Result<String, Failure> {
    let now = state.now();
    let transaction = state
        .creem
        .transactions
        .get_mut(transaction_id)
        .ok_or_else(|| Failure::not_found("Transaction not found"))?;
    if transaction.status == TransactionStatus::Refunded {
        return Err(Failure::bad_request(vec![
            "Transaction has already been refunded".to_owned(),
        ]));
    }
    let remaining = transaction
        .amount_paid
        .saturating_sub(transaction.refunded_amount);
    let refunded = amount.map_or(remaining, |amount| amount.min(remaining));
    if refunded <= 0 {
        return Err(Failure::bad_request(vec![
            "Transaction has no paid amount to refund".to_owned(),
        ]));
    }
    transaction.refunded_amount = transaction.refunded_amount.saturating_add(refunded);
    transaction.status = if transaction.refunded_amount >= transaction.amount_paid {
        TransactionStatus::Refunded
    } else {
        TransactionStatus::PartialRefund
    };
    let currency = transaction.currency.clone();
    let seq = state.creem.next_seq();
    let refund = Refund {
        id: new_id("ref_"),
        transaction_id: transaction_id.to_owned(),
        amount: refunded,
        currency,
        created: now,
        seq,
    };
    let id = refund.id.clone();
    let object = render_refund(app, state, &refund);
    state.creem.refunds.insert(id.clone(), refund);
    emit(state, EventType::RefundCreated, object);
    Ok(id)
}

/// Renders a refund as Creem's `RefundEntity`, with its transaction, checkout, order,
/// subscription and customer expanded as in Creem's `refund.created` sample.
fn render_refund(app: &App, state: &State, refund: &Refund) -> Value {
    let transaction = state.creem.transactions.get(&refund.transaction_id);
    let mut value = json!({
        "id": refund.id,
        "mode": "test",
        "object": "refund",
        "status": "succeeded",
        "refund_amount": refund.amount,
        "refund_currency": refund.currency,
        "reason": "requested_by_customer",
        "transaction": transaction.map_or_else(|| json!(refund.transaction_id), render_transaction),
        "created_at": refund.created.saturating_mul(1000),
    });
    let (Some(object), Some(transaction)) = (value.as_object_mut(), transaction) else {
        return value;
    };
    object.insert(
        "customer".into(),
        render_customer_id(state, &transaction.customer_id),
    );
    if let Some(subscription_id) = &transaction.subscription_id {
        object.insert(
            "subscription".into(),
            render_subscription_id(state, subscription_id, false),
        );
    }
    let checkout = transaction
        .checkout_id
        .as_ref()
        .and_then(|id| state.creem.checkouts.get(id));
    if let Some(checkout) = checkout {
        object.insert(
            "checkout".into(),
            render_checkout(app, state, checkout, false),
        );
    }
    let order = checkout.and_then(|checkout| {
        let payment = checkout.payment.as_ref()?;
        let (amounts, currency) = checkout_amounts(state, checkout)?;
        (Some(&payment.order_id) == transaction.order_id.as_ref())
            .then(|| render_order(state, checkout, payment, &amounts, &currency))
    });
    match (order, &transaction.order_id) {
        (Some(order), _) => {
            object.insert("order".into(), order);
        }
        (None, Some(order_id)) => {
            object.insert("order".into(), json!(order_id));
        }
        (None, None) => {}
    }
    value
}

/// Every Creem refund as a gateway-neutral record.
pub(crate) fn records(state: &State) -> Vec<RefundRecord> {
    state
        .creem
        .refunds
        .values()
        .map(|refund| RefundRecord {
            gateway: Gateway::Creem,
            id: refund.id.clone(),
            payment: refund.transaction_id.clone(),
            customer: state
                .creem
                .transactions
                .get(&refund.transaction_id)
                .map(|transaction| transaction.customer_id.clone())
                .unwrap_or_default(),
            amount: refund.amount,
            currency: refund.currency.clone(),
            status: RefundStatus::Succeeded,
        })
        .collect()
}
