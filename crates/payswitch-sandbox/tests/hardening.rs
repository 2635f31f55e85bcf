//! The sandbox's limits (security review M7, L1 and §7): bounded logs with redacted
//! credentials and cut bodies, forgotten old objects, webhooks that do not follow redirects,
//! the Host / Origin / content-type / admin-token rules, the connection cap and the delay cap.

mod common;

use std::time::{Duration, Instant};

use common::*;
use payswitch_sandbox::{Fault, FaultKind, Sandbox, SandboxError, WebhookInbox};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const SESSIONS: &str = "/v1/checkout/sessions";

#[tokio::test]
async fn the_request_log_keeps_the_newest_entries_only() {
    let sandbox = Sandbox::builder().log_capacity(3).start().await.unwrap();
    for _ in 0..5 {
        create_session(&sandbox).await;
    }
    stripe_get(&sandbox, "/v1/prices").await;
    let requests = sandbox.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[2].path, "/v1/prices", "the newest is last");
    let served: Value = client()
        .get(format!("{}/__sandbox/requests", sandbox.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(served.as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn recorded_credentials_are_redacted_and_bodies_cut() {
    let sandbox = sandbox().await;
    create_session(&sandbox).await;
    creem_get(&sandbox, "/v1/products?product_id=prod_onetime").await;
    // A body past the recording limit (but under the 1 MiB request limit).
    let big = format!("metadata[note]={}", "x".repeat(200 * 1024));
    stripe_post(&sandbox, SESSIONS, &big).await;
    let requests = sandbox.requests();
    let header = |index: usize, name: &str| {
        requests[index]
            .headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.clone())
    };
    assert_eq!(header(0, "authorization").as_deref(), Some("[redacted]"));
    assert_eq!(header(1, "x-api-key").as_deref(), Some("[redacted]"));
    assert!(!requests[0].body_truncated);
    assert!(requests[2].body_truncated);
    assert_eq!(requests[2].body.len(), payswitch_sandbox::MAX_RECORDED_BODY);
    let served = client()
        .get(format!("{}/__sandbox/requests", sandbox.base_url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!served.contains(sandbox.stripe_secret_key()));
    assert!(!served.contains(sandbox.creem_api_key()));
}

#[tokio::test]
async fn finished_sessions_are_forgotten_after_the_retention() {
    let sandbox = sandbox().await;
    let paid = create_session(&sandbox).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let open = create_session(&sandbox).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    sandbox.pay(&paid, None).unwrap();
    sandbox.advance_clock(Duration::from_secs(6 * 24 * 60 * 60));
    assert_eq!(
        stripe_get(&sandbox, &format!("{SESSIONS}/{paid}"))
            .await
            .status,
        200,
        "kept for 7 days"
    );
    sandbox.advance_clock(Duration::from_secs(24 * 60 * 60));
    assert_eq!(
        stripe_get(&sandbox, &format!("{SESSIONS}/{paid}"))
            .await
            .status,
        404
    );
    // The open one expired after 24 h and is forgotten 7 days after creation too.
    assert_eq!(
        stripe_get(&sandbox, &format!("{SESSIONS}/{open}"))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn objects_past_the_cap_are_forgotten_oldest_first() {
    let sandbox = Sandbox::builder()
        .max_objects(2)
        .product(payswitch_sandbox::ProductSeed::one_time("A", 1000, "USD").with_id("prod_a"))
        .start()
        .await
        .unwrap();
    let mut ids = Vec::new();
    for _ in 0..4 {
        ids.push(
            create_session(&sandbox).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    for _ in 0..3 {
        creem_post(
            &sandbox,
            "/v1/checkouts",
            &json!({ "product_id": "prod_a" }),
        )
        .await;
    }
    // Pruning runs once a second.
    let deadline = Instant::now() + Duration::from_secs(5);
    while stripe_get(&sandbox, &format!("{SESSIONS}/{}", ids[0]))
        .await
        .status
        != 404
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = |id: String| {
        let sandbox = &sandbox;
        async move {
            stripe_get(sandbox, &format!("{SESSIONS}/{id}"))
                .await
                .status
        }
    };
    assert_eq!(status(ids[0].clone()).await, 404);
    assert_eq!(status(ids[1].clone()).await, 404);
    assert_eq!(status(ids[2].clone()).await, 200);
    assert_eq!(status(ids[3].clone()).await, 200);
    let listed = stripe_get(&sandbox, &format!("{SESSIONS}?limit=100")).await;
    assert_eq!(listed.json["data"].as_array().map(Vec::len), Some(2));
}

/// A one-shot HTTP server answering every request with a redirect to `location`.
async fn redirector(location: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let location = location.clone();
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 64 * 1024];
                let _ =
                    tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buffer)).await;
                let answer = format!(
                    "HTTP/1.1 307 Temporary Redirect\r\nlocation: {location}\r\n\
                     content-length: 0\r\nconnection: close\r\n\r\n"
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            });
        }
    });
    format!("http://{address}/hook")
}

#[tokio::test]
async fn webhook_deliveries_do_not_follow_redirects() {
    let inbox = WebhookInbox::start().await.unwrap();
    let redirecting = redirector(inbox.url().to_owned()).await;
    let sandbox = Sandbox::builder()
        .stripe_webhook_endpoint(&redirecting)
        .webhook_retry(payswitch_sandbox::RetryPolicy {
            max_attempts: 1,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(10),
            attempt_timeout: Duration::from_secs(2),
        })
        .start()
        .await
        .unwrap();
    let id = create_session(&sandbox).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    sandbox.pay(&id, None).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while sandbox.deliveries().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let deliveries = sandbox.deliveries();
    assert_eq!(deliveries[0].response_status, Some(307));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        inbox.received().is_empty(),
        "the redirect target got the event"
    );
}

async fn status_with(url: &str, method: reqwest::Method, headers: &[(&str, &str)]) -> u16 {
    let mut request = client().request(method, url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn foreign_hosts_are_refused_on_every_route() {
    let sandbox = sandbox().await;
    let base = sandbox.base_url();
    for path in [
        "/",
        "/pay/cs_x",
        "/__sandbox",
        "/__sandbox/requests",
        "/v1/prices",
    ] {
        let url = format!("{base}{path}");
        assert_eq!(
            status_with(&url, reqwest::Method::GET, &[("host", "rebound.evil.test")]).await,
            421,
            "{path}"
        );
        let port = sandbox.address().port();
        for host in [
            format!("127.0.0.1:{port}"),
            format!("localhost:{port}"),
            format!("[::1]:{port}"),
        ] {
            assert_ne!(
                status_with(&url, reqwest::Method::GET, &[("host", &host)]).await,
                421,
                "{path} {host}"
            );
        }
    }
}

#[tokio::test]
async fn cross_origin_admin_calls_and_pay_posts_are_refused() {
    let sandbox = sandbox().await;
    let base = sandbox.base_url().to_owned();
    let evil = [("origin", "https://evil.test")];
    assert_eq!(
        status_with(
            &format!("{base}/__sandbox/requests"),
            reqwest::Method::GET,
            &evil
        )
        .await,
        403
    );
    assert_eq!(
        status_with(
            &format!("{base}/__sandbox/reset"),
            reqwest::Method::POST,
            &evil
        )
        .await,
        403
    );
    let id = create_session(&sandbox).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let pay = |origin: String| {
        client()
            .post(format!("{base}/pay/{id}"))
            .header("origin", origin)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("email=a%40b.test&card=4242424242424242&action=pay")
            .send()
    };
    assert_eq!(
        pay("https://evil.test".to_owned()).await.unwrap().status(),
        403
    );
    assert_eq!(sandbox.counts().stripe_payment_intents, 0);
    // The page's own form posts from the sandbox's origin.
    assert!(pay(base.clone()).await.unwrap().status().is_redirection());
    assert_eq!(sandbox.counts().stripe_payment_intents, 1);
}

#[tokio::test]
async fn a_text_plain_admin_post_is_refused() {
    let sandbox = sandbox().await;
    let response = client()
        .post(format!("{}/__sandbox/webhooks", sandbox.base_url()))
        .header("content-type", "text/plain")
        .body(r#"{"gateway":"stripe","url":"http://127.0.0.1:9/exfiltrate"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 415);
    let endpoints: Value = client()
        .get(format!("{}/__sandbox/webhooks", sandbox.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(endpoints, json!([]));
}

#[tokio::test]
async fn keys_are_served_only_with_the_admin_token() {
    let open = sandbox().await;
    let info: Value = client()
        .get(format!("{}/__sandbox", open.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["base_url"], open.base_url());
    assert!(info["stripe"].get("secret_key").is_none(), "{info}");
    assert!(info["creem"].get("api_key").is_none(), "{info}");

    let guarded = Sandbox::builder()
        .admin_token("t0ken")
        .start()
        .await
        .unwrap();
    let url = format!("{}/__sandbox", guarded.base_url());
    assert_eq!(status_with(&url, reqwest::Method::GET, &[]).await, 403);
    assert_eq!(
        status_with(
            &format!("{url}/counts"),
            reqwest::Method::GET,
            &[("x-sandbox-admin-token", "wrong")]
        )
        .await,
        403
    );
    let info: Value = client()
        .get(&url)
        .header("x-sandbox-admin-token", "t0ken")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["stripe"]["secret_key"], "sk_test_sandbox");
    assert_eq!(info["creem"]["api_key"], "creem_test_sandbox");
    // Gateway routes never need it.
    assert_eq!(stripe_get(&guarded, SESSIONS).await.status, 200);
}

#[tokio::test]
async fn delays_past_five_minutes_are_refused() {
    let sandbox = sandbox().await;
    let response = client()
        .post(format!("{}/__sandbox/faults", sandbox.base_url()))
        .json(&json!({ "path_prefix": "/v1/", "kind": "delay", "millis": u64::MAX }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("5 minutes"),
        "{body}"
    );
    assert!(matches!(
        sandbox.try_inject_fault(Fault::new(
            None,
            "/v1/",
            FaultKind::Delay { millis: 300_001 }
        )),
        Err(SandboxError::InvalidFault(_))
    ));
    assert!(sandbox
        .try_inject_fault(Fault::new(
            None,
            "/v1/",
            FaultKind::Delay { millis: 300_000 }
        ))
        .is_ok());
}

#[tokio::test]
async fn connections_past_the_cap_wait_for_a_free_slot() {
    let sandbox = Sandbox::builder().max_connections(1).start().await.unwrap();
    // An idle connection takes the only slot.
    let idle = tokio::net::TcpStream::connect(sandbox.address())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let waiting = client()
        .get(format!("{}{SESSIONS}", sandbox.base_url()))
        .bearer_auth(sandbox.stripe_secret_key())
        .timeout(Duration::from_millis(500))
        .send()
        .await;
    assert!(waiting.is_err(), "served past the cap");
    drop(idle);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let served = client()
            .get(format!("{}{SESSIONS}", sandbox.base_url()))
            .bearer_auth(sandbox.stripe_secret_key())
            .timeout(Duration::from_secs(2))
            .send()
            .await;
        if let Ok(response) = served {
            assert_eq!(response.status().as_u16(), 200);
            break;
        }
        assert!(Instant::now() < deadline, "the slot was never freed");
    }
}
