//! Reading the billing tables back: [`SubscriptionRecord`], [`CheckoutRecord`] and
//! [`RefundRecord`], one row each.

use std::collections::BTreeMap;

use payswitch_core::{
    CheckoutMode, CheckoutStatus, Currency, Money, PaymentStatus, RefundStatus, SubscriptionItem,
    SubscriptionStatus,
};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use time::OffsetDateTime;

use super::words;
use crate::millis::from_millis;

/// A subscription as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SubscriptionRecord {
    /// The gateway's name.
    pub gateway: String,
    /// The gateway's subscription id.
    pub subscription_id: String,
    /// Its status.
    pub status: SubscriptionStatus,
    /// When it entered that status (the applying event's time).
    pub status_since: OffsetDateTime,
    /// The gateway's customer id.
    pub customer_id: Option<String>,
    /// The application user, when the subscription's metadata named one.
    pub app_user_id: Option<String>,
    /// The first item's price id, else product id.
    pub plan: Option<String>,
    /// The quantity, for a single-item subscription.
    pub quantity: Option<u32>,
    /// Every item (product, price and quantity), as the snapshot held listed them: `plan`
    /// names one id of the first, and an application that maps the other (a Creem product
    /// whose items also carry a price id) finds it here.
    pub items: Vec<SubscriptionItem>,
    /// When the current period started.
    pub current_period_start: Option<OffsetDateTime>,
    /// When the current period ends.
    pub current_period_end: Option<OffsetDateTime>,
    /// When the trial ends.
    pub trial_end: Option<OffsetDateTime>,
    /// A cancellation is scheduled for the period end.
    pub cancel_at_period_end: bool,
    /// When a scheduled cancellation takes effect.
    pub cancel_at: Option<OffsetDateTime>,
    /// When it was canceled.
    pub canceled_at: Option<OffsetDateTime>,
    /// When it ended.
    pub ended_at: Option<OffsetDateTime>,
    /// The application's reference.
    pub reference: Option<String>,
    /// Its metadata.
    pub metadata: BTreeMap<String, String>,
    /// The gateway time of the snapshot held.
    pub source_at: OffsetDateTime,
    /// The event (or `reconcile:…`) that carried it.
    pub source_event: String,
}

/// A checkout (an order) as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckoutRecord {
    /// The gateway's name.
    pub gateway: String,
    /// The gateway's checkout id.
    pub checkout_id: String,
    /// Open, complete or expired.
    pub status: CheckoutStatus,
    /// Paid, unpaid or nothing to pay.
    pub payment_status: PaymentStatus,
    /// The mode, when known.
    pub mode: Option<CheckoutMode>,
    /// The total, when known.
    pub amount_total: Option<Money>,
    /// The gateway's customer id.
    pub customer_id: Option<String>,
    /// The application user, when the checkout's metadata named one.
    pub app_user_id: Option<String>,
    /// The application's reference (order id).
    pub reference: Option<String>,
    /// The payment's id.
    pub payment_id: Option<String>,
    /// The subscription it started.
    pub subscription_id: Option<String>,
    /// Its metadata.
    pub metadata: BTreeMap<String, String>,
    /// The event that first recorded it paid.
    pub paid_event_id: Option<String>,
    /// The gateway time of the snapshot held.
    pub source_at: OffsetDateTime,
}

/// A refund as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefundRecord {
    /// The gateway's name.
    pub gateway: String,
    /// The gateway's refund id.
    pub refund_id: String,
    /// Where it is.
    pub status: RefundStatus,
    /// How much, when known.
    pub amount: Option<Money>,
    /// The payment refunded.
    pub payment_id: Option<String>,
    /// The checkout refunded.
    pub checkout_id: Option<String>,
    /// The subscription the payment belongs to.
    pub subscription_id: Option<String>,
}

fn time(row: &AnyRow, column: &str) -> Result<Option<OffsetDateTime>, sqlx::Error> {
    Ok(row.try_get::<Option<i64>, _>(column)?.map(from_millis))
}

fn metadata(row: &AnyRow) -> Result<BTreeMap<String, String>, sqlx::Error> {
    let text: String = row.try_get("metadata")?;
    Ok(serde_json::from_str(&text).unwrap_or_default())
}

fn money(row: &AnyRow, amount: &str) -> Result<Option<Money>, sqlx::Error> {
    let amount: Option<i64> = row.try_get(amount)?;
    let currency: Option<String> = row.try_get("currency")?;
    Ok(
        match (amount, currency.and_then(|code| Currency::new(&code).ok())) {
            (Some(amount), Some(currency)) => Some(Money::new(amount, currency)),
            _ => None,
        },
    )
}

pub(crate) fn read_subscription(row: &AnyRow) -> Result<SubscriptionRecord, sqlx::Error> {
    Ok(SubscriptionRecord {
        gateway: row.try_get("gateway")?,
        subscription_id: row.try_get("subscription_id")?,
        status: words::parse_subscription_status(&row.try_get::<String, _>("status")?),
        status_since: from_millis(row.try_get("status_since")?),
        customer_id: row.try_get("customer_id")?,
        app_user_id: row.try_get("app_user_id")?,
        plan: row.try_get("plan")?,
        quantity: row
            .try_get::<Option<i64>, _>("quantity")?
            .and_then(|quantity| u32::try_from(quantity).ok()),
        // Written by this crate from `Vec<SubscriptionItem>`; text it cannot read (another
        // version's) reads as no items rather than failing the whole record.
        items: serde_json::from_str(&row.try_get::<String, _>("items")?).unwrap_or_default(),
        current_period_start: time(row, "current_period_start")?,
        current_period_end: time(row, "current_period_end")?,
        trial_end: time(row, "trial_end")?,
        cancel_at_period_end: row.try_get::<i64, _>("cancel_at_period_end")? != 0,
        cancel_at: time(row, "cancel_at")?,
        canceled_at: time(row, "canceled_at")?,
        ended_at: time(row, "ended_at")?,
        reference: row.try_get("reference")?,
        metadata: metadata(row)?,
        source_at: from_millis(row.try_get("source_at")?),
        source_event: row.try_get("source_event")?,
    })
}

pub(crate) fn read_checkout(row: &AnyRow) -> Result<CheckoutRecord, sqlx::Error> {
    Ok(CheckoutRecord {
        gateway: row.try_get("gateway")?,
        checkout_id: row.try_get("checkout_id")?,
        status: words::parse_checkout_status(&row.try_get::<String, _>("status")?),
        payment_status: words::parse_payment_status(&row.try_get::<String, _>("payment_status")?),
        mode: row
            .try_get::<Option<String>, _>("mode")?
            .and_then(|mode| words::parse_checkout_mode(&mode)),
        amount_total: money(row, "amount_total")?,
        customer_id: row.try_get("customer_id")?,
        app_user_id: row.try_get("app_user_id")?,
        reference: row.try_get("reference")?,
        payment_id: row.try_get("payment_id")?,
        subscription_id: row.try_get("subscription_id")?,
        metadata: metadata(row)?,
        paid_event_id: row.try_get("paid_event_id")?,
        source_at: from_millis(row.try_get("source_at")?),
    })
}

pub(crate) fn read_refund(row: &AnyRow) -> Result<RefundRecord, sqlx::Error> {
    Ok(RefundRecord {
        gateway: row.try_get("gateway")?,
        refund_id: row.try_get("refund_id")?,
        status: words::parse_refund_status(&row.try_get::<String, _>("status")?),
        amount: money(row, "amount")?,
        payment_id: row.try_get("payment_id")?,
        checkout_id: row.try_get("checkout_id")?,
        subscription_id: row.try_get("subscription_id")?,
    })
}

/// One subscription.
pub(crate) async fn subscription(
    connection: &mut AnyConnection,
    gateway: &str,
    id: &str,
) -> Result<Option<SubscriptionRecord>, sqlx::Error> {
    sqlx::query("SELECT * FROM payswitch_subscriptions WHERE gateway = $1 AND subscription_id = $2")
        .bind(gateway)
        .bind(id)
        .fetch_optional(&mut *connection)
        .await?
        .as_ref()
        .map(read_subscription)
        .transpose()
}

/// One checkout.
pub(crate) async fn checkout(
    connection: &mut AnyConnection,
    gateway: &str,
    id: &str,
) -> Result<Option<CheckoutRecord>, sqlx::Error> {
    sqlx::query("SELECT * FROM payswitch_checkouts WHERE gateway = $1 AND checkout_id = $2")
        .bind(gateway)
        .bind(id)
        .fetch_optional(&mut *connection)
        .await?
        .as_ref()
        .map(read_checkout)
        .transpose()
}

/// One refund.
pub(crate) async fn refund(
    connection: &mut AnyConnection,
    gateway: &str,
    id: &str,
) -> Result<Option<RefundRecord>, sqlx::Error> {
    sqlx::query("SELECT * FROM payswitch_refunds WHERE gateway = $1 AND refund_id = $2")
        .bind(gateway)
        .bind(id)
        .fetch_optional(&mut *connection)
        .await?
        .as_ref()
        .map(read_refund)
        .transpose()
}

/// Every subscription of an application user: named in its metadata, through its customer,
/// or through the checkout that started it.
pub(crate) async fn subscriptions_of_user(
    connection: &mut AnyConnection,
    app_user_id: &str,
) -> Result<Vec<SubscriptionRecord>, sqlx::Error> {
    sqlx::query(
        "SELECT * FROM payswitch_subscriptions s WHERE s.app_user_id = $1 \
         OR EXISTS (SELECT 1 FROM payswitch_customers c WHERE c.gateway = s.gateway \
         AND c.customer_id = s.customer_id AND c.app_user_id = $1) \
         OR EXISTS (SELECT 1 FROM payswitch_checkouts k WHERE k.gateway = s.gateway \
         AND k.subscription_id = s.subscription_id AND k.app_user_id = $1) \
         ORDER BY s.gateway, s.subscription_id",
    )
    .bind(app_user_id)
    .fetch_all(&mut *connection)
    .await?
    .iter()
    .map(read_subscription)
    .collect()
}

/// Every checkout of an application user: named in its metadata or through its customer.
pub(crate) async fn checkouts_of_user(
    connection: &mut AnyConnection,
    app_user_id: &str,
) -> Result<Vec<CheckoutRecord>, sqlx::Error> {
    sqlx::query(
        "SELECT * FROM payswitch_checkouts k WHERE k.app_user_id = $1 \
         OR EXISTS (SELECT 1 FROM payswitch_customers c WHERE c.gateway = k.gateway \
         AND c.customer_id = k.customer_id AND c.app_user_id = $1) \
         ORDER BY k.gateway, k.checkout_id",
    )
    .bind(app_user_id)
    .fetch_all(&mut *connection)
    .await?
    .iter()
    .map(read_checkout)
    .collect()
}

/// The refunds of a checkout, found by its id or its payment's.
pub(crate) async fn refunds_of_checkout(
    connection: &mut AnyConnection,
    checkout: &CheckoutRecord,
) -> Result<Vec<RefundRecord>, sqlx::Error> {
    sqlx::query(
        "SELECT * FROM payswitch_refunds WHERE gateway = $1 \
         AND (checkout_id = $2 OR (payment_id IS NOT NULL AND payment_id = $3)) \
         ORDER BY refund_id",
    )
    .bind(&checkout.gateway)
    .bind(&checkout.checkout_id)
    .bind(checkout.payment_id.as_deref())
    .fetch_all(&mut *connection)
    .await?
    .iter()
    .map(read_refund)
    .collect()
}
