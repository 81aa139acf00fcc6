//! The write path shared by every command: load → decide → append, retried
//! when another writer got to the aggregate first.

use twofold_domain::{AggregateRef, DomainError, EventPayload, StoredEvent, Timestamp};

use crate::ports::{AggregatePush, PushRequest, StoreError, UniqueClaim};
use crate::{App, clock};

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

pub(crate) fn store_error(e: StoreError) -> DomainError {
    match e {
        StoreError::Unavailable(_) => DomainError::unavailable("STORE-Unav1", "database unavailable, try again"),
        StoreError::Conflict => DomainError::unavailable("STORE-Conf1", "too many concurrent changes, try again"),
        StoreError::Taken(c) => DomainError::already_exists("V3-DKcYh", format!("{} already exists", c.kind)),
        StoreError::Other(msg) => {
            tracing::error!(error = %msg, "database error");
            DomainError::internal("STORE-Int01", "An internal error occurred")
        }
    }
}

impl App {
    /// Runs `decide` against the aggregate's current events and appends what
    /// it returns. Racing writers each re-decide on the winner's state, so
    /// invariants hold without locks (optimistic concurrency).
    pub(crate) async fn execute(
        &self,
        instance_id: &str,
        creator: &str,
        aggregate: AggregateRef,
        decide: impl Fn(&[StoredEvent]) -> Result<Vec<EventPayload>, DomainError>,
    ) -> Result<WriteDetails, DomainError> {
        for _ in 0..MAX_ATTEMPTS {
            let history = self.store.events(instance_id, &aggregate).await.map_err(store_error)?;
            let events = decide(&history)?;
            if events.is_empty() {
                // Nothing to change: report the aggregate as it stands.
                return Ok(history.last().map(WriteDetails::of).unwrap_or_else(|| WriteDetails {
                    sequence: 0,
                    date: Timestamp::default(),
                    resource_owner: aggregate.owner.clone(),
                }));
            }
            let expected_sequence = history.last().map_or(0, |e| e.sequence);
            let req = PushRequest {
                instance_id: instance_id.to_owned(),
                creator: creator.to_owned(),
                created_at: clock::now(),
                aggregates: vec![AggregatePush {
                    aggregate: aggregate.clone(),
                    expected_sequence,
                    events,
                }],
                claims: vec![],
            };
            match self.store.push(req).await {
                Ok(stored) => return Ok(WriteDetails::of(stored.last().expect("events were pushed"))),
                Err(StoreError::Conflict) => tokio::task::yield_now().await,
                Err(e) => return Err(store_error(e)),
            }
        }
        Err(store_error(StoreError::Conflict))
    }

    /// Appends events to new aggregates (expected sequence 0) with claims.
    pub(crate) async fn create(
        &self,
        instance_id: &str,
        creator: &str,
        aggregates: Vec<(AggregateRef, Vec<EventPayload>)>,
        claims: Vec<UniqueClaim>,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let req = PushRequest {
            instance_id: instance_id.to_owned(),
            creator: creator.to_owned(),
            created_at: clock::now(),
            aggregates: aggregates
                .into_iter()
                .map(|(aggregate, events)| AggregatePush {
                    aggregate,
                    expected_sequence: 0,
                    events,
                })
                .collect(),
            claims,
        };
        self.store.push(req).await
    }
}
