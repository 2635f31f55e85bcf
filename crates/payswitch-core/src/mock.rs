//! A mockall mock of [`CheckoutProvider`], for expectation-style tests (feature `mock`).

use async_trait::async_trait;

use crate::capability::Capabilities;
use crate::customer::{Customer, CustomerLookup, CustomerRequest, PortalRequest, PortalSession};
use crate::error::PaymentError;
use crate::kind::ProviderKind;
use crate::provider::CheckoutProvider;
use crate::refund::{Refund, RefundRequest};
use crate::request::CheckoutRequest;
use crate::result::{CheckoutResult, ReturnParams};
use crate::subscription::{CancelAt, Subscription, SubscriptionChange, SubscriptionChangePreview};
use crate::webhook::WebhookEvent;

mockall::mock! {
    /// A [`CheckoutProvider`] whose every method is set with `expect_…` calls.
    pub CheckoutProvider {}

    #[async_trait]
    impl CheckoutProvider for CheckoutProvider {
        fn kind(&self) -> ProviderKind;
        fn capabilities(&self) -> Capabilities;
        async fn create_checkout(&self, request: &CheckoutRequest) -> Result<CheckoutResult, PaymentError>;
        async fn retrieve_checkout(&self, id: &str) -> Result<CheckoutResult, PaymentError>;
        async fn expire_checkout(&self, id: &str) -> Result<CheckoutResult, PaymentError>;
        fn verify_webhook(&self, headers: &http::HeaderMap, body: &[u8]) -> Result<WebhookEvent, PaymentError>;
        fn verify_return(&self, query: &str) -> Result<ReturnParams, PaymentError>;
        async fn retrieve_subscription(&self, id: &str) -> Result<Subscription, PaymentError>;
        async fn list_subscriptions(&self, customer_id: &str) -> Result<Vec<Subscription>, PaymentError>;
        async fn cancel_subscription(&self, id: &str, at: CancelAt) -> Result<Subscription, PaymentError>;
        async fn resume_subscription(&self, id: &str) -> Result<Subscription, PaymentError>;
        async fn pause_subscription(&self, id: &str) -> Result<Subscription, PaymentError>;
        async fn change_subscription(&self, id: &str, change: &SubscriptionChange) -> Result<Subscription, PaymentError>;
        async fn preview_subscription_change(&self, id: &str, change: &SubscriptionChange) -> Result<SubscriptionChangePreview, PaymentError>;
        async fn create_refund(&self, request: &RefundRequest) -> Result<Refund, PaymentError>;
        async fn create_portal_session(&self, request: &PortalRequest) -> Result<PortalSession, PaymentError>;
        async fn create_customer(&self, request: &CustomerRequest) -> Result<Customer, PaymentError>;
        async fn retrieve_customer(&self, id: &str) -> Result<Customer, PaymentError>;
        async fn find_customer(&self, lookup: &CustomerLookup) -> Result<Option<Customer>, PaymentError>;
    }
}

impl std::fmt::Debug for MockCheckoutProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MockCheckoutProvider")
    }
}
