//! `CreemProvider`: the `CheckoutProvider` for Creem, its `CAPABILITIES`, `checkout_body` and
//! `parse_checkout`. The operations after the checkout delegate to `lifecycle.rs`.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http::{HeaderMap, Method};
use payswitch_core::adapter::check_id;
use payswitch_core::{
    CancelAt, Capabilities, Catalog, CheckoutMode, CheckoutProvider, CheckoutRequest,
    CheckoutResult, Clock, Customer, CustomerLookup, CustomerRequest, PaymentError, PortalRequest,
    PortalSession, ProviderKind, Refund, RefundRequest, ReturnParams, Secret, Subscription,
    SubscriptionChange, WebhookEvent,
};
use tracing::Instrument;

use crate::client::{ApiRequest, CreemClient, CHECKOUTS_PATH, PRODUCTS_PATH};
use crate::config::KIND;
use crate::error::RequestFields;
use crate::webhook::WebhookPolicy;
use crate::{convert, lifecycle, redirect, webhook, wire};

/// The most products whose billing type is remembered; past it the memory starts over.
const MAX_CACHED_PRODUCTS: usize = 1024;

/// Takes payments through Creem's hosted checkout.
///
/// Cloning is cheap and shares one HTTP client. `Debug` shows the API base and settings,
/// never the API key or webhook secrets.
///
/// ```no_run
/// use payswitch_creem::CreemProvider;
///
/// # fn run() -> Result<(), payswitch_core::PaymentError> {
/// // Reads CREEM_API_KEY, CREEM_WEBHOOK_SECRET and, optionally, CREEM_API_BASE.
/// let provider = CreemProvider::from_env()?;
/// println!("{provider:?}");
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct CreemProvider {
    inner: Arc<Inner>,
}

struct Inner {
    client: CreemClient,
    webhooks: WebhookSettings,
    catalog: Catalog,
    clock: Arc<dyn Clock>,
    /// Product id → `billing_type`, read once per product to check `CheckoutMode`.
    billing_types: Mutex<HashMap<String, wire::BillingType>>,
}

/// The webhook secrets and the optional maximum age.
pub(crate) struct WebhookSettings {
    pub(crate) secrets: Vec<Secret>,
    pub(crate) max_age: Option<Duration>,
}

impl fmt::Debug for CreemProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreemProvider")
            .field("api_base", &self.inner.client.api_base())
            .field("webhook_secrets", &self.inner.webhooks.secrets.len())
            .field("webhook_max_age", &self.inner.webhooks.max_age)
            .field("catalog_skus", &self.inner.catalog.skus().count())
            .finish_non_exhaustive()
    }
}

impl CreemProvider {
    /// What Creem supports, as `create_checkout` enforces it: what would change the charge is
    /// refused, experience hints Creem has no slot for are listed in `ignored`.
    pub const CAPABILITIES: Capabilities = {
        let mut capabilities = Capabilities::none();
        capabilities.quantities = true;
        capabilities.subscription_mode = true;
        capabilities.discount_codes = true;
        capabilities.customer_id = true;
        capabilities.signed_returns = true;
        // Refused: each changes what or how much is charged, or (embedded) what the result carries.
        capabilities.custom_priced_items = false;
        capabilities.multiple_line_items = false;
        capabilities.setup_mode = false;
        capabilities.embedded_checkout = false;
        // No endpoint: expire_checkout is Unsupported.
        capabilities.expire = false;
        // Not sent, listed in `ignored`: Creem's checkout has no such parameters.
        capabilities.locale = false;
        capabilities.cancel_url = false;
        capabilities.expires_in = false;
        capabilities.customer_discount_entry = false;
        // Creem signs the body only; deduplicating on the event id is the replay defence.
        capabilities.webhook_timestamps = false;
        // After the checkout (lifecycle.rs).
        capabilities.subscriptions = true;
        capabilities.cancel_at_period_end = true;
        capabilities.cancel_immediately = true;
        // Creem's resume takes a `paused` or a `scheduled_cancel` subscription back to active.
        capabilities.resume_subscription = true;
        capabilities.pause_subscription = true;
        capabilities.change_plan = true;
        capabilities.change_quantity = true;
        capabilities.refunds = true;
        capabilities.customer_portal = true;
        capabilities.customers = true;
        // No preview endpoint.
        capabilities.preview_change = false;
        // `POST /v1/refunds` refunds everything left of a transaction; it takes no amount.
        capabilities.partial_refunds = false;
        // The portal link takes only a customer id.
        capabilities.portal_return_url = false;
        // Customers are found by id or email; metadata is searchable only by listing them all.
        capabilities.find_customer_by_app_user = false;
        capabilities
    };

    pub(crate) fn from_parts(
        client: CreemClient,
        webhooks: WebhookSettings,
        catalog: Catalog,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                client,
                webhooks,
                catalog,
                clock,
                billing_types: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Refuses a mode that contradicts the product's billing type, reading the product once
    /// (`GET /v1/products?product_id=`) and remembering the answer. A failed lookup fails the
    /// create: nothing has been created yet, and a retry is safe.
    async fn check_mode(&self, mode: CheckoutMode, product_id: &str) -> Result<(), PaymentError> {
        let known = self
            .inner
            .billing_types
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(product_id)
            .cloned();
        let billing_type = match known {
            Some(billing_type) => billing_type,
            None => {
                let answer = self
                    .inner
                    .client
                    .send(ApiRequest {
                        method: Method::GET,
                        path: PRODUCTS_PATH,
                        path_id: None,
                        query: &[("product_id", product_id)],
                        body: None,
                        looked_up: product_id,
                        fields: RequestFields::Checkout,
                    })
                    .await?;
                let billing_type = convert::decode_billing_type(&answer)?;
                self.remember(product_id, &billing_type);
                billing_type
            }
        };
        convert::check_mode(mode, &billing_type)
    }

    fn remember(&self, product_id: &str, billing_type: &wire::BillingType) {
        match billing_type {
            wire::BillingType::Recurring | wire::BillingType::Onetime => {}
            // Not worth remembering: Creem may fill it in later.
            wire::BillingType::Unknown(_) => return,
        }
        let mut cache = self
            .inner
            .billing_types
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if cache.len() >= MAX_CACHED_PRODUCTS {
            cache.clear();
        }
        cache.insert(product_id.to_owned(), billing_type.clone());
    }

    /// Encodes the JSON body [`create_checkout`](CheckoutProvider::create_checkout) would send
    /// for `request`, without sending it.
    ///
    /// Refuses what `create_checkout` refuses, with the same error. Useful to log or diff what
    /// a request turns into, and to measure encoding on its own.
    ///
    /// ```
    /// use payswitch_core::{CheckoutRequest, LineItem};
    /// use payswitch_creem::{CreemConfig, CreemProvider};
    ///
    /// let creem = CreemProvider::builder(CreemConfig::new("creem_test_123")).build().unwrap();
    /// let request = CheckoutRequest::builder()
    ///     .line_item(LineItem::native("prod_1", 2))
    ///     .success_url("https://shop.example/thanks")
    ///     .build()
    ///     .unwrap();
    /// let body = creem.checkout_body(&request).unwrap();
    /// assert!(body.starts_with(br#"{"product_id":"prod_1""#));
    /// ```
    pub fn checkout_body(&self, request: &CheckoutRequest) -> Result<Vec<u8>, PaymentError> {
        let prepared = convert::create_checkout_body(request, &self.inner.catalog)?;
        encode_body(&prepared)
    }

    /// The API base in use: [`LIVE_API_BASE`](crate::LIVE_API_BASE),
    /// [`TEST_API_BASE`](crate::TEST_API_BASE) or the configured `api_base`.
    pub fn api_base(&self) -> &str {
        self.inner.client.api_base()
    }
}

/// Serializes the create body once; every attempt sends these bytes.
fn encode_body(prepared: &convert::CreateCheckout<'_>) -> Result<Vec<u8>, PaymentError> {
    serde_json::to_vec(&prepared.body)
        .map_err(|error| PaymentError::decode("creem checkout request", error))
}

/// Decodes a Creem checkout JSON object, as `POST /v1/checkouts` and
/// `GET /v1/checkouts?checkout_id=` answer, into a normalized [`CheckoutResult`].
///
/// For checkouts fetched or stored outside payswitch. Unknown fields are ignored; an order,
/// product, customer or subscription may be an id or the expanded object.
///
/// ```
/// let body = br#"{"id":"ch_1","object":"checkout","status":"completed",
///     "order":{"id":"ord_1","amount_paid":1900,"currency":"USD","status":"paid"}}"#;
/// let checkout = payswitch_creem::parse_checkout(body).unwrap();
/// assert!(checkout.is_paid());
/// assert_eq!(checkout.amount_total.unwrap().amount(), 1900);
/// ```
pub fn parse_checkout(body: &[u8]) -> Result<CheckoutResult, PaymentError> {
    convert::decode_checkout(body)
}

#[async_trait]
impl CheckoutProvider for CreemProvider {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn capabilities(&self) -> Capabilities {
        Self::CAPABILITIES
    }

    async fn create_checkout(
        &self,
        request: &CheckoutRequest,
    ) -> Result<CheckoutResult, PaymentError> {
        let span = tracing::info_span!(
            "creem.create_checkout",
            reference = request.reference.as_deref(),
            checkout_id = tracing::field::Empty,
        );
        let prepared = convert::create_checkout_body(request, &self.inner.catalog)?;
        let body = encode_body(&prepared)?;
        self.check_mode(request.mode, prepared.body.product_id)
            .instrument(span.clone())
            .await?;
        let answer = self
            .inner
            .client
            .send(ApiRequest {
                method: Method::POST,
                path: CHECKOUTS_PATH,
                path_id: None,
                query: &[],
                body: Some(Bytes::from(body)),
                looked_up: prepared.body.product_id,
                fields: RequestFields::Checkout,
            })
            .instrument(span.clone())
            .await?;
        let mut result = convert::decode_checkout(&answer)?;
        span.record("checkout_id", tracing::field::debug(&result.id));
        result.ignored = prepared.ignored;
        if !result.ignored.is_empty() {
            tracing::debug!(ignored = ?result.ignored, "request fields Creem cannot honour were not sent");
        }
        Ok(result)
    }

    async fn retrieve_checkout(&self, id: &str) -> Result<CheckoutResult, PaymentError> {
        check_id("id", id)?;
        let answer = self
            .inner
            .client
            .send(ApiRequest {
                method: Method::GET,
                path: CHECKOUTS_PATH,
                path_id: None,
                query: &[("checkout_id", id)],
                body: None,
                looked_up: id,
                fields: RequestFields::Checkout,
            })
            .instrument(tracing::info_span!(
                "creem.retrieve_checkout",
                checkout_id = id
            ))
            .await?;
        convert::decode_checkout(&answer)
    }

    async fn expire_checkout(&self, _id: &str) -> Result<CheckoutResult, PaymentError> {
        // Creem has no endpoint to expire a checkout; its checkouts expire on their own.
        Err(PaymentError::unsupported(KIND, "expire_checkout"))
    }

    fn verify_webhook(
        &self,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<WebhookEvent, PaymentError> {
        let policy = WebhookPolicy {
            max_age: self.inner.webhooks.max_age,
            now: self.inner.clock.now(),
        };
        webhook::verify_webhook(&self.inner.webhooks.secrets, policy, headers, body)
    }

    fn verify_return(&self, query: &str) -> Result<ReturnParams, PaymentError> {
        redirect::verify_return(self.inner.client.api_key(), query)
    }

    async fn retrieve_subscription(&self, id: &str) -> Result<Subscription, PaymentError> {
        lifecycle::retrieve_subscription(&self.inner.client, id).await
    }

    async fn list_subscriptions(
        &self,
        customer_id: &str,
    ) -> Result<Vec<Subscription>, PaymentError> {
        lifecycle::list_subscriptions(&self.inner.client, customer_id).await
    }

    async fn cancel_subscription(
        &self,
        id: &str,
        at: CancelAt,
    ) -> Result<Subscription, PaymentError> {
        lifecycle::cancel_subscription(&self.inner.client, id, at).await
    }

    async fn resume_subscription(&self, id: &str) -> Result<Subscription, PaymentError> {
        lifecycle::resume_subscription(&self.inner.client, id).await
    }

    async fn pause_subscription(&self, id: &str) -> Result<Subscription, PaymentError> {
        lifecycle::pause_subscription(&self.inner.client, id).await
    }

    async fn change_subscription(
        &self,
        id: &str,
        change: &SubscriptionChange,
    ) -> Result<Subscription, PaymentError> {
        lifecycle::change_subscription(&self.inner.client, &self.inner.catalog, id, change).await
    }

    // `preview_subscription_change` keeps the contract's default: Creem has no preview.

    async fn create_refund(&self, request: &RefundRequest) -> Result<Refund, PaymentError> {
        lifecycle::create_refund(&self.inner.client, request).await
    }

    async fn create_portal_session(
        &self,
        request: &PortalRequest,
    ) -> Result<PortalSession, PaymentError> {
        lifecycle::create_portal_session(&self.inner.client, request).await
    }

    async fn create_customer(&self, request: &CustomerRequest) -> Result<Customer, PaymentError> {
        lifecycle::create_customer(&self.inner.client, request).await
    }

    async fn retrieve_customer(&self, id: &str) -> Result<Customer, PaymentError> {
        lifecycle::retrieve_customer(&self.inner.client, id).await
    }

    async fn find_customer(
        &self,
        lookup: &CustomerLookup,
    ) -> Result<Option<Customer>, PaymentError> {
        lifecycle::find_customer(&self.inner.client, lookup).await
    }
}
