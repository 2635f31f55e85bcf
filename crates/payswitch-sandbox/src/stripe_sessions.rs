//! Stripe Checkout Sessions: create with Stripe's validation, retrieve,
//! list, expire, line items, payment and expiry.

use std::collections::BTreeMap;

use http::StatusCode;
use serde_json::{json, Value};

use crate::money;
use crate::server::App;
use crate::state::{
    new_id, random_token, CheckoutStatus, LineItem, PaymentIntent, Recurring, State, StripeSession,
};
use crate::stripe::{
    self, boolean, bracket, check_expand, expand_list, integer, metadata, object, one_of,
    reject_unknown, text, CallContext, Failure, Outcome, Params,
};
use crate::stripe_intents;

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

/// `POST /v1/checkout/sessions`.
pub(crate) fn create(
    app: &App,
    state: &mut State,
    params: &Params,
    context: &CallContext<'_>,
) -> Outcome {
    reject_unknown(params, CREATE_PARAMS, "")?;
    let endive = stripe::version_at_least(context.api_version, "2026-09-30");
    if endive && params.contains_key("payment_method_types") {
        // Removed from Checkout Session create in 2026-09-30.endive.
        return Err(Failure::unknown("payment_method_types"));
    }
    let now = state.now();
    let mode = text(params, "mode", "")?.ok_or_else(|| Failure::missing("mode"))?;
    if !["payment", "subscription", "setup"].contains(&mode) {
        return Err(Failure::invalid(
            None,
            Some("mode"),
            format!("Invalid mode: must be one of payment, setup, or subscription (got {mode})."),
        ));
    }
    let dahlia = stripe::version_at_least(context.api_version, "2026-03-25");
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
    let embedded = !matches!(ui_mode, "hosted" | "hosted_page");

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

    let line_items = parse_line_items(params, mode)?;
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
    if let Some(currency) = &currency {
        let minimum = money::stripe_minimum(currency);
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
    let customer = text(params, "customer", "")?;
    if let Some(customer) = customer {
        if !state
            .stripe_customers
            .values()
            .any(|known| known == customer)
        {
            return Err(Failure::invalid(
                Some("resource_missing"),
                Some("customer"),
                format!("No such customer: '{customer}'"),
            ));
        }
        if customer_email.is_some() {
            return Err(Failure::invalid(
                Some("parameters_exclusive"),
                Some("customer_email"),
                "You may only specify one of these parameters: customer, customer_email."
                    .to_owned(),
            ));
        }
    }
    let locale = one_of(params, "locale", "", LOCALES)?;
    let allow_promotion_codes = boolean(params, "allow_promotion_codes", "")?;
    let metadata = metadata(params, "")?;
    let expand = expand_list(params)?;
    check_expand(&expand, &["line_items", "payment_intent"])?;

    let id = new_id("cs_test_");
    let session = StripeSession {
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
        success_url,
        cancel_url,
        return_url,
        metadata,
        client_reference_id: client_reference_id.map(str::to_owned),
        customer_email: customer_email.map(str::to_owned),
        customer: customer.map(str::to_owned),
        paid_email: None,
        payment_intent: None,
        subscription: None,
        locale: locale.map(str::to_owned),
        allow_promotion_codes,
    };
    let rendered = render(app, state, &session, &expand);
    state.counts.stripe_checkout_sessions += 1;
    state.session_order.push(id.clone());
    state.sessions.insert(id, session);
    Ok((StatusCode::OK, rendered))
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

/// True for something that looks like `local@domain`.
pub(crate) fn plausible_email(email: &str) -> bool {
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && domain.contains('.') && !email.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

fn parse_line_items(params: &Params, mode: &str) -> Result<Vec<LineItem>, Failure> {
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
        if let Some(price) = text(map, "price", &prefix)? {
            // The sandbox keeps no Price catalog; only inline price_data exists.
            return Err(Failure::invalid(
                Some("resource_missing"),
                Some(&bracket(&prefix, "price")),
                format!("No such price: '{price}'"),
            ));
        }
        let price_prefix = bracket(&prefix, "price_data");
        let price_data =
            object(map, "price_data", &prefix)?.ok_or_else(|| Failure::missing(&price_prefix))?;
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
                        "The sandbox accepts only whole minor units in unit_amount_decimal."
                            .to_owned(),
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
                    return Err(Failure::invalid(
                        None,
                        Some(&recurring_prefix),
                        format!(
                            "You must be in `subscription` mode to use recurring prices; this \
                             session is in `{mode}` mode."
                        ),
                    ));
                }
                Some(Recurring {
                    interval: interval.to_owned(),
                    interval_count,
                })
            }
            None => None,
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
            price_id: new_id("price_"),
            product_id,
            name,
            currency: currency.to_ascii_lowercase(),
            unit_amount,
            quantity,
            recurring,
            metadata: metadata(map, &prefix)?,
        });
    }
    Ok(items)
}

/// Renders a session as Stripe's `checkout.session` JSON.
pub(crate) fn render(
    app: &App,
    state: &State,
    session: &StripeSession,
    expand: &[String],
) -> Value {
    let open = session.status == CheckoutStatus::Open;
    let url = (open && !session.embedded).then(|| format!("{}/pay/{}", app.base_url, session.id));
    let payment_status = match session.status {
        _ if session.mode == "setup" => "no_payment_required",
        CheckoutStatus::Complete if session.amount_total == 0 => "no_payment_required",
        CheckoutStatus::Complete => "paid",
        CheckoutStatus::Open | CheckoutStatus::Expired => "unpaid",
    };
    let status = match session.status {
        CheckoutStatus::Open => "open",
        CheckoutStatus::Complete => "complete",
        CheckoutStatus::Expired => "expired",
    };
    let email = session
        .paid_email
        .as_ref()
        .or(session.customer_email.as_ref());
    let customer_details = email.map(|email| {
        json!({
            "address": null, "email": email, "name": null, "phone": null,
            "tax_exempt": "none", "tax_ids": [],
        })
    });
    let mut value = json!({
        "id": session.id,
        "object": "checkout.session",
        "after_expiration": null,
        "allow_promotion_codes": session.allow_promotion_codes,
        "amount_subtotal": (session.mode != "setup").then_some(session.amount_total),
        "amount_total": (session.mode != "setup").then_some(session.amount_total),
        "automatic_tax": { "enabled": false, "liability": null, "provider": null, "status": null },
        "billing_address_collection": null,
        "cancel_url": session.cancel_url,
        "client_reference_id": session.client_reference_id,
        "client_secret": if open { session.client_secret.clone() } else { None },
        "created": session.created,
        "currency": session.currency,
        "custom_fields": [],
        "custom_text": {
            "after_submit": null, "shipping_address": null, "submit": null,
            "terms_of_service_acceptance": null,
        },
        "customer": session.customer,
        "customer_creation": if session.mode == "payment" { Some("if_required") } else { None },
        "customer_details": customer_details,
        "customer_email": session.customer_email,
        "expires_at": session.expires_at,
        "invoice": null,
        "livemode": false,
        "locale": session.locale,
        "metadata": session.metadata,
        "mode": session.mode,
        "payment_intent": session.payment_intent,
        "payment_link": null,
        "payment_method_collection": if session.mode == "subscription" { Some("always") } else { None },
        "payment_method_types": ["card"],
        "payment_status": payment_status,
        "phone_number_collection": { "enabled": false },
        "recovered_from": null,
        "return_url": session.return_url,
        "setup_intent": null,
        "shipping_address_collection": null,
        "shipping_options": [],
        "status": status,
        "submit_type": null,
        "subscription": session.subscription,
        "success_url": session.success_url,
        "total_details": { "amount_discount": 0, "amount_shipping": 0, "amount_tax": 0 },
        "ui_mode": session.ui_mode,
        "url": url,
    });
    if let Some(object) = value.as_object_mut() {
        if expand.iter().any(|field| field == "line_items") {
            let items: Vec<Value> = session.line_items.iter().map(render_item).collect();
            object.insert(
                "line_items".into(),
                json!({
                    "object": "list",
                    "data": items,
                    "has_more": false,
                    "url": format!("/v1/checkout/sessions/{}/line_items", session.id),
                }),
            );
        }
        if expand.iter().any(|field| field == "payment_intent") {
            if let Some(intent) = session
                .payment_intent
                .as_ref()
                .and_then(|id| state.payment_intents.get(id))
            {
                object.insert("payment_intent".into(), stripe_intents::render(intent));
            }
        }
    }
    value
}

/// Renders a line item as Stripe's `item` JSON (fixtures3 shape).
fn render_item(item: &LineItem) -> Value {
    let amount = item.unit_amount.saturating_mul(item.quantity);
    let recurring = item.recurring.as_ref().map(|recurring| {
        json!({
            "interval": recurring.interval,
            "interval_count": recurring.interval_count,
            "meter": null,
            "trial_period_days": null,
            "usage_type": "licensed",
        })
    });
    json!({
        "id": item.id,
        "object": "item",
        "amount_discount": 0,
        "amount_subtotal": amount,
        "amount_tax": 0,
        "amount_total": amount,
        "currency": item.currency,
        "description": item.name,
        "metadata": item.metadata,
        "price": {
            "id": item.price_id,
            "object": "price",
            "active": false,
            "billing_scheme": "per_unit",
            "currency": item.currency,
            "custom_unit_amount": null,
            "livemode": false,
            "lookup_key": null,
            "metadata": {},
            "nickname": null,
            "product": item.product_id,
            "recurring": recurring,
            "tax_behavior": "unspecified",
            "tiers_mode": null,
            "transform_quantity": null,
            "type": if item.recurring.is_some() { "recurring" } else { "one_time" },
            "unit_amount": item.unit_amount,
            "unit_amount_decimal": item.unit_amount.to_string(),
        },
        "quantity": item.quantity,
    })
}

/// `GET /v1/checkout/sessions/{id}`.
pub(crate) fn retrieve(app: &App, state: &State, id: &str, params: &Params) -> Outcome {
    reject_unknown(params, &["expand"], "")?;
    let expand = expand_list(params)?;
    check_expand(&expand, &["line_items", "payment_intent"])?;
    let session = state
        .sessions
        .get(id)
        .ok_or_else(|| Failure::not_found("checkout.session", "session", id))?;
    Ok((StatusCode::OK, render(app, state, session, &expand)))
}

/// Reads `limit` (1..=100, default 10) for list endpoints.
fn list_limit(params: &Params) -> Result<usize, Failure> {
    let limit = integer(params, "limit", "")?.unwrap_or(10);
    if !(1..=100).contains(&limit) {
        return Err(Failure::invalid(
            None,
            Some("limit"),
            "This value must be between 1 and 100 (inclusive).".to_owned(),
        ));
    }
    Ok(usize::try_from(limit).unwrap_or(10))
}

/// Applies `starting_after` / `ending_before` and `limit` to ids in list
/// order, returning the page and whether more follow.
fn paginate(ids: &[String], params: &Params, object: &str) -> Result<(Vec<String>, bool), Failure> {
    let limit = list_limit(params)?;
    let find = |param: &str, cursor: &str| {
        ids.iter().position(|id| id == cursor).ok_or_else(|| {
            Failure::invalid(
                Some("resource_missing"),
                Some(param),
                format!("No such {object}: '{cursor}'"),
            )
        })
    };
    if let Some(cursor) = text(params, "starting_after", "")? {
        let start = find("starting_after", cursor)? + 1;
        let rest = ids.get(start..).unwrap_or(&[]);
        let page: Vec<String> = rest.iter().take(limit).cloned().collect();
        return Ok((page, rest.len() > limit));
    }
    if let Some(cursor) = text(params, "ending_before", "")? {
        let end = find("ending_before", cursor)?;
        let before = ids.get(..end).unwrap_or(&[]);
        let skip = before.len().saturating_sub(limit);
        let page: Vec<String> = before.iter().skip(skip).cloned().collect();
        return Ok((page, skip > 0));
    }
    let page: Vec<String> = ids.iter().take(limit).cloned().collect();
    Ok((page, ids.len() > limit))
}

/// `GET /v1/checkout/sessions`: newest first.
pub(crate) fn list(app: &App, state: &State, params: &Params) -> Outcome {
    reject_unknown(
        params,
        &[
            "created",
            "customer",
            "customer_account",
            "customer_details",
            "ending_before",
            "expand",
            "limit",
            "payment_intent",
            "payment_link",
            "starting_after",
            "status",
            "subscription",
        ],
        "",
    )?;
    let status = one_of(params, "status", "", &["open", "complete", "expired"])?;
    let payment_intent = text(params, "payment_intent", "")?;
    let customer = text(params, "customer", "")?;
    let expand = expand_list(params)?;
    let inner_expand: Vec<String> = expand
        .iter()
        .filter_map(|field| field.strip_prefix("data.").map(str::to_owned))
        .collect();
    check_expand(&inner_expand, &["line_items", "payment_intent"])?;
    let ids: Vec<String> = state
        .session_order
        .iter()
        .rev()
        .filter(|id| {
            state.sessions.get(*id).is_some_and(|session| {
                let status_matches = status.is_none_or(|wanted| {
                    matches!(
                        (wanted, session.status),
                        ("open", CheckoutStatus::Open)
                            | ("complete", CheckoutStatus::Complete)
                            | ("expired", CheckoutStatus::Expired)
                    )
                });
                status_matches
                    && payment_intent
                        .is_none_or(|wanted| session.payment_intent.as_deref() == Some(wanted))
                    && customer.is_none_or(|wanted| session.customer.as_deref() == Some(wanted))
            })
        })
        .cloned()
        .collect();
    let (page, has_more) = paginate(&ids, params, "checkout.session")?;
    let data: Vec<Value> = page
        .iter()
        .filter_map(|id| state.sessions.get(id))
        .map(|session| render(app, state, session, &inner_expand))
        .collect();
    Ok((
        StatusCode::OK,
        json!({ "object": "list", "data": data, "has_more": has_more, "url": "/v1/checkout/sessions" }),
    ))
}

/// `GET /v1/checkout/sessions/{id}/line_items`.
pub(crate) fn line_items(state: &State, id: &str, params: &Params) -> Outcome {
    reject_unknown(
        params,
        &["ending_before", "expand", "limit", "starting_after"],
        "",
    )?;
    let session = state
        .sessions
        .get(id)
        .ok_or_else(|| Failure::not_found("checkout.session", "session", id))?;
    let ids: Vec<String> = session
        .line_items
        .iter()
        .map(|item| item.id.clone())
        .collect();
    let (page, has_more) = paginate(&ids, params, "item")?;
    let data: Vec<Value> = session
        .line_items
        .iter()
        .filter(|item| page.contains(&item.id))
        .map(render_item)
        .collect();
    Ok((
        StatusCode::OK,
        json!({
            "object": "list",
            "data": data,
            "has_more": has_more,
            "url": format!("/v1/checkout/sessions/{id}/line_items"),
        }),
    ))
}

/// `POST /v1/checkout/sessions/{id}/expire`.
pub(crate) fn expire(
    app: &App,
    state: &mut State,
    id: &str,
    params: &Params,
    context: &CallContext<'_>,
) -> Outcome {
    reject_unknown(params, &["expand"], "")?;
    let expand = expand_list(params)?;
    check_expand(&expand, &["line_items", "payment_intent"])?;
    let session = state
        .sessions
        .get(id)
        .ok_or_else(|| Failure::not_found("checkout.session", "session", id))?;
    if session.status != CheckoutStatus::Open {
        let status = if session.status == CheckoutStatus::Complete {
            "complete"
        } else {
            "expired"
        };
        return Err(Failure::invalid(
            None,
            None,
            format!(
                "Only Checkout Sessions with a status in [\"open\"] can be expired. This \
                 Checkout Session has a status of \"{status}\"."
            ),
        ));
    }
    let rendered = mark_expired(app, state, id, Some(context), &expand);
    Ok((StatusCode::OK, rendered))
}

/// Moves an open session to expired and emits `checkout.session.expired`.
pub(crate) fn mark_expired(
    app: &App,
    state: &mut State,
    id: &str,
    context: Option<&CallContext<'_>>,
    expand: &[String],
) -> Value {
    if let Some(session) = state.sessions.get_mut(id) {
        session.status = CheckoutStatus::Expired;
    }
    let Some(session) = state.sessions.get(id) else {
        return Value::Null;
    };
    let event_object = render(app, state, session, &[]);
    let rendered = render(app, state, session, expand);
    stripe::emit_event(
        app,
        state,
        "checkout.session.expired",
        event_object,
        context,
    );
    rendered
}

/// Expires every open session whose `expires_at` has passed.
pub(crate) fn expire_due(app: &App, state: &mut State) {
    let now = state.now();
    let due: Vec<String> = state
        .session_order
        .iter()
        .filter(|id| {
            state.sessions.get(*id).is_some_and(|session| {
                session.status == CheckoutStatus::Open && session.expires_at <= now
            })
        })
        .cloned()
        .collect();
    for id in due {
        mark_expired(app, state, &id, None, &[]);
    }
}

/// Pays an open session as the hosted page does: creates the PaymentIntent
/// or subscription, completes the session, emits
/// `checkout.session.completed`, and returns the redirect URL.
pub(crate) fn complete(
    app: &App,
    state: &mut State,
    id: &str,
    email: &str,
) -> Result<String, String> {
    let now = state.now();
    let session = state
        .sessions
        .get(id)
        .ok_or_else(|| format!("no such session {id}"))?;
    match session.status {
        CheckoutStatus::Open if session.expires_at > now => {}
        CheckoutStatus::Open | CheckoutStatus::Expired => {
            return Err("this checkout session has expired".to_owned())
        }
        CheckoutStatus::Complete => return Err("this checkout session is already paid".to_owned()),
    }
    let mode = session.mode.clone();
    let amount = session.amount_total;
    let currency = session.currency.clone().unwrap_or_else(|| "usd".to_owned());
    let metadata = BTreeMap::new();
    let known_customer = session.customer.clone();

    let customer = match known_customer {
        Some(customer) => Some(customer),
        None if mode == "subscription" => Some(
            state
                .stripe_customers
                .entry(email.to_owned())
                .or_insert_with(|| new_id("cus_"))
                .clone(),
        ),
        None => None,
    };
    let mut payment_intent = None;
    if mode == "payment" {
        let intent_id = new_id("pi_");
        let intent = PaymentIntent {
            client_secret: format!("{intent_id}_secret_{}", random_token(24)),
            id: intent_id.clone(),
            amount,
            currency,
            status: "succeeded".to_owned(),
            created: now,
            metadata,
            payment_method: Some(new_id("pm_")),
            latest_charge: Some(new_id("ch_")),
            last_payment_error: None,
            description: None,
            customer: customer.clone(),
            capture_method: "automatic_async".to_owned(),
            automatic_payment_methods: Some(
                json!({ "allow_redirects": "always", "enabled": true }),
            ),
            receipt_email: None,
        };
        state.counts.stripe_payment_intents += 1;
        state.payment_intents.insert(intent_id.clone(), intent);
        payment_intent = Some(intent_id);
    }
    let subscription = (mode == "subscription").then(|| new_id("sub_"));
    let Some(session) = state.sessions.get_mut(id) else {
        return Err(format!("no such session {id}"));
    };
    session.status = CheckoutStatus::Complete;
    session.paid_email = Some(email.to_owned());
    session.customer = customer;
    session.payment_intent = payment_intent;
    session.subscription = subscription;
    let target = if session.embedded {
        session.return_url.clone()
    } else {
        session.success_url.clone()
    };
    let redirect = match target {
        Some(url) => url.replace("{CHECKOUT_SESSION_ID}", id),
        None => format!("{}/pay/{id}", app.base_url),
    };
    let Some(session) = state.sessions.get(id) else {
        return Err(format!("no such session {id}"));
    };
    let event_object = render(app, state, session, &[]);
    stripe::emit_event(app, state, "checkout.session.completed", event_object, None);
    Ok(redirect)
}
