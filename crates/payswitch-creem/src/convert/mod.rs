//! `CheckoutRequest` → Creem's create body, and Creem's checkout → `CheckoutResult`; the
//! lifecycle objects (subscriptions, refunds, customers) are normalized in [`billing`].
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

pub(crate) mod billing;

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
    if request.discount_id.is_some() {
        // A checkout takes the customer-facing `discount_code` only; dropping the id would
        // charge the full price.
        return Err(refuse(
            "a discount id (send the customer-facing discount_code)",
        ));
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

/// Refuses a request whose mode contradicts the product's `billing_type`: Creem takes no mode,
/// so a payment-mode request for a recurring product would silently start a subscription (and
/// the reverse would sell a one-time product as a plan). An unknown billing type is let
/// through: Creem decides, as it always does.
pub(crate) fn check_mode(
    mode: CheckoutMode,
    billing_type: &wire::BillingType,
) -> Result<(), PaymentError> {
    let contradiction = match (mode, billing_type) {
        (CheckoutMode::Payment, wire::BillingType::Recurring) => Some(
            "the Creem product is recurring, so its checkout starts a subscription; use \
             CheckoutMode::Subscription",
        ),
        (CheckoutMode::Subscription, wire::BillingType::Onetime) => Some(
            "the Creem product is one-time, so its checkout cannot start a subscription; use \
             CheckoutMode::Payment",
        ),
        (CheckoutMode::Payment, wire::BillingType::Onetime)
        | (CheckoutMode::Subscription, wire::BillingType::Recurring)
        | (CheckoutMode::Setup, _)
        | (_, wire::BillingType::Unknown(_)) => None,
    };
    match contradiction {
        Some(message) => Err(PaymentError::invalid("mode", message)),
        None => Ok(()),
    }
}

/// Reads a product's `billing_type` from `GET /v1/products?product_id=`'s answer.
pub(crate) fn decode_billing_type(body: &[u8]) -> Result<wire::BillingType, PaymentError> {
    let product: wire::Product =
        serde_json::from_slice(body).map_err(|error| decode_error("creem product", error))?;
    Ok(product
        .billing_type
        .unwrap_or_else(|| wire::BillingType::Unknown(String::new())))
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
    let raw: serde_json::Value =
        serde_json::from_slice(body).map_err(|error| decode_error("creem checkout", error))?;
    let checkout =
        wire::Checkout::deserialize(&raw).map_err(|error| decode_error("creem checkout", error))?;
    // A checkout without an id cannot be retrieved or matched to a webhook.
    if checkout.id.trim().is_empty() {
        return Err(PaymentError::decode("creem checkout", "the id is empty"));
    }
    checkout_result(&checkout, raw.into())
}

/// A `Decode` error whose message never quotes a value from the body (customer data, which
/// applications log): serde's quoted text is cut out and the rest is shortened.
pub(crate) fn decode_error(what: &'static str, error: impl std::fmt::Display) -> PaymentError {
    PaymentError::decode(what, without_quoted_values(&error.to_string()))
}

/// The longest decode message kept.
const MAX_DECODE_MESSAGE_CHARS: usize = 160;

fn without_quoted_values(text: &str) -> String {
    let unquoted = match (text.find('"'), text.rfind('"')) {
        (Some(first), Some(last)) if last > first => {
            format!("{}\"…\"{}", &text[..first], &text[last + 1..])
        }
        (Some(first), _) => format!("{}…", &text[..first]),
        (None, _) => text.to_owned(),
    };
    let mut short: String = unquoted.chars().take(MAX_DECODE_MESSAGE_CHARS).collect();
    if unquoted.chars().count() > MAX_DECODE_MESSAGE_CHARS {
        short.push('…');
    }
    short
}

/// The currencies Creem documents (`ProductCurrency`: `EUR | USD`) and the exponent its
/// amounts use for each: integer cents ("1000 = $10.00").
pub(crate) const CREEM_CURRENCIES: [(&str, u8); 2] = [("EUR", 2), ("USD", 2)];

fn creem_exponent(code: &str) -> Option<(&'static str, u8)> {
    CREEM_CURRENCIES
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(code))
        .copied()
}

/// Creem's wire amount → `Money`: the one place amounts come in. A currency Creem does not
/// document is a `Decode` error, never a guessed exponent.
pub(crate) fn money_from_wire(
    what: &'static str,
    amount: i64,
    code: &str,
) -> Result<Money, PaymentError> {
    let Some((known, exponent)) = creem_exponent(code) else {
        return Err(PaymentError::decode(
            what,
            "a currency Creem does not document (it documents EUR and USD)",
        ));
    };
    let currency = Currency::new(known).map_err(|error| decode_error(what, error))?;
    Money::from_exponent(amount, exponent, currency).map_err(|error| decode_error(what, error))
}

/// `Money` → Creem's wire amount and currency: the one place amounts go out. No request
/// payswitch sends today carries an amount (prices live on Creem products); this keeps the
/// table tested in both directions for the first that will.
#[cfg_attr(
    not(test),
    expect(dead_code, reason = "the outgoing half of the currency table")
)]
pub(crate) fn money_to_wire(money: &Money) -> Result<(i64, &'static str), PaymentError> {
    let currency = money.currency();
    let code = currency.code();
    let Some((known, exponent)) = creem_exponent(code) else {
        return Err(PaymentError::invalid(
            "currency",
            format!("Creem charges only in EUR and USD, not {code}"),
        ));
    };
    let amount = money.to_exponent(exponent).map_err(|error| {
        PaymentError::invalid(
            "amount",
            format!("not representable in Creem cents: {error}"),
        )
    })?;
    Ok((amount, known))
}

/// Decodes the checkout at `pointer` inside an already parsed document (a webhook's
/// `/object`); the result's `raw` points into the document instead of copying it.
pub(crate) fn checkout_at(
    root: &Arc<serde_json::Value>,
    pointer: &'static str,
) -> Result<CheckoutResult, PaymentError> {
    let raw = RawJson::at(root, pointer);
    let checkout = wire::Checkout::deserialize(raw.value())
        .map_err(|error| decode_error("creem checkout", error))?;
    checkout_result(&checkout, raw)
}

/// Normalizes a Creem checkout.
pub(crate) fn checkout_result(
    checkout: &wire::Checkout,
    raw: RawJson,
) -> Result<CheckoutResult, PaymentError> {
    let order = checkout.order.as_ref();
    let (status, payment_status) = states(checkout);
    let mut result = CheckoutResult::new(&checkout.id, KIND, status, payment_status);
    result.url = match status {
        // The hosted page only matters while the customer can still pay.
        CheckoutStatus::Open => checkout.checkout_url.clone(),
        CheckoutStatus::Complete | CheckoutStatus::Expired => None,
    };
    result.mode = mode(checkout);
    result.amount_total = match order.and_then(Expandable::object) {
        Some(order) => amount_total(order)?,
        None => None,
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
fn states(checkout: &wire::Checkout) -> (CheckoutStatus, PaymentStatus) {
    match &checkout.status {
        wire::CheckoutStatus::Pending | wire::CheckoutStatus::Processing => {
            (CheckoutStatus::Open, PaymentStatus::Unpaid)
        }
        wire::CheckoutStatus::Completed => (CheckoutStatus::Complete, completed_payment(checkout)),
        wire::CheckoutStatus::Expired => (CheckoutStatus::Expired, PaymentStatus::Unpaid),
        wire::CheckoutStatus::Unknown(other) => {
            // Never fulfil on a status we do not understand.
            tracing::warn!(status = ?other, "unknown Creem checkout status; treating it as open");
            (CheckoutStatus::Open, PaymentStatus::Unpaid)
        }
    }
}

/// The payment state of a completed checkout, from what Creem sent with it:
///
/// - an expanded order decides: `paid` → `Paid` (`NoPaymentRequired` when it charged 0),
///   `pending` or unknown → `Unpaid`;
/// - an order id without the object: Creem created an order on payment → `Paid`;
/// - no order at all: a trialing subscription or a free product → `NoPaymentRequired`;
///   otherwise `Unpaid` — nothing here proves a payment, so retrieve the checkout later or
///   wait for `checkout.completed`.
fn completed_payment(checkout: &wire::Checkout) -> PaymentStatus {
    let order = match &checkout.order {
        Some(Expandable::Object(order)) => order,
        Some(Expandable::Id(_)) => return PaymentStatus::Paid,
        None => return completed_without_order(checkout),
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
            tracing::warn!(status = ?other, "unknown Creem order status; treating it as unpaid");
            PaymentStatus::Unpaid
        }
    }
}

fn completed_without_order(checkout: &wire::Checkout) -> PaymentStatus {
    let trialing = checkout
        .subscription
        .as_ref()
        .and_then(Expandable::object)
        .and_then(|subscription| subscription.status.as_ref())
        .is_some_and(|status| match status {
            wire::SubscriptionStatus::Trialing => true,
            wire::SubscriptionStatus::Active
            | wire::SubscriptionStatus::Canceled
            | wire::SubscriptionStatus::Unpaid
            | wire::SubscriptionStatus::Paused
            | wire::SubscriptionStatus::ScheduledCancel
            | wire::SubscriptionStatus::Expired
            | wire::SubscriptionStatus::PastDue
            | wire::SubscriptionStatus::Unknown(_) => false,
        });
    let free = checkout
        .product
        .as_ref()
        .and_then(Expandable::object)
        .and_then(|product| product.price)
        == Some(wire::Integer(0));
    if trialing || free {
        PaymentStatus::NoPaymentRequired
    } else {
        PaymentStatus::Unpaid
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

/// What the customer paid: the order's `amount_paid` (tax and discounts included), in its
/// currency; `None` when Creem has not said. `amount` is the total before discounts and
/// `amount_due` may be what is still owed, so neither stands in for it.
fn amount_total(order: &wire::Order) -> Result<Option<Money>, PaymentError> {
    let (Some(wire::Integer(amount)), Some(code)) = (order.amount_paid, &order.currency) else {
        return Ok(None);
    };
    money_from_wire("creem order amount", amount, code).map(Some)
}

/// Creem echoes metadata with mixed value types; strings are kept, other values as JSON text.
pub(crate) fn metadata(value: Option<&serde_json::Value>) -> BTreeMap<String, String> {
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
    fn every_creem_currency_converts_exactly_both_ways() {
        // The table covers every currency Creem documents (`ProductCurrency`: EUR | USD).
        assert_eq!(CREEM_CURRENCIES.map(|(code, _)| code), ["EUR", "USD"]);
        for (code, exponent) in CREEM_CURRENCIES {
            assert_eq!(exponent, 2, "{code}: Creem amounts are integer cents");
            for cents in [0, 1, 100, 1_999, 12_345_678] {
                let money = money_from_wire("test", cents, code).unwrap();
                assert_eq!(money.currency().code(), code);
                // ISO 4217 gives both two decimals, so cents are minor units as they are.
                assert_eq!(money.amount(), cents, "{code}");
                assert_eq!(money_to_wire(&money).unwrap(), (cents, code));
            }
            assert_eq!(
                money_from_wire("test", 500, &code.to_ascii_lowercase())
                    .unwrap()
                    .currency()
                    .code(),
                code
            );
        }
    }

    #[test]
    fn an_undocumented_currency_is_a_decode_error_never_a_guess() {
        for code in ["GBP", "JPY", "ISK", "BHD", "", "EURO", "€"] {
            assert!(
                matches!(
                    money_from_wire("creem order amount", 1000, code),
                    Err(PaymentError::Decode { .. })
                ),
                "{code}"
            );
        }
        let yen = Money::new(1000, Currency::new("JPY").unwrap());
        assert!(matches!(
            money_to_wire(&yen),
            Err(PaymentError::InvalidRequest { .. })
        ));
    }

    #[test]
    fn decode_messages_do_not_quote_body_values() {
        let error = serde_json::from_str::<wire::Checkout>(
            r#"{"id":"ch_1","status":"completed","units":"ada@example.com"}"#,
        )
        .unwrap_err();
        assert!(error.to_string().contains("ada@example.com"));
        let PaymentError::Decode { message, .. } = decode_error("creem checkout", error) else {
            unreachable!()
        };
        assert!(!message.contains("ada@example.com"), "{message}");
        assert!(message.contains("invalid type"), "{message}");
        let long = "x".repeat(1_000);
        let PaymentError::Decode { message, .. } = decode_error("creem checkout", long) else {
            unreachable!()
        };
        assert!(message.chars().count() <= MAX_DECODE_MESSAGE_CHARS + 1);
    }

    #[test]
    fn the_mode_must_match_the_billing_type() {
        use wire::BillingType::{Onetime, Recurring, Unknown};
        assert!(check_mode(CheckoutMode::Payment, &Onetime).is_ok());
        assert!(check_mode(CheckoutMode::Subscription, &Recurring).is_ok());
        assert!(check_mode(CheckoutMode::Payment, &Unknown("usage".into())).is_ok());
        for (mode, billing) in [
            (CheckoutMode::Payment, Recurring),
            (CheckoutMode::Subscription, Onetime),
        ] {
            match check_mode(mode, &billing) {
                Err(PaymentError::InvalidRequest { field, gateway, .. }) => {
                    assert_eq!(field, "mode");
                    assert!(gateway.is_none());
                }
                other => panic!("{mode:?} {billing:?}: {other:?}"),
            }
        }
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
