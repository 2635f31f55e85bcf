//! Line items of a new Checkout Session: `line_items[i][price]` from the Price catalog or
//! ad-hoc `line_items[i][price_data]`, their quantities, and the session's one currency.

use crate::gateways::stripe::currencies;
use crate::gateways::stripe::error::Failure;
use crate::gateways::stripe::form::{FormValue, Params};
use crate::gateways::stripe::objects::{LineItem, Recurring};
use crate::gateways::stripe::params::{
    bracket, emulated_value, integer, metadata, object, one_of, reject_unknown, reject_unsupported,
    text,
};
use crate::gateways::stripe::prices::check_price;
use crate::state::{new_id, State};

/// What a Checkout Session refusal names: the operation.
const WHAT: &str = "Checkout Sessions";
const LINE_ITEM_PARAMS: &[&str] = &["metadata", "price", "price_data", "quantity"];
/// Documented line item parameters the sandbox does not emulate (the pay page has no
/// quantity picker, and tax is not computed); refused by name.
const UNEMULATED_LINE_ITEM_PARAMS: &[&str] =
    &["adjustable_quantity", "dynamic_tax_rates", "tax_rates"];
const PRICE_DATA_PARAMS: &[&str] = &[
    "currency",
    "product",
    "product_data",
    "recurring",
    "tax_behavior",
    "unit_amount",
    "unit_amount_decimal",
];
const PRODUCT_DATA_PARAMS: &[&str] = &[
    "description",
    "images",
    "metadata",
    "name",
    "tax_code",
    "unit_label",
];
const RECURRING_PARAMS: &[&str] = &["interval", "interval_count"];

/// Reads the line items and the session's currency: one currency for every item, `currency`
/// itself in `setup` mode (required there: endive has no `payment_method_types`), and at least
/// one recurring price in `subscription` mode (one-time items may sit beside it).
pub(crate) fn parse_items_and_currency(
    state: &State,
    params: &Params,
    mode: &str,
) -> Result<(Vec<LineItem>, Option<String>), Failure> {
    let line_items = parse_line_items(state, params, mode)?;
    let mut currency = line_items.first().map(|item| item.currency.clone());
    if mode == "setup" {
        if !line_items.is_empty() {
            return Err(Failure::invalid(
                None,
                Some("line_items"),
                "You cannot pass `line_items` in `setup` mode.".to_owned(),
            ));
        }
        // "Required in `setup` mode when `payment_method_types` is not set" (spec); from
        // 2026-09-30.endive on `payment_method_types` does not exist, so always required.
        currency = text(params, "currency", "")?.map(str::to_ascii_lowercase);
        if currency.is_none() && !params.contains_key("payment_method_types") {
            return Err(Failure::missing("currency"));
        }
    } else if line_items.is_empty() {
        return Err(Failure::missing("line_items"));
    } else if let Some(wanted) = text(params, "currency", "")? {
        // `currency` picks one of a price's `currency_options`, which the sandbox's prices
        // do not have: only the items' own currency can be asked for.
        if Some(wanted.to_ascii_lowercase()) != currency {
            return Err(Failure::invalid(
                None,
                Some("currency"),
                format!(
                    "The line items are in {}; `currency={wanted}` would need a price with \
                     currency options, which the payswitch sandbox does not emulate.",
                    currency.as_deref().unwrap_or("no currency")
                ),
            ));
        }
    }
    if let Some(currency) = &currency {
        if !currencies::is_stripe_currency(currency) {
            return Err(Failure::invalid(
                None,
                Some("currency"),
                format!("Invalid currency: {currency}."),
            ));
        }
    }
    if line_items
        .iter()
        .any(|item| Some(&item.currency) != currency.as_ref())
    {
        return Err(Failure::invalid(
            None,
            Some("line_items"),
            "All line items must use the same currency.".to_owned(),
        ));
    }
    if mode == "subscription" && line_items.iter().all(|item| item.recurring.is_none()) {
        return Err(Failure::invalid(
            None,
            Some("line_items"),
            "You must provide at least one recurring price in `subscription` mode when using \
             prices."
                .to_owned(),
        ));
    }
    Ok((line_items, currency))
}

pub(crate) fn parse_line_items(
    state: &State,
    params: &Params,
    mode: &str,
) -> Result<Vec<LineItem>, Failure> {
    let Some(value) = params.get("line_items") else {
        return Ok(Vec::new());
    };
    if value.as_text() == Some("") {
        return Ok(Vec::new());
    }
    let list = value.as_list().ok_or_else(|| {
        Failure::invalid(
            None,
            Some("line_items"),
            "Invalid array: line_items must be an array.".to_owned(),
        )
    })?;
    if list.len() > 100 {
        return Err(Failure::invalid(
            None,
            Some("line_items"),
            "You may only specify up to 100 line items.".to_owned(),
        ));
    }
    list.into_iter()
        .map(|(index, entry)| parse_line_item(state, entry, index, mode))
        .collect()
}

/// Reads one `line_items[i]`: a catalog `price` or ad-hoc `price_data`, and a quantity.
fn parse_line_item(
    state: &State,
    entry: &FormValue,
    index: usize,
    mode: &str,
) -> Result<LineItem, Failure> {
    {
        let prefix = format!("line_items[{index}]");
        let map = entry.as_map().ok_or_else(|| {
            Failure::invalid(
                None,
                Some(&prefix),
                format!("Invalid object: {prefix} must be a hash."),
            )
        })?;
        reject_unsupported(
            map,
            LINE_ITEM_PARAMS,
            UNEMULATED_LINE_ITEM_PARAMS,
            &prefix,
            WHAT,
        )?;
        let price_data = object(map, "price_data", &prefix)?;
        let price = match (text(map, "price", &prefix)?, price_data) {
            (Some(_), Some(_)) => {
                return Err(Failure::invalid(
                    Some("parameters_exclusive"),
                    Some(&bracket(&prefix, "price")),
                    "You may only specify one of these parameters: price, price_data.".to_owned(),
                ))
            }
            (Some(price_id), None) => catalog_price(state, price_id, &prefix, mode)?,
            (None, Some(price_data)) => inline_price(state, price_data, &prefix, mode)?,
            (None, None) => {
                return Err(Failure::invalid(
                    Some("parameter_missing"),
                    Some(&bracket(&prefix, "price")),
                    "You must provide either price or price_data for each line item when using \
                     prices."
                        .to_owned(),
                ))
            }
        };
        let quantity = integer(map, "quantity", &prefix)?
            .ok_or_else(|| Failure::missing(&bracket(&prefix, "quantity")))?;
        if !(1..=999_999).contains(&quantity) {
            return Err(Failure::invalid(
                None,
                Some(&bracket(&prefix, "quantity")),
                "Quantity must be between 1 and 999999.".to_owned(),
            ));
        }
        Ok(LineItem {
            id: new_id("li_"),
            price_id: price.price_id,
            product_id: price.product_id,
            name: price.name,
            currency: price.currency,
            unit_amount: price.unit_amount,
            quantity,
            recurring: price.recurring,
            metadata: metadata(map, &prefix)?,
            amount_discount: 0,
            price_created: price.created,
        })
    }
}

/// What a line item charges, from the catalog or from `price_data`.
struct ResolvedPrice {
    price_id: String,
    product_id: String,
    name: String,
    currency: String,
    unit_amount: i64,
    recurring: Option<Recurring>,
    created: i64,
}

/// Resolves `line_items[i][price]` against the Price catalog.
fn catalog_price(
    state: &State,
    price_id: &str,
    prefix: &str,
    mode: &str,
) -> Result<ResolvedPrice, Failure> {
    let param = bracket(prefix, "price");
    // An archived (inactive) price cannot start new checkouts.
    let price = state
        .stripe
        .prices
        .get(price_id)
        .filter(|price| price.active)
        .ok_or_else(|| {
            Failure::invalid(
                Some("resource_missing"),
                Some(&param),
                format!("No such price: '{price_id}'"),
            )
        })?;
    if price.recurring.is_some() && mode != "subscription" {
        return Err(recurring_outside_subscription(&param, mode));
    }
    let name = state
        .stripe
        .products
        .get(&price.product_id)
        .map(|product| product.name.clone())
        .unwrap_or_default();
    Ok(ResolvedPrice {
        price_id: price.id.clone(),
        product_id: price.product_id.clone(),
        name,
        currency: price.currency.clone(),
        unit_amount: price.unit_amount,
        recurring: price.recurring.clone(),
        created: price.created,
    })
}

/// Stripe's error for a recurring price in a `payment` or `setup` session.
fn recurring_outside_subscription(param: &str, mode: &str) -> Failure {
    Failure::invalid(
        None,
        Some(param),
        format!(
            "You must be in `subscription` mode to use recurring prices; this session is in \
             `{mode}` mode."
        ),
    )
}

/// Builds an ad-hoc price from `line_items[i][price_data]`, checked with the rules of
/// `POST /v1/prices` (currency, amount, last digits, interval of at most three years).
fn inline_price(
    state: &State,
    price_data: &Params,
    prefix: &str,
    mode: &str,
) -> Result<ResolvedPrice, Failure> {
    let price_prefix = bracket(prefix, "price_data");
    reject_unknown(price_data, PRICE_DATA_PARAMS, &price_prefix)?;
    let currency = text(price_data, "currency", &price_prefix)?
        .ok_or_else(|| Failure::missing(&bracket(&price_prefix, "currency")))?;
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(Failure::invalid(
            None,
            Some(&bracket(&price_prefix, "currency")),
            format!("Invalid currency: {currency}."),
        ));
    }
    // Tax is not computed, so only the default behaviour is emulated.
    emulated_value(
        price_data,
        "tax_behavior",
        &price_prefix,
        &["unspecified"],
        WHAT,
    )?;
    let unit_amount = inline_unit_amount(price_data, &price_prefix)?;
    let (product_id, name) = inline_product(state, price_data, &price_prefix)?;
    let recurring = inline_recurring(price_data, &price_prefix, mode)?;
    check_price(currency, unit_amount, recurring.as_ref(), &price_prefix)?;
    Ok(ResolvedPrice {
        price_id: new_id("price_"),
        product_id,
        name,
        currency: currency.to_ascii_lowercase(),
        unit_amount,
        recurring,
        created: state.now(),
    })
}

/// Reads `unit_amount`, or whole minor units in `unit_amount_decimal`.
fn inline_unit_amount(price_data: &Params, price_prefix: &str) -> Result<i64, Failure> {
    if let Some(amount) = integer(price_data, "unit_amount", price_prefix)? {
        return Ok(amount);
    }
    match text(price_data, "unit_amount_decimal", price_prefix)? {
        Some(decimal) => decimal.parse::<i64>().map_err(|_| {
            Failure::invalid(
                None,
                Some(&bracket(price_prefix, "unit_amount_decimal")),
                "The sandbox accepts only whole minor units in unit_amount_decimal.".to_owned(),
            )
        }),
        None => Err(Failure::missing(&bracket(price_prefix, "unit_amount"))),
    }
}

/// Reads the product of an ad-hoc price: new `product_data`, or an existing `product`.
fn inline_product(
    state: &State,
    price_data: &Params,
    price_prefix: &str,
) -> Result<(String, String), Failure> {
    let product_prefix = bracket(price_prefix, "product_data");
    if let Some(product_data) = object(price_data, "product_data", price_prefix)? {
        reject_unknown(product_data, PRODUCT_DATA_PARAMS, &product_prefix)?;
        let name = text(product_data, "name", &product_prefix)?
            .ok_or_else(|| Failure::missing(&bracket(&product_prefix, "name")))?;
        return Ok((new_id("prod_"), name.to_owned()));
    }
    let Some(product) = text(price_data, "product", price_prefix)? else {
        return Err(Failure::missing(&product_prefix));
    };
    // An existing product (from the Price catalog) lends its name.
    match state.stripe.products.get(product) {
        Some(known) => Ok((product.to_owned(), known.name.clone())),
        None => Err(Failure::invalid(
            Some("resource_missing"),
            Some(&bracket(price_prefix, "product")),
            format!("No such product: '{product}'"),
        )),
    }
}

/// Reads `recurring` of an ad-hoc price; only `subscription` sessions take one.
fn inline_recurring(
    price_data: &Params,
    price_prefix: &str,
    mode: &str,
) -> Result<Option<Recurring>, Failure> {
    let recurring_prefix = bracket(price_prefix, "recurring");
    let Some(recurring) = object(price_data, "recurring", price_prefix)? else {
        return Ok(None);
    };
    reject_unknown(recurring, RECURRING_PARAMS, &recurring_prefix)?;
    let interval = one_of(
        recurring,
        "interval",
        &recurring_prefix,
        &["day", "week", "month", "year"],
    )?
    .ok_or_else(|| Failure::missing(&bracket(&recurring_prefix, "interval")))?;
    let interval_count = integer(recurring, "interval_count", &recurring_prefix)?.unwrap_or(1);
    if mode != "subscription" {
        return Err(recurring_outside_subscription(&recurring_prefix, mode));
    }
    Ok(Some(Recurring {
        interval: interval.to_owned(),
        interval_count,
    }))
}
