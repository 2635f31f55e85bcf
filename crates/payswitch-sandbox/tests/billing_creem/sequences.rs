//! The events each Creem flow sends, by name and in order, and that the same script of calls
//! and clock moves sends the same events in the same order every time.

use std::time::Duration;

use payswitch_sandbox::{SandboxHandle, WebhookInbox};
use serde_json::json;

use crate::common::*;
use crate::support::*;

/// Sends `count` more webhooks' worth of work and returns the event types received since the
/// `before` events already seen, in the order they were sent.
async fn next_types(
    sandbox: &SandboxHandle,
    inbox: &WebhookInbox,
    before: usize,
    count: usize,
) -> Vec<String> {
    let events = sent_events(sandbox, inbox, before + count).await;
    types(&events[before..])
        .into_iter()
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn every_creem_flow_sends_its_documented_sequence() {
    let inbox = WebhookInbox::start().await.unwrap();
    let sandbox = billing_sandbox(&inbox).await;

    let one_time = paid_checkout(&sandbox, "prod_ebook", "once@shop.test").await;
    assert_eq!(
        next_types(&sandbox, &inbox, 0, 1).await,
        ["checkout.completed"]
    );

    let renewing = subscribe(&sandbox, "prod_basic", "renews@shop.test").await;
    assert_eq!(
        next_types(&sandbox, &inbox, 1, 3).await,
        [
            "checkout.completed",
            "subscription.active",
            "subscription.paid"
        ]
    );

    let trial = subscribe(&sandbox, "prod_trial", "trial@shop.test").await;
    assert_eq!(
        next_types(&sandbox, &inbox, 4, 2).await,
        ["checkout.completed", "subscription.trialing"]
    );

    let scheduled = subscribe(&sandbox, "prod_pro", "later@shop.test").await;
    let reply = creem_post(
        &sandbox,
        &format!("/v1/subscriptions/{scheduled}/cancel"),
        &json!({ "mode": "scheduled" }),
    )
    .await;
    assert_eq!(reply.json["status"], "scheduled_cancel");
    assert_eq!(
        next_types(&sandbox, &inbox, 6, 4).await[3..],
        ["subscription.scheduled_cancel"]
    );

    let canceled = subscribe(&sandbox, "prod_eur", "now@shop.test").await;
    let reply = creem_post(
        &sandbox,
        &format!("/v1/subscriptions/{canceled}/cancel"),
        &json!({ "mode": "immediate" }),
    )
    .await;
    assert_eq!(reply.json["status"], "canceled");
    assert_eq!(
        next_types(&sandbox, &inbox, 10, 4).await[3..],
        ["subscription.canceled"]
    );

    let transaction = one_time["order"]["transaction"].as_str().unwrap();
    let refunded = creem_post(
        &sandbox,
        "/v1/refunds",
        &json!({ "transaction_id": transaction }),
    )
    .await;
    assert_eq!(refunded.status, 200, "{}", refunded.json);
    assert_eq!(
        next_types(&sandbox, &inbox, 14, 1).await,
        ["refund.created"]
    );

    // A month on: the trial ends and bills, the renewing plan renews, the scheduled
    // cancellation takes effect, in the order their periods end.
    sandbox.advance_clock(Duration::from_secs(32 * DAY));
    let events = sent_events(&sandbox, &inbox, 19).await;
    let later: Vec<(&str, &str)> = events[15..]
        .iter()
        .map(|event| {
            (
                event["eventType"].as_str().unwrap(),
                event["object"]["id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        later,
        [
            ("subscription.active", trial.as_str()),
            ("subscription.paid", trial.as_str()),
            ("subscription.paid", renewing.as_str()),
            ("subscription.canceled", scheduled.as_str()),
        ]
    );
    let created: Vec<i64> = events
        .iter()
        .map(|event| event["created_at"].as_i64().unwrap())
        .collect();
    assert!(
        created.windows(2).all(|pair| pair[0] < pair[1]),
        "{created:?}"
    );
}

/// Runs one script on a fresh sandbox and returns the events it sent as (type, which
/// subscription by order of appearance, status), in the order they were sent.
async fn run_script() -> Vec<(String, usize, String)> {
    let inbox = WebhookInbox::start().await.unwrap();
    let sandbox = billing_sandbox(&inbox).await;
    let mut seen = 0;
    for (product, email, card) in [
        ("prod_basic", "a@shop.test", "4000 0099 0000 0012"),
        ("prod_pro", "b@shop.test", "4000 0099 0000 0004"),
        ("prod_year", "c@shop.test", "4242 4242 4242 4242"),
        ("prod_trial", "d@shop.test", "4000 0099 0000 0004"),
    ] {
        let created =
            creem_post(&sandbox, "/v1/checkouts", &json!({ "product_id": product })).await;
        let id = created.json["id"].as_str().unwrap();
        sandbox.pay_with_email(id, Some(card), email).unwrap();
        seen += if product == "prod_trial" { 2 } else { 3 };
        // Each payment's events are in before the next payment, as a person paying would be.
        assert_eq!(inbox.wait_for(seen, WAIT).await.len(), seen);
    }
    let year = creem_get(&sandbox, "/v1/subscriptions/search?page_size=50").await;
    let yearly = year.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|subscription| subscription["product"]["id"] == "prod_year")
        .and_then(|subscription| subscription["id"].as_str())
        .unwrap()
        .to_owned();
    creem_post(
        &sandbox,
        &format!("/v1/subscriptions/{yearly}/cancel"),
        &json!({ "mode": "scheduled" }),
    )
    .await;
    for days in [10, 25, 40, 400] {
        sandbox.advance_clock(Duration::from_secs(days * DAY));
    }
    // 11 at checkout, the yearly plan's scheduled cancel, then: the trial's expired, past_due
    // and canceled; a's expired, past_due, paid and 14 renewals (15 months end within 475
    // days, 16 do not); b's expired, past_due, canceled; the yearly plan's cancellation.
    let events = sent_events(&sandbox, &inbox, 36).await;
    let mut order: Vec<String> = Vec::new();
    events
        .iter()
        .map(|event| {
            let object = &event["object"];
            let id = match object["object"].as_str() {
                Some("checkout") => object["subscription"]["id"].as_str().unwrap(),
                _ => object["id"].as_str().unwrap(),
            };
            let which = match order.iter().position(|known| known == id) {
                Some(index) => index,
                None => {
                    order.push(id.to_owned());
                    order.len() - 1
                }
            };
            let status = match object["object"].as_str() {
                Some("checkout") => object["subscription"]["status"].clone(),
                _ => object["status"].clone(),
            };
            (
                event["eventType"].as_str().unwrap().to_owned(),
                which,
                status.as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_same_script_sends_the_same_events_in_the_same_order() {
    let first = run_script().await;
    let second = run_script().await;
    assert_eq!(first.len(), 36);
    assert_eq!(first, second);
    let past_due = first
        .iter()
        .filter(|(kind, _, _)| kind == "subscription.past_due")
        .count();
    assert_eq!(past_due, 3);
}
