//! Every fault kind, through the handle and the admin HTTP API, plus the
//! object counts that prove exactly-once creation.

mod common;

use std::time::{Duration, Instant};

use common::*;
use payswitch_sandbox::{Fault, FaultKind, SandboxHandle};
use serde_json::{json, Value};

const SESSIONS: &str = "/v1/checkout/sessions";

async fn raw_post(
    base: &str,
    path: &str,
    key: &str,
    body: &str,
    idempotency_key: &str,
) -> Result<reqwest::Response, reqwest::Error> {
    client()
        .post(format!("{base}{path}"))
        .bearer_auth(key)
        .header("idempotency-key", idempotency_key)
        .body(body.to_owned())
        .send()
        .await
}

/// Posts the session form to the sandbox with the secret key and an idempotency key.
async fn post_session(
    sandbox: &SandboxHandle,
    body: &str,
    idempotency_key: &str,
) -> Result<reqwest::Response, reqwest::Error> {
    raw_post(
        sandbox.base_url(),
        SESSIONS,
        sandbox.stripe_secret_key(),
        body,
        idempotency_key,
    )
    .await
}

/// A sandbox with `kind` queued for the next session POST, and the form that POST sends.
async fn sandbox_with_session_fault(kind: FaultKind) -> (SandboxHandle, String) {
    let sandbox = sandbox().await;
    sandbox.inject_fault(Fault::new(Some("POST"), SESSIONS, kind));
    (sandbox, session_form("https://shop.test/ok"))
}

#[tokio::test]
async fn respond_503_with_retry_after_then_recover() {
    let sandbox = sandbox().await;
    sandbox.inject_fault(Fault::new(
        Some("POST"),
        SESSIONS,
        FaultKind::Respond {
            status: 503,
            retry_after_seconds: Some(2),
        },
    ));
    let failed = stripe_post(&sandbox, SESSIONS, &session_form("https://shop.test/ok")).await;
    assert_eq!(failed.status, 503);
    assert_eq!(failed.header("retry-after"), Some("2"));
    assert_eq!(failed.json["error"]["type"], "api_error");
    assert!(failed.header("request-id").is_some());
    assert_eq!(sandbox.counts().stripe_checkout_sessions, 0);
    let ok = stripe_post(&sandbox, SESSIONS, &session_form("https://shop.test/ok")).await;
    assert_eq!(ok.status, 200);
    assert_eq!(sandbox.counts().stripe_checkout_sessions, 1);
}

#[tokio::test]
async fn respond_429_and_500_on_creem() {
    let sandbox = sandbox().await;
    sandbox.inject_fault(
        Fault::new(
            None,
            "/v1/checkouts",
            FaultKind::Respond {
                status: 429,
                retry_after_seconds: Some(7),
            },
        )
        .times(2),
    );
    sandbox.inject_fault(Fault::new(
        None,
        "/v1/checkouts",
        FaultKind::Respond {
            status: 500,
            retry_after_seconds: None,
        },
    ));
    let body = json!({ "product_id": "prod_onetime" });
    for expected in [429, 429, 500, 200] {
        let reply = creem_post(&sandbox, "/v1/checkouts", &body).await;
        assert_eq!(reply.status, expected, "{}", reply.json);
        if expected == 429 {
            assert_eq!(reply.header("retry-after"), Some("7"));
            assert_eq!(reply.json["status"], 429);
            assert!(reply.json["trace_id"].is_string());
        }
    }
    assert_eq!(sandbox.counts().creem_checkouts, 1);
}

#[tokio::test]
async fn delay_then_process() {
    let sandbox = sandbox().await;
    sandbox.inject_fault(Fault::new(
        Some("GET"),
        SESSIONS,
        FaultKind::Delay { millis: 300 },
    ));
    let started = Instant::now();
    let reply = stripe_get(&sandbox, SESSIONS).await;
    assert_eq!(reply.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    let started = Instant::now();
    stripe_get(&sandbox, SESSIONS).await;
    assert!(started.elapsed() < Duration::from_millis(300));
}

#[tokio::test]
async fn drop_connection_before_processing() {
    let (sandbox, body) = sandbox_with_session_fault(FaultKind::DropConnection).await;
    let error = post_session(&sandbox, &body, "drop-1")
        .await
        .expect_err("the connection is dropped without a response");
    assert!(!error.is_status());
    assert_eq!(sandbox.counts().stripe_checkout_sessions, 0);
    // Nothing was processed, so the retry with the same key creates it now.
    let retry = post_session(&sandbox, &body, "drop-1").await.unwrap();
    assert_eq!(retry.status().as_u16(), 200);
    assert!(!retry.headers().contains_key("idempotent-replayed"));
    assert_eq!(sandbox.counts().stripe_checkout_sessions, 1);
    let requests = sandbox.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].response_status, None);
    assert_eq!(requests[1].response_status, Some(200));
    assert_eq!(requests[0].body, body);
}

#[tokio::test]
async fn process_then_drop_is_made_safe_by_idempotency() {
    let (sandbox, body) = sandbox_with_session_fault(FaultKind::ProcessThenDrop).await;
    let error = post_session(&sandbox, &body, "ambiguous-1").await;
    assert!(error.is_err());
    assert_eq!(
        sandbox.counts().stripe_checkout_sessions,
        1,
        "processed before the drop"
    );
    let retry = post_session(&sandbox, &body, "ambiguous-1").await.unwrap();
    assert_eq!(retry.status().as_u16(), 200);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    let session: Value = retry.json().await.unwrap();
    assert!(session["id"].as_str().unwrap().starts_with("cs_test_"));
    assert_eq!(sandbox.counts().stripe_checkout_sessions, 1, "exactly once");
    let listed = stripe_get(&sandbox, SESSIONS).await;
    assert_eq!(listed.json["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn process_then_fail_is_made_safe_by_idempotency() {
    let sandbox = sandbox().await;
    sandbox.inject_fault(Fault::new(
        Some("POST"),
        SESSIONS,
        FaultKind::ProcessThenFail { status: 500 },
    ));
    let body = session_form("https://shop.test/ok");
    let failed = stripe_post_with(&sandbox, SESSIONS, &body, Some("ambiguous-2")).await;
    assert_eq!(failed.status, 500);
    assert_eq!(failed.json["error"]["type"], "api_error");
    assert_eq!(sandbox.counts().stripe_checkout_sessions, 1);
    let retry = stripe_post_with(&sandbox, SESSIONS, &body, Some("ambiguous-2")).await;
    assert_eq!(retry.status, 200);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(sandbox.counts().stripe_checkout_sessions, 1);
}

#[tokio::test]
async fn faults_through_the_admin_api() {
    let sandbox = sandbox().await;
    let admin = format!("{}/__sandbox/faults", sandbox.base_url());
    let added = client()
        .post(&admin)
        .json(&json!({ "method": "POST", "path_prefix": "/v1/products", "count": 1, "kind": "drop_connection" }))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status().as_u16(), 200);
    let queued: Value = client()
        .get(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(queued[0]["kind"], "drop_connection");
    // The method filter keeps GETs unaffected.
    assert_eq!(
        creem_get(&sandbox, "/v1/products?product_id=prod_onetime")
            .await
            .status,
        200
    );
    let dropped = client()
        .post(format!("{}/v1/products", sandbox.base_url()))
        .header("x-api-key", sandbox.creem_api_key())
        .json(&json!({ "name": "X", "description": "Y", "price": 100, "currency": "USD", "billing_type": "onetime" }))
        .send()
        .await;
    assert!(dropped.is_err());
    client()
        .post(&admin)
        .json(&json!({ "path_prefix": "/v1/", "count": 5, "kind": "respond", "status": 503 }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        client()
            .delete(&admin)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    assert_eq!(stripe_get(&sandbox, SESSIONS).await.status, 200);
    let bad = client()
        .post(&admin)
        .header("content-type", "application/json")
        .body("{\"kind\":\"explode\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);
}

#[tokio::test]
async fn admin_api_pays_counts_and_resets() {
    let sandbox = sandbox().await;
    let id = create_session(&sandbox).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let base = sandbox.base_url().to_owned();
    let declined = client()
        .post(format!("{base}/__sandbox/checkouts/{id}/pay"))
        .json(&json!({ "card": "4000000000000002" }))
        .send()
        .await
        .unwrap();
    assert_eq!(declined.status().as_u16(), 402);
    let paid: Value = client()
        .post(format!("{base}/__sandbox/checkouts/{id}/pay"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        paid["redirect_url"],
        format!("https://shop.test/success?session_id={id}")
    );
    let again = client()
        .post(format!("{base}/__sandbox/checkouts/{id}/pay"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 409);
    let counts: Value = client()
        .get(format!("{base}/__sandbox/counts"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counts["stripe_checkout_sessions"], 1);
    assert_eq!(counts["stripe_payment_intents"], 1);
    let clock: Value = client()
        .post(format!("{base}/__sandbox/clock/advance"))
        .json(&json!({ "seconds": 3600 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(clock["offset_seconds"], 3600);
    let requests: Value = client()
        .get(format!("{base}/__sandbox/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(requests[0]["path"], SESSIONS);
    let product: Value = client()
        .post(format!("{base}/__sandbox/products"))
        .json(&json!({ "id": "prod_admin", "name": "Admin", "price": 700, "currency": "EUR" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(product["id"], "prod_admin");
    assert_eq!(
        creem_get(&sandbox, "/v1/products?product_id=prod_admin")
            .await
            .json["price"],
        700
    );
    client()
        .post(format!("{base}/__sandbox/reset"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        stripe_get(&sandbox, &format!("{SESSIONS}/{id}"))
            .await
            .status,
        404
    );
    assert_eq!(
        creem_get(&sandbox, "/v1/products?product_id=prod_admin")
            .await
            .status,
        404
    );
    assert_eq!(
        creem_get(&sandbox, "/v1/products?product_id=prod_onetime")
            .await
            .status,
        200
    );
    assert_eq!(sandbox.counts().stripe_checkout_sessions, 0);
    assert_eq!(sandbox.requests().len(), 3, "the log restarts at reset");
    // Keys are served only with the admin token (tests/hardening.rs).
    let info: Value = client()
        .get(format!("{base}/__sandbox"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["stripe"]["api_base"], base);
    assert!(info["stripe"].get("secret_key").is_none());
}

#[tokio::test]
async fn oversized_and_garbage_bodies_do_not_break_the_server() {
    let sandbox = sandbox().await;
    let big = "a=".to_owned() + &"x".repeat(2 * 1024 * 1024);
    let reply = stripe_post(&sandbox, SESSIONS, &big).await;
    assert_eq!(reply.status, 413);
    for body in [
        "a[=1",
        "a]b=2",
        "%ff%fe=%00",
        "line_items[0]=x&line_items[0][a]=y",
        "&&&==",
        "expand[0][x]=1",
    ] {
        let reply = stripe_post(&sandbox, SESSIONS, body).await;
        assert_eq!(reply.status, 400, "{body}: {}", reply.json);
    }
    let garbage = client()
        .post(format!("{}/v1/checkouts", sandbox.base_url()))
        .header("x-api-key", sandbox.creem_api_key())
        .body(vec![0xff, 0x00, 0x7b])
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status().as_u16(), 400);
    assert_eq!(stripe_get(&sandbox, SESSIONS).await.status, 200);
}
