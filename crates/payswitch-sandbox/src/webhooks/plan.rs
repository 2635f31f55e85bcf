//! The decisions of webhook delivery as pure functions, so each rule has a table test: the
//! order a batch goes out in, the wait before an event, whether an attempt is dropped and what
//! follows a failed attempt (a fast retry, a retry on the gateway's schedule, or nothing).

use std::time::Duration;

use rand::Rng;

use crate::webhooks::delivery::RetryPolicy;
use crate::webhooks::modes::{DelayMode, DropMode, Reorder};

/// Returns the order to deliver a batch of `count` events in, as indexes into the batch.
/// `Shuffle` never returns the emitted order for two or more events: a test asking for
/// reordered delivery must get it.
pub(crate) fn delivery_order(
    count: usize,
    reorder: Option<Reorder>,
    random: &mut impl Rng,
) -> Vec<usize> {
    let mut order: Vec<usize> = (0..count).collect();
    match reorder {
        None => {}
        Some(Reorder::Reverse) => order.reverse(),
        Some(Reorder::Shuffle) => {
            // Fisher–Yates, written out so a seed gives the same order in every rand release.
            for last in (1..count).rev() {
                let pick = random.random_range(0..=last);
                order.swap(last, pick);
            }
            if count > 1 && order.iter().enumerate().all(|(at, index)| at == *index) {
                order.swap(0, 1);
            }
        }
    }
    order
}

/// Returns how long an event waits before its first attempt: the fixed delay, or one drawn
/// from the range (inclusive).
pub(crate) fn wait_before(delay: Option<&DelayMode>, random: &mut impl Rng) -> Duration {
    let Some(delay) = delay else {
        return Duration::ZERO;
    };
    let upper = delay.upper_ms().max(delay.min_ms);
    let millis = if upper == delay.min_ms {
        upper
    } else {
        random.random_range(delay.min_ms..=upper)
    };
    Duration::from_millis(millis)
}

/// Whether attempt number `attempt` (1-based) of an event is dropped by the `drop` mode.
pub(crate) fn is_dropped(attempt: u32, drop: Option<&DropMode>) -> bool {
    drop.is_some_and(|drop| attempt <= drop.attempts)
}

/// How failed attempts of a delivery are retried.
#[derive(Debug, Clone, Copy)]
pub(crate) enum RetryRule<'a> {
    /// The sandbox's fast, real-time policy.
    Fast(&'a RetryPolicy),
    /// The gateway's schedule on the sandbox clock: the wait in seconds after each failed
    /// attempt, the first attempt's wait first.
    GatewaySchedule(&'a [u64]),
}

/// What follows a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterFailure {
    /// No attempt is left.
    GiveUp,
    /// Try again after this real-time wait.
    RetryIn(Duration),
    /// Try again at this sandbox time (Unix seconds).
    RetryAt(i64),
}

/// Decides what follows failed attempt number `attempt` (1-based) that was due at sandbox
/// time `due`. On the gateway's schedule the next attempt is due a fixed wait after this
/// one's due time, not after it ran, so a clock moved days ahead runs every attempt that
/// fell due meanwhile, in order.
pub(crate) fn after_failure(attempt: u32, rule: RetryRule<'_>, due: i64) -> AfterFailure {
    match rule {
        RetryRule::Fast(policy) => {
            if attempt >= policy.max_attempts.max(1) {
                AfterFailure::GiveUp
            } else {
                AfterFailure::RetryIn(policy.backoff(attempt))
            }
        }
        RetryRule::GatewaySchedule(waits) => {
            let index = usize::try_from(attempt.saturating_sub(1)).unwrap_or(usize::MAX);
            match waits.get(index) {
                Some(wait) => AfterFailure::RetryAt(
                    due.saturating_add(i64::try_from(*wait).unwrap_or(i64::MAX)),
                ),
                None => AfterFailure::GiveUp,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn orders() {
        let mut random = StdRng::seed_from_u64(1);
        let cases: [(usize, Option<Reorder>, Vec<usize>); 6] = [
            (4, None, vec![0, 1, 2, 3]),
            (4, Some(Reorder::Reverse), vec![3, 2, 1, 0]),
            (1, Some(Reorder::Reverse), vec![0]),
            (0, Some(Reorder::Shuffle), vec![]),
            (1, Some(Reorder::Shuffle), vec![0]),
            // Two events have one other order.
            (2, Some(Reorder::Shuffle), vec![1, 0]),
        ];
        for (count, reorder, expected) in cases {
            let order = delivery_order(count, reorder, &mut random);
            assert_eq!(order, expected, "{count} {reorder:?}");
        }
    }

    #[test]
    fn shuffles_are_permutations_never_the_emitted_order_and_repeat_with_the_seed() {
        for seed in 0..200 {
            for count in 2..8 {
                let order = delivery_order(
                    count,
                    Some(Reorder::Shuffle),
                    &mut StdRng::seed_from_u64(seed),
                );
                let mut sorted = order.clone();
                sorted.sort_unstable();
                assert_eq!(sorted, (0..count).collect::<Vec<_>>());
                assert_ne!(order, sorted, "seed {seed}");
                let again = delivery_order(
                    count,
                    Some(Reorder::Shuffle),
                    &mut StdRng::seed_from_u64(seed),
                );
                assert_eq!(order, again);
            }
        }
    }

    #[test]
    fn waits() {
        let mut random = StdRng::seed_from_u64(3);
        let fixed = DelayMode {
            min_ms: 40,
            max_ms: None,
        };
        let range = DelayMode {
            min_ms: 10,
            max_ms: Some(20),
        };
        let degenerate = DelayMode {
            min_ms: 30,
            max_ms: Some(30),
        };
        assert_eq!(wait_before(None, &mut random), Duration::ZERO);
        assert_eq!(
            wait_before(Some(&fixed), &mut random),
            Duration::from_millis(40)
        );
        assert_eq!(
            wait_before(Some(&degenerate), &mut random),
            Duration::from_millis(30)
        );
        for _ in 0..100 {
            let wait = wait_before(Some(&range), &mut random);
            assert!((10..=20).contains(&wait.as_millis()), "{wait:?}");
        }
    }

    #[test]
    fn drops() {
        let two = DropMode { attempts: 2 };
        let none = DropMode { attempts: 0 };
        let cases = [
            (1, Some(&two), true),
            (2, Some(&two), true),
            (3, Some(&two), false),
            (1, Some(&none), false),
            (1, None, false),
        ];
        for (attempt, drop, dropped) in cases {
            assert_eq!(is_dropped(attempt, drop), dropped, "{attempt} {drop:?}");
        }
    }

    #[test]
    fn what_follows_a_failure() {
        let policy = RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(1),
            attempt_timeout: Duration::from_secs(1),
        };
        let schedule: &[u64] = &[30, 60];
        let cases = [
            (
                1,
                RetryRule::Fast(&policy),
                AfterFailure::RetryIn(Duration::from_millis(50)),
            ),
            (
                2,
                RetryRule::Fast(&policy),
                AfterFailure::RetryIn(Duration::from_millis(100)),
            ),
            (3, RetryRule::Fast(&policy), AfterFailure::GiveUp),
            (
                1,
                RetryRule::GatewaySchedule(schedule),
                AfterFailure::RetryAt(1_030),
            ),
            (
                2,
                RetryRule::GatewaySchedule(schedule),
                AfterFailure::RetryAt(1_060),
            ),
            (
                3,
                RetryRule::GatewaySchedule(schedule),
                AfterFailure::GiveUp,
            ),
            (1, RetryRule::GatewaySchedule(&[]), AfterFailure::GiveUp),
        ];
        for (attempt, rule, expected) in cases {
            assert_eq!(
                after_failure(attempt, rule, 1_000),
                expected,
                "{attempt} {rule:?}"
            );
        }
    }
}
