//! The Creem adapter end to end against the sandbox: the signed redirect, errors, and every
//! fault kind, with retries only where no duplicate checkout can result.

#![cfg(feature = "creem")]

mod support;

use std::time::Duration;

use payswitch::creem::CreemConfig;
use payswitch::creem::CreemProvider;
use payswitch::{
    CheckoutProvider, CheckoutRequest, CheckoutStatus, GatewaySection, LineItem, PaymentError,
    PaymentStatus, SignatureError, WebhookEventKind,
};
use payswitch_sandbox::{Fault, FaultKind};
use support::{Env, Gateway, SKU};

const CHECKOUTS: &str = "/v1/checkouts";

fn request() -> CheckoutRequest {
    CheckoutRequest::builder()
        .line_item(LineItem::sku(SKU, 2))
        .success_url("https://shop.example/done?from=creem")
        .customer_email("ada@example.com")
        .reference("order-creem-e2e")
        .metadata("plan", "one-time")
        .build()
        .unwrap()
}

fn creem(env: &Env) -> CreemProvider {
    CreemProvider::from_config(&env.config(Gateway::Creem)).unwrap()
}

fn requests_to(env: &Env, method: &str, path: &str) -> usize {
    env.sandbox
        .requests()
        .iter()
        .filter(|request| request.method == method && request.path == path)
        .count()
}

#[tokio::test]
async fn pay_verify_redirect_and_webhook() {
    let env = Env::start().await;
    let provider = creem(&env);
    let created = provider.create_checkout(&request()).await.unwrap();
    assert_eq!(created.status, CheckoutStatus::Open);
    let redirect = env.sandbox.pay(&created.id, None).unwrap();
    // Creem appends its own parameters after the merchant's, request_id first.
    assert!(
        redirect.starts_with(
            "https://shop.example/done?from=creem&request_id=order-creem-e2e&checkout_id="
        ),
        "{redirect}"
    );
    let query = redirect.split_once('?').unwrap().1;
    let params = provider.verify_return(query).unwrap();
    assert!(params.verified);
    assert_eq!(params.checkout_id, created.id);
    assert_eq!(params.reference.as_deref(), Some("order-creem-e2e"));
    assert!(params.order_id.is_some());

    let tampered = query.replace("order-creem-e2e", "order-creem-other");
    assert!(matches!(
        provider.verify_return(&tampered),
        Err(PaymentError::Signature(SignatureError::Mismatch))
    ));

    let (headers, body) = env
        .webhook_for(&created.id, "checkout.completed")
        .await
        .unwrap();
    let event = provider.verify_webhook(&headers, &body).unwrap();
    assert_eq!(event.kind, WebhookEventKind::CheckoutCompleted);
    let paid = provider.retrieve_checkout(&created.id).await.unwrap();
    assert_eq!(
        (paid.status, paid.payment_status),
        (CheckoutStatus::Complete, PaymentStatus::Paid)
    );
    assert_eq!(
        paid.metadata.get("plan").map(String::as_str),
        Some("one-time")
    );
}

#[tokio::test]
async fn a_wrong_key_is_an_authentication_error_without_the_key() {
    let env = Env::start().await;
    let mut config = env.config(Gateway::Creem);
    config.set_gateway(
        payswitch::creem::NAME,
        GatewaySection::from_settings(
            CreemConfig::new("creem_test_wrong").with_api_base(env.sandbox.creem_api_base()),
        ),
    );
    let provider = CreemProvider::from_config(&config).unwrap();
    match provider.create_checkout(&request()).await {
        Err(error @ PaymentError::Authentication { .. }) => {
            // Creem answers 403 for an invalid key (401 for a missing one).
            assert_eq!(error.status(), Some(403));
            assert!(error.request_id().is_some(), "trace_id is kept");
            assert!(!format!("{error} {error:?}").contains("creem_test_wrong"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn unknown_products_and_checkouts_are_refused_by_the_gateway() {
    let env = Env::start().await;
    let provider = creem(&env);
    let unknown_product = CheckoutRequest::builder()
        .line_item(LineItem::native("prod_missing", 1))
        .success_url("https://shop.example/done")
        .build()
        .unwrap();
    let error = provider
        .create_checkout(&unknown_product)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            PaymentError::NotFound { .. } | PaymentError::InvalidRequest { .. }
        ),
        "{error:?}"
    );
    assert!(error.gateway().is_some());
    assert_eq!(env.sandbox.counts().creem_checkouts, 0);
}

#[tokio::test]
async fn only_a_rate_limit_is_retried_on_create() {
    // A 429 means Creem refused the request before processing it: retried.
    let env = Env::start().await;
    let provider = creem(&env);
    env.sandbox.inject_fault(Fault::new(
        Some("POST"),
        CHECKOUTS,
        FaultKind::Respond {
            status: 429,
            retry_after_seconds: Some(1),
        },
    ));
    provider.create_checkout(&request()).await.unwrap();
    assert_eq!(requests_to(&env, "POST", CHECKOUTS), 2);
    assert_eq!(env.sandbox.counts().creem_checkouts, 1);

    // A 503 may come from a proxy after Creem processed the request (Creem has no
    // idempotency key), so a create is not repeated: the error reaches the caller.
    let env = Env::start().await;
    let provider = creem(&env);
    env.sandbox.inject_fault(Fault::new(
        Some("POST"),
        CHECKOUTS,
        FaultKind::Respond {
            status: 503,
            retry_after_seconds: None,
        },
    ));
    let error = provider.create_checkout(&request()).await.unwrap_err();
    assert_eq!(error.status(), Some(503), "{error:?}");
    assert_eq!(requests_to(&env, "POST", CHECKOUTS), 1);
}

#[tokio::test]
async fn ambiguous_create_failures_are_not_retried() {
    // Each of these may have created a checkout, and Creem has no idempotency key.
    let cases = [
        (
            FaultKind::Respond {
                status: 500,
                retry_after_seconds: None,
            },
            0,
        ),
        (FaultKind::ProcessThenFail { status: 500 }, 1),
        (FaultKind::DropConnection, 0),
        (FaultKind::ProcessThenDrop, 1),
    ];
    for (kind, created) in cases {
        let env = Env::start().await;
        let provider = creem(&env);
        env.sandbox
            .inject_fault(Fault::new(Some("POST"), CHECKOUTS, kind.clone()));
        let error = provider.create_checkout(&request()).await.unwrap_err();
        assert_eq!(error.attempts(), Some(1), "{kind:?}: {error:?}");
        assert_eq!(requests_to(&env, "POST", CHECKOUTS), 1, "{kind:?}");
        assert_eq!(env.sandbox.counts().creem_checkouts, created, "{kind:?}");
    }
}

#[tokio::test]
async fn reads_are_retried_on_any_transient_failure() {
    let env = Env::start().await;
    let mut config = env.config(Gateway::Creem);
    config.http.timeout = Duration::from_millis(300);
    let provider = CreemProvider::from_config(&config).unwrap();
    let created = provider.create_checkout(&request()).await.unwrap();
    for kind in [
        FaultKind::Respond {
            status: 500,
            retry_after_seconds: None,
        },
        FaultKind::DropConnection,
    ] {
        let before = requests_to(&env, "GET", CHECKOUTS);
        env.sandbox
            .inject_fault(Fault::new(Some("GET"), CHECKOUTS, kind.clone()));
        let retrieved = provider
            .retrieve_checkout(&created.id)
            .await
            .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        assert_eq!(retrieved.id, created.id);
        assert_eq!(
            requests_to(&env, "GET", CHECKOUTS) - before,
            2,
            "{kind:?}: one failure, one retry"
        );
    }
    // The first attempt cannot answer within the 300 ms timeout, so success means a retry.
    env.sandbox.inject_fault(Fault::new(
        Some("GET"),
        CHECKOUTS,
        FaultKind::Delay { millis: 1000 },
    ));
    assert_eq!(
        provider.retrieve_checkout(&created.id).await.unwrap().id,
        created.id
    );
}

#[tokio::test]
async fn expiry_is_unsupported_but_the_gateway_still_expires() {
    let env = Env::start().await;
    let provider = creem(&env);
    let created = provider.create_checkout(&request()).await.unwrap();
    assert!(matches!(
        provider.expire_checkout(&created.id).await,
        Err(PaymentError::Unsupported {
            provider: payswitch::creem::KIND,
            ..
        })
    ));
    env.sandbox.advance_clock(Duration::from_secs(25 * 3600));
    assert_eq!(
        provider
            .retrieve_checkout(&created.id)
            .await
            .unwrap()
            .status,
        CheckoutStatus::Expired
    );
}
