//! Arbitrary bytes into `payswitch_stripe::parse_checkout` and `payswitch_creem::parse_checkout`.
//!
//! Oracle: no panic, and an `Ok` checkout always has a non-empty id.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    if let Ok(checkout) = payswitch_stripe::parse_checkout(body) {
        assert!(!checkout.id.is_empty(), "stripe: a checkout without an id");
    }
    if let Ok(checkout) = payswitch_creem::parse_checkout(body) {
        assert!(!checkout.id.is_empty(), "creem: a checkout without an id");
    }
});
