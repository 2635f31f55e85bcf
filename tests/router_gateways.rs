//! The router over the real Stripe and Creem adapters on the sandbox: webhooks and redirects
//! go to the gateway that signed them, follow-ups to the gateway that created the checkout.

#![cfg(all(feature = "stripe", feature = "creem"))]

mod support;

use payswitch::{
    CheckoutProvider, CheckoutRequest, CheckoutStatus, Config, LineItem, PaymentError, Router,
    RouterConfig, SignatureError, WebhookEventKind,
};
use support::{Env, Gateway, PRICE, SKU};

fn router_config(env: &Env) -> Config {
    let stripe = env.config(Gateway::Stripe);
    let mut config = env.config(Gateway::Creem);
    let stripe_section = stripe.gateway(payswitch::stripe::NAME).unwrap().clone();
    config.set_gateway(payswitch::stripe::NAME, stripe_section);
    config.provider = Some("router".into());
    config.router = Some(
        Config::from_toml_str(
            r#"
            [router]
            default = "stripe"
            [[router.rules]]
            gateway = "creem"
            metadata = { gateway = "creem" }
            "#,
        )
        .unwrap()
        .router
        .unwrap(),
    );
    config
}

fn request(gateway: &str) -> CheckoutRequest {
    let item = match gateway {
        "creem" => LineItem::sku(SKU, 1),
        _ => LineItem::custom("Router item", PRICE, 1),
    };
    CheckoutRequest::builder()
        .line_item(item)
        .success_url("https://shop.example/done?session_id={CHECKOUT_SESSION_ID}")
        .metadata("gateway", gateway)
        .build()
        .unwrap()
}

#[tokio::test]
async fn webhooks_redirects_and_follow_ups_reach_the_right_gateway() {
    let env = Env::start().await;
    let router = payswitch::from_config(&router_config(&env)).unwrap();
    assert_eq!(router.kind(), Router::KIND);

    for (gateway, completed) in [
        ("stripe", "checkout.session.completed"),
        ("creem", "checkout.completed"),
    ] {
        let created = router.create_checkout(&request(gateway)).await.unwrap();
        assert_eq!(created.provider.name(), gateway);
        let redirect = env.sandbox.pay(&created.id, None).unwrap();

        let (headers, body) = env.webhook_for(&created.id, completed).await.unwrap();
        let event = router.verify_webhook(&headers, &body).unwrap();
        assert_eq!(event.provider.name(), gateway);
        assert_eq!(event.kind, WebhookEventKind::CheckoutCompleted);

        let query = redirect
            .split_once('?')
            .map(|(_, query)| query)
            .unwrap_or_default();
        let params = router.verify_return(query).unwrap();
        assert_eq!(params.checkout_id, created.id);
        assert_eq!(
            params.verified,
            gateway == "creem",
            "only Creem signs redirects"
        );

        let retrieved = router.retrieve_checkout(&created.id).await.unwrap();
        assert_eq!(retrieved.provider.name(), gateway);
        assert_eq!(retrieved.status, CheckoutStatus::Complete);
    }

    // An unsigned webhook is refused as missing, whichever gateway it claims to come from.
    assert!(matches!(
        router.verify_webhook(&http::HeaderMap::new(), b"{}"),
        Err(PaymentError::Signature(SignatureError::Missing(_)))
    ));
}

#[tokio::test]
async fn an_ambiguous_failure_is_not_failed_over() {
    let env = Env::start().await;
    let mut config = router_config(&env);
    config.router = Some(RouterConfig {
        default: "stripe".into(),
        failover: vec!["creem".into()],
        rules: vec![],
        ..Default::default()
    });
    let router = payswitch::from_config(&config).unwrap();
    // Stripe processes the request, then fails: a session exists although the answer was a
    // 500. Creating on Creem too would leave the customer two payable checkouts.
    env.sandbox.inject_fault(
        payswitch_sandbox::Fault::new(
            Some("POST"),
            "/v1/checkout/sessions",
            payswitch_sandbox::FaultKind::ProcessThenFail { status: 500 },
        )
        .times(3),
    );
    let portable = CheckoutRequest::builder()
        .line_item(LineItem::sku(SKU, 1))
        .success_url("https://shop.example/done")
        .build()
        .unwrap();
    let outcome = router.create_checkout(&portable).await;
    assert!(
        matches!(&outcome, Err(PaymentError::Provider(details)) if details.status == 500),
        "{outcome:?}"
    );
    assert_eq!(
        env.sandbox.counts().creem_checkouts,
        0,
        "no second checkout"
    );
}
