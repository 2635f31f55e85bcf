//! The retry policy: what is retried, how often, and always under the same key and bytes.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use payswitch_core::{CheckoutProvider, CheckoutRequest, Currency, LineItem, Money, PaymentError};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn request() -> CheckoutRequest {
    CheckoutRequest::builder()
        .line_item(LineItem::custom("Tea", Money::new(1000, Currency::USD), 1))
        .success_url("https://example.com/ok")
        .build()
        .unwrap()
}

fn stripe_error(status: u16) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("Request-Id", format!("req_{status}").as_str())
        .set_body_json(json!({"error": {"type": "api_error", "message": "try again"}}))
}

/// Answers the first `failures` POSTs with `failure`, then succeeds.
async fn flaky(failure: ResponseTemplate, failures: u64) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/checkout/sessions"))
        .respond_with(failure)
        .up_to_n_times(failures)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/checkout/sessions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture(SESSION)))
        .with_priority(2)
        .mount(&server)
        .await;
    server
}

/// Asserts every request carried the same key and the same body.
async fn assert_same_key_and_body(server: &MockServer, expected: usize) {
    let sent = requests(server).await;
    assert_eq!(sent.len(), expected);
    let key = header(&sent[0], "idempotency-key").unwrap();
    for request in &sent {
        assert_eq!(header(request, "idempotency-key"), Some(key));
        assert_eq!(request.body, sent[0].body);
    }
}

#[tokio::test]
async fn retries_500_409_and_429_with_the_same_key() {
    for status in [500, 503, 409, 429] {
        let server = flaky(stripe_error(status), 2).await;
        let stripe = provider(&server.uri());
        let result = stripe.create_checkout(&request()).await;
        assert!(result.is_ok(), "{status}: {result:?}");
        assert_same_key_and_body(&server, 3).await;
    }
}

#[tokio::test]
async fn should_retry_true_makes_a_4xx_retryable() {
    let server = flaky(
        stripe_error(429).insert_header("Stripe-Should-Retry", "true"),
        1,
    )
    .await;
    let stripe = provider(&server.uri());
    stripe.create_checkout(&request()).await.unwrap();
    assert_same_key_and_body(&server, 2).await;

    let server = flaky(
        stripe_error(400).insert_header("Stripe-Should-Retry", "true"),
        1,
    )
    .await;
    provider(&server.uri())
        .create_checkout(&request())
        .await
        .unwrap();
    assert_same_key_and_body(&server, 2).await;
}

#[tokio::test]
async fn should_retry_false_wins_over_a_500() {
    let server = flaky(
        stripe_error(500).insert_header("Stripe-Should-Retry", "false"),
        5,
    )
    .await;
    let stripe = provider(&server.uri());
    let error = stripe.create_checkout(&request()).await.unwrap_err();
    assert!(matches!(error, PaymentError::Provider(_)), "{error:?}");
    assert_eq!(error.attempts(), Some(1));
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn other_4xx_are_never_retried() {
    for status in [400, 401, 402, 403, 404] {
        let server = flaky(stripe_error(status), 5).await;
        let error = provider(&server.uri())
            .create_checkout(&request())
            .await
            .unwrap_err();
        assert_eq!(error.attempts(), Some(1), "{status}");
        assert_eq!(requests(&server).await.len(), 1, "{status}");
    }
}

#[tokio::test]
async fn the_final_error_counts_every_attempt() {
    let server = flaky(stripe_error(503), 10).await;
    let stripe = provider_with_retries(&server.uri(), 3);
    let error = stripe.create_checkout(&request()).await.unwrap_err();
    let details = error.gateway().unwrap();
    assert_eq!(details.status, 503);
    assert_eq!(details.attempts, 4);
    assert_eq!(details.request_id.as_deref(), Some("req_503"));
    assert!(error.to_string().contains("after 4 attempts"), "{error}");
    assert_same_key_and_body(&server, 4).await;
}

#[tokio::test]
async fn gets_are_retried_without_a_key() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(stripe_error(502))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture(SESSION)))
        .with_priority(2)
        .mount(&server)
        .await;
    provider(&server.uri())
        .retrieve_checkout("cs_1")
        .await
        .unwrap();
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 2);
    assert!(sent
        .iter()
        .all(|request| header(request, "idempotency-key").is_none()));
}

/// A server that reads each request's head, remembers its Idempotency-Key, and hangs up.
async fn hanging_up_server() -> (String, Arc<Mutex<Vec<Option<String>>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let keys = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&keys);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut head = Vec::new();
            let mut buffer = [0u8; 1024];
            while !head.windows(4).any(|window| window == b"\r\n\r\n") {
                match socket.read(&mut buffer).await {
                    Ok(0) | Err(_) => break,
                    Ok(read) => head.extend_from_slice(&buffer[..read]),
                }
            }
            let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
            let key = text
                .lines()
                .find_map(|line| line.strip_prefix("idempotency-key: "))
                .map(|key| key.trim().to_owned());
            seen.lock().unwrap().push(key);
            let _ = socket.shutdown().await;
        }
    });
    (format!("http://{address}"), keys)
}

#[tokio::test]
async fn connection_drops_are_retried_with_the_same_key() {
    let (base, keys) = hanging_up_server().await;
    let stripe = provider(&base);
    let error = stripe.create_checkout(&request()).await.unwrap_err();
    assert!(
        matches!(error, PaymentError::Transport { attempts: 3, .. }),
        "{error:?}"
    );
    assert_eq!(error.attempts(), Some(3));
    let keys = keys.lock().unwrap().clone();
    assert_eq!(keys.len(), 3);
    assert!(keys[0]
        .as_deref()
        .is_some_and(|key| key.starts_with("payswitch-")));
    assert!(keys.iter().all(|key| *key == keys[0]));
    assert!(!format!("{error} {error:?}").contains(KEY));
}

#[tokio::test]
async fn refused_connections_are_transport_errors() {
    // Bind then drop, so the port is (almost certainly) closed.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let stripe = provider_with_retries(&format!("http://{address}"), 1);
    let error = stripe.retrieve_checkout("cs_1").await.unwrap_err();
    assert!(
        matches!(error, PaymentError::Transport { attempts: 2, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn timeouts_are_retried_and_counted() {
    // A server that accepts and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let held = Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            held.lock().unwrap().push(socket);
        }
    });
    let stripe =
        payswitch_stripe::StripeProvider::builder(stripe_config(&format!("http://{address}")))
            .http(payswitch_core::HttpConfig {
                timeout: std::time::Duration::from_millis(100),
                connect_timeout: std::time::Duration::from_secs(1),
            })
            .retry(payswitch_core::RetryConfig::immediate(1))
            .build()
            .unwrap();
    let error = stripe.retrieve_checkout("cs_1").await.unwrap_err();
    assert!(
        matches!(error, PaymentError::Timeout { attempts: 2 }),
        "{error:?}"
    );
}
