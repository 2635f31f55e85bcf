//! A mockall mock of [`CheckoutProvider`], for expectation-style tests (feature `mock`).

use async_trait::async_trait;

use crate::capability::Capabilities;
use crate::error::PaymentError;
use crate::kind::ProviderKind;
use crate::provider::CheckoutProvider;
use crate::request::CheckoutRequest;
use crate::result::{CheckoutResult, ReturnParams};
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
    }
}

impl std::fmt::Debug for MockCheckoutProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MockCheckoutProvider")
    }
}
