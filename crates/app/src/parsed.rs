//! Typed documents parsed once per stored version. The store hands out the
//! same shared [`Doc`] until the document changes, so a parse remembered
//! under the `Doc`'s address is valid exactly while the store still returns
//! that `Doc` (the memo holds the `Doc`, so its address cannot be reused).
//! Saves deserialising the instance, its domain, the caller and the OIDC
//! session on every request (docs/benchmarks.md); keyed by address, a hit
//! hashes two words, not the document's names.

use std::any::{Any, TypeId};
use std::sync::{Arc, Mutex};

use hashlink::LruCache;
use serde::de::DeserializeOwned;

use crate::ports::Doc;

/// Parses kept; the one unused longest (e.g. an old version) makes room.
const CAPACITY: usize = 4096;

type Entry = (Doc, Arc<dyn Any + Send + Sync>);

pub(crate) struct Parsed {
    /// By (the `Doc`'s address, the type parsed into).
    memo: Mutex<LruCache<(usize, TypeId), Entry>>,
}

impl Default for Parsed {
    fn default() -> Self {
        Self {
            memo: Mutex::new(LruCache::new(CAPACITY)),
        }
    }
}

impl Parsed {
    /// `doc` as a `T`, parsed at most once while it is current.
    pub(crate) fn get<T: DeserializeOwned + Send + Sync + 'static>(
        &self,
        doc: &Doc,
    ) -> Result<Arc<T>, serde_json::Error> {
        let key = (Arc::as_ptr(doc) as usize, TypeId::of::<T>());
        if let Some(hit) = self.remembered::<T>(&key) {
            return Ok(hit);
        }
        let parsed = Arc::new(T::deserialize(&**doc)?);
        if let Ok(mut memo) = self.memo.lock() {
            memo.insert(key, (doc.clone(), parsed.clone()));
        }
        Ok(parsed)
    }

    fn remembered<T: Send + Sync + 'static>(&self, key: &(usize, TypeId)) -> Option<Arc<T>> {
        let mut memo = self.memo.lock().ok()?;
        let (_, parsed) = memo.get(key)?;
        parsed.clone().downcast::<T>().ok()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code: a panic is a failed test")]

    use super::*;

    #[derive(serde::Deserialize)]
    struct Named {
        name: String,
    }

    #[derive(serde::Deserialize)]
    struct Other {
        #[serde(rename = "name")]
        label: String,
    }

    #[test]
    fn a_document_is_parsed_once_per_version() {
        let parsed = Parsed::default();
        let v1: Doc = Arc::new(serde_json::json!({"name": "a"}));
        let first: Arc<Named> = parsed.get(&v1).unwrap();
        let again: Arc<Named> = parsed.get(&v1).unwrap();
        assert!(Arc::ptr_eq(&first, &again), "the same version is not parsed again");

        // An equal body in a new `Doc` is a new version: parsed again.
        let v2: Doc = Arc::new(serde_json::json!({"name": "b"}));
        let next: Arc<Named> = parsed.get(&v2).unwrap();
        assert_eq!(next.name, "b");
        assert!(!Arc::ptr_eq(&first, &next));
        // Another type gets its own parse of the same version.
        let other: Arc<Other> = parsed.get(&v1).unwrap();
        assert_eq!(other.label, "a");
    }

    #[test]
    fn old_versions_make_room() {
        let parsed = Parsed::default();
        let kept: Doc = Arc::new(serde_json::json!({"name": "kept"}));
        let _: Arc<Named> = parsed.get(&kept).unwrap();
        let key = |d: &Doc| (Arc::as_ptr(d) as usize, TypeId::of::<Named>());
        let mut last = kept.clone();
        for i in 0..CAPACITY {
            last = Arc::new(serde_json::json!({"name": i.to_string()}));
            let _: Arc<Named> = parsed.get(&last).unwrap();
        }
        let memo = parsed.memo.lock().unwrap();
        assert!(
            !memo.contains_key(&key(&kept)),
            "the least recently used parse made room"
        );
        assert!(memo.contains_key(&key(&last)));
    }
}
