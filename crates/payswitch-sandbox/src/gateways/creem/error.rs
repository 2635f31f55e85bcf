//! Creem's error bodies: `{trace_id, status, error, message[], timestamp}`, and the failed call
//! ([`Failure`]) every endpoint returns.

use axum::response::Response;
use http::StatusCode;
use serde_json::json;

use crate::respond;
use crate::state::wall_clock_seconds;

/// A failed Creem call: status and the `message` list.
pub(crate) struct Failure {
    pub(crate) status: StatusCode,
    pub(crate) messages: Vec<String>,
}

impl Failure {
    /// Returns the `message` list.
    pub(crate) fn messages(&self) -> &[String] {
        &self.messages
    }

    /// A 400 with these messages.
    pub(crate) fn bad_request(messages: Vec<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            messages,
        }
    }

    /// A 404 with this message.
    pub(crate) fn not_found(message: &str) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            messages: vec![message.to_owned()],
        }
    }
}

/// Builds a Creem error response.
pub(crate) fn error_response(status: StatusCode, messages: Vec<String>) -> Response {
    let error = status.canonical_reason().unwrap_or("Error");
    let now_ms = wall_clock_seconds().saturating_mul(1000);
    let body = json!({
        "trace_id": trace_id(),
        "status": status.as_u16(),
        "error": error,
        "message": messages,
        "timestamp": now_ms,
    });
    respond::json(status, body.to_string())
}

/// Returns a UUID-shaped trace id, as Creem's are.
fn trace_id() -> String {
    let hex = hex::encode(rand::random::<[u8; 16]>());
    let part = |range: std::ops::Range<usize>| hex.get(range).unwrap_or("").to_owned();
    format!(
        "{}-{}-{}-{}-{}",
        part(0..8),
        part(8..12),
        part(12..16),
        part(16..20),
        part(20..32)
    )
}

/// Builds the error answered to a body over the size limit or for an injected fault.
pub(crate) fn error_with_message(status: StatusCode, message: String) -> Response {
    error_response(status, vec![message])
}
