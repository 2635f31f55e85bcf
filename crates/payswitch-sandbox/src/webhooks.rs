//! Signed webhook delivery: at-least-once, retried with backoff, every
//! attempt recorded. Runs in spawned tasks so it never delays an API
//! response.

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::server::App;
use crate::state::{wall_clock_seconds, Delivery, Gateway, OutgoingEvent};

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

type HmacSha256 = Hmac<Sha256>;

/// Returns lowercase hex HMAC-SHA256 of `message` keyed with `secret`.
fn hmac_hex(secret: &[u8], message: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail; an empty
    // signature would only make verification fail, never panic.
    match HmacSha256::new_from_slice(secret) {
        Ok(mut mac) => {
            mac.update(message);
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

/// Builds the signature headers for one attempt. Stripe signs
/// `"{t}.{body}"` with the whole `whsec_` secret and uses the real wall
/// clock for `t`, so receivers' tolerance checks pass even after the
/// sandbox clock was advanced.
fn signature_headers(app: &App, gateway: Gateway, body: &str) -> Vec<(String, String)> {
    match gateway {
        Gateway::Stripe => {
            let timestamp = wall_clock_seconds();
            let signed = format!("{timestamp}.{body}");
            let signature = hmac_hex(
                app.config.stripe_webhook_secret.as_bytes(),
                signed.as_bytes(),
            );
            vec![
                (
                    "content-type".into(),
                    "application/json; charset=utf-8".into(),
                ),
                (
                    "user-agent".into(),
                    "Stripe/1.0 (+https://stripe.com/docs/webhooks)".into(),
                ),
                (
                    "stripe-signature".into(),
                    format!("t={timestamp},v1={signature}"),
                ),
            ]
        }
        Gateway::Creem => {
            let signature = hmac_hex(app.config.creem_webhook_secret.as_bytes(), body.as_bytes());
            vec![
                ("content-type".into(), "application/json".into()),
                ("creem-signature".into(), signature),
            ]
        }
    }
}

/// Starts delivering one event to one endpoint in the background.
pub(crate) fn spawn_delivery(app: Arc<App>, event: OutgoingEvent, url: String) {
    let runtime = app.runtime.clone();
    runtime.spawn(async move {
        let policy = app.config.retry;
        let attempts = policy.max_attempts.max(1);
        let mut shutdown = app.shutdown.clone();
        for attempt in 1..=attempts {
            let headers = signature_headers(&app, event.gateway, &event.body);
            let mut request = app
                .http
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
            app.lock().deliveries.push(Delivery {
                gateway: event.gateway,
                event_id: event.event_id.clone(),
                event_type: event.event_type.clone(),
                url: url.clone(),
                attempt,
                headers,
                body: event.body.clone(),
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

    #[test]
    fn hmac_matches_known_vector() {
        // RFC 4231 test case 2.
        assert_eq!(
            hmac_hex(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
