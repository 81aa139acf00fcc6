//! `twofold rebuild`: the read models (`docs`) derived again from the
//! event log, in one transaction. Events are read in pages by global
//! position and folded by the same reducers the appends use
//! (`twofold_domain::readmodel`); the documents a page touched are written
//! back at the end of the page, so memory holds one page's documents, not
//! the whole directory. Run it with every server stopped: a running SQLite
//! server keeps its own cache of the old documents.
//!
//! The secondary indexes and triggers of `docs` are dropped for the fold and
//! created again at the end (sorting once beats a million B-tree inserts, and
//! per-row triggers also stop SQLite from emptying the table in one step);
//! the users' counts and marks they keep are then computed in one pass.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use sqlx::{ConnectOptions, Connection, Row};
use twofold_app::StoreError;
use twofold_domain::StoredEvent;
use twofold_domain::readmodel::{self, DocKey, DocWrite};

use crate::{OpenError, shared};

/// Events read and folded per page.
const PAGE: i64 = 50_000;

const SELECT_PAGE: &str = "SELECT instance_id, aggregate_type, aggregate_id, sequence, position, \
     event_type, payload, creator, owner, created_at FROM events WHERE position > $1 ORDER BY position LIMIT $2";

/// Documents per upsert statement (5 parameters each: well under either
/// backend's limit of bound parameters).
const UPSERT_ROWS: usize = 200;

/// The writers' document upsert for `rows` documents in one statement.
/// SQLite gets anonymous `?` parameters: sqlx asks SQLite for each parameter's name,
/// which for `$N` names scans the statement's list of names, so binding a
/// statement of many `$N` parameters takes time quadratic in their number
/// (11 % of a rebuild's CPU in `sqlite3_bind_parameter_name`).
/// SQLite also writes the user columns (migration 0009) from each row's
/// collection and body; PostgreSQL generates them.
fn upsert_docs_sql(rows: usize, postgres: bool) -> String {
    if postgres {
        let values: Vec<String> = (0..rows)
            .map(|r| {
                let p = r * 5;
                format!("(${}, ${}, ${}, ${}, ${})", p + 1, p + 2, p + 3, p + 4, p + 5)
            })
            .collect();
        return format!(
            "INSERT INTO docs (instance_id, collection, id, lookup, body) VALUES {} \
             ON CONFLICT (instance_id, collection, id) DO UPDATE SET lookup = excluded.lookup, body = excluded.body",
            values.join(", ")
        );
    }
    // `WHERE true`: an upsert's SELECT needs one before `ON CONFLICT`.
    format!(
        "INSERT INTO docs (instance_id, collection, id, lookup, body, user_org, user_created) \
         SELECT column1, column2, column3, column4, column5, {} FROM (VALUES {}) WHERE true \
         ON CONFLICT (instance_id, collection, id) DO UPDATE SET lookup = excluded.lookup, body = excluded.body, \
         user_org = excluded.user_org, user_created = excluded.user_created",
        crate::sqlite_writer::user_columns!("column2", "column5"),
        vec!["(?, ?, ?, ?, ?)"; rows].join(", ")
    )
}

fn key_hash(k: &(String, DocKey)) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    BuildHasherDefault::<DefaultHasher>::default().hash_one(k)
}

/// What a rebuild did.
#[derive(Debug)]
pub struct Rebuilt {
    pub events: u64,
    pub docs: u64,
    pub took: Duration,
}

/// A page's touched documents, in first-touched order, keyed by instance.
#[derive(Default)]
struct Page {
    docs: HashMap<(String, DocKey), DocWrite>,
    order: Vec<(String, DocKey)>,
}

/// What differs between the backends around the fold.
struct Dialect {
    begin: &'static str,
    /// Rows (statement dropping one secondary index or trigger of `docs`,
    /// statement creating it again), read from the catalogue so that a
    /// later migration's index needs no change here.
    derived: &'static str,
    /// Empties the documents and what the dropped triggers kept.
    clear: &'static [&'static str],
    postgres: bool,
}

const SQLITE: Dialect = Dialect {
    begin: "BEGIN IMMEDIATE",
    derived: "SELECT 'DROP ' || UPPER(type) || ' ' || name, sql FROM sqlite_master \
         WHERE tbl_name = 'docs' AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY type",
    clear: &[
        "DELETE FROM user_counts",
        "DELETE FROM user_marks_created",
        "DELETE FROM user_marks_name",
        "DELETE FROM docs",
    ],
    postgres: false,
};

const POSTGRES: Dialect = Dialect {
    begin: "BEGIN",
    derived: "SELECT 'DROP INDEX ' || quote_ident(indexname), indexdef FROM pg_indexes \
         WHERE schemaname = current_schema() AND tablename = 'docs' \
         AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = 'docs'::regclass) \
         UNION ALL \
         SELECT 'DROP TRIGGER ' || quote_ident(tgname) || ' ON docs', pg_get_triggerdef(oid) \
         FROM pg_trigger WHERE tgrelid = 'docs'::regclass AND NOT tgisinternal",
    clear: &["TRUNCATE docs, user_counts, user_marks_created, user_marks_name"],
    postgres: true,
};

/// The users' counts and marks (migration 0007's tables) from the
/// documents: a mark every 1,000 users, the first one below everything, as
/// that migration's backfill computes them. Names compare as Rust compares
/// strings: SQLite's default, PostgreSQL's "C".
fn recount(postgres: bool) -> [String; 3] {
    let (least, name) = match postgres {
        true => ("LEAST", "lookup COLLATE \"C\""),
        false => ("MIN", "lookup"),
    };
    let marks = |table: &str, column: &str, key: &str, order: &str, below: &str| {
        format!(
            "INSERT INTO {table} (instance_id, {column}, id, n) \
             SELECT instance_id, CASE WHEN r = 0 THEN {below} ELSE {key} END, \
                    CASE WHEN r = 0 THEN '' ELSE id END, {least}(1000, total - r) \
             FROM (SELECT instance_id, {key}, id, \
                          ROW_NUMBER() OVER (PARTITION BY instance_id ORDER BY {order}, id) - 1 AS r, \
                          COUNT(*) OVER (PARTITION BY instance_id) AS total \
                   FROM docs WHERE collection = 'user' AND {key} IS NOT NULL) u \
             WHERE r % 1000 = 0"
        )
    };
    [
        "INSERT INTO user_counts (instance_id, org_id, n) \
         SELECT instance_id, COALESCE(user_org, ''), COUNT(*) FROM docs WHERE collection = 'user' \
         GROUP BY instance_id, COALESCE(user_org, '')"
            .to_owned(),
        marks(
            "user_marks_created",
            "created",
            "user_created",
            "user_created",
            "-9223372036854775808",
        ),
        marks("user_marks_name", "name", "lookup", name, "''"),
    ]
}

/// Rebuilds on the given backend: `$conn` (borrowed) writes, `$events` (a
/// second connection of `$db`, owned) reads the events on a task of its
/// own, parsing the next page while this one is folded and written.
macro_rules! rebuild_on {
    ($conn:expr, $events:expr, $db:ty, $dialect:expr) => {
        async {
            let conn = $conn;
            let dialect: &Dialect = $dialect;
            let started = Instant::now();
            let err = shared::db_error;
            sqlx::query::<$db>(dialect.begin)
                .execute(&mut *conn)
                .await
                .map_err(err)?;
            let derived: Vec<(String, String)> = sqlx::query_as::<$db, (String, String)>(dialect.derived)
                .fetch_all(&mut *conn)
                .await
                .map_err(err)?;
            for (drop, _) in &derived {
                sqlx::query::<$db>(sqlx::AssertSqlSafe(drop.as_str()))
                    .execute(&mut *conn)
                    .await
                    .map_err(err)?;
            }
            for sql in dialect.clear {
                sqlx::query::<$db>(*sql).execute(&mut *conn).await.map_err(err)?;
            }
            let (pages_out, mut pages) = tokio::sync::mpsc::channel::<Result<Vec<StoredEvent>, StoreError>>(2);
            let mut events_conn = $events;
            tokio::spawn(async move {
                let mut after = 0i64;
                loop {
                    let page = async {
                        let rows = sqlx::query::<$db>(SELECT_PAGE)
                            .bind(after)
                            .bind(PAGE)
                            .fetch_all(&mut events_conn)
                            .await
                            .map_err(err)?;
                        rows.iter()
                            .map(|r| {
                                shared::event_of(
                                    (
                                        r.try_get(0).map_err(err)?,
                                        r.try_get(1).map_err(err)?,
                                        r.try_get(2).map_err(err)?,
                                        r.try_get(3).map_err(err)?,
                                        r.try_get(4).map_err(err)?,
                                    ),
                                    (
                                        r.try_get(5).map_err(err)?,
                                        r.try_get(6).map_err(err)?,
                                        r.try_get(7).map_err(err)?,
                                        r.try_get(8).map_err(err)?,
                                        r.try_get(9).map_err(err)?,
                                    ),
                                )
                            })
                            .collect::<Result<Vec<_>, StoreError>>()
                    }
                    .await;
                    let last = match &page {
                        Ok(events) => events.last().map(|ev| ev.position),
                        Err(_) => None,
                    };
                    // Sent even when empty or failed: the end of the log.
                    if pages_out.send(page).await.is_err() {
                        return;
                    }
                    match last {
                        Some(position) => after = position,
                        None => return,
                    }
                }
            });
            let (mut events, mut written) = (0u64, 0u64);
            // Hashes of the keys of every document written so far: after
            // the delete above only those exist, so a key not among them
            // needs no read (most keys: a user's events follow each other).
            let mut stored: HashSet<u64> = HashSet::new();
            loop {
                let Some(evs) = pages.recv().await else {
                    return Err(StoreError::Unavailable("the event reader stopped".into()));
                };
                let evs = evs?;
                if evs.is_empty() {
                    break;
                }
                let mut page = Page::default();
                for ev in &evs {
                    for key in readmodel::affected(&ev) {
                        let k = (ev.instance_id.clone(), key);
                        // Taken out, not copied: put back folded below.
                        let prior = match page.docs.remove(&k) {
                            Some(w) => w.doc,
                            None if !stored.contains(&key_hash(&k)) => {
                                page.order.push(k.clone());
                                None
                            }
                            None => {
                                page.order.push(k.clone());
                                let body: Option<(String,)> = sqlx::query_as::<$db, (String,)>(shared::SELECT_DOC)
                                    .bind(k.0.as_str())
                                    .bind(k.1.collection.as_str())
                                    .bind(k.1.id.as_str())
                                    .fetch_optional(&mut *conn)
                                    .await
                                    .map_err(err)?;
                                body.map(|(b,)| serde_json::from_str(&b))
                                    .transpose()
                                    .map_err(|e| shared::corrupt("document", e))?
                            }
                        };
                        let next = readmodel::apply(&ev, &k.1, prior);
                        if let Some(d) = readmodel::derived(&next) {
                            let dk = (ev.instance_id.clone(), d.key.clone());
                            if !page.docs.contains_key(&dk) {
                                page.order.push(dk.clone());
                            }
                            page.docs.insert(dk, d);
                        }
                        page.docs.insert(k, next);
                    }
                    events += 1;
                }
                // Each key once per page: upserts in statements of many
                // rows, deletes one by one (rare).
                let mut upserts = Vec::new();
                for k in &page.order {
                    let Some(w) = page.docs.get(k) else { continue };
                    stored.insert(key_hash(k));
                    written += 1;
                    match &w.doc {
                        Some(body) => upserts.push((k, w.lookup.as_deref(), body.to_string())),
                        None => {
                            sqlx::query::<$db>(shared::DELETE_DOC)
                                .bind(k.0.as_str())
                                .bind(k.1.collection.as_str())
                                .bind(k.1.id.as_str())
                                .execute(&mut *conn)
                                .await
                                .map_err(err)?;
                        }
                    }
                }
                for rows in upserts.chunks(UPSERT_ROWS) {
                    let mut q = sqlx::query::<$db>(sqlx::AssertSqlSafe(upsert_docs_sql(rows.len(), dialect.postgres)));
                    for (k, lookup, body) in rows {
                        q = q
                            .bind(k.0.as_str())
                            .bind(k.1.collection.as_str())
                            .bind(k.1.id.as_str())
                            .bind(*lookup)
                            .bind(body.as_str());
                    }
                    q.execute(&mut *conn).await.map_err(err)?;
                }
                tracing::info!(events, "rebuilding read models");
            }
            tracing::info!(indexes_and_triggers = derived.len(), "indexing the read models");
            for (_, create) in &derived {
                sqlx::query::<$db>(sqlx::AssertSqlSafe(create.as_str()))
                    .execute(&mut *conn)
                    .await
                    .map_err(err)?;
            }
            for sql in recount(dialect.postgres) {
                sqlx::query::<$db>(sqlx::AssertSqlSafe(sql))
                    .execute(&mut *conn)
                    .await
                    .map_err(err)?;
            }
            sqlx::query::<$db>("COMMIT").execute(&mut *conn).await.map_err(err)?;
            let (docs,): (i64,) = sqlx::query_as::<$db, (i64,)>("SELECT COUNT(*) FROM docs")
                .fetch_one(&mut *conn)
                .await
                .map_err(err)?;
            tracing::debug!(written, "document writes");
            Ok::<_, StoreError>(Rebuilt {
                events,
                docs: docs.max(0) as u64,
                took: started.elapsed(),
            })
        }
        .await
    };
}

/// Rebuilds every read model of the database named by `url` from its
/// events, atomically: on any error nothing changes.
pub async fn rebuild(url: &str) -> Result<Result<Rebuilt, StoreError>, OpenError> {
    if url.starts_with("sqlite:") {
        let opts = <sqlx::sqlite::SqliteConnectOptions as std::str::FromStr>::from_str(url)?
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sqlx::sqlite::SqliteSynchronous::Full)
            .disable_statement_logging();
        let mut conn = sqlx::SqliteConnection::connect_with(&opts).await?;
        // The schema the reducers write to.
        sqlx::migrate!("../../migrations/sqlite").run(&mut conn).await?;
        let events = sqlx::SqliteConnection::connect_with(&opts.clone().read_only(true)).await?;
        let done = rebuild_on!(&mut conn, events, sqlx::Sqlite, &SQLITE);
        if done.is_ok() {
            // The whole rebuild went through the WAL; fold it back now
            // rather than on the server's first writes.
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&mut conn)
                .await?;
        }
        conn.close().await?;
        Ok(done)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let opts = <sqlx::postgres::PgConnectOptions as std::str::FromStr>::from_str(url)?.disable_statement_logging();
        let mut conn = sqlx::PgConnection::connect_with(&opts).await?;
        sqlx::migrate!("../../migrations/postgres").run(&mut conn).await?;
        let events = sqlx::PgConnection::connect_with(&opts).await?;
        let done = rebuild_on!(&mut conn, events, sqlx::Postgres, &POSTGRES);
        if done.is_ok() {
            // A commit that changed everything: running nodes forget their
            // caches (see postgres.rs).
            sqlx::query(crate::postgres::RECORD_CHANGES)
                .bind("rebuild")
                .bind("*")
                .execute(&mut conn)
                .await?;
        }
        conn.close().await?;
        Ok(done)
    } else {
        Err(OpenError::Scheme(url.to_owned()))
    }
}
