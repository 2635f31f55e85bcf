//! The read side of Stripe Checkout Sessions: JSON rendering (fixtures3
//! shapes), retrieve, list with cursors, line items, and the hosted page's view.

use http::StatusCode;
use serde_json::{json, Value};

use crate::app::App;
use crate::checkout::{CheckoutStatus, PageView};
use crate::gateways::stripe::currencies;
use crate::gateways::stripe::error::{Failure, Outcome};
use crate::gateways::stripe::form::Params;
use crate::gateways::stripe::lists::paginate;
use crate::gateways::stripe::objects::{DelayedPayment, LineItem, Session};
use crate::gateways::stripe::params::{
    check_expand, expand_list, one_of, range, reject_unknown, text,
};
use crate::gateways::stripe::{payment_intents, prices, setup_intents};
use crate::state::State;

/// The fields of a session that `expand[]` can fill in.
pub(crate) const EXPANDABLE: &[&str] = &["line_items", "payment_intent", "setup_intent"];

/// Renders a session as Stripe's `checkout.session` JSON.
pub(crate) fn render(app: &App, state: &State, session: &Session, expand: &[String]) -> Value {
    let mut value = render_core(app, session);
    if let Some(object) = value.as_object_mut() {
        if expand.iter().any(|field| field == "line_items") {
            let items: Vec<Value> = session
                .line_items
                .iter()
                .map(|item| render_item(state, item))
                .collect();
            object.insert(
                "line_items".into(),
                json!({
                    "object": "list",
                    "data": items,
                    "has_more": false,
                    "url": format!("/v1/checkout/sessions/{}/line_items", session.id),
                }),
            );
        }
        if expand.iter().any(|field| field == "payment_intent") {
            if let Some(intent) = session
                .payment_intent
                .as_ref()
                .and_then(|id| state.stripe.payment_intents.get(id))
            {
                object.insert("payment_intent".into(), payment_intents::render(intent));
            }
        }
        if expand.iter().any(|field| field == "setup_intent") {
            if let Some(intent) = session
                .setup_intent
                .as_ref()
                .and_then(|id| state.stripe.setup_intents.get(id))
            {
                object.insert("setup_intent".into(), setup_intents::render(intent));
            }
        }
    }
    value
}

/// `payment_status`: a completed session that charged nothing (setup mode, or a no-cost
/// order) needed no payment; one paid by a delayed method is `unpaid` until it succeeds.
fn payment_status(session: &Session) -> &'static str {
    match session.status {
        _ if session.mode == "setup" => "no_payment_required",
        CheckoutStatus::Complete if session.amount_total == 0 => "no_payment_required",
        CheckoutStatus::Complete => match session.delayed_payment {
            Some(DelayedPayment::Processing | DelayedPayment::Failed) => "unpaid",
            Some(DelayedPayment::Succeeded) | None => "paid",
        },
        CheckoutStatus::Open | CheckoutStatus::Expired => "unpaid",
    }
}

/// The session's own fields, nothing expanded.
fn render_core(app: &App, session: &Session) -> Value {
    let open = session.status == CheckoutStatus::Open;
    let url = (open && !session.embedded).then(|| format!("{}/pay/{}", app.base_url, session.id));
    let status = match session.status {
        CheckoutStatus::Open => "open",
        CheckoutStatus::Complete => "complete",
        CheckoutStatus::Expired => "expired",
    };
    let email = session
        .paid_email
        .as_ref()
        .or(session.customer_email.as_ref());
    let customer_details = email.map(|email| {
        json!({
            "address": null, "email": email, "name": null, "phone": null,
            "tax_exempt": "none", "tax_ids": [],
        })
    });
    let discounts: Vec<Value> = session
        .discounts
        .iter()
        .map(|discount| {
            json!({ "coupon": discount.coupon_id, "promotion_code": discount.promotion_code })
        })
        .collect();
    let charges = session.mode != "setup";
    let payment = session.mode == "payment";
    let complete = session.status == CheckoutStatus::Complete;
    let mut value = json!({
        "id": session.id,
        "object": "checkout.session",
        "adaptive_pricing": payment.then(|| json!({ "enabled": false })),
        "after_expiration": null,
        "allow_promotion_codes": session.allow_promotion_codes,
        "amount_subtotal": charges.then_some(session.amount_subtotal),
        "amount_total": charges.then_some(session.amount_total),
        "automatic_tax": { "enabled": false, "liability": null, "provider": null, "status": null },
        "billing_address_collection": session.billing_address_collection,
        "cancel_url": session.cancel_url,
        "client_reference_id": session.client_reference_id,
        "client_secret": session.client_secret,
        // What the customer entered beyond the card: nothing, once they have paid.
        "collected_information": complete.then(|| json!({
            "business_name": null, "individual_name": null, "shipping_details": null,
        })),
        "consent": null,
        "consent_collection": null,
        "created": session.created,
        "currency": session.currency,
        "currency_conversion": null,
        "custom_fields": [],
        "custom_text": {
            "after_submit": null, "shipping_address": null, "submit": null,
            "terms_of_service_acceptance": null,
        },
        "customer": session.customer,
        "customer_account": null,
        "customer_creation": session.customer_creation,
        "customer_details": customer_details,
        "customer_email": session.customer_email,
        "discounts": discounts,
        "expires_at": session.expires_at,
        "invoice": session.invoice,
        "invoice_creation": payment.then(|| json!({
            "enabled": false,
            "invoice_data": {
                "account_tax_ids": null, "custom_fields": null, "description": null,
                "footer": null, "issuer": null, "metadata": {}, "rendering_options": null,
            },
        })),
        "livemode": false,
        "locale": session.locale,
        "metadata": session.metadata,
        "mode": session.mode,
        "origin_context": null,
        "payment_intent": session.payment_intent,
        "payment_link": null,
        "payment_method_collection": session.payment_method_collection,
        "payment_method_configuration_details": null,
        "payment_method_options": { "card": { "request_three_d_secure": "automatic" } },
        "payment_method_types": ["card"],
        "payment_status": payment_status(session),
        "permissions": null,
        "phone_number_collection": { "enabled": false },
        "recovered_from": null,
        "saved_payment_method_options": session.customer.as_ref().map(|_| json!({
            "allow_redisplay_filters": ["always"],
            "payment_method_remove": null,
            "payment_method_save": null,
        })),
        "setup_intent": session.setup_intent,
        "shipping_address_collection": null,
        "shipping_cost": null,
        "shipping_options": [],
        "status": status,
        "submit_type": session.submit_type,
        "subscription": session.subscription,
        "success_url": session.success_url,
        "total_details": {
            "amount_discount": session.amount_discount,
            "amount_shipping": 0,
            "amount_tax": 0,
        },
        "ui_mode": session.ui_mode,
        "url": url,
        "wallet_options": null,
    });
    // Stripe leaves out, rather than nulls, the fields of the other kind of session.
    if let Some(object) = value.as_object_mut() {
        if let Some(return_url) = &session.return_url {
            object.insert("return_url".into(), json!(return_url));
        }
        if let Some(redirect) = &session.redirect_on_completion {
            object.insert("redirect_on_completion".into(), json!(redirect));
        }
    }
    value
}

/// Renders a line item as Stripe's `item` JSON (fixtures3 shape).
fn render_item(state: &State, item: &LineItem) -> Value {
    let amount = item.unit_amount.saturating_mul(item.quantity);
    // A catalog price shows as itself (active, metadata, nickname); a
    // price_data price is an inactive one-off, as at Stripe.
    let price = match state.stripe.prices.get(&item.price_id) {
        Some(price) => prices::render(price),
        None => prices::render_inline(&prices::InlinePrice {
            id: &item.price_id,
            product_id: &item.product_id,
            currency: &item.currency,
            unit_amount: item.unit_amount,
            recurring: item.recurring.as_ref(),
            tax_behavior: "unspecified",
            created: item.price_created,
        }),
    };
    json!({
        "id": item.id,
        "object": "item",
        "adjustable_quantity": null,
        "amount_discount": item.amount_discount,
        "amount_subtotal": amount,
        "amount_tax": 0,
        "amount_total": amount.saturating_sub(item.amount_discount),
        "currency": item.currency,
        "description": item.name,
        "metadata": item.metadata,
        "price": price,
        "quantity": item.quantity,
    })
}

/// Returns what the hosted page shows for the session `id`.
pub(crate) fn page_view(state: &State, id: &str) -> Option<PageView> {
    let session = state.stripe.sessions.get(id)?;
    Some(PageView {
        id: id.to_owned(),
        gateway_label: "Stripe",
        items: session
            .line_items
            .iter()
            .map(|item| (item.name.clone(), item.quantity, item.unit_amount))
            .collect(),
        exponent: currencies::wire_exponent(session.currency.as_deref().unwrap_or("usd")),
        currency: session.currency.clone().unwrap_or_else(|| "usd".to_owned()),
        adjustments: if session.amount_discount > 0 {
            vec![("Discount".to_owned(), -session.amount_discount)]
        } else {
            Vec::new()
        },
        total: session.amount_total,
        status: session.status,
        email: session
            .paid_email
            .clone()
            .or_else(|| session.customer_email.clone()),
        cancel_url: session.cancel_url.clone(),
    })
}

/// `GET /v1/checkout/sessions/{id}`.
pub(crate) fn retrieve(app: &App, state: &State, id: &str, params: &Params) -> Outcome {
    reject_unknown(params, &["expand"], "")?;
    let expand = expand_list(params)?;
    check_expand(&expand, EXPANDABLE)?;
    let session = state
        .stripe
        .sessions
        .get(id)
        .ok_or_else(|| Failure::not_found("checkout.session", "session", id))?;
    Ok((StatusCode::OK, render(app, state, session, &expand)))
}

/// `GET /v1/checkout/sessions`: newest first.
pub(crate) fn list(app: &App, state: &State, params: &Params) -> Outcome {
    reject_unknown(
        params,
        &[
            "created",
            "customer",
            "customer_account",
            "customer_details",
            "ending_before",
            "expand",
            "limit",
            "payment_intent",
            "payment_link",
            "starting_after",
            "status",
            "subscription",
        ],
        "",
    )?;
    let status = one_of(params, "status", "", &["open", "complete", "expired"])?;
    let payment_intent = text(params, "payment_intent", "")?;
    let customer = text(params, "customer", "")?;
    let created = range(params, "created")?;
    let expand = expand_list(params)?;
    let inner_expand: Vec<String> = expand
        .iter()
        .filter_map(|field| field.strip_prefix("data.").map(str::to_owned))
        .collect();
    check_expand(&inner_expand, EXPANDABLE)?;
    let ids: Vec<String> = state
        .stripe
        .session_order
        .iter()
        .rev()
        .filter(|id| {
            state.stripe.sessions.get(*id).is_some_and(|session| {
                let status_matches = status.is_none_or(|wanted| {
                    matches!(
                        (wanted, session.status),
                        ("open", CheckoutStatus::Open)
                            | ("complete", CheckoutStatus::Complete)
                            | ("expired", CheckoutStatus::Expired)
                    )
                });
                status_matches
                    && created.admits(session.created)
                    && payment_intent
                        .is_none_or(|wanted| session.payment_intent.as_deref() == Some(wanted))
                    && customer.is_none_or(|wanted| session.customer.as_deref() == Some(wanted))
            })
        })
        .cloned()
        .collect();
    let (page, has_more) = paginate(&ids, params, "checkout.session")?;
    let data: Vec<Value> = page
        .iter()
        .filter_map(|id| state.stripe.sessions.get(id))
        .map(|session| render(app, state, session, &inner_expand))
        .collect();
    Ok((
        StatusCode::OK,
        json!({ "object": "list", "data": data, "has_more": has_more, "url": "/v1/checkout/sessions" }),
    ))
}

/// `GET /v1/checkout/sessions/{id}/line_items`.
pub(crate) fn line_items(state: &State, id: &str, params: &Params) -> Outcome {
    reject_unknown(
        params,
        &["ending_before", "expand", "limit", "starting_after"],
        "",
    )?;
    let session = state
        .stripe
        .sessions
        .get(id)
        .ok_or_else(|| Failure::not_found("checkout.session", "session", id))?;
    let ids: Vec<String> = session
        .line_items
        .iter()
        .map(|item| item.id.clone())
        .collect();
    let (page, has_more) = paginate(&ids, params, "item")?;
    let data: Vec<Value> = session
        .line_items
        .iter()
        .filter(|item| page.contains(&item.id))
        .map(|item| render_item(state, item))
        .collect();
    Ok((
        StatusCode::OK,
        json!({
            "object": "list",
            "data": data,
            "has_more": has_more,
            "url": format!("/v1/checkout/sessions/{id}/line_items"),
        }),
    ))
}
