//! User snapshots against a real SQLite file, and a real PostgreSQL
//! database when `TWOFOLD_TEST_DATABASE_URL` is set: a long history is read
//! as its snapshot plus the few events after it, folds to the same state as
//! the whole history, and a snapshot of another version is never used.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

mod common;

use std::sync::Arc;

use twofold_app::EventStore;
use twofold_app::ports::{AggregatePush, PushRequest};
use twofold_domain::event::HumanAdded;
use twofold_domain::snapshot::{SNAPSHOT_EVERY, USER_SNAPSHOT_VERSION};
use twofold_domain::user::UserState;
use twofold_domain::{AggregateRef, AggregateType, EventPayload as E, InstanceId, Timestamp};
use twofold_store::StoreOptions;

const LONG: usize = 6_000;

fn user() -> AggregateRef {
    AggregateRef {
        kind: AggregateType::User,
        id: "u1".into(),
        owner: "org1".into(),
    }
}

fn push(expected_sequence: u64, events: Vec<E>, snapshot: Option<twofold_domain::snapshot::Snapshot>) -> PushRequest {
    PushRequest {
        instance_id: "inst".into(),
        creator: "tester".into(),
        created_at: Timestamp(1_700_000_000_000_000 + expected_sequence as i64),
        aggregates: vec![AggregatePush {
            aggregate: user(),
            expected_sequence,
            events,
            snapshot,
        }],
        claims: vec![],
        releases: vec![],
    }
}

fn added() -> E {
    E::HumanAdded(Box::new(HumanAdded {
        user_name: "ada".into(),
        first_name: "Ada".into(),
        last_name: "Lovelace".into(),
        nick_name: String::new(),
        display_name: "Ada Lovelace".into(),
        preferred_language: "en".into(),
        gender: 0,
        email: "ada@example.com".into(),
        phone: String::new(),
        encoded_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        change_required: false,
    }))
}

/// Creates the user and appends `LONG` lock/unlock and check events in a
/// few large pushes (the fast way to a long history).
async fn long_history(store: &dyn EventStore) -> u64 {
    store.push(push(0, vec![added()], None)).await.unwrap();
    let mut sequence = 1u64;
    while (sequence as usize) < LONG {
        let events: Vec<E> = (0..1_000)
            .map(|i| match i % 4 {
                0 => E::PasswordCheckFailed,
                1 => E::UserLocked,
                2 => E::UserUnlocked,
                _ => E::PasswordCheckSucceeded,
            })
            .collect();
        let n = events.len() as u64;
        store.push(push(sequence, events, None)).await.unwrap();
        sequence += n;
    }
    sequence
}

async fn snapshots_bound_the_history(open: impl AsyncFn() -> Arc<dyn EventStore>) {
    let store = open().await;
    let instance = InstanceId::new("inst");
    let last = long_history(store.as_ref()).await;

    // No snapshot yet: the whole history.
    let h = store.history(&instance, &user(), USER_SNAPSHOT_VERSION).await.unwrap();
    assert!(h.snapshot.is_none());
    assert_eq!(h.events.len() as u64, last);
    let whole = UserState::fold(&h.events);
    assert!(whole.exists && !whole.locked);

    // A command stores the state it loaded with its events.
    let snap = whole
        .to_snapshot(last, h.events[h.events.len() - 1].created_at)
        .unwrap();
    store.push(push(last, vec![E::UserLocked], Some(snap))).await.unwrap();

    for store in [store.clone(), open().await] {
        let h = store.history(&instance, &user(), USER_SNAPSHOT_VERSION).await.unwrap();
        let snapshot = h.snapshot.as_deref().expect("the snapshot is read");
        assert_eq!(snapshot.sequence, last);
        assert_eq!(h.events.len(), 1, "only the events after the snapshot are read");
        assert_eq!(h.last_sequence(), last + 1);
        let from_snapshot = UserState::from_snapshot(snapshot).unwrap().fold_more(&h.events);
        let full = store.events(&instance, &user()).await.unwrap();
        assert_eq!(full.len() as u64, last + 1);
        assert_eq!(from_snapshot, UserState::fold(&full));
        assert!(from_snapshot.locked);

        // Code of another version never sees it: the whole history.
        let other = store
            .history(&instance, &user(), USER_SNAPSHOT_VERSION ^ 1)
            .await
            .unwrap();
        assert!(other.snapshot.is_none());
        assert_eq!(other.events.len() as u64, last + 1);
    }

    // An older snapshot never replaces a newer one; a later one does.
    let h = store.history(&instance, &user(), USER_SNAPSHOT_VERSION).await.unwrap();
    let stale = UserState::default().to_snapshot(3, Timestamp(0)).unwrap();
    store
        .push(push(last + 1, vec![E::UserUnlocked], Some(stale)))
        .await
        .unwrap();
    let after = store.history(&instance, &user(), USER_SNAPSHOT_VERSION).await.unwrap();
    assert_eq!(after.snapshot, h.snapshot);
    assert_eq!(after.events.len(), 2);

    let state = UserState::from_snapshot(after.snapshot.as_deref().unwrap())
        .unwrap()
        .fold_more(&after.events);
    let newer = state.to_snapshot(last + 2, Timestamp(0)).unwrap();
    store
        .push(push(last + 2, vec![E::UserLocked], Some(newer)))
        .await
        .unwrap();
    let after = store.history(&instance, &user(), USER_SNAPSHOT_VERSION).await.unwrap();
    assert_eq!(after.snapshot.as_deref().map(|s| s.sequence), Some(last + 2));
    assert_eq!(after.events.len(), 1);
    assert!(after.events.len() < SNAPSHOT_EVERY);

    // A push that loses its race stores neither its events nor its snapshot.
    let lost = state.to_snapshot(last + 9, Timestamp(0)).unwrap();
    let err = store.push(push(last + 1, vec![E::UserLocked], Some(lost))).await;
    assert_eq!(err.unwrap_err(), twofold_app::StoreError::Conflict);
    let after = open()
        .await
        .history(&instance, &user(), USER_SNAPSHOT_VERSION)
        .await
        .unwrap();
    assert_eq!(after.snapshot.as_deref().map(|s| s.sequence), Some(last + 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_reads_a_long_history_from_its_snapshot() {
    common::with_sqlite("tf_snap", async |url| {
        snapshots_bound_the_history(async || twofold_store::open(&url, &StoreOptions::default()).await.unwrap()).await
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_reads_a_long_history_from_its_snapshot() {
    common::with_postgres("tf_snap", async |url| {
        snapshots_bound_the_history(async || twofold_store::open(&url, &StoreOptions::default()).await.unwrap()).await
    })
    .await;
}
