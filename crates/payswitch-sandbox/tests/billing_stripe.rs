//! Stripe subscriptions in the sandbox over HTTP: what a paid subscription checkout creates,
//! the lifecycle (cancel at period end, resume, cancel now, pause, pause collection, trials,
//! renewals on the sandbox clock, calendar-correct periods), listing, and the events each
//! step emits, in order. Prorations are in `prorations_stripe.rs`.

mod common;

use std::time::Duration;

use common::billing::*;
use common::*;
use payswitch_sandbox::{Gateway, SubscriptionStatus, WebhookInbox};
use serde_json::Value;
use time::OffsetDateTime;

#[tokio::test]
async fn a_paid_subscription_checkout_creates_the_customer_subscription_and_paid_invoice() {
    let inbox = WebhookInbox::start().await.unwrap();
    let sandbox = billing_sandbox(Some(&inbox)).await;
    let session = subscribe(&sandbox, "", "buyer@shop.test").await;
    assert_eq!(session["status"], "complete");
    assert_eq!(session["payment_status"], "paid");
    assert_eq!(session["payment_intent"], Value::Null);
    let customer_id = session["customer"].as_str().unwrap();
    let subscription_id = session["subscription"].as_str().unwrap();
    let invoice_id = session["invoice"].as_str().unwrap();
    assert!(customer_id.starts_with("cus_"));
    assert!(subscription_id.starts_with("sub_"));
    assert!(invoice_id.starts_with("in_"));

    let customer = stripe_get(&sandbox, &format!("/v1/customers/{customer_id}")).await;
    assert_eq!(customer.json["object"], "customer");
    assert_eq!(customer.json["email"], "buyer@shop.test");
    assert_eq!(customer.json["currency"], "usd");

    let sub = subscription(&sandbox, subscription_id).await;
    assert_eq!(sub["object"], "subscription");
    assert_eq!(sub["status"], "active");
    assert_eq!(sub["customer"], customer_id);
    assert_eq!(sub["currency"], "usd");
    assert_eq!(sub["cancel_at_period_end"], false);
    assert_eq!(sub["latest_invoice"], invoice_id);
    assert_eq!(sub["billing_mode"]["type"], "flexible");
    assert_eq!(sub["items"]["data"].as_array().unwrap().len(), 1);
    let item = &sub["items"]["data"][0];
    assert!(item["id"].as_str().unwrap().starts_with("si_"));
    assert_eq!(item["object"], "subscription_item");
    assert_eq!(item["price"]["id"], "price_pro");
    assert_eq!(item["price"]["recurring"]["interval"], "month");
    assert_eq!(item["quantity"], 1);
    let start = item["current_period_start"].as_i64().unwrap();
    assert_eq!(start, sub["created"].as_i64().unwrap());
    assert_eq!(sub["billing_cycle_anchor"].as_i64().unwrap(), start);
    assert_eq!(
        item["current_period_end"].as_i64().unwrap(),
        one_month_after(start)
    );
    // Current API versions keep the period on the items only.
    assert!(sub.get("current_period_end").is_none());

    let invoice = stripe_get(
        &sandbox,
        &format!("/v1/invoices/{invoice_id}?expand[]=payments"),
    )
    .await
    .json;
    assert_eq!(invoice["object"], "invoice");
    assert_eq!(invoice["status"], "paid");
    assert_eq!(invoice["billing_reason"], "subscription_create");
    assert_eq!(invoice["customer"], customer_id);
    assert_eq!(invoice["customer_email"], "buyer@shop.test");
    assert_eq!(
        invoice["parent"]["subscription_details"]["subscription"],
        subscription_id
    );
    for field in ["subtotal", "total", "amount_due", "amount_paid"] {
        assert_eq!(invoice[field], 2000, "{field}");
    }
    assert_eq!(invoice["amount_remaining"], 0);
    assert_eq!(invoice["currency"], "usd");
    let prefix = customer.json["invoice_prefix"].as_str().unwrap();
    assert_eq!(invoice["number"], format!("{prefix}-0001"));
    let line = &invoice["lines"]["data"][0];
    assert_eq!(line["description"], "1 × Pro (at $20.00 / month)");
    assert_eq!(line["amount"], 2000);
    assert_eq!(line["period"]["start"].as_i64().unwrap(), start);
    assert_eq!(
        line["parent"]["subscription_item_details"]["subscription_item"],
        item["id"]
    );
    assert_eq!(
        line["parent"]["subscription_item_details"]["proration"],
        false
    );

    // The payment: a succeeded PaymentIntent and a charge that can be refunded.
    let intent_id = invoice["payments"]["data"][0]["payment"]["payment_intent"]
        .as_str()
        .unwrap();
    let intent = stripe_get(&sandbox, &format!("/v1/payment_intents/{intent_id}")).await;
    assert_eq!(intent.json["status"], "succeeded");
    assert_eq!(intent.json["amount"], 2000);
    assert_eq!(intent.json["customer"], customer_id);
    let charge_id = intent.json["latest_charge"].as_str().unwrap();
    let charge = stripe_get(&sandbox, &format!("/v1/charges/{charge_id}")).await;
    assert_eq!(charge.json["amount"], 2000);
    assert_eq!(charge.json["amount_refunded"], 0);
    assert_eq!(charge.json["refunded"], false);

    // Stripe's order, from the event log (deliveries run concurrently).
    let emitted = events(&sandbox).await;
    assert_eq!(
        types(&emitted),
        [
            "customer.created",
            "payment_method.attached",
            "customer.subscription.created",
            "invoice.created",
            "invoice.finalized",
            "payment_intent.created",
            "charge.succeeded",
            "payment_intent.succeeded",
            "invoice.paid",
            "invoice.payment_succeeded",
            "checkout.session.completed",
        ]
    );
    assert_eq!(emitted[1]["data"]["object"]["customer"], customer_id);
    assert_eq!(
        emitted[1]["data"]["object"]["id"],
        sub["default_payment_method"]
    );
    assert_eq!(emitted[2]["data"]["object"]["id"], subscription_id);
    assert_eq!(emitted[3]["data"]["object"]["status"], "draft");
    assert_eq!(emitted[4]["data"]["object"]["status"], "open");
    assert_eq!(emitted[6]["data"]["object"]["id"], charge_id);
    assert_eq!(emitted[7]["data"]["object"]["id"], intent_id);
    assert_eq!(emitted[8]["data"]["object"]["status"], "paid");
    assert_eq!(
        emitted[10]["data"]["object"]["subscription"],
        subscription_id
    );
    // Every one is delivered, signed.
    let received = inbox.wait_for(11, WAIT).await;
    assert_eq!(received.len(), 11);
    for webhook in &received {
        assert!(stripe_signature_valid(
            webhook.header("stripe-signature").unwrap(),
            &webhook.body,
            sandbox.stripe_webhook_secret()
        ));
    }
    let mut delivered: Vec<String> = received
        .iter()
        .map(|webhook| webhook.json().unwrap()["type"].as_str().unwrap().to_owned())
        .collect();
    delivered.sort();
    let mut expected = types(&emitted);
    expected.sort();
    assert_eq!(delivered, expected);

    let records = sandbox.subscriptions();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].id, subscription_id);
    assert_eq!(records[0].gateway, Gateway::Stripe);
    assert_eq!(records[0].customer, customer_id);
    assert_eq!(records[0].status, SubscriptionStatus::Active);
    assert_eq!(records[0].amount, 2000);
    assert_eq!(records[0].currency, "usd");
}

#[tokio::test]
async fn a_session_for_an_existing_customer_creates_no_customer_and_bills_a_setup_fee() {
    let sandbox = billing_sandbox(None).await;
    let customer = stripe_post(&sandbox, "/v1/customers", "email=known%40shop.test").await;
    let customer_id = customer.json["id"].as_str().unwrap();
    let session = subscribe(
        &sandbox,
        &format!(
            "&customer={customer_id}&line_items[1][price]=price_setup&line_items[1][quantity]=1\
             &discounts[0][coupon]=TEN"
        ),
        "known@shop.test",
    )
    .await;
    assert_eq!(session["customer"], customer_id);
    assert_eq!(session["amount_total"], 2700);
    let invoice = stripe_get(
        &sandbox,
        &format!("/v1/invoices/{}", session["invoice"].as_str().unwrap()),
    )
    .await
    .json;
    assert_eq!(invoice["subtotal"], 3000);
    assert_eq!(invoice["total"], 2700);
    assert_eq!(invoice["amount_paid"], 2700);
    assert_eq!(invoice["total_discount_amounts"][0]["amount"], 300);
    let descriptions: Vec<&str> = invoice["lines"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line["description"].as_str().unwrap())
        .collect();
    assert_eq!(descriptions, ["1 × Pro (at $20.00 / month)", "Setup"]);
    assert_eq!(
        types(&events(&sandbox).await)
            .iter()
            .filter(|kind| *kind == "customer.created")
            .count(),
        1,
        "only the API call created a customer"
    );
    // The forever coupon stays on the subscription for its renewals.
    let sub = stripe_get(
        &sandbox,
        &format!(
            "/v1/subscriptions/{}?expand[]=discounts",
            session["subscription"].as_str().unwrap()
        ),
    )
    .await
    .json;
    assert_eq!(sub["discounts"][0]["source"]["coupon"], "TEN");
}

#[tokio::test]
async fn periods_anchored_on_the_31st_end_on_the_last_day_of_shorter_months() {
    let sandbox = billing_sandbox(None).await;
    // Move the clock to the next 31 January, 10:00 UTC.
    let now = OffsetDateTime::from_unix_timestamp(sandbox.now()).unwrap();
    let mut target = time::Date::from_calendar_date(now.year(), time::Month::January, 31)
        .unwrap()
        .with_hms(10, 0, 0)
        .unwrap()
        .assume_utc();
    if target <= now {
        target = target.replace_year(now.year() + 1).unwrap();
    }
    let ahead = u64::try_from(target.unix_timestamp() - now.unix_timestamp()).unwrap();
    sandbox.advance_clock(Duration::from_secs(ahead));
    let session = subscribe(&sandbox, "", "late@shop.test").await;
    let id = session["subscription"].as_str().unwrap();
    let item = subscription(&sandbox, id).await["items"]["data"][0].clone();
    let start = OffsetDateTime::from_unix_timestamp(item["current_period_start"].as_i64().unwrap())
        .unwrap();
    assert_eq!((start.month(), start.day()), (time::Month::January, 31));
    let end =
        OffsetDateTime::from_unix_timestamp(item["current_period_end"].as_i64().unwrap()).unwrap();
    let february = time::util::days_in_month(time::Month::February, end.year());
    assert_eq!((end.month(), end.day()), (time::Month::February, february));
    assert_eq!(end.time(), start.time());

    // The renewal counts from the anchor again: the next period ends on 31 March. Its draft is
    // collected an hour after the period ends.
    let to_end = u64::try_from(end.unix_timestamp() - sandbox.now() + 3601).unwrap();
    sandbox.advance_clock(Duration::from_secs(to_end));
    let renewed = subscription(&sandbox, id).await;
    let item = &renewed["items"]["data"][0];
    assert_eq!(
        item["current_period_start"].as_i64().unwrap(),
        end.unix_timestamp()
    );
    let next =
        OffsetDateTime::from_unix_timestamp(item["current_period_end"].as_i64().unwrap()).unwrap();
    assert_eq!((next.month(), next.day()), (time::Month::March, 31));
    assert_eq!(next.time(), start.time());
    let invoice = stripe_get(
        &sandbox,
        &format!(
            "/v1/invoices/{}",
            renewed["latest_invoice"].as_str().unwrap()
        ),
    )
    .await
    .json;
    assert_eq!(invoice["billing_reason"], "subscription_cycle");
    assert_eq!(invoice["status"], "paid");
    assert_eq!(invoice["amount_paid"], 2000);
    assert_eq!(
        invoice["lines"]["data"][0]["period"]["end"]
            .as_i64()
            .unwrap(),
        next.unix_timestamp()
    );
}

#[tokio::test]
async fn cancel_at_period_end_resume_cancel_now_and_cancel_again() {
    let sandbox = billing_sandbox(None).await;
    let session = subscribe(&sandbox, "", "a@shop.test").await;
    let id = session["subscription"].as_str().unwrap();
    let path = format!("/v1/subscriptions/{id}");
    let period_end = subscription(&sandbox, id).await["items"]["data"][0]["current_period_end"]
        .as_i64()
        .unwrap();
    let before = events(&sandbox).await.len();

    let scheduled = stripe_post(&sandbox, &path, "cancel_at_period_end=true").await;
    assert_eq!(scheduled.status, 200, "{}", scheduled.json);
    assert_eq!(scheduled.json["status"], "active");
    assert_eq!(scheduled.json["cancel_at_period_end"], true);
    assert_eq!(scheduled.json["cancel_at"].as_i64(), Some(period_end));
    assert!(scheduled.json["canceled_at"].as_i64().is_some());
    assert_eq!(
        scheduled.json["cancellation_details"]["reason"],
        "cancellation_requested"
    );

    assert_eq!(
        sandbox.subscriptions()[0].status,
        SubscriptionStatus::CancelScheduled
    );

    let resumed = stripe_post(&sandbox, &path, "cancel_at_period_end=false").await;
    assert_eq!(resumed.status, 200, "{}", resumed.json);
    assert_eq!(resumed.json["cancel_at_period_end"], false);
    assert_eq!(resumed.json["cancel_at"], Value::Null);
    assert_eq!(resumed.json["canceled_at"], Value::Null);

    let updates = events_after(&sandbox, before).await;
    assert_eq!(
        types(&updates),
        [
            "customer.subscription.updated",
            "customer.subscription.updated"
        ]
    );
    let previous = &updates[0]["data"]["previous_attributes"];
    assert_eq!(previous["cancel_at_period_end"], false);
    assert_eq!(previous["cancel_at"], Value::Null);
    assert_eq!(previous["canceled_at"], Value::Null);
    assert!(previous.get("status").is_none());
    assert_eq!(
        updates[1]["data"]["previous_attributes"]["cancel_at_period_end"],
        true
    );
    assert_eq!(updates[1]["data"]["object"]["cancel_at_period_end"], false);
    assert!(updates[0]["request"]["id"]
        .as_str()
        .is_some_and(|id| id.starts_with("req_")));

    // Cancel now: `DELETE` with its parameters in the query, as the SDKs send them.
    let canceled =
        stripe_delete(&sandbox, &format!("{path}?invoice_now=false&prorate=false")).await;
    assert_eq!(canceled.status, 200, "{}", canceled.json);
    assert_eq!(canceled.json["status"], "canceled");
    let ended_at = canceled.json["ended_at"].as_i64().unwrap();
    assert_eq!(canceled.json["canceled_at"].as_i64(), Some(ended_at));
    assert_eq!(
        sandbox.subscriptions()[0].status,
        SubscriptionStatus::Canceled
    );
    let deleted = events_after(&sandbox, before + 2).await;
    assert_eq!(types(&deleted), ["customer.subscription.deleted"]);
    assert_eq!(deleted[0]["data"]["object"]["status"], "canceled");

    // A canceled subscription: no second cancel, only metadata and details change.
    let again = stripe_delete(&sandbox, &path).await;
    assert_error(
        &again,
        404,
        "invalid_request_error",
        Some("resource_missing"),
        Some("subscription"),
    );
    assert_eq!(
        again.json["error"]["message"],
        format!("No such subscription: '{id}'")
    );
    let update = stripe_post(&sandbox, &path, "cancel_at_period_end=true").await;
    assert_error(&update, 400, "invalid_request_error", None, None);
    assert_eq!(
        update.json["error"]["message"],
        "A canceled subscription can only update its cancellation_details and metadata."
    );
    let metadata = stripe_post(
        &sandbox,
        &path,
        "metadata[reason]=moved&cancellation_details[feedback]=too_expensive",
    )
    .await;
    assert_eq!(metadata.status, 200, "{}", metadata.json);
    assert_eq!(metadata.json["metadata"]["reason"], "moved");
    assert_eq!(
        metadata.json["cancellation_details"]["feedback"],
        "too_expensive"
    );
    // Still retrievable; listed only when asked for.
    assert_eq!(subscription(&sandbox, id).await["status"], "canceled");
    let default_list = stripe_get(&sandbox, "/v1/subscriptions").await;
    assert_eq!(default_list.json["data"].as_array().unwrap().len(), 0);
    for status in ["all", "canceled", "ended"] {
        let listed = stripe_get(&sandbox, &format!("/v1/subscriptions?status={status}")).await;
        assert_eq!(listed.json["data"][0]["id"], id, "{status}");
    }
    let resume = stripe_post(&sandbox, &format!("{path}/resume"), "").await;
    assert_error(&resume, 400, "invalid_request_error", None, None);
    let unknown = stripe_get(&sandbox, "/v1/subscriptions/sub_nope").await;
    assert_error(
        &unknown,
        404,
        "invalid_request_error",
        Some("resource_missing"),
        Some("subscription"),
    );
}

#[tokio::test]
async fn a_scheduled_cancellation_takes_effect_at_the_period_end_and_renewals_bill() {
    let sandbox = billing_sandbox(None).await;
    let ending = subscribe(&sandbox, "", "ending@shop.test").await;
    let ending_id = ending["subscription"].as_str().unwrap();
    let renewing = subscribe(&sandbox, "", "renewing@shop.test").await;
    let renewing_id = renewing["subscription"].as_str().unwrap();
    let period_end = subscription(&sandbox, ending_id).await["items"]["data"][0]
        ["current_period_end"]
        .as_i64()
        .unwrap();
    stripe_post(
        &sandbox,
        &format!("/v1/subscriptions/{ending_id}"),
        "cancel_at_period_end=true",
    )
    .await;
    let before = events(&sandbox).await.len();
    // Past the period end and the hour the renewal's draft waits.
    sandbox.advance_clock(Duration::from_secs(
        u64::try_from(period_end - sandbox.now() + 3600 + 60).unwrap(),
    ));

    let ended = subscription(&sandbox, ending_id).await;
    assert_eq!(ended["status"], "canceled");
    assert_eq!(ended["ended_at"].as_i64(), Some(period_end));
    assert_eq!(
        ended["latest_invoice"], ending["invoice"],
        "no renewal invoice"
    );

    let renewed = subscription(&sandbox, renewing_id).await;
    assert_eq!(renewed["status"], "active");
    let item = &renewed["items"]["data"][0];
    let start = item["current_period_start"].as_i64().unwrap();
    assert!(start >= period_end - 5 && start <= period_end + 5);
    assert_eq!(
        item["current_period_end"].as_i64(),
        Some(one_month_after(start))
    );
    let renewal = stripe_get(
        &sandbox,
        &format!(
            "/v1/invoices/{}",
            renewed["latest_invoice"].as_str().unwrap()
        ),
    )
    .await
    .json;
    assert_eq!(renewal["billing_reason"], "subscription_cycle");
    assert_eq!(renewal["amount_paid"], 2000);
    assert_eq!(renewal["status"], "paid");

    let after: Vec<String> = types(&events_after(&sandbox, before).await);
    assert!(
        after.contains(&"customer.subscription.deleted".to_owned()),
        "{after:?}"
    );
    let renewal_events: Vec<&String> = after
        .iter()
        .filter(|kind| !kind.ends_with("deleted"))
        .collect();
    assert_eq!(
        renewal_events,
        [
            "customer.subscription.updated",
            "invoice.created",
            "invoice.finalized",
            "payment_intent.created",
            "charge.succeeded",
            "payment_intent.succeeded",
            "invoice.paid",
            "invoice.payment_succeeded",
        ]
    );
    let list = stripe_get(
        &sandbox,
        &format!("/v1/invoices?subscription={renewing_id}"),
    )
    .await;
    assert_eq!(list.json["data"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn listing_filters_by_customer_and_status_and_pages() {
    let sandbox = billing_sandbox(None).await;
    let first = subscribe(&sandbox, "", "one@shop.test").await;
    let second = subscribe(&sandbox, "", "two@shop.test").await;
    let third = subscribe(&sandbox, "", "three@shop.test").await;
    let ids: Vec<&str> = [&first, &second, &third]
        .iter()
        .map(|session| session["subscription"].as_str().unwrap())
        .collect();
    stripe_delete(&sandbox, &format!("/v1/subscriptions/{}", ids[1])).await;

    let all = stripe_get(&sandbox, "/v1/subscriptions?status=all")
        .await
        .json;
    let listed: Vec<&str> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|sub| sub["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [ids[2], ids[1], ids[0]], "newest first");
    assert_eq!(all["url"], "/v1/subscriptions");
    let active = stripe_get(&sandbox, "/v1/subscriptions?status=active")
        .await
        .json;
    assert_eq!(active["data"].as_array().unwrap().len(), 2);
    let canceled = stripe_get(&sandbox, "/v1/subscriptions?status=canceled")
        .await
        .json;
    assert_eq!(canceled["data"][0]["id"], ids[1]);
    let mine = stripe_get(
        &sandbox,
        &format!(
            "/v1/subscriptions?customer={}",
            first["customer"].as_str().unwrap()
        ),
    )
    .await
    .json;
    assert_eq!(mine["data"].as_array().unwrap().len(), 1);
    assert_eq!(mine["data"][0]["id"], ids[0]);
    let page = stripe_get(&sandbox, "/v1/subscriptions?status=all&limit=2")
        .await
        .json;
    assert_eq!(page["has_more"], true);
    let rest = stripe_get(
        &sandbox,
        &format!(
            "/v1/subscriptions?status=all&limit=2&starting_after={}",
            ids[1]
        ),
    )
    .await
    .json;
    assert_eq!(rest["data"][0]["id"], ids[0]);
    assert_eq!(rest["has_more"], false);
    let by_price = stripe_get(&sandbox, "/v1/subscriptions?price=price_team")
        .await
        .json;
    assert_eq!(by_price["data"].as_array().unwrap().len(), 0);
    let bad = stripe_get(&sandbox, "/v1/subscriptions?status=sleeping").await;
    assert_error(&bad, 400, "invalid_request_error", None, Some("status"));
    let expanded = stripe_get(
        &sandbox,
        "/v1/subscriptions?limit=1&expand[]=data.customer&expand[]=data.latest_invoice",
    )
    .await
    .json;
    assert_eq!(expanded["data"][0]["customer"]["object"], "customer");
    assert_eq!(expanded["data"][0]["latest_invoice"]["object"], "invoice");
}

#[tokio::test]
async fn pause_collection_is_set_and_unset_and_holds_renewal_invoices() {
    let sandbox = billing_sandbox(None).await;
    let session = subscribe(&sandbox, "", "pause@shop.test").await;
    let id = session["subscription"].as_str().unwrap();
    let path = format!("/v1/subscriptions/{id}");
    let before = events(&sandbox).await.len();
    let paused = stripe_post(&sandbox, &path, "pause_collection[behavior]=void").await;
    assert_eq!(paused.status, 200, "{}", paused.json);
    assert_eq!(paused.json["pause_collection"]["behavior"], "void");
    assert_eq!(paused.json["pause_collection"]["resumes_at"], Value::Null);
    assert_eq!(
        paused.json["status"], "active",
        "pausing collection keeps the status"
    );
    let update = &events_after(&sandbox, before).await[0];
    assert_eq!(update["type"], "customer.subscription.updated");
    assert_eq!(
        update["data"]["previous_attributes"]["pause_collection"],
        Value::Null
    );

    let end = paused.json["items"]["data"][0]["current_period_end"]
        .as_i64()
        .unwrap();
    sandbox.advance_clock(Duration::from_secs(
        u64::try_from(end - sandbox.now() + 3601).unwrap(),
    ));
    let held = subscription(&sandbox, id).await;
    let invoice = stripe_get(
        &sandbox,
        &format!("/v1/invoices/{}", held["latest_invoice"].as_str().unwrap()),
    )
    .await
    .json;
    assert_eq!(invoice["billing_reason"], "subscription_cycle");
    assert_eq!(invoice["status"], "void");
    assert_eq!(invoice["amount_paid"], 0);

    let unpaused = stripe_post(&sandbox, &path, "pause_collection=").await;
    assert_eq!(unpaused.status, 200, "{}", unpaused.json);
    assert_eq!(unpaused.json["pause_collection"], Value::Null);
    let last = events(&sandbox).await.pop().unwrap();
    assert_eq!(
        last["data"]["previous_attributes"]["pause_collection"]["behavior"],
        "void"
    );
    let bad = stripe_post(&sandbox, &path, "pause_collection[behavior]=later").await;
    assert_error(
        &bad,
        400,
        "invalid_request_error",
        None,
        Some("pause_collection[behavior]"),
    );
    let missing = stripe_post(&sandbox, &path, "pause_collection[resumes_at]=5").await;
    assert_error(
        &missing,
        400,
        "invalid_request_error",
        Some("parameter_missing"),
        Some("pause_collection[behavior]"),
    );
}

#[tokio::test]
async fn only_paused_subscriptions_resume() {
    let sandbox = billing_sandbox(None).await;
    let session = subscribe(&sandbox, "", "resume@shop.test").await;
    let id = session["subscription"].as_str().unwrap();
    let resume = stripe_post(&sandbox, &format!("/v1/subscriptions/{id}/resume"), "").await;
    assert_error(&resume, 400, "invalid_request_error", None, None);
    assert!(resume.json["error"]["message"]
        .as_str()
        .unwrap()
        .contains("status of `active`"));

    // The pause endpoint exists from 2026-09-30.endive on (the sandbox's default version).
    let before = events(&sandbox).await.len();
    let paused = stripe_post(
        &sandbox,
        &format!("/v1/subscriptions/{id}/pause"),
        "type=subscription",
    )
    .await;
    assert_eq!(paused.status, 200, "{}", paused.json);
    assert_eq!(paused.json["status"], "paused");
    assert_eq!(
        types(&events_after(&sandbox, before).await),
        [
            "customer.subscription.updated",
            "customer.subscription.paused"
        ]
    );
    // A paused subscription does not renew.
    let end = paused.json["items"]["data"][0]["current_period_end"]
        .as_i64()
        .unwrap();
    sandbox.advance_clock(Duration::from_secs(
        u64::try_from(end - sandbox.now() + 10 * DAY).unwrap(),
    ));
    assert_eq!(
        subscription(&sandbox, id).await["latest_invoice"],
        session["invoice"]
    );

    let before = events(&sandbox).await.len();
    let resumed = stripe_post(&sandbox, &format!("/v1/subscriptions/{id}/resume"), "").await;
    assert_eq!(resumed.status, 200, "{}", resumed.json);
    assert_eq!(resumed.json["status"], "active");
    let item = &resumed.json["items"]["data"][0];
    let start = item["current_period_start"].as_i64().unwrap();
    assert!((start - sandbox.now()).abs() <= 5);
    assert_eq!(resumed.json["billing_cycle_anchor"].as_i64(), Some(start));
    assert_eq!(
        item["current_period_end"].as_i64(),
        Some(one_month_after(start))
    );
    assert_eq!(
        types(&events_after(&sandbox, before).await),
        [
            "customer.subscription.updated",
            "customer.subscription.resumed",
            "invoice.created",
            "invoice.finalized",
            "payment_intent.created",
            "charge.succeeded",
            "payment_intent.succeeded",
            "invoice.paid",
            "invoice.payment_succeeded",
        ]
    );

    // Before endive the pause endpoint does not exist.
    let old = client()
        .post(format!(
            "{}/v1/subscriptions/{id}/pause",
            sandbox.stripe_api_base()
        ))
        .bearer_auth(sandbox.stripe_secret_key())
        .header("stripe-version", "2026-01-28.clover")
        .form(&[("type", "subscription")])
        .send()
        .await
        .unwrap();
    assert_eq!(old.status().as_u16(), 404);
}

#[tokio::test]
async fn a_trial_starts_free_warns_and_then_bills() {
    let sandbox = billing_sandbox(None).await;
    let session = subscribe(
        &sandbox,
        "&subscription_data[trial_period_days]=7",
        "trial@shop.test",
    )
    .await;
    assert_eq!(session["amount_total"], 0);
    assert_eq!(session["payment_status"], "no_payment_required");
    let id = session["subscription"].as_str().unwrap();
    let sub = subscription(&sandbox, id).await;
    assert_eq!(sub["status"], "trialing");
    let trial_start = sub["trial_start"].as_i64().unwrap();
    let trial_end = sub["trial_end"].as_i64().unwrap();
    assert_eq!(trial_end - trial_start, 7 * DAY);
    assert_eq!(
        sub["items"]["data"][0]["current_period_end"].as_i64(),
        Some(trial_end)
    );
    let first = stripe_get(
        &sandbox,
        &format!("/v1/invoices/{}", session["invoice"].as_str().unwrap()),
    )
    .await
    .json;
    assert_eq!(first["amount_paid"], 0);
    assert_eq!(first["status"], "paid");
    assert_eq!(
        first["lines"]["data"][0]["description"],
        "Trial period for Pro"
    );

    sandbox.advance_clock(Duration::from_secs(u64::try_from(4 * DAY + 60).unwrap()));
    let warned = stripe_get(
        &sandbox,
        "/v1/events?type=customer.subscription.trial_will_end",
    )
    .await;
    assert_eq!(warned.json["data"].as_array().unwrap().len(), 1);
    assert_eq!(subscription(&sandbox, id).await["status"], "trialing");

    sandbox.advance_clock(Duration::from_secs(
        u64::try_from(trial_end - sandbox.now() + 3601).unwrap(),
    ));
    let active = subscription(&sandbox, id).await;
    assert_eq!(active["status"], "active");
    let item = &active["items"]["data"][0];
    assert_eq!(item["current_period_start"].as_i64(), Some(trial_end));
    assert_eq!(
        item["current_period_end"].as_i64(),
        Some(one_month_after(trial_end))
    );
    let invoice = stripe_get(
        &sandbox,
        &format!(
            "/v1/invoices/{}",
            active["latest_invoice"].as_str().unwrap()
        ),
    )
    .await
    .json;
    assert_eq!(invoice["amount_paid"], 2000);
    assert_eq!(invoice["billing_reason"], "subscription_cycle");
    let update = stripe_get(
        &sandbox,
        "/v1/events?type=customer.subscription.updated&limit=1",
    )
    .await;
    assert_eq!(
        update.json["data"][0]["data"]["previous_attributes"]["status"],
        "trialing"
    );
}

#[tokio::test]
async fn a_trial_without_a_payment_method_pauses_when_told_to() {
    let sandbox = billing_sandbox(None).await;
    let session = subscribe(
        &sandbox,
        "&payment_method_collection=if_required&subscription_data[trial_period_days]=3\
         &subscription_data[trial_settings][end_behavior][missing_payment_method]=pause",
        "nocard@shop.test",
    )
    .await;
    let id = session["subscription"].as_str().unwrap();
    let sub = subscription(&sandbox, id).await;
    assert_eq!(sub["default_payment_method"], Value::Null);
    assert_eq!(
        sub["trial_settings"]["end_behavior"]["missing_payment_method"],
        "pause"
    );
    sandbox.advance_clock(Duration::from_secs(u64::try_from(3 * DAY + 60).unwrap()));
    assert_eq!(subscription(&sandbox, id).await["status"], "paused");
    let paused = stripe_get(&sandbox, "/v1/events?type=customer.subscription.paused").await;
    assert_eq!(paused.json["data"].as_array().unwrap().len(), 1);
    let resumed = stripe_post(&sandbox, &format!("/v1/subscriptions/{id}/resume"), "").await;
    assert_eq!(resumed.json["status"], "active");
}
