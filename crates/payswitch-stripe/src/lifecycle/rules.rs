//! The pure rules of the lifecycle operations: what to send for a resume, which item a
//! change applies to, which payment a refund refunds, how a search value is quoted, and when
//! a refusal may mean the subscription has ended. No I/O here; `lifecycle.rs` acts on them.

use payswitch_core::adapter::wire::Expandable;
use payswitch_core::{Currency, GatewayDetails, PaymentError, APP_USER_ID_KEY};

use crate::convert::billing::is_ended;
use crate::wire::billing::{
    self as wire, InvoiceWithPayments, PauseCollectionParams, RefundSource,
    UpdateSubscriptionParams,
};
use crate::wire::SubscriptionStatus;

/// What `resume_subscription` sends, decided from the subscription as it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ResumePlan {
    /// Canceled or expired: nothing can resume it.
    Ended,
    /// Not paused, collection not paused, no cancellation scheduled.
    NothingToResume,
    /// Status `paused` (a trial ended without a payment method):
    /// `POST /v1/subscriptions/{id}/resume`.
    ResumeEndpoint,
    /// Undo paused collection and/or a scheduled cancellation with one update.
    Update(UpdateSubscriptionParams),
}

/// Decides how to resume. A scheduled cancellation is undone the way it was scheduled:
/// `cancel_at_period_end=false`, or `cancel_at=` for a cancellation date. Only one of the two
/// is sent: Stripe refuses both in one request, and undoing the period-end flag also clears
/// the date Stripe derived from it.
pub(crate) fn resume_plan(subscription: &wire::Subscription) -> ResumePlan {
    if is_ended(&subscription.status) {
        return ResumePlan::Ended;
    }
    if subscription.status == SubscriptionStatus::Paused {
        return ResumePlan::ResumeEndpoint;
    }
    let mut params = UpdateSubscriptionParams::default();
    if subscription.pause_collection.is_some() {
        params.pause_collection = Some(PauseCollectionParams::Clear);
    }
    if subscription.cancel_at_period_end == Some(true) {
        params.cancel_at_period_end = Some(false);
    } else if subscription.cancel_at.is_some() {
        params.clear_cancel_at = true;
    }
    if params == UpdateSubscriptionParams::default() {
        ResumePlan::NothingToResume
    } else {
        ResumePlan::Update(params)
    }
}

/// The item a change applies to: the named one, or the only one.
pub(crate) fn item_to_change(
    subscription: &wire::Subscription,
    wanted: Option<&str>,
) -> Result<String, PaymentError> {
    let items = subscription
        .items
        .as_ref()
        .map(|items| items.data.as_slice())
        .unwrap_or_default();
    match (wanted, items) {
        (Some(wanted), items) => items
            .iter()
            .find(|item| item.id == wanted)
            .map(|item| item.id.clone())
            .ok_or_else(|| {
                PaymentError::invalid(
                    "item_id",
                    format!("subscription {} has no item {wanted:?}", subscription.id),
                )
            }),
        (None, [only]) => Ok(only.id.clone()),
        (None, []) => Err(PaymentError::invalid(
            "item_id",
            format!("subscription {} has no items to change", subscription.id),
        )),
        (None, several) => Err(PaymentError::invalid(
            "item_id",
            format!(
                "subscription {} has {} items; name the one to change with item_id",
                subscription.id,
                several.len()
            ),
        )),
    }
}

/// A payment id as Stripe's refund takes it: a PaymentIntent (`pi_…`) as `payment_intent`,
/// a charge (`ch_…`, or `py_…` for some non-card methods) as `charge`.
pub(crate) fn payment_source(id: &str) -> Result<RefundSource, PaymentError> {
    if id.starts_with("pi_") {
        Ok(RefundSource::PaymentIntent(id.to_owned()))
    } else if id.starts_with("ch_") || id.starts_with("py_") {
        Ok(RefundSource::Charge(id.to_owned()))
    } else {
        Err(PaymentError::invalid(
            "target",
            "a Stripe payment id is a PaymentIntent (pi_…) or a charge (ch_…, py_…)",
        ))
    }
}

/// The payment that paid an invoice (retrieved with `expand[]=payments`): since
/// `2025-03-31.basil` an invoice has no `payment_intent`/`charge` of its own but a list of
/// `invoice_payment`s. The paid default payment is chosen, else the first paid one.
pub(crate) fn invoice_payment_source(
    invoice: &InvoiceWithPayments,
) -> Result<RefundSource, PaymentError> {
    let payments = invoice
        .payments
        .as_ref()
        .map(|payments| payments.data.as_slice())
        .unwrap_or_default();
    let paid =
        |payment: &&wire::InvoicePayment| payment.status == Some(wire::InvoicePaymentStatus::Paid);
    let chosen = payments
        .iter()
        .filter(paid)
        .find(|payment| payment.is_default)
        .or_else(|| payments.iter().find(paid))
        .and_then(|payment| payment.payment.as_ref())
        .ok_or_else(|| PaymentError::InvalidState {
            message: "the checkout's invoice has no paid payment to refund".to_owned(),
            gateway: None,
        })?;
    let id =
        |reference: &Option<Expandable>| reference.as_ref().map(|payment| payment.id().to_owned());
    let source = match &chosen.payment_type {
        wire::AssociatedPaymentType::PaymentIntent => {
            id(&chosen.payment_intent).map(RefundSource::PaymentIntent)
        }
        wire::AssociatedPaymentType::Charge => id(&chosen.charge).map(RefundSource::Charge),
        wire::AssociatedPaymentType::PaymentRecord | wire::AssociatedPaymentType::Unknown(_) => {
            return Err(PaymentError::InvalidState {
                message: format!(
                    "the checkout's invoice was paid by a {} payment, which Stripe refunds only where it was made",
                    chosen.payment_type.as_str()
                ),
                gateway: None,
            })
        }
    };
    source.ok_or_else(|| {
        PaymentError::decode(
            "invoice_payment",
            "the payment names no PaymentIntent or charge",
        )
    })
}

/// Stripe's search syntax for an exact metadata match, the value quoted and its quotes and
/// backslashes escaped with a backslash.
pub(crate) fn app_user_query(app_user_id: &str) -> String {
    let escaped = app_user_id.replace('\\', "\\\\").replace('\'', "\\'");
    format!("metadata['{APP_USER_ID_KEY}']:'{escaped}'")
}

/// The `InvalidState` for a change to a subscription that has ended.
pub(crate) fn ended(
    id: &str,
    status: &SubscriptionStatus,
    gateway: Option<&GatewayDetails>,
) -> PaymentError {
    PaymentError::InvalidState {
        message: format!(
            "subscription {id} has ended ({}); Stripe accepts no change to it",
            status.as_str()
        ),
        gateway: gateway.cloned().map(Box::new),
    }
}

/// Says whether a refused mutation may be Stripe's answer for an ended subscription, which
/// carries no distinguishing code: a 400 `invalid_request_error` ("A canceled subscription
/// can only update its cancellation_details and metadata.") for updates, a 404
/// `resource_missing` ("No such subscription") for a DELETE of a canceled one.
pub(crate) fn may_mean_ended(error: &PaymentError) -> bool {
    matches!(
        error,
        PaymentError::InvalidRequest {
            gateway: Some(_),
            ..
        } | PaymentError::NotFound {
            gateway: Some(_),
            ..
        }
    )
}

/// Refuses an amount in another currency than the payment's: Stripe reads a refund amount
/// in the payment's currency, so 5.00 EUR against a USD payment would refund 5.00 USD.
pub(crate) fn check_refund_currency(
    amount: Option<Currency>,
    payment: Option<&str>,
) -> Result<(), PaymentError> {
    let (Some(wanted), Some(code)) = (amount, payment) else {
        return Ok(());
    };
    if Currency::new(code).ok() == Some(wanted) {
        return Ok(());
    }
    Err(PaymentError::invalid(
        "amount",
        format!(
            "the payment is in {}; a refund amount must be in the payment's currency, not {wanted}",
            code.to_ascii_uppercase()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subscription(json: serde_json::Value) -> wire::Subscription {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn resume_undoes_what_is_set() {
        let cases = [
            (
                serde_json::json!({"id": "sub_1", "status": "canceled", "cancel_at_period_end": true}),
                ResumePlan::Ended,
            ),
            (
                serde_json::json!({"id": "sub_1", "status": "incomplete_expired"}),
                ResumePlan::Ended,
            ),
            (
                serde_json::json!({"id": "sub_1", "status": "active"}),
                ResumePlan::NothingToResume,
            ),
            (
                serde_json::json!({"id": "sub_1", "status": "active", "cancel_at_period_end": false, "pause_collection": null, "cancel_at": null}),
                ResumePlan::NothingToResume,
            ),
            (
                serde_json::json!({"id": "sub_1", "status": "paused", "pause_collection": {"behavior": "void"}}),
                ResumePlan::ResumeEndpoint,
            ),
            (
                serde_json::json!({"id": "sub_1", "status": "active", "pause_collection": {"behavior": "void", "resumes_at": null}}),
                ResumePlan::Update(UpdateSubscriptionParams {
                    pause_collection: Some(PauseCollectionParams::Clear),
                    ..UpdateSubscriptionParams::default()
                }),
            ),
            (
                serde_json::json!({"id": "sub_1", "status": "active", "cancel_at_period_end": true, "cancel_at": 1_900_000_000}),
                ResumePlan::Update(UpdateSubscriptionParams {
                    cancel_at_period_end: Some(false),
                    ..UpdateSubscriptionParams::default()
                }),
            ),
            (
                serde_json::json!({"id": "sub_1", "status": "trialing", "cancel_at": 1_900_000_000}),
                ResumePlan::Update(UpdateSubscriptionParams {
                    clear_cancel_at: true,
                    ..UpdateSubscriptionParams::default()
                }),
            ),
            (
                serde_json::json!({"id": "sub_1", "status": "past_due", "cancel_at_period_end": true, "pause_collection": {"behavior": "keep_as_draft"}}),
                ResumePlan::Update(UpdateSubscriptionParams {
                    cancel_at_period_end: Some(false),
                    pause_collection: Some(PauseCollectionParams::Clear),
                    ..UpdateSubscriptionParams::default()
                }),
            ),
        ];
        for (json, expected) in cases {
            assert_eq!(resume_plan(&subscription(json.clone())), expected, "{json}");
        }
    }

    #[test]
    fn the_item_is_the_named_one_or_the_only_one() {
        let one = subscription(
            serde_json::json!({"id": "sub_1", "status": "active", "items": {"data": [{"id": "si_1"}]}}),
        );
        let two = subscription(
            serde_json::json!({"id": "sub_1", "status": "active", "items": {"data": [{"id": "si_1"}, {"id": "si_2"}]}}),
        );
        let none = subscription(serde_json::json!({"id": "sub_1", "status": "active"}));
        assert_eq!(item_to_change(&one, None).unwrap(), "si_1");
        assert_eq!(item_to_change(&two, Some("si_2")).unwrap(), "si_2");
        for (subscription, wanted) in [(&two, None), (&one, Some("si_9")), (&none, None)] {
            let error = item_to_change(subscription, wanted).unwrap_err();
            assert!(
                matches!(&error, PaymentError::InvalidRequest { field, gateway: None, .. } if field == "item_id"),
                "{error:?}"
            );
        }
    }

    #[test]
    fn payment_ids_name_their_kind() {
        assert_eq!(
            payment_source("pi_1").unwrap(),
            RefundSource::PaymentIntent("pi_1".into())
        );
        assert_eq!(
            payment_source("ch_1").unwrap(),
            RefundSource::Charge("ch_1".into())
        );
        assert_eq!(
            payment_source("py_1").unwrap(),
            RefundSource::Charge("py_1".into())
        );
        for id in ["cs_test_1", "in_1", "re_1", "pi", "tran_1"] {
            assert!(payment_source(id).is_err(), "{id}");
        }
    }

    #[test]
    fn the_paid_default_invoice_payment_is_refunded() {
        let invoice = |payments: serde_json::Value| -> InvoiceWithPayments {
            serde_json::from_value(
                serde_json::json!({"currency": "usd", "payments": {"data": payments}}),
            )
            .unwrap()
        };
        let paid = |id: &str, default: bool| serde_json::json!({"status": "paid", "is_default": default, "payment": {"type": "payment_intent", "payment_intent": id}});
        let chosen = invoice_payment_source(&invoice(serde_json::json!([
            {"status": "open", "is_default": true, "payment": {"type": "payment_intent", "payment_intent": "pi_open"}},
            paid("pi_first", false),
            paid("pi_default", true),
        ])))
        .unwrap();
        assert_eq!(chosen, RefundSource::PaymentIntent("pi_default".into()));
        let first =
            invoice_payment_source(&invoice(serde_json::json!([paid("pi_first", false)]))).unwrap();
        assert_eq!(first, RefundSource::PaymentIntent("pi_first".into()));
        let charge = invoice_payment_source(&invoice(serde_json::json!([
            {"status": "paid", "is_default": true, "payment": {"type": "charge", "charge": {"id": "ch_1", "object": "charge"}}},
        ])))
        .unwrap();
        assert_eq!(charge, RefundSource::Charge("ch_1".into()));
        for unpaid in [
            serde_json::json!([]),
            serde_json::json!([{"status": "canceled", "is_default": true, "payment": {"type": "payment_intent", "payment_intent": "pi_1"}}]),
            serde_json::json!([{"status": "paid", "is_default": true, "payment": {"type": "payment_record", "payment_record": "pr_1"}}]),
        ] {
            let error = invoice_payment_source(&invoice(unpaid.clone())).unwrap_err();
            assert!(
                matches!(error, PaymentError::InvalidState { .. }),
                "{unpaid}: {error:?}"
            );
        }
        let unexpanded: InvoiceWithPayments =
            serde_json::from_value(serde_json::json!({"id": "in_1"})).unwrap();
        assert!(matches!(
            invoice_payment_source(&unexpanded),
            Err(PaymentError::InvalidState { .. })
        ));
    }

    #[test]
    fn search_values_are_quoted_and_escaped() {
        assert_eq!(
            app_user_query("user_42"),
            "metadata['app_user_id']:'user_42'"
        );
        assert_eq!(
            app_user_query(r"o'brien\x"),
            r"metadata['app_user_id']:'o\'brien\\x'"
        );
    }

    #[test]
    fn refund_amounts_must_be_in_the_payments_currency() {
        assert!(check_refund_currency(Some(Currency::USD), Some("usd")).is_ok());
        assert!(check_refund_currency(None, Some("usd")).is_ok());
        assert!(check_refund_currency(Some(Currency::USD), None).is_ok());
        let error = check_refund_currency(Some(Currency::EUR), Some("usd")).unwrap_err();
        assert!(
            matches!(&error, PaymentError::InvalidRequest { field, .. } if field == "amount"),
            "{error:?}"
        );
        assert!(check_refund_currency(Some(Currency::EUR), Some("zzz")).is_err());
    }
}
