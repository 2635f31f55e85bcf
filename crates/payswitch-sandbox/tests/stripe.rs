//! Stripe side of the sandbox over HTTP: sessions, line items, listing,
//! expiry, PaymentIntents, validation errors, auth and idempotency.

mod common;

use std::time::Duration;

use common::*;
use payswitch_sandbox::SandboxError;
use serde_json::Value;

fn assert_error(reply: &Reply, status: u16, kind: &str, code: Option<&str>, param: Option<&str>) {
    assert_eq!(reply.status, status, "{}", reply.json);
    let error = &reply.json["error"];
    assert_eq!(error["type"], kind, "{}", reply.json);
    assert_eq!(error["code"].as_str(), code, "{}", reply.json);
    assert_eq!(error["param"].as_str(), param, "{}", reply.json);
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    if let Some(code) = code {
        assert_eq!(
            error["doc_url"],
            format!(
                "https://stripe.com/docs/error-codes/{}",
                code.replace('_', "-")
            )
        );
    }
    assert!(reply
        .header("request-id")
        .is_some_and(|id| id.starts_with("req_")));
}

#[tokio::test]
async fn creates_and_retrieves_a_session() {
    let sandbox = sandbox().await;
    let reply = stripe_post(
        &sandbox,
        "/v1/checkout/sessions",
        &session_form("https://shop.test/success?session_id={CHECKOUT_SESSION_ID}"),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert!(reply
        .header("request-id")
        .is_some_and(|id| id.starts_with("req_")));
    let session = &reply.json;
    let id = session["id"].as_str().unwrap();
    assert!(id.starts_with("cs_test_"));
    assert_eq!(session["object"], "checkout.session");
    assert_eq!(session["status"], "open");
    assert_eq!(session["payment_status"], "unpaid");
    assert_eq!(session["mode"], "payment");
    assert_eq!(session["amount_subtotal"], 4000);
    assert_eq!(session["amount_total"], 4000);
    assert_eq!(session["currency"], "usd");
    assert_eq!(session["url"], format!("{}/pay/{id}", sandbox.base_url()));
    assert_eq!(session["client_secret"], Value::Null);
    assert_eq!(session["metadata"]["order_id"], "ord 42");
    assert_eq!(session["client_reference_id"], "user_7");
    assert_eq!(session["payment_intent"], Value::Null);
    assert_eq!(
        session["success_url"],
        "https://shop.test/success?session_id={CHECKOUT_SESSION_ID}"
    );
    assert_eq!(
        session["expires_at"].as_i64().unwrap() - session["created"].as_i64().unwrap(),
        24 * 3600
    );
    assert!(session.get("line_items").is_none());

    let retrieved = stripe_get(&sandbox, &format!("/v1/checkout/sessions/{id}")).await;
    assert_eq!(retrieved.status, 200);
    assert_eq!(retrieved.json["id"], id);
    assert!(retrieved.json.get("line_items").is_none());

    for query in [
        "expand[0]=line_items",
        "expand%5B0%5D=line_items",
        "expand[]=line_items",
    ] {
        let expanded = stripe_get(&sandbox, &format!("/v1/checkout/sessions/{id}?{query}")).await;
        assert_eq!(expanded.status, 200, "{query}: {}", expanded.json);
        let items = &expanded.json["line_items"];
        assert_eq!(items["object"], "list");
        assert_eq!(items["data"][0]["object"], "item");
        assert_eq!(items["data"][0]["description"], "T-shirt & cap");
        assert_eq!(items["data"][0]["quantity"], 2);
        assert_eq!(items["data"][0]["amount_total"], 4000);
        assert_eq!(items["data"][0]["price"]["unit_amount"], 2000);
        assert_eq!(items["data"][0]["price"]["type"], "one_time");
    }

    let items = stripe_get(&sandbox, &format!("/v1/checkout/sessions/{id}/line_items")).await;
    assert_eq!(items.status, 200);
    assert_eq!(items.json["object"], "list");
    assert_eq!(items.json["has_more"], false);
    assert_eq!(
        items.json["url"],
        format!("/v1/checkout/sessions/{id}/line_items")
    );
    assert_eq!(items.json["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn accepts_encoded_brackets_and_both_space_styles() {
    let sandbox = sandbox().await;
    let body = "mode=payment&success_url=https%3A%2F%2Fshop.test%2Fok\
        &line_items%5B0%5D%5Bprice_data%5D%5Bcurrency%5D=eur\
        &line_items%5B0%5D%5Bprice_data%5D%5Bunit_amount%5D=1999\
        &line_items%5B0%5D%5Bprice_data%5D%5Bproduct_data%5D%5Bname%5D=Blue%20mug\
        &line_items%5B0%5D%5Bquantity%5D=1&metadata%5Bnote%5D=a+b%20c&client_reference_id=";
    let reply = stripe_post(&sandbox, "/v1/checkout/sessions", body).await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    assert_eq!(reply.json["currency"], "eur");
    assert_eq!(reply.json["amount_total"], 1999);
    assert_eq!(reply.json["metadata"]["note"], "a b c");
    // `client_reference_id=` (stripe-node's null) unsets the field.
    assert_eq!(reply.json["client_reference_id"], Value::Null);
}

#[tokio::test]
async fn basic_auth_with_the_key_as_user_name_works() {
    let sandbox = sandbox().await;
    let response = client()
        .get(format!("{}/v1/checkout/sessions", sandbox.base_url()))
        .basic_auth(sandbox.stripe_secret_key(), None::<&str>)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
}

#[tokio::test]
async fn lists_newest_first_with_cursor() {
    let sandbox = sandbox().await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(
            create_session(&sandbox).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let first = stripe_get(&sandbox, "/v1/checkout/sessions?limit=2").await;
    assert_eq!(first.status, 200);
    assert_eq!(first.json["object"], "list");
    assert_eq!(first.json["url"], "/v1/checkout/sessions");
    assert_eq!(first.json["has_more"], true);
    let page: Vec<&str> = first.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(page, vec![ids[2].as_str(), ids[1].as_str()]);
    let next = stripe_get(
        &sandbox,
        &format!("/v1/checkout/sessions?limit=2&starting_after={}", ids[1]),
    )
    .await;
    let page: Vec<&str> = next.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(page, vec![ids[0].as_str()]);
    assert_eq!(next.json["has_more"], false);
    let bad = stripe_get(&sandbox, "/v1/checkout/sessions?limit=0").await;
    assert_error(&bad, 400, "invalid_request_error", None, Some("limit"));
}

#[tokio::test]
async fn lists_filter_sessions_by_creation_time() {
    let sandbox = sandbox().await;
    let old = create_session(&sandbox).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    sandbox.advance_clock(Duration::from_secs(3600));
    let cutoff = sandbox.now();
    let new = create_session(&sandbox).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ids = |reply: &Reply| -> Vec<String> {
        reply.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let recent = stripe_get(
        &sandbox,
        &format!("/v1/checkout/sessions?created%5Bgte%5D={cutoff}"),
    )
    .await;
    assert_eq!(recent.status, 200, "{:?}", recent.json);
    assert_eq!(ids(&recent), vec![new.clone()]);
    let older = stripe_get(
        &sandbox,
        &format!("/v1/checkout/sessions?created%5Blt%5D={cutoff}"),
    )
    .await;
    assert_eq!(ids(&older), vec![old]);
    let bad = stripe_get(&sandbox, "/v1/checkout/sessions?created%5Bafter%5D=1").await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn expires_open_sessions_only() {
    let sandbox = sandbox().await;
    let id = create_session(&sandbox).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let expired = stripe_post(&sandbox, &format!("/v1/checkout/sessions/{id}/expire"), "").await;
    assert_eq!(expired.status, 200);
    assert_eq!(expired.json["status"], "expired");
    assert_eq!(expired.json["url"], Value::Null);
    let again = stripe_post(&sandbox, &format!("/v1/checkout/sessions/{id}/expire"), "").await;
    assert_error(&again, 400, "invalid_request_error", None, None);
    assert!(again.json["error"]["message"]
        .as_str()
        .unwrap()
        .contains("\"expired\""));
    assert!(matches!(
        sandbox.pay(&id, None),
        Err(SandboxError::NotPayable { .. })
    ));

    let paid = create_session(&sandbox).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    sandbox.pay(&paid, None).unwrap();
    let refused = stripe_post(
        &sandbox,
        &format!("/v1/checkout/sessions/{paid}/expire"),
        "",
    )
    .await;
    assert_error(&refused, 400, "invalid_request_error", None, None);
    assert!(refused.json["error"]["message"]
        .as_str()
        .unwrap()
        .contains("\"complete\""));
}

#[tokio::test]
async fn paying_completes_the_session_and_redirects() {
    let sandbox = sandbox().await;
    let id = create_session(&sandbox).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let redirect = sandbox
        .pay_with_email(&id, Some("4242 4242 4242 4242"), "buyer@shop.test")
        .unwrap();
    assert_eq!(
        redirect,
        format!("https://shop.test/success?session_id={id}")
    );
    let session = stripe_get(
        &sandbox,
        &format!("/v1/checkout/sessions/{id}?expand[0]=payment_intent"),
    )
    .await
    .json;
    assert_eq!(session["status"], "complete");
    assert_eq!(session["payment_status"], "paid");
    assert_eq!(session["url"], Value::Null);
    assert_eq!(session["customer_details"]["email"], "buyer@shop.test");
    assert_eq!(session["payment_intent"]["object"], "payment_intent");
    assert_eq!(session["payment_intent"]["status"], "succeeded");
    assert_eq!(session["payment_intent"]["amount_received"], 4000);
    assert!(matches!(
        sandbox.pay(&id, None),
        Err(SandboxError::NotPayable { .. })
    ));
    assert_eq!(sandbox.counts().stripe_payment_intents, 1);
}

#[tokio::test]
async fn declined_card_leaves_the_session_open() {
    let sandbox = sandbox().await;
    let id = create_session(&sandbox).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    match sandbox.pay(&id, Some("4000 0000 0000 0002")) {
        Err(SandboxError::Declined { code, .. }) => assert_eq!(code, "generic_decline"),
        other => panic!("expected a decline, got {other:?}"),
    }
    sandbox.decline(&id).unwrap();
    let session = stripe_get(&sandbox, &format!("/v1/checkout/sessions/{id}"))
        .await
        .json;
    assert_eq!(session["status"], "open");
    assert!(sandbox.pay(&id, None).is_ok());
    assert!(matches!(
        sandbox.pay("cs_test_nope", None),
        Err(SandboxError::NotFound(_))
    ));
}

#[tokio::test]
async fn subscription_sessions_need_recurring_prices() {
    let sandbox = sandbox().await;
    let body = "mode=subscription&success_url=https%3A%2F%2Fshop.test%2Fok\
        &line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=900\
        &line_items[0][price_data][product_data][name]=Pro&line_items[0][price_data][recurring][interval]=month\
        &line_items[0][quantity]=1";
    let reply = stripe_post(&sandbox, "/v1/checkout/sessions", body).await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    let id = reply.json["id"].as_str().unwrap();
    sandbox.pay(id, None).unwrap();
    let session = stripe_get(&sandbox, &format!("/v1/checkout/sessions/{id}"))
        .await
        .json;
    assert!(session["subscription"]
        .as_str()
        .unwrap()
        .starts_with("sub_"));
    assert!(session["customer"].as_str().unwrap().starts_with("cus_"));

    let one_time = body.replace("&line_items[0][price_data][recurring][interval]=month", "");
    let reply = stripe_post(&sandbox, "/v1/checkout/sessions", &one_time).await;
    assert_error(
        &reply,
        400,
        "invalid_request_error",
        None,
        Some("line_items"),
    );
    let recurring_in_payment = body.replace("mode=subscription", "mode=payment");
    let reply = stripe_post(&sandbox, "/v1/checkout/sessions", &recurring_in_payment).await;
    assert_error(
        &reply,
        400,
        "invalid_request_error",
        None,
        Some("line_items[0][price_data][recurring]"),
    );
}

#[tokio::test]
async fn validation_errors_have_stripe_codes() {
    let sandbox = sandbox().await;
    let base = session_form("https://shop.test/ok");
    let cases: Vec<(String, u16, Option<&str>, Option<&str>)> = vec![
        (
            base.replace("mode=payment&", ""),
            400,
            Some("parameter_missing"),
            Some("mode"),
        ),
        (
            "mode=payment&success_url=https%3A%2F%2Fshop.test%2Fok".to_owned(),
            400,
            Some("parameter_missing"),
            Some("line_items"),
        ),
        (
            format!("{base}&foo=bar"),
            400,
            Some("parameter_unknown"),
            Some("foo"),
        ),
        (
            format!("{base}&line_items[0][price_data][bogus]=1"),
            400,
            Some("parameter_unknown"),
            Some("line_items[0][price_data][bogus]"),
        ),
        (
            base.replace("[unit_amount]=2000", "[unit_amount]=abc"),
            400,
            Some("parameter_invalid_integer"),
            Some("line_items[0][price_data][unit_amount]"),
        ),
        (
            base.replace("[unit_amount]=2000", "[unit_amount]=10"),
            400,
            Some("amount_too_small"),
            None,
        ),
        (
            base.replace("&line_items[0][quantity]=2", ""),
            400,
            Some("parameter_missing"),
            Some("line_items[0][quantity]"),
        ),
        (
            base.replace(
                "[product_data][name]=T-shirt+%26+cap",
                "[product_data][description]=x",
            ),
            400,
            Some("parameter_missing"),
            Some("line_items[0][price_data][product_data][name]"),
        ),
        (
            base.replace(
                "success_url=https%3A%2F%2Fshop.test%2Fok",
                "success_url=not-a-url",
            ),
            400,
            Some("url_invalid"),
            Some("success_url"),
        ),
        (
            format!("{base}&customer_email=nope"),
            400,
            Some("email_invalid"),
            Some("customer_email"),
        ),
        // payment_method_types was removed from session create in 2026-09-30.endive.
        (
            format!("{base}&payment_method_types[0]=card"),
            400,
            Some("parameter_unknown"),
            Some("payment_method_types"),
        ),
    ];
    for (body, status, code, param) in cases {
        let reply = stripe_post(&sandbox, "/v1/checkout/sessions", &body).await;
        assert_error(&reply, status, "invalid_request_error", code, param);
    }
    // GBP's minimum is 30: 40 pence passes, 20 fails.
    let gbp = base
        .replace("currency]=usd", "currency]=gbp")
        .replace("[quantity]=2", "[quantity]=1");
    let ok = stripe_post(
        &sandbox,
        "/v1/checkout/sessions",
        &gbp.replace("[unit_amount]=2000", "[unit_amount]=40"),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.json);
    let small = stripe_post(
        &sandbox,
        "/v1/checkout/sessions",
        &gbp.replace("[unit_amount]=2000", "[unit_amount]=20"),
    )
    .await;
    assert_error(
        &small,
        400,
        "invalid_request_error",
        Some("amount_too_small"),
        None,
    );
    assert_eq!(sandbox.counts().stripe_checkout_sessions, 1);
}

#[tokio::test]
async fn old_api_versions_keep_old_parameters() {
    let sandbox = sandbox().await;
    let body = format!(
        "{}&payment_method_types[0]=card&ui_mode=hosted",
        session_form("https://shop.test/ok")
    );
    let response = client()
        .post(format!("{}/v1/checkout/sessions", sandbox.base_url()))
        .bearer_auth(sandbox.stripe_secret_key())
        .header("stripe-version", "2026-01-28.clover")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["stripe-version"], "2026-01-28.clover");
    let dahlia = stripe_post(
        &sandbox,
        "/v1/checkout/sessions",
        &format!("{}&ui_mode=hosted", session_form("https://shop.test/ok")),
    )
    .await;
    assert_error(&dahlia, 400, "invalid_request_error", None, Some("ui_mode"));
}

#[tokio::test]
async fn embedded_sessions_have_a_client_secret() {
    let sandbox = sandbox().await;
    let body = "mode=payment&ui_mode=embedded_page&return_url=https%3A%2F%2Fshop.test%2Freturn%3Fs%3D%7BCHECKOUT_SESSION_ID%7D\
        &line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=500\
        &line_items[0][price_data][product_data][name]=Mug&line_items[0][quantity]=1";
    let reply = stripe_post(&sandbox, "/v1/checkout/sessions", body).await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    let id = reply.json["id"].as_str().unwrap();
    assert_eq!(reply.json["url"], Value::Null);
    assert!(reply.json["client_secret"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{id}_secret_")));
    assert_eq!(
        sandbox.pay(id, None).unwrap(),
        format!("https://shop.test/return?s={id}")
    );
    let with_success = format!("{body}&success_url=https%3A%2F%2Fshop.test%2Fok");
    let reply = stripe_post(&sandbox, "/v1/checkout/sessions", &with_success).await;
    assert_error(
        &reply,
        400,
        "invalid_request_error",
        None,
        Some("success_url"),
    );
}

#[tokio::test]
async fn expires_at_must_be_within_30_minutes_and_24_hours() {
    let sandbox = sandbox().await;
    let now = sandbox.now();
    let base = session_form("https://shop.test/ok");
    for offset in [29 * 60, 24 * 3600 + 60] {
        let reply = stripe_post(
            &sandbox,
            "/v1/checkout/sessions",
            &format!("{base}&expires_at={}", now + offset),
        )
        .await;
        assert_error(
            &reply,
            400,
            "invalid_request_error",
            None,
            Some("expires_at"),
        );
    }
    let reply = stripe_post(
        &sandbox,
        "/v1/checkout/sessions",
        &format!("{base}&expires_at={}", now + 3600),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json["expires_at"], now + 3600);
}

#[tokio::test]
async fn unknown_ids_and_paths_are_404() {
    let sandbox = sandbox().await;
    let reply = stripe_get(&sandbox, "/v1/checkout/sessions/cs_test_missing").await;
    assert_error(
        &reply,
        404,
        "invalid_request_error",
        Some("resource_missing"),
        Some("session"),
    );
    assert_eq!(
        reply.json["error"]["message"],
        "No such checkout.session: 'cs_test_missing'"
    );
    let reply = stripe_post(&sandbox, "/v1/checkout/sessions/cs_test_missing/expire", "").await;
    assert_error(
        &reply,
        404,
        "invalid_request_error",
        Some("resource_missing"),
        Some("session"),
    );
    let reply = stripe_get(&sandbox, "/v1/payment_intents/pi_missing").await;
    assert_error(
        &reply,
        404,
        "invalid_request_error",
        Some("resource_missing"),
        Some("intent"),
    );
    let reply = stripe_get(&sandbox, "/v1/checkout/nothing").await;
    assert_error(&reply, 404, "invalid_request_error", None, None);
}

#[tokio::test]
async fn bad_or_missing_key_is_401() {
    let sandbox = sandbox().await;
    let url = format!("{}/v1/checkout/sessions", sandbox.base_url());
    let missing = client().get(&url).send().await.unwrap();
    assert_eq!(missing.status().as_u16(), 401);
    assert!(missing.headers().contains_key("request-id"));
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["error"]["type"], "invalid_request_error");
    let wrong = client()
        .get(&url)
        .bearer_auth("sk_test_wrong_key_1234")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(
        body["error"]["message"],
        "Invalid API Key provided: sk_test_**********1234"
    );
}

#[tokio::test]
async fn idempotent_replay_and_mismatch() {
    let sandbox = sandbox().await;
    let body = session_form("https://shop.test/ok");
    let first = stripe_post_with(&sandbox, "/v1/checkout/sessions", &body, Some("key-1")).await;
    assert_eq!(first.status, 200);
    assert!(first.header("idempotent-replayed").is_none());
    let second = stripe_post_with(&sandbox, "/v1/checkout/sessions", &body, Some("key-1")).await;
    assert_eq!(second.status, 200);
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    assert_eq!(
        second.header("original-request"),
        first.header("request-id")
    );
    assert_ne!(second.header("request-id"), first.header("request-id"));
    assert_eq!(second.json, first.json);
    assert_eq!(sandbox.counts().stripe_checkout_sessions, 1);

    let different = stripe_post_with(
        &sandbox,
        "/v1/checkout/sessions",
        &format!("{body}&metadata[x]=y"),
        Some("key-1"),
    )
    .await;
    assert_error(&different, 400, "idempotency_error", None, None);
    assert!(different.json["error"]["message"]
        .as_str()
        .unwrap()
        .contains("'key-1'"));

    // Validation failures are not saved: the key stays usable.
    let invalid = stripe_post_with(
        &sandbox,
        "/v1/checkout/sessions",
        "mode=payment",
        Some("key-2"),
    )
    .await;
    assert_eq!(invalid.status, 400);
    let valid = stripe_post_with(&sandbox, "/v1/checkout/sessions", &body, Some("key-2")).await;
    assert_eq!(valid.status, 200);
    assert!(valid.header("idempotent-replayed").is_none());

    // Keys on GET are ignored.
    let response = client()
        .get(format!("{}/v1/checkout/sessions", sandbox.base_url()))
        .bearer_auth(sandbox.stripe_secret_key())
        .header("idempotency-key", "key-1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(!response.headers().contains_key("idempotent-replayed"));
    assert_eq!(sandbox.counts().stripe_checkout_sessions, 2);
}

#[tokio::test]
async fn payment_intent_create_and_confirm() {
    let sandbox = sandbox().await;
    let created = stripe_post(
        &sandbox,
        "/v1/payment_intents",
        "amount=1099&currency=usd&automatic_payment_methods[enabled]=true&metadata[order_id]=6735",
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.json);
    let intent = &created.json;
    let id = intent["id"].as_str().unwrap();
    assert!(id.starts_with("pi_"));
    assert_eq!(intent["object"], "payment_intent");
    assert_eq!(intent["status"], "requires_payment_method");
    assert_eq!(intent["amount"], 1099);
    assert_eq!(intent["automatic_payment_methods"]["enabled"], true);
    assert_eq!(intent["metadata"]["order_id"], "6735");
    let secret = intent["client_secret"].as_str().unwrap();
    assert!(secret.starts_with(&format!("{id}_secret_")));

    // The client confirms with the publishable key and the client secret.
    let response = client()
        .post(format!(
            "{}/v1/payment_intents/{id}/confirm",
            sandbox.base_url()
        ))
        .bearer_auth(sandbox.stripe_publishable_key())
        .body(format!(
            "payment_method=pm_card_visa&client_secret={secret}"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let confirmed: Value = response.json().await.unwrap();
    assert_eq!(confirmed["status"], "succeeded");
    assert_eq!(confirmed["amount_received"], 1099);
    assert!(confirmed["latest_charge"]
        .as_str()
        .unwrap()
        .starts_with("ch_"));

    let again = stripe_post(
        &sandbox,
        &format!("/v1/payment_intents/{id}/confirm"),
        "payment_method=pm_card_visa",
    )
    .await;
    assert_error(
        &again,
        400,
        "invalid_request_error",
        Some("payment_intent_unexpected_state"),
        None,
    );
    let retrieved = stripe_get(&sandbox, &format!("/v1/payment_intents/{id}")).await;
    assert_eq!(retrieved.json["status"], "succeeded");

    // A publishable key cannot create, and needs the right client secret.
    let response = client()
        .post(format!("{}/v1/payment_intents", sandbox.base_url()))
        .bearer_auth(sandbox.stripe_publishable_key())
        .body("amount=1099&currency=usd")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let response = client()
        .get(format!(
            "{}/v1/payment_intents/{id}?client_secret=wrong",
            sandbox.base_url()
        ))
        .bearer_auth(sandbox.stripe_publishable_key())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
}

#[tokio::test]
async fn payment_intent_decline_and_validation() {
    let sandbox = sandbox().await;
    let created = stripe_post(&sandbox, "/v1/payment_intents", "amount=2000&currency=eur").await;
    let id = created.json["id"].as_str().unwrap().to_owned();
    let declined = stripe_post(
        &sandbox,
        &format!("/v1/payment_intents/{id}/confirm"),
        "payment_method=pm_card_chargeDeclined",
    )
    .await;
    assert_error(&declined, 402, "card_error", Some("card_declined"), None);
    assert_eq!(declined.json["error"]["decline_code"], "generic_decline");
    assert_eq!(declined.json["error"]["payment_intent"]["id"], id.as_str());
    let retrieved = stripe_get(&sandbox, &format!("/v1/payment_intents/{id}")).await;
    assert_eq!(retrieved.json["status"], "requires_payment_method");
    assert_eq!(
        retrieved.json["last_payment_error"]["decline_code"],
        "generic_decline"
    );
    let retried = stripe_post(
        &sandbox,
        &format!("/v1/payment_intents/{id}/confirm"),
        "payment_method=pm_card_visa",
    )
    .await;
    assert_eq!(retried.json["status"], "succeeded");

    let small = stripe_post(&sandbox, "/v1/payment_intents", "amount=49&currency=usd").await;
    assert_error(
        &small,
        400,
        "invalid_request_error",
        Some("amount_too_small"),
        Some("amount"),
    );
    let missing = stripe_post(&sandbox, "/v1/payment_intents", "currency=usd").await;
    assert_error(
        &missing,
        400,
        "invalid_request_error",
        Some("parameter_missing"),
        Some("amount"),
    );
    let unknown = stripe_post(
        &sandbox,
        "/v1/payment_intents",
        "amount=100&currency=usd&automatic_payment_methods[on]=true",
    )
    .await;
    assert_error(
        &unknown,
        400,
        "invalid_request_error",
        Some("parameter_unknown"),
        Some("automatic_payment_methods[on]"),
    );
    // ¥100 (about $0.67 at the sandbox's fixed rate) clears the USD account's minimum.
    let jpy = stripe_post(
        &sandbox,
        "/v1/payment_intents",
        "amount=100&currency=jpy&confirm=true&payment_method=pm_card_visa",
    )
    .await;
    assert_eq!(jpy.json["status"], "succeeded", "{}", jpy.json);
}

#[tokio::test]
async fn advancing_the_clock_expires_sessions() {
    let sandbox = sandbox().await;
    let id = create_session(&sandbox).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    sandbox.advance_clock(Duration::from_secs(24 * 3600 - 10));
    assert_eq!(
        stripe_get(&sandbox, &format!("/v1/checkout/sessions/{id}"))
            .await
            .json["status"],
        "open"
    );
    sandbox.advance_clock(Duration::from_secs(10));
    let session = stripe_get(&sandbox, &format!("/v1/checkout/sessions/{id}"))
        .await
        .json;
    assert_eq!(session["status"], "expired");
    assert!(matches!(
        sandbox.pay(&id, None),
        Err(SandboxError::NotPayable { .. })
    ));
}
