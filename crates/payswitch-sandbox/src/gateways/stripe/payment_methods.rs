//! Stripe PaymentMethods (`pm_…`): the ones Checkout makes from the test card or IBAN the
//! customer enters, and the ones Stripe's test tokens make (`pm_card_visa`,
//! `pm_card_chargeCustomerFail`, …) when they are attached to a customer with
//! `POST /v1/payment_methods/{id}/attach` or confirm a PaymentIntent;
//! `GET /v1/payment_methods/{id}`; the `payment_method.attached` event; the full
//! `payment_method` JSON (also embedded in a declined PaymentIntent's
//! `last_payment_error.payment_method`); and which method pays a customer's invoices.

use http::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::app::App;
use crate::gateways::stripe::error::{ApiError, Failure, Outcome};
use crate::gateways::stripe::events::emit_event;
use crate::gateways::stripe::form::Params;
use crate::gateways::stripe::objects::{PaymentMethod, Subscription};
use crate::gateways::stripe::params::{
    check_expand, expand_list, reject_unknown, text, CallContext,
};
use crate::instruments::{card_by_number, Decline, Instrument};
use crate::state::{new_id, State};

/// Stripe's test PaymentMethod tokens and the test card each stands for (Stripe's testing
/// page lists the same behaviour under the card number and under the token).
const TEST_TOKENS: &[(&str, &str)] = &[
    ("pm_card_visa", "4242424242424242"),
    ("pm_card_visa_debit", "4000056655665556"),
    ("pm_card_mastercard", "5555555555554444"),
    ("pm_card_amex", "371449635398431"),
    ("pm_card_chargeCustomerFail", "4000000000000341"),
    ("pm_card_visa_chargeDeclined", "4000000000000002"),
    ("pm_card_chargeDeclined", "4000000000000002"),
    (
        "pm_card_visa_chargeDeclinedInsufficientFunds",
        "4000000000009995",
    ),
    (
        "pm_card_chargeDeclinedInsufficientFunds",
        "4000000000009995",
    ),
    ("pm_card_visa_chargeDeclinedLostCard", "4000000000009987"),
    ("pm_card_visa_chargeDeclinedStolenCard", "4000000000009979"),
    ("pm_card_chargeDeclinedExpiredCard", "4000000000000069"),
    ("pm_card_chargeDeclinedIncorrectCvc", "4000000000000127"),
    ("pm_card_chargeDeclinedProcessingError", "4000000000000119"),
];

/// The test card a Stripe test token stands for.
pub(crate) fn test_token(token: &str) -> Option<Instrument> {
    TEST_TOKENS
        .iter()
        .find(|(known, _)| *known == token)
        .and_then(|(_, number)| card_by_number(number))
}

/// Stores a new PaymentMethod for `instrument` and returns its id.
pub(crate) fn insert(
    state: &mut State,
    instrument: Instrument,
    customer: Option<&str>,
    billing_email: Option<&str>,
) -> String {
    let id = new_id("pm_");
    let method = PaymentMethod {
        id: id.clone(),
        created: state.now(),
        customer: customer.map(str::to_owned),
        billing_email: billing_email.map(str::to_owned),
        instrument,
    };
    state.stripe.payment_methods.insert(id.clone(), method);
    id
}

/// A stable stand-in for Stripe's `fingerprint`: the same card or account number always
/// gets the same one.
pub(crate) fn fingerprint(number: &str) -> String {
    let digest = hex::encode(Sha256::digest(number.as_bytes()));
    digest.get(..16).unwrap_or(&digest).to_owned()
}

/// The `card` or `sepa_debit` hash of a PaymentMethod, and its `type`.
pub(crate) fn render_details(instrument: Instrument) -> (&'static str, Value) {
    match instrument {
        Instrument::Card(card) => (
            "card",
            json!({
                "brand": card.brand,
                "checks": {
                    "address_line1_check": null,
                    "address_postal_code_check": null,
                    "cvc_check": "pass",
                },
                "country": "US",
                "display_brand": card.brand,
                "exp_month": 12,
                "exp_year": 2034,
                "fingerprint": fingerprint(card.number),
                "funding": card.funding,
                "generated_from": null,
                "last4": card.last4(),
                "networks": { "available": [card.brand], "preferred": null },
                "regulated_status": "unregulated",
                "three_d_secure_usage": { "supported": true },
                "wallet": null,
            }),
        ),
        Instrument::SepaDebit(iban) => (
            "sepa_debit",
            json!({
                "bank_code": iban.bank_code,
                "branch_code": "",
                "country": iban.country,
                "fingerprint": fingerprint(iban.iban),
                "generated_from": { "charge": null, "setup_attempt": null },
                "last4": iban.last4(),
            }),
        ),
    }
}

/// Renders a PaymentMethod as Stripe's `payment_method` JSON.
pub(crate) fn render(method: &PaymentMethod) -> Value {
    let (kind, details) = render_details(method.instrument);
    let mut value = json!({
        "id": method.id,
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": {
            "address": {
                "city": null, "country": null, "line1": null, "line2": null,
                "postal_code": null, "state": null,
            },
            "email": method.billing_email,
            "name": null,
            "phone": null,
            "tax_id": null,
        },
        "created": method.created,
        "customer": method.customer,
        "customer_account": null,
        "livemode": false,
        "metadata": {},
        "type": kind,
    });
    if let Some(object) = value.as_object_mut() {
        object.insert(kind.to_owned(), details);
    }
    value
}

/// Stripe's 402 for a card that cannot be attached (the cards of its decline table).
pub(crate) fn card_error(decline: Decline, param: Option<&str>) -> Failure {
    let mut failure = Failure {
        status: StatusCode::PAYMENT_REQUIRED,
        error: ApiError {
            kind: "card_error",
            code: Some(decline.code),
            param: param.map(str::to_owned),
            message: decline.message.to_owned(),
        },
        extra: serde_json::Map::new(),
    };
    if let Some(code) = decline.decline_code {
        failure.extra.insert("decline_code".into(), json!(code));
    }
    failure
}

/// Attaches `id` (a stored PaymentMethod, or a test token, which makes a new one) to
/// `customer` and emits `payment_method.attached`; returns the attached method's id.
///
/// # Errors
/// 404 for an unknown id; 400 when it belongs to another customer; 402 `card_error` for a card
/// Stripe does not let you attach.
pub(crate) fn attach_to(
    app: &App,
    state: &mut State,
    id: &str,
    customer: &str,
    context: Option<&CallContext<'_>>,
) -> Result<String, Failure> {
    let existing = state.stripe.payment_methods.get(id).cloned();
    let (method_id, instrument) = match (existing, test_token(id)) {
        (Some(method), _) => {
            if method
                .customer
                .as_deref()
                .is_some_and(|owner| owner != customer)
            {
                return Err(Failure::invalid(
                    None,
                    None,
                    "The payment method you provided has already been attached to a customer."
                        .to_owned(),
                ));
            }
            (method.id.clone(), method.instrument)
        }
        (None, Some(instrument)) => (String::new(), instrument),
        (None, None) => {
            return Err(Failure::invalid(
                Some("resource_missing"),
                Some("payment_method"),
                format!("No such PaymentMethod: '{id}'"),
            ))
        }
    };
    instrument
        .attach()
        .map_err(|decline| card_error(decline, None))?;
    let method_id = if method_id.is_empty() {
        insert(state, instrument, Some(customer), None)
    } else {
        method_id
    };
    if let Some(method) = state.stripe.payment_methods.get_mut(&method_id) {
        method.customer = Some(customer.to_owned());
    }
    if let Some(method) = state.stripe.payment_methods.get(&method_id) {
        let rendered = render(method);
        emit_event(app, state, "payment_method.attached", rendered, context);
    }
    Ok(method_id)
}

/// `POST /v1/payment_methods/{id}/attach`.
pub(crate) fn attach(
    app: &App,
    state: &mut State,
    id: &str,
    params: &Params,
    context: &CallContext<'_>,
) -> Outcome {
    reject_unknown(params, &["customer", "customer_account", "expand"], "")?;
    check_expand(&expand_list(params)?, &[])?;
    let customer = text(params, "customer", "")?.ok_or_else(|| Failure::missing("customer"))?;
    if !state.stripe.customers.contains(customer) {
        return Err(Failure::invalid(
            Some("resource_missing"),
            Some("customer"),
            format!("No such customer: '{customer}'"),
        ));
    }
    let attached = attach_to(app, state, id, customer, Some(context))?;
    let method = state
        .stripe
        .payment_methods
        .get(&attached)
        .ok_or_else(|| Failure::not_found("payment_method", "payment_method", &attached))?;
    Ok((StatusCode::OK, render(method)))
}

/// `GET /v1/payment_methods/{id}`.
pub(crate) fn retrieve(state: &State, id: &str, params: &Params) -> Outcome {
    reject_unknown(params, &["expand"], "")?;
    check_expand(&expand_list(params)?, &[])?;
    let method = state
        .stripe
        .payment_methods
        .get(id)
        .ok_or_else(|| Failure::not_found("payment_method", "payment_method", id))?;
    Ok((StatusCode::OK, render(method)))
}

/// Checks that `id` is a PaymentMethod attached to `customer`, for a default payment method.
///
/// # Errors
/// Stripe's 400 naming `param`.
pub(crate) fn check_attached(
    state: &State,
    id: &str,
    customer: &str,
    param: &str,
) -> Result<(), Failure> {
    let attached = state
        .stripe
        .payment_methods
        .get(id)
        .is_some_and(|method| method.customer.as_deref() == Some(customer));
    if attached {
        return Ok(());
    }
    Err(Failure::invalid(
        Some("resource_missing"),
        Some(param),
        format!(
            "The customer does not have a payment method with the ID {id}. The payment method \
             must be attached to the customer."
        ),
    ))
}

/// The PaymentMethod a subscription's invoices are charged to: the subscription's
/// `default_payment_method`, else its customer's `invoice_settings.default_payment_method`
/// (Stripe's documented order, without the legacy sources).
pub(crate) fn for_subscription<'a>(
    state: &'a State,
    subscription: &Subscription,
) -> Option<&'a PaymentMethod> {
    subscription
        .default_payment_method
        .as_deref()
        .or_else(|| {
            state
                .stripe
                .customers
                .get(&subscription.customer)
                .and_then(|customer| customer.default_payment_method.as_deref())
        })
        .and_then(|id| state.stripe.payment_methods.get(id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instruments::Charged;

    #[test]
    fn test_tokens_stand_for_their_cards() {
        let visa = test_token("pm_card_visa").expect("known token");
        assert_eq!(visa.charge(), Charged::Paid);
        let failing = test_token("pm_card_chargeCustomerFail").expect("known token");
        assert_eq!(failing.attach(), Ok(()));
        assert!(matches!(failing.charge(), Charged::Declined(_)));
        let declined = test_token("pm_card_chargeDeclined").expect("known token");
        assert!(declined.attach().is_err());
        assert!(test_token("pm_card_unknown").is_none());
    }

    #[test]
    fn declining_tokens_carry_their_codes() {
        let Some(Charged::Declined(decline)) =
            test_token("pm_card_chargeDeclinedInsufficientFunds").map(Instrument::charge)
        else {
            panic!("declined");
        };
        assert_eq!(decline.reason(), "insufficient_funds");
        assert!(test_token("pm_card_amex").is_some_and(|card| card.charge() == Charged::Paid));
        let method = PaymentMethod {
            id: "pm_1".to_owned(),
            created: 5,
            customer: None,
            billing_email: None,
            instrument: test_token("pm_card_visa").expect("known token"),
        };
        let rendered = render(&method);
        assert_eq!(rendered["card"]["last4"], "4242");
        assert_eq!(rendered["billing_details"]["email"], Value::Null);
        assert_eq!(rendered["customer_account"], Value::Null);
    }

    #[test]
    fn fingerprints_are_stable_per_number() {
        assert_eq!(fingerprint("4242"), fingerprint("4242"));
        assert_ne!(fingerprint("4242"), fingerprint("0341"));
        assert_eq!(fingerprint("4242").len(), 16);
    }
}
