//! Hostile webhook delivery, one mode at a time, asserting exactly what reached a local
//! receiver: `duplicate`, `reorder` (one flush, a window, a seeded shuffle), `delay`, `drop`
//! with the gateways' retry schedules on the sandbox clock, `redeliver_old`, replays, and the
//! admin API that sets the modes globally and per endpoint.

mod common;

use std::time::{Duration, Instant};

use common::billing::subscribe;
use common::*;
use payswitch_sandbox::{
    Delivery, DeliveryModes, DeliveryReason, PriceSeed, ProductSeed, ReceivedWebhook, Reorder,
    Sandbox, SandboxBuilder, SandboxError, SandboxHandle, WebhookInbox,
};
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(10);
const DAY: u64 = 24 * 60 * 60;

/// A sandbox builder whose both gateways' webhooks go to `inbox`, with a Creem one-time and
/// monthly product and a Stripe monthly price.
fn builder(inbox: &WebhookInbox) -> SandboxBuilder {
    Sandbox::builder()
        .stripe_webhook_endpoint(inbox.url())
        .creem_webhook_endpoint(inbox.url())
        .product(ProductSeed::one_time("Pro plan", 2500, "USD").with_id("prod_onetime"))
        .product(
            ProductSeed::recurring("Team plan", 9900, "EUR", "every-month").with_id("prod_monthly"),
        )
        .price(
            PriceSeed::recurring("Pro", 2000, "usd", "month")
                .with_id("price_pro")
                .with_product_id("prod_pro"),
        )
}

async fn start(inbox: &WebhookInbox, modes: DeliveryModes) -> SandboxHandle {
    builder(inbox)
        .delivery_modes(modes)
        .start()
        .await
        .expect("sandbox starts")
}

/// Creates a Stripe payment session and expires it; one event follows
/// (`checkout.session.expired`). Paying one would also send its PaymentIntent's and charge's
/// events.
async fn expire_stripe_session(sandbox: &SandboxHandle) -> String {
    let id = create_session(sandbox).await["id"]
        .as_str()
        .expect("session id")
        .to_owned();
    sandbox.expire(&id).expect("expired");
    id
}

/// Creates a Creem checkout for `product` and pays it (one event for a one-time product,
/// three for a subscription).
async fn pay_creem_checkout(sandbox: &SandboxHandle, product: &str) -> String {
    let created = creem_post(
        sandbox,
        "/v1/checkouts",
        &json!({ "product_id": product, "success_url": "https://shop.test/thanks" }),
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.json);
    let id = created.json["id"].as_str().expect("checkout id").to_owned();
    sandbox.pay(&id, None).expect("paid");
    id
}

fn event_id(webhook: &ReceivedWebhook) -> String {
    webhook.json().expect("JSON")["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

fn event_type(webhook: &ReceivedWebhook) -> String {
    let event = webhook.json().expect("JSON");
    event["type"]
        .as_str()
        .or_else(|| event["eventType"].as_str())
        .expect("type")
        .to_owned()
}

/// Whether the webhook carries a valid signature of its gateway, checked independently.
fn signed(sandbox: &SandboxHandle, webhook: &ReceivedWebhook) -> bool {
    if let Some(header) = webhook.header("stripe-signature") {
        return stripe_signature_valid(header, &webhook.body, sandbox.stripe_webhook_secret());
    }
    webhook.header("creem-signature").is_some_and(|signature| {
        signature == hmac_hex(sandbox.creem_webhook_secret(), &webhook.body)
    })
}

/// Waits for `count` webhooks, then a little longer to be sure no more come.
async fn exactly(inbox: &WebhookInbox, count: usize) -> Vec<ReceivedWebhook> {
    inbox.wait_for(count, WAIT).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let received = inbox.received();
    assert_eq!(received.len(), count, "{:#?}", types_of(&received));
    received
}

fn types_of(received: &[ReceivedWebhook]) -> Vec<String> {
    received.iter().map(event_type).collect()
}

/// Waits until the delivery log holds `count` attempts.
async fn deliveries(sandbox: &SandboxHandle, count: usize) -> Vec<Delivery> {
    let deadline = Instant::now() + WAIT;
    loop {
        let deliveries = sandbox.deliveries();
        if deliveries.len() >= count || Instant::now() >= deadline {
            return deliveries;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The sandbox's emitted events, oldest first, as (id, type).
async fn emitted(sandbox: &SandboxHandle) -> Vec<(String, String)> {
    let events = admin_get(sandbox, "/__sandbox/events").await;
    events
        .as_array()
        .expect("events")
        .iter()
        .map(|event| {
            (
                event["id"].as_str().expect("id").to_owned(),
                event["type"].as_str().expect("type").to_owned(),
            )
        })
        .collect()
}

async fn admin_get(sandbox: &SandboxHandle, path: &str) -> Value {
    let response = client()
        .get(format!("{}{path}", sandbox.base_url()))
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), 200);
    response.json().await.expect("JSON")
}

async fn admin(sandbox: &SandboxHandle, method: &str, path: &str, body: Option<Value>) -> Reply {
    let mut request = client().request(
        method.parse().expect("method"),
        format!("{}{path}", sandbox.base_url()),
    );
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("admin request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let json = response.json().await.unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        json,
    }
}

#[tokio::test]
async fn duplicate_delivers_each_event_twice_after_the_gap_freshly_signed() {
    let inbox = WebhookInbox::start().await.unwrap();
    let sandbox = start(
        &inbox,
        DeliveryModes::new().duplicate(Duration::from_secs(1)),
    )
    .await;
    expire_stripe_session(&sandbox).await;
    inbox.wait_for(1, WAIT).await;
    let first_arrived = Instant::now();
    // The copy waits for its gap.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(inbox.received().len(), 1);
    let received = exactly(&inbox, 2).await;
    assert!(first_arrived.elapsed() >= Duration::from_millis(900));
    assert_eq!(event_id(&received[0]), event_id(&received[1]));
    assert_eq!(received[0].body, received[1].body);
    for webhook in &received {
        assert!(signed(&sandbox, webhook), "{:?}", webhook.headers);
    }
    let log = sandbox.deliveries();
    let reasons: Vec<(DeliveryReason, u32)> = log
        .iter()
        .map(|delivery| (delivery.reason, delivery.attempt))
        .collect();
    assert_eq!(
        reasons,
        [
            (DeliveryReason::Original, 1),
            (DeliveryReason::Duplicate, 1)
        ]
    );
    assert!(log
        .iter()
        .all(|delivery| delivery.response_status == Some(200)));
}

#[tokio::test]
async fn duplicate_without_a_gap_sends_both_copies_at_once_on_creem() {
    let inbox = WebhookInbox::start().await.unwrap();
    let sandbox = start(&inbox, DeliveryModes::new().duplicate(Duration::ZERO)).await;
    pay_creem_checkout(&sandbox, "prod_monthly").await;
    let received = exactly(&inbox, 6).await;
    let emitted = emitted(&sandbox).await;
    assert_eq!(emitted.len(), 3);
    for (id, _) in &emitted {
        let copies: Vec<&ReceivedWebhook> = received
            .iter()
            .filter(|webhook| event_id(webhook) == *id)
            .collect();
        assert_eq!(copies.len(), 2, "{id}");
        assert_eq!(copies[0].body, copies[1].body);
    }
    assert!(received.iter().all(|webhook| signed(&sandbox, webhook)));
}

#[tokio::test]
async fn reorder_reverse_delivers_a_stripe_subscription_checkout_last_event_first() {
    let inbox = WebhookInbox::start().await.unwrap();
    let sandbox = start(&inbox, DeliveryModes::new().reorder(Reorder::Reverse)).await;
    subscribe(&sandbox, "", "buyer@shop.test").await;
    let mut expected: Vec<String> = emitted(&sandbox)
        .await
        .into_iter()
        .map(|(_, event_type)| event_type)
        .collect();
    let received = exactly(&inbox, expected.len()).await;
    assert_eq!(
        expected.first().map(String::as_str),
        Some("customer.created")
    );
    expected.reverse();
    // `checkout.session.completed` before `invoice.paid`, the subscription before its customer.
    assert_eq!(types_of(&received), expected);
    assert_eq!(expected[0], "checkout.session.completed");
    assert!(received.iter().all(|webhook| signed(&sandbox, webhook)));
}

#[tokio::test]
async fn reorder_reverse_on_creem_puts_the_subscription_before_the_checkout() {
    let inbox = WebhookInbox::start().await.unwrap();
    let sandbox = start(&inbox, DeliveryModes::new().reorder(Reorder::Reverse)).await;
    pay_creem_checkout(&sandbox, "prod_monthly").await;
    let received = exactly(&inbox, 3).await;
    let emitted: Vec<String> = emitted(&sandbox)
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let mut ids: Vec<String> = received.iter().map(event_id).collect();
    ids.reverse();
    assert_eq!(ids, emitted);
    assert_eq!(event_type(&received[2]), "checkout.completed");
}

#[tokio::test]
async fn a_reorder_window_delivers_updated_before_created() {
    let inbox = WebhookInbox::start().await.unwrap();
    let sandbox = start(
        &inbox,
        DeliveryModes::new().reorder_within(Reorder::Reverse, Duration::from_millis(1500)),
    )
    .await;
    let session = subscribe(&sandbox, "", "buyer@shop.test").await;
    let subscription = session["subscription"].as_str().expect("subscription");
    let updated = stripe_post(
        &sandbox,
        &format!("/v1/subscriptions/{subscription}"),
        "cancel_at_period_end=true",
    )
    .await;
    assert_eq!(updated.status, 200, "{}", updated.json);
    // Nothing goes out while the window is open.
    assert!(inbox.received().is_empty());
    let received = exactly(&inbox, emitted(&sandbox).await.len()).await;
    let types = types_of(&received);
    assert_eq!(types[0], "customer.subscription.updated");
    let created = types
        .iter()
        .position(|event_type| event_type == "customer.subscription.created")
        .expect("created");
    assert!(created > 0, "{types:?}");
    assert_eq!(types.last().map(String::as_str), Some("customer.created"));
}

/// The order a seeded shuffle delivers a subscription checkout's events in.
async fn shuffled_types(seed: u64) -> (Vec<String>, Vec<String>) {
    let inbox = WebhookInbox::start().await.unwrap();
    let sandbox = start(
        &inbox,
        DeliveryModes::new().reorder(Reorder::Shuffle).seed(seed),
    )
    .await;
    subscribe(&sandbox, "", "buyer@shop.test").await;
    let emitted: Vec<String> = emitted(&sandbox)
        .await
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    let received = exactly(&inbox, emitted.len()).await;
    (types_of(&received), emitted)
}

#[tokio::test]
async fn a_seeded_shuffle_repeats_and_is_never_the_emitted_order() {
    let (first, emitted) = shuffled_types(42).await;
    let (again, _) = shuffled_types(42).await;
    assert_eq!(first, again);
    assert_ne!(first, emitted);
    let mut sorted_first = first.clone();
    let mut sorted_emitted = emitted.clone();
    sorted_first.sort();
    sorted_emitted.sort();
    assert_eq!(sorted_first, sorted_emitted);
}

#[tokio::test]
async fn delay_holds_each_event_before_its_first_attempt() {
    let inbox = WebhookInbox::start().await.unwrap();
    let sandbox = start(
        &inbox,
        DeliveryModes::new().delay(Duration::from_millis(600)),
    )
    .await;
    let paid_at = Instant::now();
    pay_creem_checkout(&sandbox, "prod_monthly").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(inbox.received().is_empty());
    inbox.wait_for(1, WAIT).await;
    assert!(paid_at.elapsed() >= Duration::from_millis(600));
    // Each of the three events waits its own 600 ms, one after another.
    exactly(&inbox, 3).await;
    assert!(paid_at.elapsed() >= Duration::from_millis(1800));
}

#[tokio::test]
async fn drop_retries_on_creems_schedule_when_the_clock_moves() {
    let inbox = WebhookInbox::start().await.unwrap();
    let sandbox = start(&inbox, DeliveryModes::new().drop_attempts(2)).await;
    pay_creem_checkout(&sandbox, "prod_onetime").await;
    let log = deliveries(&sandbox, 1).await;
    let first = log[0].sandbox_time;
    assert!(log[0].dropped);
    assert_eq!(log[0].response_status, None);
    assert_eq!(log[0].attempt, 1);
    let waiting = sandbox.waiting_deliveries();
    assert_eq!(waiting.len(), 1);
    // Creem: 30 s, 1 min, 5 min, 1 h after each failed attempt.
    assert_eq!((waiting[0].attempt, waiting[0].due_at), (2, first + 30));
    assert!(inbox.received().is_empty());

    sandbox.advance_clock(Duration::from_secs(30));
    let log = deliveries(&sandbox, 2).await;
    assert!(log[1].dropped);
    assert_eq!(log[1].attempt, 2);
    assert!(log[1].sandbox_time >= first + 30);
    let waiting = sandbox.waiting_deliveries();
    assert_eq!((waiting[0].attempt, waiting[0].due_at), (3, first + 90));

    sandbox.advance_clock(Duration::from_secs(60));
    let received = exactly(&inbox, 1).await;
    assert!(signed(&sandbox, &received[0]));
    let log = sandbox.deliveries();
    assert_eq!(log.len(), 3);
    assert_eq!(log[2].attempt, 3);
    assert!(!log[2].dropped);
    assert_eq!(log[2].response_status, Some(200));
    assert!(log
        .iter()
        .all(|delivery| delivery.event_id == event_id(&received[0])));
    assert!(sandbox.waiting_deliveries().is_empty());
}

#[tokio::test]
async fn drop_retries_on_stripes_schedule_for_three_days() {
    let inbox = WebhookInbox::start().await.unwrap();
    let sandbox = start(&inbox, DeliveryModes::new().drop_attempts(10)).await;
    expire_stripe_session(&sandbox).await;
    let first = deliveries(&sandbox, 1).await[0].sandbox_time;
    let waiting = sandbox.waiting_deliveries();
    assert_eq!((waiting[0].attempt, waiting[0].due_at), (2, first + 300));
    sandbox.advance_clock(Duration::from_secs(300));
    deliveries(&sandbox, 2).await;
    let waiting = sandbox.waiting_deliveries();
    assert_eq!((waiting[0].attempt, waiting[0].due_at), (3, first + 900));

    // Three days at once: every attempt that fell due runs, in order.
    sandbox.advance_clock(Duration::from_secs(3 * DAY));
    let received = exactly(&inbox, 1).await;
    assert!(signed(&sandbox, &received[0]));
    let log = sandbox.deliveries();
    let attempts: Vec<(u32, bool)> = log.iter().map(|d| (d.attempt, d.dropped)).collect();
    let mut expected: Vec<(u32, bool)> = (1..=10).map(|attempt| (attempt, true)).collect();
    expected.push((11, false));
    assert_eq!(attempts, expected);
    assert_eq!(log[10].response_status, Some(200));
    assert!(sandbox.waiting_deliveries().is_empty());
}

#[tokio::test]
async fn stripe_retry_schedule_step_by_step() {
    let inbox = WebhookInbox::start().await.unwrap();
    let sandbox = start(&inbox, DeliveryModes::new().drop_attempts(10)).await;
    expire_stripe_session(&sandbox).await;
    let first = deliveries(&sandbox, 1).await[0].sandbox_time;
    // 5 minutes, doubling; the eleventh attempt exactly three days after the first.
    let offsets: [i64; 10] = [
        300, 900, 2100, 4500, 9300, 18900, 38100, 76500, 153300, 259200,
    ];
    let mut at = 0;
    for (index, offset) in offsets.iter().enumerate() {
        let waiting = sandbox.waiting_deliveries();
        assert_eq!(waiting.len(), 1, "before attempt {}", index + 2);
        let attempt = u32::try_from(index).unwrap() + 2;
        assert_eq!(
            (waiting[0].attempt, waiting[0].due_at),
            (attempt, first + offset)
        );
        sandbox.advance_clock(Duration::from_secs(u64::try_from(offset - at).unwrap()));
        at = *offset;
        deliveries(&sandbox, index + 2).await;
    }
    let received = exactly(&inbox, 1).await;
    assert!(signed(&sandbox, &received[0]));
}

#[tokio::test]
async fn a_delivery_dropped_on_every_attempt_is_given_up() {
    let inbox = WebhookInbox::start().await.unwrap();
    let sandbox = start(&inbox, DeliveryModes::new().drop_attempts(5)).await;
    pay_creem_checkout(&sandbox, "prod_onetime").await;
    deliveries(&sandbox, 1).await;
    sandbox.advance_clock(Duration::from_secs(2 * 60 * 60));
    let log = deliveries(&sandbox, 5).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sandbox.deliveries().len(), 5, "{log:#?}");
    assert!(log.iter().all(|delivery| delivery.dropped));
    assert!(sandbox.waiting_deliveries().is_empty());
    assert!(inbox.received().is_empty());
}

#[tokio::test]
async fn drop_zero_retries_real_failures_on_the_gateway_schedule() {
    let inbox = WebhookInbox::start().await.unwrap();
    inbox.script_statuses([500]);
    let sandbox = start(&inbox, DeliveryModes::new().drop_attempts(0)).await;
    pay_creem_checkout(&sandbox, "prod_onetime").await;
    let log = deliveries(&sandbox, 1).await;
    assert_eq!(log[0].response_status, Some(500));
    assert!(!log[0].dropped);
    let waiting = sandbox.waiting_deliveries();
    assert_eq!(
        (waiting[0].attempt, waiting[0].due_at),
        (2, log[0].sandbox_time + 30)
    );
    sandbox.advance_clock(Duration::from_secs(30));
    inbox.wait_for_accepted(1, WAIT).await;
    let received = exactly(&inbox, 2).await;
    assert_eq!(received[0].answered, 500);
    assert_eq!(received[1].answered, 200);
    assert_eq!(received[0].body, received[1].body);
}

#[tokio::test]
async fn redeliver_old_sends_an_accepted_event_again_days_later() {
    let inbox = WebhookInbox::start().await.unwrap();
    let sandbox = start(
        &inbox,
        DeliveryModes::new().redeliver_after(Duration::from_secs(3 * DAY)),
    )
    .await;
    expire_stripe_session(&sandbox).await;
    exactly(&inbox, 1).await;
    let accepted_at = sandbox.deliveries()[0].sandbox_time;
    let waiting = sandbox.waiting_deliveries();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].reason, DeliveryReason::Redelivery);
    let three_days = i64::try_from(3 * DAY).unwrap();
    assert!((waiting[0].due_at - accepted_at - three_days).abs() <= 1);

    sandbox.advance_clock(Duration::from_secs(2 * DAY));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(inbox.received().len(), 1);
    sandbox.advance_clock(Duration::from_secs(DAY));
    let received = exactly(&inbox, 2).await;
    assert_eq!(received[0].body, received[1].body);
    assert!(received.iter().all(|webhook| signed(&sandbox, webhook)));
    let log = sandbox.deliveries();
    assert_eq!(log[1].reason, DeliveryReason::Redelivery);
    assert!(log[1].sandbox_time >= accepted_at + three_days);
    // An event is redelivered once, not every three days.
    assert!(sandbox.waiting_deliveries().is_empty());
}

#[tokio::test]
async fn replay_resends_a_past_event_with_a_fresh_signature() {
    let inbox = WebhookInbox::start().await.unwrap();
    let sandbox = start(&inbox, DeliveryModes::new()).await;
    expire_stripe_session(&sandbox).await;
    let first = exactly(&inbox, 1).await;
    let id = event_id(&first[0]);
    assert_eq!(sandbox.replay_event(&id).unwrap(), [inbox.url().to_owned()]);
    let received = exactly(&inbox, 2).await;
    assert_eq!(received[0].body, received[1].body);
    assert!(signed(&sandbox, &received[1]));
    assert_eq!(sandbox.deliveries()[1].reason, DeliveryReason::Replay);

    // The admin API does the same, to every endpoint or to one.
    let replayed = admin(
        &sandbox,
        "POST",
        &format!("/__sandbox/events/{id}/replay"),
        None,
    )
    .await;
    assert_eq!(replayed.status, 200, "{}", replayed.json);
    assert_eq!(replayed.json["endpoints"], json!([inbox.url()]));
    let to_one = admin(
        &sandbox,
        "POST",
        &format!("/__sandbox/events/{id}/replay"),
        Some(json!({ "url": inbox.url() })),
    )
    .await;
    assert_eq!(to_one.status, 200, "{}", to_one.json);
    exactly(&inbox, 4).await;

    let unknown = admin(&sandbox, "POST", "/__sandbox/events/evt_nope/replay", None).await;
    assert_eq!(unknown.status, 404);
    assert!(matches!(
        sandbox.replay_event("evt_nope"),
        Err(SandboxError::EventNotFound(_))
    ));
    let elsewhere = admin(
        &sandbox,
        "POST",
        &format!("/__sandbox/events/{id}/replay"),
        Some(json!({ "url": "http://127.0.0.1:9/other" })),
    )
    .await;
    assert_eq!(elsewhere.status, 400);
}

#[tokio::test]
async fn replay_reaches_an_endpoint_added_after_the_event() {
    let sandbox = Sandbox::builder()
        .product(ProductSeed::one_time("Pro plan", 2500, "USD").with_id("prod_onetime"))
        .start()
        .await
        .unwrap();
    pay_creem_checkout(&sandbox, "prod_onetime").await;
    let (id, event_type) = emitted(&sandbox).await.remove(0);
    assert_eq!(event_type, "checkout.completed");
    let inbox = WebhookInbox::start().await.unwrap();
    sandbox
        .add_webhook_endpoint(payswitch_sandbox::Gateway::Creem, inbox.url())
        .unwrap();
    sandbox.replay_event(&id).unwrap();
    let received = exactly(&inbox, 1).await;
    assert_eq!(event_id(&received[0]), id);
    assert!(signed(&sandbox, &received[0]));
}

#[tokio::test]
async fn modes_are_set_per_endpoint_and_globally_through_the_admin_api() {
    let noisy = WebhookInbox::start().await.unwrap();
    let quiet = WebhookInbox::start().await.unwrap();
    let sandbox = Sandbox::builder()
        .creem_webhook_endpoint(noisy.url())
        .creem_webhook_endpoint(quiet.url())
        .product(ProductSeed::one_time("Pro plan", 2500, "USD").with_id("prod_onetime"))
        .start()
        .await
        .unwrap();
    // The text form, globally; the JSON form for one URL (empty: plain delivery).
    let global = admin(
        &sandbox,
        "POST",
        "/__sandbox/delivery",
        Some(json!({ "modes": "duplicate=100ms,seed=7" })),
    )
    .await;
    assert_eq!(global.status, 200, "{}", global.json);
    let own = admin(
        &sandbox,
        "POST",
        "/__sandbox/delivery",
        Some(json!({ "url": quiet.url(), "modes": {} })),
    )
    .await;
    assert_eq!(own.status, 200, "{}", own.json);
    let view = admin_get(&sandbox, "/__sandbox/delivery").await;
    assert_eq!(
        view,
        json!({
            "global": { "duplicate": { "gap_ms": 100 }, "seed": 7 },
            "endpoints": { quiet.url(): {} },
        })
    );
    assert_eq!(
        sandbox.delivery_modes_for(noisy.url()),
        DeliveryModes::new()
            .duplicate(Duration::from_millis(100))
            .seed(7)
    );

    pay_creem_checkout(&sandbox, "prod_onetime").await;
    exactly(&noisy, 2).await;
    exactly(&quiet, 1).await;

    // Refused: unreadable modes, unknown fields, waits past the cap, a relative URL.
    for body in [
        json!({ "modes": "duplicat" }),
        json!({ "modes": { "duplicate": { "gap": 1 } } }),
        json!({ "modes": { "delay": { "min_ms": 400000 } } }),
        json!({ "url": "/hooks", "modes": {} }),
    ] {
        let refused = admin(&sandbox, "POST", "/__sandbox/delivery", Some(body.clone())).await;
        assert_eq!(refused.status, 400, "{body}: {}", refused.json);
    }

    let cleared = admin(&sandbox, "DELETE", "/__sandbox/delivery", None).await;
    assert_eq!(cleared.status, 200);
    assert_eq!(cleared.json, json!({ "global": {}, "endpoints": {} }));
    pay_creem_checkout(&sandbox, "prod_onetime").await;
    exactly(&noisy, 3).await;
    exactly(&quiet, 2).await;
}

#[tokio::test]
async fn handle_and_builder_set_modes_and_refuse_bad_ones() {
    let inbox = WebhookInbox::start().await.unwrap();
    let refused = builder(&inbox)
        .delivery_modes(DeliveryModes::new().delay(Duration::from_secs(301)))
        .start()
        .await;
    assert!(matches!(refused, Err(SandboxError::InvalidDeliveryMode(_))));
    let sandbox = builder(&inbox)
        .endpoint_delivery_modes(inbox.url(), DeliveryModes::new().duplicate(Duration::ZERO))
        .start()
        .await
        .unwrap();
    assert!(matches!(
        sandbox.set_delivery_modes(
            DeliveryModes::new().delay_between(Duration::from_secs(2), Duration::from_secs(1))
        ),
        Err(SandboxError::InvalidDeliveryMode(_))
    ));
    assert!(matches!(
        sandbox.set_endpoint_delivery_modes("not a url", DeliveryModes::new()),
        Err(SandboxError::InvalidUrl(_))
    ));
    pay_creem_checkout(&sandbox, "prod_onetime").await;
    exactly(&inbox, 2).await;
    // reset() goes back to the builder's modes; clear_delivery_modes() to none.
    sandbox
        .set_endpoint_delivery_modes(inbox.url(), DeliveryModes::new())
        .unwrap();
    sandbox.reset();
    assert_eq!(
        sandbox.delivery_modes_for(inbox.url()),
        DeliveryModes::new().duplicate(Duration::ZERO)
    );
    sandbox.clear_delivery_modes();
    assert!(sandbox.delivery_modes_for(inbox.url()).is_empty());
}
