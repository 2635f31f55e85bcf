//! The billing records a [`SandboxHandle`](crate::SandboxHandle) returns, whatever the
//! gateway: small, read-only views for tests (a gateway may fill more fields later).

use crate::state::Gateway;

/// One subscription the sandbox holds.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SubscriptionRecord {
    /// The gateway that holds it.
    pub gateway: Gateway,
    /// Its id (`sub_…`).
    pub id: String,
    /// The customer it bills (`cus_…`).
    pub customer: Option<String>,
    /// The gateway's own status word (Stripe: `active`, `trialing`, `past_due`, `paused`,
    /// `canceled`).
    pub status: String,
    /// What one period costs now, in minor units (every item's price × quantity).
    pub amount: i64,
    /// Lowercase currency code.
    pub currency: String,
    /// Whether it is set to end when the current period ends.
    pub cancel_at_period_end: bool,
}

/// One refund the sandbox holds.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefundRecord {
    /// The gateway that holds it.
    pub gateway: Gateway,
    /// Its id (`re_…`).
    pub id: String,
    /// The payment refunded (Stripe: the charge, `ch_…`).
    pub payment: String,
    /// Amount refunded, in minor units.
    pub amount: i64,
    /// Lowercase currency code.
    pub currency: String,
    /// The gateway's own status word (Stripe: `succeeded`).
    pub status: String,
}
