//! SQLite: the embedded default. One writer thread owns the connection that
//! appends (SQLite allows one writer at a time; `sqlite_writer.rs`, with
//! its group commit and its recovery from failed commits) and readers share
//! the same WAL-mode file: the point reads on synchronous connections used
//! inline (`sqlite_reads.rs`), the longer ones on a sqlx pool; a one-connection sqlx pool runs
//! the migrations, the integrity check and the rare `server_meta` writes. `synchronous = FULL`: a write is acknowledged only
//! once it is on disk.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, Sqlite};
use tokio::sync::{mpsc, oneshot};
use twofold_app::StoreError;
use twofold_app::ports::PushRequest;
use twofold_domain::StoredEvent;

use crate::cache::Cache;
use crate::shared::PointReads;
use crate::sqlite_reads::Readers;
use crate::sqlite_writer::{self, Job};
use crate::{StoreOptions, shared};

pub struct SqliteStore {
    write: SqlitePool,
    read: SqlitePool,
    readers: Readers,
    jobs: mpsc::Sender<Job>,
    /// This process is the database's only writer, so it may cache.
    cache: Option<Arc<Cache>>,
    /// False from a failed commit until the next successful one.
    writable: Arc<AtomicBool>,
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
            .await
            .map_err(corrupt_or)?;
        // The whole-file check runs beside the serving server
        // (`crate::quick_check`): it grows with the file, the start must not.
        sqlx::migrate!("../../migrations/sqlite")
            .run(&write)
            .await
            .map_err(|e| match e {
                sqlx::migrate::MigrateError::Execute(e) | sqlx::migrate::MigrateError::ExecuteMigration(e, _) => {
                    corrupt_or(e)
                }
                other => crate::OpenError::Migrate(other),
            })?;
        // A file has no peer to lose: no ping before each use.
        let read = SqlitePoolOptions::new()
            .test_before_acquire(false)
            .max_connections(opts.max_connections.max(1))
            .acquire_timeout(opts.acquire_timeout)
            .connect_with(connect.clone().read_only(true))
            .await?;
        let cache = Arc::new(Cache::default());
        let writable = Arc::new(AtomicBool::new(true));
        let (jobs, queue) = crate::push::queue();
        let target = sqlite_writer::Target {
            path: connect.get_filename().to_owned(),
            busy_timeout: opts.acquire_timeout,
        };
        let readers = Readers::new(target.clone(), opts.max_connections as usize);
        sqlite_writer::spawn(target, queue, cache.clone(), writable.clone())
            .map_err(|e| crate::OpenError::Db(sqlx::Error::Io(e)))?;
        Ok(Self {
            write,
            read,
            readers,
            jobs,
            cache: Some(cache),
            writable,
        })
    }

    async fn submit(&self, req: PushRequest) -> Result<Vec<StoredEvent>, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.jobs.send(Job::Push { req, reply }).await.map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }

    async fn writer_ready(&self) -> Result<(), StoreError> {
        if self.writable.load(Ordering::Acquire) {
            return Ok(());
        }
        let (reply, answer) = oneshot::channel();
        self.jobs.send(Job::Probe { reply }).await.map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }

    /// The only writer: its cache is always exact.
    async fn fresh(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn reads(&self) -> &Readers {
        &self.readers
    }

    fn meta_writer(&self) -> &SqlitePool {
        &self.write
    }

    async fn close_pools(&self) {
        let (reply, closed) = oneshot::channel();
        if self.jobs.send(Job::Close { reply }).await.is_ok() {
            let _ = closed.await;
        }
        self.readers.close().await;
        self.read.close().await;
        self.write.close().await;
    }
}

fn gone() -> StoreError {
    StoreError::Unavailable("the database writer has stopped".into())
}

/// SQLite's "malformed" and "not a database" errors, which opening a
/// damaged file may give before any check runs, as [`crate::OpenError::Corrupt`].
pub(crate) fn corrupt_or(e: sqlx::Error) -> crate::OpenError {
    match &e {
        sqlx::Error::Database(d)
            if d.code()
                .and_then(|c| c.parse::<i32>().ok())
                .is_some_and(|c| matches!(c & 0xff, 11 | 26)) =>
        {
            crate::OpenError::Corrupt(d.message().to_owned())
        }
        _ => crate::OpenError::Db(e),
    }
}

/// The problems `PRAGMA quick_check` or `integrity_check` reports (none when
/// the database is sound).
pub(crate) async fn integrity(pool: &SqlitePool, pragma: &str) -> Result<Vec<String>, sqlx::Error> {
    let rows = sqlx::query::<Sqlite>(sqlx::AssertSqlSafe(format!("PRAGMA {pragma}")))
        .fetch_all(pool)
        .await?;
    let lines: Vec<String> = rows
        .iter()
        .map(|r| r.try_get::<String, _>(0))
        .collect::<Result<_, _>>()?;
    Ok(lines.into_iter().filter(|l| l != "ok").collect())
}

shared::impl_event_store!(SqliteStore, Sqlite);
