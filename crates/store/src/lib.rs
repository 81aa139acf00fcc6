//! Storage adapters: the event store and its read models on SQLite (the
//! embedded default) and PostgreSQL (several server processes on one
//! database). Both run the same SQL (see `shared.rs`) and behave alike.

mod bounded;
mod cache;
mod pg_batch;
mod pg_push;
mod pg_reads;
mod postgres;
mod push;
mod rebuild;
mod shared;
mod sqlite;
mod sqlite_reads;
mod sqlite_writer;
mod user_page;

use std::sync::Arc;
use std::time::Duration;

use twofold_app::EventStore;

pub use postgres::PgStore;
pub use rebuild::{Rebuilt, rebuild};
pub use sqlite::SqliteStore;

/// Connection settings that apply to either backend.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://USER@HOST:PORT/DB")]
    Scheme(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("the database failed its integrity check: {0}")]
    Corrupt(String),
}

/// Opens the database named by `url` and applies pending migrations.
pub async fn open(url: &str, opts: &StoreOptions) -> Result<Arc<dyn EventStore>, OpenError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url, opts).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::open(url, opts).await?))
    } else {
        Err(OpenError::Scheme(url.to_owned()))
    }
}

/// Checks the database named by `url` without changing it: SQLite's full
/// `PRAGMA integrity_check`; on PostgreSQL (which checks its own pages) that
/// the schema is there and readable. Returns the problems found.
pub async fn check(url: &str, opts: &StoreOptions) -> Result<Vec<String>, OpenError> {
    use sqlx::ConnectOptions;
    if url.starts_with("sqlite:") {
        sqlite_check(url, opts, "integrity_check").await
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let mut conn = <sqlx::postgres::PgConnectOptions as std::str::FromStr>::from_str(url)?
            .connect()
            .await?;
        for table in ["events", "unique_constraints", "docs", "server_meta", "snapshots"] {
            let sql = format!("SELECT count(*) FROM {table}");
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await?;
        }
        Ok(Vec::new())
    } else {
        Err(OpenError::Scheme(url.to_owned()))
    }
}

/// SQLite's `PRAGMA quick_check` (every page and record, without the
/// indexes' cross-check) on the database named by `url`, over a read-only
/// connection of its own: `twofold start` runs it beside the serving server
/// (it takes seconds per GB; see docs/operations.md). None on PostgreSQL.
pub async fn quick_check(url: &str, opts: &StoreOptions) -> Option<Result<Vec<String>, OpenError>> {
    if url.starts_with("sqlite:") {
        Some(sqlite_check(url, opts, "quick_check").await)
    } else {
        None
    }
}

async fn sqlite_check(url: &str, opts: &StoreOptions, pragma: &str) -> Result<Vec<String>, OpenError> {
    let connect = <sqlx::sqlite::SqliteConnectOptions as std::str::FromStr>::from_str(url)?
        .read_only(true)
        .busy_timeout(opts.acquire_timeout);
    let found = async {
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(connect)
            .await?;
        let problems = sqlite::integrity(&pool, pragma).await;
        pool.close().await;
        problems
    };
    match found.await.map_err(sqlite::corrupt_or) {
        Err(OpenError::Corrupt(problem)) => Ok(vec![problem]),
        other => other,
    }
}
