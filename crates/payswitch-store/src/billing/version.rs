//! The out-of-order rule. Each row remembers the version of the snapshot it holds: the
//! gateway's time of the event that carried it (`source_at`, unix ms) and a rank of how far
//! along the object's life that snapshot is (`source_rank`). A snapshot replaces the row when
//!
//! - its time is later, or
//! - its time is the same and its rank is at least the row's.
//!
//! Gateways stamp events in whole seconds (Stripe) or milliseconds (Creem), so two changes
//! often share a time; the rank then keeps a later stage of the life from being undone by an
//! earlier one delivered after it. Equal time and equal rank apply in processing order (a
//! redelivery of the same event writes the same values again).

use payswitch_core::{
    CheckoutResult, CheckoutStatus, PaymentStatus, Refund, RefundStatus, Subscription,
    SubscriptionStatus,
};

use crate::millis::to_millis;

/// The SQL condition, for an upsert's `ON CONFLICT … DO UPDATE … WHERE`, that says the
/// incoming row (`excluded`) supersedes the stored one in `table`.
pub(crate) fn supersedes(table: &str) -> String {
    format!(
        "excluded.source_at > {table}.source_at OR (excluded.source_at = {table}.source_at \
         AND excluded.source_rank >= {table}.source_rank)"
    )
}

/// A checkout's rank: open, then expired or complete-unpaid, then paid.
pub(crate) fn checkout_rank(checkout: &CheckoutResult) -> i64 {
    match (checkout.status, checkout.payment_status) {
        (CheckoutStatus::Open, _) => 0,
        (CheckoutStatus::Expired, _) | (CheckoutStatus::Complete, PaymentStatus::Unpaid) => 1,
        (CheckoutStatus::Complete, PaymentStatus::Paid | PaymentStatus::NoPaymentRequired) => 2,
    }
}

/// A subscription's stage: not started, trial, live (active, past due, paused, unpaid, or a
/// status payswitch does not know), ended.
fn subscription_stage(status: &SubscriptionStatus) -> i64 {
    match status {
        SubscriptionStatus::Incomplete => 0,
        SubscriptionStatus::Trialing => 1,
        SubscriptionStatus::Active
        | SubscriptionStatus::PastDue
        | SubscriptionStatus::Paused
        | SubscriptionStatus::Unpaid
        | SubscriptionStatus::Other(_) => 2,
        SubscriptionStatus::Canceled | SubscriptionStatus::Expired => 3,
        // A status added to payswitch after this crate: live, like an unknown word.
        _ => 2,
    }
}

/// The bits of a subscription's rank that hold its period end (unix ms fit in 44 bits until
/// the year 2527).
const PERIOD_BITS: u32 = 44;

/// A subscription's rank: its stage first, then its current period's end (a renewal moves it
/// later), so at equal times an ended subscription stays ended and a renewed one is not
/// rolled back to the previous period.
pub(crate) fn subscription_rank(subscription: &Subscription) -> i64 {
    let period_end = subscription
        .current_period_end
        .map(to_millis)
        .unwrap_or(0)
        .clamp(0, (1i64 << PERIOD_BITS) - 1);
    (subscription_stage(&subscription.status) << PERIOD_BITS) | period_end
}

/// A refund's rank: pending, then waiting for action (or a status payswitch does not know),
/// then final.
pub(crate) fn refund_rank(refund: &Refund) -> i64 {
    match refund.status {
        RefundStatus::Pending => 0,
        RefundStatus::RequiresAction | RefundStatus::Other(_) => 1,
        RefundStatus::Succeeded | RefundStatus::Failed | RefundStatus::Canceled => 2,
        // A status added to payswitch after this crate: not final, like an unknown word.
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use payswitch_core::ProviderKind;
    use time::OffsetDateTime;

    use super::*;

    fn subscription(status: SubscriptionStatus, period_end: i64) -> Subscription {
        let mut subscription = Subscription::new("sub", ProviderKind::MEMORY, status);
        subscription.current_period_end = OffsetDateTime::from_unix_timestamp(period_end).ok();
        subscription
    }

    #[test]
    fn later_stages_outrank_earlier_ones_whatever_the_period() {
        let ranks = [
            subscription_rank(&subscription(SubscriptionStatus::Incomplete, 9_000_000_000)),
            subscription_rank(&subscription(SubscriptionStatus::Trialing, 9_000_000_000)),
            subscription_rank(&subscription(SubscriptionStatus::Active, 1)),
            subscription_rank(&subscription(SubscriptionStatus::Canceled, 1)),
        ];
        assert!(ranks.windows(2).all(|pair| pair[0] < pair[1]), "{ranks:?}");
    }

    #[test]
    fn a_renewal_outranks_the_previous_period() {
        let before = subscription_rank(&subscription(SubscriptionStatus::Active, 1_700_000_000));
        let after = subscription_rank(&subscription(SubscriptionStatus::PastDue, 1_702_600_000));
        assert!(after > before);
        let unknown_end = subscription_rank(&subscription(SubscriptionStatus::Active, -5));
        assert_eq!(unknown_end, 2 << PERIOD_BITS);
    }

    #[test]
    fn paid_checkouts_and_final_refunds_rank_highest() {
        let mut checkout = CheckoutResult::new(
            "cs",
            ProviderKind::MEMORY,
            CheckoutStatus::Open,
            PaymentStatus::Unpaid,
        );
        assert_eq!(checkout_rank(&checkout), 0);
        checkout.status = CheckoutStatus::Complete;
        assert_eq!(checkout_rank(&checkout), 1);
        checkout.payment_status = PaymentStatus::Paid;
        assert_eq!(checkout_rank(&checkout), 2);
        let refund = Refund::new("re", ProviderKind::MEMORY, RefundStatus::Succeeded);
        assert_eq!(refund_rank(&refund), 2);
        assert!(supersedes("t").contains("excluded.source_rank >= t.source_rank"));
    }
}
