//! Four application instances (four stores with their own pools) on one database, every
//! webhook delivered to all of them twice in shuffled orders, two workers per instance:
//! over 1,000 one-time orders and 100 subscriptions with renewals, cancellations and
//! refunds, every order is fulfilled exactly once, every event is handled exactly once, and
//! every subscription ends in the gateway's state.
//!
//! On PostgreSQL (`PAYSWITCH_TEST_DATABASE_URL`) the four instances' workers are four
//! separate processes (this test binary run again as `instance_child`), each with its own
//! pool, while the parent receives through four more pools; on a SQLite file the four
//! instances run in this process.

mod suite;
mod support;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use payswitch_core::memory::MemoryProvider;
use payswitch_core::{
    CancelAt, CheckoutProvider, ProviderKind, RefundRequest, RefundTarget, SubscriptionStatus,
};
use payswitch_store::{EventStatus, StoreConfig, Worker};
use rand::seq::SliceRandom;
use rand::SeedableRng;

use suite::flows::{order_request, subscription_request, Flow};
use suite::Recorder;
use support::{clock, create_app_table, effects, TestDb};

const ORDERS: usize = 1_000;
const SUBSCRIPTIONS: usize = 100;
const INSTANCES: usize = 4;
const WORKERS_PER_INSTANCE: usize = 2;
const CHILD_URL: &str = "PAYSWITCH_STORE_INSTANCE_URL";
const CHILD_NAME: &str = "PAYSWITCH_STORE_INSTANCE_NAME";
const CHILD_STOP: &str = "PAYSWITCH_STORE_INSTANCE_STOP";

fn config() -> StoreConfig {
    StoreConfig::default()
        .max_connections(4)
        .lease(Duration::from_secs(30))
        .batch_size(8)
        .poll_interval(Duration::from_millis(20))
}

/// Waits until `path` exists.
async fn file_appears(path: &Path) {
    while !path.exists() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One instance as its own process: its workers run until the parent creates the stop file.
/// A no-op unless the parent started this process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instance_child() {
    let (Ok(url), Ok(name), Ok(stop)) = (
        std::env::var(CHILD_URL),
        std::env::var(CHILD_NAME),
        std::env::var(CHILD_STOP),
    ) else {
        return;
    };
    let store = payswitch_store::Store::open_with(&url, config())
        .await
        .unwrap();
    let stop = PathBuf::from(stop);
    let mut workers = Vec::new();
    for number in 0..WORKERS_PER_INSTANCE {
        let worker = Worker::new(store.clone(), Recorder::new(&name))
            .with_owner(format!("{name}-worker-{number}"));
        let stop = stop.clone();
        workers.push(tokio::spawn(async move {
            worker.run(file_appears(&stop)).await
        }));
    }
    for worker in workers {
        worker.await.unwrap();
    }
}

async fn four_instances(db: &TestDb, processes: bool) {
    let started = Instant::now();
    let clock = clock();
    let gateway = MemoryProvider::new().with_clock(clock.clone());
    let mut flow = Flow::new(&gateway);

    // The gateway's history: orders, subscriptions, two billing runs, cancellations and
    // refunds, each step a second apart so their events carry distinct times.
    for index in 0..ORDERS {
        let request = order_request(
            &format!("user_{}", index % 250),
            &format!("order-{index}"),
            None,
        );
        let checkout = gateway.create_checkout(&request).await.unwrap();
        gateway.pay(&checkout.id).unwrap();
    }
    let mut subscriptions = Vec::new();
    let mut subscription_checkouts = Vec::new();
    for index in 0..SUBSCRIPTIONS {
        let checkout = gateway
            .create_checkout(&subscription_request(&format!("subscriber_{index}")))
            .await
            .unwrap();
        gateway.pay(&checkout.id).unwrap();
        let paid = gateway.retrieve_checkout(&checkout.id).await.unwrap();
        subscriptions.push(paid.subscription_id.unwrap());
        subscription_checkouts.push(checkout.id);
    }
    clock.advance(Duration::from_secs(1));
    for id in &subscriptions {
        gateway.renew_subscription(id).unwrap();
    }
    clock.advance(Duration::from_secs(1));
    gateway
        .cancel_subscription(&subscriptions[0], CancelAt::Immediately)
        .await
        .unwrap();
    gateway
        .cancel_subscription(&subscriptions[1], CancelAt::PeriodEnd)
        .await
        .unwrap();
    gateway.pause_subscription(&subscriptions[2]).await.unwrap();
    gateway
        .create_refund(&RefundRequest::full(RefundTarget::Checkout(
            subscription_checkouts[3].clone(),
        )))
        .await
        .unwrap();
    let orders: Vec<String> = gateway
        .deliveries()
        .iter()
        .filter_map(|delivery| {
            gateway
                .verify_webhook(&delivery.headers, &delivery.body)
                .ok()
        })
        .filter_map(|event| event.checkout)
        .filter(|checkout| checkout.reference.as_deref() == Some("order-7"))
        .map(|checkout| checkout.id)
        .collect();
    gateway
        .create_refund(&RefundRequest::full(RefundTarget::Checkout(
            orders[0].clone(),
        )))
        .await
        .unwrap();
    clock.advance(Duration::from_secs(1));
    for id in &subscriptions[1..] {
        if id != &subscriptions[2] {
            gateway.renew_subscription(id).unwrap();
        }
    }
    let deliveries = flow.take();
    assert!(
        deliveries.len() >= ORDERS + 4 * SUBSCRIPTIONS,
        "{}",
        deliveries.len()
    );

    let config = config();
    let mut stores = Vec::new();
    for _ in 0..INSTANCES {
        stores.push(db.open_on(config.clone(), &clock).await);
    }
    create_app_table(&stores[0]).await;

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut workers = Vec::new();
    let scratch = tempfile::tempdir().unwrap();
    let stop_file = scratch.path().join("stop");
    let mut children = Vec::new();
    for instance in 0..INSTANCES {
        if !processes {
            break;
        }
        children.push(
            tokio::process::Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "instance_child",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(CHILD_URL, &db.url)
                .env(CHILD_NAME, format!("instance-{instance}"))
                .env(CHILD_STOP, &stop_file)
                .stdout(Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .unwrap(),
        );
    }
    for (instance, store) in stores.iter().enumerate() {
        if processes {
            break;
        }
        for number in 0..WORKERS_PER_INSTANCE {
            let worker = Worker::new(
                store.clone(),
                Recorder::new(&format!("instance-{instance}")),
            )
            .with_owner(format!("instance-{instance}-worker-{number}"));
            let mut stopped = stopped.clone();
            workers.push(tokio::spawn(async move {
                worker
                    .run(async move {
                        let _ = stopped.wait_for(|stop| *stop).await;
                    })
                    .await;
            }));
        }
    }
    let mut receivers = Vec::new();
    for (instance, store) in stores.iter().enumerate() {
        let mut mine: Vec<_> = deliveries
            .iter()
            .chain(deliveries.iter())
            .cloned()
            .collect();
        mine.shuffle(&mut rand::rngs::StdRng::seed_from_u64(instance as u64 + 7));
        let store = store.clone();
        let gateway = gateway.clone();
        receivers.push(tokio::spawn(async move {
            for delivery in mine {
                store
                    .receive(&gateway, &delivery.headers, &delivery.body)
                    .await
                    .unwrap();
            }
        }));
    }
    for receiver in receivers {
        receiver.await.unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let open: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM payswitch_webhook_events WHERE status <> 'done'",
        )
        .fetch_one(stores[0].pool())
        .await
        .unwrap();
        if open == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{open} events still open");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.send(true).unwrap();
    for worker in workers {
        worker.await.unwrap();
    }
    std::fs::write(&stop_file, b"stop").unwrap();
    for mut child in children {
        let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
            .await
            .expect("an instance process did not stop")
            .unwrap();
        assert!(status.success(), "an instance process failed: {status}");
    }

    let store = &stores[0];
    let rows = store.events(None, 100_000).await.unwrap();
    assert_eq!(rows.len(), deliveries.len());
    assert!(rows
        .iter()
        .all(|row| row.status == EventStatus::Done && row.deliveries == 8));
    // Every event handled once, every order fulfilled once.
    let handled: i64 =
        sqlx::query_scalar("SELECT COUNT(DISTINCT event_id) FROM app_effects WHERE what = 'event'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(effects(store, "event", None).await, deliveries.len() as i64);
    assert_eq!(handled, deliveries.len() as i64);
    for index in 0..ORDERS {
        assert_eq!(
            effects(store, "fulfil", Some(&format!("order-{index}"))).await,
            1,
            "order-{index}"
        );
    }
    for checkout in &subscription_checkouts {
        assert_eq!(
            effects(store, "fulfil", Some(checkout)).await,
            1,
            "{checkout}"
        );
    }
    assert_eq!(
        effects(store, "fulfil", None).await,
        (ORDERS + SUBSCRIPTIONS) as i64
    );
    // The work was shared.
    let instances: i64 = sqlx::query_scalar("SELECT COUNT(DISTINCT instance) FROM app_effects")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert!(
        instances >= 2,
        "only {instances} instance(s) processed anything"
    );
    let names: Vec<String> = sqlx::query_scalar("SELECT DISTINCT instance FROM app_effects")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert!(
        names.iter().all(|name| name.starts_with("instance-")),
        "{names:?}"
    );
    // Every subscription as the gateway has it.
    for id in &subscriptions {
        let expected = gateway.retrieve_subscription(id).await.unwrap();
        let held = store
            .subscription(ProviderKind::MEMORY, id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(held.status, expected.status, "{id}");
        assert_eq!(held.current_period_end, expected.current_period_end, "{id}");
        assert_eq!(
            held.cancel_at_period_end, expected.cancel_at_period_end,
            "{id}"
        );
        assert_eq!(held.ended_at, expected.ended_at, "{id}");
    }
    let held = |index: usize| store.subscription(ProviderKind::MEMORY, &subscriptions[index]);
    assert_eq!(
        held(0).await.unwrap().unwrap().status,
        SubscriptionStatus::Canceled
    );
    assert_eq!(
        held(1).await.unwrap().unwrap().status,
        SubscriptionStatus::Canceled
    );
    assert_eq!(
        held(2).await.unwrap().unwrap().status,
        SubscriptionStatus::Paused
    );
    assert_eq!(
        held(4).await.unwrap().unwrap().status,
        SubscriptionStatus::Active
    );
    assert!(!store
        .entitlement("subscriber_0")
        .await
        .unwrap()
        .has_access());
    assert!(!store
        .entitlement("subscriber_2")
        .await
        .unwrap()
        .has_access());
    assert!(store
        .entitlement("subscriber_4")
        .await
        .unwrap()
        .has_access());
    let refunds: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM payswitch_refunds")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(refunds, 2);
    eprintln!(
        "{}: {} events × {} deliveries on {INSTANCES} instances ({}) in {:?}",
        db.name,
        deliveries.len(),
        2 * INSTANCES,
        if processes {
            "worker processes"
        } else {
            "in process"
        },
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_instance_processes_on_postgres() {
    if std::env::var(CHILD_URL).is_ok() {
        return;
    }
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    four_instances(&db, true).await;
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_instances_on_a_sqlite_file() {
    if std::env::var(CHILD_URL).is_ok() {
        return;
    }
    four_instances(&TestDb::sqlite_file(), false).await;
}
