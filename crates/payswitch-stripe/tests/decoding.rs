//! Stripe's fixture responses and events decoded, and the public helpers (`checkout_body`,
//! `parse_checkout`) agreeing with what the provider sends and returns.

mod common;

use std::time::Duration;

use common::*;
use payswitch_core::{CheckoutProvider, CheckoutRequest, Currency, LineItem, Money, PaymentError};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn request() -> CheckoutRequest {
    CheckoutRequest::builder()
        .line_item(
            LineItem::custom("T-shirt & cap", Money::new(2000, Currency::USD), 2)
                .with_description("100% cotton"),
        )
        .line_item(LineItem::native("price_123", 1))
        .line_item(LineItem::sku("pro_monthly", 3))
        .success_url("https://example.com/success?session_id={CHECKOUT_SESSION_ID}")
        .cancel_url("https://example.com/cancel")
        .reference("order 42")
        .metadata("order_id", "ord 42")
        .expires_in(Duration::from_secs(3600))
        .build()
        .unwrap()
}

#[tokio::test]
async fn checkout_body_is_the_body_create_checkout_sends() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/checkout/sessions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture(SESSION)))
        .mount(&server)
        .await;
    let stripe = provider(&server.uri());
    let form = String::from_utf8(stripe.checkout_body(&request()).unwrap()).unwrap();
    stripe.create_checkout(&request()).await.unwrap();
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(body(&sent[0]), form);
    assert_eq!(
        form,
        format!(
            "mode=payment\
             &line_items[0][price_data][currency]=usd\
             &line_items[0][price_data][unit_amount]=2000\
             &line_items[0][price_data][product_data][name]=T-shirt%20%26%20cap\
             &line_items[0][price_data][product_data][description]=100%25%20cotton\
             &line_items[0][quantity]=2\
             &line_items[1][price]=price_123\
             &line_items[1][quantity]=1\
             &line_items[2][price]=price_1Pro\
             &line_items[2][quantity]=3\
             &success_url=https%3A%2F%2Fexample.com%2Fsuccess%3Fsession_id%3D%7BCHECKOUT_SESSION_ID%7D\
             &cancel_url=https%3A%2F%2Fexample.com%2Fcancel\
             &client_reference_id=order%2042\
             &metadata[order_id]=ord%2042\
             &expires_at={}",
            NOW + 3600
        )
    );
}

#[test]
fn checkout_body_refuses_what_create_checkout_refuses() {
    let stripe = provider("http://127.0.0.1:9");
    let unknown_sku = CheckoutRequest::builder()
        .line_item(LineItem::sku("no_such_sku", 1))
        .success_url("https://example.com/ok")
        .build()
        .unwrap();
    assert!(stripe.checkout_body(&unknown_sku).is_err());
    let too_small = CheckoutRequest::builder()
        .line_item(LineItem::custom("Gum", Money::new(10, Currency::USD), 1))
        .success_url("https://example.com/ok")
        .build()
        .unwrap();
    assert!(matches!(
        stripe.checkout_body(&too_small),
        Err(PaymentError::AmountTooSmall { .. })
    ));
}

#[tokio::test]
async fn parse_checkout_matches_retrieve_checkout() {
    let answer = session_with(serde_json::json!({
        "client_secret": "cs_secret_hidden",
        "metadata": {"order_id": "ord 42"},
    }));
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer.clone()))
        .mount(&server)
        .await;
    let retrieved = provider(&server.uri())
        .retrieve_checkout("cs_test_1")
        .await
        .unwrap();
    let parsed = payswitch_stripe::parse_checkout(&serde_json::to_vec(&answer).unwrap()).unwrap();
    assert_eq!(format!("{parsed:?}"), format!("{retrieved:?}"));
    assert_eq!(parsed.raw, retrieved.raw);
    assert_eq!(parsed.raw["client_secret"], "[redacted]");
    assert_eq!(
        parsed.client_secret.as_ref().map(|secret| secret.expose()),
        Some("cs_secret_hidden")
    );
    assert_eq!(parsed.id, answer["id"]);
    assert_eq!(parsed.metadata["order_id"], "ord 42");
}

#[test]
fn parse_checkout_reports_bad_bodies() {
    for body in [
        &b"not json"[..],
        b"{\"object\":\"checkout.session\"}",
        b"[]",
    ] {
        assert!(matches!(
            payswitch_stripe::parse_checkout(body),
            Err(PaymentError::Decode { .. })
        ));
    }
}

#[test]
fn fixtures_decode_through_the_public_types() {
    // The event fixture is a plan.created event: it must decode as Other.
    let header = payswitch_stripe::webhook::signature_header(EVENT.as_bytes(), WEBHOOK_SECRET, NOW);
    let stripe = provider("http://127.0.0.1:9");
    let mut headers = http::HeaderMap::new();
    headers.insert("Stripe-Signature", header.parse().unwrap());
    let event = stripe.verify_webhook(&headers, EVENT.as_bytes()).unwrap();
    assert_eq!(event.id, "evt_1Pgc76B7WZ01zgkWwyRHS12y");
    assert_eq!(event.event_type, "plan.created");
    assert_eq!(
        event.kind,
        payswitch_core::WebhookEventKind::Other("plan.created".into())
    );
    assert!(event.checkout.is_none());
    assert_eq!(event.created_at.unix_timestamp(), 1_234_567_890);
}

mod form_round_trip {
    use std::collections::BTreeMap;

    use super::*;
    use proptest::prelude::*;

    /// Text made of the characters form encoding must escape, plus any unicode.
    fn hostile() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just('&'),
                Just('='),
                Just('['),
                Just(']'),
                Just('%'),
                Just('+'),
                Just(' '),
                Just('{'),
                Just('}'),
                Just('é'),
                Just('💳'),
                Just('\u{0}'),
                any::<char>(),
                proptest::char::range('a', 'z'),
            ],
            0..24,
        )
        .prop_map(|chars| chars.into_iter().collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// `checkout_body` decoded by an independent parser (`form_urlencoded`) gives back
        /// every metadata pair, the product name, the reference and the success URL.
        #[test]
        fn hostile_keys_and_values_survive_encoding(
            metadata in proptest::collection::btree_map(hostile(), hostile(), 0..6),
            name in hostile(),
            reference in hostile(),
            path in hostile(),
        ) {
            let stripe = provider("http://127.0.0.1:9");
            let mut builder = CheckoutRequest::builder()
                .line_item(LineItem::custom(name.clone(), Money::new(2000, Currency::USD), 1))
                .success_url(format!("https://example.com/{path}"))
                .reference(reference.clone());
            for (key, value) in &metadata {
                builder = builder.metadata(key.clone(), value.clone());
            }
            let Ok(request) = builder.build() else {
                // Refused by core's validation (empty name, brackets in a key, …).
                return Ok(());
            };
            let Ok(body) = stripe.checkout_body(&request) else {
                return Ok(());
            };
            let pairs: Vec<(String, String)> = form_urlencoded::parse(&body)
                .map(|(key, value)| (key.into_owned(), value.into_owned()))
                .collect();
            let find = |key: &str| {
                pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
            };
            prop_assert_eq!(find("line_items[0][price_data][product_data][name]"), Some(name.as_str()));
            prop_assert_eq!(find("client_reference_id"), Some(reference.as_str()));
            let url = format!("https://example.com/{path}");
            prop_assert_eq!(find("success_url"), Some(url.as_str()));
            let decoded: BTreeMap<String, String> = pairs
                .iter()
                .filter_map(|(key, value)| {
                    key.strip_prefix("metadata[")
                        .and_then(|rest| rest.strip_suffix(']'))
                        .map(|key| (key.to_owned(), value.clone()))
                })
                .collect();
            prop_assert_eq!(&decoded, &request.metadata);
            // Every byte outside the unreserved set is escaped: `&`, `=` and `+` in values
            // cannot split or join pairs.
            prop_assert_eq!(pairs.len(), body.split(|byte| *byte == b'&').count());
        }
    }
}

#[test]
fn a_session_without_an_id_is_a_decode_error() {
    // Found by the `parse_responses` fuzz target.
    let outcome = payswitch_stripe::parse_checkout(
        br#"{"id":"","object":"checkout.session","status":"open"}"#,
    );
    assert!(
        matches!(outcome, Err(payswitch_core::PaymentError::Decode { .. })),
        "{outcome:?}"
    );
}
