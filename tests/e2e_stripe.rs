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
