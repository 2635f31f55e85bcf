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

/// Marker values planted in every secret input; none may appear anywhere.
const KEY_MARKER: &str = "sk_test_MARKERkey0001";
const WEBHOOK_MARKER: &str = "whsec_MARKERwebhook0002";
const OLD_WEBHOOK_MARKER: &str = "whsec_MARKERold0003";
const CLIENT_SECRET_MARKER: &str = "cs_test_MARKERclient0004";
const NESTED_SECRET_MARKER: &str = "pi_MARKERnested0005_secret";

#[tokio::test(flavor = "current_thread")]
async fn no_secret_marker_leaks_from_any_flow() {
    use payswitch_core::{CheckoutMode, RetryConfig};
    use payswitch_stripe::{StripeConfig, StripeProvider};

    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let server = MockServer::start().await;
    let mut session = session_with(json!({
        "id": "cs_leak", "client_secret": CLIENT_SECRET_MARKER, "client_reference_id": "order-leak",
    }));
    session["payment_intent"] = json!({
        "id": "pi_1", "object": "payment_intent", "client_secret": NESTED_SECRET_MARKER,
    });
    let mut intent = fixture(PAYMENT_INTENT);
    intent["client_secret"] = json!(CLIENT_SECRET_MARKER);
    let echo_key = |status: u16, error_type: &str| {
        ResponseTemplate::new(status).set_body_json(json!({"error": {
            "type": error_type, "code": "card_declined", "decline_code": "generic_decline",
            "message": format!("Invalid API Key provided: {KEY_MARKER}"),
        }}))
    };
    // Create: replayed, so the session is retrieved too.
    Mock::given(method("POST"))
        .and(path("/v1/checkout/sessions"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Idempotent-Replayed", "true")
                .set_body_json(session.clone()),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/checkout/sessions/cs_leak"))
        .respond_with(ResponseTemplate::new(200).set_body_json(session.clone()))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/checkout/sessions/cs_leak/expire"))
        .respond_with(ResponseTemplate::new(200).set_body_json(session.clone()))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/payment_intents"))
        .respond_with(ResponseTemplate::new(200).set_body_json(intent.clone()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/payment_intents/pi_1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(intent))
        .mount(&server)
        .await;
    for (id, status, error_type) in [
        ("cs_401", 401, "invalid_request_error"),
        ("cs_402", 402, "card_error"),
        ("cs_500", 500, "api_error"),
    ] {
        Mock::given(method("GET"))
            .and(path(format!("/v1/checkout/sessions/{id}")))
            .respond_with(echo_key(status, error_type))
            .mount(&server)
            .await;
    }

    let config = StripeConfig::new(KEY_MARKER)
        .with_api_base(server.uri())
        .with_webhook_secret(OLD_WEBHOOK_MARKER)
        .with_webhook_secret(WEBHOOK_MARKER);
    let builder = StripeProvider::builder(config.clone())
        .retry(RetryConfig::immediate(1))
        .clock(clock());
    let mut seen = vec![format!("{config:?}"), format!("{builder:?}")];
    let stripe = builder.build().unwrap();
    seen.push(format!("{stripe:?}"));
    let mut record = |label: &str, text: String| seen.push(format!("{label}: {text}"));

    let request = CheckoutRequest::builder()
        .mode(CheckoutMode::Payment)
        .ui_mode(UiMode::Embedded)
        .line_item(LineItem::custom("Lamp", Money::new(1000, Currency::USD), 1))
        .success_url("https://example.com/ok")
        .reference("order-leak")
        .build()
        .unwrap();
    let created = stripe.create_checkout(&request).await;
    record("create", format!("{created:?}"));
    record(
        "create json",
        serde_json::to_string(&created.unwrap()).unwrap(),
    );
    let retrieved = stripe.retrieve_checkout("cs_leak").await;
    record("retrieve", format!("{retrieved:?}"));
    record(
        "expire",
        format!("{:?}", stripe.expire_checkout("cs_leak").await),
    );
    let intent = stripe
        .create_payment_intent(&PaymentIntentRequest::new(Money::new(1099, Currency::USD)))
        .await
        .unwrap();
    record(
        "intent",
        format!("{intent:?} {}", serde_json::to_string(&intent).unwrap()),
    );
    record(
        "retrieve intent",
        format!("{:?}", stripe.retrieve_payment_intent("pi_1").await),
    );
    for id in ["cs_401", "cs_402", "cs_500"] {
        let error = stripe.retrieve_checkout(id).await.unwrap_err();
        record(id, format!("{error} {error:?}"));
    }
    record(
        "return",
        format!("{:?}", stripe.verify_return("session_id=cs_leak")),
    );
    let body = serde_json::to_vec(&json!({
        "id": "evt_1", "object": "event", "created": NOW, "type": "checkout.session.completed",
        "data": {"object": session},
    }))
    .unwrap();
    for header in [
        payswitch_stripe::webhook::signature_header(&body, WEBHOOK_MARKER, NOW),
        payswitch_stripe::webhook::signature_header(&body, "whsec_wrong", NOW),
        payswitch_stripe::webhook::signature_header(&body, OLD_WEBHOOK_MARKER, NOW - 10_000),
        "garbage".to_owned(),
    ] {
        let mut headers = http::HeaderMap::new();
        headers.insert("Stripe-Signature", header.parse().unwrap());
        let event = stripe.verify_webhook(&headers, &body);
        let json = event
            .as_ref()
            .map(|event| serde_json::to_string(event).unwrap())
            .unwrap_or_default();
        match &event {
            Ok(_) => {}
            Err(error) => record("webhook error display", error.to_string()),
        }
        record("webhook", format!("{event:?} {json}"));
    }

    seen.push(capture.text.lock().unwrap().clone());
    let everything = seen.join("\n");
    for marker in [
        KEY_MARKER,
        WEBHOOK_MARKER,
        OLD_WEBHOOK_MARKER,
        CLIENT_SECRET_MARKER,
        NESTED_SECRET_MARKER,
        "MARKER",
    ] {
        assert!(
            !everything.contains(marker),
            "{marker} leaked into:\n{everything}"
        );
    }
    // The flows did run (and were logged at TRACE level).
    assert!(everything.contains("span stripe.request"), "{everything}");
    assert!(everything.contains("Declined"), "{everything}");
}

/// Records `&str` fields verbatim, as a subscriber writing plain text may: only values passed
/// as `?` (Debug) arrive escaped.
#[derive(Clone, Default)]
struct RawCapture(Arc<Mutex<String>>);

struct RawWriter<'a>(&'a mut String);

impl Visit for RawWriter<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        let _ = write!(self.0, " {}={}", field.name(), value);
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
}

impl Subscriber for RawCapture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut text = self.0.lock().unwrap();
        text.push_str("\nevent");
        event.record(&mut RawWriter(&mut text));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[test]
fn gateway_strings_cannot_forge_log_lines() {
    let capture = RawCapture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let body = serde_json::to_vec(&json!({
        "id": "cs_1", "status": "weird\nERROR forged line", "payment_status": "odd\r\nINFO x",
    }))
    .unwrap();
    payswitch_stripe::parse_checkout(&body).unwrap();
    let text = capture.0.lock().unwrap().clone();
    assert!(!text.contains("\nERROR forged"), "{text}");
    assert!(!text.contains("\nINFO x"), "{text}");
    assert!(text.contains("weird\\nERROR forged line"), "{text}");
}
