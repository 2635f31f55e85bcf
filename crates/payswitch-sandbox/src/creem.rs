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

use crate::app::App;
pub(crate) use crate::creem_objects::{
    checkout_amount, complete, expire, expire_due, render_checkout, render_product,
};
use crate::respond;
use crate::state::{new_id, wall_clock_seconds, CheckoutStatus, CreemCheckout, Product, State};

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
    respond::json(status, body.to_string())
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
                let rendered = render_product(&product);
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
                Ok(render_product(product))
            }
            _ => Err(Failure::not_found(&format!("Cannot {method} {path}"))),
        }
    })();
    match result {
        Ok(body) => respond::json(StatusCode::OK, body.to_string()),
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
    // Keeps price × units far from i64 overflow on the page and in orders.
    if units.is_some_and(|units| units > 1_000_000) {
        check
            .messages
            .push("units must not be greater than 1000000".to_owned());
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
    state.note_expiry(checkout.expires_at);
    state.checkouts.insert(checkout.id.clone(), checkout);
    Ok(rendered)
}
