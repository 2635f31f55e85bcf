//! [`StripeProvider`]: the `CheckoutProvider` for Stripe, plus Stripe-only calls.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use payswitch_core::adapter::check_id;
use payswitch_core::{
    Capabilities, Catalog, CheckoutProvider, CheckoutRequest, CheckoutResult, Clock, PaymentError,
    ProviderKind, ReturnParams, WebhookEvent,
};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::client::{path_segment, StripeClient};
use crate::config::KIND;
use crate::convert::{self, SessionPlan};
use crate::form::FormWriter;
use crate::idempotency::{checkout_idempotency_key, random_idempotency_key};
use crate::line_items::{CheckoutLineItem, LineItemsPage};
use crate::payment_intent::{PaymentIntent, PaymentIntentRequest};
use crate::webhook::{self, WebhookVerifier};
use crate::wire;

/// The page size `list_line_items` asks for (Stripe's maximum).
const FULL_PAGE: u32 = 100;

/// Stripe behind [`CheckoutProvider`]: Checkout Sessions, webhooks and success redirects,
/// plus PaymentIntents and line items as Stripe-only calls.
///
/// Cheap to clone: clones share one HTTP connection pool. `Debug` never shows secrets.
///
/// ```no_run
/// use payswitch_core::{CheckoutProvider, CheckoutRequest, Currency, LineItem, Money};
/// use payswitch_stripe::{StripeConfig, StripeProvider};
///
/// # async fn run() -> Result<(), payswitch_core::PaymentError> {
/// let stripe = StripeProvider::builder(StripeConfig::new("sk_test_...")).build()?;
/// let request = CheckoutRequest::builder()
///     .line_item(LineItem::custom("T-shirt", Money::new(2000, Currency::USD), 1))
///     .success_url("https://shop.example/done?session_id={CHECKOUT_SESSION_ID}")
///     .reference("order-42")
///     .build()?;
/// let checkout = stripe.create_checkout(&request).await?;
/// println!("send the customer to {:?}", checkout.url);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct StripeProvider {
    inner: Arc<Inner>,
}

struct Inner {
    client: StripeClient,
    webhooks: WebhookVerifier,
    catalog: Catalog,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for StripeProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StripeProvider")
            .field("api_base", &self.inner.client.base())
            .field("api_version", &self.inner.client.api_version())
            .field("webhook_secrets", &self.inner.webhooks.secret_count())
            .field("webhook_tolerance", &self.inner.webhooks.tolerance())
            .field("retry", self.inner.client.retry())
            .field("catalog_skus", &self.inner.catalog.skus().count())
            .finish_non_exhaustive()
    }
}

impl StripeProvider {
    pub(crate) fn from_parts(
        client: StripeClient,
        webhooks: WebhookVerifier,
        catalog: Catalog,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                client,
                webhooks,
                catalog,
                clock,
            }),
        }
    }

    /// The API base requests go to.
    pub fn api_base(&self) -> &str {
        self.inner.client.base()
    }

    /// The pinned `Stripe-Version`.
    pub fn api_version(&self) -> &str {
        self.inner.client.api_version()
    }

    /// What Stripe supports through this adapter.
    pub const CAPABILITIES: Capabilities = {
        let mut capabilities = Capabilities::none();
        capabilities.custom_priced_items = true;
        capabilities.multiple_line_items = true;
        capabilities.quantities = true;
        capabilities.subscription_mode = true;
        capabilities.setup_mode = true;
        capabilities.expire = true;
        capabilities.discount_codes = true;
        capabilities.customer_discount_entry = true;
        capabilities.locale = true;
        capabilities.cancel_url = true;
        capabilities.expires_in = true;
        capabilities.customer_id = true;
        capabilities.embedded_checkout = true;
        capabilities.webhook_timestamps = true;
        // Stripe does not sign success redirects.
        capabilities.signed_returns = false;
        capabilities
    };

    /// Creates a PaymentIntent (`POST /v1/payment_intents`) with automatic payment methods.
    ///
    /// Hand `client_secret` to the paying page only; fulfil on the
    /// `payment_intent.succeeded` webhook.
    pub async fn create_payment_intent(
        &self,
        request: &PaymentIntentRequest,
    ) -> Result<PaymentIntent, PaymentError> {
        request.validate()?;
        let body = Bytes::from(convert::payment_intent_params(request).encode());
        let key = request
            .idempotency_key
            .clone()
            .unwrap_or_else(random_idempotency_key);
        let value = self
            .inner
            .client
            .post("/v1/payment_intents", body, &key, "payment_intent")
            .await?;
        let intent: wire::PaymentIntent = decode(&value, "payment_intent")?;
        convert::payment_intent(intent, value)
    }

    /// Retrieves a PaymentIntent (`GET /v1/payment_intents/{id}`).
    pub async fn retrieve_payment_intent(&self, id: &str) -> Result<PaymentIntent, PaymentError> {
        check_id("id", id)?;
        let path = format!("/v1/payment_intents/{}", path_segment(id));
        let value = self.inner.client.get(&path, None, id).await?;
        let intent: wire::PaymentIntent = decode(&value, "payment_intent")?;
        convert::payment_intent(intent, value)
    }

    /// Lists one page of a checkout's line items
    /// (`GET /v1/checkout/sessions/{id}/line_items`); `limit` is 1 to 100 (Stripe's default 10).
    pub async fn list_line_items_page(
        &self,
        checkout_id: &str,
        limit: Option<u32>,
        starting_after: Option<&str>,
    ) -> Result<LineItemsPage, PaymentError> {
        check_id("checkout_id", checkout_id)?;
        if limit.is_some_and(|limit| !(1..=100).contains(&limit)) {
            return Err(PaymentError::invalid("limit", "must be between 1 and 100"));
        }
        if let Some(cursor) = starting_after {
            check_id("starting_after", cursor)?;
        }
        let mut query = FormWriter::with_capacity(64);
        query.opt_integer("limit", limit.map(i64::from));
        query.opt_text("starting_after", starting_after);
        let query = query.finish();
        let path = format!(
            "/v1/checkout/sessions/{}/line_items",
            path_segment(checkout_id)
        );
        let value = self
            .inner
            .client
            .get(&path, Some(&query), checkout_id)
            .await?;
        let page: RawList = decode(&value, "list of line items")?;
        let data = page
            .data
            .into_iter()
            .map(|raw| {
                let item: wire::Item = decode(&raw, "item")?;
                convert::line_item(item, raw)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(LineItemsPage {
            data,
            has_more: page.has_more,
        })
    }

    /// Lists all of a checkout's line items, following `has_more`/`starting_after` to the end.
    pub async fn list_line_items(
        &self,
        checkout_id: &str,
    ) -> Result<Vec<CheckoutLineItem>, PaymentError> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = self
                .list_line_items_page(checkout_id, Some(FULL_PAGE), cursor.as_deref())
                .await?;
            let next = page.next_cursor().map(str::to_owned);
            items.extend(page.data);
            match next {
                // A cursor that does not move would loop forever.
                Some(next) if cursor.as_deref() == Some(next.as_str()) => {
                    return Err(PaymentError::decode(
                        "list of line items",
                        "has_more is set but the page did not advance",
                    ));
                }
                Some(next) => cursor = Some(next),
                None => return Ok(items),
            }
        }
    }

    /// Encodes the form body [`create_checkout`](CheckoutProvider::create_checkout) would send
    /// for `request`, without sending it.
    ///
    /// Useful to log or diff what a request turns into, and to measure encoding on its own.
    /// `expires_at` is computed from the provider's clock, as in a real call.
    ///
    /// ```
    /// use payswitch_core::{CheckoutRequest, Currency, LineItem, Money};
    /// use payswitch_stripe::{StripeConfig, StripeProvider};
    ///
    /// let stripe = StripeProvider::builder(StripeConfig::new("sk_test_123")).build().unwrap();
    /// let request = CheckoutRequest::builder()
    ///     .line_item(LineItem::custom("T-shirt", Money::new(2000, Currency::USD), 1))
    ///     .success_url("https://shop.example/done")
    ///     .build()
    ///     .unwrap();
    /// let body = stripe.checkout_body(&request).unwrap();
    /// assert!(body.starts_with(b"mode=payment&line_items[0][price_data][currency]=usd"));
    /// ```
    pub fn checkout_body(&self, request: &CheckoutRequest) -> Result<Vec<u8>, PaymentError> {
        Ok(self.checkout_plan(request)?.params.encode().into_bytes())
    }

    fn checkout_plan(&self, request: &CheckoutRequest) -> Result<SessionPlan, PaymentError> {
        convert::session_params(request, &self.inner.catalog, self.inner.clock.now())
    }
}

/// Decodes a `checkout.session` JSON object, as Stripe answers a create or retrieve call,
/// into a normalized [`CheckoutResult`].
///
/// For sessions fetched or stored outside payswitch (an event's `data.object`, a cache).
/// `client_secret` is moved out of `raw` into [`CheckoutResult::client_secret`]; unknown
/// fields are ignored.
///
/// ```
/// let body = br#"{"id":"cs_test_1","object":"checkout.session","status":"complete",
///     "payment_status":"paid","amount_total":2000,"currency":"usd"}"#;
/// let checkout = payswitch_stripe::parse_checkout(body).unwrap();
/// assert!(checkout.is_paid());
/// assert_eq!(checkout.amount_total.unwrap().amount(), 2000);
/// ```
pub fn parse_checkout(body: &[u8]) -> Result<CheckoutResult, PaymentError> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|error| PaymentError::decode("Stripe response", error))?;
    checkout_from(value)
}

/// Decodes a `checkout.session` object; its `client_secret` moves out of `raw`.
fn checkout_from(value: serde_json::Value) -> Result<CheckoutResult, PaymentError> {
    let session: wire::Session = decode(&value, "checkout.session")?;
    Ok(convert::checkout_result(
        session,
        convert::without_client_secret(value).into(),
    ))
}

/// A list whose items are decoded one by one, so each keeps its raw object.
#[derive(Deserialize)]
struct RawList {
    data: Vec<serde_json::Value>,
    #[serde(default)]
    has_more: bool,
}

fn decode<T: DeserializeOwned>(
    value: &serde_json::Value,
    what: &'static str,
) -> Result<T, PaymentError> {
    T::deserialize(value).map_err(|error| PaymentError::decode(what, error))
}

#[async_trait]
impl CheckoutProvider for StripeProvider {
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
        let plan = self.checkout_plan(request)?;
        let form = plan.params.encode();
        let key = checkout_idempotency_key(request, &form);
        // Encoded once; every retry sends these bytes (Bytes clones share them).
        let body = Bytes::from(form);
        let value = self
            .inner
            .client
            .post("/v1/checkout/sessions", body, &key, "checkout session")
            .await?;
        let mut result = checkout_from(value)?;
        result.ignored = plan.ignored;
        Ok(result)
    }

    async fn retrieve_checkout(&self, id: &str) -> Result<CheckoutResult, PaymentError> {
        check_id("id", id)?;
        let path = format!("/v1/checkout/sessions/{}", path_segment(id));
        let value = self.inner.client.get(&path, None, id).await?;
        checkout_from(value)
    }

    async fn expire_checkout(&self, id: &str) -> Result<CheckoutResult, PaymentError> {
        check_id("id", id)?;
        let path = format!("/v1/checkout/sessions/{}/expire", path_segment(id));
        let value = self
            .inner
            .client
            .post(&path, Bytes::new(), &random_idempotency_key(), id)
            .await?;
        checkout_from(value)
    }

    fn verify_webhook(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<WebhookEvent, PaymentError> {
        self.inner.webhooks.verify(headers, body)
    }

    fn verify_return(&self, query: &str) -> Result<ReturnParams, PaymentError> {
        webhook::verify_return(query)
    }
}
