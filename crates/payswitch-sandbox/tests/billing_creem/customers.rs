//! Customers (create, read, update, list), the paginated subscription and transaction lists,
//! and authentication of the billing routes.

use payswitch_sandbox::WebhookInbox;
use serde_json::{json, Value};

use crate::common::*;
use crate::support::*;

#[tokio::test]
async fn customers_are_created_read_updated_and_listed() {
    let inbox = WebhookInbox::start().await.unwrap();
    let sandbox = billing_sandbox(&inbox).await;
    let created = creem_post(
        &sandbox,
        "/v1/customers",
        &json!({ "email": "ada@shop.test", "name": "Ada", "metadata": { "plan": "pro" } }),
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.json);
    let id = created.json["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("cust_"));
    assert_eq!(created.json["object"], "customer");
    assert_eq!(created.json["mode"], "test");
    assert_eq!(created.json["name"], "Ada");
    assert_eq!(created.json["metadata"]["plan"], "pro");
    assert_eq!(created.json["country"], "US");

    let duplicate = creem_post(
        &sandbox,
        "/v1/customers",
        &json!({ "email": "ADA@shop.test", "name": "A" }),
    )
    .await;
    assert_creem_error(
        &duplicate,
        400,
        "A resource with this identifier already exists",
    );
    let invalid = creem_post(
        &sandbox,
        "/v1/customers",
        &json!({ "email": "nope", "metadata": [] }),
    )
    .await;
    assert_creem_error(&invalid, 400, "email must be an email");
    assert_creem_error(&invalid, 400, "name should not be empty");
    assert_creem_error(&invalid, 400, "metadata must be an object");

    let by_id = creem_get(&sandbox, &format!("/v1/customers?customer_id={id}")).await;
    assert_eq!(by_id.json, created.json);
    let by_email = creem_get(&sandbox, "/v1/customers?email=ada%40shop.test").await;
    assert_eq!(by_email.json["id"], id.as_str());
    assert_creem_error(
        &creem_get(&sandbox, "/v1/customers?customer_id=cust_nope").await,
        404,
        "Customer not found",
    );
    assert_creem_error(
        &creem_get(&sandbox, "/v1/customers").await,
        400,
        "customer_id or email must be given",
    );

    let updated = creem_patch(
        &sandbox,
        "/v1/customers",
        &json!({ "customer_id": id, "name": "Ada Lovelace", "metadata": { "plan": "team" } }),
    )
    .await;
    assert_eq!(updated.status, 200, "{}", updated.json);
    assert_eq!(updated.json["name"], "Ada Lovelace");
    assert_eq!(updated.json["metadata"], json!({ "plan": "team" }));
    assert_eq!(updated.json["email"], "ada@shop.test");
    let missing = creem_patch(
        &sandbox,
        "/v1/customers",
        &json!({ "customer_id": "cust_nope" }),
    )
    .await;
    assert_creem_error(&missing, 404, "Customer not found");

    // A checkout for the customer's id pays as that customer.
    let checkout = creem_post(
        &sandbox,
        "/v1/checkouts",
        &json!({ "product_id": "prod_basic", "customer": { "id": id } }),
    )
    .await;
    let checkout_id = checkout.json["id"].as_str().unwrap();
    sandbox
        .pay_with_email(checkout_id, None, "someone@else.test")
        .unwrap();
    let paid = creem_get(
        &sandbox,
        &format!("/v1/checkouts?checkout_id={checkout_id}"),
    )
    .await
    .json;
    assert_eq!(paid["customer"]["id"], id.as_str());
    assert_eq!(paid["customer"]["name"], "Ada Lovelace");

    for email in ["b@shop.test", "c@shop.test"] {
        let reply = creem_post(
            &sandbox,
            "/v1/customers",
            &json!({ "email": email, "name": email }),
        )
        .await;
        assert_eq!(reply.status, 200);
    }
    let first = creem_get(&sandbox, "/v1/customers/list?page_size=2")
        .await
        .json;
    assert_eq!(
        first["pagination"],
        json!({ "total_records": 3, "total_pages": 2, "current_page": 1, "next_page": 2, "prev_page": null })
    );
    let emails: Vec<&str> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|customer| customer["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["c@shop.test", "b@shop.test"], "newest first");
    let second = creem_get(&sandbox, "/v1/customers/list?page_size=2&page_number=2")
        .await
        .json;
    assert_eq!(second["items"][0]["email"], "ada@shop.test");
    assert_eq!(second["pagination"]["prev_page"], 1);
    assert_eq!(second["pagination"]["next_page"], Value::Null);
    let everyone = creem_get(&sandbox, "/v1/customers/list").await.json;
    assert_eq!(
        everyone["items"].as_array().unwrap().len(),
        3,
        "default page size 50"
    );
    assert_creem_error(
        &creem_get(&sandbox, "/v1/customers/list?page_size=0").await,
        400,
        "page_size must not be less than 1",
    );
}

#[tokio::test]
async fn subscription_and_transaction_lists_filter_and_paginate() {
    let inbox = WebhookInbox::start().await.unwrap();
    let sandbox = billing_sandbox(&inbox).await;
    let mut mine = Vec::new();
    for product in ["prod_basic", "prod_pro", "prod_year"] {
        mine.push(subscribe(&sandbox, product, "many@shop.test").await);
    }
    let other = subscribe(&sandbox, "prod_basic", "other@shop.test").await;
    let ebook = paid_checkout(&sandbox, "prod_ebook", "many@shop.test").await;
    let customer = ebook["customer"]["id"].as_str().unwrap();

    let page = creem_get(
        &sandbox,
        &format!("/v1/customers/{customer}/subscriptions?page_size=2"),
    )
    .await
    .json;
    assert_eq!(page["pagination"]["total_records"], 3);
    assert_eq!(page["pagination"]["total_pages"], 2);
    let ids: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|subscription| subscription["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [mine[2].as_str(), mine[1].as_str()]);
    assert_creem_error(
        &creem_get(&sandbox, "/v1/customers/cust_nope/subscriptions").await,
        404,
        "Customer not found",
    );

    let all = creem_get(&sandbox, "/v1/subscriptions/search").await.json;
    assert_eq!(all["pagination"]["total_records"], 4);
    assert_eq!(all["items"][0]["id"], other.as_str());
    let last = creem_get(
        &sandbox,
        "/v1/subscriptions/search?page_number=2&page_size=3",
    )
    .await
    .json;
    assert_eq!(last["items"].as_array().unwrap().len(), 1);
    assert_eq!(last["items"][0]["id"], mine[0].as_str());
    assert_creem_error(
        &creem_get(&sandbox, "/v1/subscriptions/search?page_number=abc").await,
        400,
        "page_number must be a number conforming to the specified constraints",
    );
    assert_creem_error(
        &creem_get(&sandbox, "/v1/subscriptions").await,
        400,
        "subscription_id must be a string",
    );

    let by_customer = creem_get(
        &sandbox,
        &format!("/v1/transactions/search?customer_id={customer}"),
    )
    .await
    .json;
    assert_eq!(by_customer["pagination"]["total_records"], 4);
    assert_eq!(by_customer["items"][0]["type"], "payment");
    let by_product = creem_get(&sandbox, "/v1/transactions/search?product_id=prod_basic")
        .await
        .json;
    assert_eq!(by_product["pagination"]["total_records"], 2);
    let order = ebook["order"]["id"].as_str().unwrap();
    let by_order = creem_get(
        &sandbox,
        &format!("/v1/transactions/search?order_id={order}"),
    )
    .await
    .json;
    assert_eq!(by_order["items"][0]["id"], ebook["order"]["transaction"]);
    assert_eq!(by_order["pagination"]["total_records"], 1);
    let both = creem_get(
        &sandbox,
        &format!("/v1/transactions/search?customer_id={customer}&product_id=prod_pro"),
    )
    .await
    .json;
    assert_eq!(both["pagination"]["total_records"], 1);
    assert_creem_error(
        &creem_get(&sandbox, "/v1/transactions?transaction_id=tran_nope").await,
        404,
        "Transaction not found",
    );
}

#[tokio::test]
async fn billing_routes_authenticate_like_every_creem_route() {
    let inbox = WebhookInbox::start().await.unwrap();
    let sandbox = billing_sandbox(&inbox).await;
    let wrong = client()
        .get(format!(
            "{}/v1/subscriptions/search",
            sandbox.creem_api_base()
        ))
        .header("x-api-key", "creem_test_wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 403);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(body["message"], json!(["Invalid API key"]));
    let missing = client()
        .get(format!(
            "{}/v1/transactions/search",
            sandbox.creem_api_base()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 401);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["message"], json!(["Missing API key"]));
    // /v1/subscriptions is a Stripe path too: without x-api-key it is Stripe's.
    let stripe = client()
        .get(format!("{}/v1/subscriptions", sandbox.creem_api_base()))
        .send()
        .await
        .unwrap();
    let body: Value = stripe.json().await.unwrap();
    assert!(
        body["error"]["type"].is_string(),
        "Stripe's error shape: {body}"
    );
}
