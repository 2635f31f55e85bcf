//! The storefront example moved from Stripe to Creem in migration mode, over HTTP: a checkout
//! opened on Stripe before the switch is paid after it (the success page, the Stripe webhook
//! through the router and the store), new checkouts land on Creem, and the Stripe
//! subscription keeps working from the account page, all on one database and one sandbox
//! kept across the restart (`--sandbox-only` / `--sandbox-url`, `--database-url`, the same
//! port). `tests/storefront_browser.rs` does the same purchases in headless Chromium.

mod storefront_support;

use payswitch::CheckoutProvider;
use serde_json::Value;
use storefront_support::{
    free_port, payment_status, Launch, SandboxProcess, ScratchDir, Storefront,
};

/// The deploy: the storefront on `provider` alone, then restarted in migration mode on the
/// same port, database and sandbox.
struct Deploy {
    port: u16,
    database: String,
    sandbox: SandboxProcess,
    _scratch: ScratchDir,
}

impl Deploy {
    fn new() -> Deploy {
        let scratch = ScratchDir::new();
        let port = free_port();
        Deploy {
            database: scratch.sqlite_url("shop.db"),
            // Webhooks go to the port, whichever storefront listens on it.
            sandbox: SandboxProcess::start(&format!("http://127.0.0.1:{port}/webhooks")),
            port,
            _scratch: scratch,
        }
    }

    fn launch(&self, provider: &'static str) -> Launch {
        Launch::new(provider)
            .port(self.port)
            .database_url(self.database.clone())
            .sandbox_url(self.sandbox.url.clone())
    }

    fn before(&self) -> Storefront {
        Storefront::launch(self.launch("stripe"))
    }

    fn after(&self) -> Storefront {
        Storefront::launch(self.launch("creem").migrate_from("stripe"))
    }
}

/// Pays a checkout on the sandbox and comes back to the success page, which must say paid.
async fn pay_and_return(shop: &Storefront, checkout_id: &str) {
    let redirect = shop.pay(checkout_id).await;
    assert!(
        redirect.starts_with(&format!("{}/success?", shop.url)),
        "{redirect}"
    );
    let (status, page) = shop.get_url(&redirect).await;
    assert_eq!(status, 200, "{page}\n{}", shop.logs());
    assert_eq!(payment_status(&page), "paid", "{page}");
}

/// Waits until the order is paid and the webhook of its payment is processed.
async fn paid_by_both_signals(shop: &Storefront, order_id: &str) -> Value {
    let order = shop
        .wait_for_order(order_id, "received its webhook", |order| {
            order["status"] == "paid"
                && order["event_ids"]
                    .as_array()
                    .is_some_and(|ids| !ids.is_empty())
        })
        .await;
    assert_eq!(order["times_marked_paid"], 1, "{order}");
    order
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_checkout_is_paid_after_the_switch_and_new_ones_go_to_the_new_gateway() {
    let deploy = Deploy::new();
    let before = deploy.before();
    let (old_order, old_checkout) = before.open_checkout("pro_monthly").await;
    let order = before.order(&old_order).await;
    assert_eq!(order["gateway"], "stripe", "{order}");
    assert_eq!(order["status"], "pending", "{order}");
    drop(before);

    let after = deploy.after();
    let (status, page) = after.get("/").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Payments by creem (stripe retiring)."),
        "{page}"
    );
    // The order opened before the switch is still there, and its Stripe payment completes.
    assert_eq!(after.order(&old_order).await["status"], "pending");
    pay_and_return(&after, &old_checkout).await;
    let order = paid_by_both_signals(&after, &old_order).await;
    assert_eq!(order["gateway"], "stripe", "{order}");

    // A new checkout goes to Creem, and is paid there.
    let (new_order, new_checkout) = after.open_checkout("pro_licence").await;
    let order = after.order(&new_order).await;
    assert_eq!(order["gateway"], "creem", "{order}");
    assert_ne!(new_checkout, old_checkout);
    pay_and_return(&after, &new_checkout).await;
    let order = paid_by_both_signals(&after, &new_order).await;
    assert_eq!(order["gateway"], "creem", "{order}");

    // Both gateways' webhooks went into the one inbox, each processed once.
    let snapshot = after.wait_until_idle().await;
    assert_eq!(snapshot["failed_events"], 0, "{snapshot}");
    assert_eq!(snapshot["gateway"], "creem (stripe retiring)");
    let processed = snapshot["processed_event_ids"]
        .as_array()
        .expect("processed ids");
    let mut unique = processed.clone();
    unique.sort_by_key(|id| id.to_string());
    unique.dedup();
    assert_eq!(unique.len(), processed.len(), "{snapshot}");

    // The Stripe subscription keeps working from the account page after the switch: the
    // router takes the cancellation to Stripe, and the store records Stripe's webhook.
    let account = after
        .wait_for_account(&old_order, "recorded the subscription", |account| {
            account["webhook_subscription"]["status"] == "active"
        })
        .await;
    assert_eq!(account["webhook_subscription"]["gateway"], "stripe");
    assert_eq!(account["subscription"]["plan"], "pro_monthly", "{account}");
    let subscription_id = account["subscription"]["id"]
        .as_str()
        .expect("the subscription")
        .to_owned();
    let (status, location, body) = after
        .post_form(&format!("/account/{old_order}/cancel"), "")
        .await;
    assert_eq!(status, 303, "{body}\n{}", after.logs());
    assert_eq!(
        location.as_deref(),
        Some(format!("/account/{old_order}?done=cancel_scheduled").as_str())
    );
    let held = after
        .gateway_named("stripe")
        .retrieve_subscription(&subscription_id)
        .await
        .expect("Stripe holds it");
    assert!(held.is_cancel_scheduled(), "{held:?}");
    after
        .wait_for_account(&old_order, "recorded the cancellation", |account| {
            account["webhook_subscription"]["cancel_scheduled"] == true
        })
        .await;
    drop(deploy);
}
