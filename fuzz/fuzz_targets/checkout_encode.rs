//! Structure-aware: an arbitrary `CheckoutRequest`, built through its builder, into
//! `validate` and both adapters' `checkout_body`, decoded back by independent parsers.
//!
//! Oracle: no panic; when the request validates and an adapter encodes it, every metadata pair
//! and the reference come back exactly: from Stripe's form with `form_urlencoded::parse`
//! (`metadata[k]=v` once per key, `client_reference_id`), from Creem's JSON with `serde_json`
//! (`metadata.k`, `request_id`).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use payswitch_core::{CheckoutRequest, Currency, LineItem, Money};
use payswitch_creem::{CreemConfig, CreemProvider};
use payswitch_stripe::{StripeConfig, StripeProvider};

#[derive(Debug, Arbitrary)]
struct Item {
    name: String,
    unit_amount: u32,
    quantity: u8,
    currency: u8,
}

#[derive(Debug, Arbitrary)]
struct Input {
    items: Vec<Item>,
    creem_product: String,
    reference: Option<String>,
    customer_email: Option<String>,
    metadata: Vec<(String, String)>,
    success_url_path: String,
}

const CURRENCIES: [Currency; 5] = [
    Currency::USD,
    Currency::EUR,
    Currency::GBP,
    Currency::JPY,
    Currency::KWD,
];

fn request(input: &Input, items: Vec<LineItem>) -> Option<CheckoutRequest> {
    let mut builder = CheckoutRequest::builder()
        .line_items(items)
        .success_url(format!("https://shop.example/{}", input.success_url_path));
    if let Some(reference) = &input.reference {
        builder = builder.reference(reference.clone());
    }
    if let Some(email) = &input.customer_email {
        builder = builder.customer_email(email.clone());
    }
    for (key, value) in &input.metadata {
        builder = builder.metadata(key.clone(), value.clone());
    }
    let request = builder.build().ok()?;
    request.validate().ok()?;
    Some(request)
}

fn check_stripe(request: &CheckoutRequest) {
    let provider = StripeProvider::builder(StripeConfig::new("sk_test_fuzz"))
        .build()
        .expect("a valid configuration");
    let Ok(body) = provider.checkout_body(request) else {
        return;
    };
    let fields: Vec<(String, String)> = form_urlencoded::parse(&body)
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    let all = |name: &str| -> Vec<&str> {
        fields
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .collect()
    };
    for (key, value) in &request.metadata {
        assert_eq!(
            all(&format!("metadata[{key}]")),
            vec![value.as_str()],
            "stripe: metadata {key:?} does not come back from {:?}",
            String::from_utf8_lossy(&body)
        );
    }
    let reference = all("client_reference_id");
    assert_eq!(
        reference,
        request.reference.as_deref().into_iter().collect::<Vec<_>>(),
        "stripe: the reference does not come back"
    );
}

fn check_creem(request: &CheckoutRequest) {
    let provider = CreemProvider::builder(CreemConfig::new("creem_test_fuzz"))
        .build()
        .expect("a valid configuration");
    let Ok(body) = provider.checkout_body(request) else {
        return;
    };
    let json: serde_json::Value = serde_json::from_slice(&body).expect("creem: the body is JSON");
    for (key, value) in &request.metadata {
        assert_eq!(
            json["metadata"].get(key).and_then(|value| value.as_str()),
            Some(value.as_str()),
            "creem: metadata {key:?} does not come back from {json}"
        );
    }
    assert_eq!(
        json.get("request_id").and_then(|value| value.as_str()),
        request.reference.as_deref(),
        "creem: the reference does not come back from {json}"
    );
}

fuzz_target!(|input: Input| {
    let items: Vec<LineItem> = input
        .items
        .iter()
        .map(|item| {
            let currency = CURRENCIES[usize::from(item.currency) % CURRENCIES.len()];
            let unit_amount = Money::new(i64::from(item.unit_amount), currency);
            LineItem::custom(item.name.clone(), unit_amount, u32::from(item.quantity))
        })
        .collect();
    if let Some(request) = request(&input, items) {
        check_stripe(&request);
    }
    let product = LineItem::native(input.creem_product.clone(), 1);
    if let Some(request) = request(&input, vec![product]) {
        check_creem(&request);
    }
});
