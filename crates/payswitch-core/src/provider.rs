//! The `CheckoutProvider` trait every gateway implements, and its blanket extension.

use std::fmt;

use async_trait::async_trait;

use crate::capability::Capabilities;
use crate::customer::{Customer, CustomerLookup, CustomerRequest, PortalRequest, PortalSession};
use crate::error::PaymentError;
use crate::kind::ProviderKind;
use crate::refund::{Refund, RefundRequest};
use crate::request::CheckoutRequest;
use crate::result::{CheckoutResult, ReturnParams};
use crate::subscription::{CancelAt, Subscription, SubscriptionChange, SubscriptionChangePreview};
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

    // After the checkout. Each method has a default that refuses with
    // `PaymentError::Unsupported` without a network call, so a gateway implements what it
    // can and declares it in `capabilities()`.

    /// Fetches a subscription.
    async fn retrieve_subscription(&self, id: &str) -> Result<Subscription, PaymentError> {
        let _ = id;
        Err(PaymentError::unsupported(
            self.kind(),
            "retrieve_subscription",
        ))
    }

    /// Lists a customer's subscriptions, ended ones included, newest first.
    async fn list_subscriptions(
        &self,
        customer_id: &str,
    ) -> Result<Vec<Subscription>, PaymentError> {
        let _ = customer_id;
        Err(PaymentError::unsupported(self.kind(), "list_subscriptions"))
    }

    /// Cancels a subscription now or at the end of its current period.
    async fn cancel_subscription(
        &self,
        id: &str,
        at: CancelAt,
    ) -> Result<Subscription, PaymentError> {
        let _ = id;
        Err(PaymentError::unsupported(
            self.kind(),
            match at {
                CancelAt::PeriodEnd => "cancel_subscription at period end",
                CancelAt::Immediately => "cancel_subscription immediately",
            },
        ))
    }

    /// Resumes a subscription: undoes a scheduled cancellation, or unpauses a paused one.
    /// A subscription with nothing to resume is refused with [`PaymentError::InvalidState`].
    async fn resume_subscription(&self, id: &str) -> Result<Subscription, PaymentError> {
        let _ = id;
        Err(PaymentError::unsupported(
            self.kind(),
            "resume_subscription",
        ))
    }

    /// Pauses a subscription's billing until it is resumed.
    async fn pause_subscription(&self, id: &str) -> Result<Subscription, PaymentError> {
        let _ = id;
        Err(PaymentError::unsupported(self.kind(), "pause_subscription"))
    }

    /// Changes a subscription's plan and/or quantity, charged as `change.proration` says.
    async fn change_subscription(
        &self,
        id: &str,
        change: &SubscriptionChange,
    ) -> Result<Subscription, PaymentError> {
        let _ = (id, change);
        Err(PaymentError::unsupported(
            self.kind(),
            "change_subscription",
        ))
    }

    /// Computes what a change would cost, without changing anything.
    async fn preview_subscription_change(
        &self,
        id: &str,
        change: &SubscriptionChange,
    ) -> Result<SubscriptionChangePreview, PaymentError> {
        let _ = (id, change);
        Err(PaymentError::unsupported(
            self.kind(),
            "preview_subscription_change",
        ))
    }

    /// Refunds all or part of a paid checkout or payment.
    async fn create_refund(&self, request: &RefundRequest) -> Result<Refund, PaymentError> {
        let _ = request;
        Err(PaymentError::unsupported(self.kind(), "create_refund"))
    }

    /// Opens a customer-portal session where the customer manages payment methods, invoices
    /// and subscriptions.
    async fn create_portal_session(
        &self,
        request: &PortalRequest,
    ) -> Result<PortalSession, PaymentError> {
        let _ = request;
        Err(PaymentError::unsupported(
            self.kind(),
            "create_portal_session",
        ))
    }

    /// Creates a gateway customer (prefer [`CheckoutProviderExt::ensure_customer`], which
    /// finds one first).
    async fn create_customer(&self, request: &CustomerRequest) -> Result<Customer, PaymentError> {
        let _ = request;
        Err(PaymentError::unsupported(self.kind(), "create_customer"))
    }

    /// Fetches a customer by the gateway's id.
    async fn retrieve_customer(&self, id: &str) -> Result<Customer, PaymentError> {
        let _ = id;
        Err(PaymentError::unsupported(self.kind(), "retrieve_customer"))
    }

    /// Finds a customer by the application's user id or by email; `Ok(None)` when there is
    /// none.
    async fn find_customer(
        &self,
        lookup: &CustomerLookup,
    ) -> Result<Option<Customer>, PaymentError> {
        Err(PaymentError::unsupported(
            self.kind(),
            match lookup {
                CustomerLookup::AppUserId(_) => "find_customer by app user id",
                CustomerLookup::Email(_) => "find_customer by email",
            },
        ))
    }
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

    /// Finds the gateway customer for an application user, or creates it: by app user id
    /// where the gateway can search on it, else by email (a customer found by email is used
    /// only when it carries no other app user id). Repeated calls return the same customer.
    async fn ensure_customer(&self, request: &CustomerRequest) -> Result<Customer, PaymentError> {
        request.validate()?;
        if let Some(user) = &request.app_user_id {
            if self.capabilities().find_customer_by_app_user {
                if let Some(found) = self
                    .find_customer(&CustomerLookup::AppUserId(user.clone()))
                    .await?
                {
                    return Ok(found);
                }
                return self.create_customer(request).await;
            }
        }
        if let Some(email) = &request.email {
            if let Some(found) = self
                .find_customer(&CustomerLookup::Email(email.clone()))
                .await?
            {
                let same_user = match (&request.app_user_id, &found.app_user_id) {
                    (Some(wanted), Some(has)) => wanted == has,
                    (Some(_), None) | (None, _) => true,
                };
                if same_user {
                    return Ok(found);
                }
            }
        }
        self.create_customer(request).await
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
    async fn retrieve_subscription(&self, id: &str) -> Result<Subscription, PaymentError> {
        (**self).retrieve_subscription(id).await
    }
    async fn list_subscriptions(
        &self,
        customer_id: &str,
    ) -> Result<Vec<Subscription>, PaymentError> {
        (**self).list_subscriptions(customer_id).await
    }
    async fn cancel_subscription(
        &self,
        id: &str,
        at: CancelAt,
    ) -> Result<Subscription, PaymentError> {
        (**self).cancel_subscription(id, at).await
    }
    async fn resume_subscription(&self, id: &str) -> Result<Subscription, PaymentError> {
        (**self).resume_subscription(id).await
    }
    async fn pause_subscription(&self, id: &str) -> Result<Subscription, PaymentError> {
        (**self).pause_subscription(id).await
    }
    async fn change_subscription(
        &self,
        id: &str,
        change: &SubscriptionChange,
    ) -> Result<Subscription, PaymentError> {
        (**self).change_subscription(id, change).await
    }
    async fn preview_subscription_change(
        &self,
        id: &str,
        change: &SubscriptionChange,
    ) -> Result<SubscriptionChangePreview, PaymentError> {
        (**self).preview_subscription_change(id, change).await
    }
    async fn create_refund(&self, request: &RefundRequest) -> Result<Refund, PaymentError> {
        (**self).create_refund(request).await
    }
    async fn create_portal_session(
        &self,
        request: &PortalRequest,
    ) -> Result<PortalSession, PaymentError> {
        (**self).create_portal_session(request).await
    }
    async fn create_customer(&self, request: &CustomerRequest) -> Result<Customer, PaymentError> {
        (**self).create_customer(request).await
    }
    async fn retrieve_customer(&self, id: &str) -> Result<Customer, PaymentError> {
        (**self).retrieve_customer(id).await
    }
    async fn find_customer(
        &self,
        lookup: &CustomerLookup,
    ) -> Result<Option<Customer>, PaymentError> {
        (**self).find_customer(lookup).await
    }
}
