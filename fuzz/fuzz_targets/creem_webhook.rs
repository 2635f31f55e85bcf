//! Arbitrary `creem-signature` headers and bodies into `CreemProvider::verify_webhook`.
//!
//! Input: 2 control bytes, the header value up to `\n`, then the body. Control byte 0 bit 0
//! replaces the header with the body's genuine `hex(HMAC-SHA256(secret, body))`, computed here
//! with the `hmac` crate (bit 2: in upper case, bit 3: with surrounding spaces); bit 1 then
//! flips the body byte at index byte 1.
//!
//! Oracle: no panic; `Ok` only when the header is the HMAC of the body actually sent; a
//! genuinely signed, untampered body is never refused with a `Signature` error (only `Decode`
//! when it is not an event).
#![no_main]

use libfuzzer_sys::fuzz_target;
use payswitch_core::{CheckoutProvider, PaymentError};
use payswitch_creem::{CreemConfig, CreemProvider};
use payswitch_fuzz::{hmac_hex, Lines};

const SECRET: &str = "whsec_creem_fuzz_secret";

fuzz_target!(|data: &[u8]| {
    let input = Lines::<2>::cut(data);
    let [flags, tamper_at] = input.control;
    let provider =
        CreemProvider::builder(CreemConfig::new("creem_test_fuzz").with_webhook_secret(SECRET))
            .build()
            .expect("a valid configuration");

    let mut body = input.rest.to_vec();
    let signed = flags & 1 != 0;
    let mut header = input.line.to_vec();
    if signed {
        let mut signature = hmac_hex(SECRET.as_bytes(), &[&body]);
        if flags & 4 != 0 {
            signature = signature.to_ascii_uppercase();
        }
        if flags & 8 != 0 {
            signature = format!(" {signature} ");
        }
        header = signature.into_bytes();
    }
    let tampered = flags & 2 != 0 && !body.is_empty();
    if tampered {
        let at = usize::from(tamper_at) % body.len();
        body[at] ^= 0x01;
    }
    let mut headers = http::HeaderMap::new();
    if let Ok(value) = http::HeaderValue::from_bytes(&header) {
        headers.insert("creem-signature", value);
    }

    match provider.verify_webhook(&headers, &body) {
        Ok(_) => {
            let sent = String::from_utf8_lossy(&header);
            assert!(
                sent.trim()
                    .eq_ignore_ascii_case(&hmac_hex(SECRET.as_bytes(), &[&body])),
                "accepted a webhook whose signature was not made with the secret: {sent:?}"
            );
        }
        Err(PaymentError::Signature(error)) if signed && !tampered => {
            panic!("a genuinely signed body was refused: {error:?}")
        }
        Err(_) => {}
    }
});
