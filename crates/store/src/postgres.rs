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
//! waiting in its queue (up to [`crate::push::MAX_BATCH`]) and applies them in one
//! transaction, then commits once: whole, in a few statements
//! (`pg_batch.rs`), or, when a push in it fails (a lost race, a taken
//! name), again push by push, each in its own savepoint, so the others
//! still land. No push is acknowledged before that commit; a batch that
//! cannot commit fails every push in it.
//!
//! Cache: each node caches reads like SQLite does (`cache.rs`), its own
//! commits updating the cache, and stays exact across nodes with a fence:
//! each batch also records what it changed in `changes` under the next
//! commit number (gapless, in commit order, see migration 0008); before a
//! request's first read (`twofold_app::freshness`) the node reads the
//! `changes` rows after the last one it applied, by a query that began
//! after the request did, and forgets what other nodes changed. Concurrent
//! requests share one such query: a request waits for the next query to
//! complete that started after it arrived, so under load a node makes about
//! one small indexed query per round trip, not one per request, and a
//! write acknowledged anywhere before a request began is seen by it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{Connection, PgConnection, Postgres, Transaction};
use tokio::sync::{Mutex, mpsc, oneshot};
use twofold_app::StoreError;
use twofold_app::ports::PushRequest;
use twofold_domain::StoredEvent;

use crate::cache::{Cache, Changed};
use crate::shared::PointReads;
use crate::{StoreOptions, shared};

/// Rows of `changes` kept: a node that has not looked for this many
/// commits forgets everything.
const CHANGES_KEPT: i64 = 10_000;
/// Every this many commits, the older rows of `changes` are deleted.
const PRUNE_EVERY: i64 = 1_000;

/// Takes the next commit number (holding its row lock until the commit) and
/// records what the commit changed under it.
pub(crate) const RECORD_CHANGES: &str = "WITH head AS (UPDATE change_head SET seq = seq + 1 RETURNING seq) \
     INSERT INTO changes (seq, node, keys) SELECT seq, $1, $2 FROM head RETURNING seq";
const PRUNE_CHANGES: &str = "DELETE FROM changes WHERE seq <= $1";
const SELECT_HEAD: &str = "SELECT seq FROM change_head";
const SELECT_CHANGES: &str = "SELECT seq, node, keys FROM changes WHERE seq > $1 ORDER BY seq";

type Reply = oneshot::Sender<Result<Vec<StoredEvent>, StoreError>>;

pub struct PgStore {
    read: PgPool,
    cache: Option<Arc<Cache>>,
    jobs: mpsc::Sender<(PushRequest, Reply)>,
    /// Tickets ordering requests' arrivals and fence queries' starts.
    tickets: AtomicU64,
    fence: Mutex<Fence>,
    /// This process, in `changes.node`.
    node: Arc<str>,
}

/// What the cache has caught up with.
struct Fence {
    /// The ticket taken when the last successful fence query started.
    started: u64,
    /// The last commit number applied.
    seq: i64,
    /// The ticket of the last failed fence query, with its error.
    failed: Option<(u64, StoreError)>,
    /// The fence's own connection, opened on first use and dropped on an
    /// error: a pooled one costs a round trip more per query (sqlx pings
    /// each connection returned to its pool).
    conn: Option<PgConnection>,
}

/// The `changes` rows after commit `seq`.
async fn changes_since(
    conn: &mut Option<PgConnection>,
    pool: &PgPool,
    seq: i64,
) -> Result<Vec<(i64, String, String)>, sqlx::Error> {
    let mut c = match conn.take() {
        Some(c) => c,
        None => tokio::time::timeout(
            pool.options().get_acquire_timeout(),
            PgConnection::connect_with(&pool.connect_options()),
        )
        .await
        .map_err(|_| sqlx::Error::PoolTimedOut)??,
    };
    let rows = sqlx::query_as(SELECT_CHANGES).bind(seq).fetch_all(&mut c).await?;
    *conn = Some(c);
    Ok(rows)
}

impl PgStore {
    pub async fn open(url: &str, opts: &StoreOptions) -> Result<Self, crate::OpenError> {
        // No ping before each use (sqlx's default): a round trip more per
        // query. A connection the server dropped fails its next query,
        // which is answered `Unavailable`.
        let read = PgPoolOptions::new()
            .test_before_acquire(false)
            .max_connections(opts.max_connections.max(2))
            .acquire_timeout(opts.acquire_timeout)
            .connect(url)
            .await?;
        // sqlx holds an advisory lock while migrating, so nodes starting
        // together apply each migration once.
        sqlx::migrate!("../../migrations/postgres").run(&read).await?;
        // Before anything is cached: every later commit is a change to see.
        let (seq,): (i64,) = sqlx::query_as(SELECT_HEAD).fetch_one(&read).await?;
        let mut id = [0u8; 8];
        twofold_app::random::fill(&mut id);
        let node: Arc<str> = id.iter().map(|b| format!("{b:02x}")).collect::<String>().into();
        let cache = Arc::new(Cache::default());
        let (jobs, queue) = crate::push::queue();
        tokio::spawn(writer(read.clone(), queue, cache.clone(), node.clone()));
        Ok(Self {
            read,
            cache: Some(cache),
            jobs,
            tickets: AtomicU64::new(1),
            fence: Mutex::new(Fence {
                started: 0,
                seq,
                failed: None,
                conn: None,
            }),
            node,
        })
    }

    /// Before the first cached read of a request: the cache has caught up
    /// with every commit acknowledged before the request began.
    async fn fresh(&self) -> Result<(), StoreError> {
        twofold_app::freshness::once_per_request(|| self.fence()).await
    }

    /// Waits for a fence query that started after this call, running it
    /// unless another caller does.
    async fn fence(&self) -> Result<(), StoreError> {
        let arrived = self.tickets.fetch_add(1, Ordering::SeqCst);
        let mut fence = self.fence.lock().await;
        if fence.started > arrived {
            return Ok(());
        }
        // Waiters do not queue one timeout each behind a database outage.
        if let Some((started, e)) = &fence.failed
            && *started > arrived
        {
            return Err(e.clone());
        }
        let started = self.tickets.fetch_add(1, Ordering::SeqCst);
        let seq = fence.seq;
        let rows = match changes_since(&mut fence.conn, &self.read, seq).await {
            Ok(rows) => rows,
            Err(e) => {
                let e = shared::db_error(e);
                fence.failed = Some((started, e.clone()));
                return Err(e);
            }
        };
        if let Some(cache) = &self.cache {
            catch_up(cache, &self.node, fence.seq, &rows);
        }
        if let Some((last, _, _)) = rows.last() {
            fence.seq = *last;
        }
        fence.started = started;
        Ok(())
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

    fn reads(&self) -> &PgPool {
        &self.read
    }

    fn meta_writer(&self) -> &PgPool {
        &self.read
    }

    async fn close_pools(&self) {
        self.read.close().await;
    }
}

shared::impl_event_store!(PgStore, Postgres);

/// Forgets what other nodes' commits `rows` (after commit number `seq`)
/// changed; everything when some rows are gone (pruned) or unreadable.
fn catch_up(cache: &Cache, node: &str, seq: i64, rows: &[(i64, String, String)]) {
    let gapless = rows.iter().zip(seq + 1..).all(|((n, _, _), expected)| *n == expected);
    if !gapless {
        cache.clear();
        return;
    }
    for (_, by, keys) in rows {
        if by.as_str() == node {
            continue; // applied when it committed
        }
        match Changed::from_json(keys) {
            Ok(changed) => cache.forget(&changed),
            Err(_) => {
                cache.clear();
                return;
            }
        }
    }
}

async fn writer(pool: PgPool, mut queue: mpsc::Receiver<(PushRequest, Reply)>, cache: Arc<Cache>, node: Arc<str>) {
    while let Some(jobs) = crate::push::next_batch(&mut queue).await {
        let batch: Vec<&PushRequest> = jobs.iter().map(|(req, _)| req).collect();
        let started = std::time::Instant::now();
        let outcome = write_batch(&pool, &batch, &node).await;
        twofold_app::metrics::commit(batch.len(), started.elapsed());
        match outcome {
            Ok(results) => {
                for ((req, reply), result) in jobs.into_iter().zip(results) {
                    match &result {
                        Ok(applied) => cache.committed(&req, applied),
                        // The cached history it was decided on is behind:
                        // the retry reads the database.
                        Err(StoreError::Conflict) => {
                            let mut stale = Changed::default();
                            stale.add(&req, &shared::Applied::default());
                            cache.forget(&stale);
                        }
                        Err(_) => {}
                    }
                    let _ = reply.send(result.map(|applied| applied.stored));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "a write batch could not commit and was rolled back");
                // It may have committed all the same.
                cache.clear();
                for (_, reply) in jobs {
                    let _ = reply.send(Err(e.clone()));
                }
            }
        }
    }
}

/// Applies the batch (whole, buffered; or, when a push in it fails, each
/// push in its own savepoint) and commits it. An error outside a push rolls
/// the whole transaction back (sqlx does when the transaction is dropped).
async fn write_batch(
    pool: &PgPool,
    batch: &[&PushRequest],
    node: &str,
) -> Result<Vec<Result<shared::Applied, StoreError>>, StoreError> {
    let err = shared::db_error;
    let mut tx: Transaction<'static, Postgres> = pool.begin().await.map_err(err)?;
    lock_instances(&mut tx, batch).await?;
    let results = match crate::pg_batch::apply_whole(&mut tx, batch).await? {
        Some(applied) => applied.into_iter().map(Ok).collect(),
        None => {
            // A push failed, which aborted the transaction: again, push by push.
            tx.rollback().await.map_err(err)?;
            tx = pool.begin().await.map_err(err)?;
            lock_instances(&mut tx, batch).await?;
            apply_each(&mut tx, batch).await?
        }
    };
    let mut changed = Changed::default();
    for (req, result) in batch.iter().zip(&results) {
        if let Ok(applied) = result {
            changed.add(req, applied);
        }
    }
    // Last: the commit number's row lock orders commits of all nodes.
    if !changed.is_empty() {
        let (seq,): (i64,) = sqlx::query_as(RECORD_CHANGES)
            .bind(node)
            .bind(changed.to_json())
            .fetch_one(&mut *tx)
            .await
            .map_err(err)?;
        if seq % PRUNE_EVERY == 0 {
            sqlx::query(PRUNE_CHANGES)
                .bind(seq - CHANGES_KEPT)
                .execute(&mut *tx)
                .await
                .map_err(err)?;
        }
    }
    tx.commit().await.map_err(err)?;
    Ok(results)
}

/// The instances' append locks, always in the same order, so two nodes'
/// batches cannot deadlock.
async fn lock_instances(tx: &mut PgConnection, batch: &[&PushRequest]) -> Result<(), StoreError> {
    let mut instances: Vec<&str> = batch.iter().map(|req| req.instance_id.as_str()).collect();
    instances.sort_unstable();
    instances.dedup();
    for instance_id in instances {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('twofold-append:' || $1))")
            .bind(instance_id)
            .execute(&mut *tx)
            .await
            .map_err(shared::db_error)?;
    }
    Ok(())
}

/// Each push in its own savepoint, so one push's failure leaves the others.
async fn apply_each(
    tx: &mut PgConnection,
    batch: &[&PushRequest],
) -> Result<Vec<Result<shared::Applied, StoreError>>, StoreError> {
    let err = shared::db_error;
    let mut results = Vec::with_capacity(batch.len());
    for req in batch {
        sqlx::query("SAVEPOINT push").execute(&mut *tx).await.map_err(err)?;
        let result = crate::push::apply_push(&mut *tx, req).await;
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
    Ok(results)
}
