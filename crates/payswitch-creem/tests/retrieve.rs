//! `retrieve_checkout`: the exact GET, and decoding of Creem's checkout in its many shapes
//! (fixtures from Creem's OpenAPI examples, its webhook samples and a captured response).

mod common;

use common::*;
use payswitch_core::{
    CheckoutMode, CheckoutProvider, CheckoutStatus, Currency, Money, PaymentError, PaymentStatus,
};
use payswitch_creem::USER_AGENT;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Serves `body` for `GET /v1/checkouts?checkout_id=<id>` with the standard headers.
async fn serve(server: &MockServer, id: &str, body: String) {
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

#[tokio::test]
async fn retrieve_sends_the_id_as_a_query_parameter_without_a_body() {
    let server = MockServer::start().await;
    serve(&server, "ch_1234567890", fixture("checkout_created.json")).await;

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

#[tokio::test]
async fn a_completed_checkout_with_expanded_objects_from_the_openapi_examples() {
    let server = MockServer::start().await;
    serve(
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
    serve(
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
    assert_eq!(checkout.amount_total, Some(Money::new(1000, Currency::EUR)));
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
    serve(
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
async fn an_open_checkout_totals_the_product_price_times_units() {
    let server = MockServer::start().await;
    serve(
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
    // `"price": 1000.0` is integral, so it is accepted without floats.
    assert_eq!(checkout.amount_total, Some(Money::new(3000, Currency::EUR)));
}

#[tokio::test]
async fn a_captured_response_with_array_metadata_still_decodes() {
    let server = MockServer::start().await;
    serve(
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
    serve(&server, "ch_u", unknown.to_owned()).await;
    let pending_order = r#"{"id":"ch_p","mode":"prod","object":"checkout","status":"completed",
        "product":"prod_1","order":{"id":"ord_1","amount":500,"currency":"USD","status":"pending"}}"#;
    serve(&server, "ch_p", pending_order.to_owned()).await;
    let free = r#"{"id":"ch_f","mode":"prod","object":"checkout","status":"completed",
        "product":"prod_1","order":{"id":"ord_2","amount":0,"currency":"USD","status":"paid"}}"#;
    serve(&server, "ch_f", free.to_owned()).await;
    let expired = r#"{"id":"ch_e","mode":"prod","object":"checkout","status":"expired","product":"prod_1",
        "checkout_url":"https://creem.io/checkout/prod_1/ch_e"}"#;
    serve(&server, "ch_e", expired.to_owned()).await;
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
    serve(&server, "ch_x", fractional.to_owned()).await;
    serve(&server, "ch_y", "<html>not json</html>".to_owned()).await;
    serve(&server, "ch_z", r#"{"object":"checkout"}"#.to_owned()).await;
    let provider = provider(&server);

    for id in ["ch_x", "ch_y", "ch_z"] {
        match provider.retrieve_checkout(id).await {
            Err(PaymentError::Decode { .. }) => {}
            other => panic!("{id}: expected Decode, got {other:?}"),
        }
    }
}
