//! The SQL both backends share, and the `EventStore` implementation written
//! once for each concrete sqlx database type (sqlx's generic bounds are
//! unwieldy, a macro keeps one copy of the logic).

use std::sync::Arc;

use twofold_app::StoreError;
use twofold_domain::snapshot::Snapshot;
use twofold_domain::{AggregateRef, AggregateType, EventPayload, StoredEvent, Timestamp};

pub(crate) const SELECT_EVENTS: &str = "SELECT instance_id, aggregate_type, aggregate_id, sequence, position, \
     event_type, payload, creator, owner, created_at FROM events \
     WHERE instance_id = $1 AND aggregate_type = $2 AND aggregate_id = $3 AND sequence > $4 ORDER BY sequence";
pub(crate) const SELECT_SNAPSHOT: &str = "SELECT sequence, created_at, state FROM snapshots \
     WHERE instance_id = $1 AND aggregate_type = $2 AND aggregate_id = $3 AND version = $4";
/// Replaces the aggregate's snapshot by a later one, or by one of another
/// version (the code that reads it changed).
pub(crate) const UPSERT_SNAPSHOT: &str = "INSERT INTO snapshots (instance_id, aggregate_type, aggregate_id, \
     version, sequence, created_at, state) VALUES ($1, $2, $3, $4, $5, $6, $7) \
     ON CONFLICT (instance_id, aggregate_type, aggregate_id) DO UPDATE SET version = excluded.version, \
     sequence = excluded.sequence, created_at = excluded.created_at, state = excluded.state \
     WHERE excluded.sequence > snapshots.sequence OR excluded.version <> snapshots.version";
pub(crate) const LAST_SEQUENCE: &str = "SELECT COALESCE(MAX(sequence), 0) FROM events \
     WHERE instance_id = $1 AND aggregate_type = $2 AND aggregate_id = $3";
pub(crate) const INSERT_EVENT: &str = "INSERT INTO events (instance_id, aggregate_type, aggregate_id, sequence, \
     event_type, payload, creator, owner, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING position";
pub(crate) const INSERT_CLAIM: &str = "INSERT INTO unique_constraints (scope, kind, value) VALUES ($1, $2, $3)";
pub(crate) const SELECT_DOC: &str = "SELECT body FROM docs WHERE instance_id = $1 AND collection = $2 AND id = $3";
pub(crate) const SELECT_DOC_ANY_INSTANCE: &str = "SELECT body FROM docs WHERE collection = $1 AND id = $2 LIMIT 1";
/// Ordered by an expression, not by `id`: with `ORDER BY id` SQLite (no
/// statistics) walks the primary key to skip the sort and filters `lookup`
/// row by row, i.e. reads every user to find one login name
/// (docs/benchmarks.md, issue 17); this way it uses `docs_by_lookup`.
pub(crate) const SELECT_DOCS_BY_LOOKUP: &str =
    "SELECT id, body FROM docs WHERE instance_id = $1 AND collection = $2 AND lookup = $3 ORDER BY id || ''";
pub(crate) const COUNT_BY_LOOKUP: &str = "SELECT lookup, COUNT(*) FROM docs WHERE instance_id = $1 AND collection = $2 AND lookup IS NOT NULL GROUP BY lookup";
pub(crate) const SELECT_FIRST_DOCS_BY_LOOKUP: &str =
    "SELECT body FROM docs WHERE instance_id = $1 AND collection = $2 AND lookup = $3 ORDER BY id LIMIT $4";
pub(crate) const SELECT_DOCS_BY_PREFIX: &str =
    "SELECT body FROM docs WHERE instance_id = $1 AND collection = $2 AND substr(id, 1, length($3)) = $3 ORDER BY id";
pub(crate) const DELETE_CLAIM: &str = "DELETE FROM unique_constraints WHERE scope = $1 AND kind = $2 AND value = $3";
pub(crate) const DELETE_DOC: &str = "DELETE FROM docs WHERE instance_id = $1 AND collection = $2 AND id = $3";
pub(crate) const SELECT_META: &str = "SELECT value FROM server_meta WHERE name = $1";
pub(crate) const INSERT_META: &str =
    "INSERT INTO server_meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING";
/// `server_meta` name of the master key check.
pub(crate) const KEY_CHECK: &str = "key_check";

/// What one push changed (for the cache).
#[derive(Default)]
pub(crate) struct Applied {
    pub stored: Vec<StoredEvent>,
    /// The documents written.
    pub docs: Vec<Written>,
}

/// A document a push wrote.
pub(crate) struct Written {
    pub collection: String,
    pub id: String,
    /// Its secondary key now.
    pub lookup: Option<String>,
    /// Its new body (shared with the cache); None when deleted.
    pub body: Option<Arc<serde_json::Value>>,
}

pub(crate) fn db_error(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e.to_string()),
        sqlx::Error::Database(ref d) if is_unavailable(d.as_ref()) => StoreError::Unavailable(e.to_string()),
        other => StoreError::Other(other.to_string()),
    }
}

/// Errors that say the database cannot take writes (or answer) right now,
/// not that the request was wrong: worth a retry once the cause is gone.
fn is_unavailable(d: &dyn sqlx::error::DatabaseError) -> bool {
    let Some(code) = d.code() else { return false };
    if d.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        // Primary result codes: BUSY, LOCKED, IOERR, FULL, CANTOPEN.
        return code
            .parse::<i32>()
            .is_ok_and(|c| matches!(c & 0xff, 5 | 6 | 10 | 13 | 14));
    }
    // PostgreSQL: connection exceptions, insufficient resources (disk full,
    // out of memory, too many connections), shutting down.
    code.starts_with("08") || code.starts_with("53") || code == "57P01" || code == "57P02" || code == "57P03"
}

/// A stored document body, parsed and shared.
pub(crate) fn parse_doc(body: &str) -> Result<twofold_app::ports::Doc, StoreError> {
    serde_json::from_str(body)
        .map(std::sync::Arc::new)
        .map_err(|e| corrupt("document", e))
}

pub(crate) fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Other(format!("unreadable {what}: {e}"))
}

/// The point reads of a command (a document, a user's snapshot and events,
/// a lookup), the ones nearly every request makes when the cache misses:
/// each backend runs them its own way (`pg_reads.rs`, `sqlite_reads.rs`)
/// with the SQL above. Documents come back as their stored bodies.
pub(crate) trait PointReads {
    async fn doc(&self, instance_id: &str, collection: &str, id: &str) -> Result<Option<String>, StoreError>;
    async fn doc_any_instance(&self, collection: &str, id: &str) -> Result<Option<String>, StoreError>;
    /// (id, body) of each document, ordered by id.
    async fn docs_by_lookup(
        &self,
        instance_id: &str,
        collection: &str,
        lookup: &str,
    ) -> Result<Vec<(String, String)>, StoreError>;
    /// The bodies of the documents whose id starts with `prefix`, by id.
    async fn docs_by_prefix(
        &self,
        instance_id: &str,
        collection: &str,
        prefix: &str,
    ) -> Result<Vec<String>, StoreError>;
    async fn snapshot(
        &self,
        instance_id: &str,
        aggregate: &AggregateRef,
        version: i64,
    ) -> Result<Option<Arc<Snapshot>>, StoreError>;
    /// The events of one aggregate after sequence `after`, oldest first.
    async fn events_after(
        &self,
        instance_id: &str,
        aggregate: &AggregateRef,
        after: u64,
    ) -> Result<Vec<StoredEvent>, StoreError>;
    async fn key_check(&self) -> Result<Option<String>, StoreError>;
}

/// A `snapshots` row (`SELECT_SNAPSHOT`) of the given version.
pub(crate) fn snapshot_of(version: i64, (sequence, created_at, state): (i64, i64, String)) -> Arc<Snapshot> {
    Arc::new(Snapshot {
        version,
        sequence: sequence.max(0) as u64,
        created_at: Timestamp(created_at),
        state,
    })
}

/// The first five columns of an `events` row (`SELECT_EVENTS`): instance,
/// aggregate type and id, sequence, position.
pub(crate) type EventKey = (String, String, String, i64, i64);
/// Its last five: event type, payload, creator, owner, created at.
pub(crate) type EventBody = (String, Option<String>, String, String, i64);

/// An `events` row as the event it stores.
pub(crate) fn event_of(
    (instance_id, agg_type, aggregate_id, sequence, position): EventKey,
    (ty, payload, creator, owner, created_at): EventBody,
) -> Result<StoredEvent, StoreError> {
    let payload = payload
        .map(|p| serde_json::from_str(&p))
        .transpose()
        .map_err(|e| corrupt("event payload", e))?;
    Ok(StoredEvent {
        instance_id,
        aggregate: AggregateRef {
            kind: AggregateType::parse(&agg_type).ok_or_else(|| corrupt("aggregate type", &agg_type))?,
            id: aggregate_id,
            owner,
        },
        sequence: sequence as u64,
        position,
        created_at: Timestamp(created_at),
        creator,
        payload: EventPayload::from_parts(&ty, payload).map_err(|e| corrupt(&ty, e))?,
    })
}

/// Implements `twofold_app::EventStore` for `$store`, whose `reads()` are
/// its [`PointReads`] (the trait in scope where the macro is used), whose
/// `read` field is a pool of backend `$db` for the other reads, whose
/// `cache` field is an optional [`crate::cache::Cache`] that `fresh()`
/// brings up to date with other processes' commits, whose `submit(req)`
/// runs [`crate::push::apply_push`] in a durable transaction (each backend
/// has its own way to serialise writes), whose `writer_ready()` says
/// whether writes can commit, and whose `meta_writer()` is the pool that
/// writes `server_meta`.
macro_rules! impl_event_store {
    ($store:ty, $db:ty) => {
        impl $store {
            /// The cache, if any, caught up for this request (`fresh()`).
            async fn cached(&self) -> Result<Option<&$crate::cache::Cache>, twofold_app::StoreError> {
                self.fresh().await?;
                Ok(self.cache.as_deref())
            }

            /// The key (as text) and id of the mark of bucket `bucket` (a
            /// user page's, see `user_page.rs`).
            async fn user_mark(
                &self,
                conn: &mut <$db as sqlx::Database>::Connection,
                instance_id: &str,
                order: twofold_app::ports::UserOrder,
                bucket: usize,
            ) -> Result<(String, String), twofold_app::StoreError> {
                use $crate::user_page as up;
                sqlx::query_as::<$db, (String, String)>(up::mark_at_sql(order))
                    .bind(instance_id)
                    .bind(up::int(bucket as u64))
                    .fetch_one(&mut *conn)
                    .await
                    .map_err($crate::shared::db_error)
            }

            /// The key (as text) and id of the user `skip` places into
            /// bucket `bucket` (a user page's, see `user_page.rs`).
            async fn user_after_mark(
                &self,
                conn: &mut <$db as sqlx::Database>::Connection,
                instance_id: &str,
                order: twofold_app::ports::UserOrder,
                (bucket, skip): (usize, u64),
            ) -> Result<(String, String), twofold_app::StoreError> {
                use $crate::user_page::{self as up, Key};
                let postgres = <$db as sqlx::Database>::NAME == "PostgreSQL";
                let (key, id) = self.user_mark(&mut *conn, instance_id, order, bucket).await?;
                let q =
                    sqlx::query_as::<$db, (String, String)>(sqlx::AssertSqlSafe(up::after_mark_sql(order, postgres)))
                        .bind(instance_id);
                let q = match Key::parse(order, key)? {
                    Key::Created(k) => q.bind(k),
                    Key::Name(k) => q.bind(k),
                };
                q.bind(id)
                    .bind(up::int(skip))
                    .fetch_one(&mut *conn)
                    .await
                    .map_err($crate::shared::db_error)
            }
        }
        #[async_trait::async_trait]
        impl twofold_app::EventStore for $store {
            async fn events(
                &self,
                instance_id: &twofold_domain::InstanceId,
                aggregate: &twofold_domain::AggregateRef,
            ) -> Result<std::sync::Arc<Vec<twofold_domain::StoredEvent>>, twofold_app::StoreError> {
                let key = $crate::cache::aggregate_key(instance_id.as_str(), aggregate);
                let load = async {
                    let events = self
                        .reads()
                        .events_after(instance_id.as_str(), aggregate, 0)
                        .await?;
                    Ok(std::sync::Arc::new(events))
                };
                $crate::cache::read_through(
                    self.cached().await?,
                    |c| c.events(&key),
                    |c, seen, v| c.put_events(seen, $crate::cache::owned(key), v),
                    load,
                )
                .await
            }

            async fn history(
                &self,
                instance_id: &twofold_domain::InstanceId,
                aggregate: &twofold_domain::AggregateRef,
                version: i64,
            ) -> Result<twofold_domain::snapshot::History, twofold_app::StoreError> {
                let instance_id = instance_id.as_str();
                let key = $crate::cache::aggregate_key(instance_id, aggregate);
                let load = async {
                    // Events are never changed and a snapshot is exact for
                    // the events up to its sequence, so the two reads need
                    // no common transaction.
                    let snapshot = self.reads().snapshot(instance_id, aggregate, version).await?;
                    let after = snapshot.as_ref().map_or(0, |s| s.sequence);
                    let events = self.reads().events_after(instance_id, aggregate, after).await?;
                    Ok(twofold_domain::snapshot::History {
                        snapshot,
                        events: std::sync::Arc::new(events),
                    })
                };
                $crate::cache::read_through(
                    self.cached().await?,
                    |c| c.history(&key, version),
                    |c, seen, v| c.put_history(seen, $crate::cache::owned(key), version, v),
                    load,
                )
                .await
            }

            async fn push(
                &self,
                req: twofold_app::ports::PushRequest,
            ) -> Result<Vec<twofold_domain::StoredEvent>, twofold_app::StoreError> {
                self.submit(req).await
            }

            async fn doc(
                &self,
                instance_id: &twofold_domain::InstanceId,
                collection: twofold_domain::readmodel::Collection,
                id: &str,
            ) -> Result<Option<twofold_app::ports::Doc>, twofold_app::StoreError> {
                let instance_id = instance_id.as_str();
                let collection = collection.as_str();
                let key = (instance_id, collection, id);
                let load = async {
                    let body = self.reads().doc(instance_id, collection, id).await?;
                    let doc = body.map(|b| $crate::shared::parse_doc(&b)).transpose()?;
                    Ok(doc)
                };
                $crate::cache::read_through(
                    self.cached().await?,
                    |c| c.doc(&key),
                    |c, seen, v| c.put_doc(seen, $crate::cache::owned(key), v),
                    load,
                )
                .await
            }

            async fn doc_any_instance(
                &self,
                collection: twofold_domain::readmodel::Collection,
                id: &str,
            ) -> Result<Option<twofold_app::ports::Doc>, twofold_app::StoreError> {
                let collection = collection.as_str();
                let key = (collection.to_owned(), id.to_owned());
                let load = async {
                    let body = self.reads().doc_any_instance(collection, id).await?;
                    let doc = body.map(|b| $crate::shared::parse_doc(&b)).transpose()?;
                    Ok(doc)
                };
                $crate::cache::read_through(
                    self.cached().await?,
                    |c| c.any_instance(&key),
                    |c, seen, v| c.put_any_instance(seen, key.clone(), v),
                    load,
                )
                .await
            }

            async fn docs_by_lookup(
                &self,
                instance_id: &twofold_domain::InstanceId,
                collection: twofold_domain::readmodel::Collection,
                lookup: &str,
            ) -> Result<Vec<twofold_app::ports::Doc>, twofold_app::StoreError> {
                let instance_id = instance_id.as_str();
                let collection = collection.as_str();
                let key = (instance_id, collection, lookup);
                let load = async {
                    let rows = self
                        .reads()
                        .docs_by_lookup(instance_id, collection, lookup)
                        .await?;
                    rows.into_iter()
                        .map(|(id, b)| Ok((id, $crate::shared::parse_doc(&b)?)))
                        .collect::<Result<Vec<_>, twofold_app::StoreError>>()
                };
                let found = $crate::cache::read_through(
                    self.cached().await?,
                    |c| c.lookup(&key),
                    |c, seen, v| c.put_lookup(seen, $crate::cache::owned(key), v),
                    async { load.await.map(std::sync::Arc::new) },
                )
                .await?;
                Ok(found.iter().map(|(_, doc)| doc.clone()).collect())
            }

            async fn docs_by_prefix(
                &self,
                instance_id: &twofold_domain::InstanceId,
                collection: twofold_domain::readmodel::Collection,
                prefix: &str,
            ) -> Result<Vec<twofold_app::ports::Doc>, twofold_app::StoreError> {
                let instance_id = instance_id.as_str();
                let collection = collection.as_str();
                self.reads()
                    .docs_by_prefix(instance_id, collection, prefix)
                    .await?
                    .iter()
                    .map(|b| $crate::shared::parse_doc(b))
                    .collect()
            }

            async fn count_by_lookup(
                &self,
                instance_id: &twofold_domain::InstanceId,
                collection: twofold_domain::readmodel::Collection,
            ) -> Result<Vec<(String, u64)>, twofold_app::StoreError> {
                let instance_id = instance_id.as_str();
                let collection = collection.as_str();
                let rows: Vec<(String, i64)> = sqlx::query_as::<$db, (String, i64)>($crate::shared::COUNT_BY_LOOKUP)
                    .bind(instance_id)
                    .bind(collection)
                    .fetch_all(&self.read)
                    .await
                    .map_err($crate::shared::db_error)?;
                Ok(rows.into_iter().map(|(l, n)| (l, n.max(0) as u64)).collect())
            }

            async fn first_docs_by_lookup(
                &self,
                instance_id: &twofold_domain::InstanceId,
                collection: twofold_domain::readmodel::Collection,
                lookup: &str,
                limit: usize,
            ) -> Result<Vec<twofold_app::ports::Doc>, twofold_app::StoreError> {
                let instance_id = instance_id.as_str();
                let collection = collection.as_str();
                let rows: Vec<(String,)> =
                    sqlx::query_as::<$db, (String,)>($crate::shared::SELECT_FIRST_DOCS_BY_LOOKUP)
                        .bind(instance_id)
                        .bind(collection)
                        .bind(lookup)
                        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
                        .fetch_all(&self.read)
                        .await
                        .map_err($crate::shared::db_error)?;
                rows.into_iter()
                    .map(|(b,)| $crate::shared::parse_doc(&b))
                    .collect()
            }

            async fn user_page(
                &self,
                instance_id: &twofold_domain::InstanceId,
                page: &twofold_app::ports::UserPage,
            ) -> Result<(u64, Vec<twofold_app::ports::Doc>), twofold_app::StoreError> {
                use sqlx::AssertSqlSafe as Sql;
                use twofold_app::ports::UserScope;
                use $crate::user_page::{self as up, Key, Plan};
                let err = $crate::shared::db_error;
                let postgres = <$db as sqlx::Database>::NAME == "PostgreSQL";
                let inst = instance_id.as_str();
                let (orgs, also): (&[String], Option<&str>) = match &page.scope {
                    UserScope::All => (&[], None),
                    UserScope::Orgs { orgs, also } => (orgs, also.as_deref()),
                };
                let limit = up::int(page.limit);
                let offset = up::int(page.offset);
                let mut tx = self.read.begin().await.map_err(err)?;
                if postgres {
                    // One snapshot for the count, the marks and the page.
                    sqlx::query::<$db>("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                        .execute(&mut *tx)
                        .await
                        .map_err(err)?;
                }
                let mut count = sqlx::query_as::<$db, (i64,)>(Sql(up::count_sql(&page.scope))).bind(inst);
                for o in orgs {
                    count = count.bind(o.as_str());
                }
                let (mut total,) = count.fetch_one(&mut *tx).await.map_err(err)?;
                if let Some(a) = also {
                    let org: Option<(Option<String>,)> = sqlx::query_as::<$db, (Option<String>,)>(up::USER_ORG)
                        .bind(inst)
                        .bind(a)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(err)?;
                    if org.is_some_and(|(o,)| !o.is_some_and(|o| orgs.contains(&o))) {
                        total += 1;
                    }
                }
                let total = total.max(0) as u64;
                let plan = match &page.scope {
                    UserScope::All => {
                        let at = up::positions(total, page.offset, page.limit, page.descending);
                        let mut sizes = Vec::new();
                        if at.is_some() {
                            let (text,): (Option<String>,) =
                                sqlx::query_as::<$db, (Option<String>,)>(up::bucket_sizes_sql(page.order, postgres))
                                    .bind(inst)
                                    .fetch_one(&mut *tx)
                                    .await
                                    .map_err(err)?;
                            sizes = up::bucket_sizes(text.as_deref())?;
                        }
                        up::plan(&sizes, total, at, page.descending)
                    }
                    UserScope::Orgs { .. } => Plan::Plain,
                };
                let rows: Vec<(String,)> = match plan {
                    Plan::Empty => Vec::new(),
                    Plan::Plain => {
                        let mut rows = sqlx::query_as::<$db, (String,)>(Sql(up::plain_sql(page, postgres))).bind(inst);
                        for o in orgs {
                            rows = rows.bind(o.as_str());
                        }
                        if let Some(a) = also {
                            rows = rows.bind(a);
                        }
                        rows.bind(limit)
                            .bind(offset)
                            .fetch_all(&mut *tx)
                            .await
                            .map_err(err)?
                    }
                    Plan::Up(bucket, skip) => {
                        let (key, id) = self.user_mark(&mut *tx, inst, page.order, bucket).await?;
                        let q =
                            sqlx::query_as::<$db, (String,)>(Sql(up::from_mark_sql(page.order, postgres))).bind(inst);
                        let q = match Key::parse(page.order, key)? {
                            Key::Created(k) => q.bind(k),
                            Key::Name(k) => q.bind(k),
                        };
                        q.bind(id.as_str())
                            .bind(limit)
                            .bind(up::int(skip))
                            .fetch_all(&mut *tx)
                            .await
                            .map_err(err)?
                    }
                    Plan::Down(first, last) => {
                        // The keys of the page's first and last users, then
                        // how many users of the first one's key come before
                        // it (ties go by ascending id).
                        let (top, top_id) = self.user_after_mark(&mut *tx, inst, page.order, first).await?;
                        let (bottom, _) = self.user_after_mark(&mut *tx, inst, page.order, last).await?;
                        let top = Key::parse(page.order, top)?;
                        let bottom = Key::parse(page.order, bottom)?;
                        let q = sqlx::query_as::<$db, (i64,)>(Sql(up::ties_sql(page.order, postgres))).bind(inst);
                        let q = match &top {
                            Key::Created(k) => q.bind(*k),
                            Key::Name(k) => q.bind(k.as_str()),
                        };
                        let (above,) = q.bind(top_id).fetch_one(&mut *tx).await.map_err(err)?;
                        let q =
                            sqlx::query_as::<$db, (String,)>(Sql(up::down_from_sql(page.order, postgres))).bind(inst);
                        let q = match (top, bottom) {
                            (Key::Created(t), Key::Created(b)) => q.bind(t).bind(b),
                            (Key::Name(t), Key::Name(b)) => q.bind(t).bind(b),
                            _ => {
                                return Err(twofold_app::StoreError::Other(
                                    "user page: keys of two orders".into(),
                                ));
                            }
                        };
                        q.bind(limit).bind(above).fetch_all(&mut *tx).await.map_err(err)?
                    }
                };
                tx.commit().await.map_err(err)?;
                let docs = rows
                    .into_iter()
                    .map(|(b,)| $crate::shared::parse_doc(&b))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((total, docs))
            }

            async fn ping(&self) -> Result<(), twofold_app::StoreError> {
                sqlx::query::<$db>("SELECT 1")
                    .execute(&self.read)
                    .await
                    .map_err($crate::shared::db_error)?;
                self.writer_ready().await
            }

            async fn key_check(&self) -> Result<Option<String>, twofold_app::StoreError> {
                self.reads().key_check().await
            }

            async fn record_key_check(&self, check: &str) -> Result<(), twofold_app::StoreError> {
                sqlx::query::<$db>($crate::shared::INSERT_META)
                    .bind($crate::shared::KEY_CHECK)
                    .bind(check)
                    .execute(self.meta_writer())
                    .await
                    .map_err($crate::shared::db_error)?;
                Ok(())
            }

            async fn close(&self) {
                self.close_pools().await;
            }
        }
    };
}

pub(crate) use impl_event_store;
