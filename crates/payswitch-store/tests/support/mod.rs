//! Test databases: SQLite in memory, SQLite in a temporary file, and a fresh PostgreSQL
//! database per test on the server named by `PAYSWITCH_TEST_DATABASE_URL`.
//!
//! Without that variable the PostgreSQL tests print a notice and pass, unless
//! `PAYSWITCH_REQUIRE_POSTGRES=1` (CI), when they fail.

#![allow(dead_code)] // each test binary uses part of the support

use std::sync::Arc;

use payswitch_core::{Clock, ManualClock};
use payswitch_store::{Store, StoreConfig};
use sqlx::{Connection, Executor};

/// Where a test's database lives.
pub struct TestDb {
    pub url: String,
    /// Several stores opened on `url` share one database (false for SQLite in memory).
    pub shared: bool,
    pub name: &'static str,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDb {
    pub fn sqlite_memory() -> TestDb {
        TestDb {
            url: "sqlite::memory:".into(),
            shared: false,
            name: "sqlite-memory",
            _dir: None,
            postgres: None,
        }
    }

    pub fn sqlite_file() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite:{}", dir.path().join("store.db").display());
        TestDb {
            url,
            shared: true,
            name: "sqlite-file",
            _dir: Some(dir),
            postgres: None,
        }
    }

    /// A new, empty database on the test server, or `None` (with a notice) when there is no
    /// server and none is required.
    pub async fn postgres() -> Option<TestDb> {
        let Ok(base) = std::env::var("PAYSWITCH_TEST_DATABASE_URL") else {
            if std::env::var("PAYSWITCH_REQUIRE_POSTGRES").as_deref() == Ok("1") {
                panic!("PAYSWITCH_REQUIRE_POSTGRES=1 but PAYSWITCH_TEST_DATABASE_URL is not set: run .ci/postgres-setup.sh");
            }
            eprintln!("notice: PAYSWITCH_TEST_DATABASE_URL is not set; skipping a PostgreSQL test (run .ci/postgres-setup.sh)");
            return None;
        };
        sqlx::any::install_default_drivers();
        let name = format!("payswitch_t_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::AnyConnection::connect(&base)
            .await
            .expect("connect to the PostgreSQL test server");
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create a test database");
        admin.close().await.ok();
        let (prefix, query) = match base.split_once('?') {
            Some((prefix, query)) => (prefix.to_owned(), format!("?{query}")),
            None => (base.clone(), String::new()),
        };
        let server = prefix
            .rsplit_once('/')
            .map(|(server, _)| server)
            .unwrap_or(&prefix);
        Some(TestDb {
            url: format!("{server}/{name}{query}"),
            shared: true,
            name: "postgres",
            _dir: None,
            postgres: Some((base, name)),
        })
    }

    pub async fn open(&self, config: StoreConfig) -> Store {
        Store::open_with(&self.url, config)
            .await
            .expect("open the store")
    }

    pub async fn open_on(&self, config: StoreConfig, clock: &Arc<ManualClock>) -> Store {
        let clock: Arc<dyn Clock> = clock.clone();
        self.open(config).await.with_clock(clock)
    }

    /// Drops a PostgreSQL test database (after its pools are closed).
    pub async fn finish(self) {
        if let Some((base, name)) = &self.postgres {
            if let Ok(mut admin) = sqlx::AnyConnection::connect(base).await {
                let _ = admin
                    .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                    .await;
                admin.close().await.ok();
            }
        }
    }
}

/// A manual clock at a fixed, recent instant.
pub fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::at_unix(1_767_225_600))
}

/// The application's own table, in the store's database, that handlers write to.
pub async fn create_app_table(store: &Store) {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS app_effects (object_id TEXT NOT NULL, event_id TEXT NOT NULL, \
         what TEXT NOT NULL, instance TEXT NOT NULL)",
    )
    .execute(store.pool())
    .await
    .expect("create the application's table");
}

/// How many effects the application recorded for `object_id` (all when `None`).
pub async fn effects(store: &Store, what: &str, object_id: Option<&str>) -> i64 {
    let count: i64 = match object_id {
        Some(id) => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM app_effects WHERE what = $1 AND object_id = $2",
            )
            .bind(what)
            .bind(id)
            .fetch_one(store.pool())
            .await
        }
        None => {
            sqlx::query_scalar("SELECT COUNT(*) FROM app_effects WHERE what = $1")
                .bind(what)
                .fetch_one(store.pool())
                .await
        }
    }
    .expect("count effects");
    count
}

/// Runs `$name(&TestDb)` from `suite` on SQLite in memory, SQLite in a file and PostgreSQL.
#[macro_export]
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite_memory {
            $(
                #[tokio::test]
                async fn $name() {
                    let db = $crate::support::TestDb::sqlite_memory();
                    $crate::suite::$name(&db).await;
                }
            )*
        }
        mod sqlite_file {
            $(
                #[tokio::test]
                async fn $name() {
                    let db = $crate::support::TestDb::sqlite_file();
                    $crate::suite::$name(&db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(db) = $crate::support::TestDb::postgres().await else { return };
                    $crate::suite::$name(&db).await;
                    db.finish().await;
                }
            )*
        }
    };
}
