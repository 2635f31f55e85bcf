//! `CreemProvider`: the `CheckoutProvider` for Creem, its `CAPABILITIES`, `checkout_body` and
//! `parse_checkout`.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use http::{HeaderMap, Method};
use payswitch_core::adapter::check_id;
use payswitch_core::{
    Capabilities, Catalog, CheckoutProvider, CheckoutRequest, CheckoutResult, PaymentError,
    ProviderKind, ReturnParams, Secret, WebhookEvent,
};
use tracing::Instrument;

use crate::client::{ApiRequest, CreemClient, CHECKOUTS_PATH};
use crate::config::KIND;
use crate::{convert, redirect, webhook};

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
    webhook_secrets: Vec<Secret>,
    catalog: Catalog,
}

impl fmt::Debug for CreemProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreemProvider")
            .field("api_base", &self.inner.client.api_base())
            .field("webhook_secrets", &self.inner.webhook_secrets.len())
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
        capabilities
    };

    pub(crate) fn from_parts(
        client: CreemClient,
        webhook_secrets: Vec<Secret>,
        catalog: Catalog,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                client,
                webhook_secrets,
                catalog,
            }),
        }
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
        let answer = self
            .inner
            .client
            .send(ApiRequest {
                method: Method::POST,
                path: CHECKOUTS_PATH,
                query: &[],
                body: Some(Bytes::from(body)),
                looked_up: prepared.body.product_id,
            })
            .instrument(span.clone())
            .await?;
        let mut result = convert::decode_checkout(&answer)?;
        span.record("checkout_id", result.id.as_str());
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
                query: &[("checkout_id", id)],
                body: None,
                looked_up: id,
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
        webhook::verify_webhook(&self.inner.webhook_secrets, headers, body)
    }

    fn verify_return(&self, query: &str) -> Result<ReturnParams, PaymentError> {
        redirect::verify_return(self.inner.client.api_key(), query)
    }
}
