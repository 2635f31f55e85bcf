//! Crash safety with a real process: a child process claims events and is killed (SIGKILL)
//! in the middle of its handler, after writing its side effect; once the lease runs out the
//! parent's worker processes those events; nothing is lost and nothing is done twice.
//!
//! The child is this test binary run again with `CHILD_URL` set, running only
//! `crash_child`, which does nothing in a normal run.

mod suite;
mod support;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use payswitch_core::memory::MemoryProvider;
use payswitch_core::{CheckoutProvider, WebhookEvent};
use payswitch_store::{
    EventContext, EventHandler, EventStatus, HandlerError, Store, StoreConfig, Worker,
};
use sqlx::AnyConnection;

use suite::flows::{order_request, Flow};
use suite::{write_effect, Recorder};
use support::{create_app_table, effects, TestDb};

const CHILD_URL: &str = "PAYSWITCH_STORE_CRASH_CHILD_URL";
const CHILD_MARKER: &str = "PAYSWITCH_STORE_CRASH_CHILD_MARKER";
const LEASE: Duration = Duration::from_secs(3);
const BATCH: u32 = 5;
const ORDERS: usize = 20;

/// Writes its side effect in the store's transaction, tells the parent, and hangs until it
/// is killed.
struct WriteThenHang(PathBuf);

#[async_trait]
impl EventHandler for WriteThenHang {
    async fn handle(
        &self,
        event: &WebhookEvent,
        _context: &EventContext,
        connection: &mut AnyConnection,
    ) -> Result<(), HandlerError> {
        write_effect(connection, &event.id, &event.id, "event", "child").await?;
        std::fs::write(&self.0, b"claimed")?;
        std::future::pending::<()>().await;
        Ok(())
    }
}

/// The child's body; a no-op unless the parent started this process.
#[tokio::test]
async fn crash_child() {
    let (Ok(url), Ok(marker)) = (std::env::var(CHILD_URL), std::env::var(CHILD_MARKER)) else {
        return;
    };
    let config = StoreConfig::default().lease(LEASE).batch_size(BATCH);
    let store = Store::open_with(&url, config).await.unwrap();
    let worker = Worker::new(store, WriteThenHang(PathBuf::from(marker))).with_owner("child");
    let _ = worker.run_once().await;
}

async fn killed_mid_handler(db: &TestDb) {
    let store = db.open(StoreConfig::default().lease(LEASE)).await;
    create_app_table(&store).await;
    let gateway = MemoryProvider::new();
    let mut flow = Flow::new(&gateway);
    for index in 0..ORDERS {
        let request = order_request("user_1", &format!("order-{index}"), None);
        let checkout = gateway.create_checkout(&request).await.unwrap();
        gateway.pay(&checkout.id).unwrap();
    }
    for delivery in flow.take() {
        store
            .receive(&gateway, &delivery.headers, &delivery.body)
            .await
            .unwrap();
    }

    let scratch = tempfile::tempdir().unwrap();
    let marker = scratch.path().join("claimed");
    let mut child = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_URL, &db.url)
        .env(CHILD_MARKER, &marker)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !marker.exists() {
        assert!(
            Instant::now() < deadline,
            "the child never claimed an event"
        );
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the child exited early: {status}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().await.unwrap();
    let killed_at = Instant::now();

    let survivor = Worker::new(store.clone(), Recorder::new("parent"));
    let first = survivor.run_until_idle().await.unwrap();
    // What the child claimed waits for its lease (unless the lease already ran out).
    if killed_at.elapsed() < LEASE {
        assert_eq!(first.done, ORDERS - BATCH as usize, "{first:?}");
    }
    let left = LEASE.saturating_sub(killed_at.elapsed()) + Duration::from_millis(300);
    tokio::time::sleep(left).await;
    let second = survivor.run_until_idle().await.unwrap();
    assert_eq!(first.done + second.done, ORDERS, "{first:?} {second:?}");

    assert_eq!(effects(&store, "event", None).await, ORDERS as i64);
    let by_child: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM app_effects WHERE instance = 'child'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(by_child, 0, "the killed process committed nothing");
    for index in 0..ORDERS {
        assert_eq!(
            effects(&store, "fulfil", Some(&format!("order-{index}"))).await,
            1
        );
    }
    let rows = store.events(None, 100).await.unwrap();
    assert!(rows.iter().all(|row| row.status == EventStatus::Done));
    assert_eq!(
        rows.iter().filter(|row| row.attempts == 2).count(),
        BATCH as usize
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_killed_mid_handler_on_postgres() {
    if std::env::var(CHILD_URL).is_ok() {
        return;
    }
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    killed_mid_handler(&db).await;
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_killed_mid_handler_on_a_sqlite_file() {
    if std::env::var(CHILD_URL).is_ok() {
        return;
    }
    killed_mid_handler(&TestDb::sqlite_file()).await;
}
