//! Stripe's error answers mapped into [`PaymentError`], in one function.

use std::time::Duration;

use payswitch_core::adapter::http::scrub;
use payswitch_core::{GatewayDetails, PaymentError};

use crate::config::KIND;
use crate::wire::{ApiError, ErrorEnvelope};

/// A non-2xx answer from Stripe, with what is needed to describe it.
#[derive(Debug)]
pub(crate) struct ErrorAnswer<'a> {
    /// The HTTP status.
    pub(crate) status: u16,
    /// The `Request-Id` header.
    pub(crate) request_id: Option<String>,
    /// The `Retry-After` header (seconds or an HTTP date), as a wait.
    pub(crate) retry_after: Option<Duration>,
    /// The raw body.
    pub(crate) body: &'a [u8],
    /// Attempts made so far, this one included.
    pub(crate) attempts: u32,
    /// What was asked for, for `NotFound` (a checkout id, or the path).
    pub(crate) subject: &'a str,
    /// The API key, scrubbed from any message that echoes it.
    pub(crate) secret_key: &'a str,
}

/// Maps a Stripe error answer to the [`PaymentError`] variant that means the same thing.
///
/// - `idempotency_error` (a key reused with other parameters) → `IdempotencyConflict`;
/// - 400 `amount_too_small` → `AmountTooSmall`; 400 `rate_limit` → `RateLimited`;
///   other 400 → `InvalidRequest` naming Stripe's `param`;
/// - 401 → `Authentication`; 403 → `PermissionDenied`; 404 → `NotFound`;
/// - 409 (a request with the same key still running) → `IdempotencyConflict`, except
///   `lock_timeout` (another request holds the object) → `Provider`;
/// - 429 → `RateLimited` with `Retry-After`; 402, other 4xx and 5xx → `Provider`.
pub(crate) fn map_error(answer: ErrorAnswer<'_>) -> PaymentError {
    let api_error = serde_json::from_slice::<ErrorEnvelope>(answer.body)
        .map(|envelope| envelope.error)
        .unwrap_or_default();
    let message = scrub(
        api_error
            .message
            .clone()
            .unwrap_or_else(|| default_message(answer.status)),
        answer.secret_key,
    );
    let details = Box::new(
        GatewayDetails::new(KIND, answer.status, message.clone())
            .with_code(
                api_error
                    .code
                    .clone()
                    .or_else(|| api_error.error_type.clone()),
            )
            .with_request_id(answer.request_id)
            .with_attempts(answer.attempts),
    );
    tracing::debug!(
        status = answer.status,
        error_type = api_error.error_type.as_deref(),
        code = api_error.code.as_deref(),
        param = api_error.param.as_deref(),
        decline_code = api_error.decline_code.as_deref(),
        doc_url = api_error.doc_url.as_deref(),
        "stripe refused the request"
    );
    let gateway = Some(details.clone());
    let code = api_error.code.as_deref();
    let is_idempotency_error = api_error.error_type.as_deref() == Some("idempotency_error");
    if is_idempotency_error {
        return PaymentError::IdempotencyConflict { message, gateway };
    }
    match answer.status {
        400 if code == Some("amount_too_small") => {
            PaymentError::AmountTooSmall { message, gateway }
        }
        400 if code == Some("rate_limit") => PaymentError::RateLimited {
            retry_after: answer.retry_after,
            gateway,
        },
        400 => PaymentError::InvalidRequest {
            field: field_of(&api_error),
            message,
            gateway,
        },
        401 => PaymentError::Authentication { gateway },
        403 => PaymentError::PermissionDenied { gateway },
        404 => PaymentError::NotFound {
            id: answer.subject.to_owned(),
            gateway,
        },
        409 if code == Some("lock_timeout") => PaymentError::Provider(details),
        409 => PaymentError::IdempotencyConflict { message, gateway },
        429 => PaymentError::RateLimited {
            retry_after: answer.retry_after,
            gateway,
        },
        _ => PaymentError::Provider(details),
    }
}

/// The request field Stripe blames, in payswitch's spelling where one maps.
fn field_of(error: &ApiError) -> String {
    match error.param.as_deref() {
        Some("client_reference_id") => "reference".to_owned(),
        Some("allow_promotion_codes") => "allow_discount_codes".to_owned(),
        Some("expires_at") => "expires_in".to_owned(),
        Some(param) if param.starts_with("discounts") => "discount_code".to_owned(),
        Some(param) if !param.is_empty() => param.to_owned(),
        Some(_) | None => "request".to_owned(),
    }
}

fn default_message(status: u16) -> String {
    format!("HTTP {status} without a Stripe error body")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> PaymentError {
        map_error(ErrorAnswer {
            status,
            request_id: Some("req_1".into()),
            retry_after: None,
            body: body.as_bytes(),
            attempts: 1,
            subject: "cs_test_1",
            secret_key: "sk_test_secret",
        })
    }

    #[test]
    fn maps_codes_and_statuses() {
        let too_small = answer(
            400,
            r#"{"error":{"type":"invalid_request_error","code":"amount_too_small","message":"too small"}}"#,
        );
        assert!(matches!(too_small, PaymentError::AmountTooSmall { .. }));
        let invalid = answer(
            400,
            r#"{"error":{"type":"invalid_request_error","code":"parameter_missing","param":"client_reference_id","message":"bad"}}"#,
        );
        match invalid {
            PaymentError::InvalidRequest { field, .. } => assert_eq!(field, "reference"),
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(answer(502, "<html>"), PaymentError::Provider(_)));
        assert!(matches!(answer(402, "{}"), PaymentError::Provider(_)));
        let lock = answer(
            409,
            r#"{"error":{"type":"invalid_request_error","code":"lock_timeout"}}"#,
        );
        assert!(matches!(lock, PaymentError::Provider(_)));
        assert!(lock.is_retryable());
    }

    #[test]
    fn scrubs_the_key_from_messages() {
        let error = answer(
            401,
            r#"{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: sk_test_secret"}}"#,
        );
        assert!(!error.to_string().contains("sk_test_secret"));
        assert!(!format!("{error:?}").contains("sk_test_secret"));
    }
}
