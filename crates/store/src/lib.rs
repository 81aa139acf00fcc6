//! Storage adapters: the event store and its read models on SQLite (the
//! embedded default) and PostgreSQL (several server processes on one
//! database). Both run the same SQL (see `shared.rs`) and behave alike.

mod cache;
mod postgres;
mod shared;
mod sqlite;

use std::sync::Arc;
use std::time::Duration;

use twofold_app::EventStore;

pub use postgres::PgStore;
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
