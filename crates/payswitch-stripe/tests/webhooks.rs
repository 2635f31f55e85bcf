//! Stripe-Signature verification and event normalization.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use hmac::{Hmac, Mac};
use http::HeaderMap;
use payswitch_core::{
    CheckoutProvider, CheckoutStatus, Currency, ManualClock, Money, PaymentError, PaymentStatus,
    RefundReason, RefundStatus, RetryConfig, SignatureError, SubscriptionStatus, WebhookEventKind,
};
use payswitch_stripe::webhook::signature_header;
use payswitch_stripe::StripeConfig;
use payswitch_stripe::StripeProvider;
use serde_json::json;
use sha2::Sha256;

fn sign(body: &[u8], secret: &str, timestamp: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn headers(value: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("Stripe-Signature", value.parse().unwrap());
    headers
}

fn event(event_type: &str, object: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": "evt_1",
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": NOW - 5,
        "data": {"object": object},
        "livemode": false,
        "pending_webhooks": 1,
        "request": {"id": null, "idempotency_key": null},
        "type": event_type,
        "a_field_from_the_future": {"nested": [1, 2, 3]},
    }))
    .unwrap()
}

fn completed_session() -> Vec<u8> {
    event(
        "checkout.session.completed",
        session_with(json!({
            "status": "complete",
            "payment_status": "paid",
            "amount_total": 2000,
            "currency": "usd",
            "client_reference_id": "order-42",
            "brand_new_field": true,
        })),
    )
}

fn verify(body: &[u8], header: &str) -> Result<payswitch_core::WebhookEvent, PaymentError> {
    provider("http://127.0.0.1:9").verify_webhook(&headers(header), body)
}

fn signature_error(result: Result<payswitch_core::WebhookEvent, PaymentError>) -> SignatureError {
    match result {
        Err(PaymentError::Signature(error)) => error,
        other => panic!("expected a signature error, got {other:?}"),
    }
}

#[test]
fn valid_signature_decodes_the_checkout() {
    let body = completed_session();
    let header = format!("t={NOW},v1={}", sign(&body, WEBHOOK_SECRET, NOW));
    assert_eq!(header, signature_header(&body, WEBHOOK_SECRET, NOW));
    let event = verify(&body, &header).unwrap();
    assert_eq!(event.id, "evt_1");
    assert_eq!(event.kind, WebhookEventKind::CheckoutCompleted);
    assert_eq!(event.event_type, "checkout.session.completed");
    assert_eq!(event.created_at.unix_timestamp(), NOW - 5);
    let checkout = event.checkout.unwrap();
    assert_eq!(checkout.status, CheckoutStatus::Complete);
    assert_eq!(checkout.payment_status, PaymentStatus::Paid);
    assert!(checkout.is_paid());
    assert_eq!(checkout.reference.as_deref(), Some("order-42"));
    assert_eq!(event.raw["type"], "checkout.session.completed");
}

#[test]
fn an_embedded_session_secret_never_stays_in_raw() {
    let body = event(
        "checkout.session.completed",
        json!({
            "id": "cs_test_embedded",
            "object": "checkout.session",
            "status": "complete",
            "payment_status": "paid",
            "client_secret": "cs_test_embedded_secret_abc",
        }),
    );
    let event = verify(&body, &signature_header(&body, WEBHOOK_SECRET, NOW)).unwrap();
    let checkout = event.checkout.clone().unwrap();
    assert_eq!(
        checkout
            .client_secret
            .as_ref()
            .map(|secret| secret.expose()),
        Some("cs_test_embedded_secret_abc")
    );
    // The checkout's raw is the event's data.object, shared, and both are redacted.
    assert_eq!(checkout.raw["client_secret"], "[redacted]");
    assert_eq!(event.raw["data"]["object"]["client_secret"], "[redacted]");
    assert_eq!(checkout.raw, event.raw["data"]["object"]);
    assert!(!format!("{event:?}").contains("cs_test_embedded_secret_abc"));
}

#[test]
fn tampered_body_is_a_mismatch() {
    let body = completed_session();
    let header = signature_header(&body, WEBHOOK_SECRET, NOW);
    let mut tampered = body.clone();
    let position = tampered.len() - 2;
    tampered[position] ^= 1;
    assert_eq!(
        signature_error(verify(&tampered, &header)),
        SignatureError::Mismatch
    );
    let wrong_secret = signature_header(&body, "whsec_someone_else", NOW);
    assert_eq!(
        signature_error(verify(&body, &wrong_secret)),
        SignatureError::Mismatch
    );
    // A signature over another timestamp does not match either.
    let moved = format!("t={},v1={}", NOW - 1, sign(&body, WEBHOOK_SECRET, NOW));
    assert_eq!(
        signature_error(verify(&body, &moved)),
        SignatureError::Mismatch
    );
}

#[test]
fn stale_signatures_expire_and_future_ones_pass() {
    let body = completed_session();
    let stale = NOW - 301;
    match signature_error(verify(
        &body,
        &signature_header(&body, WEBHOOK_SECRET, stale),
    )) {
        SignatureError::Expired {
            age_secs,
            tolerance_secs,
        } => {
            assert_eq!(age_secs, 301);
            assert_eq!(tolerance_secs, 300);
        }
        other => panic!("unexpected {other:?}"),
    }
    // Exactly at the tolerance still passes.
    verify(&body, &signature_header(&body, WEBHOOK_SECRET, NOW - 300)).unwrap();
    // One-sided like Stripe's SDKs: a clock running behind Stripe's is no reason to refuse.
    verify(&body, &signature_header(&body, WEBHOOK_SECRET, NOW + 3600)).unwrap();
}

#[test]
fn tolerance_follows_the_injected_clock_and_setting() {
    let body = completed_session();
    let clock = Arc::new(ManualClock::at_unix(NOW));
    let stripe =
        StripeProvider::builder(StripeConfig::new(KEY).with_webhook_secret(WEBHOOK_SECRET))
            .clock(clock.clone())
            .webhook_tolerance(Duration::from_secs(10))
            .retry(RetryConfig::immediate(0))
            .build()
            .unwrap();
    let header = headers(&signature_header(&body, WEBHOOK_SECRET, NOW));
    stripe.verify_webhook(&header, &body).unwrap();
    clock.advance(Duration::from_secs(11));
    assert!(matches!(
        stripe.verify_webhook(&header, &body),
        Err(PaymentError::Signature(SignatureError::Expired {
            age_secs: 11,
            tolerance_secs: 10
        }))
    ));
}

#[test]
fn any_v1_matches_and_v0_is_ignored() {
    let body = completed_session();
    let good = sign(&body, WEBHOOK_SECRET, NOW);
    let other = sign(&body, "whsec_rolled_away", NOW);
    let header = format!("t={NOW},v1={other},v1={good},v0={other}");
    verify(&body, &header).unwrap();

    // A valid signature only under v0 proves nothing.
    let v0_only = format!("t={NOW},v0={good}");
    assert!(matches!(
        signature_error(verify(&body, &v0_only)),
        SignatureError::Missing(_)
    ));
}

#[test]
fn rotated_secrets_all_verify() {
    let body = completed_session();
    verify(&body, &signature_header(&body, OLD_WEBHOOK_SECRET, NOW)).unwrap();
    verify(&body, &signature_header(&body, WEBHOOK_SECRET, NOW)).unwrap();
}

#[test]
fn malformed_and_missing_headers_are_distinct() {
    let body = completed_session();
    let good = sign(&body, WEBHOOK_SECRET, NOW);
    for header in [
        "nonsense".to_owned(),
        format!("v1={good}"),
        format!("t=yesterday,v1={good}"),
    ] {
        assert!(
            matches!(
                signature_error(verify(&body, &header)),
                SignatureError::Malformed(_)
            ),
            "{header}"
        );
    }
    // Like Stripe's SDKs, odd elements are ignored rather than failing the header: a v1 that
    // is not 64 hex digits is no candidate, the first t counts, unknown elements are skipped.
    assert!(matches!(
        signature_error(verify(&body, &format!("t={NOW},v1=not-hex"))),
        SignatureError::Missing(_)
    ));
    for header in [
        format!("t={NOW},t={NOW},v1={good}"),
        format!("t={NOW},v1=not-hex,v1={good}"),
        format!("t={NOW},junk,v9=x,v1={good}"),
    ] {
        verify(&body, &header).unwrap_or_else(|error| panic!("{header}: {error:?}"));
    }
    let stripe = provider("http://127.0.0.1:9");
    match stripe.verify_webhook(&HeaderMap::new(), &body) {
        Err(PaymentError::Signature(SignatureError::Missing(name))) => {
            assert_eq!(name, "Stripe-Signature header");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn no_secret_configured() {
    let body = completed_session();
    let stripe = StripeProvider::builder(StripeConfig::new(KEY))
        .build()
        .unwrap();
    let header = headers(&signature_header(&body, WEBHOOK_SECRET, NOW));
    assert!(matches!(
        stripe.verify_webhook(&header, &body),
        Err(PaymentError::Signature(SignatureError::NoSecret))
    ));
}

#[test]
fn event_types_are_normalized() {
    let subscription =
        |status: &str| json!({"id": "sub_1", "object": "subscription", "status": status});
    let cases = [
        (
            "checkout.session.expired",
            session_with(json!({"status": "expired"})),
            WebhookEventKind::CheckoutExpired,
        ),
        (
            "checkout.session.async_payment_succeeded",
            fixture(SESSION),
            WebhookEventKind::AsyncPaymentSucceeded,
        ),
        (
            "checkout.session.async_payment_failed",
            fixture(SESSION),
            WebhookEventKind::AsyncPaymentFailed,
        ),
        (
            "payment_intent.succeeded",
            fixture(PAYMENT_INTENT),
            WebhookEventKind::PaymentSucceeded,
        ),
        (
            "payment_intent.payment_failed",
            fixture(PAYMENT_INTENT),
            WebhookEventKind::PaymentFailed,
        ),
        (
            "charge.refunded",
            json!({"id": "ch_1", "object": "charge"}),
            WebhookEventKind::Refunded,
        ),
        (
            "charge.dispute.created",
            json!({"id": "dp_1", "object": "dispute"}),
            WebhookEventKind::Disputed,
        ),
        (
            "customer.subscription.created",
            subscription("active"),
            WebhookEventKind::SubscriptionActive,
        ),
        (
            "customer.subscription.updated",
            subscription("trialing"),
            WebhookEventKind::SubscriptionTrialing,
        ),
        (
            "customer.subscription.updated",
            subscription("past_due"),
            WebhookEventKind::SubscriptionPastDue,
        ),
        (
            "customer.subscription.updated",
            subscription("unpaid"),
            WebhookEventKind::SubscriptionPastDue,
        ),
        (
            "customer.subscription.paused",
            subscription("paused"),
            WebhookEventKind::SubscriptionPaused,
        ),
        (
            "customer.subscription.pending_update_applied",
            subscription("active"),
            WebhookEventKind::SubscriptionUpdated,
        ),
        (
            "customer.subscription.updated",
            subscription("canceled"),
            WebhookEventKind::SubscriptionCanceled,
        ),
        (
            "customer.subscription.created",
            subscription("incomplete"),
            WebhookEventKind::Other("customer.subscription.created".into()),
        ),
        (
            "customer.subscription.deleted",
            subscription("canceled"),
            WebhookEventKind::SubscriptionCanceled,
        ),
        (
            "customer.subscription.trial_will_end",
            subscription("trialing"),
            WebhookEventKind::Other("customer.subscription.trial_will_end".into()),
        ),
        (
            "invoice.paid",
            json!({"id": "in_1", "object": "invoice"}),
            WebhookEventKind::SubscriptionRenewed,
        ),
        (
            "payment_intent.created",
            fixture(PAYMENT_INTENT),
            WebhookEventKind::Other("payment_intent.created".into()),
        ),
        (
            "brand.new.event",
            json!({"whatever": [1]}),
            WebhookEventKind::Other("brand.new.event".into()),
        ),
    ];
    for (event_type, object, kind) in cases {
        let body = event(event_type, object);
        let event = verify(&body, &signature_header(&body, WEBHOOK_SECRET, NOW)).unwrap();
        assert_eq!(event.kind, kind, "{event_type}");
        assert_eq!(
            event.checkout.is_some(),
            event_type.starts_with("checkout.session."),
            "{event_type}"
        );
    }
}

#[test]
fn unknown_session_statuses_never_fulfil() {
    let body = event(
        "checkout.session.completed",
        session_with(json!({"status": "reticulating", "payment_status": "maybe"})),
    );
    let event = verify(&body, &signature_header(&body, WEBHOOK_SECRET, NOW)).unwrap();
    let checkout = event.checkout.unwrap();
    assert!(!checkout.is_paid());
    assert_eq!(checkout.payment_status, PaymentStatus::Unpaid);
}

#[test]
fn a_signed_body_that_is_not_an_event_is_a_decode_error() {
    let body = b"{\"hello\":1}";
    let result = verify(body, &signature_header(body, WEBHOOK_SECRET, NOW));
    assert!(
        matches!(result, Err(PaymentError::Decode { .. })),
        "{result:?}"
    );
}

fn signed(body: &[u8]) -> Result<payswitch_core::WebhookEvent, PaymentError> {
    verify(body, &signature_header(body, WEBHOOK_SECRET, NOW))
}

fn update_event(object: serde_json::Value, previous: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": "evt_2", "object": "event", "created": NOW - 5,
        "type": "customer.subscription.updated",
        "data": {"object": object, "previous_attributes": previous},
    }))
    .unwrap()
}

#[test]
fn invoices_tell_a_new_subscription_from_a_renewal() {
    let invoice =
        |reason: &str| json!({"id": "in_1", "object": "invoice", "billing_reason": reason});
    for event_type in ["invoice.paid", "invoice.payment_succeeded"] {
        for (reason, kind) in [
            ("subscription_create", WebhookEventKind::SubscriptionStarted),
            ("subscription_cycle", WebhookEventKind::SubscriptionRenewed),
            ("subscription_update", WebhookEventKind::SubscriptionRenewed),
            ("something_new", WebhookEventKind::SubscriptionRenewed),
        ] {
            let event = signed(&event(event_type, invoice(reason))).unwrap();
            assert_eq!(event.kind, kind, "{event_type} {reason}");
            assert!(event.checkout.is_none());
        }
    }
    let failed = signed(&event(
        "invoice.payment_failed",
        invoice("subscription_cycle"),
    ))
    .unwrap();
    assert_eq!(failed.kind, WebhookEventKind::SubscriptionPaymentFailed);
}

#[test]
fn a_newly_scheduled_cancellation_is_its_own_kind() {
    let subscription = |cancel: bool| json!({"id": "sub_1", "object": "subscription", "status": "active", "cancel_at_period_end": cancel});
    let scheduled = signed(&update_event(
        subscription(true),
        json!({"cancel_at_period_end": false}),
    ))
    .unwrap();
    assert_eq!(
        scheduled.kind,
        WebhookEventKind::SubscriptionCancelScheduled
    );
    // A period roll while a cancellation is already scheduled is not a new scheduling.
    let roll = signed(&update_event(
        subscription(true),
        json!({"current_period_end": 1}),
    ))
    .unwrap();
    assert_eq!(roll.kind, WebhookEventKind::SubscriptionActive);
    // Undoing the cancellation is an ordinary update.
    let resumed = signed(&update_event(
        subscription(false),
        json!({"cancel_at_period_end": true}),
    ))
    .unwrap();
    assert_eq!(resumed.kind, WebhookEventKind::SubscriptionActive);
}

#[test]
fn a_verified_event_with_an_odd_session_is_still_delivered() {
    // The object of a checkout.session event is not a session Stripe's way (no id).
    let body = event(
        "checkout.session.completed",
        json!({"object": "checkout.session", "status": 7}),
    );
    let event = signed(&body).unwrap();
    assert_eq!(event.kind, WebhookEventKind::CheckoutCompleted);
    assert!(event.checkout.is_none());
    assert_eq!(event.raw["data"]["object"]["status"], 7);
}

#[test]
fn an_oversized_body_is_refused_before_any_mac() {
    let body = vec![b' '; payswitch_core::webhook::MAX_WEBHOOK_BODY_BYTES + 1];
    let result = verify(&body, "t=1,v1=00");
    assert!(
        matches!(
            result,
            Err(PaymentError::Signature(SignatureError::BodyTooLarge { .. }))
        ),
        "{result:?}"
    );
}

#[test]
fn nested_client_secrets_are_redacted_in_events() {
    let mut session = session_with(json!({"client_secret": "cs_secret_top"}));
    session["payment_intent"] = json!({
        "id": "pi_1", "object": "payment_intent", "client_secret": "pi_secret_nested",
        "charges": {"data": [{"deep": {"client_secret": "pi_secret_deeper"}}]},
    });
    let event = signed(&event("checkout.session.completed", session)).unwrap();
    let printed = format!(
        "{event:?} {} {:?}",
        serde_json::to_string(&event).unwrap(),
        event.checkout
    );
    for secret in ["cs_secret_top", "pi_secret_nested", "pi_secret_deeper"] {
        assert!(!printed.contains(secret), "{secret} leaked");
    }
    assert_eq!(
        event.checkout.unwrap().client_secret.unwrap().expose(),
        "cs_secret_top"
    );
}

#[test]
fn subscription_events_carry_the_normalized_subscription() {
    let types = [
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "customer.subscription.paused",
        "customer.subscription.resumed",
        "customer.subscription.trial_will_end",
        "customer.subscription.pending_update_applied",
        "customer.subscription.pending_update_expired",
        // A subscription event Stripe adds later still carries its object.
        "customer.subscription.collection_paused",
    ];
    for event_type in types {
        let event = signed(&event(event_type, fixture(SUBSCRIPTION))).unwrap();
        let subscription = event.subscription.as_ref().expect(event_type);
        assert_eq!(
            subscription.id, "sub_1Pgc6rB7WZ01zgkWNy0Cn5nw",
            "{event_type}"
        );
        // `active` with pause_collection set.
        assert_eq!(
            subscription.status,
            SubscriptionStatus::Paused,
            "{event_type}"
        );
        assert_eq!(
            subscription.customer_id.as_deref(),
            Some("cus_QXg1o8vcGmoR32")
        );
        assert_eq!(subscription.items.len(), 1);
        assert_eq!(
            subscription.items[0].unit_amount,
            Some(Money::new(2000, Currency::USD))
        );
        assert!(subscription.cancel_at_period_end);
        // The subscription's raw is the event's object, shared.
        assert_eq!(subscription.raw, event.raw["data"]["object"]);
        assert!(
            event.checkout.is_none() && event.refund.is_none(),
            "{event_type}"
        );
    }
}

#[test]
fn subscription_event_kinds_stay_as_they_were_with_the_subscription_attached() {
    let canceled = fixture_with(
        SUBSCRIPTION,
        json!({"status": "canceled", "pause_collection": null, "metadata": {"payswitch_reference": "order-42"}}),
    );
    let deleted = signed(&event("customer.subscription.deleted", canceled)).unwrap();
    assert_eq!(deleted.kind, WebhookEventKind::SubscriptionCanceled);
    let subscription = deleted.subscription.unwrap();
    assert_eq!(subscription.status, SubscriptionStatus::Canceled);
    assert_eq!(subscription.reference.as_deref(), Some("order-42"));
    assert!(subscription.metadata.is_empty());

    let scheduling = fixture_with(
        SUBSCRIPTION,
        json!({"status": "active", "pause_collection": null, "cancel_at_period_end": true}),
    );
    let scheduled = signed(&update_event(
        scheduling,
        json!({"cancel_at_period_end": false}),
    ))
    .unwrap();
    assert_eq!(
        scheduled.kind,
        WebhookEventKind::SubscriptionCancelScheduled
    );
    let subscription = scheduled.subscription.unwrap();
    assert_eq!(subscription.status, SubscriptionStatus::Active);
    assert!(subscription.is_cancel_scheduled());
}

#[test]
fn a_subscription_event_with_an_odd_object_is_still_delivered() {
    let event = signed(&event(
        "customer.subscription.updated",
        json!({"id": "sub_1", "object": "subscription"}),
    ))
    .unwrap();
    assert_eq!(
        event.kind,
        WebhookEventKind::Other("customer.subscription.updated".into())
    );
    assert!(event.subscription.is_none());
}

#[test]
fn refund_events_carry_the_normalized_refund() {
    for (event_type, status, expected) in [
        ("refund.created", "pending", RefundStatus::Pending),
        ("refund.updated", "succeeded", RefundStatus::Succeeded),
        ("refund.failed", "failed", RefundStatus::Failed),
    ] {
        let refund = fixture_with(
            REFUND,
            json!({"status": status, "payment_intent": "pi_1", "reason": "fraudulent"}),
        );
        let event = signed(&event(event_type, refund)).unwrap();
        assert_eq!(event.kind, WebhookEventKind::Refunded, "{event_type}");
        let refund = event.refund.as_ref().expect(event_type);
        assert_eq!(refund.id, "re_1Pgc72B7WZ01zgkWqPvrRrPE");
        assert_eq!(refund.status, expected);
        assert_eq!(refund.amount, Some(Money::new(100, Currency::USD)));
        assert_eq!(refund.payment_id.as_deref(), Some("pi_1"));
        assert_eq!(refund.reason, Some(RefundReason::Fraudulent));
        assert_eq!(refund.raw, event.raw["data"]["object"]);
        assert!(event.subscription.is_none());
    }
}

#[test]
fn a_refunded_charge_carries_its_latest_refund_when_listed() {
    let mut charge = fixture_with(CHARGE, json!({"refunded": true, "amount_refunded": 100}));
    charge["refunds"]["data"] = json!([
        fixture_with(REFUND, json!({"id": "re_latest"})),
        fixture_with(REFUND, json!({"id": "re_earlier"})),
    ]);
    let refunded = signed(&event("charge.refunded", charge)).unwrap();
    assert_eq!(refunded.kind, WebhookEventKind::Refunded);
    let refund = refunded.refund.unwrap();
    assert_eq!(refund.id, "re_latest");
    assert_eq!(
        refund.raw,
        refunded.raw["data"]["object"]["refunds"]["data"][0]
    );
    // Current versions leave `refunds` out of the charge: no refund, the event still arrives.
    let mut bare = fixture(CHARGE);
    bare.as_object_mut().unwrap().remove("refunds");
    let without = signed(&event("charge.refunded", bare)).unwrap();
    assert_eq!(without.kind, WebhookEventKind::Refunded);
    assert!(without.refund.is_none());
}

#[test]
fn invoice_events_carry_a_subscription_only_when_expanded() {
    let mut invoice = fixture_with(INVOICE, json!({"billing_reason": "subscription_cycle"}));
    invoice["parent"] = json!({
        "type": "subscription_details",
        "quote_details": null,
        "subscription_details": {"metadata": {}, "subscription": "sub_1Pgc6rB7WZ01zgkWNy0Cn5nw"},
    });
    let by_id = signed(&event("invoice.paid", invoice.clone())).unwrap();
    assert_eq!(by_id.kind, WebhookEventKind::SubscriptionRenewed);
    assert!(by_id.subscription.is_none());
    invoice["parent"]["subscription_details"]["subscription"] = fixture(SUBSCRIPTION);
    let expanded = signed(&event("invoice.paid", invoice)).unwrap();
    assert_eq!(expanded.kind, WebhookEventKind::SubscriptionRenewed);
    assert_eq!(
        expanded.subscription.unwrap().id,
        "sub_1Pgc6rB7WZ01zgkWNy0Cn5nw"
    );
}

#[test]
fn checkout_events_carry_no_subscription_or_refund() {
    let event = signed(&completed_session()).unwrap();
    assert!(event.subscription.is_none() && event.refund.is_none());
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    const TOLERANCE: i64 = 300;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Accepted up to exactly the tolerance, refused one second past it; any future
        /// timestamp passes (one-sided, like the SDKs).
        #[test]
        fn tolerance_boundaries(
            age in prop_oneof![Just(TOLERANCE), Just(TOLERANCE + 1), -100_000i64..=TOLERANCE + 1]
        ) {
            let body = completed_session();
            let signed_at = NOW - age;
            let header = format!("t={signed_at},v1={}", sign(&body, WEBHOOK_SECRET, signed_at));
            let result = verify(&body, &header);
            if age > TOLERANCE {
                let expired = matches!(
                    result,
                    Err(PaymentError::Signature(SignatureError::Expired { .. }))
                );
                prop_assert!(expired, "{:?}", result);
            } else {
                prop_assert!(result.is_ok(), "{:?}", result);
            }
        }

        /// The order of elements, extra `v1` values, `v0` and unknown schemes never change
        /// the outcome.
        #[test]
        fn element_permutations(
            extra_v1 in proptest::collection::vec(proptest::array::uniform32(any::<u8>()), 0..3),
            with_v0 in any::<bool>(),
            with_unknown in any::<bool>(),
            valid in any::<bool>(),
            seed in any::<u64>(),
        ) {
            let body = completed_session();
            let signature = if valid {
                sign(&body, WEBHOOK_SECRET, NOW)
            } else {
                sign(&body, "whsec_someone_else", NOW)
            };
            let mut elements = vec![format!("t={NOW}"), format!("v1={signature}")];
            elements.extend(extra_v1.iter().map(|bytes| format!("v1={}", hex::encode(bytes))));
            if with_v0 {
                elements.push(format!("v0={}", sign(&body, WEBHOOK_SECRET, NOW)));
            }
            if with_unknown {
                elements.push("v9=future,scheme".to_owned());
            }
            // A deterministic shuffle from the seed.
            let mut state = seed | 1;
            for index in (1..elements.len()).rev() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                elements.swap(index, (state % (index as u64 + 1)) as usize);
            }
            let result = verify(&body, &elements.join(","));
            if valid {
                prop_assert!(result.is_ok(), "{:?}", result);
            } else {
                let mismatch = matches!(
                    result,
                    Err(PaymentError::Signature(SignatureError::Mismatch))
                );
                prop_assert!(mismatch, "{:?}", result);
            }
        }

        /// A `client_secret` planted at any depth and path of an event's object never shows
        /// in `Debug` or `Serialize` of the event or its checkout.
        #[test]
        fn client_secrets_are_redacted_at_any_depth(
            path in proptest::collection::vec((any::<bool>(), "[a-z_]{1,8}"), 0..6),
        ) {
            let marker = "cs_marker_proptest_secret";
            let mut planted = json!({"client_secret": marker});
            for (in_array, name) in path.iter().rev() {
                planted = if *in_array {
                    json!([1, planted])
                } else {
                    json!({ name.as_str(): planted })
                };
            }
            let mut session = session_with(json!({"client_secret": marker}));
            session["payment_intent"] = json!({"id": "pi_1", "nested": planted});
            let event = signed(&event("checkout.session.completed", session)).unwrap();
            let printed = format!(
                "{event:?} {} {:?}",
                serde_json::to_string(&event).unwrap(),
                event.checkout.as_ref().map(|checkout| &checkout.raw)
            );
            prop_assert!(!printed.contains(marker));
            let parsed = payswitch_stripe::parse_checkout(
                &serde_json::to_vec(&json!({"id": "cs_1", "x": {"y": [planted_copy(marker)]}})).unwrap(),
            ).unwrap();
            let printed = format!("{parsed:?}");
            prop_assert!(!printed.contains(marker));
        }
    }

    fn planted_copy(marker: &str) -> serde_json::Value {
        json!({"client_secret": marker})
    }
}
