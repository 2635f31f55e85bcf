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
    /// Which request it answers, to name the field a validation message blames.
    pub(crate) fields: RequestFields,
}

/// The request a validation message is about: Creem names its own body fields, which map to
/// different payswitch request fields per operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestFields {
    /// `create_checkout`, `retrieve_checkout` and the product lookup.
    Checkout,
    /// Retrieving, listing, canceling, pausing and resuming subscriptions (the id is the
    /// only input).
    Subscription,
    /// `change_subscription` (upgrade and update bodies).
    SubscriptionChange,
    /// `create_refund` and the transaction lookups behind it.
    Refund,
    /// Customers and the customer portal.
    Customer,
}

/// Maps Creem's `{trace_id, status, error, message}` answer to a `PaymentError`.
///
/// The HTTP status decides the variant (Creem's `error` text is unreliable: its documented 404
/// says "Bad Request"): 400 and other 4xx → `InvalidRequest`, 401 → `Authentication`,
/// 403 → see [`forbidden`], 404 → `NotFound`, 429 → `RateLimited`, 5xx → `Provider`.
/// `trace_id` becomes the request id. The API key is scrubbed from anything quoted, in case a
/// gateway ever echoes it.
pub(crate) fn map_error(response: &ErrorResponse<'_>, api_key: &Secret) -> PaymentError {
    let said = read_body(response.body);
    let message = scrub(said.message, api_key.expose());
    let code = said.code.map(|code| scrub(code, api_key.expose()));
    let details = Box::new(
        GatewayDetails::new(KIND, response.status, message.clone())
            .with_code(code.clone())
            .with_error_type(said.error_type.map(|text| scrub(text, api_key.expose())))
            .with_param(said.param.map(|text| scrub(text, api_key.expose())))
            .with_request_id(said.request_id.map(|text| scrub(text, api_key.expose())))
            .with_attempts(response.attempts),
    );
    match response.status {
        401 => PaymentError::Authentication {
            gateway: Some(details),
        },
        403 => match forbidden(code.as_deref(), &message) {
            Forbidden::InvalidKey => PaymentError::Authentication {
                gateway: Some(details),
            },
            Forbidden::LimitReached => PaymentError::RateLimited {
                retry_after: response.retry_after,
                gateway: Some(details),
            },
            Forbidden::NotPermitted => PaymentError::PermissionDenied {
                gateway: Some(details),
            },
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
            field: field_named_in(&message, response.fields).to_owned(),
            message,
            gateway: Some(details),
        },
        _ => PaymentError::Provider(details),
    }
}

/// What a Creem 403 means, read from its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Forbidden {
    InvalidKey,
    LimitReached,
    NotPermitted,
}

/// Creem documents 403 for "invalid API key or insufficient permissions" and, in its API
/// reference, for "limit reached". Only a body that names the key is an authentication
/// failure; one that names a limit is rate limiting; anything else (a missing permission or
/// scope, or no explanation) is a refusal of this operation for a valid key.
fn forbidden(code: Option<&str>, message: &str) -> Forbidden {
    let text = format!("{} {message}", code.unwrap_or_default()).to_ascii_lowercase();
    if text.contains("limit") || text.contains("too many") || text.contains("quota") {
        Forbidden::LimitReached
    } else if (text.contains("api key") || text.contains("api-key") || text.contains("apikey"))
        && (text.contains("invalid")
            || text.contains("missing")
            || text.contains("revoked")
            || text.contains("expired")
            || text.contains("not valid"))
    {
        Forbidden::InvalidKey
    } else {
        Forbidden::NotPermitted
    }
}

/// What an error body said.
#[derive(Debug, Default)]
struct Said {
    code: Option<String>,
    message: String,
    request_id: Option<String>,
    error_type: Option<String>,
    param: Option<String>,
}

/// Reads Creem's error body: the usual `{trace_id, error, message}`, the credits endpoints'
/// nested `error`, or raw text.
fn read_body(body: &[u8]) -> Said {
    let parsed: Option<wire::ErrorBody> = serde_json::from_slice(body).ok();
    let Some(body) = parsed else {
        return Said {
            message: raw_text(body),
            ..Said::default()
        };
    };
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
        Some(wire::ErrorField::Text(text)) => Said {
            code: Some(text),
            message: messages,
            request_id: body.trace_id,
            ..Said::default()
        },
        Some(wire::ErrorField::Nested(nested)) => {
            let message = match nested.message {
                Some(text) if messages.is_empty() => text,
                Some(_) | None => messages,
            };
            Said {
                code: nested.code.or_else(|| nested.error_type.clone()),
                message,
                request_id: body.trace_id.or(nested.request_id),
                error_type: nested.error_type,
                param: nested.param,
            }
        }
        Some(wire::ErrorField::Other(_)) | None => Said {
            message: messages,
            request_id: body.trace_id,
            ..Said::default()
        },
    }
}

/// Reads `Retry-After` as delay seconds or an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap, now: OffsetDateTime) -> Option<Duration> {
    parse_retry_after(headers.get(RETRY_AFTER)?.to_str().ok()?, now)
}

/// The request field a Creem validation message starts with ("product_id must be a string"),
/// named as in the payswitch request of `fields`; `request` when none is recognized.
fn field_named_in(message: &str, fields: RequestFields) -> &'static str {
    let first = message
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .next()
        .unwrap_or_default();
    let creem_field = first.split('.').next().unwrap_or_default();
    match fields {
        RequestFields::Checkout => match creem_field {
            "product_id" => "line_items[0].product",
            "units" => "line_items[0].quantity",
            "request_id" => "reference",
            "discount_code" => "discount_code",
            "success_url" => "success_url",
            "metadata" => "metadata",
            "customer" => "customer",
            _ => "request",
        },
        RequestFields::Subscription => match creem_field {
            "subscription_id" | "id" => "id",
            "customer_id" => "customer_id",
            "mode" => "at",
            _ => "request",
        },
        RequestFields::SubscriptionChange => match creem_field {
            "product_id" => "plan",
            "units" => "quantity",
            "items" => "item_id",
            "update_behavior" => "proration",
            "id" | "subscription_id" => "id",
            _ => "request",
        },
        RequestFields::Refund => match creem_field {
            "transaction_id" | "order_id" | "checkout_id" => "target",
            _ => "request",
        },
        RequestFields::Customer => match creem_field {
            "email" => "email",
            "name" => "name",
            "metadata" => "metadata",
            "customer_id" => "customer_id",
            _ => "request",
        },
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
                fields: RequestFields::Checkout,
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
    fn validation_messages_name_the_field_of_the_operation() {
        use RequestFields::{Checkout, Customer, Refund, Subscription, SubscriptionChange};
        for (fields, message, expected) in [
            (
                Checkout,
                "product_id must be a string",
                "line_items[0].product",
            ),
            (SubscriptionChange, "product_id must be a string", "plan"),
            (
                SubscriptionChange,
                "units must be a positive number",
                "quantity",
            ),
            (SubscriptionChange, "items.0.id must be a string", "item_id"),
            (
                SubscriptionChange,
                "update_behavior must be one of",
                "proration",
            ),
            (
                Subscription,
                "mode must be one of immediate, scheduled",
                "at",
            ),
            (Subscription, "Subscription is not active", "request"),
            (Refund, "transaction_id should not be empty", "target"),
            (Customer, "email must be an email", "email"),
            (Customer, "name should not be empty", "name"),
            (Customer, "customer_id must be a string", "customer_id"),
        ] {
            assert_eq!(
                field_named_in(message, fields),
                expected,
                "{fields:?} {message}"
            );
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
    fn a_403_is_read_from_its_body() {
        let limit = map(
            403,
            r#"{"trace_id":"t4","status":403,"error":"Forbidden","message":["Limit reached"]}"#,
        );
        assert!(
            matches!(limit, PaymentError::RateLimited { .. }),
            "{limit:?}"
        );
        assert_eq!(limit.gateway().unwrap().request_id.as_deref(), Some("t4"));
        let invalid = map(
            403,
            r#"{"status":403,"error":"Forbidden","message":["Invalid API key"]}"#,
        );
        assert!(
            matches!(invalid, PaymentError::Authentication { .. }),
            "{invalid:?}"
        );
        let scope = map(
            403,
            r#"{"status":403,"error":"Forbidden","message":["Insufficient permissions"]}"#,
        );
        assert!(
            matches!(scope, PaymentError::PermissionDenied { .. }),
            "{scope:?}"
        );
        // Creem's documented 403 example has no message at all.
        let bare = map(403, r#"{"trace_id":"t5","status":403,"error":"Forbidden"}"#);
        assert!(
            matches!(bare, PaymentError::PermissionDenied { .. }),
            "{bare:?}"
        );
        assert_eq!(bare.gateway().unwrap().code.as_deref(), Some("Forbidden"));
        let unauthorized = map(401, r#"{"status":401,"error":"Unauthorized"}"#);
        assert!(matches!(unauthorized, PaymentError::Authentication { .. }));
    }

    #[test]
    fn the_nested_shape_keeps_type_and_param() {
        let nested = map(
            422,
            r#"{"error":{"type":"invalid_request_error","code":"unbalanced_transaction","message":"no","param":"entries","request_id":"req_1"}}"#,
        );
        let details = nested.gateway().unwrap();
        assert_eq!(details.error_type.as_deref(), Some("invalid_request_error"));
        assert_eq!(details.param.as_deref(), Some("entries"));
    }

    #[test]
    fn an_echoed_key_is_scrubbed() {
        let error = map(403, r#"{"message":"key creem_test_SECRET is invalid"}"#);
        assert!(!format!("{error} {error:?}").contains("SECRET"));
    }
}
