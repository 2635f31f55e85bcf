//! Creem plan and seat changes: `POST /v1/subscriptions/{id}` (upsert items: units, seats,
//! add-ons) and `POST /v1/subscriptions/{id}/upgrade` (another recurring product), with the
//! proration each `update_behavior` asks for.
//!
//! Facts, and where they come from:
//! - update: `{items: [{id?, product_id?, price_id?, units?}], update_behavior?}`, default
//!   `proration-charge`; "If no item ID is provided, the item will be created" [confirmed, OAS].
//! - upgrade: `{product_id, update_behavior?}`, default `proration-charge-immediately`
//!   [confirmed, OAS]; "the plan change takes effect immediately" [confirmed, managing docs].
//! - `proration-charge-immediately` charges the prorated difference now; `proration-charge` "is
//!   deprecated and now behaves identically to `proration-charge-immediately`";
//!   `proration-none` charges nothing this period; a downgrade's "unused time and tax are
//!   refunded to the original payment method" [confirmed, managing docs]. The sandbox refunds
//!   that share of the last paid transaction (`partialRefund`, with `refund.created`
//!   [inferred]).
//! - both send `subscription.update` ("A subscription object was updated") [confirmed, webhooks
//!   docs].
//! - [inferred] A trial prorates nothing (nothing was paid); paused and canceled subscriptions
//!   cannot change; products must be recurring and in the plan's currency; a change of billing
//!   period starts a new period now, crediting the old one's unused time. Refusals answer
//!   Creem's 400 error body, unknown objects 404.

use serde_json::{Map, Value};

use crate::app::App;
use crate::gateways::creem::amounts::{charge_amounts, prorated_difference};
use crate::gateways::creem::error::Failure;
use crate::gateways::creem::events::{emit, EventType};
use crate::gateways::creem::objects::{
    Product, Subscription, SubscriptionItem, SubscriptionStatus, TransactionKind,
};
use crate::gateways::creem::periods::period_end;
use crate::gateways::creem::refunds::refund;
use crate::gateways::creem::subscriptions::{
    find, period_price, render_subscription, render_subscription_id,
};
use crate::gateways::creem::transactions::{record_charge, Charge};
use crate::gateways::creem::validate::Checker;
use crate::state::{new_id, State};

/// Largest `units` of one item, as for checkouts.
const MAX_UNITS: i64 = 1_000_000;

/// How the difference of a mid-period change is settled (`update_behavior`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Proration {
    /// `proration-charge-immediately`, and the deprecated `proration-charge` that now means
    /// the same.
    ChargeNow,
    /// `proration-none`.
    None,
}

/// The `update_behavior` values.
const BEHAVIORS: [&str; 3] = [
    "proration-charge-immediately",
    "proration-charge",
    "proration-none",
];

fn proration_of(behavior: Option<&str>) -> Proration {
    match behavior {
        Some("proration-none") => Proration::None,
        _ => Proration::ChargeNow,
    }
}

/// One entry of `items`, checked.
struct ItemChange {
    id: Option<String>,
    product_id: Option<String>,
    price_id: Option<String>,
    units: Option<i64>,
}

/// `POST /v1/subscriptions/{id}`.
pub(crate) fn update_endpoint(
    app: &App,
    state: &mut State,
    id: &str,
    body: &Map<String, Value>,
) -> Result<Value, Failure> {
    let mut check = Checker::new(body);
    let behavior = check.one_of("update_behavior", false, &BEHAVIORS);
    let changes = item_changes(&mut check, body);
    check.finish()?;
    let subscription = changeable(state, id)?;
    let mut items = subscription.items.clone();
    let now = state.now();
    for change in changes {
        apply_item(state, subscription, &mut items, change, now)?;
    }
    let plan_product_id = items.first().map_or_else(
        || subscription.product_id.clone(),
        |item| item.product_id.clone(),
    );
    change_plan(
        app,
        state,
        id,
        items,
        plan_product_id,
        proration_of(behavior),
    )
}

/// `POST /v1/subscriptions/{id}/upgrade`: the plan becomes one item of `product_id`, with the
/// units of the current first item (seats carry over [inferred]).
pub(crate) fn upgrade_endpoint(
    app: &App,
    state: &mut State,
    id: &str,
    body: &Map<String, Value>,
) -> Result<Value, Failure> {
    let mut check = Checker::new(body);
    let product_id = check.string("product_id", true);
    let behavior = check.one_of("update_behavior", false, &BEHAVIORS);
    check.finish()?;
    let Some(product_id) = product_id else {
        return Err(Failure::bad_request(vec![
            "product_id must be a string".to_owned()
        ]));
    };
    let subscription = changeable(state, id)?;
    if subscription.product_id == product_id {
        return Err(Failure::bad_request(vec![format!(
            "Subscription is already on product {product_id}"
        )]));
    }
    let product = plan_product(state, subscription, product_id)?;
    let now = state.now();
    let units = subscription.items.first().map_or(1, |item| item.units);
    let item = SubscriptionItem {
        id: new_id("sitem_"),
        product_id: product.id.clone(),
        price_id: product.price_id.clone(),
        units,
        created: now,
        updated: now,
    };
    let product_id = product.id.clone();
    // Upgrade defaults to charging now [confirmed, OAS]; `proration_of(None)` is that too.
    change_plan(
        app,
        state,
        id,
        vec![item],
        product_id,
        proration_of(behavior),
    )
}

/// Reads `items`: an array of objects with optional `id`, `product_id`, `price_id`, `units`.
fn item_changes(check: &mut Checker<'_>, body: &Map<String, Value>) -> Vec<ItemChange> {
    let entries = match body.get("items") {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(entries)) => entries,
        Some(_) => {
            check.messages.push("items must be an array".to_owned());
            return Vec::new();
        }
    };
    let mut changes = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let Value::Object(entry) = entry else {
            check
                .messages
                .push(format!("items.{index} must be an object"));
            continue;
        };
        let mut inner = Checker::new(entry);
        let id = inner.string("id", false).map(str::to_owned);
        let product_id = inner.string("product_id", false).map(str::to_owned);
        let price_id = inner.string("price_id", false).map(str::to_owned);
        let units = inner.integer("units", false);
        if units.is_some_and(|units| units < 1) {
            inner
                .messages
                .push("units must not be less than 1".to_owned());
        }
        if units.is_some_and(|units| units > MAX_UNITS) {
            inner
                .messages
                .push(format!("units must not be greater than {MAX_UNITS}"));
        }
        check.messages.extend(
            inner
                .messages
                .into_iter()
                .map(|message| format!("items.{index}.{message}")),
        );
        changes.push(ItemChange {
            id,
            product_id,
            price_id,
            units,
        });
    }
    changes
}

/// Finds a subscription whose plan may change now.
fn changeable<'a>(state: &'a State, id: &str) -> Result<&'a Subscription, Failure> {
    let subscription = find(state, id)?;
    match subscription.status {
        SubscriptionStatus::Active
        | SubscriptionStatus::Trialing
        | SubscriptionStatus::ScheduledCancel => Ok(subscription),
        SubscriptionStatus::Paused | SubscriptionStatus::PastDue | SubscriptionStatus::Canceled => {
            Err(Failure::bad_request(vec![format!(
                "Cannot update a subscription with status {}",
                subscription.status.as_str()
            )]))
        }
    }
}

/// Finds a product a subscription may be billed for: recurring, in the plan's currency.
fn plan_product<'a>(
    state: &'a State,
    subscription: &Subscription,
    product_id: &str,
) -> Result<&'a Product, Failure> {
    let product = state
        .creem
        .products
        .get(product_id)
        .ok_or_else(|| Failure::not_found("Product not found"))?;
    if product.billing_type != "recurring" {
        return Err(Failure::bad_request(vec![format!(
            "Product {product_id} is not a recurring product"
        )]));
    }
    let plan_currency = state
        .creem
        .products
        .get(&subscription.product_id)
        .map(|plan| plan.currency.as_str());
    if plan_currency.is_some_and(|currency| currency != product.currency) {
        return Err(Failure::bad_request(vec![format!(
            "Product {product_id} is in {}, the subscription in {}",
            product.currency,
            plan_currency.unwrap_or_default()
        )]));
    }
    Ok(product)
}

/// Applies one `items` entry to the item list: updates the item with its `id`, or adds one.
fn apply_item(
    state: &State,
    subscription: &Subscription,
    items: &mut Vec<SubscriptionItem>,
    change: ItemChange,
    now: i64,
) -> Result<(), Failure> {
    let product = match (&change.product_id, &change.price_id) {
        (Some(product_id), _) => Some(plan_product(state, subscription, product_id)?),
        (None, Some(price_id)) => {
            let found = state
                .creem
                .products
                .values()
                .find(|product| product.price_id == *price_id)
                .ok_or_else(|| Failure::not_found("Price not found"))?;
            Some(plan_product(state, subscription, &found.id)?)
        }
        (None, None) => None,
    };
    if let (Some(product), Some(price_id)) = (product, &change.price_id) {
        if product.price_id != *price_id {
            return Err(Failure::bad_request(vec![format!(
                "Price {price_id} does not belong to product {}",
                product.id
            )]));
        }
    }
    match change.id {
        Some(item_id) => {
            let item = items
                .iter_mut()
                .find(|item| item.id == item_id)
                .ok_or_else(|| Failure::not_found("Subscription item not found"))?;
            if let Some(product) = product {
                item.product_id = product.id.clone();
                item.price_id = product.price_id.clone();
            }
            if let Some(units) = change.units {
                item.units = units;
            }
            item.updated = now;
        }
        None => {
            let product = product.ok_or_else(|| {
                Failure::bad_request(vec![
                    "items without an id need a product_id or price_id".to_owned()
                ])
            })?;
            items.push(SubscriptionItem {
                id: new_id("sitem_"),
                product_id: product.id.clone(),
                price_id: product.price_id.clone(),
                units: change.units.unwrap_or(1),
                created: now,
                updated: now,
            });
        }
    }
    Ok(())
}

/// Replaces the subscription's items and plan product, settles the difference as `proration`
/// says, sends `subscription.update` and answers the changed subscription.
fn change_plan(
    app: &App,
    state: &mut State,
    id: &str,
    items: Vec<SubscriptionItem>,
    plan_product_id: String,
    proration: Proration,
) -> Result<Value, Failure> {
    let now = state.now();
    let subscription = find(state, id)?;
    let old_price = period_price(state, subscription);
    let old_period = state
        .creem
        .products
        .get(&subscription.product_id)
        .map(|product| product.billing_period.clone())
        .unwrap_or_default();
    let new_period = state
        .creem
        .products
        .get(&plan_product_id)
        .map(|product| product.billing_period.clone())
        .unwrap_or_default();
    let trialing = subscription.status == SubscriptionStatus::Trialing;
    let remaining = subscription.period_end.saturating_sub(now);
    let length = subscription
        .period_end
        .saturating_sub(subscription.period_start);
    let last_paid = subscription.last_transaction_id.clone();
    let Some(stored) = state.creem.subscriptions.get_mut(id) else {
        return Err(Failure::not_found("Subscription not found"));
    };
    stored.items = items;
    stored.product_id = plan_product_id.clone();
    stored.updated = now;
    let restarts = old_period != new_period && !trialing;
    if restarts {
        // A new billing period starts now; the next ones count from here.
        stored.billing_anchor = now;
        stored.period_index = Some(0);
        stored.period_start = now;
        stored.period_end = period_end(now, &new_period, 0);
        let new_end = stored.period_end;
        state.note_expiry(new_end);
    }
    let new_price = find(state, id).map(|changed| period_price(state, changed))?;
    let difference = match (proration, trialing, restarts) {
        (Proration::None, _, _) | (_, true, _) => 0,
        // The whole new period, less the old period's unused time.
        (Proration::ChargeNow, false, true) => {
            new_price.saturating_add(prorated_difference(old_price, 0, remaining, length))
        }
        (Proration::ChargeNow, false, false) => {
            prorated_difference(old_price, new_price, remaining, length)
        }
    };
    let plan_product = state.creem.products.get(&plan_product_id).cloned();
    if let (true, Some(product)) = (difference > 0, &plan_product) {
        charge_difference(state, id, product, difference, now);
    }
    if let (true, Some(product), Some(last_paid)) = (difference < 0, &plan_product, &last_paid) {
        // The unused time and its tax go back to the last payment, as far as it reaches.
        let credit = charge_amounts(product, difference.saturating_neg()).amount_paid;
        // Nothing left to give back (already refunded) is not an error for the change.
        let _ = refund(app, state, last_paid, Some(credit));
    }
    let object = render_subscription_id(state, id, true);
    emit(state, EventType::SubscriptionUpdate, object);
    Ok(render_subscription(state, find(state, id)?, true))
}

/// Charges a proration now and records it as the subscription's last transaction.
fn charge_difference(state: &mut State, id: &str, product: &Product, amount: i64, now: i64) {
    let Some(subscription) = state.creem.subscriptions.get(id) else {
        return;
    };
    let customer_id = subscription.customer_id.clone();
    let period = (now, subscription.period_end);
    let transaction_id = record_charge(
        state,
        Charge {
            kind: TransactionKind::Invoice,
            amounts: charge_amounts(product, amount),
            currency: &product.currency,
            customer_id: &customer_id,
            product_id: &product.id,
            subscription_id: Some(id),
            checkout_id: None,
            order_id: None,
            // [inferred] Creem does not document a proration's description.
            description: "Subscription update (proration)",
            period: Some(period),
            at: now,
        },
    );
    if let Some(subscription) = state.creem.subscriptions.get_mut(id) {
        subscription.last_transaction_id = Some(transaction_id);
        subscription.last_transaction_at = Some(now);
    }
}
