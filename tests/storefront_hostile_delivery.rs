//! The storefront example under hostile webhook delivery, on Stripe and on Creem: its
//! sandbox delivers every event twice (both copies at once) and out of order (shuffled within
//! a window, so events of separate purchases mix). Customers buy one-time orders and
//! subscriptions without coming back to the success page, so only webhooks can fulfil them;
//! every order must end paid exactly once, every event processed once.

mod storefront_support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use storefront_support::{client, Storefront};

/// One-time orders bought.
const ONE_TIME_ORDERS: usize = 5;
/// Subscriptions bought.
const SUBSCRIPTIONS: [&str; 2] = ["pro_monthly", "team_monthly"];
/// Twice, both copies at once; shuffled within 300 ms; seeded so a failure repeats.
const MODES: &str = "duplicate,reorder=shuffle,window=300ms,seed=11";

/// GETs a sandbox admin path as JSON.
async fn sandbox_get(shop: &Storefront, path: &str) -> Value {
    let (status, body) = shop.get_url(&format!("{}{path}", shop.sandbox_url)).await;
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).expect("JSON")
}

/// Waits until every event the sandbox emitted has reached the storefront twice (accepted),
/// and returns the delivery log.
async fn all_delivered_twice(shop: &Storefront, events: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let emitted = sandbox_get(shop, "/__sandbox/events").await;
        let deliveries = sandbox_get(shop, "/__sandbox/deliveries").await;
        let deliveries = deliveries.as_array().cloned().unwrap_or_default();
        let mut accepted: BTreeMap<String, usize> = BTreeMap::new();
        for delivery in &deliveries {
            if delivery["response_status"] == 200 {
                *accepted
                    .entry(delivery["event_id"].as_str().unwrap_or_default().to_owned())
                    .or_default() += 1;
            }
        }
        let ids: Vec<&str> = emitted
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|event| event["id"].as_str())
            .collect();
        let done = ids.len() >= events
            && ids
                .iter()
                .all(|id| accepted.get(*id).copied().unwrap_or_default() >= 2);
        if done {
            return deliveries;
        }
        assert!(
            Instant::now() < deadline,
            "not every event was delivered twice: {emitted}\n{accepted:?}\n{}",
            shop.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn survives_duplicated_and_reordered_delivery(provider: &'static str) {
    let shop = Storefront::start(provider);
    let response = client()
        .post(format!("{}/__sandbox/delivery", shop.sandbox_url))
        .header("content-type", "application/json")
        .body(json!({ "modes": MODES }).to_string())
        .send()
        .await
        .expect("set delivery modes");
    assert_eq!(response.status(), 200);

    let mut orders = Vec::new();
    let skus = std::iter::repeat_n("pro_licence", ONE_TIME_ORDERS).chain(SUBSCRIPTIONS);
    for sku in skus {
        let (order_id, checkout_id) = shop.open_checkout(sku).await;
        // The customer never comes back: only the webhooks can fulfil the order.
        shop.pay(&checkout_id).await;
        orders.push((order_id, sku));
    }
    // Stripe: four events per payment (the PaymentIntent's and charge's, then the session's),
    // eleven per subscription; Creem: one, and three.
    let (per_payment, per_subscription) = if provider == "stripe" {
        (4, 11)
    } else {
        (1, 3)
    };
    let events = ONE_TIME_ORDERS * per_payment + SUBSCRIPTIONS.len() * per_subscription;
    let deliveries = all_delivered_twice(&shop, events).await;

    for (order_id, sku) in &orders {
        let order = shop
            .wait_for_order(order_id, "paid", |order| order["status"] == "paid")
            .await;
        assert_eq!(order["times_marked_paid"], 1, "{order}");
        assert_eq!(order["paid_via"], "webhook", "{order}");
        assert_eq!(order["sku"], *sku);
        if *sku != "pro_licence" {
            assert!(order["subscription_id"].is_string(), "{order}");
        }
    }
    let snapshot = shop.snapshot().await;
    let processed: Vec<&str> = snapshot["processed_event_ids"]
        .as_array()
        .expect("processed ids")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let unique: BTreeSet<&str> = processed.iter().copied().collect();
    assert_eq!(
        processed.len(),
        unique.len(),
        "an event was processed twice"
    );
    assert_eq!(processed.len(), events, "{snapshot}");
    assert_eq!(snapshot["duplicate_deliveries"], events, "{snapshot}");
    for subscription in snapshot["subscriptions"].as_array().expect("subscriptions") {
        assert_eq!(subscription["status"], "active", "{subscription}");
    }
    assert_eq!(
        snapshot["subscriptions"].as_array().map(Vec::len),
        Some(SUBSCRIPTIONS.len())
    );

    // The delivery really was hostile: every event twice, and not in the emitted order.
    let emitted: Vec<String> = sandbox_get(&shop, "/__sandbox/events")
        .await
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|event| event["id"].as_str().map(str::to_owned))
        .collect();
    let delivered: Vec<String> = deliveries
        .iter()
        .filter(|delivery| delivery["reason"] == "original")
        .filter_map(|delivery| delivery["event_id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(delivered.len(), emitted.len());
    assert_ne!(
        delivered, emitted,
        "the events went out in the emitted order"
    );
    let duplicates = deliveries
        .iter()
        .filter(|delivery| delivery["reason"] == "duplicate")
        .count();
    assert_eq!(duplicates, events);
}

macro_rules! on_each_gateway {
    ($($case:ident),* $(,)?) => {
        #[cfg(feature = "stripe")]
        mod stripe {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case("stripe").await;
                }
            )*
        }
        #[cfg(feature = "creem")]
        mod creem {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case("creem").await;
                }
            )*
        }
    };
}

on_each_gateway!(survives_duplicated_and_reordered_delivery);
