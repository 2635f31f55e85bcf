//! What every gateway's billing shares, whatever its wire: the subscription and refund records
//! a [`SandboxHandle`](crate::SandboxHandle) hands to tests, and what the hosted customer
//! portal shows and can do.

use crate::state::Gateway;

/// Lifecycle of a subscription, gateway-neutral.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SubscriptionStatus {
    /// Paid and renewing.
    Active,
    /// In its free trial; the first payment is due when it ends.
    Trialing,
    /// A payment failed and the gateway is retrying it (Stripe `past_due`).
    PastDue,
    /// Every retry failed; it stays, but the gateway no longer collects (Stripe `unpaid`).
    Unpaid,
    /// Billing is on hold until it is resumed.
    Paused,
    /// Still running, canceled (or paused) when the current period ends: Creem
    /// `scheduled_cancel`.
    CancelScheduled,
    /// Ended; it will not bill again.
    Canceled,
}

/// One subscription the sandbox holds, whatever its gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SubscriptionRecord {
    /// The gateway that holds it.
    pub gateway: Gateway,
    /// Its id (`sub_…`).
    pub id: String,
    /// The id of the customer who pays it (`cust_…`).
    pub customer: String,
    /// Where it is in its lifecycle.
    pub status: SubscriptionStatus,
    /// What one period costs before discount and tax, in minor units (every item's price ×
    /// units).
    pub amount: i64,
    /// Currency of `amount`, as the gateway spells it (`EUR`).
    pub currency: String,
}

/// Outcome of a refund, gateway-neutral.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RefundStatus {
    /// The money went back to the customer (the sandbox's refunds always succeed).
    Succeeded,
}

/// One refund the sandbox made, whatever its gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefundRecord {
    /// The gateway that made it.
    pub gateway: Gateway,
    /// Its id (`ref_…`).
    pub id: String,
    /// The refunded payment (Creem transaction `tran_…`).
    pub payment: String,
    /// The customer refunded.
    pub customer: String,
    /// Amount refunded, in minor units.
    pub amount: i64,
    /// Currency of `amount`, as the gateway spells it.
    pub currency: String,
    /// Its outcome.
    pub status: RefundStatus,
}

/// What the customer portal can do to one subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PortalAction {
    /// End it now.
    Cancel,
    /// Undo a pause or a scheduled cancellation.
    Resume,
}

impl PortalAction {
    /// Reads the `action` field of the portal's form.
    pub(crate) fn parse(text: &str) -> Option<PortalAction> {
        match text {
            "cancel" => Some(PortalAction::Cancel),
            "resume" => Some(PortalAction::Resume),
            _ => None,
        }
    }
}

/// One subscription as the customer portal lists it.
#[derive(Debug, Clone)]
pub(crate) struct PortalSubscription {
    pub(crate) id: String,
    /// Name of the subscribed product.
    pub(crate) name: String,
    /// The gateway's own status word, e.g. `scheduled_cancel`.
    pub(crate) status: String,
    /// Price of one period in minor units.
    pub(crate) amount: i64,
    pub(crate) currency: String,
    /// Decimals of `amount`.
    pub(crate) exponent: u32,
    /// e.g. ("Renews", "2025-02-28T09:00:00Z") or ("Ends", …).
    pub(crate) next_date: Option<(&'static str, String)>,
    /// The actions the portal offers for it now.
    pub(crate) actions: Vec<PortalAction>,
}

/// What the customer portal shows for one link, gateway-independent.
#[derive(Debug, Clone)]
pub(crate) struct PortalView {
    /// Gateway name shown under the title.
    pub(crate) gateway_label: &'static str,
    pub(crate) email: String,
    pub(crate) subscriptions: Vec<PortalSubscription>,
}

/// Why a portal page cannot be shown or an action not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PortalRefusal {
    /// No link has this token.
    UnknownLink,
    /// The link's time is over.
    Expired,
    /// The action is not possible now, with the reason to show.
    NotAllowed(String),
}
