//! The library entry points: [`Sandbox::builder`], [`SandboxBuilder`] and
//! the running [`SandboxHandle`] with the admin operations as methods.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;

use crate::app::{App, MAX_PENDING_DELIVERIES};
use crate::billing::{RefundRecord, SubscriptionRecord};
use crate::catalog;
use crate::config::{
    Config, CreemRedirectSigning, DEFAULT_CREEM_API_KEY, DEFAULT_CREEM_WEBHOOK_SECRET,
    DEFAULT_LOG_CAPACITY, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_OBJECTS, DEFAULT_RETENTION_SECONDS,
    DEFAULT_STRIPE_API_VERSION, DEFAULT_STRIPE_PUBLISHABLE_KEY, DEFAULT_STRIPE_SECRET_KEY,
    DEFAULT_STRIPE_SETTLEMENT_CURRENCY, DEFAULT_STRIPE_WEBHOOK_SECRET,
};
use crate::customer;
use crate::error::SandboxError;
use crate::faults::Fault;
use crate::gateways;
use crate::gateways::stripe::dunning::StripeDunning;
use crate::lifecycle::{advance_clock, forget_old, retained, sweep_and_flush};
use crate::seed::{
    read_catalog, CouponSeed, DiscountSeed, PriceSeed, ProductSeed, PromotionCodeSeed,
};
use crate::server;
use crate::state::{
    CheckoutRecord, Delivery, Gateway, ObjectCounts, RecordedRequest, State, WaitingDelivery,
};
use crate::webhooks::delivery::RetryPolicy;
use crate::webhooks::dispatch;
use crate::webhooks::endpoints::{
    add_endpoint, check_endpoint_url, remove_endpoint, set_endpoint, MAX_ENDPOINTS,
};
use crate::webhooks::modes::DeliveryModes;

/// Entry point of the library: `Sandbox::builder()...start().await`.
#[derive(Debug)]
pub struct Sandbox;

impl Sandbox {
    /// Returns a builder with the default test keys, secrets and fast retries.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder {
            config: Config {
                stripe_secret_key: DEFAULT_STRIPE_SECRET_KEY.to_owned(),
                stripe_publishable_key: DEFAULT_STRIPE_PUBLISHABLE_KEY.to_owned(),
                stripe_webhook_secret: DEFAULT_STRIPE_WEBHOOK_SECRET.to_owned(),
                stripe_api_version: DEFAULT_STRIPE_API_VERSION.to_owned(),
                stripe_settlement_currency: DEFAULT_STRIPE_SETTLEMENT_CURRENCY.to_owned(),
                stripe_dunning: StripeDunning::default(),
                creem_api_key: DEFAULT_CREEM_API_KEY.to_owned(),
                creem_redirect_signing: CreemRedirectSigning::default(),
                creem_webhook_secret: DEFAULT_CREEM_WEBHOOK_SECRET.to_owned(),
                retry: RetryPolicy::default(),
                products: Vec::new(),
                prices: Vec::new(),
                coupons: Vec::new(),
                promotion_codes: Vec::new(),
                discounts: Vec::new(),
                endpoints: Vec::new(),
                delivery_modes: DeliveryModes::new(),
                endpoint_delivery_modes: Vec::new(),
                port: 0,
                admin_token: None,
                log_capacity: DEFAULT_LOG_CAPACITY,
                max_connections: DEFAULT_MAX_CONNECTIONS,
                max_objects: DEFAULT_MAX_OBJECTS,
                retention_seconds: DEFAULT_RETENTION_SECONDS,
            },
        }
    }
}

/// Configures and starts a sandbox.
#[derive(Debug)]
pub struct SandboxBuilder {
    config: Config,
}

impl SandboxBuilder {
    /// Sets the Stripe secret key the sandbox accepts (default `sk_test_sandbox`).
    pub fn stripe_secret_key(mut self, key: impl Into<String>) -> Self {
        self.config.stripe_secret_key = key.into();
        self
    }

    /// Sets the Stripe publishable key (default `pk_test_sandbox`).
    pub fn stripe_publishable_key(mut self, key: impl Into<String>) -> Self {
        self.config.stripe_publishable_key = key.into();
        self
    }

    /// Sets the secret that signs Stripe webhooks (default `whsec_sandbox`).
    pub fn stripe_webhook_secret(mut self, secret: impl Into<String>) -> Self {
        self.config.stripe_webhook_secret = secret.into();
        self
    }

    /// Sets the account's default Stripe API version.
    pub fn stripe_api_version(mut self, version: impl Into<String>) -> Self {
        self.config.stripe_api_version = version.into();
        self
    }

    /// Sets the currency the Stripe account settles in (default `usd`). Stripe applies the
    /// minimum charge of this currency to every charge, converted with the sandbox's fixed
    /// rates: on a `usd` account a CNY 3.00 checkout is refused with `amount_too_small`.
    /// [`SandboxBuilder::start`] refuses a currency without a published minimum.
    pub fn stripe_settlement_currency(mut self, currency: impl Into<String>) -> Self {
        self.config.stripe_settlement_currency = currency.into().to_ascii_lowercase();
        self
    }

    /// Sets when Stripe retries a failed subscription payment and what happens once every
    /// retry failed (default [`StripeDunning::default`]: 8 retries within 2 weeks, then the
    /// subscription is canceled and the invoice left open).
    pub fn stripe_dunning(mut self, dunning: StripeDunning) -> Self {
        self.config.stripe_dunning = dunning;
        self
    }

    /// Chooses which query parameters the Creem success-redirect signature covers (default
    /// [`CreemRedirectSigning::CreemParameters`]).
    pub fn creem_redirect_signing(mut self, signing: CreemRedirectSigning) -> Self {
        self.config.creem_redirect_signing = signing;
        self
    }

    /// Sets the Creem API key the sandbox accepts (default `creem_test_sandbox`).
    pub fn creem_api_key(mut self, key: impl Into<String>) -> Self {
        self.config.creem_api_key = key.into();
        self
    }

    /// Sets the secret that signs Creem webhooks (default `whsec_creem_sandbox`).
    pub fn creem_webhook_secret(mut self, secret: impl Into<String>) -> Self {
        self.config.creem_webhook_secret = secret.into();
        self
    }

    /// Registers a webhook endpoint for one gateway's events.
    pub fn webhook_endpoint(mut self, gateway: Gateway, url: impl Into<String>) -> Self {
        self.config.endpoints.push((gateway, url.into()));
        self
    }

    /// Registers a Stripe webhook endpoint.
    pub fn stripe_webhook_endpoint(self, url: impl Into<String>) -> Self {
        self.webhook_endpoint(Gateway::Stripe, url)
    }

    /// Registers a Creem webhook endpoint.
    pub fn creem_webhook_endpoint(self, url: impl Into<String>) -> Self {
        self.webhook_endpoint(Gateway::Creem, url)
    }

    /// Seeds a Creem product into the catalog.
    pub fn product(mut self, product: ProductSeed) -> Self {
        self.config.products.push(product);
        self
    }

    /// Seeds several Creem products, e.g. from [`ProductSeed::from_json_file`].
    pub fn products(mut self, products: impl IntoIterator<Item = ProductSeed>) -> Self {
        self.config.products.extend(products);
        self
    }

    /// Seeds a Stripe Price (and its product) into the catalog, so
    /// sessions can use `line_items[i][price]`.
    pub fn price(mut self, price: PriceSeed) -> Self {
        self.config.prices.push(price);
        self
    }

    /// Seeds several Stripe Prices, e.g. from [`PriceSeed::from_json_file`].
    pub fn prices(mut self, prices: impl IntoIterator<Item = PriceSeed>) -> Self {
        self.config.prices.extend(prices);
        self
    }

    /// Seeds a Stripe coupon into the catalog.
    pub fn coupon(mut self, coupon: CouponSeed) -> Self {
        self.config.coupons.push(coupon);
        self
    }

    /// Seeds a Stripe promotion code (its coupon must be seeded before it).
    pub fn promotion_code(mut self, promotion_code: PromotionCodeSeed) -> Self {
        self.config.promotion_codes.push(promotion_code);
        self
    }

    /// Seeds a Creem discount into the catalog.
    pub fn creem_discount(mut self, discount: DiscountSeed) -> Self {
        self.config.discounts.push(discount);
        self
    }

    /// Seeds everything a catalog file holds: a JSON array of Creem products, or an object
    /// with any of `products`, `prices`, `coupons`, `promotion_codes` and `discounts`.
    ///
    /// # Errors
    /// [`SandboxError::Config`] when the file cannot be read or parsed.
    pub fn catalog_file(mut self, path: impl AsRef<std::path::Path>) -> Result<Self, SandboxError> {
        let catalog = read_catalog(path.as_ref())?;
        self.config.products.extend(catalog.products);
        self.config.prices.extend(catalog.prices);
        self.config.coupons.extend(catalog.coupons);
        self.config.promotion_codes.extend(catalog.promotion_codes);
        self.config.discounts.extend(catalog.discounts);
        Ok(self)
    }

    /// Delivers webhooks to every endpoint with these hostile [`DeliveryModes`] (twice, out of
    /// order, late, after dropped attempts, again when old), unless the endpoint's URL has
    /// modes of its own. [`SandboxBuilder::start`] refuses modes that fail
    /// [`DeliveryModes::check`].
    pub fn delivery_modes(mut self, modes: DeliveryModes) -> Self {
        self.config.delivery_modes = modes;
        self
    }

    /// Gives the endpoint `url` modes of its own, used instead of the global ones (empty
    /// modes make it a plain endpoint).
    pub fn endpoint_delivery_modes(mut self, url: impl Into<String>, modes: DeliveryModes) -> Self {
        self.config
            .endpoint_delivery_modes
            .push((url.into(), modes));
        self
    }

    /// Sets how webhook deliveries are retried.
    pub fn webhook_retry(mut self, retry: RetryPolicy) -> Self {
        self.config.retry = retry;
        self
    }

    /// Binds this port instead of an ephemeral one (0, the default).
    pub fn port(mut self, port: u16) -> Self {
        self.config.port = port;
        self
    }

    /// Requires this token in the `x-sandbox-admin-token` header of every `/__sandbox/*`
    /// request, and lets `GET /__sandbox` show the keys and secrets to callers that send it.
    /// Without it the admin API is open to local, same-origin, non-browser clients only.
    pub fn admin_token(mut self, token: impl Into<String>) -> Self {
        self.config.admin_token = Some(token.into());
        self
    }

    /// Sets how many entries the request log and the delivery log each keep (default
    /// [`DEFAULT_LOG_CAPACITY`]); the oldest are dropped first. At least 1.
    pub fn log_capacity(mut self, entries: usize) -> Self {
        self.config.log_capacity = entries.max(1);
        self
    }

    /// Sets how many connections may be open at once (default [`DEFAULT_MAX_CONNECTIONS`]);
    /// further ones wait in the listen backlog until one closes. At least 1.
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.config.max_connections = connections.max(1);
        self
    }

    /// Sets how many of each kind of transactional object (Stripe sessions, PaymentIntents,
    /// Creem checkouts, customers) are kept (default [`DEFAULT_MAX_OBJECTS`]); past it the
    /// oldest are forgotten, open ones included. At least 1.
    pub fn max_objects(mut self, objects: usize) -> Self {
        self.config.max_objects = objects.max(1);
        self
    }

    /// Sets how long (sandbox time) a paid or expired session, checkout or PaymentIntent is
    /// kept before it is forgotten (default 7 days, [`DEFAULT_RETENTION_SECONDS`]).
    pub fn retention(mut self, retention: Duration) -> Self {
        self.config.retention_seconds = i64::try_from(retention.as_secs()).unwrap_or(i64::MAX);
        self
    }

    /// Binds 127.0.0.1, seeds the catalog and starts serving.
    ///
    /// # Errors
    /// [`SandboxError::Bind`] when the port is taken; the product, price and URL
    /// errors when a seed or endpoint is invalid.
    pub async fn start(self) -> Result<SandboxHandle, SandboxError> {
        for (_, url) in &self.config.endpoints {
            check_endpoint_url(url)?;
        }
        if self.config.endpoints.len() > MAX_ENDPOINTS {
            return Err(SandboxError::Config(format!(
                "{} webhook endpoints; at most {MAX_ENDPOINTS} can be registered",
                self.config.endpoints.len()
            )));
        }
        for (url, _) in &self.config.endpoint_delivery_modes {
            check_endpoint_url(url)?;
        }
        gateways::check_settings(&self.config)?;
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], self.config.port)))
            .await
            .map_err(SandboxError::Bind)?;
        let address = listener.local_addr().map_err(SandboxError::Bind)?;
        let (shutdown_sender, shutdown) = watch::channel(false);
        // Webhooks go to the registered URL only: a redirect could point them anywhere.
        let http = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        let app = Arc::new(App {
            base_url: format!("http://{address}"),
            state: Mutex::new(State::default()),
            http,
            shutdown,
            runtime: tokio::runtime::Handle::current(),
            deliveries_in_flight: Arc::new(Semaphore::new(MAX_PENDING_DELIVERIES)),
            config: self.config,
        });
        catalog::seed(&app)?;
        let connections = Arc::new(Semaphore::new(app.config.max_connections));
        let server = tokio::spawn(server::serve(listener, Arc::clone(&app), connections));
        let ticker = tokio::spawn(tick(Arc::clone(&app)));
        Ok(SandboxHandle {
            app,
            address,
            shutdown: shutdown_sender,
            tasks: vec![server, ticker],
        })
    }
}

/// Expires due sessions once a second, so expiry webhooks go out even when
/// nobody touches the session.
async fn tick(app: Arc<App>) {
    let mut shutdown = app.shutdown.clone();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {
                sweep_and_flush(&app);
                forget_old(&app);
            }
            _ = shutdown.changed() => break,
        }
    }
}

/// A running sandbox. Dropping it stops the server; [`SandboxHandle::shutdown`]
/// also waits for it.
pub struct SandboxHandle {
    app: Arc<App>,
    address: SocketAddr,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl fmt::Debug for SandboxHandle {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("SandboxHandle")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl SandboxHandle {
    /// Returns `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.app.base_url
    }

    /// Returns the socket address the sandbox listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Returns the base URL to configure a Stripe client with (paths start
    /// with `/v1/`).
    pub fn stripe_api_base(&self) -> String {
        self.app.base_url.clone()
    }

    /// Returns the base URL to configure a Creem client with (paths start
    /// with `/v1/`).
    pub fn creem_api_base(&self) -> String {
        self.app.base_url.clone()
    }

    /// Returns the Stripe secret key the sandbox accepts.
    pub fn stripe_secret_key(&self) -> &str {
        &self.app.config.stripe_secret_key
    }

    /// Returns the Stripe publishable key the sandbox accepts.
    pub fn stripe_publishable_key(&self) -> &str {
        &self.app.config.stripe_publishable_key
    }

    /// Returns the secret Stripe webhooks are signed with.
    pub fn stripe_webhook_secret(&self) -> &str {
        &self.app.config.stripe_webhook_secret
    }

    /// Returns the Creem API key the sandbox accepts (also the redirect
    /// signature salt).
    pub fn creem_api_key(&self) -> &str {
        &self.app.config.creem_api_key
    }

    /// Returns the secret Creem webhooks are signed with.
    pub fn creem_webhook_secret(&self) -> &str {
        &self.app.config.creem_webhook_secret
    }

    /// Returns the hosted pay page URL of a session or checkout.
    pub fn pay_url(&self, id: &str) -> String {
        format!("{}/pay/{id}", self.app.base_url)
    }

    /// Pays a Stripe session or Creem checkout as a customer would, with
    /// `card` (default `4242 4242 4242 4242`): one of Stripe's test card numbers, or for a
    /// Stripe session in euros a SEPA Direct Debit test IBAN (the session completes unpaid
    /// and the debit settles on the clock). Returns the URL the browser would be redirected
    /// to.
    ///
    /// # Errors
    /// [`SandboxError::Declined`] for a declining card (the session stays
    /// open; on Stripe the failed attempt and its events are recorded),
    /// [`SandboxError::NotFound`], [`SandboxError::NotPayable`].
    pub fn pay(&self, id: &str, card: Option<&str>) -> Result<String, SandboxError> {
        customer::pay(&self.app, id, card, None)
    }

    /// Like [`SandboxHandle::pay`], with the customer's email.
    ///
    /// # Errors
    /// As [`SandboxHandle::pay`].
    pub fn pay_with_email(
        &self,
        id: &str,
        card: Option<&str>,
        email: &str,
    ) -> Result<String, SandboxError> {
        customer::pay(&self.app, id, card, Some(email))
    }

    /// Attempts a payment with the declined test card; the session stays open.
    ///
    /// # Errors
    /// [`SandboxError::NotFound`] or [`SandboxError::NotPayable`].
    pub fn decline(&self, id: &str) -> Result<(), SandboxError> {
        customer::decline(&self.app, id)
    }

    /// Expires an open session or pending checkout now.
    ///
    /// # Errors
    /// [`SandboxError::NotFound`] or [`SandboxError::NotPayable`].
    pub fn expire(&self, id: &str) -> Result<(), SandboxError> {
        customer::expire(&self.app, id)
    }

    /// Moves the sandbox clock forward and runs everything that became due, in time order, as
    /// a Stripe test clock does: expiries, debit settlements, renewals, trial ends, scheduled
    /// cancellations, invoice finalizations and payment retries.
    pub fn advance_clock(&self, by: Duration) {
        advance_clock(&self.app, by);
    }

    /// Returns the sandbox time in Unix seconds.
    pub fn now(&self) -> i64 {
        self.app.lock().now()
    }

    /// Adds a Creem product and returns its id.
    ///
    /// # Errors
    /// [`SandboxError::InvalidProduct`] when Creem's validation rejects it.
    pub fn add_product(&self, product: ProductSeed) -> Result<String, SandboxError> {
        catalog::add_product(&self.app, &product)
    }

    /// Adds a Stripe Price (and its product, unless the seed's
    /// `product_id` already exists) and returns the price id.
    ///
    /// # Errors
    /// [`SandboxError::InvalidPrice`] when Stripe's price validation
    /// rejects it or its id is taken.
    pub fn add_price(&self, price: PriceSeed) -> Result<String, SandboxError> {
        catalog::add_price(&self.app, &price)
    }

    /// Registers a webhook endpoint at runtime.
    ///
    /// # Errors
    /// [`SandboxError::InvalidUrl`] for a URL that is not absolute http(s).
    pub fn add_webhook_endpoint(&self, gateway: Gateway, url: &str) -> Result<(), SandboxError> {
        add_endpoint(&self.app, gateway, url)
    }

    /// Makes `url` the gateway's only webhook endpoint, replacing the ones registered before:
    /// start the sandbox first, then the application on any port, then point the sandbox at
    /// it.
    ///
    /// ```no_run
    /// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
    /// use payswitch_sandbox::{Gateway, Sandbox};
    /// let sandbox = Sandbox::builder().start().await?;
    /// let app = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let url = format!("http://{}/webhooks", app.local_addr()?);
    /// sandbox.set_webhook_endpoint(Gateway::Stripe, &url)?;
    /// sandbox.set_webhook_endpoint(Gateway::Creem, &url)?;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// [`SandboxError::InvalidUrl`] for a URL that is not absolute http(s).
    pub fn set_webhook_endpoint(&self, gateway: Gateway, url: &str) -> Result<(), SandboxError> {
        set_endpoint(&self.app, gateway, url)
    }

    /// Stops delivering the gateway's webhooks to `url`; says whether it was registered.
    pub fn remove_webhook_endpoint(&self, gateway: Gateway, url: &str) -> bool {
        remove_endpoint(&self.app, gateway, url)
    }

    /// Queues a fault for matching gateway requests. A `Delay` longer than
    /// [`MAX_FAULT_DELAY`](crate::MAX_FAULT_DELAY) is shortened to it; use
    /// [`SandboxHandle::try_inject_fault`] to have it refused instead.
    pub fn inject_fault(&self, fault: Fault) {
        self.app.lock().faults.push(fault.bounded());
    }

    /// Queues a fault for matching gateway requests, refusing one the sandbox would not apply
    /// as given.
    ///
    /// # Errors
    /// [`SandboxError::InvalidFault`] for a `Delay` longer than
    /// [`MAX_FAULT_DELAY`](crate::MAX_FAULT_DELAY).
    pub fn try_inject_fault(&self, fault: Fault) -> Result<(), SandboxError> {
        fault.check()?;
        self.app.lock().faults.push(fault);
        Ok(())
    }

    /// Removes every queued fault.
    pub fn clear_faults(&self) {
        self.app.lock().faults.clear();
    }

    /// Returns the webhook delivery attempts so far, oldest first: the newest
    /// [`SandboxBuilder::log_capacity`] of them.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.app.lock().deliveries.iter().cloned().collect()
    }

    /// Sets the hostile [`DeliveryModes`] of every endpoint without modes of its own, from the
    /// next event on (events already on their way keep the modes they started with).
    ///
    /// # Errors
    /// [`SandboxError::InvalidDeliveryMode`] for modes that fail [`DeliveryModes::check`].
    pub fn set_delivery_modes(&self, modes: DeliveryModes) -> Result<(), SandboxError> {
        modes.check()?;
        self.app.lock().delivery_modes.set_global(modes);
        Ok(())
    }

    /// Gives the endpoint `url` modes of its own, used instead of the global ones.
    ///
    /// # Errors
    /// [`SandboxError::InvalidUrl`] for a URL that is not absolute http(s);
    /// [`SandboxError::InvalidDeliveryMode`] for modes that fail [`DeliveryModes::check`] or
    /// when 100 URLs already have their own.
    pub fn set_endpoint_delivery_modes(
        &self,
        url: &str,
        modes: DeliveryModes,
    ) -> Result<(), SandboxError> {
        check_endpoint_url(url)?;
        modes.check()?;
        self.app.lock().delivery_modes.set_endpoint(url, modes)
    }

    /// Returns the modes deliveries to `url` get: its own, or the global ones.
    pub fn delivery_modes_for(&self, url: &str) -> DeliveryModes {
        self.app.lock().delivery_modes.modes_for(url).clone()
    }

    /// Forgets every delivery mode, global and per endpoint: plain delivery from the next
    /// event on. Deliveries already waiting for the clock still run.
    pub fn clear_delivery_modes(&self) {
        self.app.lock().delivery_modes.clear();
    }

    /// Sends an emitted event again to every endpoint of its gateway, as Stripe's dashboard
    /// "Resend" does: same id and body, a fresh signature, plain delivery (recorded with
    /// reason [`DeliveryReason::Replay`](crate::DeliveryReason)). Returns the endpoint URLs.
    ///
    /// # Errors
    /// [`SandboxError::EventNotFound`] for an id never emitted or no longer kept (the newest
    /// [`SandboxBuilder::log_capacity`] events are).
    pub fn replay_event(&self, event_id: &str) -> Result<Vec<String>, SandboxError> {
        dispatch::replay(&self.app, event_id, None)
    }

    /// Like [`SandboxHandle::replay_event`], to one endpoint only.
    ///
    /// # Errors
    /// As [`SandboxHandle::replay_event`]; [`SandboxError::InvalidUrl`] when `url` is not an
    /// endpoint of the event's gateway.
    pub fn replay_event_to(&self, event_id: &str, url: &str) -> Result<Vec<String>, SandboxError> {
        dispatch::replay(&self.app, event_id, Some(url))
    }

    /// Returns the deliveries waiting for the sandbox clock (retries on the gateway's
    /// schedule, old events to redeliver), earliest first: at most
    /// [`MAX_WAITING_DELIVERIES`](crate::MAX_WAITING_DELIVERIES).
    pub fn waiting_deliveries(&self) -> Vec<WaitingDelivery> {
        dispatch::waiting(&self.app.lock())
    }

    /// Returns the gateway requests received so far (admin calls and page views excluded),
    /// oldest first: the newest [`SandboxBuilder::log_capacity`] of them, with credentials
    /// redacted and bodies cut at [`MAX_RECORDED_BODY`](crate::MAX_RECORDED_BODY) bytes.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.app.lock().requests.iter().cloned().collect()
    }

    /// Every checkout the sandbox holds (Stripe sessions and Creem checkouts), with its order
    /// reference and status, sorted by id.
    pub fn checkouts(&self) -> Vec<CheckoutRecord> {
        gateways::checkouts(&self.app.lock())
    }

    /// Every subscription the sandbox holds, whatever its gateway, with its customer, status
    /// and price per period, sorted by id.
    pub fn subscriptions(&self) -> Vec<SubscriptionRecord> {
        gateways::subscriptions(&self.app.lock())
    }

    /// Every refund the sandbox made, whatever its gateway, with the refunded payment and
    /// amount, sorted by id.
    pub fn refunds(&self) -> Vec<RefundRecord> {
        gateways::refunds(&self.app.lock())
    }

    /// Returns how many entries each store keeps now, by name: `request_log`,
    /// `delivery_log`, `webhook_events` (kept for replays), `waiting_deliveries`,
    /// `held_deliveries`, `webhook_endpoints`, `faults` and every gateway store
    /// (`stripe.sessions`, `stripe.idempotency_keys`, `stripe.events`, `creem.checkouts`, …).
    /// Each is capped or expires, so a sandbox that runs all day stays bounded; unlike
    /// [`SandboxHandle::counts`], these go down when old entries are forgotten.
    pub fn retained(&self) -> BTreeMap<String, usize> {
        retained(&self.app.lock())
    }

    /// Returns how many objects were created.
    pub fn counts(&self) -> ObjectCounts {
        self.app.lock().counts
    }

    /// Forgets every object, log, fault, idempotency key and clock offset;
    /// keeps the webhook endpoints and re-seeds the configured products
    /// and prices (not those added later with `add_product`/`add_price`).
    pub fn reset(&self) {
        catalog::reset(&self.app);
    }

    /// Stops the server and waits for it.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks.drain(..) {
            let _ = task.await;
        }
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}
