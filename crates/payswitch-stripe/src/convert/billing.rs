//! Stripe's billing objects normalized (subscriptions, refunds, customers, portal sessions,
//! previews), and payswitch's billing requests mapped to Stripe's parameters, with exhaustive
//! matches over Stripe's enums.

use std::sync::Arc;

use payswitch_core::request::validate_metadata;
use payswitch_core::{
    Catalog, Currency, Customer, CustomerRequest, PaymentError, PortalSession, Product, Proration,
    RawJson, Refund, RefundReason, RefundRequest, RefundStatus, Subscription,
    SubscriptionChangePreview, SubscriptionItem, SubscriptionStatus,
};
use serde::Deserialize;

use crate::config::{KIND, SUBSCRIPTION_REFERENCE_KEY};
use crate::convert::{unix_time, unknown_currency};
use crate::currency::{from_wire, to_wire};
use crate::wire::billing::{
    self as wire, CreateCustomerParams, InvoiceTotals, ProrationBehavior, RefundTerms,
};
use crate::wire::{self as wire_core, EventType};

/// Normalizes a subscription's status. `collection_paused` is `pause_collection` being set,
/// which Stripe applies without changing the status: an `active` subscription whose
/// collection is paused is reported as [`SubscriptionStatus::Paused`].
pub(crate) fn subscription_status(
    status: &wire_core::SubscriptionStatus,
    collection_paused: bool,
) -> SubscriptionStatus {
    match status {
        wire_core::SubscriptionStatus::Incomplete => SubscriptionStatus::Incomplete,
        wire_core::SubscriptionStatus::IncompleteExpired => SubscriptionStatus::Expired,
        wire_core::SubscriptionStatus::Trialing => SubscriptionStatus::Trialing,
        wire_core::SubscriptionStatus::Active if collection_paused => SubscriptionStatus::Paused,
        wire_core::SubscriptionStatus::Active => SubscriptionStatus::Active,
        wire_core::SubscriptionStatus::PastDue => SubscriptionStatus::PastDue,
        wire_core::SubscriptionStatus::Canceled => SubscriptionStatus::Canceled,
        wire_core::SubscriptionStatus::Unpaid => SubscriptionStatus::Unpaid,
        wire_core::SubscriptionStatus::Paused => SubscriptionStatus::Paused,
        wire_core::SubscriptionStatus::Unknown(other) => SubscriptionStatus::Other(other.clone()),
    }
}

/// Says whether a subscription has ended for good: Stripe refuses every change to it but
/// metadata (canceled), or it never started (incomplete_expired). An unknown status is not
/// assumed ended: Stripe decides.
pub(crate) fn is_ended(status: &wire_core::SubscriptionStatus) -> bool {
    match status {
        wire_core::SubscriptionStatus::Canceled
        | wire_core::SubscriptionStatus::IncompleteExpired => true,
        wire_core::SubscriptionStatus::Incomplete
        | wire_core::SubscriptionStatus::Trialing
        | wire_core::SubscriptionStatus::Active
        | wire_core::SubscriptionStatus::PastDue
        | wire_core::SubscriptionStatus::Unpaid
        | wire_core::SubscriptionStatus::Paused
        | wire_core::SubscriptionStatus::Unknown(_) => false,
    }
}

/// Normalizes a subscription.
///
/// The current period is read from the items (where `2025-03-31.basil` moved it): the
/// earliest start and the latest end when items differ, else the top-level fields an older
/// version's payload carries. The reference comes out of the metadata under
/// [`SUBSCRIPTION_REFERENCE_KEY`].
pub(crate) fn subscription(subscription: wire::Subscription, raw: RawJson) -> Subscription {
    let collection_paused = subscription.pause_collection.is_some();
    let status = subscription_status(&subscription.status, collection_paused);
    let items = subscription
        .items
        .map(|items| items.data)
        .unwrap_or_default();
    let period_start = items
        .iter()
        .filter_map(|item| item.current_period_start)
        .min()
        .or(subscription.current_period_start);
    let period_end = items
        .iter()
        .filter_map(|item| item.current_period_end)
        .max()
        .or(subscription.current_period_end);
    let mut metadata = subscription.metadata.unwrap_or_default();
    let mut result = Subscription::new(subscription.id, KIND, status);
    result.reference = metadata.remove(SUBSCRIPTION_REFERENCE_KEY);
    result.metadata = metadata;
    result.customer_id = subscription
        .customer
        .map(|customer| customer.id().to_owned());
    result.items = items.into_iter().map(subscription_item).collect();
    result.current_period_start = period_start.and_then(unix_time);
    result.current_period_end = period_end.and_then(unix_time);
    result.trial_end = subscription.trial_end.and_then(unix_time);
    result.cancel_at_period_end = subscription.cancel_at_period_end.unwrap_or(false);
    result.cancel_at = subscription.cancel_at.and_then(unix_time);
    result.canceled_at = subscription.canceled_at.and_then(unix_time);
    result.ended_at = subscription.ended_at.and_then(unix_time);
    result.created_at = subscription.created.and_then(unix_time);
    result.raw = raw;
    result
}

/// Normalizes an item. A price without a fixed amount (tiered, metered) or in a currency
/// payswitch cannot hold has no `unit_amount`; an item without a quantity (metered prices
/// have none) counts as Stripe's default, 1.
fn subscription_item(item: wire::SubscriptionItem) -> SubscriptionItem {
    let quantity = item
        .quantity
        .map_or(1, |quantity| u32::try_from(quantity).unwrap_or(u32::MAX));
    let mut result = SubscriptionItem::new(quantity);
    if let Some(price) = item.price {
        result.unit_amount = match (price.unit_amount, price.currency.as_deref()) {
            (Some(amount), Some(code)) => Currency::new(code)
                .ok()
                .and_then(|currency| from_wire(amount, currency, "subscription_item").ok()),
            (Some(_), None) | (None, _) => None,
        };
        result.product_id = price.product.map(|product| product.id().to_owned());
        result.price_id = Some(price.id);
    }
    result.id = Some(item.id);
    result
}

/// Normalizes a refund status. `null` (the spec allows it) is `Pending`: a refund is never
/// reported as settled unless Stripe says so.
fn refund_status(status: Option<&wire::RefundStatus>) -> RefundStatus {
    match status {
        Some(wire::RefundStatus::Pending) | None => RefundStatus::Pending,
        Some(wire::RefundStatus::RequiresAction) => RefundStatus::RequiresAction,
        Some(wire::RefundStatus::Succeeded) => RefundStatus::Succeeded,
        Some(wire::RefundStatus::Failed) => RefundStatus::Failed,
        Some(wire::RefundStatus::Canceled) => RefundStatus::Canceled,
        Some(wire::RefundStatus::Unknown(other)) => RefundStatus::Other(other.clone()),
    }
}

/// Normalizes a refund reason; Stripe's own `expired_uncaptured_charge` has no portable
/// counterpart and stays as Stripe spells it.
fn refund_reason(reason: &wire::RefundReason) -> RefundReason {
    match reason {
        wire::RefundReason::Duplicate => RefundReason::Duplicate,
        wire::RefundReason::Fraudulent => RefundReason::Fraudulent,
        wire::RefundReason::RequestedByCustomer => RefundReason::RequestedByCustomer,
        wire::RefundReason::ExpiredUncapturedCharge | wire::RefundReason::Unknown(_) => {
            RefundReason::Other(reason.as_str().to_owned())
        }
    }
}

/// Normalizes a refund. `payment_id` is the PaymentIntent, or the charge for a payment
/// made without one.
pub(crate) fn refund(refund: wire::Refund, raw: RawJson) -> Refund {
    let mut result = Refund::new(refund.id, KIND, refund_status(refund.status.as_ref()));
    result.amount = match (refund.amount, refund.currency.as_deref()) {
        (Some(amount), Some(code)) => Currency::new(code)
            .ok()
            .and_then(|currency| from_wire(amount, currency, "refund").ok()),
        (Some(_), None) | (None, _) => None,
    };
    result.payment_id = refund
        .payment_intent
        .or(refund.charge)
        .map(|payment| payment.id().to_owned());
    result.reason = refund.reason.as_ref().map(refund_reason);
    result.created_at = refund.created.and_then(unix_time);
    result.metadata = refund.metadata.unwrap_or_default();
    result.raw = raw;
    result
}

/// Normalizes a customer; a deleted one (`{"deleted": true}`) is `NotFound`.
pub(crate) fn customer(customer: wire::Customer, raw: RawJson) -> Result<Customer, PaymentError> {
    if customer.deleted {
        return Err(PaymentError::NotFound {
            id: customer.id,
            gateway: None,
        });
    }
    let mut result = Customer::new(customer.id, KIND, customer.metadata.unwrap_or_default());
    result.email = customer.email;
    result.name = customer.name;
    result.created_at = customer.created.and_then(unix_time);
    result.raw = raw;
    Ok(result)
}

/// Normalizes a customer-portal session opened for `customer_id`.
pub(crate) fn portal_session(
    session: wire::PortalSession,
    customer_id: &str,
    raw: RawJson,
) -> PortalSession {
    let customer = session.customer.unwrap_or_else(|| customer_id.to_owned());
    let mut result = PortalSession::new(KIND, customer, session.url);
    result.return_url = session.return_url;
    result.raw = raw;
    result
}

/// Reads a preview invoice's totals, in Stripe's wire exponent for its currency.
pub(crate) fn change_preview(
    subscription_id: &str,
    totals: InvoiceTotals,
    raw: RawJson,
) -> Result<SubscriptionChangePreview, PaymentError> {
    let currency = Currency::new(&totals.currency).map_err(|_| unknown_currency("invoice"))?;
    let mut preview = SubscriptionChangePreview::new(
        KIND,
        subscription_id,
        from_wire(totals.amount_due, currency, "invoice")?,
        from_wire(totals.total, currency, "invoice")?,
    );
    preview.raw = raw;
    Ok(preview)
}

/// Stripe's `proration_behavior` for a change.
pub(crate) fn proration_behavior(proration: Proration) -> ProrationBehavior {
    match proration {
        Proration::Prorate => ProrationBehavior::CreateProrations,
        Proration::NoProration => ProrationBehavior::NoProrations,
        Proration::InvoiceNow => ProrationBehavior::AlwaysInvoice,
    }
}

/// The price id a plan change moves to: a catalog SKU resolved like a checkout's line items
/// (a SKU without a Stripe id is refused locally), a native id as is.
pub(crate) fn plan_price(
    plan: Option<&Product>,
    catalog: &Catalog,
) -> Result<Option<String>, PaymentError> {
    match plan {
        None => Ok(None),
        Some(Product::Native(price)) => Ok(Some(price.clone())),
        Some(Product::Sku(sku)) => match catalog.resolve(sku, KIND) {
            Some(price) => Ok(Some(price.to_owned())),
            None if catalog.skus().any(|known| known == sku) => Err(PaymentError::invalid(
                "plan",
                format!("SKU {sku:?} has no {KIND} id in the catalog"),
            )),
            None => Err(PaymentError::invalid(
                "plan",
                format!("SKU {sku:?} is not in the catalog"),
            )),
        },
        Some(Product::Custom(_)) => Err(PaymentError::invalid(
            "plan",
            "a plan change takes a catalog SKU or a Stripe price id, not a custom-priced product",
        )),
    }
}

/// What a refund request sends besides its payment, checked against Stripe's limits: the
/// amount in Stripe's exponent for its currency (which the caller checks is the payment's),
/// the metadata and the reason.
pub(crate) fn refund_terms(request: &RefundRequest) -> Result<RefundTerms, PaymentError> {
    validate_metadata(&request.metadata)?;
    let reason = match &request.reason {
        None => None,
        Some(RefundReason::Duplicate) => Some(wire::RefundReason::Duplicate),
        Some(RefundReason::Fraudulent) => Some(wire::RefundReason::Fraudulent),
        Some(RefundReason::RequestedByCustomer) => Some(wire::RefundReason::RequestedByCustomer),
        // `RefundReason` is non-exhaustive (core's, not Stripe's): a reason added later is
        // refused rather than guessed.
        Some(other) => {
            return Err(PaymentError::invalid(
                "reason",
                format!("{other:?} is not a reason a Stripe refund request can carry"),
            ))
        }
    };
    Ok(RefundTerms {
        amount: request
            .amount
            .map(|amount| to_wire(amount, "amount"))
            .transpose()?,
        metadata: request.metadata.clone(),
        reason,
    })
}

/// The create parameters for a customer: email, name, and the metadata with the app user id
/// under [`payswitch_core::APP_USER_ID_KEY`], within Stripe's metadata limits.
pub(crate) fn customer_params(
    request: &CustomerRequest,
) -> Result<CreateCustomerParams, PaymentError> {
    request.validate()?;
    let metadata = request.gateway_metadata();
    validate_metadata(&metadata)?;
    Ok(CreateCustomerParams {
        email: request.email.clone(),
        metadata,
        name: request.name.clone(),
    })
}

/// Where an event carries a subscription object: the object itself for subscription
/// events; for invoice events only when the invoice holds its subscription expanded
/// (`parent.subscription_details.subscription`, or `subscription` in versions before basil).
fn subscription_pointer(event_type: &EventType, root: &serde_json::Value) -> Option<&'static str> {
    const OBJECT: &str = "/data/object";
    const INVOICE_PARENT: &str = "/data/object/parent/subscription_details/subscription";
    const INVOICE_LEGACY: &str = "/data/object/subscription";
    let expanded = |pointer: &&str| {
        root.pointer(pointer)
            .is_some_and(|value| value.get("object") == Some(&"subscription".into()))
    };
    match event_type {
        EventType::CustomerSubscriptionCreated
        | EventType::CustomerSubscriptionUpdated
        | EventType::CustomerSubscriptionResumed
        | EventType::CustomerSubscriptionDeleted
        | EventType::CustomerSubscriptionPaused
        | EventType::CustomerSubscriptionTrialWillEnd
        | EventType::CustomerSubscriptionPendingUpdateApplied
        | EventType::CustomerSubscriptionPendingUpdateExpired => Some(OBJECT),
        EventType::InvoicePaid
        | EventType::InvoicePaymentSucceeded
        | EventType::InvoicePaymentFailed => {
            [INVOICE_PARENT, INVOICE_LEGACY].into_iter().find(expanded)
        }
        EventType::Unknown(name) if name.starts_with("customer.subscription.") => Some(OBJECT),
        EventType::CheckoutSessionCompleted
        | EventType::CheckoutSessionAsyncPaymentSucceeded
        | EventType::CheckoutSessionAsyncPaymentFailed
        | EventType::CheckoutSessionExpired
        | EventType::PaymentIntentSucceeded
        | EventType::PaymentIntentPaymentFailed
        | EventType::ChargeRefunded
        | EventType::RefundCreated
        | EventType::RefundUpdated
        | EventType::RefundFailed
        | EventType::ChargeDisputeCreated
        | EventType::Unknown(_) => None,
    }
}

/// Where an event carries a refund: the object of `refund.*` events; for `charge.refunded`,
/// the charge's latest refund (its `refunds` list is newest first, and present only when the
/// event's version includes it).
fn refund_pointer(event_type: &EventType) -> Option<&'static str> {
    match event_type {
        EventType::RefundCreated | EventType::RefundUpdated | EventType::RefundFailed => {
            Some("/data/object")
        }
        EventType::ChargeRefunded => Some("/data/object/refunds/data/0"),
        EventType::Unknown(name) if name.starts_with("refund.") => Some("/data/object"),
        EventType::CheckoutSessionCompleted
        | EventType::CheckoutSessionAsyncPaymentSucceeded
        | EventType::CheckoutSessionAsyncPaymentFailed
        | EventType::CheckoutSessionExpired
        | EventType::PaymentIntentSucceeded
        | EventType::PaymentIntentPaymentFailed
        | EventType::ChargeDisputeCreated
        | EventType::CustomerSubscriptionCreated
        | EventType::CustomerSubscriptionUpdated
        | EventType::CustomerSubscriptionResumed
        | EventType::CustomerSubscriptionDeleted
        | EventType::CustomerSubscriptionPaused
        | EventType::CustomerSubscriptionTrialWillEnd
        | EventType::CustomerSubscriptionPendingUpdateApplied
        | EventType::CustomerSubscriptionPendingUpdateExpired
        | EventType::InvoicePaid
        | EventType::InvoicePaymentSucceeded
        | EventType::InvoicePaymentFailed
        | EventType::Unknown(_) => None,
    }
}

/// The subscription an event carries, normalized, its `raw` pointing into the event's. An
/// object that does not decode is left out (and logged): the event is still delivered.
pub(crate) fn event_subscription(
    event_type: &EventType,
    root: &Arc<serde_json::Value>,
) -> Option<Subscription> {
    let pointer = subscription_pointer(event_type, root)?;
    let object = root.pointer(pointer)?;
    match wire::Subscription::deserialize(object) {
        Ok(decoded) => Some(subscription(decoded, RawJson::at(root, pointer))),
        Err(error) => {
            tracing::warn!(
                event_type = ?event_type.as_str(),
                line = error.line(),
                column = error.column(),
                "the subscription in a verified event does not decode; delivered without subscription"
            );
            None
        }
    }
}

/// The refund an event carries, normalized, like [`event_subscription`].
pub(crate) fn event_refund(
    event_type: &EventType,
    root: &Arc<serde_json::Value>,
) -> Option<Refund> {
    let pointer = refund_pointer(event_type)?;
    let object = root.pointer(pointer)?;
    match wire::Refund::deserialize(object) {
        Ok(decoded) => Some(refund(decoded, RawJson::at(root, pointer))),
        Err(error) => {
            tracing::warn!(
                event_type = ?event_type.as_str(),
                line = error.line(),
                column = error.column(),
                "the refund in a verified event does not decode; delivered without refund"
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subscription_status_has_its_place() {
        use wire_core::SubscriptionStatus as Wire;
        let table = [
            (Wire::Incomplete, false, SubscriptionStatus::Incomplete),
            (Wire::IncompleteExpired, false, SubscriptionStatus::Expired),
            (Wire::Trialing, false, SubscriptionStatus::Trialing),
            (Wire::Active, false, SubscriptionStatus::Active),
            (Wire::Active, true, SubscriptionStatus::Paused),
            (Wire::PastDue, false, SubscriptionStatus::PastDue),
            (Wire::PastDue, true, SubscriptionStatus::PastDue),
            (Wire::Canceled, false, SubscriptionStatus::Canceled),
            (Wire::Unpaid, false, SubscriptionStatus::Unpaid),
            (Wire::Paused, false, SubscriptionStatus::Paused),
            (
                Wire::Unknown("hibernating".into()),
                false,
                SubscriptionStatus::Other("hibernating".into()),
            ),
        ];
        for (wire, paused, expected) in table {
            assert_eq!(subscription_status(&wire, paused), expected, "{wire:?}");
        }
        assert!(is_ended(&Wire::Canceled) && is_ended(&Wire::IncompleteExpired));
        assert!(!is_ended(&Wire::Unknown("x".into())) && !is_ended(&Wire::Paused));
    }

    #[test]
    fn every_refund_status_and_reason_has_its_place() {
        use wire::RefundStatus as Wire;
        let table = [
            (None, RefundStatus::Pending),
            (Some(Wire::Pending), RefundStatus::Pending),
            (Some(Wire::RequiresAction), RefundStatus::RequiresAction),
            (Some(Wire::Succeeded), RefundStatus::Succeeded),
            (Some(Wire::Failed), RefundStatus::Failed),
            (Some(Wire::Canceled), RefundStatus::Canceled),
            (
                Some(Wire::Unknown("reversed".into())),
                RefundStatus::Other("reversed".into()),
            ),
        ];
        for (wire, expected) in table {
            assert_eq!(refund_status(wire.as_ref()), expected, "{wire:?}");
        }
        assert_eq!(
            refund_reason(&wire::RefundReason::ExpiredUncapturedCharge),
            RefundReason::Other("expired_uncaptured_charge".into())
        );
        assert_eq!(
            refund_reason(&wire::RefundReason::Fraudulent),
            RefundReason::Fraudulent
        );
    }

    #[test]
    fn prorations_map_one_to_one() {
        assert_eq!(
            proration_behavior(Proration::Prorate),
            ProrationBehavior::CreateProrations
        );
        assert_eq!(
            proration_behavior(Proration::NoProration),
            ProrationBehavior::NoProrations
        );
        assert_eq!(
            proration_behavior(Proration::InvoiceNow),
            ProrationBehavior::AlwaysInvoice
        );
    }

    #[test]
    fn the_period_spans_the_items_and_falls_back_to_the_top_level() {
        let decode = |json: serde_json::Value| {
            let decoded: wire::Subscription = serde_json::from_value(json).unwrap();
            subscription(decoded, RawJson::default())
        };
        let spanning = decode(serde_json::json!({
            "id": "sub_1", "status": "active",
            "items": {"data": [
                {"id": "si_1", "current_period_start": 200, "current_period_end": 900},
                {"id": "si_2", "current_period_start": 100, "current_period_end": 1000},
            ]},
            "current_period_start": 1, "current_period_end": 2,
        }));
        assert_eq!(spanning.current_period_start.unwrap().unix_timestamp(), 100);
        assert_eq!(spanning.current_period_end.unwrap().unix_timestamp(), 1000);
        assert_eq!(spanning.quantity(), None);
        let legacy = decode(serde_json::json!({
            "id": "sub_2", "status": "trialing",
            "items": {"data": [{"id": "si_1", "quantity": 3}]},
            "current_period_start": 10, "current_period_end": 20,
            "metadata": {"payswitch_reference": "order-1", "plan": "pro"},
        }));
        assert_eq!(legacy.current_period_start.unwrap().unix_timestamp(), 10);
        assert_eq!(legacy.current_period_end.unwrap().unix_timestamp(), 20);
        assert_eq!(legacy.quantity(), Some(3));
        assert_eq!(legacy.reference.as_deref(), Some("order-1"));
        assert!(!legacy.metadata.contains_key(SUBSCRIPTION_REFERENCE_KEY));
    }
}
