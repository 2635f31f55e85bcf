//! `Stripe-Signature` verification and event normalization.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use payswitch_core::adapter::check_webhook_body;
use payswitch_core::adapter::signature::{hmac_sha256, matches_any};
use payswitch_core::{
    Clock, PaymentError, RawJson, ReturnParams, Secret, SignatureError, WebhookEvent,
};
use serde::Deserialize;

use crate::config::KIND;
use crate::convert::billing::{event_refund, event_subscription};
use crate::convert::{
    carries_checkout, checkout_result, event_kind, unix_time, without_client_secret,
};
use crate::error::decode_error;
use crate::wire::{Event, Session};

/// The header Stripe signs webhooks in.
pub const SIGNATURE_HEADER: &str = "Stripe-Signature";

/// Checks webhook signatures against every configured secret.
#[derive(Clone)]
pub(crate) struct WebhookVerifier {
    secrets: Vec<Secret>,
    tolerance: Duration,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for WebhookVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookVerifier")
            .field("secrets", &self.secrets.len())
            .field("tolerance", &self.tolerance)
            .field("clock", &self.clock)
            .finish()
    }
}

/// A parsed `Stripe-Signature` header.
#[derive(Debug, PartialEq, Eq)]
struct SignatureHeader {
    timestamp: i64,
    /// Every `v1` signature, decoded; other schemes (`v0`) are ignored against downgrades.
    signatures: Vec<[u8; 32]>,
}

/// Parses `Stripe-Signature` as Stripe's SDKs do: elements are `scheme=value` separated by
/// commas; the first `t` is the timestamp and must be an integer; every `v1` that is 64 hex
/// digits is a candidate; anything else (`v0`, unknown schemes, odd elements, a `v1` of
/// another length) is ignored, so a future addition to the header cannot break verification.
fn parse_header(value: &str) -> Result<SignatureHeader, SignatureError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in value.split(',') {
        let Some((name, item)) = part.trim().split_once('=') else {
            continue;
        };
        match name {
            "t" if timestamp.is_none() => {
                let parsed = item.parse::<i64>().map_err(|_| {
                    SignatureError::Malformed("t is not a Unix timestamp".to_owned())
                })?;
                timestamp = Some(parsed);
            }
            "v1" => {
                let mut decoded = [0u8; 32];
                if hex::decode_to_slice(item, &mut decoded).is_ok() {
                    signatures.push(decoded);
                }
            }
            _ => {}
        }
    }
    let timestamp =
        timestamp.ok_or_else(|| SignatureError::Malformed("no t= timestamp".to_owned()))?;
    if signatures.is_empty() {
        return Err(SignatureError::Missing(
            "v1 signature in the Stripe-Signature header".into(),
        ));
    }
    Ok(SignatureHeader {
        timestamp,
        signatures,
    })
}

impl WebhookVerifier {
    pub(crate) fn new(secrets: Vec<Secret>, tolerance: Duration, clock: Arc<dyn Clock>) -> Self {
        Self {
            secrets,
            tolerance,
            clock,
        }
    }

    pub(crate) fn secret_count(&self) -> usize {
        self.secrets.len()
    }

    pub(crate) fn tolerance(&self) -> Duration {
        self.tolerance
    }

    /// Checks the signature, then the timestamp, as Stripe's SDKs do.
    pub(crate) fn check(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<(), SignatureError> {
        if self.secrets.is_empty() {
            return Err(SignatureError::NoSecret);
        }
        let value = headers
            .get(SIGNATURE_HEADER)
            .ok_or(SignatureError::Missing("Stripe-Signature header".into()))?
            .to_str()
            .map_err(|_| SignatureError::Malformed("the header is not ASCII".to_owned()))?;
        let header = parse_header(value)?;
        // The signed payload is `{t}.{body}`, fed to the MAC in parts; the whole `whsec_…`
        // string is the key.
        let timestamp = header.timestamp.to_string();
        let candidates: Vec<&[u8]> = header
            .signatures
            .iter()
            .map(|signature| signature.as_slice())
            .collect();
        let matches = matches_any(
            &self.secrets,
            &[timestamp.as_bytes(), b".", body],
            &candidates,
        );
        if !matches {
            return Err(SignatureError::Mismatch);
        }
        // One-sided like the official SDKs: only old timestamps are refused.
        let age = self
            .clock
            .now()
            .unix_timestamp()
            .saturating_sub(header.timestamp);
        let tolerance = i64::try_from(self.tolerance.as_secs()).unwrap_or(i64::MAX);
        if age > tolerance {
            return Err(SignatureError::Expired {
                age_secs: age,
                tolerance_secs: self.tolerance.as_secs(),
            });
        }
        Ok(())
    }

    /// Checks the body's size, verifies, then decodes and normalizes the event.
    pub(crate) fn verify(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<WebhookEvent, PaymentError> {
        check_webhook_body(body)?;
        self.check(headers, body)?;
        decode_event(body)
    }
}

/// Decodes a verified event body.
///
/// The body is parsed once; the envelope and the session, subscription or refund are read
/// from it by reference, and their `raw` points into the event's, so nothing is deep-copied.
pub(crate) fn decode_event(body: &[u8]) -> Result<WebhookEvent, PaymentError> {
    let mut raw: serde_json::Value = serde_json::from_slice(body)
        .map_err(|error| decode_error("Stripe webhook body", &error))?;
    let event = Event::deserialize(&raw).map_err(|error| decode_error("Stripe event", &error))?;
    let created_at = unix_time(event.created)
        .ok_or_else(|| PaymentError::decode("Stripe event", "created is out of range"))?;
    let kind = event_kind(&event.event_type, &raw["data"]);
    // A signed event whose object has an unexpected shape is still delivered (kind, raw),
    // without `checkout`: refusing it would make Stripe redeliver it for days.
    let session = if carries_checkout(&event.event_type) {
        Session::deserialize(&raw["data"]["object"])
            .inspect_err(|error| {
                tracing::warn!(
                    event_type = ?event.event_type.as_str(),
                    line = error.line(),
                    column = error.column(),
                    "the checkout.session in a verified event does not decode; delivered without checkout"
                );
            })
            .ok()
    } else {
        None
    };
    // The secret lives on in `CheckoutResult::client_secret` only, never in `raw`.
    if let Some(object) = raw.pointer_mut("/data/object") {
        *object = without_client_secret(std::mem::take(object));
    }
    let root = Arc::new(raw);
    let mut normalized =
        WebhookEvent::new(event.id, KIND, kind, event.event_type.as_str(), created_at);
    normalized.checkout =
        session.map(|session| checkout_result(session, RawJson::at(&root, "/data/object")));
    normalized.subscription = event_subscription(&event.event_type, &root);
    normalized.refund = event_refund(&event.event_type, &root);
    normalized.raw = RawJson::shared(&root);
    Ok(normalized)
}

/// Reads `session_id` from a success redirect's query. Stripe does not sign redirects, so
/// the result is never verified: retrieve the checkout before fulfilling.
pub(crate) fn verify_return(query: &str) -> Result<ReturnParams, PaymentError> {
    let query = query.strip_prefix('?').unwrap_or(query);
    let session_id = url::form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == "session_id")
        .map(|(_, value)| value.into_owned());
    match session_id {
        None => Err(PaymentError::invalid(
            "session_id",
            "the success URL query has no session_id; add session_id={CHECKOUT_SESSION_ID} to success_url",
        )),
        Some(id) if id.trim().is_empty() => {
            Err(PaymentError::invalid("session_id", "is empty"))
        }
        Some(id) if id == "{CHECKOUT_SESSION_ID}" => Err(PaymentError::invalid(
            "session_id",
            "holds the unsubstituted {CHECKOUT_SESSION_ID} template",
        )),
        Some(id) => Ok(ReturnParams::new(KIND, id, false)),
    }
}

/// Builds a `Stripe-Signature` header value for `body` at `timestamp`, as Stripe does.
///
/// For tests and local tools that send webhooks to an application.
///
/// ```
/// let header = payswitch_stripe::webhook::signature_header(b"{}", "whsec_test", 1_700_000_000);
/// assert!(header.starts_with("t=1700000000,v1="));
/// ```
pub fn signature_header(body: &[u8], secret: &str, timestamp: i64) -> String {
    let timestamp_text = timestamp.to_string();
    let signature = hmac_sha256(secret.as_bytes(), &[timestamp_text.as_bytes(), b".", body]);
    format!("t={timestamp},v1={}", hex::encode(signature))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_docs_example() {
        let header = parse_header(&format!(
            "t=1492774577,v1={},v0={}",
            "5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd",
            "6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39"
        ))
        .unwrap();
        assert_eq!(header.timestamp, 1_492_774_577);
        assert_eq!(header.signatures.len(), 1);
    }

    #[test]
    fn odd_elements_are_ignored_like_the_sdks() {
        let v1 = "5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd";
        for value in [
            format!("v1={v1},t=1492774577"),
            format!("t=1492774577,garbage,v1={v1}"),
            format!("t=1492774577,v1=abc,v1={v1},v2=zz"),
            format!("t=1492774577,t=99,v1={v1}"),
            format!(" t=1492774577 , v1={v1} ,"),
        ] {
            let header = parse_header(&value).unwrap();
            assert_eq!(header.timestamp, 1_492_774_577, "{value}");
            assert_eq!(header.signatures.len(), 1, "{value}");
        }
        assert!(matches!(
            parse_header("t=1,v1=short"),
            Err(SignatureError::Missing(_))
        ));
    }

    #[test]
    fn header_errors_are_distinct() {
        assert!(matches!(
            parse_header("garbage"),
            Err(SignatureError::Malformed(_))
        ));
        assert!(matches!(
            parse_header("t=abc,v1=00"),
            Err(SignatureError::Malformed(_))
        ));
        assert!(matches!(
            parse_header(&format!("v1={}", "0".repeat(64))),
            Err(SignatureError::Malformed(_))
        ));
        assert!(matches!(
            parse_header(&format!("t=1,v0={}", "0".repeat(64))),
            Err(SignatureError::Missing(_))
        ));
    }

    #[test]
    fn return_needs_a_session_id() {
        let params = verify_return("session_id=cs_test_1&x=y").unwrap();
        assert_eq!(params.checkout_id, "cs_test_1");
        assert!(!params.verified);
        assert!(matches!(
            verify_return("x=y"),
            Err(PaymentError::InvalidRequest { field, .. }) if field == "session_id"
        ));
        assert!(verify_return("session_id=%7BCHECKOUT_SESSION_ID%7D").is_err());
    }
}
