//! `verify_webhook`: `creem-signature` over the raw body, secret rotation, and normalization of
//! Creem's documented sample events.

mod common;

use common::*;
use http::{HeaderMap, HeaderValue};
use payswitch_core::{
    CheckoutProvider, Currency, Money, PaymentError, RefundReason, RefundStatus, RetryConfig,
    SignatureError, SubscriptionStatus, WebhookEventKind,
};
use payswitch_creem::CreemConfig;
use payswitch_creem::CreemProvider;
use time::OffsetDateTime;

fn signed(secret: &str, body: &[u8]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        "creem-signature",
        HeaderValue::from_str(&webhook_signature(secret, body)).unwrap(),
    );
    headers
}

fn offline_provider() -> CreemProvider {
    provider_at("http://127.0.0.1:9", RetryConfig::immediate(0))
}

fn signature_error(outcome: Result<payswitch_core::WebhookEvent, PaymentError>) -> SignatureError {
    match outcome {
        Err(PaymentError::Signature(error)) => error,
        other => panic!("expected a signature error, got {other:?}"),
    }
}

#[test]
fn a_signed_checkout_completed_event_carries_the_paid_checkout() {
    let body = fixture("webhook_checkout_completed.json");
    let event = offline_provider()
        .verify_webhook(&signed(WEBHOOK_SECRET, body.as_bytes()), body.as_bytes())
        .unwrap();

    assert_eq!(event.id, "evt_5WHHcZPv7VS0YUsberIuOz");
    assert_eq!(event.kind, WebhookEventKind::CheckoutCompleted);
    assert_eq!(event.event_type, "checkout.completed");
    assert_eq!(
        event.created_at,
        OffsetDateTime::from_unix_timestamp_nanos(1_728_734_325_927_000_000).unwrap()
    );
    let checkout = event.checkout.expect("the checkout");
    assert_eq!(checkout.id, "ch_4l0N34kxo16AhRKUHFUuXr");
    assert!(checkout.is_paid());
    assert_eq!(checkout.reference.as_deref(), Some("my-request-id"));
    // The sample's order states `amount` (before discounts) but not `amount_paid`.
    assert_eq!(checkout.amount_total, None);
    assert_eq!(
        checkout.customer_id.as_deref(),
        Some("cust_1OcIK1GEuVvXZwD19tjq2z")
    );
    assert_eq!(
        checkout.payment_id.as_deref(),
        Some("ord_4aDwWXjMLpes4Kj4XqNnUA")
    );
    assert_eq!(event.raw["object"]["mode"], "local");
}

#[test]
fn the_header_name_matches_in_any_case_and_surrounding_space_is_ignored() {
    let body = fixture("webhook_checkout_completed.json");
    let mut headers = HeaderMap::new();
    let value = format!(" {} ", webhook_signature(WEBHOOK_SECRET, body.as_bytes()));
    headers.insert(
        http::HeaderName::from_bytes(b"Creem-Signature").unwrap(),
        HeaderValue::from_str(&value).unwrap(),
    );
    assert!(offline_provider()
        .verify_webhook(&headers, body.as_bytes())
        .is_ok());
}

#[test]
fn a_tampered_body_is_a_mismatch() {
    let body = fixture("webhook_checkout_completed.json");
    let headers = signed(WEBHOOK_SECRET, body.as_bytes());
    let tampered = body.replace("\"amount\": 1000", "\"amount\": 1");
    assert_ne!(tampered, body);
    assert_eq!(
        signature_error(offline_provider().verify_webhook(&headers, tampered.as_bytes())),
        SignatureError::Mismatch
    );
}

#[test]
fn a_missing_or_malformed_header_is_refused() {
    let body = fixture("webhook_checkout_completed.json");
    let provider = offline_provider();
    assert!(matches!(
        signature_error(provider.verify_webhook(&HeaderMap::new(), body.as_bytes())),
        SignatureError::Missing(_)
    ));
    for bad in ["not-hex", "abcd", ""] {
        let mut headers = HeaderMap::new();
        headers.insert("creem-signature", HeaderValue::from_str(bad).unwrap());
        let error = signature_error(provider.verify_webhook(&headers, body.as_bytes()));
        assert!(
            matches!(
                error,
                SignatureError::Malformed(_) | SignatureError::Missing(_)
            ),
            "{bad}: {error:?}"
        );
    }
}

#[test]
fn every_configured_secret_is_tried_while_rotating() {
    let body = fixture("webhook_subscription_paid.json");
    let provider = offline_provider();
    // Signed with the previous secret, still configured second.
    let event = provider
        .verify_webhook(
            &signed(OLD_WEBHOOK_SECRET, body.as_bytes()),
            body.as_bytes(),
        )
        .unwrap();
    // Creem's sample is a first payment: the period starts when the subscription was created.
    assert_eq!(event.kind, WebhookEventKind::SubscriptionStarted);
    assert!(event.checkout.is_none());

    // A secret nobody configured.
    assert_eq!(
        signature_error(
            provider.verify_webhook(&signed("whsec_retired", body.as_bytes()), body.as_bytes())
        ),
        SignatureError::Mismatch
    );

    // Without any secret nothing can be verified.
    let unconfigured = CreemProvider::builder(CreemConfig::new(API_KEY))
        .build()
        .unwrap();
    assert_eq!(
        signature_error(
            unconfigured.verify_webhook(&signed(WEBHOOK_SECRET, body.as_bytes()), body.as_bytes())
        ),
        SignatureError::NoSecret
    );
}

fn event_of_type(event_type: &str) -> String {
    serde_json::json!({
        "id": "evt_test_1",
        "eventType": event_type,
        "created_at": 1728734325927u64,
        "object": {"id": "sub_1", "object": "subscription", "status": "active"}
    })
    .to_string()
}

#[test]
fn event_types_are_normalized() {
    let provider = offline_provider();
    for (event_type, kind) in [
        ("subscription.active", WebhookEventKind::SubscriptionActive),
        ("subscription.paid", WebhookEventKind::SubscriptionRenewed),
        (
            "subscription.canceled",
            WebhookEventKind::SubscriptionCanceled,
        ),
        (
            "subscription.expired",
            WebhookEventKind::SubscriptionExpired,
        ),
        (
            "subscription.past_due",
            WebhookEventKind::SubscriptionPastDue,
        ),
        (
            "subscription.trialing",
            WebhookEventKind::SubscriptionTrialing,
        ),
        ("subscription.paused", WebhookEventKind::SubscriptionPaused),
        ("subscription.update", WebhookEventKind::SubscriptionUpdated),
        (
            "subscription.scheduled_cancel",
            WebhookEventKind::SubscriptionCancelScheduled,
        ),
        ("subscription.unpaid", WebhookEventKind::SubscriptionPastDue),
        (
            "credits.granted",
            WebhookEventKind::Other("credits.granted".into()),
        ),
        (
            "brand.new_event",
            WebhookEventKind::Other("brand.new_event".into()),
        ),
    ] {
        let body = event_of_type(event_type);
        let event = provider
            .verify_webhook(&signed(WEBHOOK_SECRET, body.as_bytes()), body.as_bytes())
            .unwrap();
        assert_eq!(event.kind, kind, "{event_type}");
        assert_eq!(event.event_type, event_type);
        assert_eq!(event.id, "evt_test_1");
        // Every subscription event carries its subscription, normalized.
        match event.subscription {
            Some(subscription) => {
                assert!(event_type.starts_with("subscription."), "{event_type}");
                assert_eq!(subscription.id, "sub_1");
                assert_eq!(subscription.status, SubscriptionStatus::Active);
            }
            None => assert!(!event_type.starts_with("subscription."), "{event_type}"),
        }
        assert!(event.refund.is_none());
    }
}

fn verified(body: &str) -> payswitch_core::WebhookEvent {
    offline_provider()
        .verify_webhook(&signed(WEBHOOK_SECRET, body.as_bytes()), body.as_bytes())
        .unwrap()
}

fn at(text: &str) -> OffsetDateTime {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).unwrap()
}

#[test]
fn a_scheduled_cancellation_carries_an_active_subscription_ending_at_the_period_end() {
    let event = verified(&fixture("webhook_subscription_scheduled_cancel.json"));
    assert_eq!(event.kind, WebhookEventKind::SubscriptionCancelScheduled);
    let subscription = event.subscription.expect("the subscription");
    assert_eq!(subscription.id, "sub_6pC2lNB6joCRQIZ1aMrTpi");
    assert_eq!(subscription.status, SubscriptionStatus::Active);
    assert!(subscription.cancel_at_period_end);
    assert!(subscription.is_cancel_scheduled());
    assert_eq!(subscription.cancel_at, Some(at("2024-11-12T11:58:38Z")));
    assert_eq!(
        subscription.current_period_end,
        Some(at("2024-11-12T11:58:38Z"))
    );
    assert_eq!(
        subscription.current_period_start,
        Some(at("2024-10-12T11:58:38Z"))
    );
    assert_eq!(subscription.canceled_at, None);
    assert_eq!(
        subscription.customer_id.as_deref(),
        Some("cust_1OcIK1GEuVvXZwD19tjq2z")
    );
    assert_eq!(
        subscription
            .metadata
            .get("internal_customer_id")
            .map(String::as_str),
        Some("internal_customer_id")
    );
    // The sample has no items; the plan is in `raw`.
    assert!(subscription.items.is_empty());
    assert_eq!(
        subscription.raw["product"]["id"],
        "prod_d1AY2Sadk9YAvLI0pj97f"
    );
    assert_eq!(event.raw["object"]["status"], "scheduled_cancel");
}

#[test]
fn subscription_updates_and_trials_carry_items_and_the_trial_end() {
    let update = verified(&fixture("webhook_subscription_update.json"));
    assert_eq!(update.kind, WebhookEventKind::SubscriptionUpdated);
    let subscription = update.subscription.expect("the subscription");
    assert_eq!(subscription.status, SubscriptionStatus::Active);
    assert_eq!(subscription.items.len(), 1);
    let item = &subscription.items[0];
    assert_eq!(item.id.as_deref(), Some("sitem_3QWlqRbAat2eBRakAxFtt9"));
    assert_eq!(
        item.product_id.as_deref(),
        Some("prod_5jnudVkLGZWF4AqMFBs5t5")
    );
    assert_eq!(
        item.price_id.as_deref(),
        Some("pprice_4W0mJK6uGiQzHbVhfaFTl1")
    );
    assert_eq!(item.quantity, 1);
    // The item's product is not the expanded one, so its price is not claimed.
    assert_eq!(item.unit_amount, None);

    let trial = verified(&fixture("webhook_subscription_trialing.json"));
    assert_eq!(trial.kind, WebhookEventKind::SubscriptionTrialing);
    let subscription = trial.subscription.expect("the subscription");
    assert_eq!(subscription.status, SubscriptionStatus::Trialing);
    assert_eq!(subscription.trial_end, Some(at("2025-02-26T11:18:25Z")));
    assert_eq!(
        subscription.items[0].unit_amount,
        Some(Money::new(1100, Currency::EUR))
    );
}

#[test]
fn a_subscription_checkout_carries_its_subscription_when_expanded() {
    let event = verified(&fixture("webhook_checkout_completed.json"));
    let subscription = event.subscription.expect("the expanded subscription");
    assert_eq!(subscription.id, "sub_6pC2lNB6joCRQIZ1aMrTpi");
    assert_eq!(subscription.status, SubscriptionStatus::Active);
    assert_eq!(
        subscription.customer_id.as_deref(),
        Some("cust_1OcIK1GEuVvXZwD19tjq2z")
    );
    assert_eq!(
        subscription.created_at,
        Some(at("2024-10-12T11:58:45.425Z"))
    );
    assert_eq!(
        subscription.metadata.get("custom_data").map(String::as_str),
        Some("mycustom data")
    );
    assert_eq!(
        event
            .checkout
            .expect("the checkout")
            .subscription_id
            .as_deref(),
        Some("sub_6pC2lNB6joCRQIZ1aMrTpi")
    );

    // A subscription named by id only is not a subscription the event holds.
    let mut ids_only: serde_json::Value =
        serde_json::from_str(&fixture("webhook_checkout_completed.json")).unwrap();
    ids_only["object"]["subscription"] = serde_json::json!("sub_6pC2lNB6joCRQIZ1aMrTpi");
    let event = verified(&ids_only.to_string());
    assert!(event.subscription.is_none());
    assert!(event.checkout.is_some());
}

#[test]
fn a_refund_event_carries_the_normalized_refund() {
    let event = verified(&fixture("webhook_refund_created.json"));
    assert_eq!(event.kind, WebhookEventKind::Refunded);
    let refund = event.refund.expect("the refund");
    assert_eq!(refund.id, "ref_3DB9NQFvk18TJwSqd0N6bd");
    assert_eq!(refund.provider, payswitch_creem::KIND);
    assert_eq!(refund.status, RefundStatus::Succeeded);
    assert_eq!(refund.amount, Some(Money::new(1210, Currency::EUR)));
    assert_eq!(
        refund.payment_id.as_deref(),
        Some("tran_5yMaWzAl3jxuGJMCOrYWwk")
    );
    assert_eq!(
        refund.checkout_id.as_deref(),
        Some("ch_4l0N34kxo16AhRKUHFUuXr")
    );
    assert_eq!(
        refund.subscription_id.as_deref(),
        Some("sub_6pC2lNB6joCRQIZ1aMrTpi")
    );
    assert_eq!(refund.reason, Some(RefundReason::RequestedByCustomer));
    assert_eq!(
        refund.created_at,
        Some(OffsetDateTime::from_unix_timestamp_nanos(1_728_734_351_525_000_000).unwrap())
    );
    assert!(refund.ignored.is_empty());
    assert_eq!(refund.raw["object"], "refund");
    assert!(event.subscription.is_none());

    // Creem's other reasons and statuses, and a refund naming its objects by id.
    let body = serde_json::json!({
        "id": "evt_r2", "eventType": "refund.created", "created_at": 1,
        "object": {"id": "ref_2", "object": "refund", "status": "requiresAction",
                   "refund_amount": 500, "refund_currency": "USD", "reason": "other",
                   "transaction": "tran_2", "subscription": "sub_2", "checkout": "ch_2"}
    })
    .to_string();
    let refund = verified(&body).refund.expect("the refund");
    assert_eq!(refund.status, RefundStatus::RequiresAction);
    assert_eq!(refund.reason, Some(RefundReason::Other("other".into())));
    assert_eq!(refund.payment_id.as_deref(), Some("tran_2"));
    assert_eq!(refund.checkout_id.as_deref(), Some("ch_2"));
    assert_eq!(refund.subscription_id.as_deref(), Some("sub_2"));
    assert_eq!(refund.amount, Some(Money::new(500, Currency::USD)));
}

#[test]
fn a_refund_or_subscription_that_does_not_decode_leaves_the_verified_event() {
    for (event_type, object) in [
        (
            "refund.created",
            serde_json::json!({"id": "ref_1", "status": "succeeded",
                               "refund_amount": "lots", "refund_currency": "EUR"}),
        ),
        // A refund in a currency Creem does not document is not given a guessed exponent.
        (
            "refund.created",
            serde_json::json!({"id": "ref_1", "status": "succeeded",
                               "refund_amount": 500, "refund_currency": "JPY"}),
        ),
        (
            "subscription.paused",
            serde_json::json!({"id": "sub_1", "items": [{"id": "sitem_1", "units": 1.5}],
                               "status": "paused"}),
        ),
        ("subscription.active", serde_json::json!({"id": "sub_1"})),
    ] {
        let body = serde_json::json!({"id": "evt_bad", "eventType": event_type,
                                      "created_at": 1, "object": object})
        .to_string();
        let event = verified(&body);
        assert!(event.refund.is_none(), "{event_type}");
        assert!(event.subscription.is_none(), "{event_type}");
        assert_eq!(event.raw["object"]["id"], object["id"]);
    }
}

#[test]
fn refunds_and_disputes_carry_their_checkout() {
    let body = fixture("webhook_refund_created.json");
    let event = offline_provider()
        .verify_webhook(&signed(WEBHOOK_SECRET, body.as_bytes()), body.as_bytes())
        .unwrap();
    assert_eq!(event.kind, WebhookEventKind::Refunded);
    let checkout = event.checkout.expect("the refunded checkout");
    assert_eq!(checkout.id, "ch_4l0N34kxo16AhRKUHFUuXr");
    assert_eq!(checkout.reference.as_deref(), Some("my-request-id"));

    let dispute = serde_json::json!({
        "id": "evt_6mfLDL7P0NYwYQqCrICvDH",
        "eventType": "dispute.created",
        "created_at": 1750941264812u64,
        "object": {
            "id": "disp_6vSsOdTANP5PhOzuDlUuXE",
            "object": "dispute",
            "amount": 1331,
            "currency": "EUR",
            "transaction": {"id": "tran_4Dk8CxWFdceRUQgMFhCCXX", "status": "chargeback"},
            "checkout": {"id": "ch_1bJMvqGGzHIftf4ewLXJeq", "object": "checkout",
                         "status": "completed", "product": "prod_3EFtQRQ9SNIizK3xwfxZHu",
                         "mode": "sandbox"},
            "created_at": 1750941264797u64,
            "mode": "sandbox"
        }
    })
    .to_string();
    let event = offline_provider()
        .verify_webhook(
            &signed(WEBHOOK_SECRET, dispute.as_bytes()),
            dispute.as_bytes(),
        )
        .unwrap();
    assert_eq!(event.kind, WebhookEventKind::Disputed);
    assert_eq!(event.checkout.unwrap().id, "ch_1bJMvqGGzHIftf4ewLXJeq");
}

#[test]
fn a_signed_body_that_is_not_an_event_is_a_decode_error() {
    let provider = offline_provider();
    for body in ["not json", r#"{"id":"evt_1"}"#] {
        match provider.verify_webhook(&signed(WEBHOOK_SECRET, body.as_bytes()), body.as_bytes()) {
            Err(PaymentError::Decode { .. }) => {}
            other => panic!("{body}: expected Decode, got {other:?}"),
        }
    }
}

#[test]
fn a_verified_event_whose_nested_object_does_not_decode_is_still_returned() {
    // The checkout has no id: the event is kept, without a checkout, so the handler can
    // answer 200 instead of having Creem redeliver it for a day.
    let provider = offline_provider();
    let body = r#"{"id":"evt_1","eventType":"checkout.completed","created_at":1,"object":{"status":"completed"}}"#;
    let event = provider
        .verify_webhook(&signed(WEBHOOK_SECRET, body.as_bytes()), body.as_bytes())
        .unwrap();
    assert_eq!(event.kind, WebhookEventKind::CheckoutCompleted);
    assert!(event.checkout.is_none());
    assert_eq!(event.raw["object"]["status"], "completed");

    let refund = serde_json::json!({
        "id": "evt_2", "eventType": "refund.created", "created_at": 1,
        "object": {"id": "ref_1", "object": "refund",
                   "checkout": {"id": "ch_1", "status": "completed",
                                "order": {"id": "ord_1", "amount_paid": "lots", "currency": "EUR"}}}
    })
    .to_string();
    let event = provider
        .verify_webhook(
            &signed(WEBHOOK_SECRET, refund.as_bytes()),
            refund.as_bytes(),
        )
        .unwrap();
    assert_eq!(event.kind, WebhookEventKind::Refunded);
    assert!(event.checkout.is_none());
    assert_eq!(event.raw["object"]["id"], "ref_1");
}

/// A `subscription.paid` whose subscription was created at `created` and whose current
/// period starts at `period_start`.
fn subscription_paid(created: &str, period_start: &str) -> String {
    serde_json::json!({
        "id": "evt_paid", "eventType": "subscription.paid", "created_at": 1728734327355u64,
        "object": {"id": "sub_1", "object": "subscription", "status": "active",
                   "current_period_start_date": period_start, "created_at": created}
    })
    .to_string()
}

#[test]
fn subscription_paid_is_started_for_the_first_period_and_renewed_after() {
    let provider = offline_provider();
    let kind = |body: String| {
        provider
            .verify_webhook(&signed(WEBHOOK_SECRET, body.as_bytes()), body.as_bytes())
            .unwrap()
            .kind
    };
    assert_eq!(
        kind(subscription_paid(
            "2024-10-12T11:58:45.425Z",
            "2024-10-12T11:58:38.000Z"
        )),
        WebhookEventKind::SubscriptionStarted
    );
    assert_eq!(
        kind(subscription_paid(
            "2024-10-12T11:58:45.425Z",
            "2024-11-12T11:58:38.000Z"
        )),
        WebhookEventKind::SubscriptionRenewed
    );
    // Nothing to decide from: only `Started` needs proof.
    assert_eq!(
        kind(subscription_paid("2024-10-12T11:58:45.425Z", "soon")),
        WebhookEventKind::SubscriptionRenewed
    );
}

/// A clock fixed at `at`.
#[derive(Debug)]
struct FixedClock(OffsetDateTime);

impl payswitch_core::Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        self.0
    }
}

#[test]
fn an_opt_in_max_age_refuses_old_events_after_the_signature() {
    // The fixture's signed created_at is 1728734325927 ms.
    let created = OffsetDateTime::from_unix_timestamp(1_728_734_325).unwrap();
    let body = fixture("webhook_checkout_completed.json");
    let headers = signed(WEBHOOK_SECRET, body.as_bytes());
    let at = |now: OffsetDateTime, max_age: Option<u64>| {
        let mut settings = settings("http://127.0.0.1:9");
        if let Some(seconds) = max_age {
            settings = settings.with_webhook_max_age_secs(seconds);
        }
        CreemProvider::builder(settings)
            .clock(std::sync::Arc::new(FixedClock(now)))
            .build()
            .unwrap()
            .verify_webhook(&headers, body.as_bytes())
    };
    let day = time::Duration::days(1);
    // Without the option any age verifies (and the fixture is from 2024).
    assert!(at(created + day * 400, None).is_ok());
    assert!(at(created + day, Some(3 * 86_400)).is_ok());
    assert!(
        at(created - day, Some(60)).is_ok(),
        "future timestamps pass"
    );
    match at(created + day * 4, Some(3 * 86_400)) {
        Err(PaymentError::Signature(SignatureError::Expired {
            tolerance_secs,
            age_secs,
        })) => {
            assert_eq!(tolerance_secs, 3 * 86_400);
            assert!(age_secs >= 4 * 86_400 - 1, "{age_secs}");
        }
        other => panic!("expected Expired, got {other:?}"),
    }
    // The builder option does the same.
    let provider = CreemProvider::builder(settings("http://127.0.0.1:9"))
        .clock(std::sync::Arc::new(FixedClock(created + day * 4)))
        .webhook_max_age(std::time::Duration::from_secs(3600))
        .build()
        .unwrap();
    assert!(matches!(
        provider.verify_webhook(&headers, body.as_bytes()),
        Err(PaymentError::Signature(SignatureError::Expired { .. }))
    ));
    // A tampered body is still a mismatch first, never "expired".
    let mut tampered = body.clone().into_bytes();
    tampered[10] ^= 1;
    assert!(matches!(
        provider.verify_webhook(&headers, &tampered),
        Err(PaymentError::Signature(SignatureError::Mismatch))
    ));
}

#[test]
fn max_age_is_read_from_the_creem_section() {
    let config: payswitch_core::Config = toml_config(
        "provider = \"creem\"\n[creem]\napi_key = \"creem_test_1\"\nwebhook_max_age_secs = 600\n",
    );
    let creem = CreemConfig::from_config(&config).unwrap();
    assert_eq!(creem.webhook_max_age_secs, Some(600));
}

fn toml_config(text: &str) -> payswitch_core::Config {
    payswitch_core::Config::from_toml_str(text).unwrap()
}

#[test]
fn oversized_bodies_and_missing_headers_are_refused_before_any_work() {
    let big = vec![b' '; payswitch_core::webhook::MAX_WEBHOOK_BODY_BYTES + 1];
    assert!(matches!(
        offline_provider().verify_webhook(&signed(WEBHOOK_SECRET, &big), &big),
        Err(PaymentError::Signature(SignatureError::BodyTooLarge { .. }))
    ));
    // Without its header this is not a Creem delivery: `Missing`, even with no secret
    // configured (a router asks every gateway).
    let unconfigured = CreemProvider::builder(CreemConfig::new(API_KEY))
        .build()
        .unwrap();
    assert!(matches!(
        unconfigured.verify_webhook(&HeaderMap::new(), b"{}"),
        Err(PaymentError::Signature(SignatureError::Missing(_)))
    ));
}
