//! Buys on the storefront example in headless Chromium, once on Stripe and once on Creem,
//! switching only the configuration (`--provider`): the product page's Buy button, the
//! gateway's hosted page (the in-process sandbox), card 4242, and the storefront's success
//! page saying "paid". Then checks over HTTP that the order was marked paid exactly once and
//! that a re-delivered webhook does not mark it again.
//!
//! Then, on each gateway, subscribes the same way, follows the success page's link to the
//! account page, clicks "Cancel at period end" and sees the scheduled cancellation, clicks
//! "Resume" and sees the subscription active again; the gateway's own state is checked too.
//!
//! And a gateway migration in one run: the storefront on Stripe alone, a customer clicks Buy
//! and leaves Stripe's pay page open; the storefront restarts in migration mode (new
//! checkouts on Creem, Stripe retiring) on the same database, sandbox and port; the customer
//! pays on the open Stripe page and the restarted storefront's success page says "paid"; then
//! a new customer buys, on Creem. Both orders are paid exactly once, each on its gateway.
//!
//! Needs Debian's `chromium` and playwright-core in `tests/browser` (`.ci/browser-setup.sh`
//! installs both). Without them the tests print a notice and pass, unless
//! `PAYSWITCH_REQUIRE_BROWSER=1`, which makes them fail.

mod storefront_support;
#[path = "browser/tooling.rs"]
mod tooling;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use payswitch::CheckoutProvider;
use serde_json::Value;
use storefront_support::{
    free_port, run_with_timeout, Launch, SandboxProcess, ScratchDir, Storefront,
};

/// The bound on one browser run (the script bounds itself at 60 s too).
const BROWSER_TIMEOUT: Duration = Duration::from_secs(120);

fn browser_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Returns false (after a notice) when the browser tooling is missing.
fn browser_available() -> bool {
    tooling::browser_available(&browser_dir(), "storefront browser test")
}

/// Runs `tests/browser/storefront.mjs` against the storefront; returns its JSON line.
async fn buy_in_browser(shop: &Storefront, action: &str) -> Value {
    in_browser(shop, &[action]).await
}

/// Runs `tests/browser/storefront.mjs <storefront> <arguments…>`; returns its JSON line.
async fn in_browser(shop: &Storefront, arguments: &[&str]) -> Value {
    let mut command = Command::new("node");
    command
        .arg(browser_dir().join("storefront.mjs"))
        .arg(&shop.url)
        .args(arguments)
        .current_dir(browser_dir());
    let output =
        tokio::task::spawn_blocking(move || run_with_timeout(&mut command, BROWSER_TIMEOUT))
            .await
            .expect("the browser run finished");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the browser script failed\nstdout: {stdout}\nstderr: {stderr}\nstorefront log:\n{}",
        shop.logs()
    );
    serde_json::from_str(stdout.trim().lines().last().unwrap_or_default())
        .unwrap_or_else(|error| panic!("the script printed no JSON ({error}): {stdout}"))
}

async fn buy_once_in_chromium(provider: &'static str) {
    if !browser_available() {
        return;
    }
    let shop = Storefront::start(provider);
    let bought = buy_in_browser(&shop, "buy").await;

    // What the browser saw.
    assert_eq!(bought["outcome"], "paid", "{bought}");
    let pay_url = bought["payUrl"].as_str().expect("payUrl");
    assert!(
        pay_url.starts_with(&format!("{}/pay/", shop.sandbox_url)),
        "{pay_url}"
    );
    assert_eq!(
        bought["total"], "$49.00",
        "the gateway charges the server's price"
    );
    assert!(
        bought["successUrl"]
            .as_str()
            .is_some_and(|url| url.starts_with(&format!("{}/success?", shop.url))),
        "{bought}"
    );
    assert_eq!(bought["status"], "Your order is paid.");
    let order_id = bought["orderId"].as_str().expect("orderId").to_owned();
    assert_eq!(bought["order"]["times_marked_paid"], 1, "{bought}");
    assert_eq!(bought["order"]["gateway"], provider);

    // The same over HTTP, once the webhook has been processed too.
    let checkout_id = pay_url.rsplit('/').next().unwrap_or_default().to_owned();
    let order = shop
        .wait_for_order(&order_id, "received its webhook", |order| {
            order["event_ids"]
                .as_array()
                .is_some_and(|ids| !ids.is_empty())
        })
        .await;
    assert_eq!(order["status"], "paid", "{order}");
    assert_eq!(order["times_marked_paid"], 1, "{order}");
    assert_eq!(order["gateway"], provider);
    assert_eq!(order["sku"], "pro_licence");
    assert_eq!(order["checkout_id"], checkout_id.as_str());

    // The gateway re-delivers the webhook: recognised as a duplicate, nothing changes.
    let delivery = shop.completed_delivery(&checkout_id).await;
    let (status, answer) = shop.replay(&delivery).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["outcome"], "duplicate", "{answer}");
    let order = shop.order(&order_id).await;
    assert_eq!(order["status"], "paid");
    assert_eq!(order["times_marked_paid"], 1, "{order}");
    let snapshot = shop.snapshot().await;
    assert_eq!(snapshot["gateway"], provider);
    assert_eq!(snapshot["duplicate_deliveries"], 1, "{snapshot}");
    let event_id = delivery["event_id"].clone();
    let times_processed = snapshot["processed_event_ids"]
        .as_array()
        .map(|ids| ids.iter().filter(|id| **id == event_id).count());
    assert_eq!(times_processed, Some(1), "{snapshot}");
}

async fn cancel_and_resume_in_chromium(provider: &'static str) {
    if !browser_available() {
        return;
    }
    let shop = Storefront::start(provider);
    let managed = buy_in_browser(&shop, "account").await;

    // What the browser saw.
    assert_eq!(managed["outcome"], "resumed", "{managed}");
    assert_eq!(managed["before"]["status"], "active", "{managed}");
    assert_eq!(managed["before"]["plan"], "pro_monthly", "{managed}");
    assert_eq!(managed["canceled"]["status"], "active", "{managed}");
    assert_eq!(managed["canceled"]["cancelScheduled"], "true", "{managed}");
    assert!(
        managed["canceled"]["cancelNotice"]
            .as_str()
            .is_some_and(|notice| notice.starts_with("Cancels on ")),
        "{managed}"
    );
    assert_eq!(managed["resumed"]["status"], "active", "{managed}");
    assert_eq!(managed["resumed"]["cancelScheduled"], "false", "{managed}");
    assert_eq!(managed["resumed"]["cancelNotice"], Value::Null, "{managed}");
    let order_id = managed["orderId"].as_str().expect("orderId");
    assert!(
        managed["accountUrl"]
            .as_str()
            .is_some_and(|url| url == format!("{}/account/{order_id}", shop.url)),
        "{managed}"
    );

    // What the gateway holds, read without the storefront.
    let subscription_id = managed["account"]["subscription"]["id"]
        .as_str()
        .expect("the subscription id");
    let held = shop
        .gateway()
        .retrieve_subscription(subscription_id)
        .await
        .expect("retrieved");
    assert!(!held.is_cancel_scheduled(), "{held:?}");
    assert!(!held.status.is_ended(), "{held:?}");

    // The webhooks of both clicks reached the storefront; its record ends resumed.
    let account = shop
        .wait_for_account(order_id, "recorded the resumption", |account| {
            account["webhook_subscription"]["cancel_scheduled"] == false
                && account["order"]["event_ids"]
                    .as_array()
                    .is_some_and(|ids| ids.len() >= 3)
        })
        .await;
    assert_eq!(account["order"]["times_marked_paid"], 1, "{account}");
}

/// A Stripe checkout opened before the switch to Creem, paid after it, and a new purchase on
/// Creem, in Chromium.
async fn migrate_from_stripe_to_creem_in_chromium() {
    if !browser_available() {
        return;
    }
    let scratch = ScratchDir::new();
    let database = scratch.sqlite_url("shop.db");
    let port = free_port();
    // The sandbox outlives the restart and sends both gateways' webhooks to the port.
    let sandbox = SandboxProcess::start(&format!("http://127.0.0.1:{port}/webhooks"));
    let launch = |provider: &'static str| {
        Launch::new(provider)
            .port(port)
            .database_url(database.clone())
            .sandbox_url(sandbox.url.clone())
    };

    // Before the deploy: Stripe alone. The customer opens Stripe's pay page and stops there.
    let before = Storefront::launch(launch("stripe"));
    let opened = in_browser(&before, &["open"]).await;
    assert_eq!(opened["outcome"], "opened", "{opened}");
    assert_eq!(opened["total"], "$49.00", "{opened}");
    let old_pay_url = opened["payUrl"].as_str().expect("payUrl").to_owned();
    assert!(
        old_pay_url.starts_with(&format!("{}/pay/", sandbox.url)),
        "{old_pay_url}"
    );
    let old_checkout = old_pay_url
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let old_order = before.order_of_checkout(&old_checkout).await;
    let order = before.order(&old_order).await;
    assert_eq!(order["gateway"], "stripe", "{order}");
    assert_eq!(order["status"], "pending", "{order}");
    drop(before);

    // The deploy: migration mode, on the same database, sandbox and port.
    let after = Storefront::launch(launch("creem").migrate_from("stripe"));
    assert_eq!(after.port(), port);

    // The customer pays on the Stripe page they left open; the new storefront confirms it.
    let paid_old = in_browser(&after, &["pay", &old_pay_url]).await;
    assert_eq!(paid_old["outcome"], "paid", "{paid_old}");
    assert_eq!(paid_old["orderId"], old_order.as_str(), "{paid_old}");
    assert_eq!(paid_old["order"]["gateway"], "stripe", "{paid_old}");
    assert_eq!(paid_old["order"]["times_marked_paid"], 1, "{paid_old}");

    // A new customer buys: the checkout is on Creem.
    let bought_new = in_browser(&after, &["buy"]).await;
    assert_eq!(bought_new["outcome"], "paid", "{bought_new}");
    assert_eq!(bought_new["total"], "$49.00", "{bought_new}");
    assert_eq!(bought_new["order"]["gateway"], "creem", "{bought_new}");
    let new_order = bought_new["orderId"].as_str().expect("orderId").to_owned();
    assert_ne!(new_order, old_order);

    // Over HTTP, once both payments' webhooks are processed too: each order paid once, on
    // its gateway, and every event of both gateways processed once.
    for (order_id, gateway) in [(&old_order, "stripe"), (&new_order, "creem")] {
        let order = after
            .wait_for_order(order_id, "received its webhook", |order| {
                order["event_ids"]
                    .as_array()
                    .is_some_and(|ids| !ids.is_empty())
            })
            .await;
        assert_eq!(order["status"], "paid", "{order}");
        assert_eq!(order["times_marked_paid"], 1, "{order}");
        assert_eq!(order["gateway"], gateway, "{order}");
    }
    let snapshot = after.wait_until_idle().await;
    assert_eq!(snapshot["gateway"], "creem (stripe retiring)", "{snapshot}");
    assert_eq!(snapshot["failed_events"], 0, "{snapshot}");
    assert_eq!(
        snapshot["orders"].as_array().map(Vec::len),
        Some(2),
        "{snapshot}"
    );
    drop(after);
    drop(sandbox);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrates_from_stripe_to_creem_in_headless_chromium() {
    migrate_from_stripe_to_creem_in_chromium().await;
}

#[cfg(feature = "stripe")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancels_and_resumes_with_stripe_in_headless_chromium() {
    cancel_and_resume_in_chromium("stripe").await;
}

#[cfg(feature = "creem")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancels_and_resumes_with_creem_in_headless_chromium() {
    cancel_and_resume_in_chromium("creem").await;
}

#[cfg(feature = "stripe")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buys_with_stripe_in_headless_chromium() {
    buy_once_in_chromium("stripe").await;
}

#[cfg(feature = "creem")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buys_with_creem_in_headless_chromium() {
    buy_once_in_chromium("creem").await;
}
