//! Group commit on a real database: pushes that arrive together commit
//! together, and one that conflicts fails alone while the others land
//! (the writer applies a batch whole first and, when a push fails, again
//! push by push). On both backends.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a failed test"
)]

mod common;

use std::sync::Arc;

use twofold_app::ports::{AggregatePush, PushRequest};
use twofold_app::{EventStore, StoreError};
use twofold_domain::{AggregateRef, AggregateType, EventPayload as E, InstanceId, Timestamp};
use twofold_store::StoreOptions;

fn user(id: &str) -> AggregateRef {
    AggregateRef {
        kind: AggregateType::User,
        id: id.into(),
        owner: "org1".into(),
    }
}

fn push(id: &str, expected_sequence: u64) -> PushRequest {
    PushRequest {
        instance_id: "inst".into(),
        creator: "tester".into(),
        created_at: Timestamp(1_700_000_000_000_000),
        aggregates: vec![AggregatePush {
            aggregate: user(id),
            expected_sequence,
            events: vec![E::UserLocked],
            snapshot: None,
        }],
        claims: vec![],
        releases: vec![],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflicting_push_fails_alone_in_its_batch_on_sqlite() {
    common::with_sqlite("tf_group", conflicting_push_fails_alone).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflicting_push_fails_alone_in_its_batch_on_postgres() {
    common::with_postgres("tf_group", conflicting_push_fails_alone).await;
}

async fn conflicting_push_fails_alone(url: String) {
    let store: Arc<dyn EventStore> = twofold_store::open(&url, &StoreOptions::default()).await.unwrap();
    store.push(push("taken", 0)).await.unwrap();

    // Many at once, so the writer finds them queued together; every tenth
    // expects the aggregate "taken" to be new.
    let pushes: Vec<_> = (0..100)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let req = if i % 10 == 0 {
                    push("taken", 0)
                } else {
                    push(&format!("u{i}"), 0)
                };
                store.push(req).await
            })
        })
        .collect();
    let mut acknowledged = Vec::new();
    for (i, handle) in pushes.into_iter().enumerate() {
        match handle.await.unwrap() {
            Ok(stored) => {
                assert_ne!(i % 10, 0, "push {i} should have conflicted");
                acknowledged.push((i, stored));
            }
            Err(StoreError::Conflict) => assert_eq!(i % 10, 0, "push {i} conflicted"),
            Err(e) => panic!("push {i}: {e}"),
        }
    }
    store.close().await;

    // As another process reads them: each acknowledged event stored once,
    // at the position its push was told.
    let store = twofold_store::open(&url, &StoreOptions::default()).await.unwrap();
    let instance = InstanceId::from("inst");
    let mut positions = std::collections::HashSet::new();
    for (i, told) in acknowledged {
        let events = store.events(&instance, &user(&format!("u{i}"))).await.unwrap();
        assert_eq!(events.len(), 1, "u{i}");
        assert_eq!(events[0].position, told[0].position, "u{i}");
        assert!(positions.insert(told[0].position), "u{i}: position given twice");
    }
    assert_eq!(store.events(&instance, &user("taken")).await.unwrap().len(), 1);
    store.close().await;
}
