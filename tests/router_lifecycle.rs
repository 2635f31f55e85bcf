//! The router after the checkout: every subscription, refund, portal and customer call goes
//! to the gateway that owns the object, and mutations reach no other gateway.

use std::collections::BTreeMap;
use std::sync::Arc;

use payswitch::memory::{MemoryProvider, Operation};
use payswitch::{
    CancelAt, CheckoutMode, CheckoutProvider, CheckoutProviderExt, CheckoutRequest, Config,
    Currency, CustomerLookup, CustomerRequest, LineItem, Money, PaymentError, PortalRequest,
    Proration, RefundRequest, RefundTarget, Router, SubscriptionChange, SubscriptionStatus,
};

struct Fixture {
    router: Router,
    old: MemoryProvider,
    new: MemoryProvider,
}

/// New sales go to `new`; `old` stays for what it already holds.
fn migrating_router() -> Fixture {
    let config = Config::from_toml_str(
        r#"
        [router]
        default = "new"
        "#,
    )
    .unwrap();
    let old = MemoryProvider::new();
    let new = MemoryProvider::new();
    let mut gateways: BTreeMap<String, Arc<dyn CheckoutProvider>> = BTreeMap::new();
    gateways.insert("old".into(), Arc::new(old.clone()));
    gateways.insert("new".into(), Arc::new(new.clone()));
    Fixture {
        router: Router::new(config.router.unwrap(), gateways).unwrap(),
        old,
        new,
    }
}

fn subscription_request() -> CheckoutRequest {
    CheckoutRequest::builder()
        .mode(CheckoutMode::Subscription)
        .line_item(LineItem::sku("plan_basic", 1))
        .success_url("https://shop.example/done")
        .build()
        .unwrap()
}

/// A subscription paid on `gateway` directly (as on the old gateway before a migration).
async fn subscription_on(gateway: &MemoryProvider) -> (String, String) {
    let checkout = gateway
        .create_checkout(&subscription_request())
        .await
        .unwrap();
    gateway.pay(&checkout.id).unwrap();
    let paid = gateway.retrieve_checkout(&checkout.id).await.unwrap();
    (paid.subscription_id.unwrap(), paid.customer_id.unwrap())
}

#[tokio::test]
async fn subscription_calls_reach_only_the_owning_gateway() {
    let fixture = migrating_router();
    let (subscription, customer) = subscription_on(&fixture.old).await;
    let new_calls_before = fixture.new.call_count(Operation::ChangeSubscription);

    let scheduled = fixture
        .router
        .cancel_subscription(&subscription, CancelAt::PeriodEnd)
        .await
        .unwrap();
    assert!(scheduled.cancel_at_period_end);
    let resumed = fixture
        .router
        .resume_subscription(&subscription)
        .await
        .unwrap();
    assert!(!resumed.is_cancel_scheduled());
    let changed = fixture
        .router
        .change_subscription(
            &subscription,
            &SubscriptionChange::quantity(4, Proration::Prorate),
        )
        .await
        .unwrap();
    assert_eq!(changed.quantity(), Some(4));
    let listed = fixture.router.list_subscriptions(&customer).await.unwrap();
    assert_eq!(listed.len(), 1);

    assert_eq!(fixture.old.call_count(Operation::ChangeSubscription), 3);
    assert_eq!(
        fixture.new.call_count(Operation::ChangeSubscription),
        new_calls_before,
        "no mutation was sent to the gateway that does not own the subscription"
    );
    let canceled = fixture
        .router
        .cancel_subscription(&subscription, CancelAt::Immediately)
        .await
        .unwrap();
    assert_eq!(canceled.status, SubscriptionStatus::Canceled);
    assert!(matches!(
        fixture
            .router
            .cancel_subscription(&subscription, CancelAt::Immediately)
            .await,
        Err(PaymentError::InvalidState { .. })
    ));
}

#[tokio::test]
async fn an_unknown_subscription_is_not_found_and_changes_nothing() {
    let fixture = migrating_router();
    let result = fixture
        .router
        .cancel_subscription("mem_sub_unknown", CancelAt::Immediately)
        .await;
    assert!(
        matches!(result, Err(PaymentError::NotFound { .. })),
        "{result:?}"
    );
    assert_eq!(fixture.old.call_count(Operation::ChangeSubscription), 0);
    assert_eq!(fixture.new.call_count(Operation::ChangeSubscription), 0);
}

#[tokio::test]
async fn refunds_go_to_the_gateway_that_took_the_payment() {
    let fixture = migrating_router();
    let checkout = fixture
        .old
        .create_checkout(
            &CheckoutRequest::builder()
                .line_item(LineItem::custom("Book", Money::new(1500, Currency::EUR), 1))
                .success_url("https://shop.example/done")
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    fixture.old.pay(&checkout.id).unwrap();
    let refund = fixture
        .router
        .create_refund(&RefundRequest::partial(
            RefundTarget::Checkout(checkout.id.clone()),
            Money::new(500, Currency::EUR),
        ))
        .await
        .unwrap();
    assert_eq!(refund.amount, Some(Money::new(500, Currency::EUR)));
    assert_eq!(fixture.old.call_count(Operation::CreateRefund), 1);
    assert_eq!(fixture.new.call_count(Operation::CreateRefund), 0);

    // By payment id, after a restart (a fresh router remembers nothing).
    let payment = fixture
        .old
        .retrieve_checkout(&checkout.id)
        .await
        .unwrap()
        .payment_id
        .unwrap();
    let restarted = migrating_router();
    let result = restarted
        .router
        .create_refund(&RefundRequest::full(RefundTarget::Payment(payment)))
        .await;
    assert!(
        matches!(result, Err(PaymentError::NotFound { .. })),
        "a fresh pair of gateways never issued this payment: {result:?}"
    );
}

#[tokio::test]
async fn customers_are_created_on_the_default_gateway_and_found_anywhere() {
    let fixture = migrating_router();
    let created = fixture
        .router
        .create_customer(&CustomerRequest::for_app_user("user_1").email("ada@example.com"))
        .await
        .unwrap();
    assert_eq!(fixture.new.call_count(Operation::Customer), 1);
    assert_eq!(fixture.old.call_count(Operation::Customer), 0);

    let legacy = fixture
        .old
        .create_customer(&CustomerRequest::for_app_user("user_2").email("bob@example.com"))
        .await
        .unwrap();
    let found = fixture
        .router
        .find_customer(&CustomerLookup::AppUserId("user_2".into()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, legacy.id);
    let ensured = fixture
        .router
        .ensure_customer(&CustomerRequest::for_app_user("user_1").email("ada@example.com"))
        .await
        .unwrap();
    assert_eq!(
        ensured.id, created.id,
        "ensure_customer finds the existing customer"
    );

    let portal = fixture
        .router
        .create_portal_session(&PortalRequest::new(&legacy.id))
        .await
        .unwrap();
    assert_eq!(portal.customer_id, legacy.id);
    assert_eq!(fixture.old.call_count(Operation::CreatePortalSession), 1);
    assert_eq!(fixture.new.call_count(Operation::CreatePortalSession), 0);
}
