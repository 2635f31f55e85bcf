//! Charging a PaymentMethod on the customer's behalf (a checkout, an invoice): the
//! PaymentIntent, created once (`payment_intent.created`) and reused by later attempts as
//! Stripe reuses a session's or an invoice's; one charge per attempt; and their events in
//! Stripe's order, the charge's before the PaymentIntent's: `charge.succeeded` then
//! `payment_intent.succeeded`, `charge.failed` then `payment_intent.payment_failed`, or for a
//! SEPA debit `charge.pending` then `payment_intent.processing` and, when the clock reaches
//! its settlement, the success or failure pair.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::app::App;
use crate::gateways::stripe::charges::{self, doc_url, NewCharge};
use crate::gateways::stripe::events::emit_event;
use crate::gateways::stripe::objects::{ChargeStatus, PaymentIntent};
use crate::gateways::stripe::params::CallContext;
use crate::gateways::stripe::payment_intents;
use crate::gateways::stripe::payment_methods;
use crate::instruments::{Charged, DebitResult, Decline, Instrument};
use crate::state::{new_id, random_token, State};

/// What to charge, to whom, and with what.
pub(crate) struct Attempt<'a> {
    /// The PaymentIntent of an earlier attempt at the same payment; `None` makes one.
    pub(crate) intent: Option<&'a str>,
    pub(crate) amount: i64,
    pub(crate) currency: &'a str,
    pub(crate) customer: Option<&'a str>,
    /// The PaymentIntent's `description`, e.g. `Subscription creation`.
    pub(crate) description: Option<&'a str>,
    /// The PaymentIntent's (and its charges') `metadata`: a session's
    /// `payment_intent_data[metadata]`.
    pub(crate) metadata: &'a BTreeMap<String, String>,
    /// The PaymentIntent's `receipt_email`: a session's `payment_intent_data[receipt_email]`.
    pub(crate) receipt_email: Option<&'a str>,
    pub(crate) email: Option<&'a str>,
    /// The stored PaymentMethod to charge.
    pub(crate) payment_method: &'a str,
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AttemptResult {
    Succeeded,
    /// A bank debit started; it settles later.
    Processing,
    Declined(Decline),
}

/// A payment attempt: its PaymentIntent and how it ended.
#[derive(Debug, Clone)]
pub(crate) struct Attempted {
    pub(crate) intent: String,
    pub(crate) result: AttemptResult,
}

/// Charges `attempt.payment_method` and emits the events of the attempt.
pub(crate) fn attempt(
    app: &App,
    state: &mut State,
    attempt: Attempt<'_>,
    context: Option<&CallContext<'_>>,
) -> Attempted {
    let intent_id = match attempt
        .intent
        .filter(|id| state.stripe.payment_intents.contains_key(*id))
    {
        Some(existing) => existing.to_owned(),
        None => create_intent(app, state, &attempt, context),
    };
    // The charge carries what its PaymentIntent does.
    let (description, metadata) = state
        .stripe
        .payment_intents
        .get(&intent_id)
        .map(|intent| (intent.description.clone(), intent.metadata.clone()))
        .unwrap_or_default();
    let instrument = charges::instrument_of(state, Some(attempt.payment_method));
    let charged = instrument.charge();
    let now = state.now();
    let charge_id = new_id("ch_");
    let (status, failure, settles_at) = match charged {
        Charged::Paid => (ChargeStatus::Succeeded, None, None),
        Charged::Processing(iban) => (
            ChargeStatus::Pending,
            None,
            Some(now.saturating_add(iban.settles_after)),
        ),
        Charged::Declined(decline) => (ChargeStatus::Failed, Some(decline), None),
    };
    if let Some(at) = settles_at {
        state.note_expiry(at);
    }
    let charge = charges::insert(
        state,
        NewCharge {
            id: charge_id.clone(),
            amount: attempt.amount,
            currency: attempt.currency.to_owned(),
            customer: attempt.customer.map(str::to_owned),
            payment_intent: Some(intent_id.clone()),
            payment_method: Some(attempt.payment_method.to_owned()),
            description,
            billing_email: attempt.email.map(str::to_owned),
            metadata,
            instrument,
            status,
            failure,
            settles_at,
        },
    );
    let method = state
        .stripe
        .payment_methods
        .get(attempt.payment_method)
        .map(payment_methods::render);
    let (intent_status, error, charge_event, intent_event, result) = match charged {
        Charged::Paid => (
            "succeeded",
            None,
            "charge.succeeded",
            "payment_intent.succeeded",
            AttemptResult::Succeeded,
        ),
        Charged::Processing(_) => (
            "processing",
            None,
            "charge.pending",
            "payment_intent.processing",
            AttemptResult::Processing,
        ),
        Charged::Declined(decline) => (
            "requires_payment_method",
            Some(last_payment_error(&charge_id, decline, method)),
            "charge.failed",
            "payment_intent.payment_failed",
            AttemptResult::Declined(decline),
        ),
    };
    if let Some(intent) = state.stripe.payment_intents.get_mut(&intent_id) {
        intent.status = intent_status.to_owned();
        intent.latest_charge = Some(charge_id);
        // A declined PaymentIntent gives its method back: it needs a new one.
        intent.payment_method = error.is_none().then(|| attempt.payment_method.to_owned());
        intent.last_payment_error = error;
    }
    emit_event(app, state, charge_event, charge, context);
    emit_intent(app, state, &intent_id, intent_event, context);
    Attempted {
        intent: intent_id,
        result,
    }
}

/// Stores a new PaymentIntent for the attempt and emits `payment_intent.created`.
fn create_intent(
    app: &App,
    state: &mut State,
    attempt: &Attempt<'_>,
    context: Option<&CallContext<'_>>,
) -> String {
    let id = new_id("pi_");
    let intent = PaymentIntent {
        client_secret: format!("{id}_secret_{}", random_token(24)),
        id: id.clone(),
        amount: attempt.amount,
        currency: attempt.currency.to_owned(),
        status: "requires_payment_method".to_owned(),
        created: state.now(),
        metadata: attempt.metadata.clone(),
        payment_method: None,
        latest_charge: None,
        last_payment_error: None,
        description: attempt.description.map(str::to_owned),
        customer: attempt.customer.map(str::to_owned),
        capture_method: "automatic_async".to_owned(),
        automatic_payment_methods: Some(json!({ "allow_redirects": "always", "enabled": true })),
        receipt_email: attempt.receipt_email.map(str::to_owned),
        canceled_at: None,
        cancellation_reason: None,
    };
    state.counts.stripe_payment_intents += 1;
    state.stripe.payment_intents.insert(id.clone(), intent);
    emit_intent(app, state, &id, "payment_intent.created", context);
    id
}

fn emit_intent(
    app: &App,
    state: &mut State,
    id: &str,
    event_type: &str,
    context: Option<&CallContext<'_>>,
) {
    if let Some(intent) = state.stripe.payment_intents.get(id) {
        let rendered = payment_intents::render(intent);
        emit_event(app, state, event_type, rendered, context);
    }
}

/// The PaymentIntent's `last_payment_error` for a declined attempt: Stripe's card error with
/// the failed charge and the PaymentMethod that was declined.
pub(crate) fn last_payment_error(charge: &str, decline: Decline, method: Option<Value>) -> Value {
    let mut error = json!({
        "charge": charge,
        "code": decline.code,
        "doc_url": doc_url(decline.code),
        "message": decline.message,
        "payment_method": method,
        "type": "card_error",
    });
    if let (Some(code), Some(object)) = (decline.decline_code, error.as_object_mut()) {
        object.insert("decline_code".into(), json!(code));
    }
    error
}

/// A debit the clock settled: its PaymentIntent and whether it succeeded.
#[derive(Debug, Clone)]
pub(crate) struct Settled {
    pub(crate) intent: String,
    pub(crate) succeeded: bool,
}

/// Settles every pending debit whose time has come, oldest first, with its events; returns
/// them so the session (or invoice) they pay can follow.
pub(crate) fn settle_due(app: &App, state: &mut State) -> Vec<Settled> {
    let now = state.now();
    let due: Vec<String> = state
        .stripe
        .charges
        .oldest_first()
        .filter(|charge| {
            charge.status == ChargeStatus::Pending && charge.settles_at.is_some_and(|at| at <= now)
        })
        .map(|charge| charge.id.clone())
        .collect();
    let mut settled = Vec::new();
    for id in due {
        if let Some(done) = settle(app, state, &id) {
            settled.push(done);
        }
    }
    settled
}

/// Moves one pending debit to its result, as its test IBAN says.
fn settle(app: &App, state: &mut State, charge_id: &str) -> Option<Settled> {
    let charge = state.stripe.charges.get(charge_id)?;
    let result = match charge.instrument {
        Instrument::SepaDebit(iban) => iban.result,
        // Only bank debits are ever pending.
        Instrument::Card(_) => DebitResult::Succeeds,
    };
    let intent_id = charge.payment_intent.clone()?;
    let method_id = charge.payment_method.clone();
    let method = method_id
        .as_deref()
        .and_then(|id| state.stripe.payment_methods.get(id))
        .map(payment_methods::render);
    let charge = state.stripe.charges.get_mut(charge_id)?;
    charge.settles_at = None;
    let (charge_event, intent_event, succeeded) = match result {
        DebitResult::Succeeds => {
            charge.status = ChargeStatus::Succeeded;
            ("charge.succeeded", "payment_intent.succeeded", true)
        }
        DebitResult::Fails(decline) => {
            charge.status = ChargeStatus::Failed;
            charge.failure = Some(decline);
            ("charge.failed", "payment_intent.payment_failed", false)
        }
    };
    let rendered = charges::render(charge);
    if let Some(intent) = state.stripe.payment_intents.get_mut(&intent_id) {
        match result {
            DebitResult::Succeeds => intent.status = "succeeded".to_owned(),
            DebitResult::Fails(decline) => {
                intent.status = "requires_payment_method".to_owned();
                intent.payment_method = None;
                intent.last_payment_error = Some(last_payment_error(charge_id, decline, method));
            }
        }
    }
    emit_event(app, state, charge_event, rendered, None);
    emit_intent(app, state, &intent_id, intent_event, None);
    Some(Settled {
        intent: intent_id,
        succeeded,
    })
}
