//! SQLite: the embedded default. One writer connection (SQLite allows one
//! writer at a time; a single connection avoids busy-waiting) and a pool of
//! readers on the same WAL-mode file. `synchronous = FULL`: a write is
//! acknowledged only once it is on disk.

use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, Transaction};

use crate::cache::Cache;
use crate::{StoreOptions, shared};

pub struct SqliteStore {
    write: SqlitePool,
    read: SqlitePool,
    /// This process is the database's only writer, so it may cache.
    cache: Option<Cache>,
}

impl SqliteStore {
    pub async fn open(url: &str, opts: &StoreOptions) -> Result<Self, crate::OpenError> {
        let connect = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(opts.acquire_timeout);
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(opts.acquire_timeout)
            .connect_with(connect.clone())
            .await?;
        sqlx::migrate!("../../migrations/sqlite").run(&write).await?;
        let read = SqlitePoolOptions::new()
            .max_connections(opts.max_connections.max(1))
            .acquire_timeout(opts.acquire_timeout)
            .connect_with(connect.read_only(true))
            .await?;
        Ok(Self {
            write,
            read,
            cache: Some(Cache::default()),
        })
    }

    async fn begin_write(&self, _instance_id: &str) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.write.begin_with("BEGIN IMMEDIATE").await
    }

    async fn close_pools(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

shared::impl_event_store!(SqliteStore, Sqlite);
