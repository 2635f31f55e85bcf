//! Opening the database: which backend a URL names, the connection pool, and the embedded
//! migrations. Every query in the crate is written once, with `$1` placeholders that both
//! SQLite and PostgreSQL accept, and runs through `sqlx::Any`.

use std::borrow::Cow;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::AnyPool;
use sqlx::Executor;

use crate::error::StoreError;

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// SQLite: a file or `:memory:`, embedded in the process.
    Sqlite,
    /// PostgreSQL: one database shared by many application instances.
    Postgres,
}

impl Backend {
    /// The backend a database URL names (`sqlite:…` or `postgres://…`/`postgresql://…`),
    /// or why this build cannot open it.
    pub fn from_url(url: &str) -> Result<Backend, StoreError> {
        let scheme = url
            .split(':')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match scheme.as_str() {
            "sqlite" if cfg!(feature = "sqlite") => Ok(Backend::Sqlite),
            "sqlite" => Err(StoreError::UnsupportedDatabase {
                scheme,
                hint: "enable the `sqlite` feature of payswitch-store",
            }),
            "postgres" | "postgresql" if cfg!(feature = "postgres") => Ok(Backend::Postgres),
            "postgres" | "postgresql" => Err(StoreError::UnsupportedDatabase {
                scheme,
                hint: "enable the `postgres` feature of payswitch-store",
            }),
            _ => Err(StoreError::UnsupportedDatabase {
                scheme,
                hint: "use a sqlite: or postgres:// URL",
            }),
        }
    }

    /// The clause that makes a claim skip rows another instance holds. SQLite has one
    /// writer at a time, so a claim there never meets a locked row.
    pub(crate) fn skip_locked(self) -> &'static str {
        match self {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        }
    }
}

/// The pool and the backend it talks to.
#[derive(Debug, Clone)]
pub(crate) struct Db {
    pub(crate) pool: AnyPool,
    pub(crate) backend: Backend,
}

/// Says whether a SQLite URL is an in-memory database, which lives only as long as its one
/// connection.
fn is_sqlite_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

/// Adds `mode=rwc` to a SQLite file URL without a mode, so a missing file is created.
fn sqlite_file_url(url: &str) -> String {
    if url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

/// Opens the pool for `url` and applies the embedded migrations.
///
/// SQLite in memory gets exactly one connection that is never closed (the database is that
/// connection). A SQLite file gets WAL (readers do not wait for the writer) and a busy
/// timeout, so writers from several connections or processes queue instead of failing.
pub(crate) async fn open(url: &str, max_connections: u32) -> Result<Db, StoreError> {
    let backend = Backend::from_url(url)?;
    sqlx::any::install_default_drivers();
    let pool = match backend {
        Backend::Sqlite if is_sqlite_memory(url) => {
            AnyPoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect(url)
                .await?
        }
        Backend::Sqlite => {
            AnyPoolOptions::new()
                .max_connections(max_connections.max(1))
                .acquire_timeout(Duration::from_secs(30))
                .after_connect(|connection, _| {
                    Box::pin(async move {
                        connection.execute("PRAGMA journal_mode = WAL").await?;
                        connection.execute("PRAGMA busy_timeout = 30000").await?;
                        Ok(())
                    })
                })
                .connect(&sqlite_file_url(url))
                .await?
        }
        Backend::Postgres => {
            AnyPoolOptions::new()
                .max_connections(max_connections.max(1))
                .acquire_timeout(Duration::from_secs(30))
                .connect(url)
                .await?
        }
    };
    migrator().run(&pool).await?;
    Ok(Db { pool, backend })
}

/// The embedded migrations, built by hand rather than with `sqlx::migrate!` so the crate
/// needs no proc-macro (and no database) to build.
pub(crate) fn migrator() -> Migrator {
    Migrator {
        migrations: Cow::Owned(vec![Migration::new(
            1,
            Cow::Borrowed("payswitch store"),
            MigrationType::Simple,
            Cow::Borrowed(include_str!("../migrations/0001_store.sql")),
            false,
        )]),
        ignore_missing: true,
        locking: true,
        no_tx: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_their_backend_and_never_echo_the_rest() {
        assert_eq!(
            Backend::from_url("sqlite::memory:").ok(),
            Some(Backend::Sqlite)
        );
        let error = Backend::from_url("mysql://user:hunter2@db/x").unwrap_err();
        assert!(!error.to_string().contains("hunter2"));
        #[cfg(feature = "postgres")]
        assert_eq!(
            Backend::from_url("postgresql://u:p@127.0.0.1/db").ok(),
            Some(Backend::Postgres)
        );
        #[cfg(not(feature = "postgres"))]
        assert!(Backend::from_url("postgres://u:p@127.0.0.1/db")
            .unwrap_err()
            .to_string()
            .contains("`postgres` feature"));
    }

    #[test]
    fn sqlite_file_urls_create_the_file() {
        assert_eq!(
            sqlite_file_url("sqlite:/tmp/a.db"),
            "sqlite:/tmp/a.db?mode=rwc"
        );
        assert_eq!(
            sqlite_file_url("sqlite:/tmp/a.db?x=1"),
            "sqlite:/tmp/a.db?x=1&mode=rwc"
        );
        assert_eq!(
            sqlite_file_url("sqlite:/tmp/a.db?mode=ro"),
            "sqlite:/tmp/a.db?mode=ro"
        );
    }
}
