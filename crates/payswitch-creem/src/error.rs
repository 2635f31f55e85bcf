//! Creem's error answers mapped to `PaymentError`, in one function.

use std::time::Duration;

use http::header::RETRY_AFTER;
use http::HeaderMap;
use payswitch_core::adapter::http::{parse_retry_after, scrub};
use payswitch_core::{GatewayDetails, PaymentError, Secret};
use time::OffsetDateTime;

use crate::config::KIND;
use crate::wire;

/// The longest stretch of an unparseable error body kept in a message.
const MAX_RAW_MESSAGE_CHARS: usize = 300;

/// A non-2xx answer from Creem, as the client saw it.
#[derive(Debug)]
pub(crate) struct ErrorResponse<'a> {
    /// The HTTP status.
    pub(crate) status: u16,
    /// The body bytes.
    pub(crate) body: &'a [u8],
    /// `Retry-After`, when present and readable.
    pub(crate) retry_after: Option<Duration>,
    /// Attempts made, this one included.
    pub(crate) attempts: u32,
    /// The id the request looked up (a checkout id, or the product id on create), for NotFound.
    pub(crate) looked_up: &'a str,
}

/// Maps Creem's `{trace_id, status, error, message}` answer to a `PaymentError`.
///
/// The HTTP status decides the variant (Creem's `error` text is unreliable: its documented 404
/// says "Bad Request"): 400 and other 4xx → `InvalidRequest`, 401/403 → `Authentication`,
/// 404 → `NotFound`, 429 → `RateLimited`, 5xx → `Provider`. `trace_id` becomes the request id.
/// The API key is scrubbed from anything quoted, in case a gateway ever echoes it.
pub(crate) fn map_error(response: &ErrorResponse<'_>, api_key: &Secret) -> PaymentError {
    let (code, message, request_id) = read_body(response.body);
    let message = scrub(message, api_key.expose());
    let code = code.map(|code| scrub(code, api_key.expose()));
    let details = Box::new(
        GatewayDetails::new(KIND, response.status, message.clone())
            .with_code(code)
            .with_request_id(request_id)
            .with_attempts(response.attempts),
    );
    match response.status {
        401 | 403 => PaymentError::Authentication {
            gateway: Some(details),
        },
        404 => PaymentError::NotFound {
            id: response.looked_up.to_owned(),
            gateway: Some(details),
        },
        429 => PaymentError::RateLimited {
            retry_after: response.retry_after,
            gateway: Some(details),
        },
        400..=499 => PaymentError::InvalidRequest {
            field: field_named_in(&message).to_owned(),
            message,
            gateway: Some(details),
        },
        _ => PaymentError::Provider(details),
    }
}

/// Reads Creem's error body as (gateway code, message, request id): the usual
/// `{trace_id, error, message}`, the credits endpoints' nested `error`, or raw text.
fn read_body(body: &[u8]) -> (Option<String>, String, Option<String>) {
    let parsed: Option<wire::ErrorBody> = serde_json::from_slice(body).ok();
    match parsed {
        Some(body) => {
            let messages = match body.message {
                Some(serde_json::Value::Array(items)) => items
                    .iter()
                    .map(|item| match item {
                        serde_json::Value::String(text) => text.clone(),
                        other => other.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
                Some(serde_json::Value::String(text)) => text,
                Some(serde_json::Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            };
            match body.error {
                Some(wire::ErrorField::Text(text)) => (Some(text), messages, body.trace_id),
                Some(wire::ErrorField::Nested(nested)) => {
                    let text = match nested.message {
                        Some(text) if messages.is_empty() => text,
                        Some(_) | None => messages,
                    };
                    let request_id = body.trace_id.or(nested.request_id);
                    (nested.code.or(nested.error_type), text, request_id)
                }
                Some(wire::ErrorField::Other(_)) | None => (None, messages, body.trace_id),
            }
        }
        None => (None, raw_text(body), None),
    }
}

/// Reads `Retry-After` as delay seconds or an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap, now: OffsetDateTime) -> Option<Duration> {
    parse_retry_after(headers.get(RETRY_AFTER)?.to_str().ok()?, now)
}

/// The request field a Creem validation message starts with ("product_id must be a string"),
/// named as in `CheckoutRequest`; `request` when none is recognized.
fn field_named_in(message: &str) -> &'static str {
    let first = message
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .next()
        .unwrap_or_default();
    match first.split('.').next().unwrap_or_default() {
        "product_id" => "line_items[0].product",
        "units" => "line_items[0].quantity",
        "request_id" => "reference",
        "discount_code" => "discount_code",
        "success_url" => "success_url",
        "metadata" => "metadata",
        "customer" => "customer",
        _ => "request",
    }
}

/// A body that is not Creem's JSON (a proxy's HTML page, say), shortened for the message.
fn raw_text(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim();
    let mut short: String = trimmed.chars().take(MAX_RAW_MESSAGE_CHARS).collect();
    if trimmed.chars().count() > MAX_RAW_MESSAGE_CHARS {
        short.push('…');
    }
    short
}

#[cfg(test)]
mod tests {
    use http::header::HeaderValue;

    use super::*;

    fn map(status: u16, body: &str) -> PaymentError {
        map_error(
            &ErrorResponse {
                status,
                body: body.as_bytes(),
                retry_after: None,
                attempts: 1,
                looked_up: "ch_1",
            },
            &Secret::new("creem_test_SECRET"),
        )
    }

    #[test]
    fn validation_messages_name_the_field() {
        let error = map(
            400,
            r#"{"trace_id":"t1","status":400,"error":"Bad Request","message":["units must be a positive number"]}"#,
        );
        match error {
            PaymentError::InvalidRequest { field, gateway, .. } => {
                assert_eq!(field, "line_items[0].quantity");
                assert_eq!(gateway.unwrap().request_id.as_deref(), Some("t1"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn the_nested_credits_shape_and_raw_text_are_read() {
        let nested = map(
            422,
            r#"{"error":{"type":"invalid_request_error","code":"unbalanced_transaction","message":"no","request_id":"req_1"}}"#,
        );
        let details = nested.gateway().unwrap();
        assert_eq!(details.code.as_deref(), Some("unbalanced_transaction"));
        assert_eq!(details.request_id.as_deref(), Some("req_1"));
        assert_eq!(details.message, "no");
        let html = map(502, "<html>bad gateway</html>");
        assert!(matches!(html, PaymentError::Provider(_)));
        assert_eq!(html.gateway().unwrap().message, "<html>bad gateway</html>");
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = OffsetDateTime::from_unix_timestamp(784_111_777).unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(7)));
        // 784111777 is Sun, 06 Nov 1994 08:49:37 GMT.
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Sun, 06 Nov 1994 08:49:47 GMT"),
        );
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(10)));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers, now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn an_echoed_key_is_scrubbed() {
        let error = map(403, r#"{"message":"key creem_test_SECRET is invalid"}"#);
        assert!(!format!("{error} {error:?}").contains("SECRET"));
    }
}
