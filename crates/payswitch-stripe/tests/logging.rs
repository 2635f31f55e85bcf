//! What the adapter logs: spans with method, path, attempt, status and request id, and never
//! the API key, the body or a client secret.

mod common;

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use common::*;
use payswitch_core::{CheckoutProvider, CheckoutRequest, Currency, LineItem, Money, UiMode};
use payswitch_stripe::PaymentIntentRequest;
use serde_json::json;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Writes every span, field and event it sees into one string.
#[derive(Clone, Default)]
struct Capture {
    text: Arc<Mutex<String>>,
    next_id: Arc<AtomicU64>,
}

struct Writer<'a>(&'a mut String);

impl Visit for Writer<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut text = self.text.lock().unwrap();
        let _ = write!(text, "\nspan {}", span.metadata().name());
        span.record(&mut Writer(&mut text));
        Id::from_u64(self.next_id.fetch_add(1, Ordering::SeqCst) + 1)
    }
    fn record(&self, _: &Id, values: &Record<'_>) {
        let mut text = self.text.lock().unwrap();
        text.push_str("\nrecord");
        values.record(&mut Writer(&mut text));
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut text = self.text.lock().unwrap();
        text.push_str("\nevent");
        event.record(&mut Writer(&mut text));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[tokio::test(flavor = "current_thread")]
async fn spans_carry_the_call_and_never_secrets() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/checkout/sessions"))
        .respond_with(
            ResponseTemplate::new(500)
                .insert_header("Request-Id", "req_first")
                .set_body_json(
                    json!({"error": {"type": "api_error", "message": format!("bad key {KEY}")}}),
                ),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/checkout/sessions"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Request-Id", "req_second")
                .set_body_json(session_with(json!({"client_secret": "cs_secret_embedded"}))),
        )
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/payment_intents"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture(PAYMENT_INTENT)))
        .mount(&server)
        .await;
    let stripe = provider(&server.uri());
    let request = CheckoutRequest::builder()
        .ui_mode(UiMode::Embedded)
        .line_item(LineItem::custom(
            "Secret sauce",
            Money::new(1000, Currency::USD),
            1,
        ))
        .success_url("https://example.com/ok")
        .customer_email("private@example.com")
        .build()
        .unwrap();
    stripe.create_checkout(&request).await.unwrap();
    stripe
        .create_payment_intent(&PaymentIntentRequest::new(Money::new(1099, Currency::USD)))
        .await
        .unwrap();

    let text = capture.text.lock().unwrap().clone();
    assert!(
        text.contains(
            "span stripe.request method=\"POST\" path=\"/v1/checkout/sessions\" attempt=1"
        ),
        "{text}"
    );
    assert!(text.contains("attempt=2"), "{text}");
    assert!(
        text.contains("status=500") && text.contains("status=200"),
        "{text}"
    );
    assert!(
        text.contains("request_id=\"req_first\"") && text.contains("request_id=\"req_second\""),
        "{text}"
    );
    for secret in [
        KEY,
        "cs_secret_embedded",
        "secret_Dm43xiq1k0ywrRRjDoi8y1gkM",
        "Secret%20sauce",
        "private",
        "Bearer",
    ] {
        assert!(!text.contains(secret), "{secret} leaked into:\n{text}");
    }
}
