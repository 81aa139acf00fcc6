//! Appending one push inside an open write transaction, written once over
//! the few statements it needs ([`PushTx`]): sqlx on PostgreSQL, and on
//! SQLite a synchronous connection owned by the writer thread
//! (`sqlite_writer.rs`), where a statement costs no hop between threads.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tokio::sync::mpsc;

use twofold_app::StoreError;
use twofold_app::ports::{PushRequest, UniqueClaim};
use twofold_domain::readmodel::{self, DocKey};
use twofold_domain::snapshot::Snapshot;
use twofold_domain::{AggregateRef, StoredEvent};

use crate::shared::{Applied, Written, corrupt};

/// Most pushes one commit covers (group commit, both backends).
pub(crate) const MAX_BATCH: usize = 128;

/// A writer's queue: room for a few batches before senders wait.
pub(crate) fn queue<T>() -> (mpsc::Sender<T>, mpsc::Receiver<T>) {
    mpsc::channel(4 * MAX_BATCH)
}

/// The next batch: waits for one job, then takes every job already
/// waiting, up to [`MAX_BATCH`]. None once every sender is gone.
pub(crate) async fn next_batch<T>(queue: &mut mpsc::Receiver<T>) -> Option<Vec<T>> {
    let first = queue.recv().await?;
    let mut jobs = vec![first];
    while jobs.len() < MAX_BATCH {
        match queue.try_recv() {
            Ok(job) => jobs.push(job),
            Err(_) => break,
        }
    }
    Some(jobs)
}

/// An event row to insert.
pub(crate) struct EventRow<'a> {
    pub instance_id: &'a str,
    pub aggregate: &'a AggregateRef,
    pub sequence: i64,
    pub event_type: &'a str,
    pub payload: Option<String>,
    pub creator: &'a str,
    pub created_at: i64,
}

/// The statements of a push, inside a transaction the caller opened.
pub(crate) trait PushTx {
    /// The aggregate's last sequence (0 when it has no events).
    async fn last_sequence(&mut self, instance_id: &str, aggregate: &AggregateRef) -> Result<i64, StoreError>;
    async fn delete_claim(&mut self, claim: &UniqueClaim) -> Result<(), StoreError>;
    /// False when the value is already held.
    async fn insert_claim(&mut self, claim: &UniqueClaim) -> Result<bool, StoreError>;
    async fn upsert_snapshot(
        &mut self,
        instance_id: &str,
        aggregate: &AggregateRef,
        snapshot: &Snapshot,
    ) -> Result<(), StoreError>;
    /// The event's position; None when the aggregate already has an event
    /// at that sequence.
    async fn insert_event(&mut self, row: EventRow<'_>) -> Result<Option<i64>, StoreError>;
    async fn select_doc(&mut self, instance_id: &str, collection: &str, id: &str)
    -> Result<Option<String>, StoreError>;
    /// `new`: the push read the document and found none (a backend may
    /// then insert without looking first).
    async fn upsert_doc(
        &mut self,
        instance_id: &str,
        key: &DocKey,
        lookup: Option<&str>,
        body: &str,
        new: bool,
    ) -> Result<(), StoreError>;
    async fn delete_doc(&mut self, instance_id: &str, key: &DocKey) -> Result<(), StoreError>;
}

/// The events `req` appends, in order, each at the sequence after the one
/// before (position 0 until stored).
pub(crate) fn new_events(req: &PushRequest) -> Vec<StoredEvent> {
    let mut events = Vec::new();
    for p in &req.aggregates {
        for (i, payload) in p.events.iter().enumerate() {
            events.push(StoredEvent {
                instance_id: req.instance_id.clone(),
                aggregate: p.aggregate.clone(),
                sequence: p.expected_sequence + 1 + i as u64,
                position: 0,
                created_at: req.created_at,
                creator: req.creator.clone(),
                payload: payload.clone(),
            });
        }
    }
    events
}

/// Appends `req`: checks the expected sequences, claims and releases unique
/// values, inserts the events and updates the read models. Returns the
/// stored events and the documents written (for the cache).
pub(crate) async fn apply_push(tx: &mut impl PushTx, req: &PushRequest) -> Result<Applied, StoreError> {
    apply_events(tx, req, new_events(req)).await
}

/// [`apply_push`] with `req`'s [`new_events`], built already by a caller
/// that needed them first.
pub(crate) async fn apply_events(
    tx: &mut impl PushTx,
    req: &PushRequest,
    mut stored: Vec<StoredEvent>,
) -> Result<Applied, StoreError> {
    // A push that appends needs no read of the last sequence: events are
    // never removed, so if another write got there first, sequence
    // expected + 1 exists and the insert below breaks the unique
    // (aggregate, sequence) key: a conflict.
    for p in req.aggregates.iter().filter(|p| p.events.is_empty()) {
        let last = tx.last_sequence(&req.instance_id, &p.aggregate).await?;
        if last as u64 != p.expected_sequence {
            return Err(StoreError::Conflict);
        }
    }
    for c in &req.releases {
        tx.delete_claim(c).await?;
    }
    for c in &req.claims {
        if !tx.insert_claim(c).await? {
            return Err(StoreError::Taken(c.clone()));
        }
    }

    for p in &req.aggregates {
        if let Some(s) = &p.snapshot {
            tx.upsert_snapshot(&req.instance_id, &p.aggregate, s).await?;
        }
    }
    for ev in &mut stored {
        let (ty, json) = ev.payload.to_parts();
        let row = EventRow {
            instance_id: &req.instance_id,
            aggregate: &ev.aggregate,
            sequence: ev.sequence as i64,
            event_type: ty.as_str(),
            payload: json.map(|j| j.to_string()),
            creator: &req.creator,
            created_at: req.created_at.0,
        };
        let Some(position) = tx.insert_event(row).await? else {
            return Err(StoreError::Conflict);
        };
        ev.position = position;
    }

    // Read models: load each touched document once, fold every event into
    // it, write the results back.
    let mut docs: HashMap<DocKey, readmodel::DocWrite> = HashMap::new();
    let mut order: Vec<DocKey> = Vec::new();
    // Read and not found: written by an insert.
    let mut new: HashSet<DocKey> = HashSet::new();
    for ev in &stored {
        for key in readmodel::affected(ev) {
            // Taken out, not copied: put back folded below.
            let prior = match docs.remove(&key) {
                Some(w) => w.doc,
                None => {
                    order.push(key.clone());
                    let found = tx
                        .select_doc(&req.instance_id, key.collection.as_str(), &key.id)
                        .await?;
                    if found.is_none() {
                        new.insert(key.clone());
                    }
                    found
                        .map(|b| serde_json::from_str(&b))
                        .transpose()
                        .map_err(|e| corrupt("document", e))?
                }
            };
            let next = readmodel::apply(ev, &key, prior);
            if let Some(d) = readmodel::derived(&next) {
                if !docs.contains_key(&d.key) {
                    order.push(d.key.clone());
                }
                docs.insert(d.key.clone(), d);
            }
            docs.insert(key, next);
        }
    }
    for key in &order {
        let Some(w) = docs.get(key) else { continue };
        match &w.doc {
            Some(body) => {
                let body = body.to_string();
                tx.upsert_doc(&req.instance_id, key, w.lookup.as_deref(), &body, new.contains(key))
                    .await?
            }
            None => tx.delete_doc(&req.instance_id, key).await?,
        }
    }

    // Moved, not copied: the cache takes them once the batch commits.
    let docs = order
        .into_iter()
        .filter_map(|k| {
            docs.remove(&k).map(|w| Written {
                collection: k.collection.as_str().to_owned(),
                id: k.id,
                lookup: w.lookup,
                body: w.doc.map(Arc::new),
            })
        })
        .collect();
    Ok(Applied { stored, docs })
}
