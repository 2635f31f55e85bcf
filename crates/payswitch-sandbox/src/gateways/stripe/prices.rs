//! Stripe Prices and their minimal Products: `POST /v1/prices`,
//! `GET /v1/prices/{id}`, seeding, and the validation both share.

use std::collections::BTreeMap;

use http::StatusCode;
use serde_json::{json, Value};

use crate::error::SandboxError;
use crate::gateways::stripe::currencies;
use crate::gateways::stripe::error::{Failure, Outcome};
use crate::gateways::stripe::form::{FormValue, Params};
use crate::gateways::stripe::objects::{Price, Product, Recurring};
use crate::gateways::stripe::params::{
    self, boolean, bracket, check_expand, expand_list, integer, metadata, object, one_of, text,
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
    one_of(
        params,
        "tax_behavior",
        "",
        &["exclusive", "inclusive", "unspecified"],
    )?;
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
    json!({
        "id": price.id,
        "object": "price",
        "active": price.active,
        "billing_scheme": "per_unit",
        "created": price.created,
        "currency": price.currency,
        "custom_unit_amount": null,
        "livemode": false,
        "lookup_key": null,
        "metadata": price.metadata,
        "nickname": price.nickname,
        "product": price.product_id,
        "recurring": price.recurring.as_ref().map(render_recurring),
        "tax_behavior": "unspecified",
        "tiers_mode": null,
        "transform_quantity": null,
        "type": if price.recurring.is_some() { "recurring" } else { "one_time" },
        "unit_amount": price.unit_amount,
        "unit_amount_decimal": price.unit_amount.to_string(),
    })
}

/// Renders the `recurring` hash of a price.
pub(crate) fn render_recurring(recurring: &Recurring) -> Value {
    json!({
        "interval": recurring.interval,
        "interval_count": recurring.interval_count,
        "meter": null,
        "trial_period_days": null,
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
        "type": "service",
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
        },
    );
    Ok(id)
}
