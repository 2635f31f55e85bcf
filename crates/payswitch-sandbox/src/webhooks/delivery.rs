//! Webhook delivery: at-least-once, retried with backoff, every attempt recorded. Runs in
//! spawned tasks so it never delays an API response. The signature headers come from the
//! caller, so nothing here knows a gateway.

use std::time::Duration;

use tokio::sync::{watch, OwnedSemaphorePermit};

use crate::state::{recorded_body, Delivery, OutgoingEvent};

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
    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.initial_backoff
            .checked_mul(factor)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff)
    }
}

/// What a delivery task needs from the running sandbox.
pub(crate) struct DeliveryContext {
    /// The slot this delivery occupies until its last attempt.
    pub(crate) permit: OwnedSemaphorePermit,
    /// The runtime to spawn the task on.
    pub(crate) runtime: tokio::runtime::Handle,
    /// The HTTP client that posts the events.
    pub(crate) http: reqwest::Client,
    /// Flips to `true` when the sandbox stops; pending retries are abandoned.
    pub(crate) shutdown: watch::Receiver<bool>,
    /// How failed attempts are retried.
    pub(crate) policy: RetryPolicy,
}

/// Starts delivering one event to one endpoint in the background. `sign` builds the headers
/// of each attempt from the body (signatures may carry a timestamp); `record` keeps the log.
pub(crate) fn spawn_delivery(
    context: DeliveryContext,
    event: OutgoingEvent,
    url: String,
    sign: impl Fn(&str) -> Vec<(String, String)> + Send + 'static,
    record: impl Fn(Delivery) + Send + 'static,
) {
    let DeliveryContext {
        permit,
        runtime,
        http,
        mut shutdown,
        policy,
    } = context;
    runtime.spawn(async move {
        let _permit = permit;
        let (recorded, body_truncated) = recorded_body(event.body.as_bytes());
        let attempts = policy.max_attempts.max(1);
        for attempt in 1..=attempts {
            let headers = sign(&event.body);
            let mut request = http
                .post(&url)
                .timeout(policy.attempt_timeout)
                .body(event.body.clone());
            for (name, value) in &headers {
                request = request.header(name.as_str(), value.as_str());
            }
            let (response_status, error) = match request.send().await {
                Ok(response) => (Some(response.status().as_u16()), None),
                Err(error) => (None, Some(error.to_string())),
            };
            let delivered = response_status.is_some_and(|status| (200..300).contains(&status));
            record(Delivery {
                gateway: event.gateway,
                event_id: event.event_id.clone(),
                event_type: event.event_type.clone(),
                url: url.clone(),
                attempt,
                headers,
                body: recorded.clone(),
                body_truncated,
                response_status,
                error,
            });
            if delivered || attempt == attempts || *shutdown.borrow() {
                break;
            }
            tokio::select! {
                _ = tokio::time::sleep(policy.backoff(attempt)) => {}
                _ = shutdown.changed() => break,
            }
        }
    });
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
