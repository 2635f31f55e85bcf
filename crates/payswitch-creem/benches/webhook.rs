//! Verifying and normalizing a signed `checkout.completed` webhook of 2 KB and 64 KB, against
//! the floor: HMAC-SHA256 over the same bytes plus `serde_json::from_slice` into a `Value`.
//!
//! Run with `cargo bench -p payswitch-creem --bench webhook`; see docs/performance.md.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput};
use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderValue};
use payswitch_core::CheckoutProvider;
use payswitch_creem::CreemConfig;
use payswitch_creem::{CreemProvider, SIGNATURE_HEADER};
use sha2::Sha256;

const SECRET: &str = "whsec_bench_0123456789abcdef";

/// `checkout.completed` events: Creem's sample padded with metadata, and with custom fields.
const BODIES: [(&str, &[u8]); 2] = [
    ("2KB", include_bytes!("fixtures/webhook_2k.json")),
    ("64KB", include_bytes!("fixtures/webhook_64k.json")),
];

fn mac(body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("any key length");
    mac.update(body);
    mac
}

/// The floor: what any verifier must do at least, with no normalization.
fn floor(body: &[u8], signature: &[u8]) -> serde_json::Value {
    mac(body)
        .verify_slice(signature)
        .expect("signature matches");
    serde_json::from_slice(body).expect("JSON")
}

fn verify(c: &mut Criterion) {
    let creem =
        CreemProvider::builder(CreemConfig::new("creem_test_bench").with_webhook_secret(SECRET))
            .build()
            .expect("provider builds");
    let mut group = c.benchmark_group("creem/webhook");
    for (size, body) in BODIES {
        let signature = mac(body).finalize().into_bytes().to_vec();
        let mut headers = HeaderMap::new();
        headers.insert(
            SIGNATURE_HEADER,
            HeaderValue::from_str(&hex::encode(&signature)).expect("ASCII"),
        );
        let event = creem.verify_webhook(&headers, body).expect("verifies");
        assert!(event.checkout.is_some(), "the event carries the checkout");

        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_with_input(
            BenchmarkId::new("floor_hmac_serde_value", size),
            body,
            |b, body| b.iter(|| floor(black_box(body), &signature)),
        );
        group.bench_with_input(BenchmarkId::new("verify_webhook", size), body, |b, body| {
            b.iter(|| {
                creem
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
