//! Stripe SetupIntents: the one a setup-mode Checkout Session creates when the customer
//! saves a card (`setup_intent` on the session, `setup_intent.created` and
//! `setup_intent.succeeded`), and `GET /v1/setup_intents/{id}`.

use http::StatusCode;
use serde_json::{json, Value};

use crate::app::App;
use crate::gateways::stripe::error::{Failure, Outcome};
use crate::gateways::stripe::events::emit_event;
use crate::gateways::stripe::form::Params;
use crate::gateways::stripe::objects::{IntentData, SetupIntent};
use crate::gateways::stripe::params::{check_expand, expand_list, reject_unknown};
use crate::state::{new_id, random_token, State};

/// Stores the succeeded SetupIntent of a completed setup-mode session for `customer`, which
/// saved the PaymentMethod `payment_method`, emits its events and returns its id.
pub(crate) fn record_setup(
    app: &App,
    state: &mut State,
    customer: Option<&str>,
    payment_method: &str,
    data: &IntentData,
) -> String {
    let id = new_id("seti_");
    let intent = SetupIntent {
        client_secret: format!("{id}_secret_{}", random_token(32)),
        id: id.clone(),
        created: state.now(),
        customer: customer.map(str::to_owned),
        description: data.description.clone(),
        metadata: data.metadata.clone(),
        payment_method: Some(payment_method.to_owned()),
    };
    // Created without a payment method (`requires_payment_method`), then confirmed with the
    // card the customer entered.
    let created = render(&SetupIntent {
        payment_method: None,
        ..intent.clone()
    });
    let succeeded = render(&intent);
    state.stripe.setup_intents.insert(id.clone(), intent);
    emit_event(app, state, "setup_intent.created", created, None);
    emit_event(app, state, "setup_intent.succeeded", succeeded, None);
    id
}

/// `GET /v1/setup_intents/{id}`.
pub(crate) fn retrieve(state: &State, id: &str, params: &Params) -> Outcome {
    reject_unknown(params, &["client_secret", "expand"], "")?;
    check_expand(&expand_list(params)?, &[])?;
    let intent = state
        .stripe
        .setup_intents
        .get(id)
        .ok_or_else(|| Failure::not_found("setup_intent", "intent", id))?;
    Ok((StatusCode::OK, render(intent)))
}

/// Renders a SetupIntent as Stripe's `setup_intent` JSON: succeeded, for off-session use.
pub(crate) fn render(intent: &SetupIntent) -> Value {
    json!({
        "id": intent.id,
        "object": "setup_intent",
        "application": null,
        "automatic_payment_methods": null,
        "cancellation_reason": null,
        "client_secret": intent.client_secret,
        "created": intent.created,
        "customer": intent.customer,
        "customer_account": null,
        "description": intent.description,
        "excluded_payment_method_types": null,
        "flow_directions": null,
        "last_setup_error": null,
        "latest_attempt": null,
        "livemode": false,
        "mandate": null,
        "metadata": intent.metadata,
        "next_action": null,
        "on_behalf_of": null,
        "payment_method": intent.payment_method,
        "payment_method_configuration_details": null,
        "payment_method_options": {
            "card": {
                "mandate_options": null,
                "network": null,
                "request_three_d_secure": "automatic",
            },
        },
        "payment_method_types": ["card"],
        "single_use_mandate": null,
        "status": if intent.payment_method.is_some() { "succeeded" } else { "requires_payment_method" },
        "usage": "off_session",
    })
}
