//! Shared set-up for the Stripe adapter's tests.
// Each test file is its own crate and uses a subset of these helpers.
#![allow(dead_code)]

use std::sync::Arc;

use payswitch_core::{Catalog, Currency, ManualClock, ProviderKind, RetryConfig};
use payswitch_stripe::StripeConfig;
use payswitch_stripe::StripeProvider;
use serde_json::Value;
use wiremock::{MockServer, Request};

pub const KEY: &str = "sk_test_4eC39HqLyjWDarjtT1zdp7dc";
pub const WEBHOOK_SECRET: &str = "whsec_test_secret";
pub const OLD_WEBHOOK_SECRET: &str = "whsec_old_secret";
/// The time the manual clock shows.
pub const NOW: i64 = 1_800_000_000;

pub const SESSION: &str = include_str!("../fixtures/checkout_session.json");
pub const ITEM: &str = include_str!("../fixtures/item.json");
pub const PAYMENT_INTENT: &str = include_str!("../fixtures/payment_intent.json");
pub const EVENT: &str = include_str!("../fixtures/event.json");
pub const SUBSCRIPTION: &str = include_str!("../fixtures/subscription.json");
pub const SUBSCRIPTION_ITEM: &str = include_str!("../fixtures/subscription_item.json");
pub const REFUND: &str = include_str!("../fixtures/refund.json");
pub const CHARGE: &str = include_str!("../fixtures/charge.json");
pub const CUSTOMER: &str = include_str!("../fixtures/customer.json");
pub const DELETED_CUSTOMER: &str = include_str!("../fixtures/deleted_customer.json");
pub const PORTAL_SESSION: &str = include_str!("../fixtures/billing_portal_session.json");
pub const INVOICE: &str = include_str!("../fixtures/invoice.json");

pub fn fixture(text: &str) -> Value {
    serde_json::from_str(text).expect("fixture is JSON")
}

/// The checkout.session fixture with a few fields changed.
pub fn session_with(changes: Value) -> Value {
    let mut session = fixture(SESSION);
    if let (Some(object), Value::Object(changes)) = (session.as_object_mut(), changes) {
        for (key, value) in changes {
            object.insert(key, value);
        }
    }
    session
}

/// A fixture with a few top-level fields changed.
pub fn fixture_with(text: &str, changes: Value) -> Value {
    let mut object = fixture(text);
    if let (Some(fields), Value::Object(changes)) = (object.as_object_mut(), changes) {
        for (key, value) in changes {
            fields.insert(key, value);
        }
    }
    object
}

pub fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::at_unix(NOW))
}

pub fn catalog() -> Catalog {
    Catalog::new()
        .with("pro_monthly", payswitch_stripe::KIND, "price_1Pro")
        .with("creem_only", ProviderKind::new("creem"), "prod_x")
}

pub fn stripe_config(base: &str) -> StripeConfig {
    StripeConfig::new(KEY)
        .with_api_base(base)
        .with_webhook_secret(OLD_WEBHOOK_SECRET)
        .with_webhook_secret(WEBHOOK_SECRET)
}

/// A provider pointed at `base`, retrying twice without waiting, for an account settling in
/// USD.
pub fn provider(base: &str) -> StripeProvider {
    provider_with_retries(base, 2)
}

pub fn provider_with_retries(base: &str, retries: u32) -> StripeProvider {
    StripeProvider::builder(stripe_config(base))
        .retry(RetryConfig::immediate(retries))
        .catalog(catalog())
        .clock(clock())
        .settlement_currency(Currency::USD)
        .build()
        .expect("provider builds")
}

pub async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap_or_default()
}

pub fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request
        .headers
        .get(name)
        .and_then(|value| value.to_str().ok())
}

pub fn body(request: &Request) -> String {
    String::from_utf8(request.body.clone()).expect("body is UTF-8")
}

/// Asserts the headers every Stripe request carries, and the POST-only ones.
pub fn assert_common_headers(request: &Request, post: bool) {
    assert_eq!(
        header(request, "authorization"),
        Some(&*format!("Bearer {KEY}"))
    );
    assert_eq!(header(request, "stripe-version"), Some("2026-10-28.endive"));
    assert_eq!(
        header(request, "user-agent"),
        Some(payswitch_stripe::USER_AGENT)
    );
    assert!(payswitch_stripe::USER_AGENT.starts_with("payswitch-stripe/0.1.0"));
    if post {
        assert_eq!(
            header(request, "content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert!(header(request, "idempotency-key").is_some_and(|key| !key.is_empty()));
    } else {
        assert_eq!(header(request, "idempotency-key"), None);
        assert_eq!(header(request, "content-type"), None);
        assert!(request.body.is_empty());
    }
}
