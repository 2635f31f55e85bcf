//! State changes of Stripe Checkout Sessions after creation: whether one can still be paid,
//! expire (API, admin, clock) and payment (which creates the PaymentIntent, or the customer,
//! subscription and first invoice), with their webhook events.

use http::StatusCode;
use serde_json::Value;

use crate::app::App;
use crate::checkout::{payable, CheckoutStatus, NotPayable};
use crate::error::SandboxError;
use crate::gateways::stripe::charges::{record_payment, Payment};
use crate::gateways::stripe::customers;
use crate::gateways::stripe::error::{Failure, Outcome};
use crate::gateways::stripe::events::emit_event;
use crate::gateways::stripe::form::Params;
use crate::gateways::stripe::objects::{Session, TrialEndBehavior};
use crate::gateways::stripe::params::{check_expand, expand_list, reject_unknown, CallContext};
use crate::gateways::stripe::payment_intents::apply_intent_data;
use crate::gateways::stripe::sessions::read::{render, EXPANDABLE};
use crate::gateways::stripe::setup_intents::record_setup;
use crate::gateways::stripe::subscriptions::create::{from_checkout, FromCheckout};
use crate::state::{new_id, State};

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
    check_expand(&expand, EXPANDABLE)?;
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

/// Pays an open session as the hosted page does, then emits `checkout.session.completed`
/// and returns the redirect URL. Payment mode: a succeeded PaymentIntent and its charge.
/// Subscription mode: a new customer unless the session named one (`customer.created`), the
/// subscription and its paid first invoice (their events, in Stripe's order).
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
    let session = session.clone();
    let currency = session.currency.clone().unwrap_or_else(|| "usd".to_owned());
    let mut customer = session.customer.clone();
    let mut payment_intent = None;
    let mut subscription = None;
    let mut invoice = None;
    let mut setup_intent = None;
    // `customer_creation=always` (payment and setup mode) makes a customer of the payer.
    if customer.is_none() && session.customer_creation.as_deref() == Some("always") {
        customer = Some(customers::insert(
            app,
            state,
            customers::new_customer(now, Some(email.to_owned())),
            None,
        ));
    }
    match session.mode.as_str() {
        // A no-cost order completes without a PaymentIntent.
        "payment" if session.amount_total > 0 => {
            let intent = record_payment(
                state,
                Payment {
                    amount: session.amount_total,
                    currency,
                    customer: customer.clone(),
                    description: None,
                    email: Some(email.to_owned()),
                },
            );
            apply_intent_data(state, &intent, &session.payment_intent_data);
            payment_intent = Some(intent);
        }
        "setup" => {
            setup_intent = Some(record_setup(
                app,
                state,
                customer.as_deref(),
                &session.setup_intent_data,
            ));
        }
        "subscription" => {
            let customer_id = match customer.clone() {
                Some(existing) => existing,
                None => customers::insert(
                    app,
                    state,
                    customers::new_customer(now, Some(email.to_owned())),
                    None,
                ),
            };
            let (subscription_id, invoice_id) = from_checkout(
                app,
                state,
                checkout_subscription(&session, &customer_id, &currency, now),
            );
            customer = Some(customer_id);
            subscription = Some(subscription_id);
            invoice = Some(invoice_id);
        }
        _ => {}
    }
    let Some(stored) = state.stripe.sessions.get_mut(id) else {
        return Err(SandboxError::NotFound(id.to_owned()));
    };
    stored.status = CheckoutStatus::Complete;
    stored.paid_email = Some(email.to_owned());
    stored.customer = customer;
    stored.payment_intent = payment_intent;
    stored.subscription = subscription;
    stored.invoice = invoice;
    stored.setup_intent = setup_intent;
    let redirect = completion_redirect(app, stored);
    let Some(session) = state.stripe.sessions.get(id) else {
        return Err(SandboxError::NotFound(id.to_owned()));
    };
    let event_object = render(app, state, session, &[]);
    emit_event(app, state, "checkout.session.completed", event_object, None);
    Ok(redirect)
}

/// What a paid subscription-mode session asks of its subscription.
fn checkout_subscription<'a>(
    session: &'a Session,
    customer: &'a str,
    currency: &'a str,
    now: i64,
) -> FromCheckout<'a> {
    let data = &session.subscription_data;
    let trial_end = data.trial_end.or_else(|| {
        data.trial_period_days
            .map(|days| now.saturating_add(days.saturating_mul(24 * 60 * 60)))
    });
    // With `if_required`, Checkout collects no payment method when nothing is due today.
    let collects_method = session.payment_method_collection.as_deref() != Some("if_required")
        || session.amount_total > 0;
    let trial_end_behavior = match data.missing_payment_method.as_deref() {
        Some("pause") => TrialEndBehavior::Pause,
        Some("cancel") => TrialEndBehavior::Cancel,
        _ => TrialEndBehavior::CreateInvoice,
    };
    FromCheckout {
        customer,
        currency,
        line_items: &session.line_items,
        discount: session.discounts.first(),
        trial_end,
        trial_end_behavior,
        payment_method: collects_method.then(|| new_id("pm_")),
        description: data.description.clone(),
        metadata: data.metadata.clone(),
    }
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
