//! `CreemProvider`: the `CheckoutProvider` for Creem, and its builder.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use http::{HeaderMap, Method};
use payswitch_core::{
    Capabilities, Catalog, CheckoutProvider, CheckoutRequest, CheckoutResult, Clock, Config,
    CreemConfig, HttpConfig, PaymentError, ProviderKind, RetryConfig, ReturnParams, Secret,
    SystemClock, WebhookEvent,
};
use tracing::Instrument;

use crate::client::{ApiRequest, CreemClient, CHECKOUTS_PATH};
use crate::config::resolve_api_base;
use crate::{convert, redirect, webhook};

/// Takes payments through Creem's hosted checkout.
///
/// Cloning is cheap and shares one HTTP client. `Debug` shows the API base and settings,
/// never the API key or webhook secrets.
///
/// ```no_run
/// use payswitch_core::Config;
/// use payswitch_creem::CreemProvider;
///
/// # fn run() -> Result<(), payswitch_core::PaymentError> {
/// // Reads CREEM_API_KEY, CREEM_WEBHOOK_SECRET and, optionally, CREEM_API_BASE.
/// let config = Config::from_env()?;
/// let provider = CreemProvider::from_config(&config)?;
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
    /// Builds the provider from a payswitch [`Config`]: its `[creem]` section, `[http]`,
    /// `[retry]` and `[catalog]`.
    ///
    /// Fails with [`PaymentError::Config`] when there is no `[creem]` section (or
    /// `CREEM_API_KEY`), or when a setting is unusable.
    pub fn from_config(config: &Config) -> Result<CreemProvider, PaymentError> {
        let creem = config.creem.clone().ok_or_else(|| {
            PaymentError::config(
                "Creem is not configured: add a [creem] section with api_key, or set CREEM_API_KEY",
            )
        })?;
        Self::builder(creem)
            .http(config.http.clone())
            .retry(config.retry.clone())
            .catalog(config.catalog.clone())
            .build()
    }

    /// Starts a builder from Creem settings; HTTP, retry, catalog and clock have defaults.
    pub fn builder(creem: CreemConfig) -> CreemProviderBuilder {
        CreemProviderBuilder {
            creem,
            http: HttpConfig::default(),
            retry: RetryConfig::default(),
            catalog: Catalog::default(),
            clock: Arc::new(SystemClock),
        }
    }

    /// Encodes the JSON body [`create_checkout`](CheckoutProvider::create_checkout) would send
    /// for `request`, without sending it.
    ///
    /// Refuses what `create_checkout` refuses, with the same error. Useful to log or diff what
    /// a request turns into, and to measure encoding on its own.
    ///
    /// ```
    /// use payswitch_core::{CheckoutRequest, CreemConfig, LineItem};
    /// use payswitch_creem::CreemProvider;
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

/// Builds a [`CreemProvider`]; see [`CreemProvider::builder`].
#[must_use]
pub struct CreemProviderBuilder {
    creem: CreemConfig,
    http: HttpConfig,
    retry: RetryConfig,
    catalog: Catalog,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for CreemProviderBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreemProviderBuilder")
            .field("api_base", &self.creem.api_base)
            .field("webhook_secrets", &self.creem.webhook_secrets.len())
            .field("http", &self.http)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl CreemProviderBuilder {
    /// Sets the HTTP timeouts.
    pub fn http(mut self, http: HttpConfig) -> Self {
        self.http = http;
        self
    }

    /// Sets how often and how patiently requests are retried (which requests may be retried is
    /// fixed by Creem's lack of idempotency keys; see the crate docs).
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// Sets the catalog that maps logical SKUs to Creem product ids.
    pub fn catalog(mut self, catalog: Catalog) -> Self {
        self.catalog = catalog;
        self
    }

    /// Sets the clock (it reads HTTP-date `Retry-After` headers).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Checks the settings and builds the provider with its one HTTP client.
    pub fn build(self) -> Result<CreemProvider, PaymentError> {
        let api_base = resolve_api_base(&self.creem)?;
        let client = CreemClient::new(
            api_base,
            self.creem.api_key.clone(),
            &self.http,
            self.retry,
            self.clock,
        )?;
        Ok(CreemProvider {
            inner: Arc::new(Inner {
                client,
                webhook_secrets: self.creem.webhook_secrets,
                catalog: self.catalog,
            }),
        })
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
        ProviderKind::Creem
    }

    fn capabilities(&self) -> Capabilities {
        convert::capabilities()
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
        if id.trim().is_empty() {
            return Err(PaymentError::invalid("id", "a checkout id is required"));
        }
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
        Err(PaymentError::unsupported(
            ProviderKind::Creem,
            "expire_checkout",
        ))
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
