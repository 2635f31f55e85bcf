//! Webhook events round-trip through JSON, so a store can keep a verified event and process
//! it later without verifying its body again; and the memory gateway's billing run.

use payswitch_core::memory::MemoryProvider;
use payswitch_core::{
    CheckoutMode, CheckoutProvider, CheckoutRequest, Currency, Interval, LineItem, Money,
    Recurring, RefundRequest, RefundTarget, SubscriptionStatus, WebhookEvent, WebhookEventKind,
};

fn subscription_request() -> CheckoutRequest {
    CheckoutRequest::builder()
        .mode(CheckoutMode::Subscription)
        .line_item(
            LineItem::custom("Pro", Money::new(900, Currency::USD), 1)
                .with_recurring(Recurring::every(Interval::Month)),
        )
        .success_url("https://app.example/done")
        .reference("order-1")
        .metadata("app_user_id", "user_1")
        .build()
        .unwrap()
}

fn events(gateway: &MemoryProvider) -> Vec<WebhookEvent> {
    gateway
        .deliveries()
        .iter()
        .map(|delivery| {
            gateway
                .verify_webhook(&delivery.headers, &delivery.body)
                .unwrap()
        })
        .collect()
}

#[tokio::test]
async fn every_event_round_trips_through_json() {
    let gateway = MemoryProvider::new();
    let checkout = gateway
        .create_checkout(&subscription_request())
        .await
        .unwrap();
    gateway.pay(&checkout.id).unwrap();
    let paid = gateway.retrieve_checkout(&checkout.id).await.unwrap();
    let subscription_id = paid.subscription_id.clone().unwrap();
    gateway.renew_subscription(&subscription_id).unwrap();
    gateway
        .create_refund(&RefundRequest::full(RefundTarget::Checkout(checkout.id)))
        .await
        .unwrap();
    let all = events(&gateway);
    assert!(all.iter().any(|event| event.checkout.is_some()));
    assert!(all.iter().any(|event| event.subscription.is_some()));
    assert!(all.iter().any(|event| event.refund.is_some()));
    for event in all {
        let json = serde_json::to_value(&event).unwrap();
        let back: WebhookEvent = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(serde_json::to_value(&back).unwrap(), json);
        assert_eq!(back.provider, event.provider);
        assert_eq!(back.kind, event.kind);
        assert_eq!(back.created_at, event.created_at);
    }
}

#[test]
fn unknown_kinds_and_statuses_round_trip() {
    let kind = WebhookEventKind::Other("invoice.upcoming".into());
    let json = serde_json::to_string(&kind).unwrap();
    assert_eq!(
        serde_json::from_str::<WebhookEventKind>(&json).unwrap(),
        kind
    );
    let status = SubscriptionStatus::Other("frozen".into());
    let json = serde_json::to_string(&status).unwrap();
    assert_eq!(
        serde_json::from_str::<SubscriptionStatus>(&json).unwrap(),
        status
    );
}

#[tokio::test]
async fn a_billing_run_renews_then_ends_a_scheduled_cancellation() {
    let gateway = MemoryProvider::new();
    let checkout = gateway
        .create_checkout(&subscription_request())
        .await
        .unwrap();
    gateway.pay(&checkout.id).unwrap();
    let id = gateway
        .retrieve_checkout(&checkout.id)
        .await
        .unwrap()
        .subscription_id
        .unwrap();
    let before = gateway.retrieve_subscription(&id).await.unwrap();
    gateway.renew_subscription(&id).unwrap();
    let renewed = gateway.retrieve_subscription(&id).await.unwrap();
    assert_eq!(renewed.current_period_start, before.current_period_end);
    assert!(renewed.current_period_end > before.current_period_end);
    assert_eq!(
        events(&gateway).last().unwrap().kind,
        WebhookEventKind::SubscriptionRenewed
    );
    gateway
        .cancel_subscription(&id, payswitch_core::CancelAt::PeriodEnd)
        .await
        .unwrap();
    gateway.renew_subscription(&id).unwrap();
    let ended = gateway.retrieve_subscription(&id).await.unwrap();
    assert_eq!(ended.status, SubscriptionStatus::Canceled);
    assert_eq!(ended.ended_at, renewed.current_period_end);
    assert!(gateway.renew_subscription(&id).is_err());
}
