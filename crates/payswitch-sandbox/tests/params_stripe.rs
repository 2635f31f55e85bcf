//! Stripe parameters: each documented one is emulated or refused with a 400 that says the
//! sandbox does not emulate it and names it in `param`; never accepted and ignored. And what
//! Stripe rejects (an unknown currency, an unknown coupon, a taken id) the sandbox rejects too.

mod common;

use common::billing::{assert_error, billing_sandbox};
use common::{stripe_get, stripe_post, urlencode};
use serde_json::Value;

fn hosted(extra: &str) -> String {
    format!(
        "mode=payment&success_url={}&line_items[0][price]=price_setup&line_items[0][quantity]=1{extra}",
        urlencode("https://shop.test/ok")
    )
}

fn assert_not_emulated(reply: &common::Reply, param: &str) {
    assert_error(reply, 400, "invalid_request_error", None, Some(param));
    let message = reply.json["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("is not emulated by the payswitch sandbox"),
        "{message}"
    );
}

#[tokio::test]
async fn session_create_refuses_what_it_does_not_emulate() {
    let sandbox = billing_sandbox(None).await;
    for (extra, param) in [
        ("&automatic_tax[enabled]=true", "automatic_tax[enabled]"),
        ("&custom_fields[0][key]=size", "custom_fields"),
        ("&custom_text[submit][message]=Hi", "custom_text"),
        (
            "&allowed_payment_method_types[0]=klarna",
            "allowed_payment_method_types[0]",
        ),
        (
            "&shipping_address_collection[allowed_countries][0]=US",
            "shipping_address_collection",
        ),
        (
            "&phone_number_collection[enabled]=true",
            "phone_number_collection[enabled]",
        ),
        (
            "&tax_id_collection[enabled]=true",
            "tax_id_collection[enabled]",
        ),
        (
            "&billing_address_collection=required",
            "billing_address_collection",
        ),
        (
            "&consent_collection[terms_of_service]=required",
            "consent_collection",
        ),
        ("&invoice_creation[enabled]=true", "invoice_creation"),
        (
            "&after_expiration[recovery][enabled]=true",
            "after_expiration",
        ),
        (
            "&payment_method_options[card][request_three_d_secure]=any",
            "payment_method_options",
        ),
        (
            "&payment_intent_data[capture_method]=manual",
            "payment_intent_data[capture_method]",
        ),
        (
            "&payment_intent_data[setup_future_usage]=off_session",
            "payment_intent_data[setup_future_usage]",
        ),
        (
            "&payment_intent_data[statement_descriptor]=SHOP",
            "payment_intent_data[statement_descriptor]",
        ),
        (
            "&line_items[0][adjustable_quantity][enabled]=true",
            "line_items[0][adjustable_quantity]",
        ),
        (
            "&line_items[0][tax_rates][0]=txr_1",
            "line_items[0][tax_rates]",
        ),
    ] {
        let reply = stripe_post(&sandbox, "/v1/checkout/sessions", &hosted(extra)).await;
        assert_not_emulated(&reply, param);
    }
    let subscription = format!(
        "mode=subscription&success_url={}&line_items[0][price]=price_pro&line_items[0][quantity]=1\
         &subscription_data[default_tax_rates][0]=txr_1",
        urlencode("https://shop.test/ok")
    );
    let reply = stripe_post(&sandbox, "/v1/checkout/sessions", &subscription).await;
    assert_not_emulated(&reply, "subscription_data[default_tax_rates]");
    // Still unknown, and said so.
    let reply = stripe_post(&sandbox, "/v1/checkout/sessions", &hosted("&colour=red")).await;
    assert_error(
        &reply,
        400,
        "invalid_request_error",
        Some("parameter_unknown"),
        Some("colour"),
    );
}

#[tokio::test]
async fn session_create_emulates_what_it_accepts() {
    let sandbox = billing_sandbox(None).await;
    let reply = stripe_post(
        &sandbox,
        "/v1/checkout/sessions",
        &hosted(
            "&automatic_tax[enabled]=false&billing_address_collection=auto&submit_type=donate\
             &payment_intent_data[description]=Gift&payment_intent_data[metadata][order]=7\
             &payment_intent_data[capture_method]=automatic&customer_creation=always",
        ),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    let session = reply.json;
    assert_eq!(session["submit_type"], "donate");
    assert_eq!(session["billing_address_collection"], "auto");
    assert_eq!(session["customer_creation"], "always");
    // A hosted session has no return_url at all (not null).
    assert!(session.get("return_url").is_none());
    let id = session["id"].as_str().unwrap();
    sandbox.pay_with_email(id, None, "giver@shop.test").unwrap();
    let paid = stripe_get(
        &sandbox,
        &format!("/v1/checkout/sessions/{id}?expand[]=payment_intent"),
    )
    .await
    .json;
    assert_eq!(paid["payment_intent"]["description"], "Gift");
    assert_eq!(paid["payment_intent"]["metadata"]["order"], "7");
    let customer = paid["customer"].as_str().unwrap();
    let customer = stripe_get(&sandbox, &format!("/v1/customers/{customer}")).await;
    assert_eq!(customer.json["email"], "giver@shop.test");

    // Session update: metadata merges; the rest is refused.
    let path = format!("/v1/checkout/sessions/{id}");
    let updated = stripe_post(&sandbox, &path, "metadata[step]=done").await;
    assert_eq!(updated.json["metadata"]["step"], "done");
    let refused = stripe_post(
        &sandbox,
        &path,
        "collected_information[shipping_details][name]=A",
    )
    .await;
    assert_not_emulated(&refused, "collected_information");
}

#[tokio::test]
async fn setup_sessions_create_a_setup_intent_with_its_data() {
    let sandbox = billing_sandbox(None).await;
    let reply = stripe_post(
        &sandbox,
        "/v1/checkout/sessions",
        &format!(
            "mode=setup&currency=usd&success_url={}&setup_intent_data[description]=Card+on+file\
             &setup_intent_data[metadata][k]=v",
            urlencode("https://shop.test/ok")
        ),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    assert_eq!(reply.json["setup_intent"], Value::Null);
    let id = reply.json["id"].as_str().unwrap();
    sandbox.pay(id, None).unwrap();
    let done = stripe_get(
        &sandbox,
        &format!("/v1/checkout/sessions/{id}?expand[]=setup_intent"),
    )
    .await
    .json;
    assert_eq!(done["setup_intent"]["status"], "succeeded");
    assert_eq!(done["setup_intent"]["description"], "Card on file");
    assert_eq!(done["setup_intent"]["metadata"]["k"], "v");
    let unknown = stripe_get(&sandbox, "/v1/setup_intents/seti_nope").await;
    assert_error(
        &unknown,
        404,
        "invalid_request_error",
        Some("resource_missing"),
        Some("intent"),
    );
}

#[tokio::test]
async fn what_stripe_rejects_is_rejected() {
    let sandbox = billing_sandbox(None).await;
    let bad_currency =
        stripe_post(&sandbox, "/v1/payment_intents", "amount=500&currency=xyz").await;
    assert_error(
        &bad_currency,
        400,
        "invalid_request_error",
        None,
        Some("currency"),
    );
    let setup = format!(
        "mode=setup&currency=xyz&success_url={}",
        urlencode("https://shop.test/ok")
    );
    let bad_setup = stripe_post(&sandbox, "/v1/checkout/sessions", &setup).await;
    assert_error(
        &bad_setup,
        400,
        "invalid_request_error",
        None,
        Some("currency"),
    );
    let other_currency =
        stripe_post(&sandbox, "/v1/checkout/sessions", &hosted("&currency=eur")).await;
    assert_error(
        &other_currency,
        400,
        "invalid_request_error",
        None,
        Some("currency"),
    );
    let unknown_coupon = stripe_post(
        &sandbox,
        "/v1/checkout/sessions",
        &hosted("&discounts[0][coupon]=NOPE"),
    )
    .await;
    assert_error(
        &unknown_coupon,
        400,
        "invalid_request_error",
        Some("resource_missing"),
        Some("discounts[0][coupon]"),
    );
    let taken = stripe_post(&sandbox, "/v1/coupons", "id=TEN&percent_off=5").await;
    assert_error(
        &taken,
        400,
        "invalid_request_error",
        Some("resource_already_exists"),
        Some("id"),
    );
    let refused = stripe_post(
        &sandbox,
        "/v1/payment_intents",
        "amount=500&currency=usd&statement_descriptor=SHOP",
    )
    .await;
    assert_not_emulated(&refused, "statement_descriptor");
}

#[tokio::test]
async fn payment_intents_list_update_cancel_and_capture() {
    let sandbox = billing_sandbox(None).await;
    let created = stripe_post(
        &sandbox,
        "/v1/payment_intents",
        "amount=2000&currency=usd&capture_method=manual&confirm=true&payment_method=pm_card_visa",
    )
    .await;
    let id = created.json["id"].as_str().unwrap().to_owned();
    assert_eq!(created.json["status"], "requires_capture");
    let partial = stripe_post(
        &sandbox,
        &format!("/v1/payment_intents/{id}/capture"),
        "amount_to_capture=500",
    )
    .await;
    assert_not_emulated(&partial, "amount_to_capture");
    let captured = stripe_post(&sandbox, &format!("/v1/payment_intents/{id}/capture"), "").await;
    assert_eq!(captured.json["status"], "succeeded");
    assert_eq!(captured.json["amount_received"], 2000);
    let again = stripe_post(&sandbox, &format!("/v1/payment_intents/{id}/cancel"), "").await;
    assert_error(
        &again,
        400,
        "invalid_request_error",
        Some("payment_intent_unexpected_state"),
        None,
    );
    let changed = stripe_post(&sandbox, &format!("/v1/payment_intents/{id}"), "amount=10").await;
    assert_error(
        &changed,
        400,
        "invalid_request_error",
        Some("payment_intent_unexpected_state"),
        None,
    );
    let noted = stripe_post(
        &sandbox,
        &format!("/v1/payment_intents/{id}"),
        "metadata[a]=b",
    )
    .await;
    assert_eq!(noted.json["metadata"]["a"], "b");
    let open = stripe_post(&sandbox, "/v1/payment_intents", "amount=900&currency=usd").await;
    let open_id = open.json["id"].as_str().unwrap();
    let canceled = stripe_post(
        &sandbox,
        &format!("/v1/payment_intents/{open_id}/cancel"),
        "cancellation_reason=duplicate",
    )
    .await;
    assert_eq!(canceled.json["status"], "canceled");
    assert_eq!(canceled.json["cancellation_reason"], "duplicate");
    let listed = stripe_get(&sandbox, "/v1/payment_intents?limit=1").await;
    assert_eq!(listed.json["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(listed.json["has_more"], true);
}

#[tokio::test]
async fn prices_coupons_and_promotion_codes_list_and_update() {
    let sandbox = billing_sandbox(None).await;
    let listed = stripe_get(&sandbox, "/v1/prices?type=recurring&limit=10").await;
    let ids: Vec<&str> = listed.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|price| price["id"].as_str())
        .collect();
    assert!(
        ids.contains(&"price_pro") && !ids.contains(&"price_setup"),
        "{ids:?}"
    );
    let archived = stripe_post(&sandbox, "/v1/prices/price_team", "active=false").await;
    assert_eq!(archived.json["active"], false);
    let active = stripe_get(&sandbox, "/v1/prices?active=false").await;
    assert_eq!(active.json["data"][0]["id"], "price_team");
    let lookup = stripe_post(&sandbox, "/v1/prices/price_pro", "lookup_key=pro").await;
    assert_not_emulated(&lookup, "lookup_key");
    let renamed = stripe_post(&sandbox, "/v1/coupons/TEN", "name=Ten+off").await;
    assert_eq!(renamed.json["name"], "Ten off");
    let coupons = stripe_get(&sandbox, "/v1/coupons").await;
    assert_eq!(coupons.json["data"][0]["id"], "TEN");
    let code = stripe_post(
        &sandbox,
        "/v1/promotion_codes",
        "promotion[type]=coupon&promotion[coupon]=TEN&code=SPRING",
    )
    .await;
    let path = format!("/v1/promotion_codes/{}", code.json["id"].as_str().unwrap());
    let off = stripe_post(&sandbox, &path, "active=false").await;
    assert_eq!(off.json["active"], false);
    let restricted = stripe_post(&sandbox, &path, "restrictions[minimum_amount]=100").await;
    assert_not_emulated(&restricted, "restrictions");
}
