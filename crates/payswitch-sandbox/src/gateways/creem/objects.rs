//! Creem's objects as the sandbox stores them (products, checkouts, and the customers,
//! subscriptions, transactions and refunds payments create), the [`Store`] that holds them,
//! and the ISO-8601 timestamps Creem entities use.

use std::collections::HashMap;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::checkout::CheckoutStatus;

/// A Creem product in the catalog.
#[derive(Debug, Clone)]
pub(crate) struct Product {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) price: i64,
    pub(crate) currency: String,
    pub(crate) billing_type: String,
    pub(crate) billing_period: String,
    pub(crate) tax_mode: String,
    pub(crate) tax_category: String,
    /// Sandbox-only fixed tax rate in basis points; `None` charges no tax.
    pub(crate) tax_rate_bps: Option<u32>,
    pub(crate) default_success_url: Option<String>,
    pub(crate) image_url: Option<String>,
    /// Length of the free trial new subscriptions start with (`trial_period_days`).
    pub(crate) trial_period_days: Option<i64>,
    /// The product's one price (`pprice_…`), the `price_id` of subscription items.
    pub(crate) price_id: String,
    pub(crate) created: i64,
}

/// What Creem creates when a checkout is paid.
#[derive(Debug, Clone)]
pub(crate) struct Payment {
    pub(crate) order_id: String,
    pub(crate) transaction_id: String,
    pub(crate) customer_id: String,
    pub(crate) subscription_id: Option<String>,
    pub(crate) paid_at: i64,
}

/// A Creem checkout session.
#[derive(Debug, Clone)]
pub(crate) struct Checkout {
    pub(crate) id: String,
    pub(crate) product_id: String,
    pub(crate) units: i64,
    pub(crate) request_id: Option<String>,
    pub(crate) status: CheckoutStatus,
    pub(crate) success_url: Option<String>,
    pub(crate) metadata: Option<serde_json::Value>,
    pub(crate) customer_email: Option<String>,
    pub(crate) customer_id: Option<String>,
    pub(crate) expires_at: i64,
    pub(crate) payment: Option<Payment>,
    /// Id of the discount redeemed with `discount_code`.
    pub(crate) discount_id: Option<String>,
}

/// What a Creem discount takes off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DiscountValue {
    /// Whole percent off.
    Percentage(i64),
    /// Cents off, in `currency`.
    Fixed { amount: i64, currency: String },
}

/// A Creem discount (`POST /v1/discounts` or a seed), redeemed with its `code`.
#[derive(Debug, Clone)]
pub(crate) struct Discount {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) code: String,
    pub(crate) value: DiscountValue,
    /// `once`, `repeating` or `forever`.
    pub(crate) duration: String,
    pub(crate) duration_in_months: Option<i64>,
    pub(crate) applies_to_products: Vec<String>,
    pub(crate) created: i64,
}

/// A Creem customer (`cust_…`), created by a payment or by `POST /v1/customers`.
#[derive(Debug, Clone)]
pub(crate) struct Customer {
    pub(crate) id: String,
    pub(crate) email: String,
    pub(crate) name: Option<String>,
    pub(crate) metadata: Option<serde_json::Value>,
    /// ISO alpha-2; the sandbox has no buyer address, so every customer is `US`.
    pub(crate) country: String,
    pub(crate) created: i64,
    pub(crate) updated: i64,
    /// Creation order, for lists that must not depend on `HashMap` order.
    pub(crate) seq: u64,
}

/// `SubscriptionStatus` as Creem spells it; the sandbox produces these five.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SubscriptionStatus {
    Active,
    Trialing,
    Paused,
    ScheduledCancel,
    Canceled,
}

impl SubscriptionStatus {
    /// The wire value.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SubscriptionStatus::Active => "active",
            SubscriptionStatus::Trialing => "trialing",
            SubscriptionStatus::Paused => "paused",
            SubscriptionStatus::ScheduledCancel => "scheduled_cancel",
            SubscriptionStatus::Canceled => "canceled",
        }
    }
}

/// What a scheduled cancellation does at the end of the period (`onExecute`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnExecute {
    Cancel,
    Pause,
}

/// One line of a subscription: a product's price times units (`SubscriptionItemEntity`).
#[derive(Debug, Clone)]
pub(crate) struct SubscriptionItem {
    pub(crate) id: String,
    pub(crate) product_id: String,
    pub(crate) price_id: String,
    pub(crate) units: i64,
    pub(crate) created: i64,
    pub(crate) updated: i64,
}

/// A Creem subscription (`sub_…`), started by paying a checkout for a recurring product.
#[derive(Debug, Clone)]
pub(crate) struct Subscription {
    pub(crate) id: String,
    pub(crate) customer_id: String,
    /// The plan: the product of the first item, rendered as the subscription's `product`.
    pub(crate) product_id: String,
    pub(crate) items: Vec<SubscriptionItem>,
    pub(crate) status: SubscriptionStatus,
    /// Set while `scheduled_cancel`: what happens when the period ends.
    pub(crate) on_period_end: Option<OnExecute>,
    pub(crate) discount_id: Option<String>,
    pub(crate) metadata: Option<serde_json::Value>,
    /// Where the billing periods are counted from, so a period that starts on the 31st ends
    /// on the 31st (or the month's last day) every time instead of drifting.
    pub(crate) billing_anchor: i64,
    /// Which paid period is current (0 = the first); `None` during a trial.
    pub(crate) period_index: Option<u32>,
    pub(crate) period_start: i64,
    pub(crate) period_end: i64,
    pub(crate) last_transaction_id: Option<String>,
    pub(crate) last_transaction_at: Option<i64>,
    pub(crate) canceled_at: Option<i64>,
    pub(crate) created: i64,
    pub(crate) updated: i64,
    pub(crate) seq: u64,
}

/// `TransactionType`: `payment` for one-time purchases, `invoice` for subscriptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TransactionKind {
    Payment,
    Invoice,
}

/// `TransactionStatus`, of the values the sandbox produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TransactionStatus {
    Paid,
    /// Part of the amount went back, e.g. the unused time of a downgrade.
    PartialRefund,
    Refunded,
}

/// A Creem transaction (`tran_…`): one charge, with its amounts in cents.
#[derive(Debug, Clone)]
pub(crate) struct Transaction {
    pub(crate) id: String,
    pub(crate) kind: TransactionKind,
    pub(crate) status: TransactionStatus,
    /// Price × units before discount and tax, as the order's `amount`.
    pub(crate) amount: i64,
    pub(crate) discount_amount: i64,
    pub(crate) tax_amount: i64,
    pub(crate) amount_paid: i64,
    pub(crate) currency: String,
    pub(crate) refunded_amount: i64,
    pub(crate) order_id: Option<String>,
    pub(crate) subscription_id: Option<String>,
    pub(crate) customer_id: String,
    pub(crate) product_id: String,
    pub(crate) checkout_id: Option<String>,
    pub(crate) description: String,
    /// The invoiced period (`period_start`, `period_end`), for invoices.
    pub(crate) period: Option<(i64, i64)>,
    pub(crate) tax_country: String,
    pub(crate) created: i64,
    pub(crate) seq: u64,
}

/// A Creem refund (`ref_…`) of a transaction's remaining amount.
#[derive(Debug, Clone)]
pub(crate) struct Refund {
    pub(crate) id: String,
    pub(crate) transaction_id: String,
    pub(crate) amount: i64,
    pub(crate) currency: String,
    pub(crate) created: i64,
    pub(crate) seq: u64,
}

/// A customer portal link handed out by `POST /v1/customers/billing`.
#[derive(Debug, Clone)]
pub(crate) struct PortalLink {
    pub(crate) customer_id: String,
    pub(crate) expires_at: i64,
}

/// Everything the sandbox remembers about Creem.
#[derive(Debug, Default)]
pub(crate) struct Store {
    pub(crate) products: HashMap<String, Product>,
    pub(crate) checkouts: HashMap<String, Checkout>,
    /// Customers by id.
    pub(crate) customers: HashMap<String, Customer>,
    /// Customer ids by lowercased email: a payment reuses the customer of its email.
    pub(crate) customer_ids_by_email: HashMap<String, String>,
    pub(crate) discounts: HashMap<String, Discount>,
    pub(crate) subscriptions: HashMap<String, Subscription>,
    pub(crate) transactions: HashMap<String, Transaction>,
    pub(crate) refunds: HashMap<String, Refund>,
    /// Portal links by their token.
    pub(crate) portal_links: HashMap<String, PortalLink>,
    /// The last sequence number handed out by [`Store::next_seq`].
    pub(crate) sequence: u64,
    /// `created_at` of the newest event, so events of one operation get increasing times.
    pub(crate) last_event_ms: i64,
}

impl Store {
    /// Forgets checkouts that finished (paid or expired) and whose expiry time is `retention`
    /// seconds or more before `now`, then the oldest (by expiry, which follows creation)
    /// past `cap`, open ones included, and customers past `cap`.
    pub(crate) fn forget_old(&mut self, now: i64, retention: i64, cap: usize) {
        self.checkouts.retain(|_, checkout| {
            let finished = checkout.status != CheckoutStatus::Open;
            !(finished && now.saturating_sub(checkout.expires_at) >= retention)
        });
        let excess = self.checkouts.len().saturating_sub(cap);
        if excess > 0 {
            let mut by_age: Vec<(i64, String)> = self
                .checkouts
                .values()
                .map(|checkout| (checkout.expires_at, checkout.id.clone()))
                .collect();
            by_age.sort_unstable();
            for (_, id) in by_age.into_iter().take(excess) {
                self.checkouts.remove(&id);
            }
        }
        keep_newest(&mut self.customers, cap, |customer| customer.seq);
        let customers = &self.customers;
        self.customer_ids_by_email
            .retain(|_, id| customers.contains_key(id));
        keep_newest(&mut self.subscriptions, cap, |subscription| {
            subscription.seq
        });
        keep_newest(&mut self.transactions, cap, |transaction| transaction.seq);
        keep_newest(&mut self.refunds, cap, |refund| refund.seq);
        // Expired links stay for the retention, so their page says "expired", not "unknown".
        self.portal_links
            .retain(|_, link| now.saturating_sub(link.expires_at) < retention);
        keep_newest(&mut self.portal_links, cap, |link| {
            u64::try_from(link.expires_at).unwrap_or(0)
        });
    }

    /// Returns when the earliest pending checkout expires or the earliest subscription period
    /// that bills, cancels or pauses ends, if any.
    pub(crate) fn next_expiry(&self) -> Option<i64> {
        let checkouts = self
            .checkouts
            .values()
            .filter(|checkout| checkout.status == CheckoutStatus::Open)
            .map(|checkout| checkout.expires_at);
        let periods = self
            .subscriptions
            .values()
            .filter(|subscription| period_end_matters(subscription.status))
            .map(|subscription| subscription.period_end);
        checkouts.chain(periods).min()
    }

    /// Returns a number greater than every one handed out before.
    pub(crate) fn next_seq(&mut self) -> u64 {
        self.sequence += 1;
        self.sequence
    }
}

/// Whether something happens when a subscription in this status reaches its period end:
/// active and trialing ones renew, scheduled cancellations execute.
pub(crate) fn period_end_matters(status: SubscriptionStatus) -> bool {
    match status {
        SubscriptionStatus::Active
        | SubscriptionStatus::Trialing
        | SubscriptionStatus::ScheduledCancel => true,
        SubscriptionStatus::Paused | SubscriptionStatus::Canceled => false,
    }
}

/// Drops the entries with the smallest `order` past `cap`, so a long-running sandbox keeps a
/// bounded number of each kind.
fn keep_newest<T>(map: &mut HashMap<String, T>, cap: usize, order: impl Fn(&T) -> u64) {
    let excess = map.len().saturating_sub(cap);
    if excess == 0 {
        return;
    }
    let mut by_age: Vec<(u64, String)> = map
        .iter()
        .map(|(key, value)| (order(value), key.clone()))
        .collect();
    by_age.sort_unstable();
    for (_, key) in by_age.into_iter().take(excess) {
        map.remove(&key);
    }
}

/// Formats Unix seconds as the ISO-8601 strings Creem entities use.
pub(crate) fn iso(seconds: i64) -> String {
    OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|time| time.format(&Rfc3339).ok())
        .unwrap_or_default()
}
