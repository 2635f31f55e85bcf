//! State changes of Stripe Checkout Sessions after creation: whether one can still be paid,
//! expire (API, admin, clock) and payment, with their webhook events.

use std::collections::BTreeMap;

use http::StatusCode;
use serde_json::{json, Value};

use crate::app::App;
use crate::checkout::{payable, CheckoutStatus, NotPayable};
use crate::error::SandboxError;
use crate::gateways::stripe::error::{Failure, Outcome};
use crate::gateways::stripe::events::emit_event;
use crate::gateways::stripe::form::Params;
use crate::gateways::stripe::objects::{PaymentIntent, Session};
use crate::gateways::stripe::params::{check_expand, expand_list, reject_unknown, CallContext};
use crate::gateways::stripe::sessions::read::render;
use crate::state::{new_id, random_token, State};

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
        .stripe
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
    if let Some(session) = state.stripe.sessions.get_mut(id) {
        session.status = CheckoutStatus::Expired;
    }
    let Some(session) = state.stripe.sessions.get(id) else {
        return Value::Null;
    };
    let event_object = render(app, state, session, &[]);
    let rendered = render(app, state, session, expand);
    emit_event(
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
        .stripe
        .session_order
        .iter()
        .filter(|id| {
            state.stripe.sessions.get(*id).is_some_and(|session| {
                session.status == CheckoutStatus::Open && session.expires_at <= now
            })
        })
        .cloned()
        .collect();
    for id in due {
        mark_expired(app, state, &id, None, &[]);
    }
}

/// Decides whether a session can still be paid: the one place Stripe answers it.
pub(crate) fn payability(session: &Session, now: i64) -> Result<(), NotPayable> {
    payable(session.status, session.expires_at, now)
}

/// Returns whether the session `id` can still be paid, `None` when there is no such session.
pub(crate) fn check_payable(state: &State, id: &str) -> Option<Result<(), NotPayable>> {
    let now = state.now();
    state
        .stripe
        .sessions
        .get(id)
        .map(|session| payability(session, now))
}

/// Expires an open session now (admin operation), emitting `checkout.session.expired`.
pub(crate) fn expire_now(app: &App, state: &mut State, id: &str) -> Result<(), SandboxError> {
    match check_payable(state, id) {
        None => Err(SandboxError::NotFound(id.to_owned())),
        Some(Err(not_payable)) => Err(SandboxError::NotPayable {
            id: id.to_owned(),
            reason: not_payable.reason().to_owned(),
        }),
        Some(Ok(())) => {
            mark_expired(app, state, id, None, &[]);
            Ok(())
        }
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
) -> Result<String, SandboxError> {
    let now = state.now();
    let session = state
        .stripe
        .sessions
        .get(id)
        .ok_or_else(|| SandboxError::NotFound(id.to_owned()))?;
    payability(session, now).map_err(|not_payable| SandboxError::NotPayable {
        id: id.to_owned(),
        reason: not_payable.reason().to_owned(),
    })?;
    let mode = session.mode.clone();
    let amount = session.amount_total;
    let currency = session.currency.clone().unwrap_or_else(|| "usd".to_owned());
    let customer = match session.customer.clone() {
        Some(customer) => Some(customer),
        None if mode == "subscription" => Some(
            state
                .stripe
                .customers
                .entry(email.to_owned())
                .or_insert_with(|| new_id("cus_"))
                .clone(),
        ),
        None => None,
    };
    // A no-cost order completes without a PaymentIntent.
    let payment_intent = (mode == "payment" && amount > 0)
        .then(|| store_paid_intent(state, amount, currency, customer.clone(), now));
    let subscription = (mode == "subscription").then(|| new_id("sub_"));
    let Some(session) = state.stripe.sessions.get_mut(id) else {
        return Err(SandboxError::NotFound(id.to_owned()));
    };
    session.status = CheckoutStatus::Complete;
    session.paid_email = Some(email.to_owned());
    session.customer = customer;
    session.payment_intent = payment_intent;
    session.subscription = subscription;
    let redirect = completion_redirect(app, session);
    let Some(session) = state.stripe.sessions.get(id) else {
        return Err(SandboxError::NotFound(id.to_owned()));
    };
    let event_object = render(app, state, session, &[]);
    emit_event(app, state, "checkout.session.completed", event_object, None);
    Ok(redirect)
}

/// Stores the succeeded PaymentIntent a paid `payment` session creates and returns its id.
fn store_paid_intent(
    state: &mut State,
    amount: i64,
    currency: String,
    customer: Option<String>,
    now: i64,
) -> String {
    let intent_id = new_id("pi_");
    let intent = PaymentIntent {
        client_secret: format!("{intent_id}_secret_{}", random_token(24)),
        id: intent_id.clone(),
        amount,
        currency,
        status: "succeeded".to_owned(),
        created: now,
        metadata: BTreeMap::new(),
        payment_method: Some(new_id("pm_")),
        latest_charge: Some(new_id("ch_")),
        last_payment_error: None,
        description: None,
        customer,
        capture_method: "automatic_async".to_owned(),
        automatic_payment_methods: Some(json!({ "allow_redirects": "always", "enabled": true })),
        receipt_email: None,
    };
    state.counts.stripe_payment_intents += 1;
    state
        .stripe
        .payment_intents
        .insert(intent_id.clone(), intent);
    intent_id
}

/// Where the customer goes after paying: `return_url` for embedded sessions, `success_url`
/// otherwise (with `{CHECKOUT_SESSION_ID}` filled in), or back to the pay page.
fn completion_redirect(app: &App, session: &Session) -> String {
    let target = if session.embedded {
        session.return_url.as_ref()
    } else {
        session.success_url.as_ref()
    };
    match target {
        Some(url) => url.replace("{CHECKOUT_SESSION_ID}", &session.id),
        None => format!("{}/pay/{}", app.base_url, session.id),
    }
}
