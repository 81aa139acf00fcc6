//! An in-memory copy of what this process has read, kept exact by its own
//! writes and, where other processes write the same database (PostgreSQL
//! nodes), by what their commits changed ([`Changed`], applied by the
//! store's fence before a request's first read, see `postgres.rs`).
//!
//! Bounded: each kind of entry lives in a least-recently-used map of at
//! most [`Limits`] entries, the entry unused longest making room. A commit
//! changes exactly the entries it made stale: the documents it wrote (now
//! their new bodies), the lookups that held one of them or are keyed by a
//! written document's new secondary key (dropped), and the histories of the
//! aggregates it appended to (extended).
//!
//! A read that misses notes the write generation first and fills the cache
//! only if no write committed meanwhile, so a slow reader can never put back
//! a value an interleaved write replaced.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};

use twofold_app::StoreError;
use twofold_app::ports::{Doc, PushRequest};
use twofold_domain::snapshot::History;
use twofold_domain::{AggregateRef, StoredEvent};

use crate::bounded::Bounded;
use crate::shared::Applied;

/// (instance, collection, id or secondary key) of documents and lookups,
/// (instance, aggregate type, aggregate id) of histories.
pub(crate) type Key = (String, String, String);

/// A [`Key`] borrowed from a request: a hit builds no owned strings.
pub(crate) type KeyRef<'a> = (&'a str, &'a str, &'a str);

/// A key as its parts, owned or borrowed; the maps look up either.
pub(crate) trait KeyParts {
    fn parts(&self) -> KeyRef<'_>;
}

impl KeyParts for Key {
    fn parts(&self) -> KeyRef<'_> {
        (&self.0, &self.1, &self.2)
    }
}

impl KeyParts for KeyRef<'_> {
    fn parts(&self) -> KeyRef<'_> {
        *self
    }
}

impl<'a> Borrow<dyn KeyParts + 'a> for Key {
    fn borrow(&self) -> &(dyn KeyParts + 'a) {
        self
    }
}

/// Hashes as the owned tuple does (a tuple of `&str` and of `String` hash
/// alike), so either finds the same entry.
impl Hash for dyn KeyParts + '_ {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.parts().hash(state);
    }
}

impl PartialEq for dyn KeyParts + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.parts() == other.parts()
    }
}

impl Eq for dyn KeyParts + '_ {}

/// The owned key of `key`, to store under.
pub(crate) fn owned((a, b, c): KeyRef<'_>) -> Key {
    (a.to_owned(), b.to_owned(), c.to_owned())
}

/// The documents a lookup found, each with its id.
pub(crate) type Lookup = Arc<Vec<(String, Doc)>>;

/// How many bytes (estimated, see `bounded.rs`) each map holds at most.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub docs: usize,
    pub any_instance: usize,
    pub lookups: usize,
    /// Whole histories (aggregates without snapshots: orgs, projects,
    /// sessions…).
    pub events: usize,
    /// Users' snapshots with the events after them (at most about
    /// `SNAPSHOT_EVERY` each).
    pub histories: usize,
}

const MIB: usize = 1 << 20;

impl Default for Limits {
    /// 64 MiB in all: with SQLite's page caches (2 MiB a connection), the
    /// parse memo and the requests in flight a node stays within 300 MB
    /// at 100 k users and more (docs/benchmarks.md).
    fn default() -> Self {
        Self {
            docs: 24 * MIB,
            any_instance: 2 * MIB,
            lookups: 16 * MIB,
            events: 6 * MIB,
            histories: 16 * MIB,
        }
    }
}

struct Maps {
    limits: Limits,
    generation: u64,
    docs: Bounded<Key, Option<Doc>>,
    any_instance: Bounded<(String, String), Option<Doc>>,
    lookups: Bounded<Key, Lookup>,
    /// (instance, collection, document id) → the secondary keys of the
    /// cached lookups that hold the document.
    holders: HashMap<Key, Vec<String>>,
    events: Bounded<Key, Arc<Vec<StoredEvent>>>,
    /// With the snapshot version they were read for.
    histories: Bounded<Key, (i64, History)>,
}

impl Maps {
    fn new(limits: Limits, generation: u64) -> Self {
        Self {
            limits,
            generation,
            docs: Bounded::new(limits.docs),
            any_instance: Bounded::new(limits.any_instance),
            lookups: Bounded::new(limits.lookups),
            holders: HashMap::new(),
            events: Bounded::new(limits.events),
            histories: Bounded::new(limits.histories),
        }
    }

    /// The document `key` changed and now has secondary key `lookup`: the
    /// lookups it left or joined and its copy by id in any instance are stale.
    fn doc_changed(&mut self, key: &Key, lookup: Option<&String>) {
        let (instance_id, collection, id) = key;
        if let Some(lookups) = self.holders.get(key).cloned() {
            for l in lookups {
                self.drop_lookup(&(instance_id.clone(), collection.clone(), l));
            }
        }
        if let Some(l) = lookup {
            self.drop_lookup(&(instance_id.clone(), collection.clone(), l.clone()));
        }
        self.any_instance.remove(&(collection.clone(), id.clone()));
    }

    fn drop_lookup(&mut self, key: &Key) {
        if let Some(found) = self.lookups.remove(key) {
            self.unhold(key, &found);
        }
    }

    fn unhold(&mut self, key: &Key, found: &Lookup) {
        for (id, _) in found.iter() {
            let doc = (key.0.clone(), key.1.clone(), id.clone());
            if let Some(lookups) = self.holders.get_mut(&doc) {
                lookups.retain(|l| *l != key.2);
                if lookups.is_empty() {
                    self.holders.remove(&doc);
                }
            }
        }
    }
}

pub(crate) struct Cache(Mutex<Maps>);

impl Default for Cache {
    fn default() -> Self {
        Self::with_limits(Limits::default())
    }
}

/// Read-through: the cached value if `get` finds one, else `load`'s result,
/// which `put` caches unless a write committed while it was loading.
pub(crate) async fn read_through<V: Clone>(
    cache: Option<&Cache>,
    get: impl FnOnce(&Cache) -> Option<V>,
    put: impl FnOnce(&Cache, u64, V),
    load: impl std::future::Future<Output = Result<V, StoreError>>,
) -> Result<V, StoreError> {
    let Some(c) = cache else { return load.await };
    if let Some(v) = get(c) {
        return Ok(v);
    }
    let seen = c.generation();
    let v = load.await?;
    put(c, seen, v.clone());
    Ok(v)
}

/// The key of an aggregate's history.
pub(crate) fn aggregate_key<'a>(instance_id: &'a str, aggregate: &'a AggregateRef) -> KeyRef<'a> {
    (instance_id, aggregate.kind.as_str(), aggregate.id.as_str())
}

impl Cache {
    pub fn with_limits(limits: Limits) -> Self {
        Self(Mutex::new(Maps::new(limits, 0)))
    }

    /// The maps. A panic while the lock was held may have left them
    /// half-updated, so a poisoned cache starts over empty.
    fn maps(&self) -> MutexGuard<'_, Maps> {
        match self.0.lock() {
            Ok(m) => m,
            Err(poisoned) => {
                let mut m = poisoned.into_inner();
                *m = Maps::new(m.limits, m.generation + 1);
                self.0.clear_poison();
                m
            }
        }
    }

    pub fn generation(&self) -> u64 {
        self.maps().generation
    }

    pub fn doc(&self, key: &dyn KeyParts) -> Option<Option<Doc>> {
        self.maps().docs.get(key).cloned()
    }

    pub fn put_doc(&self, seen: u64, key: Key, doc: Option<Doc>) {
        let mut m = self.maps();
        if m.generation == seen {
            m.docs.insert(key, doc);
        }
    }

    pub fn any_instance(&self, key: &(String, String)) -> Option<Option<Doc>> {
        self.maps().any_instance.get(key).cloned()
    }

    pub fn put_any_instance(&self, seen: u64, key: (String, String), doc: Option<Doc>) {
        let mut m = self.maps();
        if m.generation == seen {
            m.any_instance.insert(key, doc);
        }
    }

    pub fn lookup(&self, key: &dyn KeyParts) -> Option<Lookup> {
        self.maps().lookups.get(key).cloned()
    }

    pub fn put_lookup(&self, seen: u64, key: Key, found: Lookup) {
        let mut m = self.maps();
        if m.generation != seen {
            return;
        }
        m.drop_lookup(&key);
        for (id, _) in found.iter() {
            let doc = (key.0.clone(), key.1.clone(), id.clone());
            m.holders.entry(doc).or_default().push(key.2.clone());
        }
        for (old, lost) in m.lookups.insert(key, found) {
            m.unhold(&old, &lost);
        }
    }

    pub fn events(&self, key: &dyn KeyParts) -> Option<Arc<Vec<StoredEvent>>> {
        self.maps().events.get(key).cloned()
    }

    pub fn put_events(&self, seen: u64, key: Key, events: Arc<Vec<StoredEvent>>) {
        let mut m = self.maps();
        if m.generation == seen {
            m.events.insert(key, events);
        }
    }

    pub fn history(&self, key: &dyn KeyParts, version: i64) -> Option<History> {
        match self.maps().histories.get(key) {
            Some((v, h)) if *v == version => Some(h.clone()),
            _ => None,
        }
    }

    pub fn put_history(&self, seen: u64, key: Key, version: i64, history: History) {
        let mut m = self.maps();
        if m.generation == seen {
            m.histories.insert(key, (version, history));
        }
    }

    /// Forgets everything (after a commit whose outcome is unknown); reads
    /// already loading do not fill it, their generation is gone.
    pub fn clear(&self) {
        let mut m = self.maps();
        *m = Maps::new(m.limits, m.generation + 1);
    }

    /// After `req` committed as `applied`: the written documents replace
    /// what was cached, lookups they left or joined are dropped, appended
    /// events extend the cached histories, and a history whose aggregate got
    /// a new snapshot is dropped (the next read starts at the snapshot).
    pub fn committed(&self, req: &PushRequest, applied: &Applied) {
        let instance_id = &req.instance_id;
        // Keys built before the lock is taken: readers wait on it.
        let keys: Vec<_> = applied
            .docs
            .iter()
            .map(|w| (instance_id.clone(), w.collection.clone(), w.id.clone()))
            .collect();
        let mut m = self.maps();
        m.generation += 1;
        for (key, w) in keys.into_iter().zip(&applied.docs) {
            m.doc_changed(&key, w.lookup.as_ref());
            m.docs.insert(key, w.body.clone());
        }
        for ev in &applied.stored {
            let key = aggregate_key(instance_id, &ev.aggregate);
            // Not cached: the next read loads it. Copies a history only
            // if a reader still holds it. A cached list that does not end
            // just before the event (a reader loaded it after the commit)
            // is dropped rather than extended.
            let key = &key as &dyn KeyParts;
            match m.events.peek_mut(key).map(|list| extend(list, 0, ev)) {
                Some(true) => m.events.reweigh(key),
                Some(false) => drop(m.events.remove(key)),
                None => {}
            }
            let extended = m.histories.peek_mut(key).map(|(_, h)| {
                let base = h.snapshot.as_ref().map_or(0, |s| s.sequence);
                extend(&mut h.events, base, ev)
            });
            match extended {
                Some(true) => m.histories.reweigh(key),
                Some(false) => drop(m.histories.remove(key)),
                None => {}
            }
        }
        for p in req.aggregates.iter().filter(|p| p.snapshot.is_some()) {
            m.histories
                .remove(&aggregate_key(instance_id, &p.aggregate) as &dyn KeyParts);
        }
    }

    /// After another process committed `changed`: what it touched is
    /// forgotten, and reads already loading do not fill it.
    pub fn forget(&self, changed: &Changed) {
        let mut m = self.maps();
        m.generation += 1;
        for (key, lookup) in &changed.docs {
            m.doc_changed(key, lookup.as_ref());
            m.docs.remove(key);
        }
        for key in &changed.aggregates {
            m.events.remove(key);
            m.histories.remove(key);
        }
    }
}

/// Appends `ev` to `events` (which follow sequence `base`) if it is the
/// next one; false if not.
fn extend(events: &mut Arc<Vec<StoredEvent>>, base: u64, ev: &StoredEvent) -> bool {
    let last = events.last().map_or(base, |e| e.sequence);
    if ev.sequence != last + 1 {
        return false;
    }
    Arc::make_mut(events).push(ev.clone());
    true
}

/// What commits changed, as other processes learn it: the documents written
/// (by key, with their secondary key now) and the aggregates appended to.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Changed {
    pub docs: Vec<(Key, Option<String>)>,
    pub aggregates: Vec<Key>,
}

impl Changed {
    /// Adds what `req` changed when it committed as `applied`.
    pub fn add(&mut self, req: &PushRequest, applied: &Applied) {
        let instance_id = &req.instance_id;
        for w in &applied.docs {
            let key = (instance_id.clone(), w.collection.clone(), w.id.clone());
            self.docs.push((key, w.lookup.clone()));
        }
        for p in &req.aggregates {
            self.aggregates.push(owned(aggregate_key(instance_id, &p.aggregate)));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.docs.is_empty() && self.aggregates.is_empty()
    }

    /// As stored in the `changes` table.
    pub fn to_json(&self) -> String {
        serde_json::json!([self.docs, self.aggregates]).to_string()
    }

    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        let (docs, aggregates) = serde_json::from_str(json)?;
        Ok(Self { docs, aggregates })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use twofold_app::ports::AggregatePush;
    use twofold_domain::snapshot::Snapshot;
    use twofold_domain::{AggregateType, EventPayload, Timestamp};

    use super::*;
    use crate::shared::Written;

    fn key(collection: &str, id: &str) -> Key {
        ("i".into(), collection.into(), id.into())
    }

    fn doc(v: serde_json::Value) -> Doc {
        Arc::new(v)
    }

    fn lookup(ids: &[&str]) -> Lookup {
        Arc::new(
            ids.iter()
                .map(|id| (id.to_string(), doc(json!({ "id": id }))))
                .collect(),
        )
    }

    fn push(aggregates: Vec<AggregatePush>) -> PushRequest {
        PushRequest {
            instance_id: "i".into(),
            creator: "c".into(),
            created_at: Timestamp(1),
            aggregates,
            claims: vec![],
            releases: vec![],
        }
    }

    fn wrote(collection: &str, id: &str, lookup: Option<&str>, body: Option<serde_json::Value>) -> Applied {
        Applied {
            stored: vec![],
            docs: vec![Written {
                collection: collection.into(),
                id: id.into(),
                lookup: lookup.map(str::to_owned),
                body: body.map(Arc::new),
            }],
        }
    }

    fn user() -> AggregateRef {
        AggregateRef {
            kind: AggregateType::User,
            id: "u1".into(),
            owner: "o".into(),
        }
    }

    fn event(sequence: u64) -> StoredEvent {
        StoredEvent {
            instance_id: "i".into(),
            aggregate: user(),
            sequence,
            position: sequence as i64,
            created_at: Timestamp(1),
            creator: "c".into(),
            payload: EventPayload::UserLocked,
        }
    }

    #[test]
    fn each_map_keeps_within_its_budget_dropping_the_least_recently_used() {
        use crate::bounded::{ENTRY_BYTES, Weigh};
        // Room for two documents and two lookups of these sizes.
        let cache = Cache::with_limits(Limits {
            docs: 2 * (Some(doc(json!(1))).weight() + ENTRY_BYTES),
            lookups: 2 * (lookup(&["d0", "shared"]).weight() + ENTRY_BYTES),
            ..Limits::default()
        });
        let g = cache.generation();
        cache.put_doc(g, key("user", "a"), Some(doc(json!(1))));
        cache.put_doc(g, key("user", "b"), Some(doc(json!(2))));
        assert!(cache.doc(&key("user", "a")).is_some()); // a is now the most recent
        cache.put_doc(g, key("user", "c"), Some(doc(json!(3))));
        assert!(cache.doc(&key("user", "a")).is_some());
        assert_eq!(cache.doc(&key("user", "b")), None);
        assert!(cache.doc(&key("user", "c")).is_some());

        for (i, l) in ["x", "y", "z"].into_iter().enumerate() {
            cache.put_lookup(g, key("member", l), lookup(&[&format!("d{i}"), "shared"]));
        }
        let m = cache.maps();
        assert_eq!(m.lookups.len(), 2);
        assert!(m.lookups.peek(&key("member", "x")).is_none());
        // The evicted lookup no longer holds its documents.
        assert!(!m.holders.contains_key(&key("member", "d0")));
        assert_eq!(m.holders[&key("member", "shared")].len(), 2);
    }

    #[test]
    fn a_write_drops_only_the_lookups_its_document_left_or_joined() {
        let cache = Cache::default();
        let g = cache.generation();
        cache.put_lookup(g, key("user_factors", "org:1"), lookup(&["a", "b"]));
        cache.put_lookup(g, key("user_factors", "org:3"), lookup(&["c"]));
        cache.put_lookup(g, key("user_factors", "org:5"), lookup(&["d"]));
        cache.put_lookup(g, key("member", "org:1"), lookup(&["a"]));
        cache.put_doc(g, key("user_factors", "d"), Some(doc(json!("d"))));

        // Document a moves from org:1 to org:3.
        let body = json!({ "id": "a", "mask": 3 });
        cache.committed(
            &push(vec![]),
            &wrote("user_factors", "a", Some("org:3"), Some(body.clone())),
        );

        assert_eq!(cache.lookup(&key("user_factors", "org:1")), None);
        assert_eq!(cache.lookup(&key("user_factors", "org:3")), None);
        assert!(cache.lookup(&key("user_factors", "org:5")).is_some());
        assert!(cache.lookup(&key("member", "org:1")).is_some());
        assert!(cache.doc(&key("user_factors", "d")).is_some());
        // Read-your-writes: the new body is served.
        assert_eq!(cache.doc(&key("user_factors", "a")), Some(Some(doc(body))));

        // Deleting d drops the lookup that held it.
        cache.committed(&push(vec![]), &wrote("user_factors", "d", None, None));
        assert_eq!(cache.lookup(&key("user_factors", "org:5")), None);
        assert_eq!(cache.doc(&key("user_factors", "d")), Some(None));
        assert!(cache.maps().holders.keys().all(|k| k.1 == "member"));
    }

    #[test]
    fn a_read_that_raced_a_commit_is_not_cached() {
        let cache = Cache::default();
        let seen = cache.generation();
        cache.committed(&push(vec![]), &wrote("user", "a", None, Some(json!("new"))));
        cache.put_doc(seen, key("user", "b"), Some(doc(json!("old"))));
        cache.put_lookup(seen, key("user", "l"), lookup(&["a"]));
        assert_eq!(cache.doc(&key("user", "b")), None);
        assert_eq!(cache.lookup(&key("user", "l")), None);
    }

    #[test]
    fn another_processs_commit_forgets_exactly_what_it_changed() {
        let cache = Cache::default();
        let g = cache.generation();
        cache.put_doc(g, key("user", "a"), Some(doc(json!("a"))));
        cache.put_doc(g, key("user", "b"), Some(doc(json!("b"))));
        cache.put_lookup(g, key("user_factors", "org:1"), lookup(&["a"]));
        cache.put_lookup(g, key("user_factors", "org:3"), lookup(&["c"]));
        cache.put_lookup(g, key("user_factors", "org:5"), lookup(&["d"]));
        cache.put_any_instance(g, ("user".into(), "a".into()), Some(doc(json!("a"))));
        let k = owned(aggregate_key("i", &user()));
        cache.put_events(g, k.clone(), Arc::new(vec![event(1)]));
        cache.put_history(g, k.clone(), 7, History::full(Arc::new(vec![event(1)])));
        let seen = cache.generation();

        let changed = Changed {
            docs: vec![
                (key("user", "a"), None),
                (key("user_factors", "a"), None),
                (key("user_factors", "x"), Some("org:3".into())),
            ],
            aggregates: vec![k.clone()],
        };
        let stored = Changed::from_json(&changed.to_json()).unwrap();
        assert_eq!(stored, changed);
        cache.forget(&stored);

        assert_eq!(cache.doc(&key("user", "a")), None);
        assert!(cache.doc(&key("user", "b")).is_some());
        assert_eq!(cache.any_instance(&("user".into(), "a".into())), None);
        assert_eq!(cache.lookup(&key("user_factors", "org:1")), None);
        assert_eq!(cache.lookup(&key("user_factors", "org:3")), None);
        assert!(cache.lookup(&key("user_factors", "org:5")).is_some());
        assert!(cache.events(&k).is_none());
        assert!(cache.history(&k, 7).is_none());
        // A read that loaded before the change does not fill the cache.
        cache.put_doc(seen, key("user", "a"), Some(doc(json!("old"))));
        assert_eq!(cache.doc(&key("user", "a")), None);
    }

    #[test]
    fn a_cached_history_that_already_holds_the_appended_events_is_dropped() {
        let cache = Cache::default();
        let k = owned(aggregate_key("i", &user()));
        // Loaded after the commit, cached before the writer reported it.
        cache.put_events(cache.generation(), k.clone(), Arc::new(vec![event(1), event(2)]));
        let applied = Applied {
            stored: vec![event(2)],
            docs: vec![],
        };
        cache.committed(&push(vec![]), &applied);
        assert!(cache.events(&k).is_none());
    }

    #[test]
    fn histories_grow_with_appends_and_restart_at_a_new_snapshot() {
        let cache = Cache::default();
        let k = owned(aggregate_key("i", &user()));
        cache.put_history(
            cache.generation(),
            k.clone(),
            7,
            History::full(Arc::new(vec![event(1)])),
        );
        assert_eq!(cache.history(&k, 8).map(|h| h.events.len()), None);

        let applied = Applied {
            stored: vec![event(2)],
            docs: vec![],
        };
        let plain = AggregatePush {
            aggregate: user(),
            expected_sequence: 1,
            events: vec![EventPayload::UserLocked],
            snapshot: None,
        };
        cache.committed(&push(vec![plain.clone()]), &applied);
        assert_eq!(cache.history(&k, 7).map(|h| h.events.len()), Some(2));

        let with_snapshot = AggregatePush {
            snapshot: Some(Snapshot {
                version: 7,
                sequence: 2,
                created_at: Timestamp(1),
                state: "{}".into(),
            }),
            ..plain
        };
        cache.committed(
            &push(vec![with_snapshot]),
            &Applied {
                stored: vec![event(3)],
                docs: vec![],
            },
        );
        assert_eq!(cache.history(&k, 7).map(|h| h.events.len()), None);
    }
}
