//! What every gateway's hosted customer portal shares: what the page shows for one portal
//! session, and what the customer can do there.

/// What the portal page shows, gateway-independent.
#[derive(Debug, Clone)]
pub(crate) struct PortalView {
    /// The portal session's id.
    pub(crate) id: String,
    /// Gateway name shown under the title.
    pub(crate) gateway_label: &'static str,
    pub(crate) customer_email: Option<String>,
    /// Where "Return" goes; no link when `None`.
    pub(crate) return_url: Option<String>,
    pub(crate) subscriptions: Vec<PortalSubscription>,
}

/// One subscription as the portal lists it.
#[derive(Debug, Clone)]
pub(crate) struct PortalSubscription {
    pub(crate) id: String,
    /// What is subscribed to, e.g. `Pro × 2`.
    pub(crate) description: String,
    /// The price of one period, formatted, e.g. `$20.00 / month`.
    pub(crate) price: String,
    /// The gateway's status word, e.g. `active`.
    pub(crate) status: String,
    /// A sentence about the current period, e.g. `Renews on 5 Mar 2026` or `Cancels on …`.
    pub(crate) period_note: Option<String>,
    /// Whether "Cancel at period end" is offered.
    pub(crate) can_cancel: bool,
    /// Whether "Resume" (withdrawing a scheduled cancellation) is offered.
    pub(crate) can_renew: bool,
}

/// What the customer asks for on the portal page, for one subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PortalAction {
    /// Cancel when the current period ends.
    CancelAtPeriodEnd(String),
    /// Withdraw a scheduled cancellation.
    Renew(String),
}
