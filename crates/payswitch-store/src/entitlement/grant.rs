//! [`Entitlement`] and [`Grant`]: the answer to "what may this user use right now?".

use time::OffsetDateTime;

/// Why a grant gives access or not.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// In a free trial (access while the policy allows trials).
    Trialing,
    /// Paid and current.
    Active,
    /// A cancellation is scheduled: access until the period ends.
    CancelScheduled,
    /// The period ended but the renewal's event may still be on its way: access for the
    /// policy's renewal leeway.
    RenewalPending,
    /// A payment failed and the gateway is retrying: access for the policy's grace period.
    PastDueGrace,
    /// Past due for longer than the grace period.
    GraceOver,
    /// Paused.
    Paused,
    /// Retries ran out; the gateway left it open but unpaid.
    Unpaid,
    /// The first payment has not succeeded.
    Incomplete,
    /// Canceled.
    Canceled,
    /// Ended unpaid.
    Expired,
    /// The period (or trial) ended and nothing renewed it.
    PeriodOver,
    /// A status payswitch does not know (the gateway's word): no access until it is known.
    UnknownStatus(String),
    /// A one-time purchase, paid.
    Purchased,
    /// A one-time purchase, partly refunded (access unless the policy says otherwise).
    PartiallyRefunded,
    /// A one-time purchase, refunded in full.
    Refunded,
}

/// What a grant comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GrantSource {
    /// A subscription.
    Subscription {
        /// The gateway's name.
        gateway: String,
        /// The gateway's subscription id.
        subscription_id: String,
    },
    /// A paid one-time checkout.
    Purchase {
        /// The gateway's name.
        gateway: String,
        /// The gateway's checkout id.
        checkout_id: String,
    },
}

/// One subscription or purchase of the user, decided.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Grant {
    /// The plan: the application's name for it where the policy maps one, else the
    /// gateway's price or product id (subscriptions) or the checkout's plan metadata.
    pub plan: Option<String>,
    /// Whether it gives access now.
    pub access: bool,
    /// Until when access lasts (`None`: no end known, e.g. a purchase); for a grant without
    /// access, when it ended, where known.
    pub until: Option<OffsetDateTime>,
    /// Why.
    pub reason: Reason,
    /// Where it comes from.
    pub source: GrantSource,
}

/// What an application user may use right now: every grant, those with access first (the
/// longest-lasting first).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Entitlement {
    /// The user asked about.
    pub app_user_id: String,
    /// When it was decided.
    pub checked_at: OffsetDateTime,
    /// Every subscription and paid purchase of the user, decided.
    pub grants: Vec<Grant>,
}

impl Entitlement {
    /// Says whether anything gives the user access now.
    pub fn has_access(&self) -> bool {
        self.grants.iter().any(|grant| grant.access)
    }

    /// The grant that decides the user's access: the first with access, else the most
    /// recent without (it says why there is none). `None` when the user has nothing.
    pub fn current(&self) -> Option<&Grant> {
        self.grants.first()
    }

    /// Says whether the user has access to `plan` now.
    pub fn allows(&self, plan: &str) -> bool {
        self.grants
            .iter()
            .any(|grant| grant.access && grant.plan.as_deref() == Some(plan))
    }

    /// The plans the user has access to now, without repeats.
    pub fn plans(&self) -> Vec<&str> {
        let mut plans: Vec<&str> = Vec::new();
        for plan in self
            .grants
            .iter()
            .filter(|grant| grant.access)
            .filter_map(|grant| grant.plan.as_deref())
        {
            if !plans.contains(&plan) {
                plans.push(plan);
            }
        }
        plans
    }
}
