//! [`StripeDunning`]: the sandbox's copy of the Stripe account settings that decide what
//! happens after a subscription invoice's payment fails (Dashboard: Billing > Revenue
//! recovery > Retries): when payment is retried, and what becomes of the subscription and
//! the invoice once every retry has failed.

use std::time::Duration;

/// What Stripe does to the subscription once every retry of an invoice has failed
/// ("Subscription status" in the retry settings).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum StripeSubscriptionAfterRetries {
    /// Cancel it (`customer.subscription.deleted`, `cancellation_details.reason:
    /// "payment_failed"`). The default.
    #[default]
    Cancel,
    /// Mark it `unpaid`: later invoices are still made, finalized and left open, unattempted.
    MarkUnpaid,
    /// Leave it `past_due`.
    LeavePastDue,
}

/// What Stripe does to the invoice once every retry has failed ("Invoice status").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum StripeInvoiceAfterRetries {
    /// Leave it open (past due), with no further attempt scheduled. The default.
    #[default]
    LeaveOpen,
    /// Mark it uncollectible (`invoice.marked_uncollectible`).
    MarkUncollectible,
}

/// When a failed subscription payment is retried, and what happens when no retry succeeds.
///
/// The default stands in for Stripe's recommended Smart Retries policy, "8 tries within 2
/// weeks": 8 retries, one every 42 hours, the last 14 days after the first failure. Smart
/// Retries times each retry with a model the sandbox cannot reproduce, so it spaces them
/// evenly; the count and the window are Stripe's. [`StripeDunning::retry_after_days`] is
/// Stripe's custom retry schedule instead (each retry a number of days after the attempt
/// before it).
///
/// ```
/// use payswitch_sandbox::{StripeDunning, StripeSubscriptionAfterRetries};
///
/// // Retry 3, 5 and 7 days after the previous attempt, then mark the subscription unpaid.
/// let dunning = StripeDunning::retry_after_days(&[3, 5, 7])
///     .subscription_after_retries(StripeSubscriptionAfterRetries::MarkUnpaid);
/// assert_eq!(dunning.retry_delays().len(), 3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeDunning {
    retry_delays: Vec<Duration>,
    subscription_after_retries: StripeSubscriptionAfterRetries,
    invoice_after_retries: StripeInvoiceAfterRetries,
}

/// Stripe's recommended Smart Retries budget: 8 retries within 2 weeks.
const SMART_RETRIES: u32 = 8;
const SMART_WINDOW: Duration = Duration::from_secs(14 * 24 * 60 * 60);

impl Default for StripeDunning {
    fn default() -> Self {
        let spacing = SMART_WINDOW / SMART_RETRIES;
        Self {
            retry_delays: vec![spacing; SMART_RETRIES as usize],
            subscription_after_retries: StripeSubscriptionAfterRetries::default(),
            invoice_after_retries: StripeInvoiceAfterRetries::default(),
        }
    }
}

impl StripeDunning {
    /// Stripe's custom retry schedule: each retry the given number of days after the attempt
    /// before it (Stripe's Dashboard offers up to three); an empty slice never retries.
    pub fn retry_after_days(days: &[u32]) -> Self {
        Self::retry_after(
            days.iter()
                .map(|days| Duration::from_secs(u64::from(*days) * 24 * 60 * 60))
                .collect(),
        )
    }

    /// Retries after the given delays, each counted from the attempt before it (whole
    /// seconds; sub-second parts are dropped).
    pub fn retry_after(delays: Vec<Duration>) -> Self {
        Self {
            retry_delays: delays,
            ..Self::default()
        }
    }

    /// Sets what happens to the subscription when every retry failed.
    pub fn subscription_after_retries(mut self, after: StripeSubscriptionAfterRetries) -> Self {
        self.subscription_after_retries = after;
        self
    }

    /// Sets what happens to the invoice when every retry failed.
    pub fn invoice_after_retries(mut self, after: StripeInvoiceAfterRetries) -> Self {
        self.invoice_after_retries = after;
        self
    }

    /// Returns the delay before each retry, counted from the attempt before it.
    pub fn retry_delays(&self) -> &[Duration] {
        &self.retry_delays
    }

    /// Returns what happens to the subscription when every retry failed.
    pub fn subscription_after(&self) -> StripeSubscriptionAfterRetries {
        self.subscription_after_retries
    }

    /// Returns what happens to the invoice when every retry failed.
    pub fn invoice_after(&self) -> StripeInvoiceAfterRetries {
        self.invoice_after_retries
    }

    /// The seconds from failed attempt number `attempts` (1 for the first) to the next
    /// retry, `None` when that was the last one.
    pub(crate) fn next_retry_after(&self, attempts: u32) -> Option<i64> {
        let index = usize::try_from(attempts).ok()?.checked_sub(1)?;
        self.retry_delays
            .get(index)
            .map(|delay| i64::try_from(delay.as_secs()).unwrap_or(i64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_retries_eight_times_within_two_weeks() {
        let dunning = StripeDunning::default();
        assert_eq!(dunning.retry_delays().len(), 8);
        let total: i64 = (1..=8).filter_map(|n| dunning.next_retry_after(n)).sum();
        assert_eq!(total, 14 * 24 * 60 * 60);
        assert_eq!(dunning.next_retry_after(1), Some(42 * 60 * 60));
        assert_eq!(dunning.next_retry_after(9), None);
        assert_eq!(dunning.next_retry_after(0), None);
        assert_eq!(
            dunning.subscription_after(),
            StripeSubscriptionAfterRetries::Cancel
        );
    }

    #[test]
    fn a_custom_schedule_counts_days_from_the_attempt_before() {
        let dunning = StripeDunning::retry_after_days(&[3, 5, 7])
            .invoice_after_retries(StripeInvoiceAfterRetries::MarkUncollectible);
        assert_eq!(dunning.next_retry_after(1), Some(3 * 86_400));
        assert_eq!(dunning.next_retry_after(3), Some(7 * 86_400));
        assert_eq!(dunning.next_retry_after(4), None);
        assert_eq!(
            dunning.invoice_after(),
            StripeInvoiceAfterRetries::MarkUncollectible
        );
        assert_eq!(
            StripeDunning::retry_after_days(&[]).next_retry_after(1),
            None
        );
    }
}
