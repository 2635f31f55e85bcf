//! State changes of Stripe Checkout Sessions after creation: whether one can still be paid,
//! expire (API, admin, clock), payment with a test card or IBAN (which charges the
//! session's PaymentIntent, or creates the customer, subscription and first invoice), a
//! declined attempt, and the settlement of a delayed (SEPA) payment, with their webhook
//! events.

use http::StatusCode;
use serde_json::Value;

use crate::app::App;
use crate::checkout::{payable, CheckoutStatus, NotPayable};
use crate::error::SandboxError;
use crate::gateways::stripe::customers;
use crate::gateways::stripe::error::{Failure, Outcome};
use crate::gateways::stripe::events::emit_event;
use crate::gateways::stripe::form::Params;
use crate::gateways::stripe::objects::{DelayedPayment, Session, TrialEndBehavior};
use crate::gateways::stripe::params::{check_expand, expand_list, reject_unknown, CallContext};
use crate::gateways::stripe::payment_methods;
use crate::gateways::stripe::payments::{self, Attempt, AttemptResult, Settled};
use crate::gateways::stripe::sessions::read::{render, EXPANDABLE};
use crate::gateways::stripe::setup_intents::record_setup;
use crate::gateways::stripe::subscriptions::create::{from_checkout, FromCheckout};
use crate::instruments::{Charged, Decline, Instrument};
use crate::state::State;

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

/// Pays an open session as the hosted page does, with a test card or IBAN, then emits
/// `checkout.session.completed` and returns the redirect URL.
///
/// Payment mode: the session's PaymentIntent (made by the first attempt, reused by later
/// ones) is charged: `payment_intent.created`, then `charge.succeeded` and
/// `payment_intent.succeeded`; a declined card gives `charge.failed` and
/// `payment_intent.payment_failed` and the session stays open; a SEPA debit gives
/// `charge.pending` and `payment_intent.processing`, and the session completes `unpaid` until
/// the clock settles the debit (`checkout.session.async_payment_succeeded` or `…_failed`).
/// Subscription mode: a new customer unless the session named one (`customer.created`), the
/// payment method saved to it (`payment_method.attached`), the subscription and its first
/// invoice, paid (their events, in Stripe's order).
///
/// # Errors
/// [`SandboxError::Declined`] for a declined card (the session stays open);
/// [`SandboxError::NotFound`], [`SandboxError::NotPayable`].
pub(crate) fn complete(
    app: &App,
    state: &mut State,
    id: &str,
    instrument: Instrument,
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
    let mut subscription = None;
    let mut invoice = None;
    let mut delayed_payment = None;
    let mut setup_intent = None;
    // `customer_creation=always` (payment and setup mode) makes a customer of the payer,
    // once the instrument is known to pay (or, in setup mode, to be savable).
    let creates_customer =
        customer.is_none() && session.customer_creation.as_deref() == Some("always");
    match session.mode.as_str() {
        // A no-cost order completes without a PaymentIntent.
        "payment" if session.amount_total > 0 => {
            if matches!(instrument, Instrument::SepaDebit(_)) && currency != "eur" {
                return Err(sepa_unavailable("a session in euros"));
            }
            if creates_customer && !matches!(instrument.charge(), Charged::Declined(_)) {
                customer = Some(create_customer(app, state, now, email));
            }
            delayed_payment = charge_session(
                app,
                state,
                &session,
                customer.as_deref(),
                instrument,
                email,
                &currency,
            )?;
        }
        // Setup mode saves the method for later: a card Stripe will not save is declined.
        "setup" => {
            instrument.attach().map_err(Decline::into_error)?;
            if creates_customer {
                customer = Some(create_customer(app, state, now, email));
            }
            let method =
                payment_methods::insert(state, instrument, customer.as_deref(), Some(email));
            setup_intent = Some(record_setup(
                app,
                state,
                customer.as_deref(),
                &method,
                &session.setup_intent_data,
            ));
        }
        "subscription" => {
            let collects_method = collects_method(&session);
            check_subscription_instrument(&session, instrument, collects_method)?;
            let customer_id = match customer.clone() {
                Some(existing) => existing,
                None => create_customer(app, state, now, email),
            };
            // Checkout saves the method it collected to the customer, for the renewals.
            let payment_method = if collects_method {
                let method = payment_methods::insert(state, instrument, None, Some(email));
                // Checked above: the instrument can be attached.
                payment_methods::attach_to(app, state, &method, &customer_id, None).ok()
            } else {
                None
            };
            let (subscription_id, invoice_id) = from_checkout(
                app,
                state,
                checkout_subscription(&session, &customer_id, &currency, now, payment_method),
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
    stored.subscription = subscription;
    stored.invoice = invoice;
    stored.delayed_payment = delayed_payment;
    stored.setup_intent = setup_intent;
    let redirect = completion_redirect(app, stored);
    let Some(session) = state.stripe.sessions.get(id) else {
        return Err(SandboxError::NotFound(id.to_owned()));
    };
    let event_object = render(app, state, session, &[]);
    emit_event(app, state, "checkout.session.completed", event_object, None);
    Ok(redirect)
}

/// Charges a payment-mode session's total with the customer's instrument; returns
/// `Some(Processing)` for a debit that settles later.
///
/// # Errors
/// [`SandboxError::Declined`] when the card is declined (after the failed attempt's events),
/// or for a SEPA debit on a session not in euros.
fn charge_session(
    app: &App,
    state: &mut State,
    session: &Session,
    customer: Option<&str>,
    instrument: Instrument,
    email: &str,
    currency: &str,
) -> Result<Option<DelayedPayment>, SandboxError> {
    let method = payment_methods::insert(state, instrument, customer, Some(email));
    let data = &session.payment_intent_data;
    let attempted = payments::attempt(
        app,
        state,
        Attempt {
            intent: session.payment_intent.as_deref(),
            amount: session.amount_total,
            currency,
            customer,
            description: data.description.as_deref(),
            metadata: &data.metadata,
            receipt_email: data.receipt_email.as_deref(),
            email: Some(email),
            payment_method: &method,
        },
        None,
    );
    // The session keeps its PaymentIntent from the first attempt on, paid or not.
    if let Some(stored) = state.stripe.sessions.get_mut(&session.id) {
        stored.payment_intent = Some(attempted.intent.clone());
    }
    match attempted.result {
        AttemptResult::Succeeded => Ok(None),
        AttemptResult::Processing => Ok(Some(DelayedPayment::Processing)),
        AttemptResult::Declined(decline) => Err(decline.into_error()),
    }
}

/// Makes a customer of the payer (`customer.created`) and returns its id.
fn create_customer(app: &App, state: &mut State, now: i64, email: &str) -> String {
    customers::insert(
        app,
        state,
        customers::new_customer(now, Some(email.to_owned())),
        None,
    )
}

/// Whether Checkout collects a payment method for this subscription: always, unless
/// `payment_method_collection=if_required` and nothing is due today.
fn collects_method(session: &Session) -> bool {
    session.payment_method_collection.as_deref() != Some("if_required") || session.amount_total > 0
}

/// What Checkout refuses before it creates anything for a subscription: a card declined for
/// what is due today, or, with nothing due, one Stripe will not save to a customer. The
/// sandbox's subscriptions take cards only.
fn check_subscription_instrument(
    session: &Session,
    instrument: Instrument,
    collects_method: bool,
) -> Result<(), SandboxError> {
    if matches!(instrument, Instrument::SepaDebit(_)) {
        return Err(sepa_unavailable("a payment-mode session"));
    }
    if session.amount_total > 0 {
        if let Charged::Declined(decline) = instrument.charge() {
            return Err(decline.into_error());
        }
    } else if collects_method {
        instrument.attach().map_err(Decline::into_error)?;
    }
    Ok(())
}

/// The sandbox's refusal of an IBAN where it does not emulate SEPA Direct Debit.
fn sepa_unavailable(where_available: &str) -> SandboxError {
    SandboxError::Declined {
        code: "payment_method_not_available".to_owned(),
        message: format!(
            "SEPA Direct Debit is available in the sandbox for {where_available} only."
        ),
    }
}

/// Follows a settled SEPA debit of a completed payment-mode session:
/// `checkout.session.async_payment_succeeded` or `checkout.session.async_payment_failed`.
pub(crate) fn settle_delayed(app: &App, state: &mut State, settled: &Settled) {
    let Some(id) = state
        .stripe
        .session_order
        .iter()
        .find(|id| {
            state.stripe.sessions.get(*id).is_some_and(|session| {
                session.delayed_payment == Some(DelayedPayment::Processing)
                    && session.payment_intent.as_deref() == Some(settled.intent.as_str())
            })
        })
        .cloned()
    else {
        return;
    };
    let (outcome, event_type) = if settled.succeeded {
        (
            DelayedPayment::Succeeded,
            "checkout.session.async_payment_succeeded",
        )
    } else {
        (
            DelayedPayment::Failed,
            "checkout.session.async_payment_failed",
        )
    };
    if let Some(session) = state.stripe.sessions.get_mut(&id) {
        session.delayed_payment = Some(outcome);
    }
    let Some(session) = state.stripe.sessions.get(&id) else {
        return;
    };
    let rendered = render(app, state, session, &[]);
    emit_event(app, state, event_type, rendered, None);
}

/// What a paid subscription-mode session asks of its subscription.
fn checkout_subscription<'a>(
    session: &'a Session,
    customer: &'a str,
    currency: &'a str,
    now: i64,
    payment_method: Option<String>,
) -> FromCheckout<'a> {
    let data = &session.subscription_data;
    let trial_end = data.trial_end.or_else(|| {
        data.trial_period_days
            .map(|days| now.saturating_add(days.saturating_mul(24 * 60 * 60)))
    });
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
        payment_method,
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
