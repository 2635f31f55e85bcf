//! The retry policy: a POST is repeated only when Creem cannot have processed it (a refused
//! connection, 429); a GET on any transient failure.

mod common;

use std::time::Duration;

use common::*;
use payswitch_core::{CheckoutProvider, PaymentError, RetryConfig};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn a_429_is_rate_limited_retried_and_keeps_retry_after() {
    let server = MockServer::start().await;
    answer_create(
        &server,
        creem_error(429, serde_json::json!(["Rate limit exceeded"]))
            .insert_header("retry-after", "3"),
    )
    .await;
    let error = provider(&server)
        .create_checkout(&request())
        .await
        .unwrap_err();
    match &error {
        PaymentError::RateLimited { retry_after, .. } => {
            assert_eq!(*retry_after, Some(Duration::from_secs(3)));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(requests(&server).await, 3, "429 is retried even for a POST");
    assert_eq!(error.attempts(), Some(3));
}

#[tokio::test]
async fn a_503_on_create_is_not_retried_but_a_get_is() {
    // A proxy in front of Creem answers 503 after an upstream timeout too, when the checkout
    // may exist: a POST is not repeated.
    let server = MockServer::start().await;
    answer_create(
        &server,
        creem_error(503, serde_json::json!(["Service Unavailable"])),
    )
    .await;
    let error = provider(&server)
        .create_checkout(&request())
        .await
        .unwrap_err();
    assert!(matches!(error, PaymentError::Provider(_)), "{error:?}");
    assert_eq!(error.attempts(), Some(1));
    assert_eq!(
        requests(&server).await,
        1,
        "a 503 may hide a created checkout"
    );

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/checkouts"))
        .respond_with(creem_error(503, serde_json::json!(["Service Unavailable"])))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    answer_retrieve(
        &server,
        ResponseTemplate::new(200)
            .set_body_raw(fixture("checkout_created.json"), "application/json"),
    )
    .await;
    let checkout = provider(&server)
        .retrieve_checkout("ch_1234567890")
        .await
        .unwrap();
    assert_eq!(checkout.id, "ch_1234567890");
    assert_eq!(requests(&server).await, 3);
}

#[tokio::test]
async fn a_500_on_create_is_not_retried() {
    let server = MockServer::start().await;
    answer_create(
        &server,
        creem_error(500, serde_json::json!(["Internal server error"])),
    )
    .await;

    let error = provider(&server)
        .create_checkout(&request())
        .await
        .unwrap_err();
    match &error {
        PaymentError::Provider(details) => {
            assert_eq!(details.status, 500);
            assert_eq!(details.attempts, 1);
            assert_eq!(
                details.request_id.as_deref(),
                Some("550e8400-e29b-41d4-a716-446655440000")
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        requests(&server).await,
        1,
        "a 500 may have created a checkout"
    );
    assert_no_key(&error);
}

#[tokio::test]
async fn a_get_is_retried_on_500_and_reports_attempts_when_it_gives_up() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/checkouts"))
        .respond_with(ResponseTemplate::new(500).set_body_string("upstream exploded"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    answer_retrieve(
        &server,
        ResponseTemplate::new(200)
            .set_body_raw(fixture("checkout_created.json"), "application/json"),
    )
    .await;
    let checkout = provider(&server)
        .retrieve_checkout("ch_1234567890")
        .await
        .unwrap();
    assert_eq!(checkout.id, "ch_1234567890");
    assert_eq!(requests(&server).await, 2);

    let server = MockServer::start().await;
    answer_retrieve(
        &server,
        ResponseTemplate::new(502).set_body_string("<html>bad gateway</html>"),
    )
    .await;
    let error = provider(&server)
        .retrieve_checkout("ch_1")
        .await
        .unwrap_err();
    match &error {
        PaymentError::Provider(details) => {
            assert_eq!(details.status, 502);
            assert_eq!(details.attempts, 3);
            assert_eq!(details.message, "<html>bad gateway</html>");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(requests(&server).await, 3);
    assert!(error.to_string().contains("after 3 attempts"), "{error}");
}

#[tokio::test]
async fn a_refused_connection_is_retried_for_any_method() {
    // Bind, note the port, and close it again: connecting there is refused.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let provider = provider_at(&base, RetryConfig::immediate(2));

    let error = provider.create_checkout(&request()).await.unwrap_err();
    match &error {
        PaymentError::Unreachable { attempts, .. } => assert_eq!(*attempts, 3),
        other => panic!("unexpected {other:?}"),
    }
    assert!(error.is_retryable());
    assert!(error.proves_nothing_created());
    assert_no_key(&error);

    let error = provider.retrieve_checkout("ch_1").await.unwrap_err();
    assert_eq!(error.attempts(), Some(3));
}

#[tokio::test]
async fn a_timeout_ends_a_create_at_once_but_a_get_is_retried() {
    let server = MockServer::start().await;
    let slow = ResponseTemplate::new(200)
        .set_body_raw(fixture("checkout_created.json"), "application/json")
        .set_delay(Duration::from_secs(3));
    answer_create(&server, slow.clone()).await;
    answer_retrieve(&server, slow).await;
    let provider = provider(&server);

    let error = provider.create_checkout(&request()).await.unwrap_err();
    assert!(
        matches!(error, PaymentError::Timeout { attempts: 1 }),
        "{error:?}"
    );
    assert_eq!(
        requests(&server).await,
        1,
        "the checkout may exist: no retry"
    );

    let error = provider
        .retrieve_checkout("ch_1234567890")
        .await
        .unwrap_err();
    assert!(
        matches!(error, PaymentError::Timeout { attempts: 3 }),
        "{error:?}"
    );
    assert_eq!(requests(&server).await, 4);
}

#[tokio::test]
async fn disabled_retries_make_one_attempt() {
    let server = MockServer::start().await;
    answer_create(&server, creem_error(503, serde_json::json!(["down"]))).await;
    let provider = provider_at(&server.uri(), RetryConfig::disabled());
    let error = provider.create_checkout(&request()).await.unwrap_err();
    assert_eq!(error.attempts(), Some(1));
    assert_eq!(requests(&server).await, 1);
}
