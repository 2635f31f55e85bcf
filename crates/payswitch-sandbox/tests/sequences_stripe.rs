//! The events each Stripe flow emits, by type and in order (read from `GET /v1/events`, which
//! keeps emission order; deliveries run concurrently), and the objects' states after each step
//! and each clock move: payment-mode Checkout (paid, declined on the hosted page, paid by a
//! SEPA debit that settles or fails later), subscription Checkout and its renewals (the
//! renewal's draft waits an hour), cancellations, trial ends with and without a payment
//! method, expiry; and determinism: the same script gives the same events and states.

mod common;

use std::time::Duration;

use common::billing::*;
use common::*;
use payswitch_sandbox::{PriceSeed, Sandbox, SandboxHandle};
use serde_json::Value;

const HOUR: i64 = 60 * 60;

/// Creates a payment-mode session for `amount` in `currency` and returns its id.
async fn payment_session(sandbox: &SandboxHandle, amount: i64, currency: &str) -> String {
    let reply = stripe_post(
        sandbox,
        "/v1/checkout/sessions",
        &format!(
            "mode=payment&success_url=https%3A%2F%2Fshop.test%2Fok\
             &line_items[0][price_data][currency]={currency}\
             &line_items[0][price_data][unit_amount]={amount}\
             &line_items[0][price_data][product_data][name]=Mug&line_items[0][quantity]=1"
        ),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    reply.json["id"].as_str().unwrap().to_owned()
}

/// Submits the hosted pay page's form with `card` and returns the HTTP status.
async fn pay_on_page(sandbox: &SandboxHandle, id: &str, card: &str) -> u16 {
    client()
        .post(format!("{}/pay/{id}", sandbox.base_url()))
        .form(&[
            ("email", "buyer@shop.test"),
            ("card", card),
            ("action", "pay"),
        ])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn get(sandbox: &SandboxHandle, path: &str) -> Value {
    let reply = stripe_get(sandbox, path).await;
    assert_eq!(reply.status, 200, "{path}: {}", reply.json);
    reply.json
}

#[tokio::test]
async fn a_paid_payment_session_emits_the_charge_then_the_payment_intent_then_the_session() {
    let sandbox = billing_sandbox(None).await;
    let id = payment_session(&sandbox, 1500, "usd").await;
    assert_eq!(pay_on_page(&sandbox, &id, "4242 4242 4242 4242").await, 303);

    let emitted = all_events(&sandbox).await;
    assert_eq!(
        types(&emitted),
        [
            "payment_intent.created",
            "charge.succeeded",
            "payment_intent.succeeded",
            "checkout.session.completed",
        ]
    );
    let session = get(&sandbox, &format!("/v1/checkout/sessions/{id}")).await;
    assert_eq!(session["status"], "complete");
    assert_eq!(session["payment_status"], "paid");
    let intent_id = session["payment_intent"].as_str().unwrap();
    assert_eq!(emitted[0]["data"]["object"]["id"], intent_id);
    assert_eq!(
        emitted[0]["data"]["object"]["status"],
        "requires_payment_method"
    );
    let charge = &emitted[1]["data"]["object"];
    assert_eq!(charge["status"], "succeeded");
    assert_eq!(charge["paid"], true);
    assert_eq!(charge["payment_intent"], intent_id);
    assert_eq!(charge["payment_method_details"]["card"]["last4"], "4242");
    assert_eq!(charge["billing_details"]["email"], "buyer@shop.test");
    let intent = &emitted[2]["data"]["object"];
    assert_eq!(intent["status"], "succeeded");
    assert_eq!(intent["amount_received"], 1500);
    assert_eq!(intent["latest_charge"], charge["id"]);
    assert_eq!(emitted[3]["data"]["object"]["payment_status"], "paid");
    // The PaymentMethod the page made is the charge's.
    let method = get(
        &sandbox,
        &format!(
            "/v1/payment_methods/{}",
            charge["payment_method"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(method["type"], "card");
    assert_eq!(method["card"]["brand"], "visa");
}

#[tokio::test]
async fn a_declined_card_on_the_hosted_page_fails_the_payment_intent_and_the_session_stays_open() {
    let sandbox = billing_sandbox(None).await;
    let id = payment_session(&sandbox, 1500, "usd").await;
    assert_eq!(pay_on_page(&sandbox, &id, "4000 0000 0000 0002").await, 402);

    let emitted = all_events(&sandbox).await;
    assert_eq!(
        types(&emitted),
        [
            "payment_intent.created",
            "charge.failed",
            "payment_intent.payment_failed",
        ]
    );
    let session = get(&sandbox, &format!("/v1/checkout/sessions/{id}")).await;
    assert_eq!(session["status"], "open");
    assert_eq!(session["payment_status"], "unpaid");
    let intent_id = session["payment_intent"].as_str().unwrap().to_owned();
    let intent = get(&sandbox, &format!("/v1/payment_intents/{intent_id}")).await;
    assert_eq!(intent["status"], "requires_payment_method");
    assert_eq!(intent["payment_method"], Value::Null);
    let error = &intent["last_payment_error"];
    assert_eq!(error["type"], "card_error");
    assert_eq!(error["code"], "card_declined");
    assert_eq!(error["decline_code"], "generic_decline");
    assert_eq!(error["message"], "Your card was declined.");
    assert_eq!(
        error["doc_url"],
        "https://stripe.com/docs/error-codes/card-declined"
    );
    assert_eq!(error["charge"], intent["latest_charge"]);
    assert_eq!(error["payment_method"]["object"], "payment_method");
    assert_eq!(error["payment_method"]["card"]["last4"], "0002");
    let failed = get(
        &sandbox,
        &format!("/v1/charges/{}", intent["latest_charge"].as_str().unwrap()),
    )
    .await;
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["paid"], false);
    assert_eq!(failed["failure_code"], "card_declined");
    assert_eq!(failed["outcome"]["type"], "issuer_declined");
    assert_eq!(failed["outcome"]["reason"], "generic_decline");
    assert_eq!(emitted[2]["data"]["object"]["last_payment_error"], *error);

    // An expired card: the error code is its own, with no decline code (Stripe's table).
    assert_eq!(pay_on_page(&sandbox, &id, "4000000000000069").await, 402);
    let expired = get(&sandbox, &format!("/v1/payment_intents/{intent_id}")).await;
    assert_eq!(expired["last_payment_error"]["code"], "expired_card");
    assert!(expired["last_payment_error"].get("decline_code").is_none());

    // A good card then pays the same PaymentIntent: no second `payment_intent.created`.
    let before = all_events(&sandbox).await.len();
    sandbox.pay(&id, None).unwrap();
    let after = all_events(&sandbox).await;
    assert_eq!(
        types(&after[before..]),
        [
            "charge.succeeded",
            "payment_intent.succeeded",
            "checkout.session.completed"
        ]
    );
    let paid = get(&sandbox, &format!("/v1/checkout/sessions/{id}")).await;
    assert_eq!(paid["payment_intent"], intent_id.as_str());
    assert_eq!(paid["payment_status"], "paid");
    let intent = get(&sandbox, &format!("/v1/payment_intents/{intent_id}")).await;
    assert_eq!(intent["status"], "succeeded");
    assert_eq!(intent["last_payment_error"], Value::Null);
    assert_eq!(sandbox.counts().stripe_payment_intents, 1);
}

#[tokio::test]
async fn a_sepa_debit_completes_the_session_unpaid_then_succeeds_when_the_clock_settles_it() {
    let sandbox = billing_sandbox(None).await;
    let id = payment_session(&sandbox, 2500, "eur").await;
    // Stripe's "succeeds after at least three minutes" IBAN.
    assert_eq!(
        pay_on_page(&sandbox, &id, "DE08 3704 0044 0532 0130 03").await,
        303
    );
    let emitted = all_events(&sandbox).await;
    assert_eq!(
        types(&emitted),
        [
            "payment_intent.created",
            "charge.pending",
            "payment_intent.processing",
            "checkout.session.completed",
        ]
    );
    let completed = &emitted[3]["data"]["object"];
    assert_eq!(completed["status"], "complete");
    assert_eq!(completed["payment_status"], "unpaid");
    let pending = &emitted[1]["data"]["object"];
    assert_eq!(pending["status"], "pending");
    assert_eq!(pending["payment_method_details"]["type"], "sepa_debit");
    assert_eq!(
        pending["payment_method_details"]["sepa_debit"]["last4"],
        "3003"
    );
    let paid_at = emitted[3]["created"].as_i64().unwrap();

    // Not yet: the debit settles three minutes after the payment.
    advance_to(&sandbox, paid_at + 170);
    assert_eq!(all_events(&sandbox).await.len(), 4);
    let session = get(&sandbox, &format!("/v1/checkout/sessions/{id}")).await;
    assert_eq!(session["payment_status"], "unpaid");
    let intent_id = session["payment_intent"].as_str().unwrap().to_owned();
    assert_eq!(
        get(&sandbox, &format!("/v1/payment_intents/{intent_id}")).await["status"],
        "processing"
    );

    advance_to(&sandbox, paid_at + 181);
    let settled = all_events(&sandbox).await;
    assert_eq!(
        types(&settled[4..]),
        [
            "charge.succeeded",
            "payment_intent.succeeded",
            "checkout.session.async_payment_succeeded",
        ]
    );
    assert_eq!(settled[6]["created"].as_i64(), Some(paid_at + 180));
    assert_eq!(settled[6]["data"]["object"]["payment_status"], "paid");
    let session = get(&sandbox, &format!("/v1/checkout/sessions/{id}")).await;
    assert_eq!(session["payment_status"], "paid");
    assert_eq!(
        get(&sandbox, &format!("/v1/payment_intents/{intent_id}")).await["status"],
        "succeeded"
    );
}

#[tokio::test]
async fn a_failing_sepa_debit_ends_with_async_payment_failed() {
    let sandbox = billing_sandbox(None).await;
    let id = payment_session(&sandbox, 2500, "eur").await;
    // Stripe's "fails after at least three minutes" IBAN, through the admin API.
    let paid = client()
        .post(format!(
            "{}/__sandbox/checkouts/{id}/pay",
            sandbox.base_url()
        ))
        .json(&serde_json::json!({ "card": "DE78370400440532013004" }))
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status().as_u16(), 200);
    sandbox.advance_clock(Duration::from_secs(181));
    let emitted = all_events(&sandbox).await;
    assert_eq!(
        types(&emitted),
        [
            "payment_intent.created",
            "charge.pending",
            "payment_intent.processing",
            "checkout.session.completed",
            "charge.failed",
            "payment_intent.payment_failed",
            "checkout.session.async_payment_failed",
        ]
    );
    let session = &emitted[6]["data"]["object"];
    assert_eq!(session["status"], "complete");
    assert_eq!(session["payment_status"], "unpaid");
    let failed = &emitted[4]["data"]["object"];
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["failure_code"], "generic_could_not_process");
    let intent = &emitted[5]["data"]["object"];
    assert_eq!(intent["status"], "requires_payment_method");
    assert_eq!(intent["last_payment_error"]["charge"], failed["id"]);

    // The quick IBAN settles at the clock's next step (here, the next request).
    let quick = payment_session(&sandbox, 900, "eur").await;
    let before = all_events(&sandbox).await.len();
    sandbox.pay(&quick, Some("DE89370400440532013000")).unwrap();
    let session = get(&sandbox, &format!("/v1/checkout/sessions/{quick}")).await;
    assert_eq!(session["payment_status"], "paid");
    let after = all_events(&sandbox).await;
    assert_eq!(
        types(&after[before..]),
        [
            "payment_intent.created",
            "charge.pending",
            "payment_intent.processing",
            "checkout.session.completed",
            "charge.succeeded",
            "payment_intent.succeeded",
            "checkout.session.async_payment_succeeded",
        ]
    );

    // SEPA Direct Debit is a euro method.
    let dollars = payment_session(&sandbox, 900, "usd").await;
    match sandbox.pay(&dollars, Some("DE89370400440532013000")) {
        Err(payswitch_sandbox::SandboxError::Declined { code, .. }) => {
            assert_eq!(code, "payment_method_not_available")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_subscription_checkout_and_its_renewal_emit_stripes_sequence() {
    let sandbox = billing_sandbox(None).await;
    let session = subscribe(&sandbox, "", "renew@shop.test").await;
    let id = session["subscription"].as_str().unwrap();
    let emitted = all_events(&sandbox).await;
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
    assert_eq!(
        emitted[6]["data"]["object"]["description"],
        "Subscription creation"
    );
    let first = invoice(&sandbox, session["invoice"].as_str().unwrap()).await;
    assert_eq!(first["attempt_count"], 1);
    assert_eq!(first["attempted"], true);
    assert_eq!(first["auto_advance"], false);
    let end = subscription(&sandbox, id).await["items"]["data"][0]["current_period_end"]
        .as_i64()
        .unwrap();

    // At the period end: the new period and the renewal's draft, nothing charged yet.
    advance_to(&sandbox, end + 60);
    let renewal = all_events(&sandbox).await;
    assert_eq!(
        types(&renewal[11..]),
        ["customer.subscription.updated", "invoice.created"]
    );
    assert_eq!(renewal[11]["created"].as_i64(), Some(end));
    let sub = subscription(&sandbox, id).await;
    assert_eq!(sub["status"], "active");
    assert_eq!(
        sub["items"]["data"][0]["current_period_start"].as_i64(),
        Some(end)
    );
    let draft = invoice(&sandbox, sub["latest_invoice"].as_str().unwrap()).await;
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["billing_reason"], "subscription_cycle");
    assert_eq!(draft["created"].as_i64(), Some(end));
    assert_eq!(
        draft["automatically_finalizes_at"].as_i64(),
        Some(end + HOUR)
    );
    assert_eq!(draft["auto_advance"], true);
    assert_eq!(draft["attempted"], false);

    // An hour later: finalized and paid.
    advance_to(&sandbox, end + HOUR + 60);
    let collected = all_events(&sandbox).await;
    assert_eq!(
        types(&collected[13..]),
        [
            "invoice.finalized",
            "payment_intent.created",
            "charge.succeeded",
            "payment_intent.succeeded",
            "invoice.paid",
            "invoice.payment_succeeded",
        ]
    );
    assert!(collected[13..]
        .iter()
        .all(|event| event["created"].as_i64() == Some(end + HOUR)));
    assert_eq!(
        collected[15]["data"]["object"]["description"],
        "Subscription cycle"
    );
    let paid = invoice(&sandbox, draft["id"].as_str().unwrap()).await;
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["amount_paid"], 2000);
    assert_eq!(paid["attempt_count"], 1);
    assert_eq!(paid["automatically_finalizes_at"], Value::Null);
}

#[tokio::test]
async fn updates_and_cancellations_emit_subscription_updated_then_deleted() {
    let sandbox = billing_sandbox(None).await;
    let session = subscribe(&sandbox, "", "leaving@shop.test").await;
    let id = session["subscription"].as_str().unwrap();
    let before = all_events(&sandbox).await.len();
    let updated = stripe_post(
        &sandbox,
        &format!("/v1/subscriptions/{id}"),
        "metadata[plan]=pro&cancel_at_period_end=true",
    )
    .await;
    assert_eq!(updated.status, 200, "{}", updated.json);
    let end = updated.json["items"]["data"][0]["current_period_end"]
        .as_i64()
        .unwrap();
    advance_to(&sandbox, end + 2 * HOUR);
    let emitted = all_events(&sandbox).await;
    assert_eq!(
        types(&emitted[before..]),
        [
            "customer.subscription.updated",
            "customer.subscription.deleted"
        ]
    );
    let previous = &emitted[before]["data"]["previous_attributes"];
    assert_eq!(previous["cancel_at_period_end"], false);
    let deleted = &emitted[before + 1];
    assert_eq!(deleted["created"].as_i64(), Some(end));
    assert_eq!(deleted["data"]["object"]["status"], "canceled");
    assert_eq!(
        deleted["data"]["object"]["cancellation_details"]["reason"],
        "cancellation_requested"
    );
}

#[tokio::test]
async fn a_trial_with_a_payment_method_ends_in_a_paid_first_period() {
    let sandbox = billing_sandbox(None).await;
    let session = subscribe(
        &sandbox,
        "&subscription_data[trial_period_days]=7",
        "trial@shop.test",
    )
    .await;
    let id = session["subscription"].as_str().unwrap();
    let trial_end = subscription(&sandbox, id).await["trial_end"]
        .as_i64()
        .unwrap();
    let before = all_events(&sandbox).await.len();
    advance_to(&sandbox, trial_end + HOUR + 60);
    let emitted = all_events(&sandbox).await;
    assert_eq!(
        types(&emitted[before..]),
        [
            "customer.subscription.trial_will_end",
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
    assert_eq!(
        emitted[before]["created"].as_i64(),
        Some(trial_end - 3 * 24 * HOUR)
    );
    assert_eq!(
        emitted[before + 1]["data"]["previous_attributes"]["status"],
        "trialing"
    );
    assert_eq!(subscription(&sandbox, id).await["status"], "active");
}

#[tokio::test]
async fn a_trial_without_a_payment_method_bills_pauses_or_cancels_as_trial_settings_say() {
    let sandbox = billing_sandbox(None).await;
    let no_card = "&payment_method_collection=if_required&subscription_data[trial_period_days]=7";
    let invoiced = subscribe(&sandbox, no_card, "invoice@shop.test").await;
    let paused = subscribe(
        &sandbox,
        &format!(
            "{no_card}&subscription_data[trial_settings][end_behavior][missing_payment_method]=pause"
        ),
        "pause@shop.test",
    )
    .await;
    let canceled = subscribe(
        &sandbox,
        &format!(
            "{no_card}&subscription_data[trial_settings][end_behavior][missing_payment_method]=cancel"
        ),
        "cancel@shop.test",
    )
    .await;
    let invoiced_id = invoiced["subscription"].as_str().unwrap();
    let paused_id = paused["subscription"].as_str().unwrap();
    let canceled_id = canceled["subscription"].as_str().unwrap();
    for id in [invoiced_id, paused_id, canceled_id] {
        assert_eq!(
            subscription(&sandbox, id).await["default_payment_method"],
            Value::Null
        );
    }
    let trial_end = subscription(&sandbox, invoiced_id).await["trial_end"]
        .as_i64()
        .unwrap();
    let before = all_events(&sandbox).await.len();
    advance_to(&sandbox, trial_end + HOUR + 60);
    let emitted = all_events(&sandbox).await;
    let later = &emitted[before..];

    // `create_invoice` (the default): the first period is billed, the payment fails for want
    // of a method, and the subscription is past due.
    assert_eq!(
        types(
            &about(later, &[invoiced_id])
                .into_iter()
                .cloned()
                .collect::<Vec<_>>()
        ),
        [
            "customer.subscription.trial_will_end",
            "customer.subscription.updated",
            "invoice.created",
            "invoice.finalized",
            "invoice.payment_failed",
            "customer.subscription.updated",
        ]
    );
    let sub = subscription(&sandbox, invoiced_id).await;
    assert_eq!(sub["status"], "past_due");
    let open = invoice(&sandbox, sub["latest_invoice"].as_str().unwrap()).await;
    assert_eq!(open["status"], "open");
    assert_eq!(open["attempt_count"], 1);
    assert!(open["next_payment_attempt"].as_i64().unwrap() > trial_end + HOUR);

    // `pause`: paused, nothing billed.
    assert_eq!(
        types(
            &about(later, &[paused_id])
                .into_iter()
                .cloned()
                .collect::<Vec<_>>()
        ),
        [
            "customer.subscription.trial_will_end",
            "customer.subscription.updated",
            "customer.subscription.paused",
        ]
    );
    assert_eq!(subscription(&sandbox, paused_id).await["status"], "paused");

    // `cancel`: canceled at the trial's end.
    assert_eq!(
        types(
            &about(later, &[canceled_id])
                .into_iter()
                .cloned()
                .collect::<Vec<_>>()
        ),
        [
            "customer.subscription.trial_will_end",
            "customer.subscription.deleted",
        ]
    );
    let ended = subscription(&sandbox, canceled_id).await;
    assert_eq!(ended["status"], "canceled");
    assert_eq!(ended["ended_at"].as_i64(), Some(trial_end));
}

#[tokio::test]
async fn open_checkouts_expire_when_the_clock_passes_expires_at() {
    let sandbox = billing_sandbox(None).await;
    let id = payment_session(&sandbox, 1500, "usd").await;
    let expires_at = get(&sandbox, &format!("/v1/checkout/sessions/{id}")).await["expires_at"]
        .as_i64()
        .unwrap();
    advance_to(&sandbox, expires_at - 60);
    assert_eq!(all_events(&sandbox).await.len(), 0);
    advance_to(&sandbox, expires_at + 60);
    let emitted = all_events(&sandbox).await;
    assert_eq!(types(&emitted), ["checkout.session.expired"]);
    assert_eq!(emitted[0]["created"].as_i64(), Some(expires_at));
    assert_eq!(emitted[0]["data"]["object"]["status"], "expired");
}

/// Runs one script of payments and clock moves and returns its events' types and a summary
/// of every object's state, without ids or times (which differ between runs).
async fn run_script() -> (Vec<String>, Vec<String>) {
    let sandbox = Sandbox::builder()
        .price(
            PriceSeed::recurring("Pro", 2000, "usd", "month")
                .with_id("price_pro")
                .with_product_id("prod_pro"),
        )
        .start()
        .await
        .unwrap();
    let steady = subscribe(&sandbox, "", "steady@shop.test").await;
    let failing = subscribe(&sandbox, "", "failing@shop.test").await;
    let trial = subscribe(
        &sandbox,
        "&subscription_data[trial_period_days]=10",
        "trial@shop.test",
    )
    .await;
    let failing_id = failing["subscription"].as_str().unwrap();
    let method = attach(
        &sandbox,
        "pm_card_chargeCustomerFail",
        failing["customer"].as_str().unwrap(),
    )
    .await;
    use_method(&sandbox, failing_id, &method).await;
    let declined = payment_session(&sandbox, 700, "usd").await;
    let _ = sandbox.pay(&declined, Some("4000000000000002"));
    sandbox.pay(&declined, None).unwrap();
    let debit = payment_session(&sandbox, 700, "eur").await;
    sandbox.pay(&debit, Some("DE08370400440532013003")).unwrap();
    sandbox.advance_clock(Duration::from_secs(200));
    // Paid sessions are forgotten a week later: read them now.
    let mut sessions = Vec::new();
    for id in [&declined, &debit] {
        let session = get(&sandbox, &format!("/v1/checkout/sessions/{id}")).await;
        sessions.push(format!(
            "{} {}",
            session["status"], session["payment_status"]
        ));
    }
    for _ in 0..4 {
        sandbox.advance_clock(Duration::from_secs(u64::try_from(20 * 24 * HOUR).unwrap()));
    }
    let emitted = all_events(&sandbox).await;
    let mut states = Vec::new();
    for session in [&steady, &failing, &trial] {
        let sub = subscription(&sandbox, session["subscription"].as_str().unwrap()).await;
        let invoices = stripe_get(
            &sandbox,
            &format!(
                "/v1/invoices?subscription={}&limit=100",
                sub["id"].as_str().unwrap()
            ),
        )
        .await
        .json;
        let summary: Vec<String> = invoices["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|invoice| {
                format!(
                    "{} {} paid {} attempts {}",
                    invoice["billing_reason"],
                    invoice["status"],
                    invoice["amount_paid"],
                    invoice["attempt_count"]
                )
            })
            .collect();
        states.push(format!(
            "{} {} {:?}",
            sub["status"], sub["cancellation_details"]["reason"], summary
        ));
    }
    states.extend(sessions);
    (types(&emitted), states)
}

#[tokio::test]
async fn the_same_script_gives_the_same_events_in_the_same_order_and_the_same_states() {
    let (first_events, first_states) = run_script().await;
    let (second_events, second_states) = run_script().await;
    assert_eq!(first_events, second_events);
    assert_eq!(first_states, second_states);
    // The script did what it says: a renewal failed and the dunning path ran to its end.
    assert!(first_events
        .iter()
        .any(|kind| kind == "invoice.payment_failed"));
    assert!(first_events
        .iter()
        .any(|kind| kind == "checkout.session.async_payment_succeeded"));
    assert!(
        first_states[1].starts_with("\"canceled\" \"payment_failed\""),
        "{first_states:?}"
    );
    assert!(first_events.len() > 80, "{}", first_events.len());
}
