//! Encoding a checkout request and decoding a completed Creem checkout, against serde's floor.
//!
//! Run with `cargo bench -p payswitch-creem --bench codec`; see docs/performance.md.

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use payswitch_core::{CheckoutRequest, LineItem, RetryConfig};
use payswitch_creem::CreemConfig;
use payswitch_creem::CreemProvider;

/// A completed checkout with its order, product, customer and subscription expanded (Creem's
/// OpenAPI example).
const CHECKOUT: &[u8] = include_bytes!("fixtures/checkout_completed.json");

fn encode(c: &mut Criterion) {
    let creem = CreemProvider::builder(CreemConfig::new("creem_test_bench"))
        .retry(RetryConfig::disabled())
        .build()
        .expect("provider builds");
    let request = CheckoutRequest::builder()
        .line_item(LineItem::native("prod_6tW66i0oZM7w1qXReHJrwg", 2))
        .success_url("https://shop.example/thanks?session_id={CHECKOUT_SESSION_ID}&plan=pro")
        .customer_email("ana+shop@example.com")
        .reference("order-2026-000042")
        .metadata("order_id", "order-2026-000042")
        .metadata("campaign", "black friday")
        .build()
        .expect("a valid request");
    let mut group = c.benchmark_group("creem/encode_checkout");
    group.bench_function("checkout_body", |b| {
        b.iter(|| creem.checkout_body(black_box(&request)).expect("encodes"))
    });
    group.finish();
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("creem/decode_checkout");
    group.throughput(Throughput::Bytes(CHECKOUT.len() as u64));
    group.bench_function("floor_serde_value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(CHECKOUT)).expect("JSON"))
    });
    group.bench_function("parse_checkout", |b| {
        b.iter(|| payswitch_creem::parse_checkout(black_box(CHECKOUT)).expect("decodes"))
    });
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    encode(&mut criterion);
    decode(&mut criterion);
    criterion.final_summary();
}
