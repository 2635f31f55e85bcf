//! Creem's objects as the sandbox stores them (products, checkouts and what a payment
//! creates), the [`Store`] that holds them, and the ISO-8601 timestamps Creem entities use.

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
    pub(crate) created: i64,
}

/// What Creem creates when a checkout is paid.
#[derive(Debug, Clone)]
pub(crate) struct Payment {
    pub(crate) order_id: String,
    pub(crate) transaction_id: String,
    pub(crate) customer_id: String,
    pub(crate) email: String,
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

/// Everything the sandbox remembers about Creem.
#[derive(Debug, Default)]
pub(crate) struct Store {
    pub(crate) products: HashMap<String, Product>,
    pub(crate) checkouts: HashMap<String, Checkout>,
    /// Customers by email.
    pub(crate) customers: HashMap<String, String>,
    pub(crate) discounts: HashMap<String, Discount>,
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
        let excess = self.customers.len().saturating_sub(cap);
        if excess > 0 {
            let doomed: Vec<String> = self.customers.keys().take(excess).cloned().collect();
            for email in doomed {
                self.customers.remove(&email);
            }
        }
    }

    /// Returns when the earliest pending checkout expires, if one is pending.
    pub(crate) fn next_expiry(&self) -> Option<i64> {
        self.checkouts
            .values()
            .filter(|checkout| checkout.status == CheckoutStatus::Open)
            .map(|checkout| checkout.expires_at)
            .min()
    }
}

/// Formats Unix seconds as the ISO-8601 strings Creem entities use.
pub(crate) fn iso(seconds: i64) -> String {
    OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|time| time.format(&Rfc3339).ok())
        .unwrap_or_default()
}
