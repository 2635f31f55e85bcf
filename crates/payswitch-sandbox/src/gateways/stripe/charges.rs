//! Stripe Charges: one per payment attempt, succeeded, failed or (a bank debit) pending, with
//! the card or bank account that paid; refunds draw on succeeded ones (`amount_refunded`,
//! `refunded`). The PaymentIntent attempts that make them are in `payments.rs`; direct
//! PaymentIntent confirms record theirs here. `GET /v1/charges/{id}`.

use std::collections::BTreeMap;

use http::StatusCode;
use serde_json::{json, Value};

use crate::app::App;
use crate::gateways::stripe::error::{Failure, Outcome};
use crate::gateways::stripe::events::emit_event;
use crate::gateways::stripe::form::Params;
use crate::gateways::stripe::objects::{Charge, ChargeStatus};
use crate::gateways::stripe::params::{check_expand, expand_list, reject_unknown, CallContext};
use crate::gateways::stripe::payment_methods::fingerprint;
use crate::instruments::{Decline, Instrument, DEFAULT_CARD};
use crate::state::State;

/// What a new charge records.
pub(crate) struct NewCharge {
    pub(crate) id: String,
    pub(crate) amount: i64,
    pub(crate) currency: String,
    pub(crate) customer: Option<String>,
    pub(crate) payment_intent: Option<String>,
    pub(crate) payment_method: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) billing_email: Option<String>,
    pub(crate) metadata: BTreeMap<String, String>,
    pub(crate) instrument: Instrument,
    pub(crate) status: ChargeStatus,
    pub(crate) failure: Option<Decline>,
    pub(crate) settles_at: Option<i64>,
}

/// Stores a charge and returns its rendering, for the event that announces it.
pub(crate) fn insert(state: &mut State, new: NewCharge) -> Value {
    let charge = Charge {
        id: new.id.clone(),
        amount: new.amount,
        currency: new.currency,
        created: state.now(),
        customer: new.customer,
        payment_intent: new.payment_intent,
        payment_method: new.payment_method,
        description: new.description,
        billing_email: new.billing_email,
        amount_refunded: 0,
        metadata: new.metadata,
        refunds: Vec::new(),
        status: new.status,
        instrument: new.instrument,
        failure: new.failure,
        settles_at: new.settles_at,
    };
    let rendered = render(&charge);
    state.stripe.charges.insert(new.id, charge);
    rendered
}

/// The instrument behind a PaymentMethod id: the stored method's, or Stripe's default test
/// Visa for an id the sandbox made without storing (direct PaymentIntent confirms).
pub(crate) fn instrument_of(state: &State, payment_method: Option<&str>) -> Instrument {
    payment_method
        .and_then(|id| state.stripe.payment_methods.get(id))
        .map_or(DEFAULT_CARD, |method| method.instrument)
}

/// Stores the succeeded charge of a PaymentIntent confirmed through the API (its
/// `latest_charge`) and emits `charge.succeeded`, which Stripe sends before the
/// PaymentIntent's own `payment_intent.succeeded`.
pub(crate) fn record_intent_charge(
    app: &App,
    state: &mut State,
    intent_id: &str,
    context: Option<&CallContext<'_>>,
) {
    record_confirmed(app, state, intent_id, None, context);
}

/// Stores the failed charge of a PaymentIntent whose API confirm was declined (its
/// `latest_charge`) and emits `charge.failed`, before `payment_intent.payment_failed`.
pub(crate) fn record_failed_intent_charge(
    app: &App,
    state: &mut State,
    intent_id: &str,
    decline: Decline,
    context: Option<&CallContext<'_>>,
) {
    record_confirmed(app, state, intent_id, Some(decline), context);
}

fn record_confirmed(
    app: &App,
    state: &mut State,
    intent_id: &str,
    failure: Option<Decline>,
    context: Option<&CallContext<'_>>,
) {
    let Some(intent) = state.stripe.payment_intents.get(intent_id) else {
        return;
    };
    let Some(charge_id) = intent.latest_charge.clone() else {
        return;
    };
    let new = NewCharge {
        id: charge_id,
        amount: intent.amount,
        currency: intent.currency.clone(),
        customer: intent.customer.clone(),
        payment_intent: Some(intent.id.clone()),
        payment_method: intent.payment_method.clone(),
        description: intent.description.clone(),
        billing_email: intent.receipt_email.clone(),
        metadata: intent.metadata.clone(),
        instrument: instrument_of(state, intent.payment_method.as_deref()),
        status: if failure.is_some() {
            ChargeStatus::Failed
        } else {
            ChargeStatus::Succeeded
        },
        failure,
        settles_at: None,
    };
    let event_type = if failure.is_some() {
        "charge.failed"
    } else {
        "charge.succeeded"
    };
    let rendered = insert(state, new);
    emit_event(app, state, event_type, rendered, context);
}

/// Stripe's `doc_url` for an error code.
pub(crate) fn doc_url(code: &str) -> String {
    format!(
        "https://stripe.com/docs/error-codes/{}",
        code.replace('_', "-")
    )
}

/// The charge's `outcome`: approved, declined by the issuer, or none yet for a pending debit.
fn outcome(charge: &Charge) -> Value {
    match (charge.status, charge.failure) {
        (ChargeStatus::Pending, _) => Value::Null,
        (ChargeStatus::Failed, Some(decline)) => json!({
            "advice_code": null,
            "network_advice_code": null,
            "network_decline_code": null,
            "network_status": "declined_by_network",
            "reason": decline.decline_code,
            "risk_level": "normal",
            "seller_message": "The bank did not return any further details with this decline.",
            "type": "issuer_declined",
        }),
        (ChargeStatus::Succeeded | ChargeStatus::Failed, _) => json!({
            "advice_code": null,
            "network_advice_code": null,
            "network_decline_code": null,
            "network_status": "approved_by_network",
            "reason": null,
            "risk_level": "normal",
            "seller_message": "Payment complete.",
            "type": "authorized",
        }),
    }
}

/// The charge's `payment_method_details`: the card, or the SEPA debit and its mandate.
fn payment_method_details(charge: &Charge) -> Value {
    match charge.instrument {
        Instrument::Card(card) => json!({
            "card": {
                "amount_authorized": (charge.status == ChargeStatus::Succeeded).then_some(charge.amount),
                "brand": card.brand,
                "checks": {
                    "address_line1_check": null,
                    "address_postal_code_check": null,
                    "cvc_check": "pass",
                },
                "country": "US",
                "exp_month": 12,
                "exp_year": 2034,
                "fingerprint": fingerprint(card.number),
                "funding": card.funding,
                "last4": card.last4(),
                "network": card.brand,
                "three_d_secure": null,
                "wallet": null,
            },
            "type": "card",
        }),
        Instrument::SepaDebit(iban) => json!({
            "sepa_debit": {
                "bank_code": iban.bank_code,
                "branch_code": "",
                "country": iban.country,
                "fingerprint": fingerprint(iban.iban),
                "last4": iban.last4(),
                "mandate": charge.payment_method.as_ref().map(|method| {
                    format!("mandate_{}", method.trim_start_matches("pm_"))
                }),
            },
            "type": "sepa_debit",
        }),
    }
}

/// Renders a charge as Stripe's `charge` JSON (fixtures shape).
pub(crate) fn render(charge: &Charge) -> Value {
    let succeeded = charge.status == ChargeStatus::Succeeded;
    let captured = charge.status != ChargeStatus::Failed;
    json!({
        "id": charge.id,
        "object": "charge",
        "amount": charge.amount,
        "amount_captured": if captured { charge.amount } else { 0 },
        "amount_refunded": charge.amount_refunded,
        "application": null,
        "application_fee": null,
        "application_fee_amount": null,
        "balance_transaction": null,
        "billing_details": {
            "address": {
                "city": null, "country": null, "line1": null, "line2": null,
                "postal_code": null, "state": null,
            },
            "email": charge.billing_email,
            "name": null,
            "phone": null,
            "tax_id": null,
        },
        "calculated_statement_descriptor": "PAYSWITCH SANDBOX",
        "captured": captured,
        "created": charge.created,
        "currency": charge.currency,
        "customer": charge.customer,
        "description": charge.description,
        "disputed": false,
        "failure_balance_transaction": null,
        "failure_code": charge.failure.map(|decline| decline.code),
        "failure_message": charge.failure.map(|decline| decline.message),
        "fraud_details": {},
        "livemode": false,
        "metadata": charge.metadata,
        "on_behalf_of": null,
        "outcome": outcome(charge),
        "paid": succeeded,
        "payment_intent": charge.payment_intent,
        "payment_method": charge.payment_method,
        "payment_method_details": payment_method_details(charge),
        "receipt_email": null,
        "receipt_number": null,
        "receipt_url": null,
        "refunded": succeeded && charge.amount_refunded >= charge.amount,
        "review": null,
        "shipping": null,
        "source_transfer": null,
        "statement_descriptor": null,
        "statement_descriptor_suffix": null,
        "status": charge.status.as_str(),
        "transfer_data": null,
        "transfer_group": null,
    })
}

/// `GET /v1/charges/{id}`.
pub(crate) fn retrieve(state: &State, id: &str, params: &Params) -> Outcome {
    reject_unknown(params, &["expand"], "")?;
    check_expand(&expand_list(params)?, &[])?;
    let charge = state
        .stripe
        .charges
        .get(id)
        .ok_or_else(|| Failure::not_found("charge", "charge", id))?;
    Ok((StatusCode::OK, render(charge)))
}
