//! Signed webhooks of both gateways, recomputed independently here, and
//! at-least-once delivery with retries.

mod common;

use std::time::Duration;

use common::*;
use payswitch_sandbox::{Gateway, RetryPolicy, Sandbox, WebhookInbox};
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn stripe_completed_event_is_signed() {
    let inbox = WebhookInbox::start().await.unwrap();
    let sandbox = sandbox_with_inbox(&inbox).await;
    let id = create_session(&sandbox).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    sandbox.pay(&id, None).unwrap();
    // payment_intent.created, charge.succeeded, payment_intent.succeeded, then the session's
    // (their order is checked in sequences_stripe.rs).
    let received = inbox.wait_for(4, WAIT).await;
    assert_eq!(received.len(), 4);
    let webhook = received
        .iter()
        .find(|webhook| webhook.json().unwrap()["type"] == "checkout.session.completed")
        .expect("checkout.session.completed");
    assert_eq!(webhook.method, "POST");
    assert_eq!(webhook.path, "/webhooks");
    assert!(webhook
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    let header = webhook.header("stripe-signature").unwrap();
    assert!(stripe_signature_valid(
        header,
        &webhook.body,
        sandbox.stripe_webhook_secret()
    ));
    assert!(!stripe_signature_valid(
        header,
        &webhook.body,
        "whsec_other"
    ));
    let timestamp: i64 = header
        .split(',')
        .next()
        .unwrap()
        .trim_start_matches("t=")
        .parse()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((now - timestamp).abs() <= 300);

    let event = webhook.json().unwrap();
    assert!(event["id"].as_str().unwrap().starts_with("evt_"));
    assert_eq!(event["object"], "event");
    assert_eq!(event["type"], "checkout.session.completed");
    assert_eq!(
        event["api_version"],
        payswitch_sandbox::DEFAULT_STRIPE_API_VERSION
    );
    assert_eq!(event["livemode"], false);
    assert_eq!(event["pending_webhooks"], 1);
    assert_eq!(
        event["request"],
        json!({ "id": null, "idempotency_key": null })
    );
    assert_eq!(event["data"]["object"]["id"], id.as_str());
    assert_eq!(event["data"]["object"]["status"], "complete");
    assert_eq!(event["data"]["object"]["payment_status"], "paid");

    tokio::time::sleep(Duration::from_millis(100)).await;
    let deliveries = sandbox.deliveries();
    assert_eq!(deliveries.len(), 4);
    let delivery = deliveries
        .iter()
        .find(|delivery| delivery.event_type == "checkout.session.completed")
        .expect("delivered");
    assert_eq!(delivery.response_status, Some(200));
    assert_eq!(delivery.attempt, 1);
    assert_eq!(delivery.gateway, Gateway::Stripe);
    assert_eq!(delivery.body.as_bytes(), webhook.body.as_slice());
}

#[tokio::test]
async fn stripe_expired_events_from_api_and_clock() {
    let inbox = WebhookInbox::start().await.unwrap();
    let sandbox = sandbox_with_inbox(&inbox).await;
    let first = create_session(&sandbox).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = create_session(&sandbox).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let expired = stripe_post_with(
        &sandbox,
        &format!("/v1/checkout/sessions/{first}/expire"),
        "",
        Some("exp-1"),
    )
    .await;
    let received = inbox.wait_for(1, WAIT).await;
    let event = received[0].json().unwrap();
    assert_eq!(event["type"], "checkout.session.expired");
    assert_eq!(event["data"]["object"]["id"], first.as_str());
    assert_eq!(
        event["request"]["id"].as_str(),
        expired.header("request-id")
    );
    assert_eq!(event["request"]["idempotency_key"], "exp-1");

    sandbox.advance_clock(Duration::from_secs(25 * 3600));
    let received = inbox.wait_for(2, WAIT).await;
    assert_eq!(received.len(), 2);
    let event = received[1].json().unwrap();
    assert_eq!(event["type"], "checkout.session.expired");
    assert_eq!(event["data"]["object"]["id"], second.as_str());
    assert_eq!(event["data"]["object"]["status"], "expired");
    assert_eq!(event["request"]["id"], Value::Null);
}

#[tokio::test]
async fn payment_intent_succeeded_event() {
    let inbox = WebhookInbox::start().await.unwrap();
    let sandbox = sandbox_with_inbox(&inbox).await;
    let created = stripe_post(
        &sandbox,
        "/v1/payment_intents",
        "amount=1099&currency=usd&automatic_payment_methods[enabled]=true",
    )
    .await;
    let id = created.json["id"].as_str().unwrap();
    stripe_post(
        &sandbox,
        &format!("/v1/payment_intents/{id}/confirm"),
        "payment_method=pm_card_visa",
    )
    .await;
    // payment_intent.created, charge.succeeded, payment_intent.succeeded.
    let received = inbox.wait_for(3, WAIT).await;
    let event = received
        .iter()
        .map(|webhook| webhook.json().unwrap())
        .find(|event| event["type"] == "payment_intent.succeeded")
        .expect("payment_intent.succeeded");
    assert_eq!(event["data"]["object"]["id"], id);
    assert_eq!(event["data"]["object"]["amount_received"], 1099);
}

#[tokio::test]
async fn creem_completed_event_is_signed() {
    let inbox = WebhookInbox::start().await.unwrap();
    let sandbox = sandbox_with_inbox(&inbox).await;
    let created = creem_post(
        &sandbox,
        "/v1/checkouts",
        &json!({ "product_id": "prod_monthly", "request_id": "r-1", "metadata": {"userId": "u1"} }),
    )
    .await;
    let id = created.json["id"].as_str().unwrap();
    sandbox.pay_with_email(id, None, "team@shop.test").unwrap();
    // A recurring product's payment also sends subscription.active and subscription.paid
    // (their payloads are checked in billing_creem.rs).
    let received = inbox.wait_for(3, WAIT).await;
    assert_eq!(received.len(), 3);
    let webhook = received
        .iter()
        .find(|webhook| webhook.json().unwrap()["eventType"] == "checkout.completed")
        .expect("checkout.completed");
    assert_eq!(webhook.header("content-type"), Some("application/json"));
    let signature = webhook.header("creem-signature").unwrap();
    assert_eq!(
        signature,
        hmac_hex(sandbox.creem_webhook_secret(), &webhook.body)
    );
    assert_eq!(signature.len(), 64);
    assert!(signature
        .chars()
        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));

    let event = webhook.json().unwrap();
    assert!(event["id"].as_str().unwrap().starts_with("evt_"));
    assert_eq!(event["eventType"], "checkout.completed");
    let created_ms = event["created_at"].as_i64().unwrap();
    assert!(
        (created_ms / 1000 - sandbox.now()).abs() <= 5,
        "created_at is epoch milliseconds"
    );
    let object = &event["object"];
    assert_eq!(object["object"], "checkout");
    assert_eq!(object["id"], id);
    assert_eq!(object["status"], "completed");
    assert_eq!(object["request_id"], "r-1");
    assert_eq!(object["metadata"]["userId"], "u1");
    assert_eq!(object["product"]["id"], "prod_monthly");
    assert_eq!(object["customer"]["email"], "team@shop.test");
    assert_eq!(object["order"]["amount"], 9900);
    assert_eq!(object["order"]["type"], "recurring");
    assert_eq!(object["subscription"]["object"], "subscription");
}

#[tokio::test]
async fn failed_deliveries_are_retried_and_recorded() {
    let inbox = WebhookInbox::start().await.unwrap();
    inbox.script_statuses([500, 503]);
    let sandbox = sandbox_with_inbox(&inbox).await;
    let id = create_session(&sandbox).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Expiring sends exactly one event (paying sends four).
    sandbox.expire(&id).unwrap();
    let received = inbox.wait_for(3, WAIT).await;
    assert_eq!(received.len(), 3);
    assert_eq!(
        received.iter().map(|r| r.answered).collect::<Vec<_>>(),
        vec![500, 503, 200]
    );
    let ids: Vec<Value> = received
        .iter()
        .map(|r| r.json().unwrap()["id"].clone())
        .collect();
    assert!(
        ids.iter().all(|event_id| *event_id == ids[0]),
        "one event, delivered three times"
    );
    for webhook in &received {
        assert!(stripe_signature_valid(
            webhook.header("stripe-signature").unwrap(),
            &webhook.body,
            sandbox.stripe_webhook_secret()
        ));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let deliveries = sandbox.deliveries();
    assert_eq!(
        deliveries.iter().map(|d| d.attempt).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(
        deliveries
            .iter()
            .map(|d| d.response_status)
            .collect::<Vec<_>>(),
        vec![Some(500), Some(503), Some(200)]
    );
    assert_eq!(inbox.accepted().len(), 1);
    assert_eq!(sandbox.counts().webhook_events, 1);
}

#[tokio::test]
async fn unreachable_endpoint_is_retried_up_to_the_limit() {
    // A port that was just free: connections are refused.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}/hook", listener.local_addr().unwrap());
    drop(listener);
    let sandbox = Sandbox::builder()
        .webhook_retry(RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(20),
            attempt_timeout: Duration::from_secs(1),
        })
        .start()
        .await
        .unwrap();
    sandbox
        .add_webhook_endpoint(Gateway::Stripe, &dead)
        .unwrap();
    let id = create_session(&sandbox).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let started = std::time::Instant::now();
    // One event (checkout.session.expired), so three attempts in all.
    sandbox.expire(&id).unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "delivery must not block"
    );
    let deadline = std::time::Instant::now() + WAIT;
    while sandbox.deliveries().len() < 3 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let deliveries = sandbox.deliveries();
    assert_eq!(deliveries.len(), 3);
    assert!(deliveries
        .iter()
        .all(|d| d.response_status.is_none() && d.error.is_some() && d.url == dead));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(sandbox.deliveries().len(), 3);
}

#[tokio::test]
async fn endpoints_only_receive_their_gateway() {
    let stripe_inbox = WebhookInbox::start().await.unwrap();
    let creem_inbox = WebhookInbox::start().await.unwrap();
    let sandbox = Sandbox::builder()
        .stripe_webhook_endpoint(stripe_inbox.url())
        .product(payswitch_sandbox::ProductSeed::one_time("A", 1000, "USD").with_id("prod_a"))
        .start()
        .await
        .unwrap();
    // Registered at runtime through the admin HTTP API.
    let response = client()
        .post(format!("{}/__sandbox/webhooks", sandbox.base_url()))
        .json(&json!({ "gateway": "creem", "url": creem_inbox.url() }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let checkout = creem_post(
        &sandbox,
        "/v1/checkouts",
        &json!({ "product_id": "prod_a" }),
    )
    .await;
    sandbox
        .pay(checkout.json["id"].as_str().unwrap(), None)
        .unwrap();
    let session = create_session(&sandbox).await;
    sandbox.pay(session["id"].as_str().unwrap(), None).unwrap();
    assert_eq!(
        creem_inbox.wait_for(1, WAIT).await[0].json().unwrap()["eventType"],
        "checkout.completed"
    );
    // The Stripe payment's four events, all in Stripe's envelope.
    let stripe_events = stripe_inbox.wait_for(4, WAIT).await;
    assert!(stripe_events
        .iter()
        .all(|webhook| webhook.json().unwrap()["object"] == "event"));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(creem_inbox.received().len(), 1);
    assert_eq!(stripe_inbox.received().len(), 4);
}

#[tokio::test]
async fn an_application_started_after_the_sandbox_points_its_webhooks_at_itself() {
    use payswitch_sandbox::{Gateway, Sandbox, WebhookInbox};
    let early = WebhookInbox::start().await.unwrap();
    let sandbox = Sandbox::builder()
        .creem_webhook_endpoint(early.url())
        .product(payswitch_sandbox::ProductSeed::one_time("Book", 1500, "USD").with_id("prod_book"))
        .start()
        .await
        .unwrap();
    // The application starts later, on a port it learns only now.
    let late = WebhookInbox::start().await.unwrap();
    sandbox
        .set_webhook_endpoint(Gateway::Creem, late.url())
        .unwrap();
    assert!(sandbox
        .set_webhook_endpoint(Gateway::Creem, "not a url")
        .is_err());

    let client = reqwest::Client::new();
    let checkout: serde_json::Value = client
        .post(format!("{}/v1/checkouts", sandbox.creem_api_base()))
        .header("x-api-key", sandbox.creem_api_key())
        .json(&serde_json::json!({ "product_id": "prod_book" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    sandbox.pay(checkout["id"].as_str().unwrap(), None).unwrap();
    let received = late.wait_for(1, std::time::Duration::from_secs(10)).await;
    assert_eq!(received.len(), 1, "the new endpoint gets the event");
    assert!(
        early.received().is_empty(),
        "the replaced endpoint gets nothing"
    );
    assert!(sandbox.remove_webhook_endpoint(Gateway::Creem, late.url()));
    assert!(!sandbox.remove_webhook_endpoint(Gateway::Creem, late.url()));
}
