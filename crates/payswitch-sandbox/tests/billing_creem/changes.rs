//! Seat and plan changes: `POST /v1/subscriptions/{id}` and `…/upgrade`, with proration in
//! integer cents and the refund of a downgrade's unused time.

use std::time::Duration;

use payswitch_sandbox::WebhookInbox;
use serde_json::json;

use crate::common::*;
use crate::support::*;

#[tokio::test]
async fn seat_changes_prorate_in_integer_cents() {
    let inbox = WebhookInbox::start().await.unwrap();
    let sandbox = billing_sandbox(&inbox).await;
    let id = subscribe(&sandbox, "prod_basic", "seats@shop.test").await;
    sandbox.advance_clock(Duration::from_secs(10 * DAY));
    let before = creem_get(&sandbox, &format!("/v1/subscriptions?subscription_id={id}"))
        .await
        .json;
    let item_id = before["items"][0]["id"].as_str().unwrap().to_owned();
    let start = seconds(&before["current_period_start_date"]);
    let end = seconds(&before["current_period_end_date"]);
    let asked_at = sandbox.now();

    // Default update_behavior: proration-charge, which Creem now charges immediately.
    let updated = creem_post(
        &sandbox,
        &format!("/v1/subscriptions/{id}"),
        &json!({ "items": [{ "id": item_id, "units": 3 }] }),
    )
    .await;
    assert_eq!(updated.status, 200, "{}", updated.json);
    assert_eq!(updated.json["items"][0]["units"], 3);
    assert_eq!(updated.json["items"][0]["id"], item_id.as_str());
    let charge = &updated.json["last_transaction"];
    assert_ne!(charge["id"], before["last_transaction_id"]);
    assert_eq!(charge["status"], "paid");
    assert_eq!(charge["type"], "invoice");
    // 1 000 → 3 000 cents a month, for the share of the period left (the sandbox clock may
    // have ticked a second).
    let expected = [0, 1].map(|late| prorated(1000, 3000, end - asked_at - late, end - start));
    assert!(
        expected.contains(&charge["amount_paid"].as_i64().unwrap()),
        "{charge} vs {expected:?}"
    );
    assert_eq!(charge["period_end"], end * 1000);
    assert_eq!(sandbox.subscriptions()[0].amount, 3000);

    // proration-none changes the seats without a charge.
    let free = creem_post(
        &sandbox,
        &format!("/v1/subscriptions/{id}"),
        &json!({ "items": [{ "id": item_id, "units": 5 }], "update_behavior": "proration-none" }),
    )
    .await;
    assert_eq!(free.json["items"][0]["units"], 5);
    assert_eq!(free.json["last_transaction_id"], charge["id"]);

    let zero = creem_post(
        &sandbox,
        &format!("/v1/subscriptions/{id}"),
        &json!({ "items": [{ "id": item_id, "units": 0 }], "update_behavior": "sometime" }),
    )
    .await;
    assert_creem_error(&zero, 400, "items.0.units must not be less than 1");
    assert_creem_error(
        &zero,
        400,
        "update_behavior must be one of the following values: proration-charge-immediately, proration-charge, proration-none",
    );
    let unknown_item = creem_post(
        &sandbox,
        &format!("/v1/subscriptions/{id}"),
        &json!({ "items": [{ "id": "sitem_nope", "units": 2 }] }),
    )
    .await;
    assert_creem_error(&unknown_item, 404, "Subscription item not found");

    let events = sent_events(&sandbox, &inbox, 5).await;
    assert_eq!(
        types(&events)[3..],
        ["subscription.update", "subscription.update"]
    );
    assert_eq!(events[4]["object"]["items"][0]["units"], 5);
}

#[tokio::test]
async fn upgrades_charge_the_difference_and_refuse_one_time_products() {
    let inbox = WebhookInbox::start().await.unwrap();
    let sandbox = billing_sandbox(&inbox).await;
    let id = subscribe(&sandbox, "prod_basic", "up@shop.test").await;
    let upgrade = |product: &str| {
        let sandbox = &sandbox;
        let path = format!("/v1/subscriptions/{id}/upgrade");
        let body = json!({ "product_id": product });
        async move { creem_post(sandbox, &path, &body).await }
    };

    let one_time = upgrade("prod_ebook").await;
    assert_creem_error(
        &one_time,
        400,
        "Product prod_ebook is not a recurring product",
    );
    let unknown = upgrade("prod_nope").await;
    assert_creem_error(&unknown, 404, "Product not found");
    let same = upgrade("prod_basic").await;
    assert_creem_error(&same, 400, "Subscription is already on product prod_basic");
    let other_currency = upgrade("prod_eur").await;
    assert_creem_error(
        &other_currency,
        400,
        "Product prod_eur is in EUR, the subscription in USD",
    );
    let missing = creem_post(
        &sandbox,
        &format!("/v1/subscriptions/{id}/upgrade"),
        &json!({}),
    )
    .await;
    assert_creem_error(&missing, 400, "product_id should not be empty");

    let before = creem_get(&sandbox, &format!("/v1/subscriptions?subscription_id={id}"))
        .await
        .json;
    let (start, end) = (
        seconds(&before["current_period_start_date"]),
        seconds(&before["current_period_end_date"]),
    );
    let asked_at = sandbox.now();
    let pro = upgrade("prod_pro").await;
    assert_eq!(pro.status, 200, "{}", pro.json);
    assert_eq!(pro.json["product"]["id"], "prod_pro");
    assert_eq!(pro.json["items"].as_array().unwrap().len(), 1);
    assert_eq!(pro.json["items"][0]["product_id"], "prod_pro");
    // The billing date does not move.
    assert_eq!(
        pro.json["current_period_end_date"],
        before["current_period_end_date"]
    );
    let charged = pro.json["last_transaction"]["amount_paid"]
        .as_i64()
        .unwrap();
    let expected = [0, 1, 2].map(|late| prorated(1000, 3000, end - asked_at - late, end - start));
    assert!(expected.contains(&charged), "{charged} vs {expected:?}");

    // Ten days later, back down: the unused difference goes back to the last payment.
    sandbox.advance_clock(Duration::from_secs(10 * DAY));
    let basic = upgrade("prod_basic").await;
    assert_eq!(basic.status, 200, "{}", basic.json);
    let upgrade_charge = creem_get(
        &sandbox,
        &format!(
            "/v1/transactions?transaction_id={}",
            pro.json["last_transaction_id"].as_str().unwrap()
        ),
    )
    .await
    .json;
    assert_eq!(upgrade_charge["status"], "partialRefund");
    let refunded = upgrade_charge["refunded_amount"].as_i64().unwrap();
    assert!(
        refunded > 0 && refunded <= charged,
        "{refunded} of {charged}"
    );
    // What is left can still be refunded, once.
    let rest = creem_post(
        &sandbox,
        "/v1/refunds",
        &json!({ "transaction_id": pro.json["last_transaction_id"] }),
    )
    .await;
    assert_eq!(rest.status, 200);
    let refunds = sandbox.refunds();
    assert_eq!(refunds.len(), 2);
    assert_eq!(
        refunds.iter().map(|refund| refund.amount).sum::<i64>(),
        charged
    );

    let events = sent_events(&sandbox, &inbox, 7).await;
    assert_eq!(
        types(&events)[3..],
        [
            "subscription.update",
            "refund.created",
            "subscription.update",
            "refund.created"
        ]
    );
    assert_eq!(events[3]["object"]["product"]["id"], "prod_pro");
}

#[tokio::test]
async fn a_change_of_billing_period_starts_a_new_period() {
    let inbox = WebhookInbox::start().await.unwrap();
    let sandbox = billing_sandbox(&inbox).await;
    let id = subscribe(&sandbox, "prod_basic", "year@shop.test").await;
    let yearly = creem_post(
        &sandbox,
        &format!("/v1/subscriptions/{id}/upgrade"),
        &json!({ "product_id": "prod_year", "update_behavior": "proration-charge-immediately" }),
    )
    .await;
    assert_eq!(yearly.status, 200, "{}", yearly.json);
    let start = seconds(&yearly.json["current_period_start_date"]);
    let end = seconds(&yearly.json["current_period_end_date"]);
    assert!((start - sandbox.now()).abs() <= 2);
    assert!((365 * DAY as i64..=366 * DAY as i64).contains(&(end - start)));
    // A year, less the month just paid for (almost all unused).
    let charged = yearly.json["last_transaction"]["amount_paid"]
        .as_i64()
        .unwrap();
    assert!((8999..=9001).contains(&charged), "{charged}");
}
