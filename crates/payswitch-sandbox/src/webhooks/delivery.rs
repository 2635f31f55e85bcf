//! One webhook attempt on the wire, and the sandbox's fast [`RetryPolicy`] for failed ones.
//! The signature headers come from the caller, so nothing here knows a gateway.

use std::time::Duration;

/// How webhook deliveries are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first one included (at least 1).
    pub max_attempts: u32,
    /// Wait before the first retry; doubled after each failed attempt.
    pub initial_backoff: Duration,
    /// Upper bound of the wait between attempts.
    pub max_backoff: Duration,
    /// How long one attempt may take before it counts as failed.
    pub attempt_timeout: Duration,
}

impl Default for RetryPolicy {
    /// Fast defaults for tests: 5 attempts, 50 ms doubling up to 2 s,
    /// 5 s per attempt.
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(2),
            attempt_timeout: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// Returns the wait after failed attempt number `attempt` (1-based).
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.initial_backoff
            .checked_mul(factor)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff)
    }
}

/// What one attempt got back: the endpoint's status, or the network error or timeout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AttemptResult {
    pub(crate) status: Option<u16>,
    pub(crate) error: Option<String>,
}

impl AttemptResult {
    /// Whether the endpoint accepted the event: a 2xx answer. Redirects are not followed and
    /// count as failures, as at the gateways.
    pub(crate) fn accepted(&self) -> bool {
        self.status
            .is_some_and(|status| (200..300).contains(&status))
    }
}

/// Posts one attempt: `body` with `headers` (the signature among them) to `url`, bounded by
/// `timeout`.
pub(crate) async fn send_attempt(
    http: &reqwest::Client,
    url: &str,
    headers: &[(String, String)],
    body: &str,
    timeout: Duration,
) -> AttemptResult {
    let mut request = http.post(url).timeout(timeout).body(body.to_owned());
    for (name, value) in headers {
        request = request.header(name.as_str(), value.as_str());
    }
    match request.send().await {
        Ok(response) => AttemptResult {
            status: Some(response.status().as_u16()),
            error: None,
        },
        Err(error) => AttemptResult {
            status: None,
            error: Some(error.to_string()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let policy = RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(500),
            attempt_timeout: Duration::from_secs(1),
        };
        assert_eq!(policy.backoff(1), Duration::from_millis(100));
        assert_eq!(policy.backoff(2), Duration::from_millis(200));
        assert_eq!(policy.backoff(4), Duration::from_millis(500));
        assert_eq!(policy.backoff(100), Duration::from_millis(500));
    }
}
