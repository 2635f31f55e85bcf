//! Arbitrary statuses and error bodies into Stripe's and Creem's error mapping, with a planted
//! API key.
//!
//! Input: 2 control bytes (the HTTP status, little-endian), then the body. Every `KEY` in the
//! body becomes the API key, and every `UKEY` the key with its first letter as a JSON
//! `\u00XX` escape, so the body can echo the key the way a gateway might.
//!
//! Oracle: no panic, and the key never appears in the `PaymentError`'s `Display` or `Debug`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use payswitch_fuzz::{assert_never_quoted, Lines};

const STRIPE_KEY: &str = "sk_test_PLANTEDKEY1234";
const CREEM_KEY: &str = "creem_test_PLANTEDKEY1234";

/// The body with `UKEY` and `KEY` replaced by the key, escaped and plain.
fn plant(body: &[u8], key: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(body);
    let first = key.chars().next().expect("a non-empty key");
    let escaped = format!("\\u{:04x}{}", u32::from(first), &key[first.len_utf8()..]);
    text.replace("UKEY", &escaped)
        .replace("KEY", key)
        .into_bytes()
}

fuzz_target!(|data: &[u8]| {
    let input = Lines::<2>::cut(data);
    // A status a real answer can carry: 100–599.
    let status = 100 + u16::from_le_bytes(input.control) % 500;
    let body = &data[data.len().min(2)..];

    let stripe_body = plant(body, STRIPE_KEY);
    let error = payswitch_stripe::fuzzing::map_error(status, None, &stripe_body, STRIPE_KEY);
    assert_never_quoted(&error, STRIPE_KEY, "stripe map_error");

    let creem_body = plant(body, CREEM_KEY);
    let error = payswitch_creem::fuzzing::map_error(status, &creem_body, CREEM_KEY);
    assert_never_quoted(&error, CREEM_KEY, "creem map_error");
});
