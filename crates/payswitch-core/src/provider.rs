//! The `CheckoutProvider` trait every gateway implements, and its blanket extension.

use std::fmt;

use async_trait::async_trait;

use crate::capability::Capabilities;
use crate::error::PaymentError;
use crate::kind::ProviderKind;
use crate::request::CheckoutRequest;
use crate::result::{CheckoutResult, ReturnParams};
use crate::webhook::WebhookEvent;

/// A payment gateway that opens hosted checkouts.
///
/// This trait is deliberately small: it is what a new gateway must implement. Conveniences
/// built from these methods live in [`CheckoutProviderExt`], which gateways must not implement.
/// The trait is dyn-compatible; applications hold an `Arc<dyn CheckoutProvider>` chosen from
/// configuration.
///
/// ```
/// use std::sync::Arc;
/// use payswitch_core::{CheckoutProvider, memory::MemoryProvider};
/// let provider: Arc<dyn CheckoutProvider> = Arc::new(MemoryProvider::new());
/// assert_eq!(provider.kind().name(), "memory");
/// ```
#[async_trait]
pub trait CheckoutProvider: Send + Sync + fmt::Debug {
    /// Which gateway this is.
    fn kind(&self) -> ProviderKind;

    /// What this gateway supports.
    fn capabilities(&self) -> Capabilities;

    /// Opens a checkout for the request. The request is validated locally first; nothing is
    /// sent when it is invalid or asks for something the gateway cannot do.
    async fn create_checkout(
        &self,
        request: &CheckoutRequest,
    ) -> Result<CheckoutResult, PaymentError>;

    /// Fetches a checkout's current state from the gateway.
    async fn retrieve_checkout(&self, id: &str) -> Result<CheckoutResult, PaymentError>;

    /// Expires an open checkout so it can no longer be paid. Gateways that cannot do this
    /// return [`PaymentError::Unsupported`].
    async fn expire_checkout(&self, id: &str) -> Result<CheckoutResult, PaymentError>;

    /// Checks a webhook's signature over the raw body bytes, then normalizes the event.
    fn verify_webhook(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<WebhookEvent, PaymentError>;

    /// Reads a success redirect's query string (without the leading `?`) and says whether
    /// the gateway's signature proved it.
    fn verify_return(&self, query: &str) -> Result<ReturnParams, PaymentError>;
}

/// Conveniences for every [`CheckoutProvider`]. Implemented for all providers; gateways
/// must not implement it themselves.
#[async_trait]
pub trait CheckoutProviderExt: CheckoutProvider {
    /// Verifies a success redirect, then retrieves the checkout from the gateway, so the
    /// answer never rests on what the browser sent alone.
    async fn confirm_return(&self, query: &str) -> Result<CheckoutResult, PaymentError> {
        let params = self.verify_return(query)?;
        self.retrieve_checkout(&params.checkout_id).await
    }

    /// Like [`confirm_return`](Self::confirm_return), and also checks that the checkout
    /// belongs to the order the application expected (its `reference`), so a customer who
    /// swaps the checkout id in the success URL for another paid checkout's id gets
    /// [`PaymentError::WrongCheckout`] instead of the other order's "paid" page.
    async fn confirm_return_for(
        &self,
        query: &str,
        expected_reference: &str,
    ) -> Result<CheckoutResult, PaymentError> {
        let checkout = self.confirm_return(query).await?;
        if checkout.reference.as_deref() != Some(expected_reference) {
            return Err(PaymentError::WrongCheckout {
                checkout_id: checkout.id,
                expected_reference: expected_reference.to_owned(),
                found_reference: checkout.reference,
            });
        }
        Ok(checkout)
    }

    /// Retrieves a checkout and says whether it can be fulfilled (complete and paid).
    async fn is_paid(&self, id: &str) -> Result<bool, PaymentError> {
        Ok(self.retrieve_checkout(id).await?.is_paid())
    }

    /// Expires the checkout where the gateway supports it; otherwise returns `Ok(None)`
    /// without a network call.
    async fn expire_if_supported(&self, id: &str) -> Result<Option<CheckoutResult>, PaymentError> {
        if !self.capabilities().expire {
            return Ok(None);
        }
        self.expire_checkout(id).await.map(Some)
    }
}

impl<P: CheckoutProvider + ?Sized> CheckoutProviderExt for P {}

#[async_trait]
impl<P: CheckoutProvider + ?Sized> CheckoutProvider for std::sync::Arc<P> {
    fn kind(&self) -> ProviderKind {
        (**self).kind()
    }
    fn capabilities(&self) -> Capabilities {
        (**self).capabilities()
    }
    async fn create_checkout(
        &self,
        request: &CheckoutRequest,
    ) -> Result<CheckoutResult, PaymentError> {
        (**self).create_checkout(request).await
    }
    async fn retrieve_checkout(&self, id: &str) -> Result<CheckoutResult, PaymentError> {
        (**self).retrieve_checkout(id).await
    }
    async fn expire_checkout(&self, id: &str) -> Result<CheckoutResult, PaymentError> {
        (**self).expire_checkout(id).await
    }
    fn verify_webhook(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<WebhookEvent, PaymentError> {
        (**self).verify_webhook(headers, body)
    }
    fn verify_return(&self, query: &str) -> Result<ReturnParams, PaymentError> {
        (**self).verify_return(query)
    }
}
