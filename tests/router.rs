//! The gateway router: rules, sticky rollouts, failover and routing of follow-up calls.

use std::collections::BTreeMap;
use std::sync::Arc;

use payswitch::memory::{MemoryProvider, Operation};
use payswitch::{
    CheckoutProvider, CheckoutRequest, Config, Currency, GatewayDetails, LineItem, Money,
    PaymentError, ProviderKind, Router, RouterConfig,
};

struct Fixture {
    router: Router,
    stripe: MemoryProvider,
    creem: MemoryProvider,
}

fn router(toml: &str) -> Fixture {
    let config: Config = Config::from_toml_str(toml).unwrap();
    let stripe = MemoryProvider::new();
    let creem = MemoryProvider::new();
    let mut gateways: BTreeMap<String, Arc<dyn CheckoutProvider>> = BTreeMap::new();
    gateways.insert("stripe".into(), Arc::new(stripe.clone()));
    gateways.insert("creem".into(), Arc::new(creem.clone()));
    let router = Router::new(config.router.unwrap(), gateways).unwrap();
    Fixture {
        router,
        stripe,
        creem,
    }
}

fn request(currency: Currency) -> payswitch::CheckoutRequestBuilder {
    CheckoutRequest::builder()
        .line_item(LineItem::custom("Plan", Money::new(1000, currency), 1))
        .success_url("https://shop.example/done")
}

#[tokio::test]
async fn currency_rules_pick_the_gateway() {
    let fixture = router(
        r#"
        [router]
        default = "stripe"
        [[router.rules]]
        gateway = "creem"
        currencies = ["EUR"]
        "#,
    );
    let euro = request(Currency::EUR).build().unwrap();
    let dollar = request(Currency::USD).build().unwrap();
    assert_eq!(fixture.router.route(&euro), "creem");
    assert_eq!(fixture.router.route(&dollar), "stripe");
    fixture.router.create_checkout(&euro).await.unwrap();
    fixture.router.create_checkout(&dollar).await.unwrap();
    assert_eq!(fixture.creem.checkout_count(), 1);
    assert_eq!(fixture.stripe.checkout_count(), 1);
}

#[tokio::test]
async fn country_and_metadata_rules_must_all_match() {
    let fixture = router(
        r#"
        [router]
        default = "stripe"
        [[router.rules]]
        gateway = "creem"
        countries = ["de", "FR"]
        metadata = { plan = "pro" }
        "#,
    );
    let german_pro = request(Currency::EUR)
        .metadata("country", "DE")
        .metadata("plan", "pro")
        .build()
        .unwrap();
    let german_free = request(Currency::EUR)
        .metadata("country", "DE")
        .metadata("plan", "free")
        .build()
        .unwrap();
    let us_pro = request(Currency::EUR)
        .metadata("country", "US")
        .metadata("plan", "pro")
        .build()
        .unwrap();
    assert_eq!(fixture.router.route(&german_pro), "creem");
    assert_eq!(fixture.router.route(&german_free), "stripe");
    assert_eq!(fixture.router.route(&us_pro), "stripe");
}

#[tokio::test]
async fn percentage_rollouts_are_sticky_and_proportional() {
    let fixture = router(
        r#"
        [router]
        default = "stripe"
        [[router.rules]]
        gateway = "creem"
        percent = 30
        key = "customer"
        "#,
    );
    let mut on_creem = 0;
    for customer in 0..1000 {
        let email = format!("customer{customer}@example.com");
        let request = request(Currency::USD)
            .customer_email(email.clone())
            .build()
            .unwrap();
        let first = fixture.router.route(&request).to_owned();
        // The same customer lands on the same gateway every time, even with other details.
        let again = request_with_reference(&email, "another-order");
        assert_eq!(fixture.router.route(&again), first, "{email} moved");
        if first == "creem" {
            on_creem += 1;
        }
    }
    assert!(
        (240..=360).contains(&on_creem),
        "{on_creem} of 1000 on a 30% rollout"
    );
    // No key, no rollout.
    assert_eq!(
        fixture
            .router
            .route(&request(Currency::USD).build().unwrap()),
        "stripe"
    );

    let all = router("[router]\ndefault = \"stripe\"\n[[router.rules]]\ngateway = \"creem\"\npercent = 100\nkey = \"reference\"");
    let none = router("[router]\ndefault = \"stripe\"\n[[router.rules]]\ngateway = \"creem\"\npercent = 0\nkey = \"reference\"");
    let with_reference = request(Currency::USD).reference("order-1").build().unwrap();
    assert_eq!(all.router.route(&with_reference), "creem");
    assert_eq!(none.router.route(&with_reference), "stripe");
}

fn request_with_reference(email: &str, reference: &str) -> CheckoutRequest {
    request(Currency::USD)
        .customer_email(email)
        .reference(reference)
        .build()
        .unwrap()
}

#[tokio::test]
async fn only_failures_that_prove_nothing_was_created_fail_over() {
    let fixture = router("[router]\ndefault = \"stripe\"\nfailover = [\"creem\"]");
    let stripe_answer = |status: u16| {
        PaymentError::Provider(Box::new(GatewayDetails::new(
            ProviderKind::new("stripe"),
            status,
            "down",
        )))
    };

    // Unreachable: the first gateway received nothing, so the second one may serve.
    fixture.stripe.fail_next(
        Operation::CreateCheckout,
        PaymentError::Unreachable {
            message: "connection refused".into(),
            attempts: 3,
            source: None,
        },
    );
    let created = fixture
        .router
        .create_checkout(&request(Currency::USD).build().unwrap())
        .await
        .unwrap();
    assert_eq!(fixture.router.created_by(&created.id), Some("creem"));
    assert_eq!(fixture.creem.checkout_count(), 1);
    assert_eq!(fixture.stripe.checkout_count(), 0);

    // Rate limited: refused before processing.
    fixture.stripe.fail_next(
        Operation::CreateCheckout,
        PaymentError::RateLimited {
            retry_after: None,
            gateway: None,
        },
    );
    fixture
        .router
        .create_checkout(&request(Currency::USD).build().unwrap())
        .await
        .unwrap();
    assert_eq!(fixture.creem.checkout_count(), 2);

    // Ambiguous failures (the first gateway may hold a payable checkout) and refusals
    // surface to the caller; the second gateway is never asked.
    for ambiguous in [
        stripe_answer(503),
        stripe_answer(500),
        PaymentError::Timeout { attempts: 3 },
        PaymentError::Transport {
            message: "connection reset after sending".into(),
            attempts: 3,
            source: None,
        },
        PaymentError::IdempotencyConflict {
            message: "in progress".into(),
            gateway: Some(Box::new(stripe_answer(409).gateway().unwrap().clone())),
        },
        PaymentError::Authentication { gateway: None },
    ] {
        let expected = ambiguous.to_string();
        fixture
            .stripe
            .fail_next(Operation::CreateCheckout, ambiguous);
        let outcome = fixture
            .router
            .create_checkout(&request(Currency::USD).build().unwrap())
            .await;
        assert_eq!(outcome.unwrap_err().to_string(), expected);
        assert_eq!(
            fixture.creem.checkout_count(),
            2,
            "not failed over after: {expected}"
        );
    }

    // When every gateway fails, the first error is returned.
    fixture.stripe.fail_next(
        Operation::CreateCheckout,
        PaymentError::Unreachable {
            message: "connection refused".into(),
            attempts: 1,
            source: None,
        },
    );
    fixture.creem.fail_next(
        Operation::CreateCheckout,
        PaymentError::RateLimited {
            retry_after: None,
            gateway: None,
        },
    );
    let both = fixture
        .router
        .create_checkout(&request(Currency::USD).build().unwrap())
        .await;
    assert!(matches!(
        both,
        Err(PaymentError::Unreachable { attempts: 1, .. })
    ));
}

#[tokio::test]
async fn invalid_requests_reach_no_gateway() {
    let fixture = router("[router]\ndefault = \"stripe\"\nfailover = [\"creem\"]");
    let mut invalid = request(Currency::USD).build().unwrap();
    invalid.line_items[0].quantity = 0;
    assert!(matches!(
        fixture.router.create_checkout(&invalid).await,
        Err(PaymentError::InvalidRequest { .. })
    ));
    assert!(fixture.stripe.calls().is_empty() && fixture.creem.calls().is_empty());
}

#[tokio::test]
async fn follow_up_calls_go_to_the_creating_gateway() {
    let fixture = router(
        "[router]\ndefault = \"stripe\"\n[[router.rules]]\ngateway = \"creem\"\ncurrencies = [\"EUR\"]",
    );
    let euro = fixture
        .router
        .create_checkout(&request(Currency::EUR).build().unwrap())
        .await
        .unwrap();
    fixture.router.retrieve_checkout(&euro.id).await.unwrap();
    fixture.router.expire_checkout(&euro.id).await.unwrap();
    assert_eq!(fixture.creem.call_count(Operation::RetrieveCheckout), 1);
    assert_eq!(fixture.creem.call_count(Operation::ExpireCheckout), 1);
    assert_eq!(fixture.stripe.call_count(Operation::RetrieveCheckout), 0);
    assert_eq!(fixture.stripe.call_count(Operation::ExpireCheckout), 0);

    // A router that never saw the id (say, after a restart) finds it by asking each gateway.
    let restarted = {
        let mut gateways: BTreeMap<String, Arc<dyn CheckoutProvider>> = BTreeMap::new();
        gateways.insert("stripe".into(), Arc::new(fixture.stripe.clone()));
        gateways.insert("creem".into(), Arc::new(fixture.creem.clone()));
        Router::new(
            RouterConfig {
                default: "stripe".into(),
                failover: vec![],
                rules: vec![],
                ..Default::default()
            },
            gateways,
        )
        .unwrap()
    };
    restarted.retrieve_checkout(&euro.id).await.unwrap();
    assert_eq!(restarted.created_by(&euro.id), Some("creem"));
    assert!(matches!(
        restarted.retrieve_checkout("mem_cs_unknown").await,
        Err(PaymentError::NotFound { .. })
    ));
}

#[test]
fn router_configuration_is_checked() {
    for (toml, expected) in [
        ("provider = \"router\"", "needs a [router] section"),
        ("[router]\ndefault = \"paypal\"", "unknown gateway \"paypal\""),
        ("[router]\ndefault = \"stripe\"\n[[router.rules]]\ngateway = \"creem\"", "has no condition"),
        ("[router]\ndefault = \"stripe\"\n[[router.rules]]\ngateway = \"creem\"\npercent = 101", "between 0 and 100"),
        ("[router]\ndefault = \"stripe\"\n[[router.rules]]\ngateway = \"creem\"\ncurrencies = [\"EUR\"]\nkey = \"customer\"", "only applies with percent"),
    ] {
        let result = Config::from_toml_str(toml).and_then(|config| payswitch::from_config(&config));
        match result {
            Err(PaymentError::Config(message)) => assert!(message.contains(expected), "{message}"),
            other => panic!("expected a config error containing {expected:?}, got {other:?}"),
        }
    }
}

#[test]
fn a_router_from_config_reports_its_kind() {
    let config = Config::from_toml_str(
        "provider = \"router\"\nallow_memory = true\n[router]\ndefault = \"memory\"",
    )
    .unwrap();
    let provider = payswitch::from_config(&config).unwrap();
    assert_eq!(provider.kind(), Router::KIND);
}
