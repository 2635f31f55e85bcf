//! Stripe Prices over HTTP: seeding, `POST`/`GET /v1/prices`, sessions
//! built from `line_items[i][price]`, their errors, idempotency, the admin
//! route and catalog files.

mod common;

use common::*;
use payswitch_sandbox::{PriceSeed, ProductSeed, Sandbox, SandboxError, SandboxHandle};
use serde_json::{json, Value};

fn assert_error(reply: &Reply, status: u16, code: Option<&str>, param: Option<&str>) {
    assert_eq!(reply.status, status, "{}", reply.json);
    let error = &reply.json["error"];
    assert_eq!(error["type"], "invalid_request_error", "{}", reply.json);
    assert_eq!(error["code"].as_str(), code, "{}", reply.json);
    assert_eq!(error["param"].as_str(), param, "{}", reply.json);
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
}

/// A sandbox with a one-time, a monthly, a cheap and a euro price.
async fn priced_sandbox() -> SandboxHandle {
    Sandbox::builder()
        .price(PriceSeed::one_time("Pro lifetime", 1500, "usd").with_id("price_pro_lifetime"))
        .prices([
            PriceSeed::recurring("Pro", 2500, "USD", "month").with_id("price_pro_monthly"),
            PriceSeed::recurring("Pro", 6000, "usd", "month")
                .with_interval_count(3)
                .with_id("price_pro_quarterly")
                .with_product_id("prod_pro"),
            PriceSeed::one_time("Sticker", 25, "usd").with_id("price_sticker"),
            PriceSeed::one_time("Euro plan", 900, "eur").with_id("price_euro"),
        ])
        .start()
        .await
        .expect("sandbox starts")
}

/// Posts a Checkout Session in `mode` with these line items (plus the URLs `price_session` adds).
async fn create_price_session(sandbox: &SandboxHandle, mode: &str, items: &str) -> Reply {
    stripe_post(
        sandbox,
        "/v1/checkout/sessions",
        &price_session(mode, items),
    )
    .await
}

fn price_session(mode: &str, items: &str) -> String {
    format!(
        "mode={mode}&success_url=https%3A%2F%2Fshop.test%2Fok&cancel_url=https%3A%2F%2Fshop.test%2Fno{items}"
    )
}

#[tokio::test]
async fn seeded_price_sets_the_line_item() {
    let sandbox = priced_sandbox().await;
    let reply = create_price_session(
        &sandbox,
        "payment",
        "&line_items[0][price]=price_pro_lifetime&line_items[0][quantity]=3&expand[]=line_items",
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    assert_eq!(reply.json["amount_total"], 4500);
    assert_eq!(reply.json["amount_subtotal"], 4500);
    assert_eq!(reply.json["currency"], "usd");
    let expanded = &reply.json["line_items"]["data"][0];
    assert_eq!(expanded["price"]["id"], "price_pro_lifetime");
    let session_id = reply.json["id"].as_str().expect("id").to_owned();

    let price = stripe_get(&sandbox, "/v1/prices/price_pro_lifetime").await;
    assert_eq!(price.status, 200);
    let product_id = price.json["product"].as_str().expect("product").to_owned();
    assert!(product_id.starts_with("prod_"), "{product_id}");

    let items = stripe_get(
        &sandbox,
        &format!("/v1/checkout/sessions/{session_id}/line_items"),
    )
    .await;
    assert_eq!(items.status, 200);
    let item = &items.json["data"][0];
    assert_eq!(item, expanded);
    assert_eq!(item["object"], "item");
    assert_eq!(item["description"], "Pro lifetime");
    assert_eq!(item["quantity"], 3);
    assert_eq!(item["amount_total"], 4500);
    assert_eq!(item["currency"], "usd");
    assert_eq!(item["price"], price.json);
    assert_eq!(item["price"]["product"], product_id.as_str());
    assert_eq!(item["price"]["active"], true);
    assert_eq!(item["price"]["type"], "one_time");
    assert_eq!(item["price"]["unit_amount"], 1500);

    // The hosted page shows the product name, quantity and line total.
    let page = client()
        .get(sandbox.pay_url(&session_id))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(page.contains("Pro lifetime"), "{page}");
    assert!(page.contains("$45.00"), "{page}");
    sandbox.pay(&session_id, None).expect("pays");
    let paid = stripe_get(&sandbox, &format!("/v1/checkout/sessions/{session_id}")).await;
    assert_eq!(paid.json["status"], "complete");
    assert_eq!(paid.json["payment_status"], "paid");
}

#[tokio::test]
async fn seeded_prices_have_the_fixture_shape() {
    let sandbox = priced_sandbox().await;
    let monthly = stripe_get(&sandbox, "/v1/prices/price_pro_monthly").await;
    assert_eq!(monthly.status, 200);
    let price = &monthly.json;
    assert_eq!(price["id"], "price_pro_monthly");
    assert_eq!(price["object"], "price");
    assert_eq!(price["active"], true);
    assert_eq!(price["currency"], "usd");
    assert_eq!(price["unit_amount"], 2500);
    assert_eq!(price["unit_amount_decimal"], "2500");
    assert_eq!(price["type"], "recurring");
    assert_eq!(price["recurring"]["interval"], "month");
    assert_eq!(price["recurring"]["interval_count"], 1);
    assert_eq!(price["livemode"], false);
    assert_eq!(price["lookup_key"], Value::Null);
    assert_eq!(price["billing_scheme"], "per_unit");
    assert_eq!(price["tax_behavior"], "unspecified");
    assert_eq!(price["metadata"], json!({}));
    assert!(price["created"].as_i64().is_some());

    let quarterly = stripe_get(&sandbox, "/v1/prices/price_pro_quarterly?expand[]=product").await;
    assert_eq!(quarterly.status, 200);
    assert_eq!(quarterly.json["recurring"]["interval_count"], 3);
    assert_eq!(quarterly.json["product"]["id"], "prod_pro");
    assert_eq!(quarterly.json["product"]["object"], "product");
    assert_eq!(quarterly.json["product"]["name"], "Pro");
}

#[tokio::test]
async fn creates_and_retrieves_prices() {
    let sandbox = priced_sandbox().await;
    let created = stripe_post(
        &sandbox,
        "/v1/prices",
        "currency=EUR&unit_amount=1200&product_data[name]=Team+seat&recurring[interval]=year\
         &recurring[interval_count]=2&metadata[sku]=team-2y&nickname=Team+biennial",
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.json);
    let price = &created.json;
    let id = price["id"].as_str().expect("id");
    assert!(id.starts_with("price_"), "{id}");
    assert_eq!(price["currency"], "eur");
    assert_eq!(price["unit_amount"], 1200);
    assert_eq!(price["unit_amount_decimal"], "1200");
    assert_eq!(price["type"], "recurring");
    assert_eq!(price["recurring"]["interval"], "year");
    assert_eq!(price["recurring"]["interval_count"], 2);
    assert_eq!(price["metadata"], json!({ "sku": "team-2y" }));
    assert_eq!(price["nickname"], "Team biennial");
    assert_eq!(price["active"], true);
    let product = price["product"].as_str().expect("product");
    assert!(product.starts_with("prod_"), "{product}");

    let fetched = stripe_get(&sandbox, &format!("/v1/prices/{id}")).await;
    assert_eq!(fetched.status, 200);
    assert_eq!(&fetched.json, price);

    // A second price on the same product.
    let second = stripe_post(
        &sandbox,
        "/v1/prices",
        &format!("currency=eur&unit_amount=150&product={product}"),
    )
    .await;
    assert_eq!(second.status, 200, "{}", second.json);
    assert_eq!(second.json["product"], product);
    assert_eq!(second.json["type"], "one_time");
    assert_eq!(second.json["recurring"], Value::Null);

    let missing = stripe_get(&sandbox, "/v1/prices/price_missing").await;
    assert_error(&missing, 404, Some("resource_missing"), Some("price"));
    assert_eq!(
        missing.json["error"]["message"],
        "No such price: 'price_missing'"
    );
}

#[tokio::test]
async fn price_create_validates_like_stripe() {
    let sandbox = priced_sandbox().await;
    let cases: &[(&str, Option<&str>, &str)] = &[
        (
            "currency=usd&unit_amount=100&product_data[name]=A&bogus=1",
            Some("parameter_unknown"),
            "bogus",
        ),
        (
            "currency=usd&unit_amount=100&product_data[name]=A&recurring[interval]=month&recurring[bogus]=1",
            Some("parameter_unknown"),
            "recurring[bogus]",
        ),
        (
            "currency=usd&unit_amount=100&product_data[name]=A&product_data[bogus]=1",
            Some("parameter_unknown"),
            "product_data[bogus]",
        ),
        (
            "unit_amount=100&product_data[name]=A",
            Some("parameter_missing"),
            "currency",
        ),
        (
            "currency=usd&product_data[name]=A",
            Some("parameter_missing"),
            "unit_amount",
        ),
        ("currency=usd&unit_amount=100", Some("parameter_missing"), "product"),
        (
            "currency=usd&unit_amount=100&product_data[active]=true",
            Some("parameter_missing"),
            "product_data[name]",
        ),
        (
            "currency=usd&unit_amount=100&product=prod_missing",
            Some("resource_missing"),
            "product",
        ),
        (
            "currency=usd&unit_amount=100&product=prod_pro&product_data[name]=A",
            Some("parameters_exclusive"),
            "product_data",
        ),
        ("currency=xyz&unit_amount=100&product_data[name]=A", None, "currency"),
        ("currency=usd&unit_amount=-1&product_data[name]=A", None, "unit_amount"),
        (
            "currency=usd&unit_amount=100000000&product_data[name]=A",
            None,
            "unit_amount",
        ),
        (
            "currency=usd&unit_amount=ten&product_data[name]=A",
            Some("parameter_invalid_integer"),
            "unit_amount",
        ),
        (
            "currency=usd&unit_amount=100&product_data[name]=A&recurring[interval]=fortnight",
            None,
            "recurring[interval]",
        ),
        (
            "currency=usd&unit_amount=100&product_data[name]=A&recurring[interval]=month&recurring[interval_count]=37",
            None,
            "recurring[interval_count]",
        ),
        (
            "currency=usd&unit_amount=100&product_data[name]=A&recurring[interval_count]=2",
            Some("parameter_missing"),
            "recurring[interval]",
        ),
        (
            "currency=usd&unit_amount=100&product_data[name]=A&tiers_mode=graduated",
            None,
            "tiers_mode",
        ),
    ];
    for (body, code, param) in cases {
        let reply = stripe_post(&sandbox, "/v1/prices", body).await;
        assert_error(&reply, 400, *code, Some(param));
    }
    // Seeded five; every case above was refused.
    assert_eq!(sandbox.counts().stripe_prices, 5);
}

#[tokio::test]
async fn unknown_and_inactive_prices_are_resource_missing() {
    let sandbox = priced_sandbox().await;
    let reply = create_price_session(
        &sandbox,
        "payment",
        "&line_items[0][price]=price_pro_lifetime&line_items[0][quantity]=1\
             &line_items[1][price]=price_x&line_items[1][quantity]=1",
    )
    .await;
    assert_error(
        &reply,
        400,
        Some("resource_missing"),
        Some("line_items[1][price]"),
    );
    assert_eq!(reply.json["error"]["message"], "No such price: 'price_x'");

    let archived = stripe_post(
        &sandbox,
        "/v1/prices",
        "currency=usd&unit_amount=1000&product=prod_pro&active=false",
    )
    .await;
    assert_eq!(archived.status, 200, "{}", archived.json);
    assert_eq!(archived.json["active"], false);
    let archived_id = archived.json["id"].as_str().expect("id");
    let reply = create_price_session(
        &sandbox,
        "payment",
        &format!("&line_items[0][price]={archived_id}&line_items[0][quantity]=1"),
    )
    .await;
    assert_error(
        &reply,
        400,
        Some("resource_missing"),
        Some("line_items[0][price]"),
    );
    assert_eq!(
        reply.json["error"]["message"],
        format!("No such price: '{archived_id}'")
    );
    assert_eq!(sandbox.counts().stripe_checkout_sessions, 0);
}

#[tokio::test]
async fn price_data_can_name_a_catalog_product() {
    let sandbox = priced_sandbox().await;
    let reply = create_price_session(
        &sandbox,
        "payment",
        "&line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=1234\
             &line_items[0][price_data][product]=prod_pro&line_items[0][quantity]=1\
             &expand[]=line_items",
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    let item = &reply.json["line_items"]["data"][0];
    assert_eq!(item["description"], "Pro");
    assert_eq!(item["price"]["product"], "prod_pro");
    assert_eq!(item["price"]["active"], false);
    assert_eq!(item["amount_total"], 1234);
}

#[tokio::test]
async fn price_and_price_data_are_exclusive() {
    let sandbox = priced_sandbox().await;
    let reply = create_price_session(
        &sandbox,
        "payment",
        "&line_items[0][price]=price_pro_lifetime&line_items[0][price_data][currency]=usd\
             &line_items[0][price_data][unit_amount]=100\
             &line_items[0][price_data][product_data][name]=X&line_items[0][quantity]=1",
    )
    .await;
    assert_error(
        &reply,
        400,
        Some("parameters_exclusive"),
        Some("line_items[0][price]"),
    );
    assert_eq!(
        reply.json["error"]["message"],
        "You may only specify one of these parameters: price, price_data."
    );

    let neither = create_price_session(&sandbox, "payment", "&line_items[0][quantity]=1").await;
    assert_error(
        &neither,
        400,
        Some("parameter_missing"),
        Some("line_items[0][price]"),
    );
}

#[tokio::test]
async fn recurring_price_needs_subscription_mode() {
    let sandbox = priced_sandbox().await;
    let reply = create_price_session(
        &sandbox,
        "payment",
        "&line_items[0][price]=price_pro_monthly&line_items[0][quantity]=1",
    )
    .await;
    assert_error(&reply, 400, None, Some("line_items[0][price]"));
    assert_eq!(
        reply.json["error"]["message"],
        "You must be in `subscription` mode to use recurring prices; this session is in \
         `payment` mode."
    );

    // Subscription mode with only one-time prices.
    let reply = create_price_session(
        &sandbox,
        "subscription",
        "&line_items[0][price]=price_pro_lifetime&line_items[0][quantity]=1",
    )
    .await;
    assert_error(&reply, 400, None, Some("line_items"));
}

#[tokio::test]
async fn subscription_with_a_recurring_price_succeeds() {
    let sandbox = priced_sandbox().await;
    let reply = create_price_session(
        &sandbox,
        "subscription",
        "&line_items[0][price]=price_pro_monthly&line_items[0][quantity]=2\
             &line_items[1][price]=price_pro_lifetime&line_items[1][quantity]=1",
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    assert_eq!(reply.json["mode"], "subscription");
    assert_eq!(reply.json["amount_total"], 2 * 2500 + 1500);
    let id = reply.json["id"].as_str().expect("id").to_owned();
    let items = stripe_get(&sandbox, &format!("/v1/checkout/sessions/{id}/line_items")).await;
    assert_eq!(items.json["data"][0]["price"]["id"], "price_pro_monthly");
    assert_eq!(
        items.json["data"][0]["price"]["recurring"]["interval"],
        "month"
    );
    assert_eq!(items.json["data"][0]["description"], "Pro");
    sandbox.pay(&id, None).expect("pays");
    let paid = stripe_get(&sandbox, &format!("/v1/checkout/sessions/{id}")).await;
    assert_eq!(paid.json["status"], "complete");
    assert!(paid.json["subscription"]
        .as_str()
        .is_some_and(|sub| sub.starts_with("sub_")));
}

#[tokio::test]
async fn currencies_must_agree() {
    let sandbox = priced_sandbox().await;
    let reply = create_price_session(
        &sandbox,
        "payment",
        "&line_items[0][price]=price_pro_lifetime&line_items[0][quantity]=1\
             &line_items[1][price]=price_euro&line_items[1][quantity]=1",
    )
    .await;
    assert_error(&reply, 400, None, Some("line_items"));

    // A catalog price and an inline price in another currency.
    let reply = create_price_session(
        &sandbox,
        "payment",
        "&line_items[0][price]=price_euro&line_items[0][quantity]=1\
             &line_items[1][price_data][currency]=usd&line_items[1][price_data][unit_amount]=500\
             &line_items[1][price_data][product_data][name]=X&line_items[1][quantity]=1",
    )
    .await;
    assert_error(&reply, 400, None, Some("line_items"));
}

#[tokio::test]
async fn cheap_price_total_is_amount_too_small() {
    let sandbox = priced_sandbox().await;
    let reply = create_price_session(
        &sandbox,
        "payment",
        "&line_items[0][price]=price_sticker&line_items[0][quantity]=1",
    )
    .await;
    assert_error(&reply, 400, Some("amount_too_small"), None);
    // Two stickers still fall short of 50 cents; two of them cost 50.
    let reply = create_price_session(
        &sandbox,
        "payment",
        "&line_items[0][price]=price_sticker&line_items[0][quantity]=2",
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    assert_eq!(reply.json["amount_total"], 50);
}

#[tokio::test]
async fn price_create_is_idempotent() {
    let sandbox = priced_sandbox().await;
    let body = "currency=usd&unit_amount=700&product_data[name]=Add-on";
    let first = stripe_post_with(&sandbox, "/v1/prices", body, Some("price-key-1")).await;
    assert_eq!(first.status, 200, "{}", first.json);
    assert_eq!(first.header("idempotent-replayed"), None);
    let again = stripe_post_with(&sandbox, "/v1/prices", body, Some("price-key-1")).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.json, first.json);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.header("original-request"), first.header("request-id"));
    assert_eq!(sandbox.counts().stripe_prices, 6);

    let other = stripe_post_with(
        &sandbox,
        "/v1/prices",
        "currency=usd&unit_amount=800&product_data[name]=Add-on",
        Some("price-key-1"),
    )
    .await;
    assert_eq!(other.status, 400);
    assert_eq!(other.json["error"]["type"], "idempotency_error");
    assert_eq!(sandbox.counts().stripe_prices, 6);
}

#[tokio::test]
async fn seeds_are_validated_added_at_runtime_and_reseeded_on_reset() {
    for (seed, fragment) in [
        (PriceSeed::one_time("A", 100, "xyz"), "currency"),
        (PriceSeed::one_time("A", -1, "usd"), "unit_amount"),
        (PriceSeed::one_time("A", 100_000_000, "usd"), "unit_amount"),
        (
            PriceSeed::recurring("A", 100, "usd", "fortnight"),
            "recurring[interval]",
        ),
        (
            PriceSeed::recurring("A", 100, "usd", "month").with_interval_count(0),
            "recurring[interval_count]",
        ),
        (PriceSeed::one_time("A", 100, "usd").with_id("pro"), "id"),
    ] {
        let started = Sandbox::builder().price(seed).start().await;
        match started {
            Err(SandboxError::InvalidPrice(message)) => {
                assert!(message.contains(fragment), "{message}")
            }
            other => panic!("expected InvalidPrice for {fragment}, got {other:?}"),
        }
    }

    let sandbox = priced_sandbox().await;
    let id = sandbox
        .add_price(PriceSeed::recurring("Pro", 25000, "usd", "year").with_product_id("prod_pro"))
        .expect("adds");
    assert!(id.starts_with("price_"), "{id}");
    let added = stripe_get(&sandbox, &format!("/v1/prices/{id}")).await;
    assert_eq!(added.json["product"], "prod_pro");
    assert!(matches!(
        sandbox.add_price(PriceSeed::one_time("Again", 100, "usd").with_id("price_pro_monthly")),
        Err(SandboxError::InvalidPrice(_))
    ));

    // The admin route.
    let admin = client()
        .post(format!("{}/__sandbox/prices", sandbox.base_url()))
        .json(&json!({
            "id": "price_admin", "product_name": "Admin", "unit_amount": 300,
            "currency": "gbp", "interval": "week", "interval_count": 2,
        }))
        .send()
        .await
        .expect("admin");
    assert_eq!(admin.status(), 200);
    let body: Value = admin.json().await.expect("json");
    assert_eq!(body, json!({ "id": "price_admin" }));
    let fetched = stripe_get(&sandbox, "/v1/prices/price_admin").await;
    assert_eq!(fetched.json["recurring"]["interval"], "week");
    assert_eq!(fetched.json["recurring"]["interval_count"], 2);
    assert_eq!(fetched.json["currency"], "gbp");
    let refused = client()
        .post(format!("{}/__sandbox/prices", sandbox.base_url()))
        .json(&json!({ "product_name": "Bad", "unit_amount": 300, "currency": "zzz" }))
        .send()
        .await
        .expect("admin");
    assert_eq!(refused.status(), 400);

    sandbox.reset();
    assert_eq!(sandbox.counts().stripe_prices, 5);
    assert_eq!(
        stripe_get(&sandbox, "/v1/prices/price_pro_monthly")
            .await
            .status,
        200
    );
    assert_eq!(
        stripe_get(&sandbox, "/v1/prices/price_admin").await.status,
        404
    );
}

#[tokio::test]
async fn catalog_files_carry_products_and_prices() {
    let directory = std::env::temp_dir().join(format!("payswitch-prices-{}", std::process::id()));
    std::fs::create_dir_all(&directory).expect("dir");
    let object_form = directory.join("catalog.json");
    std::fs::write(
        &object_form,
        json!({
            "products": [{ "id": "prod_creem_pro", "name": "Pro", "price": 2500, "currency": "USD" }],
            "prices": [{
                "id": "price_pro_monthly", "product_name": "Pro", "unit_amount": 2500,
                "currency": "usd", "interval": "month"
            }],
        })
        .to_string(),
    )
    .expect("write");
    let array_form = directory.join("products.json");
    std::fs::write(
        &array_form,
        json!([{ "id": "prod_old", "name": "Old", "price": 100, "currency": "EUR" }]).to_string(),
    )
    .expect("write");

    let products = ProductSeed::from_json_file(&object_form).expect("products");
    let prices = PriceSeed::from_json_file(&object_form).expect("prices");
    assert_eq!(products.len(), 1);
    assert_eq!(
        prices,
        vec![PriceSeed::recurring("Pro", 2500, "usd", "month").with_id("price_pro_monthly")]
    );
    assert_eq!(
        ProductSeed::from_json_file(&array_form)
            .expect("products")
            .len(),
        1
    );
    assert!(PriceSeed::from_json_file(&array_form)
        .expect("prices")
        .is_empty());

    let sandbox = Sandbox::builder()
        .products(products)
        .prices(prices)
        .start()
        .await
        .expect("starts");
    assert_eq!(
        stripe_get(&sandbox, "/v1/prices/price_pro_monthly")
            .await
            .status,
        200
    );
    let _ = std::fs::remove_dir_all(&directory);
}
