//! [`EntitlementPolicy`]: who gets access to what, and the pure decisions that apply it to
//! one subscription or one purchase at one instant.

use std::collections::BTreeMap;
use std::time::Duration;

use payswitch_core::{CheckoutMode, Money, RefundStatus, SubscriptionStatus};
use time::OffsetDateTime;

use super::grant::Reason;
use crate::billing::records::{CheckoutRecord, RefundRecord, SubscriptionRecord};

/// Who gets access to what. The defaults:
///
/// | state | access |
/// | --- | --- |
/// | trialing | yes, until the trial ends (`trial_access`) |
/// | active | yes, until the period ends, plus `renewal_leeway` for the renewal's event to arrive |
/// | active, cancellation scheduled | yes, until the cancellation takes effect (no leeway) |
/// | past due | yes, for `past_due_grace` from when it became past due |
/// | paused | no (`paused_access`) |
/// | unpaid, incomplete, canceled, expired, unknown | no |
/// | one-time purchase, paid | yes, with no end |
/// | one-time purchase, refunded in full | no |
/// | one-time purchase, partly refunded | yes (`partial_refund_revokes`) |
///
/// A refund of a subscription's payment changes nothing by itself: the gateway (or the
/// application) cancels the subscription if that is meant, and that event revokes access.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EntitlementPolicy {
    /// Trials give access.
    pub trial_access: bool,
    /// How long an active subscription keeps access after its period's end while the
    /// renewal's event is on its way (gateways renew at the period end and deliver the
    /// event minutes to hours later).
    pub renewal_leeway: Duration,
    /// How long a past-due subscription keeps access, from when it became past due.
    pub past_due_grace: Duration,
    /// Paused subscriptions give access (until their period ends).
    pub paused_access: bool,
    /// A partial refund of a one-time purchase revokes it.
    pub partial_refund_revokes: bool,
    /// The metadata key that names a checkout's (or subscription's) plan. A paid one-time
    /// checkout grants something only when its metadata names a plan under this key.
    pub plan_key: String,
    /// The application's plan names for gateway price or product ids (for example a
    /// catalog SKU for each gateway's price id).
    pub plan_names: BTreeMap<String, String>,
}

impl Default for EntitlementPolicy {
    fn default() -> Self {
        Self {
            trial_access: true,
            renewal_leeway: Duration::from_secs(24 * 60 * 60),
            past_due_grace: Duration::from_secs(7 * 24 * 60 * 60),
            paused_access: false,
            partial_refund_revokes: false,
            plan_key: "plan".to_owned(),
            plan_names: BTreeMap::new(),
        }
    }
}

/// One decision: access or not, until when, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Decision {
    pub(crate) access: bool,
    pub(crate) until: Option<OffsetDateTime>,
    pub(crate) reason: Reason,
}

fn decision(access: bool, until: Option<OffsetDateTime>, reason: Reason) -> Decision {
    Decision {
        access,
        until,
        reason,
    }
}

fn plus(at: OffsetDateTime, duration: Duration) -> OffsetDateTime {
    at.saturating_add(time::Duration::try_from(duration).unwrap_or(time::Duration::MAX))
}

impl EntitlementPolicy {
    /// Sets the renewal leeway.
    pub fn renewal_leeway(mut self, leeway: Duration) -> Self {
        self.renewal_leeway = leeway;
        self
    }

    /// Sets the past-due grace period.
    pub fn past_due_grace(mut self, grace: Duration) -> Self {
        self.past_due_grace = grace;
        self
    }

    /// Sets whether trials give access.
    pub fn trial_access(mut self, access: bool) -> Self {
        self.trial_access = access;
        self
    }

    /// Sets whether paused subscriptions give access.
    pub fn paused_access(mut self, access: bool) -> Self {
        self.paused_access = access;
        self
    }

    /// Sets whether a partial refund revokes a purchase.
    pub fn partial_refund_revokes(mut self, revokes: bool) -> Self {
        self.partial_refund_revokes = revokes;
        self
    }

    /// Names the application's plan for a gateway price or product id.
    pub fn plan_name(mut self, gateway_id: impl Into<String>, plan: impl Into<String>) -> Self {
        self.plan_names.insert(gateway_id.into(), plan.into());
        self
    }

    /// A subscription's plan: its metadata's plan key, else its price or product id under
    /// the application's name for it.
    pub(crate) fn subscription_plan(&self, record: &SubscriptionRecord) -> Option<String> {
        if let Some(plan) = record.metadata.get(&self.plan_key) {
            return Some(plan.clone());
        }
        let id = record.plan.as_deref()?;
        Some(
            self.plan_names
                .get(id)
                .cloned()
                .unwrap_or_else(|| id.to_owned()),
        )
    }

    /// Decides a subscription at `now`.
    pub(crate) fn decide_subscription(
        &self,
        record: &SubscriptionRecord,
        now: OffsetDateTime,
    ) -> Decision {
        let period_end = record.current_period_end;
        match &record.status {
            SubscriptionStatus::Trialing => {
                let end = record.trial_end.or(period_end);
                match end {
                    _ if !self.trial_access => decision(false, end, Reason::Trialing),
                    Some(end) if now >= end => decision(false, Some(end), Reason::PeriodOver),
                    end => decision(true, end, Reason::Trialing),
                }
            }
            SubscriptionStatus::Active
                if record.cancel_at_period_end || record.cancel_at.is_some() =>
            {
                match record.cancel_at.or(period_end) {
                    Some(end) if now >= end => decision(false, Some(end), Reason::PeriodOver),
                    end => decision(true, end, Reason::CancelScheduled),
                }
            }
            SubscriptionStatus::Active => match period_end {
                None => decision(true, None, Reason::Active),
                Some(end) if now < end => decision(true, Some(end), Reason::Active),
                Some(end) => {
                    let leeway_end = plus(end, self.renewal_leeway);
                    if now < leeway_end {
                        decision(true, Some(leeway_end), Reason::RenewalPending)
                    } else {
                        decision(false, Some(end), Reason::PeriodOver)
                    }
                }
            },
            SubscriptionStatus::PastDue => {
                let end = plus(record.status_since, self.past_due_grace);
                if now < end {
                    decision(true, Some(end), Reason::PastDueGrace)
                } else {
                    decision(false, Some(end), Reason::GraceOver)
                }
            }
            SubscriptionStatus::Paused => match period_end {
                Some(end) if self.paused_access && now < end => {
                    decision(true, Some(end), Reason::Paused)
                }
                None if self.paused_access => decision(true, None, Reason::Paused),
                _ => decision(false, None, Reason::Paused),
            },
            SubscriptionStatus::Unpaid => decision(false, None, Reason::Unpaid),
            SubscriptionStatus::Incomplete => decision(false, None, Reason::Incomplete),
            SubscriptionStatus::Canceled => decision(
                false,
                record.ended_at.or(record.canceled_at),
                Reason::Canceled,
            ),
            SubscriptionStatus::Expired => {
                decision(false, record.ended_at.or(period_end), Reason::Expired)
            }
            SubscriptionStatus::Other(word) => {
                decision(false, None, Reason::UnknownStatus(word.clone()))
            }
            newer => decision(false, None, Reason::UnknownStatus(format!("{newer:?}"))),
        }
    }

    /// A checkout's plan, when it is a paid one-time purchase that names one.
    pub(crate) fn purchase_plan(&self, record: &CheckoutRecord) -> Option<String> {
        let one_time = matches!(record.mode, Some(CheckoutMode::Payment) | None);
        let paid = record.paid_event_id.is_some();
        if !(one_time && paid) {
            return None;
        }
        let plan = record.metadata.get(&self.plan_key)?;
        Some(
            self.plan_names
                .get(plan)
                .cloned()
                .unwrap_or_else(|| plan.clone()),
        )
    }

    /// Decides a paid one-time purchase given its refunds.
    pub(crate) fn decide_purchase(
        &self,
        record: &CheckoutRecord,
        refunds: &[RefundRecord],
    ) -> Decision {
        let succeeded: Vec<&RefundRecord> = refunds
            .iter()
            .filter(|refund| refund.status == RefundStatus::Succeeded)
            .collect();
        if succeeded.is_empty() {
            return decision(true, None, Reason::Purchased);
        }
        let total = record.amount_total;
        // A refund whose amount is unknown, or in another currency, counts as a full refund:
        // the safe reading when the money cannot be compared.
        let refunded: Option<i64> =
            succeeded
                .iter()
                .try_fold(0i64, |sum, refund| match (refund.amount, total) {
                    (Some(amount), Some(total)) if amount.currency() == total.currency() => {
                        sum.checked_add(amount.amount())
                    }
                    _ => None,
                });
        let full = match (refunded, total.map(|total: Money| total.amount())) {
            (Some(refunded), Some(total)) => refunded >= total,
            _ => true,
        };
        if full {
            decision(false, None, Reason::Refunded)
        } else if self.partial_refund_revokes {
            decision(false, None, Reason::PartiallyRefunded)
        } else {
            decision(true, None, Reason::PartiallyRefunded)
        }
    }
}

#[cfg(test)]
mod tests {
    use payswitch_core::{CheckoutStatus, Currency, PaymentStatus};

    use super::*;

    fn at(seconds: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_700_000_000 + seconds).unwrap()
    }

    const DAY: i64 = 24 * 60 * 60;

    fn subscription(status: SubscriptionStatus) -> SubscriptionRecord {
        SubscriptionRecord {
            gateway: "memory".into(),
            subscription_id: "sub_1".into(),
            status,
            status_since: at(0),
            customer_id: None,
            app_user_id: None,
            plan: Some("price_pro".into()),
            quantity: Some(1),
            items: Vec::new(),
            current_period_start: Some(at(0)),
            current_period_end: Some(at(30 * DAY)),
            trial_end: None,
            cancel_at_period_end: false,
            cancel_at: None,
            canceled_at: None,
            ended_at: None,
            reference: None,
            metadata: BTreeMap::new(),
            source_at: at(0),
            source_event: "evt".into(),
        }
    }

    /// (state, now in days, expected access, expected reason)
    #[test]
    fn the_default_policy_table() {
        let policy = EntitlementPolicy::default();
        let mut trial = subscription(SubscriptionStatus::Trialing);
        trial.trial_end = Some(at(14 * DAY));
        let mut scheduled = subscription(SubscriptionStatus::Active);
        scheduled.cancel_at_period_end = true;
        let cases: Vec<(&str, SubscriptionRecord, i64, bool, Reason)> = vec![
            ("trial", trial.clone(), 1, true, Reason::Trialing),
            ("trial over", trial, 15, false, Reason::PeriodOver),
            (
                "active",
                subscription(SubscriptionStatus::Active),
                29,
                true,
                Reason::Active,
            ),
            (
                "renewal late",
                subscription(SubscriptionStatus::Active),
                30,
                true,
                Reason::RenewalPending,
            ),
            (
                "never renewed",
                subscription(SubscriptionStatus::Active),
                32,
                false,
                Reason::PeriodOver,
            ),
            (
                "scheduled",
                scheduled.clone(),
                29,
                true,
                Reason::CancelScheduled,
            ),
            ("scheduled over", scheduled, 30, false, Reason::PeriodOver),
            (
                "past due",
                subscription(SubscriptionStatus::PastDue),
                6,
                true,
                Reason::PastDueGrace,
            ),
            (
                "grace over",
                subscription(SubscriptionStatus::PastDue),
                7,
                false,
                Reason::GraceOver,
            ),
            (
                "paused",
                subscription(SubscriptionStatus::Paused),
                1,
                false,
                Reason::Paused,
            ),
            (
                "unpaid",
                subscription(SubscriptionStatus::Unpaid),
                1,
                false,
                Reason::Unpaid,
            ),
            (
                "incomplete",
                subscription(SubscriptionStatus::Incomplete),
                1,
                false,
                Reason::Incomplete,
            ),
            (
                "canceled",
                subscription(SubscriptionStatus::Canceled),
                1,
                false,
                Reason::Canceled,
            ),
            (
                "expired",
                subscription(SubscriptionStatus::Expired),
                1,
                false,
                Reason::Expired,
            ),
            (
                "unknown",
                subscription(SubscriptionStatus::Other("frozen".into())),
                1,
                false,
                Reason::UnknownStatus("frozen".into()),
            ),
        ];
        for (name, record, day, access, reason) in cases {
            let decided = policy.decide_subscription(&record, at(day * DAY));
            assert_eq!((decided.access, decided.reason), (access, reason), "{name}");
        }
    }

    #[test]
    fn the_policy_is_configurable() {
        let policy = EntitlementPolicy::default()
            .trial_access(false)
            .paused_access(true)
            .past_due_grace(Duration::ZERO)
            .renewal_leeway(Duration::ZERO);
        let mut trial = subscription(SubscriptionStatus::Trialing);
        trial.trial_end = Some(at(14 * DAY));
        assert!(!policy.decide_subscription(&trial, at(DAY)).access);
        assert!(
            policy
                .decide_subscription(&subscription(SubscriptionStatus::Paused), at(DAY))
                .access
        );
        assert!(
            !policy
                .decide_subscription(&subscription(SubscriptionStatus::PastDue), at(0))
                .access
        );
        assert!(
            !policy
                .decide_subscription(&subscription(SubscriptionStatus::Active), at(30 * DAY))
                .access
        );
        let until = policy
            .decide_subscription(&subscription(SubscriptionStatus::Active), at(DAY))
            .until;
        assert_eq!(until, Some(at(30 * DAY)));
    }

    fn purchase() -> CheckoutRecord {
        CheckoutRecord {
            gateway: "memory".into(),
            checkout_id: "cs_1".into(),
            status: CheckoutStatus::Complete,
            payment_status: PaymentStatus::Paid,
            mode: Some(CheckoutMode::Payment),
            amount_total: Some(Money::new(1000, Currency::USD)),
            customer_id: None,
            app_user_id: Some("u".into()),
            reference: None,
            payment_id: Some("pay_1".into()),
            subscription_id: None,
            metadata: BTreeMap::from([("plan".to_owned(), "lifetime".to_owned())]),
            paid_event_id: Some("evt".into()),
            source_at: at(0),
        }
    }

    fn refund(status: RefundStatus, amount: Option<i64>) -> RefundRecord {
        RefundRecord {
            gateway: "memory".into(),
            refund_id: "re".into(),
            status,
            amount: amount.map(|amount| Money::new(amount, Currency::USD)),
            payment_id: Some("pay_1".into()),
            checkout_id: Some("cs_1".into()),
            subscription_id: None,
        }
    }

    #[test]
    fn purchases_and_refunds() {
        let policy = EntitlementPolicy::default().plan_name("lifetime", "Lifetime");
        assert_eq!(
            policy.purchase_plan(&purchase()).as_deref(),
            Some("Lifetime")
        );
        let decide = |refunds: &[RefundRecord]| policy.decide_purchase(&purchase(), refunds);
        assert_eq!(decide(&[]).reason, Reason::Purchased);
        assert_eq!(
            decide(&[refund(RefundStatus::Failed, Some(1000))]).reason,
            Reason::Purchased
        );
        let partial = decide(&[refund(RefundStatus::Succeeded, Some(400))]);
        assert_eq!(
            (partial.access, partial.reason),
            (true, Reason::PartiallyRefunded)
        );
        let full = decide(&[
            refund(RefundStatus::Succeeded, Some(400)),
            refund(RefundStatus::Succeeded, Some(600)),
        ]);
        assert_eq!((full.access, full.reason), (false, Reason::Refunded));
        assert!(!decide(&[refund(RefundStatus::Succeeded, None)]).access);
        let strict = EntitlementPolicy::default().partial_refund_revokes(true);
        assert!(
            !strict
                .decide_purchase(&purchase(), &[refund(RefundStatus::Succeeded, Some(1))])
                .access
        );
        let mut unpaid = purchase();
        unpaid.paid_event_id = None;
        assert_eq!(policy.purchase_plan(&unpaid), None);
        let mut no_plan = purchase();
        no_plan.metadata.clear();
        assert_eq!(policy.purchase_plan(&no_plan), None);
    }
}
