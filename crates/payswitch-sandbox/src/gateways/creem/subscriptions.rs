//! Creem subscriptions: starting one when a checkout for a recurring product is paid, what one
//! period costs, rendering as `SubscriptionEntity`, and the reads `GET /v1/subscriptions`,
//! `GET /v1/subscriptions/search` and `GET /v1/customers/{id}/subscriptions`.

use serde_json::{json, Value};

use crate::billing::{SubscriptionRecord, SubscriptionStatus as NeutralStatus};
use crate::gateways::creem::amounts::{discount_applies, discounted_amounts, OrderAmounts};
use crate::gateways::creem::customers::render_customer_id;
use crate::gateways::creem::error::Failure;
use crate::gateways::creem::objects::{
    iso, CardOnFile, DiscountValue, Product, Subscription, SubscriptionItem, SubscriptionStatus,
};
use crate::gateways::creem::pagination::{page_from, paginate};
use crate::gateways::creem::periods::{months_in, period_end, DAY};
use crate::gateways::creem::products::render_product;
use crate::gateways::creem::query::query_value;
use crate::gateways::creem::transactions::render_transaction;
use crate::state::{new_id, Gateway, State};

/// `page_size` of the lists when none is given [confirmed, OAS: default 10].
const DEFAULT_PAGE_SIZE: usize = 10;

/// What a paid checkout starts a subscription with.
pub(crate) struct NewSubscription<'a> {
    pub(crate) customer_id: &'a str,
    pub(crate) product: &'a Product,
    pub(crate) units: i64,
    pub(crate) discount_id: Option<&'a str>,
    pub(crate) metadata: Option<Value>,
    /// What the card that paid the checkout does on the charges that follow.
    pub(crate) card: CardOnFile,
}

/// Stores a new subscription with one item and returns its id. A product with
/// `trial_period_days` starts `trialing` for that many days, and its paid periods count from
/// the trial's end; any other starts `active` with its first period from now.
pub(crate) fn start(state: &mut State, new: NewSubscription<'_>) -> String {
    let now = state.now();
    let seq = state.creem.next_seq();
    let trial_end = new
        .product
        .trial_period_days
        .map(|days| now.saturating_add(days.saturating_mul(DAY)));
    let (status, anchor, period_index, end) = match trial_end {
        Some(end) => (SubscriptionStatus::Trialing, end, None, end),
        None => (
            SubscriptionStatus::Active,
            now,
            Some(0),
            period_end(now, &new.product.billing_period, 0),
        ),
    };
    let subscription = Subscription {
        id: new_id("sub_"),
        customer_id: new.customer_id.to_owned(),
        product_id: new.product.id.clone(),
        items: vec![SubscriptionItem {
            id: new_id("sitem_"),
            product_id: new.product.id.clone(),
            price_id: new.product.price_id.clone(),
            units: new.units,
            created: now,
            updated: now,
        }],
        status,
        on_period_end: None,
        discount_id: new.discount_id.map(str::to_owned),
        metadata: new.metadata,
        billing_anchor: anchor,
        period_index,
        period_start: now,
        period_end: end,
        last_transaction_id: None,
        last_transaction_at: None,
        canceled_at: None,
        card: new.card,
        dunning: None,
        created: now,
        updated: now,
        seq,
    };
    let id = subscription.id.clone();
    state.note_expiry(end);
    state.creem.subscriptions.insert(id.clone(), subscription);
    id
}

/// Returns what one period of the subscription costs before discount and tax: every item's
/// price × units (items whose product was removed count nothing).
pub(crate) fn period_price(state: &State, subscription: &Subscription) -> i64 {
    subscription
        .items
        .iter()
        .filter_map(|item| {
            state
                .creem
                .products
                .get(&item.product_id)
                .map(|product| product.price.saturating_mul(item.units))
        })
        .fold(0i64, i64::saturating_add)
}

/// Returns what the charge for paid period `period_index` costs (discount while it applies,
/// tax as the plan's product is taxed) and its currency; `None` when the plan's product is
/// gone.
pub(crate) fn period_amounts(
    state: &State,
    subscription: &Subscription,
    period_index: u32,
) -> Option<(OrderAmounts, String)> {
    let product = state.creem.products.get(&subscription.product_id)?;
    let months = months_in(&product.billing_period).unwrap_or(1);
    let discount = subscription
        .discount_id
        .as_ref()
        .and_then(|id| state.creem.discounts.get(id))
        .filter(|discount| discount_applies(discount, period_index, months));
    Some((
        discounted_amounts(product, period_price(state, subscription), discount),
        product.currency.clone(),
    ))
}

/// Renders a subscription as Creem's `SubscriptionEntity`. `expand` inlines the product,
/// customer and last transaction, as webhooks always do ("product and customer are always
/// expanded" [confirmed, `@creem_io` webhook types]) and as the sandbox's API answers do
/// [inferred]; inside a checkout or refund they stay ids, as in Creem's samples.
pub(crate) fn render_subscription(
    state: &State,
    subscription: &Subscription,
    expand: bool,
) -> Value {
    let product = state.creem.products.get(&subscription.product_id);
    let items: Vec<Value> = subscription
        .items
        .iter()
        .map(|item| {
            json!({
                "id": item.id,
                "mode": "test",
                "object": "subscription_item",
                "product_id": item.product_id,
                "price_id": item.price_id,
                "units": item.units,
                "created_at": iso(item.created),
                "updated_at": iso(item.updated),
            })
        })
        .collect();
    let mut value = json!({
        "id": subscription.id,
        "mode": "test",
        "object": "subscription",
        "product": subscription.product_id,
        "customer": subscription.customer_id,
        "items": items,
        "collection_method": "charge_automatically",
        "status": subscription.status.as_str(),
        "current_period_start_date": iso(subscription.period_start),
        "current_period_end_date": iso(subscription.period_end),
        "canceled_at": subscription.canceled_at.map(iso),
        "created_at": iso(subscription.created),
        "updated_at": iso(subscription.updated),
    });
    let Some(object) = value.as_object_mut() else {
        return value;
    };
    if expand {
        if let Some(product) = product {
            object.insert("product".into(), render_product(product));
        }
        object.insert(
            "customer".into(),
            render_customer_id(state, &subscription.customer_id),
        );
    }
    if let Some(id) = &subscription.last_transaction_id {
        object.insert("last_transaction_id".into(), json!(id));
        if let (true, Some(transaction)) = (expand, state.creem.transactions.get(id)) {
            object.insert("last_transaction".into(), render_transaction(transaction));
        }
    }
    if let Some(at) = subscription.last_transaction_at {
        object.insert("last_transaction_date".into(), json!(iso(at)));
    }
    // Creem's samples carry `next_transaction_date` only while the subscription will bill.
    if matches!(
        subscription.status,
        SubscriptionStatus::Active | SubscriptionStatus::Trialing
    ) {
        object.insert(
            "next_transaction_date".into(),
            json!(iso(subscription.period_end)),
        );
    }
    if let Some(discount) = subscription
        .discount_id
        .as_ref()
        .and_then(|id| state.creem.discounts.get(id))
    {
        // The shape of `WebhookSubscriptionEntity.discount` [confirmed, newer OAS].
        let (kind, amount) = match &discount.value {
            DiscountValue::Percentage(percent) => ("percentage", *percent),
            DiscountValue::Fixed { amount, .. } => ("fixed", *amount),
        };
        let mut rendered = json!({
            "id": discount.id,
            "discountCode": discount.code,
            "name": discount.name,
            "type": kind,
            "amount": amount,
            "duration": discount.duration,
        });
        // Left out unless repeating: a number, never `null`, in the SDK's schema.
        if let (Some(months), Some(fields)) =
            (discount.duration_in_months, rendered.as_object_mut())
        {
            fields.insert("durationInMonths".into(), json!(months));
        }
        object.insert("discount".into(), rendered);
    }
    if let Some(metadata) = &subscription.metadata {
        object.insert("metadata".into(), metadata.clone());
    }
    value
}

/// Renders the subscription `id` (expanded or not), or just its id when it was forgotten.
pub(crate) fn render_subscription_id(state: &State, id: &str, expand: bool) -> Value {
    state.creem.subscriptions.get(id).map_or_else(
        || json!(id),
        |found| render_subscription(state, found, expand),
    )
}

/// Finds a subscription by id.
///
/// # Errors
/// 404 `Subscription not found`.
pub(crate) fn find<'a>(state: &'a State, id: &str) -> Result<&'a Subscription, Failure> {
    state
        .creem
        .subscriptions
        .get(id)
        .ok_or_else(|| Failure::not_found("Subscription not found"))
}

/// `GET /v1/subscriptions?subscription_id=`.
pub(crate) fn retrieve(state: &State, query: &str) -> Result<Value, Failure> {
    let id = query_value(query, "subscription_id")
        .ok_or_else(|| Failure::bad_request(vec!["subscription_id must be a string".to_owned()]))?;
    Ok(render_subscription(state, find(state, &id)?, true))
}

/// Renders one page of subscriptions, newest first [inferred: Creem does not document the
/// order].
fn list<'a>(
    state: &State,
    query: &str,
    subscriptions: impl Iterator<Item = &'a Subscription>,
) -> Result<Value, Failure> {
    let page = page_from(query, DEFAULT_PAGE_SIZE)?;
    let mut found: Vec<&Subscription> = subscriptions.collect();
    found.sort_by_key(|subscription| std::cmp::Reverse(subscription.seq));
    Ok(paginate(
        found
            .into_iter()
            .map(|subscription| render_subscription(state, subscription, true))
            .collect(),
        page,
    ))
}

/// `GET /v1/subscriptions/search?page_number=&page_size=`: every subscription of the store.
pub(crate) fn search(state: &State, query: &str) -> Result<Value, Failure> {
    list(state, query, state.creem.subscriptions.values())
}

/// `GET /v1/customers/{id}/subscriptions`.
///
/// # Errors
/// 404 `Customer not found` for an unknown customer [inferred].
pub(crate) fn list_for_customer(
    state: &State,
    customer_id: &str,
    query: &str,
) -> Result<Value, Failure> {
    if !state.creem.customers.contains_key(customer_id) {
        return Err(Failure::not_found("Customer not found"));
    }
    list(
        state,
        query,
        state
            .creem
            .subscriptions
            .values()
            .filter(|subscription| subscription.customer_id == customer_id),
    )
}

/// Every Creem subscription as a gateway-neutral record.
pub(crate) fn records(state: &State) -> Vec<SubscriptionRecord> {
    state
        .creem
        .subscriptions
        .values()
        .map(|subscription| SubscriptionRecord {
            gateway: Gateway::Creem,
            id: subscription.id.clone(),
            customer: subscription.customer_id.clone(),
            status: neutral_status(subscription.status),
            amount: period_price(state, subscription),
            currency: state
                .creem
                .products
                .get(&subscription.product_id)
                .map(|product| product.currency.clone())
                .unwrap_or_default(),
        })
        .collect()
}

/// Maps Creem's statuses to the gateway-neutral ones.
fn neutral_status(status: SubscriptionStatus) -> NeutralStatus {
    match status {
        // As for Stripe's `past_due`: still a subscription, with a payment outstanding.
        SubscriptionStatus::Active | SubscriptionStatus::PastDue => NeutralStatus::Active,
        SubscriptionStatus::Trialing => NeutralStatus::Trialing,
        SubscriptionStatus::Paused => NeutralStatus::Paused,
        SubscriptionStatus::ScheduledCancel => NeutralStatus::CancelScheduled,
        SubscriptionStatus::Canceled => NeutralStatus::Canceled,
    }
}
