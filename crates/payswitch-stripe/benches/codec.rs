//! Encoding a checkout request and decoding a `checkout.session`, against serde's floor.
//!
//! Run with `cargo bench -p payswitch-stripe --bench codec`; see docs/performance.md.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput};
use payswitch_core::{CheckoutRequest, Currency, LineItem, ManualClock, Money, RetryConfig};
use payswitch_stripe::StripeConfig;
use payswitch_stripe::StripeProvider;

/// The full `checkout.session` object from Stripe's fixtures (stripe-fixtures3.json).
const SESSION: &[u8] = include_bytes!("fixtures/checkout_session.json");

/// A realistic hosted checkout with `items` custom-priced line items.
fn request(items: usize) -> CheckoutRequest {
    let mut builder = CheckoutRequest::builder()
        .success_url("https://shop.example/done?session_id={CHECKOUT_SESSION_ID}")
        .cancel_url("https://shop.example/cart")
        .customer_email("ana+shop@example.com")
        .reference("order-2026-000042")
        .metadata("order_id", "order-2026-000042")
        .metadata("campaign", "black friday");
    for index in 0..items {
        builder = builder.line_item(
            LineItem::custom(
                format!("Organic cotton T-shirt, size M #{index}"),
                Money::new(2500 + index as i64, Currency::USD),
                1 + (index as u32 % 3),
            )
            .with_description("100% organic cotton & recycled thread"),
        );
    }
    builder.build().expect("a valid request")
}

fn provider() -> StripeProvider {
    StripeProvider::builder(StripeConfig::new("sk_test_bench"))
        .retry(RetryConfig::disabled())
        .clock(Arc::new(ManualClock::at_unix(1_800_000_000)))
        .build()
        .expect("provider builds")
}

fn encode(c: &mut Criterion) {
    let stripe = provider();
    let mut group = c.benchmark_group("stripe/encode_checkout");
    for items in [1usize, 20, 100] {
        let request = request(items);
        let bytes = stripe.checkout_body(&request).expect("encodes").len();
        group.throughput(Throughput::Bytes(bytes as u64));
        group.bench_with_input(
            BenchmarkId::new("checkout_form", items),
            &request,
            |b, r| b.iter(|| stripe.checkout_body(black_box(r)).expect("encodes")),
        );
    }
    group.finish();
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("stripe/decode_checkout_session");
    group.throughput(Throughput::Bytes(SESSION.len() as u64));
    group.bench_function("floor_serde_value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(SESSION)).expect("JSON"))
    });
    group.bench_function("parse_checkout_session", |b| {
        b.iter(|| payswitch_stripe::parse_checkout(black_box(SESSION)).expect("decodes"))
    });
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    encode(&mut criterion);
    decode(&mut criterion);
    criterion.final_summary();
}
