//! The normalized outcome of a checkout, and of a success redirect.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::kind::ProviderKind;
use crate::money::Money;
use crate::raw::RawJson;
use crate::request::CheckoutMode;
use crate::secret::Secret;

/// Where a checkout is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckoutStatus {
    /// The customer can still pay.
    Open,
    /// The customer finished the checkout.
    Complete,
    /// The checkout expired (or was expired) without completing.
    Expired,
}

/// Whether money moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// The payment succeeded: fulfil.
    Paid,
    /// Not paid (yet): a delayed payment method may still succeed.
    Unpaid,
    /// Nothing to pay (a free order or setup mode).
    NoPaymentRequired,
}

/// A checkout as the gateway reports it, normalized. Deserializing restores every field but
/// `client_secret`, which is never serialized.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CheckoutResult {
    /// The gateway's checkout id (Stripe `cs_…`, Creem `ch_…`).
    pub id: String,
    /// The gateway that holds it.
    pub provider: ProviderKind,
    /// The hosted page to send the customer to, while it is open.
    pub url: Option<String>,
    /// The secret an embedded form needs; never log it or put it in a URL.
    #[serde(skip)]
    pub client_secret: Option<Secret>,
    /// Open, complete or expired.
    pub status: CheckoutStatus,
    /// Paid, unpaid or no payment required.
    pub payment_status: PaymentStatus,
    /// The mode, when the gateway reports it.
    pub mode: Option<CheckoutMode>,
    /// The total the customer pays (after discounts), when known.
    pub amount_total: Option<Money>,
    /// The customer's email, when known.
    pub customer_email: Option<String>,
    /// The gateway's customer id, when known.
    pub customer_id: Option<String>,
    /// The application's reference (order id) echoed back.
    pub reference: Option<String>,
    /// The metadata echoed back.
    pub metadata: BTreeMap<String, String>,
    /// The payment's id at the gateway (Stripe PaymentIntent, Creem order), once there is one.
    pub payment_id: Option<String>,
    /// The subscription's id, for subscription checkouts that completed.
    pub subscription_id: Option<String>,
    /// When the gateway created the checkout.
    #[serde(with = "time::serde::rfc3339::option")]
    pub created_at: Option<OffsetDateTime>,
    /// When the checkout expires if not completed.
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    /// Request fields this gateway could not honour and did not send (e.g. `cancel_url` on
    /// Creem); empty when everything was sent.
    pub ignored: Vec<String>,
    /// The gateway's own object, as an escape hatch.
    pub raw: RawJson,
}

impl CheckoutResult {
    /// Makes a result with the given id, provider and states; every other field empty.
    pub fn new(
        id: impl Into<String>,
        provider: ProviderKind,
        status: CheckoutStatus,
        payment_status: PaymentStatus,
    ) -> Self {
        Self {
            id: id.into(),
            provider,
            url: None,
            client_secret: None,
            status,
            payment_status,
            mode: None,
            amount_total: None,
            customer_email: None,
            customer_id: None,
            reference: None,
            metadata: BTreeMap::new(),
            payment_id: None,
            subscription_id: None,
            created_at: None,
            expires_at: None,
            ignored: Vec::new(),
            raw: RawJson::default(),
        }
    }

    /// Says whether the order can be fulfilled: complete and paid (or nothing to pay).
    pub fn is_paid(&self) -> bool {
        self.status == CheckoutStatus::Complete
            && matches!(
                self.payment_status,
                PaymentStatus::Paid | PaymentStatus::NoPaymentRequired
            )
    }
}

/// What a success redirect said, and whether its signature proved it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ReturnParams {
    /// The gateway that redirected.
    pub provider: ProviderKind,
    /// The checkout id from the query.
    pub checkout_id: String,
    /// True only when the gateway signed the redirect and the signature matched. When
    /// false, retrieve the checkout before trusting anything here.
    pub verified: bool,
    /// The order id (Creem), when present.
    pub order_id: Option<String>,
    /// The customer id, when present.
    pub customer_id: Option<String>,
    /// The subscription id, when present.
    pub subscription_id: Option<String>,
    /// The product id, when present.
    pub product_id: Option<String>,
    /// The application's reference, when the gateway echoes it.
    pub reference: Option<String>,
}

impl ReturnParams {
    /// Makes the parameters for a checkout id; every optional field empty.
    pub fn new(provider: ProviderKind, checkout_id: impl Into<String>, verified: bool) -> Self {
        Self {
            provider,
            checkout_id: checkout_id.into(),
            verified,
            order_id: None,
            customer_id: None,
            subscription_id: None,
            product_id: None,
            reference: None,
        }
    }
}
