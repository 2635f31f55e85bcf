//! A sandbox that runs all day stays bounded: many payments, subscriptions, keyed requests and
//! webhook deliveries later, every store is within its cap, and what expires has expired.

mod common;

use std::time::Duration;

use common::billing::subscribe;
use common::*;
use payswitch_sandbox::{
    DeliveryModes, PriceSeed, ProductSeed, Sandbox, SandboxError, SandboxHandle, WebhookInbox,
};
use serde_json::json;

const LOG_CAPACITY: usize = 40;
const MAX_OBJECTS: usize = 25;
const ROUNDS: usize = 60;
const DAY: u64 = 24 * 60 * 60;

async fn pay_creem_checkout(sandbox: &SandboxHandle, product: &str) {
    let created = creem_post(
        sandbox,
        "/v1/checkouts",
        &json!({ "product_id": product, "success_url": "https://shop.test/thanks" }),
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.json);
    sandbox
        .pay(created.json["id"].as_str().expect("id"), None)
        .expect("paid");
}

fn size(sandbox: &SandboxHandle, store: &str) -> usize {
    *sandbox
        .retained()
        .get(store)
        .unwrap_or_else(|| panic!("no store {store}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_run_stays_within_every_cap() {
    let inbox = WebhookInbox::start().await.unwrap();
    let sandbox = Sandbox::builder()
        .stripe_webhook_endpoint(inbox.url())
        .creem_webhook_endpoint(inbox.url())
        .product(ProductSeed::one_time("Pro plan", 2500, "USD").with_id("prod_onetime"))
        .product(
            ProductSeed::recurring("Team plan", 9900, "EUR", "every-month").with_id("prod_monthly"),
        )
        .price(PriceSeed::recurring("Pro", 2000, "usd", "month").with_id("price_pro"))
        .log_capacity(LOG_CAPACITY)
        .max_objects(MAX_OBJECTS)
        // Every accepted event waits a day to be delivered again: the clock queue fills too.
        .delivery_modes(DeliveryModes::new().redeliver_after(Duration::from_secs(DAY)))
        .start()
        .await
        .unwrap();

    let mut first_event = None;
    for round in 0..ROUNDS {
        let form = session_form("https://shop.test/ok?session_id={CHECKOUT_SESSION_ID}");
        let key = format!("order-{round}");
        let created = stripe_post_with(&sandbox, "/v1/checkout/sessions", &form, Some(&key)).await;
        assert_eq!(created.status, 200, "{}", created.json);
        sandbox
            .pay(created.json["id"].as_str().expect("id"), None)
            .expect("paid");
        pay_creem_checkout(&sandbox, "prod_onetime").await;
        if round % 2 == 0 {
            subscribe(&sandbox, "", &format!("buyer{round}@shop.test")).await;
            pay_creem_checkout(&sandbox, "prod_monthly").await;
        }
        if first_event.is_none() {
            let events: serde_json::Value = client()
                .get(format!("{}/__sandbox/events", sandbox.base_url()))
                .send()
                .await
                .expect("events")
                .json()
                .await
                .expect("JSON");
            first_event = events[0]["id"].as_str().map(str::to_owned);
        }
    }
    // Every event reached the inbox once (and waits a day to be redelivered).
    let emitted = usize::try_from(sandbox.counts().webhook_events).unwrap();
    inbox.wait_for(emitted, Duration::from_secs(30)).await;
    assert!(emitted > 5 * ROUNDS, "{emitted}");
    // The sandbox schedules each redelivery once it has read the endpoint's answer.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while size(&sandbox, "waiting_deliveries") < emitted && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The next pass applies the caps (they are applied once a second and on every advance).
    sandbox.advance_clock(Duration::from_secs(1));

    let counts = sandbox.counts();
    assert_eq!(
        counts.stripe_checkout_sessions,
        2 * ROUNDS as u64 - ROUNDS as u64 / 2
    );
    assert_eq!(counts.creem_checkouts, ROUNDS as u64 + ROUNDS as u64 / 2);
    for store in ["request_log", "delivery_log", "webhook_events"] {
        assert!(size(&sandbox, store) <= LOG_CAPACITY, "{store}");
    }
    assert_eq!(size(&sandbox, "delivery_log"), LOG_CAPACITY);
    for store in [
        "stripe.sessions",
        "stripe.payment_intents",
        "stripe.customers",
        "stripe.subscriptions",
        "stripe.invoices",
        "stripe.charges",
        "stripe.events",
        "creem.checkouts",
        "creem.customers",
        "creem.subscriptions",
        "creem.transactions",
    ] {
        assert!(
            size(&sandbox, store) <= MAX_OBJECTS,
            "{store}: {:?}",
            sandbox.retained()
        );
    }
    assert_eq!(size(&sandbox, "stripe.events"), MAX_OBJECTS);
    assert_eq!(size(&sandbox, "waiting_deliveries"), emitted);
    // The oldest events are forgotten: a replay of the first one is refused.
    let first_event = first_event.expect("an event");
    assert!(matches!(
        sandbox.replay_event(&first_event),
        Err(SandboxError::EventNotFound(_))
    ));

    // A day later the redeliveries went out and the idempotency keys (24 hours) expired.
    assert_eq!(size(&sandbox, "stripe.idempotency_keys"), ROUNDS);
    sandbox.advance_clock(Duration::from_secs(DAY + 60));
    assert_eq!(size(&sandbox, "waiting_deliveries"), 0);
    assert_eq!(size(&sandbox, "stripe.idempotency_keys"), 0);
    inbox.wait_for(2 * emitted, Duration::from_secs(30)).await;
    let form = session_form("https://shop.test/ok");
    let created = stripe_post_with(&sandbox, "/v1/checkout/sessions", &form, Some("late")).await;
    assert_eq!(created.status, 200, "{}", created.json);
    assert_eq!(size(&sandbox, "stripe.idempotency_keys"), 1);
    for store in ["request_log", "delivery_log", "webhook_events"] {
        assert!(size(&sandbox, store) <= LOG_CAPACITY, "{store}");
    }
}
