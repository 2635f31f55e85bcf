//! Creem's wire protocol: `x-api-key` authentication, products, checkouts,
//! errors in Creem's `{trace_id, status, error, message[]}` shape, the
//! signed success redirect and the `checkout.completed` webhook.
//!
//! Creem keeps adding optional fields, so unknown JSON fields are ignored,
//! while required fields and the types of known fields are checked.

use std::sync::Arc;

use axum::response::Response;
use http::{HeaderMap, Method, StatusCode};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::server::{self, App};
use crate::state::{
    new_id, wall_clock_seconds, CheckoutStatus, CreemCheckout, CreemPayment, Gateway,
    OutgoingEvent, Product, State,
};

/// How long a Creem checkout stays payable.
const CHECKOUT_LIFETIME: i64 = 24 * 60 * 60;

/// A failed Creem call: status and the `message` list.
pub(crate) struct Failure {
    status: StatusCode,
    messages: Vec<String>,
}

impl Failure {
    /// Returns the `message` list.
    pub(crate) fn messages(&self) -> &[String] {
        &self.messages
    }

    fn bad_request(messages: Vec<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            messages,
        }
    }

    fn not_found(message: &str) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            messages: vec![message.to_owned()],
        }
    }
}

/// Builds a Creem error response.
pub(crate) fn error_response(status: StatusCode, messages: Vec<String>) -> Response {
    let error = status.canonical_reason().unwrap_or("Error");
    let now_ms = wall_clock_seconds().saturating_mul(1000);
    let body = json!({
        "trace_id": trace_id(),
        "status": status.as_u16(),
        "error": error,
        "message": messages,
        "timestamp": now_ms,
    });
    server::json(status, body.to_string())
}

/// Returns a UUID-shaped trace id, as Creem's are.
fn trace_id() -> String {
    let hex = hex::encode(rand::random::<[u8; 16]>());
    let part = |range: std::ops::Range<usize>| hex.get(range).unwrap_or("").to_owned();
    format!(
        "{}-{}-{}-{}-{}",
        part(0..8),
        part(8..12),
        part(12..16),
        part(16..20),
        part(20..32)
    )
}

/// Handles one Creem API request.
pub(crate) fn handle(
    app: &Arc<App>,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let result = (|| -> Result<Value, Failure> {
        match headers
            .get("x-api-key")
            .and_then(|value| value.to_str().ok())
        {
            None | Some("") => {
                return Err(Failure {
                    status: StatusCode::UNAUTHORIZED,
                    messages: vec!["Missing API key".to_owned()],
                })
            }
            Some(key) if key != app.config.creem_api_key => {
                return Err(Failure {
                    status: StatusCode::FORBIDDEN,
                    messages: vec!["Invalid API key".to_owned()],
                })
            }
            Some(_) => {}
        }
        let query_pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .map(|(key, value)| (key.into_owned(), value.into_owned()))
            .collect();
        let query_value = |name: &str| {
            query_pairs
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
                .filter(|value| !value.is_empty())
        };
        let mut state = app.lock();
        match (method, path) {
            (&Method::POST, "/v1/checkouts") => {
                create_checkout(app, &mut state, &parse_json(body)?)
            }
            (&Method::GET, "/v1/checkouts") => {
                let id = query_value("checkout_id").ok_or_else(|| {
                    Failure::bad_request(vec!["checkout_id must be a string".to_owned()])
                })?;
                let checkout = state
                    .checkouts
                    .get(&id)
                    .ok_or_else(|| Failure::not_found("Checkout not found"))?;
                Ok(render_checkout(app, &state, checkout, true))
            }
            (&Method::POST, "/v1/products") => {
                let product = parse_product(&parse_json(body)?, state.now())?;
                let rendered = render_product(app, &product);
                state.counts.creem_products += 1;
                state.products.insert(product.id.clone(), product);
                Ok(rendered)
            }
            (&Method::GET, "/v1/products") => {
                let id = query_value("product_id").ok_or_else(|| {
                    Failure::bad_request(vec!["product_id must be a string".to_owned()])
                })?;
                let product = state
                    .products
                    .get(&id)
                    .ok_or_else(|| Failure::not_found("Product not found"))?;
                Ok(render_product(app, product))
            }
            _ => Err(Failure::not_found(&format!("Cannot {method} {path}"))),
        }
    })();
    match result {
        Ok(body) => server::json(StatusCode::OK, body.to_string()),
        Err(failure) => error_response(failure.status, failure.messages),
    }
}

fn parse_json(body: &[u8]) -> Result<Map<String, Value>, Failure> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Failure::bad_request(vec![
            "Request body must be a JSON object".to_owned(),
        ])),
        Err(error) => Err(Failure::bad_request(vec![format!(
            "Request body is not valid JSON: {error}"
        )])),
    }
}

/// Collects class-validator style messages for one object.
struct Checker<'a> {
    body: &'a Map<String, Value>,
    messages: Vec<String>,
}

impl<'a> Checker<'a> {
    fn string(&mut self, field: &str, required: bool) -> Option<&'a str> {
        match self.body.get(field) {
            None | Some(Value::Null) => {
                if required {
                    self.messages.push(format!("{field} should not be empty"));
                    self.messages.push(format!("{field} must be a string"));
                }
                None
            }
            Some(Value::String(text)) if required && text.is_empty() => {
                self.messages.push(format!("{field} should not be empty"));
                None
            }
            Some(Value::String(text)) => Some(text),
            Some(_) => {
                self.messages.push(format!("{field} must be a string"));
                None
            }
        }
    }

    fn integer(&mut self, field: &str, required: bool) -> Option<i64> {
        match self.body.get(field) {
            None | Some(Value::Null) => {
                if required {
                    self.messages
                        .push(format!("{field} must be an integer number"));
                }
                None
            }
            Some(Value::Number(number)) => match number.as_i64() {
                Some(value) => Some(value),
                None => {
                    self.messages
                        .push(format!("{field} must be an integer number"));
                    None
                }
            },
            Some(_) => {
                self.messages
                    .push(format!("{field} must be an integer number"));
                None
            }
        }
    }

    fn one_of(&mut self, field: &str, required: bool, allowed: &[&str]) -> Option<&'a str> {
        let value = self.string(field, required)?;
        if allowed.contains(&value) {
            Some(value)
        } else {
            self.messages.push(format!(
                "{field} must be one of the following values: {}",
                allowed.join(", ")
            ));
            None
        }
    }

    fn url(&mut self, field: &str) -> Option<&'a str> {
        let value = self.string(field, false)?;
        let valid = url::Url::parse(value)
            .map(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
            .unwrap_or(false);
        if valid {
            Some(value)
        } else {
            self.messages.push(format!("{field} must be a URL address"));
            None
        }
    }

    fn finish(self) -> Result<(), Failure> {
        if self.messages.is_empty() {
            Ok(())
        } else {
            Err(Failure::bad_request(self.messages))
        }
    }
}

/// Validates a `CreateProductRequestEntity` and builds the product.
pub(crate) fn parse_product(body: &Map<String, Value>, now: i64) -> Result<Product, Failure> {
    let mut check = Checker {
        body,
        messages: Vec::new(),
    };
    let name = check.string("name", true);
    let description = check.string("description", true);
    let price = check.integer("price", true);
    if price.is_some_and(|price| price != 0 && price < 100) {
        check
            .messages
            .push("price must be 0 (free product) or at least 100".to_owned());
    }
    let currency = check.one_of("currency", true, &["EUR", "USD"]);
    let billing_type = check.one_of("billing_type", true, &["recurring", "onetime"]);
    let periods = [
        "every-month",
        "every-three-months",
        "every-six-months",
        "every-year",
    ];
    let billing_period = check.one_of("billing_period", false, &periods);
    if billing_type == Some("recurring")
        && billing_period.is_none()
        && !body.contains_key("billing_period")
    {
        check
            .messages
            .push("billing_period is required for recurring products".to_owned());
    }
    let tax_mode = check.one_of("tax_mode", false, &["inclusive", "exclusive"]);
    let tax_category = check.one_of(
        "tax_category",
        false,
        &["saas", "digital-goods-service", "ebooks"],
    );
    let default_success_url = check.url("default_success_url");
    let image_url = check.string("image_url", false);
    check.finish()?;
    let (Some(name), Some(description), Some(price), Some(currency), Some(billing_type)) =
        (name, description, price, currency, billing_type)
    else {
        return Err(Failure::bad_request(vec!["invalid product".to_owned()]));
    };
    Ok(Product {
        id: new_id("prod_"),
        name: name.to_owned(),
        description: description.to_owned(),
        price,
        currency: currency.to_owned(),
        billing_type: billing_type.to_owned(),
        billing_period: if billing_type == "recurring" {
            billing_period.unwrap_or("every-month").to_owned()
        } else {
            "once".to_owned()
        },
        tax_mode: tax_mode.unwrap_or("inclusive").to_owned(),
        tax_category: tax_category.unwrap_or("saas").to_owned(),
        default_success_url: default_success_url.map(str::to_owned),
        image_url: image_url.map(str::to_owned),
        created: now,
    })
}

fn create_checkout(
    app: &App,
    state: &mut State,
    body: &Map<String, Value>,
) -> Result<Value, Failure> {
    let mut check = Checker {
        body,
        messages: Vec::new(),
    };
    let product_id = check.string("product_id", true);
    let request_id = check.string("request_id", false);
    // Discount codes are accepted (type-checked) but the sandbox has no
    // discount catalog, so they do not change the amount.
    let _discount_code = check.string("discount_code", false);
    let units = check.integer("units", false);
    if units.is_some_and(|units| units < 1) {
        check
            .messages
            .push("units must not be less than 1".to_owned());
    }
    let success_url = check.url("success_url");
    let mut customer_id = None;
    let mut customer_email = None;
    match body.get("customer") {
        None | Some(Value::Null) => {}
        Some(Value::Object(customer)) => {
            let mut inner = Checker {
                body: customer,
                messages: Vec::new(),
            };
            customer_id = inner.string("id", false);
            customer_email = inner.string("email", false);
            if customer_email.is_some_and(|email| !crate::stripe_sessions::plausible_email(email)) {
                inner.messages.push("email must be an email".to_owned());
            }
            if customer_id.is_some() && customer_email.is_some() {
                inner
                    .messages
                    .push("You may specify only one of these parameters: id or email".to_owned());
            }
            check.messages.extend(
                inner
                    .messages
                    .into_iter()
                    .map(|message| format!("customer.{message}")),
            );
        }
        Some(_) => check.messages.push("customer must be an object".to_owned()),
    }
    for field in ["custom_fields", "custom_field"] {
        match body.get(field) {
            None | Some(Value::Null) => {}
            Some(Value::Array(fields)) if fields.len() <= 3 => {}
            Some(Value::Array(_)) => check
                .messages
                .push(format!("{field} must contain no more than 3 elements")),
            Some(_) => check.messages.push(format!("{field} must be an array")),
        }
    }
    let metadata = match body.get("metadata") {
        None | Some(Value::Null) => None,
        Some(value @ Value::Object(_)) => Some(value.clone()),
        Some(_) => {
            check.messages.push("metadata must be an object".to_owned());
            None
        }
    };
    check.finish()?;
    let Some(product_id) = product_id else {
        return Err(Failure::bad_request(vec![
            "product_id must be a string".to_owned()
        ]));
    };
    if !state.products.contains_key(product_id) {
        return Err(Failure::not_found("Product not found"));
    }
    if let Some(customer_id) = customer_id {
        if !state
            .creem_customers
            .values()
            .any(|known| known == customer_id)
        {
            return Err(Failure::not_found("Customer not found"));
        }
    }
    let now = state.now();
    let checkout = CreemCheckout {
        id: new_id("ch_"),
        product_id: product_id.to_owned(),
        units: units.unwrap_or(1),
        request_id: request_id.map(str::to_owned),
        status: CheckoutStatus::Open,
        success_url: success_url.map(str::to_owned),
        metadata,
        customer_email: customer_email.map(str::to_owned),
        customer_id: customer_id.map(str::to_owned),
        expires_at: now + CHECKOUT_LIFETIME,
        payment: None,
    };
    let rendered = render_checkout(app, state, &checkout, false);
    state.counts.creem_checkouts += 1;
    state.checkouts.insert(checkout.id.clone(), checkout);
    Ok(rendered)
}

/// Formats Unix seconds as the ISO-8601 strings Creem entities use.
fn iso(seconds: i64) -> String {
    OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|time| time.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// Renders a product as Creem's `ProductEntity`.
pub(crate) fn render_product(app: &App, product: &Product) -> Value {
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
        "product_url": format!("{}/products/{}", app.base_url, product.id),
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
            object.insert("product".into(), render_product(app, product));
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
