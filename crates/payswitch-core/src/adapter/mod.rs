//! Helpers for gateway implementations: the pieces every gateway crate needs and that would
//! otherwise be written once per gateway, slightly differently each time.
//!
//! **Audience and stability:** this module is for crates that implement
//! [`CheckoutProvider`](crate::CheckoutProvider) for a gateway, not for applications. It may
//! change in minor versions more freely than the rest of the crate.
//!
//! - [`wire`]: [`wire_enum!`](crate::wire_enum) (string enums that keep unknown values) and
//!   [`wire::Expandable`] (an id, or the expanded object).
//! - [`signature`]: HMAC-SHA256 over a payload, checked against any of several secrets in
//!   constant time.
//! - [`check_id`]: the one "empty id" refusal.
//! - [`http`]: `Retry-After` parsing (seconds or HTTP date), scrubbing a secret out of
//!   gateway text, and (feature `http-client`) the shared `reqwest` client builder.

pub mod http;
pub mod signature;
pub mod wire;

use crate::error::PaymentError;

/// Refuses a webhook body over
/// [`MAX_WEBHOOK_BODY_BYTES`](crate::webhook::MAX_WEBHOOK_BODY_BYTES) before its signature is
/// computed. Every gateway crate calls it first in `verify_webhook`.
pub fn check_webhook_body(body: &[u8]) -> Result<(), PaymentError> {
    let limit = crate::webhook::MAX_WEBHOOK_BODY_BYTES;
    if body.len() > limit {
        return Err(PaymentError::Signature(
            crate::error::SignatureError::BodyTooLarge {
                size: body.len(),
                limit,
            },
        ));
    }
    Ok(())
}

/// Refuses an empty (or blank) object id before any request is sent, with the same error on
/// every gateway: `InvalidRequest` on `field`, "must not be empty".
///
/// ```
/// use payswitch_core::adapter::check_id;
/// assert!(check_id("id", "cs_1").is_ok());
/// assert!(check_id("id", "  ").is_err());
/// ```
pub fn check_id(field: &str, id: &str) -> Result<(), PaymentError> {
    if id.trim().is_empty() {
        return Err(PaymentError::invalid(field, "must not be empty"));
    }
    Ok(())
}
