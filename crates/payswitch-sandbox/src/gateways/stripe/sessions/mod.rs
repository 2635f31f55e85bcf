//! Stripe Checkout Sessions: `POST /v1/checkout/sessions` with Stripe's validation. Reading
//! sessions is in [`read`], updating them in [`update`]; expiry and payment are in
//! [`lifecycle`].

pub(crate) mod discounts;
pub(crate) mod intent_data;
pub(crate) mod lifecycle;
pub(crate) mod line_items;
pub(crate) mod read;
pub(crate) mod update;

use http::StatusCode;

use crate::app::App;
use crate::checkout::{plausible_email, CheckoutStatus};
use crate::gateways::stripe::currencies;
use crate::gateways::stripe::error::{Failure, Outcome};
use crate::gateways::stripe::form::Params;
use crate::gateways::stripe::objects::{AppliedDiscount, Coupon, LineItem, Session};
use crate::gateways::stripe::params::{
    boolean, check_expand, emulated_value, existing_customer, expand_list, integer, metadata,
    not_emulated, object, one_of, reject_unknown, reject_unsupported, text, version_at_least,
    CallContext,
};
use crate::gateways::stripe::sessions::discounts::{allocate, discount_amount, parse_discounts};
use crate::gateways::stripe::sessions::intent_data::{
    parse_payment_intent_data, parse_setup_intent_data, parse_subscription_data,
};
use crate::gateways::stripe::sessions::line_items::parse_items_and_currency;
use crate::state::{new_id, random_token, State};

/// What a refusal names: the operation.
const WHAT: &str = "Checkout Sessions";

/// The top-level create parameters the sandbox emulates. Some only with the values that
/// describe what it does anyway (`automatic_tax[enabled]=false`, `payment_method_types` of
/// `card`); other values are refused as not emulated.
const CREATE_PARAMS: &[&str] = &[
    "allow_promotion_codes",
    "allowed_payment_method_types",
    "automatic_tax",
    "billing_address_collection",
    "cancel_url",
    "client_reference_id",
    "currency",
    "customer",
    "customer_creation",
    "customer_email",
    "discounts",
    "expand",
    "expires_at",
    "line_items",
    "locale",
    "metadata",
    "mode",
    "payment_intent_data",
    "payment_method_collection",
    "payment_method_types",
    "phone_number_collection",
    "redirect_on_completion",
    "return_url",
    "setup_intent_data",
    "submit_type",
    "subscription_data",
    "success_url",
    "tax_id_collection",
    "ui_mode",
];

/// The rest of Stripe's documented create parameters (stripe-python 16.1.0): refused with a
/// 400 that says the sandbox does not emulate them, never accepted and ignored.
const UNEMULATED_CREATE_PARAMS: &[&str] = &[
    "adaptive_pricing",
    "after_expiration",
    "branding_settings",
    "consent_collection",
    "custom_fields",
    "custom_text",
    "customer_account",
    "customer_update",
    "excluded_payment_method_types",
    "integration_identifier",
    "invoice_creation",
    "managed_payments",
    "name_collection",
    "optional_items",
    "origin_context",
    "payment_method_configuration",
    "payment_method_data",
    "payment_method_options",
    "permissions",
    "saved_payment_method_options",
    "shipping_address_collection",
    "shipping_options",
    "wallet_options",
];

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
    let endive = version_at_least(context.api_version, "2026-09-30");
    if endive && params.contains_key("payment_method_types") {
        // Removed from Checkout Session create in 2026-09-30.endive.
        return Err(Failure::unknown("payment_method_types"));
    }
    reject_unsupported(params, CREATE_PARAMS, UNEMULATED_CREATE_PARAMS, "", WHAT)?;
    check_emulated_values(params)?;
    let now = state.now();
    let (mode, ui_mode) = parse_mode(params, context)?;
    let embedded = !matches!(ui_mode, "hosted" | "hosted_page");
    let urls = parse_urls(params, ui_mode, embedded)?;
    let redirect_on_completion = parse_redirect_on_completion(params, ui_mode, embedded)?;
    let (mut line_items, currency) = parse_items_and_currency(state, params, mode)?;
    let payment_intent_data = parse_payment_intent_data(params, mode)?;
    let setup_intent_data = parse_setup_intent_data(params, mode)?;
    let customer_creation = parse_customer_creation(params, mode)?;
    let submit_type = one_of(
        params,
        "submit_type",
        "",
        &["auto", "book", "donate", "pay", "subscribe"],
    )?;
    let allow_promotion_codes = boolean(params, "allow_promotion_codes", "")?;
    let discount = parse_discounts(state, params, allow_promotion_codes)?;
    let subscription_data = parse_subscription_data(params, mode, now)?;
    let payment_method_collection = parse_payment_method_collection(params, mode)?;
    let trial =
        subscription_data.trial_end.is_some() || subscription_data.trial_period_days.is_some();
    let amounts = price_session(
        &mut line_items,
        currency.as_deref(),
        discount.as_ref(),
        trial,
    )?;
    check_minimum(
        mode,
        currency.as_deref(),
        amounts.total,
        &app.config.stripe_settlement_currency,
    )?;
    let expires_at = check_expires_at(params, now)?;
    let payer = parse_customer(params, state)?;
    let locale = one_of(params, "locale", "", LOCALES)?;
    let metadata = metadata(params, "")?;
    let expand = expand_list(params)?;
    check_expand(&expand, read::EXPANDABLE)?;

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
        amount_subtotal: amounts.subtotal,
        amount_discount: amounts.discount,
        amount_total: amounts.total,
        discounts: discount.map(|(applied, _)| applied).into_iter().collect(),
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
        invoice: None,
        locale: locale.map(str::to_owned),
        allow_promotion_codes,
        payment_method_collection,
        subscription_data,
        delayed_payment: None,
        payment_intent_data,
        setup_intent_data,
        setup_intent: None,
        submit_type: submit_type.map(str::to_owned),
        billing_address_collection: text(params, "billing_address_collection", "")?
            .map(str::to_owned),
        redirect_on_completion,
        customer_creation,
    };
    let rendered = read::render(app, state, &session, &expand);
    state.counts.stripe_checkout_sessions += 1;
    state.stripe.session_order.push(id.clone());
    state.note_expiry(session.expires_at);
    state.stripe.sessions.insert(id, session);
    Ok((StatusCode::OK, rendered))
}

/// Checks the create parameters the sandbox emulates only with some values: those that
/// describe what the sandbox does anyway pass (no tax, no phone or tax id collection, no
/// address beyond what cards need, cards only), any other is refused as not emulated.
fn check_emulated_values(params: &Params) -> Result<(), Failure> {
    for (name, settings) in [
        ("automatic_tax", &["enabled", "liability"][..]),
        ("phone_number_collection", &["enabled"][..]),
        ("tax_id_collection", &["enabled", "required"][..]),
    ] {
        if let Some(map) = object(params, name, "")? {
            reject_unknown(map, settings, name)?;
            boolean(map, "enabled", name)?;
            emulated_value(map, "enabled", name, &["false"], WHAT)?;
            if map.contains_key("liability") {
                return Err(not_emulated(&format!("{name}[liability]"), WHAT));
            }
            one_of(map, "required", name, &["if_supported", "never"])?;
            emulated_value(map, "required", name, &["never"], WHAT)?;
        }
    }
    one_of(
        params,
        "billing_address_collection",
        "",
        &["auto", "required"],
    )?;
    emulated_value(params, "billing_address_collection", "", &["auto"], WHAT)?;
    for name in ["payment_method_types", "allowed_payment_method_types"] {
        let Some(value) = params.get(name) else {
            continue;
        };
        let types = value.as_list().ok_or_else(|| {
            Failure::invalid(
                None,
                Some(name),
                format!("Invalid array: {name} must be an array."),
            )
        })?;
        for (index, entry) in types {
            let param = format!("{name}[{index}]");
            match entry.as_text() {
                Some("card") => {}
                Some(other) => return Err(not_emulated(&format!("{param}={other}"), WHAT)),
                None => {
                    return Err(Failure::invalid(
                        None,
                        Some(&param),
                        format!("Invalid string: {param} must be a string."),
                    ))
                }
            }
        }
    }
    Ok(())
}

/// Reads `redirect_on_completion` (embedded sessions only; `always` by default there).
fn parse_redirect_on_completion(
    params: &Params,
    ui_mode: &str,
    embedded: bool,
) -> Result<Option<String>, Failure> {
    let value = one_of(
        params,
        "redirect_on_completion",
        "",
        &["always", "if_required", "never"],
    )?;
    if !embedded {
        return match value {
            Some(_) => Err(Failure::invalid(
                None,
                Some("redirect_on_completion"),
                format!("You cannot pass `redirect_on_completion` when `ui_mode` is `{ui_mode}`."),
            )),
            None => Ok(None),
        };
    }
    Ok(Some(value.unwrap_or("always").to_owned()))
}

/// Reads `customer_creation` (payment and setup mode; `if_required` by default there).
fn parse_customer_creation(params: &Params, mode: &str) -> Result<Option<String>, Failure> {
    let value = one_of(params, "customer_creation", "", &["always", "if_required"])?;
    match (mode, value) {
        ("subscription", Some(_)) => Err(Failure::invalid(
            None,
            Some("customer_creation"),
            "`customer_creation` can only be used in `payment` and `setup` mode.".to_owned(),
        )),
        ("subscription", None) => Ok(None),
        (_, value) => Ok(Some(value.unwrap_or("if_required").to_owned())),
    }
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

/// A session's amounts: line items before discounts, the discount, and what is due.
struct Amounts {
    subtotal: i64,
    discount: i64,
    total: i64,
}

/// Adds up the line items (refusing a total over Stripe's eight digits) and applies the
/// discount, recording each line's share of it. With a free trial only the one-time items
/// are due today, so only they count (recurring items are billed when the trial ends).
fn price_session(
    line_items: &mut [LineItem],
    currency: Option<&str>,
    discount: Option<&(AppliedDiscount, Coupon)>,
    trial: bool,
) -> Result<Amounts, Failure> {
    let all = check_total(line_items)?;
    let due_today = |item: &LineItem| !trial || item.recurring.is_none();
    let subtotal = if trial {
        line_items
            .iter()
            .filter(|item| due_today(item))
            .map(|item| item.unit_amount.saturating_mul(item.quantity))
            .sum()
    } else {
        all
    };
    let discount = match discount {
        Some((applied, coupon)) => {
            let param = if applied.promotion_code.is_some() {
                "discounts[0][promotion_code]"
            } else {
                "discounts[0][coupon]"
            };
            discount_amount(coupon, subtotal, currency, param)?
        }
        None => 0,
    };
    let mut charged: Vec<LineItem> = line_items
        .iter()
        .filter(|item| due_today(item))
        .cloned()
        .collect();
    allocate(&mut charged, subtotal, discount);
    let mut shares = charged.into_iter();
    for item in line_items.iter_mut().filter(|item| due_today(item)) {
        if let Some(charged) = shares.next() {
            item.amount_discount = charged.amount_discount;
        }
    }
    Ok(Amounts {
        subtotal,
        discount,
        total: subtotal - discount,
    })
}

/// Reads `payment_method_collection` (`always` or `if_required`, subscription mode only).
fn parse_payment_method_collection(params: &Params, mode: &str) -> Result<Option<String>, Failure> {
    let value = one_of(
        params,
        "payment_method_collection",
        "",
        &["always", "if_required"],
    )?;
    match value {
        Some(_) if mode != "subscription" => Err(Failure::invalid(
            None,
            Some("payment_method_collection"),
            "`payment_method_collection` can only be set in `subscription` mode.".to_owned(),
        )),
        Some(value) => Ok(Some(value.to_owned())),
        None => Ok((mode == "subscription").then(|| "always".to_owned())),
    }
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

/// Refuses an amount due below the minimum charge of the settlement currency (converted when
/// the session is in another currency). A total of 0 is a no-cost order, which Stripe accepts
/// in every mode since 2023-08-16 (stripe.com/docs/payments/checkout/no-cost-orders).
fn check_minimum(
    mode: &str,
    currency: Option<&str>,
    amount_total: i64,
    settlement: &str,
) -> Result<(), Failure> {
    let Some(currency) = currency else {
        return Ok(());
    };
    if mode == "setup" || amount_total == 0 {
        return Ok(());
    }
    match currencies::below_minimum(amount_total, currency, settlement) {
        None => Ok(()),
        Some(too_small) => Err(currencies::too_small_failure(
            &too_small,
            amount_total,
            currency,
            settlement,
            None,
            |minimum| {
                format!("The Checkout Session's total amount due must add up to at least {minimum}")
            },
        )),
    }
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
