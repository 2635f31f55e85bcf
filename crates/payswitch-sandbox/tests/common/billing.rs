//! Helpers for the Stripe billing tests: a sandbox with prices and a coupon, a paid
//! subscription checkout, DELETE, the event log in emission order, and the calendar and
//! proration arithmetic computed independently of the sandbox.

use std::time::Duration;

use payswitch_sandbox::{CouponSeed, PriceSeed, Sandbox, SandboxHandle, WebhookInbox};
use serde_json::Value;
use time::OffsetDateTime;

use super::{client, create_session, stripe_get, stripe_post, Reply};

pub const WAIT: Duration = Duration::from_secs(10);
pub const DAY: i64 = 24 * 60 * 60;

/// A sandbox with Stripe prices: Pro $20/month, Team $50/month, Pro $200/year, a $10 setup
/// fee, and a 10 % forever coupon.
pub async fn billing_sandbox(inbox: Option<&WebhookInbox>) -> SandboxHandle {
    let mut builder = Sandbox::builder()
        .price(
            PriceSeed::recurring("Pro", 2000, "usd", "month")
                .with_id("price_pro")
                .with_product_id("prod_pro"),
        )
        .price(
            PriceSeed::recurring("Team", 5000, "usd", "month")
                .with_id("price_team")
                .with_product_id("prod_team"),
        )
        .price(
            PriceSeed::recurring("Pro", 20000, "usd", "year")
                .with_id("price_pro_yearly")
                .with_product_id("prod_pro"),
        )
        .price(PriceSeed::one_time("Setup", 1000, "usd").with_id("price_setup"))
        .coupon(CouponSeed::percent_off("TEN", 10).with_duration("forever", None));
    if let Some(inbox) = inbox {
        builder = builder.stripe_webhook_endpoint(inbox.url());
    }
    builder.start().await.expect("sandbox starts")
}

/// Creates a subscription-mode session for Pro (plus `extra` form pairs), pays it on the
/// sandbox's behalf as `email`, and returns the completed session.
pub async fn subscribe(sandbox: &SandboxHandle, extra: &str, email: &str) -> Value {
    let body = format!(
        "mode=subscription&success_url=https%3A%2F%2Fshop.test%2Fok\
         &line_items[0][price]=price_pro&line_items[0][quantity]=1{extra}"
    );
    let reply = stripe_post(sandbox, "/v1/checkout/sessions", &body).await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    let id = reply.json["id"].as_str().unwrap().to_owned();
    sandbox.pay_with_email(&id, None, email).unwrap();
    let session = stripe_get(sandbox, &format!("/v1/checkout/sessions/{id}")).await;
    assert_eq!(session.status, 200);
    session.json
}

pub async fn subscription(sandbox: &SandboxHandle, id: &str) -> Value {
    let reply = stripe_get(sandbox, &format!("/v1/subscriptions/{id}")).await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    reply.json
}

/// Sends a DELETE with the sandbox key; `query` carries its parameters, as the SDKs send them.
pub async fn stripe_delete(sandbox: &SandboxHandle, path_and_query: &str) -> Reply {
    let response = client()
        .delete(format!("{}{path_and_query}", sandbox.stripe_api_base()))
        .bearer_auth(sandbox.stripe_secret_key())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    Reply {
        status,
        headers,
        json: serde_json::from_str(&text).unwrap_or(Value::String(text)),
    }
}

/// The events the sandbox emitted, oldest first, from `GET /v1/events`.
pub async fn events(sandbox: &SandboxHandle) -> Vec<Value> {
    let reply = stripe_get(sandbox, "/v1/events?limit=100").await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    let mut events = reply.json["data"].as_array().unwrap().clone();
    events.reverse();
    events
}

pub fn types(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|event| event["type"].as_str().unwrap().to_owned())
        .collect()
}

/// The events emitted since the first `skip`.
pub async fn events_after(sandbox: &SandboxHandle, skip: usize) -> Vec<Value> {
    events(sandbox).await.into_iter().skip(skip).collect()
}

pub fn assert_error(
    reply: &Reply,
    status: u16,
    kind: &str,
    code: Option<&str>,
    param: Option<&str>,
) {
    assert_eq!(reply.status, status, "{}", reply.json);
    let error = &reply.json["error"];
    assert_eq!(error["type"], kind, "{}", reply.json);
    assert_eq!(error["code"].as_str(), code, "{}", reply.json);
    assert_eq!(error["param"].as_str(), param, "{}", reply.json);
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
}

/// One calendar month after `at` (UTC), the day clamped to the month's length: computed here
/// with the `time` crate, independently of the sandbox's calendar.
pub fn one_month_after(at: i64) -> i64 {
    let start = OffsetDateTime::from_unix_timestamp(at).unwrap();
    let (year, month) = match start.month() {
        time::Month::December => (start.year() + 1, time::Month::January),
        month => (start.year(), month.next()),
    };
    let day = start.day().min(time::util::days_in_month(month, year));
    start
        .replace_day(1)
        .unwrap()
        .replace_year(year)
        .unwrap()
        .replace_month(month)
        .unwrap()
        .replace_day(day)
        .unwrap()
        .unix_timestamp()
}

/// `amount × remaining / period`, rounded half away from zero: Stripe's proration of one line.
pub fn prorated(amount: i64, remaining: i64, period: i64) -> i64 {
    let scaled = i128::from(amount) * i128::from(remaining);
    let period = i128::from(period);
    let rounded = if scaled >= 0 {
        (2 * scaled + period) / (2 * period)
    } else {
        (2 * scaled - period) / (2 * period)
    };
    i64::try_from(rounded).unwrap()
}

/// Pays a payment-mode session of $40.00 and returns its PaymentIntent id.
pub async fn paid_payment(sandbox: &SandboxHandle) -> String {
    let id = create_session(sandbox).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    sandbox
        .pay_with_email(&id, None, "shopper@shop.test")
        .unwrap();
    let session = stripe_get(sandbox, &format!("/v1/checkout/sessions/{id}"))
        .await
        .json;
    assert_eq!(session["amount_total"], 4000);
    session["payment_intent"].as_str().unwrap().to_owned()
}

/// Every event the sandbox emitted, oldest first, paging through `GET /v1/events`.
pub async fn all_events(sandbox: &SandboxHandle) -> Vec<Value> {
    let mut newest_first: Vec<Value> = Vec::new();
    loop {
        let path = match newest_first.last() {
            Some(last) => format!(
                "/v1/events?limit=100&starting_after={}",
                last["id"].as_str().unwrap()
            ),
            None => "/v1/events?limit=100".to_owned(),
        };
        let reply = stripe_get(sandbox, &path).await;
        assert_eq!(reply.status, 200, "{}", reply.json);
        newest_first.extend(reply.json["data"].as_array().unwrap().iter().cloned());
        if reply.json["has_more"] != true {
            break;
        }
    }
    newest_first.reverse();
    newest_first
}

/// Moves the sandbox clock to `at` (Unix seconds; a time already passed is a no-op).
pub fn advance_to(sandbox: &SandboxHandle, at: i64) {
    let ahead = at - sandbox.now();
    if ahead > 0 {
        sandbox.advance_clock(Duration::from_secs(u64::try_from(ahead).unwrap()));
    }
}

/// The events of `events` whose object is `id` (or belongs to it, for a subscription's
/// invoices and their payments when `id` is a subscription and `invoices` lists its invoices).
pub fn about<'a>(events: &'a [Value], ids: &[&str]) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|event| {
            let object = &event["data"]["object"];
            let mentions = |field: &str| {
                object[field]
                    .as_str()
                    .is_some_and(|value| ids.contains(&value))
            };
            mentions("id")
                || mentions("subscription")
                || mentions("invoice")
                || object["parent"]["subscription_details"]["subscription"]
                    .as_str()
                    .is_some_and(|value| ids.contains(&value))
        })
        .collect()
}

/// Attaches Stripe's test PaymentMethod `token` (`pm_card_visa`,
/// `pm_card_chargeCustomerFail`) to `customer` and returns the new method's id.
pub async fn attach(sandbox: &SandboxHandle, token: &str, customer: &str) -> String {
    let reply = stripe_post(
        sandbox,
        &format!("/v1/payment_methods/{token}/attach"),
        &format!("customer={customer}"),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    reply.json["id"].as_str().unwrap().to_owned()
}

/// Makes `method` the subscription's `default_payment_method`.
pub async fn use_method(sandbox: &SandboxHandle, subscription: &str, method: &str) {
    let reply = stripe_post(
        sandbox,
        &format!("/v1/subscriptions/{subscription}"),
        &format!("default_payment_method={method}"),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
}

pub async fn invoice(sandbox: &SandboxHandle, id: &str) -> Value {
    let reply = stripe_get(sandbox, &format!("/v1/invoices/{id}")).await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    reply.json
}
