//! Arbitrary `Stripe-Signature` headers and bodies into `StripeProvider::verify_webhook`.
//!
//! Input: 4 control bytes, the header value up to `\n`, then the body. Control byte 0 bit 0
//! prepends a genuine `t=…,v1=…` for the body, `age` seconds old (bytes 1–2, signed); bit 1
//! then flips the body byte at index byte 3 (so a signature made for another body is sent).
//!
//! Oracle: no panic, and `Ok` only when the header carries a `v1` that is the HMAC of
//! `{t}.{body}` under the configured secret (recomputed here with the `hmac` crate) with `t`
//! no older than the tolerance.
#![no_main]

use std::sync::Arc;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use payswitch_core::{CheckoutProvider, ManualClock};
use payswitch_fuzz::{hmac_hex, Lines};
use payswitch_stripe::{StripeConfig, StripeProvider};

const SECRET: &str = "whsec_fuzz_secret";
const NOW: i64 = 1_700_000_000;
const TOLERANCE: i64 = 300;

/// Whether an independent reading of the header proves the body was signed with `SECRET`.
fn genuinely_signed(header: &str, body: &[u8]) -> bool {
    let elements: Vec<(&str, &str)> = header
        .split(',')
        .filter_map(|part| part.trim().split_once('='))
        .collect();
    elements
        .iter()
        .filter(|(name, _)| *name == "t")
        .filter_map(|(_, value)| value.parse::<i64>().ok())
        .any(|t| {
            let expected = hmac_hex(SECRET.as_bytes(), &[t.to_string().as_bytes(), b".", body]);
            NOW.saturating_sub(t) <= TOLERANCE
                && elements
                    .iter()
                    .any(|(name, value)| *name == "v1" && value.eq_ignore_ascii_case(&expected))
        })
}

fuzz_target!(|data: &[u8]| {
    let input = Lines::<4>::cut(data);
    let [flags, age_low, age_high, tamper_at] = input.control;
    let provider =
        StripeProvider::builder(StripeConfig::new("sk_test_fuzz").with_webhook_secret(SECRET))
            .clock(Arc::new(ManualClock::at_unix(NOW)))
            .webhook_tolerance(Duration::from_secs(TOLERANCE as u64))
            .build()
            .expect("a valid configuration");

    let mut body = input.rest.to_vec();
    let mut header = input.line.to_vec();
    if flags & 1 != 0 {
        let t = NOW - i64::from(i16::from_le_bytes([age_low, age_high]));
        let signature = hmac_hex(SECRET.as_bytes(), &[t.to_string().as_bytes(), b".", &body]);
        header.splice(0..0, format!("t={t},v1={signature}").into_bytes());
    }
    if flags & 2 != 0 && !body.is_empty() {
        let at = usize::from(tamper_at) % body.len();
        body[at] ^= 0x01;
    }
    let mut headers = http::HeaderMap::new();
    if let Ok(value) = http::HeaderValue::from_bytes(&header) {
        headers.insert("stripe-signature", value);
    }

    if provider.verify_webhook(&headers, &body).is_ok() {
        let sent = String::from_utf8_lossy(&header);
        assert!(
            genuinely_signed(&sent, &body),
            "accepted a webhook whose signature was not made with the secret: {sent:?}"
        );
    }
});
