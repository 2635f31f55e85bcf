//! The storefront over HTTP on the memory gateway, with its store on SQLite in memory: the
//! account page and its actions, the webhooks that keep its records (received by the store,
//! processed by the worker's round, which the tests run by hand so every step is
//! deterministic), and how gateway failures are shown. The same flows run on the sandbox's
//! Stripe and Creem in `tests/storefront_account.rs`; these need no sandbox and can script
//! failures.

use std::sync::Arc;
use std::time::Duration;

use payswitch::memory::{MemoryProvider, Operation, RecordedCall};
use payswitch::store::Store;
use payswitch::{
    CancelAt, Catalog, CheckoutProvider, Currency, ManualClock, Money, PaymentError, ProviderKind,
    RefundTarget, SubscriptionStatus,
};
use serde_json::Value;
use tokio::net::TcpListener;

use crate::app::App;
use crate::catalog::PlanIds;
use crate::orders::Orders;
use crate::processing::{Processing, Round};
use crate::schema;
use crate::web::router;

/// A storefront on the memory gateway, served on 127.0.0.1.
struct Shop {
    url: String,
    memory: MemoryProvider,
    clock: Arc<ManualClock>,
    http: reqwest::Client,
    delivered: std::sync::Mutex<usize>,
    processing: Processing,
    store: Store,
}

impl Shop {
    async fn start() -> Shop {
        Shop::start_with(Money::new(900, Currency::USD)).await
    }

    /// A shop whose gateway charges `pro_monthly` at `pro_monthly` (the catalog says 9.00).
    async fn start_with(pro_monthly: Money) -> Shop {
        let clock = Arc::new(ManualClock::new(time::OffsetDateTime::now_utc()));
        let memory = MemoryProvider::new()
            .with_clock(clock.clone())
            .with_price("pro_monthly", pro_monthly)
            .with_price("team_monthly", Money::new(2900, Currency::USD));
        let store = Store::open("sqlite::memory:").await.expect("store");
        schema::create_tables(&store).await.expect("tables");
        let gateway: Arc<dyn CheckoutProvider> = Arc::new(memory.clone());
        // A failed settle is tried again at the next round, not 5 s later.
        let processing =
            Processing::new(store.clone(), Arc::clone(&gateway)).settle_retry(Duration::ZERO);
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let app = App {
            gateway,
            gateway_label: "memory".into(),
            orders: Orders::new(store.clone(), "memory", "1"),
            public_url: url.clone(),
            // The memory gateway reports the SKUs it was given: no catalog needed.
            plans: Arc::new(PlanIds::from_catalog(
                &Catalog::new(),
                &[ProviderKind::MEMORY],
            )),
            wake: processing.waker(),
        };
        tokio::spawn(async move { axum::serve(listener, router(app)).await });
        Shop {
            url,
            memory,
            clock,
            http: reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(10))
                .build()
                .expect("client"),
            delivered: std::sync::Mutex::new(0),
            processing,
            store,
        }
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let response = self
            .http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .expect("GET");
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    }

    async fn account(&self, order_id: &str) -> Value {
        let (status, body) = self.get(&format!("/account/{order_id}.json")).await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).expect("JSON")
    }

    async fn snapshot(&self) -> Value {
        let (status, body) = self.get("/orders.json").await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).expect("JSON")
    }

    async fn order(&self, order_id: &str) -> Value {
        let (status, body) = self.get(&format!("/orders/{order_id}")).await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).expect("JSON")
    }

    /// Posts a form; returns the status, the `Location` and the body.
    async fn post(&self, path: &str, form: &str) -> (u16, Option<String>, String) {
        let response = self
            .http
            .post(format!("{}{path}", self.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_owned())
            .send()
            .await
            .expect("POST");
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        (status, location, response.text().await.expect("body"))
    }

    /// Posts an account action and expects the 303 back to the account page.
    async fn act(&self, order_id: &str, action: &str, form: &str, done: &str) {
        let (status, location, body) = self
            .post(&format!("/account/{order_id}/{action}"), form)
            .await;
        assert_eq!(status, 303, "{action}: {body}");
        assert_eq!(
            location.as_deref(),
            Some(format!("/account/{order_id}?done={done}").as_str())
        );
    }

    /// Runs the worker's round: what the background task does after each webhook.
    async fn process(&self) -> Round {
        self.processing.round().await.expect("a round")
    }

    /// Delivers every memory webhook not delivered yet to the storefront, in order, then
    /// processes them; returns the webhook route's answers.
    async fn deliver(&self) -> Vec<Value> {
        let deliveries = self.memory.deliveries();
        let from = std::mem::replace(&mut *self.delivered.lock().expect("lock"), deliveries.len());
        let mut answers = Vec::new();
        for delivery in &deliveries[from..] {
            answers.push(self.post_webhook(delivery).await);
        }
        self.process().await;
        answers
    }

    async fn post_webhook(&self, delivery: &payswitch::memory::WebhookDelivery) -> Value {
        let response = self
            .http
            .post(format!("{}/webhooks", self.url))
            .headers(delivery.headers.clone())
            .body(delivery.body.clone())
            .send()
            .await
            .expect("POST /webhooks");
        assert_eq!(response.status().as_u16(), 200);
        serde_json::from_str(&response.text().await.expect("body")).expect("JSON")
    }

    /// Opens a checkout for `sku` through the product form; returns the order id and the
    /// checkout id.
    async fn open(&self, sku: &str) -> (String, String) {
        let (status, location, body) = self.post("/checkout", &format!("sku={sku}")).await;
        assert_eq!(status, 303, "{body}");
        let checkout_id = location
            .as_deref()
            .and_then(|url| url.rsplit('/').next())
            .expect("a pay page")
            .to_owned();
        let snapshot = self.snapshot().await;
        let order_id = snapshot["orders"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|order| order["checkout_id"] == checkout_id.as_str())
            .and_then(|order| order["id"].as_str())
            .expect("the order of the checkout")
            .to_owned();
        (order_id, checkout_id)
    }

    /// Opens a checkout for `sku`, pays it on the memory gateway and delivers its webhooks;
    /// returns the order id and the checkout id.
    async fn buy(&self, sku: &str) -> (String, String) {
        let (order_id, checkout_id) = self.open(sku).await;
        self.memory.pay(&checkout_id).expect("paid");
        let answers = self.deliver().await;
        assert_eq!(answers[0]["outcome"], "recorded", "{answers:?}");
        let order = self.order(&order_id).await;
        assert_eq!(order["status"], "paid", "{order}");
        assert_eq!(order["times_marked_paid"], 1, "{order}");
        (order_id, checkout_id)
    }

    async fn subscription_id(&self, order_id: &str) -> String {
        self.account(order_id).await["order"]["subscription_id"]
            .as_str()
            .expect("a subscription id")
            .to_owned()
    }
}

fn actions(account: &Value) -> Vec<String> {
    account["actions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|action| match action["sku"].as_str() {
            Some(sku) => format!("{}:{sku}", action["action"].as_str().unwrap_or_default()),
            None => action["action"].as_str().unwrap_or_default().to_owned(),
        })
        .collect()
}

#[tokio::test]
async fn cancel_resume_and_change_plan() {
    let shop = Shop::start().await;
    let (order_id, _) = shop.buy("pro_monthly").await;
    let subscription_id = shop.subscription_id(&order_id).await;

    let (status, page) = shop.get(&format!("/account/{order_id}")).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("data-sku=\"pro_monthly\""), "{page}");
    assert!(
        page.contains("data-status=\"active\" data-cancel-scheduled=\"false\""),
        "{page}"
    );
    assert!(page.contains(">Cancel at period end</button>"), "{page}");
    assert!(
        page.contains(">Change plan to Team monthly</button>"),
        "{page}"
    );
    assert!(page.contains(">Manage billing</button>"), "{page}");
    assert!(!page.contains(">Resume</button>"), "{page}");
    assert!(page.contains("Renews on"), "{page}");
    let account = shop.account(&order_id).await;
    assert_eq!(
        actions(&account),
        [
            "cancel_at_period_end",
            "change_plan:team_monthly",
            "manage_billing",
            "refund"
        ]
    );
    assert_eq!(account["subscription"]["id"], subscription_id.as_str());

    // Cancel at period end: the gateway holds it, the page says when.
    shop.clock.advance(Duration::from_secs(60));
    shop.act(&order_id, "cancel", "", "cancel_scheduled").await;
    let held = shop
        .memory
        .retrieve_subscription(&subscription_id)
        .await
        .expect("retrieved");
    assert!(held.cancel_at_period_end);
    assert_eq!(held.status, SubscriptionStatus::Active);
    let (status, page) = shop
        .get(&format!("/account/{order_id}?done=cancel_scheduled"))
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("id=\"account-notice\""), "{page}");
    assert!(page.contains("data-cancel-scheduled=\"true\""), "{page}");
    let period_end = held.current_period_end.expect("period end");
    let date = period_end.date().to_string();
    assert!(page.contains(&format!("Cancels on {date}.")), "{page}");
    assert!(page.contains(">Resume</button>"), "{page}");
    assert!(!page.contains(">Cancel at period end</button>"), "{page}");
    assert!(!page.contains("Change plan to"), "{page}");

    // Resume undoes it.
    shop.clock.advance(Duration::from_secs(60));
    shop.act(&order_id, "resume", "", "resumed").await;
    let held = shop
        .memory
        .retrieve_subscription(&subscription_id)
        .await
        .expect("retrieved");
    assert!(!held.is_cancel_scheduled());
    let account = shop.account(&order_id).await;
    assert_eq!(account["subscription"]["cancel_scheduled"], false);
    assert_eq!(account["subscription"]["status"], "active");

    // Change plan to the other monthly plan, prorated.
    shop.clock.advance(Duration::from_secs(60));
    shop.act(&order_id, "change-plan", "sku=team_monthly", "plan_changed")
        .await;
    let held = shop
        .memory
        .retrieve_subscription(&subscription_id)
        .await
        .expect("retrieved");
    assert_eq!(held.items[0].product_id.as_deref(), Some("team_monthly"));
    let (_, page) = shop.get(&format!("/account/{order_id}")).await;
    assert!(page.contains("data-sku=\"team_monthly\""), "{page}");
    assert!(
        page.contains("Team monthly (29.00 USD per month)"),
        "{page}"
    );
    assert!(
        page.contains(">Change plan to Pro monthly</button>"),
        "{page}"
    );

    // The webhooks of all three changes keep the store's record, in order.
    let answers = shop.deliver().await;
    let outcomes: Vec<&str> = answers
        .iter()
        .map(|answer| answer["outcome"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(outcomes, ["recorded"; 3], "{answers:?}");
    let account = shop.account(&order_id).await;
    let record = &account["webhook_subscription"];
    assert_eq!(record["cancel_scheduled"], false, "{account}");
    assert_eq!(record["plan"], "team_monthly", "{account}");
    assert_eq!(record["status"], "active", "{account}");
    assert_eq!(
        account["order"]["event_ids"].as_array().map(Vec::len),
        Some(5)
    );
}

#[tokio::test]
async fn late_webhooks_do_not_roll_the_record_back() {
    let shop = Shop::start().await;
    let (order_id, _) = shop.buy("pro_monthly").await;
    shop.act(&order_id, "cancel", "", "cancel_scheduled").await;
    shop.clock.advance(Duration::from_secs(5));
    shop.act(&order_id, "resume", "", "resumed").await;
    // The "resumed" webhook arrives (and is processed) before the earlier "cancel scheduled".
    let deliveries = shop.memory.deliveries();
    let (scheduled, resumed) = (&deliveries[2], &deliveries[3]);
    let answer = shop.post_webhook(resumed).await;
    assert_eq!(answer["outcome"], "recorded", "{answer}");
    shop.process().await;
    let answer = shop.post_webhook(scheduled).await;
    assert_eq!(answer["outcome"], "recorded", "{answer}");
    let round = shop.process().await;
    assert_eq!(
        round,
        Round {
            processed: 1,
            settled: 0
        },
        "an older event needs no settling"
    );
    let account = shop.account(&order_id).await;
    assert_eq!(account["webhook_subscription"]["cancel_scheduled"], false);
    assert_eq!(account["subscription"]["cancel_scheduled"], false);
    // Both are listed on the order, in the order they were processed.
    let events = &account["order"]["event_ids"];
    assert_eq!(events.as_array().map(Vec::len), Some(4), "{account}");
}

#[tokio::test]
async fn events_of_the_same_second_are_settled_by_the_gateway() {
    let shop = Shop::start().await;
    let (order_id, _) = shop.buy("pro_monthly").await;
    // Cancel and resume within one tick of the gateway's clock, as two clicks within one
    // second on Stripe: their events carry the same time.
    shop.act(&order_id, "cancel", "", "cancel_scheduled").await;
    shop.act(&order_id, "resume", "", "resumed").await;
    let deliveries = shop.memory.deliveries();
    let (scheduled, resumed) = (&deliveries[2], &deliveries[3]);
    // "Resumed" first says what the record already says.
    shop.post_webhook(resumed).await;
    assert_eq!(shop.process().await.settled, 0);
    // "Cancel scheduled" of the same time disagrees: the store applies it (same time, same
    // stage: processing order), and the storefront asks the gateway, which settles it.
    let reads = shop.memory.call_count(Operation::ReadSubscription);
    shop.post_webhook(scheduled).await;
    let round = shop.process().await;
    assert_eq!(
        round,
        Round {
            processed: 2,
            settled: 1
        },
        "the event and the settle"
    );
    assert_eq!(
        shop.memory.call_count(Operation::ReadSubscription),
        reads + 1
    );
    let account = shop.account(&order_id).await;
    let record = &account["webhook_subscription"];
    assert_eq!(record["cancel_scheduled"], false, "{account}");
    assert!(
        record["event_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("settle:")),
        "{account}"
    );
    // The settle is no webhook: the order lists the four webhook events only.
    assert_eq!(
        account["order"]["event_ids"].as_array().map(Vec::len),
        Some(4),
        "{account}"
    );

    // When the gateway cannot answer, the record says what the last event said until the
    // next round asks again.
    shop.act(&order_id, "cancel", "", "cancel_scheduled").await;
    shop.act(&order_id, "resume", "", "resumed").await;
    let deliveries = shop.memory.deliveries();
    let scheduled = &deliveries[4];
    shop.memory.fail_next(
        Operation::ReadSubscription,
        PaymentError::Timeout { attempts: 3 },
    );
    shop.post_webhook(scheduled).await;
    let round = shop.process().await;
    assert_eq!(
        round,
        Round {
            processed: 1,
            settled: 0
        },
        "the retrieve failed"
    );
    let account = shop.account(&order_id).await;
    assert_eq!(account["webhook_subscription"]["cancel_scheduled"], true);
    assert_eq!(
        account["subscription"]["cancel_scheduled"], false,
        "the gateway's truth"
    );
    let round = shop.process().await;
    assert_eq!(
        round,
        Round {
            processed: 1,
            settled: 1
        },
        "asked again"
    );
    let account = shop.account(&order_id).await;
    assert_eq!(account["webhook_subscription"]["cancel_scheduled"], false);
}

#[tokio::test]
async fn webhooks_twice_and_out_of_order_mark_the_order_paid_once() {
    let shop = Shop::start().await;
    let (order_id, checkout_id) = shop.open("pro_monthly").await;
    shop.memory.pay(&checkout_id).expect("paid");
    // Every event of the payment, newest first, each delivered twice; then processed.
    let deliveries = shop.memory.deliveries();
    assert!(deliveries.len() >= 2, "completed and started");
    *shop.delivered.lock().expect("lock") = deliveries.len();
    let mut answers = Vec::new();
    for delivery in deliveries.iter().rev().chain(deliveries.iter().rev()) {
        answers.push(shop.post_webhook(delivery).await["outcome"].clone());
    }
    let recorded = answers
        .iter()
        .filter(|outcome| **outcome == "recorded")
        .count();
    assert_eq!(recorded, deliveries.len(), "{answers:?}");
    let round = shop.process().await;
    assert_eq!(round.processed, deliveries.len());
    let order = shop.order(&order_id).await;
    assert_eq!(order["status"], "paid", "{order}");
    assert_eq!(order["times_marked_paid"], 1, "{order}");
    assert_eq!(order["paid_via"], "webhook", "{order}");
    assert!(order["subscription_id"].is_string(), "{order}");
    assert_eq!(
        order["event_ids"].as_array().map(Vec::len),
        Some(deliveries.len()),
        "{order}"
    );
    let snapshot = shop.snapshot().await;
    assert_eq!(
        snapshot["duplicate_deliveries"],
        deliveries.len(),
        "{snapshot}"
    );
    assert_eq!(snapshot["pending_events"], 0, "{snapshot}");
    // Replayed by the store (an operator's replay): the handler runs again, the order is not
    // marked again.
    let store = &shop.store;
    for event in store.events(None, 100).await.expect("events") {
        assert!(store
            .replay(&event.gateway, &event.event_id)
            .await
            .expect("replayed"));
    }
    shop.process().await;
    assert_eq!(shop.order(&order_id).await["times_marked_paid"], 1);
}

#[tokio::test]
async fn a_charge_that_differs_from_the_catalog_does_not_fulfil() {
    // The gateway's price for the plan drifted from the catalog's 9.00.
    let shop = Shop::start_with(Money::new(1000, Currency::USD)).await;
    let (order_id, checkout_id) = shop.open("pro_monthly").await;
    shop.memory.pay(&checkout_id).expect("paid");
    shop.deliver().await;
    let order = shop.order(&order_id).await;
    assert_eq!(order["status"], "pending", "{order}");
    assert_eq!(order["times_marked_paid"], 0, "{order}");
    // The event is done (a retry cannot change the amount), not failed.
    let snapshot = shop.snapshot().await;
    assert_eq!(snapshot["failed_events"], 0, "{snapshot}");
    assert_eq!(snapshot["pending_events"], 0, "{snapshot}");
}

#[tokio::test]
async fn portal_redirects_without_logging_and_comes_back() {
    let shop = Shop::start().await;
    let (order_id, _) = shop.buy("pro_monthly").await;
    let (status, location, _) = shop.post(&format!("/account/{order_id}/portal"), "").await;
    assert_eq!(status, 303);
    let location = location.expect("Location");
    assert!(
        location.starts_with("https://memory.payswitch.invalid/pay/portal/"),
        "{location}"
    );
    let requested = shop.memory.calls().into_iter().find_map(|call| match call {
        RecordedCall::CreatePortalSession(request) => Some(request),
        _ => None,
    });
    let requested = requested.expect("a portal session");
    let customer = shop.account(&order_id).await["order"]["customer_id"].clone();
    assert_eq!(Some(requested.customer_id.as_str()), customer.as_str());
    assert_eq!(
        requested.return_url.as_deref(),
        Some(format!("{}/account/{order_id}", shop.url).as_str())
    );
}

#[tokio::test]
async fn refund_asks_the_gateway_once_per_order() {
    let shop = Shop::start().await;
    let (order_id, checkout_id) = shop.buy("pro_licence").await;
    // The memory gateway records no payment for a checkout priced by its catalog (it does
    // not know catalog prices), so it refuses; the page says so instead of failing.
    let (status, _, page) = shop.post(&format!("/account/{order_id}/refund"), "").await;
    assert_eq!(status, 404, "{page}");
    assert!(page.contains("id=\"account-error\""), "{page}");
    assert!(
        page.contains("does not know this subscription or payment"),
        "{page}"
    );
    let refunds: Vec<_> = shop
        .memory
        .calls()
        .into_iter()
        .filter_map(|call| match call {
            RecordedCall::CreateRefund(request) => Some(request),
            _ => None,
        })
        .collect();
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].target, RefundTarget::Checkout(checkout_id));
    assert_eq!(refunds[0].amount, None, "a full refund");
    assert_eq!(
        refunds[0].idempotency_key.as_deref(),
        Some(format!("storefront-refund-{order_id}").as_str())
    );
}

#[tokio::test]
async fn gateway_failures_are_shown_with_a_status() {
    let shop = Shop::start().await;
    let (order_id, _) = shop.buy("pro_monthly").await;
    let subscription_id = shop.subscription_id(&order_id).await;

    // Resuming a subscription with nothing to resume: the gateway's InvalidState.
    let (status, _, page) = shop.post(&format!("/account/{order_id}/resume"), "").await;
    assert_eq!(status, 409, "{page}");
    assert!(
        page.contains("id=\"account-error\" role=\"alert\""),
        "{page}"
    );
    assert!(
        page.contains("data-status=\"active\""),
        "the page still shows the state"
    );

    shop.memory.fail_next(
        Operation::ChangeSubscription,
        PaymentError::unsupported(ProviderKind::MEMORY, "cancel_subscription at period end"),
    );
    let (status, _, page) = shop.post(&format!("/account/{order_id}/cancel"), "").await;
    assert_eq!(status, 501, "{page}");
    assert!(page.contains("memory does not support that."), "{page}");

    shop.memory.fail_next(
        Operation::ReadSubscription,
        PaymentError::Timeout { attempts: 3 },
    );
    let (status, page) = shop.get(&format!("/account/{order_id}")).await;
    assert_eq!(status, 502, "{page}");
    assert!(page.contains("did not answer"), "{page}");
    // Without the subscription's state nothing can be changed; the portal still works.
    assert!(!page.contains("Cancel at period end"), "{page}");
    assert!(page.contains(">Manage billing</button>"), "{page}");

    // A plan we do not sell is refused before the gateway is asked.
    let (status, _, page) = shop
        .post(
            &format!("/account/{order_id}/change-plan"),
            "sku=pro_licence",
        )
        .await;
    assert_eq!(status, 400, "{page}");

    // An ended subscription offers nothing to change.
    shop.memory
        .cancel_subscription(&subscription_id, CancelAt::Immediately)
        .await
        .expect("canceled");
    let (status, page) = shop.get(&format!("/account/{order_id}")).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("data-status=\"canceled\""), "{page}");
    for button in ["Cancel at period end", "Resume", "Change plan"] {
        assert!(!page.contains(button), "{button}: {page}");
    }
}

#[tokio::test]
async fn forms_from_other_sites_and_unknown_orders_are_refused() {
    let shop = Shop::start().await;
    let (order_id, _) = shop.buy("pro_monthly").await;
    let response = shop
        .http
        .post(format!("{}/account/{order_id}/cancel", shop.url))
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status().as_u16(), 403);
    let account = shop.account(&order_id).await;
    assert_eq!(account["subscription"]["cancel_scheduled"], false);
    let response = shop
        .http
        .post(format!("{}/account/{order_id}/cancel", shop.url))
        .header("origin", shop.url.as_str())
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status().as_u16(), 303);

    for path in ["/account/order-nope", "/account/order-nope.json"] {
        let (status, _) = shop.get(path).await;
        assert_eq!(status, 404, "{path}");
    }
    let (status, _, _) = shop.post("/account/order-nope/cancel", "").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_unpaid_order_has_nothing_to_manage() {
    let shop = Shop::start().await;
    let (status, location, _) = shop.post("/checkout", "sku=pro_monthly").await;
    assert_eq!(status, 303);
    assert!(location.is_some());
    let snapshot: Value = serde_json::from_str(&shop.get("/orders.json").await.1).expect("JSON");
    let order_id = snapshot["orders"][0]["id"]
        .as_str()
        .expect("order")
        .to_owned();
    let (status, page) = shop.get(&format!("/account/{order_id}")).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("data-status=\"pending\""), "{page}");
    assert!(!page.contains("<form"), "{page}");
    let (status, _, page) = shop.post(&format!("/account/{order_id}/cancel"), "").await;
    assert_eq!(status, 409, "{page}");
    assert_eq!(shop.memory.call_count(Operation::ChangeSubscription), 0);
}
