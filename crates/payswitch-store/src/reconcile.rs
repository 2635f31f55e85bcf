//! Reconcile: asking the gateway for the current state of what the store knows, and
//! recording what differs as events, so the usual processing repairs the tables (and tells
//! the application's handler) exactly once.

use std::collections::BTreeSet;

use payswitch_core::{
    CheckoutProvider, CheckoutResult, CheckoutStatus, PaymentError, Subscription,
    SubscriptionStatus, WebhookEvent, WebhookEventKind,
};
use sqlx::Row;
use time::OffsetDateTime;

use crate::billing::records::{self, CheckoutRecord, SubscriptionRecord};
use crate::billing::words;
use crate::db::Db;
use crate::error::StoreError;
use crate::inbox::record;
use crate::millis::to_millis;

/// What a reconcile did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReconcileReport {
    /// Subscriptions fetched from the gateway (each listed or retrieved).
    pub subscriptions_checked: usize,
    /// Checkouts fetched from the gateway.
    pub checkouts_checked: usize,
    /// Objects whose gateway state differed from the store's (or that the store did not
    /// know): each recorded as a `payswitch.reconcile.*` event for the workers to apply.
    pub recorded: usize,
    /// Lifecycle reads the gateway does not support, so what they would have found was not
    /// checked.
    pub unsupported: Vec<String>,
    /// Objects that could not be fetched (not found, or a gateway error), with why.
    pub failures: Vec<String>,
}

/// The event type of a reconciled checkout.
pub const RECONCILE_CHECKOUT: &str = "payswitch.reconcile.checkout";
/// The event type of a reconciled subscription.
pub const RECONCILE_SUBSCRIPTION: &str = "payswitch.reconcile.subscription";

fn subscription_differs(stored: Option<&SubscriptionRecord>, fetched: &Subscription) -> bool {
    let Some(stored) = stored else {
        return true;
    };
    stored.status != fetched.status
        || stored.current_period_end != fetched.current_period_end
        || stored.cancel_at_period_end != fetched.cancel_at_period_end
        || stored.cancel_at != fetched.cancel_at
        || stored.ended_at != fetched.ended_at
        || stored.quantity != fetched.quantity()
        || stored.trial_end != fetched.trial_end
}

fn checkout_differs(stored: Option<&CheckoutRecord>, fetched: &CheckoutResult) -> bool {
    let Some(stored) = stored else {
        return true;
    };
    stored.status != fetched.status || stored.payment_status != fetched.payment_status
}

/// The kind a reconciled subscription's event gets, from the status it reached.
fn subscription_kind(subscription: &Subscription) -> WebhookEventKind {
    match subscription.status {
        SubscriptionStatus::Canceled => WebhookEventKind::SubscriptionCanceled,
        SubscriptionStatus::Expired => WebhookEventKind::SubscriptionExpired,
        SubscriptionStatus::PastDue => WebhookEventKind::SubscriptionPastDue,
        SubscriptionStatus::Paused => WebhookEventKind::SubscriptionPaused,
        SubscriptionStatus::Trialing => WebhookEventKind::SubscriptionTrialing,
        SubscriptionStatus::Active
        | SubscriptionStatus::Unpaid
        | SubscriptionStatus::Incomplete
        | SubscriptionStatus::Other(_) => WebhookEventKind::SubscriptionUpdated,
        _ => WebhookEventKind::SubscriptionUpdated,
    }
}

/// The kind a reconciled checkout's event gets.
fn checkout_kind(checkout: &CheckoutResult) -> WebhookEventKind {
    match checkout.status {
        CheckoutStatus::Complete => WebhookEventKind::CheckoutCompleted,
        CheckoutStatus::Expired => WebhookEventKind::CheckoutExpired,
        CheckoutStatus::Open => WebhookEventKind::Other(RECONCILE_CHECKOUT.to_owned()),
    }
}

/// A reconcile event: the fetched object at the fetch time, with an id that names the
/// object and the time so each run's finding is recorded once.
fn synthetic(
    provider: &dyn CheckoutProvider,
    object_id: &str,
    kind: WebhookEventKind,
    event_type: &str,
    now: OffsetDateTime,
) -> WebhookEvent {
    let mut event = WebhookEvent::new(
        format!("reconcile:{object_id}:{}", to_millis(now)),
        provider.kind(),
        kind,
        event_type,
        now,
    );
    event.raw = serde_json::json!({ "reconciled": true, "object": object_id }).into();
    event
}

struct Run<'a> {
    db: &'a Db,
    provider: &'a dyn CheckoutProvider,
    now: OffsetDateTime,
    report: ReconcileReport,
}

impl Run<'_> {
    fn failed(&mut self, what: &str, error: &PaymentError) -> Result<(), StoreError> {
        match error {
            PaymentError::Unsupported { .. } => {
                if !self.report.unsupported.iter().any(|known| known == what) {
                    self.report.unsupported.push(what.to_owned());
                }
                Ok(())
            }
            error => {
                self.report.failures.push(format!("{what}: {error}"));
                Ok(())
            }
        }
    }

    async fn subscription(&mut self, fetched: Subscription) -> Result<(), StoreError> {
        self.report.subscriptions_checked += 1;
        let mut connection = self.db.pool.acquire().await?;
        let stored =
            records::subscription(&mut connection, self.provider.kind().name(), &fetched.id)
                .await?;
        drop(connection);
        if subscription_differs(stored.as_ref(), &fetched) {
            let mut event = synthetic(
                self.provider,
                &fetched.id,
                subscription_kind(&fetched),
                RECONCILE_SUBSCRIPTION,
                self.now,
            );
            event.subscription = Some(fetched);
            if !record(self.db, &event, self.now).await?.duplicate {
                self.report.recorded += 1;
            }
        }
        Ok(())
    }

    async fn checkout(&mut self, fetched: CheckoutResult) -> Result<(), StoreError> {
        self.report.checkouts_checked += 1;
        let mut connection = self.db.pool.acquire().await?;
        let stored =
            records::checkout(&mut connection, self.provider.kind().name(), &fetched.id).await?;
        drop(connection);
        if checkout_differs(stored.as_ref(), &fetched) {
            let mut event = synthetic(
                self.provider,
                &fetched.id,
                checkout_kind(&fetched),
                RECONCILE_CHECKOUT,
                self.now,
            );
            event.checkout = Some(fetched);
            if !record(self.db, &event, self.now).await?.duplicate {
                self.report.recorded += 1;
            }
        }
        Ok(())
    }
}

/// Reconciles the store with `provider`'s gateway for what changed since `since`:
///
/// - every customer seen since then, or with a subscription that has not ended: its
///   subscriptions are listed (which finds subscriptions whose events never arrived);
/// - every subscription that has not ended, or changed since then, is retrieved when listing
///   is unsupported or it has no customer;
/// - every checkout still open or unpaid, or changed since then, is retrieved.
///
/// Whatever differs from the store is recorded in the inbox as an event stamped with the
/// fetch time, and the workers apply it like any other event.
pub(crate) async fn reconcile(
    db: &Db,
    provider: &dyn CheckoutProvider,
    since: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<ReconcileReport, StoreError> {
    let gateway = provider.kind().name();
    let since = to_millis(since);
    let mut run = Run {
        db,
        provider,
        now,
        report: ReconcileReport::default(),
    };
    let ended = [
        words::subscription_status(&SubscriptionStatus::Canceled),
        words::subscription_status(&SubscriptionStatus::Expired),
    ];
    let customers: BTreeSet<String> = sqlx::query(
        "SELECT customer_id FROM payswitch_customers WHERE gateway = $1 AND updated_at >= $2 \
         UNION SELECT customer_id FROM payswitch_subscriptions WHERE gateway = $1 \
         AND customer_id IS NOT NULL AND (status NOT IN ($3, $4) OR updated_at >= $2)",
    )
    .bind(gateway)
    .bind(since)
    .bind(&ended[0])
    .bind(&ended[1])
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|row| row.try_get::<String, _>("customer_id"))
    .collect::<Result<_, _>>()?;
    let mut listed: BTreeSet<String> = BTreeSet::new();
    let mut listing = true;
    for customer in &customers {
        if !listing {
            break;
        }
        match provider.list_subscriptions(customer).await {
            Ok(subscriptions) => {
                for subscription in subscriptions {
                    listed.insert(subscription.id.clone());
                    run.subscription(subscription).await?;
                }
            }
            Err(error @ PaymentError::Unsupported { .. }) => {
                listing = false;
                run.failed("list_subscriptions", &error)?;
            }
            Err(error) => run.failed(&format!("customer {customer}"), &error)?,
        }
    }
    let subscriptions: Vec<String> = sqlx::query(
        "SELECT subscription_id FROM payswitch_subscriptions WHERE gateway = $1 \
         AND (status NOT IN ($3, $4) OR updated_at >= $2) ORDER BY subscription_id",
    )
    .bind(gateway)
    .bind(since)
    .bind(&ended[0])
    .bind(&ended[1])
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|row| row.try_get::<String, _>("subscription_id"))
    .collect::<Result<_, _>>()?;
    for id in subscriptions.iter().filter(|id| !listed.contains(*id)) {
        match provider.retrieve_subscription(id).await {
            Ok(subscription) => run.subscription(subscription).await?,
            Err(error @ PaymentError::Unsupported { .. }) => {
                run.failed("retrieve_subscription", &error)?;
                break;
            }
            Err(error) => run.failed(&format!("subscription {id}"), &error)?,
        }
    }
    let checkouts: Vec<String> = sqlx::query(
        "SELECT checkout_id FROM payswitch_checkouts WHERE gateway = $1 \
         AND (status = 'open' OR (status = 'complete' AND payment_status = 'unpaid') \
         OR updated_at >= $2) \
         ORDER BY checkout_id",
    )
    .bind(gateway)
    .bind(since)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|row| row.try_get::<String, _>("checkout_id"))
    .collect::<Result<_, _>>()?;
    for id in &checkouts {
        match provider.retrieve_checkout(id).await {
            Ok(checkout) => run.checkout(checkout).await?,
            Err(error) => run.failed(&format!("checkout {id}"), &error)?,
        }
    }
    Ok(run.report)
}
