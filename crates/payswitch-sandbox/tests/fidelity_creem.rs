//! The sandbox against Creem's real behaviour: orders carry tax and discounts, checkouts redeem
//! discount codes, billing types decide subscriptions, and the success redirect is signed in
//! the form Creem documents.

mod common;

use common::*;
use payswitch_sandbox::{CreemRedirectSigning, DiscountSeed, ProductSeed, Sandbox, SandboxHandle};
use serde_json::{json, Value};

async fn taxed_sandbox() -> SandboxHandle {
    Sandbox::builder()
        .product(
            ProductSeed::one_time("Ebook", 1000, "EUR")
                .with_id("prod_taxed")
                .with_tax("exclusive", 2100),
        )
        .product(
            ProductSeed::one_time("Course", 1210, "EUR")
                .with_id("prod_inclusive")
                .with_tax("inclusive", 2100),
        )
        .product(ProductSeed::recurring("Club", 900, "USD", "every-month").with_id("prod_club"))
        .creem_discount(DiscountSeed::percentage(
            "LAUNCH10",
            10,
            &["prod_taxed", "prod_inclusive"],
        ))
        .start()
        .await
        .expect("sandbox starts")
}

async fn paid_order(sandbox: &SandboxHandle, body: Value) -> Value {
    let created = creem_post(sandbox, "/v1/checkouts", &body).await;
    assert_eq!(created.status, 200, "{}", created.json);
    let id = created.json["id"].as_str().unwrap().to_owned();
    sandbox.pay(&id, None).unwrap();
    creem_get(sandbox, &format!("/v1/checkouts?checkout_id={id}"))
        .await
        .json
}

#[tokio::test]
async fn orders_carry_tax_and_discount() {
    let sandbox = taxed_sandbox().await;
    let paid = paid_order(
        &sandbox,
        json!({ "product_id": "prod_taxed", "units": 2, "discount_code": "LAUNCH10" }),
    )
    .await;
    let order = &paid["order"];
    assert_eq!(order["amount"], 2000);
    assert_eq!(order["discount_amount"], 200);
    assert_eq!(order["sub_total"], 1800);
    assert_eq!(order["tax_amount"], 378);
    // amount - discount + tax, not price × units.
    assert_eq!(order["amount_paid"], 2178);
    assert_eq!(order["amount_due"], 2178);
    assert_eq!(order["currency"], "EUR");

    let exclusive_only = paid_order(&sandbox, json!({ "product_id": "prod_taxed" })).await;
    assert_eq!(exclusive_only["order"]["tax_amount"], 210);
    assert_eq!(exclusive_only["order"]["amount_paid"], 1210);

    let inclusive = paid_order(&sandbox, json!({ "product_id": "prod_inclusive" })).await;
    assert_eq!(inclusive["order"]["tax_amount"], 210);
    assert_eq!(inclusive["order"]["amount_paid"], 1210);
}

#[tokio::test]
async fn unknown_discount_codes_are_refused() {
    let sandbox = taxed_sandbox().await;
    let unknown = creem_post(
        &sandbox,
        "/v1/checkouts",
        &json!({ "product_id": "prod_taxed", "discount_code": "NOPE" }),
    )
    .await;
    assert_eq!(unknown.status, 400, "{}", unknown.json);
    assert_eq!(unknown.json["status"], 400);
    assert_eq!(unknown.json["error"], "Bad Request");
    assert_eq!(
        unknown.json["message"],
        json!(["Discount code NOPE not found"])
    );
    let wrong_product = creem_post(
        &sandbox,
        "/v1/checkouts",
        &json!({ "product_id": "prod_club", "discount_code": "LAUNCH10" }),
    )
    .await;
    assert_eq!(wrong_product.status, 400);
    assert_eq!(sandbox.counts().creem_checkouts, 0);
}

#[tokio::test]
async fn discounts_are_created_and_retrieved() {
    let sandbox = taxed_sandbox().await;
    let created = creem_post(
        &sandbox,
        "/v1/discounts",
        &json!({
            "name": "Five off",
            "code": "FIVE",
            "type": "fixed",
            "amount": 500,
            "currency": "EUR",
            "duration": "once",
            "applies_to_products": ["prod_taxed"],
        }),
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.json);
    assert_eq!(created.json["object"], "discount");
    assert_eq!(created.json["type"], "fixed");
    let id = created.json["id"].as_str().unwrap();
    let by_code = creem_get(&sandbox, "/v1/discounts?discount_code=FIVE").await;
    assert_eq!(by_code.json["id"], id);
    let invalid = creem_post(
        &sandbox,
        "/v1/discounts",
        &json!({ "name": "x", "type": "percentage", "duration": "once" }),
    )
    .await;
    assert_eq!(invalid.status, 400);
    let paid = paid_order(
        &sandbox,
        json!({ "product_id": "prod_taxed", "discount_code": "five" }),
    )
    .await;
    assert_eq!(paid["order"]["discount_amount"], 500);
    assert_eq!(paid["order"]["tax_amount"], 105);
    assert_eq!(paid["order"]["amount_paid"], 605);
}

#[tokio::test]
async fn billing_type_decides_the_subscription() {
    let sandbox = taxed_sandbox().await;
    let recurring = paid_order(&sandbox, json!({ "product_id": "prod_club" })).await;
    assert_eq!(recurring["subscription"]["status"], "active");
    assert_eq!(recurring["order"]["type"], "recurring");
    let one_time = paid_order(&sandbox, json!({ "product_id": "prod_taxed" })).await;
    assert!(one_time.get("subscription").is_none());
    assert_eq!(one_time["order"]["type"], "onetime");
}

#[tokio::test]
async fn redirect_signs_creems_six_parameters_by_default() {
    let sandbox = taxed_sandbox().await;
    let created = creem_post(
        &sandbox,
        "/v1/checkouts",
        &json!({
            "product_id": "prod_club",
            "request_id": "order-7",
            "success_url": "https://shop.test/done?plan=team",
        }),
    )
    .await;
    let redirect = sandbox
        .pay(created.json["id"].as_str().unwrap(), None)
        .unwrap();
    let keys: Vec<String> = url::Url::parse(&redirect)
        .unwrap()
        .query_pairs()
        .map(|(key, _)| key.into_owned())
        .collect();
    assert_eq!(
        keys,
        [
            "plan",
            "request_id",
            "checkout_id",
            "order_id",
            "customer_id",
            "subscription_id",
            "product_id",
            "signature"
        ]
    );
    let (six, given) = creem_redirect_signature(&redirect, sandbox.creem_api_key());
    assert_eq!(given.as_deref(), Some(six.as_str()));
    // The merchant's own `plan` is not signed.
    let (all, _) = creem_redirect_signature_all(&redirect, sandbox.creem_api_key());
    assert_ne!(given.as_deref(), Some(all.as_str()));
}

#[tokio::test]
async fn redirect_can_sign_every_parameter() {
    let sandbox = Sandbox::builder()
        .product(ProductSeed::one_time("Pro", 2500, "USD").with_id("prod_pro"))
        .creem_redirect_signing(CreemRedirectSigning::AllParameters)
        .start()
        .await
        .unwrap();
    let created = creem_post(
        &sandbox,
        "/v1/checkouts",
        &json!({ "product_id": "prod_pro", "success_url": "https://shop.test/done?plan=pro" }),
    )
    .await;
    let redirect = sandbox
        .pay(created.json["id"].as_str().unwrap(), None)
        .unwrap();
    let (all, given) = creem_redirect_signature_all(&redirect, sandbox.creem_api_key());
    assert_eq!(given.as_deref(), Some(all.as_str()));
}
