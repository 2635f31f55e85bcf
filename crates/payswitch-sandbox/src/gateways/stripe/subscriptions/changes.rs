//! Changing a subscription's items (`items[i][id|price|quantity|deleted|metadata]`), shared
//! by `POST /v1/subscriptions/{id}` and the invoice preview: reading the changes, then
//! planning the new items and what they bill. Same-interval changes prorate by the second
//! (unused time on the old price credited, remaining time on the new one charged); a change
//! of interval starts a new period now, billed at once, as Stripe does.

use crate::gateways::stripe::error::Failure;
use crate::gateways::stripe::form::{FormValue, Params};
use crate::gateways::stripe::invoices::lines::{
    period_line, remaining_time_line, unused_time_line, Billed,
};
use crate::gateways::stripe::objects::{
    InvoiceLine, ItemPrice, Subscription, SubscriptionItem, SubscriptionStatus,
};
use crate::gateways::stripe::params::{
    apply_metadata, boolean, bracket, integer, one_of, reject_unsupported, text,
};
use crate::gateways::stripe::subscriptions::period_end;
use crate::state::{new_id, State};

/// Item parameters the sandbox implements.
const ITEM_PARAMS: &[&str] = &["deleted", "id", "metadata", "price", "quantity"];
/// Documented item parameters the sandbox does not emulate; refused by name.
const UNEMULATED_ITEM_PARAMS: &[&str] = &[
    "billing_thresholds",
    "clear_usage",
    "discounts",
    "price_data",
    "tax_rates",
];

/// Most items a subscription may have.
const MAX_ITEMS: usize = 20;

/// `proration_behavior`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProrationBehavior {
    /// Record prorations for the next invoice (Stripe's default).
    CreateProrations,
    /// Invoice prorations now.
    AlwaysInvoice,
    /// No prorations.
    None,
}

/// Reads `proration_behavior` (default `create_prorations`).
pub(crate) fn proration_behavior(map: &Params, prefix: &str) -> Result<ProrationBehavior, Failure> {
    Ok(
        match one_of(
            map,
            "proration_behavior",
            prefix,
            &["always_invoice", "create_prorations", "none"],
        )? {
            Some("always_invoice") => ProrationBehavior::AlwaysInvoice,
            Some("none") => ProrationBehavior::None,
            _ => ProrationBehavior::CreateProrations,
        },
    )
}

/// One `items[i]` of an update.
#[derive(Debug, Clone)]
pub(crate) struct ItemChange {
    /// `items[i]`, for errors.
    pub(crate) param: String,
    /// The item changed or deleted; `None` adds an item.
    pub(crate) id: Option<String>,
    pub(crate) price: Option<ItemPrice>,
    pub(crate) quantity: Option<i64>,
    pub(crate) deleted: bool,
    /// The item's `metadata` parameters, applied as Stripe merges metadata.
    pub(crate) metadata: Option<Params>,
}

/// Resolves a catalog price for an item: it must exist, be active, recur and be in the
/// subscription's currency.
fn item_price(
    state: &State,
    price_id: &str,
    param: &str,
    currency: &str,
) -> Result<ItemPrice, Failure> {
    let price = state
        .stripe
        .prices
        .get(price_id)
        .filter(|price| price.active)
        .ok_or_else(|| Failure::not_found("price", param, price_id))?;
    let Some(recurring) = price.recurring.clone() else {
        return Err(Failure::invalid(
            None,
            Some(param),
            "The price specified is set to `type=one_time` but this field only accepts prices \
             with `type=recurring`."
                .to_owned(),
        ));
    };
    if price.currency != currency {
        // The rule is Stripe's (one currency per subscription); the wording is the sandbox's.
        return Err(Failure::invalid(
            None,
            Some(param),
            format!(
                "The price specified is in {}, but this subscription is in {currency}.",
                price.currency
            ),
        ));
    }
    let product_name = state
        .stripe
        .products
        .get(&price.product_id)
        .map(|product| product.name.clone())
        .unwrap_or_default();
    Ok(ItemPrice {
        id: price.id.clone(),
        product_id: price.product_id.clone(),
        product_name,
        currency: price.currency.clone(),
        unit_amount: price.unit_amount,
        recurring: Some(recurring),
        created: price.created,
    })
}

/// Reads `items` of `map` (top level of an update, `subscription_details` of a preview).
pub(crate) fn parse_items(
    state: &State,
    map: &Params,
    prefix: &str,
    subscription: &Subscription,
) -> Result<Vec<ItemChange>, Failure> {
    let items_param = bracket(prefix, "items");
    let Some(value) = map.get("items") else {
        return Ok(Vec::new());
    };
    if value.as_text() == Some("") {
        return Ok(Vec::new());
    }
    let list = value.as_list().ok_or_else(|| {
        Failure::invalid(
            None,
            Some(&items_param),
            format!("Invalid array: {items_param} must be an array."),
        )
    })?;
    if list.len() > MAX_ITEMS {
        return Err(Failure::invalid(
            None,
            Some(&items_param),
            format!("You may only specify up to {MAX_ITEMS} items."),
        ));
    }
    list.into_iter()
        .map(|(index, entry)| {
            let param = format!("{items_param}[{index}]");
            let entry = entry.as_map().ok_or_else(|| {
                Failure::invalid(
                    None,
                    Some(&param),
                    format!("Invalid object: {param} must be a hash."),
                )
            })?;
            parse_item(state, entry, param, subscription)
        })
        .collect()
}

fn parse_item(
    state: &State,
    entry: &Params,
    param: String,
    subscription: &Subscription,
) -> Result<ItemChange, Failure> {
    reject_unsupported(
        entry,
        ITEM_PARAMS,
        UNEMULATED_ITEM_PARAMS,
        &param,
        "subscription items",
    )?;
    let id = text(entry, "id", &param)?;
    if let Some(id) = id {
        if !subscription.items.iter().any(|item| item.id == id) {
            return Err(Failure::not_found(
                "subscription item",
                &bracket(&param, "id"),
                id,
            ));
        }
    }
    let price = text(entry, "price", &param)?
        .map(|price| {
            item_price(
                state,
                price,
                &bracket(&param, "price"),
                &subscription.currency,
            )
        })
        .transpose()?;
    let quantity = integer(entry, "quantity", &param)?;
    if quantity.is_some_and(|quantity| !(0..=999_999).contains(&quantity)) {
        return Err(Failure::invalid(
            None,
            Some(&bracket(&param, "quantity")),
            "Quantity must be between 0 and 999999.".to_owned(),
        ));
    }
    let deleted = boolean(entry, "deleted", &param)?.unwrap_or(false);
    if id.is_none() && (deleted || price.is_none()) {
        return Err(Failure::missing(&bracket(
            &param,
            if deleted { "id" } else { "price" },
        )));
    }
    let metadata = match entry.get("metadata") {
        Some(FormValue::Map(_)) | Some(FormValue::Text(_)) => {
            // Validated now so that a bad key fails before anything changes.
            let mut check = Default::default();
            apply_metadata(entry, &param, &mut check)?;
            Some(entry.clone())
        }
        None => None,
    };
    Ok(ItemChange {
        param,
        id: id.map(str::to_owned),
        price,
        quantity,
        deleted,
        metadata,
    })
}

/// The subscription's items after a change, and what the change bills.
#[derive(Debug, Clone, Default)]
pub(crate) struct Plan {
    pub(crate) items: Vec<SubscriptionItem>,
    /// Proration lines (none with `proration_behavior=none`).
    pub(crate) prorations: Vec<InvoiceLine>,
    /// New periods started by a change of interval: billed now whatever the behavior.
    pub(crate) new_periods: Vec<InvoiceLine>,
    /// The new billing cycle anchor after a change of interval.
    pub(crate) anchor: Option<i64>,
}

/// Plans `changes` on `subscription` as of `at` (the proration date).
///
/// # Errors
/// 400 when the change would leave the subscription without items.
pub(crate) fn plan(
    subscription: &Subscription,
    changes: &[ItemChange],
    behavior: ProrationBehavior,
    at: i64,
) -> Result<Plan, Failure> {
    // Trials and paused subscriptions bill nothing, so there is nothing to prorate.
    let billing = matches!(
        subscription.status,
        SubscriptionStatus::Active | SubscriptionStatus::PastDue
    );
    let prorate = billing && behavior != ProrationBehavior::None;
    let mut plan = Plan {
        items: subscription.items.clone(),
        ..Plan::default()
    };
    let sub = subscription.id.as_str();
    for change in changes {
        let position = change
            .id
            .as_ref()
            .and_then(|id| plan.items.iter().position(|item| &item.id == id));
        match position {
            Some(position) if change.deleted => {
                let old = plan.items.remove(position);
                if prorate {
                    plan.prorations.push(unused_time_line(
                        billed(sub, &old, &old.price, old.quantity),
                        at,
                        (old.current_period_start, old.current_period_end),
                    ));
                }
            }
            Some(position) => {
                let Some(item) = plan.items.get_mut(position) else {
                    continue;
                };
                let old = item.clone();
                if let Some(metadata) = &change.metadata {
                    apply_metadata(metadata, &change.param, &mut item.metadata)?;
                }
                if let Some(price) = &change.price {
                    item.price = price.clone();
                }
                if let Some(quantity) = change.quantity {
                    item.quantity = quantity;
                }
                if item.price == old.price && item.quantity == old.quantity {
                    continue;
                }
                let period = (old.current_period_start, old.current_period_end);
                let new_interval = item.price.recurring != old.price.recurring;
                if new_interval && billing {
                    if prorate {
                        plan.prorations.push(unused_time_line(
                            billed(sub, &old, &old.price, old.quantity),
                            at,
                            period,
                        ));
                    }
                    start_new_period(&mut plan, sub, position, at);
                } else if prorate && at < old.current_period_end {
                    plan.prorations.push(unused_time_line(
                        billed(sub, &old, &old.price, old.quantity),
                        at,
                        period,
                    ));
                    let new = plan.items.get(position).unwrap_or(&old);
                    plan.prorations.push(remaining_time_line(
                        billed(sub, new, &new.price, new.quantity),
                        at,
                        period,
                    ));
                }
            }
            None => {
                let Some(price) = change.price.clone() else {
                    continue;
                };
                let shared = plan
                    .items
                    .iter()
                    .find(|item| item.price.recurring == price.recurring)
                    .map(|item| (item.current_period_start, item.current_period_end));
                let item = SubscriptionItem {
                    id: new_id("si_"),
                    created: at,
                    price,
                    quantity: change.quantity.unwrap_or(1),
                    metadata: Default::default(),
                    current_period_start: shared.map_or(at, |period| period.0),
                    current_period_end: shared.map_or(at, |period| period.1),
                };
                plan.items.push(item);
                let position = plan.items.len() - 1;
                match shared {
                    Some(period) if prorate && at < period.1 => {
                        if let Some(new) = plan.items.get(position) {
                            plan.prorations.push(remaining_time_line(
                                billed(sub, new, &new.price, new.quantity),
                                at,
                                period,
                            ));
                        }
                    }
                    Some(_) => {}
                    None if billing => start_new_period(&mut plan, sub, position, at),
                    None => {
                        // A trial: the new item's period is the trial's.
                        let trial_end = subscription.trial_end.unwrap_or(at);
                        if let Some(item) = plan.items.get_mut(position) {
                            item.current_period_end = trial_end;
                        }
                    }
                }
            }
        }
    }
    if plan.items.is_empty() {
        // The rule is Stripe's; the wording is the sandbox's.
        return Err(Failure::invalid(
            None,
            Some("items"),
            "A subscription must keep at least one item; cancel it instead.".to_owned(),
        ));
    }
    Ok(plan)
}

fn billed<'a>(
    subscription: &'a str,
    item: &'a SubscriptionItem,
    price: &'a ItemPrice,
    quantity: i64,
) -> Billed<'a> {
    Billed {
        subscription,
        item: &item.id,
        price,
        quantity,
    }
}

/// Starts item `position` on a new period at `at`, billed now, and resets the anchor.
fn start_new_period(plan: &mut Plan, subscription: &str, position: usize, at: i64) {
    let Some(item) = plan.items.get_mut(position) else {
        return;
    };
    let Some(recurring) = item.price.recurring.clone() else {
        return;
    };
    item.current_period_start = at;
    item.current_period_end = period_end(at, &recurring);
    let item = item.clone();
    plan.new_periods.push(period_line(
        billed(subscription, &item, &item.price, item.quantity),
        at,
        item.current_period_end,
    ));
    plan.anchor = Some(at);
}

/// Checks a `proration_date`: within the current period of every item.
pub(crate) fn check_proration_date(
    subscription: &Subscription,
    at: i64,
    param: &str,
) -> Result<(), Failure> {
    let inside = subscription
        .items
        .iter()
        .all(|item| (item.current_period_start..=item.current_period_end).contains(&at));
    if inside {
        return Ok(());
    }
    // The rule is Stripe's; the wording is the sandbox's.
    Err(Failure::invalid(
        None,
        Some(param),
        "The proration date must fall within the subscription's current period.".to_owned(),
    ))
}
