//! When Creem retries a webhook its endpoint did not accept: "a progressive backoff period of
//! 30 seconds, 1 minute, 5 minutes and 1 hour" (docs.creem.io/learn/webhooks/introduction),
//! each wait counted from the failed attempt before it.

/// Seconds to wait after each failed attempt, the first attempt's first: 5 attempts in all.
pub(crate) const WEBHOOK_RETRY_WAITS: &[u64] = &[30, 60, 5 * 60, 60 * 60];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_follow_the_documented_backoff() {
        let offsets: Vec<u64> = WEBHOOK_RETRY_WAITS
            .iter()
            .scan(0, |at, wait| {
                *at += wait;
                Some(*at)
            })
            .collect();
        // Seconds after the first attempt: 30 s, 1 min 30 s, 6 min 30 s, 1 h 6 min 30 s.
        assert_eq!(offsets, [30, 90, 390, 3990]);
    }
}
