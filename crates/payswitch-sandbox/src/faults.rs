//! Fault injection: queued misbehaviours applied to matching gateway
//! requests, for testing retries, timeouts and idempotency.

use std::time::Duration;

use http::Method;
use serde::{Deserialize, Serialize};

use crate::error::SandboxError;

/// Longest `Delay` fault: 5 minutes. Longer ones would hold a connection (and a
/// connection slot) for hours; the admin API refuses them.
pub const MAX_FAULT_DELAY: Duration = Duration::from_secs(5 * 60);

/// [`MAX_FAULT_DELAY`] in milliseconds.
fn max_delay_millis() -> u64 {
    u64::try_from(MAX_FAULT_DELAY.as_millis()).unwrap_or(u64::MAX)
}

/// What the sandbox does to a request matched by a [`Fault`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum FaultKind {
    /// Answer with this status (500, 503, 429, ...) in the gateway's error
    /// shape without processing the request, with `Retry-After` when given.
    Respond {
        /// HTTP status to answer.
        status: u16,
        /// Seconds for the `Retry-After` header.
        #[serde(default)]
        retry_after_seconds: Option<u64>,
    },
    /// Wait this long, then process the request normally.
    Delay {
        /// Milliseconds to wait.
        millis: u64,
    },
    /// Close the TCP connection without processing the request and without
    /// any HTTP response.
    DropConnection,
    /// Process the request (objects are created, the idempotency result is
    /// saved), then close the connection without a response.
    ProcessThenDrop,
    /// Process the request, then answer this status instead of the result.
    ProcessThenFail {
        /// HTTP status to answer, usually 500.
        status: u16,
    },
    /// The endpoint starts executing (validation passed, effects persist) and then fails with
    /// this status, usually 500. Unlike `ProcessThenFail`, the failure is the gateway's own:
    /// Stripe saves it under the request's `Idempotency-Key` and replays it to retries.
    /// A request that fails validation answers its 400 instead.
    FailDuringExecution {
        /// HTTP status to answer, usually 500.
        status: u16,
    },
}

/// A queued fault: applies to the next `count` requests matching `method`
/// (any method when `None`) and `path_prefix`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    /// HTTP method to match, e.g. `POST`; `None` matches every method.
    #[serde(default)]
    pub method: Option<String>,
    /// Path prefix to match, e.g. `/v1/checkout/sessions`.
    pub path_prefix: String,
    /// How many matching requests this fault still applies to.
    #[serde(default = "one")]
    pub count: u32,
    /// What to do to the matching requests.
    #[serde(flatten)]
    pub kind: FaultKind,
}

fn one() -> u32 {
    1
}

impl Fault {
    /// Creates a fault for the next matching request.
    pub fn new(method: Option<&str>, path_prefix: &str, kind: FaultKind) -> Self {
        Self {
            method: method.map(str::to_owned),
            path_prefix: path_prefix.to_owned(),
            count: 1,
            kind,
        }
    }

    /// Applies the fault to `count` matching requests instead of one.
    pub fn times(mut self, count: u32) -> Self {
        self.count = count;
        self
    }

    /// Refuses a fault the sandbox would not apply as given.
    ///
    /// # Errors
    /// [`SandboxError::InvalidFault`] for a `Delay` longer than [`MAX_FAULT_DELAY`], or a
    /// status an HTTP response cannot carry (outside 100..=599).
    pub(crate) fn check(&self) -> Result<(), SandboxError> {
        match &self.kind {
            FaultKind::Respond { status, .. }
            | FaultKind::ProcessThenFail { status }
            | FaultKind::FailDuringExecution { status }
                if !(100..=599).contains(status) =>
            {
                Err(SandboxError::InvalidFault(format!(
                    "status {status} is not an HTTP status (100 to 599)"
                )))
            }
            FaultKind::Delay { millis } if *millis > max_delay_millis() => {
                Err(SandboxError::InvalidFault(format!(
                    "a delay of {millis} ms is longer than the sandbox allows ({} ms, 5 minutes)",
                    max_delay_millis()
                )))
            }
            _ => Ok(()),
        }
    }

    /// Returns the fault with a `Delay` shortened to [`MAX_FAULT_DELAY`] and a status outside
    /// 100..=599 replaced by 500.
    pub(crate) fn bounded(mut self) -> Self {
        match &mut self.kind {
            FaultKind::Delay { millis } => *millis = (*millis).min(max_delay_millis()),
            FaultKind::Respond { status, .. }
            | FaultKind::ProcessThenFail { status }
            | FaultKind::FailDuringExecution { status } => {
                if !(100..=599).contains(status) {
                    *status = 500;
                }
            }
            FaultKind::DropConnection | FaultKind::ProcessThenDrop => {}
        }
        self
    }

    fn matches(&self, method: &Method, path: &str) -> bool {
        let method_matches = self
            .method
            .as_deref()
            .is_none_or(|expected| expected.eq_ignore_ascii_case(method.as_str()));
        method_matches && path.starts_with(&self.path_prefix)
    }
}

/// Takes one use of the first queued fault matching the request, dropping
/// faults whose count is used up.
pub(crate) fn take_matching(
    faults: &mut Vec<Fault>,
    method: &Method,
    path: &str,
) -> Option<FaultKind> {
    let position = faults
        .iter()
        .position(|fault| fault.count > 0 && fault.matches(method, path))?;
    let fault = faults.get_mut(position)?;
    fault.count -= 1;
    let kind = fault.kind.clone();
    if fault.count == 0 {
        faults.remove(position);
    }
    Some(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_apply_in_order_and_run_out() {
        let mut faults = vec![
            Fault::new(Some("POST"), "/v1/checkout", FaultKind::DropConnection).times(2),
            Fault::new(None, "/v1", FaultKind::Delay { millis: 5 }),
        ];
        assert_eq!(
            take_matching(&mut faults, &Method::GET, "/v1/checkout/sessions"),
            Some(FaultKind::Delay { millis: 5 })
        );
        assert_eq!(
            take_matching(&mut faults, &Method::POST, "/v1/checkout/sessions"),
            Some(FaultKind::DropConnection)
        );
        assert_eq!(
            take_matching(&mut faults, &Method::POST, "/v1/checkout/sessions"),
            Some(FaultKind::DropConnection)
        );
        assert_eq!(
            take_matching(&mut faults, &Method::POST, "/v1/checkout/sessions"),
            None
        );
        assert!(faults.is_empty());
    }

    #[test]
    fn delays_are_capped_at_five_minutes() {
        let at_cap = Fault::new(None, "/v1", FaultKind::Delay { millis: 300_000 });
        assert!(at_cap.check().is_ok());
        let past = Fault::new(None, "/v1", FaultKind::Delay { millis: u64::MAX });
        assert!(matches!(past.check(), Err(SandboxError::InvalidFault(_))));
        assert_eq!(past.bounded().kind, FaultKind::Delay { millis: 300_000 });
    }

    #[test]
    fn statuses_must_be_http_statuses() {
        // Found by the `sandbox_dispatch` fuzz target: a fault injected with status 682 made
        // the sandbox answer a status no HTTP client accepts.
        for kind in [
            FaultKind::Respond {
                status: 682,
                retry_after_seconds: None,
            },
            FaultKind::ProcessThenFail { status: 99 },
            FaultKind::FailDuringExecution { status: 600 },
        ] {
            let fault = Fault::new(None, "/v1", kind);
            assert!(matches!(fault.check(), Err(SandboxError::InvalidFault(_))));
            assert!(fault.bounded().check().is_ok());
        }
        let fine = Fault::new(None, "/v1", FaultKind::ProcessThenFail { status: 503 });
        assert!(fine.check().is_ok());
    }

    #[test]
    fn fault_json_shape() {
        let fault: Fault = serde_json::from_str(
            r#"{"method":"POST","path_prefix":"/v1/checkouts","count":2,"kind":"respond","status":429,"retry_after_seconds":3}"#,
        )
        .unwrap();
        assert_eq!(fault.count, 2);
        assert_eq!(
            fault.kind,
            FaultKind::Respond {
                status: 429,
                retry_after_seconds: Some(3)
            }
        );
    }
}
