//! The exact request on the wire for every call (`create_checkout`, `retrieve_checkout`), what
//! is refused before the network, what is ignored, and how the provider is configured.

mod common;

use std::time::Duration;

use common::*;
use payswitch_core::{
    CheckoutMode, CheckoutProvider, CheckoutRequest, CheckoutStatus, Config, Currency, LineItem,
    Money, PaymentError, PaymentStatus, UiMode,
};
use payswitch_creem::CreemConfig;
use payswitch_creem::{CreemProvider, LIVE_API_BASE, TEST_API_BASE, USER_AGENT};
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Mounts `POST /v1/checkouts` expecting exactly `body` and the standard headers, once, and
/// the product lookup that precedes it (one-time unless the body's product is recurring here).
async fn expect_create(server: &MockServer, body: serde_json::Value) {
    serve_product(server, "prod_pro_monthly", "onetime").await;
    serve_product(server, "prod_6tW66i0oZM7w1qXReHJrwg", "recurring").await;
    Mock::given(method("POST"))
        .and(path("/v1/checkouts"))
        .and(header("x-api-key", API_KEY))
        .and(header("content-type", "application/json"))
        .and(header("user-agent", USER_AGENT))
        .and(body_json(body))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(fixture("checkout_created.json"), "application/json"),
        )
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_catalog_sku_is_sent_as_product_id_with_units() {
    let server = MockServer::start().await;
    expect_create(
        &server,
        json!({"product_id": "prod_pro_monthly", "units": 2, "success_url": SUCCESS_URL}),
    )
    .await;
    let request = CheckoutRequest::builder()
        .line_item(LineItem::sku("pro_monthly", 2))
        .success_url(SUCCESS_URL)
        .build()
        .unwrap();

    let created = provider(&server).create_checkout(&request).await.unwrap();

    assert_eq!(created.id, "ch_1234567890");
    assert_eq!(created.provider, payswitch_creem::KIND);
    assert_eq!(created.status, CheckoutStatus::Open);
    assert_eq!(created.payment_status, PaymentStatus::Unpaid);
    assert_eq!(
        created.url.as_deref(),
        Some("https://checkout.creem.io/ch_1234567890")
    );
    assert_eq!(created.reference.as_deref(), Some("order_123"));
    assert_eq!(
        created.metadata.get("userId").map(String::as_str),
        Some("user_123")
    );
    assert!(created.ignored.is_empty());
    assert_eq!(created.raw["product"], "prod_abc123");

    let received = checkout_requests(&server).await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].url.path(), "/v1/checkouts");
    assert_eq!(received[0].url.query(), None);
}

#[tokio::test]
async fn a_native_id_with_customer_discount_metadata_and_reference() {
    let server = MockServer::start().await;
    expect_create(
        &server,
        json!({
            "product_id": "prod_6tW66i0oZM7w1qXReHJrwg",
            "request_id": "order-42",
            "units": 1,
            "discount_code": "LAUNCH50",
            "customer": {"email": "ada@example.com"},
            "success_url": SUCCESS_URL,
            "metadata": {"plan": "pro", "userId": "u_1"}
        }),
    )
    .await;
    let request = CheckoutRequest::builder()
        .line_item(LineItem::native("prod_6tW66i0oZM7w1qXReHJrwg", 1))
        .success_url(SUCCESS_URL)
        .reference("order-42")
        .customer_email("ada@example.com")
        .discount_code("LAUNCH50")
        .metadata("plan", "pro")
        .metadata("userId", "u_1")
        .mode(CheckoutMode::Subscription)
        .build()
        .unwrap();

    let created = provider(&server).create_checkout(&request).await.unwrap();
    assert!(created.ignored.is_empty(), "{:?}", created.ignored);
}

#[tokio::test]
async fn a_customer_id_is_sent_alone_and_the_email_is_listed_as_ignored() {
    let server = MockServer::start().await;
    expect_create(
        &server,
        json!({
            "product_id": "prod_pro_monthly",
            "units": 1,
            "customer": {"id": "cust_2KaCAtu6l3tpjIr8Nr9XOp"},
            "success_url": SUCCESS_URL
        }),
    )
    .await;
    let mut request = request();
    request.customer_id = Some("cust_2KaCAtu6l3tpjIr8Nr9XOp".into());
    request.customer_email = Some("ada@example.com".into());

    let created = provider(&server).create_checkout(&request).await.unwrap();
    assert_eq!(created.ignored, ["customer_email"]);
}

#[tokio::test]
async fn experience_hints_are_not_sent_and_are_listed() {
    let server = MockServer::start().await;
    expect_create(
        &server,
        json!({"product_id": "prod_pro_monthly", "units": 1, "success_url": SUCCESS_URL}),
    )
    .await;
    let request = CheckoutRequest::builder()
        .line_item(LineItem::sku("pro_monthly", 1))
        .success_url(SUCCESS_URL)
        .cancel_url("https://shop.example/cancel")
        .locale("fr")
        .expires_in(Duration::from_secs(1800))
        .allow_discount_codes(true)
        .currency(Currency::EUR)
        .idempotency_key("create-order-42")
        .build()
        .unwrap();

    let created = provider(&server).create_checkout(&request).await.unwrap();
    assert_eq!(
        created.ignored,
        [
            "cancel_url",
            "locale",
            "expires_in",
            "allow_discount_codes",
            "currency",
            "idempotency_key"
        ]
    );
}

#[tokio::test]
async fn the_checkout_session_placeholder_is_dropped_from_the_success_url() {
    let server = MockServer::start().await;
    expect_create(
        &server,
        json!({
            "product_id": "prod_pro_monthly",
            "units": 1,
            "success_url": "https://shop.example/done?plan=pro"
        }),
    )
    .await;
    let request = CheckoutRequest::builder()
        .line_item(LineItem::sku("pro_monthly", 1))
        .success_url("https://shop.example/done?session_id={CHECKOUT_SESSION_ID}&plan=pro")
        .build()
        .unwrap();

    let created = provider(&server).create_checkout(&request).await.unwrap();
    assert_eq!(created.ignored, ["success_url.{CHECKOUT_SESSION_ID}"]);
}

#[tokio::test]
async fn the_product_is_looked_up_once_and_a_contradicting_mode_is_refused_before_creating() {
    let server = MockServer::start().await;
    // Exact wire of the lookup: GET /v1/products?product_id=…, the key, no body.
    Mock::given(method("GET"))
        .and(path("/v1/products"))
        .and(wiremock::matchers::query_param(
            "product_id",
            "prod_pro_monthly",
        ))
        .and(header("x-api-key", API_KEY))
        .and(header("user-agent", USER_AGENT))
        .and(header("accept", "application/json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "prod_pro_monthly", "mode": "test", "object": "product",
            "price": 1000, "currency": "EUR", "billing_type": "recurring",
            "billing_period": "every-month"
        })))
        .expect(1)
        .mount(&server)
        .await;
    answer_create(
        &server,
        ResponseTemplate::new(200)
            .set_body_raw(fixture("checkout_created.json"), "application/json"),
    )
    .await;
    let provider = provider(&server);

    // Payment mode (the default) for a recurring product: refused, nothing created.
    match provider.create_checkout(&request()).await {
        Err(PaymentError::InvalidRequest { field, gateway, .. }) => {
            assert_eq!(field, "mode");
            assert!(gateway.is_none());
        }
        other => panic!("expected InvalidRequest on mode, got {other:?}"),
    }
    assert_eq!(requests(&server).await, 0, "no checkout was created");

    // Subscription mode matches; the billing type is remembered (the mock expects one GET).
    let mut subscription = request();
    subscription.mode = CheckoutMode::Subscription;
    provider.create_checkout(&subscription).await.unwrap();
    provider.create_checkout(&subscription).await.unwrap();
    let received = server.received_requests().await.unwrap();
    let lookups: Vec<_> = received
        .iter()
        .filter(|request| request.url.path() == "/v1/products")
        .collect();
    assert_eq!(lookups.len(), 1);
    assert_eq!(lookups[0].method.as_str(), "GET");
    assert_eq!(lookups[0].url.query(), Some("product_id=prod_pro_monthly"));
    assert!(lookups[0].body.is_empty());
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test]
async fn an_unknown_product_is_not_found_before_creating() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/products"))
        .respond_with(creem_error(404, json!(["Product not found"])))
        .mount(&server)
        .await;
    match provider(&server).create_checkout(&request()).await {
        Err(PaymentError::NotFound { id, .. }) => assert_eq!(id, "prod_pro_monthly"),
        other => panic!("expected NotFound, got {other:?}"),
    }
    assert_eq!(requests(&server).await, 0);
}

#[tokio::test]
async fn retrieve_sends_the_id_as_a_query_parameter_without_a_body() {
    let server = MockServer::start().await;
    serve_checkout(&server, "ch_1234567890", fixture("checkout_created.json")).await;

    let checkout = provider(&server)
        .retrieve_checkout("ch_1234567890")
        .await
        .unwrap();
    assert_eq!(checkout.id, "ch_1234567890");

    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].url.query(), Some("checkout_id=ch_1234567890"));
    assert!(received[0].body.is_empty());
    assert!(received[0].headers.get("content-type").is_none());
}

fn unsupported(outcome: Result<payswitch_core::CheckoutResult, PaymentError>) -> String {
    match outcome {
        Err(PaymentError::Unsupported {
            provider: payswitch_creem::KIND,
            operation,
        }) => operation.into_owned(),
        other => panic!("expected Unsupported, got {other:?}"),
    }
}

#[tokio::test]
async fn what_changes_the_charge_is_refused_before_any_request() {
    let server = MockServer::start().await;
    let provider = provider(&server);

    let custom = CheckoutRequest::builder()
        .line_item(LineItem::custom(
            "T-shirt",
            Money::new(2000, Currency::USD),
            1,
        ))
        .success_url(SUCCESS_URL)
        .build()
        .unwrap();
    assert_eq!(
        unsupported(provider.create_checkout(&custom).await),
        "custom-priced line items"
    );

    let two_items = CheckoutRequest::builder()
        .line_item(LineItem::sku("pro_monthly", 1))
        .line_item(LineItem::native("prod_other", 1))
        .success_url(SUCCESS_URL)
        .build()
        .unwrap();
    assert_eq!(
        unsupported(provider.create_checkout(&two_items).await),
        "more than one line item"
    );

    let setup = CheckoutRequest::builder()
        .mode(CheckoutMode::Setup)
        .currency(Currency::USD)
        .success_url(SUCCESS_URL)
        .build()
        .unwrap();
    assert_eq!(
        unsupported(provider.create_checkout(&setup).await),
        "setup mode"
    );

    let embedded = CheckoutRequest::builder()
        .line_item(LineItem::sku("pro_monthly", 1))
        .ui_mode(UiMode::Embedded)
        .success_url(SUCCESS_URL)
        .build()
        .unwrap();
    assert_eq!(
        unsupported(provider.create_checkout(&embedded).await),
        "embedded checkout (ui_mode = embedded)"
    );

    let discount_id = CheckoutRequest::builder()
        .line_item(LineItem::sku("pro_monthly", 1))
        .discount_id("dis_123")
        .success_url(SUCCESS_URL)
        .build()
        .unwrap();
    assert_eq!(
        unsupported(provider.create_checkout(&discount_id).await),
        "a discount id (send the customer-facing discount_code)"
    );

    assert_eq!(
        unsupported(provider.expire_checkout("ch_1234567890").await),
        "expire_checkout"
    );

    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn malformed_requests_are_invalid_before_any_request() {
    let server = MockServer::start().await;
    let provider = provider(&server);

    let mut zero = request();
    zero.line_items[0].quantity = 0;
    let unknown_sku = CheckoutRequest::builder()
        .line_item(LineItem::sku("enterprise", 1))
        .success_url(SUCCESS_URL)
        .build()
        .unwrap();
    let stripe_only_sku = CheckoutRequest::builder()
        .line_item(LineItem::sku("stripe_only", 1))
        .success_url(SUCCESS_URL)
        .build()
        .unwrap();
    let mut bad_url = request();
    bad_url.success_url = "not a url".into();
    let mut no_items = request();
    no_items.line_items.clear();
    let mut path_placeholder = request();
    path_placeholder.success_url = "https://shop.example/{CHECKOUT_SESSION_ID}".into();

    for (request, expected_field) in [
        (zero, "line_items[0].quantity"),
        (unknown_sku, "line_items[0].product"),
        (stripe_only_sku, "line_items[0].product"),
        (bad_url, "success_url"),
        (no_items, "line_items"),
        (path_placeholder, "success_url"),
    ] {
        match provider.create_checkout(&request).await {
            Err(error @ PaymentError::InvalidRequest { .. }) => {
                assert!(error.is_local());
                let PaymentError::InvalidRequest { field, .. } = error else {
                    unreachable!()
                };
                assert_eq!(field, expected_field);
            }
            other => panic!("expected InvalidRequest on {expected_field}, got {other:?}"),
        }
    }
    match provider.retrieve_checkout(" ").await {
        Err(PaymentError::InvalidRequest { field, .. }) => assert_eq!(field, "id"),
        other => panic!("expected InvalidRequest, got {other:?}"),
    }

    assert!(server.received_requests().await.unwrap().is_empty());
}

#[test]
fn capabilities_declare_the_rules() {
    let capabilities = provider_at(
        "http://127.0.0.1:9",
        payswitch_core::RetryConfig::immediate(0),
    )
    .capabilities();
    assert!(capabilities.quantities);
    assert!(capabilities.subscription_mode);
    assert!(capabilities.discount_codes);
    assert!(capabilities.customer_id);
    assert!(capabilities.signed_returns);
    assert!(!capabilities.custom_priced_items);
    assert!(!capabilities.multiple_line_items);
    assert!(!capabilities.setup_mode);
    assert!(!capabilities.expire);
    assert!(!capabilities.locale);
    assert!(!capabilities.cancel_url);
    assert!(!capabilities.expires_in);
    assert!(!capabilities.embedded_checkout);
    assert!(!capabilities.customer_discount_entry);
    assert!(!capabilities.webhook_timestamps);
}

#[test]
fn the_base_url_follows_the_key_unless_configured() {
    let test = CreemProvider::builder(CreemConfig::new("creem_test_abc"))
        .build()
        .unwrap();
    assert_eq!(test.api_base(), TEST_API_BASE);
    let live = CreemProvider::builder(CreemConfig::new("creem_live_abc"))
        .build()
        .unwrap();
    assert_eq!(live.api_base(), LIVE_API_BASE);
    let bare = CreemProvider::builder(CreemConfig::new("creem_abc"))
        .build()
        .unwrap();
    assert_eq!(bare.api_base(), LIVE_API_BASE);
    let local = CreemProvider::builder(
        CreemConfig::new("creem_live_abc").with_api_base("http://127.0.0.1:4010/"),
    )
    .build()
    .unwrap();
    assert_eq!(local.api_base(), "http://127.0.0.1:4010");
    assert_eq!(local.kind(), payswitch_creem::KIND);
}

#[test]
fn from_config_reads_the_creem_section_and_names_what_is_missing() {
    let config = Config::from_vars_with(
        [
            ("CREEM_API_KEY", API_KEY),
            ("CREEM_API_BASE", "http://127.0.0.1:4010"),
            ("CREEM_WEBHOOK_SECRET", "whsec_a,whsec_b"),
        ],
        &[&payswitch_creem::ENV],
    )
    .unwrap();
    let provider = CreemProvider::from_config(&config).unwrap();
    assert_eq!(provider.api_base(), "http://127.0.0.1:4010");

    let from_key_only = Config::from_vars_with(
        [("CREEM_API_KEY", "creem_test_x")],
        &[&payswitch_creem::ENV],
    )
    .unwrap();
    assert_eq!(
        CreemProvider::from_config(&from_key_only)
            .unwrap()
            .api_base(),
        TEST_API_BASE
    );

    match CreemProvider::from_config(&Config::default()) {
        Err(PaymentError::Config(message)) => {
            assert!(message.contains("[creem]"), "{message}");
            assert!(message.contains("CREEM_API_KEY"), "{message}");
        }
        other => panic!("expected a Config error, got {other:?}"),
    }
}
