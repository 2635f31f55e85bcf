//! Creem entities after validation: JSON rendering of products, checkouts,
//! orders, customers and subscriptions; payment, expiry and the signed
//! success redirect.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::app::App;
use crate::state::{
    new_id, CheckoutStatus, CreemCheckout, CreemPayment, Gateway, OutgoingEvent, Product, State,
};

/// Formats Unix seconds as the ISO-8601 strings Creem entities use.
fn iso(seconds: i64) -> String {
    OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|time| time.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// Renders a product as Creem's `ProductEntity`.
pub(crate) fn render_product(product: &Product) -> Value {
    json!({
        "id": product.id,
        "mode": "test",
        "object": "product",
        "name": product.name,
        "description": product.description,
        "image_url": product.image_url,
        "features": [],
        "price": product.price,
        "currency": product.currency,
        "billing_type": product.billing_type,
        "billing_period": product.billing_period,
        "status": "active",
        "tax_mode": product.tax_mode,
        "tax_category": product.tax_category,
        "product_url": null,
        "default_success_url": product.default_success_url,
        "created_at": iso(product.created),
        "updated_at": iso(product.created),
    })
}

/// Returns the amount a checkout charges: product price times units.
pub(crate) fn checkout_amount(state: &State, checkout: &CreemCheckout) -> (i64, String) {
    match state.products.get(&checkout.product_id) {
        Some(product) => (
            product.price.saturating_mul(checkout.units),
            product.currency.clone(),
        ),
        None => (0, "USD".to_owned()),
    }
}

/// Renders a checkout as Creem's `CheckoutEntity`; `expand` inlines the
/// product, customer, order and subscription objects.
pub(crate) fn render_checkout(
    app: &App,
    state: &State,
    checkout: &CreemCheckout,
    expand: bool,
) -> Value {
    let status = match checkout.status {
        CheckoutStatus::Open => "pending",
        CheckoutStatus::Complete => "completed",
        CheckoutStatus::Expired => "expired",
    };
    let mut value = json!({
        "id": checkout.id,
        "mode": "test",
        "object": "checkout",
        "status": status,
        "product": checkout.product_id,
        "units": checkout.units,
        "custom_fields": [],
        "checkout_url": format!("{}/pay/{}", app.base_url, checkout.id),
        "success_url": checkout.success_url,
    });
    let Some(object) = value.as_object_mut() else {
        return value;
    };
    if let Some(request_id) = &checkout.request_id {
        object.insert("request_id".into(), json!(request_id));
    }
    if let Some(metadata) = &checkout.metadata {
        object.insert("metadata".into(), metadata.clone());
    }
    let product = state.products.get(&checkout.product_id);
    if expand {
        if let Some(product) = product {
            object.insert("product".into(), render_product(product));
        }
    }
    if let Some(payment) = &checkout.payment {
        let (amount, currency) = checkout_amount(state, checkout);
        let recurring = payment.subscription_id.is_some();
        let customer = json!({
            "id": payment.customer_id,
            "mode": "test",
            "object": "customer",
            "email": payment.email,
            "name": null,
            "country": "US",
            "created_at": iso(payment.paid_at),
            "updated_at": iso(payment.paid_at),
        });
        object.insert(
            "order".into(),
            json!({
                "id": payment.order_id,
                "mode": "test",
                "object": "order",
                "customer": payment.customer_id,
                "product": checkout.product_id,
                "transaction": payment.transaction_id,
                "amount": amount,
                "sub_total": amount,
                "tax_amount": 0,
                "discount_amount": 0,
                "amount_due": amount,
                "amount_paid": amount,
                "currency": currency,
                "status": "paid",
                "type": if recurring { "recurring" } else { "onetime" },
                "created_at": iso(payment.paid_at),
                "updated_at": iso(payment.paid_at),
            }),
        );
        if expand {
            object.insert("customer".into(), customer);
        } else {
            object.insert("customer".into(), json!(payment.customer_id));
        }
        if let Some(subscription_id) = &payment.subscription_id {
            let period_end =
                payment.paid_at + period_seconds(product.map(|p| p.billing_period.as_str()));
            let subscription = json!({
                "id": subscription_id,
                "mode": "test",
                "object": "subscription",
                "product": checkout.product_id,
                "customer": payment.customer_id,
                "items": [],
                "collection_method": "charge_automatically",
                "status": "active",
                "last_transaction_id": payment.transaction_id,
                "last_transaction_date": iso(payment.paid_at),
                "next_transaction_date": iso(period_end),
                "current_period_start_date": iso(payment.paid_at),
                "current_period_end_date": iso(period_end),
                "canceled_at": null,
                "created_at": iso(payment.paid_at),
                "updated_at": iso(payment.paid_at),
            });
            object.insert(
                "subscription".into(),
                if expand {
                    subscription
                } else {
                    json!(subscription_id)
                },
            );
        }
    }
    value
}

fn period_seconds(period: Option<&str>) -> i64 {
    let day = 24 * 60 * 60;
    match period {
        Some("every-three-months") => 91 * day,
        Some("every-six-months") => 182 * day,
        Some("every-year") => 365 * day,
        _ => 30 * day,
    }
}

/// Expires pending checkouts past their lifetime. Creem sends no webhook
/// for this.
pub(crate) fn expire_due(state: &mut State) {
    let now = state.now();
    for checkout in state.checkouts.values_mut() {
        if checkout.status == CheckoutStatus::Open && checkout.expires_at <= now {
            checkout.status = CheckoutStatus::Expired;
        }
    }
}

/// Expires one pending checkout (admin operation).
pub(crate) fn expire(state: &mut State, id: &str) -> Result<(), String> {
    let checkout = state
        .checkouts
        .get_mut(id)
        .ok_or_else(|| format!("no such checkout {id}"))?;
    if checkout.status != CheckoutStatus::Open {
        return Err("only pending checkouts can be expired".to_owned());
    }
    checkout.status = CheckoutStatus::Expired;
    Ok(())
}

/// Pays a pending checkout: creates customer, order, transaction and (for
/// recurring products) subscription, emits `checkout.completed` and
/// returns the signed success redirect.
pub(crate) fn complete(
    app: &App,
    state: &mut State,
    id: &str,
    email: &str,
) -> Result<String, String> {
    let now = state.now();
    let checkout = state
        .checkouts
        .get(id)
        .ok_or_else(|| format!("no such checkout {id}"))?;
    match checkout.status {
        CheckoutStatus::Open if checkout.expires_at > now => {}
        CheckoutStatus::Open | CheckoutStatus::Expired => {
            return Err("this checkout has expired".to_owned())
        }
        CheckoutStatus::Complete => return Err("this checkout is already paid".to_owned()),
    }
    let recurring = state
        .products
        .get(&checkout.product_id)
        .is_some_and(|product| product.billing_type == "recurring");
    let email = checkout
        .customer_email
        .clone()
        .unwrap_or_else(|| email.to_owned());
    let customer_id = match checkout.customer_id.clone() {
        Some(customer_id) => customer_id,
        None => state
            .creem_customers
            .entry(email.clone())
            .or_insert_with(|| new_id("cust_"))
            .clone(),
    };
    let payment = CreemPayment {
        order_id: new_id("ord_"),
        transaction_id: new_id("tran_"),
        customer_id,
        email,
        subscription_id: recurring.then(|| new_id("sub_")),
        paid_at: now,
    };
    state.counts.creem_orders += 1;
    let Some(checkout) = state.checkouts.get_mut(id) else {
        return Err(format!("no such checkout {id}"));
    };
    checkout.status = CheckoutStatus::Complete;
    checkout.payment = Some(payment);
    let checkout = checkout.clone();
    let object = render_checkout(app, state, &checkout, true);
    let event_id = new_id("evt_");
    let envelope = json!({
        "id": event_id,
        "eventType": "checkout.completed",
        "created_at": now.saturating_mul(1000),
        "object": object,
    });
    state.emit(OutgoingEvent {
        gateway: Gateway::Creem,
        event_id,
        event_type: "checkout.completed".to_owned(),
        body: envelope.to_string(),
    });
    let fallback = state
        .products
        .get(&checkout.product_id)
        .and_then(|product| product.default_success_url.clone());
    let base = checkout
        .success_url
        .clone()
        .or(fallback)
        .unwrap_or_else(|| format!("{}/pay/{id}", app.base_url));
    Ok(signed_redirect(&base, &checkout, &app.config.creem_api_key))
}

/// Appends Creem's redirect parameters and `signature` to the success URL.
///
/// The signature is lowercase hex SHA-256 of every non-empty `key=value`
/// pair preceding `signature` in the final URL (the merchant's own query
/// parameters included), in URL order, joined with `|`, followed by
/// `|salt=<API key>`.
pub(crate) fn signed_redirect(base: &str, checkout: &CreemCheckout, api_key: &str) -> String {
    let Ok(mut url) = url::Url::parse(base) else {
        return base.to_owned();
    };
    let mut added: Vec<(&str, String)> = vec![("checkout_id", checkout.id.clone())];
    if let Some(payment) = &checkout.payment {
        added.push(("order_id", payment.order_id.clone()));
        added.push(("customer_id", payment.customer_id.clone()));
        if let Some(subscription_id) = &payment.subscription_id {
            added.push(("subscription_id", subscription_id.clone()));
        }
    }
    added.push(("product_id", checkout.product_id.clone()));
    if let Some(request_id) = &checkout.request_id {
        added.push(("request_id", request_id.clone()));
    }
    {
        let mut pairs = url.query_pairs_mut();
        for (key, value) in &added {
            pairs.append_pair(key, value);
        }
    }
    let mut signed: Vec<String> = url
        .query_pairs()
        .filter(|(key, value)| key != "signature" && !value.is_empty())
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    signed.push(format!("salt={api_key}"));
    let signature = hex::encode(Sha256::digest(signed.join("|").as_bytes()));
    url.query_pairs_mut().append_pair("signature", &signature);
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paid_checkout(request_id: Option<&str>) -> CreemCheckout {
        CreemCheckout {
            id: "ch_1".into(),
            product_id: "prod_1".into(),
            units: 1,
            request_id: request_id.map(str::to_owned),
            status: CheckoutStatus::Complete,
            success_url: None,
            metadata: None,
            customer_email: None,
            customer_id: None,
            expires_at: 0,
            payment: Some(CreemPayment {
                order_id: "ord_1".into(),
                transaction_id: "tran_1".into(),
                customer_id: "cust_1".into(),
                email: "a@b.co".into(),
                subscription_id: None,
                paid_at: 0,
            }),
        }
    }

    #[test]
    fn signs_in_url_order_with_merchant_params() {
        let url = signed_redirect(
            "https://shop.test/done?ref=a%20b&empty=",
            &paid_checkout(Some("r1")),
            "creem_test_k",
        );
        let expected_data = "ref=a b|checkout_id=ch_1|order_id=ord_1|customer_id=cust_1|product_id=prod_1|request_id=r1|salt=creem_test_k";
        let expected = hex::encode(Sha256::digest(expected_data.as_bytes()));
        assert!(url.ends_with(&format!("&signature={expected}")), "{url}");
        assert!(url.starts_with(
            "https://shop.test/done?ref=a%20b&empty=&checkout_id=ch_1&order_id=ord_1"
        ));
    }
}
