//! Decoding: Creem's checkout in its many shapes (fixtures from Creem's OpenAPI examples, its
//! webhook samples and a captured response), and the public `parse_checkout` and
//! `checkout_body` agree with what the provider returns and sends.

mod common;

use common::*;
use payswitch_core::{
    CheckoutMode, CheckoutProvider, CheckoutRequest, CheckoutStatus, Currency, LineItem, Money,
    PaymentError, PaymentStatus,
};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn full_request() -> CheckoutRequest {
    CheckoutRequest::builder()
        .line_item(LineItem::sku("pro_monthly", 3))
        .success_url("https://shop.example/thanks?session_id={CHECKOUT_SESSION_ID}&plan=pro")
        .customer_email("ana@example.com")
        .reference("order-42")
        .discount_code("LAUNCH")
        .metadata("order_id", "ord 42")
        .build()
        .unwrap()
}

#[tokio::test]
async fn checkout_body_is_the_body_create_checkout_sends() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/checkouts"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(fixture("checkout_created.json"), "application/json"),
        )
        .mount(&server)
        .await;
    serve_product(&server, "prod_pro_monthly", "onetime").await;
    let creem = provider(&server);
    let body = creem.checkout_body(&full_request()).unwrap();
    creem.create_checkout(&full_request()).await.unwrap();
    let sent = checkout_requests(&server).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].body, body);
    assert_eq!(
        String::from_utf8(body).unwrap(),
        r#"{"product_id":"prod_pro_monthly","request_id":"order-42","units":3,"discount_code":"LAUNCH","customer":{"email":"ana@example.com"},"success_url":"https://shop.example/thanks?plan=pro","metadata":{"order_id":"ord 42"}}"#
    );
}

#[test]
fn checkout_body_refuses_what_create_checkout_refuses() {
    let creem = provider_at(
        "http://127.0.0.1:9",
        payswitch_core::RetryConfig::immediate(0),
    );
    let custom = CheckoutRequest::builder()
        .line_item(LineItem::custom("Gum", Money::new(100, Currency::USD), 1))
        .success_url(SUCCESS_URL)
        .build()
        .unwrap();
    assert!(matches!(
        creem.checkout_body(&custom),
        Err(PaymentError::Unsupported { .. })
    ));
}

#[tokio::test]
async fn parse_checkout_matches_retrieve_checkout() {
    let answer = fixture("checkout_completed_openapi.json");
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(answer.clone(), "application/json"))
        .mount(&server)
        .await;
    let retrieved = provider(&server)
        .retrieve_checkout("ch_1234567890")
        .await
        .unwrap();
    let parsed = payswitch_creem::parse_checkout(answer.as_bytes()).unwrap();
    assert_eq!(format!("{parsed:?}"), format!("{retrieved:?}"));
    assert_eq!(parsed.raw, retrieved.raw);
    assert_eq!(
        parsed.raw,
        serde_json::from_str::<serde_json::Value>(&answer).unwrap()
    );
    assert_eq!(parsed.id, "ch_1234567890");
    assert_eq!(parsed.status, CheckoutStatus::Complete);
    assert_eq!(parsed.payment_status, PaymentStatus::Paid);
    assert_eq!(parsed.amount_total, Some(Money::new(1900, Currency::USD)));
}

#[test]
fn parse_checkout_reports_bad_bodies() {
    for body in [&b"not json"[..], b"{\"object\":\"checkout\"}", b"[]"] {
        assert!(matches!(
            payswitch_creem::parse_checkout(body),
            Err(PaymentError::Decode { .. })
        ));
    }
}

#[tokio::test]
async fn a_completed_checkout_with_expanded_objects_from_the_openapi_examples() {
    let server = MockServer::start().await;
    serve_checkout(
        &server,
        "ch_1234567890",
        fixture("checkout_completed_openapi.json"),
    )
    .await;

    let checkout = provider(&server)
        .retrieve_checkout("ch_1234567890")
        .await
        .unwrap();

    assert_eq!(checkout.status, CheckoutStatus::Complete);
    assert_eq!(checkout.payment_status, PaymentStatus::Paid);
    assert!(checkout.is_paid());
    assert_eq!(
        checkout.url, None,
        "no page to send a customer to once complete"
    );
    assert_eq!(checkout.mode, Some(CheckoutMode::Subscription));
    // amount_paid: after the discount, tax included.
    assert_eq!(checkout.amount_total, Some(Money::new(1900, Currency::USD)));
    assert_eq!(checkout.customer_id.as_deref(), Some("cust_1234567890"));
    assert_eq!(checkout.customer_email.as_deref(), Some("user@example.com"));
    assert_eq!(checkout.payment_id.as_deref(), Some("ord_1234567890"));
    assert_eq!(checkout.subscription_id.as_deref(), Some("sub_1234567890"));
    assert_eq!(checkout.reference.as_deref(), Some("order_123"));
    assert_eq!(
        checkout.metadata.get("visitCount").map(String::as_str),
        Some("42")
    );
    assert_eq!(checkout.created_at, None);
    assert_eq!(checkout.raw["order"]["fx_rate"], 1.2);
}

#[tokio::test]
async fn a_completed_checkout_from_the_webhook_sample_with_local_mode() {
    let server = MockServer::start().await;
    let event: serde_json::Value =
        serde_json::from_str(&fixture("webhook_checkout_completed.json")).unwrap();
    serve_checkout(
        &server,
        "ch_4l0N34kxo16AhRKUHFUuXr",
        event["object"].to_string(),
    )
    .await;

    let checkout = provider(&server)
        .retrieve_checkout("ch_4l0N34kxo16AhRKUHFUuXr")
        .await
        .unwrap();
    assert!(checkout.is_paid());
    // The sample's order gives only `amount` (the total before discounts), not `amount_paid`.
    assert_eq!(checkout.amount_total, None);
    assert_eq!(
        checkout.customer_email.as_deref(),
        Some("customer@emaildomain")
    );
    assert_eq!(
        checkout.subscription_id.as_deref(),
        Some("sub_6pC2lNB6joCRQIZ1aMrTpi")
    );
    assert_eq!(checkout.reference.as_deref(), Some("my-request-id"));
    assert_eq!(checkout.raw["mode"], "local");
}

#[tokio::test]
async fn a_completed_checkout_with_plain_ids_and_unknown_fields() {
    let server = MockServer::start().await;
    serve_checkout(
        &server,
        "ch_1QyIQDw9cbFWdA1ry5Qc6I",
        fixture("checkout_completed_ids.json"),
    )
    .await;

    let checkout = provider(&server)
        .retrieve_checkout("ch_1QyIQDw9cbFWdA1ry5Qc6I")
        .await
        .unwrap();
    assert_eq!(checkout.status, CheckoutStatus::Complete);
    assert_eq!(checkout.payment_status, PaymentStatus::Paid);
    assert_eq!(
        checkout.payment_id.as_deref(),
        Some("ord_4ucZ7Ts3r7EhSrl5yQE4G6")
    );
    assert_eq!(
        checkout.customer_id.as_deref(),
        Some("cust_2KaCAtu6l3tpjIr8Nr9XOp")
    );
    assert_eq!(checkout.customer_email, None);
    assert_eq!(
        checkout.subscription_id.as_deref(),
        Some("sub_ILWMTY6uBim4EB0uxK6WE")
    );
    assert_eq!(checkout.mode, Some(CheckoutMode::Subscription));
    assert_eq!(checkout.amount_total, None);
    assert!(checkout.metadata.is_empty());
}

#[tokio::test]
async fn an_open_checkout_has_no_total_until_creem_states_one() {
    let server = MockServer::start().await;
    serve_checkout(
        &server,
        "ch_3pendingExpanded",
        fixture("checkout_pending_expanded_product.json"),
    )
    .await;

    let checkout = provider(&server)
        .retrieve_checkout("ch_3pendingExpanded")
        .await
        .unwrap();
    assert_eq!(
        checkout.status,
        CheckoutStatus::Open,
        "processing is still open"
    );
    assert_eq!(checkout.payment_status, PaymentStatus::Unpaid);
    assert!(checkout.url.is_some());
    assert_eq!(checkout.mode, Some(CheckoutMode::Payment));
    // The product's price × units ignores tax and discounts: not what the customer pays.
    assert_eq!(checkout.amount_total, None);
}

#[tokio::test]
async fn a_captured_response_with_array_metadata_still_decodes() {
    let server = MockServer::start().await;
    serve_checkout(
        &server,
        "ch_7M0IdoOt0qZE0f3coCNGQn",
        fixture("checkout_created_captured.json"),
    )
    .await;

    let checkout = provider(&server)
        .retrieve_checkout("ch_7M0IdoOt0qZE0f3coCNGQn")
        .await
        .unwrap();
    assert!(checkout.metadata.is_empty());
    assert_eq!(checkout.raw["metadata"][0]["userId"], "user_123");
    assert!(checkout
        .url
        .as_deref()
        .is_some_and(|url| url.starts_with("https://creem.io/test/checkout/")));
}

#[tokio::test]
async fn unknown_statuses_are_never_paid_and_pending_orders_are_unpaid() {
    let server = MockServer::start().await;
    let unknown = r#"{"id":"ch_u","mode":"prod","object":"checkout","status":"refunding","product":"prod_1"}"#;
    serve_checkout(&server, "ch_u", unknown.to_owned()).await;
    let pending_order = r#"{"id":"ch_p","mode":"prod","object":"checkout","status":"completed",
        "product":"prod_1","order":{"id":"ord_1","amount":500,"currency":"USD","status":"pending"}}"#;
    serve_checkout(&server, "ch_p", pending_order.to_owned()).await;
    let free = r#"{"id":"ch_f","mode":"prod","object":"checkout","status":"completed",
        "product":"prod_1","order":{"id":"ord_2","amount":0,"currency":"USD","status":"paid"}}"#;
    serve_checkout(&server, "ch_f", free.to_owned()).await;
    let expired = r#"{"id":"ch_e","mode":"prod","object":"checkout","status":"expired","product":"prod_1",
        "checkout_url":"https://creem.io/checkout/prod_1/ch_e"}"#;
    serve_checkout(&server, "ch_e", expired.to_owned()).await;
    let provider = provider(&server);

    let unknown = provider.retrieve_checkout("ch_u").await.unwrap();
    assert_eq!(
        (unknown.status, unknown.payment_status),
        (CheckoutStatus::Open, PaymentStatus::Unpaid)
    );
    let pending = provider.retrieve_checkout("ch_p").await.unwrap();
    assert_eq!(pending.status, CheckoutStatus::Complete);
    assert_eq!(pending.payment_status, PaymentStatus::Unpaid);
    assert!(!pending.is_paid());
    let free = provider.retrieve_checkout("ch_f").await.unwrap();
    assert_eq!(free.payment_status, PaymentStatus::NoPaymentRequired);
    assert!(free.is_paid());
    let expired = provider.retrieve_checkout("ch_e").await.unwrap();
    assert_eq!(expired.status, CheckoutStatus::Expired);
    assert_eq!(expired.url, None);
}

#[tokio::test]
async fn fractional_amounts_and_broken_bodies_are_decode_errors() {
    let server = MockServer::start().await;
    let fractional = r#"{"id":"ch_x","mode":"test","object":"checkout","status":"completed",
        "product":"prod_1","order":{"id":"ord_1","amount":1000.5,"currency":"USD","status":"paid"}}"#;
    serve_checkout(&server, "ch_x", fractional.to_owned()).await;
    serve_checkout(&server, "ch_y", "<html>not json</html>".to_owned()).await;
    serve_checkout(&server, "ch_z", r#"{"object":"checkout"}"#.to_owned()).await;
    let provider = provider(&server);

    for id in ["ch_x", "ch_y", "ch_z"] {
        match provider.retrieve_checkout(id).await {
            Err(PaymentError::Decode { .. }) => {}
            other => panic!("{id}: expected Decode, got {other:?}"),
        }
    }
}

#[test]
fn amount_total_is_what_the_order_says_was_paid() {
    // Creem's OAS example order: 2000 before a 100 discount, 1900 paid (tax included).
    let body = br#"{"id":"ch_1","status":"completed","units":2,
        "product":{"id":"prod_1","price":900,"currency":"USD","billing_type":"onetime"},
        "order":{"id":"ord_1","amount":2000,"sub_total":1800,"tax_amount":200,
                 "discount_amount":100,"amount_due":1900,"amount_paid":1900,
                 "currency":"USD","status":"paid"}}"#;
    let checkout = payswitch_creem::parse_checkout(body).unwrap();
    assert_eq!(checkout.amount_total, Some(Money::new(1900, Currency::USD)));
    // Subtotal, discount and tax stay in `raw`.
    assert_eq!(checkout.raw["order"]["discount_amount"], 100);

    // An order in a currency Creem does not document is a decode error, never a guess.
    let yen = br#"{"id":"ch_2","status":"completed",
        "order":{"id":"ord_2","amount_paid":1900,"currency":"JPY","status":"paid"}}"#;
    assert!(matches!(
        payswitch_creem::parse_checkout(yen),
        Err(PaymentError::Decode { .. })
    ));
}

#[test]
fn a_completed_checkout_without_an_order_is_not_blindly_paid() {
    let parse = |body: &str| payswitch_creem::parse_checkout(body.as_bytes()).unwrap();
    // No order at all, nothing else: nothing proves a payment.
    let bare = parse(r#"{"id":"ch_1","status":"completed","product":"prod_1"}"#);
    assert_eq!(bare.status, CheckoutStatus::Complete);
    assert_eq!(bare.payment_status, PaymentStatus::Unpaid);
    assert!(!bare.is_paid());
    // A trial: the subscription is trialing and no order was charged.
    let trial = parse(
        r#"{"id":"ch_2","status":"completed","product":"prod_1",
            "subscription":{"id":"sub_1","status":"trialing"}}"#,
    );
    assert_eq!(trial.payment_status, PaymentStatus::NoPaymentRequired);
    // A free product.
    let free = parse(
        r#"{"id":"ch_3","status":"completed",
            "product":{"id":"prod_free","price":0,"currency":"EUR","billing_type":"onetime"}}"#,
    );
    assert_eq!(free.payment_status, PaymentStatus::NoPaymentRequired);
    // An order id without the object: Creem created an order on payment.
    let with_id = parse(r#"{"id":"ch_4","status":"completed","order":"ord_1"}"#);
    assert_eq!(with_id.payment_status, PaymentStatus::Paid);
}

#[test]
fn a_checkout_without_an_id_is_a_decode_error() {
    let outcome = payswitch_creem::parse_checkout(br#"{"id":" ","status":"pending"}"#);
    assert!(
        matches!(outcome, Err(payswitch_core::PaymentError::Decode { .. })),
        "{outcome:?}"
    );
}
