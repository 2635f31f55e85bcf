//! Stripe Checkout Sessions: `POST /v1/checkout/sessions` with Stripe's validation. Reading
//! sessions is in [`read`]; expiry and payment are in [`lifecycle`].

pub(crate) mod discounts;
pub(crate) mod lifecycle;
pub(crate) mod line_items;
pub(crate) mod read;

use http::StatusCode;

use crate::app::App;
use crate::checkout::{plausible_email, CheckoutStatus};
use crate::gateways::stripe::currencies;
use crate::gateways::stripe::error::{Failure, Outcome};
use crate::gateways::stripe::form::Params;
use crate::gateways::stripe::objects::{AppliedDiscount, Coupon, LineItem, Session};
use crate::gateways::stripe::params::{
    boolean, check_expand, existing_customer, expand_list, integer, metadata, one_of,
    reject_unknown, text, version_at_least, CallContext,
};
use crate::gateways::stripe::sessions::discounts::{allocate, discount_amount, parse_discounts};
use crate::gateways::stripe::sessions::line_items::parse_items_and_currency;
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
    let (mut line_items, currency) = parse_items_and_currency(state, params, mode)?;
    let allow_promotion_codes = boolean(params, "allow_promotion_codes", "")?;
    let discount = parse_discounts(state, params, allow_promotion_codes)?;
    let amounts = price_session(&mut line_items, currency.as_deref(), discount.as_ref())?;
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

/// A session's amounts: line items before discounts, the discount, and what is due.
struct Amounts {
    subtotal: i64,
    discount: i64,
    total: i64,
}

/// Adds up the line items (refusing a total over Stripe's eight digits) and applies the
/// discount, recording each line's share of it.
fn price_session(
    line_items: &mut [LineItem],
    currency: Option<&str>,
    discount: Option<&(AppliedDiscount, Coupon)>,
) -> Result<Amounts, Failure> {
    let subtotal = check_total(line_items)?;
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
    allocate(line_items, subtotal, discount);
    Ok(Amounts {
        subtotal,
        discount,
        total: subtotal - discount,
    })
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
