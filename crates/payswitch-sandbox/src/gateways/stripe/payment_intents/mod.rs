//! Stripe PaymentIntents: the server creates one with the amount, the client confirms it
//! with a test payment method and the client secret. Listing, updating, cancelling and
//! capturing are in [`manage`].

pub(crate) mod manage;

use http::StatusCode;
use serde_json::{json, Map, Value};

use crate::access::constant_time_eq;
use crate::app::App;
use crate::gateways::stripe::charges::{
    self, doc_url, record_failed_intent_charge, record_intent_charge,
};
use crate::gateways::stripe::currencies;
use crate::gateways::stripe::error::{ApiError, Failure, Outcome};
use crate::gateways::stripe::events::emit_event;
use crate::gateways::stripe::form::{FormValue, Params};
use crate::gateways::stripe::objects::PaymentIntent;
use crate::gateways::stripe::params::{
    boolean, check_expand, emulated_value, existing_customer, expand_list, integer, metadata,
    not_emulated, object, one_of, reject_unknown, reject_unsupported, text, version_at_least,
    CallContext,
};
use crate::gateways::stripe::payment_methods;
use crate::instruments::{Charged, Decline, Instrument};
use crate::state::{new_id, random_token, State};

/// What a refusal names: the operation.
const WHAT: &str = "PaymentIntents";

/// Create parameters the sandbox emulates. `return_url`, `use_stripe_sdk`,
/// `error_on_requires_action` and `off_session` are accepted: they change nothing for the
/// test cards, which never ask for authentication or a redirect.
const CREATE_PARAMS: &[&str] = &[
    "allowed_payment_method_types",
    "amount",
    "automatic_payment_methods",
    "capture_method",
    "confirm",
    "confirmation_method",
    "currency",
    "customer",
    "description",
    "error_on_requires_action",
    "expand",
    "metadata",
    "off_session",
    "payment_method",
    "payment_method_types",
    "receipt_email",
    "return_url",
    "use_stripe_sdk",
];
/// Documented create parameters the sandbox does not emulate: refused by name.
const UNEMULATED_CREATE_PARAMS: &[&str] = &[
    "amount_details",
    "application_fee_amount",
    "confirmation_token",
    "customer_account",
    "excluded_payment_method_types",
    "hooks",
    "mandate",
    "mandate_data",
    "on_behalf_of",
    "payment_details",
    "payment_method_configuration",
    "payment_method_data",
    "payment_method_options",
    "radar_options",
    "setup_future_usage",
    "shipping",
    "statement_descriptor",
    "statement_descriptor_suffix",
    "transfer_data",
    "transfer_group",
];

/// Confirm parameters the sandbox emulates (the no-op ones as on create).
const CONFIRM_PARAMS: &[&str] = &[
    "capture_method",
    "client_secret",
    "error_on_requires_action",
    "expand",
    "off_session",
    "payment_method",
    "receipt_email",
    "return_url",
    "use_stripe_sdk",
];
/// Documented confirm parameters the sandbox does not emulate: refused by name.
const UNEMULATED_CONFIRM_PARAMS: &[&str] = &[
    "confirmation_token",
    "mandate",
    "mandate_data",
    "payment_details",
    "payment_method_data",
    "payment_method_options",
    "payment_method_types",
    "radar_options",
    "setup_future_usage",
    "shipping",
];

/// Refuses payment method types other than `card`, the only one the sandbox emulates.
fn check_card_only(params: &Params) -> Result<(), Failure> {
    for name in ["payment_method_types", "allowed_payment_method_types"] {
        let Some(value) = params.get(name) else {
            continue;
        };
        let types = match value {
            FormValue::Text(text) if text.is_empty() => continue,
            other => other.as_list().ok_or_else(|| {
                Failure::invalid(
                    None,
                    Some(name),
                    format!("Invalid array: {name} must be an array."),
                )
            })?,
        };
        for (index, entry) in types {
            match entry.as_text() {
                Some("card") => {}
                other => {
                    return Err(not_emulated(
                        &format!("{name}[{index}]={}", other.unwrap_or("…")),
                        WHAT,
                    ))
                }
            }
        }
    }
    Ok(())
}

/// `POST /v1/payment_intents`.
pub(crate) fn create(
    app: &App,
    state: &mut State,
    params: &Params,
    context: &CallContext<'_>,
) -> Outcome {
    reject_unsupported(params, CREATE_PARAMS, UNEMULATED_CREATE_PARAMS, "", WHAT)?;
    if params.contains_key("payment_method_types")
        && version_at_least(context.api_version, "2026-09-30")
    {
        return Err(Failure::invalid(
            Some("payment_method_types_no_longer_supported"),
            Some("payment_method_types"),
            "`payment_method_types` is no longer supported on this API version; use \
             `allowed_payment_method_types` or dynamic payment methods."
                .to_owned(),
        ));
    }
    check_card_only(params)?;
    // Manual confirmation needs a server-side confirm the sandbox does not distinguish.
    one_of(params, "confirmation_method", "", &["automatic", "manual"])?;
    emulated_value(params, "confirmation_method", "", &["automatic"], WHAT)?;
    check_expand(&expand_list(params)?, &[])?;
    let (amount, currency) = parse_amount(params, &app.config.stripe_settlement_currency)?;
    let automatic = parse_automatic_payment_methods(params)?;
    let capture_method = one_of(
        params,
        "capture_method",
        "",
        &["automatic", "automatic_async", "manual"],
    )?
    .unwrap_or("automatic_async");
    let receipt_email = text(params, "receipt_email", "")?;
    let customer = existing_customer(params, &state.stripe)?;
    let confirm = boolean(params, "confirm", "")?.unwrap_or(false);
    let payment_method = text(params, "payment_method", "")?;
    let metadata = metadata(params, "")?;
    let id = new_id("pi_");
    let intent = PaymentIntent {
        client_secret: format!("{id}_secret_{}", random_token(25)),
        id: id.clone(),
        amount,
        currency,
        status: if payment_method.is_some() {
            "requires_confirmation".to_owned()
        } else {
            "requires_payment_method".to_owned()
        },
        created: state.now(),
        metadata,
        payment_method: None,
        latest_charge: None,
        last_payment_error: None,
        description: text(params, "description", "")?.map(str::to_owned),
        customer: customer.map(str::to_owned),
        capture_method: capture_method.to_owned(),
        automatic_payment_methods: automatic,
        receipt_email: receipt_email.map(str::to_owned),
        canceled_at: None,
        cancellation_reason: None,
    };
    state.counts.stripe_payment_intents += 1;
    let created = render(&intent);
    state.stripe.payment_intents.insert(id.clone(), intent);
    emit_event(app, state, "payment_intent.created", created, Some(context));
    if confirm {
        return apply_payment_method(app, state, &id, payment_method, context);
    }
    let stored = state
        .stripe
        .payment_intents
        .get_mut(&id)
        .ok_or_else(|| Failure::not_found("payment_intent", "intent", &id))?;
    // Remember the chosen method so a later confirm needs no parameter.
    stored.payment_method = payment_method.map(str::to_owned);
    Ok((StatusCode::OK, render(stored)))
}

/// Reads `amount` and `currency`: Stripe's wire exponent and last-digit rules, at most eight
/// digits, and at least the settlement currency's minimum after conversion.
fn parse_amount(params: &Params, settlement: &str) -> Result<(i64, String), Failure> {
    let amount = integer(params, "amount", "")?.ok_or_else(|| Failure::missing("amount"))?;
    let currency = text(params, "currency", "")?.ok_or_else(|| Failure::missing("currency"))?;
    if !currencies::is_stripe_currency(currency) {
        return Err(Failure::invalid(
            None,
            Some("currency"),
            format!("Invalid currency: {currency}."),
        ));
    }
    let currency = currency.to_ascii_lowercase();
    if let Some(too_small) = currencies::below_minimum(amount, &currency, settlement) {
        return Err(currencies::too_small_failure(
            &too_small,
            amount,
            &currency,
            settlement,
            Some("amount"),
            |minimum| format!("Amount must be at least {minimum}"),
        ));
    }
    if amount > 99_999_999 {
        return Err(Failure::invalid(
            Some("amount_too_large"),
            Some("amount"),
            "Amount must be no more than 99999999.".to_owned(),
        ));
    }
    currencies::check_wire_amount(&currency, amount, "amount")?;
    Ok((amount, currency))
}

/// Reads `automatic_payment_methods[enabled]` and `[allow_redirects]`.
fn parse_automatic_payment_methods(params: &Params) -> Result<Option<Value>, Failure> {
    let Some(settings) = object(params, "automatic_payment_methods", "")? else {
        return Ok(None);
    };
    reject_unknown(
        settings,
        &["allow_redirects", "enabled"],
        "automatic_payment_methods",
    )?;
    let enabled = boolean(settings, "enabled", "automatic_payment_methods")?
        .ok_or_else(|| Failure::missing("automatic_payment_methods[enabled]"))?;
    let redirects = one_of(
        settings,
        "allow_redirects",
        "automatic_payment_methods",
        &["always", "never"],
    )?;
    Ok(Some(
        json!({ "allow_redirects": redirects.unwrap_or("always"), "enabled": enabled }),
    ))
}

/// Checks the `client_secret` parameter; required with a publishable key.
fn check_client_secret(
    intent: &PaymentIntent,
    params: &Params,
    context: &CallContext<'_>,
) -> Result<(), Failure> {
    match text(params, "client_secret", "")? {
        Some(secret) if constant_time_eq(secret.as_bytes(), intent.client_secret.as_bytes()) => {
            Ok(())
        }
        Some(_) => Err(Failure::invalid(
            None,
            Some("client_secret"),
            "The client_secret provided does not match the client_secret associated with the \
             PaymentIntent."
                .to_owned(),
        )),
        None if context.publishable => Err(Failure::missing("client_secret")),
        None => Ok(()),
    }
}

/// `GET /v1/payment_intents/{id}`.
pub(crate) fn retrieve(
    state: &State,
    id: &str,
    params: &Params,
    context: &CallContext<'_>,
) -> Outcome {
    reject_unknown(params, &["client_secret", "expand"], "")?;
    let intent = state
        .stripe
        .payment_intents
        .get(id)
        .ok_or_else(|| Failure::not_found("payment_intent", "intent", id))?;
    check_client_secret(intent, params, context)?;
    Ok((StatusCode::OK, render(intent)))
}

/// `POST /v1/payment_intents/{id}/confirm`.
pub(crate) fn confirm(
    app: &App,
    state: &mut State,
    id: &str,
    params: &Params,
    context: &CallContext<'_>,
) -> Outcome {
    reject_unsupported(params, CONFIRM_PARAMS, UNEMULATED_CONFIRM_PARAMS, "", WHAT)?;
    check_expand(&expand_list(params)?, &[])?;
    let capture_method = one_of(
        params,
        "capture_method",
        "",
        &["automatic", "automatic_async", "manual"],
    )?;
    let receipt_email = text(params, "receipt_email", "")?;
    let intent = state
        .stripe
        .payment_intents
        .get(id)
        .ok_or_else(|| Failure::not_found("payment_intent", "intent", id))?;
    check_client_secret(intent, params, context)?;
    let stored_method = intent.payment_method.clone();
    let payment_method = text(params, "payment_method", "")?
        .map(str::to_owned)
        .or(stored_method);
    if let Some(intent) = state.stripe.payment_intents.get_mut(id) {
        if let Some(capture_method) = capture_method {
            capture_method.clone_into(&mut intent.capture_method);
        }
        if let Some(email) = receipt_email {
            intent.receipt_email = Some(email.to_owned());
        }
    }
    apply_payment_method(app, state, id, payment_method.as_deref(), context)
}

/// Confirms with a test payment method: `pm_card_visa` (and other
/// `pm_card_*` success methods) succeed, `pm_card_chargeDeclined*` decline.
fn apply_payment_method(
    app: &App,
    state: &mut State,
    id: &str,
    payment_method: Option<&str>,
    context: &CallContext<'_>,
) -> Outcome {
    let intent = state
        .stripe
        .payment_intents
        .get(id)
        .ok_or_else(|| Failure::not_found("payment_intent", "intent", id))?;
    if !matches!(
        intent.status.as_str(),
        "requires_payment_method" | "requires_confirmation"
    ) {
        return Err(Failure::invalid(
            Some("payment_intent_unexpected_state"),
            None,
            format!(
                "You cannot confirm this PaymentIntent because it has a status of {}.",
                intent.status
            ),
        ));
    }
    let Some(method) = payment_method else {
        return Err(Failure::invalid(
            Some("payment_intent_unexpected_state"),
            Some("payment_method"),
            "You cannot confirm this PaymentIntent because it's missing a payment method. To \
             confirm the PaymentIntent, pass a payment_method."
                .to_owned(),
        ));
    };
    let customer = intent.customer.clone();
    // A stored PaymentMethod (attached, or saved by Checkout), or one of Stripe's test tokens,
    // which makes a new one.
    let payment_method_id = match (
        state.stripe.payment_methods.get(method),
        payment_methods::test_token(method),
    ) {
        (Some(stored), _) => {
            if matches!(stored.instrument, Instrument::SepaDebit(_)) {
                return Err(not_emulated(
                    "payment_method (a SEPA Direct Debit PaymentMethod)",
                    WHAT,
                ));
            }
            stored.id.clone()
        }
        (None, Some(instrument)) => {
            payment_methods::insert(state, instrument, customer.as_deref(), None)
        }
        (None, None) => {
            return Err(Failure::invalid(
                Some("resource_missing"),
                Some("payment_method"),
                format!("No such PaymentMethod: '{method}'"),
            ))
        }
    };
    match charges::instrument_of(state, Some(&payment_method_id)).charge() {
        Charged::Declined(decline) => {
            decline_with(app, state, id, payment_method_id, decline, context)
        }
        Charged::Paid | Charged::Processing(_) => {
            succeed(app, state, id, payment_method_id, context)
        }
    }
}

/// Marks the intent paid (or capturable, with manual capture) and emits
/// `payment_intent.succeeded` when it is.
fn succeed(
    app: &App,
    state: &mut State,
    id: &str,
    payment_method_id: String,
    context: &CallContext<'_>,
) -> Outcome {
    let Some(intent) = state.stripe.payment_intents.get_mut(id) else {
        return Err(Failure::not_found("payment_intent", "intent", id));
    };
    intent.status = if intent.capture_method == "manual" {
        "requires_capture".to_owned()
    } else {
        "succeeded".to_owned()
    };
    intent.payment_method = Some(payment_method_id);
    intent.latest_charge = Some(new_id("ch_"));
    intent.last_payment_error = None;
    let rendered = render(intent);
    if intent.status == "succeeded" {
        // A succeeded intent has a charge that refunds can draw on.
        record_intent_charge(app, state, id, Some(context));
        emit_event(
            app,
            state,
            "payment_intent.succeeded",
            rendered.clone(),
            Some(context),
        );
    }
    Ok((StatusCode::OK, rendered))
}

/// Records the decline on the intent, emits `payment_intent.payment_failed` and answers
/// Stripe's 402 `card_error`.
fn decline_with(
    app: &App,
    state: &mut State,
    id: &str,
    payment_method_id: String,
    decline: Decline,
    context: &CallContext<'_>,
) -> Outcome {
    // Stripe embeds the whole PaymentMethod that was declined.
    let payment_method = state
        .stripe
        .payment_methods
        .get(&payment_method_id)
        .map(payment_methods::render);
    let charge_id = new_id("ch_");
    let Some(intent) = state.stripe.payment_intents.get_mut(id) else {
        return Err(Failure::not_found("payment_intent", "intent", id));
    };
    let mut last_error = json!({
        "charge": charge_id,
        "type": "card_error",
        "code": decline.code,
        "doc_url": doc_url(decline.code),
        "message": decline.message,
        "payment_method": payment_method,
    });
    if let (Some(code), Some(object)) = (decline.decline_code, last_error.as_object_mut()) {
        object.insert("decline_code".into(), json!(code));
    }
    // The failed charge is made with the method; the intent then gives it back.
    intent.payment_method = Some(payment_method_id);
    intent.latest_charge = Some(charge_id);
    record_failed_intent_charge(app, state, id, decline, Some(context));
    let Some(intent) = state.stripe.payment_intents.get_mut(id) else {
        return Err(Failure::not_found("payment_intent", "intent", id));
    };
    intent.status = "requires_payment_method".to_owned();
    intent.payment_method = None;
    intent.last_payment_error = Some(last_error);
    let rendered = render(intent);
    emit_event(
        app,
        state,
        "payment_intent.payment_failed",
        rendered.clone(),
        Some(context),
    );
    let mut extra = Map::new();
    if let Some(code) = decline.decline_code {
        extra.insert("decline_code".into(), json!(code));
    }
    extra.insert("payment_intent".into(), rendered);
    Err(Failure {
        status: StatusCode::PAYMENT_REQUIRED,
        error: ApiError {
            kind: "card_error",
            code: Some(decline.code),
            param: None,
            message: decline.message.to_owned(),
        },
        extra,
    })
}

/// Renders a PaymentIntent as Stripe's `payment_intent` JSON.
pub(crate) fn render(intent: &PaymentIntent) -> Value {
    let received = if intent.status == "succeeded" {
        intent.amount
    } else {
        0
    };
    let capturable = if intent.status == "requires_capture" {
        intent.amount
    } else {
        0
    };
    json!({
        "id": intent.id,
        "object": "payment_intent",
        "amount": intent.amount,
        "amount_capturable": capturable,
        "amount_details": { "tip": {} },
        "amount_received": received,
        "application": null,
        "application_fee_amount": null,
        "automatic_payment_methods": intent.automatic_payment_methods,
        "canceled_at": intent.canceled_at,
        "cancellation_reason": intent.cancellation_reason,
        "capture_method": intent.capture_method,
        "client_secret": intent.client_secret,
        "confirmation_method": "automatic",
        "created": intent.created,
        "currency": intent.currency,
        "customer": intent.customer,
        "customer_account": null,
        "description": intent.description,
        "excluded_payment_method_types": null,
        "last_payment_error": intent.last_payment_error,
        "latest_charge": intent.latest_charge,
        "livemode": false,
        "metadata": intent.metadata,
        "next_action": null,
        "on_behalf_of": null,
        "payment_method": intent.payment_method,
        "payment_method_configuration_details": null,
        "payment_method_options": {},
        "payment_method_types": ["card"],
        "processing": null,
        "receipt_email": intent.receipt_email,
        "review": null,
        "setup_future_usage": null,
        "shipping": null,
        "statement_descriptor": null,
        "statement_descriptor_suffix": null,
        "status": intent.status,
        "transfer_data": null,
        "transfer_group": null,
    })
}
