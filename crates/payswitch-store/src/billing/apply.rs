//! Applying events to the billing tables: one upsert per object, guarded by the
//! out-of-order rule of [`version`](super::version), inside the caller's transaction.

use std::collections::BTreeSet;

use payswitch_core::{CheckoutResult, Refund, Subscription, WebhookEvent, APP_USER_ID_KEY};
use sqlx::AnyConnection;

use super::outcome::{Applied, Outcome};
use super::version::{checkout_rank, refund_rank, subscription_rank, supersedes};
use super::words;
use crate::millis::to_millis;

/// Where a snapshot comes from: the gateway's time for it, and the event (or `reconcile:…`)
/// that carried it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Source<'a> {
    /// The gateway's time of the snapshot, unix ms: the event's creation time, or the time a
    /// reconcile fetched it.
    pub(crate) at: i64,
    /// The event id, for the row's `source_event`.
    pub(crate) event_id: &'a str,
    /// Now, unix ms, for `updated_at`.
    pub(crate) now: i64,
}

fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

fn outcome(rows: u64) -> Outcome {
    if rows > 0 {
        Outcome::Applied
    } else {
        Outcome::Stale
    }
}

/// Applies everything `event` carries: the customers it names, then its checkout,
/// subscription and refund, always in this order so two transactions lock rows in the same
/// order.
pub(crate) async fn apply_event(
    connection: &mut AnyConnection,
    event: &WebhookEvent,
    now: i64,
) -> Result<Applied, sqlx::Error> {
    let source = Source {
        at: to_millis(event.created_at),
        event_id: &event.id,
        now,
    };
    link_customers(connection, event, now).await?;
    let mut applied = Applied::default();
    if let Some(checkout) = &event.checkout {
        let (outcome, first_paid) = apply_checkout(connection, checkout, source).await?;
        applied.checkout = Some(outcome);
        applied.first_paid = first_paid;
    }
    if let Some(subscription) = &event.subscription {
        applied.subscription = Some(apply_subscription(connection, subscription, source).await?);
    }
    if let Some(refund) = &event.refund {
        applied.refund = Some(apply_refund(connection, refund, source).await?);
    }
    Ok(applied)
}

/// Records the customers an event names, with the application user and email when the
/// event carries them; sorted so concurrent transactions lock them in one order.
async fn link_customers(
    connection: &mut AnyConnection,
    event: &WebhookEvent,
    now: i64,
) -> Result<(), sqlx::Error> {
    let mut links: BTreeSet<(&str, Option<&str>, Option<&str>)> = BTreeSet::new();
    if let Some(checkout) = &event.checkout {
        if let Some(customer) = &checkout.customer_id {
            links.insert((
                customer,
                checkout.metadata.get(APP_USER_ID_KEY).map(String::as_str),
                checkout.customer_email.as_deref(),
            ));
        }
    }
    if let Some(subscription) = &event.subscription {
        if let Some(customer) = &subscription.customer_id {
            links.insert((
                customer,
                subscription
                    .metadata
                    .get(APP_USER_ID_KEY)
                    .map(String::as_str),
                None,
            ));
        }
    }
    for (customer, app_user, email) in links {
        link_customer(
            connection,
            event.provider.name(),
            customer,
            app_user,
            email,
            now,
        )
        .await?;
    }
    Ok(())
}

/// Records a gateway customer; a known user or email is never replaced by an unknown one.
pub(crate) async fn link_customer(
    connection: &mut AnyConnection,
    gateway: &str,
    customer_id: &str,
    app_user_id: Option<&str>,
    email: Option<&str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO payswitch_customers (gateway, customer_id, app_user_id, email, updated_at) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (gateway, customer_id) DO UPDATE SET \
         app_user_id = COALESCE(excluded.app_user_id, payswitch_customers.app_user_id), \
         email = COALESCE(excluded.email, payswitch_customers.email), \
         updated_at = excluded.updated_at \
         WHERE (excluded.app_user_id IS NOT NULL AND (payswitch_customers.app_user_id IS NULL \
         OR payswitch_customers.app_user_id <> excluded.app_user_id)) \
         OR (excluded.email IS NOT NULL AND (payswitch_customers.email IS NULL \
         OR payswitch_customers.email <> excluded.email))",
    )
    .bind(gateway)
    .bind(customer_id)
    .bind(app_user_id)
    .bind(email)
    .bind(now)
    .execute(&mut *connection)
    .await?;
    Ok(())
}

/// Upserts a checkout; then, when it is paid, marks the event that first recorded it paid.
/// Returns the row's outcome and whether this source was that first one.
pub(crate) async fn apply_checkout(
    connection: &mut AnyConnection,
    checkout: &CheckoutResult,
    source: Source<'_>,
) -> Result<(Outcome, bool), sqlx::Error> {
    let gateway = checkout.provider.name();
    let rows = sqlx::query(&format!(
        "INSERT INTO payswitch_checkouts (gateway, checkout_id, status, payment_status, mode, \
         amount_total, currency, customer_id, app_user_id, reference, payment_id, \
         subscription_id, metadata, created_at, source_at, source_rank, source_event, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
         ON CONFLICT (gateway, checkout_id) DO UPDATE SET \
         status = excluded.status, payment_status = excluded.payment_status, \
         mode = COALESCE(excluded.mode, payswitch_checkouts.mode), \
         amount_total = COALESCE(excluded.amount_total, payswitch_checkouts.amount_total), \
         currency = COALESCE(excluded.currency, payswitch_checkouts.currency), \
         customer_id = COALESCE(excluded.customer_id, payswitch_checkouts.customer_id), \
         app_user_id = COALESCE(excluded.app_user_id, payswitch_checkouts.app_user_id), \
         reference = COALESCE(excluded.reference, payswitch_checkouts.reference), \
         payment_id = COALESCE(excluded.payment_id, payswitch_checkouts.payment_id), \
         subscription_id = COALESCE(excluded.subscription_id, payswitch_checkouts.subscription_id), \
         metadata = excluded.metadata, \
         created_at = COALESCE(excluded.created_at, payswitch_checkouts.created_at), \
         source_at = excluded.source_at, source_rank = excluded.source_rank, \
         source_event = excluded.source_event, updated_at = excluded.updated_at \
         WHERE {}",
        supersedes("payswitch_checkouts")
    ))
    .bind(gateway)
    .bind(&checkout.id)
    .bind(words::checkout_status(checkout.status))
    .bind(words::payment_status(checkout.payment_status))
    .bind(checkout.mode.map(words::checkout_mode))
    .bind(checkout.amount_total.map(|money| money.amount()))
    .bind(checkout.amount_total.map(|money| money.currency().code().to_owned()))
    .bind(checkout.customer_id.as_deref())
    .bind(checkout.metadata.get(APP_USER_ID_KEY).map(String::as_str))
    .bind(checkout.reference.as_deref())
    .bind(checkout.payment_id.as_deref())
    .bind(checkout.subscription_id.as_deref())
    .bind(json(&checkout.metadata))
    .bind(checkout.created_at.map(to_millis))
    .bind(source.at)
    .bind(checkout_rank(checkout))
    .bind(source.event_id)
    .bind(source.now)
    .execute(&mut *connection)
    .await?
    .rows_affected();
    let mut first_paid = false;
    if checkout.is_paid() {
        // One row, one winner: a concurrent transaction waits on the row lock and then finds
        // the mark set.
        first_paid = sqlx::query(
            "UPDATE payswitch_checkouts SET paid_event_id = $3, paid_at = $4 \
             WHERE gateway = $1 AND checkout_id = $2 AND paid_event_id IS NULL",
        )
        .bind(gateway)
        .bind(&checkout.id)
        .bind(source.event_id)
        .bind(source.at)
        .execute(&mut *connection)
        .await?
        .rows_affected()
            > 0;
    }
    Ok((outcome(rows), first_paid))
}

/// The plan a subscription is on: its first item's price id, else its product id.
fn plan_of(subscription: &Subscription) -> Option<&str> {
    let item = subscription.items.first()?;
    item.price_id.as_deref().or(item.product_id.as_deref())
}

/// Upserts a subscription. `status_since` moves only when the status changes.
pub(crate) async fn apply_subscription(
    connection: &mut AnyConnection,
    subscription: &Subscription,
    source: Source<'_>,
) -> Result<Outcome, sqlx::Error> {
    let quantity: Option<i64> = subscription.quantity().map(i64::from);
    let rows = sqlx::query(&format!(
        "INSERT INTO payswitch_subscriptions (gateway, subscription_id, status, status_since, \
         customer_id, app_user_id, plan, quantity, items, current_period_start, \
         current_period_end, trial_end, cancel_at_period_end, cancel_at, canceled_at, ended_at, \
         created_at, reference, metadata, source_at, source_rank, source_event, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
         $18, $19, $20, $21, $22, $23) \
         ON CONFLICT (gateway, subscription_id) DO UPDATE SET \
         status = excluded.status, \
         status_since = CASE WHEN payswitch_subscriptions.status = excluded.status \
         THEN payswitch_subscriptions.status_since ELSE excluded.status_since END, \
         customer_id = COALESCE(excluded.customer_id, payswitch_subscriptions.customer_id), \
         app_user_id = COALESCE(excluded.app_user_id, payswitch_subscriptions.app_user_id), \
         plan = COALESCE(excluded.plan, payswitch_subscriptions.plan), \
         quantity = COALESCE(excluded.quantity, payswitch_subscriptions.quantity), \
         items = excluded.items, \
         current_period_start = excluded.current_period_start, \
         current_period_end = excluded.current_period_end, trial_end = excluded.trial_end, \
         cancel_at_period_end = excluded.cancel_at_period_end, cancel_at = excluded.cancel_at, \
         canceled_at = excluded.canceled_at, ended_at = excluded.ended_at, \
         created_at = COALESCE(excluded.created_at, payswitch_subscriptions.created_at), \
         reference = COALESCE(excluded.reference, payswitch_subscriptions.reference), \
         metadata = excluded.metadata, \
         source_at = excluded.source_at, source_rank = excluded.source_rank, \
         source_event = excluded.source_event, updated_at = excluded.updated_at \
         WHERE {}",
        supersedes("payswitch_subscriptions")
    ))
    .bind(subscription.provider.name())
    .bind(&subscription.id)
    .bind(words::subscription_status(&subscription.status))
    .bind(source.at)
    .bind(subscription.customer_id.as_deref())
    .bind(
        subscription
            .metadata
            .get(APP_USER_ID_KEY)
            .map(String::as_str),
    )
    .bind(plan_of(subscription))
    .bind(quantity)
    .bind(json(&subscription.items))
    .bind(subscription.current_period_start.map(to_millis))
    .bind(subscription.current_period_end.map(to_millis))
    .bind(subscription.trial_end.map(to_millis))
    .bind(i64::from(subscription.cancel_at_period_end))
    .bind(subscription.cancel_at.map(to_millis))
    .bind(subscription.canceled_at.map(to_millis))
    .bind(subscription.ended_at.map(to_millis))
    .bind(subscription.created_at.map(to_millis))
    .bind(subscription.reference.as_deref())
    .bind(json(&subscription.metadata))
    .bind(source.at)
    .bind(subscription_rank(subscription))
    .bind(source.event_id)
    .bind(source.now)
    .execute(&mut *connection)
    .await?
    .rows_affected();
    Ok(outcome(rows))
}

/// Upserts a refund.
pub(crate) async fn apply_refund(
    connection: &mut AnyConnection,
    refund: &Refund,
    source: Source<'_>,
) -> Result<Outcome, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "INSERT INTO payswitch_refunds (gateway, refund_id, status, amount, currency, \
         payment_id, checkout_id, subscription_id, reason, created_at, source_at, source_rank, \
         source_event, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
         ON CONFLICT (gateway, refund_id) DO UPDATE SET \
         status = excluded.status, \
         amount = COALESCE(excluded.amount, payswitch_refunds.amount), \
         currency = COALESCE(excluded.currency, payswitch_refunds.currency), \
         payment_id = COALESCE(excluded.payment_id, payswitch_refunds.payment_id), \
         checkout_id = COALESCE(excluded.checkout_id, payswitch_refunds.checkout_id), \
         subscription_id = COALESCE(excluded.subscription_id, payswitch_refunds.subscription_id), \
         reason = COALESCE(excluded.reason, payswitch_refunds.reason), \
         created_at = COALESCE(excluded.created_at, payswitch_refunds.created_at), \
         source_at = excluded.source_at, source_rank = excluded.source_rank, \
         source_event = excluded.source_event, updated_at = excluded.updated_at \
         WHERE {}",
        supersedes("payswitch_refunds")
    ))
    .bind(refund.provider.name())
    .bind(&refund.id)
    .bind(words::refund_status(&refund.status))
    .bind(refund.amount.map(|money| money.amount()))
    .bind(
        refund
            .amount
            .map(|money| money.currency().code().to_owned()),
    )
    .bind(refund.payment_id.as_deref())
    .bind(refund.checkout_id.as_deref())
    .bind(refund.subscription_id.as_deref())
    .bind(refund.reason.as_ref().map(words::refund_reason))
    .bind(refund.created_at.map(to_millis))
    .bind(source.at)
    .bind(refund_rank(refund))
    .bind(source.event_id)
    .bind(source.now)
    .execute(&mut *connection)
    .await?
    .rows_affected();
    Ok(outcome(rows))
}
