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
}

/// Everything the sandbox remembers about Creem.
#[derive(Debug, Default)]
pub(crate) struct Store {
    pub(crate) products: HashMap<String, Product>,
    pub(crate) checkouts: HashMap<String, Checkout>,
    /// Customers by email.
    pub(crate) customers: HashMap<String, String>,
}

impl Store {
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
