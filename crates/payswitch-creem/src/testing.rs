//! Test helpers: a webhook signed as Creem signs it and the query of a signed success
//! redirect, so an application can unit-test its handlers without a network. Every gateway
//! crate has this module with the same functions.
//!
//! ```
//! use payswitch_core::CheckoutProvider;
//! use payswitch_creem::{testing, CreemConfig, CreemProvider};
//!
//! let provider = CreemProvider::from_config(
//!     &CreemConfig::new("creem_test_123").with_webhook_secret("whsec_test").into_config(),
//! )?;
//! let body = br#"{"id":"evt_1","eventType":"checkout.completed","created_at":1700000000000,"object":{"id":"ch_1","object":"checkout","status":"completed","mode":"test"}}"#;
//! let event = provider.verify_webhook(&testing::webhook_headers("whsec_test", body), body)?;
//! assert_eq!(event.id, "evt_1");
//! let returned = provider.verify_return(&testing::return_query("creem_test_123", "ch_1"))?;
//! assert!(returned.verified);
//! # Ok::<(), payswitch_core::PaymentError>(())
//! ```

use http::{HeaderMap, HeaderValue};
use payswitch_core::adapter::signature::hmac_sha256;
use sha2::{Digest, Sha256};

use crate::webhook::SIGNATURE_HEADER;

/// The headers Creem sends with `body`, signed with `webhook_secret`: the hex HMAC-SHA256 of
/// the body in `creem-signature`.
pub fn webhook_headers(webhook_secret: &str, body: &[u8]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let signature = hex::encode(hmac_sha256(webhook_secret.as_bytes(), &[body]));
    if let Ok(value) = HeaderValue::from_str(&signature) {
        headers.insert(SIGNATURE_HEADER, value);
    }
    headers
}

/// The query string Creem appends to the success URL for `checkout_id`, signed with the API
/// key `secret` as Creem signs it: `hex(SHA-256("checkout_id=…|salt=<API key>"))`.
pub fn return_query(secret: &str, checkout_id: &str) -> String {
    let signature = hex::encode(Sha256::digest(
        format!("checkout_id={checkout_id}|salt={secret}").as_bytes(),
    ));
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("checkout_id", checkout_id)
        .append_pair("signature", &signature)
        .finish()
}
