//! Declined renewals on the sandbox clock: the renewal test cards, `subscription.expired` and
//! `subscription.past_due`, retries 3, 5 and 7 days later, recovery (`subscription.paid`) or
//! cancellation, and a year of renewals with a taxed, discounted plan.

use std::time::Duration;

use payswitch_sandbox::{SandboxHandle, WebhookInbox};
use serde_json::{json, Value};

use crate::common::*;
use crate::support::*;

/// Pays the checkout, then declines the first charge after it.
const FIRST_RENEWAL_DECLINED: &str = "4000 0099 0000 0012";
/// Pays the checkout, then declines every charge after it.
const RENEWALS_DECLINED: &str = "4000 0099 0000 0004";

/// Pays a checkout for `product_id` with `card` (and `discount_code`); returns the subscription.
async fn subscribe_with(
    sandbox: &SandboxHandle,
    product_id: &str,
    email: &str,
    card: &str,
    discount_code: Option<&str>,
) -> Value {
    let mut body = json!({ "product_id": product_id });
    if let Some(code) = discount_code {
        body["discount_code"] = json!(code);
    }
    let created = creem_post(sandbox, "/v1/checkouts", &body).await;
    assert_eq!(created.status, 200, "{}", created.json);
    let id = created.json["id"].as_str().unwrap();
    sandbox.pay_with_email(id, Some(card), email).unwrap();
    let paid = creem_get(sandbox, &format!("/v1/checkouts?checkout_id={id}")).await;
    let subscription_id = paid.json["subscription"]["id"].as_str().unwrap();
    subscription(sandbox, subscription_id).await
}

async fn subscription(sandbox: &SandboxHandle, id: &str) -> Value {
    let reply = creem_get(sandbox, &format!("/v1/subscriptions?subscription_id={id}")).await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    reply.json
}

/// Every transaction of a customer, newest first.
async fn transactions_of(sandbox: &SandboxHandle, customer_id: &str) -> Vec<Value> {
    let reply = creem_get(
        sandbox,
        &format!("/v1/transactions/search?customer_id={customer_id}&page_size=100"),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    reply.json["items"].as_array().unwrap().clone()
}

/// The id of the subscription an event is about.
fn subscription_of(event: &Value) -> &str {
    let object = &event["object"];
    match object["object"].as_str() {
        Some("checkout") => object["subscription"]["id"].as_str().unwrap(),
        _ => object["id"].as_str().unwrap(),
    }
}

/// `months` calendar months after `anchor`, the day clamped to the month's length (counted
/// from the anchor, as periods are).
fn months_after(anchor: i64, months: u32) -> i64 {
    let at = time::OffsetDateTime::from_unix_timestamp(anchor).unwrap();
    let total = at.year() * 12 + i32::from(u8::from(at.month())) - 1 + months as i32;
    let year = total.div_euclid(12);
    let month = time::Month::try_from(u8::try_from(total.rem_euclid(12) + 1).unwrap()).unwrap();
    let day = at.day().min(month.length(year));
    time::Date::from_calendar_date(year, month, day)
        .unwrap()
        .with_time(at.time())
        .assume_utc()
        .unix_timestamp()
}

/// Moves the clock to `seconds` after `at`.
fn advance_to(sandbox: &SandboxHandle, at: i64, seconds: i64) {
    let by = at + seconds - sandbox.now();
    sandbox.advance_clock(Duration::from_secs(u64::try_from(by.max(0)).unwrap()));
}

#[tokio::test]
async fn a_year_on_the_clock_with_one_declined_renewal_recovered_and_one_not() {
    let inbox = WebhookInbox::start().await.unwrap();
    let sandbox = billing_sandbox(&inbox).await;
    // Three months of 10 % off a plan taxed 21 % on top of its price.
    let discount = creem_post(
        &sandbox,
        "/v1/discounts",
        &json!({
            "name": "Launch", "code": "LAUNCH10", "type": "percentage", "percentage": 10,
            "duration": "repeating", "duration_in_months": 3,
            "applies_to_products": ["prod_taxed"],
        }),
    )
    .await;
    assert_eq!(discount.status, 200, "{}", discount.json);
    let recovering = subscribe_with(
        &sandbox,
        "prod_taxed",
        "recovers@shop.test",
        FIRST_RENEWAL_DECLINED,
        Some("LAUNCH10"),
    )
    .await;
    let lapsing = subscribe_with(
        &sandbox,
        "prod_basic",
        "lapses@shop.test",
        RENEWALS_DECLINED,
        None,
    )
    .await;
    let recovering_id = recovering["id"].as_str().unwrap().to_owned();
    let lapsing_id = lapsing["id"].as_str().unwrap().to_owned();
    // The first period: 1000 − 100 discount = 900, + 21 % tax = 1089.
    assert_eq!(recovering["last_transaction"]["amount_paid"], 1089);
    assert_eq!(recovering["last_transaction"]["tax_amount"], 189);
    let anchor = seconds(&recovering["current_period_start_date"]);
    let lapsing_renewal = seconds(&lapsing["current_period_end_date"]);
    assert_eq!(inbox.wait_for(6, WAIT).await.len(), 6);

    sandbox.advance_clock(Duration::from_secs(367 * DAY));

    let events = sent_events(&sandbox, &inbox, 23).await;
    let labelled: Vec<(&str, &str)> = events
        .iter()
        .map(|event| {
            let who = if subscription_of(event) == recovering_id {
                "recovering"
            } else {
                assert_eq!(subscription_of(event), lapsing_id);
                "lapsing"
            };
            (event["eventType"].as_str().unwrap(), who)
        })
        .collect();
    let mut expected = vec![
        ("checkout.completed", "recovering"),
        ("subscription.active", "recovering"),
        ("subscription.paid", "recovering"),
        ("checkout.completed", "lapsing"),
        ("subscription.active", "lapsing"),
        ("subscription.paid", "lapsing"),
        // The first renewals are declined, in the order the periods ended.
        ("subscription.expired", "recovering"),
        ("subscription.past_due", "recovering"),
        ("subscription.expired", "lapsing"),
        ("subscription.past_due", "lapsing"),
        // Three days on, the first retry pays one and is declined for the other; the
        // other's third retry, seven days after its renewal, ends it.
        ("subscription.paid", "recovering"),
        ("subscription.canceled", "lapsing"),
    ];
    expected.extend([("subscription.paid", "recovering"); 11]);
    assert_eq!(labelled, expected);
    // Clock-driven events are stamped with the time they were due.
    let first_renewal = months_after(anchor, 1);
    assert_eq!(events[6]["created_at"], first_renewal * 1000);
    assert_eq!(
        events[10]["created_at"],
        (first_renewal + 3 * DAY as i64) * 1000
    );
    assert_eq!(
        events[11]["created_at"],
        (lapsing_renewal + 7 * DAY as i64) * 1000
    );
    // `expired` shows the subscription as the period ended; `past_due` after the decline.
    assert_eq!(events[6]["object"]["status"], "active");
    assert_eq!(events[7]["object"]["status"], "past_due");
    assert_eq!(events[10]["object"]["status"], "active");

    let recovered = subscription(&sandbox, &recovering_id).await;
    assert_eq!(recovered["status"], "active");
    assert_eq!(
        seconds(&recovered["current_period_start_date"]),
        months_after(anchor, 12)
    );
    assert_eq!(
        seconds(&recovered["current_period_end_date"]),
        months_after(anchor, 13)
    );
    let customer = recovered["customer"]["id"].as_str().unwrap();
    let charges = transactions_of(&sandbox, customer).await;
    // The checkout's, the declined renewal, its paid retry and eleven renewals.
    assert_eq!(charges.len(), 14);
    let (declined, retry) = (&charges[12], &charges[11]);
    assert_eq!(declined["status"], "declined");
    assert_eq!(declined["amount_paid"], 0);
    assert_eq!(declined["amount"], 1000);
    assert_eq!(declined["order"], Value::Null);
    assert_eq!(retry["status"], "paid");
    assert_eq!(retry["period_start"], first_renewal * 1000);
    assert_eq!(retry["period_end"], months_after(anchor, 2) * 1000);
    assert_eq!(retry["created_at"], (first_renewal + 3 * DAY as i64) * 1000);
    // The discount covers three months, then the full price is taxed: 1000 + 210.
    let paid: Vec<i64> = charges
        .iter()
        .rev()
        .filter(|charge| charge["status"] == "paid")
        .map(|charge| charge["amount_paid"].as_i64().unwrap())
        .collect();
    let mut expected_paid = vec![1089, 1089, 1089];
    expected_paid.extend([1210; 10]);
    assert_eq!(paid, expected_paid);
    let full = &charges[0];
    assert_eq!(
        (
            &full["amount"],
            &full["discount_amount"],
            &full["tax_amount"]
        ),
        (&json!(1000), &json!(0), &json!(210))
    );

    let lapsed = subscription(&sandbox, &lapsing_id).await;
    assert_eq!(lapsed["status"], "canceled");
    assert_eq!(
        seconds(&lapsed["canceled_at"]),
        lapsing_renewal + 7 * DAY as i64
    );
    assert!(lapsed.get("next_transaction_date").is_none());
    let customer = lapsed["customer"]["id"].as_str().unwrap();
    let charges = transactions_of(&sandbox, customer).await;
    let statuses: Vec<&str> = charges
        .iter()
        .map(|charge| charge["status"].as_str().unwrap())
        .collect();
    // Newest first: the third retry, the second, the first, the renewal, the checkout's.
    assert_eq!(
        statuses,
        ["declined", "declined", "declined", "declined", "paid"]
    );
    let retried_at: Vec<i64> = charges[..4]
        .iter()
        .rev()
        .map(|charge| charge["created_at"].as_i64().unwrap() / 1000 - lapsing_renewal)
        .collect();
    assert_eq!(
        retried_at,
        [0, 3 * DAY as i64, 5 * DAY as i64, 7 * DAY as i64]
    );
}

#[tokio::test]
async fn a_past_due_subscription_keeps_its_period_and_can_only_be_canceled() {
    let inbox = WebhookInbox::start().await.unwrap();
    let sandbox = billing_sandbox(&inbox).await;
    let started = subscribe_with(
        &sandbox,
        "prod_basic",
        "late@shop.test",
        RENEWALS_DECLINED,
        None,
    )
    .await;
    let id = started["id"].as_str().unwrap();
    let period_end = seconds(&started["current_period_end_date"]);
    assert_eq!(inbox.wait_for(3, WAIT).await.len(), 3);

    advance_to(&sandbox, period_end, 60);
    let late = subscription(&sandbox, id).await;
    assert_eq!(late["status"], "past_due");
    // The unpaid period stays current, the last paid transaction too; nothing is scheduled to
    // bill, as in Creem's `subscription.past_due` sample.
    assert_eq!(
        late["current_period_end_date"],
        started["current_period_end_date"]
    );
    assert_eq!(late["last_transaction_id"], started["last_transaction_id"]);
    assert!(late.get("next_transaction_date").is_none());
    assert_eq!(
        types(&sent_events(&sandbox, &inbox, 5).await)[3..],
        ["subscription.expired", "subscription.past_due"]
    );

    let paused = creem_post(
        &sandbox,
        &format!("/v1/subscriptions/{id}/pause"),
        &json!({}),
    )
    .await;
    assert_creem_error(
        &paused,
        400,
        "Cannot pause a subscription with status past_due",
    );
    let upgraded = creem_post(
        &sandbox,
        &format!("/v1/subscriptions/{id}/upgrade"),
        &json!({ "product_id": "prod_pro" }),
    )
    .await;
    assert_creem_error(
        &upgraded,
        400,
        "Cannot update a subscription with status past_due",
    );
    let canceled = creem_post(
        &sandbox,
        &format!("/v1/subscriptions/{id}/cancel"),
        &json!({}),
    )
    .await;
    assert_eq!(canceled.status, 200, "{}", canceled.json);
    assert_eq!(canceled.json["status"], "canceled");

    // No retry follows a cancellation.
    sandbox.advance_clock(Duration::from_secs(30 * DAY));
    let events = sent_events(&sandbox, &inbox, 6).await;
    assert_eq!(types(&events)[5], "subscription.canceled");
    assert_eq!(inbox.wait_for(7, Duration::from_millis(500)).await.len(), 6);
    let customer = late["customer"]["id"].as_str().unwrap();
    assert_eq!(transactions_of(&sandbox, customer).await.len(), 2);
}

#[tokio::test]
async fn a_trial_whose_first_charge_is_declined_recovers_on_the_retry() {
    let inbox = WebhookInbox::start().await.unwrap();
    let sandbox = billing_sandbox(&inbox).await;
    let started = subscribe_with(
        &sandbox,
        "prod_trial",
        "trial@shop.test",
        FIRST_RENEWAL_DECLINED,
        None,
    )
    .await;
    let id = started["id"].as_str().unwrap();
    let trial_end = seconds(&started["current_period_end_date"]);
    assert_eq!(started["status"], "trialing");

    advance_to(&sandbox, trial_end, 60);
    assert_eq!(subscription(&sandbox, id).await["status"], "past_due");
    advance_to(&sandbox, trial_end, 3 * DAY as i64 + 60);
    let paying = subscription(&sandbox, id).await;
    assert_eq!(paying["status"], "active");
    assert_eq!(seconds(&paying["current_period_start_date"]), trial_end);
    assert_eq!(
        seconds(&paying["current_period_end_date"]),
        months_after(trial_end, 1)
    );
    let events = sent_events(&sandbox, &inbox, 6).await;
    assert_eq!(
        types(&events),
        [
            "checkout.completed",
            "subscription.trialing",
            "subscription.expired",
            "subscription.past_due",
            "subscription.active",
            "subscription.paid",
        ]
    );
    assert_eq!(events[2]["object"]["status"], "trialing");
}
