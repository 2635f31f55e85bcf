//! Stripe Charges: the payment a succeeded PaymentIntent made, which refunds draw on
//! (`amount_refunded`, `refunded`). Every succeeded payment records one: direct PaymentIntent
//! confirms, paid payment-mode checkouts and paid invoices. `GET /v1/charges/{id}`.

use std::collections::BTreeMap;

use http::StatusCode;
use serde_json::{json, Value};

use crate::gateways::stripe::error::{Failure, Outcome};
use crate::gateways::stripe::form::Params;
use crate::gateways::stripe::objects::{Charge, PaymentIntent};
use crate::gateways::stripe::params::{check_expand, expand_list, reject_unknown};
use crate::state::{new_id, random_token, State};

/// A payment the sandbox makes on the customer's behalf (a paid checkout or invoice).
pub(crate) struct Payment {
    pub(crate) amount: i64,
    pub(crate) currency: String,
    pub(crate) customer: Option<String>,
    /// The PaymentIntent's `description`, e.g. `Subscription creation`.
    pub(crate) description: Option<String>,
    pub(crate) email: Option<String>,
}

/// Stores a succeeded PaymentIntent and its charge for `payment`; returns the intent's id.
pub(crate) fn record_payment(state: &mut State, payment: Payment) -> String {
    let now = state.now();
    let intent_id = new_id("pi_");
    let charge_id = new_id("ch_");
    let payment_method = new_id("pm_");
    let intent = PaymentIntent {
        client_secret: format!("{intent_id}_secret_{}", random_token(24)),
        id: intent_id.clone(),
        amount: payment.amount,
        currency: payment.currency.clone(),
        status: "succeeded".to_owned(),
        created: now,
        metadata: BTreeMap::new(),
        payment_method: Some(payment_method.clone()),
        latest_charge: Some(charge_id.clone()),
        last_payment_error: None,
        description: payment.description.clone(),
        customer: payment.customer.clone(),
        capture_method: "automatic_async".to_owned(),
        automatic_payment_methods: Some(json!({ "allow_redirects": "always", "enabled": true })),
        receipt_email: None,
        canceled_at: None,
        cancellation_reason: None,
    };
    state.counts.stripe_payment_intents += 1;
    state
        .stripe
        .payment_intents
        .insert(intent_id.clone(), intent);
    let charge = Charge {
        id: charge_id.clone(),
        amount: payment.amount,
        currency: payment.currency,
        created: now,
        customer: payment.customer,
        payment_intent: Some(intent_id.clone()),
        payment_method: Some(payment_method),
        description: payment.description,
        billing_email: payment.email,
        amount_refunded: 0,
        metadata: BTreeMap::new(),
        refunds: Vec::new(),
    };
    state.stripe.charges.insert(charge_id, charge);
    intent_id
}

/// Stores the charge of a PaymentIntent that just succeeded (its `latest_charge`).
pub(crate) fn record_intent_charge(state: &mut State, intent_id: &str) {
    let now = state.now();
    let Some(intent) = state.stripe.payment_intents.get(intent_id) else {
        return;
    };
    let Some(charge_id) = intent.latest_charge.clone() else {
        return;
    };
    let charge = Charge {
        id: charge_id.clone(),
        amount: intent.amount,
        currency: intent.currency.clone(),
        created: now,
        customer: intent.customer.clone(),
        payment_intent: Some(intent.id.clone()),
        payment_method: intent.payment_method.clone(),
        description: intent.description.clone(),
        billing_email: intent.receipt_email.clone(),
        amount_refunded: 0,
        metadata: intent.metadata.clone(),
        refunds: Vec::new(),
    };
    state.stripe.charges.insert(charge_id, charge);
}

/// Renders a charge as Stripe's `charge` JSON (fixtures shape, card `4242`).
pub(crate) fn render(charge: &Charge) -> Value {
    json!({
        "id": charge.id,
        "object": "charge",
        "amount": charge.amount,
        "amount_captured": charge.amount,
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
        "captured": true,
        "created": charge.created,
        "currency": charge.currency,
        "customer": charge.customer,
        "description": charge.description,
        "disputed": false,
        "failure_balance_transaction": null,
        "failure_code": null,
        "failure_message": null,
        "fraud_details": {},
        "livemode": false,
        "metadata": charge.metadata,
        "on_behalf_of": null,
        "outcome": {
            "advice_code": null,
            "network_advice_code": null,
            "network_decline_code": null,
            "network_status": "approved_by_network",
            "reason": null,
            "risk_level": "normal",
            "seller_message": "Payment complete.",
            "type": "authorized",
        },
        "paid": true,
        "payment_intent": charge.payment_intent,
        "payment_method": charge.payment_method,
        "payment_method_details": {
            "card": {
                "brand": "visa",
                "country": "US",
                "exp_month": 12,
                "exp_year": 2034,
                "funding": "credit",
                "last4": "4242",
                "network": "visa",
            },
            "type": "card",
        },
        "receipt_email": null,
        "receipt_number": null,
        "receipt_url": null,
        "refunded": charge.amount_refunded >= charge.amount,
        "review": null,
        "shipping": null,
        "source_transfer": null,
        "statement_descriptor": null,
        "statement_descriptor_suffix": null,
        "status": "succeeded",
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
