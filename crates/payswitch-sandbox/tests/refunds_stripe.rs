//! Stripe refunds in the sandbox over HTTP: partial and remaining refunds on a charge, the
//! errors of real Stripe (already refunded, over-refund, unknown ids), idempotent replay, and
//! the `charge.refunded` / `refund.created` events.

mod common;

use common::billing::*;
use common::*;
use payswitch_sandbox::{Gateway, RefundStatus};

#[tokio::test]
async fn partial_refunds_add_up_and_a_refunded_charge_refuses_more() {
    let sandbox = billing_sandbox(None).await;
    let intent = paid_payment(&sandbox).await;
    let charge_id = stripe_get(&sandbox, &format!("/v1/payment_intents/{intent}"))
        .await
        .json["latest_charge"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = events(&sandbox).await.len();

    let first = stripe_post(
        &sandbox,
        "/v1/refunds",
        &format!(
            "payment_intent={intent}&amount=1500&reason=requested_by_customer&metadata[ticket]=T-1"
        ),
    )
    .await;
    assert_eq!(first.status, 200, "{}", first.json);
    assert!(first.json["id"].as_str().unwrap().starts_with("re_"));
    assert_eq!(first.json["object"], "refund");
    assert_eq!(first.json["amount"], 1500);
    assert_eq!(first.json["charge"], charge_id.as_str());
    assert_eq!(first.json["payment_intent"], intent.as_str());
    assert_eq!(first.json["currency"], "usd");
    assert_eq!(first.json["status"], "succeeded");
    assert_eq!(first.json["reason"], "requested_by_customer");
    assert_eq!(first.json["metadata"]["ticket"], "T-1");
    let charge = stripe_get(&sandbox, &format!("/v1/charges/{charge_id}"))
        .await
        .json;
    assert_eq!(charge["amount_refunded"], 1500);
    assert_eq!(charge["refunded"], false);

    let emitted = events_after(&sandbox, before).await;
    assert_eq!(types(&emitted), ["charge.refunded", "refund.created"]);
    assert_eq!(emitted[0]["data"]["object"]["amount_refunded"], 1500);
    assert_eq!(
        emitted[0]["data"]["previous_attributes"]["amount_refunded"],
        0
    );
    assert_eq!(emitted[1]["data"]["object"]["id"], first.json["id"]);

    // The rest, by charge, without an amount.
    let rest = stripe_post(&sandbox, "/v1/refunds", &format!("charge={charge_id}")).await;
    assert_eq!(rest.status, 200, "{}", rest.json);
    assert_eq!(rest.json["amount"], 2500);
    let charge = stripe_get(&sandbox, &format!("/v1/charges/{charge_id}"))
        .await
        .json;
    assert_eq!(charge["amount_refunded"], 4000);
    assert_eq!(charge["refunded"], true);

    let again = stripe_post(
        &sandbox,
        "/v1/refunds",
        &format!("payment_intent={intent}&amount=1"),
    )
    .await;
    assert_error(
        &again,
        400,
        "invalid_request_error",
        Some("charge_already_refunded"),
        None,
    );
    assert_eq!(
        again.json["error"]["message"],
        format!("Charge {charge_id} has already been refunded.")
    );

    let listed = stripe_get(&sandbox, &format!("/v1/refunds?payment_intent={intent}"))
        .await
        .json;
    let ids: Vec<&str> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|refund| refund["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            rest.json["id"].as_str().unwrap(),
            first.json["id"].as_str().unwrap()
        ]
    );
    assert_eq!(listed["url"], "/v1/refunds");
    let by_charge = stripe_get(&sandbox, &format!("/v1/refunds?charge={charge_id}"))
        .await
        .json;
    assert_eq!(by_charge["data"].as_array().unwrap().len(), 2);
    let retrieved = stripe_get(
        &sandbox,
        &format!(
            "/v1/refunds/{}?expand[]=charge",
            first.json["id"].as_str().unwrap()
        ),
    )
    .await
    .json;
    assert_eq!(retrieved["amount"], 1500);
    assert_eq!(retrieved["charge"]["object"], "charge");

    let records = sandbox.refunds();
    assert_eq!(records.len(), 2);
    assert!(records.iter().all(|record| record.payment == charge_id));
    assert_eq!(
        records.iter().map(|record| record.amount).sum::<i64>(),
        4000
    );
    assert!(records.iter().all(
        |record| record.status == RefundStatus::Succeeded && record.gateway == Gateway::Stripe
    ));
    // The payment-mode checkout had no customer.
    assert!(records.iter().all(|record| record.customer.is_empty()));
}

#[tokio::test]
async fn an_over_refund_fails_and_changes_nothing() {
    let sandbox = billing_sandbox(None).await;
    let intent = paid_payment(&sandbox).await;
    let partial = stripe_post(
        &sandbox,
        "/v1/refunds",
        &format!("payment_intent={intent}&amount=1000"),
    )
    .await;
    assert_eq!(partial.status, 200, "{}", partial.json);
    let before = events(&sandbox).await.len();
    let over = stripe_post(
        &sandbox,
        "/v1/refunds",
        &format!("payment_intent={intent}&amount=3001"),
    )
    .await;
    assert_error(&over, 400, "invalid_request_error", None, Some("amount"));
    assert_eq!(
        over.json["error"]["message"],
        "Refund amount ($30.01) is greater than unrefunded amount on charge ($30.00)"
    );
    let charge_id = partial.json["charge"].as_str().unwrap();
    let charge = stripe_get(&sandbox, &format!("/v1/charges/{charge_id}"))
        .await
        .json;
    assert_eq!(charge["amount_refunded"], 1000);
    assert_eq!(sandbox.refunds().len(), 1);
    assert_eq!(
        events(&sandbox).await.len(),
        before,
        "no event for a refused refund"
    );

    let unknown_intent = stripe_post(&sandbox, "/v1/refunds", "payment_intent=pi_nope").await;
    assert_error(
        &unknown_intent,
        404,
        "invalid_request_error",
        Some("resource_missing"),
        Some("payment_intent"),
    );
    assert_eq!(
        unknown_intent.json["error"]["message"],
        "No such payment_intent: 'pi_nope'"
    );
    let unknown_charge = stripe_post(&sandbox, "/v1/refunds", "charge=ch_nope").await;
    assert_error(
        &unknown_charge,
        404,
        "invalid_request_error",
        Some("resource_missing"),
        Some("charge"),
    );
    let unknown_refund = stripe_get(&sandbox, "/v1/refunds/re_nope").await;
    assert_error(
        &unknown_refund,
        404,
        "invalid_request_error",
        Some("resource_missing"),
        Some("refund"),
    );
    let neither = stripe_post(&sandbox, "/v1/refunds", "amount=100").await;
    assert_error(
        &neither,
        400,
        "invalid_request_error",
        Some("parameter_missing"),
        None,
    );
    let reason = stripe_post(
        &sandbox,
        "/v1/refunds",
        &format!("payment_intent={intent}&reason=bored"),
    )
    .await;
    assert_error(&reason, 400, "invalid_request_error", None, Some("reason"));
    let unemulated = stripe_post(
        &sandbox,
        "/v1/refunds",
        &format!("payment_intent={intent}&reverse_transfer=true"),
    )
    .await;
    assert_error(
        &unemulated,
        400,
        "invalid_request_error",
        None,
        Some("reverse_transfer"),
    );

    // An intent that never succeeded has nothing to refund.
    let open = stripe_post(&sandbox, "/v1/payment_intents", "amount=1000&currency=usd").await;
    let open_id = open.json["id"].as_str().unwrap();
    let nothing = stripe_post(
        &sandbox,
        "/v1/refunds",
        &format!("payment_intent={open_id}"),
    )
    .await;
    assert_error(
        &nothing,
        400,
        "invalid_request_error",
        None,
        Some("payment_intent"),
    );
}

#[tokio::test]
async fn refunds_replay_under_their_idempotency_key_and_confirmed_intents_refund_too() {
    let sandbox = billing_sandbox(None).await;
    let created = stripe_post(
        &sandbox,
        "/v1/payment_intents",
        "amount=2500&currency=eur&confirm=true&payment_method=pm_card_visa",
    )
    .await;
    assert_eq!(created.json["status"], "succeeded", "{}", created.json);
    let intent = created.json["id"].as_str().unwrap();
    let body = format!("payment_intent={intent}&amount=500");
    let first = stripe_post_with(&sandbox, "/v1/refunds", &body, Some("refund-key-1")).await;
    let second = stripe_post_with(&sandbox, "/v1/refunds", &body, Some("refund-key-1")).await;
    assert_eq!(first.status, 200, "{}", first.json);
    assert_eq!(second.json["id"], first.json["id"]);
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    assert_eq!(sandbox.refunds().len(), 1);
    let over = stripe_post(
        &sandbox,
        "/v1/refunds",
        &format!("payment_intent={intent}&amount=2001"),
    )
    .await;
    assert_eq!(
        over.json["error"]["message"],
        "Refund amount (€20.01) is greater than unrefunded amount on charge (€20.00)"
    );
}
