//! The storefront example's payment handling over HTTP, without a browser, on Stripe and on
//! Creem (the same tests; only `--provider` differs): the webhook marks an order paid exactly
//! once even when it arrives before the redirect, twice, or out of order, bad signatures get
//! 400 and change nothing, the success page never shows "paid" for an unpaid or forged
//! return, and the browser cannot choose the price.
//!
//! Each storefront keeps its orders and the store's inbox in a SQLite file of its own; the
//! same cases run on PostgreSQL (a fresh database each) when `PAYSWITCH_TEST_DATABASE_URL`
//! is set (`.ci/postgres-setup.sh`), and otherwise print a notice and pass, unless
//! `PAYSWITCH_REQUIRE_POSTGRES=1`.

mod storefront_support;

use std::time::Duration;

use serde_json::Value;
use storefront_support::{delivery_headers, payment_status, Launch, SandboxProcess, Storefront};

/// The webhook arrives before the customer's redirect (the redirect is not even followed):
/// the order is paid by the webhook, re-deliveries change nothing, and the later redirect
/// shows "paid" without marking it again.
async fn webhook_before_redirect_then_duplicates(launch: Launch) {
    let provider = launch.provider();
    let shop = Storefront::launch(launch);
    let (order_id, checkout_id) = shop.open_checkout("pro_licence").await;
    let order = shop.order(&order_id).await;
    assert_eq!(order["status"], "pending");
    assert_eq!(order["times_marked_paid"], 0);
    assert_eq!(order["gateway"], provider);

    let redirect = shop.pay(&checkout_id).await;
    let order = shop
        .wait_for_order(&order_id, "paid", |order| order["status"] == "paid")
        .await;
    assert_eq!(order["times_marked_paid"], 1);
    assert_eq!(order["paid_via"], "webhook");

    // The gateway delivers again (twice, at once): recognised by event id, nothing changes.
    let delivery = shop.completed_delivery(&checkout_id).await;
    let event_id = delivery["event_id"].as_str().expect("event id").to_owned();
    let (first, second) = tokio::join!(shop.replay(&delivery), shop.replay(&delivery));
    for (status, answer) in [first, second] {
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["outcome"], "duplicate", "{answer}");
        assert_eq!(answer["event_id"], event_id.as_str());
    }

    // Now the customer's browser comes back.
    let (status, page) = shop.get_url(&redirect).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(payment_status(&page), "paid", "{page}");
    assert!(page.contains(&order_id), "{page}");

    let order = shop.order(&order_id).await;
    assert_eq!(order["status"], "paid");
    assert_eq!(order["times_marked_paid"], 1, "{order}");
    assert_eq!(order["paid_via"], "webhook");
    assert_eq!(order["event_ids"], serde_json::json!([event_id]));
    let snapshot = shop.snapshot().await;
    let processed: Vec<&Value> = snapshot["processed_event_ids"]
        .as_array()
        .expect("processed ids")
        .iter()
        .filter(|id| **id == event_id.as_str())
        .collect();
    assert_eq!(processed.len(), 1, "{snapshot}");
    assert_eq!(snapshot["duplicate_deliveries"], 2, "{snapshot}");
}

/// A subscription, where the customer's redirect is followed at once, racing the webhook:
/// whichever comes first marks the order paid, the other changes nothing.
async fn subscription_redirect_and_webhook_race(launch: Launch) {
    let shop = Storefront::launch(launch);
    let (order_id, checkout_id) = shop.open_checkout("pro_monthly").await;
    let redirect = shop.pay(&checkout_id).await;
    let (status, page) = shop.get_url(&redirect).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(payment_status(&page), "paid", "{page}");
    let order = shop
        .wait_for_order(&order_id, "received its webhook", |order| {
            order["event_ids"]
                .as_array()
                .is_some_and(|ids| !ids.is_empty())
        })
        .await;
    assert_eq!(order["status"], "paid");
    assert_eq!(order["times_marked_paid"], 1, "{order}");
    assert_eq!(order["sku"], "pro_monthly");
    // Reloading the success page confirms again and changes nothing.
    let (_, page) = shop.get_url(&redirect).await;
    assert_eq!(payment_status(&page), "paid");
    assert_eq!(shop.order(&order_id).await["times_marked_paid"], 1);
}

/// Tampered, unsigned and garbage webhooks get 400, and none of them is recorded.
async fn bad_signatures_are_rejected(launch: Launch) {
    let provider = launch.provider();
    let shop = Storefront::launch(launch);
    let (order_id, checkout_id) = shop.open_checkout("pro_licence").await;
    shop.pay(&checkout_id).await;
    shop.wait_for_order(&order_id, "paid", |order| order["status"] == "paid")
        .await;
    let delivery = shop.completed_delivery(&checkout_id).await;
    let headers = delivery_headers(&delivery);
    let body = delivery["body"].as_str().expect("body").to_owned();
    // Everything the payment sent is processed, so only the forgeries could change the store.
    let before = shop.wait_until_idle().await;

    // The same signature over a changed body: the event id no longer matches its signature.
    let event_id = delivery["event_id"].as_str().expect("event id");
    let tampered = body.replacen(event_id, "evt_forged", 1);
    assert_ne!(tampered, body);
    let unsigned: Vec<(String, String)> = headers
        .iter()
        .filter(|(name, _)| {
            !name.eq_ignore_ascii_case("stripe-signature")
                && !name.eq_ignore_ascii_case("creem-signature")
        })
        .cloned()
        .collect();
    assert!(unsigned.len() < headers.len(), "{headers:?}");
    let mut wrong_secret = unsigned.clone();
    wrong_secret.push(match provider {
        "stripe" => (
            "Stripe-Signature".to_owned(),
            format!("t={},v1={}", unix_now(), "ab".repeat(32)),
        ),
        _ => ("creem-signature".to_owned(), "cd".repeat(32)),
    });
    let cases = [
        ("tampered body", headers.clone(), tampered.clone()),
        ("no signature", unsigned.clone(), body.clone()),
        ("wrong signature", wrong_secret, body.clone()),
        ("garbage", headers.clone(), "not json".to_owned()),
        ("empty", unsigned, String::new()),
    ];
    for (case, headers, body) in cases {
        let (status, answer) = shop.post_webhook(&headers, &body).await;
        assert_eq!(status, 400, "{case}: {answer}");
    }
    let after = shop.snapshot().await;
    assert_eq!(before, after, "a rejected webhook changed the store");
    assert_eq!(shop.order(&order_id).await["times_marked_paid"], 1);
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default()
}

/// The success page shows "paid" only when the gateway says so: not for an unpaid checkout,
/// not for a forged or empty query.
async fn success_page_trusts_only_the_gateway(launch: Launch) {
    let provider = launch.provider();
    let shop = Storefront::launch(launch);
    let (order_id, checkout_id) = shop.open_checkout("pro_licence").await;
    let forged = match provider {
        // Stripe does not sign the redirect: the checkout is retrieved and is still open.
        "stripe" => format!("/success?order={order_id}&session_id={checkout_id}"),
        // Creem signs it: a made-up signature is refused before anything is retrieved.
        _ => format!(
            "/success?order={order_id}&checkout_id={checkout_id}&request_id={order_id}&signature={}",
            "0".repeat(64)
        ),
    };
    let (status, page) = shop.get(&forged).await;
    match provider {
        "stripe" => {
            assert_eq!(status, 200, "{page}");
            assert_eq!(payment_status(&page), "pending", "{page}");
        }
        _ => {
            assert_eq!(status, 400, "{page}");
            assert_eq!(payment_status(&page), "not_confirmed", "{page}");
        }
    }
    let without_order = format!("/success?session_id={checkout_id}");
    for query in [
        "/success",
        "/success?session_id=",
        "/success?checkout_id=x",
        without_order.as_str(),
    ] {
        let (status, page) = shop.get(query).await;
        assert_eq!(status, 400, "{query}: {page}");
        assert_eq!(payment_status(&page), "not_confirmed", "{query}");
    }
    let order = shop.order(&order_id).await;
    assert_eq!(order["status"], "pending");
    assert_eq!(order["times_marked_paid"], 0);
}

/// A customer who swaps in the paid checkout of another order (here: the success link of
/// order B, edited to say order A) is refused, and order A stays unpaid.
async fn a_checkout_of_another_order_is_refused(launch: Launch) {
    let shop = Storefront::launch(launch);
    let (order_a, _) = shop.open_checkout("pro_licence").await;
    let (order_b, checkout_b) = shop.open_checkout("pro_licence").await;
    let redirect_b = shop.pay(&checkout_b).await;
    assert!(
        redirect_b.contains(&format!("order={order_b}")),
        "{redirect_b}"
    );
    let swapped = redirect_b.replace(&format!("order={order_b}"), &format!("order={order_a}"));
    let (status, page) = shop.get_url(&swapped).await;
    assert_eq!(status, 400, "{page}");
    assert_eq!(payment_status(&page), "not_confirmed", "{page}");
    let order = shop.order(&order_a).await;
    assert_eq!(order["status"], "pending");
    assert_eq!(order["times_marked_paid"], 0);
    // B's own link still confirms B.
    let (status, page) = shop.get_url(&redirect_b).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(payment_status(&page), "paid", "{page}");
}

/// The form carries a SKU only; anything else the browser sends is ignored, and unknown
/// SKUs are refused without creating an order. The order is paid only if the gateway
/// charged the server's price (the storefront checks the amount before marking it paid).
async fn the_server_decides_the_price(launch: Launch) {
    let shop = Storefront::launch(launch);
    let (status, location) = shop
        .post_checkout("sku=pro_licence&amount=1&unit_amount=1&price=1&currency=JPY")
        .await;
    assert_eq!(status, 303);
    let location = location.expect("Location");
    let checkout_id = location.rsplit('/').next().unwrap_or_default().to_owned();
    let order_id = shop.order_of_checkout(&checkout_id).await;
    let order = shop.order(&order_id).await;
    assert_eq!(
        order["price"],
        serde_json::json!({"amount": 4900, "currency": "USD"})
    );
    // The gateway's page shows the server's price.
    let (_, pay_page) = shop.get_url(&location).await;
    assert!(pay_page.contains("49.00"), "{pay_page}");
    shop.pay(&checkout_id).await;
    let order = shop
        .wait_for_order(&order_id, "paid", |order| order["status"] == "paid")
        .await;
    assert_eq!(order["times_marked_paid"], 1);

    for form in ["sku=free_lunch", "sku=", "sku=%3Cscript%3E"] {
        let (status, _) = shop.post_checkout(form).await;
        assert_eq!(status, 404, "{form}");
    }
    let (status, _) = shop.post_checkout("amount=1").await;
    assert!((400..500).contains(&status), "{status}");
    let snapshot = shop.snapshot().await;
    assert_eq!(
        snapshot["orders"].as_array().map(Vec::len),
        Some(1),
        "{snapshot}"
    );
}

/// The product page lists every offer with its server-side price, escaped, with one form
/// per offer that posts only a SKU.
async fn product_page(launch: Launch) {
    let provider = launch.provider();
    let shop = Storefront::launch(launch);
    let (status, page) = shop.get("/").await;
    assert_eq!(status, 200);
    assert!(page.contains("<html lang=\"en\">"));
    assert!(page.contains(">Buy Pro licence</button>"), "{page}");
    assert!(
        page.contains(">Subscribe to Pro monthly</button>"),
        "{page}"
    );
    assert!(
        page.contains(">Subscribe to Team monthly</button>"),
        "{page}"
    );
    assert!(page.contains("49.00 USD"));
    assert!(page.contains(">9.00 USD per month"));
    assert!(page.contains("29.00 USD per month"));
    assert!(page.contains(&format!("Payments by {provider}.")));
    assert_eq!(page.matches("name=\"sku\"").count(), 3);
    assert_eq!(
        page.matches("<input").count(),
        3,
        "the form sends nothing but the SKU"
    );
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "no external assets"
    );
    let (status, _) = shop.get("/orders/order-nope").await;
    assert_eq!(status, 404);
}

/// A subscription's webhooks, held back by the sandbox (delivered to an inbox of the test's
/// instead of the storefront), then delivered by the test newest first, each twice: the order
/// is marked paid once, every event is processed once, the repeats are counted, and the
/// customer's return afterwards changes nothing.
async fn webhooks_twice_and_out_of_order_mark_paid_once(launch: Launch) {
    let provider = launch.provider();
    let inbox = payswitch_sandbox::WebhookInbox::start()
        .await
        .expect("a webhook inbox");
    let sandbox = SandboxProcess::start(inbox.url());
    let shop = Storefront::launch(launch.sandbox_url(sandbox.url.clone()));
    let (order_id, checkout_id) = shop.open_checkout("pro_monthly").await;
    let redirect = shop.pay(&checkout_id).await;
    // The sandbox sends a payment's events at once; wait until no more arrive.
    let mut held = inbox.wait_for(1, Duration::from_secs(10)).await;
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now = inbox.received();
        if now.len() == held.len() {
            break;
        }
        held = now;
    }
    let completed = match provider {
        "stripe" => "checkout.session.completed",
        _ => "checkout.completed",
    };
    assert!(
        held.iter()
            .any(|webhook| webhook.body_text().contains(completed)),
        "{:?}",
        held.iter()
            .map(|webhook| webhook.body_text())
            .collect::<Vec<_>>()
    );
    assert_eq!(shop.order(&order_id).await["status"], "pending");

    let mut answers = Vec::new();
    for webhook in held.iter().rev().chain(held.iter().rev()) {
        let (status, answer) = shop
            .post_webhook(&webhook.headers, &webhook.body_text())
            .await;
        assert_eq!(status, 200, "{answer}");
        answers.push(answer["outcome"].as_str().unwrap_or_default().to_owned());
    }
    let recorded = answers
        .iter()
        .filter(|outcome| *outcome == "recorded")
        .count();
    assert_eq!(recorded, held.len(), "{answers:?}");
    assert_eq!(
        answers.len() - recorded,
        held.len(),
        "the repeats: {answers:?}"
    );

    let snapshot = shop.wait_until_idle().await;
    assert_eq!(snapshot["duplicate_deliveries"], held.len(), "{snapshot}");
    assert_eq!(snapshot["failed_events"], 0, "{snapshot}");
    let order = shop.order(&order_id).await;
    assert_eq!(order["status"], "paid", "{order}");
    assert_eq!(order["times_marked_paid"], 1, "{order}");
    assert_eq!(order["paid_via"], "webhook", "{order}");
    assert_eq!(order["gateway"], provider, "{order}");
    let subscription_id = order["subscription_id"].as_str().expect("the subscription");
    let account = shop.account(&order_id).await;
    let record = &account["webhook_subscription"];
    assert_eq!(record["id"], subscription_id, "{account}");
    assert_eq!(record["status"], "active", "{account}");
    assert_eq!(record["plan"], "pro_monthly", "{account}");

    // The customer comes back afterwards: "paid", not marked again.
    let (status, page) = shop.get_url(&redirect).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(payment_status(&page), "paid", "{page}");
    assert_eq!(shop.order(&order_id).await["times_marked_paid"], 1);
    drop(sandbox);
}

macro_rules! on_each_gateway {
    ($($case:ident),* $(,)?) => {
        #[cfg(feature = "stripe")]
        mod stripe {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(crate::storefront_support::Launch::new("stripe")).await;
                }
            )*
        }
        #[cfg(feature = "creem")]
        mod creem {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(crate::storefront_support::Launch::new("creem")).await;
                }
            )*
        }
    };
}

/// The same cases with the storefront's orders and the store's inbox on PostgreSQL.
macro_rules! on_postgres {
    ($($case:ident),* $(,)?) => {
        #[cfg(feature = "store-postgres")]
        mod postgres {
            use crate::storefront_support::{Launch, PostgresDb};

            async fn on(provider: &'static str, case: impl AsyncFnOnce(Launch)) {
                let Some(database) = PostgresDb::create().await else {
                    return;
                };
                case(Launch::new(provider).database_url(database.url.clone())).await;
                database.finish().await;
            }

            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    on("stripe", super::$case).await;
                    on("creem", super::$case).await;
                }
            )*
        }
    };
}

on_each_gateway!(
    webhook_before_redirect_then_duplicates,
    subscription_redirect_and_webhook_race,
    bad_signatures_are_rejected,
    success_page_trusts_only_the_gateway,
    a_checkout_of_another_order_is_refused,
    the_server_decides_the_price,
    product_page,
    webhooks_twice_and_out_of_order_mark_paid_once,
);

on_postgres!(
    webhook_before_redirect_then_duplicates,
    subscription_redirect_and_webhook_race,
    bad_signatures_are_rejected,
    the_server_decides_the_price,
    webhooks_twice_and_out_of_order_mark_paid_once,
);
