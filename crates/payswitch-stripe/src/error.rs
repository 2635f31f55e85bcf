//! Stripe's error answers mapped into [`PaymentError`], in one function.

use std::time::Duration;

use payswitch_core::adapter::http::scrub;
use payswitch_core::{GatewayDetails, PaymentError, Secret};

use crate::config::KIND;
use crate::wire::{ApiError, ErrorEnvelope};

/// A non-2xx answer from Stripe, with what is needed to describe it.
///
/// Deliberately not `Debug`: it holds the API key.
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
    pub(crate) secret_key: &'a Secret,
}

/// Maps a Stripe error answer to the [`PaymentError`] variant that means the same thing.
///
/// - `idempotency_error` (a key reused with other parameters) → `IdempotencyConflict`;
/// - 400 `amount_too_small` → `AmountTooSmall`; 400 `rate_limit` → `RateLimited`;
///   400 `charge_already_refunded` (nothing left to refund) → `InvalidState`;
///   other 400 → `InvalidRequest` naming Stripe's `param` (a refund above what is left of
///   the payment names `amount`);
/// - 401 → `Authentication`; 403 → `PermissionDenied`; 404 → `NotFound`;
/// - 409 (a request with the same key still running) → `IdempotencyConflict`, except
///   `lock_timeout` (another request holds the object) → `Provider`;
/// - 402 `card_error` → `Declined` with Stripe's `decline_code`;
/// - 429 → `RateLimited` with `Retry-After`; other 402, other 4xx and 5xx → `Provider`.
///
/// Every variant that carries [`GatewayDetails`] keeps Stripe's `type`, `code`, `param`,
/// `doc_url` and `decline_code`.
pub(crate) fn map_error(answer: ErrorAnswer<'_>) -> PaymentError {
    let key = answer.secret_key.expose();
    // Every text Stripe wrote is scrubbed of the key, should Stripe (or a proxy) echo it in
    // any field: these end up in `Display`, `Debug` and logs.
    let scrubbed = |text: Option<String>| text.map(|text| scrub(text, key));
    let mut api_error = serde_json::from_slice::<ErrorEnvelope>(answer.body)
        .map(|envelope| envelope.error)
        .unwrap_or_default();
    api_error.code = scrubbed(api_error.code.take());
    api_error.error_type = scrubbed(api_error.error_type.take());
    api_error.param = scrubbed(api_error.param.take());
    api_error.doc_url = scrubbed(api_error.doc_url.take());
    api_error.decline_code = scrubbed(api_error.decline_code.take());
    let message = scrub(
        api_error
            .message
            .clone()
            .unwrap_or_else(|| default_message(answer.status)),
        key,
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
            .with_attempts(answer.attempts)
            .with_error_type(api_error.error_type.clone())
            .with_param(api_error.param.clone())
            .with_doc_url(api_error.doc_url.clone())
            .with_decline_code(api_error.decline_code.clone()),
    );
    // Gateway text goes through `?` (Debug), which escapes it: a body cannot add log lines.
    tracing::debug!(
        status = answer.status,
        error_type = ?api_error.error_type,
        code = ?api_error.code,
        param = ?api_error.param,
        decline_code = ?api_error.decline_code,
        "stripe refused the request"
    );
    let gateway = Some(details.clone());
    let code = api_error.code.as_deref();
    let is_idempotency_error = api_error.error_type.as_deref() == Some("idempotency_error");
    if is_idempotency_error {
        return PaymentError::IdempotencyConflict { message, gateway };
    }
    let is_card_error = api_error.error_type.as_deref() == Some("card_error");
    match answer.status {
        402 if is_card_error => PaymentError::Declined {
            message,
            decline_code: api_error.decline_code,
            gateway,
        },
        400 if code == Some("amount_too_small") => {
            PaymentError::AmountTooSmall { message, gateway }
        }
        400 if code == Some("rate_limit") => PaymentError::RateLimited {
            retry_after: answer.retry_after,
            gateway,
        },
        400 if code == Some("charge_already_refunded") => {
            PaymentError::InvalidState { message, gateway }
        }
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

/// Decodes a JSON value Stripe answered into a wire type, with [`decode_error`]'s care.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    value: &serde_json::Value,
    what: &'static str,
) -> Result<T, PaymentError> {
    T::deserialize(value).map_err(|error| decode_error(what, &error))
}

/// A `Decode` error for JSON that does not have the shape of `what`, without quoting the
/// body: serde's text quotes the offending value (a customer's email, a name), which
/// applications log. Field and type names stay; values become `…`.
pub(crate) fn decode_error(what: &'static str, error: &serde_json::Error) -> PaymentError {
    PaymentError::decode(what, without_quoted_values(&error.to_string()))
}

/// Replaces each `"…"` and `` `…` `` span with `…`, except field names serde quotes after
/// `field `, which come from payswitch's types rather than the body.
fn without_quoted_values(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(['"', '`']) {
        let quote = rest[start..].chars().next().unwrap_or('"');
        let Some(length) = rest[start + 1..].find(quote) else {
            break;
        };
        let (before, quoted) = (&rest[..start], &rest[start..start + length + 2]);
        out.push_str(before);
        if before.ends_with("field ") {
            out.push_str(quoted);
        } else {
            out.push('…');
        }
        rest = &rest[start + length + 2..];
    }
    out.push_str(rest);
    out
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
            secret_key: &Secret::new("sk_test_secret"),
        })
    }

    #[test]
    fn the_key_is_scrubbed_from_every_field_stripe_wrote() {
        // Found by the `error_mapping` fuzz target: the key echoed in `code` reached Display.
        for status in [400, 401, 402, 404, 409, 429, 500] {
            let body = r#"{"error":{"code":"sk_test_secret","type":"sk_test_secret","param":"a[sk_test_secret]","doc_url":"https://x/sk_test_secret","decline_code":"sk_test_secret","message":"key sk\u005ftest_secret"}}"#;
            let error = answer(status, body);
            for shown in [error.to_string(), format!("{error:?}")] {
                assert!(!shown.contains("sk_test_secret"), "{status}: {shown}");
            }
        }
    }

    #[test]
    fn a_card_error_is_a_decline_with_every_detail_kept() {
        let declined = answer(
            402,
            r#"{"error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds","param":"payment_method","doc_url":"https://stripe.com/docs/error-codes/card-declined","message":"Your card has insufficient funds."}}"#,
        );
        match &declined {
            PaymentError::Declined {
                message,
                decline_code,
                gateway: Some(details),
            } => {
                assert_eq!(message, "Your card has insufficient funds.");
                assert_eq!(decline_code.as_deref(), Some("insufficient_funds"));
                assert_eq!(details.status, 402);
                assert_eq!(details.code.as_deref(), Some("card_declined"));
                assert_eq!(details.error_type.as_deref(), Some("card_error"));
                assert_eq!(details.param.as_deref(), Some("payment_method"));
                assert_eq!(details.decline_code.as_deref(), Some("insufficient_funds"));
                assert_eq!(
                    details.doc_url.as_deref(),
                    Some("https://stripe.com/docs/error-codes/card-declined")
                );
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(!declined.is_retryable());
        let invalid = answer(
            400,
            r#"{"error":{"type":"invalid_request_error","code":"parameter_missing","param":"currency","doc_url":"https://stripe.com/docs/error-codes/parameter-missing"}}"#,
        );
        let details = invalid.gateway().unwrap();
        assert_eq!(details.error_type.as_deref(), Some("invalid_request_error"));
        assert_eq!(details.param.as_deref(), Some("currency"));
        assert!(details.doc_url.is_some());
    }

    #[test]
    fn decode_errors_never_quote_body_values() {
        let error = serde_json::from_str::<crate::wire::Item>(
            r#"{"id":"li_1","currency":"usd","amount_total":"ana@example.com"}"#,
        )
        .unwrap_err();
        let text = decode_error("line item", &error).to_string();
        assert!(!text.contains("ana@example.com"), "{text}");
        let missing =
            serde_json::from_str::<crate::wire::Item>(r#"{"currency":"usd"}"#).unwrap_err();
        assert!(decode_error("line item", &missing)
            .to_string()
            .contains("`id`"));
        assert_eq!(without_quoted_values("a \"b\" c `d"), "a … c `d");
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
    fn refunds_of_refunded_charges_are_an_invalid_state() {
        let refunded = answer(
            400,
            r#"{"error":{"type":"invalid_request_error","code":"charge_already_refunded","message":"Charge ch_1 has already been refunded."}}"#,
        );
        assert!(
            matches!(&refunded, PaymentError::InvalidState { gateway: Some(details), .. } if details.code.as_deref() == Some("charge_already_refunded")),
            "{refunded:?}"
        );
        let too_much = answer(
            400,
            r#"{"error":{"type":"invalid_request_error","param":"amount","message":"Refund amount ($30.00) is greater than unrefunded amount on charge ($20.00)"}}"#,
        );
        assert!(
            matches!(&too_much, PaymentError::InvalidRequest { field, gateway: Some(_), .. } if field == "amount"),
            "{too_much:?}"
        );
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
