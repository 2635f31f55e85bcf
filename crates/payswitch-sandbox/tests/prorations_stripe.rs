//! Stripe subscription changes in the sandbox over HTTP: price and quantity changes with
//! `always_invoice`, `create_prorations` and `none`, the amounts prorated by the second, a
//! change of interval billed at once, and `POST /v1/invoices/create_preview`.

mod common;

use std::time::Duration;

use common::billing::*;
use common::*;
use time::OffsetDateTime;

#[tokio::test]
async fn always_invoice_bills_the_proration_of_a_price_change_now() {
    let sandbox = billing_sandbox(None).await;
    let session = subscribe(&sandbox, "", "up@shop.test").await;
    let id = session["subscription"].as_str().unwrap();
    let sub = subscription(&sandbox, id).await;
    let item = &sub["items"]["data"][0];
    let item_id = item["id"].as_str().unwrap();
    let start = item["current_period_start"].as_i64().unwrap();
    let end = item["current_period_end"].as_i64().unwrap();
    let at = start + 10 * DAY + 12_345;
    let before = events(&sandbox).await.len();

    let reply = stripe_post(
        &sandbox,
        &format!("/v1/subscriptions/{id}"),
        &format!(
            "items[0][id]={item_id}&items[0][price]=price_team&proration_behavior=always_invoice\
             &proration_date={at}"
        ),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    let updated = &reply.json;
    assert_eq!(updated["items"]["data"][0]["id"], item_id);
    assert_eq!(updated["items"]["data"][0]["price"]["id"], "price_team");
    assert_eq!(
        updated["items"]["data"][0]["current_period_end"].as_i64(),
        Some(end)
    );
    let invoice_id = updated["latest_invoice"].as_str().unwrap();
    assert_ne!(invoice_id, session["invoice"].as_str().unwrap());

    let credit = -prorated(2000, end - at, end - start);
    let charge = prorated(5000, end - at, end - start);
    let invoice = stripe_get(&sandbox, &format!("/v1/invoices/{invoice_id}"))
        .await
        .json;
    assert_eq!(invoice["billing_reason"], "subscription_update");
    assert_eq!(invoice["status"], "paid");
    let lines = invoice["lines"]["data"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["amount"].as_i64(), Some(credit));
    assert_eq!(lines[1]["amount"].as_i64(), Some(charge));
    assert!(lines[0]["description"]
        .as_str()
        .unwrap()
        .starts_with("Unused time on Pro after "));
    assert!(lines[1]["description"]
        .as_str()
        .unwrap()
        .starts_with("Remaining time on Team after "));
    for line in lines {
        assert_eq!(
            line["parent"]["subscription_item_details"]["proration"],
            true
        );
        assert_eq!(line["period"]["start"].as_i64(), Some(at));
        assert_eq!(line["period"]["end"].as_i64(), Some(end));
    }
    assert_eq!(invoice["total"].as_i64(), Some(credit + charge));
    assert_eq!(invoice["amount_paid"].as_i64(), Some(credit + charge));

    let emitted = events_after(&sandbox, before).await;
    assert_eq!(
        types(&emitted),
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
    let previous = &emitted[0]["data"]["previous_attributes"];
    assert_eq!(previous["items"]["data"][0]["price"]["id"], "price_pro");
    assert_eq!(previous["latest_invoice"], session["invoice"]);
    assert_eq!(sandbox.subscriptions()[0].amount, 5000);
}

#[tokio::test]
async fn create_prorations_waits_for_the_next_invoice_and_the_preview_shows_it() {
    let sandbox = billing_sandbox(None).await;
    let session = subscribe(&sandbox, "", "later@shop.test").await;
    let id = session["subscription"].as_str().unwrap();
    let sub = subscription(&sandbox, id).await;
    let item = &sub["items"]["data"][0];
    let item_id = item["id"].as_str().unwrap().to_owned();
    let start = item["current_period_start"].as_i64().unwrap();
    let end = item["current_period_end"].as_i64().unwrap();
    let at = start + 7 * DAY;
    let credit = -prorated(2000, end - at, end - start);
    let charge = prorated(5000, end - at, end - start);

    // The preview changes nothing.
    let preview = stripe_post(
        &sandbox,
        "/v1/invoices/create_preview",
        &format!(
            "subscription={id}&subscription_details[items][0][id]={item_id}\
             &subscription_details[items][0][price]=price_team\
             &subscription_details[proration_behavior]=always_invoice\
             &subscription_details[proration_date]={at}"
        ),
    )
    .await;
    assert_eq!(preview.status, 200, "{}", preview.json);
    assert_eq!(preview.json["object"], "invoice");
    assert!(preview.json["id"]
        .as_str()
        .unwrap()
        .starts_with("upcoming_in_"));
    assert_eq!(preview.json["amount_due"].as_i64(), Some(credit + charge));
    assert_eq!(preview.json["subtotal"].as_i64(), Some(credit + charge));
    assert_eq!(preview.json["total"].as_i64(), Some(credit + charge));
    assert_eq!(preview.json["currency"], "usd");
    assert_eq!(preview.json["lines"]["data"].as_array().unwrap().len(), 2);
    assert_eq!(
        subscription(&sandbox, id).await["items"]["data"][0]["price"]["id"],
        "price_pro"
    );
    let invoices = stripe_get(&sandbox, &format!("/v1/invoices?subscription={id}")).await;
    assert_eq!(invoices.json["data"].as_array().unwrap().len(), 1);

    // `create_prorations` (the default) keeps them for the next invoice.
    let reply = stripe_post(
        &sandbox,
        &format!("/v1/subscriptions/{id}"),
        &format!("items[0][id]={item_id}&items[0][price]=price_team&proration_date={at}"),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    assert_eq!(reply.json["latest_invoice"], session["invoice"]);
    let upcoming = stripe_post(
        &sandbox,
        "/v1/invoices/create_preview",
        &format!("subscription={id}"),
    )
    .await
    .json;
    let lines = upcoming["lines"]["data"].as_array().unwrap();
    let amounts: Vec<i64> = lines
        .iter()
        .map(|line| line["amount"].as_i64().unwrap())
        .collect();
    assert_eq!(amounts, [credit, charge, 5000]);
    assert_eq!(lines[2]["description"], "1 × Team (at $50.00 / month)");
    assert_eq!(lines[2]["period"]["start"].as_i64(), Some(end));
    assert_eq!(
        upcoming["amount_due"].as_i64(),
        Some(credit + charge + 5000)
    );

    // `none` changes the quantity without any proration.
    let quantity = stripe_post(
        &sandbox,
        &format!("/v1/subscriptions/{id}"),
        &format!("items[0][id]={item_id}&items[0][quantity]=3&proration_behavior=none"),
    )
    .await;
    assert_eq!(quantity.json["items"]["data"][0]["quantity"], 3);
    let upcoming = stripe_post(
        &sandbox,
        "/v1/invoices/create_preview",
        &format!("subscription={id}"),
    )
    .await
    .json;
    assert_eq!(
        upcoming["amount_due"].as_i64(),
        Some(credit + charge + 15000)
    );

    // At the period end the renewal bills the pending prorations with the new period; its
    // draft is collected an hour later.
    sandbox.advance_clock(Duration::from_secs(
        u64::try_from(end - sandbox.now() + 3601).unwrap(),
    ));
    let renewed = subscription(&sandbox, id).await;
    let renewal = stripe_get(
        &sandbox,
        &format!(
            "/v1/invoices/{}",
            renewed["latest_invoice"].as_str().unwrap()
        ),
    )
    .await
    .json;
    assert_eq!(
        renewal["amount_paid"].as_i64(),
        Some(credit + charge + 15000)
    );
    assert_eq!(renewal["lines"]["data"].as_array().unwrap().len(), 3);

    // Errors name the item parameter.
    let unknown_price = stripe_post(
        &sandbox,
        &format!("/v1/subscriptions/{id}"),
        &format!("items[0][id]={item_id}&items[0][price]=price_nope"),
    )
    .await;
    assert_error(
        &unknown_price,
        404,
        "invalid_request_error",
        Some("resource_missing"),
        Some("items[0][price]"),
    );
    let one_time = stripe_post(
        &sandbox,
        &format!("/v1/subscriptions/{id}"),
        &format!("items[0][id]={item_id}&items[0][price]=price_setup"),
    )
    .await;
    assert_error(
        &one_time,
        400,
        "invalid_request_error",
        None,
        Some("items[0][price]"),
    );
    let unknown_item = stripe_post(
        &sandbox,
        &format!("/v1/subscriptions/{id}"),
        "items[0][id]=si_nope&items[0][quantity]=2",
    )
    .await;
    assert_error(
        &unknown_item,
        404,
        "invalid_request_error",
        Some("resource_missing"),
        Some("items[0][id]"),
    );
    let behavior = stripe_post(
        &sandbox,
        &format!("/v1/subscriptions/{id}"),
        "proration_behavior=sometimes",
    )
    .await;
    assert_error(
        &behavior,
        400,
        "invalid_request_error",
        None,
        Some("proration_behavior"),
    );
    let unknown_preview = stripe_post(
        &sandbox,
        "/v1/invoices/create_preview",
        "subscription=sub_nope",
    )
    .await;
    assert_error(
        &unknown_preview,
        404,
        "invalid_request_error",
        Some("resource_missing"),
        Some("subscription"),
    );
}

#[tokio::test]
async fn a_yearly_price_starts_a_new_period_billed_now() {
    let sandbox = billing_sandbox(None).await;
    let session = subscribe(&sandbox, "", "yearly@shop.test").await;
    let id = session["subscription"].as_str().unwrap();
    let item_id = subscription(&sandbox, id).await["items"]["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = stripe_post(
        &sandbox,
        &format!("/v1/subscriptions/{id}"),
        &format!("items[0][id]={item_id}&items[0][price]=price_pro_yearly&proration_behavior=none"),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    let item = &reply.json["items"]["data"][0];
    let start = item["current_period_start"].as_i64().unwrap();
    let end =
        OffsetDateTime::from_unix_timestamp(item["current_period_end"].as_i64().unwrap()).unwrap();
    let begin = OffsetDateTime::from_unix_timestamp(start).unwrap();
    assert_eq!(end.year(), begin.year() + 1);
    assert_eq!(reply.json["billing_cycle_anchor"].as_i64(), Some(start));
    let invoice = stripe_get(
        &sandbox,
        &format!(
            "/v1/invoices/{}",
            reply.json["latest_invoice"].as_str().unwrap()
        ),
    )
    .await
    .json;
    assert_eq!(invoice["amount_paid"], 20000);
    assert_eq!(
        invoice["lines"]["data"][0]["description"],
        "1 × Pro (at $200.00 / year)"
    );
}
