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

/// The planted API key and webhook secrets: none of these markers may appear anywhere.
const MARKER_KEY: &str = "creem_test_LEAKMARKERAPIKEY7q";
const MARKER_SECRETS: [&str; 2] = ["whsec_LEAKMARKERWEBHOOKA", "whsec_LEAKMARKERWEBHOOKB"];
const MARKERS: [&str; 3] = [
    "LEAKMARKERAPIKEY",
    "LEAKMARKERWEBHOOKA",
    "LEAKMARKERWEBHOOKB",
];

fn assert_no_marker(what: &str, text: &str) {
    for marker in MARKERS {
        assert!(!text.contains(marker), "{what} leaks {marker}: {text}");
    }
}

/// Every flow, at TRACE, with marker secrets: create, retrieve, errors that echo the key, a
/// refused connection, webhooks (good, tampered, expired) and redirects (good, tampered,
/// malformed). Nothing logged, no `Debug`, `Display` or error holds a marker.
#[tokio::test]
async fn planted_secrets_never_appear_in_logs_debug_display_or_errors() {
    use payswitch_core::RetryConfig;
    use payswitch_creem::CreemConfig;
    use wiremock::matchers::path;

    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let mut seen = Vec::<String>::new();

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/products"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "id": "prod_pro_monthly", "billing_type": "onetime"
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(fixture("checkout_created.json"), "application/json"),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(403).set_body_json(serde_json::json!({
            "trace_id": "t-leak", "status": 403, "error": "Forbidden",
            "message": [format!("Invalid API key {MARKER_KEY}")]
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/checkouts"))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_string(format!("<html>upstream said {MARKER_KEY}</html>")),
        )
        .mount(&server)
        .await;

    let config = CreemConfig::new(MARKER_KEY)
        .with_webhook_secret(MARKER_SECRETS[0])
        .with_webhook_secret(MARKER_SECRETS[1])
        .with_api_base(server.uri())
        .with_webhook_max_age_secs(60);
    seen.push(format!("{config:?}"));
    let builder = CreemProvider::builder(config.clone())
        .retry(RetryConfig::immediate(1))
        .catalog(catalog());
    seen.push(format!("{builder:?}"));
    let provider = builder.build().unwrap();
    seen.push(format!("{provider:?} {provider:#?}"));

    // Create: a success, then a 403 that echoes the key.
    let created = provider.create_checkout(&request()).await.unwrap();
    seen.push(format!("{created:?}"));
    let refused = provider.create_checkout(&request()).await.unwrap_err();
    seen.push(format!("{refused} {refused:?}"));
    // Retrieve: a 500 whose body quotes the key and a secret.
    let failed = provider.retrieve_checkout("ch_1").await.unwrap_err();
    seen.push(format!("{failed} {failed:?}"));

    // A refused connection.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let unreachable = CreemProvider::builder(config.clone().with_api_base(closed))
        .retry(RetryConfig::immediate(1))
        .build()
        .unwrap();
    let error = unreachable.retrieve_checkout("ch_1").await.unwrap_err();
    seen.push(format!("{error} {error:?}"));

    // Webhooks: signed with a marker secret (accepted once the age check is off), tampered,
    // and too old.
    let body = fixture("webhook_checkout_completed.json");
    let mut headers = http::HeaderMap::new();
    headers.insert(
        "creem-signature",
        webhook_signature(MARKER_SECRETS[1], body.as_bytes())
            .parse()
            .unwrap(),
    );
    let expired = provider
        .verify_webhook(&headers, body.as_bytes())
        .unwrap_err();
    seen.push(format!("{expired} {expired:?}"));
    let mut ageless = config.clone();
    ageless.webhook_max_age_secs = None;
    let ageless = CreemProvider::builder(ageless).build().unwrap();
    let event = ageless.verify_webhook(&headers, body.as_bytes()).unwrap();
    seen.push(format!("{event:?}"));
    let tampered = ageless
        .verify_webhook(&headers, format!("{body} ").as_bytes())
        .unwrap_err();
    seen.push(format!("{tampered} {tampered:?}"));

    // Redirects: the API key salts them.
    let pairs = [("checkout_id", "ch_1"), ("product_id", "prod_1")];
    let good = format!(
        "checkout_id=ch_1&product_id=prod_1&signature={}",
        redirect_signature(&pairs, MARKER_KEY)
    );
    let params = provider.verify_return(&good).unwrap();
    seen.push(format!("{params:?}"));
    for bad in [
        good.replace("ch_1", "ch_2"),
        format!("{good}&checkout_id=ch_3"),
        format!("{good}&x={MARKER_KEY}%7C"),
        "checkout_id=ch_1".to_owned(),
    ] {
        let error = provider.verify_return(&bad).unwrap_err();
        seen.push(format!("{error} {error:?}"));
    }

    for (index, text) in seen.iter().enumerate() {
        assert_no_marker(&format!("output {index}"), text);
    }
    let logged = capture.text();
    assert!(logged.contains("creem.request"), "{logged}");
    assert_no_marker("the trace", &logged);
}
