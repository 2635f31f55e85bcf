//! The exact requests the adapter sends (method, path, headers, body), the local refusals
//! that send nothing, and the settings a provider is built from.

mod common;

use std::time::Duration;

use common::*;
use payswitch_core::{
    CheckoutMode, CheckoutProvider, CheckoutRequest, CheckoutStatus, Currency, Interval, LineItem,
    Money, PaymentError, PaymentStatus, Recurring, UiMode,
};
use payswitch_stripe::{PaymentIntentRequest, PaymentIntentStatus};
use serde_json::json;
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn server_answering(http_method: &str, at: &str, answer: serde_json::Value) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method(http_method))
        .and(path(at))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Request-Id", "req_ok")
                .set_body_json(answer),
        )
        .mount(&server)
        .await;
    server
}

fn hosted_request() -> CheckoutRequest {
    CheckoutRequest::builder()
        .line_item(
            LineItem::custom("T-shirt & cap", Money::new(2000, Currency::USD), 2)
                .with_description("100% cotton"),
        )
        .line_item(LineItem::native("price_123", 1))
        .success_url("https://example.com/success?session_id={CHECKOUT_SESSION_ID}")
        .cancel_url("https://example.com/cancel")
        .customer_email("ana+shop@example.com")
        .reference("order 42")
        .metadata("order_id", "ord 42")
        .metadata("note", "a=b&c")
        .allow_discount_codes(true)
        .locale("fr")
        .expires_in(Duration::from_secs(3600))
        .idempotency_key("idem-abc-1")
        .build()
        .unwrap()
}

#[tokio::test]
async fn create_hosted_sends_the_exact_form() {
    let answer = session_with(json!({
        "amount_total": 5000,
        "currency": "usd",
        "client_reference_id": "order 42",
        "metadata": {"order_id": "ord 42", "note": "a=b&c"},
        "customer": "cus_1",
    }));
    let server = server_answering("POST", "/v1/checkout/sessions", answer).await;
    let stripe = provider(&server.uri());

    let result = stripe.create_checkout(&hosted_request()).await.unwrap();

    let sent = requests(&server).await;
    assert_eq!(sent.len(), 1);
    let request = &sent[0];
    assert_eq!(request.method.as_str(), "POST");
    assert_eq!(request.url.path(), "/v1/checkout/sessions");
    assert_common_headers(request, true);
    assert_eq!(header(request, "idempotency-key"), Some("idem-abc-1"));
    assert_eq!(
        body(request),
        format!(
            "mode=payment\
             &line_items[0][price_data][currency]=usd\
             &line_items[0][price_data][unit_amount]=2000\
             &line_items[0][price_data][product_data][name]=T-shirt%20%26%20cap\
             &line_items[0][price_data][product_data][description]=100%25%20cotton\
             &line_items[0][quantity]=2\
             &line_items[1][price]=price_123\
             &line_items[1][quantity]=1\
             &success_url=https%3A%2F%2Fexample.com%2Fsuccess%3Fsession_id%3D%7BCHECKOUT_SESSION_ID%7D\
             &cancel_url=https%3A%2F%2Fexample.com%2Fcancel\
             &customer_email=ana%2Bshop%40example.com\
             &client_reference_id=order%2042\
             &metadata[note]=a%3Db%26c\
             &metadata[order_id]=ord%2042\
             &allow_promotion_codes=true\
             &locale=fr\
             &expires_at={}",
            NOW + 3600
        )
    );

    assert_eq!(
        result.id,
        "cs_test_a1YS1URlnyQCN5fUUduORoQ7Pw41PJqDWkIVQCpJPqkfIhd6tVY8XB1OLY"
    );
    assert_eq!(result.status, CheckoutStatus::Open);
    assert_eq!(result.payment_status, PaymentStatus::Unpaid);
    assert_eq!(result.mode, Some(CheckoutMode::Payment));
    assert_eq!(
        result.url.as_deref(),
        Some("https://checkout.stripe.com/pay/c/cs_test_a1YS1URlnyQCN5fUUduORoQ7Pw41PJqDWkIVQCpJPqkfIhd6tVY8XB1OLY")
    );
    assert_eq!(result.amount_total, Some(Money::new(5000, Currency::USD)));
    assert_eq!(
        result.customer_email.as_deref(),
        Some("example@example.com")
    );
    assert_eq!(result.customer_id.as_deref(), Some("cus_1"));
    assert_eq!(result.reference.as_deref(), Some("order 42"));
    assert_eq!(
        result.metadata.get("order_id").map(String::as_str),
        Some("ord 42")
    );
    assert_eq!(
        result.payment_id.as_deref(),
        Some("pi_1PgafyB7WZ01zgkWSjxsAJo3")
    );
    assert_eq!(result.subscription_id, None);
    assert_eq!(
        result.created_at.map(|t| t.unix_timestamp()),
        Some(1_234_567_890)
    );
    assert_eq!(
        result.expires_at.map(|t| t.unix_timestamp()),
        Some(1_234_567_890)
    );
    assert!(result.client_secret.is_none());
    assert!(result.ignored.is_empty());
    assert_eq!(result.raw["object"], "checkout.session");
}

#[tokio::test]
async fn create_embedded_sends_return_url_and_ignores_cancel_url() {
    let answer = session_with(json!({
        "ui_mode": "embedded_page",
        "url": null,
        "client_secret": "cs_test_secret_abc",
    }));
    let server = server_answering("POST", "/v1/checkout/sessions", answer).await;
    let stripe = provider(&server.uri());
    let request = CheckoutRequest::builder()
        .ui_mode(UiMode::Embedded)
        .line_item(LineItem::custom("Plan", Money::new(1500, Currency::EUR), 1))
        .success_url("https://example.com/return?session_id={CHECKOUT_SESSION_ID}")
        .cancel_url("https://example.com/cancel")
        .customer_id("cus_42")
        .customer_email("ana@example.com")
        .currency(Currency::EUR)
        .build()
        .unwrap();

    let result = stripe.create_checkout(&request).await.unwrap();

    let sent = requests(&server).await;
    assert_eq!(sent.len(), 1);
    assert_common_headers(&sent[0], true);
    assert_eq!(
        body(&sent[0]),
        "mode=payment\
         &ui_mode=embedded_page\
         &line_items[0][price_data][currency]=eur\
         &line_items[0][price_data][unit_amount]=1500\
         &line_items[0][price_data][product_data][name]=Plan\
         &line_items[0][quantity]=1\
         &return_url=https%3A%2F%2Fexample.com%2Freturn%3Fsession_id%3D%7BCHECKOUT_SESSION_ID%7D\
         &customer=cus_42"
    );
    // No reference and no key: a random UUID v4 key.
    let key = header(&sent[0], "idempotency-key").unwrap();
    let uuid = key.strip_prefix("payswitch-").unwrap();
    assert_eq!(uuid.len(), 36);
    assert_eq!(uuid.as_bytes()[14], b'4');
    assert_eq!(
        result.ignored,
        vec!["cancel_url", "customer_email", "currency"]
    );
    assert_eq!(result.url, None);
    let secret = result.client_secret.as_ref().unwrap();
    assert_eq!(secret.expose(), "cs_test_secret_abc");
    assert!(!format!("{result:?}").contains("cs_test_secret_abc"));
    assert_eq!(result.raw["client_secret"], "[redacted]");
}

#[tokio::test]
async fn create_subscription_with_recurring_custom_price() {
    let answer = session_with(json!({"mode": "subscription", "payment_intent": null}));
    let server = server_answering("POST", "/v1/checkout/sessions", answer).await;
    let stripe = provider(&server.uri());
    let request = CheckoutRequest::builder()
        .mode(CheckoutMode::Subscription)
        .line_item(
            LineItem::custom("Pro plan", Money::new(1200, Currency::USD), 1).with_recurring(
                Recurring {
                    interval: Interval::Month,
                    interval_count: 3,
                },
            ),
        )
        .success_url("https://example.com/ok")
        .discount_id("promo_SUMMER")
        .build()
        .unwrap();

    let result = stripe.create_checkout(&request).await.unwrap();

    let sent = requests(&server).await;
    assert_eq!(
        body(&sent[0]),
        "mode=subscription\
         &line_items[0][price_data][currency]=usd\
         &line_items[0][price_data][unit_amount]=1200\
         &line_items[0][price_data][product_data][name]=Pro%20plan\
         &line_items[0][price_data][recurring][interval]=month\
         &line_items[0][price_data][recurring][interval_count]=3\
         &line_items[0][quantity]=1\
         &success_url=https%3A%2F%2Fexample.com%2Fok\
         &discounts[0][promotion_code]=promo_SUMMER"
    );
    assert_eq!(result.mode, Some(CheckoutMode::Subscription));
}

#[tokio::test]
async fn a_subscription_checkout_carries_reference_and_metadata_to_the_subscription() {
    let answer = session_with(json!({"mode": "subscription", "payment_intent": null}));
    let server = server_answering("POST", "/v1/checkout/sessions", answer).await;
    let stripe = provider(&server.uri());
    let request = CheckoutRequest::builder()
        .mode(CheckoutMode::Subscription)
        .line_item(LineItem::native("price_1Pro", 1))
        .success_url("https://example.com/ok")
        .customer_id("cus_QXg1o8vcGmoR32")
        .reference("order 9")
        .metadata("plan", "pro")
        .idempotency_key("idem-sub-9")
        .build()
        .unwrap();

    stripe.create_checkout(&request).await.unwrap();

    let sent = requests(&server).await;
    assert_eq!(sent.len(), 1);
    assert_common_headers(&sent[0], true);
    // The session keeps its own reference and metadata; the subscription it creates (for
    // the given customer) gets both under subscription_data[metadata].
    assert_eq!(
        body(&sent[0]),
        "mode=subscription\
         &line_items[0][price]=price_1Pro\
         &line_items[0][quantity]=1\
         &success_url=https%3A%2F%2Fexample.com%2Fok\
         &customer=cus_QXg1o8vcGmoR32\
         &client_reference_id=order%209\
         &metadata[plan]=pro\
         &subscription_data[metadata][payswitch_reference]=order%209\
         &subscription_data[metadata][plan]=pro"
    );
    // Payment mode creates no subscription, so nothing is copied.
    let payment = CheckoutRequest::builder()
        .line_item(LineItem::native("price_123", 1))
        .success_url("https://example.com/ok")
        .reference("order 10")
        .metadata("plan", "pro")
        .build()
        .unwrap();
    let body = String::from_utf8(stripe.checkout_body(&payment).unwrap()).unwrap();
    assert!(!body.contains("subscription_data"), "{body}");
}

#[tokio::test]
async fn subscription_metadata_that_cannot_carry_the_reference_is_refused_locally() {
    let server = MockServer::start().await;
    let stripe = provider(&server.uri());
    let base = || {
        CheckoutRequest::builder()
            .mode(CheckoutMode::Subscription)
            .line_item(LineItem::native("price_1Pro", 1))
            .success_url("https://example.com/ok")
            .reference("order-11")
    };
    let own_key = base()
        .metadata(payswitch_stripe::SUBSCRIPTION_REFERENCE_KEY, "x")
        .build()
        .unwrap();
    let error = stripe.create_checkout(&own_key).await.unwrap_err();
    assert!(
        matches!(&error, PaymentError::InvalidRequest { field, gateway: None, .. } if field == "metadata[payswitch_reference]"),
        "{error:?}"
    );
    let full = (0..50)
        .fold(base(), |builder, index| {
            builder.metadata(format!("key{index}"), "v")
        })
        .build()
        .unwrap();
    let error = stripe.create_checkout(&full).await.unwrap_err();
    assert!(
        matches!(&error, PaymentError::InvalidRequest { field, gateway: None, .. } if field == "metadata"),
        "{error:?}"
    );
    assert!(requests(&server).await.is_empty());
}

#[tokio::test]
async fn create_with_catalog_sku_and_derived_idempotency_key() {
    let server = server_answering("POST", "/v1/checkout/sessions", fixture(SESSION)).await;
    let stripe = provider(&server.uri());
    let request = CheckoutRequest::builder()
        .mode(CheckoutMode::Subscription)
        .line_item(LineItem::sku("pro_monthly", 2))
        .success_url("https://example.com/ok")
        .reference("order-7")
        .expires_in(Duration::from_secs(1800))
        .build()
        .unwrap();

    stripe.create_checkout(&request).await.unwrap();
    stripe.create_checkout(&request).await.unwrap();
    // Another instance, a few seconds later, converges on the same key.
    let later = StripeProviderWithClock::later(&server.uri());
    later.create_checkout(&request).await.unwrap();

    let sent = requests(&server).await;
    assert_eq!(sent.len(), 3);
    assert_eq!(
        body(&sent[0]),
        format!(
            "mode=subscription\
             &line_items[0][price]=price_1Pro\
             &line_items[0][quantity]=2\
             &success_url=https%3A%2F%2Fexample.com%2Fok\
             &client_reference_id=order-7\
             &expires_at={}\
             &subscription_data[metadata][payswitch_reference]=order-7",
            // 30 min is sent as 35 min: a margin inside Stripe's window for latency,
            // retries and clock skew. The subscription carries the reference, which
            // subscriptions have no client_reference_id for.
            NOW + 35 * 60
        )
    );
    let keys: Vec<_> = sent
        .iter()
        .map(|request| header(request, "idempotency-key").unwrap().to_owned())
        .collect();
    assert!(keys[0].starts_with("payswitch-ref-"));
    assert!(keys[0].ends_with("-g0"));
    assert_eq!(keys[0].len(), "payswitch-ref-".len() + 64 + "-g0".len());
    assert_eq!(keys[0], keys[1]);
    assert_eq!(keys[0], keys[2]);

    // A different order gets a different key.
    let other = CheckoutRequest::builder()
        .mode(CheckoutMode::Subscription)
        .line_item(LineItem::sku("pro_monthly", 2))
        .success_url("https://example.com/ok")
        .reference("order-8")
        .expires_in(Duration::from_secs(1800))
        .build()
        .unwrap();
    stripe.create_checkout(&other).await.unwrap();
    let sent = requests(&server).await;
    assert_ne!(header(&sent[3], "idempotency-key").unwrap(), keys[0]);
}

/// A provider whose clock runs a few seconds behind the default one.
struct StripeProviderWithClock;

impl StripeProviderWithClock {
    fn later(base: &str) -> payswitch_stripe::StripeProvider {
        payswitch_stripe::StripeProvider::builder(stripe_config(base))
            .retry(payswitch_core::RetryConfig::immediate(0))
            .catalog(catalog())
            .clock(std::sync::Arc::new(payswitch_core::ManualClock::at_unix(
                NOW + 7,
            )))
            .build()
            .unwrap()
    }
}

#[tokio::test]
async fn retrieve_and_expire() {
    let server = MockServer::start().await;
    let id = "cs_test_a1YS1URlnyQCN5fUUduORoQ7Pw41PJqDWkIVQCpJPqkfIhd6tVY8XB1OLY";
    Mock::given(method("GET"))
        .and(path(format!("/v1/checkout/sessions/{id}")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(session_with(json!({
                "status": "complete",
                "payment_status": "paid",
                "amount_total": 2000,
                "currency": "usd",
            }))),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/v1/checkout/sessions/{id}/expire")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(session_with(json!({"status": "expired", "url": null}))),
        )
        .mount(&server)
        .await;
    let stripe = provider(&server.uri());

    let retrieved = stripe.retrieve_checkout(id).await.unwrap();
    assert!(retrieved.is_paid());
    assert_eq!(
        retrieved.amount_total,
        Some(Money::new(2000, Currency::USD))
    );
    let expired = stripe.expire_checkout(id).await.unwrap();
    assert_eq!(expired.status, CheckoutStatus::Expired);

    let sent = requests(&server).await;
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].method.as_str(), "GET");
    assert_eq!(sent[0].url.query(), None);
    assert_common_headers(&sent[0], false);
    assert_eq!(sent[1].method.as_str(), "POST");
    assert_common_headers(&sent[1], true);
    assert_eq!(body(&sent[1]), "");
}

#[tokio::test]
async fn ids_are_path_encoded_and_empty_ids_refused() {
    let server = MockServer::start().await;
    let stripe = provider(&server.uri());
    let error = stripe
        .retrieve_checkout("../v1/charges?x=1")
        .await
        .unwrap_err();
    assert!(matches!(error, PaymentError::NotFound { .. }), "{error:?}");
    let sent = requests(&server).await;
    assert_eq!(
        sent[0].url.path(),
        "/v1/checkout/sessions/..%2Fv1%2Fcharges%3Fx%3D1"
    );

    let error = stripe.retrieve_checkout(" ").await.unwrap_err();
    assert!(error.is_local());
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn line_items_follow_pagination() {
    let server = MockServer::start().await;
    let item = |id: &str| {
        let mut item = fixture(ITEM);
        item["id"] = json!(id);
        item
    };
    let base = "/v1/checkout/sessions/cs_1/line_items";
    Mock::given(method("GET"))
        .and(path(base))
        .and(query_param("limit", "100"))
        .and(query_param_is_missing("starting_after"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "object": "list", "url": base, "has_more": true,
            "data": [item("li_1"), item("li_2")],
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(base))
        .and(query_param("limit", "100"))
        .and(query_param("starting_after", "li_2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "object": "list", "url": base, "has_more": false,
            "data": [item("li_3")],
        })))
        .mount(&server)
        .await;
    let stripe = provider(&server.uri());

    let items = stripe.list_line_items("cs_1").await.unwrap();

    let ids: Vec<_> = items.iter().map(|item| item.id.as_str()).collect();
    assert_eq!(ids, ["li_1", "li_2", "li_3"]);
    let first = &items[0];
    assert_eq!(first.description.as_deref(), Some("T-shirt"));
    assert_eq!(first.quantity, Some(1));
    assert_eq!(
        first.price_id.as_deref(),
        Some("price_1PgafmB7WZ01zgkW02Hf9z6c")
    );
    assert_eq!(first.product_id.as_deref(), Some("prod_QXg1hqf4jFNsqG"));
    assert_eq!(first.unit_amount, Some(Money::new(1000, Currency::USD)));
    assert_eq!(first.amount_total, Money::new(0, Currency::USD));
    assert_eq!(
        first.recurring,
        Some(Recurring {
            interval: Interval::Month,
            interval_count: 797_691_627
        })
    );

    let sent = requests(&server).await;
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].url.query(), Some("limit=100"));
    assert_eq!(sent[1].url.query(), Some("limit=100&starting_after=li_2"));
    for request in &sent {
        assert_common_headers(request, false);
    }

    let page = stripe
        .list_line_items_page("cs_1", Some(100), Some("li_2"))
        .await
        .unwrap();
    assert!(!page.has_more);
    assert_eq!(page.next_cursor(), None);
    let error = stripe
        .list_line_items_page("cs_1", Some(0), None)
        .await
        .unwrap_err();
    assert!(error.is_local());
}

#[tokio::test]
async fn payment_intents_create_and_retrieve() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/payment_intents"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture(PAYMENT_INTENT)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/payment_intents/pi_1PgafyB7WZ01zgkWSjxsAJo3"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture(PAYMENT_INTENT)))
        .mount(&server)
        .await;
    let stripe = provider(&server.uri());
    let request = PaymentIntentRequest::new(Money::new(1099, Currency::USD))
        .metadata("order_id", "6735")
        .idempotency_key("pi-order-6735");

    let intent = stripe.create_payment_intent(&request).await.unwrap();

    assert_eq!(intent.id, "pi_1PgafyB7WZ01zgkWSjxsAJo3");
    assert_eq!(intent.amount, Money::new(1099, Currency::USD));
    assert_eq!(intent.status, PaymentIntentStatus::RequiresPaymentMethod);
    assert_eq!(
        intent.client_secret.expose(),
        "pi_1PgafyB7WZ01zgkWSjxsAJo3_secret_Dm43xiq1k0ywrRRjDoi8y1gkM"
    );
    let debug = format!("{intent:?}");
    assert!(!debug.contains("secret_Dm43"), "{debug}");
    assert!(!serde_json::to_string(&intent)
        .unwrap()
        .contains("secret_Dm43"));

    let retrieved = stripe
        .retrieve_payment_intent("pi_1PgafyB7WZ01zgkWSjxsAJo3")
        .await
        .unwrap();
    assert_eq!(retrieved.id, intent.id);

    let sent = requests(&server).await;
    assert_eq!(sent.len(), 2);
    assert_common_headers(&sent[0], true);
    assert_eq!(header(&sent[0], "idempotency-key"), Some("pi-order-6735"));
    assert_eq!(
        body(&sent[0]),
        "amount=1099&currency=usd&automatic_payment_methods[enabled]=true&metadata[order_id]=6735"
    );
    assert_common_headers(&sent[1], false);
}

#[tokio::test]
async fn local_refusals_send_nothing() {
    let server = MockServer::start().await;
    let stripe = provider(&server.uri());
    let base = || {
        CheckoutRequest::builder()
            .line_item(LineItem::custom("Tea", Money::new(1000, Currency::USD), 1))
            .success_url("https://example.com/ok")
    };
    let field_of = |error: PaymentError| match error {
        PaymentError::InvalidRequest { field, gateway, .. } => {
            assert!(gateway.is_none());
            field
        }
        other => panic!("expected InvalidRequest, got {other:?}"),
    };

    for expires_in in [
        Duration::from_secs(29 * 60),
        Duration::from_secs(24 * 3600 + 1),
    ] {
        let request = base().expires_in(expires_in).build().unwrap();
        let error = stripe.create_checkout(&request).await.unwrap_err();
        assert_eq!(field_of(error), "expires_in");
    }

    let request = base()
        .discount_code("SUMMER")
        .allow_discount_codes(true)
        .build()
        .unwrap();
    assert_eq!(
        field_of(stripe.create_checkout(&request).await.unwrap_err()),
        "discount_code"
    );

    let too_small = CheckoutRequest::builder()
        .line_item(LineItem::custom("Gum", Money::new(20, Currency::USD), 2))
        .success_url("https://example.com/ok")
        .build()
        .unwrap();
    let error = stripe.create_checkout(&too_small).await.unwrap_err();
    assert!(
        matches!(error, PaymentError::AmountTooSmall { gateway: None, .. }),
        "{error:?}"
    );
    assert!(error.is_local());

    let unknown_sku = CheckoutRequest::builder()
        .line_item(LineItem::sku("creem_only", 1))
        .success_url("https://example.com/ok")
        .build()
        .unwrap();
    assert_eq!(
        field_of(stripe.create_checkout(&unknown_sku).await.unwrap_err()),
        "line_items[0].product"
    );

    let mut invalid = base().build().unwrap();
    invalid.line_items[0].quantity = 0;
    assert_eq!(
        field_of(stripe.create_checkout(&invalid).await.unwrap_err()),
        "line_items[0].quantity"
    );

    // Refused locally only in the settlement currency (USD here); Stripe converts the rest.
    let small_intent = PaymentIntentRequest::new(Money::new(10, Currency::USD));
    let error = stripe
        .create_payment_intent(&small_intent)
        .await
        .unwrap_err();
    assert!(matches!(error, PaymentError::AmountTooSmall { .. }));

    assert_eq!(requests(&server).await.len(), 0);
}

#[tokio::test]
async fn boundaries_of_expires_in_are_accepted() {
    let server = server_answering("POST", "/v1/checkout/sessions", fixture(SESSION)).await;
    let stripe = provider(&server.uri());
    for seconds in [30 * 60, 24 * 3600] {
        let request = CheckoutRequest::builder()
            .line_item(LineItem::custom("Tea", Money::new(1000, Currency::JPY), 1))
            .success_url("https://example.com/ok")
            .expires_in(Duration::from_secs(seconds))
            .build()
            .unwrap();
        stripe.create_checkout(&request).await.unwrap();
    }
    assert_eq!(requests(&server).await.len(), 2);
}

#[test]
fn capabilities_and_debug() {
    let stripe = provider("http://127.0.0.1:9");
    let capabilities = stripe.capabilities();
    assert!(capabilities.custom_priced_items && capabilities.embedded_checkout);
    assert!(capabilities.expire && capabilities.webhook_timestamps);
    assert!(!capabilities.signed_returns);
    assert_eq!(stripe.kind(), payswitch_stripe::KIND);
    let debug = format!("{stripe:?}");
    for secret in [KEY, WEBHOOK_SECRET, OLD_WEBHOOK_SECRET] {
        assert!(!debug.contains(secret), "{debug}");
    }
    let cloned = stripe.clone();
    assert_eq!(cloned.api_base(), "http://127.0.0.1:9");
}

#[test]
fn from_config_names_what_is_missing() {
    let error = payswitch_stripe::StripeProvider::from_config(&payswitch_core::Config::default())
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("[stripe]") && message.contains("STRIPE_SECRET_KEY"),
        "{message}"
    );

    let config = payswitch_core::Config::from_vars_with(
        [
            ("STRIPE_SECRET_KEY", KEY),
            ("STRIPE_API_VERSION", "2026-09-30.endive"),
            ("STRIPE_API_BASE", "http://127.0.0.1:9/"),
        ],
        &[&payswitch_stripe::ENV],
    )
    .unwrap();
    let stripe = payswitch_stripe::StripeProvider::from_config(&config).unwrap();
    assert_eq!(stripe.api_version(), "2026-09-30.endive");
    assert_eq!(stripe.api_base(), "http://127.0.0.1:9");

    let publishable = payswitch_stripe::StripeProvider::builder(
        payswitch_stripe::StripeConfig::new("pk_test_123"),
    )
    .build()
    .unwrap_err();
    assert!(matches!(publishable, PaymentError::Config(_)));
    assert!(!publishable.to_string().contains("pk_test_123"));
}

#[tokio::test]
async fn create_setup_mode_sends_the_currency_and_no_items() {
    let answer = session_with(json!({"mode": "setup", "payment_status": "no_payment_required"}));
    let server = server_answering("POST", "/v1/checkout/sessions", answer).await;
    let stripe = provider(&server.uri());
    let request = CheckoutRequest::builder()
        .mode(CheckoutMode::Setup)
        .currency(Currency::EUR)
        .success_url("https://example.com/ok")
        .customer_id("cus_9")
        .build()
        .unwrap();

    let result = stripe.create_checkout(&request).await.unwrap();

    let sent = requests(&server).await;
    assert_eq!(
        body(&sent[0]),
        "mode=setup&success_url=https%3A%2F%2Fexample.com%2Fok&customer=cus_9&currency=eur"
    );
    assert_eq!(result.mode, Some(CheckoutMode::Setup));
    assert_eq!(result.payment_status, PaymentStatus::NoPaymentRequired);
    assert!(result.ignored.is_empty());
}

// ---- Wire fidelity: currencies, discounts, modes ----

#[tokio::test]
async fn isk_is_sent_and_read_in_hundredths() {
    let isk = Currency::new("ISK").unwrap();
    let answer = session_with(json!({"amount_total": 1_000_000, "currency": "isk"}));
    let server = server_answering("POST", "/v1/checkout/sessions", answer).await;
    let stripe = provider(&server.uri());
    let request = CheckoutRequest::builder()
        .line_item(LineItem::custom("Tour", Money::new(5000, isk), 2))
        .success_url("https://example.com/ok")
        .build()
        .unwrap();
    let result = stripe.create_checkout(&request).await.unwrap();
    let sent = requests(&server).await;
    // 5 000 kr is 500 000 hundredths on Stripe's wire.
    assert!(
        body(&sent[0]).contains("&line_items[0][price_data][unit_amount]=500000&"),
        "{}",
        body(&sent[0])
    );
    assert_eq!(result.amount_total, Some(Money::new(10_000, isk)));
}

#[tokio::test]
async fn isk_payment_intents_are_sent_and_read_in_hundredths() {
    let isk = Currency::new("ISK").unwrap();
    let mut answer = fixture(PAYMENT_INTENT);
    answer["amount"] = json!(500_000);
    answer["currency"] = json!("isk");
    let server = server_answering("POST", "/v1/payment_intents", answer).await;
    let stripe = provider(&server.uri());
    let intent = stripe
        .create_payment_intent(&PaymentIntentRequest::new(Money::new(5000, isk)))
        .await
        .unwrap();
    let sent = requests(&server).await;
    assert!(body(&sent[0]).starts_with("amount=500000&currency=isk&"));
    assert_eq!(intent.amount, Money::new(5000, isk));
}

#[tokio::test]
async fn three_decimal_amounts_not_ending_in_zero_are_refused_locally() {
    let server = MockServer::start().await;
    let stripe = provider(&server.uri());
    let request = CheckoutRequest::builder()
        .line_item(LineItem::custom(
            "Dates",
            Money::new(5125, Currency::KWD),
            1,
        ))
        .success_url("https://example.com/ok")
        .build()
        .unwrap();
    match stripe.create_checkout(&request).await {
        Err(PaymentError::InvalidRequest { field, gateway, .. }) => {
            assert_eq!(field, "line_items[0].unit_amount");
            assert!(gateway.is_none());
        }
        other => panic!("{other:?}"),
    }
    let intent = PaymentIntentRequest::new(Money::new(5125, Currency::KWD));
    assert!(matches!(
        stripe.create_payment_intent(&intent).await,
        Err(PaymentError::InvalidRequest { field, .. }) if field == "amount"
    ));
    assert!(requests(&server).await.is_empty());
}

fn promotion_codes(data: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "object": "list", "url": "/v1/promotion_codes", "has_more": false, "data": data,
    }))
}

fn discounted(code: &str) -> CheckoutRequest {
    CheckoutRequest::builder()
        .line_item(LineItem::custom("Tea", Money::new(1000, Currency::USD), 1))
        .success_url("https://example.com/ok")
        .discount_code(code)
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_discount_code_is_resolved_to_a_promotion_code_id_first() {
    let server = server_answering("POST", "/v1/checkout/sessions", fixture(SESSION)).await;
    Mock::given(method("GET"))
        .and(path("/v1/promotion_codes"))
        .respond_with(promotion_codes(json!([
            {"id": "promo_1Summer", "object": "promotion_code", "code": "SUMMER25", "active": true}
        ])))
        .mount(&server)
        .await;
    let stripe = provider(&server.uri());
    stripe
        .create_checkout(&discounted("SUMMER25"))
        .await
        .unwrap();
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].method.as_str(), "GET");
    assert_eq!(sent[0].url.path(), "/v1/promotion_codes");
    assert_eq!(
        sent[0].url.query(),
        Some("code=SUMMER25&active=true&limit=1")
    );
    assert_common_headers(&sent[0], false);
    assert_eq!(
        body(&sent[1]),
        "mode=payment\
         &line_items[0][price_data][currency]=usd\
         &line_items[0][price_data][unit_amount]=1000\
         &line_items[0][price_data][product_data][name]=Tea\
         &line_items[0][quantity]=1\
         &success_url=https%3A%2F%2Fexample.com%2Fok\
         &discounts[0][promotion_code]=promo_1Summer"
    );
}

#[tokio::test]
async fn an_unknown_discount_code_is_refused_before_any_session() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/promotion_codes"))
        .respond_with(promotion_codes(json!([])))
        .mount(&server)
        .await;
    let stripe = provider(&server.uri());
    match stripe.create_checkout(&discounted("NOPE")).await {
        Err(PaymentError::InvalidRequest { field, .. }) => assert_eq!(field, "discount_code"),
        other => panic!("{other:?}"),
    }
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 1, "only the lookup was sent");
    assert_eq!(sent[0].method.as_str(), "GET");
    // checkout_body cannot make the lookup, so it says so instead of sending the code.
    assert!(matches!(
        stripe.checkout_body(&discounted("SUMMER25")),
        Err(PaymentError::InvalidRequest { field, .. }) if field == "discount_code"
    ));
}

#[tokio::test]
async fn discount_ids_with_customer_entry_are_refused_locally() {
    let stripe = provider("http://127.0.0.1:9");
    let request = CheckoutRequest::builder()
        .line_item(LineItem::custom("Tea", Money::new(1000, Currency::USD), 1))
        .success_url("https://example.com/ok")
        .discount_id("promo_1")
        .allow_discount_codes(true)
        .build()
        .unwrap();
    assert!(matches!(
        stripe.checkout_body(&request),
        Err(PaymentError::InvalidRequest { field, .. }) if field == "discount_id"
    ));
}

#[tokio::test]
async fn setup_mode_requires_a_currency() {
    let server = MockServer::start().await;
    let stripe = provider(&server.uri());
    let request = CheckoutRequest::builder()
        .mode(CheckoutMode::Setup)
        .success_url("https://example.com/ok")
        .build()
        .unwrap();
    match stripe.create_checkout(&request).await {
        Err(PaymentError::InvalidRequest { field, gateway, .. }) => {
            assert_eq!(field, "currency");
            assert!(gateway.is_none());
        }
        other => panic!("{other:?}"),
    }
    assert!(requests(&server).await.is_empty());
    let with_currency = CheckoutRequest::builder()
        .mode(CheckoutMode::Setup)
        .currency(Currency::EUR)
        .success_url("https://example.com/ok")
        .build()
        .unwrap();
    let body = String::from_utf8(stripe.checkout_body(&with_currency).unwrap()).unwrap();
    assert!(body.ends_with("&currency=eur"), "{body}");
}

#[test]
fn embedded_ui_mode_follows_the_pinned_version() {
    let embedded = |version: &str| {
        let stripe = payswitch_stripe::StripeProvider::builder(
            stripe_config("http://127.0.0.1:9").with_api_version(version),
        )
        .clock(clock())
        .build()
        .unwrap();
        let request = CheckoutRequest::builder()
            .ui_mode(UiMode::Embedded)
            .line_item(LineItem::custom("Plan", Money::new(1500, Currency::EUR), 1))
            .success_url("https://example.com/return")
            .build()
            .unwrap();
        String::from_utf8(stripe.checkout_body(&request).unwrap()).unwrap()
    };
    assert!(embedded("2026-10-28.endive").contains("&ui_mode=embedded_page&"));
    assert!(embedded("2026-03-25.dahlia").contains("&ui_mode=embedded_page&"));
    assert!(embedded("2025-09-30.clover").contains("&ui_mode=embedded&"));
    assert!(embedded("2024-06-20").contains("&ui_mode=embedded&"));
}

#[test]
fn the_minimum_charge_is_local_only_in_the_settlement_currency() {
    let small = |currency: Currency, amount: i64| {
        CheckoutRequest::builder()
            .line_item(LineItem::custom("Gum", Money::new(amount, currency), 1))
            .success_url("https://example.com/ok")
            .build()
            .unwrap()
    };
    let usd_account = provider("http://127.0.0.1:9");
    assert!(matches!(
        usd_account.checkout_body(&small(Currency::USD, 49)),
        Err(PaymentError::AmountTooSmall { gateway: None, .. })
    ));
    // MXN 9.50 passes on a USD account (Stripe converts); GBP 0.20 is Stripe's to refuse.
    let mxn = Currency::new("MXN").unwrap();
    assert!(usd_account.checkout_body(&small(mxn, 950)).is_ok());
    assert!(usd_account.checkout_body(&small(Currency::GBP, 20)).is_ok());
    // Without a settlement currency nothing is refused locally for its size.
    let unknown = payswitch_stripe::StripeProvider::builder(stripe_config("http://127.0.0.1:9"))
        .build()
        .unwrap();
    assert!(unknown.checkout_body(&small(Currency::USD, 10)).is_ok());
}

#[test]
fn settings_refuse_blank_secrets_and_credentials_in_the_base() {
    for config in [
        payswitch_stripe::StripeConfig::new("   "),
        payswitch_stripe::StripeConfig::new(KEY).with_webhook_secret(" \t "),
        payswitch_stripe::StripeConfig::new(KEY).with_api_base("https://user:pw@proxy.example"),
    ] {
        let error = payswitch_stripe::StripeProvider::builder(config)
            .build()
            .unwrap_err();
        assert!(matches!(error, PaymentError::Config(_)), "{error:?}");
        assert!(!error.to_string().contains(":pw@"), "{error}");
    }
}

#[test]
fn settlement_currency_is_read_from_toml_and_the_environment() {
    let config = payswitch_core::Config::from_vars_with(
        [
            ("STRIPE_SECRET_KEY", "sk_test_123"),
            ("STRIPE_SETTLEMENT_CURRENCY", "gbp"),
        ],
        &[&payswitch_stripe::ENV],
    )
    .unwrap();
    let stripe_config = payswitch_stripe::StripeConfig::from_config(&config).unwrap();
    assert_eq!(stripe_config.settlement_currency, Some(Currency::GBP));
}

#[tokio::test]
async fn line_items_stop_on_a_cycling_cursor() {
    let server = MockServer::start().await;
    let base = "/v1/checkout/sessions/cs_1/line_items";
    let page = |id: &str| {
        let mut item = fixture(ITEM);
        item["id"] = json!(id);
        ResponseTemplate::new(200).set_body_json(json!({
            "object": "list", "url": base, "has_more": true, "data": [item],
        }))
    };
    // li_a → li_b → li_a: a cursor that moves but cycles.
    Mock::given(method("GET"))
        .and(path(base))
        .and(query_param_is_missing("starting_after"))
        .respond_with(page("li_a"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(base))
        .and(query_param("starting_after", "li_a"))
        .respond_with(page("li_b"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(base))
        .and(query_param("starting_after", "li_b"))
        .respond_with(page("li_a"))
        .mount(&server)
        .await;
    let stripe = provider(&server.uri());
    let error = stripe.list_line_items("cs_1").await.unwrap_err();
    assert!(matches!(error, PaymentError::Decode { .. }), "{error:?}");
    assert_eq!(requests(&server).await.len(), 3);
}
