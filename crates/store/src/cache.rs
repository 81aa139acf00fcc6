//! An in-memory copy of what the one SQLite process has read, kept exact by
//! its own writes. Only a store that is the sole writer of its database may
//! use it (SQLite); PostgreSQL nodes share a database and read through.
//!
//! A read that misses notes the write generation first and fills the cache
//! only if no write committed meanwhile, so a slow reader can never put back
//! a value an interleaved write replaced.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;
use twofold_app::StoreError;
use twofold_app::ports::Doc;
use twofold_domain::StoredEvent;

/// Beyond this many entries per map the cache starts over.
const MAX_ENTRIES: usize = 100_000;

type DocKey = (String, String, String);

#[derive(Default)]
struct Maps {
    generation: u64,
    docs: HashMap<DocKey, Option<Doc>>,
    any_instance: HashMap<(String, String), Option<Doc>>,
    lookups: HashMap<DocKey, Vec<Doc>>,
    events: HashMap<DocKey, Arc<Vec<StoredEvent>>>,
}

#[derive(Default)]
pub(crate) struct Cache(Mutex<Maps>);

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

fn bounded<K: std::hash::Hash + Eq, V>(map: &mut HashMap<K, V>, key: K, value: V) {
    if map.len() >= MAX_ENTRIES {
        map.clear();
    }
    map.insert(key, value);
}

impl Cache {
    /// The maps. A panic while the lock was held may have left them
    /// half-updated, so a poisoned cache starts over empty.
    fn maps(&self) -> MutexGuard<'_, Maps> {
        match self.0.lock() {
            Ok(m) => m,
            Err(poisoned) => {
                let mut m = poisoned.into_inner();
                let generation = m.generation + 1;
                *m = Maps {
                    generation,
                    ..Maps::default()
                };
                self.0.clear_poison();
                m
            }
        }
    }

    pub fn generation(&self) -> u64 {
        self.maps().generation
    }

    pub fn doc(&self, key: &DocKey) -> Option<Option<Doc>> {
        self.maps().docs.get(key).cloned()
    }

    pub fn put_doc(&self, seen: u64, key: DocKey, doc: Option<Doc>) {
        let mut m = self.maps();
        if m.generation == seen {
            bounded(&mut m.docs, key, doc);
        }
    }

    pub fn any_instance(&self, key: &(String, String)) -> Option<Option<Doc>> {
        self.maps().any_instance.get(key).cloned()
    }

    pub fn put_any_instance(&self, seen: u64, key: (String, String), doc: Option<Doc>) {
        let mut m = self.maps();
        if m.generation == seen {
            bounded(&mut m.any_instance, key, doc);
        }
    }

    pub fn lookup(&self, key: &DocKey) -> Option<Vec<Doc>> {
        self.maps().lookups.get(key).cloned()
    }

    pub fn put_lookup(&self, seen: u64, key: DocKey, docs: Vec<Doc>) {
        let mut m = self.maps();
        if m.generation == seen {
            bounded(&mut m.lookups, key, docs);
        }
    }

    pub fn events(&self, key: &DocKey) -> Option<Arc<Vec<StoredEvent>>> {
        self.maps().events.get(key).cloned()
    }

    pub fn put_events(&self, seen: u64, key: DocKey, events: Arc<Vec<StoredEvent>>) {
        let mut m = self.maps();
        if m.generation == seen {
            bounded(&mut m.events, key, events);
        }
    }

    /// Forgets everything (after a commit whose outcome is unknown); reads
    /// already loading do not fill it, their generation is gone.
    pub fn clear(&self) {
        let mut m = self.maps();
        let generation = m.generation + 1;
        *m = Maps {
            generation,
            ..Maps::default()
        };
    }

    /// After a commit: the written documents and appended events replace
    /// what was cached; lookups of the touched collections are dropped.
    pub fn committed(&self, instance_id: &str, docs: &[(String, String, Option<Value>)], stored: &[StoredEvent]) {
        let mut m = self.maps();
        m.generation += 1;
        for (collection, id, doc) in docs {
            m.docs.insert(
                (instance_id.to_owned(), collection.clone(), id.clone()),
                doc.clone().map(Arc::new),
            );
            m.any_instance.remove(&(collection.clone(), id.clone()));
            m.lookups.retain(|(_, c, _), _| c != collection);
        }
        for ev in stored {
            let key = (
                instance_id.to_owned(),
                ev.aggregate.kind.as_str().to_owned(),
                ev.aggregate.id.clone(),
            );
            // Not cached: the next read loads it whole.
            // Copies the history only if a reader still holds it.
            if let Some(list) = m.events.get_mut(&key) {
                Arc::make_mut(list).push(ev.clone());
            }
        }
    }
}
