//! Test helpers: a webhook signed as Stripe signs it and the query of a success redirect, so
//! an application can unit-test its handlers without a network. Every gateway crate has this
//! module with the same functions.
//!
//! ```
//! use payswitch_core::CheckoutProvider;
//! use payswitch_stripe::{testing, StripeConfig, StripeProvider};
//!
//! let provider = StripeProvider::from_config(
//!     &StripeConfig::new("sk_test_123").with_webhook_secret("whsec_test").into_config(),
//! )?;
//! let body = br#"{"id":"evt_1","object":"event","type":"customer.created","created":1700000000,"data":{"object":{"id":"cus_1","object":"customer"}}}"#;
//! let event = provider.verify_webhook(&testing::webhook_headers("whsec_test", body), body)?;
//! assert_eq!(event.id, "evt_1");
//! let returned = provider.verify_return(&testing::return_query("sk_test_123", "cs_test_1"))?;
//! assert_eq!(returned.checkout_id, "cs_test_1");
//! # Ok::<(), payswitch_core::PaymentError>(())
//! ```

use std::time::{SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue};

use crate::webhook::{signature_header, SIGNATURE_HEADER};

/// The headers Stripe sends with `body`, signed now with `webhook_secret` (`whsec_…`).
pub fn webhook_headers(webhook_secret: &str, body: &[u8]) -> HeaderMap {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or_default();
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&signature_header(body, webhook_secret, now)) {
        headers.insert(SIGNATURE_HEADER, value);
    }
    headers
}

/// The query string a success redirect to a `success_url` ending in
/// `session_id={CHECKOUT_SESSION_ID}` carries for `checkout_id`. Stripe signs no redirect, so
/// `secret` is not used (the parameter keeps every gateway's helper alike).
pub fn return_query(secret: &str, checkout_id: &str) -> String {
    let _ = secret;
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("session_id", checkout_id)
        .finish()
}
