//! What paying a checkout creates, refunds, cancel / pause / resume and their refusals, and
//! what the sandbox clock does at the end of a period (renewal, scheduled cancellation, trial).

use std::time::Duration;

use payswitch_sandbox::{RefundStatus, SubscriptionStatus, WebhookInbox};
use serde_json::{json, Value};

use crate::common::*;
use crate::support::*;

#[tokio::test]
async fn a_paid_subscription_checkout_creates_customer_subscription_transaction_and_events() {
    let inbox = WebhookInbox::start().await.unwrap();
    let sandbox = billing_sandbox(&inbox).await;
    let checkout = paid_checkout(&sandbox, "prod_taxed", "team@shop.test").await;

    let customer = &checkout["customer"];
    assert!(customer["id"].as_str().unwrap().starts_with("cust_"));
    assert_eq!(customer["object"], "customer");
    assert_eq!(customer["email"], "team@shop.test");
    let subscription_id = checkout["subscription"]["id"].as_str().unwrap();
    assert!(subscription_id.starts_with("sub_"));
    // Inside a checkout, Creem's samples show the subscription's product and customer as ids.
    assert_eq!(checkout["subscription"]["product"], "prod_taxed");
    assert_eq!(checkout["subscription"]["customer"], customer["id"]);
    let order = &checkout["order"];
    assert!(order["id"].as_str().unwrap().starts_with("ord_"));
    let transaction_id = order["transaction"].as_str().unwrap();
    assert!(transaction_id.starts_with("tran_"));
    assert_eq!(order["amount_paid"], 1210);

    let subscription = creem_get(
        &sandbox,
        &format!("/v1/subscriptions?subscription_id={subscription_id}"),
    )
    .await;
    assert_eq!(subscription.status, 200, "{}", subscription.json);
    let subscription = subscription.json;
    assert_eq!(subscription["object"], "subscription");
    assert_eq!(subscription["status"], "active");
    assert_eq!(subscription["collection_method"], "charge_automatically");
    assert_eq!(subscription["product"]["id"], "prod_taxed");
    assert_eq!(subscription["product"]["billing_period"], "every-month");
    assert_eq!(subscription["customer"]["email"], "team@shop.test");
    assert_eq!(subscription["metadata"]["userId"], "team@shop.test");
    let items = subscription["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert!(items[0]["id"].as_str().unwrap().starts_with("sitem_"));
    assert_eq!(items[0]["object"], "subscription_item");
    assert_eq!(items[0]["product_id"], "prod_taxed");
    assert!(items[0]["price_id"]
        .as_str()
        .unwrap()
        .starts_with("pprice_"));
    assert_eq!(items[0]["units"], 1);
    assert_eq!(subscription["last_transaction_id"], transaction_id);
    assert_eq!(subscription["last_transaction"]["id"], transaction_id);
    assert_eq!(subscription["canceled_at"], Value::Null);
    let start = seconds(&subscription["current_period_start_date"]);
    let end = seconds(&subscription["current_period_end_date"]);
    assert!((start - sandbox.now()).abs() <= 5);
    assert_eq!(end, one_month_after(start), "a calendar month");
    assert_eq!(
        subscription["next_transaction_date"],
        subscription["current_period_end_date"]
    );

    let transaction = creem_get(
        &sandbox,
        &format!("/v1/transactions?transaction_id={transaction_id}"),
    )
    .await;
    assert_eq!(transaction.status, 200);
    let transaction = transaction.json;
    assert_eq!(transaction["object"], "transaction");
    assert_eq!(transaction["type"], "invoice");
    assert_eq!(transaction["status"], "paid");
    assert_eq!(transaction["amount"], 1000);
    assert_eq!(transaction["tax_amount"], 210);
    assert_eq!(transaction["discount_amount"], 0);
    assert_eq!(transaction["amount_paid"], 1210);
    assert_eq!(transaction["currency"], "EUR");
    assert_eq!(transaction["refunded_amount"], Value::Null);
    assert_eq!(transaction["order"], order["id"]);
    assert_eq!(transaction["subscription"], subscription_id);
    assert_eq!(transaction["customer"], customer["id"]);
    assert_eq!(transaction["period_start"], start * 1000);
    assert_eq!(transaction["period_end"], end * 1000);
    assert!((transaction["created_at"].as_i64().unwrap() / 1000 - start).abs() <= 1);

    let events = sent_events(&sandbox, &inbox, 3).await;
    assert_eq!(
        types(&events),
        [
            "checkout.completed",
            "subscription.active",
            "subscription.paid"
        ]
    );
    assert_eq!(events[0]["object"]["subscription"]["id"], subscription_id);
    for event in &events[1..] {
        let object = &event["object"];
        assert_eq!(object["id"], subscription_id);
        // Webhooks expand the subscription's product and customer.
        assert_eq!(object["product"]["object"], "product");
        assert_eq!(object["customer"]["email"], "team@shop.test");
        assert_eq!(object["status"], "active");
        assert_eq!(object["last_transaction_id"], transaction_id);
    }

    let records = sandbox.subscriptions();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].id, subscription_id);
    assert_eq!(records[0].status, SubscriptionStatus::Active);
    assert_eq!(records[0].customer, customer["id"].as_str().unwrap());
    assert_eq!(
        (records[0].amount, records[0].currency.as_str()),
        (1000, "EUR")
    );

    // The same email pays again: the same customer, a second subscription.
    let again = paid_checkout(&sandbox, "prod_basic", "TEAM@shop.test").await;
    assert_eq!(again["customer"]["id"], customer["id"]);
    assert_ne!(again["subscription"]["id"], subscription_id);
}

#[tokio::test]
async fn a_one_time_checkout_is_refunded_once_in_full() {
    let inbox = WebhookInbox::start().await.unwrap();
    let sandbox = billing_sandbox(&inbox).await;
    let checkout = paid_checkout(&sandbox, "prod_ebook", "reader@shop.test").await;
    assert!(checkout.get("subscription").is_none());
    let transaction_id = checkout["order"]["transaction"].as_str().unwrap();
    let transaction = creem_get(
        &sandbox,
        &format!("/v1/transactions?transaction_id={transaction_id}"),
    )
    .await
    .json;
    assert_eq!(transaction["type"], "payment");
    assert_eq!(transaction["subscription"], Value::Null);
    assert!(transaction.get("period_start").is_none());

    let refunded = creem_post(
        &sandbox,
        "/v1/refunds",
        &json!({ "transaction_id": transaction_id }),
    )
    .await;
    assert_eq!(refunded.status, 200, "{}", refunded.json);
    assert_eq!(refunded.json, json!({ "status": "succeeded" }));
    let transaction = creem_get(
        &sandbox,
        &format!("/v1/transactions?transaction_id={transaction_id}"),
    )
    .await
    .json;
    assert_eq!(transaction["status"], "refunded");
    assert_eq!(transaction["refunded_amount"], 2500);

    // A second refund: nothing is left.
    let again = creem_post(
        &sandbox,
        "/v1/refunds",
        &json!({ "transaction_id": transaction_id }),
    )
    .await;
    assert_creem_error(&again, 400, "Transaction has already been refunded");
    let unknown = creem_post(
        &sandbox,
        "/v1/refunds",
        &json!({ "transaction_id": "tran_nope" }),
    )
    .await;
    assert_creem_error(&unknown, 404, "Transaction not found");
    let missing = creem_post(&sandbox, "/v1/refunds", &json!({})).await;
    assert_creem_error(&missing, 400, "transaction_id should not be empty");

    let refunds = sandbox.refunds();
    assert_eq!(refunds.len(), 1);
    assert!(refunds[0].id.starts_with("ref_"));
    assert_eq!(refunds[0].payment, transaction_id);
    assert_eq!(refunds[0].amount, 2500);
    assert_eq!(refunds[0].currency, "USD");
    assert_eq!(refunds[0].status, RefundStatus::Succeeded);
    assert_eq!(
        refunds[0].customer,
        checkout["customer"]["id"].as_str().unwrap()
    );

    let events = sent_events(&sandbox, &inbox, 2).await;
    assert_eq!(types(&events), ["checkout.completed", "refund.created"]);
    let refund = &events[1]["object"];
    assert_eq!(refund["id"], refunds[0].id.as_str());
    assert_eq!(refund["object"], "refund");
    assert_eq!(refund["status"], "succeeded");
    assert_eq!(refund["refund_amount"], 2500);
    assert_eq!(refund["refund_currency"], "USD");
    assert_eq!(refund["reason"], "requested_by_customer");
    assert_eq!(refund["transaction"]["id"], transaction_id);
    assert_eq!(refund["transaction"]["status"], "refunded");
    assert_eq!(refund["transaction"]["refunded_amount"], 2500);
    assert_eq!(refund["checkout"]["id"], checkout["id"]);
    assert_eq!(refund["order"]["id"], checkout["order"]["id"]);
    assert_eq!(refund["customer"]["email"], "reader@shop.test");
    assert!(refund.get("subscription").is_none());
    assert!(refund["created_at"].as_i64().unwrap() > 1_000_000_000_000);
}

#[tokio::test]
async fn scheduled_cancel_resume_then_cancel_now_and_refusals() {
    let inbox = WebhookInbox::start().await.unwrap();
    let sandbox = billing_sandbox(&inbox).await;
    let id = subscribe(&sandbox, "prod_basic", "a@shop.test").await;
    let path = |action: &str| format!("/v1/subscriptions/{id}/{action}");

    let active_resume = creem_post(&sandbox, &path("resume"), &json!({})).await;
    assert_creem_error(
        &active_resume,
        400,
        "Cannot resume a subscription with status active",
    );

    let bad_mode = creem_post(&sandbox, &path("cancel"), &json!({ "mode": "later" })).await;
    assert_creem_error(
        &bad_mode,
        400,
        "mode must be one of the following values: immediate, scheduled",
    );

    let scheduled = creem_post(&sandbox, &path("cancel"), &json!({ "mode": "scheduled" })).await;
    assert_eq!(scheduled.status, 200, "{}", scheduled.json);
    assert_eq!(scheduled.json["status"], "scheduled_cancel");
    assert_eq!(scheduled.json["canceled_at"], Value::Null);
    assert!(scheduled.json.get("next_transaction_date").is_none());
    let twice = creem_post(&sandbox, &path("cancel"), &json!({ "mode": "scheduled" })).await;
    assert_creem_error(
        &twice,
        400,
        "Cannot cancel a subscription with status scheduled_cancel",
    );
    assert_eq!(
        sandbox.subscriptions()[0].status,
        SubscriptionStatus::CancelScheduled
    );

    // Creem: resume works from paused or scheduled_cancel and prevents the cancellation.
    let resumed = creem_post(&sandbox, &path("resume"), &json!({})).await;
    assert_eq!(resumed.status, 200, "{}", resumed.json);
    assert_eq!(resumed.json["status"], "active");

    // No body: the store's default mode, immediate.
    let canceled = client()
        .post(format!("{}{}", sandbox.creem_api_base(), path("cancel")))
        .header("x-api-key", sandbox.creem_api_key())
        .send()
        .await
        .unwrap();
    assert_eq!(canceled.status(), 200);
    let canceled: Value = canceled.json().await.unwrap();
    assert_eq!(canceled["status"], "canceled");
    assert!((seconds(&canceled["canceled_at"]) - sandbox.now()).abs() <= 5);

    let again = creem_post(&sandbox, &path("cancel"), &json!({ "mode": "immediate" })).await;
    assert_creem_error(
        &again,
        400,
        "Cannot cancel a subscription with status canceled",
    );
    let pause = creem_post(&sandbox, &path("pause"), &json!({})).await;
    assert_creem_error(
        &pause,
        400,
        "Cannot pause a subscription with status canceled",
    );
    let resume = creem_post(&sandbox, &path("resume"), &json!({})).await;
    assert_creem_error(
        &resume,
        400,
        "Cannot resume a subscription with status canceled",
    );
    let update = creem_post(
        &sandbox,
        &format!("/v1/subscriptions/{id}"),
        &json!({ "items": [] }),
    )
    .await;
    assert_creem_error(
        &update,
        400,
        "Cannot update a subscription with status canceled",
    );
    let unknown = creem_post(&sandbox, "/v1/subscriptions/sub_nope/cancel", &json!({})).await;
    assert_creem_error(&unknown, 404, "Subscription not found");
    assert_eq!(
        sandbox.subscriptions()[0].status,
        SubscriptionStatus::Canceled
    );

    let events = sent_events(&sandbox, &inbox, 6).await;
    assert_eq!(
        types(&events),
        [
            "checkout.completed",
            "subscription.active",
            "subscription.paid",
            "subscription.scheduled_cancel",
            "subscription.update",
            "subscription.canceled"
        ]
    );
    assert_eq!(events[3]["object"]["status"], "scheduled_cancel");
    assert_eq!(events[4]["object"]["status"], "active");
    assert_eq!(events[5]["object"]["status"], "canceled");
    assert_eq!(events[5]["object"]["customer"]["email"], "a@shop.test");
}

#[tokio::test]
async fn pause_and_resume() {
    let inbox = WebhookInbox::start().await.unwrap();
    let sandbox = billing_sandbox(&inbox).await;
    let id = subscribe(&sandbox, "prod_basic", "p@shop.test").await;
    let paused = creem_post(
        &sandbox,
        &format!("/v1/subscriptions/{id}/pause"),
        &json!({}),
    )
    .await;
    assert_eq!(paused.status, 200, "{}", paused.json);
    assert_eq!(paused.json["status"], "paused");
    assert!(paused.json.get("next_transaction_date").is_none());
    let twice = creem_post(
        &sandbox,
        &format!("/v1/subscriptions/{id}/pause"),
        &json!({}),
    )
    .await;
    assert_creem_error(
        &twice,
        400,
        "Cannot pause a subscription with status paused",
    );
    let resumed = creem_post(
        &sandbox,
        &format!("/v1/subscriptions/{id}/resume"),
        &json!({}),
    )
    .await;
    assert_eq!(resumed.json["status"], "active");
    let events = sent_events(&sandbox, &inbox, 5).await;
    assert_eq!(
        types(&events)[3..],
        ["subscription.paused", "subscription.update"]
    );
    assert_eq!(events[3]["object"]["status"], "paused");
}

#[tokio::test]
async fn periods_renew_and_scheduled_cancellations_execute_on_the_sandbox_clock() {
    let inbox = WebhookInbox::start().await.unwrap();
    let sandbox = billing_sandbox(&inbox).await;
    let renewing = subscribe(&sandbox, "prod_basic", "r@shop.test").await;
    let ending = subscribe(&sandbox, "prod_pro", "e@shop.test").await;
    let pausing = subscribe(&sandbox, "prod_eur", "z@shop.test").await;
    let first = creem_get(
        &sandbox,
        &format!("/v1/subscriptions?subscription_id={renewing}"),
    )
    .await
    .json;
    let first_end = seconds(&first["current_period_end_date"]);
    let scheduled = creem_post(
        &sandbox,
        &format!("/v1/subscriptions/{ending}/cancel"),
        &json!({ "mode": "scheduled", "onExecute": "cancel" }),
    )
    .await;
    assert_eq!(scheduled.status, 200);
    let ending_end = seconds(&scheduled.json["current_period_end_date"]);
    let to_pause = creem_post(
        &sandbox,
        &format!("/v1/subscriptions/{pausing}/cancel"),
        &json!({ "mode": "scheduled", "onExecute": "pause" }),
    )
    .await;
    assert_eq!(to_pause.json["status"], "scheduled_cancel");
    assert_eq!(inbox.wait_for(11, WAIT).await.len(), 11);

    sandbox.advance_clock(Duration::from_secs(32 * DAY));

    let renewed = creem_get(
        &sandbox,
        &format!("/v1/subscriptions?subscription_id={renewing}"),
    )
    .await
    .json;
    assert_eq!(renewed["status"], "active");
    assert_eq!(seconds(&renewed["current_period_start_date"]), first_end);
    assert_eq!(
        seconds(&renewed["current_period_end_date"]),
        one_month_after(first_end)
    );
    assert_ne!(renewed["last_transaction_id"], first["last_transaction_id"]);
    let customer = renewed["customer"]["id"].as_str().unwrap();
    let charges = creem_get(
        &sandbox,
        &format!("/v1/transactions/search?customer_id={customer}"),
    )
    .await
    .json;
    assert_eq!(charges["pagination"]["total_records"], 2);
    // Newest first: the renewal, billed for the new period.
    let renewal = &charges["items"][0];
    assert_eq!(renewal["id"], renewed["last_transaction_id"]);
    assert_eq!(renewal["amount_paid"], 1000);
    assert_eq!(renewal["period_start"], first_end * 1000);
    assert_eq!(renewal["created_at"], first_end * 1000);

    let ended = creem_get(
        &sandbox,
        &format!("/v1/subscriptions?subscription_id={ending}"),
    )
    .await
    .json;
    assert_eq!(ended["status"], "canceled");
    assert_eq!(seconds(&ended["canceled_at"]), ending_end);
    let paused = creem_get(
        &sandbox,
        &format!("/v1/subscriptions?subscription_id={pausing}"),
    )
    .await
    .json;
    assert_eq!(paused["status"], "paused");

    let events = sent_events(&sandbox, &inbox, 14).await;
    let later: Vec<(&str, &str)> = events[11..]
        .iter()
        .map(|event| {
            (
                event["eventType"].as_str().unwrap(),
                event["object"]["id"].as_str().unwrap(),
            )
        })
        .collect();
    // Settled oldest period end first: the three periods ended in creation order.
    assert_eq!(
        later,
        [
            ("subscription.paid", renewing.as_str()),
            ("subscription.canceled", ending.as_str()),
            ("subscription.paused", pausing.as_str()),
        ]
    );

    // Forty days on, the renewing subscription bills once more and the paused one not at all;
    // resuming it after its period bills the period it resumes in.
    sandbox.advance_clock(Duration::from_secs(40 * DAY));
    assert_eq!(
        inbox.wait_for(16, Duration::from_millis(500)).await.len(),
        15
    );
    let resumed = creem_post(
        &sandbox,
        &format!("/v1/subscriptions/{pausing}/resume"),
        &json!({}),
    )
    .await;
    assert_eq!(resumed.json["status"], "active");
    let start = seconds(&resumed.json["current_period_start_date"]);
    let end = seconds(&resumed.json["current_period_end_date"]);
    assert!(start <= sandbox.now() && sandbox.now() < end);
    let events = sent_events(&sandbox, &inbox, 17).await;
    assert_eq!(
        types(&events)[15..],
        ["subscription.update", "subscription.paid"]
    );
}

#[tokio::test]
async fn a_trial_starts_trialing_and_bills_when_it_ends() {
    let inbox = WebhookInbox::start().await.unwrap();
    let sandbox = billing_sandbox(&inbox).await;
    let checkout = paid_checkout(&sandbox, "prod_trial", "t@shop.test").await;
    let id = checkout["subscription"]["id"].as_str().unwrap();
    assert_eq!(checkout["subscription"]["status"], "trialing");
    assert_eq!(checkout["order"]["amount_paid"], 0);
    let subscription = creem_get(&sandbox, &format!("/v1/subscriptions?subscription_id={id}"))
        .await
        .json;
    let start = seconds(&subscription["current_period_start_date"]);
    let trial_end = seconds(&subscription["current_period_end_date"]);
    assert_eq!(trial_end - start, 7 * DAY as i64);
    assert!(subscription.get("last_transaction_id").is_none());
    // Nothing was paid: nothing to refund.
    let zero = checkout["order"]["transaction"].as_str().unwrap();
    let refund = creem_post(&sandbox, "/v1/refunds", &json!({ "transaction_id": zero })).await;
    assert_creem_error(&refund, 400, "Transaction has no paid amount to refund");
    assert_eq!(
        sandbox.subscriptions()[0].status,
        SubscriptionStatus::Trialing
    );

    sandbox.advance_clock(Duration::from_secs(8 * DAY));
    let billed = creem_get(&sandbox, &format!("/v1/subscriptions?subscription_id={id}"))
        .await
        .json;
    assert_eq!(billed["status"], "active");
    assert_eq!(seconds(&billed["current_period_start_date"]), trial_end);
    assert_eq!(
        seconds(&billed["current_period_end_date"]),
        one_month_after(trial_end)
    );
    assert_eq!(billed["last_transaction"]["amount_paid"], 2000);
    let events = sent_events(&sandbox, &inbox, 4).await;
    assert_eq!(
        types(&events),
        [
            "checkout.completed",
            "subscription.trialing",
            "subscription.active",
            "subscription.paid"
        ]
    );
}
