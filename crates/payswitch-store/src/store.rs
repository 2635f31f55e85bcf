//! [`Store`]: the handle an application keeps — receive webhooks, process them, read
//! billing state and entitlements, replay, reconcile.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use payswitch_core::{CheckoutProvider, Clock, ProviderKind, SystemClock, WebhookEvent};
use sqlx::AnyPool;
use time::OffsetDateTime;

use crate::billing::apply::link_customer;
use crate::billing::records::{self, CheckoutRecord, RefundRecord, SubscriptionRecord};
use crate::config::StoreConfig;
use crate::db::{open, Backend, Db};
use crate::entitlement::grant::Entitlement;
use crate::entitlement::query::entitlement;
use crate::error::StoreError;
use crate::handler::EventHandler;
use crate::inbox::{self, EventStatus, InboxEvent, Receipt};
use crate::millis::to_millis;
use crate::processing::{process_due, ProcessReport};
use crate::reconcile::{reconcile, ReconcileReport};

struct Inner {
    db: Db,
    config: StoreConfig,
    clock: Arc<dyn Clock>,
}

/// A durable webhook inbox and billing state on SQLite or PostgreSQL. Cheap to clone: clones
/// share the pool.
///
/// ```no_run
/// # async fn run() -> Result<(), payswitch_store::StoreError> {
/// use payswitch_core::memory::MemoryProvider;
/// use payswitch_store::{BillingOnly, Store, Worker};
///
/// let store = Store::open("sqlite::memory:").await?;
/// let gateway = MemoryProvider::new();
/// # let (headers, body) = (http::HeaderMap::new(), Vec::new());
/// // In the webhook route: verify, record, answer 2xx.
/// let receipt = store.receive(&gateway, &headers, &body).await?;
/// // In a background task, on every instance:
/// let worker = Worker::new(store.clone(), BillingOnly);
/// worker.run_until_idle().await?;
/// // Anywhere:
/// let entitlement = store.entitlement("user_42").await?;
/// println!("{receipt:?} {}", entitlement.has_access());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl fmt::Debug for Store {
    // The URL may hold a password: it is not kept, so it cannot be printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.inner.db.backend)
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens the database at `url` (`sqlite::memory:`, `sqlite:/path/file.db`,
    /// `postgres://…`) with the default configuration, and applies the migrations.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        Store::open_with(url, StoreConfig::default()).await
    }

    /// Opens the database at `url` with `config`, and applies the migrations.
    pub async fn open_with(url: &str, config: StoreConfig) -> Result<Store, StoreError> {
        let db = open(url, config.max_connections).await?;
        Ok(Store {
            inner: Arc::new(Inner {
                db,
                config,
                clock: Arc::new(SystemClock),
            }),
        })
    }

    /// The same store on another clock (a [`ManualClock`](payswitch_core::ManualClock) in
    /// tests: leases, backoff and entitlements follow it).
    pub fn with_clock(&self, clock: Arc<dyn Clock>) -> Store {
        Store {
            inner: Arc::new(Inner {
                db: self.inner.db.clone(),
                config: self.inner.config.clone(),
                clock,
            }),
        }
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.inner.db.backend
    }

    /// The connection pool, for the application's own queries on the same database.
    pub fn pool(&self) -> &AnyPool {
        &self.inner.db.pool
    }

    /// The configuration.
    pub fn config(&self) -> &StoreConfig {
        &self.inner.config
    }

    fn now(&self) -> OffsetDateTime {
        self.inner.clock.now()
    }

    /// Verifies a webhook through `provider` and records it in the inbox, in one statement;
    /// answer the gateway 2xx as soon as this returns `Ok`. A duplicate delivery is
    /// recognized (`receipt.duplicate`) and must be acknowledged too. A webhook that fails
    /// verification is refused with [`StoreError::Refused`] and recorded nowhere.
    pub async fn receive<P: CheckoutProvider + ?Sized>(
        &self,
        provider: &P,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<Receipt, StoreError> {
        let event = provider
            .verify_webhook(headers, body)
            .map_err(StoreError::Refused)?;
        self.record(&event).await
    }

    /// Records an event verified elsewhere (for example by a router that picked the
    /// gateway), or built from an object retrieved over the gateway's authenticated API (as
    /// reconcile does). Never pass an event from an unverified source: what is recorded is
    /// applied as the gateway's word.
    pub async fn record(&self, event: &WebhookEvent) -> Result<Receipt, StoreError> {
        inbox::record(&self.inner.db, event, self.now()).await
    }

    /// Claims up to a batch of due events as `owner` and processes each: the billing update
    /// and `handler` in one transaction, marked done only while the lease is `owner`'s.
    /// Prefer a [`Worker`](crate::worker::Worker), which loops on this.
    pub async fn process_due(
        &self,
        handler: &dyn EventHandler,
        owner: &str,
    ) -> Result<ProcessReport, StoreError> {
        process_due(
            &self.inner.db,
            &self.inner.config,
            self.inner.clock.as_ref(),
            handler,
            owner,
        )
        .await
    }

    /// What the application user may use right now, by the configured policy.
    pub async fn entitlement(&self, app_user_id: &str) -> Result<Entitlement, StoreError> {
        let mut connection = self.inner.db.pool.acquire().await?;
        Ok(entitlement(
            &mut connection,
            &self.inner.config.entitlement,
            app_user_id,
            self.now(),
        )
        .await?)
    }

    /// Ties a gateway customer to an application user (for example after
    /// `ensure_customer`), so the user's entitlement finds what the customer pays for.
    pub async fn link_customer(
        &self,
        gateway: ProviderKind,
        customer_id: &str,
        app_user_id: &str,
    ) -> Result<(), StoreError> {
        let mut connection = self.inner.db.pool.acquire().await?;
        link_customer(
            &mut connection,
            gateway.name(),
            customer_id,
            Some(app_user_id),
            None,
            to_millis(self.now()),
        )
        .await?;
        Ok(())
    }

    /// Asks `provider`'s gateway for the current state of what changed since `since` and
    /// records what differs as events (see [`ReconcileReport`]); run a worker afterwards to
    /// apply them.
    pub async fn reconcile<P: CheckoutProvider>(
        &self,
        provider: &P,
        since: OffsetDateTime,
    ) -> Result<ReconcileReport, StoreError> {
        reconcile(&self.inner.db, provider, since, self.now()).await
    }

    /// Inbox rows with `status` (every status when `None`), oldest first.
    pub async fn events(
        &self,
        status: Option<EventStatus>,
        limit: u32,
    ) -> Result<Vec<InboxEvent>, StoreError> {
        inbox::list(&self.inner.db, status, limit).await
    }

    /// The events parked as failed, oldest first.
    pub async fn failed_events(&self, limit: u32) -> Result<Vec<InboxEvent>, StoreError> {
        inbox::list(&self.inner.db, Some(EventStatus::Failed), limit).await
    }

    /// One inbox row.
    pub async fn inbox_event(
        &self,
        gateway: &str,
        event_id: &str,
    ) -> Result<Option<InboxEvent>, StoreError> {
        inbox::get(&self.inner.db, gateway, event_id).await
    }

    /// The normalized event as stored.
    pub async fn stored_event(
        &self,
        gateway: &str,
        event_id: &str,
    ) -> Result<Option<WebhookEvent>, StoreError> {
        inbox::event(&self.inner.db, gateway, event_id).await
    }

    /// Queues an event to be processed again now with fresh attempts, whatever its status
    /// (done events run the handler again: that is what a replay is for). Returns `false`
    /// when a worker holds it right now.
    pub async fn replay(&self, gateway: &str, event_id: &str) -> Result<bool, StoreError> {
        inbox::replay(&self.inner.db, gateway, event_id, self.now()).await
    }

    /// Queues every failed event again; returns how many.
    pub async fn replay_failed(&self) -> Result<u64, StoreError> {
        inbox::replay_failed(&self.inner.db, self.now()).await
    }

    /// Deletes done events processed more than `older_than` ago; returns how many. Keep them
    /// longer than the gateways redeliver (Stripe: 3 days): a redelivered event whose record
    /// is gone is processed again.
    pub async fn purge_done(&self, older_than: Duration) -> Result<u64, StoreError> {
        let before = self
            .now()
            .saturating_sub(time::Duration::try_from(older_than).unwrap_or(time::Duration::MAX));
        inbox::purge_done(&self.inner.db, before).await
    }

    /// A subscription as the store holds it.
    pub async fn subscription(
        &self,
        gateway: ProviderKind,
        subscription_id: &str,
    ) -> Result<Option<SubscriptionRecord>, StoreError> {
        let mut connection = self.inner.db.pool.acquire().await?;
        Ok(records::subscription(&mut connection, gateway.name(), subscription_id).await?)
    }

    /// A checkout as the store holds it.
    pub async fn checkout(
        &self,
        gateway: ProviderKind,
        checkout_id: &str,
    ) -> Result<Option<CheckoutRecord>, StoreError> {
        let mut connection = self.inner.db.pool.acquire().await?;
        Ok(records::checkout(&mut connection, gateway.name(), checkout_id).await?)
    }

    /// A refund as the store holds it.
    pub async fn refund(
        &self,
        gateway: ProviderKind,
        refund_id: &str,
    ) -> Result<Option<RefundRecord>, StoreError> {
        let mut connection = self.inner.db.pool.acquire().await?;
        Ok(records::refund(&mut connection, gateway.name(), refund_id).await?)
    }

    /// The refunds of a checkout's payment, found by the checkout id or its payment's id
    /// (gateways report a refund's checkout, its payment or both), oldest id first. Empty
    /// when the store does not hold the checkout.
    pub async fn refunds_of_checkout(
        &self,
        gateway: ProviderKind,
        checkout_id: &str,
    ) -> Result<Vec<RefundRecord>, StoreError> {
        let mut connection = self.inner.db.pool.acquire().await?;
        let Some(checkout) =
            records::checkout(&mut connection, gateway.name(), checkout_id).await?
        else {
            return Ok(Vec::new());
        };
        Ok(records::refunds_of_checkout(&mut connection, &checkout).await?)
    }
}
