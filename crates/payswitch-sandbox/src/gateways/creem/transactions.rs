//! Creem transactions: recording a paid charge, `GET /v1/transactions?transaction_id=`,
//! `GET /v1/transactions/search?customer_id=&order_id=&product_id=&page_number=&page_size=`,
//! and rendering as `TransactionEntity` (amounts in cents, times in epoch milliseconds, unlike
//! the ISO strings of the other entities [confirmed, OAS and webhook samples]).

use serde_json::{json, Value};

use crate::gateways::creem::amounts::OrderAmounts;
use crate::gateways::creem::error::Failure;
use crate::gateways::creem::objects::{Transaction, TransactionKind, TransactionStatus};
use crate::gateways::creem::pagination::{page_from, paginate};
use crate::gateways::creem::query::query_value;
use crate::state::{new_id, State};

/// `page_size` of the search when none is given [confirmed, OAS: default 10].
const DEFAULT_PAGE_SIZE: usize = 10;

/// A paid charge to record.
pub(crate) struct Charge<'a> {
    pub(crate) kind: TransactionKind,
    pub(crate) amounts: OrderAmounts,
    pub(crate) currency: &'a str,
    pub(crate) customer_id: &'a str,
    pub(crate) product_id: &'a str,
    pub(crate) subscription_id: Option<&'a str>,
    pub(crate) checkout_id: Option<&'a str>,
    pub(crate) order_id: Option<&'a str>,
    pub(crate) description: &'a str,
    pub(crate) period: Option<(i64, i64)>,
    /// When it was charged (Unix seconds): now, or the start of the period a renewal bills
    /// when the sandbox clock jumped past it.
    pub(crate) at: i64,
}

/// Records a paid transaction and returns its id.
pub(crate) fn record_charge(state: &mut State, charge: Charge<'_>) -> String {
    let seq = state.creem.next_seq();
    let tax_country = state
        .creem
        .customers
        .get(charge.customer_id)
        .map_or_else(|| "US".to_owned(), |customer| customer.country.clone());
    let transaction = Transaction {
        id: new_id("tran_"),
        kind: charge.kind,
        status: TransactionStatus::Paid,
        amount: charge.amounts.amount,
        discount_amount: charge.amounts.discount_amount,
        tax_amount: charge.amounts.tax_amount,
        amount_paid: charge.amounts.amount_paid,
        currency: charge.currency.to_owned(),
        refunded_amount: 0,
        order_id: charge.order_id.map(str::to_owned),
        subscription_id: charge.subscription_id.map(str::to_owned),
        customer_id: charge.customer_id.to_owned(),
        product_id: charge.product_id.to_owned(),
        checkout_id: charge.checkout_id.map(str::to_owned),
        description: charge.description.to_owned(),
        period: charge.period,
        tax_country,
        created: charge.at,
        seq,
    };
    let id = transaction.id.clone();
    state.creem.transactions.insert(id.clone(), transaction);
    id
}

/// Records a declined charge (a renewal or one of its retries) and returns its id: the
/// amounts it asked for, nothing paid, status `declined` [confirmed: a `TransactionStatus`
/// value in the OAS; inferred: that Creem lists declined renewals among the transactions].
pub(crate) fn record_declined(state: &mut State, charge: Charge<'_>) -> String {
    let id = record_charge(state, charge);
    if let Some(transaction) = state.creem.transactions.get_mut(&id) {
        transaction.status = TransactionStatus::Declined;
        transaction.amount_paid = 0;
    }
    id
}

/// Renders a transaction as Creem's `TransactionEntity`.
pub(crate) fn render_transaction(transaction: &Transaction) -> Value {
    let kind = match transaction.kind {
        TransactionKind::Payment => "payment",
        TransactionKind::Invoice => "invoice",
    };
    let status = match transaction.status {
        TransactionStatus::Paid => "paid",
        TransactionStatus::PartialRefund => "partialRefund",
        TransactionStatus::Refunded => "refunded",
        TransactionStatus::Declined => "declined",
    };
    // [inferred] `refunded_amount` is nullable in the OAS; it is null until a refund.
    let refunded_amount = (transaction.refunded_amount > 0).then_some(transaction.refunded_amount);
    let mut value = json!({
        "id": transaction.id,
        "mode": "test",
        "object": "transaction",
        "amount": transaction.amount,
        "amount_paid": transaction.amount_paid,
        "discount_amount": transaction.discount_amount,
        "currency": transaction.currency,
        "type": kind,
        "tax_country": transaction.tax_country,
        "tax_amount": transaction.tax_amount,
        "status": status,
        "refunded_amount": refunded_amount,
        "order": transaction.order_id,
        "subscription": transaction.subscription_id,
        "customer": transaction.customer_id,
        "description": transaction.description,
        "created_at": transaction.created.saturating_mul(1000),
    });
    if let (Some((start, end)), Some(object)) = (transaction.period, value.as_object_mut()) {
        object.insert("period_start".into(), json!(start.saturating_mul(1000)));
        object.insert("period_end".into(), json!(end.saturating_mul(1000)));
    }
    value
}

/// `GET /v1/transactions?transaction_id=`.
pub(crate) fn retrieve(state: &State, query: &str) -> Result<Value, Failure> {
    let id = query_value(query, "transaction_id")
        .ok_or_else(|| Failure::bad_request(vec!["transaction_id must be a string".to_owned()]))?;
    state
        .creem
        .transactions
        .get(&id)
        .map(render_transaction)
        .ok_or_else(|| Failure::not_found("Transaction not found"))
}

/// `GET /v1/transactions/search`: the transactions matching every filter given, newest first
/// [inferred: Creem does not document the order].
pub(crate) fn search(state: &State, query: &str) -> Result<Value, Failure> {
    let page = page_from(query, DEFAULT_PAGE_SIZE)?;
    let customer = query_value(query, "customer_id");
    let order = query_value(query, "order_id");
    let product = query_value(query, "product_id");
    let mut found: Vec<&Transaction> = state
        .creem
        .transactions
        .values()
        .filter(|transaction| {
            customer
                .as_ref()
                .is_none_or(|customer| *customer == transaction.customer_id)
                && order
                    .as_ref()
                    .is_none_or(|order| transaction.order_id.as_ref() == Some(order))
                && product
                    .as_ref()
                    .is_none_or(|product| *product == transaction.product_id)
        })
        .collect();
    found.sort_by_key(|transaction| std::cmp::Reverse(transaction.seq));
    Ok(paginate(
        found.into_iter().map(render_transaction).collect(),
        page,
    ))
}
