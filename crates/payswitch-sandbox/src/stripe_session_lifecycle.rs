//! State changes of Stripe Checkout Sessions after creation: expire (API,
//! admin, clock) and payment, with their webhook events.

use std::collections::BTreeMap;

use http::StatusCode;
use serde_json::{json, Value};

use crate::app::App;
use crate::state::{new_id, random_token, CheckoutStatus, PaymentIntent, State};
use crate::stripe::{
    self, check_expand, expand_list, reject_unknown, CallContext, Failure, Outcome, Params,
};
use crate::stripe_session_views::render;

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
