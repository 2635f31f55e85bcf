//! Stripe's dunning in the sandbox: a renewal charged to `pm_card_chargeCustomerFail` (the
//! `4000 0000 0000 0341` card: attaches, every charge fails) fails, the subscription goes
//! `past_due`, payment is retried on the account's schedule, and either a replaced card pays
//! a retry (back to `active`) or the retries run out (canceled, or `unpaid` per the setting);
//! paying an invoice through the API; and a whole year advanced by the clock with one failed
//! renewal recovered and one not.

mod common;

use common::billing::*;
use common::*;
use payswitch_sandbox::{
    PriceSeed, Sandbox, SandboxHandle, StripeDunning, StripeInvoiceAfterRetries,
    StripeSubscriptionAfterRetries,
};
use serde_json::Value;

const HOUR: i64 = 60 * 60;

async fn sandbox_with(dunning: StripeDunning) -> SandboxHandle {
    Sandbox::builder()
        .price(
            PriceSeed::recurring("Pro", 2000, "usd", "month")
                .with_id("price_pro")
                .with_product_id("prod_pro"),
        )
        .stripe_dunning(dunning)
        .start()
        .await
        .unwrap()
}

/// The end of the subscription's current period.
async fn period_end(sandbox: &SandboxHandle, id: &str) -> i64 {
    subscription(sandbox, id).await["items"]["data"][0]["current_period_end"]
        .as_i64()
        .unwrap()
}

/// Subscribes with the test card that pays, then switches the subscription to the card whose
/// charges fail; returns the subscription and customer ids.
async fn subscribe_then_fail(sandbox: &SandboxHandle, email: &str) -> (String, String) {
    let session = subscribe(sandbox, "", email).await;
    let id = session["subscription"].as_str().unwrap().to_owned();
    let customer = session["customer"].as_str().unwrap().to_owned();
    let failing = attach(sandbox, "pm_card_chargeCustomerFail", &customer).await;
    use_method(sandbox, &id, &failing).await;
    (id, customer)
}

fn types_of(events: &[&Value]) -> Vec<String> {
    events
        .iter()
        .map(|event| event["type"].as_str().unwrap().to_owned())
        .collect()
}

/// The events of one failed attempt at an invoice that was already past due.
const FAILED_RETRY: [&str; 3] = [
    "charge.failed",
    "payment_intent.payment_failed",
    "invoice.payment_failed",
];

#[tokio::test]
async fn a_failed_renewal_retries_on_schedule_and_recovers_when_the_subscriptions_card_is_replaced()
{
    let sandbox = sandbox_with(StripeDunning::retry_after_days(&[3, 5, 7])).await;
    let (id, customer) = subscribe_then_fail(&sandbox, "recover@shop.test").await;
    let end = period_end(&sandbox, &id).await;
    let before = all_events(&sandbox).await.len();

    // The renewal's first attempt, an hour after the period end, fails.
    let first = end + HOUR;
    advance_to(&sandbox, first + 60);
    let emitted = all_events(&sandbox).await;
    assert_eq!(
        types(&emitted[before..]),
        [
            "customer.subscription.updated",
            "invoice.created",
            "invoice.finalized",
            "payment_intent.created",
            "charge.failed",
            "payment_intent.payment_failed",
            "invoice.payment_failed",
            "customer.subscription.updated",
        ]
    );
    let failed = &emitted[before + 6]["data"]["object"];
    assert_eq!(failed["status"], "open");
    assert_eq!(failed["attempt_count"], 1);
    assert_eq!(failed["attempted"], true);
    assert_eq!(
        failed["next_payment_attempt"].as_i64(),
        Some(first + 3 * 24 * HOUR)
    );
    let invoice_id = failed["id"].as_str().unwrap().to_owned();
    let past_due = &emitted[before + 7];
    assert_eq!(past_due["data"]["object"]["status"], "past_due");
    assert_eq!(past_due["data"]["previous_attributes"]["status"], "active");
    let charge = &emitted[before + 4]["data"]["object"];
    assert_eq!(charge["failure_code"], "card_declined");
    assert_eq!(charge["payment_method_details"]["card"]["last4"], "0341");
    assert_eq!(subscription(&sandbox, &id).await["status"], "past_due");
    assert_eq!(
        sandbox.subscriptions()[0].status,
        payswitch_sandbox::SubscriptionStatus::PastDue
    );

    // Retry 1, three days later, fails on the same card.
    let retry1 = first + 3 * 24 * HOUR;
    let before = emitted.len();
    advance_to(&sandbox, retry1 + 60);
    let emitted = all_events(&sandbox).await;
    assert_eq!(types(&emitted[before..]), FAILED_RETRY);
    assert!(emitted[before..]
        .iter()
        .all(|event| event["created"].as_i64() == Some(retry1)));
    let open = invoice(&sandbox, &invoice_id).await;
    assert_eq!(open["attempt_count"], 2);
    assert_eq!(
        open["next_payment_attempt"].as_i64(),
        Some(retry1 + 5 * 24 * HOUR)
    );

    // The customer's default changes, but the subscription names its own method: Stripe keeps
    // retrying on the subscription's, so retry 2 fails too.
    let visa = attach(&sandbox, "pm_card_visa", &customer).await;
    let updated = stripe_post(
        &sandbox,
        &format!("/v1/customers/{customer}"),
        &format!("invoice_settings[default_payment_method]={visa}"),
    )
    .await;
    assert_eq!(updated.status, 200, "{}", updated.json);
    assert_eq!(
        updated.json["invoice_settings"]["default_payment_method"],
        visa.as_str()
    );
    let retry2 = retry1 + 5 * 24 * HOUR;
    let before = all_events(&sandbox).await.len();
    advance_to(&sandbox, retry2 + 60);
    let emitted = all_events(&sandbox).await;
    assert_eq!(types(&emitted[before..]), FAILED_RETRY);
    assert_eq!(invoice(&sandbox, &invoice_id).await["attempt_count"], 3);

    // Replacing the subscription's card: the last retry pays, and the subscription is active.
    use_method(&sandbox, &id, &visa).await;
    let retry3 = retry2 + 7 * 24 * HOUR;
    let before = all_events(&sandbox).await.len();
    advance_to(&sandbox, retry3 + 60);
    let emitted = all_events(&sandbox).await;
    assert_eq!(
        types(&emitted[before..]),
        [
            "charge.succeeded",
            "payment_intent.succeeded",
            "invoice.paid",
            "invoice.payment_succeeded",
            "customer.subscription.updated",
        ]
    );
    let recovered = &emitted[before + 4];
    assert_eq!(recovered["data"]["object"]["status"], "active");
    assert_eq!(
        recovered["data"]["previous_attributes"]["status"],
        "past_due"
    );
    let paid = invoice(&sandbox, &invoice_id).await;
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["attempt_count"], 4);
    assert_eq!(paid["next_payment_attempt"], Value::Null);
    assert_eq!(paid["amount_paid"], 2000);
    // One PaymentIntent for the invoice, reused by every retry; one charge per attempt.
    let intent = &emitted[before + 1]["data"]["object"];
    assert_eq!(intent["status"], "succeeded");
    assert_eq!(
        intent["latest_charge"],
        emitted[before]["data"]["object"]["id"]
    );
    let attempts_on_it = |kind: &str| {
        emitted
            .iter()
            .filter(|event| {
                event["type"] == kind
                    && (event["data"]["object"]["id"] == intent["id"]
                        || event["data"]["object"]["payment_intent"] == intent["id"])
            })
            .count()
    };
    assert_eq!(attempts_on_it("payment_intent.created"), 1);
    assert_eq!(attempts_on_it("charge.failed"), 3);
    assert_eq!(attempts_on_it("charge.succeeded"), 1);
}

#[tokio::test]
async fn exhausted_retries_cancel_the_subscription_by_default_eight_retries_in_two_weeks() {
    let sandbox = sandbox_with(StripeDunning::default()).await;
    let (id, _) = subscribe_then_fail(&sandbox, "lost@shop.test").await;
    let end = period_end(&sandbox, &id).await;
    let first = end + HOUR;
    let before = all_events(&sandbox).await.len();
    advance_to(&sandbox, first + 14 * 24 * HOUR + 60);
    let emitted = all_events(&sandbox).await;
    let mut expected: Vec<&str> = vec![
        "customer.subscription.updated",
        "invoice.created",
        "invoice.finalized",
        "payment_intent.created",
        "charge.failed",
        "payment_intent.payment_failed",
        "invoice.payment_failed",
        "customer.subscription.updated",
    ];
    for _ in 0..8 {
        expected.extend(FAILED_RETRY);
    }
    expected.push("customer.subscription.deleted");
    assert_eq!(types(&emitted[before..]), expected);

    // The retries come every 42 hours, the last 14 days after the first attempt.
    let attempts: Vec<i64> = emitted[before..]
        .iter()
        .filter(|event| event["type"] == "invoice.payment_failed")
        .map(|event| event["created"].as_i64().unwrap())
        .collect();
    let expected_times: Vec<i64> = (0..9).map(|n| first + n * 42 * HOUR).collect();
    assert_eq!(attempts, expected_times);
    let last = emitted
        .iter()
        .rev()
        .find(|event| event["type"] == "invoice.payment_failed")
        .unwrap();
    assert_eq!(last["data"]["object"]["attempt_count"], 9);
    assert_eq!(last["data"]["object"]["next_payment_attempt"], Value::Null);

    let ended = subscription(&sandbox, &id).await;
    assert_eq!(ended["status"], "canceled");
    assert_eq!(ended["cancellation_details"]["reason"], "payment_failed");
    assert_eq!(ended["ended_at"].as_i64(), Some(first + 14 * 24 * HOUR));
    let open = invoice(&sandbox, ended["latest_invoice"].as_str().unwrap()).await;
    assert_eq!(
        open["status"], "open",
        "the invoice is left open by default"
    );
    assert_eq!(open["auto_advance"], false);
    // A canceled subscription does not renew.
    advance_to(&sandbox, end + 60 * 24 * HOUR);
    assert_eq!(
        subscription(&sandbox, &id).await["latest_invoice"],
        ended["latest_invoice"]
    );
}

#[tokio::test]
async fn exhausted_retries_can_mark_the_subscription_unpaid_and_the_invoice_uncollectible() {
    let sandbox = sandbox_with(
        StripeDunning::retry_after_days(&[1])
            .subscription_after_retries(StripeSubscriptionAfterRetries::MarkUnpaid)
            .invoice_after_retries(StripeInvoiceAfterRetries::MarkUncollectible),
    )
    .await;
    let (id, customer) = subscribe_then_fail(&sandbox, "unpaid@shop.test").await;
    let end = period_end(&sandbox, &id).await;
    let first = end + HOUR;
    advance_to(&sandbox, first + 60);
    let failed_invoice = subscription(&sandbox, &id).await["latest_invoice"]
        .as_str()
        .unwrap()
        .to_owned();

    // Paying through the API is a manual attempt: it fails on the same card and leaves the
    // retry schedule as it was.
    let before = all_events(&sandbox).await.len();
    let manual = stripe_post(&sandbox, &format!("/v1/invoices/{failed_invoice}/pay"), "").await;
    assert_error(&manual, 402, "card_error", Some("card_declined"), None);
    assert_eq!(manual.json["error"]["decline_code"], "generic_decline");
    assert_eq!(types(&all_events(&sandbox).await[before..]), FAILED_RETRY);
    let still = invoice(&sandbox, &failed_invoice).await;
    assert_eq!(still["attempt_count"], 1);
    assert_eq!(
        still["next_payment_attempt"].as_i64(),
        Some(first + 24 * HOUR)
    );

    // The one retry fails: the invoice is marked uncollectible, the subscription unpaid.
    let before = all_events(&sandbox).await.len();
    advance_to(&sandbox, first + 24 * HOUR + 60);
    let emitted = all_events(&sandbox).await;
    let mut expected = FAILED_RETRY.to_vec();
    expected.extend([
        "invoice.marked_uncollectible",
        "customer.subscription.updated",
    ]);
    assert_eq!(types(&emitted[before..]), expected);
    assert_eq!(
        emitted.last().unwrap()["data"]["object"]["status"],
        "unpaid"
    );
    assert_eq!(
        invoice(&sandbox, &failed_invoice).await["status"],
        "uncollectible"
    );
    assert_eq!(
        sandbox.subscriptions()[0].status,
        payswitch_sandbox::SubscriptionStatus::Unpaid
    );

    // An unpaid subscription still renews; its invoices are finalized and left open.
    let next_end = period_end(&sandbox, &id).await;
    let before = all_events(&sandbox).await.len();
    advance_to(&sandbox, next_end + HOUR + 60);
    let emitted = all_events(&sandbox).await;
    assert_eq!(
        types(&emitted[before..]),
        [
            "customer.subscription.updated",
            "invoice.created",
            "invoice.finalized"
        ]
    );
    let unattempted = &emitted[before + 2]["data"]["object"];
    assert_eq!(unattempted["status"], "open");
    assert_eq!(unattempted["attempted"], false);
    assert_eq!(unattempted["next_payment_attempt"], Value::Null);
    let second_invoice = unattempted["id"].as_str().unwrap().to_owned();

    // The customer pays both with a new card: the subscription is active once nothing is owed.
    let visa = attach(&sandbox, "pm_card_visa", &customer).await;
    let paid = stripe_post(
        &sandbox,
        &format!("/v1/invoices/{failed_invoice}/pay"),
        &format!("payment_method={visa}"),
    )
    .await;
    assert_eq!(paid.status, 200, "{}", paid.json);
    assert_eq!(paid.json["status"], "paid");
    assert_eq!(subscription(&sandbox, &id).await["status"], "unpaid");
    let before = all_events(&sandbox).await.len();
    let paid = stripe_post(
        &sandbox,
        &format!("/v1/invoices/{second_invoice}/pay"),
        &format!("payment_method={visa}"),
    )
    .await;
    assert_eq!(paid.status, 200, "{}", paid.json);
    assert_eq!(
        types(&all_events(&sandbox).await[before..]),
        [
            "payment_intent.created",
            "charge.succeeded",
            "payment_intent.succeeded",
            "invoice.paid",
            "invoice.payment_succeeded",
            "customer.subscription.updated",
        ]
    );
    assert_eq!(subscription(&sandbox, &id).await["status"], "active");

    // Errors: a paid invoice, a method the customer does not have.
    let again = stripe_post(&sandbox, &format!("/v1/invoices/{second_invoice}/pay"), "").await;
    assert_error(&again, 400, "invalid_request_error", None, None);
    let foreign = stripe_post(
        &sandbox,
        &format!("/v1/invoices/{second_invoice}/pay"),
        "payment_method=pm_nope",
    )
    .await;
    assert_eq!(foreign.status, 400, "{}", foreign.json);
}

#[tokio::test]
async fn payment_methods_attach_by_test_token_and_defaults_must_be_attached() {
    let sandbox = sandbox_with(StripeDunning::default()).await;
    let created = stripe_post(
        &sandbox,
        "/v1/customers",
        "email=card%40shop.test&payment_method=pm_card_visa\
         &invoice_settings[default_payment_method]=pm_card_visa",
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.json);
    let customer = created.json["id"].as_str().unwrap();
    let default = created.json["invoice_settings"]["default_payment_method"]
        .as_str()
        .unwrap();
    assert!(default.starts_with("pm_") && default != "pm_card_visa");
    let method = stripe_get(&sandbox, &format!("/v1/payment_methods/{default}")).await;
    assert_eq!(method.json["customer"], customer);
    assert_eq!(method.json["card"]["last4"], "4242");
    assert_eq!(
        types(&all_events(&sandbox).await),
        ["customer.created", "payment_method.attached"]
    );

    // A card Stripe will not attach, an unknown token, a method of another customer.
    let declined = stripe_post(
        &sandbox,
        "/v1/payment_methods/pm_card_chargeDeclined/attach",
        &format!("customer={customer}"),
    )
    .await;
    assert_error(&declined, 402, "card_error", Some("card_declined"), None);
    let unknown = stripe_post(
        &sandbox,
        "/v1/payment_methods/pm_nope/attach",
        &format!("customer={customer}"),
    )
    .await;
    assert_error(
        &unknown,
        400,
        "invalid_request_error",
        Some("resource_missing"),
        Some("payment_method"),
    );
    let other = stripe_post(&sandbox, "/v1/customers", "email=other%40shop.test").await;
    let other = other.json["id"].as_str().unwrap();
    let not_theirs = stripe_post(
        &sandbox,
        &format!("/v1/customers/{other}"),
        &format!("invoice_settings[default_payment_method]={default}"),
    )
    .await;
    assert_error(
        &not_theirs,
        400,
        "invalid_request_error",
        Some("resource_missing"),
        Some("invoice_settings[default_payment_method]"),
    );
    let session = subscribe(&sandbox, "", "sub@shop.test").await;
    let on_subscription = stripe_post(
        &sandbox,
        &format!(
            "/v1/subscriptions/{}",
            session["subscription"].as_str().unwrap()
        ),
        &format!("default_payment_method={default}"),
    )
    .await;
    assert_error(
        &on_subscription,
        400,
        "invalid_request_error",
        Some("resource_missing"),
        Some("default_payment_method"),
    );
}

/// The done-when of the issue: a year of monthly renewals advanced by the clock, one
/// subscription whose failed renewal is recovered by a new card, one whose retries run out.
#[tokio::test]
async fn a_year_of_renewals_with_one_failed_renewal_recovered_and_one_not() {
    let sandbox = sandbox_with(StripeDunning::retry_after_days(&[3, 5, 7])).await;
    let recovered = subscribe(&sandbox, "", "kept@shop.test").await;
    let recovered_id = recovered["subscription"].as_str().unwrap().to_owned();
    let recovered_customer = recovered["customer"].as_str().unwrap().to_owned();
    let (lost_id, _) = subscribe_then_fail(&sandbox, "gone@shop.test").await;
    let start = subscription(&sandbox, &recovered_id).await["start_date"]
        .as_i64()
        .unwrap();
    // Month ends, counted independently of the sandbox's calendar.
    let mut ends = vec![one_month_after(start)];
    for _ in 1..12 {
        let last = *ends.last().unwrap();
        ends.push(one_month_after(last));
    }

    // Two renewals pay; then the kept subscription's card starts failing.
    advance_to(&sandbox, ends[1] + 2 * HOUR);
    let failing = attach(&sandbox, "pm_card_chargeCustomerFail", &recovered_customer).await;
    use_method(&sandbox, &recovered_id, &failing).await;
    // The third renewal fails, and so does its first retry.
    advance_to(&sandbox, ends[2] + HOUR + 3 * 24 * HOUR + 60);
    assert_eq!(
        subscription(&sandbox, &recovered_id).await["status"],
        "past_due"
    );
    // The customer replaces the card; the next retry pays.
    let visa = attach(&sandbox, "pm_card_visa", &recovered_customer).await;
    use_method(&sandbox, &recovered_id, &visa).await;
    // The rest of the year in one move.
    advance_to(&sandbox, ends[11] + 2 * HOUR);

    let emitted = all_events(&sandbox).await;
    // The kept subscription: active, 1 + 12 invoices, every one paid; the failed renewal paid
    // by the second retry (attempt 3), five days after the first retry.
    let kept = subscription(&sandbox, &recovered_id).await;
    assert_eq!(kept["status"], "active");
    assert_eq!(
        kept["items"]["data"][0]["current_period_start"].as_i64(),
        Some(ends[11])
    );
    let invoices = stripe_get(
        &sandbox,
        &format!("/v1/invoices?subscription={recovered_id}&limit=100"),
    )
    .await
    .json;
    let invoices = invoices["data"].as_array().unwrap();
    assert_eq!(invoices.len(), 13);
    assert!(invoices.iter().all(|invoice| invoice["status"] == "paid"));
    let total: i64 = invoices
        .iter()
        .map(|invoice| invoice["amount_paid"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 13 * 2000);
    let third = invoices
        .iter()
        .find(|invoice| invoice["period_end"].as_i64() == Some(ends[2]))
        .expect("the third renewal");
    assert_eq!(third["attempt_count"], 3);
    assert_eq!(
        third["status_transitions"]["paid_at"].as_i64(),
        Some(ends[2] + HOUR + 8 * 24 * HOUR)
    );
    let kept_statuses: Vec<(&str, &str)> = emitted
        .iter()
        .filter(|event| {
            event["type"] == "customer.subscription.updated"
                && event["data"]["object"]["id"] == recovered_id.as_str()
                && event["data"]["previous_attributes"].get("status").is_some()
        })
        .map(|event| {
            (
                event["data"]["previous_attributes"]["status"]
                    .as_str()
                    .unwrap(),
                event["data"]["object"]["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kept_statuses,
        [("active", "past_due"), ("past_due", "active")]
    );

    // The lost subscription: its first renewal failed four times and it was canceled; no
    // invoice after that.
    let lost = subscription(&sandbox, &lost_id).await;
    assert_eq!(lost["status"], "canceled");
    assert_eq!(lost["cancellation_details"]["reason"], "payment_failed");
    assert_eq!(
        lost["ended_at"].as_i64(),
        Some(ends[0] + HOUR + 15 * 24 * HOUR)
    );
    let lost_invoices = stripe_get(
        &sandbox,
        &format!("/v1/invoices?subscription={lost_id}&limit=100"),
    )
    .await
    .json;
    let statuses: Vec<&str> = lost_invoices["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|invoice| invoice["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["open", "paid"], "newest first");
    let lost_events: Vec<&Value> = about(&emitted, &[&lost_id])
        .into_iter()
        .filter(|event| event["created"].as_i64().unwrap() >= ends[0])
        .collect();
    // From its first renewal on; subscription and invoice events only (charges and
    // PaymentIntents name neither).
    assert_eq!(
        types_of(&lost_events),
        [
            "customer.subscription.updated",
            "invoice.created",
            "invoice.finalized",
            "invoice.payment_failed",
            "customer.subscription.updated",
            "invoice.payment_failed",
            "invoice.payment_failed",
            "invoice.payment_failed",
            "customer.subscription.deleted",
        ]
    );
    // Every Stripe object the year made is in the event log, in time order.
    let times: Vec<i64> = emitted
        .iter()
        .map(|event| event["created"].as_i64().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|pair| pair[0] <= pair[1]),
        "events in time order"
    );
}

#[tokio::test]
async fn canceling_a_past_due_subscription_stops_its_retries() {
    let sandbox = sandbox_with(StripeDunning::retry_after_days(&[3, 5, 7])).await;
    let (id, _) = subscribe_then_fail(&sandbox, "quit@shop.test").await;
    let end = period_end(&sandbox, &id).await;
    advance_to(&sandbox, end + HOUR + 60);
    let past_due = subscription(&sandbox, &id).await;
    assert_eq!(past_due["status"], "past_due");
    let open_id = past_due["latest_invoice"].as_str().unwrap().to_owned();
    assert!(invoice(&sandbox, &open_id).await["next_payment_attempt"].is_i64());

    let canceled = stripe_delete(&sandbox, &format!("/v1/subscriptions/{id}")).await;
    assert_eq!(canceled.status, 200, "{}", canceled.json);
    let open = invoice(&sandbox, &open_id).await;
    assert_eq!(open["status"], "open");
    assert_eq!(open["next_payment_attempt"], Value::Null);
    assert_eq!(open["auto_advance"], false);
    let before = all_events(&sandbox).await.len();
    advance_to(&sandbox, end + 20 * 24 * HOUR);
    assert_eq!(
        all_events(&sandbox).await.len(),
        before,
        "no retry after cancellation"
    );
    assert_eq!(invoice(&sandbox, &open_id).await["attempt_count"], 1);
}
