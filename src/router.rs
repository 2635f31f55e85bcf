//! `Router`: one `CheckoutProvider` over several gateways, chosen per request.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use payswitch_core::{
    CancelAt, Capabilities, CheckoutProvider, CheckoutRequest, CheckoutResult, Currency, Customer,
    CustomerLookup, CustomerRequest, PaymentError, PortalRequest, PortalSession, ProviderKind,
    Refund, RefundRequest, RefundTarget, ReturnParams, RolloutKey, RouteRule, RouterConfig,
    SignatureError, Subscription, SubscriptionChange, SubscriptionChangePreview, WebhookEvent,
};
use sha2::{Digest, Sha256};

/// How many checkout ids the router remembers to send follow-up calls straight to the
/// gateway that created them; older ids are found by asking each gateway in turn.
const REMEMBERED_CHECKOUTS: usize = 10_000;

/// A [`CheckoutProvider`] over several gateways, so an application can pick a gateway per
/// request (by currency, country, metadata or a sticky percentage rollout) and fail over to
/// another gateway when creation fails in a way that proves the first gateway created nothing
/// ([`PaymentError::proves_nothing_created`]: unreachable, or rate limited). Ambiguous
/// failures (timeouts, 5xx, an idempotency key still in progress) are returned to the caller,
/// so an order never gets two payable checkouts on two gateways.
///
/// In migration mode (`retiring` gateways, see [`RouterConfig::migration`]) new checkouts go
/// to the new gateway while the retiring ones keep serving what they own; a checkout for a
/// customer a retiring gateway knows stays there.
///
/// Follow-up calls go to the gateway that created the checkout; `verify_webhook` goes to the
/// gateway whose signature header is present. Configure it with `provider = "router"` and a
/// `[router]` section (see [`RouterConfig`]); [`from_config`](crate::from_config) then builds
/// each gateway it names. The router itself knows nothing of selection: it is a plain
/// combinator over the providers it is given.
pub struct Router {
    config: RouterConfig,
    gateways: Vec<(String, Arc<dyn CheckoutProvider>)>,
    created_by: Mutex<Remembered>,
}

#[derive(Default)]
struct Remembered {
    by_id: HashMap<String, usize>,
    order: VecDeque<String>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("config", &self.config)
            .field(
                "gateways",
                &self
                    .gateways
                    .iter()
                    .map(|(name, _)| name)
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Router {
    /// The router's kind: `provider = "router"`.
    pub const KIND: ProviderKind = ProviderKind::new("router");

    /// A router over the given gateways, keyed by the names the rules use. Gateways that no
    /// rule names still serve follow-up calls for the checkouts they created.
    pub fn new(
        config: RouterConfig,
        gateways: BTreeMap<String, Arc<dyn CheckoutProvider>>,
    ) -> Result<Self, PaymentError> {
        let mut ordered = Vec::new();
        for name in config.gateways() {
            let provider = gateways.get(name).ok_or_else(|| {
                PaymentError::config(format!("router: gateway {name:?} is not configured"))
            })?;
            ordered.push((name.to_owned(), Arc::clone(provider)));
        }
        // Gateways no rule names any more still answer for the checkouts they created.
        for (name, provider) in &gateways {
            if !ordered.iter().any(|(known, _)| known == name) {
                ordered.push((name.clone(), Arc::clone(provider)));
            }
        }
        config.validate()?;
        Ok(Self {
            config,
            gateways: ordered,
            created_by: Mutex::default(),
        })
    }

    /// The name of the gateway the rules pick for `request` (before any failover).
    pub fn route(&self, request: &CheckoutRequest) -> &str {
        self.config
            .rules
            .iter()
            .find(|rule| matches(rule, request))
            .map_or(self.config.default.as_str(), |rule| rule.gateway.as_str())
    }

    /// The gateway with this name, if the router uses it.
    pub fn gateway(&self, name: &str) -> Option<&Arc<dyn CheckoutProvider>> {
        self.index_of(name).map(|index| &self.gateways[index].1)
    }

    /// The name of the gateway that created checkout `id`, if this router remembers it.
    pub fn created_by(&self, id: &str) -> Option<&str> {
        let index = *self.remembered().by_id.get(id)?;
        Some(self.gateways[index].0.as_str())
    }

    /// The gateways in name order, so decisions over all of them never depend on the order
    /// of the configuration.
    fn by_name(&self) -> impl Iterator<Item = (&str, &Arc<dyn CheckoutProvider>)> {
        let mut sorted: Vec<(&str, &Arc<dyn CheckoutProvider>)> = self
            .gateways
            .iter()
            .map(|(name, provider)| (name.as_str(), provider))
            .collect();
        sorted.sort_by_key(|(name, _)| *name);
        sorted.into_iter()
    }

    fn index_of(&self, name: &str) -> Option<usize> {
        self.gateways
            .iter()
            .position(|(gateway, _)| gateway == name)
    }

    fn remembered(&self) -> std::sync::MutexGuard<'_, Remembered> {
        self.created_by
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn remember(&self, id: &str, index: usize) {
        let mut remembered = self.remembered();
        if remembered.by_id.insert(id.to_owned(), index).is_none() {
            remembered.order.push_back(id.to_owned());
        }
        while remembered.order.len() > REMEMBERED_CHECKOUTS {
            if let Some(oldest) = remembered.order.pop_front() {
                remembered.by_id.remove(&oldest);
            }
        }
    }

    /// In migration, the retiring gateway that already knows this checkout's customer, and
    /// the request to send it: a `customer_id` goes to the gateway that issued it (no other
    /// gateway knows it); with `keep_returning_customers`, a `customer_email` a retiring
    /// gateway knows goes there too, as that customer (Stripe refuses `customer` together
    /// with `customer_email`, so the email is dropped once the customer is named).
    async fn keep_returning_customer<'r>(
        &self,
        request: &'r CheckoutRequest,
    ) -> Result<(std::borrow::Cow<'r, CheckoutRequest>, Option<String>), PaymentError> {
        let unchanged = (std::borrow::Cow::Borrowed(request), None);
        if self.config.retiring.is_empty() {
            return Ok(unchanged);
        }
        if let Some(customer) = &request.customer_id {
            if let Some(index) = self.remembered_owner(customer) {
                return Ok((
                    std::borrow::Cow::Borrowed(request),
                    Some(self.gateways[index].0.clone()),
                ));
            }
            for name in &self.config.retiring {
                let Some(index) = self.index_of(name) else {
                    continue;
                };
                match self.gateways[index].1.retrieve_customer(customer).await {
                    Ok(_) => {
                        self.remember(customer, index);
                        return Ok((std::borrow::Cow::Borrowed(request), Some(name.clone())));
                    }
                    Err(PaymentError::NotFound { .. } | PaymentError::Unsupported { .. }) => {}
                    Err(other) => return Err(other),
                }
            }
            return Ok(unchanged);
        }
        if !self.config.keep_returning_customers {
            return Ok(unchanged);
        }
        let Some(email) = &request.customer_email else {
            return Ok(unchanged);
        };
        for name in &self.config.retiring {
            let Some(index) = self.index_of(name) else {
                continue;
            };
            let lookup = payswitch_core::CustomerLookup::Email(email.clone());
            match self.gateways[index].1.find_customer(&lookup).await {
                Ok(Some(customer)) => {
                    self.remember(&customer.id, index);
                    let mut kept = request.clone();
                    kept.customer_id = Some(customer.id);
                    kept.customer_email = None;
                    return Ok((std::borrow::Cow::Owned(kept), Some(name.clone())));
                }
                Ok(None) | Err(PaymentError::Unsupported { .. }) => {}
                Err(other) => return Err(other),
            }
        }
        Ok(unchanged)
    }

    /// Sends a follow-up call to the gateway that owns `id`; when the router does not
    /// remember it (say, after a restart), asks each gateway until one knows the id. Only
    /// reads and calls that a gateway refuses without acting on an id it never issued go
    /// through here; mutations of subscriptions and customers first locate their owner with
    /// a read ([`Router::owner`]).
    async fn follow_up<'a, T, F>(&'a self, id: &'a str, call: F) -> Result<T, PaymentError>
    where
        T: Send,
        F: Fn(
            &'a dyn CheckoutProvider,
            &'a str,
        ) -> futures_like::BoxFuture<'a, Result<T, PaymentError>>,
    {
        let known = self.remembered().by_id.get(id).copied();
        if let Some(index) = known {
            return call(self.gateways[index].1.as_ref(), id).await;
        }
        let mut last = None;
        for (index, (_, provider)) in self.gateways.iter().enumerate() {
            match call(provider.as_ref(), id).await {
                // Not this gateway's id, or an operation this gateway lacks: ask the next.
                Err(error @ (PaymentError::NotFound { .. } | PaymentError::Unsupported { .. })) => {
                    last = Some(error)
                }
                Ok(result) => {
                    self.remember(id, index);
                    return Ok(result);
                }
                Err(other) => return Err(other),
            }
        }
        Err(last.unwrap_or_else(|| PaymentError::NotFound {
            id: id.to_owned(),
            gateway: None,
        }))
    }

    /// The gateway that owns subscription or customer `id`, found with `read` (a retrieve)
    /// when the router does not remember it, so a mutation is sent to one gateway only.
    async fn owner<F>(&self, id: &str, read: F) -> Result<&dyn CheckoutProvider, PaymentError>
    where
        F: for<'p> Fn(
            &'p dyn CheckoutProvider,
            &'p str,
        ) -> futures_like::BoxFuture<'p, Result<(), PaymentError>>,
    {
        self.follow_up(id, read).await?;
        let index = self.remembered().by_id.get(id).copied();
        index
            .map(|index| self.gateways[index].1.as_ref())
            .ok_or_else(|| PaymentError::NotFound {
                id: id.to_owned(),
                gateway: None,
            })
    }

    async fn subscription_owner(&self, id: &str) -> Result<&dyn CheckoutProvider, PaymentError> {
        self.owner(id, |provider, id| {
            Box::pin(async move { provider.retrieve_subscription(id).await.map(drop) })
        })
        .await
    }

    async fn customer_owner(&self, id: &str) -> Result<&dyn CheckoutProvider, PaymentError> {
        self.owner(id, |provider, id| {
            Box::pin(async move { provider.retrieve_customer(id).await.map(drop) })
        })
        .await
    }

    /// The gateway index that owns `id`, if remembered.
    fn remembered_owner(&self, id: &str) -> Option<usize> {
        self.remembered().by_id.get(id).copied()
    }

    /// Remembers every id a checkout names (its customer, payment and subscription) as
    /// owned by the gateway that owns the checkout, so later calls about them go straight
    /// there.
    fn learn_checkout(&self, checkout: &CheckoutResult) {
        if let Some(index) = self.remembered_owner(&checkout.id) {
            for id in [
                &checkout.customer_id,
                &checkout.payment_id,
                &checkout.subscription_id,
            ]
            .into_iter()
            .flatten()
            {
                self.remember(id, index);
            }
        }
    }

    /// Remembers a subscription's customer as owned by the subscription's gateway.
    fn learn_subscription(&self, subscription: &Subscription) {
        if let (Some(index), Some(customer)) = (
            self.remembered_owner(&subscription.id),
            &subscription.customer_id,
        ) {
            self.remember(customer, index);
        }
    }
}

/// Whether `create_checkout` may try the next gateway after this failure: only when the
/// failure proves nothing was created (see [`PaymentError::proves_nothing_created`]).
fn may_fail_over(error: &PaymentError) -> bool {
    error.proves_nothing_created()
}

/// How telling a signature refusal is: a gateway that recognized its own signature and found
/// it wrong says more than one that found no signature at all.
fn refusal_rank(error: &PaymentError) -> u8 {
    match error {
        PaymentError::Signature(SignatureError::Mismatch) => 0,
        PaymentError::Signature(SignatureError::Expired { .. }) => 1,
        PaymentError::Signature(SignatureError::Malformed(_)) => 2,
        PaymentError::Signature(SignatureError::NoSecret) => 4,
        PaymentError::Signature(SignatureError::Missing(_)) => 5,
        _ => 3,
    }
}

/// The router's webhook decision over every gateway's answer (in name order).
fn decide_webhook(
    answers: Vec<(&str, Result<WebhookEvent, PaymentError>)>,
) -> Result<WebhookEvent, PaymentError> {
    let mut accepted = Vec::new();
    let mut refusals = Vec::new();
    for (name, answer) in answers {
        match answer {
            Ok(event) => accepted.push((name, event)),
            Err(error) => refusals.push(error),
        }
    }
    match accepted.len() {
        1 => Ok(accepted.remove(0).1),
        0 => Err(most_telling(refusals).unwrap_or(PaymentError::Signature(
            SignatureError::Missing("signature header of any configured gateway".into()),
        ))),
        _ => Err(PaymentError::Signature(SignatureError::Malformed(format!(
            "the webhook verifies with more than one gateway ({})",
            accepted
                .iter()
                .map(|(name, _)| *name)
                .collect::<Vec<_>>()
                .join(", ")
        )))),
    }
}

/// The router's redirect decision over every gateway's answer (in name order).
fn decide_return(
    answers: Vec<(&str, Result<ReturnParams, PaymentError>)>,
) -> Result<ReturnParams, PaymentError> {
    let mut verified = Vec::new();
    let mut unverified = Vec::new();
    let mut refusals = Vec::new();
    for (name, answer) in answers {
        match answer {
            Ok(params) if params.verified => verified.push((name, params)),
            Ok(params) => unverified.push((name, params)),
            Err(error) => refusals.push(error),
        }
    }
    if verified.len() == 1 {
        return Ok(verified.remove(0).1);
    }
    if verified.len() > 1 {
        return Err(ambiguous_redirect(&verified));
    }
    // A signature that is present but wrong is tampering: never fall back to a reading that
    // does not check it.
    let tampered = refusals.iter().any(|error| {
        matches!(
            error,
            PaymentError::Signature(
                SignatureError::Mismatch
                    | SignatureError::Malformed(_)
                    | SignatureError::Expired { .. }
            )
        )
    });
    if tampered {
        return Err(
            most_telling(refusals).unwrap_or(PaymentError::Signature(SignatureError::Mismatch))
        );
    }
    match unverified.len() {
        1 => Ok(unverified.remove(0).1),
        0 => Err(most_telling(refusals)
            .unwrap_or_else(|| PaymentError::config("router has no gateways"))),
        _ => Err(ambiguous_redirect(&unverified)),
    }
}

fn ambiguous_redirect(readings: &[(&str, ReturnParams)]) -> PaymentError {
    PaymentError::Signature(SignatureError::Malformed(format!(
        "the redirect reads as more than one gateway's ({})",
        readings
            .iter()
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

/// The most telling refusal; among equals, the first (gateways are asked in name order).
fn most_telling(refusals: Vec<PaymentError>) -> Option<PaymentError> {
    let best = refusals.iter().map(refusal_rank).min()?;
    refusals
        .into_iter()
        .find(|error| refusal_rank(error) == best)
}

/// A boxed future, spelled out here to avoid a dependency for one alias.
mod futures_like {
    pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;
}

fn request_currency(request: &CheckoutRequest) -> Option<Currency> {
    request
        .line_items
        .iter()
        .find_map(|item| {
            item.custom_product()
                .map(|custom| custom.unit_amount.currency())
        })
        .or(request.currency)
}

fn matches(rule: &RouteRule, request: &CheckoutRequest) -> bool {
    if let Some(currencies) = &rule.currencies {
        if !request_currency(request).is_some_and(|currency| currencies.contains(&currency)) {
            return false;
        }
    }
    if let Some(countries) = &rule.countries {
        let country = request.metadata.get("country");
        if !country.is_some_and(|country| countries.iter().any(|c| c.eq_ignore_ascii_case(country)))
        {
            return false;
        }
    }
    if let Some(wanted) = &rule.metadata {
        if !wanted
            .iter()
            .all(|(key, value)| request.metadata.get(key) == Some(value))
        {
            return false;
        }
    }
    if let Some(percent) = rule.percent {
        let key = match rule.key.unwrap_or_default() {
            RolloutKey::Customer => request
                .customer_id
                .as_ref()
                .or(request.customer_email.as_ref()),
            RolloutKey::Reference => request.reference.as_ref(),
        };
        // Without a key there is nothing to keep sticky, so the rollout does not apply.
        let Some(key) = key else { return false };
        if rollout_bucket(key) >= u32::from(percent) {
            return false;
        }
    }
    true
}

/// A stable bucket in 0..100 for `key`: the same key lands in the same bucket in every
/// process and release, so a customer stays on one gateway.
fn rollout_bucket(key: &str) -> u32 {
    let digest = Sha256::digest(key.as_bytes());
    let first = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    first % 100
}

#[async_trait]
impl CheckoutProvider for Router {
    fn kind(&self) -> ProviderKind {
        Self::KIND
    }

    /// What every gateway behind the router supports: the guarantees that hold whichever
    /// gateway a request lands on.
    fn capabilities(&self) -> Capabilities {
        self.gateways
            .iter()
            .map(|(_, provider)| provider.capabilities())
            .reduce(|common, other| common.intersect(&other))
            .unwrap_or_else(Capabilities::none)
    }

    async fn create_checkout(
        &self,
        request: &CheckoutRequest,
    ) -> Result<CheckoutResult, PaymentError> {
        request.validate()?;
        let (placed, kept) = self.keep_returning_customer(request).await?;
        let request = placed.as_ref();
        // A kept customer is known to one gateway only: no failover elsewhere.
        let failover: &[String] = if kept.is_some() {
            &[]
        } else {
            &self.config.failover
        };
        let chosen = kept.unwrap_or_else(|| self.route(request).to_owned());
        let order = std::iter::once(chosen.as_str()).chain(
            failover
                .iter()
                .map(String::as_str)
                .filter(|name| *name != chosen),
        );
        let mut first_error = None;
        for name in order {
            let Some(index) = self.index_of(name) else {
                continue;
            };
            match self.gateways[index].1.create_checkout(request).await {
                Ok(result) => {
                    self.remember(&result.id, index);
                    return Ok(result);
                }
                // Only a failure that proves this gateway created nothing may go elsewhere:
                // after a timeout or a 5xx the first gateway may hold a payable checkout,
                // and a second one would let the customer pay twice.
                Err(error) if may_fail_over(&error) => {
                    tracing::warn!(gateway = name, error = %error, "checkout creation failed; trying the next gateway");
                    first_error.get_or_insert(error);
                }
                Err(error) => return Err(first_error.unwrap_or(error)),
            }
        }
        Err(first_error.unwrap_or_else(|| {
            PaymentError::config(format!("router: gateway {chosen:?} is not configured"))
        }))
    }

    async fn retrieve_checkout(&self, id: &str) -> Result<CheckoutResult, PaymentError> {
        let checkout = self
            .follow_up(id, |provider, id| provider.retrieve_checkout(id))
            .await?;
        self.learn_checkout(&checkout);
        Ok(checkout)
    }

    async fn expire_checkout(&self, id: &str) -> Result<CheckoutResult, PaymentError> {
        self.follow_up(id, |provider, id| provider.expire_checkout(id))
            .await
    }

    /// Asks every gateway and decides on all the answers, so the outcome never depends on
    /// the order of the gateways: exactly one gateway verifying the webhook accepts it; none
    /// verifying it (or more than one) refuses it, with the most telling refusal.
    fn verify_webhook(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<WebhookEvent, PaymentError> {
        payswitch_core::adapter::check_webhook_body(body)?;
        let answers: Vec<(&str, Result<WebhookEvent, PaymentError>)> = self
            .by_name()
            .map(|(name, provider)| (name, provider.verify_webhook(headers, body)))
            .collect();
        decide_webhook(answers)
    }

    /// Asks every gateway and decides on all the answers, failing closed: a redirect one
    /// gateway's signature proves wins; a redirect carrying a signature that fails is refused
    /// even if another gateway would read it unverified; otherwise exactly one unverified
    /// reading is returned.
    fn verify_return(&self, query: &str) -> Result<ReturnParams, PaymentError> {
        let answers: Vec<(&str, Result<ReturnParams, PaymentError>)> = self
            .by_name()
            .map(|(name, provider)| (name, provider.verify_return(query)))
            .collect();
        decide_return(answers)
    }

    async fn retrieve_subscription(&self, id: &str) -> Result<Subscription, PaymentError> {
        let subscription = self
            .follow_up(id, |provider, id| provider.retrieve_subscription(id))
            .await?;
        self.learn_subscription(&subscription);
        Ok(subscription)
    }

    async fn list_subscriptions(
        &self,
        customer_id: &str,
    ) -> Result<Vec<Subscription>, PaymentError> {
        self.customer_owner(customer_id)
            .await?
            .list_subscriptions(customer_id)
            .await
    }

    async fn cancel_subscription(
        &self,
        id: &str,
        at: CancelAt,
    ) -> Result<Subscription, PaymentError> {
        self.subscription_owner(id)
            .await?
            .cancel_subscription(id, at)
            .await
    }

    async fn resume_subscription(&self, id: &str) -> Result<Subscription, PaymentError> {
        self.subscription_owner(id)
            .await?
            .resume_subscription(id)
            .await
    }

    async fn pause_subscription(&self, id: &str) -> Result<Subscription, PaymentError> {
        self.subscription_owner(id)
            .await?
            .pause_subscription(id)
            .await
    }

    async fn change_subscription(
        &self,
        id: &str,
        change: &SubscriptionChange,
    ) -> Result<Subscription, PaymentError> {
        change.validate()?;
        self.subscription_owner(id)
            .await?
            .change_subscription(id, change)
            .await
    }

    async fn preview_subscription_change(
        &self,
        id: &str,
        change: &SubscriptionChange,
    ) -> Result<SubscriptionChangePreview, PaymentError> {
        change.validate()?;
        self.subscription_owner(id)
            .await?
            .preview_subscription_change(id, change)
            .await
    }

    /// Refunds on the gateway that owns the checkout or payment. A payment id the router
    /// does not remember is offered to each gateway in turn: a gateway that never issued it
    /// refuses with `NotFound` and refunds nothing.
    async fn create_refund(&self, request: &RefundRequest) -> Result<Refund, PaymentError> {
        request.validate()?;
        if let RefundTarget::Checkout(id) = &request.target {
            self.retrieve_checkout(id).await?;
        }
        self.follow_up(request.target.id(), |provider, _| {
            provider.create_refund(request)
        })
        .await
    }

    async fn create_portal_session(
        &self,
        request: &PortalRequest,
    ) -> Result<PortalSession, PaymentError> {
        request.validate()?;
        self.customer_owner(&request.customer_id)
            .await?
            .create_portal_session(request)
            .await
    }

    /// Creates the customer on the default gateway, where new checkouts go.
    async fn create_customer(&self, request: &CustomerRequest) -> Result<Customer, PaymentError> {
        let index = self.index_of(&self.config.default).ok_or_else(|| {
            PaymentError::config(format!(
                "router: gateway {:?} is not configured",
                self.config.default
            ))
        })?;
        let customer = self.gateways[index].1.create_customer(request).await?;
        self.remember(&customer.id, index);
        Ok(customer)
    }

    async fn retrieve_customer(&self, id: &str) -> Result<Customer, PaymentError> {
        self.follow_up(id, |provider, id| provider.retrieve_customer(id))
            .await
    }

    /// Looks on the default gateway first, then on the others in name order; the first
    /// customer found wins. Gateways that cannot search this way are skipped.
    async fn find_customer(
        &self,
        lookup: &CustomerLookup,
    ) -> Result<Option<Customer>, PaymentError> {
        let default = self.index_of(&self.config.default);
        let mut order: Vec<usize> = default.into_iter().collect();
        let mut names: Vec<(usize, &str)> = self
            .gateways
            .iter()
            .enumerate()
            .map(|(index, (name, _))| (index, name.as_str()))
            .collect();
        names.sort_by_key(|(_, name)| *name);
        order.extend(
            names
                .into_iter()
                .map(|(index, _)| index)
                .filter(|index| Some(*index) != default),
        );
        let mut unsupported = None;
        for index in order {
            match self.gateways[index].1.find_customer(lookup).await {
                Ok(Some(customer)) => {
                    self.remember(&customer.id, index);
                    return Ok(Some(customer));
                }
                Ok(None) => {}
                Err(error @ PaymentError::Unsupported { .. }) => {
                    unsupported.get_or_insert(error);
                }
                Err(other) => return Err(other),
            }
        }
        match unsupported {
            // No gateway could look this way at all.
            Some(error)
                if !self
                    .gateways
                    .iter()
                    .any(|(_, provider)| provider_can_find(provider.as_ref(), lookup)) =>
            {
                Err(error)
            }
            _ => Ok(None),
        }
    }
}

/// Whether `provider` declares it can find customers this way.
fn provider_can_find(provider: &dyn CheckoutProvider, lookup: &CustomerLookup) -> bool {
    let capabilities = provider.capabilities();
    match lookup {
        CustomerLookup::AppUserId(_) => capabilities.find_customer_by_app_user,
        CustomerLookup::Email(_) => capabilities.customers,
    }
}
