//! The mockall mock: expectation-style tests through the trait object.
#![cfg(feature = "mock")]

use std::sync::Arc;

use mockall::predicate::eq;
use payswitch_core::mock::MockCheckoutProvider;
use payswitch_core::{
    CheckoutProvider, CheckoutProviderExt, CheckoutResult, CheckoutStatus, PaymentError,
    PaymentStatus, ProviderKind,
};

#[tokio::test]
async fn expectations_are_checked() {
    let mut mock = MockCheckoutProvider::new();
    mock.expect_retrieve_checkout()
        .with(eq("cs_test_1"))
        .times(1)
        .returning(|id| {
            Ok(CheckoutResult::new(
                id,
                ProviderKind::new("acme"),
                CheckoutStatus::Complete,
                PaymentStatus::Paid,
            ))
        });
    mock.expect_expire_checkout().never();
    let provider: Arc<dyn CheckoutProvider> = Arc::new(mock);
    assert!(provider.is_paid("cs_test_1").await.unwrap());
}

#[tokio::test]
async fn errors_can_be_returned() {
    let mut mock = MockCheckoutProvider::new();
    mock.expect_retrieve_checkout().returning(|id| {
        Err(PaymentError::NotFound {
            id: id.to_owned(),
            gateway: None,
        })
    });
    assert!(matches!(
        mock.retrieve_checkout("missing").await,
        Err(PaymentError::NotFound { id, .. }) if id == "missing"
    ));
}

#[tokio::test]
async fn lifecycle_methods_are_mocked_too() {
    use payswitch_core::{CancelAt, Subscription, SubscriptionStatus};
    let mut mock = MockCheckoutProvider::new();
    mock.expect_cancel_subscription()
        .withf(|id, at| id == "sub_1" && *at == CancelAt::PeriodEnd)
        .times(1)
        .returning(|id, _| {
            let mut subscription =
                Subscription::new(id, ProviderKind::new("acme"), SubscriptionStatus::Active);
            subscription.cancel_at_period_end = true;
            Ok(subscription)
        });
    mock.expect_create_refund().never();
    let provider: Arc<dyn CheckoutProvider> = Arc::new(mock);
    let scheduled = provider
        .cancel_subscription("sub_1", CancelAt::PeriodEnd)
        .await
        .unwrap();
    assert!(scheduled.is_cancel_scheduled());
}
