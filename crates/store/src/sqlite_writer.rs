//! SQLite's one writer: a thread of its own holding a synchronous
//! connection (rusqlite on the same SQLite library sqlx links). Through
//! sqlx, every statement of a batch was a round trip to sqlx's connection
//! thread (a channel send, a futex wait, a wake-up): about six per token,
//! and most of the writer's CPU went to the scheduler (docs/benchmarks.md,
//! issue 13). Here a batch runs start to commit without leaving the thread.
//!
//! Group commit: the writer takes every push waiting in its queue (up to
//! [`crate::push::MAX_BATCH`]) and applies them in one transaction, then commits once,
//! so one fsync covers many writes and no push is acknowledged before that
//! commit. A batch is applied whole first; when a push in it fails (a lost
//! race, a taken name) the transaction is rolled back and applied again
//! push by push, each in a savepoint, so the others still land.
//!
//! A batch that cannot commit (disk full, I/O error) is rolled back whole,
//! its connection dropped (SQLite may or may not have rolled back on its
//! own, so its state is not trusted) and the cache emptied; the next batch
//! opens a fresh connection. Until a commit succeeds again `writable` is
//! false, and a [`Job::Probe`] tests with a small write.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, params};
use tokio::sync::{mpsc, oneshot};
use twofold_app::StoreError;
use twofold_app::ports::{PushRequest, UniqueClaim};
use twofold_domain::readmodel::DocKey;
use twofold_domain::snapshot::Snapshot;
use twofold_domain::{AggregateRef, StoredEvent};

use crate::cache::Cache;
use crate::push::{EventRow, PushTx, apply_push, next_batch};
use crate::shared::{self, Applied};

/// The probe write: 64 KiB of new random bytes (SQLite skips rewriting
/// unchanged pages), more than a typical push needs, so a probe commits
/// only when pushes can too.
const PROBE: &str = "INSERT INTO server_meta (name, value) VALUES ('writer_probe', randomblob(65536)) \
     ON CONFLICT (name) DO UPDATE SET value = excluded.value";

pub(crate) enum Job {
    Push {
        req: PushRequest,
        reply: oneshot::Sender<Result<Vec<StoredEvent>, StoreError>>,
    },
    /// A write of its own ([`PROBE`]): whether the writer can commit again.
    Probe {
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
    /// Closes the connection and stops, answering once closed: the last
    /// connection to close checkpoints the WAL into the database file.
    Close { reply: oneshot::Sender<()> },
}

/// A user document's org and creation date (migration 0009), from the
/// body `$body` of a document of collection `$collection` (SQL operands).
macro_rules! user_columns {
    ($collection:literal, $body:literal) => {
        concat!(
            "CASE WHEN ",
            $collection,
            " = 'user' THEN json_extract(",
            $body,
            ", '$.org_id') END, ",
            "CASE WHEN ",
            $collection,
            " = 'user' THEN json_extract(",
            $body,
            ", '$.details.creation_date') END"
        )
    };
}
pub(crate) use user_columns;

/// The document's new body, if it exists with the lookup `?4` and the
/// user columns the body gives.
const UPDATE_BODY: &str = concat!(
    "UPDATE docs SET body = ?5 WHERE instance_id = ?1 AND collection = ?2 AND id = ?3 AND lookup IS ?4 \
     AND (user_org, user_created) IS (",
    user_columns!("?2", "?5"),
    ")"
);
const UPSERT_DOC: &str = concat!(
    "INSERT INTO docs (instance_id, collection, id, lookup, body, user_org, user_created) \
     VALUES (?1, ?2, ?3, ?4, ?5, ",
    user_columns!("?2", "?5"),
    ") ON CONFLICT (instance_id, collection, id) DO UPDATE SET lookup = excluded.lookup, \
     body = excluded.body, user_org = excluded.user_org, user_created = excluded.user_created"
);

/// The database file and how to open it.
#[derive(Clone)]
pub(crate) struct Target {
    pub path: PathBuf,
    pub busy_timeout: Duration,
}

impl Target {
    fn open(&self) -> Result<Connection, StoreError> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sqlite_error)?;
        conn.busy_timeout(self.busy_timeout).map_err(sqlite_error)?;
        // The same durability as the sqlx connections: acknowledged means on disk.
        conn.pragma_update(None, "synchronous", "FULL").map_err(sqlite_error)?;
        conn.set_prepared_statement_cache_capacity(32);
        Ok(conn)
    }
}

/// Opens the connection (so a file that cannot be written fails the start)
/// and runs the writer on a thread of its own until every sender is gone.
pub(crate) fn spawn(
    target: Target,
    queue: mpsc::Receiver<Job>,
    cache: Arc<Cache>,
    writable: Arc<AtomicBool>,
) -> std::io::Result<()> {
    let conn = target.open().map_err(std::io::Error::other)?;
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    let writer = Writer {
        target,
        conn: Some(conn),
        cache,
        writable,
    };
    std::thread::Builder::new()
        .name("sqlite-writer".into())
        .spawn(move || runtime.block_on(writer.run(queue)))?;
    Ok(())
}

struct Writer {
    target: Target,
    /// None after a failed batch, until the next batch opens a fresh one.
    conn: Option<Connection>,
    cache: Arc<Cache>,
    writable: Arc<AtomicBool>,
}

impl Writer {
    async fn run(mut self, mut queue: mpsc::Receiver<Job>) {
        while let Some(jobs) = next_batch(&mut queue).await {
            let mut pushes = Vec::new();
            let mut probes = Vec::new();
            let mut closes = Vec::new();
            for job in jobs {
                match job {
                    Job::Push { req, reply } => pushes.push((req, reply)),
                    Job::Probe { reply } => probes.push(reply),
                    Job::Close { reply } => closes.push(reply),
                }
            }
            let reqs: Vec<&PushRequest> = pushes.iter().map(|(req, _)| req).collect();
            let started = std::time::Instant::now();
            let outcome = self.write_batch(&reqs, !probes.is_empty()).await;
            if !reqs.is_empty() {
                twofold_app::metrics::commit(reqs.len(), started.elapsed());
            }
            let unavailable = match &outcome {
                Ok(results) => results.iter().find_map(|r| match r {
                    Err(e @ StoreError::Unavailable(_)) => Some(e),
                    _ => None,
                }),
                Err(e) => Some(e),
            };
            if let (Some(e), Ok(_)) = (unavailable, &outcome) {
                tracing::error!(error = %e, "a write could not be applied and was rolled back");
            }
            self.writable.store(unavailable.is_none(), Ordering::Release);
            match outcome {
                Ok(results) => {
                    for ((req, reply), result) in pushes.into_iter().zip(results) {
                        if let Ok(applied) = &result {
                            self.cache.committed(&req, applied);
                        }
                        let _ = reply.send(result.map(|applied| applied.stored));
                    }
                    for reply in probes {
                        let _ = reply.send(Ok(()));
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "a write batch could not commit and was rolled back");
                    // A commit that reported failure may still have reached
                    // the file; nothing cached may disagree with what is stored.
                    self.cache.clear();
                    for (_, reply) in pushes {
                        let _ = reply.send(Err(e.clone()));
                    }
                    for reply in probes {
                        let _ = reply.send(Err(e.clone()));
                    }
                }
            }
            if !closes.is_empty() {
                self.conn = None;
                for reply in closes {
                    let _ = reply.send(());
                }
                return;
            }
        }
    }

    /// One transaction for the batch (and the probe write when asked). On
    /// an error outside a push the transaction is rolled back and the
    /// connection dropped.
    async fn write_batch(
        &mut self,
        batch: &[&PushRequest],
        probe: bool,
    ) -> Result<Vec<Result<Applied, StoreError>>, StoreError> {
        let conn = match self.conn.take() {
            Some(conn) => conn,
            None => self.target.open()?,
        };
        let result = apply_batch(&conn, batch, probe).await;
        match result {
            Ok(_) => self.conn = Some(conn),
            // Best effort: fails harmlessly when SQLite rolled back by itself.
            Err(_) => drop(conn.execute_batch("ROLLBACK")),
        }
        result
    }
}

/// The transaction itself. Nearly every batch applies whole, so first
/// without a savepoint per push; a batch in which a push fails is rolled
/// back and applied again push by push.
async fn apply_batch(
    conn: &Connection,
    batch: &[&PushRequest],
    probe: bool,
) -> Result<Vec<Result<Applied, StoreError>>, StoreError> {
    let run = |sql: &str| conn.execute_batch(sql).map_err(sqlite_error);
    let mut tx = Tx(conn);
    run("BEGIN IMMEDIATE")?;
    let mut results = Vec::with_capacity(batch.len());
    for req in batch {
        match apply_push(&mut tx, req).await {
            Ok(applied) => results.push(Ok(applied)),
            Err(_) => break,
        }
    }
    if results.len() == batch.len() {
        if probe {
            run(PROBE)?;
        }
        run("COMMIT")?;
        return Ok(results);
    }
    run("ROLLBACK")?;
    run("BEGIN IMMEDIATE")?;
    results.clear();
    for req in batch {
        run("SAVEPOINT push")?;
        let result = apply_push(&mut tx, req).await;
        if result.is_err() {
            run("ROLLBACK TO push")?;
        }
        run("RELEASE push")?;
        results.push(result);
    }
    if probe {
        run(PROBE)?;
    }
    run("COMMIT")?;
    Ok(results)
}

/// [`PushTx`] on the writer's connection: each statement prepared once.
struct Tx<'c>(&'c Connection);

impl Tx<'_> {
    fn execute(&self, sql: &str, params: impl rusqlite::Params) -> Result<usize, rusqlite::Error> {
        self.0.prepare_cached(sql)?.execute(params)
    }
}

impl PushTx for Tx<'_> {
    async fn last_sequence(&mut self, instance_id: &str, aggregate: &AggregateRef) -> Result<i64, StoreError> {
        self.0
            .prepare_cached(shared::LAST_SEQUENCE)
            .and_then(|mut s| {
                s.query_row(
                    params![instance_id, aggregate.kind.as_str(), aggregate.id.as_str()],
                    |r| r.get(0),
                )
            })
            .map_err(sqlite_error)
    }

    async fn delete_claim(&mut self, claim: &UniqueClaim) -> Result<(), StoreError> {
        self.execute(shared::DELETE_CLAIM, params![claim.scope, claim.kind, claim.value])
            .map(drop)
            .map_err(sqlite_error)
    }

    async fn insert_claim(&mut self, claim: &UniqueClaim) -> Result<bool, StoreError> {
        match self.execute(shared::INSERT_CLAIM, params![claim.scope, claim.kind, claim.value]) {
            Err(e) if is_unique_violation(&e) => Ok(false),
            other => other.map(|_| true).map_err(sqlite_error),
        }
    }

    async fn upsert_snapshot(
        &mut self,
        instance_id: &str,
        aggregate: &AggregateRef,
        s: &Snapshot,
    ) -> Result<(), StoreError> {
        self.execute(
            shared::UPSERT_SNAPSHOT,
            params![
                instance_id,
                aggregate.kind.as_str(),
                aggregate.id.as_str(),
                s.version,
                s.sequence as i64,
                s.created_at.0,
                s.state,
            ],
        )
        .map(drop)
        .map_err(sqlite_error)
    }

    async fn insert_event(&mut self, row: EventRow<'_>) -> Result<Option<i64>, StoreError> {
        let inserted = self.0.prepare_cached(shared::INSERT_EVENT).and_then(|mut s| {
            s.query_row(
                params![
                    row.instance_id,
                    row.aggregate.kind.as_str(),
                    row.aggregate.id.as_str(),
                    row.sequence,
                    row.event_type,
                    row.payload,
                    row.creator,
                    row.aggregate.owner.as_str(),
                    row.created_at,
                ],
                |r| r.get(0),
            )
        });
        match inserted {
            Err(e) if is_unique_violation(&e) => Ok(None),
            other => other.map(Some).map_err(sqlite_error),
        }
    }

    async fn select_doc(
        &mut self,
        instance_id: &str,
        collection: &str,
        id: &str,
    ) -> Result<Option<String>, StoreError> {
        let found = self
            .0
            .prepare_cached(shared::SELECT_DOC)
            .and_then(|mut s| s.query_row(params![instance_id, collection, id], |r| r.get(0)));
        match found {
            Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
            other => other.map(Some).map_err(sqlite_error),
        }
    }

    /// The body alone when the lookup and the user columns stay as they
    /// were (most rewrites: a sign-in step), so that no index entry is
    /// rewritten; else the whole row (migration 0009). A `new` document
    /// (a session) is inserted without that first try.
    async fn upsert_doc(
        &mut self,
        instance_id: &str,
        key: &DocKey,
        lookup: Option<&str>,
        body: &str,
        new: bool,
    ) -> Result<(), StoreError> {
        let row = params![instance_id, key.collection.as_str(), key.id, lookup, body];
        let changed = match new {
            true => 0,
            false => self.execute(UPDATE_BODY, row).map_err(sqlite_error)?,
        };
        if changed == 0 {
            self.execute(UPSERT_DOC, row).map_err(sqlite_error)?;
        }
        Ok(())
    }

    async fn delete_doc(&mut self, instance_id: &str, key: &DocKey) -> Result<(), StoreError> {
        self.execute(
            shared::DELETE_DOC,
            params![instance_id, key.collection.as_str(), key.id],
        )
        .map(drop)
        .map_err(sqlite_error)
    }
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}

/// As `shared::db_error` does for sqlx: errors that say the database cannot
/// take writes right now (busy, locked, I/O, full, cannot open) are
/// `Unavailable`, worth a retry once the cause is gone.
pub(crate) fn sqlite_error(e: rusqlite::Error) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(
                f.code,
                ErrorCode::DatabaseBusy
                    | ErrorCode::DatabaseLocked
                    | ErrorCode::SystemIoFailure
                    | ErrorCode::DiskFull
                    | ErrorCode::CannotOpen
            ) =>
        {
            StoreError::Unavailable(e.to_string())
        }
        _ => StoreError::Other(e.to_string()),
    }
}
