//! Stripe's error answers mapped into PaymentError, with status, code and request id kept.

mod common;

use std::time::Duration;

use common::*;
use payswitch_core::{CheckoutProvider, PaymentError};
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Answers every request with `status` and a Stripe error body; no retries.
async fn failing(status: u16, error: serde_json::Value) -> (MockServer, PaymentError) {
    failing_with(ResponseTemplate::new(status).set_body_json(json!({ "error": error }))).await
}

async fn failing_with(template: ResponseTemplate) -> (MockServer, PaymentError) {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(template.insert_header("Request-Id", "req_err"))
        .mount(&server)
        .await;
    let stripe = provider_with_retries(&server.uri(), 0);
    let error = stripe.retrieve_checkout("cs_test_1").await.unwrap_err();
    (server, error)
}

fn assert_details(error: &PaymentError, status: u16, code: Option<&str>) {
    let details = error.gateway().expect("gateway details");
    assert_eq!(details.status, status);
    assert_eq!(details.code.as_deref(), code);
    assert_eq!(details.request_id.as_deref(), Some("req_err"));
    assert_eq!(details.attempts, 1);
    let text = format!("{error} {error:?}");
    assert!(!text.contains(KEY), "{text}");
}

#[tokio::test]
async fn amount_too_small() {
    let (_server, error) = failing(
        400,
        json!({
            "type": "invalid_request_error",
            "code": "amount_too_small",
            "param": "line_items[0][price_data][unit_amount]",
            "message": "The Checkout Session's total amount due must add up to at least $0.50 usd",
            "doc_url": "https://stripe.com/docs/error-codes/amount-too-small",
        }),
    )
    .await;
    assert!(
        matches!(error, PaymentError::AmountTooSmall { .. }),
        "{error:?}"
    );
    assert_details(&error, 400, Some("amount_too_small"));
    assert!(error.to_string().contains("at least $0.50"));
}

#[tokio::test]
async fn other_400_is_invalid_request_naming_the_param() {
    let (_server, error) = failing(
        400,
        json!({
            "type": "invalid_request_error",
            "code": "parameter_unknown",
            "param": "locale",
            "message": "Invalid locale: xx",
        }),
    )
    .await;
    match &error {
        PaymentError::InvalidRequest { field, message, .. } => {
            assert_eq!(field, "locale");
            assert_eq!(message, "Invalid locale: xx");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_details(&error, 400, Some("parameter_unknown"));
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn idempotency_error_is_a_conflict() {
    let (_server, error) = failing(
        400,
        json!({
            "type": "idempotency_error",
            "message": "Keys for idempotent requests can only be used with the same parameters they were first used with.",
        }),
    )
    .await;
    assert!(
        matches!(error, PaymentError::IdempotencyConflict { .. }),
        "{error:?}"
    );
    assert_details(&error, 400, Some("idempotency_error"));
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn unauthorized_forbidden_and_missing() {
    let (_server, error) = failing(
        401,
        json!({"type": "invalid_request_error", "message": format!("Invalid API Key provided: {KEY}")}),
    )
    .await;
    assert!(
        matches!(error, PaymentError::Authentication { .. }),
        "{error:?}"
    );
    assert_details(&error, 401, Some("invalid_request_error"));

    let (_server, error) = failing(
        403,
        json!({"type": "invalid_request_error", "code": "secret_key_required", "message": "restricted"}),
    )
    .await;
    assert!(
        matches!(error, PaymentError::PermissionDenied { .. }),
        "{error:?}"
    );
    assert_details(&error, 403, Some("secret_key_required"));

    let (_server, error) = failing(
        404,
        json!({"type": "invalid_request_error", "code": "resource_missing", "param": "session", "message": "No such checkout.session: 'cs_test_1'"}),
    )
    .await;
    match &error {
        PaymentError::NotFound { id, .. } => assert_eq!(id, "cs_test_1"),
        other => panic!("unexpected {other:?}"),
    }
    assert_details(&error, 404, Some("resource_missing"));
}

#[tokio::test]
async fn conflict_rate_limit_and_server_errors() {
    let (_server, error) = failing(
        409,
        json!({"type": "invalid_request_error", "code": "idempotency_key_in_use", "message": "in use"}),
    )
    .await;
    assert!(
        matches!(error, PaymentError::IdempotencyConflict { .. }),
        "{error:?}"
    );
    assert_details(&error, 409, Some("idempotency_key_in_use"));
    assert!(error.is_retryable());

    let (_server, error) = failing_with(
        ResponseTemplate::new(429)
            .insert_header("Retry-After", "7")
            .set_body_json(json!({"error": {"type": "invalid_request_error", "code": "rate_limit", "message": "slow down"}})),
    )
    .await;
    match &error {
        PaymentError::RateLimited { retry_after, .. } => {
            assert_eq!(*retry_after, Some(Duration::from_secs(7)));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_details(&error, 429, Some("rate_limit"));

    let (_server, error) = failing(500, json!({"type": "api_error", "message": "boom"})).await;
    assert!(matches!(error, PaymentError::Provider(_)), "{error:?}");
    assert_details(&error, 500, Some("api_error"));
    assert!(error.is_retryable());

    let (_server, error) =
        failing_with(ResponseTemplate::new(502).set_body_string("<html>bad gateway</html>")).await;
    assert!(matches!(error, PaymentError::Provider(_)), "{error:?}");
    assert_details(&error, 502, None);
}

#[tokio::test]
async fn undecodable_success_is_a_decode_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("not json"))
        .mount(&server)
        .await;
    let stripe = provider(&server.uri());
    let error = stripe.retrieve_checkout("cs_1").await.unwrap_err();
    assert!(matches!(error, PaymentError::Decode { .. }), "{error:?}");
    // A success that does not decode is not retried.
    assert_eq!(requests(&server).await.len(), 1);
}
