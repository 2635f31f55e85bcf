//! Stripe Prices and their minimal Products: `POST /v1/prices`, `GET /v1/prices`,
//! `GET /v1/prices/{id}`, `POST /v1/prices/{id}`, seeding, and the validation they share.

use std::collections::BTreeMap;

use http::StatusCode;
use serde_json::{json, Value};

use crate::error::SandboxError;
use crate::gateways::stripe::currencies;
use crate::gateways::stripe::error::{Failure, Outcome};
use crate::gateways::stripe::form::{FormValue, Params};
use crate::gateways::stripe::lists::{item_expansions, list_body, paginate};
use crate::gateways::stripe::objects::{Price, Product, Recurring};
use crate::gateways::stripe::params::{
    self, apply_metadata, boolean, bracket, check_expand, expand_list, integer, metadata, object,
    one_of, range, text, text_update,
};
use crate::seed::PriceSeed;
use crate::state::{new_id, State};

/// Create parameters the sandbox implements.
const CREATE_PARAMS: &[&str] = &[
    "active",
    "currency",
    "expand",
    "metadata",
    "nickname",
    "product",
    "product_data",
    "recurring",
    "tax_behavior",
    "unit_amount",
    "unit_amount_decimal",
];
/// Documented create parameters the sandbox does not emulate; they are
/// refused by name rather than ignored, so a test never passes on a
/// tiered or custom-amount price it did not really get.
const UNEMULATED_PARAMS: &[&str] = &[
    "billing_scheme",
    "currency_options",
    "custom_unit_amount",
    "lookup_key",
    "tiers",
    "tiers_mode",
    "transfer_lookup_key",
    "transform_quantity",
];
const PRODUCT_DATA_PARAMS: &[&str] = &[
    "active",
    "id",
    "metadata",
    "name",
    "statement_descriptor",
    "tax_code",
    "unit_label",
];
const RECURRING_PARAMS: &[&str] = &["interval", "interval_count"];
const UNEMULATED_RECURRING_PARAMS: &[&str] = &["meter", "trial_period_days", "usage_type"];

/// Recurring intervals and the most intervals Stripe allows (three years).
const INTERVALS: &[(&str, i64)] = &[("day", 1095), ("week", 156), ("month", 36), ("year", 3)];

/// Largest unit amount: eight digits, as Stripe allows for prices.
const MAX_UNIT_AMOUNT: i64 = 99_999_999;

/// Rejects keys outside `allowed`, naming unemulated ones as such.
fn reject_unsupported(
    map: &BTreeMap<String, FormValue>,
    allowed: &[&str],
    unemulated: &[&str],
    prefix: &str,
) -> Result<(), Failure> {
    params::reject_unsupported(map, allowed, unemulated, prefix, "prices")
}

/// Checks a price's amount, currency and recurrence as Stripe does;
/// `prefix` names where the price's fields sit in the request.
pub(crate) fn check_price(
    currency: &str,
    unit_amount: i64,
    recurring: Option<&Recurring>,
    prefix: &str,
) -> Result<(), Failure> {
    if !currencies::is_stripe_currency(currency) {
        return Err(Failure::invalid(
            None,
            Some(&bracket(prefix, "currency")),
            format!("Invalid currency: {}.", currency.to_ascii_lowercase()),
        ));
    }
    if unit_amount < 0 {
        return Err(Failure::invalid(
            None,
            Some(&bracket(prefix, "unit_amount")),
            "This value must be greater than or equal to 0.".to_owned(),
        ));
    }
    if unit_amount > MAX_UNIT_AMOUNT {
        return Err(Failure::invalid(
            None,
            Some(&bracket(prefix, "unit_amount")),
            format!("This value must be less than or equal to {MAX_UNIT_AMOUNT}."),
        ));
    }
    currencies::check_wire_amount(currency, unit_amount, &bracket(prefix, "unit_amount"))?;
    if let Some(recurring) = recurring {
        let recurring_prefix = bracket(prefix, "recurring");
        let Some((_, max_count)) = INTERVALS
            .iter()
            .find(|(interval, _)| *interval == recurring.interval)
        else {
            return Err(Failure::invalid(
                None,
                Some(&bracket(&recurring_prefix, "interval")),
                format!(
                    "Invalid {}: must be one of day, month, week, or year",
                    bracket(&recurring_prefix, "interval")
                ),
            ));
        };
        if recurring.interval_count < 1 {
            return Err(Failure::invalid(
                None,
                Some(&bracket(&recurring_prefix, "interval_count")),
                "This value must be greater than or equal to 1.".to_owned(),
            ));
        }
        if recurring.interval_count > *max_count {
            return Err(Failure::invalid(
                None,
                Some(&bracket(&recurring_prefix, "interval_count")),
                "The maximum billing interval is three years (3 years, 36 months, 156 weeks or \
                 1095 days)."
                    .to_owned(),
            ));
        }
    }
    Ok(())
}

/// `POST /v1/prices`.
pub(crate) fn create(state: &mut State, params: &Params) -> Outcome {
    reject_unsupported(params, CREATE_PARAMS, UNEMULATED_PARAMS, "")?;
    let currency = text(params, "currency", "")?
        .ok_or_else(|| Failure::missing("currency"))?
        .to_ascii_lowercase();
    let unit_amount = parse_unit_amount(params)?;
    let recurring = parse_recurring(params)?;
    check_price(&currency, unit_amount, recurring.as_ref(), "")?;
    let tax_behavior = one_of(
        params,
        "tax_behavior",
        "",
        &["exclusive", "inclusive", "unspecified"],
    )?
    .unwrap_or("unspecified");
    let active = boolean(params, "active", "")?.unwrap_or(true);
    let nickname = text(params, "nickname", "")?.map(str::to_owned);
    let price_metadata = metadata(params, "")?;
    let expand = expand_list(params)?;
    check_expand(&expand, &["product"])?;
    let now = state.now();
    let (product_id, new_product) = resolve_product(state, params, now)?;
    if let Some(new_product) = new_product {
        state
            .stripe
            .products
            .insert(new_product.id.clone(), new_product);
    }
    let price = Price {
        id: new_id("price_"),
        product_id,
        currency,
        unit_amount,
        recurring,
        active,
        nickname,
        metadata: price_metadata,
        created: now,
        tax_behavior: tax_behavior.to_owned(),
    };
    let rendered = render_expanded(state, &price, &expand);
    state.counts.stripe_prices += 1;
    state.stripe.prices.insert(price.id.clone(), price);
    Ok((StatusCode::OK, rendered))
}

/// Reads `unit_amount`, or whole minor units in `unit_amount_decimal` (not both).
fn parse_unit_amount(params: &Params) -> Result<i64, Failure> {
    if let Some(amount) = integer(params, "unit_amount", "")? {
        if params.contains_key("unit_amount_decimal") {
            return Err(Failure::invalid(
                Some("parameters_exclusive"),
                Some("unit_amount_decimal"),
                "You may only specify one of these parameters: unit_amount, unit_amount_decimal."
                    .to_owned(),
            ));
        }
        return Ok(amount);
    }
    match text(params, "unit_amount_decimal", "")? {
        Some(decimal) => decimal.parse::<i64>().map_err(|_| {
            Failure::invalid(
                None,
                Some("unit_amount_decimal"),
                "The sandbox accepts only whole minor units in unit_amount_decimal.".to_owned(),
            )
        }),
        None => Err(Failure::missing("unit_amount")),
    }
}

/// Reads `recurring[interval]` and `recurring[interval_count]` (default 1).
fn parse_recurring(params: &Params) -> Result<Option<Recurring>, Failure> {
    let Some(recurring) = object(params, "recurring", "")? else {
        return Ok(None);
    };
    reject_unsupported(
        recurring,
        RECURRING_PARAMS,
        UNEMULATED_RECURRING_PARAMS,
        "recurring",
    )?;
    let interval = text(recurring, "interval", "recurring")?
        .ok_or_else(|| Failure::missing("recurring[interval]"))?;
    let interval_count = integer(recurring, "interval_count", "recurring")?.unwrap_or(1);
    Ok(Some(Recurring {
        interval: interval.to_owned(),
        interval_count,
    }))
}

/// Resolves the price's product: an existing `product`, or a new one from `product_data`
/// (returned to be stored once the whole request is valid).
fn resolve_product(
    state: &State,
    params: &Params,
    now: i64,
) -> Result<(String, Option<Product>), Failure> {
    match (
        text(params, "product", "")?,
        object(params, "product_data", "")?,
    ) {
        (Some(_), Some(_)) => Err(Failure::invalid(
            Some("parameters_exclusive"),
            Some("product_data"),
            "You may only specify one of these parameters: product, product_data.".to_owned(),
        )),
        (None, None) => Err(Failure::missing("product")),
        (Some(product), None) => {
            if !state.stripe.products.contains_key(product) {
                return Err(Failure::invalid(
                    Some("resource_missing"),
                    Some("product"),
                    format!("No such product: '{product}'"),
                ));
            }
            Ok((product.to_owned(), None))
        }
        (None, Some(product_data)) => {
            reject_unsupported(product_data, PRODUCT_DATA_PARAMS, &[], "product_data")?;
            let name = text(product_data, "name", "product_data")?
                .ok_or_else(|| Failure::missing("product_data[name]"))?;
            // Read for their validation; the minimal product keeps only a name.
            boolean(product_data, "active", "product_data")?;
            metadata(product_data, "product_data")?;
            let id = match text(product_data, "id", "product_data")? {
                Some(id) if state.stripe.products.contains_key(id) => {
                    return Err(Failure::invalid(
                        Some("resource_already_exists"),
                        Some("product_data[id]"),
                        format!("Product already exists: '{id}'"),
                    ))
                }
                Some(id) => id.to_owned(),
                None => new_id("prod_"),
            };
            let product = Product {
                id: id.clone(),
                name: name.to_owned(),
                created: now,
            };
            Ok((id, Some(product)))
        }
    }
}

/// List filters the sandbox emulates, and the documented one it does not (`lookup_key` is
/// not emulated, so neither is filtering by it).
const LIST_PARAMS: &[&str] = &[
    "active",
    "created",
    "currency",
    "ending_before",
    "expand",
    "limit",
    "product",
    "recurring",
    "starting_after",
    "type",
];

/// `GET /v1/prices`: the catalog newest first, filtered by `active`, `currency`, `product`,
/// `type`, `recurring[interval]` and `created`.
pub(crate) fn list(state: &State, params: &Params) -> Outcome {
    params::reject_unsupported(params, LIST_PARAMS, &["lookup_keys"], "", "price lists")?;
    let active = boolean(params, "active", "")?;
    let currency = text(params, "currency", "")?.map(str::to_ascii_lowercase);
    let product = text(params, "product", "")?;
    let kind = one_of(params, "type", "", &["one_time", "recurring"])?;
    let interval = match object(params, "recurring", "")? {
        Some(recurring) => {
            reject_unsupported(
                recurring,
                &["interval"],
                &["meter", "usage_type"],
                "recurring",
            )?;
            one_of(
                recurring,
                "interval",
                "recurring",
                &["day", "month", "week", "year"],
            )?
        }
        None => None,
    };
    let created = range(params, "created")?;
    let expand = expand_list(params)?;
    let inner = item_expansions(&expand);
    check_expand(&inner, &["product"])?;
    let mut matching: Vec<&Price> = state
        .stripe
        .prices
        .values()
        .filter(|price| active.is_none_or(|active| price.active == active))
        .filter(|price| {
            currency
                .as_ref()
                .is_none_or(|wanted| &price.currency == wanted)
        })
        .filter(|price| product.is_none_or(|wanted| price.product_id == wanted))
        .filter(|price| kind.is_none_or(|kind| (kind == "recurring") == price.recurring.is_some()))
        .filter(|price| {
            interval.is_none_or(|wanted| {
                price
                    .recurring
                    .as_ref()
                    .is_some_and(|recurring| recurring.interval == wanted)
            })
        })
        .filter(|price| created.admits(price.created))
        .collect();
    // Newest first; ids break ties so pages are stable.
    matching.sort_unstable_by(|a, b| (b.created, &b.id).cmp(&(a.created, &a.id)));
    let ids: Vec<String> = matching.iter().map(|price| price.id.clone()).collect();
    let (page, has_more) = paginate(&ids, params, "price")?;
    let data: Vec<Value> = page
        .iter()
        .filter_map(|id| state.stripe.prices.get(id))
        .map(|price| render_expanded(state, price, &inner))
        .collect();
    Ok((StatusCode::OK, list_body(data, has_more, "/v1/prices")))
}

/// `POST /v1/prices/{id}`: `active`, `nickname`, `metadata`, and `tax_behavior` while it is
/// still `unspecified`; the other documented fields are refused as not emulated.
pub(crate) fn update(state: &mut State, id: &str, params: &Params) -> Outcome {
    params::reject_unsupported(
        params,
        &["active", "expand", "metadata", "nickname", "tax_behavior"],
        &["currency_options", "lookup_key", "transfer_lookup_key"],
        "",
        "price updates",
    )?;
    let expand = expand_list(params)?;
    check_expand(&expand, &["product"])?;
    let price = state
        .stripe
        .prices
        .get(id)
        .ok_or_else(|| Failure::not_found("price", "price", id))?;
    let mut updated = price.clone();
    if let Some(active) = boolean(params, "active", "")? {
        updated.active = active;
    }
    if let Some(nickname) = text_update(params, "nickname", "")? {
        updated.nickname = nickname.map(str::to_owned);
    }
    if let Some(tax_behavior) = one_of(
        params,
        "tax_behavior",
        "",
        &["exclusive", "inclusive", "unspecified"],
    )? {
        if updated.tax_behavior != "unspecified" && updated.tax_behavior != tax_behavior {
            return Err(Failure::invalid(
                None,
                Some("tax_behavior"),
                "You can only update `tax_behavior` of a price whose `tax_behavior` is                  `unspecified`."
                    .to_owned(),
            ));
        }
        tax_behavior.clone_into(&mut updated.tax_behavior);
    }
    apply_metadata(params, "", &mut updated.metadata)?;
    let rendered = render_expanded(state, &updated, &expand);
    state.stripe.prices.insert(id.to_owned(), updated);
    Ok((StatusCode::OK, rendered))
}

/// `GET /v1/prices/{id}`.
pub(crate) fn retrieve(state: &State, id: &str, params: &Params) -> Outcome {
    reject_unsupported(params, &["expand"], &[], "")?;
    let expand = expand_list(params)?;
    check_expand(&expand, &["product"])?;
    let price = state
        .stripe
        .prices
        .get(id)
        .ok_or_else(|| Failure::not_found("price", "price", id))?;
    Ok((StatusCode::OK, render_expanded(state, price, &expand)))
}

fn render_expanded(state: &State, price: &Price, expand: &[String]) -> Value {
    let mut value = render(price);
    if expand.iter().any(|field| field == "product") {
        if let (Some(product), Some(object)) = (
            state.stripe.products.get(&price.product_id),
            value.as_object_mut(),
        ) {
            object.insert("product".into(), render_product(product));
        }
    }
    value
}

/// Renders a price as Stripe's `price` JSON (fixtures3 shape).
pub(crate) fn render(price: &Price) -> Value {
    let mut value = render_inline(&InlinePrice {
        id: &price.id,
        product_id: &price.product_id,
        currency: &price.currency,
        unit_amount: price.unit_amount,
        recurring: price.recurring.as_ref(),
        tax_behavior: &price.tax_behavior,
        created: price.created,
    });
    if let Some(object) = value.as_object_mut() {
        object.insert("active".into(), json!(price.active));
        object.insert("metadata".into(), json!(price.metadata));
        object.insert("nickname".into(), json!(price.nickname));
    }
    value
}

/// A price that is not in the catalog: the inactive one Stripe makes for `price_data`.
pub(crate) struct InlinePrice<'a> {
    pub(crate) id: &'a str,
    pub(crate) product_id: &'a str,
    pub(crate) currency: &'a str,
    pub(crate) unit_amount: i64,
    pub(crate) recurring: Option<&'a Recurring>,
    pub(crate) tax_behavior: &'a str,
    pub(crate) created: i64,
}

/// Renders a `price_data` price as Stripe's `price` JSON: inactive, no metadata or nickname.
pub(crate) fn render_inline(price: &InlinePrice<'_>) -> Value {
    json!({
        "id": price.id,
        "object": "price",
        "active": false,
        "billing_scheme": "per_unit",
        "created": price.created,
        "currency": price.currency,
        "custom_unit_amount": null,
        "livemode": false,
        "lookup_key": null,
        "metadata": {},
        "nickname": null,
        "product": price.product_id,
        "recurring": price.recurring.map(render_recurring),
        "tax_behavior": price.tax_behavior,
        "tiers_mode": null,
        "transform_quantity": null,
        "type": if price.recurring.is_some() { "recurring" } else { "one_time" },
        "unit_amount": price.unit_amount,
        "unit_amount_decimal": price.unit_amount.to_string(),
    })
}

/// Renders a recurring price as the legacy `plan` object Stripe still sends on subscription
/// items (fixtures3; its SDK spec requires it, the public one no longer lists it), from the
/// price's own JSON. `null` for a one-time price, which has no plan.
pub(crate) fn plan_of(price: &Value) -> Value {
    let recurring = &price["recurring"];
    if !recurring.is_object() {
        return Value::Null;
    }
    json!({
        "id": price["id"],
        "object": "plan",
        "active": price["active"],
        "amount": price["unit_amount"],
        "amount_decimal": price["unit_amount_decimal"],
        "billing_scheme": price["billing_scheme"],
        "created": price["created"],
        "currency": price["currency"],
        "interval": recurring["interval"],
        "interval_count": recurring["interval_count"],
        "livemode": false,
        "metadata": price["metadata"],
        "meter": recurring["meter"],
        "nickname": price["nickname"],
        "product": price["product"],
        "tiers_mode": null,
        "transform_usage": null,
        "trial_period_days": null,
        "usage_type": recurring["usage_type"],
    })
}

/// Renders the `recurring` hash of a price (the spec's fields: no `trial_period_days`,
/// which Stripe retired from prices).
pub(crate) fn render_recurring(recurring: &Recurring) -> Value {
    json!({
        "interval": recurring.interval,
        "interval_count": recurring.interval_count,
        "meter": null,
        "usage_type": "licensed",
    })
}

/// Renders the minimal product as Stripe's `product` JSON.
fn render_product(product: &Product) -> Value {
    json!({
        "id": product.id,
        "object": "product",
        "active": true,
        "created": product.created,
        "default_price": null,
        "description": null,
        "images": [],
        "livemode": false,
        "marketing_features": [],
        "metadata": {},
        "name": product.name,
        "package_dimensions": null,
        "shippable": null,
        "statement_descriptor": null,
        "tax_code": null,
        "unit_label": null,
        "updated": product.created,
        "url": null,
    })
}

/// Validates a seed with the same rules as `POST /v1/prices` and stores
/// it with its product.
pub(crate) fn insert_seed(state: &mut State, seed: &PriceSeed) -> Result<String, SandboxError> {
    let invalid = |failure: Failure| {
        let param = failure.error.param.unwrap_or_default();
        SandboxError::InvalidPrice(format!("{param}: {}", failure.error.message))
    };
    let recurring = seed.interval.as_ref().map(|interval| Recurring {
        interval: interval.clone(),
        interval_count: i64::from(seed.interval_count),
    });
    if recurring.is_none() && seed.interval_count != 1 {
        return Err(SandboxError::InvalidPrice(
            "interval_count needs a recurring price (an interval)".to_owned(),
        ));
    }
    check_price(&seed.currency, seed.unit_amount, recurring.as_ref(), "").map_err(invalid)?;
    if seed.product_name.trim().is_empty() {
        return Err(SandboxError::InvalidPrice(
            "product_name: a product needs a name".to_owned(),
        ));
    }
    let id = match &seed.id {
        Some(id) if !id.starts_with("price_") => {
            return Err(SandboxError::InvalidPrice(format!(
                "id: {id} must start with price_"
            )))
        }
        Some(id) if state.stripe.prices.contains_key(id) => {
            return Err(SandboxError::InvalidPrice(format!(
                "id: a price with id {id} already exists"
            )))
        }
        Some(id) => id.clone(),
        None => new_id("price_"),
    };
    let now = state.now();
    let product_id = match &seed.product_id {
        Some(product_id) if !product_id.starts_with("prod_") => {
            return Err(SandboxError::InvalidPrice(format!(
                "product_id: {product_id} must start with prod_"
            )))
        }
        Some(product_id) => product_id.clone(),
        None => new_id("prod_"),
    };
    state
        .stripe
        .products
        .entry(product_id.clone())
        .or_insert_with(|| Product {
            id: product_id.clone(),
            name: seed.product_name.clone(),
            created: now,
        });
    state.counts.stripe_prices += 1;
    state.stripe.prices.insert(
        id.clone(),
        Price {
            id: id.clone(),
            product_id,
            currency: seed.currency.to_ascii_lowercase(),
            unit_amount: seed.unit_amount,
            recurring,
            active: true,
            nickname: None,
            metadata: BTreeMap::new(),
            created: now,
            tax_behavior: "unspecified".to_owned(),
        },
    );
    Ok(id)
}
