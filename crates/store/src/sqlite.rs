//! SQLite: the embedded default. One writer task owns the write connection
//! (SQLite allows one writer at a time) and a pool of readers shares the
//! same WAL-mode file. `synchronous = FULL`: a write is acknowledged only
//! once it is on disk.
//!
//! Group commit: the writer takes every push waiting in its queue (up to
//! [`MAX_BATCH`]) and applies them in one transaction, each inside its own
//! savepoint so one push's failure (a lost race, a taken name) leaves the
//! others intact, then commits once. One fsync then covers many writes, and
//! no push is acknowledged before that commit.

use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, Transaction};

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use twofold_app::StoreError;
use twofold_app::ports::PushRequest;
use twofold_domain::StoredEvent;

use crate::cache::Cache;
use crate::{StoreOptions, shared};

/// Most pushes one commit covers.
const MAX_BATCH: usize = 128;

struct Job {
    req: PushRequest,
    reply: oneshot::Sender<Result<Vec<StoredEvent>, StoreError>>,
}

pub struct SqliteStore {
    write: SqlitePool,
    read: SqlitePool,
    jobs: mpsc::Sender<Job>,
    /// This process is the database's only writer, so it may cache.
    cache: Option<Arc<Cache>>,
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
        let cache = Arc::new(Cache::default());
        let (jobs, queue) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(writer(write.clone(), queue, cache.clone()));
        Ok(Self {
            write,
            read,
            jobs,
            cache: Some(cache),
        })
    }

    async fn submit(&self, req: PushRequest) -> Result<Vec<StoredEvent>, StoreError> {
        let (reply, answer) = oneshot::channel();
        let gone = || StoreError::Unavailable("the database writer has stopped".into());
        self.jobs.send(Job { req, reply }).await.map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }

    async fn close_pools(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

shared::impl_event_store!(SqliteStore, Sqlite);

async fn writer(pool: SqlitePool, mut queue: mpsc::Receiver<Job>, cache: Arc<Cache>) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        match write_batch(&pool, &batch).await {
            Ok(results) => {
                for (job, result) in batch.into_iter().zip(results) {
                    if let Ok((stored, written)) = &result {
                        cache.committed(&job.req.instance_id, written, stored);
                    }
                    let _ = job.reply.send(result.map(|(stored, _)| stored));
                }
            }
            Err(e) => {
                for job in batch {
                    let _ = job.reply.send(Err(e.clone()));
                }
            }
        }
    }
}

/// Applies each push in its own savepoint and commits them together.
async fn write_batch(pool: &SqlitePool, batch: &[Job]) -> Result<Vec<Result<shared::Applied, StoreError>>, StoreError> {
    let run = |sql: &'static str| sqlx::query::<Sqlite>(sql);
    let mut tx: Transaction<'static, Sqlite> = pool.begin_with("BEGIN IMMEDIATE").await.map_err(shared::db_error)?;
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        run("SAVEPOINT push")
            .execute(&mut *tx)
            .await
            .map_err(shared::db_error)?;
        let result = SqliteStore::apply_push(&mut tx, &job.req).await;
        if result.is_err() {
            run("ROLLBACK TO push")
                .execute(&mut *tx)
                .await
                .map_err(shared::db_error)?;
        }
        run("RELEASE push").execute(&mut *tx).await.map_err(shared::db_error)?;
        results.push(result);
    }
    tx.commit().await.map_err(shared::db_error)?;
    Ok(results)
}
