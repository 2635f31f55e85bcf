//! The Stripe adapter end to end against the sandbox: the PaymentIntent flow, line items,
//! errors, idempotent replay, and every fault kind with exactly-once creation.

#![cfg(feature = "stripe")]

mod support;

use std::time::Duration;

use payswitch::stripe::{PaymentIntentRequest, PaymentIntentStatus, StripeConfig, StripeProvider};
use payswitch::{
    CheckoutProvider, CheckoutRequest, CheckoutStatus, Currency, GatewaySection, LineItem, Money,
    PaymentError, WebhookEventKind,
};
use payswitch_sandbox::{Fault, FaultKind};
use support::{Env, Gateway};

const SESSIONS: &str = "/v1/checkout/sessions";

fn request() -> CheckoutRequest {
    CheckoutRequest::builder()
        .line_item(LineItem::custom(
            "Desk lamp",
            Money::new(3500, Currency::EUR),
            2,
        ))
        .line_item(LineItem::custom("Bulb", Money::new(450, Currency::EUR), 4))
        .success_url("https://shop.example/done?session_id={CHECKOUT_SESSION_ID}")
        .reference("order-e2e")
        .build()
        .unwrap()
}

async fn stripe(env: &Env) -> StripeProvider {
    StripeProvider::from_config(&env.config(Gateway::Stripe)).unwrap()
}

fn posts_to(env: &Env, path: &str) -> Vec<payswitch_sandbox::RecordedRequest> {
    env.sandbox
        .requests()
        .into_iter()
        .filter(|request| request.method == "POST" && request.path == path)
        .collect()
}

fn idempotency_keys(requests: &[payswitch_sandbox::RecordedRequest]) -> Vec<String> {
    requests
        .iter()
        .filter_map(|request| {
            request
                .headers
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("idempotency-key"))
                .map(|(_, value)| value.clone())
        })
        .collect()
}

#[tokio::test]
async fn a_paid_session_has_its_line_items_and_success_url() {
    let env = Env::start().await;
    let provider = stripe(&env).await;
    let created = provider.create_checkout(&request()).await.unwrap();
    assert_eq!(created.amount_total, Some(Money::new(8800, Currency::EUR)));
    let redirect = env.sandbox.pay(&created.id, None).unwrap();
    assert_eq!(
        redirect,
        format!("https://shop.example/done?session_id={}", created.id)
    );
    let params = provider
        .verify_return(redirect.split_once('?').unwrap().1)
        .unwrap();
    assert_eq!(params.checkout_id, created.id);
    assert!(!params.verified, "Stripe does not sign redirects");

    let items = provider.list_line_items(&created.id).await.unwrap();
    let names: Vec<(Option<&str>, Option<u64>)> = items
        .iter()
        .map(|item| (item.description.as_deref(), item.quantity))
        .collect();
    assert_eq!(
        names,
        [(Some("Desk lamp"), Some(2)), (Some("Bulb"), Some(4))]
    );

    let (headers, body) = env
        .webhook_for(&created.id, "checkout.session.completed")
        .await
        .unwrap();
    let event = provider.verify_webhook(&headers, &body).unwrap();
    assert_eq!(event.kind, WebhookEventKind::CheckoutCompleted);
    assert!(event.checkout.unwrap().is_paid());
    assert!(provider
        .retrieve_checkout(&created.id)
        .await
        .unwrap()
        .is_paid());
}

#[tokio::test]
async fn the_payment_intent_flow_runs_offline() {
    let env = Env::start().await;
    let provider = stripe(&env).await;
    let intent = provider
        .create_payment_intent(
            &PaymentIntentRequest::new(Money::new(1099, Currency::USD))
                .metadata("order_id", "6735"),
        )
        .await
        .unwrap();
    assert_eq!(intent.status, PaymentIntentStatus::RequiresPaymentMethod);
    assert!(!format!("{intent:?}").contains(intent.client_secret.expose()));

    // The browser confirms with the publishable key and the client secret.
    let confirm = reqwest::Client::new()
        .post(format!(
            "{}/v1/payment_intents/{}/confirm",
            env.sandbox.stripe_api_base(),
            intent.id
        ))
        .bearer_auth(env.sandbox.stripe_publishable_key())
        .form(&[
            ("payment_method", "pm_card_visa"),
            ("client_secret", intent.client_secret.expose()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(confirm.status(), 200);
    let confirmed = provider.retrieve_payment_intent(&intent.id).await.unwrap();
    assert_eq!(confirmed.status, PaymentIntentStatus::Succeeded);
    let (headers, body) = env
        .webhook_for(&intent.id, "payment_intent.succeeded")
        .await
        .unwrap();
    let event = provider.verify_webhook(&headers, &body).unwrap();
    assert_eq!(event.kind, WebhookEventKind::PaymentSucceeded);
}

#[tokio::test]
async fn gateway_errors_map_to_semantic_variants() {
    let env = Env::start().await;
    let wrong_key = env.config(Gateway::Stripe);
    let mut wrong_key = wrong_key;
    wrong_key.set_gateway(
        payswitch::stripe::NAME,
        GatewaySection::from_settings(
            StripeConfig::new("sk_test_wrong").with_api_base(env.sandbox.stripe_api_base()),
        ),
    );
    let provider = StripeProvider::from_config(&wrong_key).unwrap();
    match provider.create_checkout(&request()).await {
        Err(PaymentError::Authentication {
            gateway: Some(details),
        }) => {
            assert_eq!(details.status, 401);
            assert!(details
                .request_id
                .as_deref()
                .is_some_and(|id| id.starts_with("req_")));
            assert!(!details.message.contains("sk_test_wrong"));
        }
        other => panic!("{other:?}"),
    }

    let provider = stripe(&env).await;
    let created = provider.create_checkout(&request()).await.unwrap();
    env.sandbox.pay(&created.id, None).unwrap();
    match provider.expire_checkout(&created.id).await {
        Err(PaymentError::InvalidRequest {
            gateway: Some(details),
            ..
        }) => assert_eq!(details.status, 400),
        other => panic!("expiring a paid session: {other:?}"),
    }
}

#[tokio::test]
async fn the_clock_expires_sessions_and_emits_the_event() {
    let env = Env::start().await;
    let provider = stripe(&env).await;
    let created = provider.create_checkout(&request()).await.unwrap();
    env.sandbox
        .advance_clock(Duration::from_secs(24 * 3600 + 1));
    assert_eq!(
        provider
            .retrieve_checkout(&created.id)
            .await
            .unwrap()
            .status,
        CheckoutStatus::Expired
    );
    let (headers, body) = env
        .webhook_for(&created.id, "checkout.session.expired")
        .await
        .unwrap();
    assert_eq!(
        provider.verify_webhook(&headers, &body).unwrap().kind,
        WebhookEventKind::CheckoutExpired
    );
}

#[tokio::test]
async fn idempotency_keys_replay_and_conflict() {
    let env = Env::start().await;
    let provider = stripe(&env).await;
    let mut keyed = request();
    keyed.idempotency_key = Some("order-e2e-attempt-1".into());
    let first = provider.create_checkout(&keyed).await.unwrap();
    let replay = provider.create_checkout(&keyed).await.unwrap();
    assert_eq!(first.id, replay.id);
    assert_eq!(env.sandbox.counts().stripe_checkout_sessions, 1);

    keyed.line_items[0].quantity = 3;
    match provider.create_checkout(&keyed).await {
        Err(PaymentError::IdempotencyConflict {
            gateway: Some(details),
            ..
        }) => assert_eq!(details.status, 400),
        other => panic!("{other:?}"),
    }
    assert_eq!(env.sandbox.counts().stripe_checkout_sessions, 1);
}

/// Injects `kind` on the next create, then checks that one session exists and every attempt
/// carried the same idempotency key.
async fn survives(kind: FaultKind, expected_attempts: usize) {
    let env = Env::start().await;
    let provider = stripe(&env).await;
    env.sandbox
        .inject_fault(Fault::new(Some("POST"), SESSIONS, kind.clone()));
    let created = provider
        .create_checkout(&request())
        .await
        .unwrap_or_else(|error| panic!("{kind:?}: {error}"));
    assert_eq!(
        env.sandbox.counts().stripe_checkout_sessions,
        1,
        "{kind:?} created a duplicate"
    );
    let posts = posts_to(&env, SESSIONS);
    assert_eq!(posts.len(), expected_attempts, "{kind:?}");
    let keys = idempotency_keys(&posts);
    assert_eq!(keys.len(), expected_attempts);
    assert!(
        keys.iter().all(|key| *key == keys[0]),
        "{kind:?}: keys differ: {keys:?}"
    );
    assert!(
        posts.iter().all(|post| post.body == posts[0].body),
        "the body is not re-encoded differently"
    );
    assert_eq!(
        provider.retrieve_checkout(&created.id).await.unwrap().id,
        created.id
    );
}

#[tokio::test]
async fn a_500_is_retried_under_the_same_key() {
    survives(
        FaultKind::Respond {
            status: 500,
            retry_after_seconds: None,
        },
        2,
    )
    .await;
}

#[tokio::test]
async fn a_429_is_retried() {
    survives(
        FaultKind::Respond {
            status: 429,
            retry_after_seconds: Some(1),
        },
        2,
    )
    .await;
}

#[tokio::test]
async fn a_dropped_connection_is_retried() {
    survives(FaultKind::DropConnection, 2).await;
}

#[tokio::test]
async fn processed_then_dropped_is_replayed_not_duplicated() {
    survives(FaultKind::ProcessThenDrop, 2).await;
}

#[tokio::test]
async fn processed_then_500_is_replayed_not_duplicated() {
    survives(FaultKind::ProcessThenFail { status: 500 }, 2).await;
}

#[tokio::test]
async fn a_slow_answer_times_out_and_is_retried() {
    let env = Env::start().await;
    let mut config = env.config(Gateway::Stripe);
    config.http.timeout = Duration::from_millis(300);
    let provider = StripeProvider::from_config(&config).unwrap();
    env.sandbox.inject_fault(Fault::new(
        Some("POST"),
        SESSIONS,
        FaultKind::Delay { millis: 1000 },
    ));
    provider.create_checkout(&request()).await.unwrap();
    // Wait out the delayed first attempt, which the sandbox may still process.
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(env.sandbox.counts().stripe_checkout_sessions, 1);
}

#[tokio::test]
async fn persistent_failures_report_every_attempt() {
    let env = Env::start().await;
    let provider = stripe(&env).await;
    env.sandbox.inject_fault(
        Fault::new(
            Some("POST"),
            SESSIONS,
            FaultKind::Respond {
                status: 503,
                retry_after_seconds: None,
            },
        )
        .times(5),
    );
    match provider.create_checkout(&request()).await {
        Err(PaymentError::Provider(details)) => {
            assert_eq!(details.status, 503);
            assert_eq!(details.attempts, 3, "one attempt and two retries");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(posts_to(&env, SESSIONS).len(), 3);
    assert_eq!(env.sandbox.counts().stripe_checkout_sessions, 0);
}

// ---- Idempotency across calls: generations, replays, convergence (README "Retries and
// idempotency") ----

/// One order with an expiry: its key is derived from the reference.
fn order(reference: &str) -> CheckoutRequest {
    let mut request = request();
    request.reference = Some(reference.to_owned());
    request.expires_in = Some(Duration::from_secs(30 * 60));
    request
}

#[tokio::test]
async fn retries_of_one_call_reuse_one_key_and_expires_at_stays_in_the_window() {
    let env = Env::start().await;
    let provider = stripe(&env).await;
    env.sandbox.inject_fault(
        Fault::new(
            Some("POST"),
            SESSIONS,
            FaultKind::Respond {
                status: 503,
                retry_after_seconds: None,
            },
        )
        .times(2),
    );
    let created = provider
        .create_checkout(&order("order-window"))
        .await
        .unwrap();
    let posts = posts_to(&env, SESSIONS);
    assert_eq!(posts.len(), 3);
    let keys = idempotency_keys(&posts);
    assert!(keys.iter().all(|key| *key == keys[0]), "{keys:?}");
    assert!(keys[0].starts_with("payswitch-ref-") && keys[0].ends_with("-g0"));
    assert!(posts.iter().all(|post| post.body == posts[0].body));
    // Asked for 30 min, sent with a margin: at least 35 min after the sandbox's now.
    let expires_at = created.expires_at.unwrap().unix_timestamp();
    let left = expires_at - env.sandbox.now();
    assert!((30 * 60..=24 * 3600).contains(&left), "{left}");
    assert!(left >= 34 * 60, "{left}");
}

#[tokio::test]
async fn two_instances_creating_one_order_converge_on_one_session() {
    let env = Env::start().await;
    let first = stripe(&env).await;
    let second = stripe(&env).await;
    let request = order("order-race");
    let (a, b) = tokio::join!(
        first.create_checkout(&request),
        second.create_checkout(&request)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.id, b.id);
    assert_eq!(a.status, CheckoutStatus::Open);
    assert_eq!(env.sandbox.counts().stripe_checkout_sessions, 1);
    // A third call later converges too, and sees the session's current state.
    let again = first.create_checkout(&request).await.unwrap();
    assert_eq!(again.id, a.id);
    assert_eq!(env.sandbox.counts().stripe_checkout_sessions, 1);
}

#[tokio::test]
async fn creating_again_after_expiry_gives_a_new_payable_session() {
    let env = Env::start().await;
    let provider = stripe(&env).await;
    let request = order("order-expired");
    let first = provider.create_checkout(&request).await.unwrap();
    let expired = provider.expire_checkout(&first.id).await.unwrap();
    assert_eq!(expired.status, CheckoutStatus::Expired);

    let second = provider.create_checkout(&request).await.unwrap();
    assert_ne!(second.id, first.id);
    assert_eq!(second.status, CheckoutStatus::Open);
    assert!(second.url.is_some());
    env.sandbox.pay(&second.id, None).unwrap();

    // Once paid, the order never gets another payable session.
    match provider.create_checkout(&request).await {
        Err(PaymentError::AlreadyCompleted {
            checkout_id,
            reference,
        }) => {
            assert_eq!(checkout_id, second.id);
            assert_eq!(reference.as_deref(), Some("order-expired"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(env.sandbox.counts().stripe_checkout_sessions, 2);
}

#[tokio::test]
async fn a_completed_order_is_already_completed() {
    let env = Env::start().await;
    let provider = stripe(&env).await;
    let request = order("order-paid");
    let created = provider.create_checkout(&request).await.unwrap();
    env.sandbox.pay(&created.id, None).unwrap();
    let error = provider.create_checkout(&request).await.unwrap_err();
    assert!(
        matches!(&error, PaymentError::AlreadyCompleted { checkout_id, .. } if *checkout_id == created.id),
        "{error:?}"
    );
    assert!(!error.is_retryable());
    assert_eq!(env.sandbox.counts().stripe_checkout_sessions, 1);
}

#[tokio::test]
async fn a_replayed_500_does_not_block_the_order() {
    let env = Env::start().await;
    let provider = stripe(&env).await;
    env.sandbox.inject_fault(Fault::new(
        Some("POST"),
        SESSIONS,
        FaultKind::FailDuringExecution { status: 500 },
    ));
    let request = order("order-saved-500");
    let created = provider.create_checkout(&request).await.unwrap();
    assert_eq!(created.status, CheckoutStatus::Open);
    // The failed execution created the session; the saved 500 is replayed to the retry, and
    // the adapter finds that session instead of opening a second one under the next key.
    let keys = idempotency_keys(&posts_to(&env, SESSIONS));
    assert!(keys.iter().all(|key| key.ends_with("-g0")), "{keys:?}");
    assert_eq!(env.sandbox.counts().stripe_checkout_sessions, 1);
    // Later calls for the order find the same session, not the saved 500.
    assert_eq!(
        provider.create_checkout(&request).await.unwrap().id,
        created.id
    );
}

// ---- Amounts, discounts and the settlement currency ----

#[tokio::test]
async fn isk_round_trips_in_kronur() {
    let env = Env::start().await;
    let provider = stripe(&env).await;
    let isk = Currency::new("ISK").unwrap();
    let request = CheckoutRequest::builder()
        .line_item(LineItem::custom("Glacier walk", Money::new(5000, isk), 2))
        .success_url("https://shop.example/done?session_id={CHECKOUT_SESSION_ID}")
        .build()
        .unwrap();
    let created = provider.create_checkout(&request).await.unwrap();
    assert_eq!(created.amount_total, Some(Money::new(10_000, isk)));
    let items = provider.list_line_items(&created.id).await.unwrap();
    assert_eq!(items[0].unit_amount, Some(Money::new(5000, isk)));
}

#[tokio::test]
async fn a_small_charge_in_another_currency_is_refused_by_stripe_not_locally() {
    let env = Env::start().await;
    let provider = stripe(&env).await;
    let cny = Currency::new("CNY").unwrap();
    let request = CheckoutRequest::builder()
        .line_item(LineItem::custom("Sticker", Money::new(300, cny), 1))
        .success_url("https://shop.example/done")
        .build()
        .unwrap();
    match provider.create_checkout(&request).await {
        Err(PaymentError::AmountTooSmall {
            gateway: Some(details),
            ..
        }) => assert_eq!(details.status, 400),
        other => panic!("{other:?}"),
    }
    assert_eq!(posts_to(&env, SESSIONS).len(), 1, "Stripe decided");
}

#[tokio::test]
async fn discount_codes_are_resolved_to_promotion_codes() {
    use payswitch_sandbox::{CouponSeed, PromotionCodeSeed, Sandbox};
    let sandbox = Sandbox::builder()
        .coupon(CouponSeed::percent_off("SUMMER", 25))
        .promotion_code(PromotionCodeSeed::new("promo_summer", "SUMMER25", "SUMMER"))
        .promotion_code(PromotionCodeSeed::new("promo_gone", "GONE10", "SUMMER").inactive())
        .start()
        .await
        .unwrap();
    let provider = StripeProvider::builder(
        StripeConfig::new(sandbox.stripe_secret_key()).with_api_base(sandbox.stripe_api_base()),
    )
    .retry(payswitch::RetryConfig::immediate(2))
    .build()
    .unwrap();
    let with_code = |code: &str| {
        CheckoutRequest::builder()
            .line_item(LineItem::custom("Lamp", Money::new(4000, Currency::USD), 1))
            .success_url("https://shop.example/done")
            .discount_code(code)
            .build()
            .unwrap()
    };
    // A customer types the code in any case; Stripe looks it up.
    let created = provider
        .create_checkout(&with_code("summer25"))
        .await
        .unwrap();
    assert_eq!(created.amount_total, Some(Money::new(3000, Currency::USD)));

    for code in ["NOPE", "GONE10"] {
        match provider.create_checkout(&with_code(code)).await {
            Err(PaymentError::InvalidRequest { field, .. }) => assert_eq!(field, "discount_code"),
            other => panic!("{code}: {other:?}"),
        }
    }
    assert_eq!(sandbox.counts().stripe_checkout_sessions, 1);
    sandbox.shutdown().await;
}
