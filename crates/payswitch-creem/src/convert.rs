//! `CheckoutRequest` → Creem's create body, and Creem's checkout → `CheckoutResult`.
//!
//! The refusal rule lives here: what would change what or how much is charged is refused
//! before any network call; hints that only shape the page are left out and reported in
//! `CheckoutResult::ignored`. `CreemProvider::CAPABILITIES` declares the same rules.

use std::collections::BTreeMap;
use std::sync::Arc;

use payswitch_core::adapter::wire::Expandable;
use payswitch_core::{
    Catalog, CheckoutMode, CheckoutRequest, CheckoutResult, CheckoutStatus, Currency, LineItem,
    Money, PaymentError, PaymentStatus, Product, RawJson, UiMode,
};
use serde::Deserialize;

use crate::config::KIND;
use crate::wire;

/// The placeholder Stripe substitutes in success URLs; Creem appends `checkout_id` instead.
const CHECKOUT_ID_PLACEHOLDER: &str = "{CHECKOUT_SESSION_ID}";

/// The create body, and the request fields that were not sent.
#[derive(Debug)]
pub(crate) struct CreateCheckout<'a> {
    pub(crate) body: wire::CreateCheckoutRequest<'a>,
    pub(crate) ignored: Vec<String>,
}

fn refuse(operation: &'static str) -> PaymentError {
    PaymentError::unsupported(KIND, operation)
}

/// Validates the request, applies the refusal rule and builds `POST /v1/checkouts`'s body.
pub(crate) fn create_checkout_body<'a>(
    request: &'a CheckoutRequest,
    catalog: &'a Catalog,
) -> Result<CreateCheckout<'a>, PaymentError> {
    let item = check_request(request)?;
    let product_id = match &item.product {
        Product::Sku(sku) => catalog.require(0, sku, KIND)?,
        Product::Native(id) => id.as_str(),
        Product::Custom(_) => return Err(refuse("custom-priced line items")),
    };
    let mut ignored = Vec::new();
    let success_url = success_url(&request.success_url, &mut ignored)?;
    let customer = customer(request, &mut ignored);
    ignore_hints(request, &mut ignored);
    Ok(CreateCheckout {
        body: wire::CreateCheckoutRequest {
            product_id,
            request_id: request.reference.as_deref(),
            units: item.quantity,
            discount_code: request.discount_code.as_deref(),
            customer,
            success_url,
            metadata: &request.metadata,
        },
        ignored,
    })
}

/// Refuses what would change the charge (or is malformed) and returns the one line item.
fn check_request(request: &CheckoutRequest) -> Result<&LineItem, PaymentError> {
    request.validate()?;
    match request.mode {
        // The Creem product decides one-time or recurring; the mode itself is not sent.
        CheckoutMode::Payment | CheckoutMode::Subscription => {}
        CheckoutMode::Setup => return Err(refuse("setup mode")),
    }
    for item in &request.line_items {
        match &item.product {
            Product::Sku(_) | Product::Native(_) => {}
            Product::Custom(_) => return Err(refuse("custom-priced line items")),
        }
    }
    let item = match request.line_items.as_slice() {
        [item] => item,
        [] => {
            return Err(PaymentError::invalid(
                "line_items",
                "at least one line item is required",
            ))
        }
        [_, _, ..] => return Err(refuse("more than one line item")),
    };
    match request.ui_mode {
        UiMode::Hosted => {}
        // Not a hint: an embedded integration needs a client secret Creem never issues.
        UiMode::Embedded => return Err(refuse("embedded checkout (ui_mode = embedded)")),
    }
    Ok(item)
}

/// The customer to send: Creem takes `{id}` or `{email}`, never both.
fn customer<'a>(
    request: &'a CheckoutRequest,
    ignored: &mut Vec<String>,
) -> Option<wire::CustomerRequest<'a>> {
    match (&request.customer_id, &request.customer_email) {
        (Some(id), email) => {
            if email.is_some() {
                // The id names the customer exactly; the email would be a second answer.
                ignored.push("customer_email".to_owned());
            }
            Some(wire::CustomerRequest::Id(id))
        }
        (None, Some(email)) => Some(wire::CustomerRequest::Email(email)),
        (None, None) => None,
    }
}

/// Lists the request fields Creem has no slot for; none of them changes the charge.
fn ignore_hints(request: &CheckoutRequest, ignored: &mut Vec<String>) {
    if request.cancel_url.is_some() {
        ignored.push("cancel_url".to_owned());
    }
    if request.locale.is_some() {
        ignored.push("locale".to_owned());
    }
    if request.expires_in.is_some() {
        ignored.push("expires_in".to_owned());
    }
    if request.allow_discount_codes {
        ignored.push("allow_discount_codes".to_owned());
    }
    if request.currency.is_some() {
        // The product's currency is what is charged; Creem takes no currency on a checkout.
        ignored.push("currency".to_owned());
    }
    if request.idempotency_key.is_some() {
        // Creem has no idempotency key; see the retry policy in client.rs.
        ignored.push("idempotency_key".to_owned());
    }
}

/// The success URL to send: Creem appends `checkout_id` itself and substitutes nothing, so
/// query pairs carrying Stripe's `{CHECKOUT_SESSION_ID}` placeholder are dropped.
fn success_url(url: &str, ignored: &mut Vec<String>) -> Result<String, PaymentError> {
    if !url.contains(CHECKOUT_ID_PLACEHOLDER) {
        return Ok(url.to_owned());
    }
    let mut parsed = url::Url::parse(url)
        .map_err(|error| PaymentError::invalid("success_url", error.to_string()))?;
    let kept: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(key, value)| {
            !key.contains(CHECKOUT_ID_PLACEHOLDER) && !value.contains(CHECKOUT_ID_PLACEHOLDER)
        })
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    if kept.is_empty() {
        parsed.set_query(None);
    } else {
        parsed.query_pairs_mut().clear().extend_pairs(kept);
    }
    let rewritten = parsed.to_string();
    if rewritten.contains(CHECKOUT_ID_PLACEHOLDER)
        || rewritten.contains("%7BCHECKOUT_SESSION_ID%7D")
    {
        return Err(PaymentError::invalid(
            "success_url",
            "Creem does not substitute {CHECKOUT_SESSION_ID} outside the query; it appends \
             checkout_id to the success URL itself",
        ));
    }
    ignored.push(format!("success_url.{CHECKOUT_ID_PLACEHOLDER}"));
    Ok(rewritten)
}

/// Decodes a checkout body (create and retrieve answer with the same entity).
///
/// Parsed once into the `raw` value; the typed checkout is read from it by reference.
pub(crate) fn decode_checkout(body: &[u8]) -> Result<CheckoutResult, PaymentError> {
    let raw: serde_json::Value = serde_json::from_slice(body)
        .map_err(|error| PaymentError::decode("creem checkout", error))?;
    let checkout = wire::Checkout::deserialize(&raw)
        .map_err(|error| PaymentError::decode("creem checkout", error))?;
    checkout_result(&checkout, raw.into())
}

/// Decodes the checkout at `pointer` inside an already parsed document (a webhook's
/// `/object`); the result's `raw` points into the document instead of copying it.
pub(crate) fn checkout_at(
    root: &Arc<serde_json::Value>,
    pointer: &'static str,
) -> Result<CheckoutResult, PaymentError> {
    let raw = RawJson::at(root, pointer);
    let checkout = wire::Checkout::deserialize(raw.value())
        .map_err(|error| PaymentError::decode("creem checkout", error))?;
    checkout_result(&checkout, raw)
}

/// Normalizes a Creem checkout.
pub(crate) fn checkout_result(
    checkout: &wire::Checkout,
    raw: RawJson,
) -> Result<CheckoutResult, PaymentError> {
    let order = checkout.order.as_ref();
    let (status, payment_status) = states(&checkout.status, order);
    let mut result = CheckoutResult::new(&checkout.id, KIND, status, payment_status);
    result.url = match status {
        // The hosted page only matters while the customer can still pay.
        CheckoutStatus::Open => checkout.checkout_url.clone(),
        CheckoutStatus::Complete | CheckoutStatus::Expired => None,
    };
    result.mode = mode(checkout);
    result.amount_total = match order.and_then(Expandable::object) {
        Some(order) => amount_total(order)?,
        None => catalog_total(checkout)?,
    };
    let customer = checkout
        .customer
        .as_ref()
        .or_else(|| order.and_then(Expandable::object)?.customer.as_ref());
    result.customer_id = customer.map(|customer| customer.id().to_owned());
    result.customer_email = customer
        .and_then(Expandable::object)
        .and_then(|customer| customer.email.clone());
    result.reference = checkout.request_id.clone();
    result.metadata = metadata(checkout.metadata.as_ref());
    result.payment_id = order.map(|order| order.id().to_owned());
    result.subscription_id = checkout
        .subscription
        .as_ref()
        .map(|subscription| subscription.id().to_owned());
    // Creem's checkout carries no created_at or expiry, so both stay None.
    result.raw = raw;
    Ok(result)
}

/// Creem's checkout status (and its order) as a checkout state and a payment state.
fn states(
    status: &wire::CheckoutStatus,
    order: Option<&Expandable<wire::Order>>,
) -> (CheckoutStatus, PaymentStatus) {
    match status {
        wire::CheckoutStatus::Pending | wire::CheckoutStatus::Processing => {
            (CheckoutStatus::Open, PaymentStatus::Unpaid)
        }
        wire::CheckoutStatus::Completed => (CheckoutStatus::Complete, completed_payment(order)),
        wire::CheckoutStatus::Expired => (CheckoutStatus::Expired, PaymentStatus::Unpaid),
        wire::CheckoutStatus::Unknown(other) => {
            // Never fulfil on a status we do not understand.
            tracing::warn!(status = %other, "unknown Creem checkout status; treating it as open");
            (CheckoutStatus::Open, PaymentStatus::Unpaid)
        }
    }
}

/// Creem completes a checkout once it is paid; an expanded order can still say otherwise.
fn completed_payment(order: Option<&Expandable<wire::Order>>) -> PaymentStatus {
    let Some(order) = order.and_then(Expandable::object) else {
        return PaymentStatus::Paid;
    };
    match &order.status {
        Some(wire::OrderStatus::Paid) | None => {
            let charged = order.amount_paid.or(order.amount_due).or(order.amount);
            match charged {
                Some(wire::Integer(0)) => PaymentStatus::NoPaymentRequired,
                Some(_) | None => PaymentStatus::Paid,
            }
        }
        Some(wire::OrderStatus::Pending) => PaymentStatus::Unpaid,
        Some(wire::OrderStatus::Unknown(other)) => {
            tracing::warn!(status = %other, "unknown Creem order status; treating it as unpaid");
            PaymentStatus::Unpaid
        }
    }
}

/// One-time or subscription, from the expanded product, the order type or a subscription.
fn mode(checkout: &wire::Checkout) -> Option<CheckoutMode> {
    let from_billing = |billing: &wire::BillingType| match billing {
        wire::BillingType::Recurring => Some(CheckoutMode::Subscription),
        wire::BillingType::Onetime => Some(CheckoutMode::Payment),
        wire::BillingType::Unknown(_) => None,
    };
    let product = checkout.product.as_ref().and_then(Expandable::object);
    if let Some(mode) = product
        .and_then(|product| product.billing_type.as_ref())
        .and_then(from_billing)
    {
        return Some(mode);
    }
    let order = checkout.order.as_ref().and_then(Expandable::object);
    if let Some(mode) = order
        .and_then(|order| order.order_type.as_ref())
        .and_then(from_billing)
    {
        return Some(mode);
    }
    checkout
        .subscription
        .as_ref()
        .map(|_| CheckoutMode::Subscription)
}

/// What the customer pays: `amount_paid`, else `amount_due`, else `amount`, in the order's
/// currency.
fn amount_total(order: &wire::Order) -> Result<Option<Money>, PaymentError> {
    let Some(wire::Integer(amount)) = order.amount_paid.or(order.amount_due).or(order.amount)
    else {
        return Ok(None);
    };
    let Some(code) = &order.currency else {
        return Ok(None);
    };
    let currency =
        Currency::new(code).map_err(|error| PaymentError::decode("creem order currency", error))?;
    Ok(Some(Money::new(amount, currency)))
}

/// Before an order exists: the expanded product's price times the units, before the tax and
/// discounts Creem works out on its page.
fn catalog_total(checkout: &wire::Checkout) -> Result<Option<Money>, PaymentError> {
    let Some(product) = checkout.product.as_ref().and_then(Expandable::object) else {
        return Ok(None);
    };
    let (Some(wire::Integer(price)), Some(code)) = (product.price, &product.currency) else {
        return Ok(None);
    };
    let wire::Integer(units) = checkout.units.unwrap_or(wire::Integer(1));
    let amount = price
        .checked_mul(units)
        .ok_or_else(|| PaymentError::decode("creem checkout", "price × units overflows"))?;
    let currency = Currency::new(code)
        .map_err(|error| PaymentError::decode("creem product currency", error))?;
    Ok(Some(Money::new(amount, currency)))
}

/// Creem echoes metadata with mixed value types; strings are kept, other values as JSON text.
fn metadata(value: Option<&serde_json::Value>) -> BTreeMap<String, String> {
    let Some(serde_json::Value::Object(map)) = value else {
        return BTreeMap::new();
    };
    map.iter()
        .filter_map(|(key, value)| match value {
            serde_json::Value::Null => None,
            serde_json::Value::String(text) => Some((key.clone(), text.clone())),
            serde_json::Value::Bool(_)
            | serde_json::Value::Number(_)
            | serde_json::Value::Array(_)
            | serde_json::Value::Object(_) => Some((key.clone(), value.to_string())),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_placeholder_pair_is_dropped_and_reported() {
        let mut ignored = Vec::new();
        let url = success_url(
            "https://shop.example/done?session_id={CHECKOUT_SESSION_ID}&plan=pro",
            &mut ignored,
        )
        .unwrap();
        assert_eq!(url, "https://shop.example/done?plan=pro");
        assert_eq!(ignored, ["success_url.{CHECKOUT_SESSION_ID}"]);

        let mut ignored = Vec::new();
        let url = success_url(
            "https://shop.example/done?id={CHECKOUT_SESSION_ID}",
            &mut ignored,
        )
        .unwrap();
        assert_eq!(url, "https://shop.example/done");

        let mut ignored = Vec::new();
        let plain = "https://shop.example/done?x=1";
        assert_eq!(success_url(plain, &mut ignored).unwrap(), plain);
        assert!(ignored.is_empty());

        let in_path = success_url(
            "https://shop.example/{CHECKOUT_SESSION_ID}/done",
            &mut ignored,
        );
        assert!(matches!(in_path, Err(PaymentError::InvalidRequest { .. })));
    }

    #[test]
    fn metadata_values_become_text() {
        let value = serde_json::json!({"userId": "u1", "visits": 42, "gone": null});
        let map = metadata(Some(&value));
        assert_eq!(map.get("userId").map(String::as_str), Some("u1"));
        assert_eq!(map.get("visits").map(String::as_str), Some("42"));
        assert!(!map.contains_key("gone"));
        assert!(metadata(Some(&serde_json::json!([{"a": 1}]))).is_empty());
    }
}
