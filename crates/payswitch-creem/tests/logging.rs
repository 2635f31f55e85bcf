//! Tracing: each attempt is a span naming the method, path, attempt, status and Creem's trace
//! id, and nothing logged or `Debug`-printed ever holds the API key or a webhook secret.

mod common;

use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use common::*;
use payswitch_core::CheckoutProvider;
use payswitch_creem::CreemProvider;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Writes every span and event, with all its fields, into one string.
#[derive(Clone, Default)]
struct Capture {
    text: Arc<Mutex<String>>,
    next_id: Arc<AtomicU64>,
}

struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
}

impl Capture {
    fn append(&self, line: impl FnOnce(&mut String)) {
        let mut text = self
            .text
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        line(&mut text);
        text.push('\n');
    }

    fn text(&self) -> String {
        self.text
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        self.append(|text| {
            text.push_str("span ");
            text.push_str(span.metadata().name());
            span.record(&mut Fields(text));
        });
        Id::from_u64(self.next_id.fetch_add(1, Ordering::Relaxed) + 1)
    }

    fn record(&self, _: &Id, values: &Record<'_>) {
        self.append(|text| {
            text.push_str("record");
            values.record(&mut Fields(text));
        });
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        self.append(|text| {
            text.push_str("event");
            event.record(&mut Fields(text));
        });
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

#[tokio::test]
async fn attempts_are_traced_without_the_key() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).set_body_json(serde_json::json!({
            "trace_id": "trace-abc-123",
            "status": 429,
            "error": "Too Many Requests",
            "message": [format!("key {API_KEY} is throttled")]
        })))
        .mount(&server)
        .await;
    serve_product(&server, "prod_pro_monthly", "onetime").await;
    let provider = provider(&server);
    let error = provider.create_checkout(&request()).await.unwrap_err();
    assert_eq!(error.attempts(), Some(3));
    let body = fixture("webhook_checkout_completed.json");
    let mut headers = http::HeaderMap::new();
    headers.insert(
        "creem-signature",
        webhook_signature(WEBHOOK_SECRET, body.as_bytes())
            .parse()
            .unwrap(),
    );
    provider.verify_webhook(&headers, body.as_bytes()).unwrap();

    let text = capture.text();
    assert!(text.contains("span creem.create_checkout"), "{text}");
    assert!(
        text.contains("span creem.request method=POST path=\"/v1/checkouts\" attempt=1"),
        "{text}"
    );
    assert!(text.contains("attempt=3"), "{text}");
    assert!(text.contains("status=429"), "{text}");
    assert!(text.contains("trace_id=\"trace-abc-123\""), "{text}");
    assert!(!text.contains(KEY_TAIL), "{text}");
    assert!(!text.contains(WEBHOOK_SECRET), "{text}");
    assert!(!format!("{error} {error:?}").contains(KEY_TAIL));
}

#[test]
fn debug_output_holds_no_secret() {
    let provider = provider_at(
        "http://127.0.0.1:9",
        payswitch_core::RetryConfig::immediate(0),
    );
    let builder = CreemProvider::builder(settings("http://127.0.0.1:9"));
    for text in [
        format!("{provider:?}"),
        format!("{builder:?}"),
        format!("{provider:#?}"),
    ] {
        assert!(!text.contains(KEY_TAIL), "{text}");
        assert!(!text.contains(WEBHOOK_SECRET), "{text}");
        assert!(!text.contains(OLD_WEBHOOK_SECRET), "{text}");
    }
    assert!(format!("{provider:?}").contains("127.0.0.1:9"));
}
