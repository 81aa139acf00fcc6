//! Closing a SQLite store closes its inline read connections before the
//! last connection, so that one checkpoints the WAL into the database file
//! and removes it; reads after the close are refused as unavailable.

#![allow(clippy::unwrap_used, reason = "test code: a panic is a failed test")]

use twofold_app::StoreError;
use twofold_app::ports::{AggregatePush, PushRequest};
use twofold_domain::readmodel::Collection;
use twofold_domain::{AggregateRef, AggregateType, EventPayload, InstanceId, Timestamp};
use twofold_store::StoreOptions;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_checkpoints_the_wal_and_refuses_later_reads() {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let path = std::env::temp_dir().join(format!("tf_close_{}_{nanos}.db", std::process::id()));
    let url = format!("sqlite://{}", path.display());
    let store = twofold_store::open(&url, &StoreOptions::default()).await.unwrap();
    let instance = InstanceId::new("inst");
    let user = AggregateRef {
        kind: AggregateType::User,
        id: "u1".into(),
        owner: "org1".into(),
    };
    store
        .push(PushRequest {
            instance_id: "inst".into(),
            creator: "tester".into(),
            created_at: Timestamp(1),
            aggregates: vec![AggregatePush {
                aggregate: user.clone(),
                expected_sequence: 0,
                events: vec![EventPayload::UserLocked],
                snapshot: None,
            }],
            claims: vec![],
            releases: vec![],
        })
        .await
        .unwrap();
    // Cache misses: each read takes a read connection.
    assert_eq!(store.events(&instance, &user).await.unwrap().len(), 1);
    assert!(
        store
            .doc(&instance, Collection::User, "nobody")
            .await
            .unwrap()
            .is_none()
    );

    let wal = format!("{}-wal", path.display());
    assert!(std::path::Path::new(&wal).exists());
    store.close().await;
    assert!(
        !std::path::Path::new(&wal).exists(),
        "the WAL was checkpointed and removed"
    );
    let refused = store.doc(&instance, Collection::User, "other").await;
    assert!(matches!(refused, Err(StoreError::Unavailable(_))), "{refused:?}");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}
