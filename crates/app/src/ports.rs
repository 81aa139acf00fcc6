//! What the use cases need from storage. Implemented by the SQLite and
//! PostgreSQL adapters with identical behaviour.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

/// A read-model document, shared: cached documents are handed out without
/// copying them.
pub type Doc = Arc<Value>;
use twofold_domain::readmodel::Collection;
use twofold_domain::snapshot::{History, Snapshot};
use twofold_domain::{AggregateRef, EventPayload, InstanceId, StoredEvent, Timestamp};

/// Where use cases read the time: the system clock in production, a
/// settable one in tests (see [`crate::clock`]).
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

/// Events for one aggregate, appended only if the aggregate's last sequence
/// still equals `expected_sequence` (0 for an aggregate that must be new).
#[derive(Clone, Debug)]
pub struct AggregatePush {
    pub aggregate: AggregateRef,
    pub expected_sequence: u64,
    pub events: Vec<EventPayload>,
    /// The aggregate's state at `expected_sequence`, to store (replacing an
    /// older snapshot) with the events.
    pub snapshot: Option<Snapshot>,
}

/// A value that must be unique within `scope` (an instance ID, or "" for the
/// whole system), e.g. a user name. Claimed atomically with the events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UniqueClaim {
    pub scope: String,
    pub kind: &'static str,
    pub value: String,
}

#[derive(Clone, Debug)]
pub struct PushRequest {
    pub instance_id: String,
    pub creator: String,
    pub created_at: Timestamp,
    pub aggregates: Vec<AggregatePush>,
    pub claims: Vec<UniqueClaim>,
    /// Unique values given up by this push (e.g. the name of a removed user).
    pub releases: Vec<UniqueClaim>,
}

/// Which users a [`UserPage`] is taken from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserScope {
    /// Every user of the instance.
    All,
    /// The users of these orgs, and the user `also` (by id) wherever it is.
    Orgs { orgs: Vec<String>, also: Option<String> },
}

/// The sort keys the store pages users by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserOrder {
    /// `details.creation_date`.
    Created,
    /// The lower-cased user name (the user document's secondary key).
    UserName,
}

/// A page of users as the store computes it (v2 ListUsers without filters).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserPage {
    pub scope: UserScope,
    pub order: UserOrder,
    pub descending: bool,
    pub offset: u64,
    pub limit: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// Another writer appended to one of the aggregates first.
    #[error("concurrent modification")]
    Conflict,
    /// A unique claim is already held; carries the claim.
    #[error("unique value already taken: {0:?}")]
    Taken(UniqueClaim),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Other(String),
}

#[async_trait]
pub trait EventStore: Send + Sync + 'static {
    /// All events of one aggregate, oldest first. Shared, so a cached
    /// history is handed out without copying it.
    async fn events(
        &self,
        instance_id: &InstanceId,
        aggregate: &AggregateRef,
    ) -> Result<Arc<Vec<StoredEvent>>, StoreError>;

    /// The aggregate's snapshot of `version`, if one is stored, and the
    /// events after it; all its events without one.
    async fn history(
        &self,
        instance_id: &InstanceId,
        aggregate: &AggregateRef,
        version: i64,
    ) -> Result<History, StoreError>;

    /// Appends atomically (all aggregates and claims or nothing) and updates
    /// the read models in the same transaction. Returns the stored events.
    async fn push(&self, req: PushRequest) -> Result<Vec<StoredEvent>, StoreError>;

    /// One read-model document of an instance.
    async fn doc(&self, instance_id: &InstanceId, collection: Collection, id: &str) -> Result<Option<Doc>, StoreError>;

    /// A document looked up by id in any instance (e.g. an instance by domain).
    async fn doc_any_instance(&self, collection: Collection, id: &str) -> Result<Option<Doc>, StoreError>;

    /// Documents of an instance whose secondary key equals `lookup`.
    async fn docs_by_lookup(
        &self,
        instance_id: &InstanceId,
        collection: Collection,
        lookup: &str,
    ) -> Result<Vec<Doc>, StoreError>;

    /// The application whose client ID is `client_id`: one indexed read,
    /// what the authorize and token endpoints resolve a client with.
    async fn app_by_client_id(&self, instance_id: &InstanceId, client_id: &str) -> Result<Option<Doc>, StoreError> {
        let docs = self.docs_by_lookup(instance_id, Collection::App, client_id).await?;
        Ok(docs.into_iter().next())
    }

    /// Documents of an instance whose id starts with `prefix`, ordered by id.
    async fn docs_by_prefix(
        &self,
        instance_id: &InstanceId,
        collection: Collection,
        prefix: &str,
    ) -> Result<Vec<Doc>, StoreError>;

    /// How many documents of a collection share each secondary key.
    async fn count_by_lookup(
        &self,
        instance_id: &InstanceId,
        collection: Collection,
    ) -> Result<Vec<(String, u64)>, StoreError>;

    /// The first `limit` documents (by id) whose secondary key equals `lookup`.
    async fn first_docs_by_lookup(
        &self,
        instance_id: &InstanceId,
        collection: Collection,
        lookup: &str,
        limit: usize,
    ) -> Result<Vec<Doc>, StoreError>;

    /// One page of the instance's users in `page.scope`, ordered by
    /// `page.order` (ties by id ascending), and how many there are in all.
    async fn user_page(&self, instance_id: &InstanceId, page: &UserPage) -> Result<(u64, Vec<Doc>), StoreError>;

    /// Whether the database answers and its writer can commit (after a
    /// failed commit, a small probe write decides).
    async fn ping(&self) -> Result<(), StoreError>;

    /// The master key check recorded in the database, if any.
    async fn key_check(&self) -> Result<Option<String>, StoreError>;

    /// Records `check` unless a key check is recorded already.
    async fn record_key_check(&self, check: &str) -> Result<(), StoreError>;

    /// Closes connections; called once at shutdown.
    async fn close(&self);
}
