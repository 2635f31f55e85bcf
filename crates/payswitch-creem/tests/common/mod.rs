//! Shared helpers for the adapter's wire tests: a provider pointed at a local wiremock server,
//! fixtures, and signing helpers written independently of the crate's own code.

#![allow(dead_code)]

use std::time::Duration;

use hmac::{Hmac, Mac};
use payswitch_core::{
    Catalog, CheckoutRequest, HttpConfig, LineItem, PaymentError, ProviderKind, RetryConfig,
};
use payswitch_creem::CreemConfig;
use payswitch_creem::{CreemProvider, USER_AGENT};
use sha2::{Digest, Sha256};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A test-mode API key; tests assert it never shows up in errors or Debug output.
pub const API_KEY: &str = "creem_test_4f2a9Kq7TOPSECRETVALUE";
/// The part of the key that must never be printed.
pub const KEY_TAIL: &str = "TOPSECRETVALUE";
/// The current webhook secret.
pub const WEBHOOK_SECRET: &str = "whsec_current_5d8f";
/// The previous webhook secret, still accepted while rotating.
pub const OLD_WEBHOOK_SECRET: &str = "whsec_previous_91ab";
/// The success URL most requests use.
pub const SUCCESS_URL: &str = "https://shop.example/thanks";

/// A fixture file's text.
pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("fixture {path}: {error}"))
}

/// The catalog the tests use: `pro_monthly` → `prod_pro_monthly`.
pub fn catalog() -> Catalog {
    Catalog::new()
        .with("pro_monthly", payswitch_creem::KIND, "prod_pro_monthly")
        .with("stripe_only", ProviderKind::new("stripe"), "price_1")
}

/// Creem settings pointed at `base`.
pub fn settings(base: &str) -> CreemConfig {
    CreemConfig::new(API_KEY)
        .with_webhook_secret(WEBHOOK_SECRET)
        .with_webhook_secret(OLD_WEBHOOK_SECRET)
        .with_api_base(base)
}

/// A provider pointed at the mock server, retrying twice without sleeping.
pub fn provider(server: &MockServer) -> CreemProvider {
    provider_at(&server.uri(), RetryConfig::immediate(2))
}

/// A provider pointed at `base` with the given retry settings and a short timeout.
pub fn provider_at(base: &str, retry: RetryConfig) -> CreemProvider {
    CreemProvider::builder(settings(base))
        .retry(retry)
        .http(HttpConfig {
            timeout: Duration::from_millis(500),
            connect_timeout: Duration::from_millis(500),
        })
        .catalog(catalog())
        .build()
        .expect("provider builds")
}

/// A valid one-item request for the catalog SKU.
pub fn request() -> CheckoutRequest {
    CheckoutRequest::builder()
        .line_item(LineItem::sku("pro_monthly", 1))
        .success_url(SUCCESS_URL)
        .build()
        .expect("valid request")
}

/// `hex(HMAC-SHA256(secret, body))`, as Creem signs webhooks.
pub fn webhook_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// `hex(SHA-256("k=v|…|salt=<key>"))` over already-decoded pairs, as Creem signs redirects.
pub fn redirect_signature(pairs: &[(&str, &str)], api_key: &str) -> String {
    let mut parts: Vec<String> = pairs
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    parts.push(format!("salt={api_key}"));
    hex::encode(Sha256::digest(parts.join("|").as_bytes()))
}

/// Serves `body` for `GET /v1/checkouts?checkout_id=<id>` with the standard headers.
pub async fn serve_checkout(server: &MockServer, id: &str, body: String) {
    Mock::given(method("GET"))
        .and(path("/v1/checkouts"))
        .and(query_param("checkout_id", id))
        .and(header("x-api-key", API_KEY))
        .and(header("user-agent", USER_AGENT))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/json"))
        .expect(1)
        .mount(server)
        .await;
}

/// Creem's error body (`trace_id`, `status`, `error`, `message` when not null) with `status`.
pub fn creem_error(status: u16, message: serde_json::Value) -> ResponseTemplate {
    let mut body = serde_json::json!({
        "trace_id": "550e8400-e29b-41d4-a716-446655440000",
        "status": status,
        "error": "Bad Request",
        "timestamp": 1706889600000u64
    });
    if !message.is_null() {
        body["message"] = message;
    }
    ResponseTemplate::new(status).set_body_json(body)
}

/// Serves `GET /v1/products?product_id=<id>` (with the standard headers) as a product of
/// `billing_type` (`onetime` or `recurring`), as Creem's `ProductEntity`.
pub async fn serve_product(server: &MockServer, id: &str, billing_type: &str) {
    let body = serde_json::json!({
        "id": id,
        "mode": "test",
        "object": "product",
        "name": "Pro",
        "price": 1000,
        "currency": "EUR",
        "billing_type": billing_type,
        "billing_period": if billing_type == "recurring" { "every-month" } else { "once" },
        "status": "active",
        "created_at": "2024-10-11T11:50:00.182Z",
        "updated_at": "2024-10-11T11:50:00.182Z"
    });
    Mock::given(method("GET"))
        .and(path("/v1/products"))
        .and(query_param("product_id", id))
        .and(header("x-api-key", API_KEY))
        .and(header("user-agent", USER_AGENT))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

/// Answers every `POST /v1/checkouts` with `response`, and the catalog's product (and the
/// natively named ones the tests use) as one-time products.
pub async fn answer_create(server: &MockServer, response: ResponseTemplate) {
    serve_product(server, "prod_pro_monthly", "onetime").await;
    Mock::given(method("POST"))
        .and(path("/v1/checkouts"))
        .respond_with(response)
        .mount(server)
        .await;
}

/// Answers every `GET /v1/checkouts` with `response`.
pub async fn answer_retrieve(server: &MockServer, response: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path("/v1/checkouts"))
        .respond_with(response)
        .mount(server)
        .await;
}

/// How many checkout requests the server received (the product lookup that checks a
/// create's mode, `GET /v1/products`, is not counted; `requests.rs` asserts it).
pub async fn requests(server: &MockServer) -> usize {
    checkout_requests(server).await.len()
}

/// The checkout requests the server received, without the product lookups.
pub async fn checkout_requests(server: &MockServer) -> Vec<wiremock::Request> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|request| request.url.path() != "/v1/products")
        .collect()
}

/// Asserts the error's `Display` and `Debug` hold no part of the API key.
pub fn assert_no_key(error: &PaymentError) {
    let text = format!("{error} {error:?}");
    assert!(!text.contains(KEY_TAIL), "{text}");
}
