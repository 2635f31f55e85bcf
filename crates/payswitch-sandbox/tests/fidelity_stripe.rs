//! The sandbox against Stripe's real rules: wire exponents and last digits, the minimum charge
//! in the settlement currency, no-cost orders, setup and subscription modes, coupons and
//! promotion codes, idempotency and the `expires_at` window.

mod common;

use std::time::Duration;

use common::*;
use payswitch_sandbox::{
    CouponSeed, Fault, FaultKind, PromotionCodeSeed, Sandbox, SandboxError, SandboxHandle,
};
use serde_json::{json, Value};

const SESSIONS: &str = "/v1/checkout/sessions";

/// Asserts a Stripe error's status, type, code, param and exact message.
fn assert_stripe_error(
    reply: &Reply,
    status: u16,
    kind: &str,
    code: Option<&str>,
    param: Option<&str>,
    message: &str,
) {
    assert_eq!(reply.status, status, "{}", reply.json);
    let error = &reply.json["error"];
    assert_eq!(error["type"], kind, "{}", reply.json);
    assert_eq!(error["code"].as_str(), code, "{}", reply.json);
    assert_eq!(error["param"].as_str(), param, "{}", reply.json);
    assert_eq!(error["message"], message, "{}", reply.json);
}

/// A one-item payment session body in `currency` for `unit_amount`.
fn one_item(currency: &str, unit_amount: i64) -> String {
    format!(
        "mode=payment&success_url=https%3A%2F%2Fshop.test%2Fok\
         &line_items[0][price_data][currency]={currency}\
         &line_items[0][price_data][unit_amount]={unit_amount}\
         &line_items[0][price_data][product_data][name]=Thing&line_items[0][quantity]=1"
    )
}

async fn plain_sandbox() -> SandboxHandle {
    Sandbox::builder().start().await.expect("sandbox starts")
}

#[tokio::test]
async fn isk_counts_in_hundredths_and_must_be_whole_kronur() {
    let sandbox = plain_sandbox().await;
    let refused = stripe_post(&sandbox, SESSIONS, &one_item("isk", 10_050)).await;
    assert_stripe_error(
        &refused,
        400,
        "invalid_request_error",
        Some("invalid_charge_amount_no_decimal_compatible"),
        Some("line_items[0][price_data][unit_amount]"),
        "Invalid amount. Currency ISK has become effectively zero-decimal and charged amounts \
         must be evenly divisible by 100. See https://stripe.com/docs/currencies#special-cases \
         for more information.",
    );
    // 10 000 is 100 kr on Stripe's wire (about $0.72 at the sandbox's rate).
    let accepted = stripe_post(&sandbox, SESSIONS, &one_item("isk", 10_000)).await;
    assert_eq!(accepted.status, 200, "{}", accepted.json);
    assert_eq!(accepted.json["amount_total"], 10_000);
    let page = client()
        .get(sandbox.pay_url(accepted.json["id"].as_str().unwrap()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("ISK 100.00"), "{page}");

    let intent = stripe_post(&sandbox, "/v1/payment_intents", "amount=15050&currency=isk").await;
    assert_eq!(
        intent.json["error"]["code"],
        "invalid_charge_amount_no_decimal_compatible"
    );
    assert_eq!(intent.json["error"]["param"], "amount");
    let price = stripe_post(
        &sandbox,
        "/v1/prices",
        "currency=isk&unit_amount=99&product_data[name]=X",
    )
    .await;
    assert_eq!(intent.status, 400);
    assert_eq!(price.status, 400);
    assert_eq!(price.json["error"]["param"], "unit_amount");
}

#[tokio::test]
async fn three_decimal_amounts_must_end_in_zero() {
    let sandbox = plain_sandbox().await;
    let refused = stripe_post(&sandbox, SESSIONS, &one_item("kwd", 5_125)).await;
    assert_stripe_error(
        &refused,
        400,
        "invalid_request_error",
        Some("invalid_charge_amount"),
        Some("line_items[0][price_data][unit_amount]"),
        "Invalid amount. Currency KWD amounts must end in 0: the least significant digit of a \
         three-decimal currency must be 0. See https://stripe.com/docs/currencies#three-decimal \
         for more information.",
    );
    let accepted = stripe_post(&sandbox, SESSIONS, &one_item("kwd", 5_120)).await;
    assert_eq!(accepted.status, 200, "{}", accepted.json);
    let intent = stripe_post(&sandbox, "/v1/payment_intents", "amount=1005&currency=bhd").await;
    assert_eq!(intent.status, 400);
    assert_eq!(intent.json["error"]["code"], "invalid_charge_amount");
}

#[tokio::test]
async fn minimum_applies_in_the_settlement_currency() {
    let sandbox = plain_sandbox().await;
    // The example: CNY 3.00 on a USD account.
    let cny = stripe_post(&sandbox, SESSIONS, &one_item("cny", 300)).await;
    assert_stripe_error(
        &cny,
        400,
        "invalid_request_error",
        Some("amount_too_small"),
        None,
        "Amount must convert to at least 50 cents. CNY 3.00 converts to approximately $0.47.",
    );
    // Below MXN's and CZK's own minimums, but above $0.50: Stripe accepts them.
    for (currency, amount) in [("mxn", 950), ("czk", 1400), ("cny", 400)] {
        let reply = stripe_post(&sandbox, SESSIONS, &one_item(currency, amount)).await;
        assert_eq!(reply.status, 200, "{currency}: {}", reply.json);
    }
    // IDR 500.00 is about $0.03: no flat fallback lets it through.
    let idr = stripe_post(&sandbox, SESSIONS, &one_item("idr", 50_000)).await;
    assert_eq!(idr.json["error"]["code"], "amount_too_small");
    let usd = stripe_post(&sandbox, SESSIONS, &one_item("usd", 49)).await;
    assert_stripe_error(
        &usd,
        400,
        "invalid_request_error",
        Some("amount_too_small"),
        None,
        "The Checkout Session's total amount due must add up to at least $0.50 usd",
    );
    let intent = stripe_post(&sandbox, "/v1/payment_intents", "amount=300&currency=cny").await;
    assert_stripe_error(
        &intent,
        400,
        "invalid_request_error",
        Some("amount_too_small"),
        Some("amount"),
        "Amount must convert to at least 50 cents. CNY 3.00 converts to approximately $0.47.",
    );
}

#[tokio::test]
async fn settlement_currency_is_configurable() {
    let sandbox = Sandbox::builder()
        .stripe_settlement_currency("eur")
        .start()
        .await
        .unwrap();
    let usd = stripe_post(&sandbox, SESSIONS, &one_item("usd", 50)).await;
    assert_stripe_error(
        &usd,
        400,
        "invalid_request_error",
        Some("amount_too_small"),
        None,
        "Amount must convert to at least €0.50. $0.50 converts to approximately €0.46.",
    );
    let eur = stripe_post(&sandbox, SESSIONS, &one_item("eur", 50)).await;
    assert_eq!(eur.status, 200, "{}", eur.json);
    let unknown = Sandbox::builder()
        .stripe_settlement_currency("idr")
        .start()
        .await;
    assert!(matches!(unknown, Err(SandboxError::Config(_))));
}

#[tokio::test]
async fn no_cost_orders_complete_without_payment() {
    let sandbox = plain_sandbox().await;
    let free = stripe_post(&sandbox, SESSIONS, &one_item("usd", 0)).await;
    assert_eq!(free.status, 200, "{}", free.json);
    assert_eq!(free.json["amount_total"], 0);
    let id = free.json["id"].as_str().unwrap();
    sandbox.pay(id, None).unwrap();
    let paid = stripe_get(&sandbox, &format!("{SESSIONS}/{id}")).await.json;
    assert_eq!(paid["status"], "complete");
    assert_eq!(paid["payment_status"], "no_payment_required");
    assert_eq!(paid["payment_intent"], Value::Null);
}

#[tokio::test]
async fn setup_mode_requires_currency() {
    let sandbox = plain_sandbox().await;
    let body = "mode=setup&success_url=https%3A%2F%2Fshop.test%2Fok";
    let missing = stripe_post(&sandbox, SESSIONS, body).await;
    assert_stripe_error(
        &missing,
        400,
        "invalid_request_error",
        Some("parameter_missing"),
        Some("currency"),
        "Missing required param: currency.",
    );
    let given = stripe_post(&sandbox, SESSIONS, &format!("{body}&currency=usd")).await;
    assert_eq!(given.status, 200, "{}", given.json);
}

/// A subscription session with a monthly item of `interval_count` and an optional setup fee.
fn subscription(interval: &str, interval_count: i64, setup_fee: bool) -> String {
    let mut body = format!(
        "mode=subscription&success_url=https%3A%2F%2Fshop.test%2Fok\
         &line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=1000\
         &line_items[0][price_data][product_data][name]=Plan\
         &line_items[0][price_data][recurring][interval]={interval}\
         &line_items[0][price_data][recurring][interval_count]={interval_count}\
         &line_items[0][quantity]=1"
    );
    if setup_fee {
        body.push_str(
            "&line_items[1][price_data][currency]=usd&line_items[1][price_data][unit_amount]=500\
             &line_items[1][price_data][product_data][name]=Setup+fee&line_items[1][quantity]=1",
        );
    }
    body
}

#[tokio::test]
async fn subscriptions_take_one_time_items_and_up_to_three_years() {
    let sandbox = plain_sandbox().await;
    let with_fee = stripe_post(&sandbox, SESSIONS, &subscription("month", 1, true)).await;
    assert_eq!(with_fee.status, 200, "{}", with_fee.json);
    assert_eq!(with_fee.json["amount_total"], 1500);
    for (interval, count) in [("month", 36), ("week", 156), ("year", 3), ("day", 1095)] {
        let reply = stripe_post(&sandbox, SESSIONS, &subscription(interval, count, false)).await;
        assert_eq!(reply.status, 200, "{interval} {count}: {}", reply.json);
    }
    for (interval, count) in [("month", 37), ("week", 157), ("year", 4), ("day", 1096)] {
        let reply = stripe_post(&sandbox, SESSIONS, &subscription(interval, count, false)).await;
        assert_stripe_error(
            &reply,
            400,
            "invalid_request_error",
            None,
            Some("line_items[0][price_data][recurring][interval_count]"),
            "The maximum billing interval is three years (3 years, 36 months, 156 weeks or 1095 \
             days).",
        );
    }
    let only_one_time = stripe_post(
        &sandbox,
        SESSIONS,
        &one_item("usd", 1000).replace("mode=payment", "mode=subscription"),
    )
    .await;
    assert_stripe_error(
        &only_one_time,
        400,
        "invalid_request_error",
        None,
        Some("line_items"),
        "You must provide at least one recurring price in `subscription` mode when using prices.",
    );
}

#[tokio::test]
async fn coupons_and_promotion_codes_discount_sessions() {
    let sandbox = plain_sandbox().await;
    let coupon = stripe_post(
        &sandbox,
        "/v1/coupons",
        "id=QUARTER&percent_off=25&duration=once",
    )
    .await;
    assert_eq!(coupon.status, 200, "{}", coupon.json);
    assert_eq!(coupon.json["object"], "coupon");
    assert_eq!(coupon.json["percent_off"], json!(25.0));
    let promo = stripe_post(
        &sandbox,
        "/v1/promotion_codes",
        "promotion[type]=coupon&promotion[coupon]=QUARTER&code=SUMMER25",
    )
    .await;
    assert_eq!(promo.status, 200, "{}", promo.json);
    let promo_id = promo.json["id"].as_str().unwrap().to_owned();
    assert!(promo_id.starts_with("promo_"));
    assert_eq!(promo.json["promotion"]["coupon"], "QUARTER");

    let list = stripe_get(&sandbox, "/v1/promotion_codes?code=summer25&active=true").await;
    assert_eq!(list.json["object"], "list");
    assert_eq!(list.json["url"], "/v1/promotion_codes");
    assert_eq!(list.json["has_more"], false);
    assert_eq!(list.json["data"][0]["id"], promo_id.as_str());
    let none = stripe_get(&sandbox, "/v1/promotion_codes?code=WINTER&active=true").await;
    assert_eq!(none.json["data"], json!([]));

    // Two lines of 20.00 and 10.00 (subtotal 40.00), 25 % off.
    let body = format!(
        "{}&line_items[1][price_data][currency]=usd&line_items[1][price_data][unit_amount]=1000\
         &line_items[1][price_data][product_data][name]=Other&line_items[1][quantity]=1\
         &discounts[0][promotion_code]={promo_id}&expand[0]=line_items",
        one_item("usd", 1500).replace("[quantity]=1", "[quantity]=2")
    );
    let session = stripe_post(&sandbox, SESSIONS, &body).await;
    assert_eq!(session.status, 200, "{}", session.json);
    assert_eq!(session.json["amount_subtotal"], 4000);
    assert_eq!(session.json["amount_total"], 3000);
    assert_eq!(session.json["total_details"]["amount_discount"], 1000);
    assert_eq!(session.json["discounts"][0]["coupon"], "QUARTER");
    assert_eq!(
        session.json["discounts"][0]["promotion_code"],
        promo_id.as_str()
    );
    let items = &session.json["line_items"]["data"];
    assert_eq!(items[0]["amount_subtotal"], 3000);
    assert_eq!(items[0]["amount_discount"], 750);
    assert_eq!(items[0]["amount_total"], 2250);
    assert_eq!(items[1]["amount_discount"], 250);

    let unknown = stripe_post(
        &sandbox,
        SESSIONS,
        &format!(
            "{}&discounts[0][promotion_code]=promo_x",
            one_item("usd", 2000)
        ),
    )
    .await;
    assert_stripe_error(
        &unknown,
        400,
        "invalid_request_error",
        Some("resource_missing"),
        Some("discounts[0][promotion_code]"),
        "No such promotion code: 'promo_x'",
    );
    let unknown_coupon = stripe_post(
        &sandbox,
        SESSIONS,
        &format!("{}&discounts[0][coupon]=NOPE", one_item("usd", 2000)),
    )
    .await;
    assert_stripe_error(
        &unknown_coupon,
        400,
        "invalid_request_error",
        Some("resource_missing"),
        Some("discounts[0][coupon]"),
        "No such coupon: 'NOPE'",
    );
    let both = stripe_post(
        &sandbox,
        SESSIONS,
        &format!(
            "{}&discounts[0][coupon]=QUARTER&allow_promotion_codes=true",
            one_item("usd", 2000)
        ),
    )
    .await;
    assert_stripe_error(
        &both,
        400,
        "invalid_request_error",
        Some("parameters_exclusive"),
        Some("discounts"),
        "You may only specify one of these parameters: allow_promotion_codes, discounts.",
    );
}

#[tokio::test]
async fn seeded_amount_off_coupon_and_inactive_code() {
    let sandbox = Sandbox::builder()
        .coupon(CouponSeed::amount_off("FIVE", 500, "usd"))
        .promotion_code(PromotionCodeSeed::new("promo_five", "FIVE", "FIVE"))
        .promotion_code(PromotionCodeSeed::new("promo_old", "OLD", "FIVE").inactive())
        .start()
        .await
        .unwrap();
    let session = stripe_post(
        &sandbox,
        SESSIONS,
        &format!(
            "{}&discounts[0][promotion_code]=promo_five",
            one_item("usd", 2000)
        ),
    )
    .await;
    assert_eq!(session.status, 200, "{}", session.json);
    assert_eq!(session.json["amount_total"], 1500);
    let inactive = stripe_post(
        &sandbox,
        SESSIONS,
        &format!(
            "{}&discounts[0][promotion_code]=promo_old",
            one_item("usd", 2000)
        ),
    )
    .await;
    assert_eq!(inactive.status, 400);
    assert_eq!(
        inactive.json["error"]["param"],
        "discounts[0][promotion_code]"
    );
    let active_only = stripe_get(&sandbox, "/v1/promotion_codes?active=true").await;
    assert_eq!(active_only.json["data"].as_array().unwrap().len(), 1);
    // A coupon bigger than the total makes a no-cost order.
    let free = stripe_post(
        &sandbox,
        SESSIONS,
        &format!("{}&discounts[0][coupon]=FIVE", one_item("usd", 300)),
    )
    .await;
    assert_eq!(free.json["amount_total"], 0, "{}", free.json);
}

#[tokio::test]
async fn a_replayed_500_returns_the_saved_500() {
    let sandbox = plain_sandbox().await;
    sandbox.inject_fault(Fault::new(
        Some("POST"),
        SESSIONS,
        FaultKind::FailDuringExecution { status: 500 },
    ));
    let body = one_item("usd", 2000);
    let first = stripe_post_with(&sandbox, SESSIONS, &body, Some("k500")).await;
    assert_eq!(first.status, 500, "{}", first.json);
    assert_eq!(first.json["error"]["type"], "api_error");
    let again = stripe_post_with(&sandbox, SESSIONS, &body, Some("k500")).await;
    assert_eq!(again.status, 500);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json, first.json);
}

#[tokio::test]
async fn validation_failures_are_not_saved() {
    let sandbox = plain_sandbox().await;
    let invalid = stripe_post_with(&sandbox, SESSIONS, "mode=payment", Some("k400")).await;
    assert_eq!(invalid.status, 400);
    // The endpoint never started, so the key is free for a corrected request.
    let valid = stripe_post_with(&sandbox, SESSIONS, &one_item("usd", 2000), Some("k400")).await;
    assert_eq!(valid.status, 200, "{}", valid.json);
    assert_eq!(valid.header("idempotent-replayed"), None);
}

#[tokio::test]
async fn keys_expire_after_24_hours_of_sandbox_time() {
    let sandbox = plain_sandbox().await;
    let first = stripe_post_with(&sandbox, SESSIONS, &one_item("usd", 2000), Some("k24")).await;
    assert_eq!(first.status, 200);
    let other = one_item("usd", 3000);
    let mismatch = stripe_post_with(&sandbox, SESSIONS, &other, Some("k24")).await;
    assert_eq!(mismatch.json["error"]["type"], "idempotency_error");
    sandbox.advance_clock(Duration::from_secs(24 * 3600));
    let fresh = stripe_post_with(&sandbox, SESSIONS, &other, Some("k24")).await;
    assert_eq!(fresh.status, 200, "{}", fresh.json);
    assert_eq!(fresh.header("idempotent-replayed"), None);
    assert_ne!(fresh.json["id"], first.json["id"]);
}

#[tokio::test]
async fn a_key_in_use_is_409() {
    let sandbox = plain_sandbox().await;
    sandbox.inject_fault(Fault::new(
        Some("POST"),
        SESSIONS,
        FaultKind::Delay { millis: 600 },
    ));
    let body = one_item("usd", 2000);
    let (first, second) = tokio::join!(
        stripe_post_with(&sandbox, SESSIONS, &body, Some("k409")),
        async {
            tokio::time::sleep(Duration::from_millis(150)).await;
            stripe_post_with(&sandbox, SESSIONS, &body, Some("k409")).await
        }
    );
    assert_eq!(first.status, 200, "{}", first.json);
    assert_eq!(second.status, 409, "{}", second.json);
    assert_eq!(second.json["error"]["type"], "idempotency_error");
    assert_eq!(second.json["error"]["code"], "idempotency_key_in_use");
    assert_eq!(sandbox.counts().stripe_checkout_sessions, 1);
    // Once the first finished, the key replays.
    let third = stripe_post_with(&sandbox, SESSIONS, &body, Some("k409")).await;
    assert_eq!(third.header("idempotent-replayed"), Some("true"));
    assert_eq!(third.json["id"], first.json["id"]);
}

#[tokio::test]
async fn expires_at_is_checked_on_the_sandbox_clock() {
    let sandbox = plain_sandbox().await;
    sandbox.advance_clock(Duration::from_secs(10 * 3600));
    // 23 h after the sandbox's now is 33 h after the wall clock's.
    let expires_at = sandbox.now() + 23 * 3600;
    let reply = stripe_post(
        &sandbox,
        SESSIONS,
        &format!("{}&expires_at={expires_at}", one_item("usd", 2000)),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    let too_soon = stripe_post(
        &sandbox,
        SESSIONS,
        &format!(
            "{}&expires_at={}",
            one_item("usd", 2000),
            sandbox.now() + 29 * 60
        ),
    )
    .await;
    assert_eq!(too_soon.status, 400);
    assert_eq!(too_soon.json["error"]["param"], "expires_at");
}
