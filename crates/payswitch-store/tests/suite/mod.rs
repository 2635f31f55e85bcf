//! The behaviour suite, run on every backend by `on_every_backend!`: public async functions
//! of a `TestDb`, as object_store's integration suite.

#![allow(dead_code)] // each test binary uses part of the suite

pub mod flows;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use http::HeaderMap;
use payswitch_core::memory::{MemoryProvider, WebhookDelivery};
use payswitch_core::{
    CancelAt, CheckoutProvider, CheckoutStatus, Clock, PaymentStatus, ProviderKind, RefundRequest,
    RefundTarget, SubscriptionStatus, WebhookEvent, WebhookEventKind,
};
use payswitch_store::{
    EventContext, EventHandler, EventStatus, HandlerError, Outcome, Reason, RetrySchedule,
    StoreConfig, StoreError, Worker,
};
use sqlx::AnyConnection;

use crate::support::{clock, create_app_table, effects, TestDb};
use flows::{order_request, subscription_request, Flow};

/// The application's handler in these tests: records each event it handles, and a
/// fulfilment for the event that first records a checkout paid, in the store's transaction.
/// It can be told to fail its next calls (after writing, to prove the rollback).
pub struct Recorder {
    pub instance: String,
    pub fail_next: Arc<AtomicUsize>,
    pub calls: Arc<AtomicUsize>,
}

impl Recorder {
    pub fn new(instance: &str) -> Recorder {
        Recorder {
            instance: instance.to_owned(),
            fail_next: Arc::default(),
            calls: Arc::default(),
        }
    }
}

pub async fn write_effect(
    connection: &mut AnyConnection,
    object_id: &str,
    event_id: &str,
    what: &str,
    instance: &str,
) -> Result<(), HandlerError> {
    sqlx::query(
        "INSERT INTO app_effects (object_id, event_id, what, instance) VALUES ($1, $2, $3, $4)",
    )
    .bind(object_id)
    .bind(event_id)
    .bind(what)
    .bind(instance)
    .execute(&mut *connection)
    .await?;
    Ok(())
}

#[async_trait]
impl EventHandler for Recorder {
    async fn handle(
        &self,
        event: &WebhookEvent,
        context: &EventContext,
        connection: &mut AnyConnection,
    ) -> Result<(), HandlerError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        write_effect(connection, &event.id, &event.id, "event", &self.instance).await?;
        if context.applied.first_paid {
            let checkout = event
                .checkout
                .as_ref()
                .ok_or("first_paid without a checkout")?;
            let order = checkout
                .reference
                .clone()
                .unwrap_or_else(|| checkout.id.clone());
            write_effect(connection, &order, &event.id, "fulfil", &self.instance).await?;
        }
        let failing = self
            .fail_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(1)
            })
            .is_ok();
        if failing {
            return Err("scripted failure".into());
        }
        Ok(())
    }
}

pub async fn receive_records_once_and_refuses_bad_signatures(db: &TestDb) {
    let store = db.open(StoreConfig::default()).await;
    let gateway = MemoryProvider::new();
    let mut flow = Flow::new(&gateway);
    let checkout = gateway
        .create_checkout(&order_request("user_1", "order-1", None))
        .await
        .unwrap();
    gateway.pay(&checkout.id).unwrap();
    let delivery = flow.take().pop().unwrap();
    let first = store
        .receive(&gateway, &delivery.headers, &delivery.body)
        .await
        .unwrap();
    let second = store
        .receive(&gateway, &delivery.headers, &delivery.body)
        .await
        .unwrap();
    assert!(!first.duplicate && second.duplicate, "{first:?} {second:?}");
    assert_eq!(first.kind, WebhookEventKind::CheckoutCompleted);
    let row = store
        .inbox_event("memory", &first.event_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (row.status, row.deliveries, row.attempts),
        (EventStatus::Pending, 2, 0)
    );
    let stored = store
        .stored_event("memory", &first.event_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.checkout.unwrap().id, checkout.id);

    // A forged signature, a missing one, and an oversized body: refused, recorded nowhere.
    let mut forged = delivery.headers.clone();
    forged.insert(
        payswitch_core::memory::SIGNATURE_HEADER,
        "00ff".parse().unwrap(),
    );
    let refused = store
        .receive(&gateway, &forged, &delivery.body)
        .await
        .unwrap_err();
    assert!(matches!(refused, StoreError::Refused(_)), "{refused:?}");
    assert!(matches!(
        store
            .receive(&gateway, &HeaderMap::new(), &delivery.body)
            .await,
        Err(StoreError::Refused(_))
    ));
    let huge = vec![b' '; payswitch_core::webhook::MAX_WEBHOOK_BODY_BYTES + 1];
    assert!(matches!(
        store.receive(&gateway, &delivery.headers, &huge).await,
        Err(StoreError::Refused(_))
    ));
    assert_eq!(store.events(None, 100).await.unwrap().len(), 1);
}

pub async fn processing_applies_billing_state_and_handles_once(db: &TestDb) {
    let store = db.open(StoreConfig::default()).await;
    create_app_table(&store).await;
    let gateway = MemoryProvider::new();
    let mut flow = Flow::new(&gateway);
    let checkout = gateway
        .create_checkout(&order_request("user_1", "order-1", Some("lifetime")))
        .await
        .unwrap();
    gateway.pay(&checkout.id).unwrap();
    let delivery = flow.take().pop().unwrap();
    for _ in 0..3 {
        store
            .receive(&gateway, &delivery.headers, &delivery.body)
            .await
            .unwrap();
    }
    let worker = Worker::new(store.clone(), Recorder::new("a"));
    let report = worker.run_until_idle().await.unwrap();
    assert_eq!((report.claimed, report.done), (1, 1), "{report:?}");
    // Delivered again after processing: still once.
    store
        .receive(&gateway, &delivery.headers, &delivery.body)
        .await
        .unwrap();
    assert_eq!(worker.run_until_idle().await.unwrap().claimed, 0);
    assert_eq!(effects(&store, "fulfil", Some("order-1")).await, 1);
    assert_eq!(effects(&store, "event", None).await, 1);

    let record = store
        .checkout(ProviderKind::MEMORY, &checkout.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.status, CheckoutStatus::Complete);
    assert_eq!(record.payment_status, PaymentStatus::Paid);
    assert_eq!(record.app_user_id.as_deref(), Some("user_1"));
    assert_eq!(record.reference.as_deref(), Some("order-1"));
    assert!(record.paid_event_id.is_some());
    let entitlement = store.entitlement("user_1").await.unwrap();
    assert!(entitlement.allows("lifetime"), "{entitlement:?}");
    assert!(!store
        .entitlement("someone_else")
        .await
        .unwrap()
        .has_access());
    let row = store
        .inbox_event("memory", &record.paid_event_id.unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((row.status, row.attempts), (EventStatus::Done, 1));
}

/// Every order of a subscription's life (start, two renewals, a scheduled cancellation, its
/// end) ends in the gateway's final state, and a refund's in its refund state.
pub async fn out_of_order_delivery_in_every_order_ends_in_the_gateways_state(db: &TestDb) {
    let store = db.open(StoreConfig::default()).await;
    let clock = clock();
    let gateway = MemoryProvider::new().with_clock(clock.clone());
    let mut flow = Flow::new(&gateway);
    let checkout = gateway
        .create_checkout(&subscription_request("user_1"))
        .await
        .unwrap();
    gateway.pay(&checkout.id).unwrap();
    let sub_id = gateway
        .retrieve_checkout(&checkout.id)
        .await
        .unwrap()
        .subscription_id
        .unwrap();
    clock.advance(Duration::from_secs(1));
    gateway.renew_subscription(&sub_id).unwrap();
    clock.advance(Duration::from_secs(1));
    gateway
        .cancel_subscription(&sub_id, CancelAt::PeriodEnd)
        .await
        .unwrap();
    clock.advance(Duration::from_secs(1));
    gateway.renew_subscription(&sub_id).unwrap();
    clock.advance(Duration::from_secs(1));
    gateway
        .create_refund(&RefundRequest::full(RefundTarget::Checkout(
            checkout.id.clone(),
        )))
        .await
        .unwrap();
    let deliveries = flow.take();
    assert_eq!(
        deliveries.len(),
        6,
        "completed, started, renewed, scheduled, canceled, refunded"
    );
    let expected = gateway.retrieve_subscription(&sub_id).await.unwrap();
    assert_eq!(expected.status, SubscriptionStatus::Canceled);

    // Each permutation goes to a fresh store, processed one event at a time in that order.
    // The first two (checkout completed, subscription started) share a time: they are
    // permuted among the rest all the same.
    let permutations = flows::permutations(deliveries.len());
    let step = if db.name == "postgres" { 7 } else { 3 };
    let mut checked = 0;
    for (index, order) in permutations.iter().enumerate() {
        if index % step != 0 {
            continue;
        }
        let store = if db.shared {
            store.clone()
        } else {
            db.open(StoreConfig::default()).await
        };
        reset_billing(&store).await;
        let worker = Worker::new(store.clone(), payswitch_store::BillingOnly);
        for &position in order {
            let delivery = &deliveries[position];
            store
                .receive(&gateway, &delivery.headers, &delivery.body)
                .await
                .unwrap();
            worker.run_until_idle().await.unwrap();
        }
        let held = store
            .subscription(ProviderKind::MEMORY, &sub_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(held.status, expected.status, "order {order:?}");
        assert_eq!(
            held.current_period_end, expected.current_period_end,
            "order {order:?}"
        );
        assert_eq!(
            held.cancel_at_period_end, expected.cancel_at_period_end,
            "order {order:?}"
        );
        assert_eq!(held.ended_at, expected.ended_at, "order {order:?}");
        assert_eq!(held.items, expected.items, "order {order:?}");
        let paid = store
            .checkout(ProviderKind::MEMORY, &checkout.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(paid.payment_status, PaymentStatus::Paid, "order {order:?}");
        let refunds = store
            .refunds_of_checkout(ProviderKind::MEMORY, &checkout.id)
            .await
            .unwrap();
        assert_eq!(refunds.len(), 1, "order {order:?}: {refunds:?}");
        let entitlement = store.entitlement("user_1").await.unwrap();
        assert!(
            !entitlement.has_access(),
            "order {order:?}: {entitlement:?}"
        );
        checked += 1;
    }
    assert!(checked >= 100, "{checked} orders checked");
}

/// Empties the billing tables and the inbox (one store reused across permutations).
async fn reset_billing(store: &payswitch_store::Store) {
    for table in [
        "payswitch_webhook_events",
        "payswitch_customers",
        "payswitch_checkouts",
        "payswitch_subscriptions",
        "payswitch_refunds",
    ] {
        sqlx::query(&format!("DELETE FROM {table}"))
            .execute(store.pool())
            .await
            .unwrap();
    }
}

/// Two snapshots stamped with the same time: the later stage of life wins, whichever
/// arrives first; a stale one reports `Outcome::Stale` to the handler.
pub async fn equal_times_keep_the_later_stage(db: &TestDb) {
    let store = db.open(StoreConfig::default()).await;
    let at = time::OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap();
    let snapshot = |status: SubscriptionStatus, event_id: &str| {
        let mut subscription =
            payswitch_core::Subscription::new("sub_tie", ProviderKind::MEMORY, status);
        subscription.current_period_end = Some(at + time::Duration::days(30));
        let mut event = WebhookEvent::new(
            event_id,
            ProviderKind::MEMORY,
            WebhookEventKind::SubscriptionUpdated,
            "subscription.updated",
            at,
        );
        event.subscription = Some(subscription);
        event
    };
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    type Seen = Arc<std::sync::Mutex<Vec<(String, Option<Outcome>)>>>;
    struct Outcomes(Seen);
    #[async_trait]
    impl EventHandler for Outcomes {
        async fn handle(
            &self,
            event: &WebhookEvent,
            context: &EventContext,
            _connection: &mut AnyConnection,
        ) -> Result<(), HandlerError> {
            if let Ok(mut seen) = self.0.lock() {
                seen.push((event.id.clone(), context.applied.subscription));
            }
            Ok(())
        }
    }
    let worker = Worker::new(store.clone(), Outcomes(seen.clone()));
    store
        .record(&snapshot(SubscriptionStatus::Canceled, "evt_canceled"))
        .await
        .unwrap();
    worker.run_until_idle().await.unwrap();
    store
        .record(&snapshot(SubscriptionStatus::Active, "evt_active"))
        .await
        .unwrap();
    worker.run_until_idle().await.unwrap();
    let held = store
        .subscription(ProviderKind::MEMORY, "sub_tie")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(held.status, SubscriptionStatus::Canceled);
    assert_eq!(held.source_event, "evt_canceled");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![
            ("evt_canceled".to_owned(), Some(Outcome::Applied)),
            ("evt_active".to_owned(), Some(Outcome::Stale)),
        ]
    );
}

pub async fn failures_retry_with_backoff_then_park_then_replay(db: &TestDb) {
    let clock = clock();
    let config = StoreConfig::default().retry(RetrySchedule::new(
        Duration::from_secs(10),
        Duration::from_secs(60),
        3,
    ));
    let store = db.open_on(config, &clock).await;
    create_app_table(&store).await;
    let gateway = MemoryProvider::new();
    let mut flow = Flow::new(&gateway);
    let checkout = gateway
        .create_checkout(&order_request("user_1", "order-9", None))
        .await
        .unwrap();
    gateway.pay(&checkout.id).unwrap();
    let delivery = flow.take().pop().unwrap();
    let receipt = store
        .receive(&gateway, &delivery.headers, &delivery.body)
        .await
        .unwrap();
    let recorder = Recorder::new("a");
    let fail_next = recorder.fail_next.clone();
    fail_next.store(usize::MAX, Ordering::SeqCst);
    let worker = Worker::new(store.clone(), recorder);

    let row = |store: payswitch_store::Store| {
        let id = receipt.event_id.clone();
        async move { store.inbox_event("memory", &id).await.unwrap().unwrap() }
    };
    assert_eq!(worker.run_once().await.unwrap().retried, 1);
    let first = row(store.clone()).await;
    assert_eq!((first.status, first.attempts), (EventStatus::Pending, 1));
    assert_eq!(
        first.next_attempt_at,
        clock.now() + time::Duration::seconds(10)
    );
    assert_eq!(
        first.last_error.as_deref(),
        Some("handler: scripted failure")
    );
    // Not due before the backoff has passed.
    clock.advance(Duration::from_secs(9));
    assert_eq!(worker.run_once().await.unwrap().claimed, 0);
    clock.advance(Duration::from_secs(1));
    assert_eq!(worker.run_once().await.unwrap().retried, 1);
    assert_eq!(
        row(store.clone()).await.next_attempt_at,
        clock.now() + time::Duration::seconds(20)
    );
    clock.advance(Duration::from_secs(20));
    assert_eq!(worker.run_once().await.unwrap().parked, 1);
    let parked = store.failed_events(10).await.unwrap();
    assert_eq!(parked.len(), 1);
    assert_eq!(
        (parked[0].status, parked[0].attempts),
        (EventStatus::Failed, 3)
    );
    clock.advance(Duration::from_secs(3600));
    assert_eq!(
        worker.run_once().await.unwrap().claimed,
        0,
        "parked events stay parked"
    );
    // Every failed attempt's writes rolled back with it, the billing update included.
    assert_eq!(effects(&store, "event", None).await, 0);
    assert!(store
        .checkout(ProviderKind::MEMORY, &checkout.id)
        .await
        .unwrap()
        .is_none());

    fail_next.store(0, Ordering::SeqCst);
    assert_eq!(store.replay_failed().await.unwrap(), 1);
    assert_eq!(worker.run_until_idle().await.unwrap().done, 1);
    assert!(store.failed_events(10).await.unwrap().is_empty());
    assert_eq!(effects(&store, "fulfil", Some("order-9")).await, 1);
    // A replay on demand runs the handler again; the order was already fulfilled.
    assert!(store.replay("memory", &receipt.event_id).await.unwrap());
    assert_eq!(worker.run_until_idle().await.unwrap().done, 1);
    assert_eq!(effects(&store, "event", None).await, 2);
    assert_eq!(effects(&store, "fulfil", Some("order-9")).await, 1);
    assert!(matches!(
        store.replay("memory", "evt_missing").await,
        Err(StoreError::NotFound { .. })
    ));
    // Retention: done events older than the window go.
    clock.advance(Duration::from_secs(10));
    assert_eq!(store.purge_done(Duration::from_secs(60)).await.unwrap(), 0);
    clock.advance(Duration::from_secs(120));
    assert_eq!(store.purge_done(Duration::from_secs(60)).await.unwrap(), 1);
}

/// A handler that never finishes, in a task that is then killed: its claim stays until the
/// lease runs out, then another worker processes the event, once.
pub async fn an_expired_lease_is_taken_over(db: &TestDb) {
    let clock = clock();
    let config = StoreConfig::default().lease(Duration::from_secs(30));
    let store = db.open_on(config, &clock).await;
    create_app_table(&store).await;
    let gateway = MemoryProvider::new();
    let mut flow = Flow::new(&gateway);
    for index in 0..3 {
        let checkout = gateway
            .create_checkout(&order_request("user_1", &format!("order-{index}"), None))
            .await
            .unwrap();
        gateway.pay(&checkout.id).unwrap();
    }
    for delivery in flow.take() {
        store
            .receive(&gateway, &delivery.headers, &delivery.body)
            .await
            .unwrap();
    }

    struct Hang(Arc<tokio::sync::Notify>);
    #[async_trait]
    impl EventHandler for Hang {
        async fn handle(
            &self,
            event: &WebhookEvent,
            _context: &EventContext,
            connection: &mut AnyConnection,
        ) -> Result<(), HandlerError> {
            write_effect(connection, &event.id, &event.id, "event", "crashed").await?;
            self.0.notify_one();
            std::future::pending::<()>().await;
            Ok(())
        }
    }
    let started = Arc::new(tokio::sync::Notify::new());
    let doomed = Worker::new(store.clone(), Hang(started.clone())).with_owner("doomed");
    let task = tokio::spawn(async move { doomed.run_once().await });
    started.notified().await;
    task.abort();
    let _ = task.await;

    let survivor = Worker::new(store.clone(), Recorder::new("survivor"));
    // Within the lease nothing is due: the claimed events wait for their owner.
    let early = survivor.run_until_idle().await.unwrap();
    assert_eq!(early.done, 0, "{early:?}");
    clock.advance(Duration::from_secs(31));
    let late = survivor.run_until_idle().await.unwrap();
    assert_eq!(late.done, 3, "{late:?}");
    assert_eq!(effects(&store, "event", None).await, 3);
    let by_crashed: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM app_effects WHERE instance = 'crashed'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(by_crashed, 0, "the killed attempt committed nothing");
    for index in 0..3 {
        assert_eq!(
            effects(&store, "fulfil", Some(&format!("order-{index}"))).await,
            1
        );
    }
    let rows = store.events(Some(EventStatus::Done), 10).await.unwrap();
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().any(|row| row.attempts == 2), "{rows:?}");
}

pub async fn entitlements_follow_the_policy(db: &TestDb) {
    let clock = clock();
    let store = db.open_on(StoreConfig::default(), &clock).await;
    let gateway = MemoryProvider::new().with_clock(clock.clone());
    let mut flow = Flow::new(&gateway);
    let worker = Worker::new(store.clone(), payswitch_store::BillingOnly);
    let deliver = |deliveries: Vec<WebhookDelivery>| {
        let store = store.clone();
        let gateway = gateway.clone();
        let worker = worker.clone();
        async move {
            for delivery in deliveries {
                store
                    .receive(&gateway, &delivery.headers, &delivery.body)
                    .await
                    .unwrap();
            }
            worker.run_until_idle().await.unwrap();
        }
    };
    assert!(store
        .entitlement("user_1")
        .await
        .unwrap()
        .current()
        .is_none());
    let checkout = gateway
        .create_checkout(&subscription_request("user_1"))
        .await
        .unwrap();
    gateway.pay(&checkout.id).unwrap();
    deliver(flow.take()).await;
    let sub_id = gateway
        .retrieve_checkout(&checkout.id)
        .await
        .unwrap()
        .subscription_id
        .unwrap();
    let now = store.entitlement("user_1").await.unwrap();
    let grant = now.current().unwrap().clone();
    assert!(grant.access && now.allows("Pro"), "{now:?}");
    assert_eq!(grant.reason, Reason::Active);
    let period_end = gateway
        .retrieve_subscription(&sub_id)
        .await
        .unwrap()
        .current_period_end;
    assert_eq!(grant.until, period_end);

    gateway
        .cancel_subscription(&sub_id, CancelAt::PeriodEnd)
        .await
        .unwrap();
    deliver(flow.take()).await;
    let scheduled = store.entitlement("user_1").await.unwrap();
    assert_eq!(scheduled.current().unwrap().reason, Reason::CancelScheduled);
    assert!(scheduled.has_access());
    // At the period end, even before the gateway's event: no renewal leeway for a scheduled
    // cancellation.
    clock.set(period_end.unwrap());
    assert_eq!(
        store
            .entitlement("user_1")
            .await
            .unwrap()
            .current()
            .unwrap()
            .reason,
        Reason::PeriodOver
    );
    gateway.renew_subscription(&sub_id).unwrap();
    deliver(flow.take()).await;
    let ended = store.entitlement("user_1").await.unwrap();
    assert!(!ended.has_access());
    assert_eq!(ended.current().unwrap().reason, Reason::Canceled);

    // A one-time purchase naming a plan: access with no end, until it is refunded in full.
    let lifetime = gateway
        .create_checkout(&order_request("user_1", "order-lt", Some("lifetime")))
        .await
        .unwrap();
    gateway.pay(&lifetime.id).unwrap();
    deliver(flow.take()).await;
    let bought = store.entitlement("user_1").await.unwrap();
    assert_eq!(bought.plans(), vec!["lifetime"]);
    assert_eq!(bought.current().unwrap().reason, Reason::Purchased);
    assert_eq!(bought.grants.len(), 2);
    gateway
        .create_refund(&RefundRequest::full(RefundTarget::Checkout(
            lifetime.id.clone(),
        )))
        .await
        .unwrap();
    deliver(flow.take()).await;
    let refunded = store.entitlement("user_1").await.unwrap();
    assert!(!refunded.has_access(), "{refunded:?}");
    assert!(refunded
        .grants
        .iter()
        .any(|grant| grant.reason == Reason::Refunded));

    // A customer linked by the application (no metadata on the subscription's events).
    let other = gateway
        .create_checkout(&subscription_request(""))
        .await
        .unwrap();
    gateway.pay(&other.id).unwrap();
    deliver(flow.take()).await;
    let customer = gateway
        .retrieve_checkout(&other.id)
        .await
        .unwrap()
        .customer_id
        .unwrap();
    assert!(!store.entitlement("user_2").await.unwrap().has_access());
    store
        .link_customer(ProviderKind::MEMORY, &customer, "user_2")
        .await
        .unwrap();
    assert!(store.entitlement("user_2").await.unwrap().allows("Pro"));
}

pub async fn reconcile_repairs_what_was_never_delivered(db: &TestDb) {
    let clock = clock();
    let store = db.open_on(StoreConfig::default(), &clock).await;
    create_app_table(&store).await;
    let gateway = MemoryProvider::new().with_clock(clock.clone());
    let mut flow = Flow::new(&gateway);
    let worker = Worker::new(store.clone(), Recorder::new("a"));
    let checkout = gateway
        .create_checkout(&subscription_request("user_1"))
        .await
        .unwrap();
    gateway.pay(&checkout.id).unwrap();
    for delivery in flow.take() {
        store
            .receive(&gateway, &delivery.headers, &delivery.body)
            .await
            .unwrap();
    }
    worker.run_until_idle().await.unwrap();
    let sub_id = gateway
        .retrieve_checkout(&checkout.id)
        .await
        .unwrap()
        .subscription_id
        .unwrap();
    // A second subscription of the same customer whose events are all lost, and changes to
    // the first that are never delivered.
    let customer = gateway
        .retrieve_checkout(&checkout.id)
        .await
        .unwrap()
        .customer_id
        .unwrap();
    let mut second = subscription_request("user_1");
    second.customer_id = Some(customer);
    let second = gateway.create_checkout(&second).await.unwrap();
    gateway.pay(&second.id).unwrap();
    clock.advance(Duration::from_secs(5));
    gateway.renew_subscription(&sub_id).unwrap();
    clock.advance(Duration::from_secs(5));
    gateway
        .cancel_subscription(&sub_id, CancelAt::Immediately)
        .await
        .unwrap();
    let lost = flow.take();
    assert!(!lost.is_empty());
    let since = clock.now() - time::Duration::hours(1);
    clock.advance(Duration::from_secs(5));

    let report = store.reconcile(&gateway, since).await.unwrap();
    assert_eq!(report.recorded, 2, "{report:?}");
    assert!(
        report.failures.is_empty() && report.unsupported.is_empty(),
        "{report:?}"
    );
    assert_eq!(worker.run_until_idle().await.unwrap().done, 2);
    for id in [
        sub_id.clone(),
        gateway
            .retrieve_checkout(&second.id)
            .await
            .unwrap()
            .subscription_id
            .unwrap(),
    ] {
        let fetched = gateway.retrieve_subscription(&id).await.unwrap();
        let held = store
            .subscription(ProviderKind::MEMORY, &id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(held.status, fetched.status);
        assert_eq!(held.current_period_end, fetched.current_period_end);
        assert!(held.source_event.starts_with("reconcile:"), "{held:?}");
    }
    // The lost events arriving late change nothing: the reconciled state is newer.
    for delivery in lost {
        store
            .receive(&gateway, &delivery.headers, &delivery.body)
            .await
            .unwrap();
    }
    worker.run_until_idle().await.unwrap();
    let held = store
        .subscription(ProviderKind::MEMORY, &sub_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(held.status, SubscriptionStatus::Canceled);
    // Nothing differs any more.
    clock.advance(Duration::from_secs(5));
    assert_eq!(store.reconcile(&gateway, since).await.unwrap().recorded, 0);
    // A gateway without lifecycle reads says so.
    let bare = Bare(gateway.clone());
    let report = store.reconcile(&bare, since).await.unwrap();
    assert!(
        report
            .unsupported
            .contains(&"list_subscriptions".to_owned()),
        "{report:?}"
    );
}

/// The memory gateway without its lifecycle reads.
#[derive(Debug)]
struct Bare(MemoryProvider);

#[async_trait]
impl CheckoutProvider for Bare {
    fn kind(&self) -> ProviderKind {
        self.0.kind()
    }
    fn capabilities(&self) -> payswitch_core::Capabilities {
        self.0.capabilities()
    }
    async fn create_checkout(
        &self,
        request: &payswitch_core::CheckoutRequest,
    ) -> Result<payswitch_core::CheckoutResult, payswitch_core::PaymentError> {
        self.0.create_checkout(request).await
    }
    async fn retrieve_checkout(
        &self,
        id: &str,
    ) -> Result<payswitch_core::CheckoutResult, payswitch_core::PaymentError> {
        self.0.retrieve_checkout(id).await
    }
    async fn expire_checkout(
        &self,
        id: &str,
    ) -> Result<payswitch_core::CheckoutResult, payswitch_core::PaymentError> {
        self.0.expire_checkout(id).await
    }
    fn verify_webhook(
        &self,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<WebhookEvent, payswitch_core::PaymentError> {
        self.0.verify_webhook(headers, body)
    }
    fn verify_return(
        &self,
        query: &str,
    ) -> Result<payswitch_core::ReturnParams, payswitch_core::PaymentError> {
        self.0.verify_return(query)
    }
}
