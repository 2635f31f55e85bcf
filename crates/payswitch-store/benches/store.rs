//! Throughput of the store: events received and processed per second on SQLite (a file) and
//! PostgreSQL, with 1 and 4 concurrent receivers or workers, against a bare
//! `INSERT … ON CONFLICT DO NOTHING` of the same rows on the same database (the floor: what
//! recording costs with no verification, no JSON and no bookkeeping).
//!
//! ```sh
//! eval "$(PAYSWITCH_PG_FSYNC=on bash .ci/postgres-setup.sh)"   # optional: PostgreSQL too
//! cargo bench -p payswitch-store --all-features --bench store
//! ```
//!
//! `PAYSWITCH_BENCH_EVENTS` sets the number of events per measurement (default 4000). Each
//! measurement runs on a fresh database. This is a benchmark, not a test: it asserts only
//! that every event was processed. Figures are in docs/performance.md.

use std::sync::Arc;
use std::time::{Duration, Instant};

use payswitch_core::memory::{MemoryProvider, WebhookDelivery};
use payswitch_core::{CheckoutProvider, CheckoutRequest, Currency, LineItem, Money};
use payswitch_store::{BillingOnly, Store, StoreConfig, Worker};
use sqlx::{Connection, Executor};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A fresh database for one measurement, and how to drop it.
struct Fresh {
    url: String,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl Fresh {
    async fn new(backend: &str) -> Result<Fresh, BoxError> {
        if backend == "sqlite" {
            let dir = tempfile::tempdir()?;
            let url = format!("sqlite:{}", dir.path().join("bench.db").display());
            return Ok(Fresh {
                url,
                _dir: Some(dir),
                postgres: None,
            });
        }
        let base = postgres_url().ok_or("no PostgreSQL URL")?;
        let name = format!("payswitch_bench_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::AnyConnection::connect(&base).await?;
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await?;
        admin.close().await?;
        let server = base
            .rsplit_once('/')
            .map(|(server, _)| server.to_owned())
            .unwrap_or(base.clone());
        Ok(Fresh {
            url: format!("{server}/{name}"),
            _dir: None,
            postgres: Some((base, name)),
        })
    }

    async fn finish(self) {
        if let Some((base, name)) = self.postgres {
            if let Ok(mut admin) = sqlx::AnyConnection::connect(&base).await {
                let _ = admin
                    .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                    .await;
            }
        }
    }
}

fn postgres_url() -> Option<String> {
    std::env::var("PAYSWITCH_BENCH_DATABASE_URL")
        .or_else(|_| std::env::var("PAYSWITCH_TEST_DATABASE_URL"))
        .ok()
}

/// `count` signed `checkout.completed` deliveries, made before any timing starts.
async fn deliveries(
    gateway: &MemoryProvider,
    count: usize,
) -> Result<Vec<WebhookDelivery>, BoxError> {
    let first = gateway.deliveries().len();
    for index in 0..count {
        let request = CheckoutRequest::builder()
            .line_item(LineItem::custom("Book", Money::new(1500, Currency::EUR), 1))
            .success_url("https://shop.example/done")
            .reference(format!("order-{index}"))
            .metadata("app_user_id", format!("user_{}", index % 100))
            .build()?;
        let checkout = gateway.create_checkout(&request).await?;
        gateway.pay(&checkout.id)?;
    }
    Ok(gateway.deliveries().split_off(first))
}

fn config() -> StoreConfig {
    StoreConfig::default().max_connections(8).batch_size(32)
}

/// Splits `items` into `parts` interleaved shares.
fn shares<T: Clone>(items: &[T], parts: usize) -> Vec<Vec<T>> {
    (0..parts)
        .map(|part| items.iter().skip(part).step_by(parts).cloned().collect())
        .collect()
}

/// The floor: the same number of rows through a bare insert that ignores conflicts.
async fn floor(backend: &str, count: usize, tasks: usize) -> Result<Duration, BoxError> {
    let fresh = Fresh::new(backend).await?;
    let store = Store::open_with(&fresh.url, config()).await?;
    sqlx::query("CREATE TABLE bench_floor (gateway TEXT NOT NULL, event_id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (gateway, event_id))")
        .execute(store.pool())
        .await?;
    let ids: Vec<usize> = (0..count).collect();
    let body = "x".repeat(600);
    let started = Instant::now();
    let mut handles = Vec::new();
    for share in shares(&ids, tasks) {
        let pool = store.pool().clone();
        let body = body.clone();
        handles.push(tokio::spawn(async move {
            for id in share {
                sqlx::query("INSERT INTO bench_floor (gateway, event_id, body) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                    .bind("memory")
                    .bind(format!("evt_{id}"))
                    .bind(&body)
                    .execute(&pool)
                    .await?;
            }
            Ok::<(), sqlx::Error>(())
        }));
    }
    for handle in handles {
        handle.await??;
    }
    let elapsed = started.elapsed();
    store.pool().close().await;
    fresh.finish().await;
    Ok(elapsed)
}

/// Receives every delivery with `tasks` concurrent receivers, then processes them all with
/// `workers` workers; returns both durations.
async fn receive_and_process(
    backend: &str,
    gateway: &MemoryProvider,
    deliveries: &[WebhookDelivery],
    receivers: usize,
    workers: usize,
) -> Result<(Duration, Duration), BoxError> {
    let fresh = Fresh::new(backend).await?;
    let store = Store::open_with(&fresh.url, config()).await?;
    let started = Instant::now();
    let mut handles = Vec::new();
    for share in shares(deliveries, receivers) {
        let store = store.clone();
        let gateway = gateway.clone();
        handles.push(tokio::spawn(async move {
            for delivery in share {
                store
                    .receive(&gateway, &delivery.headers, &delivery.body)
                    .await?;
            }
            Ok::<(), payswitch_store::StoreError>(())
        }));
    }
    for handle in handles {
        handle.await??;
    }
    let received = started.elapsed();
    let started = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..workers {
        let worker = Worker::new(store.clone(), BillingOnly);
        handles.push(tokio::spawn(async move { worker.run_until_idle().await }));
    }
    let mut done = 0;
    for handle in handles {
        done += handle.await??.done;
    }
    let processed = started.elapsed();
    if done != deliveries.len() {
        return Err(format!("processed {done} of {} events", deliveries.len()).into());
    }
    store.pool().close().await;
    fresh.finish().await;
    Ok((received, processed))
}

fn per_second(count: usize, elapsed: Duration) -> String {
    format!("{:.0}", count as f64 / elapsed.as_secs_f64().max(1e-9))
}

async fn bench() -> Result<(), BoxError> {
    let count: usize = std::env::var("PAYSWITCH_BENCH_EVENTS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(4000);
    let gateway = MemoryProvider::new();
    let deliveries = Arc::new(deliveries(&gateway, count).await?);
    let mut backends = vec!["sqlite"];
    if cfg!(feature = "postgres") && postgres_url().is_some() {
        backends.push("postgres");
    } else {
        eprintln!(
            "PostgreSQL skipped: build with --all-features and set PAYSWITCH_TEST_DATABASE_URL"
        );
    }
    println!("{count} events per measurement; events per second");
    println!("| database | concurrency | bare INSERT … ON CONFLICT DO NOTHING | receive (verify + record) | process (claim + apply + mark done) |");
    println!("| --- | --- | --- | --- | --- |");
    for backend in backends {
        for concurrency in [1, 4] {
            let floor = floor(backend, count, concurrency).await?;
            let (received, processed) =
                receive_and_process(backend, &gateway, &deliveries, concurrency, concurrency)
                    .await?;
            println!(
                "| {backend} | {concurrency} | {} | {} | {} |",
                per_second(count, floor),
                per_second(count, received),
                per_second(count, processed)
            );
        }
    }
    Ok(())
}

fn main() {
    sqlx::any::install_default_drivers();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("store bench: {error}");
            std::process::exit(1);
        }
    };
    if let Err(error) = runtime.block_on(bench()) {
        eprintln!("store bench: {error}");
        std::process::exit(1);
    }
}
