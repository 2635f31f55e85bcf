//! PaymentIntents after creation: `GET /v1/payment_intents` (newest first),
//! `POST /v1/payment_intents/{id}` (update), `…/cancel` and `…/capture`, each with the state
//! rules Stripe documents and the event it sends.

use http::StatusCode;
use serde_json::Value;

use crate::app::App;
use crate::gateways::stripe::charges::record_intent_charge;
use crate::gateways::stripe::currencies;
use crate::gateways::stripe::error::{Failure, Outcome};
use crate::gateways::stripe::events::emit_event;
use crate::gateways::stripe::form::Params;
use crate::gateways::stripe::lists::{list_body, paginate};
use crate::gateways::stripe::params::{
    apply_metadata, check_expand, emulated_value, existing_customer, expand_list, integer, one_of,
    range, reject_unknown, reject_unsupported, text, text_update, CallContext,
};
use crate::gateways::stripe::payment_intents::render;
use crate::state::State;

/// Update parameters the sandbox emulates.
const UPDATE_PARAMS: &[&str] = &[
    "amount",
    "capture_method",
    "currency",
    "customer",
    "description",
    "expand",
    "metadata",
    "payment_method",
    "receipt_email",
];
/// Documented update parameters the sandbox does not emulate: refused by name.
const UNEMULATED_UPDATE_PARAMS: &[&str] = &[
    "amount_details",
    "application_fee_amount",
    "customer_account",
    "excluded_payment_method_types",
    "hooks",
    "mandate_data",
    "payment_details",
    "payment_method_configuration",
    "payment_method_data",
    "payment_method_options",
    "payment_method_types",
    "setup_future_usage",
    "shipping",
    "statement_descriptor",
    "statement_descriptor_suffix",
    "transfer_data",
    "transfer_group",
];

/// The statuses in which an intent's amount, currency and payment method can still change.
const CHANGEABLE: &[&str] = &["requires_payment_method", "requires_confirmation"];
/// The statuses an intent can be cancelled from.
const CANCELLABLE: &[&str] = &[
    "requires_payment_method",
    "requires_confirmation",
    "requires_action",
    "requires_capture",
    "processing",
];

fn find<'a>(
    state: &'a State,
    id: &str,
) -> Result<&'a crate::gateways::stripe::objects::PaymentIntent, Failure> {
    state
        .stripe
        .payment_intents
        .get(id)
        .ok_or_else(|| Failure::not_found("payment_intent", "intent", id))
}

/// Stripe's 400 for an operation the intent's status does not allow.
fn unexpected_state(action: &str, status: &str) -> Failure {
    Failure::invalid(
        Some("payment_intent_unexpected_state"),
        None,
        format!("You cannot {action} this PaymentIntent because it has a status of {status}."),
    )
}

/// `GET /v1/payment_intents`: newest first, filtered by `customer` and `created`.
pub(crate) fn list(state: &State, params: &Params) -> Outcome {
    reject_unknown(
        params,
        &[
            "created",
            "customer",
            "customer_account",
            "ending_before",
            "expand",
            "limit",
            "starting_after",
        ],
        "",
    )?;
    let customer = text(params, "customer", "")?;
    let created = range(params, "created")?;
    let expand = expand_list(params)?;
    check_expand(&expand, &[])?;
    let mut matching: Vec<(i64, &str)> = state
        .stripe
        .payment_intents
        .values()
        .filter(|intent| created.admits(intent.created))
        .filter(|intent| customer.is_none_or(|wanted| intent.customer.as_deref() == Some(wanted)))
        .map(|intent| (intent.created, intent.id.as_str()))
        .collect();
    // Newest first; ids break ties so pages are stable.
    matching.sort_unstable_by(|a, b| b.cmp(a));
    let ids: Vec<String> = matching.into_iter().map(|(_, id)| id.to_owned()).collect();
    let (page, has_more) = paginate(&ids, params, "payment_intent")?;
    let data: Vec<Value> = page
        .iter()
        .filter_map(|id| state.stripe.payment_intents.get(id))
        .map(render)
        .collect();
    Ok((
        StatusCode::OK,
        list_body(data, has_more, "/v1/payment_intents"),
    ))
}

/// `POST /v1/payment_intents/{id}`: `metadata`, `description` and `receipt_email` at any
/// time; `amount`, `currency`, `customer`, `payment_method` and `capture_method` only before
/// the intent is confirmed.
pub(crate) fn update(state: &mut State, id: &str, params: &Params) -> Outcome {
    reject_unsupported(
        params,
        UPDATE_PARAMS,
        UNEMULATED_UPDATE_PARAMS,
        "",
        "PaymentIntent updates",
    )?;
    check_expand(&expand_list(params)?, &[])?;
    let intent = find(state, id)?;
    let mut updated = intent.clone();
    let changes_payment = [
        "amount",
        "currency",
        "customer",
        "payment_method",
        "capture_method",
    ]
    .iter()
    .any(|key| params.contains_key(*key));
    if changes_payment && !CHANGEABLE.contains(&intent.status.as_str()) {
        return Err(unexpected_state("update", &intent.status));
    }
    if let Some(amount) = integer(params, "amount", "")? {
        if !(1..=99_999_999).contains(&amount) {
            return Err(Failure::invalid(
                None,
                Some("amount"),
                "Amount must be between 1 and 99999999.".to_owned(),
            ));
        }
        updated.amount = amount;
    }
    if let Some(currency) = text(params, "currency", "")? {
        if !currencies::is_stripe_currency(currency) {
            return Err(Failure::invalid(
                None,
                Some("currency"),
                format!("Invalid currency: {currency}."),
            ));
        }
        updated.currency = currency.to_ascii_lowercase();
    }
    currencies::check_wire_amount(&updated.currency, updated.amount, "amount")?;
    if let Some(customer) = existing_customer(params, &state.stripe)? {
        updated.customer = Some(customer.to_owned());
    }
    if let Some(method) = text(params, "payment_method", "")? {
        updated.payment_method = Some(method.to_owned());
        "requires_confirmation".clone_into(&mut updated.status);
    }
    if let Some(capture_method) = one_of(
        params,
        "capture_method",
        "",
        &["automatic", "automatic_async", "manual"],
    )? {
        capture_method.clone_into(&mut updated.capture_method);
    }
    if let Some(description) = text_update(params, "description", "")? {
        updated.description = description.map(str::to_owned);
    }
    if let Some(email) = text_update(params, "receipt_email", "")? {
        updated.receipt_email = email.map(str::to_owned);
    }
    apply_metadata(params, "", &mut updated.metadata)?;
    let rendered = render(&updated);
    state.stripe.payment_intents.insert(id.to_owned(), updated);
    Ok((StatusCode::OK, rendered))
}

/// `POST /v1/payment_intents/{id}/cancel`: from any status but `succeeded` and `canceled`;
/// sends `payment_intent.canceled`.
pub(crate) fn cancel(
    app: &App,
    state: &mut State,
    id: &str,
    params: &Params,
    context: &CallContext<'_>,
) -> Outcome {
    reject_unknown(params, &["cancellation_reason", "expand"], "")?;
    check_expand(&expand_list(params)?, &[])?;
    let reason = one_of(
        params,
        "cancellation_reason",
        "",
        &[
            "abandoned",
            "duplicate",
            "fraudulent",
            "requested_by_customer",
        ],
    )?;
    let now = state.now();
    let intent = find(state, id)?;
    if !CANCELLABLE.contains(&intent.status.as_str()) {
        return Err(unexpected_state("cancel", &intent.status));
    }
    let Some(intent) = state.stripe.payment_intents.get_mut(id) else {
        return Err(Failure::not_found("payment_intent", "intent", id));
    };
    "canceled".clone_into(&mut intent.status);
    intent.canceled_at = Some(now);
    intent.cancellation_reason = reason.map(str::to_owned);
    let rendered = render(intent);
    emit_event(
        app,
        state,
        "payment_intent.canceled",
        rendered.clone(),
        Some(context),
    );
    Ok((StatusCode::OK, rendered))
}

/// `POST /v1/payment_intents/{id}/capture`: captures the whole authorized amount of a
/// `requires_capture` intent, records its charge and sends `payment_intent.succeeded`.
/// Capturing less than authorized is not emulated.
pub(crate) fn capture(
    app: &App,
    state: &mut State,
    id: &str,
    params: &Params,
    context: &CallContext<'_>,
) -> Outcome {
    reject_unsupported(
        params,
        &["amount_to_capture", "expand", "metadata"],
        &[
            "application_fee_amount",
            "final_capture",
            "hooks",
            "payment_details",
            "statement_descriptor",
            "statement_descriptor_suffix",
            "transfer_data",
        ],
        "",
        "PaymentIntent captures",
    )?;
    check_expand(&expand_list(params)?, &[])?;
    let intent = find(state, id)?;
    if intent.status != "requires_capture" {
        return Err(unexpected_state("capture", &intent.status));
    }
    if let Some(amount) = integer(params, "amount_to_capture", "")? {
        if amount > intent.amount {
            return Err(Failure::invalid(
                Some("amount_too_large"),
                Some("amount_to_capture"),
                format!(
                    "The amount to capture ({amount}) is greater than the amount capturable \
                     ({}).",
                    intent.amount
                ),
            ));
        }
        let whole = intent.amount.to_string();
        emulated_value(
            params,
            "amount_to_capture",
            "",
            &[whole.as_str()],
            "PaymentIntent captures (a partial capture)",
        )?;
    }
    let mut metadata = intent.metadata.clone();
    apply_metadata(params, "", &mut metadata)?;
    let Some(intent) = state.stripe.payment_intents.get_mut(id) else {
        return Err(Failure::not_found("payment_intent", "intent", id));
    };
    "succeeded".clone_into(&mut intent.status);
    intent.metadata = metadata;
    record_intent_charge(app, state, id, Some(context));
    let intent = find(state, id)?;
    let rendered = render(intent);
    emit_event(
        app,
        state,
        "payment_intent.succeeded",
        rendered.clone(),
        Some(context),
    );
    Ok((StatusCode::OK, rendered))
}
