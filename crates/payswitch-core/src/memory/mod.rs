//! `MemoryProvider`: an in-process fake gateway for applications' own tests.

mod billing;
mod lifecycle;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use http::{HeaderMap, HeaderValue};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use self::billing::random_id;
use crate::adapter::signature::{hmac_sha256, matches_any};
use crate::capability::Capabilities;
use crate::clock::{Clock, SystemClock};
use crate::customer::{Customer, CustomerLookup, CustomerRequest, PortalRequest, PortalSession};
use crate::error::{PaymentError, SignatureError};
use crate::kind::ProviderKind;
use crate::provider::CheckoutProvider;
use crate::refund::{Refund, RefundRequest};
use crate::request::{CheckoutMode, CheckoutRequest, UiMode};
use crate::result::{CheckoutResult, CheckoutStatus, PaymentStatus, ReturnParams};
use crate::secret::Secret;
use crate::subscription::{CancelAt, Subscription, SubscriptionChange, SubscriptionChangePreview};
use crate::webhook::{WebhookEvent, WebhookEventKind};

/// The header that carries a memory webhook's signature.
pub const SIGNATURE_HEADER: &str = "payswitch-memory-signature";

const DEFAULT_EXPIRY: Duration = Duration::from_secs(24 * 60 * 60);
const PAGE_BASE: &str = "https://memory.payswitch.invalid/pay/";

/// A provider operation, for scripting failures and reading recorded calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// `create_checkout`.
    CreateCheckout,
    /// `retrieve_checkout`.
    RetrieveCheckout,
    /// `expire_checkout`.
    ExpireCheckout,
    /// `verify_webhook`.
    VerifyWebhook,
    /// `verify_return`.
    VerifyReturn,
    /// `retrieve_subscription` and `list_subscriptions`.
    ReadSubscription,
    /// `cancel_subscription`, `resume_subscription`, `pause_subscription` and
    /// `change_subscription`.
    ChangeSubscription,
    /// `preview_subscription_change`.
    PreviewSubscriptionChange,
    /// `create_refund`.
    CreateRefund,
    /// `create_portal_session`.
    CreatePortalSession,
    /// `create_customer`, `retrieve_customer` and `find_customer`.
    Customer,
}

/// One call the provider received, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)] // a test record; boxing would only complicate matching
pub enum RecordedCall {
    /// `create_checkout` with the request.
    CreateCheckout(CheckoutRequest),
    /// `retrieve_checkout` with the id.
    RetrieveCheckout(String),
    /// `expire_checkout` with the id.
    ExpireCheckout(String),
    /// `verify_webhook` with the body.
    VerifyWebhook(Vec<u8>),
    /// `verify_return` with the query.
    VerifyReturn(String),
    /// A subscription read or change: the method's name and the subscription (or customer) id.
    Subscription(&'static str, String),
    /// `create_refund` with the request.
    CreateRefund(RefundRequest),
    /// `create_portal_session` with the request.
    CreatePortalSession(PortalRequest),
    /// A customer call: the method's name and its argument (request, id or lookup, as text).
    Customer(&'static str, String),
}

impl RecordedCall {
    /// The operation this call was.
    pub fn operation(&self) -> Operation {
        match self {
            RecordedCall::CreateCheckout(_) => Operation::CreateCheckout,
            RecordedCall::RetrieveCheckout(_) => Operation::RetrieveCheckout,
            RecordedCall::ExpireCheckout(_) => Operation::ExpireCheckout,
            RecordedCall::VerifyWebhook(_) => Operation::VerifyWebhook,
            RecordedCall::VerifyReturn(_) => Operation::VerifyReturn,
            RecordedCall::Subscription(method, _) => match *method {
                "retrieve_subscription" | "list_subscriptions" => Operation::ReadSubscription,
                "preview_subscription_change" => Operation::PreviewSubscriptionChange,
                _ => Operation::ChangeSubscription,
            },
            RecordedCall::CreateRefund(_) => Operation::CreateRefund,
            RecordedCall::CreatePortalSession(_) => Operation::CreatePortalSession,
            RecordedCall::Customer(_, _) => Operation::Customer,
        }
    }
}

/// A signed webhook as a gateway would POST it: feed `headers` and `body` to your handler
/// or to [`CheckoutProvider::verify_webhook`].
#[derive(Debug, Clone)]
pub struct WebhookDelivery {
    /// The request headers, with the signature.
    pub headers: HeaderMap,
    /// The raw body.
    pub body: Vec<u8>,
}

#[derive(Debug)]
struct Session {
    request: CheckoutRequest,
    result: CheckoutResult,
}

#[derive(Debug, Default)]
struct State {
    sessions: BTreeMap<String, Session>,
    billing: billing::Billing,
    by_idempotency_key: HashMap<String, String>,
    calls: Vec<RecordedCall>,
    failures: HashMap<Operation, VecDeque<PaymentError>>,
    events: HashMap<String, WebhookEvent>,
    deliveries: Vec<WebhookDelivery>,
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    id: String,
    #[serde(rename = "type")]
    event_type: String,
    created: i64,
    object_id: String,
}

/// An in-memory fake gateway with the full checkout state machine.
///
/// Checkouts open, then complete when the test "pays" ([`MemoryProvider::pay`]) or expire
/// (on [`expire_checkout`](CheckoutProvider::expire_checkout) or when the clock passes
/// `expires_at`). Every call is recorded, any operation can be scripted to fail, and each
/// state change produces a signed [`WebhookDelivery`] that `verify_webhook` accepts, so an
/// application's webhook handler can be tested without a network. Always compiled.
///
/// ```
/// # tokio_test_block_on(async {
/// use payswitch_core::{CheckoutProvider, CheckoutRequest, Currency, LineItem, Money};
/// use payswitch_core::memory::MemoryProvider;
///
/// let gateway = MemoryProvider::new();
/// let request = CheckoutRequest::builder()
///     .line_item(LineItem::custom("Book", Money::new(1500, Currency::EUR), 1))
///     .success_url("https://shop.example/done")
///     .build()?;
/// let checkout = gateway.create_checkout(&request).await?;
/// let delivery = gateway.pay(&checkout.id)?;
/// let event = gateway.verify_webhook(&delivery.headers, &delivery.body)?;
/// assert!(event.checkout.unwrap().is_paid());
/// # Ok::<(), payswitch_core::PaymentError>(())
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct MemoryProvider {
    state: Arc<Mutex<State>>,
    clock: Arc<dyn Clock>,
    secret: Secret,
}

impl Default for MemoryProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryProvider {
    /// A provider on the system clock with a fixed test signing secret.
    pub fn new() -> Self {
        Self {
            state: Arc::default(),
            clock: Arc::new(SystemClock),
            secret: Secret::new("memory_whsec_test"),
        }
    }

    /// Uses another clock (a [`ManualClock`](crate::clock::ManualClock) to test expiry).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Uses another signing secret for webhooks and return URLs.
    pub fn with_secret(mut self, secret: impl Into<Secret>) -> Self {
        self.secret = secret.into();
        self
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic in a test thread must not wedge every later call.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Makes the next call of `operation` fail with `error` (queued: one error per call).
    pub fn fail_next(&self, operation: Operation, error: PaymentError) {
        self.lock()
            .failures
            .entry(operation)
            .or_default()
            .push_back(error);
    }

    /// Every call received so far, in order.
    pub fn calls(&self) -> Vec<RecordedCall> {
        self.lock().calls.clone()
    }

    /// How many calls of `operation` were received.
    pub fn call_count(&self, operation: Operation) -> usize {
        self.lock()
            .calls
            .iter()
            .filter(|call| call.operation() == operation)
            .count()
    }

    /// Every webhook produced so far, in order.
    pub fn deliveries(&self) -> Vec<WebhookDelivery> {
        self.lock().deliveries.clone()
    }

    /// How many checkouts exist.
    pub fn checkout_count(&self) -> usize {
        self.lock().sessions.len()
    }

    /// Plays the customer: pays an open checkout, which becomes complete and paid. Returns
    /// the signed `checkout.completed` webhook.
    pub fn pay(&self, id: &str) -> Result<WebhookDelivery, PaymentError> {
        let now = self.clock.now();
        let mut state = self.lock();
        let session = open_session(&mut state, id, now)?;
        session.result.status = CheckoutStatus::Complete;
        if session.result.payment_status == PaymentStatus::Unpaid {
            session.result.payment_status = PaymentStatus::Paid;
        }
        session.result.url = None;
        if session.result.customer_email.is_none() {
            session.result.customer_email = Some("customer@example.com".into());
        }
        let id = id.to_owned();
        let started = {
            let State {
                sessions, billing, ..
            } = &mut *state;
            let session = sessions.get_mut(&id).ok_or_else(|| not_found(&id))?;
            billing.record_payment(&session.request, &mut session.result, now)
        };
        let snapshot = state
            .sessions
            .get(&id)
            .map(|session| session.result.clone())
            .ok_or_else(|| not_found(&id))?;
        let mut completed = WebhookEvent::new(
            "",
            ProviderKind::MEMORY,
            WebhookEventKind::CheckoutCompleted,
            "checkout.completed",
            now,
        );
        completed.checkout = Some(snapshot);
        completed.subscription = started.clone();
        let delivery = self.publish(&mut state, completed, &id);
        if let Some(subscription) = started {
            self.publish_subscription(
                &mut state,
                WebhookEventKind::SubscriptionStarted,
                "subscription.started",
                subscription,
                now,
            );
        }
        Ok(delivery)
    }

    /// The query string the customer's browser would carry back to `success_url` after
    /// paying, signed so that `verify_return` reports it verified.
    pub fn return_query(&self, id: &str) -> Result<String, PaymentError> {
        let state = self.lock();
        let session = state.sessions.get(id).ok_or_else(|| not_found(id))?;
        let mut pairs = form_urlencoded::Serializer::new(String::new());
        pairs.append_pair("checkout_id", id);
        if let Some(reference) = &session.result.reference {
            pairs.append_pair("reference", reference);
        }
        let unsigned = pairs.finish();
        let signature = self.sign(unsigned.as_bytes());
        Ok(format!("{unsigned}&signature={signature}"))
    }

    fn sign(&self, payload: &[u8]) -> String {
        hex::encode(hmac_sha256(self.secret.expose().as_bytes(), &[payload]))
    }

    fn verify_signature(&self, payload: &[u8], signature: &str) -> Result<(), SignatureError> {
        let given = hex::decode(signature)
            .map_err(|_| SignatureError::Malformed("the signature is not hex".into()))?;
        if matches_any(std::slice::from_ref(&self.secret), &[payload], &[&given]) {
            Ok(())
        } else {
            Err(SignatureError::Mismatch)
        }
    }

    fn emit(
        &self,
        state: &mut State,
        kind: WebhookEventKind,
        event_type: &str,
        checkout: CheckoutResult,
        now: OffsetDateTime,
    ) -> WebhookDelivery {
        let object_id = checkout.id.clone();
        let mut event = WebhookEvent::new("", ProviderKind::MEMORY, kind, event_type, now);
        event.checkout = Some(checkout);
        self.publish(state, event, &object_id)
    }

    /// Signs and records `event` (its id is assigned here), the way every memory webhook is
    /// produced, and returns the delivery.
    fn publish(
        &self,
        state: &mut State,
        mut event: WebhookEvent,
        object_id: &str,
    ) -> WebhookDelivery {
        let id = random_id("mem_evt_");
        let envelope = Envelope {
            id: id.clone(),
            event_type: event.event_type.clone(),
            created: event.created_at.unix_timestamp(),
            object_id: object_id.to_owned(),
        };
        let body = serde_json::to_vec(&envelope).unwrap_or_default();
        event.id = id.clone();
        event.raw = serde_json::to_value(&envelope).unwrap_or_default().into();
        state.events.insert(id, event);
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Ok(value) = HeaderValue::from_str(&self.sign(&body)) {
            headers.insert(SIGNATURE_HEADER, value);
        }
        let delivery = WebhookDelivery { headers, body };
        state.deliveries.push(delivery.clone());
        delivery
    }

    fn begin(&self, call: RecordedCall) -> Result<(), PaymentError> {
        let mut state = self.lock();
        let operation = call.operation();
        state.calls.push(call);
        match state
            .failures
            .get_mut(&operation)
            .and_then(VecDeque::pop_front)
        {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// Expires sessions whose time has passed, emitting `checkout.expired` for each.
    fn sweep(&self, state: &mut State, now: OffsetDateTime) {
        let due: Vec<String> = state
            .sessions
            .iter()
            .filter(|(_, session)| {
                session.result.status == CheckoutStatus::Open
                    && session.result.expires_at.is_some_and(|at| at <= now)
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in due {
            if let Some(snapshot) = expire_session(state, &id) {
                self.emit(
                    state,
                    WebhookEventKind::CheckoutExpired,
                    "checkout.expired",
                    snapshot,
                    now,
                );
            }
        }
    }
}

fn not_found(id: &str) -> PaymentError {
    PaymentError::NotFound {
        id: id.to_owned(),
        gateway: None,
    }
}

fn open_session<'a>(
    state: &'a mut State,
    id: &str,
    now: OffsetDateTime,
) -> Result<&'a mut Session, PaymentError> {
    let session = state.sessions.get_mut(id).ok_or_else(|| not_found(id))?;
    let past_expiry = session.result.expires_at.is_some_and(|at| at <= now);
    if session.result.status != CheckoutStatus::Open || past_expiry {
        return Err(PaymentError::invalid(
            "id",
            format!("checkout {id} is not open"),
        ));
    }
    Ok(session)
}

fn expire_session(state: &mut State, id: &str) -> Option<CheckoutResult> {
    let session = state.sessions.get_mut(id)?;
    session.result.status = CheckoutStatus::Expired;
    session.result.url = None;
    Some(session.result.clone())
}

#[async_trait]
impl CheckoutProvider for MemoryProvider {
    fn kind(&self) -> ProviderKind {
        ProviderKind::MEMORY
    }

    fn capabilities(&self) -> Capabilities {
        let mut capabilities = Capabilities::all();
        // Memory webhooks sign no timestamp.
        capabilities.webhook_timestamps = false;
        capabilities
    }

    async fn create_checkout(
        &self,
        request: &CheckoutRequest,
    ) -> Result<CheckoutResult, PaymentError> {
        self.begin(RecordedCall::CreateCheckout(request.clone()))?;
        request.validate()?;
        let total = request.total()?;
        let now = self.clock.now();
        let mut state = self.lock();
        if let Some(key) = &request.idempotency_key {
            if let Some(existing) = state.by_idempotency_key.get(key) {
                let session = state
                    .sessions
                    .get(existing)
                    .ok_or_else(|| not_found(existing))?;
                if session.request != *request {
                    return Err(PaymentError::IdempotencyConflict {
                        message: format!("idempotency key {key:?} was used with other parameters"),
                        gateway: None,
                    });
                }
                return Ok(session.result.clone());
            }
        }
        // Catalog items cost what the memory gateway's price list says (`with_price`), as a
        // gateway charges the price it holds for a product.
        let total = match total {
            Some(total) => Some(total),
            None => state.billing.catalog_total(&request.line_items),
        };
        let id = random_id("mem_cs_");
        let payment_status = match (request.mode, total) {
            (CheckoutMode::Setup, _) => PaymentStatus::NoPaymentRequired,
            (_, Some(money)) if money.amount() == 0 => PaymentStatus::NoPaymentRequired,
            _ => PaymentStatus::Unpaid,
        };
        let mut result = CheckoutResult::new(
            &id,
            ProviderKind::MEMORY,
            CheckoutStatus::Open,
            payment_status,
        );
        match request.ui_mode {
            UiMode::Hosted => result.url = Some(format!("{PAGE_BASE}{id}")),
            UiMode::Embedded => {
                result.client_secret = Some(Secret::new(format!("{id}_secret_memory")))
            }
        }
        result.mode = Some(request.mode);
        result.amount_total = total;
        result.customer_email = request.customer_email.clone();
        result.customer_id = request.customer_id.clone();
        result.reference = request.reference.clone();
        result.metadata = request.metadata.clone();
        result.created_at = Some(now);
        let lifetime = request.expires_in.unwrap_or(DEFAULT_EXPIRY);
        result.expires_at = Some(
            now.saturating_add(time::Duration::try_from(lifetime).unwrap_or(time::Duration::MAX)),
        );
        result.raw = serde_json::json!({ "id": id, "object": "memory.checkout" }).into();
        if let Some(key) = &request.idempotency_key {
            state.by_idempotency_key.insert(key.clone(), id.clone());
        }
        state.sessions.insert(
            id,
            Session {
                request: request.clone(),
                result: result.clone(),
            },
        );
        Ok(result)
    }

    async fn retrieve_checkout(&self, id: &str) -> Result<CheckoutResult, PaymentError> {
        self.begin(RecordedCall::RetrieveCheckout(id.to_owned()))?;
        let now = self.clock.now();
        let mut state = self.lock();
        self.sweep(&mut state, now);
        state
            .sessions
            .get(id)
            .map(|session| session.result.clone())
            .ok_or_else(|| not_found(id))
    }

    async fn expire_checkout(&self, id: &str) -> Result<CheckoutResult, PaymentError> {
        self.begin(RecordedCall::ExpireCheckout(id.to_owned()))?;
        let now = self.clock.now();
        let mut state = self.lock();
        self.sweep(&mut state, now);
        open_session(&mut state, id, now)?;
        let snapshot = expire_session(&mut state, id).ok_or_else(|| not_found(id))?;
        self.emit(
            &mut state,
            WebhookEventKind::CheckoutExpired,
            "checkout.expired",
            snapshot.clone(),
            now,
        );
        Ok(snapshot)
    }

    fn verify_webhook(
        &self,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<WebhookEvent, PaymentError> {
        crate::adapter::check_webhook_body(body)?;
        self.begin(RecordedCall::VerifyWebhook(body.to_vec()))?;
        let signature = headers
            .get(SIGNATURE_HEADER)
            .ok_or(SignatureError::Missing(
                "payswitch-memory-signature header".into(),
            ))?
            .to_str()
            .map_err(|_| SignatureError::Malformed("the header is not ASCII".into()))?;
        self.verify_signature(body, signature)?;
        let envelope: Envelope = serde_json::from_slice(body)
            .map_err(|error| PaymentError::decode("memory webhook", error))?;
        self.lock()
            .events
            .get(&envelope.id)
            .cloned()
            .ok_or_else(|| {
                PaymentError::decode("memory webhook", format!("unknown event {}", envelope.id))
            })
    }

    fn verify_return(&self, query: &str) -> Result<ReturnParams, PaymentError> {
        self.begin(RecordedCall::VerifyReturn(query.to_owned()))?;
        let (unsigned, signature) =
            query
                .rsplit_once("&signature=")
                .ok_or(SignatureError::Missing(
                    "signature parameter in the return URL".into(),
                ))?;
        self.verify_signature(unsigned.as_bytes(), signature)?;
        let mut params = ReturnParams::new(ProviderKind::MEMORY, String::new(), true);
        for (key, value) in form_urlencoded::parse(unsigned.as_bytes()) {
            match key.as_ref() {
                "checkout_id" => params.checkout_id = value.into_owned(),
                "reference" => params.reference = Some(value.into_owned()),
                _ => {}
            }
        }
        if params.checkout_id.is_empty() {
            return Err(PaymentError::invalid(
                "checkout_id",
                "missing from the return URL",
            ));
        }
        Ok(params)
    }
    async fn retrieve_subscription(&self, id: &str) -> Result<Subscription, PaymentError> {
        self.begin(RecordedCall::Subscription(
            "retrieve_subscription",
            id.to_owned(),
        ))?;
        self.retrieve_subscription_now(id)
    }

    async fn list_subscriptions(
        &self,
        customer_id: &str,
    ) -> Result<Vec<Subscription>, PaymentError> {
        self.begin(RecordedCall::Subscription(
            "list_subscriptions",
            customer_id.to_owned(),
        ))?;
        Ok(self.list_subscriptions_now(customer_id))
    }

    async fn cancel_subscription(
        &self,
        id: &str,
        at: CancelAt,
    ) -> Result<Subscription, PaymentError> {
        self.begin(RecordedCall::Subscription(
            "cancel_subscription",
            id.to_owned(),
        ))?;
        self.cancel_subscription_now(id, at)
    }

    async fn resume_subscription(&self, id: &str) -> Result<Subscription, PaymentError> {
        self.begin(RecordedCall::Subscription(
            "resume_subscription",
            id.to_owned(),
        ))?;
        self.resume_subscription_now(id)
    }

    async fn pause_subscription(&self, id: &str) -> Result<Subscription, PaymentError> {
        self.begin(RecordedCall::Subscription(
            "pause_subscription",
            id.to_owned(),
        ))?;
        self.pause_subscription_now(id)
    }

    async fn change_subscription(
        &self,
        id: &str,
        change: &SubscriptionChange,
    ) -> Result<Subscription, PaymentError> {
        self.begin(RecordedCall::Subscription(
            "change_subscription",
            id.to_owned(),
        ))?;
        self.change_subscription_now(id, change)
    }

    async fn preview_subscription_change(
        &self,
        id: &str,
        change: &SubscriptionChange,
    ) -> Result<SubscriptionChangePreview, PaymentError> {
        self.begin(RecordedCall::Subscription(
            "preview_subscription_change",
            id.to_owned(),
        ))?;
        self.preview_subscription_change_now(id, change)
    }

    async fn create_refund(&self, request: &RefundRequest) -> Result<Refund, PaymentError> {
        self.begin(RecordedCall::CreateRefund(request.clone()))?;
        self.create_refund_now(request)
    }

    async fn create_portal_session(
        &self,
        request: &PortalRequest,
    ) -> Result<PortalSession, PaymentError> {
        self.begin(RecordedCall::CreatePortalSession(request.clone()))?;
        self.create_portal_session_now(request)
    }

    async fn create_customer(&self, request: &CustomerRequest) -> Result<Customer, PaymentError> {
        self.begin(RecordedCall::Customer(
            "create_customer",
            format!("{request:?}"),
        ))?;
        self.create_customer_now(request)
    }

    async fn retrieve_customer(&self, id: &str) -> Result<Customer, PaymentError> {
        self.begin(RecordedCall::Customer("retrieve_customer", id.to_owned()))?;
        self.retrieve_customer_now(id)
    }

    async fn find_customer(
        &self,
        lookup: &CustomerLookup,
    ) -> Result<Option<Customer>, PaymentError> {
        self.begin(RecordedCall::Customer(
            "find_customer",
            format!("{lookup:?}"),
        ))?;
        Ok(self.find_customer_now(lookup))
    }
}
