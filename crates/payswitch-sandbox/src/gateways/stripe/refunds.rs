//! Stripe Refunds: `POST /v1/refunds` against a charge or a PaymentIntent's charge (partial
//! refunds accumulate in the charge's `amount_refunded`), retrieve and list, with the
//! `charge.refunded` and `refund.created` events.

use http::StatusCode;
use serde_json::{json, Value};

use crate::app::App;
use crate::gateways::stripe::charges;
use crate::gateways::stripe::currencies;
use crate::gateways::stripe::error::{Failure, Outcome};
use crate::gateways::stripe::events::{emit_event, emit_update_event, previous_attributes};
use crate::gateways::stripe::form::Params;
use crate::gateways::stripe::lists::{item_expansions, list_body, paginate};
use crate::gateways::stripe::objects::{Charge, ChargeStatus, Refund};
use crate::gateways::stripe::params::{
    check_expand, expand_list, integer, metadata, one_of, range, reject_unknown,
    reject_unsupported, text, CallContext,
};
use crate::state::{new_id, State};

/// Create parameters the sandbox implements.
const CREATE_PARAMS: &[&str] = &[
    "amount",
    "charge",
    "expand",
    "metadata",
    "payment_intent",
    "reason",
];
/// Documented create parameters the sandbox does not emulate; refused by name.
const UNEMULATED_CREATE_PARAMS: &[&str] = &[
    "currency",
    "customer",
    "instructions_email",
    "origin",
    "refund_application_fee",
    "reverse_transfer",
];

/// Renders a refund as Stripe's `refund` JSON (fixtures shape).
pub(crate) fn render(refund: &Refund) -> Value {
    json!({
        "id": refund.id,
        "object": "refund",
        "amount": refund.amount,
        "balance_transaction": null,
        "charge": refund.charge,
        "created": refund.created,
        "currency": refund.currency,
        "destination_details": {
            "card": { "reference_status": "pending", "reference_type": "acquirer_reference_number", "type": "refund" },
            "type": "card",
        },
        "metadata": refund.metadata,
        "payment_intent": refund.payment_intent,
        "reason": refund.reason,
        "receipt_number": null,
        "source_transfer_reversal": null,
        "status": "succeeded",
        "transfer_reversal": null,
    })
}

/// Finds the charge a refund request names: `charge`, or the latest charge of a succeeded
/// `payment_intent`.
fn refunded_charge<'a>(state: &'a State, params: &Params) -> Result<&'a Charge, Failure> {
    match (
        text(params, "charge", "")?,
        text(params, "payment_intent", "")?,
    ) {
        (Some(_), Some(_)) => Err(Failure::invalid(
            Some("parameters_exclusive"),
            Some("payment_intent"),
            "You may only specify one of these parameters: charge, payment_intent.".to_owned(),
        )),
        (None, None) => Err(Failure::invalid(
            Some("parameter_missing"),
            None,
            "One of the following params should be provided for this request: payment_intent \
             or charge."
                .to_owned(),
        )),
        (Some(charge), None) => state
            .stripe
            .charges
            .get(charge)
            .ok_or_else(|| Failure::not_found("charge", "charge", charge)),
        (None, Some(intent_id)) => {
            let intent =
                state.stripe.payment_intents.get(intent_id).ok_or_else(|| {
                    Failure::not_found("payment_intent", "payment_intent", intent_id)
                })?;
            // The rule is Stripe's; the wording is the sandbox's.
            let no_charge = || {
                Failure::invalid(
                    None,
                    Some("payment_intent"),
                    format!(
                        "This PaymentIntent ({intent_id}) does not have a successful charge to \
                         refund."
                    ),
                )
            };
            if intent.status != "succeeded" {
                return Err(no_charge());
            }
            intent
                .latest_charge
                .as_deref()
                .and_then(|charge| state.stripe.charges.get(charge))
                .ok_or_else(no_charge)
        }
    }
}

/// Decides how much a refund takes: the whole unrefunded remainder by default, never more.
///
/// # Errors
/// Stripe's 400s: `charge_already_refunded` when nothing is left, `amount` above the
/// remainder, a non-positive `amount`, and a charge that failed (nothing was paid; the rule
/// is Stripe's, the wording the sandbox's).
pub(crate) fn refund_amount(charge: &Charge, requested: Option<i64>) -> Result<i64, Failure> {
    if charge.status == ChargeStatus::Failed {
        return Err(Failure::invalid(
            None,
            Some("charge"),
            format!("Charge {} failed and has nothing to refund.", charge.id),
        ));
    }
    let remaining = charge.amount.saturating_sub(charge.amount_refunded);
    if remaining <= 0 {
        return Err(Failure::invalid(
            Some("charge_already_refunded"),
            None,
            format!("Charge {} has already been refunded.", charge.id),
        ));
    }
    match requested {
        None => Ok(remaining),
        Some(amount) if amount < 1 => Err(Failure::invalid(
            None,
            Some("amount"),
            "Invalid positive integer".to_owned(),
        )),
        Some(amount) if amount > remaining => Err(Failure::invalid(
            None,
            Some("amount"),
            format!(
                "Refund amount ({}) is greater than unrefunded amount on charge ({})",
                currencies::format(amount, &charge.currency),
                currencies::format(remaining, &charge.currency)
            ),
        )),
        Some(amount) => Ok(amount),
    }
}

/// `POST /v1/refunds`.
pub(crate) fn create(
    app: &App,
    state: &mut State,
    params: &Params,
    context: &CallContext<'_>,
) -> Outcome {
    reject_unsupported(
        params,
        CREATE_PARAMS,
        UNEMULATED_CREATE_PARAMS,
        "",
        "refunds",
    )?;
    let requested = integer(params, "amount", "")?;
    let reason = one_of(
        params,
        "reason",
        "",
        &["duplicate", "fraudulent", "requested_by_customer"],
    )?
    .map(str::to_owned);
    let refund_metadata = metadata(params, "")?;
    let expand = expand_list(params)?;
    check_expand(&expand, &["charge"])?;
    let charge = refunded_charge(state, params)?;
    let amount = refund_amount(charge, requested)?;
    let refund = Refund {
        id: new_id("re_"),
        amount,
        charge: charge.id.clone(),
        payment_intent: charge.payment_intent.clone(),
        currency: charge.currency.clone(),
        created: state.now(),
        reason,
        metadata: refund_metadata,
    };
    let before = charges::render(charge);
    let charge_id = charge.id.clone();
    let Some(charge) = state.stripe.charges.get_mut(&charge_id) else {
        return Err(Failure::not_found("charge", "charge", &charge_id));
    };
    charge.amount_refunded = charge.amount_refunded.saturating_add(amount);
    charge.refunds.push(refund.id.clone());
    let after = charges::render(charge);
    let mut rendered = render(&refund);
    if expand.iter().any(|field| field == "charge") {
        if let Some(object) = rendered.as_object_mut() {
            object.insert("charge".into(), after.clone());
        }
    }
    let event_refund = render(&refund);
    state.stripe.refunds.insert(refund.id.clone(), refund);
    let changed = previous_attributes(&before, &after);
    emit_update_event(app, state, "charge.refunded", after, changed, Some(context));
    emit_event(app, state, "refund.created", event_refund, Some(context));
    Ok((StatusCode::OK, rendered))
}

/// `GET /v1/refunds/{id}`.
pub(crate) fn retrieve(state: &State, id: &str, params: &Params) -> Outcome {
    reject_unknown(params, &["expand"], "")?;
    let expand = expand_list(params)?;
    check_expand(&expand, &["charge"])?;
    let refund = state
        .stripe
        .refunds
        .get(id)
        .ok_or_else(|| Failure::not_found("refund", "refund", id))?;
    Ok((StatusCode::OK, render_expanded(state, refund, &expand)))
}

fn render_expanded(state: &State, refund: &Refund, expand: &[String]) -> Value {
    let mut rendered = render(refund);
    if expand.iter().any(|field| field == "charge") {
        if let (Some(charge), Some(object)) = (
            state.stripe.charges.get(&refund.charge),
            rendered.as_object_mut(),
        ) {
            object.insert("charge".into(), charges::render(charge));
        }
    }
    rendered
}

/// `GET /v1/refunds`: newest first, filtered by `charge` or `payment_intent`.
pub(crate) fn list(state: &State, params: &Params) -> Outcome {
    reject_unknown(
        params,
        &[
            "charge",
            "created",
            "ending_before",
            "expand",
            "limit",
            "payment_intent",
            "starting_after",
        ],
        "",
    )?;
    let charge = text(params, "charge", "")?;
    let payment_intent = text(params, "payment_intent", "")?;
    let created = range(params, "created")?;
    let expand = item_expansions(&expand_list(params)?);
    check_expand(&expand, &["charge"])?;
    let ids: Vec<String> = state
        .stripe
        .refunds
        .newest_first()
        .filter(|refund| {
            charge.is_none_or(|wanted| refund.charge == wanted)
                && payment_intent
                    .is_none_or(|wanted| refund.payment_intent.as_deref() == Some(wanted))
                && created.admits(refund.created)
        })
        .map(|refund| refund.id.clone())
        .collect();
    let (page, has_more) = paginate(&ids, params, "refund")?;
    let data = page
        .iter()
        .filter_map(|id| state.stripe.refunds.get(id))
        .map(|refund| render_expanded(state, refund, &expand))
        .collect();
    Ok((StatusCode::OK, list_body(data, has_more, "/v1/refunds")))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn charge(amount: i64, refunded: i64, currency: &str) -> Charge {
        Charge {
            id: "ch_1".into(),
            amount,
            currency: currency.into(),
            created: 0,
            customer: None,
            payment_intent: None,
            payment_method: None,
            description: None,
            billing_email: None,
            amount_refunded: refunded,
            metadata: BTreeMap::new(),
            refunds: Vec::new(),
            status: ChargeStatus::Succeeded,
            instrument: crate::instruments::DEFAULT_CARD,
            failure: None,
            settles_at: None,
        }
    }

    #[test]
    fn refunds_take_at_most_what_is_left() {
        assert_eq!(
            refund_amount(&charge(5000, 0, "usd"), None).ok(),
            Some(5000)
        );
        assert_eq!(
            refund_amount(&charge(5000, 2000, "usd"), None).ok(),
            Some(3000)
        );
        assert_eq!(
            refund_amount(&charge(5000, 2000, "usd"), Some(3000)).ok(),
            Some(3000)
        );
        let over = refund_amount(&charge(5000, 2000, "usd"), Some(3001)).expect_err("over");
        assert_eq!(over.error.param.as_deref(), Some("amount"));
        assert_eq!(over.error.code, None);
        assert_eq!(
            over.error.message,
            "Refund amount ($30.01) is greater than unrefunded amount on charge ($30.00)"
        );
        let yen = refund_amount(&charge(500, 0, "jpy"), Some(501)).expect_err("over");
        assert_eq!(
            yen.error.message,
            "Refund amount (¥501) is greater than unrefunded amount on charge (¥500)"
        );
        let done = refund_amount(&charge(5000, 5000, "usd"), Some(1)).expect_err("done");
        assert_eq!(done.error.code, Some("charge_already_refunded"));
        assert_eq!(done.error.message, "Charge ch_1 has already been refunded.");
        assert!(refund_amount(&charge(5000, 0, "usd"), Some(0)).is_err());
        let failed = Charge {
            status: ChargeStatus::Failed,
            ..charge(5000, 0, "usd")
        };
        assert_eq!(
            refund_amount(&failed, None)
                .expect_err("failed")
                .error
                .param
                .as_deref(),
            Some("charge")
        );
    }
}
