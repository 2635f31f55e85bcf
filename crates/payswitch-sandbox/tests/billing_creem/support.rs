//! What the billing tests share: a sandbox with plans for every case, paying checkouts,
//! reading the webhooks in the order they were sent, Creem's error body, and independent
//! recomputations of calendar months and proration.

use std::time::Duration;

use payswitch_sandbox::{ProductSeed, Sandbox, SandboxHandle, WebhookInbox};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::common::*;

pub const WAIT: Duration = Duration::from_secs(10);
pub const DAY: u64 = 24 * 60 * 60;

/// A sandbox whose Creem webhooks go to `inbox`, with plans for every case.
pub async fn billing_sandbox(inbox: &WebhookInbox) -> SandboxHandle {
    Sandbox::builder()
        .creem_webhook_endpoint(inbox.url())
        .product(ProductSeed::recurring("Basic", 1000, "USD", "every-month").with_id("prod_basic"))
        .product(ProductSeed::recurring("Pro", 3000, "USD", "every-month").with_id("prod_pro"))
        .product(ProductSeed::recurring("Yearly", 10000, "USD", "every-year").with_id("prod_year"))
        .product(ProductSeed::recurring("Euro", 1000, "EUR", "every-month").with_id("prod_eur"))
        .product(
            ProductSeed::recurring("Taxed", 1000, "EUR", "every-month")
                .with_id("prod_taxed")
                .with_tax("exclusive", 2100),
        )
        .product(
            ProductSeed::recurring("Trial", 2000, "USD", "every-month")
                .with_id("prod_trial")
                .with_trial_days(7),
        )
        .product(ProductSeed::one_time("Ebook", 2500, "USD").with_id("prod_ebook"))
        .start()
        .await
        .expect("sandbox starts")
}

/// Creates a checkout for `product_id` and pays it as `email`; returns the paid checkout.
pub async fn paid_checkout(sandbox: &SandboxHandle, product_id: &str, email: &str) -> Value {
    let created = creem_post(
        sandbox,
        "/v1/checkouts",
        &json!({ "product_id": product_id, "metadata": { "userId": email } }),
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.json);
    let id = created.json["id"].as_str().unwrap().to_owned();
    sandbox.pay_with_email(&id, None, email).unwrap();
    let paid = creem_get(sandbox, &format!("/v1/checkouts?checkout_id={id}")).await;
    assert_eq!(paid.status, 200);
    paid.json
}

/// Pays a subscription checkout and returns the subscription's id.
pub async fn subscribe(sandbox: &SandboxHandle, product_id: &str, email: &str) -> String {
    let paid = paid_checkout(sandbox, product_id, email).await;
    paid["subscription"]["id"].as_str().unwrap().to_owned()
}

/// Waits for `count` webhooks, checks each one's signature, and returns the events in the
/// order they were sent (by `created_at`).
pub async fn sent_events(
    sandbox: &SandboxHandle,
    inbox: &WebhookInbox,
    count: usize,
) -> Vec<Value> {
    let received = inbox.wait_for(count, WAIT).await;
    assert_eq!(received.len(), count, "webhooks received");
    let mut events: Vec<Value> = received
        .iter()
        .map(|webhook| {
            let signature = webhook.header("creem-signature").unwrap();
            assert_eq!(
                signature,
                hmac_hex(sandbox.creem_webhook_secret(), &webhook.body)
            );
            webhook.json().unwrap()
        })
        .collect();
    events.sort_by_key(|event| event["created_at"].as_i64().unwrap());
    events
}

pub fn types(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|event| event["eventType"].as_str().unwrap())
        .collect()
}

/// Asserts Creem's error body `{trace_id, status, error, message[], timestamp}`.
pub fn assert_creem_error(reply: &Reply, status: u16, message: &str) {
    assert_eq!(reply.status, status, "{}", reply.json);
    assert_eq!(reply.json["status"], status);
    assert_eq!(reply.json["trace_id"].as_str().map(str::len), Some(36));
    assert!(reply.json["error"].is_string());
    assert!(reply.json["timestamp"].is_i64());
    let messages: Vec<&str> = reply.json["message"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        messages.contains(&message),
        "{messages:?} lacks {message:?}"
    );
}

/// PATCHes JSON to a Creem path with the sandbox key.
pub async fn creem_patch(sandbox: &SandboxHandle, path: &str, body: &Value) -> Reply {
    let response = client()
        .patch(format!("{}{path}", sandbox.creem_api_base()))
        .header("x-api-key", sandbox.creem_api_key())
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let json = response.json().await.unwrap();
    Reply {
        status,
        headers,
        json,
    }
}

pub fn seconds(iso: &Value) -> i64 {
    OffsetDateTime::parse(iso.as_str().expect("an ISO time"), &Rfc3339)
        .expect("RFC 3339")
        .unix_timestamp()
}

/// The same time one calendar month later (the day clamped to the month's length).
pub fn one_month_after(at: i64) -> i64 {
    let at = OffsetDateTime::from_unix_timestamp(at).unwrap();
    let (year, month) = match at.month() {
        time::Month::December => (at.year() + 1, time::Month::January),
        month => (at.year(), month.next()),
    };
    let day = at.day().min(month.length(year));
    time::Date::from_calendar_date(year, month, day)
        .unwrap()
        .with_time(at.time())
        .assume_utc()
        .unix_timestamp()
}

/// What a change from `old` to `new` per period costs for `remaining` of `period` seconds,
/// rounded half up: an independent recomputation of Creem's proration.
pub fn prorated(old: i64, new: i64, remaining: i64, period: i64) -> i64 {
    let numerator = i128::from(new - old) * i128::from(remaining);
    ((numerator * 2 + i128::from(period)) / (i128::from(period) * 2)) as i64
}
