//! The lifecycle operations on the wire: the exact method, path, query, headers and form body
//! of every subscription, refund, customer and portal call, Stripe's fixtures decoded, every
//! error mapping, and the local refusals that send nothing.

mod common;

use common::*;
use payswitch_core::{
    CancelAt, CheckoutProvider, CheckoutProviderExt, Currency, CustomerLookup, CustomerRequest,
    Money, PaymentError, PortalRequest, Product, Proration, RefundReason, RefundRequest,
    RefundStatus, RefundTarget, SubscriptionChange, SubscriptionStatus,
};
use serde_json::{json, Value};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const SUB: &str = "sub_1Pgc6rB7WZ01zgkWNy0Cn5nw";
const ITEM: &str = "si_QXhVnC2h0Jczwc";
const CUS: &str = "cus_QXg1o8vcGmoR32";

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("Request-Id", "req_ok")
        .set_body_json(body)
}

fn stripe_error(status: u16, error: Value) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("Request-Id", "req_err")
        .set_body_json(json!({ "error": error }))
}

async fn answer(server: &MockServer, http_method: &str, at: &str, template: ResponseTemplate) {
    Mock::given(method(http_method))
        .and(path(at))
        .respond_with(template)
        .mount(server)
        .await;
}

/// The subscription fixture with a few fields changed.
fn subscription_with(changes: Value) -> Value {
    fixture_with(SUBSCRIPTION, changes)
}

/// An active subscription with nothing paused or scheduled.
fn plain_active() -> Value {
    subscription_with(json!({
        "status": "active",
        "pause_collection": null,
        "cancel_at_period_end": false,
        "cancel_at": null,
        "canceled_at": null,
        "ended_at": null,
    }))
}

fn canceled() -> Value {
    subscription_with(json!({"status": "canceled", "pause_collection": null}))
}

fn assert_request(request: &Request, http_method: &str, at: &str, query: Option<&str>) {
    assert_eq!(request.method.as_str(), http_method);
    assert_eq!(request.url.path(), at);
    assert_eq!(request.url.query(), query);
    assert_common_headers(request, http_method == "POST");
}

fn assert_local<T: std::fmt::Debug>(result: Result<T, PaymentError>, field: &str) {
    match result {
        Err(error @ PaymentError::InvalidRequest { .. }) => {
            assert!(error.is_local(), "{error:?}");
            match error {
                PaymentError::InvalidRequest { field: got, .. } => assert_eq!(got, field),
                other => panic!("{other:?}"),
            }
        }
        other => panic!("expected a local InvalidRequest on {field}, got {other:?}"),
    }
}

// Subscriptions ---------------------------------------------------------------------------

#[tokio::test]
async fn retrieve_subscription_decodes_stripes_fixture() {
    let server = MockServer::start().await;
    answer(
        &server,
        "GET",
        &format!("/v1/subscriptions/{SUB}"),
        ok(fixture(SUBSCRIPTION)),
    )
    .await;
    let stripe = provider(&server.uri());

    let subscription = stripe.retrieve_subscription(SUB).await.unwrap();

    let sent = requests(&server).await;
    assert_eq!(sent.len(), 1);
    assert_request(&sent[0], "GET", &format!("/v1/subscriptions/{SUB}"), None);
    assert_eq!(subscription.id, SUB);
    assert_eq!(subscription.provider, payswitch_stripe::KIND);
    // The fixture is `active` with `pause_collection` set: collection is paused.
    assert_eq!(subscription.status, SubscriptionStatus::Paused);
    assert_eq!(subscription.customer_id.as_deref(), Some(CUS));
    assert_eq!(subscription.items.len(), 1);
    let item = &subscription.items[0];
    assert_eq!(item.id.as_deref(), Some(ITEM));
    assert_eq!(
        item.price_id.as_deref(),
        Some("price_1PgafmB7WZ01zgkW6dKueIc5")
    );
    assert_eq!(item.product_id.as_deref(), Some("prod_QXg1hqf4jFNsqG"));
    assert_eq!(item.quantity, 1);
    assert_eq!(item.unit_amount, Some(Money::new(2000, Currency::USD)));
    // The period is on the item in this version.
    let unix = |time: Option<time::OffsetDateTime>| time.map(|time| time.unix_timestamp());
    assert_eq!(unix(subscription.current_period_start), Some(1_896_570_518));
    assert_eq!(unix(subscription.current_period_end), Some(976_287_773));
    assert_eq!(unix(subscription.trial_end), Some(1_234_567_890));
    assert!(subscription.cancel_at_period_end);
    assert_eq!(unix(subscription.cancel_at), Some(1_234_567_890));
    assert_eq!(unix(subscription.canceled_at), Some(1_234_567_890));
    assert_eq!(unix(subscription.ended_at), Some(1_234_567_890));
    assert_eq!(unix(subscription.created_at), Some(1_234_567_890));
    assert!(subscription.metadata.is_empty());
    assert_eq!(subscription.reference, None);
    assert_eq!(subscription.raw["object"], "subscription");
    assert_eq!(subscription.quantity(), Some(1));
}

#[tokio::test]
async fn the_reference_comes_back_from_the_subscriptions_metadata() {
    let server = MockServer::start().await;
    let body = subscription_with(json!({
        "status": "trialing",
        "metadata": {"payswitch_reference": "order 9", "plan": "pro"},
        "items": {"object": "list", "has_more": false, "data": [
            fixture(SUBSCRIPTION_ITEM),
            fixture_with(SUBSCRIPTION_ITEM, json!({"id": "si_2", "current_period_start": 100, "current_period_end": 2_000_000_000, "quantity": 4})),
        ]},
    }));
    answer(&server, "GET", "/v1/subscriptions/sub_9", ok(body)).await;
    let subscription = provider(&server.uri())
        .retrieve_subscription("sub_9")
        .await
        .unwrap();
    assert_eq!(subscription.status, SubscriptionStatus::Trialing);
    assert_eq!(subscription.reference.as_deref(), Some("order 9"));
    assert_eq!(
        subscription
            .metadata
            .clone()
            .into_iter()
            .collect::<Vec<_>>(),
        vec![("plan".to_owned(), "pro".to_owned())]
    );
    // Several items: the earliest start and the latest end.
    let start = subscription.current_period_start.unwrap().unix_timestamp();
    let end = subscription.current_period_end.unwrap().unix_timestamp();
    assert_eq!((start, end), (100, 2_000_000_000));
    assert_eq!(subscription.quantity(), None);
    assert_eq!(subscription.items[1].quantity, 4);
}

#[tokio::test]
async fn list_subscriptions_follows_the_pages() {
    let server = MockServer::start().await;
    let page = |ids: &[&str], has_more: bool| {
        let data: Vec<Value> = ids
            .iter()
            .map(|id| subscription_with(json!({"id": id})))
            .collect();
        json!({"object": "list", "url": "/v1/subscriptions", "has_more": has_more, "data": data})
    };
    Mock::given(method("GET"))
        .and(path("/v1/subscriptions"))
        .and(query_param("starting_after", "sub_b"))
        .respond_with(ok(page(&["sub_c"], false)))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/subscriptions"))
        .respond_with(ok(page(&["sub_a", "sub_b"], true)))
        .with_priority(2)
        .mount(&server)
        .await;
    let stripe = provider(&server.uri());

    let subscriptions = stripe.list_subscriptions(CUS).await.unwrap();

    let ids: Vec<_> = subscriptions.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["sub_a", "sub_b", "sub_c"]);
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 2);
    let first = format!("customer={CUS}&status=all&limit=100");
    assert_request(&sent[0], "GET", "/v1/subscriptions", Some(&first));
    let second = format!("{first}&starting_after=sub_b");
    assert_request(&sent[1], "GET", "/v1/subscriptions", Some(&second));
}

#[tokio::test]
async fn a_subscription_list_that_does_not_advance_is_a_decode_error() {
    let server = MockServer::start().await;
    let body = json!({"object": "list", "has_more": true, "data": [subscription_with(json!({"id": "sub_a"}))]});
    answer(&server, "GET", "/v1/subscriptions", ok(body)).await;
    let error = provider(&server.uri())
        .list_subscriptions(CUS)
        .await
        .unwrap_err();
    assert!(matches!(error, PaymentError::Decode { .. }), "{error:?}");
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn cancel_at_period_end_posts_the_flag() {
    let server = MockServer::start().await;
    let path_ = format!("/v1/subscriptions/{SUB}");
    answer(
        &server,
        "POST",
        &path_,
        ok(subscription_with(json!({"pause_collection": null}))),
    )
    .await;
    let subscription = provider(&server.uri())
        .cancel_subscription(SUB, CancelAt::PeriodEnd)
        .await
        .unwrap();
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 1);
    assert_request(&sent[0], "POST", &path_, None);
    assert_eq!(body(&sent[0]), "cancel_at_period_end=true");
    assert!(header(&sent[0], "idempotency-key")
        .unwrap()
        .starts_with("payswitch-"));
    assert!(subscription.is_cancel_scheduled());
}

#[tokio::test]
async fn cancel_immediately_deletes() {
    let server = MockServer::start().await;
    let path_ = format!("/v1/subscriptions/{SUB}");
    answer(&server, "DELETE", &path_, ok(canceled())).await;
    let subscription = provider(&server.uri())
        .cancel_subscription(SUB, CancelAt::Immediately)
        .await
        .unwrap();
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 1);
    // No body, no key, no form type: like a GET.
    assert_request(&sent[0], "DELETE", &path_, None);
    assert_eq!(subscription.status, SubscriptionStatus::Canceled);
}

fn no_such_subscription() -> ResponseTemplate {
    stripe_error(
        404,
        json!({
            "type": "invalid_request_error",
            "code": "resource_missing",
            "param": "id",
            "message": format!("No such subscription: '{SUB}'"),
            "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
        }),
    )
}

#[tokio::test]
async fn deleting_a_canceled_subscription_is_an_invalid_state() {
    let server = MockServer::start().await;
    let path_ = format!("/v1/subscriptions/{SUB}");
    answer(&server, "DELETE", &path_, no_such_subscription()).await;
    answer(&server, "GET", &path_, ok(canceled())).await;
    let error = provider(&server.uri())
        .cancel_subscription(SUB, CancelAt::Immediately)
        .await
        .unwrap_err();
    match &error {
        PaymentError::InvalidState {
            message,
            gateway: Some(details),
        } => {
            assert!(message.contains("has ended (canceled)"), "{message}");
            assert_eq!(details.status, 404);
            assert_eq!(details.code.as_deref(), Some("resource_missing"));
            assert_eq!(details.request_id.as_deref(), Some("req_err"));
        }
        other => panic!("unexpected {other:?}"),
    }
    let sent = requests(&server).await;
    let methods: Vec<_> = sent.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(methods, ["DELETE", "GET"]);
}

#[tokio::test]
async fn deleting_a_subscription_that_does_not_exist_stays_not_found() {
    let server = MockServer::start().await;
    let path_ = format!("/v1/subscriptions/{SUB}");
    answer(&server, "DELETE", &path_, no_such_subscription()).await;
    answer(&server, "GET", &path_, no_such_subscription()).await;
    let error = provider(&server.uri())
        .cancel_subscription(SUB, CancelAt::Immediately)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, PaymentError::NotFound { id, .. } if id == SUB),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_delete_whose_first_answer_was_lost_returns_the_canceled_subscription() {
    let server = MockServer::start().await;
    let path_ = format!("/v1/subscriptions/{SUB}");
    // The first attempt canceled it but its answer was a 500; the retry finds nothing.
    Mock::given(method("DELETE"))
        .and(path(path_.as_str()))
        .respond_with(stripe_error(
            500,
            json!({"type": "api_error", "message": "oops"}),
        ))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    answer(&server, "DELETE", &path_, no_such_subscription()).await;
    answer(&server, "GET", &path_, ok(canceled())).await;
    let subscription = provider(&server.uri())
        .cancel_subscription(SUB, CancelAt::Immediately)
        .await
        .unwrap();
    assert_eq!(subscription.status, SubscriptionStatus::Canceled);
    let methods: Vec<_> = requests(&server)
        .await
        .iter()
        .map(|r| r.method.to_string())
        .collect();
    assert_eq!(methods, ["DELETE", "DELETE", "GET"]);
}

fn canceled_update_refused() -> ResponseTemplate {
    stripe_error(
        400,
        json!({
            "type": "invalid_request_error",
            "message": "A canceled subscription can only update its cancellation_details and metadata.",
        }),
    )
}

#[tokio::test]
async fn updating_a_canceled_subscription_is_an_invalid_state() {
    let server = MockServer::start().await;
    let path_ = format!("/v1/subscriptions/{SUB}");
    answer(&server, "POST", &path_, canceled_update_refused()).await;
    answer(&server, "GET", &path_, ok(canceled())).await;
    let stripe = provider(&server.uri());
    for result in [
        stripe.cancel_subscription(SUB, CancelAt::PeriodEnd).await,
        stripe.pause_subscription(SUB).await,
    ] {
        match result {
            Err(PaymentError::InvalidState {
                gateway: Some(details),
                ..
            }) => {
                assert_eq!(details.status, 400);
                assert!(details.message.contains("A canceled subscription"));
                assert_eq!(details.error_type.as_deref(), Some("invalid_request_error"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    // Each refusal cost one GET to tell it from any other 400.
    let methods: Vec<_> = requests(&server)
        .await
        .iter()
        .map(|r| r.method.to_string())
        .collect();
    assert_eq!(methods, ["POST", "GET", "POST", "GET"]);
}

#[tokio::test]
async fn other_refusals_of_a_live_subscription_stay_invalid_requests() {
    let server = MockServer::start().await;
    let path_ = format!("/v1/subscriptions/{SUB}");
    answer(
        &server,
        "POST",
        &path_,
        stripe_error(
            400,
            json!({"type": "invalid_request_error", "param": "pause_collection[behavior]", "message": "Invalid behavior"}),
        ),
    )
    .await;
    answer(&server, "GET", &path_, ok(plain_active())).await;
    let error = provider(&server.uri())
        .pause_subscription(SUB)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, PaymentError::InvalidRequest { field, gateway: Some(_), .. } if field == "pause_collection[behavior]"),
        "{error:?}"
    );
}

#[tokio::test]
async fn pause_voids_the_invoices_of_the_pause() {
    let server = MockServer::start().await;
    let path_ = format!("/v1/subscriptions/{SUB}");
    answer(&server, "POST", &path_, ok(fixture(SUBSCRIPTION))).await;
    let subscription = provider(&server.uri())
        .pause_subscription(SUB)
        .await
        .unwrap();
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 1);
    assert_request(&sent[0], "POST", &path_, None);
    assert_eq!(body(&sent[0]), "pause_collection[behavior]=void");
    assert_eq!(subscription.status, SubscriptionStatus::Paused);
}

/// Resumes a subscription that is `current`, answering the mutation with `plain_active()`.
async fn resume(
    current: Value,
) -> (
    Result<payswitch_core::Subscription, PaymentError>,
    Vec<Request>,
) {
    let server = MockServer::start().await;
    let path_ = format!("/v1/subscriptions/{SUB}");
    answer(&server, "GET", &path_, ok(current)).await;
    answer(&server, "POST", &path_, ok(plain_active())).await;
    answer(
        &server,
        "POST",
        &format!("{path_}/resume"),
        ok(plain_active()),
    )
    .await;
    let result = provider(&server.uri()).resume_subscription(SUB).await;
    (result, requests(&server).await)
}

#[tokio::test]
async fn resume_undoes_paused_collection_and_a_scheduled_cancellation() {
    // The fixture: active, collection paused, cancel_at_period_end.
    let (result, sent) = resume(fixture(SUBSCRIPTION)).await;
    assert_eq!(result.unwrap().status, SubscriptionStatus::Active);
    assert_eq!(sent.len(), 2);
    assert_request(&sent[0], "GET", &format!("/v1/subscriptions/{SUB}"), None);
    assert_request(&sent[1], "POST", &format!("/v1/subscriptions/{SUB}"), None);
    assert_eq!(
        body(&sent[1]),
        "cancel_at_period_end=false&pause_collection="
    );
}

#[tokio::test]
async fn resume_clears_a_cancellation_date() {
    let current = subscription_with(
        json!({"pause_collection": null, "cancel_at_period_end": false, "cancel_at": 1_900_000_000}),
    );
    let (result, sent) = resume(current).await;
    result.unwrap();
    assert_eq!(sent.len(), 2);
    assert_eq!(body(&sent[1]), "cancel_at=");
}

#[tokio::test]
async fn resume_of_a_paused_subscription_uses_the_resume_endpoint() {
    let (result, sent) = resume(subscription_with(json!({"status": "paused"}))).await;
    result.unwrap();
    assert_eq!(sent.len(), 2);
    assert_request(
        &sent[1],
        "POST",
        &format!("/v1/subscriptions/{SUB}/resume"),
        None,
    );
    assert!(sent[1].body.is_empty());
}

#[tokio::test]
async fn nothing_to_resume_sends_no_mutation() {
    for current in [plain_active(), canceled()] {
        let (result, sent) = resume(current).await;
        assert!(
            matches!(
                result,
                Err(PaymentError::InvalidState { gateway: None, .. })
            ),
            "{result:?}"
        );
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].method.as_str(), "GET");
    }
}

/// Changes the fixture subscription (one item), answering the update with the fixture.
async fn change(
    change: SubscriptionChange,
) -> (
    Result<payswitch_core::Subscription, PaymentError>,
    Vec<Request>,
) {
    let server = MockServer::start().await;
    let path_ = format!("/v1/subscriptions/{SUB}");
    answer(&server, "GET", &path_, ok(plain_active())).await;
    answer(&server, "POST", &path_, ok(plain_active())).await;
    let result = provider(&server.uri())
        .change_subscription(SUB, &change)
        .await;
    (result, requests(&server).await)
}

#[tokio::test]
async fn a_plan_change_resolves_the_sku_and_names_the_item() {
    let (result, sent) = change(
        SubscriptionChange::plan(Product::Sku("pro_monthly".into()), Proration::InvoiceNow)
            .with_quantity(5),
    )
    .await;
    result.unwrap();
    assert_eq!(sent.len(), 2);
    assert_request(&sent[0], "GET", &format!("/v1/subscriptions/{SUB}"), None);
    assert_request(&sent[1], "POST", &format!("/v1/subscriptions/{SUB}"), None);
    assert_eq!(
        body(&sent[1]),
        format!("items[0][id]={ITEM}&items[0][price]=price_1Pro&items[0][quantity]=5&proration_behavior=always_invoice")
    );
}

#[tokio::test]
async fn each_proration_has_its_stripe_spelling() {
    let (_, sent) = change(SubscriptionChange::plan(
        Product::Native("price_2".into()),
        Proration::Prorate,
    ))
    .await;
    assert_eq!(
        body(&sent[1]),
        format!("items[0][id]={ITEM}&items[0][price]=price_2&proration_behavior=create_prorations")
    );
    let (_, sent) = change(SubscriptionChange::quantity(3, Proration::NoProration)).await;
    assert_eq!(
        body(&sent[1]),
        format!("items[0][id]={ITEM}&items[0][quantity]=3&proration_behavior=none")
    );
}

#[tokio::test]
async fn changes_refused_locally_send_nothing() {
    let server = MockServer::start().await;
    let stripe = provider(&server.uri());
    let cases = [
        (
            SubscriptionChange::quantity(0, Proration::Prorate),
            "quantity",
        ),
        (
            SubscriptionChange::plan(Product::Sku("unknown".into()), Proration::Prorate),
            "plan",
        ),
        (
            SubscriptionChange::plan(Product::Sku("creem_only".into()), Proration::Prorate),
            "plan",
        ),
        (
            SubscriptionChange::plan(Product::Native(" ".into()), Proration::Prorate),
            "plan",
        ),
    ];
    for (change, field) in cases {
        assert_local(stripe.change_subscription(SUB, &change).await, field);
        assert_local(
            stripe.preview_subscription_change(SUB, &change).await,
            field,
        );
    }
    let quantity = SubscriptionChange::quantity(2, Proration::Prorate);
    assert_local(stripe.change_subscription(" ", &quantity).await, "id");
    assert!(requests(&server).await.is_empty());
}

#[tokio::test]
async fn several_items_need_an_item_id() {
    let server = MockServer::start().await;
    let path_ = format!("/v1/subscriptions/{SUB}");
    let two_items = subscription_with(json!({"items": {"object": "list", "data": [
        fixture(SUBSCRIPTION_ITEM),
        fixture_with(SUBSCRIPTION_ITEM, json!({"id": "si_second"})),
    ]}}));
    answer(&server, "GET", &path_, ok(two_items)).await;
    answer(&server, "POST", &path_, ok(plain_active())).await;
    let stripe = provider(&server.uri());
    let seats = SubscriptionChange::quantity(2, Proration::Prorate);
    let error = stripe.change_subscription(SUB, &seats).await.unwrap_err();
    assert!(
        matches!(&error, PaymentError::InvalidRequest { field, .. } if field == "item_id"),
        "{error:?}"
    );
    assert_eq!(requests(&server).await.len(), 1, "only the GET");
    stripe
        .change_subscription(SUB, &seats.with_item("si_second"))
        .await
        .unwrap();
    let sent = requests(&server).await;
    assert_eq!(
        body(&sent[2]),
        "items[0][id]=si_second&items[0][quantity]=2&proration_behavior=create_prorations"
    );
}

#[tokio::test]
async fn changing_a_canceled_subscription_sends_no_mutation() {
    let server = MockServer::start().await;
    answer(
        &server,
        "GET",
        &format!("/v1/subscriptions/{SUB}"),
        ok(canceled()),
    )
    .await;
    let stripe = provider(&server.uri());
    let seats = SubscriptionChange::quantity(2, Proration::Prorate);
    for result in [
        stripe.change_subscription(SUB, &seats).await.map(|_| ()),
        stripe
            .preview_subscription_change(SUB, &seats)
            .await
            .map(|_| ()),
    ] {
        assert!(
            matches!(result, Err(PaymentError::InvalidState { .. })),
            "{result:?}"
        );
    }
    let sent = requests(&server).await;
    assert!(sent.iter().all(|request| request.method.as_str() == "GET"));
}

#[tokio::test]
async fn preview_posts_the_change_to_create_preview() {
    let server = MockServer::start().await;
    answer(
        &server,
        "GET",
        &format!("/v1/subscriptions/{SUB}"),
        ok(plain_active()),
    )
    .await;
    answer(
        &server,
        "POST",
        "/v1/invoices/create_preview",
        ok(fixture(INVOICE)),
    )
    .await;
    let stripe = provider(&server.uri());
    let change = SubscriptionChange::plan(Product::Sku("pro_monthly".into()), Proration::Prorate);

    let preview = stripe
        .preview_subscription_change(SUB, &change)
        .await
        .unwrap();

    let sent = requests(&server).await;
    assert_eq!(sent.len(), 2);
    assert_request(&sent[1], "POST", "/v1/invoices/create_preview", None);
    assert_eq!(
        body(&sent[1]),
        format!(
            "subscription={SUB}\
             &subscription_details[items][0][id]={ITEM}\
             &subscription_details[items][0][price]=price_1Pro\
             &subscription_details[proration_behavior]=create_prorations"
        )
    );
    assert_eq!(preview.subscription_id, SUB);
    assert_eq!(preview.amount_due, Money::new(1000, Currency::USD));
    assert_eq!(preview.total, Money::new(1000, Currency::USD));
    assert_eq!(preview.raw["object"], "invoice");
}

#[tokio::test]
async fn preview_amounts_follow_stripes_exponent() {
    let server = MockServer::start().await;
    answer(
        &server,
        "GET",
        &format!("/v1/subscriptions/{SUB}"),
        ok(plain_active()),
    )
    .await;
    // Stripe counts ISK in hundredths: 500000 is 5 000 kr.
    let isk = fixture_with(
        INVOICE,
        json!({"currency": "isk", "amount_due": 500_000, "total": 600_000}),
    );
    answer(&server, "POST", "/v1/invoices/create_preview", ok(isk)).await;
    let preview = provider(&server.uri())
        .preview_subscription_change(SUB, &SubscriptionChange::quantity(2, Proration::InvoiceNow))
        .await
        .unwrap();
    let isk = Currency::new("ISK").unwrap();
    assert_eq!(preview.amount_due, Money::new(5000, isk));
    assert_eq!(preview.total, Money::new(6000, isk));
}

#[tokio::test]
async fn every_retried_post_reuses_its_key_and_body() {
    let operations = [
        "cancel_at_period_end",
        "pause",
        "resume",
        "change",
        "preview",
        "portal",
        "customer",
    ];
    for operation in operations {
        let server = MockServer::start().await;
        let (at, answered) = match operation {
            "preview" => ("/v1/invoices/create_preview".to_owned(), fixture(INVOICE)),
            "portal" => (
                "/v1/billing_portal/sessions".to_owned(),
                fixture(PORTAL_SESSION),
            ),
            "customer" => ("/v1/customers".to_owned(), ada_customer()),
            _ => (format!("/v1/subscriptions/{SUB}"), plain_active()),
        };
        answer(
            &server,
            "GET",
            &format!("/v1/subscriptions/{SUB}"),
            ok(fixture(SUBSCRIPTION)),
        )
        .await;
        Mock::given(method("POST"))
            .and(path(at.as_str()))
            .respond_with(stripe_error(
                503,
                json!({"type": "api_error", "message": "busy"}),
            ))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
        answer(&server, "POST", &at, ok(answered)).await;
        let stripe = provider(&server.uri());
        let seats = SubscriptionChange::quantity(2, Proration::Prorate);
        let result = match operation {
            "cancel_at_period_end" => stripe
                .cancel_subscription(SUB, CancelAt::PeriodEnd)
                .await
                .map(drop),
            "pause" => stripe.pause_subscription(SUB).await.map(drop),
            "resume" => stripe.resume_subscription(SUB).await.map(drop),
            "change" => stripe.change_subscription(SUB, &seats).await.map(drop),
            "preview" => stripe
                .preview_subscription_change(SUB, &seats)
                .await
                .map(drop),
            "portal" => stripe
                .create_portal_session(&PortalRequest::new(CUS))
                .await
                .map(drop),
            _ => stripe.create_customer(&ada()).await.map(drop),
        };
        result.unwrap_or_else(|error| panic!("{operation}: {error:?}"));
        let posts: Vec<_> = requests(&server)
            .await
            .into_iter()
            .filter(|request| request.method.as_str() == "POST")
            .collect();
        assert_eq!(posts.len(), 2, "{operation}");
        let key = header(&posts[0], "idempotency-key");
        assert!(key.is_some_and(|key| !key.is_empty()), "{operation}");
        assert_eq!(header(&posts[1], "idempotency-key"), key, "{operation}");
        assert_eq!(posts[0].body, posts[1].body, "{operation}");
        assert_request(&posts[1], "POST", &at, None);
    }
}

// Refunds ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_full_refund_of_a_payment_intent() {
    let server = MockServer::start().await;
    answer(&server, "POST", "/v1/refunds", ok(fixture(REFUND))).await;
    let request =
        RefundRequest::full(RefundTarget::Payment("pi_1".into())).idempotency_key("refund-42");

    let refund = provider(&server.uri())
        .create_refund(&request)
        .await
        .unwrap();

    let sent = requests(&server).await;
    assert_eq!(sent.len(), 1);
    assert_request(&sent[0], "POST", "/v1/refunds", None);
    assert_eq!(header(&sent[0], "idempotency-key"), Some("refund-42"));
    assert_eq!(body(&sent[0]), "payment_intent=pi_1");
    assert_eq!(refund.id, "re_1Pgc72B7WZ01zgkWqPvrRrPE");
    assert_eq!(refund.status, RefundStatus::Succeeded);
    assert_eq!(refund.amount, Some(Money::new(100, Currency::USD)));
    // The fixture's refund has no PaymentIntent: its charge is the payment.
    assert_eq!(
        refund.payment_id.as_deref(),
        Some("ch_1PgafuB7WZ01zgkWXYmPNZs8")
    );
    assert_eq!(refund.reason, None);
    assert_eq!(
        refund.created_at.map(|t| t.unix_timestamp()),
        Some(1_234_567_890)
    );
    assert!(refund.ignored.is_empty());
    assert_eq!(refund.checkout_id, None);
    assert_eq!(refund.raw["object"], "refund");
}

#[tokio::test]
async fn a_partial_refund_of_a_charge_checks_its_currency_first() {
    let server = MockServer::start().await;
    answer(&server, "GET", "/v1/charges/ch_1", ok(fixture(CHARGE))).await;
    let answered = fixture_with(
        REFUND,
        json!({"amount": 500, "reason": "requested_by_customer", "metadata": {"order": "42"}, "status": "pending"}),
    );
    answer(&server, "POST", "/v1/refunds", ok(answered)).await;
    let request = RefundRequest::partial(
        RefundTarget::Payment("ch_1".into()),
        Money::new(500, Currency::USD),
    )
    .reason(RefundReason::RequestedByCustomer)
    .metadata("order", "42");

    let refund = provider(&server.uri())
        .create_refund(&request)
        .await
        .unwrap();

    let sent = requests(&server).await;
    assert_eq!(sent.len(), 2);
    assert_request(&sent[0], "GET", "/v1/charges/ch_1", None);
    assert_request(&sent[1], "POST", "/v1/refunds", None);
    assert_eq!(
        body(&sent[1]),
        "amount=500&charge=ch_1&metadata[order]=42&reason=requested_by_customer"
    );
    assert!(header(&sent[1], "idempotency-key")
        .unwrap()
        .starts_with("payswitch-"));
    assert_eq!(refund.status, RefundStatus::Pending);
    assert_eq!(refund.reason, Some(RefundReason::RequestedByCustomer));
    assert_eq!(refund.metadata.get("order").map(String::as_str), Some("42"));
}

#[tokio::test]
async fn a_retried_refund_reuses_its_key_and_body() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/refunds"))
        .respond_with(stripe_error(
            500,
            json!({"type": "api_error", "message": "oops"}),
        ))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    answer(&server, "POST", "/v1/refunds", ok(fixture(REFUND))).await;
    // No key of its own: one generated for the call, reused by its retry.
    let request = RefundRequest::full(RefundTarget::Payment("pi_1".into()));
    provider(&server.uri())
        .create_refund(&request)
        .await
        .unwrap();
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 2);
    assert_eq!(
        header(&sent[0], "idempotency-key"),
        header(&sent[1], "idempotency-key")
    );
    assert_eq!(sent[0].body, sent[1].body);
    // A second call is a second refund: a new key.
    provider(&server.uri())
        .create_refund(&request)
        .await
        .unwrap();
    let sent = requests(&server).await;
    assert_ne!(
        header(&sent[2], "idempotency-key"),
        header(&sent[0], "idempotency-key")
    );
}

#[tokio::test]
async fn a_payment_checkout_refunds_its_payment_intent() {
    let server = MockServer::start().await;
    let session = session_with(
        json!({"status": "complete", "payment_status": "paid", "currency": "usd", "amount_total": 2000}),
    );
    let session_id = session["id"].as_str().unwrap().to_owned();
    answer(
        &server,
        "GET",
        &format!("/v1/checkout/sessions/{session_id}"),
        ok(session),
    )
    .await;
    answer(&server, "POST", "/v1/refunds", ok(fixture(REFUND))).await;
    let request = RefundRequest::partial(
        RefundTarget::Checkout(session_id.clone()),
        Money::new(700, Currency::USD),
    )
    .reason(RefundReason::Duplicate);

    let refund = provider(&server.uri())
        .create_refund(&request)
        .await
        .unwrap();

    let sent = requests(&server).await;
    assert_eq!(sent.len(), 2);
    assert_request(
        &sent[0],
        "GET",
        &format!("/v1/checkout/sessions/{session_id}"),
        None,
    );
    assert_eq!(
        body(&sent[1]),
        "amount=700&payment_intent=pi_1PgafyB7WZ01zgkWSjxsAJo3&reason=duplicate"
    );
    assert_eq!(refund.checkout_id.as_deref(), Some(session_id.as_str()));
    assert_eq!(refund.subscription_id, None);
}

/// The invoice fixture with one paid payment, as `expand[]=payments` returns it (the
/// `invoice_payment` is the example object of Stripe's API reference).
fn paid_invoice() -> Value {
    fixture_with(
        INVOICE,
        json!({
            "id": "in_1",
            "status": "paid",
            "payments": {"object": "list", "has_more": false, "url": "/v1/invoice_payments", "data": [{
                "id": "inpay_1M3USa2eZvKYlo2CBjuwbq0N",
                "object": "invoice_payment",
                "amount_paid": 2000,
                "amount_requested": 2000,
                "created": 1391288554,
                "currency": "usd",
                "invoice": "in_1",
                "is_default": true,
                "livemode": false,
                "payment": {"type": "payment_intent", "payment_intent": "pi_103Q0w2eZvKYlo2C364X582Z"},
                "status": "paid",
                "status_transitions": {"canceled_at": null, "paid_at": 1391288554},
            }]},
        }),
    )
}

fn subscription_session() -> Value {
    session_with(json!({
        "id": "cs_test_sub",
        "mode": "subscription",
        "status": "complete",
        "payment_status": "paid",
        "payment_intent": null,
        "invoice": "in_1",
        "subscription": SUB,
        "currency": "usd",
    }))
}

#[tokio::test]
async fn a_subscription_checkout_refunds_the_payment_of_its_invoice() {
    let server = MockServer::start().await;
    answer(
        &server,
        "GET",
        "/v1/checkout/sessions/cs_test_sub",
        ok(subscription_session()),
    )
    .await;
    answer(&server, "GET", "/v1/invoices/in_1", ok(paid_invoice())).await;
    answer(&server, "POST", "/v1/refunds", ok(fixture(REFUND))).await;
    let request = RefundRequest::full(RefundTarget::Checkout("cs_test_sub".into()));

    let refund = provider(&server.uri())
        .create_refund(&request)
        .await
        .unwrap();

    let sent = requests(&server).await;
    assert_eq!(sent.len(), 3);
    assert_request(
        &sent[1],
        "GET",
        "/v1/invoices/in_1",
        Some("expand[0]=payments"),
    );
    assert_eq!(body(&sent[2]), "payment_intent=pi_103Q0w2eZvKYlo2C364X582Z");
    assert_eq!(refund.checkout_id.as_deref(), Some("cs_test_sub"));
    assert_eq!(refund.subscription_id.as_deref(), Some(SUB));
}

#[tokio::test]
async fn checkouts_without_a_refundable_payment_send_no_refund() {
    let cases = [
        // Not complete: no invoice yet.
        (
            session_with(
                json!({"id": "cs_x", "mode": "subscription", "invoice": null, "payment_intent": null}),
            ),
            "invalid_state",
        ),
        // Payment mode, never paid.
        (
            session_with(json!({"id": "cs_x", "payment_intent": null})),
            "invalid_state",
        ),
        // Setup mode takes no payment.
        (
            session_with(json!({"id": "cs_x", "mode": "setup", "payment_intent": null})),
            "target",
        ),
    ];
    for (session, expected) in cases {
        let server = MockServer::start().await;
        answer(&server, "GET", "/v1/checkout/sessions/cs_x", ok(session)).await;
        let result = provider(&server.uri())
            .create_refund(&RefundRequest::full(RefundTarget::Checkout("cs_x".into())))
            .await;
        match (expected, &result) {
            ("invalid_state", Err(PaymentError::InvalidState { gateway: None, .. })) => {}
            ("target", Err(PaymentError::InvalidRequest { field, .. })) if field == "target" => {}
            _ => panic!("{expected}: {result:?}"),
        }
        assert_eq!(requests(&server).await.len(), 1, "{expected}");
    }
}

#[tokio::test]
async fn a_refund_in_another_currency_than_the_payment_is_refused() {
    let server = MockServer::start().await;
    answer(
        &server,
        "GET",
        "/v1/checkout/sessions/cs_test_sub",
        ok(subscription_session()),
    )
    .await;
    answer(&server, "GET", "/v1/invoices/in_1", ok(paid_invoice())).await;
    answer(
        &server,
        "GET",
        "/v1/payment_intents/pi_1",
        ok(fixture(PAYMENT_INTENT)),
    )
    .await;
    let stripe = provider(&server.uri());
    for target in [
        RefundTarget::Checkout("cs_test_sub".into()),
        RefundTarget::Payment("pi_1".into()),
    ] {
        let request = RefundRequest::partial(target, Money::new(500, Currency::EUR));
        let error = stripe.create_refund(&request).await.unwrap_err();
        assert!(
            matches!(&error, PaymentError::InvalidRequest { field, gateway: None, .. } if field == "amount"),
            "{error:?}"
        );
    }
    let sent = requests(&server).await;
    assert!(sent.iter().all(|request| request.method.as_str() == "GET"));
}

#[tokio::test]
async fn refunds_refused_locally_send_nothing() {
    let server = MockServer::start().await;
    let stripe = provider(&server.uri());
    let payment = || RefundTarget::Payment("pi_1".into());
    let too_many = (0..51).fold(RefundRequest::full(payment()), |request, index| {
        request.metadata(format!("k{index}"), "v")
    });
    let cases = [
        (
            RefundRequest::full(RefundTarget::Payment(" ".into())),
            "target",
        ),
        (
            RefundRequest::full(RefundTarget::Payment("in_1".into())),
            "target",
        ),
        (
            RefundRequest::partial(payment(), Money::new(0, Currency::USD)),
            "amount",
        ),
        // Stripe writes KWD with three decimals ending in 0.
        (
            RefundRequest::partial(payment(), Money::new(5125, Currency::KWD)),
            "amount",
        ),
        (
            RefundRequest::full(payment()).reason(RefundReason::Other("x".into())),
            "reason",
        ),
        (
            RefundRequest::full(payment()).idempotency_key(""),
            "idempotency_key",
        ),
        (too_many, "metadata"),
    ];
    for (request, field) in cases {
        assert_local(stripe.create_refund(&request).await, field);
    }
    assert!(requests(&server).await.is_empty());
}

#[tokio::test]
async fn refund_errors_keep_stripes_details() {
    let cases = [
        (
            json!({"type": "invalid_request_error", "code": "charge_already_refunded", "message": "Charge ch_1 has already been refunded."}),
            "state",
        ),
        (
            json!({"type": "invalid_request_error", "param": "amount", "message": "Refund amount ($30.00) is greater than unrefunded amount on charge ($20.00)"}),
            "amount",
        ),
    ];
    for (error, expected) in cases {
        let server = MockServer::start().await;
        answer(&server, "POST", "/v1/refunds", stripe_error(400, error)).await;
        let result = provider(&server.uri())
            .create_refund(&RefundRequest::full(RefundTarget::Payment("ch_1".into())))
            .await;
        let error = result.unwrap_err();
        let details = error.gateway().expect("gateway details").clone();
        assert_eq!(details.status, 400);
        assert_eq!(details.request_id.as_deref(), Some("req_err"));
        match expected {
            "state" => {
                assert!(
                    matches!(error, PaymentError::InvalidState { .. }),
                    "{error:?}"
                );
                assert_eq!(details.code.as_deref(), Some("charge_already_refunded"));
            }
            _ => {
                assert!(
                    matches!(&error, PaymentError::InvalidRequest { field, .. } if field == "amount"),
                    "{error:?}"
                );
                assert_eq!(details.param.as_deref(), Some("amount"));
                assert!(details.message.contains("greater than unrefunded amount"));
            }
        }
        // A refusal is final: no retry.
        assert_eq!(requests(&server).await.len(), 1);
    }
}

// Customer portal -------------------------------------------------------------------------

#[tokio::test]
async fn a_portal_session_for_a_customer() {
    let server = MockServer::start().await;
    answer(
        &server,
        "POST",
        "/v1/billing_portal/sessions",
        ok(fixture(PORTAL_SESSION)),
    )
    .await;
    let request = PortalRequest::new(CUS).return_url("https://example.com/account");

    let session = provider(&server.uri())
        .create_portal_session(&request)
        .await
        .unwrap();

    let sent = requests(&server).await;
    assert_eq!(sent.len(), 1);
    assert_request(&sent[0], "POST", "/v1/billing_portal/sessions", None);
    assert_eq!(
        body(&sent[0]),
        format!("customer={CUS}&return_url=https%3A%2F%2Fexample.com%2Faccount")
    );
    assert_eq!(session.customer_id, CUS);
    assert!(session.url.starts_with("https://"));
    assert_eq!(
        session.return_url.as_deref(),
        Some("https://example.com/account")
    );
    assert!(session.ignored.is_empty());
    assert!(!format!("{session:?}").contains(&session.url));
    // Without a return URL, none is sent.
    provider(&server.uri())
        .create_portal_session(&PortalRequest::new(CUS))
        .await
        .unwrap();
    assert_eq!(body(&requests(&server).await[1]), format!("customer={CUS}"));
}

#[tokio::test]
async fn portal_requests_refused_locally_send_nothing() {
    let server = MockServer::start().await;
    let stripe = provider(&server.uri());
    assert_local(
        stripe.create_portal_session(&PortalRequest::new(" ")).await,
        "customer_id",
    );
    assert_local(
        stripe
            .create_portal_session(&PortalRequest::new(CUS).return_url("not a url"))
            .await,
        "return_url",
    );
    assert!(requests(&server).await.is_empty());
}

// Customers -------------------------------------------------------------------------------

fn ada() -> CustomerRequest {
    CustomerRequest::for_app_user("user_42")
        .email("ada@example.com")
        .name("Ada")
        .metadata("tier", "gold")
}

fn ada_customer() -> Value {
    fixture_with(
        CUSTOMER,
        json!({"email": "ada@example.com", "name": "Ada", "metadata": {"app_user_id": "user_42", "tier": "gold"}}),
    )
}

#[tokio::test]
async fn create_customer_sends_the_app_user_id_in_metadata() {
    let server = MockServer::start().await;
    answer(&server, "POST", "/v1/customers", ok(ada_customer())).await;
    let stripe = provider(&server.uri());

    let customer = stripe.create_customer(&ada()).await.unwrap();
    stripe.create_customer(&ada()).await.unwrap();

    let sent = requests(&server).await;
    assert_eq!(sent.len(), 2);
    assert_request(&sent[0], "POST", "/v1/customers", None);
    assert_eq!(
        body(&sent[0]),
        "email=ada%40example.com&metadata[app_user_id]=user_42&metadata[tier]=gold&name=Ada"
    );
    // The key follows the parameters: a repeated create converges on one customer.
    let key = header(&sent[0], "idempotency-key").unwrap();
    assert!(key.starts_with("payswitch-customer-"), "{key}");
    assert_eq!(header(&sent[1], "idempotency-key"), Some(key));
    assert_eq!(customer.id, CUS);
    assert_eq!(customer.email.as_deref(), Some("ada@example.com"));
    assert_eq!(customer.name.as_deref(), Some("Ada"));
    assert_eq!(customer.app_user_id.as_deref(), Some("user_42"));
    assert_eq!(customer.metadata.len(), 1);
    assert_eq!(
        customer.created_at.map(|t| t.unix_timestamp()),
        Some(1_234_567_890)
    );
    assert_eq!(customer.raw["object"], "customer");
}

#[tokio::test]
async fn a_replayed_customer_is_retrieved_and_a_deleted_one_recreated() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/customers"))
        .respond_with(ok(ada_customer()).insert_header("Idempotent-Replayed", "true"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    answer(
        &server,
        "POST",
        "/v1/customers",
        ok(fixture_with(CUSTOMER, json!({"id": "cus_new"}))),
    )
    .await;
    answer(
        &server,
        "GET",
        &format!("/v1/customers/{CUS}"),
        ok(fixture(DELETED_CUSTOMER)),
    )
    .await;

    let customer = provider(&server.uri())
        .create_customer(&ada())
        .await
        .unwrap();

    assert_eq!(customer.id, "cus_new");
    let sent = requests(&server).await;
    let methods: Vec<_> = sent.iter().map(|r| r.method.to_string()).collect();
    assert_eq!(methods, ["POST", "GET", "POST"]);
    assert_eq!(sent[0].body, sent[2].body);
    let derived = header(&sent[0], "idempotency-key").unwrap();
    let fresh = header(&sent[2], "idempotency-key").unwrap();
    assert!(derived.starts_with("payswitch-customer-"));
    assert!(fresh.starts_with("payswitch-") && fresh != derived);
}

#[tokio::test]
async fn retrieve_customer_and_a_deleted_one() {
    let server = MockServer::start().await;
    answer(
        &server,
        "GET",
        &format!("/v1/customers/{CUS}"),
        ok(fixture(CUSTOMER)),
    )
    .await;
    answer(
        &server,
        "GET",
        "/v1/customers/cus_gone",
        ok(fixture_with(DELETED_CUSTOMER, json!({"id": "cus_gone"}))),
    )
    .await;
    let stripe = provider(&server.uri());
    let customer = stripe.retrieve_customer(CUS).await.unwrap();
    assert_eq!(customer.id, CUS);
    assert_eq!(customer.email, None);
    assert_eq!(customer.app_user_id, None);
    let sent = requests(&server).await;
    assert_request(&sent[0], "GET", &format!("/v1/customers/{CUS}"), None);
    let error = stripe.retrieve_customer("cus_gone").await.unwrap_err();
    assert!(
        matches!(&error, PaymentError::NotFound { id, .. } if id == "cus_gone"),
        "{error:?}"
    );
}

#[tokio::test]
async fn find_customer_by_email_lists_one() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/customers"))
        .and(query_param("email", "ada@example.com"))
        .respond_with(ok(
            json!({"object": "list", "has_more": false, "data": [ada_customer()]}),
        ))
        .mount(&server)
        .await;
    answer(
        &server,
        "GET",
        "/v1/customers",
        ok(json!({"object": "list", "has_more": false, "data": []})),
    )
    .await;
    let stripe = provider(&server.uri());

    let found = stripe
        .find_customer(&CustomerLookup::Email("ada@example.com".into()))
        .await
        .unwrap();
    let missing = stripe
        .find_customer(&CustomerLookup::Email("bob@example.com".into()))
        .await
        .unwrap();

    assert_eq!(found.unwrap().app_user_id.as_deref(), Some("user_42"));
    assert!(missing.is_none());
    let sent = requests(&server).await;
    assert_request(
        &sent[0],
        "GET",
        "/v1/customers",
        Some("email=ada%40example.com&limit=1"),
    );
}

#[tokio::test]
async fn find_customer_by_app_user_searches_the_metadata() {
    let server = MockServer::start().await;
    let result = |created: i64, id: &str, user: &str| {
        fixture_with(
            CUSTOMER,
            json!({"id": id, "created": created, "metadata": {"app_user_id": user}}),
        )
    };
    answer(
        &server,
        "GET",
        "/v1/customers/search",
        ok(json!({
            "object": "search_result",
            "url": "/v1/customers/search",
            "has_more": false,
            "next_page": null,
            "data": [result(300, "cus_newer", "o'brien"), result(200, "cus_older", "o'brien"), result(100, "cus_other", "someone")],
        })),
    )
    .await;

    let found = provider(&server.uri())
        .find_customer(&CustomerLookup::AppUserId("o'brien".into()))
        .await
        .unwrap()
        .unwrap();

    // Duplicates (created while search lagged) resolve to the oldest, every time.
    assert_eq!(found.id, "cus_older");
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 1);
    assert_request(
        &sent[0],
        "GET",
        "/v1/customers/search",
        Some("query=metadata%5B%27app_user_id%27%5D%3A%27o%5C%27brien%27&limit=10"),
    );
    let query: Vec<(String, String)> = sent[0].url.query_pairs().into_owned().collect();
    assert_eq!(query[0].1, r"metadata['app_user_id']:'o\'brien'");
}

#[tokio::test]
async fn ensure_customer_searches_then_creates() {
    let server = MockServer::start().await;
    answer(
        &server,
        "GET",
        "/v1/customers/search",
        ok(json!({"object": "search_result", "has_more": false, "data": []})),
    )
    .await;
    answer(&server, "POST", "/v1/customers", ok(ada_customer())).await;
    let customer = provider(&server.uri())
        .ensure_customer(&ada())
        .await
        .unwrap();
    assert_eq!(customer.app_user_id.as_deref(), Some("user_42"));
    let methods: Vec<_> = requests(&server)
        .await
        .iter()
        .map(|r| r.method.to_string())
        .collect();
    assert_eq!(methods, ["GET", "POST"]);
}

#[tokio::test]
async fn customer_requests_refused_locally_send_nothing() {
    let server = MockServer::start().await;
    let stripe = provider(&server.uri());
    let nobody = CustomerRequest::for_app_user(" ");
    assert_local(stripe.create_customer(&nobody).await, "app_user_id");
    assert_local(
        stripe
            .create_customer(
                &CustomerRequest::with_email("x@example.com").metadata("app_user_id", "u"),
            )
            .await,
        "metadata",
    );
    assert_local(stripe.retrieve_customer("").await, "id");
    assert_local(
        stripe
            .find_customer(&CustomerLookup::Email(" ".into()))
            .await,
        "email",
    );
    assert_local(
        stripe
            .find_customer(&CustomerLookup::AppUserId("".into()))
            .await,
        "app_user_id",
    );
    assert_local(stripe.retrieve_subscription(" ").await, "id");
    assert_local(stripe.list_subscriptions("").await, "customer_id");
    assert_local(
        stripe.cancel_subscription("", CancelAt::Immediately).await,
        "id",
    );
    assert_local(stripe.resume_subscription("").await, "id");
    assert_local(stripe.pause_subscription("").await, "id");
    assert!(requests(&server).await.is_empty());
}

// Capabilities ----------------------------------------------------------------------------

#[test]
fn every_lifecycle_capability_is_declared() {
    let capabilities = payswitch_stripe::StripeProvider::CAPABILITIES;
    for (name, supported) in [
        ("subscriptions", capabilities.subscriptions),
        ("cancel_at_period_end", capabilities.cancel_at_period_end),
        ("cancel_immediately", capabilities.cancel_immediately),
        ("resume_subscription", capabilities.resume_subscription),
        ("pause_subscription", capabilities.pause_subscription),
        ("change_plan", capabilities.change_plan),
        ("change_quantity", capabilities.change_quantity),
        ("preview_change", capabilities.preview_change),
        ("refunds", capabilities.refunds),
        ("partial_refunds", capabilities.partial_refunds),
        ("customer_portal", capabilities.customer_portal),
        ("portal_return_url", capabilities.portal_return_url),
        ("customers", capabilities.customers),
        (
            "find_customer_by_app_user",
            capabilities.find_customer_by_app_user,
        ),
    ] {
        assert!(supported, "{name}");
    }
}

#[tokio::test]
async fn no_lifecycle_operation_answers_unsupported() {
    // Every operation against a server that knows nothing: whatever fails, it is never
    // Unsupported (the trait's default).
    let server = MockServer::start().await;
    let stripe = provider_with_retries(&server.uri(), 0);
    let change = SubscriptionChange::quantity(2, Proration::Prorate);
    let results: Vec<Result<(), PaymentError>> = vec![
        stripe.retrieve_subscription(SUB).await.map(drop),
        stripe.list_subscriptions(CUS).await.map(drop),
        stripe
            .cancel_subscription(SUB, CancelAt::PeriodEnd)
            .await
            .map(drop),
        stripe
            .cancel_subscription(SUB, CancelAt::Immediately)
            .await
            .map(drop),
        stripe.resume_subscription(SUB).await.map(drop),
        stripe.pause_subscription(SUB).await.map(drop),
        stripe.change_subscription(SUB, &change).await.map(drop),
        stripe
            .preview_subscription_change(SUB, &change)
            .await
            .map(drop),
        stripe
            .create_refund(&RefundRequest::full(RefundTarget::Payment("pi_1".into())))
            .await
            .map(drop),
        stripe
            .create_portal_session(&PortalRequest::new(CUS))
            .await
            .map(drop),
        stripe.create_customer(&ada()).await.map(drop),
        stripe.retrieve_customer(CUS).await.map(drop),
        stripe
            .find_customer(&CustomerLookup::Email("a@example.com".into()))
            .await
            .map(drop),
    ];
    for result in results {
        assert!(
            !matches!(result, Err(PaymentError::Unsupported { .. })),
            "{result:?}"
        );
    }
}
