//! Typed documents parsed once per stored version. The store hands out the
//! same shared [`Doc`] until the document changes, so a parse remembered
//! with the `Doc` it came from is valid exactly while the store still
//! returns that `Doc` (checked by pointer: the memo holds the `Doc`, so its
//! address cannot be reused). Saves deserialising the instance, its domain,
//! the caller and the OIDC session on every request (docs/benchmarks.md).

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex};

use serde::de::DeserializeOwned;
use twofold_domain::readmodel::Collection;

use crate::ports::Doc;

/// Entries kept before the memo starts over (a few MB at most).
const CAPACITY: usize = 4096;

type Entry = (Doc, Arc<dyn Any + Send + Sync>);

#[derive(Default)]
pub(crate) struct Parsed {
    /// By a hash of (type, collection, instance, id); a collision is only a
    /// miss, as the `Doc` decides.
    memo: Mutex<HashMap<u64, Entry>>,
    hasher: std::hash::RandomState,
}

impl Parsed {
    /// `doc` as a `T`, parsed at most once while it is current.
    pub(crate) fn get<T: DeserializeOwned + Send + Sync + 'static>(
        &self,
        collection: Collection,
        scope: &str,
        id: &str,
        doc: &Doc,
    ) -> Result<Arc<T>, serde_json::Error> {
        let key = self
            .hasher
            .hash_one((TypeId::of::<T>(), collection.as_str(), scope, id));
        if let Some(hit) = self.remembered::<T>(key, doc) {
            return Ok(hit);
        }
        let parsed = Arc::new(T::deserialize(&**doc)?);
        if let Ok(mut memo) = self.memo.lock() {
            if memo.len() >= CAPACITY {
                memo.clear();
            }
            memo.insert(key, (doc.clone(), parsed.clone()));
        }
        Ok(parsed)
    }

    fn remembered<T: Send + Sync + 'static>(&self, key: u64, doc: &Doc) -> Option<Arc<T>> {
        let memo = self.memo.lock().ok()?;
        let (seen, parsed) = memo.get(&key)?;
        if !Arc::ptr_eq(seen, doc) {
            return None;
        }
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

    #[test]
    fn a_document_is_parsed_once_per_version() {
        let parsed = Parsed::default();
        let v1: Doc = Arc::new(serde_json::json!({"name": "a"}));
        let first: Arc<Named> = parsed.get(Collection::User, "i", "u", &v1).unwrap();
        let again: Arc<Named> = parsed.get(Collection::User, "i", "u", &v1).unwrap();
        assert!(Arc::ptr_eq(&first, &again), "the same version is not parsed again");

        // An equal body in a new `Doc` is a new version: parsed again.
        let v2: Doc = Arc::new(serde_json::json!({"name": "b"}));
        let next: Arc<Named> = parsed.get(Collection::User, "i", "u", &v2).unwrap();
        assert_eq!(next.name, "b");
        assert!(!Arc::ptr_eq(&first, &next));
        // Another id or instance never gets this one's parse.
        let other: Arc<Named> = parsed.get(Collection::User, "j", "u", &v1).unwrap();
        assert!(!Arc::ptr_eq(&other, &next));
        assert_eq!(other.name, "a");
    }
}
