//! `twofold rebuild`: the read models (`docs`) derived again from the
//! event log, in one transaction. Events are read in pages by global
//! position and folded by the same reducers the appends use
//! (`twofold_domain::readmodel`); the documents a page touched are written
//! back at the end of the page, so memory holds one page's documents, not
//! the whole directory. Run it with every server stopped: a running SQLite
//! server keeps its own cache of the old documents.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use sqlx::{Connection, Row};
use twofold_app::StoreError;
use twofold_domain::readmodel::{self, DocKey, DocWrite};

use crate::{OpenError, shared};

/// Events read and folded per page.
const PAGE: i64 = 50_000;

const SELECT_PAGE: &str = "SELECT instance_id, aggregate_type, aggregate_id, sequence, position, \
     event_type, payload, creator, owner, created_at FROM events WHERE position > $1 ORDER BY position LIMIT $2";

/// Documents per upsert statement (5 parameters each: well under either
/// backend's limit of bound parameters).
const UPSERT_ROWS: usize = 200;

/// `UPSERT_DOC` for `rows` documents in one statement. SQLite gets
/// anonymous `?` parameters: sqlx asks SQLite for each parameter's name,
/// which for `$N` names scans the statement's list of names, so binding a
/// statement of many `$N` parameters takes time quadratic in their number
/// (11 % of a rebuild's CPU in `sqlite3_bind_parameter_name`).
fn upsert_docs_sql(rows: usize, postgres: bool) -> String {
    let values: Vec<String> = (0..rows)
        .map(|r| match postgres {
            true => {
                let p = r * 5;
                format!("(${}, ${}, ${}, ${}, ${})", p + 1, p + 2, p + 3, p + 4, p + 5)
            }
            false => "(?, ?, ?, ?, ?)".to_owned(),
        })
        .collect();
    format!(
        "INSERT INTO docs (instance_id, collection, id, lookup, body) VALUES {} \
         ON CONFLICT (instance_id, collection, id) DO UPDATE SET lookup = excluded.lookup, body = excluded.body",
        values.join(", ")
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

/// Rebuilds on the given backend; `$conn` is a connection of `$db`.
macro_rules! rebuild_on {
    ($conn:expr, $db:ty, $begin:literal) => {
        async {
            let conn = $conn;
            let started = Instant::now();
            let err = shared::db_error;
            sqlx::query::<$db>($begin).execute(&mut *conn).await.map_err(err)?;
            // The users' counts and marks (migration 0007) first: the
            // triggers of the documents' deletion then find nothing to
            // uncount, and the writes below count every user again.
            for table in ["user_counts", "user_marks_created", "user_marks_name", "docs"] {
                sqlx::query::<$db>(sqlx::AssertSqlSafe(format!("DELETE FROM {table}")))
                    .execute(&mut *conn)
                    .await
                    .map_err(err)?;
            }
            let (mut after, mut events, mut written) = (0i64, 0u64, 0u64);
            // Hashes of the keys of every document written so far: after
            // the delete above only those exist, so a key not among them
            // needs no read (most keys: a user's events follow each other).
            let mut stored: HashSet<u64> = HashSet::new();
            loop {
                let rows = sqlx::query::<$db>(SELECT_PAGE)
                    .bind(after)
                    .bind(PAGE)
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(err)?;
                let Some(last) = rows.last() else { break };
                after = last.try_get("position").map_err(err)?;
                let mut page = Page::default();
                for r in &rows {
                    let ev = shared::event_of(
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
                    )?;
                    for key in readmodel::affected(&ev) {
                        let k = (ev.instance_id.clone(), key);
                        let prior = match page.docs.get(&k) {
                            Some(w) => w.doc.clone(),
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
                    let mut q = sqlx::query::<$db>(sqlx::AssertSqlSafe(upsert_docs_sql(
                        rows.len(),
                        <$db as sqlx::Database>::NAME == "PostgreSQL",
                    )));
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
            .synchronous(sqlx::sqlite::SqliteSynchronous::Full);
        let mut conn = sqlx::SqliteConnection::connect_with(&opts).await?;
        let done = rebuild_on!(&mut conn, sqlx::Sqlite, "BEGIN IMMEDIATE");
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
        let mut conn = sqlx::PgConnection::connect(url).await?;
        let done = rebuild_on!(&mut conn, sqlx::Postgres, "BEGIN");
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
