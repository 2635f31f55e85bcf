//! Creem side of the sandbox over HTTP: products, checkouts, errors and
//! the signed success redirect.

mod common;

use common::*;
use payswitch_sandbox::{ProductSeed, SandboxError};
use serde_json::{json, Value};

fn assert_creem_error(reply: &Reply, status: u16, message: &str) {
    assert_eq!(reply.status, status, "{}", reply.json);
    assert_eq!(reply.json["status"], status);
    assert!(reply.json["trace_id"]
        .as_str()
        .is_some_and(|id| id.len() == 36));
    assert!(reply.json["error"].as_str().is_some());
    assert!(reply.json["timestamp"].as_i64().is_some());
    let messages: Vec<&str> = reply.json["message"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        messages.contains(&message),
        "{messages:?} lacks {message:?}"
    );
}

#[tokio::test]
async fn creates_and_retrieves_products() {
    let sandbox = sandbox().await;
    let created = creem_post(
        &sandbox,
        "/v1/products",
        &json!({
            "name": "Ebook", "description": "A <b>good</b> book", "price": 1500, "currency": "EUR",
            "billing_type": "onetime", "some_future_field": {"nested": true}
        }),
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.json);
    let product = &created.json;
    let id = product["id"].as_str().unwrap();
    assert!(id.starts_with("prod_"));
    assert_eq!(product["object"], "product");
    assert_eq!(product["mode"], "test");
    assert_eq!(product["price"], 1500);
    assert_eq!(product["currency"], "EUR");
    assert_eq!(product["billing_period"], "once");
    assert_eq!(product["status"], "active");
    let fetched = creem_get(&sandbox, &format!("/v1/products?product_id={id}")).await;
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.json, created.json);
    let seeded = creem_get(&sandbox, "/v1/products?product_id=prod_monthly").await;
    assert_eq!(seeded.json["billing_type"], "recurring");
    assert_eq!(seeded.json["billing_period"], "every-month");
    assert_eq!(sandbox.counts().creem_products, 3);
}

#[tokio::test]
async fn product_validation_collects_messages() {
    let sandbox = sandbox().await;
    let reply = creem_post(
        &sandbox,
        "/v1/products",
        &json!({ "name": 5, "price": 50, "currency": "GBP" }),
    )
    .await;
    assert_creem_error(&reply, 400, "name must be a string");
    assert_creem_error(&reply, 400, "description should not be empty");
    assert_creem_error(
        &reply,
        400,
        "price must be 0 (free product) or at least 100",
    );
    assert_creem_error(
        &reply,
        400,
        "currency must be one of the following values: EUR, USD",
    );
    assert_creem_error(&reply, 400, "billing_type should not be empty");
    let reply = creem_get(&sandbox, "/v1/products?product_id=prod_missing").await;
    assert_creem_error(&reply, 404, "Product not found");
    let added = sandbox.add_product(ProductSeed::one_time("Bad", 10, "USD"));
    assert!(matches!(added, Err(SandboxError::InvalidProduct(_))));
}

#[tokio::test]
async fn creates_and_retrieves_checkouts() {
    let sandbox = sandbox().await;
    let created = creem_post(
        &sandbox,
        "/v1/checkouts",
        &json!({
            "product_id": "prod_onetime", "request_id": "order_123", "units": 2,
            "success_url": "https://shop.test/thanks", "metadata": { "userId": "user_1", "visits": 42 },
            "customer": { "email": "buyer@shop.test" }, "unknown_new_field": [1, 2]
        }),
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.json);
    let checkout = &created.json;
    let id = checkout["id"].as_str().unwrap();
    assert!(id.starts_with("ch_"));
    assert_eq!(checkout["object"], "checkout");
    assert_eq!(checkout["mode"], "test");
    assert_eq!(checkout["status"], "pending");
    assert_eq!(checkout["product"], "prod_onetime");
    assert_eq!(checkout["units"], 2);
    assert_eq!(checkout["request_id"], "order_123");
    assert_eq!(checkout["metadata"]["visits"], 42);
    assert_eq!(
        checkout["checkout_url"],
        format!("{}/pay/{id}", sandbox.base_url())
    );

    let fetched = creem_get(&sandbox, &format!("/v1/checkouts?checkout_id={id}")).await;
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.json["status"], "pending");
    assert_eq!(fetched.json["product"]["id"], "prod_onetime");

    let redirect = sandbox.pay(id, None).unwrap();
    let paid = creem_get(&sandbox, &format!("/v1/checkouts?checkout_id={id}"))
        .await
        .json;
    assert_eq!(paid["status"], "completed");
    assert_eq!(paid["order"]["amount"], 5000);
    assert_eq!(paid["order"]["currency"], "USD");
    assert_eq!(paid["order"]["status"], "paid");
    assert_eq!(paid["order"]["type"], "onetime");
    assert_eq!(paid["customer"]["email"], "buyer@shop.test");
    assert!(paid.get("subscription").is_none());
    assert_eq!(
        query_param(&redirect, "order_id").as_deref(),
        paid["order"]["id"].as_str()
    );
    assert_eq!(query_param(&redirect, "subscription_id"), None);
    assert!(matches!(
        sandbox.pay(id, None),
        Err(SandboxError::NotPayable { .. })
    ));
    assert_eq!(sandbox.counts().creem_checkouts, 1);
    assert_eq!(sandbox.counts().creem_orders, 1);
}

#[tokio::test]
async fn signed_redirect_verifies_with_the_api_key() {
    let sandbox = sandbox().await;
    let created = creem_post(
        &sandbox,
        "/v1/checkouts",
        &json!({ "product_id": "prod_monthly", "request_id": "req-9", "success_url": "https://shop.test/done?plan=team&ref=" }),
    )
    .await;
    let id = created.json["id"].as_str().unwrap();
    let redirect = sandbox.pay(id, None).unwrap();
    // Creem's parameters follow the merchant's, request_id first (the order Creem signs).
    assert!(
        redirect.starts_with("https://shop.test/done?plan=team&ref=&request_id=req-9&checkout_id="),
        "{redirect}"
    );
    let keys: Vec<String> = url::Url::parse(&redirect)
        .unwrap()
        .query_pairs()
        .map(|(k, _)| k.into_owned())
        .collect();
    assert_eq!(
        keys,
        [
            "plan",
            "ref",
            "request_id",
            "checkout_id",
            "order_id",
            "customer_id",
            "subscription_id",
            "product_id",
            "signature"
        ]
    );
    let (expected, given) = creem_redirect_signature(&redirect, sandbox.creem_api_key());
    assert_eq!(given.as_deref(), Some(expected.as_str()));
    // The webhook secret is not the salt.
    let (wrong, _) = creem_redirect_signature(&redirect, sandbox.creem_webhook_secret());
    assert_ne!(Some(wrong), given);
    assert_eq!(query_param(&redirect, "checkout_id").as_deref(), Some(id));
    assert_eq!(
        query_param(&redirect, "product_id").as_deref(),
        Some("prod_monthly")
    );
    let paid = creem_get(&sandbox, &format!("/v1/checkouts?checkout_id={id}"))
        .await
        .json;
    assert_eq!(paid["subscription"]["status"], "active");
    assert_eq!(
        query_param(&redirect, "subscription_id").as_deref(),
        paid["subscription"]["id"].as_str()
    );
}

#[tokio::test]
async fn checkout_errors_use_creem_shape() {
    let sandbox = sandbox().await;
    let reply = creem_post(
        &sandbox,
        "/v1/checkouts",
        &json!({ "units": "two", "success_url": "nope", "metadata": [] }),
    )
    .await;
    assert_creem_error(&reply, 400, "product_id must be a string");
    assert_creem_error(&reply, 400, "units must be an integer number");
    assert_creem_error(&reply, 400, "success_url must be a URL address");
    assert_creem_error(&reply, 400, "metadata must be an object");
    let reply = creem_post(
        &sandbox,
        "/v1/checkouts",
        &json!({ "product_id": "prod_missing" }),
    )
    .await;
    assert_creem_error(&reply, 404, "Product not found");
    let reply = creem_post(
        &sandbox,
        "/v1/checkouts",
        &json!({ "product_id": "prod_onetime", "customer": { "id": "cust_x", "email": "a@b.co" } }),
    )
    .await;
    assert_creem_error(
        &reply,
        400,
        "customer.You may specify only one of these parameters: id or email",
    );
    let reply = creem_get(&sandbox, "/v1/checkouts?checkout_id=ch_missing").await;
    assert_creem_error(&reply, 404, "Checkout not found");
    let reply = creem_get(&sandbox, "/v1/checkouts").await;
    assert_creem_error(&reply, 400, "checkout_id must be a string");

    let raw = client()
        .post(format!("{}/v1/checkouts", sandbox.base_url()))
        .header("x-api-key", sandbox.creem_api_key())
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 400);

    let missing = client()
        .get(format!(
            "{}/v1/products?product_id=prod_onetime",
            sandbox.base_url()
        ))
        .header("x-api-key", "")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 401);
    let wrong = client()
        .get(format!(
            "{}/v1/products?product_id=prod_onetime",
            sandbox.base_url()
        ))
        .header("x-api-key", "creem_test_wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 403);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(body["status"], 403);
    assert_eq!(body["message"][0], "Invalid API key");
    assert_eq!(sandbox.counts().creem_checkouts, 0);
}

#[tokio::test]
async fn checkouts_expire_with_the_clock() {
    let sandbox = sandbox().await;
    let created = creem_post(
        &sandbox,
        "/v1/checkouts",
        &json!({ "product_id": "prod_onetime" }),
    )
    .await;
    let id = created.json["id"].as_str().unwrap().to_owned();
    sandbox.advance_clock(std::time::Duration::from_secs(24 * 3600));
    let fetched = creem_get(&sandbox, &format!("/v1/checkouts?checkout_id={id}")).await;
    assert_eq!(fetched.json["status"], "expired");
    assert!(matches!(
        sandbox.pay(&id, None),
        Err(SandboxError::NotPayable { .. })
    ));
    let other = creem_post(
        &sandbox,
        "/v1/checkouts",
        &json!({ "product_id": "prod_onetime" }),
    )
    .await;
    let other_id = other.json["id"].as_str().unwrap();
    sandbox.expire(other_id).unwrap();
    assert!(matches!(
        sandbox.expire(other_id),
        Err(SandboxError::NotPayable { .. })
    ));
    // Without a success URL the customer lands on the sandbox's own page.
    let third = creem_post(
        &sandbox,
        "/v1/checkouts",
        &json!({ "product_id": "prod_onetime" }),
    )
    .await;
    let third_id = third.json["id"].as_str().unwrap();
    let redirect = sandbox.pay(third_id, None).unwrap();
    assert!(redirect.starts_with(&format!(
        "{}/pay/{third_id}?checkout_id={third_id}",
        sandbox.base_url()
    )));
}

#[tokio::test]
async fn catalog_file_seeds_products() {
    let path = std::env::temp_dir().join(format!(
        "payswitch-sandbox-products-{}.json",
        std::process::id()
    ));
    std::fs::write(
        &path,
        r#"[{"id": "prod_file", "name": "From file", "price": 1200, "currency": "EUR",
             "billing_type": "recurring", "billing_period": "every-year"}]"#,
    )
    .unwrap();
    let seeds = ProductSeed::from_json_file(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let sandbox = payswitch_sandbox::Sandbox::builder()
        .products(seeds)
        .start()
        .await
        .unwrap();
    let product = creem_get(&sandbox, "/v1/products?product_id=prod_file").await;
    assert_eq!(product.status, 200);
    assert_eq!(product.json["billing_period"], "every-year");
    assert!(matches!(
        ProductSeed::from_json_file("/nonexistent/products.json"),
        Err(SandboxError::Config(_))
    ));
    let invalid = payswitch_sandbox::Sandbox::builder()
        .product(ProductSeed::one_time("Cheap", 99, "USD"))
        .start()
        .await;
    assert!(matches!(invalid, Err(SandboxError::InvalidProduct(_))));
}
