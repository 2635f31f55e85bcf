//! Verifying and normalizing a signed `checkout.session.completed` webhook of 2 KB and 64 KB,
//! against the floor: HMAC-SHA256 over the same bytes plus `serde_json::from_slice` into a
//! `Value`.
//!
//! Run with `cargo bench -p payswitch-stripe --bench webhook`; see docs/performance.md.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput};
use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderValue};
use payswitch_core::{CheckoutProvider, ManualClock};
use payswitch_stripe::webhook::signature_header;
use payswitch_stripe::StripeConfig;
use payswitch_stripe::StripeProvider;
use payswitch_stripe::SIGNATURE_HEADER;
use sha2::Sha256;

const SECRET: &str = "whsec_bench_0123456789abcdef";
const TIMESTAMP: i64 = 1_700_000_000;

/// `checkout.session.completed` events: a small session, and one with expanded line items.
const BODIES: [(&str, &[u8]); 2] = [
    ("2KB", include_bytes!("fixtures/webhook_2k.json")),
    ("64KB", include_bytes!("fixtures/webhook_64k.json")),
];

/// The floor: what any verifier must do at least, with no normalization.
fn floor(timestamp: &[u8], body: &[u8], signature: &[u8]) -> serde_json::Value {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("any key length");
    mac.update(timestamp);
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(signature).expect("signature matches");
    serde_json::from_slice(body).expect("JSON")
}

fn verify(c: &mut Criterion) {
    let stripe =
        StripeProvider::builder(StripeConfig::new("sk_test_bench").with_webhook_secret(SECRET))
            .clock(Arc::new(ManualClock::at_unix(TIMESTAMP + 10)))
            .build()
            .expect("provider builds");
    let mut group = c.benchmark_group("stripe/webhook");
    for (size, body) in BODIES {
        let header = signature_header(body, SECRET, TIMESTAMP);
        let signature = hex::decode(header.split_once("v1=").expect("v1").1).expect("hex");
        let mut headers = HeaderMap::new();
        headers.insert(
            SIGNATURE_HEADER,
            HeaderValue::from_str(&header).expect("ASCII"),
        );
        let event = stripe.verify_webhook(&headers, body).expect("verifies");
        assert!(event.checkout.is_some(), "the event carries the session");
        let timestamp = TIMESTAMP.to_string();

        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_with_input(
            BenchmarkId::new("floor_hmac_serde_value", size),
            body,
            |b, body| b.iter(|| floor(timestamp.as_bytes(), black_box(body), &signature)),
        );
        group.bench_with_input(BenchmarkId::new("verify_webhook", size), body, |b, body| {
            b.iter(|| {
                stripe
                    .verify_webhook(&headers, black_box(body))
                    .expect("verifies")
            })
        });
    }
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    verify(&mut criterion);
    criterion.final_summary();
}
