//! The public encoding and decoding helpers agree with what the provider sends and returns.

mod common;

use common::*;
use payswitch_core::{
    CheckoutProvider, CheckoutRequest, CheckoutStatus, Currency, LineItem, Money, PaymentError,
    PaymentStatus,
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
    let creem = provider(&server);
    let body = creem.checkout_body(&full_request()).unwrap();
    creem.create_checkout(&full_request()).await.unwrap();
    let sent = server.received_requests().await.unwrap();
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
