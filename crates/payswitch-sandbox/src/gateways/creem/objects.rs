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

/// `SubscriptionStatus` as Creem spells it; the sandbox produces these six (`unpaid` is not
/// emulated).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SubscriptionStatus {
    Active,
    Trialing,
    Paused,
    ScheduledCancel,
    /// A renewal charge was declined and retries are scheduled (`subscription.past_due`).
    PastDue,
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
            SubscriptionStatus::PastDue => "past_due",
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

/// How the card a subscription was paid with answers the charges after the checkout's: the
/// sandbox's test cards decide it (see `cards.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CardOnFile {
    /// Every charge is paid.
    Pays,
    /// The next charge is declined, the ones after it are paid.
    DeclinesOnce,
    /// Every charge is declined.
    DeclinesAlways,
}

/// A renewal that was declined and is being retried (the subscription is `past_due`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Dunning {
    /// The paid period the retries collect (0 = the first).
    pub(crate) period_index: u32,
    /// When that period started: the end of the last paid one, when the first charge failed.
    pub(crate) period_start: i64,
    /// When the renewal's own charge was declined; the retries are counted from it.
    pub(crate) declined_at: i64,
    /// Charges declined so far, the renewal's own included.
    pub(crate) declined: u32,
    /// When the next retry is due.
    pub(crate) next_retry: i64,
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
    /// What the card it was paid with does on the charges that follow.
    pub(crate) card: CardOnFile,
    /// Set while `past_due`: the declined renewal and its retries.
    pub(crate) dunning: Option<Dunning>,
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
    /// The charge was declined (a renewal, or one of its retries); nothing was paid.
    Declined,
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

    /// Returns when the earliest pending checkout expires or the earliest subscription has
    /// something due (a period that bills, cancels or pauses ends, a declined renewal's
    /// retry), if any.
    pub(crate) fn next_expiry(&self) -> Option<i64> {
        let checkouts = self
            .checkouts
            .values()
            .filter(|checkout| checkout.status == CheckoutStatus::Open)
            .map(|checkout| checkout.expires_at);
        let subscriptions = self.subscriptions.values().filter_map(next_due);
        checkouts.chain(subscriptions).min()
    }

    /// Returns a number greater than every one handed out before.
    pub(crate) fn next_seq(&mut self) -> u64 {
        self.sequence += 1;
        self.sequence
    }
}

/// Returns when the sandbox clock next has something to do with a subscription: the end of
/// its period when it renews (active, trialing) or a scheduled cancellation executes, the next
/// retry while `past_due`; `None` while paused or once canceled.
pub(crate) fn next_due(subscription: &Subscription) -> Option<i64> {
    match subscription.status {
        SubscriptionStatus::Active
        | SubscriptionStatus::Trialing
        | SubscriptionStatus::ScheduledCancel => Some(subscription.period_end),
        SubscriptionStatus::PastDue => subscription.dunning.map(|dunning| dunning.next_retry),
        SubscriptionStatus::Paused | SubscriptionStatus::Canceled => None,
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
