//! Arbitrary query strings into `StripeProvider::verify_return`.
//!
//! Oracle: no panic, and never `verified: true`: Stripe does not sign its success redirect,
//! so nothing in a query can prove anything.
#![no_main]

use libfuzzer_sys::fuzz_target;
use payswitch_core::CheckoutProvider;
use payswitch_stripe::{StripeConfig, StripeProvider};

fuzz_target!(|data: &[u8]| {
    let provider = StripeProvider::builder(StripeConfig::new("sk_test_fuzz"))
        .build()
        .expect("a valid configuration");
    let query = String::from_utf8_lossy(data);
    if let Ok(params) = provider.verify_return(&query) {
        assert!(
            !params.verified,
            "an unsigned Stripe redirect was verified: {query:?}"
        );
        assert!(
            !params.checkout_id.trim().is_empty(),
            "an empty session id was accepted"
        );
    }
});
