//! Subscriptions as Stripe's JSON (2026-01-28.clover shape): flexible billing mode, the
//! current period on each item, `cancellation_details`, `pause_collection`; `expand[]` of
//! `customer`, `discounts` and `latest_invoice`.

use serde_json::{json, Value};

use crate::gateways::stripe::invoices::render::{render as render_invoice, render_price};
use crate::gateways::stripe::objects::{
    Subscription, SubscriptionDiscount, SubscriptionItem, TrialEndBehavior,
};
use crate::gateways::stripe::{customers, prices};
use crate::state::State;

/// The fields `expand[]` may name on a subscription.
pub(crate) const EXPANSIONS: &[&str] = &["customer", "discounts", "latest_invoice"];

/// Renders the subscription's discount as Stripe's `discount` JSON (clover shape: the coupon
/// under `source`).
fn render_discount(subscription: &Subscription, discount: &SubscriptionDiscount) -> Value {
    json!({
        "id": discount.id,
        "object": "discount",
        "checkout_session": null,
        "customer": subscription.customer,
        "customer_account": null,
        "end": discount.end,
        "invoice": null,
        "invoice_item": null,
        "promotion_code": discount.promotion_code,
        "source": { "coupon": discount.coupon_id, "type": "coupon" },
        "start": discount.start,
        "subscription": subscription.id,
        "subscription_item": null,
    })
}

/// Renders a subscription item as Stripe's `subscription_item` JSON.
pub(crate) fn render_item(state: &State, subscription: &str, item: &SubscriptionItem) -> Value {
    let price = render_price(state, &item.price);
    json!({
        "id": item.id,
        "object": "subscription_item",
        "billing_thresholds": null,
        "created": item.created,
        "current_period_end": item.current_period_end,
        "current_period_start": item.current_period_start,
        "discounts": [],
        "metadata": item.metadata,
        // Stripe still sends the legacy plan beside the price (fixtures3; async-stripe needs it).
        "plan": prices::plan_of(&price),
        "price": price,
        "quantity": item.quantity,
        "subscription": subscription,
        "tax_rates": [],
    })
}

/// Renders a subscription as Stripe's `subscription` JSON.
pub(crate) fn render(state: &State, subscription: &Subscription, expand: &[String]) -> Value {
    let items: Vec<Value> = subscription
        .items
        .iter()
        .map(|item| render_item(state, &subscription.id, item))
        .collect();
    let pause_collection = subscription
        .pause_collection
        .as_ref()
        .map(|pause| json!({ "behavior": pause.behavior, "resumes_at": pause.resumes_at }));
    let missing_payment_method = match subscription.trial_end_behavior {
        TrialEndBehavior::CreateInvoice => "create_invoice",
        TrialEndBehavior::Pause => "pause",
        TrialEndBehavior::Cancel => "cancel",
    };
    let mut value = json!({
        "id": subscription.id,
        "object": "subscription",
        "application": null,
        "application_fee_percent": null,
        "automatic_tax": { "disabled_reason": null, "enabled": false, "liability": null },
        "billing_cycle_anchor": subscription.billing_cycle_anchor,
        "billing_cycle_anchor_config": null,
        // Newer than the spec's version; Stripe sends it (fixtures3), async-stripe needs it.
        "billing_schedules": [],
        "billing_mode": {
            "flexible": { "proration_discounts": "included" },
            "type": "flexible",
            "updated_at": subscription.created,
        },
        "billing_thresholds": null,
        "cancel_at": subscription.cancel_at,
        "cancel_at_period_end": subscription.cancel_at_period_end,
        "canceled_at": subscription.canceled_at,
        "cancellation_details": {
            "comment": subscription.cancellation_comment,
            "feedback": subscription.cancellation_feedback,
            "reason": subscription.cancellation_reason,
        },
        "collection_method": "charge_automatically",
        "created": subscription.created,
        "currency": subscription.currency,
        "customer": subscription.customer,
        "customer_account": null,
        "days_until_due": null,
        "default_payment_method": subscription.default_payment_method,
        "default_source": null,
        "default_tax_rates": [],
        "description": subscription.description,
        "discounts": subscription.discount.iter().map(|discount| &discount.id).collect::<Vec<_>>(),
        "ended_at": subscription.ended_at,
        "invoice_settings": { "account_tax_ids": null, "issuer": { "type": "self" } },
        "items": {
            "object": "list",
            "data": items,
            "has_more": false,
            "url": format!("/v1/subscription_items?subscription={}", subscription.id),
        },
        "latest_invoice": subscription.latest_invoice,
        "livemode": false,
        "metadata": subscription.metadata,
        "next_pending_invoice_item_invoice": null,
        "on_behalf_of": null,
        "pause_collection": pause_collection,
        "payment_settings": {
            "payment_method_options": null,
            "payment_method_types": null,
            "save_default_payment_method": "off",
        },
        "pending_invoice_item_interval": null,
        "pending_setup_intent": null,
        "pending_update": null,
        "schedule": null,
        "start_date": subscription.start_date,
        "status": subscription.status.as_str(),
        "test_clock": null,
        "transfer_data": null,
        "trial_end": subscription.trial_end,
        "trial_settings": { "end_behavior": { "missing_payment_method": missing_payment_method } },
        "trial_start": subscription.trial_start,
    });
    if let Some(object) = value.as_object_mut() {
        if expand.iter().any(|field| field == "customer") {
            if let Some(customer) = state.stripe.customers.get(&subscription.customer) {
                object.insert("customer".into(), customers::render(customer));
            }
        }
        if expand.iter().any(|field| field == "discounts") {
            let discounts: Vec<Value> = subscription
                .discount
                .iter()
                .map(|discount| render_discount(subscription, discount))
                .collect();
            object.insert("discounts".into(), json!(discounts));
        }
        if expand.iter().any(|field| field == "latest_invoice") {
            if let Some(invoice) = subscription
                .latest_invoice
                .as_ref()
                .and_then(|id| state.stripe.invoices.get(id))
            {
                object.insert("latest_invoice".into(), render_invoice(state, invoice, &[]));
            }
        }
    }
    value
}
