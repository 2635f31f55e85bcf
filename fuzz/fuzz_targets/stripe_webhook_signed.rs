//! Arbitrary body bytes, validly signed at the current time, into
//! `StripeProvider::verify_webhook`.
//!
//! Oracle: the signature is never refused (a `Signature` error); a body that is not an event
//! fails only with `Decode`; an accepted event's id is the body's `id`, read back here with
//! `serde_json` independently of the adapter.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use payswitch_core::{CheckoutProvider, ManualClock, PaymentError};
use payswitch_stripe::webhook::signature_header;
use payswitch_stripe::{StripeConfig, StripeProvider};

const SECRET: &str = "whsec_fuzz_secret";
const NOW: i64 = 1_700_000_000;

fuzz_target!(|body: &[u8]| {
    let provider =
        StripeProvider::builder(StripeConfig::new("sk_test_fuzz").with_webhook_secret(SECRET))
            .clock(Arc::new(ManualClock::at_unix(NOW)))
            .build()
            .expect("a valid configuration");
    let mut headers = http::HeaderMap::new();
    headers.insert(
        "stripe-signature",
        http::HeaderValue::from_str(&signature_header(body, SECRET, NOW)).expect("ASCII"),
    );

    match provider.verify_webhook(&headers, body) {
        Ok(event) => {
            let value: serde_json::Value =
                serde_json::from_slice(body).expect("an accepted body is JSON");
            assert_eq!(
                value.get("id").and_then(|id| id.as_str()),
                Some(event.id.as_str()),
                "the event id does not round-trip from the body"
            );
        }
        Err(PaymentError::Decode { .. }) => {}
        Err(other) => panic!("a validly signed body was refused with {other:?}"),
    }
});
