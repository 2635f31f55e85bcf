//! The operations after the checkout on the wire: every subscription, refund, customer and
//! portal call's exact method, path, query, headers and JSON body against wiremock, the
//! normalization of Creem's answers, the error mapping, and every local refusal sending
//! nothing.

mod common;

use common::*;
use payswitch_core::{
    CancelAt, Capabilities, CheckoutProvider, CheckoutProviderExt, Currency, CustomerLookup,
    CustomerRequest, Money, PaymentError, PortalRequest, Product, Proration, RefundReason,
    RefundRequest, RefundStatus, RefundTarget, RetryConfig, SubscriptionChange, SubscriptionStatus,
    APP_USER_ID_KEY,
};
use payswitch_creem::{CreemProvider, USER_AGENT};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const SUBSCRIPTION_ID: &str = "sub_2O4LbygGkNJJ6VrStIZz21";
const ITEM_ID: &str = "sitem_3l8jhRR2jWWhIBbJrKLwPT";
const CUSTOMER_ID: &str = "cust_1OcIK1GEuVvXZwD19tjq2z";
const TRANSACTION_ID: &str = "tran_5yMaWzAl3jxuGJMCOrYWwk";
const ORDER_ID: &str = "ord_4aDwWXjMLpes4Kj4XqNnUA";

fn at(text: &str) -> OffsetDateTime {
    OffsetDateTime::parse(text, &Rfc3339).unwrap()
}

fn fixture_json(name: &str) -> Value {
    serde_json::from_str(&fixture(name)).unwrap()
}

/// The subscription fixture (Creem's `SubscriptionEntity`) with another `status`.
fn subscription(status: &str) -> Value {
    let mut body = fixture_json("subscription_active.json");
    body["status"] = json!(status);
    body
}

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

/// Serves `GET /v1/subscriptions?subscription_id=<id>` with the standard headers, `times`
/// times exactly.
async fn serve_subscription(server: &MockServer, body: Value, times: u64) {
    Mock::given(method("GET"))
        .and(path("/v1/subscriptions"))
        .and(query_param("subscription_id", SUBSCRIPTION_ID))
        .and(header("x-api-key", API_KEY))
        .and(header("user-agent", USER_AGENT))
        .and(header("accept", "application/json"))
        .respond_with(ok(body))
        .expect(times)
        .mount(server)
        .await;
}

/// Expects one POST to `path` with exactly `body` (JSON) and the standard headers.
async fn expect_post(server: &MockServer, at_path: &str, body: Value, answer: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path(at_path))
        .and(header("x-api-key", API_KEY))
        .and(header("user-agent", USER_AGENT))
        .and(header("content-type", "application/json"))
        .and(body_json(body))
        .respond_with(answer)
        .expect(1)
        .mount(server)
        .await;
}

/// Expects one POST to `path` without a body (Creem's pause and resume take none).
async fn expect_bare_post(server: &MockServer, at_path: &str, answer: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path(at_path))
        .and(header("x-api-key", API_KEY))
        .and(header("user-agent", USER_AGENT))
        .respond_with(answer)
        .expect(1)
        .mount(server)
        .await;
}

async fn received(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap()
}

async fn posts(server: &MockServer) -> Vec<Request> {
    received(server)
        .await
        .into_iter()
        .filter(|request| request.method.as_str() == "POST")
        .collect()
}

fn unsupported(outcome: Result<impl std::fmt::Debug, PaymentError>) -> String {
    match outcome {
        Err(PaymentError::Unsupported {
            provider,
            operation,
        }) => {
            assert_eq!(provider, payswitch_creem::KIND);
            operation.into_owned()
        }
        other => panic!("expected Unsupported, got {other:?}"),
    }
}

fn invalid_state(outcome: Result<impl std::fmt::Debug, PaymentError>) -> String {
    match outcome {
        Err(PaymentError::InvalidState { message, .. }) => message,
        other => panic!("expected InvalidState, got {other:?}"),
    }
}

fn invalid_field(outcome: Result<impl std::fmt::Debug, PaymentError>) -> String {
    match outcome {
        Err(error @ PaymentError::InvalidRequest { .. }) => {
            let local = error.is_local();
            let PaymentError::InvalidRequest { field, .. } = error else {
                unreachable!()
            };
            assert!(local, "{field} should be refused locally");
            field
        }
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Subscriptions
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn retrieve_subscription_reads_the_subscription_entity() {
    let server = MockServer::start().await;
    serve_subscription(&server, subscription("active"), 1).await;

    let found = provider(&server)
        .retrieve_subscription(SUBSCRIPTION_ID)
        .await
        .unwrap();

    assert_eq!(found.id, SUBSCRIPTION_ID);
    assert_eq!(found.provider, payswitch_creem::KIND);
    assert_eq!(found.status, SubscriptionStatus::Active);
    assert!(!found.cancel_at_period_end);
    assert!(!found.is_cancel_scheduled());
    assert_eq!(found.customer_id.as_deref(), Some(CUSTOMER_ID));
    assert_eq!(found.items.len(), 1);
    let item = &found.items[0];
    assert_eq!(item.id.as_deref(), Some(ITEM_ID));
    assert_eq!(
        item.product_id.as_deref(),
        Some("prod_6PyZn18alhCSGwhJXHBdQ4")
    );
    assert_eq!(
        item.price_id.as_deref(),
        Some("pprice_4W0mJK6uGiQzHbVhfaFTl1")
    );
    assert_eq!(item.quantity, 3);
    assert_eq!(item.unit_amount, Some(Money::new(1000, Currency::EUR)));
    assert_eq!(found.quantity(), Some(3));
    assert_eq!(found.current_period_start, Some(at("2025-01-10T08:49:07Z")));
    assert_eq!(found.current_period_end, Some(at("2025-02-10T08:49:07Z")));
    assert_eq!(found.created_at, Some(at("2025-01-10T08:49:13.785Z")));
    assert_eq!(found.trial_end, None);
    assert_eq!(found.cancel_at, None);
    assert_eq!(found.canceled_at, None);
    assert_eq!(found.ended_at, None);
    assert_eq!(found.reference, None);
    assert_eq!(
        found.metadata.get("seats_note").map(String::as_str),
        Some("team")
    );
    assert_eq!(
        found.metadata.get("seat_limit").map(String::as_str),
        Some("10")
    );
    assert!(!found.metadata.contains_key("empty"));
    assert_eq!(found.raw["collection_method"], "charge_automatically");

    let requests = received(&server).await;
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].url.query(),
        Some("subscription_id=sub_2O4LbygGkNJJ6VrStIZz21")
    );
    assert!(requests[0].body.is_empty());
}

#[tokio::test]
async fn every_creem_subscription_status_is_mapped() {
    let period_end = at("2025-02-10T08:49:07Z");
    for (creem, status, scheduled) in [
        ("active", SubscriptionStatus::Active, false),
        ("trialing", SubscriptionStatus::Trialing, false),
        ("paused", SubscriptionStatus::Paused, false),
        ("canceled", SubscriptionStatus::Canceled, false),
        ("unpaid", SubscriptionStatus::Unpaid, false),
        ("past_due", SubscriptionStatus::PastDue, false),
        // Creem: payment retries may follow `expired`; only `canceled` is terminal.
        ("expired", SubscriptionStatus::PastDue, false),
        ("scheduled_cancel", SubscriptionStatus::Active, true),
        ("frozen", SubscriptionStatus::Other("frozen".into()), false),
    ] {
        let server = MockServer::start().await;
        let mut body = subscription(creem);
        if creem == "canceled" {
            body["canceled_at"] = json!("2025-01-20T12:00:00.000Z");
        }
        serve_subscription(&server, body, 1).await;
        let found = provider(&server)
            .retrieve_subscription(SUBSCRIPTION_ID)
            .await
            .unwrap();
        assert_eq!(found.status, status, "{creem}");
        assert_eq!(found.cancel_at_period_end, scheduled, "{creem}");
        assert_eq!(found.is_cancel_scheduled(), scheduled, "{creem}");
        assert_eq!(found.cancel_at, scheduled.then_some(period_end), "{creem}");
        assert_eq!(
            found.trial_end,
            (creem == "trialing").then_some(period_end),
            "{creem}"
        );
        let ended = (creem == "canceled").then(|| at("2025-01-20T12:00:00Z"));
        assert_eq!(found.ended_at, ended, "{creem}");
        assert_eq!(found.status.is_ended(), creem == "canceled", "{creem}");
        assert_eq!(found.raw["status"], creem);
    }
}

#[tokio::test]
async fn a_subscription_without_items_units_or_a_known_product_still_decodes() {
    let server = MockServer::start().await;
    let mut body = subscription("active");
    body["product"] = json!("prod_6PyZn18alhCSGwhJXHBdQ4");
    body["customer"] = json!(CUSTOMER_ID);
    body["items"][0]["units"] = Value::Null;
    body["brand_new_field"] = json!({"nested": [1, 2]});
    serve_subscription(&server, body, 1).await;
    let found = provider(&server)
        .retrieve_subscription(SUBSCRIPTION_ID)
        .await
        .unwrap();
    assert_eq!(found.customer_id.as_deref(), Some(CUSTOMER_ID));
    // Units are nullable in Creem's spec: a subscription without seats is one unit.
    assert_eq!(found.items[0].quantity, 1);
    // The product is an id only, so its price is unknown.
    assert_eq!(found.items[0].unit_amount, None);

    let server = MockServer::start().await;
    let mut negative = subscription("active");
    negative["items"][0]["units"] = json!(-2);
    serve_subscription(&server, negative, 1).await;
    assert!(matches!(
        provider(&server)
            .retrieve_subscription(SUBSCRIPTION_ID)
            .await,
        Err(PaymentError::Decode { .. })
    ));
}

fn page(ids_and_dates: &[(&str, &str)], current: u32, next: Option<u32>) -> Value {
    let items: Vec<Value> = ids_and_dates
        .iter()
        .map(|(id, created)| {
            let mut item = subscription("active");
            item["id"] = json!(id);
            item["created_at"] = json!(created);
            item
        })
        .collect();
    json!({
        "items": items,
        "pagination": {
            "total_records": 3, "total_pages": 2, "current_page": current,
            "next_page": next, "prev_page": if current > 1 { json!(current - 1) } else { Value::Null }
        }
    })
}

#[tokio::test]
async fn list_subscriptions_reads_every_page_newest_first() {
    let server = MockServer::start().await;
    for (number, body) in [
        (
            "1",
            page(
                &[
                    ("sub_old", "2024-01-01T00:00:00Z"),
                    ("sub_new", "2025-03-01T00:00:00Z"),
                ],
                1,
                Some(2),
            ),
        ),
        ("2", page(&[("sub_mid", "2024-06-01T00:00:00Z")], 2, None)),
    ] {
        Mock::given(method("GET"))
            .and(path(format!("/v1/customers/{CUSTOMER_ID}/subscriptions")))
            .and(query_param("page_number", number))
            .and(query_param("page_size", "50"))
            .and(header("x-api-key", API_KEY))
            .and(header("user-agent", USER_AGENT))
            .respond_with(ok(body))
            .expect(1)
            .mount(&server)
            .await;
    }

    let listed = provider(&server)
        .list_subscriptions(CUSTOMER_ID)
        .await
        .unwrap();

    let ids: Vec<&str> = listed.iter().map(|found| found.id.as_str()).collect();
    assert_eq!(ids, ["sub_new", "sub_mid", "sub_old"]);
    assert_eq!(received(&server).await.len(), 2);
}

#[tokio::test]
async fn list_subscriptions_of_an_unknown_customer_is_not_found() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/customers/cust_missing/subscriptions"))
        .respond_with(creem_error(404, json!(["Customer not found"])))
        .expect(1)
        .mount(&server)
        .await;
    match provider(&server).list_subscriptions("cust_missing").await {
        Err(PaymentError::NotFound { id, gateway }) => {
            assert_eq!(id, "cust_missing");
            assert_eq!(gateway.unwrap().status, 404);
        }
        other => panic!("expected NotFound, got {other:?}"),
    }
}

#[tokio::test]
async fn a_pagination_that_never_ends_is_bounded() {
    let server = MockServer::start().await;
    // Every page says another follows, each with a new subscription.
    Mock::given(method("GET"))
        .and(path(format!("/v1/customers/{CUSTOMER_ID}/subscriptions")))
        .respond_with(move |request: &Request| {
            let number: u32 = request
                .url
                .query_pairs()
                .find(|(key, _)| key == "page_number")
                .and_then(|(_, value)| value.parse().ok())
                .unwrap_or(1);
            let id = format!("sub_{number}");
            ok(page(
                &[(&id, "2025-01-01T00:00:00Z")],
                number,
                Some(number + 1),
            ))
        })
        .mount(&server)
        .await;
    assert!(matches!(
        provider(&server).list_subscriptions(CUSTOMER_ID).await,
        Err(PaymentError::Decode { .. })
    ));
    assert_eq!(received(&server).await.len(), 50);
}

#[tokio::test]
async fn cancel_at_period_end_sends_the_scheduled_mode() {
    let server = MockServer::start().await;
    serve_subscription(&server, subscription("active"), 1).await;
    expect_post(
        &server,
        &format!("/v1/subscriptions/{SUBSCRIPTION_ID}/cancel"),
        json!({"mode": "scheduled"}),
        ok(subscription("scheduled_cancel")),
    )
    .await;

    let canceled = provider(&server)
        .cancel_subscription(SUBSCRIPTION_ID, CancelAt::PeriodEnd)
        .await
        .unwrap();

    assert_eq!(canceled.status, SubscriptionStatus::Active);
    assert!(canceled.cancel_at_period_end);
    assert_eq!(canceled.cancel_at, Some(at("2025-02-10T08:49:07Z")));
    assert!(canceled.is_cancel_scheduled());
    let requests = received(&server).await;
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].method.as_str(), "GET");
    assert_eq!(requests[1].url.query(), None);
}

#[tokio::test]
async fn cancel_immediately_sends_the_immediate_mode() {
    let server = MockServer::start().await;
    // A scheduled cancellation can still be made immediate.
    serve_subscription(&server, subscription("scheduled_cancel"), 1).await;
    let mut canceled = subscription("canceled");
    canceled["canceled_at"] = json!("2025-01-15T10:30:00.000Z");
    expect_post(
        &server,
        &format!("/v1/subscriptions/{SUBSCRIPTION_ID}/cancel"),
        json!({"mode": "immediate"}),
        ok(canceled),
    )
    .await;

    let canceled = provider(&server)
        .cancel_subscription(SUBSCRIPTION_ID, CancelAt::Immediately)
        .await
        .unwrap();

    assert_eq!(canceled.status, SubscriptionStatus::Canceled);
    assert!(canceled.status.is_ended());
    assert_eq!(canceled.canceled_at, Some(at("2025-01-15T10:30:00Z")));
    assert_eq!(canceled.ended_at, Some(at("2025-01-15T10:30:00Z")));
}

#[tokio::test]
async fn canceling_a_canceled_subscription_is_invalid_state_and_posts_nothing() {
    for at in [CancelAt::PeriodEnd, CancelAt::Immediately] {
        let server = MockServer::start().await;
        serve_subscription(&server, subscription("canceled"), 1).await;
        let message = invalid_state(
            provider(&server)
                .cancel_subscription(SUBSCRIPTION_ID, at)
                .await,
        );
        assert!(message.contains("already canceled"), "{message}");
        assert!(message.contains("\"canceled\""), "{message}");
        assert!(posts(&server).await.is_empty());
    }
}

#[tokio::test]
async fn scheduling_a_cancellation_already_scheduled_returns_it_unchanged() {
    let server = MockServer::start().await;
    serve_subscription(&server, subscription("scheduled_cancel"), 1).await;
    let unchanged = provider(&server)
        .cancel_subscription(SUBSCRIPTION_ID, CancelAt::PeriodEnd)
        .await
        .unwrap();
    assert!(unchanged.cancel_at_period_end);
    assert!(posts(&server).await.is_empty());
}

#[tokio::test]
async fn resume_undoes_a_scheduled_cancellation_and_unpauses() {
    for before in ["scheduled_cancel", "paused"] {
        let server = MockServer::start().await;
        serve_subscription(&server, subscription(before), 1).await;
        expect_bare_post(
            &server,
            &format!("/v1/subscriptions/{SUBSCRIPTION_ID}/resume"),
            ok(subscription("active")),
        )
        .await;

        let resumed = provider(&server)
            .resume_subscription(SUBSCRIPTION_ID)
            .await
            .unwrap();

        assert_eq!(resumed.status, SubscriptionStatus::Active, "{before}");
        assert!(!resumed.cancel_at_period_end, "{before}");
        let sent = posts(&server).await;
        assert!(sent[0].body.is_empty(), "{before}");
        assert!(sent[0].headers.get("content-type").is_none(), "{before}");
    }
}

#[tokio::test]
async fn resuming_what_has_nothing_to_resume_is_invalid_state_and_posts_nothing() {
    for status in [
        "active", "trialing", "past_due", "unpaid", "expired", "canceled",
    ] {
        let server = MockServer::start().await;
        serve_subscription(&server, subscription(status), 1).await;
        let message = invalid_state(provider(&server).resume_subscription(SUBSCRIPTION_ID).await);
        assert!(message.contains(status), "{status}: {message}");
        assert!(posts(&server).await.is_empty(), "{status}");
    }
}

#[tokio::test]
async fn pause_posts_without_a_body_and_a_paused_one_is_left_alone() {
    let server = MockServer::start().await;
    serve_subscription(&server, subscription("active"), 1).await;
    expect_bare_post(
        &server,
        &format!("/v1/subscriptions/{SUBSCRIPTION_ID}/pause"),
        ok(subscription("paused")),
    )
    .await;
    let paused = provider(&server)
        .pause_subscription(SUBSCRIPTION_ID)
        .await
        .unwrap();
    assert_eq!(paused.status, SubscriptionStatus::Paused);
    assert!(posts(&server).await[0].body.is_empty());

    let server = MockServer::start().await;
    serve_subscription(&server, subscription("paused"), 1).await;
    let unchanged = provider(&server)
        .pause_subscription(SUBSCRIPTION_ID)
        .await
        .unwrap();
    assert_eq!(unchanged.status, SubscriptionStatus::Paused);
    assert!(posts(&server).await.is_empty());

    let server = MockServer::start().await;
    serve_subscription(&server, subscription("canceled"), 1).await;
    invalid_state(provider(&server).pause_subscription(SUBSCRIPTION_ID).await);
    assert!(posts(&server).await.is_empty());
}

#[tokio::test]
async fn a_plan_change_is_an_upgrade_with_the_proration_as_update_behavior() {
    for (plan, proration, product_id, behavior) in [
        (
            Product::Sku("pro_monthly".into()),
            Proration::InvoiceNow,
            "prod_pro_monthly",
            "proration-charge-immediately",
        ),
        (
            Product::Native("prod_team".into()),
            Proration::Prorate,
            "prod_team",
            "proration-charge",
        ),
        (
            Product::Native("prod_team".into()),
            Proration::NoProration,
            "prod_team",
            "proration-none",
        ),
    ] {
        let server = MockServer::start().await;
        expect_post(
            &server,
            &format!("/v1/subscriptions/{SUBSCRIPTION_ID}/upgrade"),
            json!({"product_id": product_id, "update_behavior": behavior}),
            ok(subscription("active")),
        )
        .await;
        let changed = provider(&server)
            .change_subscription(SUBSCRIPTION_ID, &SubscriptionChange::plan(plan, proration))
            .await
            .unwrap();
        assert_eq!(changed.id, SUBSCRIPTION_ID);
        // No read first: the upgrade is the whole call.
        assert_eq!(received(&server).await.len(), 1, "{behavior}");
    }
}

#[tokio::test]
async fn a_quantity_change_updates_the_only_item_found_by_a_retrieve() {
    let server = MockServer::start().await;
    serve_subscription(&server, subscription("active"), 1).await;
    let mut updated = subscription("active");
    updated["items"][0]["units"] = json!(5);
    expect_post(
        &server,
        &format!("/v1/subscriptions/{SUBSCRIPTION_ID}"),
        json!({"items": [{"id": ITEM_ID, "units": 5}], "update_behavior": "proration-charge"}),
        ok(updated),
    )
    .await;

    let changed = provider(&server)
        .change_subscription(
            SUBSCRIPTION_ID,
            &SubscriptionChange::quantity(5, Proration::Prorate),
        )
        .await
        .unwrap();

    assert_eq!(changed.quantity(), Some(5));
}

#[tokio::test]
async fn a_quantity_change_of_a_named_item_sends_only_the_update() {
    let server = MockServer::start().await;
    expect_post(
        &server,
        &format!("/v1/subscriptions/{SUBSCRIPTION_ID}"),
        json!({"items": [{"id": "sitem_named", "units": 2}], "update_behavior": "proration-none"}),
        ok(subscription("active")),
    )
    .await;
    provider(&server)
        .change_subscription(
            SUBSCRIPTION_ID,
            &SubscriptionChange::quantity(2, Proration::NoProration).with_item("sitem_named"),
        )
        .await
        .unwrap();
    assert_eq!(received(&server).await.len(), 1);
}

#[tokio::test]
async fn a_quantity_change_on_several_items_needs_the_item_named() {
    let server = MockServer::start().await;
    let mut two = subscription("active");
    two["items"] = json!([
        {"id": "sitem_a", "product_id": "prod_a", "units": 1},
        {"id": "sitem_b", "product_id": "prod_b", "units": 1}
    ]);
    serve_subscription(&server, two, 2).await;
    let change = SubscriptionChange::quantity(4, Proration::Prorate);
    match provider(&server)
        .change_subscription(SUBSCRIPTION_ID, &change)
        .await
    {
        Err(PaymentError::InvalidRequest { field, .. }) => assert_eq!(field, "item_id"),
        other => panic!("expected InvalidRequest on item_id, got {other:?}"),
    }
    // A plan change of one item of several cannot be expressed with Creem's upgrade.
    let plan_of_one =
        SubscriptionChange::plan(Product::Native("prod_c".into()), Proration::Prorate)
            .with_item("sitem_a");
    assert_eq!(
        unsupported(
            provider(&server)
                .change_subscription(SUBSCRIPTION_ID, &plan_of_one)
                .await
        ),
        "change_subscription of one item's plan on a subscription with several items"
    );
    assert!(posts(&server).await.is_empty());
}

#[tokio::test]
async fn plan_and_quantity_together_upgrade_first_then_set_the_units() {
    let server = MockServer::start().await;
    serve_subscription(&server, subscription("active"), 1).await;
    let mut upgraded = subscription("active");
    upgraded["items"][0]["product_id"] = json!("prod_pro_monthly");
    expect_post(
        &server,
        &format!("/v1/subscriptions/{SUBSCRIPTION_ID}/upgrade"),
        json!({"product_id": "prod_pro_monthly", "update_behavior": "proration-charge-immediately"}),
        ok(upgraded.clone()),
    )
    .await;
    let mut seated = upgraded;
    seated["items"][0]["units"] = json!(8);
    expect_post(
        &server,
        &format!("/v1/subscriptions/{SUBSCRIPTION_ID}"),
        json!({"items": [{"id": ITEM_ID, "units": 8}],
               "update_behavior": "proration-charge-immediately"}),
        ok(seated),
    )
    .await;

    let change =
        SubscriptionChange::plan(Product::Sku("pro_monthly".into()), Proration::InvoiceNow)
            .with_quantity(8);
    let changed = provider(&server)
        .change_subscription(SUBSCRIPTION_ID, &change)
        .await
        .unwrap();

    assert_eq!(changed.quantity(), Some(8));
    assert_eq!(
        changed.items[0].product_id.as_deref(),
        Some("prod_pro_monthly")
    );
    let paths: Vec<String> = received(&server)
        .await
        .iter()
        .map(|request| format!("{} {}", request.method, request.url.path()))
        .collect();
    assert_eq!(
        paths,
        [
            "GET /v1/subscriptions".to_owned(),
            format!("POST /v1/subscriptions/{SUBSCRIPTION_ID}/upgrade"),
            format!("POST /v1/subscriptions/{SUBSCRIPTION_ID}"),
        ]
    );
}

#[tokio::test]
async fn repeating_a_half_done_plan_and_quantity_change_skips_the_upgrade() {
    // The plan is already the new one (a first attempt upgraded, then failed on the units).
    let server = MockServer::start().await;
    let mut on_plan = subscription("active");
    on_plan["items"][0]["product_id"] = json!("prod_pro_monthly");
    serve_subscription(&server, on_plan, 1).await;
    expect_post(
        &server,
        &format!("/v1/subscriptions/{SUBSCRIPTION_ID}"),
        json!({"items": [{"id": ITEM_ID, "units": 8}], "update_behavior": "proration-charge"}),
        ok(subscription("active")),
    )
    .await;
    let change = SubscriptionChange::plan(Product::Sku("pro_monthly".into()), Proration::Prorate)
        .with_quantity(8);
    provider(&server)
        .change_subscription(SUBSCRIPTION_ID, &change)
        .await
        .unwrap();
    assert_eq!(posts(&server).await.len(), 1);
}

#[tokio::test]
async fn subscription_changes_refused_locally_send_nothing() {
    let server = MockServer::start().await;
    let provider = provider(&server);

    let unmapped = SubscriptionChange::plan(Product::Sku("enterprise".into()), Proration::Prorate);
    assert_eq!(
        invalid_field(
            provider
                .change_subscription(SUBSCRIPTION_ID, &unmapped)
                .await
        ),
        "plan"
    );
    let stripe_only =
        SubscriptionChange::plan(Product::Sku("stripe_only".into()), Proration::Prorate);
    assert_eq!(
        invalid_field(
            provider
                .change_subscription(SUBSCRIPTION_ID, &stripe_only)
                .await
        ),
        "plan"
    );
    let zero = SubscriptionChange::quantity(0, Proration::Prorate);
    assert_eq!(
        invalid_field(provider.change_subscription(SUBSCRIPTION_ID, &zero).await),
        "quantity"
    );
    let seats = SubscriptionChange::quantity(2, Proration::Prorate);
    assert_eq!(
        invalid_field(provider.change_subscription(" ", &seats).await),
        "id"
    );
    assert_eq!(
        invalid_field(provider.change_subscription("..", &seats).await),
        "id"
    );
    assert_eq!(
        unsupported(
            provider
                .preview_subscription_change(SUBSCRIPTION_ID, &seats)
                .await
        ),
        "preview_subscription_change"
    );
    assert_eq!(
        invalid_field(provider.retrieve_subscription("").await),
        "id"
    );
    assert_eq!(
        invalid_field(provider.cancel_subscription(".", CancelAt::PeriodEnd).await),
        "id"
    );
    assert_eq!(invalid_field(provider.resume_subscription(" ").await), "id");
    assert_eq!(invalid_field(provider.pause_subscription("").await), "id");
    assert_eq!(
        invalid_field(provider.list_subscriptions("").await),
        "customer_id"
    );

    assert!(received(&server).await.is_empty());
}

#[tokio::test]
async fn an_id_is_one_path_segment() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/customers/cust%2F..%2Fx%3Fy/subscriptions"))
        .respond_with(ok(json!({"items": [], "pagination": {"next_page": null}})))
        .expect(1)
        .mount(&server)
        .await;
    let listed = provider(&server)
        .list_subscriptions("cust/../x?y")
        .await
        .unwrap();
    assert!(listed.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Refunds
// ---------------------------------------------------------------------------------------------

async fn serve_transaction(server: &MockServer, body: Value) {
    Mock::given(method("GET"))
        .and(path("/v1/transactions"))
        .and(query_param("transaction_id", body["id"].as_str().unwrap()))
        .and(header("x-api-key", API_KEY))
        .and(header("user-agent", USER_AGENT))
        .respond_with(ok(body))
        .expect(1)
        .mount(server)
        .await;
}

async fn expect_refund(server: &MockServer, transaction_id: &str, answer: Value) {
    expect_post(
        server,
        "/v1/refunds",
        json!({"transaction_id": transaction_id}),
        ok(answer),
    )
    .await;
}

#[tokio::test]
async fn a_transaction_is_refunded_in_full_after_reading_it() {
    let server = MockServer::start().await;
    serve_transaction(&server, fixture_json("transaction_paid.json")).await;
    expect_refund(&server, TRANSACTION_ID, json!({"status": "succeeded"})).await;

    let request = RefundRequest::full(RefundTarget::Payment(TRANSACTION_ID.into()))
        .reason(RefundReason::RequestedByCustomer)
        .metadata("ticket", "T-7")
        .idempotency_key("refund-order-42");
    let refund = provider(&server).create_refund(&request).await.unwrap();

    // Creem's answer holds only the status; the refund is named by its transaction.
    assert_eq!(refund.id, TRANSACTION_ID);
    assert_eq!(refund.provider, payswitch_creem::KIND);
    assert_eq!(refund.status, RefundStatus::Succeeded);
    // What was paid, tax included, less nothing refunded yet.
    assert_eq!(refund.amount, Some(Money::new(1210, Currency::EUR)));
    assert_eq!(refund.payment_id.as_deref(), Some(TRANSACTION_ID));
    assert_eq!(
        refund.subscription_id.as_deref(),
        Some("sub_6pC2lNB6joCRQIZ1aMrTpi")
    );
    assert_eq!(refund.checkout_id, None);
    assert_eq!(refund.reason, None);
    assert!(refund.metadata.is_empty());
    assert_eq!(refund.ignored, ["reason", "metadata", "idempotency_key"]);
    assert_eq!(refund.raw["status"], "succeeded");
}

#[tokio::test]
async fn every_refund_status_is_mapped() {
    for (creem, status) in [
        ("pending", RefundStatus::Pending),
        ("requiresAction", RefundStatus::RequiresAction),
        ("succeeded", RefundStatus::Succeeded),
        ("failed", RefundStatus::Failed),
        ("canceled", RefundStatus::Canceled),
        ("reversed", RefundStatus::Other("reversed".into())),
    ] {
        let server = MockServer::start().await;
        serve_transaction(&server, fixture_json("transaction_paid.json")).await;
        expect_refund(&server, TRANSACTION_ID, json!({"status": creem})).await;
        let refund = provider(&server)
            .create_refund(&RefundRequest::full(RefundTarget::Payment(
                TRANSACTION_ID.into(),
            )))
            .await
            .unwrap();
        assert_eq!(refund.status, status, "{creem}");
        assert!(refund.ignored.is_empty());
    }
}

#[tokio::test]
async fn a_full_refund_object_in_the_answer_is_read() {
    let server = MockServer::start().await;
    let mut partly = fixture_json("transaction_paid.json");
    partly["status"] = json!("partialRefund");
    partly["refunded_amount"] = json!(210);
    serve_transaction(&server, partly).await;
    expect_refund(
        &server,
        TRANSACTION_ID,
        json!({"id": "ref_3DB9NQFvk18TJwSqd0N6bd", "object": "refund", "status": "pending",
               "refund_amount": 1000, "refund_currency": "EUR",
               "transaction": {"id": TRANSACTION_ID, "status": "refunded"},
               "checkout": "ch_4l0N34kxo16AhRKUHFUuXr", "created_at": 1728734351525u64}),
    )
    .await;
    let refund = provider(&server)
        .create_refund(&RefundRequest::full(RefundTarget::Payment(
            TRANSACTION_ID.into(),
        )))
        .await
        .unwrap();
    assert_eq!(refund.id, "ref_3DB9NQFvk18TJwSqd0N6bd");
    assert_eq!(refund.status, RefundStatus::Pending);
    assert_eq!(refund.amount, Some(Money::new(1000, Currency::EUR)));
    assert_eq!(
        refund.checkout_id.as_deref(),
        Some("ch_4l0N34kxo16AhRKUHFUuXr")
    );
    assert_eq!(
        refund.created_at,
        Some(OffsetDateTime::from_unix_timestamp_nanos(1_728_734_351_525_000_000).unwrap())
    );
}

#[tokio::test]
async fn an_order_is_refunded_through_its_transaction() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/transactions/search"))
        .and(query_param("order_id", ORDER_ID))
        .and(query_param("page_size", "50"))
        .and(header("x-api-key", API_KEY))
        .respond_with(ok(json!({
            "items": [fixture_json("transaction_paid.json")],
            "pagination": {"total_records": 1, "total_pages": 1, "current_page": 1,
                           "next_page": null, "prev_page": null}
        })))
        .expect(1)
        .mount(&server)
        .await;
    expect_refund(&server, TRANSACTION_ID, json!({"status": "pending"})).await;

    let refund = provider(&server)
        .create_refund(&RefundRequest::full(RefundTarget::Payment(ORDER_ID.into())))
        .await
        .unwrap();
    assert_eq!(refund.payment_id.as_deref(), Some(TRANSACTION_ID));
    assert_eq!(refund.status, RefundStatus::Pending);
}

#[tokio::test]
async fn a_checkout_is_refunded_through_its_order_transaction() {
    // The checkout's expanded order names its transaction.
    let server = MockServer::start().await;
    serve_checkout(
        &server,
        "ch_1234567890",
        fixture("checkout_completed_openapi.json"),
    )
    .await;
    let mut transaction = fixture_json("transaction_paid.json");
    transaction["id"] = json!("tx_1234567890");
    transaction["currency"] = json!("USD");
    serve_transaction(&server, transaction).await;
    expect_refund(&server, "tx_1234567890", json!({"status": "succeeded"})).await;
    let refund = provider(&server)
        .create_refund(&RefundRequest::full(RefundTarget::Checkout(
            "ch_1234567890".into(),
        )))
        .await
        .unwrap();
    assert_eq!(refund.checkout_id.as_deref(), Some("ch_1234567890"));
    assert_eq!(refund.payment_id.as_deref(), Some("tx_1234567890"));
    assert_eq!(refund.amount, Some(Money::new(1210, Currency::USD)));

    // The checkout names its order only: the order's transactions are searched.
    let server = MockServer::start().await;
    serve_checkout(
        &server,
        "ch_1QyIQDw9cbFWdA1ry5Qc6I",
        fixture("checkout_completed_ids.json"),
    )
    .await;
    let mut transaction = fixture_json("transaction_paid.json");
    transaction["order"] = json!("ord_4ucZ7Ts3r7EhSrl5yQE4G6");
    Mock::given(method("GET"))
        .and(path("/v1/transactions/search"))
        .and(query_param("order_id", "ord_4ucZ7Ts3r7EhSrl5yQE4G6"))
        .respond_with(ok(json!({"items": [transaction], "pagination": null})))
        .expect(1)
        .mount(&server)
        .await;
    expect_refund(&server, TRANSACTION_ID, json!({"status": "succeeded"})).await;
    provider(&server)
        .create_refund(&RefundRequest::full(RefundTarget::Checkout(
            "ch_1QyIQDw9cbFWdA1ry5Qc6I".into(),
        )))
        .await
        .unwrap();

    // A checkout without an order was never paid.
    let server = MockServer::start().await;
    serve_checkout(&server, "ch_open", fixture("checkout_created.json")).await;
    invalid_state(
        provider(&server)
            .create_refund(&RefundRequest::full(RefundTarget::Checkout(
                "ch_open".into(),
            )))
            .await,
    );
    assert!(posts(&server).await.is_empty());
}

#[tokio::test]
async fn refunding_a_refunded_transaction_is_invalid_state_and_posts_nothing() {
    for (status, refunded) in [
        ("refunded", 1210),
        ("paid", 1210),
        ("chargedBack", 0),
        ("pending", 0),
    ] {
        let server = MockServer::start().await;
        let mut transaction = fixture_json("transaction_paid.json");
        transaction["status"] = json!(status);
        transaction["refunded_amount"] = json!(refunded);
        serve_transaction(&server, transaction).await;
        let message = invalid_state(
            provider(&server)
                .create_refund(&RefundRequest::full(RefundTarget::Payment(
                    TRANSACTION_ID.into(),
                )))
                .await,
        );
        assert!(message.contains(TRANSACTION_ID), "{message}");
        assert!(posts(&server).await.is_empty(), "{status}");
    }

    // An order whose only transaction is refunded.
    let server = MockServer::start().await;
    let mut refunded = fixture_json("transaction_paid.json");
    refunded["status"] = json!("refunded");
    Mock::given(method("GET"))
        .and(path("/v1/transactions/search"))
        .respond_with(ok(json!({"items": [refunded]})))
        .mount(&server)
        .await;
    invalid_state(
        provider(&server)
            .create_refund(&RefundRequest::full(RefundTarget::Payment(ORDER_ID.into())))
            .await,
    );
    assert!(posts(&server).await.is_empty());
}

#[tokio::test]
async fn refunds_refused_locally_send_nothing() {
    let server = MockServer::start().await;
    let provider = provider(&server);
    let partial = RefundRequest::partial(
        RefundTarget::Payment(TRANSACTION_ID.into()),
        Money::new(500, Currency::EUR),
    );
    assert_eq!(
        unsupported(provider.create_refund(&partial).await),
        "partial refund (create_refund with an amount)"
    );
    assert_eq!(
        invalid_field(
            provider
                .create_refund(&RefundRequest::full(RefundTarget::Payment(" ".into())))
                .await
        ),
        "target"
    );
    let negative = RefundRequest::partial(
        RefundTarget::Checkout("ch_1".into()),
        Money::new(-5, Currency::EUR),
    );
    assert_eq!(
        invalid_field(provider.create_refund(&negative).await),
        "amount"
    );
    let odd_reason = RefundRequest::full(RefundTarget::Checkout("ch_1".into()))
        .reason(RefundReason::Other("whim".into()));
    assert_eq!(
        invalid_field(provider.create_refund(&odd_reason).await),
        "reason"
    );
    assert!(received(&server).await.is_empty());
}

#[tokio::test]
async fn a_refund_post_is_never_repeated_after_creem_may_have_acted() {
    let server = MockServer::start().await;
    serve_transaction(&server, fixture_json("transaction_paid.json")).await;
    Mock::given(method("POST"))
        .and(path("/v1/refunds"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    match provider(&server)
        .create_refund(&RefundRequest::full(RefundTarget::Payment(
            TRANSACTION_ID.into(),
        )))
        .await
    {
        Err(error @ PaymentError::Provider(_)) => assert_eq!(error.attempts(), Some(1)),
        other => panic!("expected Provider, got {other:?}"),
    }

    // A 429 was refused before processing: repeating it is safe.
    let server = MockServer::start().await;
    serve_transaction(&server, fixture_json("transaction_paid.json")).await;
    Mock::given(method("POST"))
        .and(path("/v1/refunds"))
        .respond_with(creem_error(429, json!(["Too many requests"])))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    expect_refund(&server, TRANSACTION_ID, json!({"status": "succeeded"})).await;
    let refund = provider(&server)
        .create_refund(&RefundRequest::full(RefundTarget::Payment(
            TRANSACTION_ID.into(),
        )))
        .await
        .unwrap();
    assert_eq!(refund.status, RefundStatus::Succeeded);
    assert_eq!(posts(&server).await.len(), 2);
}

#[tokio::test]
async fn the_reads_before_a_refund_are_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/transactions"))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    serve_transaction(&server, fixture_json("transaction_paid.json")).await;
    expect_refund(&server, TRANSACTION_ID, json!({"status": "succeeded"})).await;
    provider(&server)
        .create_refund(&RefundRequest::full(RefundTarget::Payment(
            TRANSACTION_ID.into(),
        )))
        .await
        .unwrap();
    assert_eq!(received(&server).await.len(), 4);
}

// ---------------------------------------------------------------------------------------------
// Customer portal and customers
// ---------------------------------------------------------------------------------------------

const PORTAL_LINK: &str = "https://creem.io/my-orders/login/xxxxxxxxxx";

#[tokio::test]
async fn a_portal_session_is_a_billing_link_and_a_return_url_is_ignored() {
    let server = MockServer::start().await;
    expect_post(
        &server,
        "/v1/customers/billing",
        json!({"customer_id": CUSTOMER_ID}),
        ok(json!({"customer_portal_link": PORTAL_LINK})),
    )
    .await;

    let session = provider(&server)
        .create_portal_session(
            &PortalRequest::new(CUSTOMER_ID).return_url("https://shop.example/account"),
        )
        .await
        .unwrap();

    assert_eq!(session.url, PORTAL_LINK);
    assert_eq!(session.customer_id, CUSTOMER_ID);
    assert_eq!(session.provider, payswitch_creem::KIND);
    assert_eq!(session.return_url, None);
    assert_eq!(session.ignored, ["return_url"]);
    assert!(!format!("{session:?}").contains("my-orders"));

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/customers/billing"))
        .respond_with(ok(json!({"customer_portal_link": ""})))
        .mount(&server)
        .await;
    assert!(matches!(
        provider(&server)
            .create_portal_session(&PortalRequest::new(CUSTOMER_ID))
            .await,
        Err(PaymentError::Decode { .. })
    ));
}

#[tokio::test]
async fn create_customer_sends_email_name_and_the_app_user_id() {
    let server = MockServer::start().await;
    expect_post(
        &server,
        "/v1/customers",
        json!({"email": "ada@example.com", "name": "Ada Lovelace",
               "metadata": {"app_user_id": "user_42", "plan": "team"}}),
        ok(fixture_json("customer.json")),
    )
    .await;

    let request = CustomerRequest::for_app_user("user_42")
        .email("ada@example.com")
        .name("Ada Lovelace")
        .metadata("plan", "team");
    let customer = provider(&server).create_customer(&request).await.unwrap();

    assert_eq!(customer.id, CUSTOMER_ID);
    assert_eq!(customer.provider, payswitch_creem::KIND);
    assert_eq!(customer.email.as_deref(), Some("ada@example.com"));
    assert_eq!(customer.name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(customer.app_user_id.as_deref(), Some("user_42"));
    assert_eq!(
        customer.metadata.get("plan").map(String::as_str),
        Some("team")
    );
    assert!(!customer.metadata.contains_key(APP_USER_ID_KEY));
    assert_eq!(customer.created_at, Some(at("2024-10-11T09:16:48.557Z")));
    assert_eq!(customer.raw["country"], "NL");
}

#[tokio::test]
async fn a_customer_without_a_name_is_named_by_its_email() {
    let server = MockServer::start().await;
    expect_post(
        &server,
        "/v1/customers",
        json!({"email": "ada@example.com", "name": "ada@example.com"}),
        ok(fixture_json("customer.json")),
    )
    .await;
    provider(&server)
        .create_customer(&CustomerRequest::with_email("ada@example.com"))
        .await
        .unwrap();
}

#[tokio::test]
async fn customers_are_retrieved_by_id_and_found_by_email() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/customers"))
        .and(query_param("customer_id", CUSTOMER_ID))
        .and(header("x-api-key", API_KEY))
        .and(header("user-agent", USER_AGENT))
        .respond_with(ok(fixture_json("customer.json")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/customers"))
        .and(query_param("email", "ada@example.com"))
        .and(header("x-api-key", API_KEY))
        .respond_with(ok(fixture_json("customer.json")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/customers"))
        .and(query_param("email", "nobody@example.com"))
        .respond_with(creem_error(404, json!(["Customer not found"])))
        .expect(1)
        .mount(&server)
        .await;
    let provider = provider(&server);

    let by_id = provider.retrieve_customer(CUSTOMER_ID).await.unwrap();
    assert_eq!(by_id.app_user_id.as_deref(), Some("user_42"));
    let by_email = provider
        .find_customer(&CustomerLookup::Email("ada@example.com".into()))
        .await
        .unwrap()
        .expect("found");
    assert_eq!(by_email.id, CUSTOMER_ID);
    let nobody = provider
        .find_customer(&CustomerLookup::Email("nobody@example.com".into()))
        .await
        .unwrap();
    assert!(nobody.is_none());

    let query: Vec<Option<String>> = received(&server)
        .await
        .iter()
        .map(|request| request.url.query().map(str::to_owned))
        .collect();
    assert_eq!(
        query,
        [
            Some(format!("customer_id={CUSTOMER_ID}")),
            Some("email=ada%40example.com".to_owned()),
            Some("email=nobody%40example.com".to_owned()),
        ]
    );
}

#[tokio::test]
async fn ensure_customer_finds_by_email_then_creates() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/customers"))
        .and(query_param("email", "ada@example.com"))
        .respond_with(creem_error(404, json!(["Customer not found"])))
        .expect(1)
        .mount(&server)
        .await;
    expect_post(
        &server,
        "/v1/customers",
        json!({"email": "ada@example.com", "name": "ada@example.com",
               "metadata": {"app_user_id": "user_42"}}),
        ok(fixture_json("customer.json")),
    )
    .await;
    let customer = provider(&server)
        .ensure_customer(&CustomerRequest::for_app_user("user_42").email("ada@example.com"))
        .await
        .unwrap();
    assert_eq!(customer.app_user_id.as_deref(), Some("user_42"));
}

#[tokio::test]
async fn customer_calls_refused_locally_send_nothing() {
    let server = MockServer::start().await;
    let provider = provider(&server);
    assert_eq!(
        unsupported(
            provider
                .find_customer(&CustomerLookup::AppUserId("user_42".into()))
                .await
        ),
        "find_customer by app user id"
    );
    assert_eq!(
        invalid_field(
            provider
                .create_customer(&CustomerRequest::for_app_user("user_42"))
                .await
        ),
        "email"
    );
    assert_eq!(
        invalid_field(
            provider
                .create_customer(&CustomerRequest::with_email("not an email"))
                .await
        ),
        "email"
    );
    assert_eq!(invalid_field(provider.retrieve_customer(" ").await), "id");
    assert_eq!(
        invalid_field(
            provider
                .create_portal_session(&PortalRequest::new(" "))
                .await
        ),
        "customer_id"
    );
    assert_eq!(
        invalid_field(
            provider
                .create_portal_session(&PortalRequest::new(CUSTOMER_ID).return_url("nope"))
                .await
        ),
        "return_url"
    );
    // Without an email, ensure_customer cannot find or create a Creem customer.
    assert_eq!(
        invalid_field(
            provider
                .ensure_customer(&CustomerRequest::for_app_user("user_42"))
                .await
        ),
        "email"
    );
    assert!(received(&server).await.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Errors and capabilities
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn lifecycle_errors_are_mapped_with_the_gateway_details() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/subscriptions"))
        .and(query_param("subscription_id", "sub_missing"))
        .respond_with(creem_error(404, json!(["Subscription not found"])))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/subscriptions"))
        .and(query_param("subscription_id", "sub_forbidden"))
        .respond_with(creem_error(403, Value::Null))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/customers"))
        .respond_with(creem_error(401, json!(["Missing API key"])))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/subscriptions/sub_x/upgrade"))
        .respond_with(creem_error(400, json!(["product_id must be a string"])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/customers/billing"))
        .respond_with(ResponseTemplate::new(500))
        .expect(1)
        .mount(&server)
        .await;
    let provider = provider(&server);

    match provider.retrieve_subscription("sub_missing").await {
        Err(PaymentError::NotFound { id, gateway }) => {
            assert_eq!(id, "sub_missing");
            let details = gateway.unwrap();
            assert_eq!(details.status, 404);
            assert_eq!(
                details.request_id.as_deref(),
                Some("550e8400-e29b-41d4-a716-446655440000")
            );
        }
        other => panic!("expected NotFound, got {other:?}"),
    }
    // The pre-check read fails, so the cancel is never sent.
    assert!(matches!(
        provider
            .cancel_subscription("sub_forbidden", CancelAt::Immediately)
            .await,
        Err(PaymentError::PermissionDenied { .. })
    ));
    match provider.retrieve_customer(CUSTOMER_ID).await {
        Err(error @ PaymentError::Authentication { .. }) => assert_no_key(&error),
        other => panic!("expected Authentication, got {other:?}"),
    }
    match provider
        .change_subscription(
            "sub_x",
            &SubscriptionChange::plan(Product::Native("prod_1".into()), Proration::Prorate),
        )
        .await
    {
        Err(PaymentError::InvalidRequest { field, gateway, .. }) => {
            assert_eq!(field, "plan");
            assert_eq!(gateway.unwrap().status, 400);
        }
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
    match provider
        .create_portal_session(&PortalRequest::new(CUSTOMER_ID))
        .await
    {
        Err(error @ PaymentError::Provider(_)) => assert_eq!(error.attempts(), Some(1)),
        other => panic!("expected Provider, got {other:?}"),
    }
    assert!(posts(&server)
        .await
        .iter()
        .all(|request| request.url.path() != "/v1/subscriptions/sub_forbidden/cancel"));
}

#[tokio::test]
async fn reads_are_retried_and_unreachable_means_nothing_was_sent() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/subscriptions"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    serve_subscription(&server, subscription("active"), 1).await;
    provider(&server)
        .retrieve_subscription(SUBSCRIPTION_ID)
        .await
        .unwrap();

    // Nothing listens on port 9: every attempt fails to connect, and the POST is repeated.
    let offline = CreemProvider::builder(settings("http://127.0.0.1:9"))
        .retry(RetryConfig::immediate(2))
        .build()
        .unwrap();
    match offline
        .create_portal_session(&PortalRequest::new(CUSTOMER_ID))
        .await
    {
        Err(error @ PaymentError::Unreachable { .. }) => {
            assert!(error.proves_nothing_created());
            assert_eq!(error.attempts(), Some(3));
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
}

#[test]
fn capabilities_declare_what_creem_does_after_the_checkout() {
    let capabilities = provider_at("http://127.0.0.1:9", RetryConfig::immediate(0)).capabilities();
    assert_eq!(capabilities, CreemProvider::CAPABILITIES);
    let mut expected = Capabilities::none();
    expected.quantities = true;
    expected.subscription_mode = true;
    expected.discount_codes = true;
    expected.customer_id = true;
    expected.signed_returns = true;
    expected.subscriptions = true;
    expected.cancel_at_period_end = true;
    expected.cancel_immediately = true;
    expected.resume_subscription = true;
    expected.pause_subscription = true;
    expected.change_plan = true;
    expected.change_quantity = true;
    expected.refunds = true;
    expected.customer_portal = true;
    expected.customers = true;
    assert_eq!(capabilities, expected);
    assert!(!capabilities.preview_change);
    assert!(!capabilities.partial_refunds);
    assert!(!capabilities.portal_return_url);
    assert!(!capabilities.find_customer_by_app_user);
}
