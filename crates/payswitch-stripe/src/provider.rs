//! [`StripeProvider`]: the `CheckoutProvider` for Stripe, plus Stripe-only calls.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use payswitch_core::adapter::check_id;
use payswitch_core::{
    CancelAt, Capabilities, Catalog, CheckoutProvider, CheckoutRequest, CheckoutResult, Clock,
    Customer, CustomerLookup, CustomerRequest, PaymentError, PortalRequest, PortalSession,
    ProviderKind, Refund, RefundRequest, ReturnParams, Subscription, SubscriptionChange,
    SubscriptionChangePreview, WebhookEvent,
};
use serde::Deserialize;

use crate::client::{path_segment, Reply, StripeClient};
use crate::config::KIND;
use crate::convert::{self, SessionPlan, SessionSettings};
use crate::error::{decode, decode_error};
use crate::form::FormWriter;
use crate::idempotency::{
    random_idempotency_key, replay_verdict, CheckoutKeys, ReplayVerdict, MAX_GENERATIONS,
};
use crate::lifecycle::Lifecycle;
use crate::limits::{check_minimum_charge, EXPIRES_AT_GRID_SECS};
use crate::line_items::{CheckoutLineItem, LineItemsPage};
use crate::payment_intent::{PaymentIntent, PaymentIntentRequest};
use crate::webhook::{self, WebhookVerifier};
use crate::wire::{self, CreateSessionParams, DiscountParams};

/// The page size `list_line_items` asks for (Stripe's maximum).
const FULL_PAGE: u32 = 100;

/// The most pages `list_line_items` follows (10,000 items): a cursor that keeps going
/// further is a gateway fault, not a checkout.
const MAX_LINE_ITEM_PAGES: usize = 100;

/// The create endpoint for checkout sessions.
const SESSIONS: &str = "/v1/checkout/sessions";

/// How far back the search for a session an ambiguous failure may have created looks: a
/// derived key lives 24 hours at Stripe, so its saved failure can be that old.
const SEARCH_WINDOW_SECS: i64 = 24 * 60 * 60;

/// How many pages of recent sessions that search reads at most (100 sessions a page).
const SEARCH_PAGES: usize = 10;

/// The `expires_at` shifts tried under one key: the value computed here, then the
/// neighbouring grid cells another instance may have computed a moment earlier or later.
const GRID_NEIGHBOURS: [i64; 3] = [0, -EXPIRES_AT_GRID_SECS, EXPIRES_AT_GRID_SECS];

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
    settings: SessionSettings,
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
            .field(
                "settlement_currency",
                &self.inner.settings.settlement_currency,
            )
            .finish_non_exhaustive()
    }
}

impl StripeProvider {
    pub(crate) fn from_parts(
        client: StripeClient,
        webhooks: WebhookVerifier,
        catalog: Catalog,
        clock: Arc<dyn Clock>,
        settings: SessionSettings,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                client,
                webhooks,
                catalog,
                clock,
                settings,
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
        capabilities.subscriptions = true;
        capabilities.cancel_at_period_end = true;
        capabilities.cancel_immediately = true;
        capabilities.resume_subscription = true;
        capabilities.pause_subscription = true;
        capabilities.change_plan = true;
        capabilities.change_quantity = true;
        capabilities.preview_change = true;
        capabilities.refunds = true;
        capabilities.partial_refunds = true;
        capabilities.customer_portal = true;
        capabilities.portal_return_url = true;
        capabilities.customers = true;
        capabilities.find_customer_by_app_user = true;
        capabilities
    };

    /// The lifecycle operations, on this provider's client and catalog.
    fn lifecycle(&self) -> Lifecycle<'_> {
        Lifecycle {
            client: &self.inner.client,
            catalog: &self.inner.catalog,
        }
    }

    /// Creates a PaymentIntent (`POST /v1/payment_intents`) with automatic payment methods.
    ///
    /// Hand `client_secret` to the paying page only; fulfil on the
    /// `payment_intent.succeeded` webhook.
    pub async fn create_payment_intent(
        &self,
        request: &PaymentIntentRequest,
    ) -> Result<PaymentIntent, PaymentError> {
        request.validate()?;
        check_minimum_charge(request.amount, self.inner.settings.settlement_currency)?;
        let body = Bytes::from(convert::payment_intent_params(request)?.encode());
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
        let page: wire::RawList = decode(&value, "list of line items")?;
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
        let mut seen = std::collections::HashSet::new();
        for _ in 0..MAX_LINE_ITEM_PAGES {
            let page = self
                .list_line_items_page(checkout_id, Some(FULL_PAGE), cursor.as_deref())
                .await?;
            let next = page.next_cursor().map(str::to_owned);
            items.extend(page.data);
            match next {
                // A cursor seen before (not moving, or cycling) would loop forever.
                Some(next) if !seen.insert(next.clone()) => {
                    return Err(PaymentError::decode(
                        "list of line items",
                        "has_more is set but the cursor repeats",
                    ));
                }
                Some(next) => cursor = Some(next),
                None => return Ok(items),
            }
        }
        Err(PaymentError::decode(
            "list of line items",
            format!("more than {MAX_LINE_ITEM_PAGES} pages of {FULL_PAGE} items"),
        ))
    }

    /// Encodes the form body [`create_checkout`](CheckoutProvider::create_checkout) would send
    /// for `request`, without sending it.
    ///
    /// Useful to log or diff what a request turns into, and to measure encoding on its own.
    /// `expires_at` is computed from the provider's clock, as in a real call. A
    /// `discount_code` is refused here: it needs a request to Stripe to become a promotion
    /// code id (pass that id as `discount_id` instead).
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
        let plan = self.checkout_plan(request)?;
        if request.discount_code.is_some() {
            return Err(PaymentError::invalid(
                "discount_code",
                "is resolved to a promotion code id by a request to Stripe, which checkout_body does not send; pass the promo_… id as discount_id",
            ));
        }
        Ok(plan.params.encode().into_bytes())
    }

    fn checkout_plan(&self, request: &CheckoutRequest) -> Result<SessionPlan, PaymentError> {
        convert::session_params(
            request,
            &self.inner.catalog,
            self.inner.clock.now(),
            &self.inner.settings,
        )
    }

    /// Looks up the active promotion code a customer typed
    /// (`GET /v1/promotion_codes?code=…&active=true&limit=1`) and returns its `promo_…` id.
    async fn resolve_promotion_code(&self, code: &str) -> Result<String, PaymentError> {
        let mut query = FormWriter::with_capacity(64);
        query.text("code", code);
        query.boolean("active", true);
        query.integer("limit", 1);
        let query = query.finish();
        let value = self
            .inner
            .client
            .get("/v1/promotion_codes", Some(&query), "promotion_codes")
            .await?;
        let list: wire::PromotionCodeList = decode(&value, "list of promotion codes")?;
        list.data
            .into_iter()
            .find(|promotion| promotion.active != Some(false))
            .map(|promotion| promotion.id)
            .ok_or_else(|| {
                PaymentError::invalid(
                    "discount_code",
                    "no active Stripe promotion code has this code",
                )
            })
    }

    /// Creates a session under the keys of `keys`, one generation after another, and never
    /// returns a replayed session without retrieving it (see the README's "Retries and
    /// idempotency").
    async fn create_session(
        &self,
        request: &CheckoutRequest,
        plan: SessionPlan,
    ) -> Result<CheckoutResult, PaymentError> {
        let form = plan.params.encode();
        let keys = CheckoutKeys::new(request, &form);
        for generation in 0..MAX_GENERATIONS {
            let Some(key) = keys.key(generation) else {
                break;
            };
            let (value, replayed) = match self.post_session(&plan.params, &form, &key).await? {
                Reply {
                    value: Ok(value),
                    replayed,
                } => (value, replayed),
                Reply {
                    value: Err(error),
                    replayed: true,
                } if keys.key(generation + 1).is_some() && is_server_error(&error) => {
                    // Stripe saved a failure under this key and replays it for 24 h. The
                    // failed execution may still have created a session: look for it before
                    // a new key could open a second one.
                    if let Some(existing) = self.find_payable_session(request).await? {
                        let mut existing = existing;
                        existing.ignored = plan.ignored;
                        return Ok(existing);
                    }
                    tracing::warn!(generation, "stripe replayed a saved failure; next key");
                    continue;
                }
                Reply {
                    value: Err(error), ..
                } => return Err(error),
            };
            if !replayed {
                let mut result = checkout_from(value)?;
                result.ignored = plan.ignored;
                return Ok(result);
            }
            let id = decode::<IdOnly>(&value, "checkout.session")?.id;
            let mut current = self.retrieve_checkout(&id).await?;
            match replay_verdict(current.status) {
                ReplayVerdict::Return => {}
                ReplayVerdict::AlreadyCompleted => {
                    return Err(PaymentError::AlreadyCompleted {
                        checkout_id: current.id,
                        reference: current.reference,
                    });
                }
                ReplayVerdict::NextGeneration if keys.key(generation + 1).is_some() => {
                    tracing::debug!(generation, "the session under this key expired; next key");
                    continue;
                }
                // An explicit key cannot move on: report the session's current state.
                ReplayVerdict::NextGeneration => {}
            }
            current.ignored = plan.ignored;
            return Ok(current);
        }
        Err(PaymentError::IdempotencyConflict {
            message: format!(
                "every one of the {MAX_GENERATIONS} idempotency keys derived from this reference holds an expired session or a saved failure; pass an explicit idempotency_key"
            ),
            gateway: None,
        })
    }

    /// Finds a payable session of the request's reference created in the last 24 hours (the
    /// life of a derived key), reading at most [`SEARCH_PAGES`] pages of recent sessions, newest
    /// first: an open one is returned; a complete one is `AlreadyCompleted`; none is `None`.
    async fn find_payable_session(
        &self,
        request: &CheckoutRequest,
    ) -> Result<Option<CheckoutResult>, PaymentError> {
        let Some(reference) = request.reference.as_deref() else {
            return Ok(None);
        };
        let since = self.inner.clock.now().unix_timestamp() - SEARCH_WINDOW_SECS;
        let mut cursor: Option<String> = None;
        for _ in 0..SEARCH_PAGES {
            let mut query = FormWriter::with_capacity(96);
            query.integer("created[gte]", since);
            query.integer("limit", i64::from(FULL_PAGE));
            if let Some(after) = &cursor {
                query.text("starting_after", after);
            }
            let query = query.finish();
            let value = self
                .inner
                .client
                .get(SESSIONS, Some(&query), "list of checkout sessions")
                .await?;
            let page: wire::SessionSummaryList = decode(&value, "list of checkout sessions")?;
            let found = page
                .data
                .iter()
                .find(|session| session.client_reference_id.as_deref() == Some(reference));
            if let Some(found) = found {
                let current = self.retrieve_checkout(&found.id).await?;
                return match replay_verdict(current.status) {
                    ReplayVerdict::Return => Ok(Some(current)),
                    ReplayVerdict::AlreadyCompleted => Err(PaymentError::AlreadyCompleted {
                        checkout_id: current.id,
                        reference: current.reference,
                    }),
                    // Expired: it cannot be paid, so a new session is right.
                    ReplayVerdict::NextGeneration => Ok(None),
                };
            }
            let last = page.data.last().map(|session| session.id.clone());
            if !page.has_more || last.is_none() || last == cursor {
                return Ok(None);
            }
            cursor = last;
        }
        Ok(None)
    }

    /// Posts the session under `key`. When Stripe answers `idempotency_error` (the key was
    /// used with other parameters: another instance computed `expires_at` in a neighbouring
    /// grid cell), the same key is tried with the neighbouring `expires_at` values.
    async fn post_session(
        &self,
        params: &CreateSessionParams,
        form: &str,
        key: &str,
    ) -> Result<Reply, PaymentError> {
        let shifts = if params.expires_at.is_some() {
            &GRID_NEIGHBOURS[..]
        } else {
            &GRID_NEIGHBOURS[..1]
        };
        let mut outcome = None;
        for &shift in shifts {
            let body = if shift == 0 {
                Bytes::from(form.to_owned())
            } else {
                let mut shifted = params.clone();
                shifted.expires_at = params.expires_at.map(|at| at + shift);
                Bytes::from(shifted.encode())
            };
            let reply = self
                .inner
                .client
                .post_reply(SESSIONS, body, key, "checkout session")
                .await;
            match reply {
                Err(error) if is_parameter_mismatch(&error) => outcome = Some(Err(error)),
                other => return other,
            }
        }
        outcome.unwrap_or_else(|| {
            Err(PaymentError::invalid(
                "idempotency_key",
                "no request was sent",
            ))
        })
    }
}

/// Stripe's 400 `idempotency_error`: the key was first used with other parameters.
fn is_parameter_mismatch(error: &PaymentError) -> bool {
    matches!(
        error,
        PaymentError::IdempotencyConflict { gateway: Some(details), .. } if details.status == 400
    )
}

/// A 5xx answer (the failures Stripe saves under an idempotency key).
fn is_server_error(error: &PaymentError) -> bool {
    error.gateway().is_some_and(|details| details.status >= 500)
}

/// Just the `id` of an object.
#[derive(Deserialize)]
struct IdOnly {
    id: String,
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
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|error| decode_error("Stripe response", &error))?;
    checkout_from(value)
}

/// Decodes a `checkout.session` object; its `client_secret` moves out of `raw`.
fn checkout_from(value: serde_json::Value) -> Result<CheckoutResult, PaymentError> {
    let session: wire::Session = decode(&value, "checkout.session")?;
    // A session without an id cannot be retrieved, expired or matched to a webhook.
    if session.id.trim().is_empty() {
        return Err(PaymentError::decode("checkout.session", "the id is empty"));
    }
    Ok(convert::checkout_result(
        session,
        convert::without_client_secret(value).into(),
    ))
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
        let mut plan = self.checkout_plan(request)?;
        if let Some(code) = &request.discount_code {
            // Before any session exists, so an unknown code leaves nothing behind.
            let promotion_code = self.resolve_promotion_code(code).await?;
            plan.params.discounts = vec![DiscountParams { promotion_code }];
        }
        self.create_session(request, plan).await
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

    async fn retrieve_subscription(&self, id: &str) -> Result<Subscription, PaymentError> {
        self.lifecycle().retrieve_subscription(id).await
    }

    async fn list_subscriptions(
        &self,
        customer_id: &str,
    ) -> Result<Vec<Subscription>, PaymentError> {
        self.lifecycle().list_subscriptions(customer_id).await
    }

    async fn cancel_subscription(
        &self,
        id: &str,
        at: CancelAt,
    ) -> Result<Subscription, PaymentError> {
        self.lifecycle().cancel_subscription(id, at).await
    }

    async fn resume_subscription(&self, id: &str) -> Result<Subscription, PaymentError> {
        self.lifecycle().resume_subscription(id).await
    }

    async fn pause_subscription(&self, id: &str) -> Result<Subscription, PaymentError> {
        self.lifecycle().pause_subscription(id).await
    }

    async fn change_subscription(
        &self,
        id: &str,
        change: &SubscriptionChange,
    ) -> Result<Subscription, PaymentError> {
        self.lifecycle().change_subscription(id, change).await
    }

    async fn preview_subscription_change(
        &self,
        id: &str,
        change: &SubscriptionChange,
    ) -> Result<SubscriptionChangePreview, PaymentError> {
        self.lifecycle()
            .preview_subscription_change(id, change)
            .await
    }

    async fn create_refund(&self, request: &RefundRequest) -> Result<Refund, PaymentError> {
        self.lifecycle().create_refund(request).await
    }

    async fn create_portal_session(
        &self,
        request: &PortalRequest,
    ) -> Result<PortalSession, PaymentError> {
        self.lifecycle().create_portal_session(request).await
    }

    async fn create_customer(&self, request: &CustomerRequest) -> Result<Customer, PaymentError> {
        self.lifecycle().create_customer(request).await
    }

    async fn retrieve_customer(&self, id: &str) -> Result<Customer, PaymentError> {
        self.lifecycle().retrieve_customer(id).await
    }

    async fn find_customer(
        &self,
        lookup: &CustomerLookup,
    ) -> Result<Option<Customer>, PaymentError> {
        self.lifecycle().find_customer(lookup).await
    }
}
