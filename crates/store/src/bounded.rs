//! A least-recently-used map bounded by an estimate of the bytes its
//! values hold rather than by their number: documents range from a few
//! hundred bytes to tens of KB, so a count bounds memory only loosely.

use std::borrow::Borrow;
use std::hash::Hash;
use std::sync::Arc;

use hashlink::LruCache;
use serde_json::Value;
use twofold_domain::StoredEvent;
use twofold_domain::snapshot::History;

use crate::cache::Lookup;

/// Bytes a value is reckoned to hold in memory.
pub(crate) trait Weigh {
    fn weight(&self) -> usize;
}

/// A stored event in memory (ids, type, payload), reckoned flat: events are
/// small and their payloads typed.
const EVENT_BYTES: usize = 384;
/// Per map entry: the key's strings, the links, the allocations.
pub(crate) const ENTRY_BYTES: usize = 160;

/// Per JSON node: the `Value`, its map slot (hash, key, order index) and
/// allocator rounding; measured RSS at 100 k users was about twice what
/// 48 bytes a node predicted.
const NODE_BYTES: usize = 96;

/// A parsed JSON value: its strings and [`NODE_BYTES`] a node.
pub(crate) fn value_bytes(v: &Value) -> usize {
    NODE_BYTES
        + match v {
            Value::String(s) => s.len(),
            Value::Array(a) => a.iter().map(value_bytes).sum(),
            Value::Object(o) => o.iter().map(|(k, v)| k.len() + value_bytes(v)).sum(),
            Value::Null | Value::Bool(_) | Value::Number(_) => 0,
        }
}

impl Weigh for Option<Arc<Value>> {
    fn weight(&self) -> usize {
        self.as_deref().map_or(0, value_bytes)
    }
}

impl Weigh for Lookup {
    fn weight(&self) -> usize {
        self.iter().map(|(id, doc)| id.len() + value_bytes(doc)).sum()
    }
}

impl Weigh for Arc<Vec<StoredEvent>> {
    fn weight(&self) -> usize {
        self.len() * EVENT_BYTES
    }
}

impl Weigh for (i64, History) {
    fn weight(&self) -> usize {
        let h = &self.1;
        h.snapshot.as_ref().map_or(0, |s| s.state.len()) + h.events.len() * EVENT_BYTES
    }
}

pub(crate) struct Bounded<K: Hash + Eq, V> {
    map: LruCache<K, (V, usize)>,
    bytes: usize,
    budget: usize,
}

impl<K: Hash + Eq, V: Weigh> Bounded<K, V> {
    pub fn new(budget: usize) -> Self {
        Self {
            map: LruCache::new_unbounded(),
            bytes: 0,
            budget,
        }
    }

    pub fn get<Q: Hash + Eq + ?Sized>(&mut self, k: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.map.get(k).map(|(v, _)| v)
    }

    #[cfg(test)]
    pub fn peek<Q: Hash + Eq + ?Sized>(&self, k: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.map.peek(k).map(|(v, _)| v)
    }

    /// The value to change in place; `reweigh` it after.
    pub fn peek_mut<Q: Hash + Eq + ?Sized>(&mut self, k: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        self.map.peek_mut(k).map(|(v, _)| v)
    }

    /// Counts the value under `k` again after a change in place.
    pub fn reweigh<Q: Hash + Eq + ?Sized>(&mut self, k: &Q)
    where
        K: Borrow<Q>,
    {
        if let Some((v, w)) = self.map.peek_mut(k) {
            let now = v.weight() + ENTRY_BYTES;
            self.bytes = self.bytes - *w + now;
            *w = now;
        }
    }

    /// Stores `v`, then drops the entries unused longest until the map is
    /// within its budget (the new one stays even if alone it is over);
    /// returns what was dropped.
    pub fn insert(&mut self, k: K, v: V) -> Vec<(K, V)> {
        let w = v.weight() + ENTRY_BYTES;
        if let Some((_, old)) = self.map.insert(k, (v, w)) {
            self.bytes -= old;
        }
        self.bytes += w;
        let mut dropped = Vec::new();
        while self.bytes > self.budget && self.map.len() > 1 {
            let Some((k, (v, w))) = self.map.remove_lru() else {
                break;
            };
            self.bytes -= w;
            dropped.push((k, v));
        }
        dropped
    }

    pub fn remove<Q: Hash + Eq + ?Sized>(&mut self, k: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        let (v, w) = self.map.remove(k)?;
        self.bytes -= w;
        Some(v)
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Bytes reckoned held now.
    #[cfg(test)]
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(v: Value) -> Option<Arc<Value>> {
        Some(Arc::new(v))
    }

    #[test]
    fn the_map_keeps_within_its_byte_budget_dropping_the_least_recently_used() {
        let big = json!({"name": "x".repeat(1000)});
        let one = doc(big.clone()).weight() + ENTRY_BYTES;
        let mut m: Bounded<&str, Option<Arc<Value>>> = Bounded::new(2 * one);
        assert!(m.insert("a", doc(big.clone())).is_empty());
        assert!(m.insert("b", doc(big.clone())).is_empty());
        assert!(m.get("a").is_some()); // a is now the most recent
        let dropped = m.insert("c", doc(big.clone()));
        assert_eq!(dropped.iter().map(|(k, _)| *k).collect::<Vec<_>>(), ["b"]);
        assert_eq!((m.len(), m.bytes()), (2, 2 * one));
        // Replacing counts the new value only; removing gives its bytes back.
        m.insert("c", doc(json!(1)));
        assert!(m.bytes() < 2 * one);
        m.remove("a");
        m.remove("c");
        assert_eq!((m.len(), m.bytes()), (0, 0));
        // One value above the budget is kept alone rather than refused.
        let huge = json!({"name": "x".repeat(10_000)});
        assert!(m.insert("h", doc(huge)).is_empty());
        assert_eq!(m.len(), 1);
    }
}
