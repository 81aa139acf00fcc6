//! [`PointReads`] on SQLite: synchronous read-only connections (rusqlite,
//! on the same SQLite library sqlx links), used inline on the calling
//! thread.
//!
//! Through sqlx, each statement was a round trip to the thread of one of
//! its connections (a channel send, a futex wait, a wake-up, and back), and
//! a command that misses the cache makes several (a user's snapshot and
//! events, the session's events, documents): with 100,000 users, 38 % of
//! the server's CPU was the kernel's scheduler (issue 17). A point read of
//! a WAL database whose pages are in memory takes microseconds, about what
//! one thread hop costs, so it runs right where it is asked for: no
//! `spawn_blocking` or `block_in_place`, which would bring the hop back. A
//! read is blocked only by what blocks every reader of the file (a busy
//! timeout while another process recovers it); the longer reads (pages
//! of users, scans, counts) stay on sqlx's pool.
//!
//! Connections are checked out of a small stack, opened when none is free,
//! and at most `keep` of them are kept (as many are needed as threads read
//! at once). Each keeps its prepared statements.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use twofold_app::StoreError;
use twofold_domain::snapshot::Snapshot;
use twofold_domain::{AggregateRef, StoredEvent};

use crate::shared::{self, PointReads};
use crate::sqlite_writer::{Target, sqlite_error};

pub(crate) struct Readers {
    target: Target,
    keep: usize,
    pool: Mutex<Pool>,
}

#[derive(Default)]
struct Pool {
    idle: Vec<Connection>,
    /// Connections checked out.
    busy: usize,
    closed: bool,
}

impl Readers {
    pub(crate) fn new(target: Target, keep: usize) -> Self {
        Self {
            target,
            keep: keep.max(1),
            pool: Mutex::default(),
        }
    }

    /// A poisoned lock: a panic while it was held left the stack whole.
    fn pool(&self) -> MutexGuard<'_, Pool> {
        self.pool.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `read` on a connection of the pool.
    fn with<T>(&self, read: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        let idle = {
            let mut pool = self.pool();
            if pool.closed {
                return Err(StoreError::Unavailable("the database is closed".into()));
            }
            pool.busy += 1;
            pool.idle.pop()
        };
        let result = match idle {
            Some(conn) => Ok(conn),
            None => self.open(),
        }
        .map(|conn| {
            let result = read(&conn).map_err(sqlite_error);
            (conn, result)
        });
        let mut pool = self.pool();
        pool.busy -= 1;
        let (conn, result) = result?;
        // A connection whose read failed is not trusted with the next one.
        if result.is_ok() && !pool.closed && pool.idle.len() < self.keep {
            pool.idle.push(conn);
        } else {
            drop(pool);
            drop(conn);
        }
        result
    }

    fn open(&self) -> Result<Connection, StoreError> {
        let conn = Connection::open_with_flags(
            &self.target.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sqlite_error)?;
        conn.busy_timeout(self.target.busy_timeout).map_err(sqlite_error)?;
        conn.set_prepared_statement_cache_capacity(16);
        Ok(conn)
    }

    /// Closes every connection, waiting for those in use: a read-only
    /// connection left open would keep the writer's last connection from
    /// checkpointing the WAL into the database file when it closes.
    pub(crate) async fn close(&self) {
        loop {
            let idle = {
                let mut pool = self.pool();
                pool.closed = true;
                if pool.busy == 0 && pool.idle.is_empty() {
                    return;
                }
                std::mem::take(&mut pool.idle)
            };
            drop(idle);
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

impl PointReads for Readers {
    async fn doc(&self, instance_id: &str, collection: &str, id: &str) -> Result<Option<String>, StoreError> {
        self.with(|c| {
            c.prepare_cached(shared::SELECT_DOC)?
                .query_row(params![instance_id, collection, id], |r| r.get(0))
                .optional()
        })
    }

    async fn doc_any_instance(&self, collection: &str, id: &str) -> Result<Option<String>, StoreError> {
        self.with(|c| {
            c.prepare_cached(shared::SELECT_DOC_ANY_INSTANCE)?
                .query_row(params![collection, id], |r| r.get(0))
                .optional()
        })
    }

    async fn docs_by_lookup(
        &self,
        instance_id: &str,
        collection: &str,
        lookup: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        self.with(|c| {
            c.prepare_cached(shared::SELECT_DOCS_BY_LOOKUP)?
                .query_map(params![instance_id, collection, lookup], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect()
        })
    }

    async fn docs_by_prefix(
        &self,
        instance_id: &str,
        collection: &str,
        prefix: &str,
    ) -> Result<Vec<String>, StoreError> {
        self.with(|c| {
            c.prepare_cached(shared::SELECT_DOCS_BY_PREFIX)?
                .query_map(params![instance_id, collection, prefix], |r| r.get(0))?
                .collect()
        })
    }

    async fn snapshot(
        &self,
        instance_id: &str,
        aggregate: &AggregateRef,
        version: i64,
    ) -> Result<Option<Arc<Snapshot>>, StoreError> {
        let row = self.with(|c| {
            c.prepare_cached(shared::SELECT_SNAPSHOT)?
                .query_row(
                    params![instance_id, aggregate.kind.as_str(), aggregate.id.as_str(), version],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
        })?;
        Ok(row.map(|r| shared::snapshot_of(version, r)))
    }

    async fn events_after(
        &self,
        instance_id: &str,
        aggregate: &AggregateRef,
        after: u64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = self.with(|c| {
            c.prepare_cached(shared::SELECT_EVENTS)?
                .query_map(
                    params![
                        instance_id,
                        aggregate.kind.as_str(),
                        aggregate.id.as_str(),
                        after as i64
                    ],
                    |r| {
                        Ok((
                            (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?),
                            (r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?),
                        ))
                    },
                )?
                .collect::<rusqlite::Result<Vec<_>>>()
        })?;
        rows.into_iter()
            .map(|(key, body)| shared::event_of(key, body))
            .collect()
    }

    async fn key_check(&self) -> Result<Option<String>, StoreError> {
        self.with(|c| {
            c.prepare_cached(shared::SELECT_META)?
                .query_row(params![shared::KEY_CHECK], |r| r.get(0))
                .optional()
        })
    }
}
