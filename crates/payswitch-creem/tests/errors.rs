//! Creem's error answers mapped to `PaymentError`: the variant from the HTTP status, the field,
//! the gateway code and trace id kept, the API key never shown.

mod common;

use common::*;
use payswitch_core::{CheckoutProvider, PaymentError};
use wiremock::MockServer;

#[tokio::test]
async fn a_400_is_an_invalid_request_naming_the_field_with_the_trace_id() {
    let server = MockServer::start().await;
    answer_create(
        &server,
        creem_error(
            400,
            serde_json::json!([
                "product_id must be a string",
                "success_url must be a valid URL"
            ]),
        ),
    )
    .await;

    let error = provider(&server)
        .create_checkout(&request())
        .await
        .unwrap_err();
    match &error {
        PaymentError::InvalidRequest {
            field,
            message,
            gateway: Some(details),
        } => {
            assert_eq!(field, "line_items[0].product");
            assert_eq!(
                message,
                "product_id must be a string; success_url must be a valid URL"
            );
            assert_eq!(details.provider, payswitch_creem::KIND);
            assert_eq!(details.status, 400);
            assert_eq!(details.code.as_deref(), Some("Bad Request"));
            assert_eq!(details.attempts, 1);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        error.request_id(),
        Some("550e8400-e29b-41d4-a716-446655440000")
    );
    assert!(!error.is_retryable());
    assert_no_key(&error);
}

#[tokio::test]
async fn a_message_may_be_a_string_or_missing() {
    let server = MockServer::start().await;
    answer_create(
        &server,
        creem_error(400, serde_json::json!("units must be positive")),
    )
    .await;
    let error = provider(&server)
        .create_checkout(&request())
        .await
        .unwrap_err();
    match error {
        PaymentError::InvalidRequest { field, message, .. } => {
            assert_eq!(field, "line_items[0].quantity");
            assert_eq!(message, "units must be positive");
        }
        other => panic!("unexpected {other:?}"),
    }

    let server = MockServer::start().await;
    answer_create(&server, creem_error(403, serde_json::Value::Null)).await;
    let error = provider(&server)
        .create_checkout(&request())
        .await
        .unwrap_err();
    // A 403 that does not say the key is invalid is a refusal for a valid key.
    assert!(
        matches!(error, PaymentError::PermissionDenied { .. }),
        "{error:?}"
    );
    assert_eq!(error.status(), Some(403));
    assert_eq!(error.gateway().unwrap().message, "");
    assert_no_key(&error);
}

#[tokio::test]
async fn a_403_is_authentication_only_when_creem_says_the_key_is_invalid() {
    let server = MockServer::start().await;
    answer_retrieve(
        &server,
        creem_error(403, serde_json::json!(["Limit reached"])).insert_header("retry-after", "9"),
    )
    .await;
    let error = provider(&server)
        .retrieve_checkout("ch_1")
        .await
        .unwrap_err();
    match &error {
        PaymentError::RateLimited {
            retry_after,
            gateway,
        } => {
            assert_eq!(*retry_after, Some(std::time::Duration::from_secs(9)));
            let details = gateway.as_deref().unwrap();
            assert_eq!(details.status, 403);
            assert_eq!(details.message, "Limit reached");
            assert_eq!(
                details.request_id.as_deref(),
                Some("550e8400-e29b-41d4-a716-446655440000")
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(requests(&server).await, 1, "a 403 is not retried");

    let server = MockServer::start().await;
    answer_retrieve(
        &server,
        creem_error(403, serde_json::json!(["Invalid API key"])),
    )
    .await;
    let error = provider(&server)
        .retrieve_checkout("ch_1")
        .await
        .unwrap_err();
    assert!(
        matches!(error, PaymentError::Authentication { .. }),
        "{error:?}"
    );
    assert_no_key(&error);
}

#[tokio::test]
async fn a_401_is_authentication() {
    let server = MockServer::start().await;
    answer_retrieve(
        &server,
        creem_error(401, serde_json::json!(["Missing API key"])),
    )
    .await;
    let error = provider(&server)
        .retrieve_checkout("ch_1")
        .await
        .unwrap_err();
    assert!(
        matches!(error, PaymentError::Authentication { .. }),
        "{error:?}"
    );
    assert_eq!(
        requests(&server).await,
        1,
        "authentication failures are final"
    );
    assert_no_key(&error);
}

#[tokio::test]
async fn a_404_is_not_found_with_the_id() {
    let server = MockServer::start().await;
    answer_retrieve(
        &server,
        creem_error(404, serde_json::json!(["Checkout not found"])),
    )
    .await;
    match provider(&server).retrieve_checkout("ch_missing").await {
        Err(error @ PaymentError::NotFound { .. }) => {
            assert_eq!(error.status(), Some(404));
            let PaymentError::NotFound { id, .. } = error else {
                unreachable!()
            };
            assert_eq!(id, "ch_missing");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(requests(&server).await, 1);
}
