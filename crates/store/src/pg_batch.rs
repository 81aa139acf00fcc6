//! The PostgreSQL writer's usual batch in a handful of round trips. Each
//! statement is a round trip to the database, and one push needs several
//! (its events, then a read and a write per document it folds into), so a
//! batch applied statement by statement is bound by latency, not by work.
//! Here the pushes run against [`Buffered`]: the documents the batch will
//! fold into are read in one query first, and the event inserts and the
//! document writes are held back and sent at the end, one statement each.
//!
//! Only for a batch in which every push succeeds: a push that fails (a lost
//! race, a taken name) leaves the transaction unusable on PostgreSQL, so
//! [`apply_whole`] answers None and the writer rolls back and applies the
//! batch again push by push, each in a savepoint (`postgres.rs`).

use std::collections::HashMap;

use sqlx::PgConnection;
use twofold_app::StoreError;
use twofold_app::ports::{PushRequest, UniqueClaim};
use twofold_domain::readmodel::{self, DocKey};
use twofold_domain::snapshot::Snapshot;
use twofold_domain::{AggregateRef, StoredEvent};

use crate::push::{EventRow, PushTx, apply_events, new_events};
use crate::shared::{Applied, db_error};

const SELECT_DOCS: &str = "SELECT d.collection, d.id, d.body FROM docs d \
     JOIN unnest($2::text[], $3::text[]) AS k (collection, id) ON d.collection = k.collection AND d.id = k.id \
     WHERE d.instance_id = $1";
const INSERT_EVENTS: &str = "INSERT INTO events (instance_id, aggregate_type, aggregate_id, sequence, \
     event_type, payload, creator, owner, created_at) \
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], \
     $7::text[], $8::text[], $9::bigint[]) \
     RETURNING instance_id, aggregate_type, aggregate_id, sequence, position";
const UPSERT_DOCS: &str = "INSERT INTO docs (instance_id, collection, id, lookup, body) \
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) \
     ON CONFLICT (instance_id, collection, id) DO UPDATE SET lookup = excluded.lookup, body = excluded.body";
const DELETE_DOCS: &str = "DELETE FROM docs d USING unnest($1::text[], $2::text[], $3::text[]) AS k (i, c, id) \
     WHERE d.instance_id = k.i AND d.collection = k.c AND d.id = k.id";

/// A document's key in a batch, which may span instances.
type DocId = (String, String, String);

fn doc_id(instance_id: &str, collection: &str, id: &str) -> DocId {
    (instance_id.to_owned(), collection.to_owned(), id.to_owned())
}

/// An event's key, as `INSERT_EVENTS` returns it with its position.
type EventId = (String, String, String, i64);

/// Applies every push of `batch` in the open transaction, buffered. None
/// when a push failed: the caller rolls back and goes push by push.
pub(crate) async fn apply_whole(
    conn: &mut PgConnection,
    batch: &[&PushRequest],
) -> Result<Option<Vec<Applied>>, StoreError> {
    let mut buf = Buffered {
        conn,
        docs: HashMap::new(),
        written: Vec::new(),
        events: Events::default(),
    };
    let events = buf.prefetch(batch).await?;
    let mut results = Vec::with_capacity(batch.len());
    for (req, events) in batch.iter().zip(events) {
        match apply_events(&mut buf, req, events).await {
            Ok(applied) => results.push(applied),
            Err(_) => return Ok(None),
        }
    }
    let Some(positions) = buf.insert_events().await? else {
        return Ok(None);
    };
    for ev in results.iter_mut().flat_map(|a| a.stored.iter_mut()) {
        let key = (
            ev.instance_id.clone(),
            ev.aggregate.kind.as_str().to_owned(),
            ev.aggregate.id.as_str().to_owned(),
            ev.sequence as i64,
        );
        match positions.get(&key) {
            Some(p) => ev.position = *p,
            None => {
                return Err(StoreError::Other(
                    "an inserted event came back without its position".into(),
                ));
            }
        }
    }
    buf.write_docs().await?;
    Ok(Some(results))
}

/// [`PushTx`] over the writer's transaction with reads served from, and
/// event and document writes held in, memory.
struct Buffered<'c> {
    conn: &'c mut PgConnection,
    /// Every document read or written in this batch.
    docs: HashMap<DocId, Doc>,
    /// The documents written, in first-written order.
    written: Vec<DocId>,
    events: Events,
}

/// A document as the batch knows it.
#[derive(Default)]
struct Doc {
    lookup: Option<String>,
    /// None: there is none.
    body: Option<String>,
    /// To be written at the end.
    written: bool,
}

/// The events to insert, column by column (`INSERT_EVENTS`' arrays).
#[derive(Default)]
struct Events {
    instance_id: Vec<String>,
    aggregate_type: Vec<String>,
    aggregate_id: Vec<String>,
    sequence: Vec<i64>,
    event_type: Vec<String>,
    payload: Vec<Option<String>>,
    creator: Vec<String>,
    owner: Vec<String>,
    created_at: Vec<i64>,
}

impl Buffered<'_> {
    /// Reads, per instance in one query, the documents the batch's events
    /// fold into (a document a fold derives is written, never read).
    /// Returns each push's events.
    async fn prefetch(&mut self, batch: &[&PushRequest]) -> Result<Vec<Vec<StoredEvent>>, StoreError> {
        let mut keys: HashMap<&str, (Vec<String>, Vec<String>)> = HashMap::new();
        let mut events = Vec::with_capacity(batch.len());
        for req in batch {
            let (collections, ids) = keys.entry(req.instance_id.as_str()).or_default();
            let pushed = new_events(req);
            for ev in &pushed {
                for key in readmodel::affected(ev) {
                    let id = doc_id(&req.instance_id, key.collection.as_str(), &key.id);
                    if let std::collections::hash_map::Entry::Vacant(slot) = self.docs.entry(id) {
                        collections.push(slot.key().1.clone());
                        ids.push(slot.key().2.clone());
                        slot.insert(Doc::default());
                    }
                }
            }
            events.push(pushed);
        }
        for (instance_id, (collections, ids)) in keys {
            if ids.is_empty() {
                continue;
            }
            let rows: Vec<(String, String, String)> = sqlx::query_as(SELECT_DOCS)
                .bind(instance_id)
                .bind(collections)
                .bind(ids)
                .fetch_all(&mut *self.conn)
                .await
                .map_err(db_error)?;
            for (collection, id, body) in rows {
                let doc = Doc {
                    body: Some(body),
                    ..Doc::default()
                };
                self.docs.insert(doc_id(instance_id, &collection, &id), doc);
            }
        }
        Ok(events)
    }

    /// Sends the held events; None when one broke the unique sequence key
    /// (another writer got there first).
    async fn insert_events(&mut self) -> Result<Option<HashMap<EventId, i64>>, StoreError> {
        if self.events.sequence.is_empty() {
            return Ok(Some(HashMap::new()));
        }
        let e = std::mem::take(&mut self.events);
        let rows = sqlx::query_as::<_, (String, String, String, i64, i64)>(INSERT_EVENTS)
            .bind(e.instance_id)
            .bind(e.aggregate_type)
            .bind(e.aggregate_id)
            .bind(e.sequence)
            .bind(e.event_type)
            .bind(e.payload)
            .bind(e.creator)
            .bind(e.owner)
            .bind(e.created_at)
            .fetch_all(&mut *self.conn)
            .await;
        match rows {
            Err(sqlx::Error::Database(d)) if d.is_unique_violation() => Ok(None),
            Err(e) => Err(db_error(e)),
            Ok(rows) => Ok(Some(
                rows.into_iter().map(|(i, t, a, s, p)| ((i, t, a, s), p)).collect(),
            )),
        }
    }

    /// Sends the held document writes: their last state, upserted or
    /// deleted, one statement each.
    async fn write_docs(&mut self) -> Result<(), StoreError> {
        let (mut up, mut gone): ([Vec<Option<String>>; 5], [Vec<String>; 3]) = Default::default();
        for key in &self.written {
            let Some(Doc { lookup, body, .. }) = self.docs.get(key) else {
                continue;
            };
            match body {
                Some(body) => {
                    for (column, value) in
                        up.iter_mut()
                            .zip([Some(&key.0), Some(&key.1), Some(&key.2), lookup.as_ref(), Some(body)])
                    {
                        column.push(value.cloned());
                    }
                }
                None => {
                    for (column, value) in gone.iter_mut().zip([&key.0, &key.1, &key.2]) {
                        column.push(value.clone());
                    }
                }
            }
        }
        if !up[0].is_empty() {
            let [i, c, id, lookup, body] = up;
            sqlx::query(UPSERT_DOCS)
                .bind(i)
                .bind(c)
                .bind(id)
                .bind(lookup)
                .bind(body)
                .execute(&mut *self.conn)
                .await
                .map_err(db_error)?;
        }
        if !gone[0].is_empty() {
            let [i, c, id] = gone;
            sqlx::query(DELETE_DOCS)
                .bind(i)
                .bind(c)
                .bind(id)
                .execute(&mut *self.conn)
                .await
                .map_err(db_error)?;
        }
        Ok(())
    }

    fn write(&mut self, id: DocId, lookup: Option<&str>, body: Option<&str>) {
        let doc = Doc {
            lookup: lookup.map(str::to_owned),
            body: body.map(str::to_owned),
            written: true,
        };
        if let Some(Doc { written: true, .. }) = self.docs.insert(id.clone(), doc) {
            return;
        }
        self.written.push(id);
    }
}

impl PushTx for Buffered<'_> {
    async fn last_sequence(&mut self, instance_id: &str, aggregate: &AggregateRef) -> Result<i64, StoreError> {
        self.conn.last_sequence(instance_id, aggregate).await
    }

    async fn delete_claim(&mut self, claim: &UniqueClaim) -> Result<(), StoreError> {
        self.conn.delete_claim(claim).await
    }

    async fn insert_claim(&mut self, claim: &UniqueClaim) -> Result<bool, StoreError> {
        self.conn.insert_claim(claim).await
    }

    async fn upsert_snapshot(
        &mut self,
        instance_id: &str,
        aggregate: &AggregateRef,
        snapshot: &Snapshot,
    ) -> Result<(), StoreError> {
        self.conn.upsert_snapshot(instance_id, aggregate, snapshot).await
    }

    /// Held until the batch ends; the position is filled in then.
    async fn insert_event(&mut self, row: EventRow<'_>) -> Result<Option<i64>, StoreError> {
        let e = &mut self.events;
        e.instance_id.push(row.instance_id.to_owned());
        e.aggregate_type.push(row.aggregate.kind.as_str().to_owned());
        e.aggregate_id.push(row.aggregate.id.as_str().to_owned());
        e.sequence.push(row.sequence);
        e.event_type.push(row.event_type.to_owned());
        e.payload.push(row.payload);
        e.creator.push(row.creator.to_owned());
        e.owner.push(row.aggregate.owner.clone());
        e.created_at.push(row.created_at);
        Ok(Some(0))
    }

    async fn select_doc(
        &mut self,
        instance_id: &str,
        collection: &str,
        id: &str,
    ) -> Result<Option<String>, StoreError> {
        let key = doc_id(instance_id, collection, id);
        if let Some(doc) = self.docs.get(&key) {
            return Ok(doc.body.clone());
        }
        let body = self.conn.select_doc(instance_id, collection, id).await?;
        let doc = Doc {
            body: body.clone(),
            ..Doc::default()
        };
        self.docs.insert(key, doc);
        Ok(body)
    }

    async fn upsert_doc(
        &mut self,
        instance_id: &str,
        key: &DocKey,
        lookup: Option<&str>,
        body: &str,
        _new: bool,
    ) -> Result<(), StoreError> {
        self.write(
            doc_id(instance_id, key.collection.as_str(), &key.id),
            lookup,
            Some(body),
        );
        Ok(())
    }

    async fn delete_doc(&mut self, instance_id: &str, key: &DocKey) -> Result<(), StoreError> {
        self.write(doc_id(instance_id, key.collection.as_str(), &key.id), None, None);
        Ok(())
    }
}
