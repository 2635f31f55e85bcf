//! When Stripe retries a webhook its endpoint did not accept. Stripe documents "up to three
//! days with an exponential back off" in live mode (docs.stripe.com/webhooks, "Retry
//! behavior") but not the intervals, so these are the sandbox's: 5 minutes doubling, the last
//! retry exactly 3 days after the first attempt. (Stripe's own test mode retries three times
//! over a few hours; the sandbox follows live mode, the schedule applications must survive.)

/// Seconds to wait after each failed attempt, the first attempt's first: 11 attempts over 72
/// hours.
pub(crate) const WEBHOOK_RETRY_WAITS: &[u64] = &[
    5 * 60,
    10 * 60,
    20 * 60,
    40 * 60,
    80 * 60,
    160 * 60,
    320 * 60,
    640 * 60,
    1280 * 60,
    // The doubled 2560 minutes would end past three days: the last retry is at 72 h.
    (72 * 60 - 2555) * 60,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_double_and_end_three_days_after_the_first_attempt() {
        let offsets: Vec<u64> = WEBHOOK_RETRY_WAITS
            .iter()
            .scan(0, |at, wait| {
                *at += wait;
                Some(*at / 60)
            })
            .collect();
        // Minutes after the first attempt.
        assert_eq!(offsets, [5, 15, 35, 75, 155, 315, 635, 1275, 2555, 72 * 60]);
    }
}
