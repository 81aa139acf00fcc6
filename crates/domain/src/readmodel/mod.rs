//! Read models: JSON documents kept in step with the event log. The store
//! asks [`affected`] which documents an event touches, loads them, and writes
//! back what [`apply`] returns, in the same transaction as the append, so a
//! read after a successful write always sees it.

pub mod directory;
pub mod lockout;
pub mod login_policy;
pub mod providers;
pub mod query;
pub mod session;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::event::StoredEvent;

/// Document collections.
pub mod collection {
    pub const LOGIN_POLICY: &str = "login_policy";
    pub const INSTANCE: &str = "instance";
    pub const INSTANCE_DOMAIN: &str = "instance_domain";
    /// One document, id [`super::directory::DEFAULT_INSTANCE_ID`]: the instance created at first start.
    pub const DEFAULT_INSTANCE: &str = "default_instance";
    pub const ORG: &str = "org";
    pub const USER: &str = "user";
    pub const PAT: &str = "pat";
    pub const MEMBER: &str = "member";
    pub const SESSION: &str = "session";
    pub const LOCKOUT_POLICY: &str = "lockout_policy";
    pub const PROVIDER: &str = "provider";
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DocKey {
    pub collection: &'static str,
    pub id: String,
}

impl DocKey {
    pub fn new(collection: &'static str, id: impl Into<String>) -> Self {
        Self {
            collection,
            id: id.into(),
        }
    }
}

/// The new state of one document: None deletes it. `lookup` is a secondary
/// key the store indexes (e.g. a token hash, or the user of a membership).
#[derive(Clone, Debug, PartialEq)]
pub struct DocWrite {
    pub key: DocKey,
    pub doc: Option<Value>,
    pub lookup: Option<String>,
}

/// Documents `ev` may change.
pub fn affected(ev: &StoredEvent) -> Vec<DocKey> {
    let mut keys = login_policy::affected(ev);
    keys.extend(directory::affected(ev));
    keys.extend(session::affected(ev));
    keys.extend(lockout::affected(ev));
    keys.extend(providers::affected(ev));
    keys
}

/// New state of the document `key` after `ev`, given its state before.
pub fn apply(ev: &StoredEvent, key: &DocKey, prior: Option<Value>) -> DocWrite {
    match key.collection {
        collection::LOGIN_POLICY => typed(key, prior, |p| login_policy::apply(ev, p), |_| None),
        collection::PROVIDER => providers::apply(ev, key, prior),
        collection::LOCKOUT_POLICY => typed(key, prior, |p| lockout::apply(ev, p), |_| None),
        collection::SESSION => typed(
            key,
            prior,
            |p| session::apply(ev, p),
            |s: &session::SessionView| Some(s.token_hash.clone()),
        ),
        _ => directory::apply(ev, key, prior),
    }
}

/// Runs a reducer over a typed document. A prior document that no longer
/// parses is treated as absent, which only happens after a schema change.
#[expect(
    clippy::expect_used,
    reason = "read models are derived, string-keyed structs: serializing them cannot fail"
)]
pub(crate) fn typed<T: Serialize + DeserializeOwned>(
    key: &DocKey,
    prior: Option<Value>,
    reduce: impl FnOnce(Option<T>) -> Option<T>,
    lookup: impl FnOnce(&T) -> Option<String>,
) -> DocWrite {
    let prior = prior.and_then(|v| serde_json::from_value(v).ok());
    let next = reduce(prior);
    DocWrite {
        key: key.clone(),
        lookup: next.as_ref().and_then(lookup),
        doc: next.map(|d| serde_json::to_value(d).expect("read models serialize")),
    }
}

/// For documents without a secondary key.
pub(crate) fn no_lookup<T>(_: &T) -> Option<String> {
    None
}

/// Sequence and dates of the last event applied to a document.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DocDetails {
    pub sequence: u64,
    pub creation_date: crate::Timestamp,
    pub change_date: crate::Timestamp,
    pub resource_owner: String,
}

impl DocDetails {
    pub fn created(ev: &StoredEvent) -> Self {
        Self {
            sequence: ev.sequence,
            creation_date: ev.created_at,
            change_date: ev.created_at,
            resource_owner: ev.aggregate.owner.clone(),
        }
    }

    pub fn touch(&mut self, ev: &StoredEvent) {
        self.sequence = ev.sequence;
        self.change_date = ev.created_at;
    }
}
