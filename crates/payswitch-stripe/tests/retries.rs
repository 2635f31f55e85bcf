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
async fn refused_connections_are_unreachable() {
    // Bind then drop, so the port is (almost certainly) closed.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let stripe = provider_with_retries(&format!("http://{address}"), 1);
    let error = stripe.retrieve_checkout("cs_1").await.unwrap_err();
    assert!(
        matches!(error, PaymentError::Unreachable { attempts: 2, .. }),
        "{error:?}"
    );
    // Nothing reached Stripe, so nothing was created.
    assert!(error.proves_nothing_created());
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

// ---- Idempotency generations and replays (see the README's "Retries and idempotency") ----

const SESSION_ID: &str = "cs_test_a1YS1URlnyQCN5fUUduORoQ7Pw41PJqDWkIVQCpJPqkfIhd6tVY8XB1OLY";

fn order_request() -> CheckoutRequest {
    CheckoutRequest::builder()
        .line_item(LineItem::custom("Tea", Money::new(1000, Currency::USD), 1))
        .success_url("https://example.com/ok")
        .reference("order-77")
        .expires_in(std::time::Duration::from_secs(3600))
        .build()
        .unwrap()
}

fn replayed(status: u16, body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("Idempotent-Replayed", "true")
        .set_body_json(body)
}

/// Mounts `POST /v1/checkout/sessions` answering `answer` to the key ending in `-g<n>`.
async fn post_for_generation(server: &MockServer, generation: u32, answer: ResponseTemplate) {
    let suffix = format!("-g{generation}");
    Mock::given(method("POST"))
        .and(path("/v1/checkout/sessions"))
        .and(move |request: &wiremock::Request| {
            request
                .headers
                .get("idempotency-key")
                .and_then(|key| key.to_str().ok())
                .is_some_and(|key| key.ends_with(&suffix))
        })
        .respond_with(answer)
        .mount(server)
        .await;
}

async fn retrieve_answers(server: &MockServer, status: &str) {
    Mock::given(method("GET"))
        .and(path(format!("/v1/checkout/sessions/{SESSION_ID}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(session_with(
            json!({"status": status, "client_reference_id": "order-77"}),
        )))
        .mount(server)
        .await;
}

/// Mounts the list of recent sessions (`GET /v1/checkout/sessions?created[gte]=…`) that the
/// adapter reads after a replayed failure, answering `sessions`.
async fn recent_sessions(server: &MockServer, sessions: serde_json::Value) {
    Mock::given(method("GET"))
        .and(path("/v1/checkout/sessions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "object": "list",
            "url": "/v1/checkout/sessions",
            "has_more": false,
            "data": sessions,
        })))
        .mount(server)
        .await;
}

fn keys_of(sent: &[wiremock::Request]) -> Vec<(String, String)> {
    sent.iter()
        .map(|request| {
            (
                request.method.to_string(),
                header(request, "idempotency-key").unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_replayed_open_session_is_retrieved_then_returned() {
    let server = MockServer::start().await;
    post_for_generation(&server, 0, replayed(200, fixture(SESSION))).await;
    retrieve_answers(&server, "open").await;
    let stripe = provider(&server.uri());
    let result = stripe.create_checkout(&order_request()).await.unwrap();
    assert_eq!(result.id, SESSION_ID);
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].method.as_str(), "GET");
    assert_eq!(
        sent[1].url.path(),
        format!("/v1/checkout/sessions/{SESSION_ID}")
    );
}

#[tokio::test]
async fn a_replayed_complete_session_is_already_completed() {
    let server = MockServer::start().await;
    post_for_generation(&server, 0, replayed(200, fixture(SESSION))).await;
    retrieve_answers(&server, "complete").await;
    let stripe = provider(&server.uri());
    match stripe.create_checkout(&order_request()).await {
        Err(PaymentError::AlreadyCompleted {
            checkout_id,
            reference,
        }) => {
            assert_eq!(checkout_id, SESSION_ID);
            assert_eq!(reference.as_deref(), Some("order-77"));
        }
        other => panic!("{other:?}"),
    }
    // No second session was asked for.
    let posts = requests(&server)
        .await
        .iter()
        .filter(|request| request.method.as_str() == "POST")
        .count();
    assert_eq!(posts, 1);
}

#[tokio::test]
async fn a_replayed_expired_session_moves_to_the_next_generation() {
    let server = MockServer::start().await;
    post_for_generation(&server, 0, replayed(200, fixture(SESSION))).await;
    retrieve_answers(&server, "expired").await;
    let fresh = session_with(json!({"id": "cs_test_fresh", "status": "open"}));
    post_for_generation(&server, 1, ResponseTemplate::new(200).set_body_json(fresh)).await;
    let stripe = provider(&server.uri());
    let result = stripe.create_checkout(&order_request()).await.unwrap();
    assert_eq!(result.id, "cs_test_fresh");
    let sent = requests(&server).await;
    let keys = keys_of(&sent);
    assert_eq!(keys.len(), 3);
    assert_eq!(keys[0].0, "POST");
    assert!(keys[0].1.starts_with("payswitch-ref-") && keys[0].1.ends_with("-g0"));
    assert_eq!(keys[1].0, "GET");
    assert_eq!(keys[2].1, keys[0].1.replace("-g0", "-g1"));
    // The same bytes under the new key: only the key moved on.
    assert_eq!(sent[0].body, sent[2].body);
}

#[tokio::test]
async fn a_replayed_500_is_not_retried_and_moves_to_the_next_generation() {
    let server = MockServer::start().await;
    let saved = json!({"error": {"type": "api_error", "message": "saved failure"}});
    post_for_generation(&server, 0, replayed(500, saved)).await;
    // The failed execution created no session for this order.
    recent_sessions(
        &server,
        json!([{"id": "cs_test_other", "client_reference_id": "order-1"}]),
    )
    .await;
    post_for_generation(
        &server,
        1,
        ResponseTemplate::new(200).set_body_json(fixture(SESSION)),
    )
    .await;
    let stripe = provider(&server.uri());
    let result = stripe.create_checkout(&order_request()).await.unwrap();
    assert_eq!(result.id, SESSION_ID);
    let sent = requests(&server).await;
    let keys = keys_of(&sent);
    // One POST per generation: a replayed failure is never retried under its key; between
    // them, the sessions of the last 24 h are searched for one of this order.
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert!(keys[0].1.ends_with("-g0") && keys[2].1.ends_with("-g1"));
    assert_eq!(keys[1].0, "GET");
    let since = common::NOW - 24 * 60 * 60;
    assert_eq!(
        sent[1].url.query(),
        Some(format!("created%5Bgte%5D={since}&limit=100").as_str())
    );
}

#[tokio::test]
async fn a_session_the_failed_execution_created_is_found_not_doubled() {
    let server = MockServer::start().await;
    let saved = json!({"error": {"type": "api_error", "message": "saved failure"}});
    post_for_generation(&server, 0, replayed(500, saved)).await;
    recent_sessions(
        &server,
        json!([
            {"id": "cs_test_other", "client_reference_id": "order-1"},
            {"id": SESSION_ID, "client_reference_id": "order-77"}
        ]),
    )
    .await;
    retrieve_answers(&server, "open").await;
    let stripe = provider(&server.uri());
    let result = stripe.create_checkout(&order_request()).await.unwrap();
    assert_eq!(result.id, SESSION_ID);
    let posts = keys_of(&requests(&server).await)
        .into_iter()
        .filter(|(method, _)| method == "POST")
        .count();
    assert_eq!(posts, 1, "no second session was asked for");

    // The same session, completed meanwhile: the order is paid, nothing new opens.
    let server = MockServer::start().await;
    let saved = json!({"error": {"type": "api_error", "message": "saved failure"}});
    post_for_generation(&server, 0, replayed(500, saved)).await;
    recent_sessions(
        &server,
        json!([{"id": SESSION_ID, "client_reference_id": "order-77"}]),
    )
    .await;
    retrieve_answers(&server, "complete").await;
    let stripe = provider(&server.uri());
    let error = stripe.create_checkout(&order_request()).await.unwrap_err();
    assert!(
        matches!(&error, PaymentError::AlreadyCompleted { checkout_id, .. } if checkout_id == SESSION_ID),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_explicit_key_never_moves_to_another_generation() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/checkout/sessions"))
        .respond_with(replayed(
            500,
            json!({"error": {"type": "api_error", "message": "saved failure"}}),
        ))
        .mount(&server)
        .await;
    let stripe = provider(&server.uri());
    let mut request = order_request();
    request.idempotency_key = Some("mine-1".into());
    let error = stripe.create_checkout(&request).await.unwrap_err();
    assert!(matches!(error, PaymentError::Provider(ref details) if details.status == 500));
    let keys = keys_of(&requests(&server).await);
    assert_eq!(keys, [("POST".to_owned(), "mine-1".to_owned())]);
}

#[tokio::test]
async fn generations_are_bounded() {
    let server = MockServer::start().await;
    recent_sessions(&server, json!([])).await;
    Mock::given(method("POST"))
        .and(path("/v1/checkout/sessions"))
        .respond_with(replayed(
            500,
            json!({"error": {"type": "api_error", "message": "saved failure"}}),
        ))
        .mount(&server)
        .await;
    let stripe = provider(&server.uri());
    let error = stripe.create_checkout(&order_request()).await.unwrap_err();
    assert!(
        matches!(
            error,
            PaymentError::IdempotencyConflict { gateway: None, .. }
        ),
        "{error:?}"
    );
    assert!(!error.is_retryable());
    let sent = requests(&server).await;
    let posts = sent
        .iter()
        .filter(|request| request.method.as_str() == "POST")
        .count();
    assert_eq!(posts, 8, "one POST per generation");
    assert!(
        sent.iter().all(|request| request.method.as_str() == "POST"
            || request.url.path() == "/v1/checkout/sessions"),
        "only the search for an existing session between them"
    );
}

#[tokio::test]
async fn a_parameter_mismatch_tries_the_neighbouring_expires_at() {
    let server = MockServer::start().await;
    let at = NOW + 3600;
    let mismatch = ResponseTemplate::new(400).set_body_json(json!({"error": {
        "type": "idempotency_error",
        "message": "Keys for idempotent requests can only be used with the same parameters they were first used with."
    }}));
    for wrong in [at, at - 60] {
        let needle = format!("expires_at={wrong}");
        Mock::given(method("POST"))
            .and(path("/v1/checkout/sessions"))
            .and(move |request: &wiremock::Request| {
                String::from_utf8_lossy(&request.body).ends_with(&needle)
            })
            .respond_with(mismatch.clone())
            .mount(&server)
            .await;
    }
    Mock::given(method("POST"))
        .and(path("/v1/checkout/sessions"))
        .respond_with(replayed(200, fixture(SESSION)))
        .with_priority(10)
        .mount(&server)
        .await;
    retrieve_answers(&server, "open").await;
    let stripe = provider(&server.uri());
    let result = stripe.create_checkout(&order_request()).await.unwrap();
    assert_eq!(result.id, SESSION_ID);
    let sent = requests(&server).await;
    let bodies: Vec<String> = sent
        .iter()
        .filter(|request| request.method.as_str() == "POST")
        .map(|request| String::from_utf8(request.body.clone()).unwrap())
        .collect();
    assert_eq!(bodies.len(), 3);
    for (body, expected) in bodies.iter().zip([at, at - 60, at + 60]) {
        assert!(body.ends_with(&format!("&expires_at={expected}")), "{body}");
    }
    let keys = keys_of(&sent);
    assert!(keys
        .iter()
        .filter(|(m, _)| m == "POST")
        .all(|(_, key)| *key == keys[0].1));
}
