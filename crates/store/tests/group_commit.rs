//! Group commit on a real SQLite file: pushes that arrive together commit
//! together, and one that conflicts fails alone while the others land
//! (the writer applies a batch whole first and, when a push fails, again
//! push by push).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

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
async fn a_conflicting_push_fails_alone_in_its_batch() {
    let path = std::env::temp_dir().join(format!("tf_group_{}.db", std::process::id()));
    let url = format!("sqlite://{}", path.display());
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
    for (i, handle) in pushes.into_iter().enumerate() {
        match handle.await.unwrap() {
            Ok(_) => assert_ne!(i % 10, 0, "push {i} should have conflicted"),
            Err(StoreError::Conflict) => assert_eq!(i % 10, 0, "push {i} conflicted"),
            Err(e) => panic!("push {i}: {e}"),
        }
    }
    let instance = InstanceId::from("inst");
    for i in (0..100).filter(|i| i % 10 != 0) {
        let events = store.events(&instance, &user(&format!("u{i}"))).await.unwrap();
        assert_eq!(events.len(), 1, "u{i}");
    }
    assert_eq!(store.events(&instance, &user("taken")).await.unwrap().len(), 1);
    store.close().await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}
