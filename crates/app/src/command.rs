//! The write path shared by every command: load → decide → append, retried
//! when another writer got to an aggregate first.
//!
//! Users are loaded from their snapshot and the events after it (see
//! `twofold_domain::snapshot`): every sign-in appends to the user's history,
//! which is never read whole again once a snapshot exists. A command that
//! folded [`SNAPSHOT_EVERY`] or more events stores a new snapshot of the
//! state it loaded with its events; the push's sequence check makes that
//! state the aggregate's state at the snapshot's sequence.

use std::sync::Arc;

use twofold_domain::snapshot::{History, SNAPSHOT_EVERY, Snapshot, USER_SNAPSHOT_VERSION};
use twofold_domain::user::UserState;
use twofold_domain::{AggregateRef, AggregateType, DomainError, EventPayload, InstanceId, StoredEvent, Timestamp};

use crate::App;
use crate::ports::{AggregatePush, PushRequest, StoreError, UniqueClaim};

/// How many times a command is re-decided after losing a race. Each retry
/// sees the winner's events, so most races end on the first retry (usually
/// with the domain's AlreadyExists); the bound only stops pathological churn.
const MAX_ATTEMPTS: usize = 32;

/// What a write reports back (ZITADEL's ObjectDetails).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteDetails {
    /// Per-aggregate sequence of the last event written.
    pub sequence: u64,
    pub date: Timestamp,
    pub resource_owner: String,
}

impl WriteDetails {
    fn of(ev: &StoredEvent) -> Self {
        Self {
            sequence: ev.sequence,
            date: ev.created_at,
            resource_owner: ev.aggregate.owner.clone(),
        }
    }
}

/// What a command decided: new events per loaded aggregate (same order),
/// and unique values to claim or give up with them.
#[derive(Default)]
pub(crate) struct Decision {
    pub events: Vec<Vec<EventPayload>>,
    pub claims: Vec<UniqueClaim>,
    pub releases: Vec<UniqueClaim>,
    /// Returned once the events are stored: a refused check still records
    /// its failure (and only that).
    pub error_after_push: Option<DomainError>,
}

impl Decision {
    pub fn one(events: Vec<EventPayload>) -> Self {
        Self {
            events: vec![events],
            ..Self::default()
        }
    }
}

/// An instance-wide unique value (org names, user names…), compared
/// case-insensitively.
pub(crate) fn unique(instance_id: &InstanceId, kind: &'static str, value: &str) -> UniqueClaim {
    UniqueClaim {
        scope: instance_id.as_str().to_owned(),
        kind,
        value: value.to_lowercase(),
    }
}

fn taken(claim: &UniqueClaim) -> DomainError {
    let message = match claim.kind {
        "org_name" => "Organisation's name or id already taken",
        "org_domain" => "Domain already exists",
        "user_name" => "User already exists",
        crate::projects::PROJECT_NAME => "Project already exists on organization",
        _ => "Value already taken",
    };
    DomainError::already_exists("V3-DKcYh", message)
}

pub(crate) fn store_error(e: StoreError) -> DomainError {
    match e {
        StoreError::Unavailable(_) => DomainError::unavailable("STORE-Unav1", "database unavailable, try again"),
        StoreError::Conflict => DomainError::unavailable("STORE-Conf1", "too many concurrent changes, try again"),
        StoreError::Taken(c) => taken(&c),
        StoreError::Other(msg) => {
            tracing::error!(error = %msg, "database error");
            DomainError::internal("STORE-Int01", "An internal error occurred")
        }
    }
}

/// An aggregate as a command loaded it.
pub(crate) struct Loaded {
    /// Its events; a user's only after its snapshot (read [`Self::user`]).
    events: Arc<Vec<StoredEvent>>,
    /// A user's state.
    user: Option<UserState>,
    /// The aggregate as it stands (its last event's details).
    last: Option<WriteDetails>,
    /// Enough events were folded to make a new snapshot worth storing.
    snapshot_due: bool,
}

impl Loaded {
    fn sequence(&self) -> u64 {
        self.last.as_ref().map_or(0, |d| d.sequence)
    }

    /// The snapshot to store with a push to this aggregate, if one is due.
    fn snapshot(&self) -> Option<Snapshot> {
        let (user, last) = (self.user.as_ref()?, self.last.as_ref()?);
        self.snapshot_due
            .then(|| user.to_snapshot(last.sequence, last.date))
            .flatten()
    }
}

/// The history of the `i`-th aggregate a command loaded (empty if none).
/// Not for users (whose history starts at their snapshot): see [`user_state`].
pub(crate) fn history(loaded: &[Loaded], i: usize) -> &[StoredEvent] {
    loaded.get(i).map_or(&[], |l| l.events.as_slice())
}

/// The state of the `i`-th aggregate a command loaded, a user.
pub(crate) fn user_state(loaded: &[Loaded], i: usize) -> UserState {
    loaded.get(i).and_then(|l| l.user.clone()).unwrap_or_default()
}

impl App {
    /// Runs `decide` against a user's state and appends the result.
    pub(crate) async fn execute_on_user(
        &self,
        instance_id: &InstanceId,
        creator: &str,
        aggregate: AggregateRef,
        decide: impl Fn(&UserState) -> Result<Vec<EventPayload>, DomainError>,
    ) -> Result<WriteDetails, DomainError> {
        self.execute_many(instance_id, creator, vec![aggregate], |loaded| {
            decide(&user_state(loaded, 0)).map(Decision::one)
        })
        .await
    }

    /// A user's current state, for a use case that reads before it decides.
    pub(crate) async fn load_user(
        &self,
        instance_id: &InstanceId,
        aggregate: &AggregateRef,
    ) -> Result<UserState, DomainError> {
        let loaded = self.load(instance_id, aggregate).await.map_err(store_error)?;
        Ok(loaded.user.unwrap_or_default())
    }

    /// Loads an aggregate: a user from its snapshot and the events after it
    /// (its whole history when it has no snapshot this code can read), any
    /// other aggregate whole.
    async fn load(&self, instance_id: &InstanceId, aggregate: &AggregateRef) -> Result<Loaded, StoreError> {
        if aggregate.kind != AggregateType::User {
            let events = self.store.events(instance_id, aggregate).await?;
            crate::metrics::events_loaded(events.len());
            let last = events.last().map(WriteDetails::of);
            return Ok(Loaded {
                events,
                user: None,
                last,
                snapshot_due: false,
            });
        }
        let History { snapshot, events } = self
            .store
            .history(instance_id, aggregate, USER_SNAPSHOT_VERSION)
            .await?;
        let base = match &snapshot {
            None => Some(UserState::default()),
            Some(s) => UserState::from_snapshot(s),
        };
        let (user, events) = match base {
            Some(base) => (base.fold_more(&events), events),
            None => {
                // Of this version, yet unreadable: the events are the truth.
                tracing::warn!(user_id = %aggregate.id, "unreadable user snapshot, folding the whole history");
                let all = self.store.events(instance_id, aggregate).await?;
                (UserState::fold(&all), all)
            }
        };
        crate::metrics::events_loaded(events.len());
        let last = match (events.last(), &snapshot) {
            (Some(ev), _) => Some(WriteDetails::of(ev)),
            (None, Some(s)) => Some(WriteDetails {
                sequence: s.sequence,
                date: s.created_at,
                resource_owner: aggregate.owner.clone(),
            }),
            (None, None) => None,
        };
        Ok(Loaded {
            snapshot_due: events.len() >= SNAPSHOT_EVERY,
            events,
            user: Some(user),
            last,
        })
    }

    /// Runs `decide` against one aggregate's events and appends the result.
    /// Not for users: see [`Self::execute_on_user`].
    pub(crate) async fn execute(
        &self,
        instance_id: &InstanceId,
        creator: &str,
        aggregate: AggregateRef,
        decide: impl Fn(&[StoredEvent]) -> Result<Vec<EventPayload>, DomainError>,
    ) -> Result<WriteDetails, DomainError> {
        self.execute_many(instance_id, creator, vec![aggregate], |loaded| {
            decide(history(loaded, 0)).map(Decision::one)
        })
        .await
    }

    /// Loads every aggregate, lets `decide` look at all of them, and appends
    /// its events atomically, each aggregate guarded by the sequence it was
    /// read at. Racing writers re-decide on the winner's state, so invariants
    /// hold without locks (optimistic concurrency). The details are those of
    /// the first aggregate.
    pub(crate) async fn execute_many(
        &self,
        instance_id: &InstanceId,
        creator: &str,
        aggregates: Vec<AggregateRef>,
        decide: impl Fn(&[Loaded]) -> Result<Decision, DomainError>,
    ) -> Result<WriteDetails, DomainError> {
        let (details, ()) = self
            .execute_many_with(instance_id, creator, aggregates, |loaded| Ok((decide(loaded)?, ())))
            .await?;
        Ok(details)
    }

    /// [`Self::execute_many`] for a decision that also tells the caller
    /// something (`T`, e.g. whether a token rotated): returns what the
    /// stored decision told.
    pub(crate) async fn execute_many_with<T>(
        &self,
        instance_id: &InstanceId,
        creator: &str,
        aggregates: Vec<AggregateRef>,
        decide: impl Fn(&[Loaded]) -> Result<(Decision, T), DomainError>,
    ) -> Result<(WriteDetails, T), DomainError> {
        let Some(primary_ref) = aggregates.first() else {
            return Err(DomainError::internal("COMMAND-NoAgg", "An internal error occurred"));
        };
        for _ in 0..MAX_ATTEMPTS {
            let mut loaded = Vec::with_capacity(aggregates.len());
            for a in &aggregates {
                loaded.push(self.load(instance_id, a).await.map_err(store_error)?);
            }
            let (decision, output) = decide(&loaded)?;
            let unchanged = loaded
                .first()
                .and_then(|l| l.last.clone())
                .unwrap_or_else(|| WriteDetails {
                    sequence: 0,
                    date: Timestamp::default(),
                    resource_owner: primary_ref.owner.clone(),
                });
            if decision.events.iter().all(Vec::is_empty) {
                // Nothing to change: report the aggregate as it stands.
                return Ok((unchanged, output));
            }
            let req = PushRequest {
                instance_id: instance_id.as_str().to_owned(),
                creator: creator.to_owned(),
                created_at: self.now(),
                aggregates: aggregates
                    .iter()
                    .zip(&loaded)
                    .zip(decision.events)
                    .filter(|(_, events)| !events.is_empty())
                    .map(|((aggregate, loaded), events)| AggregatePush {
                        aggregate: aggregate.clone(),
                        expected_sequence: loaded.sequence(),
                        events,
                        snapshot: loaded.snapshot(),
                    })
                    .collect(),
                claims: decision.claims,
                releases: decision.releases,
            };
            // Let go of the loaded histories before the commit: the store's
            // cache then extends its list in place instead of copying a
            // history this command still held.
            drop(loaded);
            match self.store.push(req).await {
                Ok(stored) => {
                    crate::metrics::appended(&stored);
                    if let Some(e) = decision.error_after_push {
                        return Err(e);
                    }
                    let primary = stored.iter().rev().find(|e| e.aggregate == *primary_ref);
                    let details = primary.map(WriteDetails::of).unwrap_or(unchanged);
                    return Ok((details, output));
                }
                Err(StoreError::Conflict) => tokio::task::yield_now().await,
                Err(e) => return Err(store_error(e)),
            }
        }
        Err(store_error(StoreError::Conflict))
    }

    /// Appends events to new aggregates (expected sequence 0) with claims.
    pub(crate) async fn create(
        &self,
        instance_id: &InstanceId,
        creator: &str,
        aggregates: Vec<(AggregateRef, Vec<EventPayload>)>,
        claims: Vec<UniqueClaim>,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let req = PushRequest {
            instance_id: instance_id.as_str().to_owned(),
            creator: creator.to_owned(),
            created_at: self.now(),
            aggregates: aggregates
                .into_iter()
                .map(|(aggregate, events)| AggregatePush {
                    aggregate,
                    expected_sequence: 0,
                    events,
                    snapshot: None,
                })
                .collect(),
            claims,
            releases: vec![],
        };
        self.store.push(req).await
    }
}
