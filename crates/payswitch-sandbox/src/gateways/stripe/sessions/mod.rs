//! Stripe Checkout Sessions: `POST /v1/checkout/sessions` with Stripe's validation. Reading
//! sessions is in [`read`]; expiry and payment are in [`lifecycle`].

pub(crate) mod lifecycle;
pub(crate) mod read;

use http::StatusCode;

use crate::app::App;
use crate::checkout::{plausible_email, CheckoutStatus};
use crate::gateways::stripe::currencies;
use crate::gateways::stripe::error::{Failure, Outcome};
use crate::gateways::stripe::form::Params;
use crate::gateways::stripe::objects::{LineItem, Recurring, Session};
use crate::gateways::stripe::params::{
    boolean, bracket, check_expand, existing_customer, expand_list, integer, metadata, object,
    one_of, reject_unknown, text, version_at_least, CallContext,
};
use crate::money;
use crate::state::{new_id, random_token, State};

/// Every top-level create parameter Stripe knows (stripe-python 16.1.0).
const CREATE_PARAMS: &[&str] = &[
    "adaptive_pricing",
    "after_expiration",
    "allow_promotion_codes",
    "allowed_payment_method_types",
    "automatic_tax",
    "billing_address_collection",
    "branding_settings",
    "cancel_url",
    "client_reference_id",
    "consent_collection",
    "currency",
    "custom_fields",
    "custom_text",
    "customer",
    "customer_account",
    "customer_creation",
    "customer_email",
    "customer_update",
    "discounts",
    "excluded_payment_method_types",
    "expand",
    "expires_at",
    "integration_identifier",
    "invoice_creation",
    "line_items",
    "locale",
    "managed_payments",
    "metadata",
    "mode",
    "name_collection",
    "optional_items",
    "origin_context",
    "payment_intent_data",
    "payment_method_collection",
    "payment_method_configuration",
    "payment_method_data",
    "payment_method_options",
    "payment_method_types",
    "permissions",
    "phone_number_collection",
    "redirect_on_completion",
    "return_url",
    "saved_payment_method_options",
    "setup_intent_data",
    "shipping_address_collection",
    "shipping_options",
    "submit_type",
    "subscription_data",
    "success_url",
    "tax_id_collection",
    "ui_mode",
    "wallet_options",
];

const LINE_ITEM_PARAMS: &[&str] = &[
    "adjustable_quantity",
    "dynamic_tax_rates",
    "metadata",
    "price",
    "price_data",
    "quantity",
    "tax_rates",
];
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

const LOCALES: &[&str] = &[
    "auto", "bg", "cs", "da", "de", "el", "en", "en-GB", "es", "es-419", "et", "fi", "fil", "fr",
    "fr-CA", "hr", "hu", "id", "it", "ja", "ko", "lt", "lv", "ms", "mt", "nb", "nl", "pl", "pt",
    "pt-BR", "ro", "ru", "sk", "sl", "sv", "th", "tr", "vi", "zh", "zh-HK", "zh-TW",
];

/// Default and bounds of `expires_at`, in seconds after creation.
const DEFAULT_LIFETIME: i64 = 24 * 60 * 60;
const MIN_LIFETIME: i64 = 30 * 60;

/// The checked redirect URLs of a new session.
struct Urls {
    success_url: Option<String>,
    cancel_url: Option<String>,
    return_url: Option<String>,
}

/// `POST /v1/checkout/sessions`: reads and checks each group of parameters in the order
/// Stripe reports them, then stores the session.
pub(crate) fn create(
    app: &App,
    state: &mut State,
    params: &Params,
    context: &CallContext<'_>,
) -> Outcome {
    reject_unknown(params, CREATE_PARAMS, "")?;
    let endive = version_at_least(context.api_version, "2026-09-30");
    if endive && params.contains_key("payment_method_types") {
        // Removed from Checkout Session create in 2026-09-30.endive.
        return Err(Failure::unknown("payment_method_types"));
    }
    let now = state.now();
    let (mode, ui_mode) = parse_mode(params, context)?;
    let embedded = !matches!(ui_mode, "hosted" | "hosted_page");
    let urls = parse_urls(params, ui_mode, embedded)?;
    let (line_items, currency) = parse_items_and_currency(state, params, mode)?;
    let amount_total = check_total(&line_items)?;
    check_minimum(mode, currency.as_deref(), amount_total)?;
    let expires_at = check_expires_at(params, now)?;
    let payer = parse_customer(params, state)?;
    let locale = one_of(params, "locale", "", LOCALES)?;
    let allow_promotion_codes = boolean(params, "allow_promotion_codes", "")?;
    let metadata = metadata(params, "")?;
    let expand = expand_list(params)?;
    check_expand(&expand, &["line_items", "payment_intent"])?;

    let id = new_id("cs_test_");
    let session = Session {
        client_secret: embedded.then(|| format!("{id}_secret_{}", random_token(24))),
        id: id.clone(),
        created: now,
        expires_at,
        mode: mode.to_owned(),
        ui_mode: ui_mode.to_owned(),
        embedded,
        status: CheckoutStatus::Open,
        currency,
        line_items,
        amount_total,
        success_url: urls.success_url,
        cancel_url: urls.cancel_url,
        return_url: urls.return_url,
        metadata,
        client_reference_id: payer.client_reference_id.map(str::to_owned),
        customer_email: payer.customer_email.map(str::to_owned),
        customer: payer.customer.map(str::to_owned),
        paid_email: None,
        payment_intent: None,
        subscription: None,
        locale: locale.map(str::to_owned),
        allow_promotion_codes,
    };
    let rendered = read::render(app, state, &session, &expand);
    state.counts.stripe_checkout_sessions += 1;
    state.stripe.session_order.push(id.clone());
    state.note_expiry(session.expires_at);
    state.stripe.sessions.insert(id, session);
    Ok((StatusCode::OK, rendered))
}

/// Reads `mode` (required) and `ui_mode`, whose values depend on the API version.
fn parse_mode<'a>(
    params: &'a Params,
    context: &CallContext<'_>,
) -> Result<(&'a str, &'a str), Failure> {
    let mode = text(params, "mode", "")?.ok_or_else(|| Failure::missing("mode"))?;
    if !["payment", "subscription", "setup"].contains(&mode) {
        return Err(Failure::invalid(
            None,
            Some("mode"),
            format!("Invalid mode: must be one of payment, setup, or subscription (got {mode})."),
        ));
    }
    let dahlia = version_at_least(context.api_version, "2026-03-25");
    let ui_modes: &[&str] = if dahlia {
        &["hosted_page", "embedded_page", "elements", "form"]
    } else {
        &["hosted", "embedded", "custom"]
    };
    let ui_mode = one_of(params, "ui_mode", "", ui_modes)?.unwrap_or(if dahlia {
        "hosted_page"
    } else {
        "hosted"
    });
    Ok((mode, ui_mode))
}

/// Reads the redirect URLs: `success_url`/`cancel_url` for hosted sessions, `return_url`
/// for embedded ones.
fn parse_urls(params: &Params, ui_mode: &str, embedded: bool) -> Result<Urls, Failure> {
    let success_url = url_param(params, "success_url")?;
    let cancel_url = url_param(params, "cancel_url")?;
    let return_url = url_param(params, "return_url")?;
    if embedded {
        for (name, given) in [("success_url", &success_url), ("cancel_url", &cancel_url)] {
            if given.is_some() {
                return Err(Failure::invalid(
                    None,
                    Some(name),
                    format!("You cannot pass `{name}` when `ui_mode` is `{ui_mode}`."),
                ));
            }
        }
        if return_url.is_none() && text(params, "redirect_on_completion", "")? != Some("never") {
            return Err(Failure::missing("return_url"));
        }
    } else if return_url.is_some() {
        return Err(Failure::invalid(
            None,
            Some("return_url"),
            format!("You cannot pass `return_url` when `ui_mode` is `{ui_mode}`."),
        ));
    }
    Ok(Urls {
        success_url,
        cancel_url,
        return_url,
    })
}

/// Reads the line items and the session's currency: one currency for every item, none in
/// `setup` mode unless given, and a recurring price in `subscription` mode.
fn parse_items_and_currency(
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
        currency = text(params, "currency", "")?.map(str::to_ascii_lowercase);
    } else if line_items.is_empty() {
        return Err(Failure::missing("line_items"));
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

/// Adds up the line items, refusing a total over Stripe's eight digits.
fn check_total(line_items: &[LineItem]) -> Result<i64, Failure> {
    let mut amount_total: i64 = 0;
    for (index, item) in line_items.iter().enumerate() {
        let line = item.unit_amount.checked_mul(item.quantity);
        amount_total = line
            .and_then(|line| amount_total.checked_add(line))
            .filter(|total| *total <= 99_999_999)
            .ok_or_else(|| {
                Failure::invalid(
                    Some("amount_too_large"),
                    Some(&format!("line_items[{index}]")),
                    "The Checkout Session's total amount due must be no more than 999,999.99."
                        .to_owned(),
                )
            })?;
    }
    Ok(amount_total)
}

/// Refuses a total below Stripe's minimum charge for the currency, when the session charges
/// now.
fn check_minimum(mode: &str, currency: Option<&str>, amount_total: i64) -> Result<(), Failure> {
    if let Some(currency) = currency {
        let minimum = currencies::minimum_charge(currency);
        let charges_now = mode == "payment" || amount_total > 0;
        if mode != "setup" && charges_now && amount_total < minimum {
            return Err(Failure::invalid(
                Some("amount_too_small"),
                None,
                format!(
                    "The Checkout Session's total amount due must add up to at least {} {}",
                    money::format_amount(minimum, currency),
                    currency
                ),
            ));
        }
    }
    Ok(())
}

/// Reads `expires_at`: 30 minutes to 24 hours after creation, 24 hours by default.
fn check_expires_at(params: &Params, now: i64) -> Result<i64, Failure> {
    let expires_at = integer(params, "expires_at", "")?.unwrap_or(now + DEFAULT_LIFETIME);
    if expires_at < now + MIN_LIFETIME {
        return Err(Failure::invalid(
            None,
            Some("expires_at"),
            "The `expires_at` timestamp must be at least 30 minutes from Checkout Session \
             creation."
                .to_owned(),
        ));
    }
    if expires_at > now + DEFAULT_LIFETIME {
        return Err(Failure::invalid(
            None,
            Some("expires_at"),
            "The `expires_at` timestamp must be less than 24 hours from Checkout Session \
             creation."
                .to_owned(),
        ));
    }
    Ok(expires_at)
}

/// Who pays, as the create request says.
struct Payer<'a> {
    client_reference_id: Option<&'a str>,
    customer_email: Option<&'a str>,
    customer: Option<&'a str>,
}

/// Who pays: `client_reference_id`, and `customer_email` or an existing `customer` (not
/// both).
fn parse_customer<'a>(params: &'a Params, state: &State) -> Result<Payer<'a>, Failure> {
    let client_reference_id = text(params, "client_reference_id", "")?;
    if client_reference_id.is_some_and(|value| value.chars().count() > 200) {
        return Err(Failure::invalid(
            None,
            Some("client_reference_id"),
            "Invalid client_reference_id: must be at most 200 characters.".to_owned(),
        ));
    }
    let customer_email = text(params, "customer_email", "")?;
    if customer_email.is_some_and(|email| !plausible_email(email)) {
        return Err(Failure::invalid(
            Some("email_invalid"),
            Some("customer_email"),
            "Invalid email address.".to_owned(),
        ));
    }
    let customer = existing_customer(params, &state.stripe)?;
    if customer.is_some() && customer_email.is_some() {
        return Err(Failure::invalid(
            Some("parameters_exclusive"),
            Some("customer_email"),
            "You may only specify one of these parameters: customer, customer_email.".to_owned(),
        ));
    }
    Ok(Payer {
        client_reference_id,
        customer_email,
        customer,
    })
}

fn url_param(params: &Params, name: &str) -> Result<Option<String>, Failure> {
    let Some(value) = text(params, name, "")? else {
        return Ok(None);
    };
    let valid = url::Url::parse(value)
        .map(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
        .unwrap_or(false);
    if !valid || value.len() > 5000 {
        return Err(Failure::invalid(
            Some("url_invalid"),
            Some(name),
            "Not a valid URL".to_owned(),
        ));
    }
    Ok(Some(value.to_owned()))
}

fn parse_line_items(state: &State, params: &Params, mode: &str) -> Result<Vec<LineItem>, Failure> {
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
    let mut items = Vec::with_capacity(list.len());
    for (index, entry) in list {
        let prefix = format!("line_items[{index}]");
        let map = entry.as_map().ok_or_else(|| {
            Failure::invalid(
                None,
                Some(&prefix),
                format!("Invalid object: {prefix} must be a hash."),
            )
        })?;
        reject_unknown(map, LINE_ITEM_PARAMS, &prefix)?;
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
        items.push(LineItem {
            id: new_id("li_"),
            price_id: price.price_id,
            product_id: price.product_id,
            name: price.name,
            currency: price.currency,
            unit_amount: price.unit_amount,
            quantity,
            recurring: price.recurring,
            metadata: metadata(map, &prefix)?,
        });
    }
    Ok(items)
}

/// What a line item charges, from the catalog or from `price_data`.
struct ResolvedPrice {
    price_id: String,
    product_id: String,
    name: String,
    currency: String,
    unit_amount: i64,
    recurring: Option<Recurring>,
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

/// Builds an ad-hoc price from `line_items[i][price_data]`.
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
    let unit_amount = match integer(price_data, "unit_amount", &price_prefix)? {
        Some(amount) => amount,
        None => match text(price_data, "unit_amount_decimal", &price_prefix)? {
            Some(decimal) => decimal.parse::<i64>().map_err(|_| {
                Failure::invalid(
                    None,
                    Some(&bracket(&price_prefix, "unit_amount_decimal")),
                    "The sandbox accepts only whole minor units in unit_amount_decimal.".to_owned(),
                )
            })?,
            None => return Err(Failure::missing(&bracket(&price_prefix, "unit_amount"))),
        },
    };
    if unit_amount < 0 {
        return Err(Failure::invalid(
            None,
            Some(&bracket(&price_prefix, "unit_amount")),
            "This value must be greater than or equal to 0.".to_owned(),
        ));
    }
    let product_prefix = bracket(&price_prefix, "product_data");
    let (product_id, name) = match object(price_data, "product_data", &price_prefix)? {
        Some(product_data) => {
            reject_unknown(product_data, PRODUCT_DATA_PARAMS, &product_prefix)?;
            let name = text(product_data, "name", &product_prefix)?
                .ok_or_else(|| Failure::missing(&bracket(&product_prefix, "name")))?;
            (new_id("prod_"), name.to_owned())
        }
        None => match text(price_data, "product", &price_prefix)? {
            // An existing product (from the Price catalog) lends its name.
            Some(product) if state.stripe.products.contains_key(product) => {
                let name = state
                    .stripe
                    .products
                    .get(product)
                    .map(|known| known.name.clone())
                    .unwrap_or_default();
                (product.to_owned(), name)
            }
            Some(product) => {
                return Err(Failure::invalid(
                    Some("resource_missing"),
                    Some(&bracket(&price_prefix, "product")),
                    format!("No such product: '{product}'"),
                ))
            }
            None => return Err(Failure::missing(&product_prefix)),
        },
    };
    let recurring_prefix = bracket(&price_prefix, "recurring");
    let recurring = match object(price_data, "recurring", &price_prefix)? {
        Some(recurring) => {
            reject_unknown(recurring, RECURRING_PARAMS, &recurring_prefix)?;
            let interval = one_of(
                recurring,
                "interval",
                &recurring_prefix,
                &["day", "week", "month", "year"],
            )?
            .ok_or_else(|| Failure::missing(&bracket(&recurring_prefix, "interval")))?;
            let interval_count =
                integer(recurring, "interval_count", &recurring_prefix)?.unwrap_or(1);
            if mode != "subscription" {
                return Err(recurring_outside_subscription(&recurring_prefix, mode));
            }
            Some(Recurring {
                interval: interval.to_owned(),
                interval_count,
            })
        }
        None => None,
    };
    Ok(ResolvedPrice {
        price_id: new_id("price_"),
        product_id,
        name,
        currency: currency.to_ascii_lowercase(),
        unit_amount,
        recurring,
    })
}
