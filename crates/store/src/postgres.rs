//! PostgreSQL: for several Twofold processes on one database.
//!
//! Appends take a transaction-scoped advisory lock per instance, so they
//! commit one after another and the global `position` of an instance's
//! events only grows in commit order: a reader that has seen position N can
//! never later find a committed event below N (the usual out-of-order
//! sequence pitfall). Read models are written in the same transaction, so a
//! write acknowledged by one node is visible to every node's next read.
//!
//! Group commit: as the lock makes an instance's commits (and their WAL
//! flushes) strictly sequential, each node's writer task takes every push
//! waiting in its queue (up to [`MAX_BATCH`]) and applies them in one
//! transaction, each in its own savepoint so one push's failure (a lost
//! race, a taken name) leaves the others intact, then commits once. No push
//! is acknowledged before that commit; a batch that cannot commit fails
//! every push in it.

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};
use tokio::sync::{mpsc, oneshot};
use twofold_app::StoreError;
use twofold_app::ports::PushRequest;
use twofold_domain::StoredEvent;

use crate::{StoreOptions, shared};

/// Most pushes one commit covers.
const MAX_BATCH: usize = 128;

type Reply = oneshot::Sender<Result<Vec<StoredEvent>, StoreError>>;

pub struct PgStore {
    read: PgPool,
    /// Several nodes write the database: nothing is cached.
    cache: Option<std::sync::Arc<crate::cache::Cache>>,
    jobs: mpsc::Sender<(PushRequest, Reply)>,
}

impl PgStore {
    pub async fn open(url: &str, opts: &StoreOptions) -> Result<Self, crate::OpenError> {
        let read = PgPoolOptions::new()
            .max_connections(opts.max_connections.max(2))
            .acquire_timeout(opts.acquire_timeout)
            .connect(url)
            .await?;
        // sqlx holds an advisory lock while migrating, so nodes starting
        // together apply each migration once.
        sqlx::migrate!("../../migrations/postgres").run(&read).await?;
        let (jobs, queue) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(writer(read.clone(), queue));
        Ok(Self {
            read,
            cache: None,
            jobs,
        })
    }

    async fn submit(&self, req: PushRequest) -> Result<Vec<StoredEvent>, StoreError> {
        let gone = || StoreError::Unavailable("the database writer has stopped".into());
        let (reply, answer) = oneshot::channel();
        self.jobs.send((req, reply)).await.map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }

    /// A failed transaction is rolled back when sqlx returns its connection
    /// to the pool (or the connection is dropped), so nothing stays behind
    /// to block later writes: the database answering is enough.
    async fn writer_ready(&self) -> Result<(), twofold_app::StoreError> {
        Ok(())
    }

    fn meta_writer(&self) -> &PgPool {
        &self.read
    }

    async fn close_pools(&self) {
        self.read.close().await;
    }
}

shared::impl_event_store!(PgStore, Postgres);

async fn writer(pool: PgPool, mut queue: mpsc::Receiver<(PushRequest, Reply)>) {
    while let Some(first) = queue.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let batch: Vec<&PushRequest> = jobs.iter().map(|(req, _)| req).collect();
        let started = std::time::Instant::now();
        let outcome = write_batch(&pool, &batch).await;
        twofold_app::metrics::commit(batch.len(), started.elapsed());
        match outcome {
            Ok(results) => {
                for ((_, reply), result) in jobs.into_iter().zip(results) {
                    let _ = reply.send(result.map(|applied| applied.stored));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "a write batch could not commit and was rolled back");
                for (_, reply) in jobs {
                    let _ = reply.send(Err(e.clone()));
                }
            }
        }
    }
}

/// Applies each push in its own savepoint and commits them together. An
/// error outside a push rolls the whole transaction back (sqlx does when the
/// transaction is dropped).
async fn write_batch(
    pool: &PgPool,
    batch: &[&PushRequest],
) -> Result<Vec<Result<shared::Applied, StoreError>>, StoreError> {
    let err = shared::db_error;
    let mut tx: Transaction<'static, Postgres> = pool.begin().await.map_err(err)?;
    // Always in the same order, so two nodes' batches cannot deadlock.
    let mut instances: Vec<&str> = batch.iter().map(|req| req.instance_id.as_str()).collect();
    instances.sort_unstable();
    instances.dedup();
    for instance_id in instances {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('twofold-append:' || $1))")
            .bind(instance_id)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
    }
    let mut results = Vec::with_capacity(batch.len());
    for req in batch {
        sqlx::query("SAVEPOINT push").execute(&mut *tx).await.map_err(err)?;
        let result = PgStore::apply_push(&mut tx, req).await;
        if result.is_err() {
            sqlx::query("ROLLBACK TO SAVEPOINT push")
                .execute(&mut *tx)
                .await
                .map_err(err)?;
        }
        sqlx::query("RELEASE SAVEPOINT push")
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        results.push(result);
    }
    tx.commit().await.map_err(err)?;
    Ok(results)
}
