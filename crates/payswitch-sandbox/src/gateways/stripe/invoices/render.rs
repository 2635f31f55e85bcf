//! Invoices as Stripe's JSON, in the current API shape (2025-03-31.basil on): the
//! subscription under `parent.subscription_details`, payments under the includable `payments`
//! (`expand[]=payments`), line items with `parent` and `pricing`.

use serde_json::{json, Value};

use crate::gateways::stripe::objects::{Invoice, InvoiceLine, InvoiceStatus, ItemPrice};
use crate::gateways::stripe::prices;
use crate::state::State;

/// Renders an invoice's line as Stripe's `line_item` JSON.
pub(crate) fn render_line(invoice_id: &str, line: &InvoiceLine, discount: Option<&str>) -> Value {
    let discount_amounts: Vec<Value> = discount
        .filter(|_| line.discount_amount > 0)
        .map(|discount| json!({ "amount": line.discount_amount, "discount": discount }))
        .into_iter()
        .collect();
    let parent = match &line.subscription_item {
        Some(item) => json!({
            "invoice_item_details": null,
            "subscription_item_details": {
                "invoice_item": line.invoice_item,
                "proration": line.proration,
                "proration_details": { "credited_items": null },
                "subscription": line.subscription,
                "subscription_item": item,
            },
            "type": "subscription_item_details",
        }),
        None => json!({
            "invoice_item_details": {
                "invoice_item": line.invoice_item,
                "proration": line.proration,
                "proration_details": { "credited_items": null },
                "subscription": line.subscription,
            },
            "subscription_item_details": null,
            "type": "invoice_item_details",
        }),
    };
    json!({
        "id": line.id,
        "object": "line_item",
        "amount": line.amount,
        "currency": line.currency,
        "description": line.description,
        "discount_amounts": discount_amounts,
        "discountable": !line.proration,
        "discounts": [],
        "invoice": invoice_id,
        "livemode": false,
        "metadata": {},
        "parent": parent,
        "period": { "end": line.period_end, "start": line.period_start },
        "pretax_credit_amounts": [],
        // Stripe still sends the line's subscription at the top level (fixtures3).
        "subscription": line.subscription,
        "pricing": {
            "price_details": { "price": line.price.id, "product": line.price.product_id },
            "type": "price_details",
            "unit_amount_decimal": line.price.unit_amount.to_string(),
        },
        "quantity": line.quantity,
        "subtotal": line.amount,
        "taxes": [],
    })
}

/// Renders an invoice as Stripe's `invoice` JSON; `expand` may hold `payments`.
pub(crate) fn render(state: &State, invoice: &Invoice, expand: &[String]) -> Value {
    let lines: Vec<Value> = invoice
        .lines
        .iter()
        .map(|line| render_line(&invoice.id, line, invoice.discount.as_deref()))
        .collect();
    let discount_total = invoice.discount_total();
    let total_discount_amounts: Vec<Value> = invoice
        .discount
        .iter()
        .filter(|_| discount_total > 0)
        .map(|discount| json!({ "amount": discount_total, "discount": discount }))
        .collect();
    let parent = invoice.subscription.as_ref().map(|subscription| {
        json!({
            "quote_details": null,
            "subscription_details": {
                "metadata": state
                    .stripe
                    .subscriptions
                    .get(subscription)
                    .map(|subscription| json!(subscription.metadata)),
                "subscription": subscription,
            },
            "type": "subscription_details",
        })
    });
    let finalized = invoice.finalized_at.is_some();
    // Stripe advances a draft by itself until it is finalized, and an open invoice while the
    // retry schedule has an attempt ahead.
    let auto_advance = match invoice.status {
        InvoiceStatus::Draft => invoice.finalizes_at.is_some(),
        InvoiceStatus::Open => invoice.next_payment_attempt.is_some(),
        InvoiceStatus::Paid | InvoiceStatus::Uncollectible | InvoiceStatus::Void => false,
    };
    let mut value = json!({
        "id": invoice.id,
        "object": "invoice",
        "account_country": "US",
        "account_name": "payswitch sandbox",
        "account_tax_ids": null,
        "amount_due": invoice.amount_due(),
        "amount_overpaid": 0,
        "amount_paid": invoice.amount_paid(),
        "amount_remaining": invoice.amount_due() - invoice.amount_paid(),
        "amount_shipping": 0,
        "application": null,
        "attempt_count": invoice.attempt_count,
        "attempted": invoice.attempted,
        "auto_advance": auto_advance,
        "automatic_tax": {
            "disabled_reason": null, "enabled": false, "liability": null,
            "provider": null, "status": null,
        },
        "automatically_finalizes_at": invoice.finalizes_at,
        "billing_reason": invoice.billing_reason,
        "collection_method": "charge_automatically",
        "confirmation_secret": null,
        "created": invoice.created,
        "currency": invoice.currency,
        "custom_fields": null,
        "customer": invoice.customer,
        "customer_account": null,
        "customer_address": null,
        "customer_email": invoice.customer_email,
        "customer_name": invoice.customer_name,
        "customer_phone": null,
        "customer_shipping": null,
        "customer_tax_exempt": "none",
        "customer_tax_ids": [],
        "default_payment_method": null,
        "default_source": null,
        "default_tax_rates": [],
        "description": null,
        "discounts": invoice.discount.iter().collect::<Vec<_>>(),
        "due_date": null,
        "effective_at": invoice.finalized_at,
        "ending_balance": finalized.then_some(0),
        "footer": null,
        "from_invoice": null,
        "hosted_invoice_url": null,
        "invoice_pdf": null,
        "issuer": { "type": "self" },
        "last_finalization_error": null,
        "latest_revision": null,
        "lines": {
            "object": "list",
            "data": lines,
            "has_more": false,
            "url": format!("/v1/invoices/{}/lines", invoice.id),
        },
        "livemode": false,
        "metadata": {},
        "next_payment_attempt": invoice.next_payment_attempt,
        "number": invoice.number,
        "on_behalf_of": null,
        "parent": parent,
        "payment_settings": {
            "default_mandate": null,
            "payment_method_options": null,
            "payment_method_types": null,
        },
        "period_end": invoice.period_end,
        "period_start": invoice.period_start,
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "receipt_number": null,
        "rendering": null,
        "shipping_cost": null,
        "shipping_details": null,
        "starting_balance": 0,
        "statement_descriptor": null,
        "status": invoice.status.as_str(),
        "status_transitions": {
            "finalized_at": invoice.finalized_at,
            "marked_uncollectible_at": invoice.marked_uncollectible_at,
            "paid_at": invoice.paid_at,
            "voided_at": invoice.voided_at,
        },
        "subtotal": invoice.subtotal(),
        "subtotal_excluding_tax": invoice.subtotal(),
        "test_clock": null,
        "total": invoice.total(),
        "total_discount_amounts": total_discount_amounts,
        "total_excluding_tax": invoice.total(),
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
        "webhooks_delivered_at": finalized.then_some(invoice.created),
    });
    if expand.iter().any(|field| field == "payments") {
        if let Some(object) = value.as_object_mut() {
            object.insert("payments".into(), render_payments(invoice));
        }
    }
    value
}

/// The includable `payments` list: the PaymentIntent that paid the invoice.
fn render_payments(invoice: &Invoice) -> Value {
    let data: Vec<Value> = invoice
        .payment_intent
        .iter()
        .map(|intent| {
            json!({
                "id": format!("inpay_{}", invoice.id.trim_start_matches("in_")),
                "object": "invoice_payment",
                "amount_paid": invoice.amount_paid(),
                "amount_requested": invoice.amount_due(),
                "created": invoice.created,
                "currency": invoice.currency,
                "invoice": invoice.id,
                "is_default": true,
                "livemode": false,
                "payment": { "payment_intent": intent, "type": "payment_intent" },
                "status": if invoice.status == InvoiceStatus::Paid { "paid" } else { "open" },
                "status_transitions": { "canceled_at": null, "paid_at": invoice.paid_at },
            })
        })
        .collect();
    json!({
        "object": "list",
        "data": data,
        "has_more": false,
        "url": "/v1/invoice_payments",
    })
}

/// Renders the price of a subscription item or line: the catalog price as it is now, or the
/// copy kept with the item (a `price_data` price is not in the catalog).
pub(crate) fn render_price(state: &State, price: &ItemPrice) -> Value {
    if let Some(catalog) = state.stripe.prices.get(&price.id) {
        return prices::render(catalog);
    }
    prices::render_inline(&prices::InlinePrice {
        id: &price.id,
        product_id: &price.product_id,
        currency: &price.currency,
        unit_amount: price.unit_amount,
        recurring: price.recurring.as_ref(),
        tax_behavior: "unspecified",
        created: price.created,
    })
}
