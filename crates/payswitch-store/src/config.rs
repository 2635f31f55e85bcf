//! [`StoreConfig`]: pool size, leases, batches, the retry schedule and the entitlement
//! policy; and [`RetrySchedule::delay`], the pure backoff rule.

use std::time::Duration;

use crate::entitlement::policy::EntitlementPolicy;

/// How failed events are retried: exponential backoff from `initial` doubling up to `max`,
/// and after `max_attempts` attempts the event is parked as failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetrySchedule {
    /// The wait after the first failure.
    pub initial: Duration,
    /// The longest wait between two attempts.
    pub max: Duration,
    /// How many attempts (the first included) before an event is parked as failed.
    pub max_attempts: u32,
}

impl Default for RetrySchedule {
    /// 1 s, 2 s, 4 s … capped at one hour, 10 attempts (about 17 minutes of retrying).
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60 * 60),
            max_attempts: 10,
        }
    }
}

impl RetrySchedule {
    /// A schedule with the given first wait, cap and attempt limit.
    pub fn new(initial: Duration, max: Duration, max_attempts: u32) -> Self {
        Self {
            initial,
            max,
            max_attempts,
        }
    }

    /// The wait before the next attempt after `attempts` attempts have failed (1 = the first
    /// failure): `initial × 2^(attempts−1)`, capped at `max`. Deterministic, so tests never
    /// sleep on a random figure.
    pub fn delay(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1);
        if doublings >= 32 {
            return self.max;
        }
        self.initial
            .checked_mul(1u32 << doublings)
            .unwrap_or(self.max)
            .min(self.max)
    }

    /// Says whether an event that has had `attempts` attempts is out of them.
    pub fn exhausted(&self, attempts: u32) -> bool {
        attempts >= self.max_attempts.max(1)
    }
}

/// How a store connects and processes.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StoreConfig {
    /// The most database connections the pool opens (SQLite in memory always uses one).
    pub max_connections: u32,
    /// How long a claimed event stays with the instance that claimed it. An instance that
    /// dies holding events releases them when this runs out; a handler that takes longer is
    /// stopped and the attempt counts as failed.
    pub lease: Duration,
    /// How many events one claim takes.
    pub batch_size: u32,
    /// How long an idle worker waits before looking for due events again.
    pub poll_interval: Duration,
    /// Retries and parking.
    pub retry: RetrySchedule,
    /// Who gets access to what.
    pub entitlement: EntitlementPolicy,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            max_connections: 5,
            lease: Duration::from_secs(60),
            batch_size: 16,
            poll_interval: Duration::from_millis(250),
            retry: RetrySchedule::default(),
            entitlement: EntitlementPolicy::default(),
        }
    }
}

impl StoreConfig {
    /// Sets the pool size.
    pub fn max_connections(mut self, max_connections: u32) -> Self {
        self.max_connections = max_connections;
        self
    }

    /// Sets the lease.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Sets the claim batch size.
    pub fn batch_size(mut self, batch_size: u32) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// Sets the idle poll interval.
    pub fn poll_interval(mut self, poll_interval: Duration) -> Self {
        self.poll_interval = poll_interval;
        self
    }

    /// Sets the retry schedule.
    pub fn retry(mut self, retry: RetrySchedule) -> Self {
        self.retry = retry;
        self
    }

    /// Sets the entitlement policy.
    pub fn entitlement(mut self, entitlement: EntitlementPolicy) -> Self {
        self.entitlement = entitlement;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_then_caps() {
        let schedule = RetrySchedule::new(Duration::from_secs(1), Duration::from_secs(60), 5);
        let delays: Vec<u64> = (1..=9).map(|n| schedule.delay(n).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(schedule.delay(0), Duration::from_secs(1));
        assert_eq!(schedule.delay(u32::MAX), Duration::from_secs(60));
        let huge = RetrySchedule::new(Duration::MAX, Duration::MAX, 1);
        assert_eq!(huge.delay(3), Duration::MAX);
    }

    #[test]
    fn attempts_run_out_at_the_limit() {
        let schedule = RetrySchedule::new(Duration::ZERO, Duration::ZERO, 3);
        assert!(!schedule.exhausted(2));
        assert!(schedule.exhausted(3));
        assert!(RetrySchedule::new(Duration::ZERO, Duration::ZERO, 0).exhausted(1));
    }
}
