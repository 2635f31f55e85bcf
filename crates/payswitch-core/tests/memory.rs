//! The in-memory gateway: state machine, recorded calls, scripted failures and signed events.

use std::sync::Arc;
use std::time::Duration;

use payswitch_core::memory::{MemoryProvider, Operation, RecordedCall, SIGNATURE_HEADER};
use payswitch_core::{
    CheckoutMode, CheckoutProvider, CheckoutProviderExt, CheckoutRequest, CheckoutStatus, Currency,
    GatewayDetails, LineItem, ManualClock, Money, PaymentError, PaymentStatus, ProviderKind,
    SignatureError, UiMode, WebhookEventKind,
};

fn request() -> CheckoutRequest {
    CheckoutRequest::builder()
        .line_item(LineItem::custom("Book", Money::new(1500, Currency::EUR), 2))
        .success_url("https://shop.example/done")
        .reference("order-7")
        .metadata("plan", "one-time")
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_trait_is_dyn_compatible() {
    let provider: Arc<dyn CheckoutProvider> = Arc::new(MemoryProvider::new());
    let checkout = provider.create_checkout(&request()).await.unwrap();
    assert_eq!(checkout.provider, ProviderKind::MEMORY);
    let again = provider.retrieve_checkout(&checkout.id).await.unwrap();
    assert_eq!(again.id, checkout.id);
    // The blanket extension works through the trait object too.
    assert!(!provider.is_paid(&checkout.id).await.unwrap());
}

#[tokio::test]
async fn create_opens_an_unpaid_checkout_with_everything_echoed() {
    let gateway = MemoryProvider::new();
    let checkout = gateway.create_checkout(&request()).await.unwrap();
    assert_eq!(checkout.status, CheckoutStatus::Open);
    assert_eq!(checkout.payment_status, PaymentStatus::Unpaid);
    assert_eq!(checkout.amount_total, Some(Money::new(3000, Currency::EUR)));
    assert_eq!(checkout.reference.as_deref(), Some("order-7"));
    assert_eq!(
        checkout.metadata.get("plan").map(String::as_str),
        Some("one-time")
    );
    assert_eq!(checkout.mode, Some(CheckoutMode::Payment));
    assert!(checkout.url.as_deref().unwrap().ends_with(&checkout.id));
    assert!(checkout.client_secret.is_none());
    let lifetime = checkout.expires_at.unwrap() - checkout.created_at.unwrap();
    assert_eq!(lifetime, time::Duration::hours(24));
}

#[tokio::test]
async fn embedded_checkouts_get_a_redacted_client_secret() {
    let gateway = MemoryProvider::new();
    let mut embedded = request();
    embedded.ui_mode = UiMode::Embedded;
    let checkout = gateway.create_checkout(&embedded).await.unwrap();
    assert!(checkout.url.is_none());
    let secret = checkout.client_secret.clone().unwrap();
    assert!(secret.expose().starts_with(&checkout.id));
    assert!(!format!("{checkout:?}").contains(secret.expose()));
}

#[tokio::test]
async fn paying_completes_and_emits_a_verifiable_event() {
    let gateway = MemoryProvider::new();
    let checkout = gateway.create_checkout(&request()).await.unwrap();
    let delivery = gateway.pay(&checkout.id).unwrap();
    let event = gateway
        .verify_webhook(&delivery.headers, &delivery.body)
        .unwrap();
    assert_eq!(event.kind, WebhookEventKind::CheckoutCompleted);
    assert_eq!(event.provider, ProviderKind::MEMORY);
    let paid = event.checkout.unwrap();
    assert_eq!(paid.id, checkout.id);
    assert_eq!(paid.status, CheckoutStatus::Complete);
    assert_eq!(paid.payment_status, PaymentStatus::Paid);
    assert!(paid.is_paid());
    assert!(gateway.is_paid(&checkout.id).await.unwrap());

    // A completed checkout cannot be paid or expired again.
    assert!(matches!(
        gateway.pay(&checkout.id),
        Err(PaymentError::InvalidRequest { .. })
    ));
    assert!(matches!(
        gateway.expire_checkout(&checkout.id).await,
        Err(PaymentError::InvalidRequest { .. })
    ));
}

#[tokio::test]
async fn tampered_or_unsigned_webhooks_are_rejected() {
    let gateway = MemoryProvider::new();
    let checkout = gateway.create_checkout(&request()).await.unwrap();
    let delivery = gateway.pay(&checkout.id).unwrap();

    let mut tampered = delivery.body.clone();
    tampered[2] ^= 1;
    assert!(matches!(
        gateway.verify_webhook(&delivery.headers, &tampered),
        Err(PaymentError::Signature(SignatureError::Mismatch))
    ));
    assert!(matches!(
        gateway.verify_webhook(&http::HeaderMap::new(), &delivery.body),
        Err(PaymentError::Signature(SignatureError::Missing(_)))
    ));
    let other = MemoryProvider::new().with_secret("another");
    assert!(matches!(
        other.verify_webhook(&delivery.headers, &delivery.body),
        Err(PaymentError::Signature(SignatureError::Mismatch))
    ));
    let mut not_hex = delivery.headers.clone();
    not_hex.insert(SIGNATURE_HEADER, "zz".parse().unwrap());
    assert!(matches!(
        gateway.verify_webhook(&not_hex, &delivery.body),
        Err(PaymentError::Signature(SignatureError::Malformed(_)))
    ));
}

#[tokio::test]
async fn expire_and_clock_expiry() {
    let clock = ManualClock::at_unix(1_700_000_000);
    let gateway = MemoryProvider::new().with_clock(Arc::new(clock.clone()));
    let first = gateway.create_checkout(&request()).await.unwrap();
    let expired = gateway.expire_checkout(&first.id).await.unwrap();
    assert_eq!(expired.status, CheckoutStatus::Expired);
    assert!(expired.url.is_none());

    let mut short = request();
    short.expires_in = Some(Duration::from_secs(1800));
    let second = gateway.create_checkout(&short).await.unwrap();
    clock.advance(Duration::from_secs(1799));
    assert_eq!(
        gateway.retrieve_checkout(&second.id).await.unwrap().status,
        CheckoutStatus::Open
    );
    clock.advance(Duration::from_secs(1));
    assert!(matches!(
        gateway.pay(&second.id),
        Err(PaymentError::InvalidRequest { .. })
    ));
    assert_eq!(
        gateway.retrieve_checkout(&second.id).await.unwrap().status,
        CheckoutStatus::Expired
    );

    let kinds: Vec<WebhookEventKind> = gateway
        .deliveries()
        .iter()
        .map(|d| gateway.verify_webhook(&d.headers, &d.body).unwrap().kind)
        .collect();
    assert_eq!(
        kinds,
        [
            WebhookEventKind::CheckoutExpired,
            WebhookEventKind::CheckoutExpired
        ]
    );
}

#[tokio::test]
async fn unknown_ids_are_not_found() {
    let gateway = MemoryProvider::new();
    match gateway.retrieve_checkout("mem_cs_nope").await {
        Err(PaymentError::NotFound { id, gateway }) => {
            assert_eq!(id, "mem_cs_nope");
            assert!(gateway.is_none());
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        gateway.expire_checkout("x").await,
        Err(PaymentError::NotFound { .. })
    ));
    assert!(matches!(
        gateway.pay("x"),
        Err(PaymentError::NotFound { .. })
    ));
}

#[tokio::test]
async fn calls_are_recorded_and_failures_scripted() {
    let gateway = MemoryProvider::new();
    gateway.fail_next(
        Operation::CreateCheckout,
        PaymentError::Provider(Box::new(GatewayDetails::new(
            ProviderKind::MEMORY,
            503,
            "down",
        ))),
    );
    let failed = gateway.create_checkout(&request()).await;
    assert!(matches!(failed, Err(ref e) if e.is_retryable() && e.status() == Some(503)));
    assert_eq!(
        gateway.checkout_count(),
        0,
        "a scripted failure creates nothing"
    );
    let checkout = gateway.create_checkout(&request()).await.unwrap();
    gateway.retrieve_checkout(&checkout.id).await.unwrap();
    assert_eq!(
        gateway.calls(),
        [
            RecordedCall::CreateCheckout(request()),
            RecordedCall::CreateCheckout(request()),
            RecordedCall::RetrieveCheckout(checkout.id.clone()),
        ]
    );
    assert_eq!(gateway.call_count(Operation::CreateCheckout), 2);
}

#[tokio::test]
async fn invalid_requests_create_nothing() {
    let gateway = MemoryProvider::new();
    let mut invalid = request();
    invalid.line_items[0].quantity = 0;
    assert!(matches!(
        gateway.create_checkout(&invalid).await,
        Err(PaymentError::InvalidRequest { ref field, .. }) if field == "line_items[0].quantity"
    ));
    assert_eq!(gateway.checkout_count(), 0);
}

#[tokio::test]
async fn idempotency_keys_replay_or_conflict() {
    let gateway = MemoryProvider::new();
    let mut keyed = request();
    keyed.idempotency_key = Some("order-7-attempt".into());
    let first = gateway.create_checkout(&keyed).await.unwrap();
    let replay = gateway.create_checkout(&keyed).await.unwrap();
    assert_eq!(first.id, replay.id);
    assert_eq!(gateway.checkout_count(), 1);
    keyed.reference = Some("order-8".into());
    assert!(matches!(
        gateway.create_checkout(&keyed).await,
        Err(PaymentError::IdempotencyConflict { .. })
    ));
}

#[tokio::test]
async fn signed_returns_verify_and_confirm() {
    let gateway = MemoryProvider::new();
    let checkout = gateway.create_checkout(&request()).await.unwrap();
    gateway.pay(&checkout.id).unwrap();
    let query = gateway.return_query(&checkout.id).unwrap();
    let params = gateway.verify_return(&query).unwrap();
    assert!(params.verified);
    assert_eq!(params.checkout_id, checkout.id);
    assert_eq!(params.reference.as_deref(), Some("order-7"));
    assert!(gateway.confirm_return(&query).await.unwrap().is_paid());

    let forged = query.replace("order-7", "order-9");
    assert!(matches!(
        gateway.verify_return(&forged),
        Err(PaymentError::Signature(SignatureError::Mismatch))
    ));
    assert!(matches!(
        gateway.verify_return("checkout_id=x"),
        Err(PaymentError::Signature(SignatureError::Missing(_)))
    ));
}

#[tokio::test]
async fn setup_mode_needs_no_payment() {
    let gateway = MemoryProvider::new();
    let setup = CheckoutRequest::builder()
        .mode(CheckoutMode::Setup)
        .currency(Currency::USD)
        .success_url("https://shop.example/")
        .build()
        .unwrap();
    let checkout = gateway.create_checkout(&setup).await.unwrap();
    assert_eq!(checkout.payment_status, PaymentStatus::NoPaymentRequired);
    gateway.pay(&checkout.id).unwrap();
    let done = gateway.retrieve_checkout(&checkout.id).await.unwrap();
    assert_eq!(done.payment_status, PaymentStatus::NoPaymentRequired);
    assert!(done.is_paid());
}

#[tokio::test]
async fn a_redirect_for_another_order_is_refused() {
    let gateway = MemoryProvider::new();
    let paid_elsewhere = gateway.create_checkout(&request()).await.unwrap();
    gateway.pay(&paid_elsewhere.id).unwrap();
    // A customer swaps the checkout id of their own (unpaid) order for a paid one.
    let swapped_query = gateway.return_query(&paid_elsewhere.id).unwrap();
    match gateway.confirm_return_for(&swapped_query, "order-8").await {
        Err(PaymentError::WrongCheckout {
            checkout_id,
            expected_reference,
            found_reference,
        }) => {
            assert_eq!(checkout_id, paid_elsewhere.id);
            assert_eq!(expected_reference, "order-8");
            assert_eq!(found_reference.as_deref(), Some("order-7"));
        }
        other => panic!("{other:?}"),
    }
    let own = gateway
        .confirm_return_for(&swapped_query, "order-7")
        .await
        .unwrap();
    assert!(own.is_paid());
}

#[tokio::test]
async fn oversized_webhook_bodies_are_refused_before_any_work() {
    let gateway = MemoryProvider::new();
    let body = vec![b' '; payswitch_core::webhook::MAX_WEBHOOK_BODY_BYTES + 1];
    let headers = http::HeaderMap::new();
    match gateway.verify_webhook(&headers, &body) {
        Err(PaymentError::Signature(SignatureError::BodyTooLarge { size, limit })) => {
            assert_eq!(size, limit + 1);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        gateway.calls().is_empty(),
        "refused before anything is recorded"
    );
}

mod lifecycle {
    use std::sync::Arc;
    use std::time::Duration;

    use payswitch_core::memory::{MemoryProvider, Operation};
    use payswitch_core::{
        CancelAt, CheckoutMode, CheckoutProvider, CheckoutRequest, Currency, Interval, LineItem,
        ManualClock, Money, PaymentError, Product, Proration, Recurring, RefundRequest,
        RefundTarget, SubscriptionChange, WebhookEventKind,
    };
    use time::macros::datetime;

    fn monthly(clock: &Arc<ManualClock>) -> MemoryProvider {
        MemoryProvider::new()
            .with_clock(clock.clone())
            .with_price("basic", Money::new(1000, Currency::USD))
            .with_price("pro", Money::new(3000, Currency::USD))
    }

    async fn subscribe(gateway: &MemoryProvider, item: LineItem) -> String {
        let request = CheckoutRequest::builder()
            .mode(CheckoutMode::Subscription)
            .line_item(item)
            .success_url("https://shop.example/done")
            .build()
            .unwrap();
        let checkout = gateway.create_checkout(&request).await.unwrap();
        gateway.pay(&checkout.id).unwrap();
        gateway
            .retrieve_checkout(&checkout.id)
            .await
            .unwrap()
            .subscription_id
            .unwrap()
    }

    #[tokio::test]
    async fn periods_follow_the_calendar_and_clamp_to_month_end() {
        let clock = Arc::new(ManualClock::new(datetime!(2027-01-31 12:00 UTC)));
        let gateway = monthly(&clock);
        let id = subscribe(&gateway, LineItem::sku("basic", 1)).await;
        let subscription = gateway.retrieve_subscription(&id).await.unwrap();
        assert_eq!(
            subscription.current_period_end,
            Some(datetime!(2027-02-28 12:00 UTC))
        );
        let yearly = LineItem::custom("Yearly", Money::new(9900, Currency::USD), 1)
            .with_recurring(Recurring::every(Interval::Year));
        let id = subscribe(&gateway, yearly).await;
        let subscription = gateway.retrieve_subscription(&id).await.unwrap();
        assert_eq!(
            subscription.current_period_end,
            Some(datetime!(2028-01-31 12:00 UTC))
        );
    }

    #[tokio::test]
    async fn a_preview_prorates_the_unused_part_of_the_period() {
        // 2027-04-01 to 2027-05-01 is 30 days; a quarter of the period is used after 7.5 days.
        let clock = Arc::new(ManualClock::new(datetime!(2027-04-01 00:00 UTC)));
        let gateway = monthly(&clock);
        let id = subscribe(&gateway, LineItem::sku("basic", 1)).await;
        clock.advance(Duration::from_secs(7 * 86_400 + 12 * 3_600));
        let upgrade = SubscriptionChange::plan(Product::Sku("pro".into()), Proration::InvoiceNow);
        let preview = gateway
            .preview_subscription_change(&id, &upgrade)
            .await
            .unwrap();
        // (3000 - 1000) × 3/4 of the period left.
        assert_eq!(preview.amount_due, Money::new(1500, Currency::USD));
        let seats = SubscriptionChange::quantity(3, Proration::NoProration);
        let preview = gateway
            .preview_subscription_change(&id, &seats)
            .await
            .unwrap();
        assert_eq!(preview.amount_due, Money::new(0, Currency::USD));
        let unchanged = gateway.retrieve_subscription(&id).await.unwrap();
        assert_eq!(unchanged.quantity(), Some(1));
        assert_eq!(unchanged.items[0].product_id.as_deref(), Some("basic"));
    }

    #[tokio::test]
    async fn every_change_emits_an_event_carrying_the_subscription() {
        let clock = Arc::new(ManualClock::new(datetime!(2027-04-01 00:00 UTC)));
        let gateway = monthly(&clock);
        let id = subscribe(&gateway, LineItem::sku("basic", 1)).await;
        gateway
            .cancel_subscription(&id, CancelAt::PeriodEnd)
            .await
            .unwrap();
        gateway.resume_subscription(&id).await.unwrap();
        gateway.pause_subscription(&id).await.unwrap();
        gateway.resume_subscription(&id).await.unwrap();
        gateway
            .cancel_subscription(&id, CancelAt::Immediately)
            .await
            .unwrap();
        let kinds: Vec<(WebhookEventKind, bool)> = gateway
            .deliveries()
            .iter()
            .map(|delivery| {
                gateway
                    .verify_webhook(&delivery.headers, &delivery.body)
                    .unwrap()
            })
            .filter_map(|event| {
                let carried = event.subscription?;
                Some((event.kind, carried.id == id))
            })
            .collect();
        assert_eq!(
            kinds,
            vec![
                (WebhookEventKind::CheckoutCompleted, true),
                (WebhookEventKind::SubscriptionStarted, true),
                (WebhookEventKind::SubscriptionCancelScheduled, true),
                (WebhookEventKind::SubscriptionUpdated, true),
                (WebhookEventKind::SubscriptionPaused, true),
                (WebhookEventKind::SubscriptionUpdated, true),
                (WebhookEventKind::SubscriptionCanceled, true),
            ]
        );
    }

    #[tokio::test]
    async fn a_refund_key_refunds_once() {
        let gateway = MemoryProvider::new();
        let checkout = gateway
            .create_checkout(
                &CheckoutRequest::builder()
                    .line_item(LineItem::custom("Book", Money::new(2000, Currency::EUR), 1))
                    .success_url("https://shop.example/done")
                    .build()
                    .unwrap(),
            )
            .await
            .unwrap();
        gateway.pay(&checkout.id).unwrap();
        let target = RefundTarget::Checkout(checkout.id.clone());
        let half = RefundRequest::partial(target.clone(), Money::new(1000, Currency::EUR))
            .idempotency_key("refund-order-1");
        let first = gateway.create_refund(&half).await.unwrap();
        let again = gateway.create_refund(&half).await.unwrap();
        assert_eq!(first.id, again.id, "the same key returns the same refund");
        let other = RefundRequest::partial(target.clone(), Money::new(500, Currency::EUR))
            .idempotency_key("refund-order-1");
        assert!(matches!(
            gateway.create_refund(&other).await,
            Err(PaymentError::IdempotencyConflict { .. })
        ));
        let rest = gateway
            .create_refund(&RefundRequest::full(target.clone()))
            .await
            .unwrap();
        assert_eq!(rest.amount, Some(Money::new(1000, Currency::EUR)));
        assert!(matches!(
            gateway.create_refund(&RefundRequest::full(target)).await,
            Err(PaymentError::InvalidState { .. })
        ));
        assert_eq!(gateway.call_count(Operation::CreateRefund), 5);
    }
}

#[tokio::test]
async fn catalog_items_cost_the_memory_price_and_can_be_refunded() {
    use payswitch_core::{RefundRequest, RefundTarget};
    let gateway = MemoryProvider::new().with_price("ebook", Money::new(1200, Currency::EUR));
    let request = CheckoutRequest::builder()
        .line_item(LineItem::sku("ebook", 2))
        .success_url("https://shop.example/done")
        .build()
        .unwrap();
    let checkout = gateway.create_checkout(&request).await.unwrap();
    assert_eq!(checkout.amount_total, Some(Money::new(2400, Currency::EUR)));
    gateway.pay(&checkout.id).unwrap();
    let refund = gateway
        .create_refund(&RefundRequest::full(RefundTarget::Checkout(checkout.id)))
        .await
        .unwrap();
    assert_eq!(refund.amount, Some(Money::new(2400, Currency::EUR)));
    // An unpriced SKU has no known total, as before.
    let unpriced = CheckoutRequest::builder()
        .line_item(LineItem::sku("unknown", 1))
        .success_url("https://shop.example/done")
        .build()
        .unwrap();
    assert_eq!(
        gateway
            .create_checkout(&unpriced)
            .await
            .unwrap()
            .amount_total,
        None
    );
}
