//! Retries: [`RetryConfig`] (how often and how patiently, for applications) and the loop
//! the HTTP adapters share ([`with_retries`], for gateway implementations).
//!
//! Which failures may be retried is each adapter's decision (Stripe retries POSTs under an
//! idempotency key; Creem only what cannot have created anything), so the adapter classifies
//! each attempt's failure; this loop only counts attempts and waits per [`RetryConfig`].

use std::future::Future;
use std::time::Duration;

use serde::Deserialize;

use crate::error::PaymentError;

/// Retry settings: how many times, and how long to wait in between.
///
/// Which failures are retried is each adapter's policy (it depends on whether the gateway
/// has idempotency keys); this only says how often and how patiently.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryConfig {
    /// Retries after the first attempt (2 by default, as Stripe's SDKs).
    pub max_retries: u32,
    /// The first wait (`initial_backoff_ms`, 500 ms by default).
    #[serde(rename = "initial_backoff_ms", with = "millis")]
    pub initial_backoff: Duration,
    /// The longest computed wait (`max_backoff_ms`, 5 s).
    #[serde(rename = "max_backoff_ms", with = "millis")]
    pub max_backoff: Duration,
    /// The longest wait a gateway's `Retry-After` is honoured up to (`max_retry_after_ms`,
    /// 60 s by default, as Stripe's SDKs); a longer ask is cut to this.
    #[serde(rename = "max_retry_after_ms", with = "millis")]
    pub max_retry_after: Duration,
    /// Randomizes waits between half and all of the computed backoff.
    pub jitter: bool,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_retries: 2,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(60),
            jitter: true,
        }
    }
}

impl RetryConfig {
    /// The most retries a configuration may ask for: more only multiplies the load on a
    /// gateway that is already failing.
    pub const MAX_RETRIES: u32 = 10;

    /// Checks the bounds: at most [`RetryConfig::MAX_RETRIES`] retries.
    pub fn validate(&self) -> Result<(), PaymentError> {
        if self.max_retries > Self::MAX_RETRIES {
            return Err(PaymentError::config(format!(
                "retry.max_retries is {}; at most {} are allowed",
                self.max_retries,
                Self::MAX_RETRIES
            )));
        }
        Ok(())
    }

    /// No retries at all.
    pub fn disabled() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// Retries without waiting: for tests, which must never sleep.
    pub fn immediate(max_retries: u32) -> Self {
        Self {
            max_retries,
            initial_backoff: Duration::ZERO,
            max_backoff: Duration::ZERO,
            max_retry_after: Duration::ZERO,
            jitter: false,
        }
    }

    /// How long to wait before retry number `retry` (1 for the first retry).
    ///
    /// Exponential from `initial_backoff`, capped at `max_backoff`, with jitter between half
    /// and all of it (never below `initial_backoff`); a gateway's `Retry-After` raises the
    /// wait up to `max_retry_after`.
    pub fn backoff(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let exponent = retry.saturating_sub(1).min(31);
        let mut wait = self
            .initial_backoff
            .saturating_mul(1u32 << exponent)
            .min(self.max_backoff);
        if self.jitter && !wait.is_zero() {
            let factor: f64 = 0.5 * (1.0 + rand::random::<f64>());
            wait = wait
                .mul_f64(factor)
                .max(self.initial_backoff.min(self.max_backoff));
        }
        match retry_after {
            Some(asked) => wait.max(asked.min(self.max_retry_after)),
            None => wait,
        }
    }
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        u64::deserialize(deserializer).map(Duration::from_millis)
    }
}

/// How one failed attempt should be treated.
#[derive(Debug)]
pub enum AttemptError {
    /// Safe to try again, optionally no sooner than `retry_after`.
    Retry {
        /// The error to return if no retries are left.
        error: PaymentError,
        /// The wait the gateway asked for (`Retry-After`), if any.
        retry_after: Option<Duration>,
    },
    /// Final: return this error now.
    Stop(PaymentError),
}

/// Runs `attempt` (called with the attempt number, starting at 1) until it succeeds, fails
/// with [`AttemptError::Stop`], or `config.max_retries` retries are used up.
pub async fn with_retries<T, F, Fut>(
    config: &RetryConfig,
    mut attempt: F,
) -> Result<T, PaymentError>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, AttemptError>>,
{
    let mut number = 1u32;
    loop {
        match attempt(number).await {
            Ok(value) => return Ok(value),
            Err(AttemptError::Stop(error)) => return Err(error),
            Err(AttemptError::Retry { error, retry_after }) => {
                if number > config.max_retries {
                    return Err(error);
                }
                let wait = config.backoff(number, retry_after);
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
                tracing::debug!(
                    attempt = number,
                    wait_ms = wait.as_millis() as u64,
                    "retrying"
                );
                number += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn retryable() -> AttemptError {
        AttemptError::Retry {
            error: PaymentError::Timeout { attempts: 0 },
            retry_after: None,
        }
    }

    #[tokio::test]
    async fn stops_after_max_retries() {
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = with_retries(&RetryConfig::immediate(2), |_| {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err(retryable()) }
        })
        .await;
        assert!(matches!(result, Err(PaymentError::Timeout { .. })));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn stop_is_not_retried_and_success_returns() {
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = with_retries(&RetryConfig::immediate(5), |_| {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err(AttemptError::Stop(PaymentError::config("no"))) }
        })
        .await;
        assert!(matches!(result, Err(PaymentError::Config(_))));
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        let result = with_retries(&RetryConfig::immediate(5), |number| async move {
            if number < 3 {
                Err(retryable())
            } else {
                Ok(number)
            }
        })
        .await;
        assert_eq!(result.unwrap(), 3);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let config = RetryConfig {
            jitter: false,
            ..RetryConfig::default()
        };
        assert_eq!(config.backoff(1, None), Duration::from_millis(500));
        assert_eq!(config.backoff(2, None), Duration::from_millis(1000));
        assert_eq!(config.backoff(4, None), Duration::from_millis(4000));
        assert_eq!(config.backoff(5, None), Duration::from_secs(5));
        assert_eq!(config.backoff(40, None), Duration::from_secs(5));
        assert_eq!(
            config.backoff(1, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        // Retry-After is honoured past max_backoff, up to max_retry_after (60 s).
        assert_eq!(
            config.backoff(1, Some(Duration::from_secs(30))),
            Duration::from_secs(30)
        );
        assert_eq!(
            config.backoff(1, Some(Duration::from_secs(600))),
            Duration::from_secs(60)
        );
        let jittered = RetryConfig::default();
        for retry in 1..6 {
            let wait = jittered.backoff(retry, None);
            assert!(wait >= Duration::from_millis(500) && wait <= Duration::from_secs(5));
        }
        assert_eq!(
            RetryConfig::immediate(3).backoff(3, Some(Duration::from_secs(9))),
            Duration::ZERO
        );
    }
}
