//! Pages of users (`EventStore::user_page`) against a real SQLite file, and
//! a real PostgreSQL database when `TWOFOLD_TEST_DATABASE_URL` is set: with
//! enough users to split the marks' buckets (migration 0007), after
//! additions, removals, renames and org moves, every page and total equals
//! the one computed from all the user documents.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

mod common;

use std::sync::Arc;

use serde_json::Value;
use sqlx::Connection;
use twofold_app::EventStore;
use twofold_app::ports::{AggregatePush, PushRequest, UserOrder, UserPage, UserScope};
use twofold_domain::event::{HumanAdded, UserRemoved, UsernameChanged};
use twofold_domain::{AggregateRef, AggregateType, EventPayload as E, InstanceId, Timestamp};
use twofold_store::StoreOptions;

const USERS: usize = 4_500;

fn user(i: usize) -> AggregateRef {
    AggregateRef {
        kind: AggregateType::User,
        id: format!("u{i:05}"),
        owner: format!("org{}", i % 3),
    }
}

/// A name whose order differs from the creation order; a few shared.
fn name(i: usize) -> String {
    format!("n{:06}", (i * 7_919) % 10_007 % 3_000)
}

fn added(i: usize) -> E {
    E::HumanAdded(Box::new(HumanAdded {
        user_name: name(i),
        first_name: "A".into(),
        last_name: "B".into(),
        nick_name: String::new(),
        display_name: "A B".into(),
        preferred_language: "en".into(),
        gender: 0,
        email: format!("{i}@example.com"),
        phone: String::new(),
        encoded_hash: None,
        change_required: false,
    }))
}

/// Every push's users share its creation date: ties.
fn push(at: i64, aggregates: Vec<AggregatePush>) -> PushRequest {
    PushRequest {
        instance_id: "inst".into(),
        creator: "tester".into(),
        created_at: Timestamp(1_700_000_000_000_000 + at),
        aggregates,
        claims: vec![],
        releases: vec![],
    }
}

fn one(i: usize, expected_sequence: u64, event: E) -> AggregatePush {
    AggregatePush {
        aggregate: user(i),
        expected_sequence,
        events: vec![event],
        snapshot: None,
    }
}

/// A user as the listing sees it: id, org, creation date, lower-cased name.
#[derive(Clone, Debug)]
struct Row {
    id: String,
    org: String,
    created: i64,
    name: String,
}

/// What the page must be, from every user document.
fn expected(all: &[Row], page: &UserPage) -> (u64, Vec<String>) {
    let mut rows: Vec<&Row> = all
        .iter()
        .filter(|r| match &page.scope {
            UserScope::All => true,
            UserScope::Orgs { orgs, also } => orgs.contains(&r.org) || also.as_deref() == Some(r.id.as_str()),
        })
        .collect();
    rows.sort_by(|a, b| {
        let by_key = match page.order {
            UserOrder::Created => a.created.cmp(&b.created),
            UserOrder::UserName => a.name.cmp(&b.name),
        };
        let by_key = if page.descending { by_key.reverse() } else { by_key };
        by_key.then_with(|| a.id.cmp(&b.id))
    });
    let ids = rows
        .iter()
        .skip(page.offset as usize)
        .take(page.limit as usize)
        .map(|r| r.id.clone())
        .collect();
    (rows.len() as u64, ids)
}

async fn check_pages(store: &dyn EventStore, url: &str, all: &[Row], what: &str) {
    // Buckets split, every user in one: pages of every user take the marks.
    for (marks, users) in marks(url).await {
        assert!(marks >= 2, "{what}: {marks} marks");
        assert_eq!(users, all.len() as i64, "{what}");
    }
    let instance = InstanceId::new("inst");
    let scopes = [
        UserScope::All,
        UserScope::Orgs {
            orgs: vec!["org1".into()],
            also: None,
        },
        UserScope::Orgs {
            orgs: vec!["org0".into(), "org2".into()],
            also: Some(all.iter().find(|r| r.org == "org1").unwrap().id.clone()),
        },
        UserScope::Orgs {
            orgs: vec![],
            also: Some(all[0].id.clone()),
        },
    ];
    let n = all.len() as u64;
    let offsets = [
        0,
        1,
        99,
        999,
        1_000,
        1_001,
        1_999,
        2_000,
        2_001,
        3_333,
        n - 101,
        n - 1,
        n,
        n + 7,
    ];
    for scope in &scopes {
        for order in [UserOrder::Created, UserOrder::UserName] {
            for descending in [false, true] {
                for offset in offsets {
                    for limit in [100, 7] {
                        let page = UserPage {
                            scope: scope.clone(),
                            order,
                            descending,
                            offset,
                            limit,
                        };
                        let (total, docs) = store.user_page(&instance, &page).await.unwrap();
                        let ids: Vec<String> = docs.iter().map(|d| d["id"].as_str().unwrap().to_owned()).collect();
                        assert_eq!((total, ids), expected(all, &page), "{what}: {page:?}");
                    }
                }
            }
        }
    }
}

/// Every user document, read past the store.
async fn all_users(url: &str) -> Vec<Row> {
    let rows: Vec<(String, String)> = if url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_as("SELECT lookup, body FROM docs WHERE collection = 'user'")
            .fetch_all(&mut c)
            .await
            .unwrap()
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_as("SELECT lookup, body FROM docs WHERE collection = 'user'")
            .fetch_all(&mut c)
            .await
            .unwrap()
    };
    rows.into_iter()
        .map(|(name, body)| {
            let v: Value = serde_json::from_str(&body).unwrap();
            Row {
                id: v["id"].as_str().unwrap().to_owned(),
                org: v["org_id"].as_str().unwrap().to_owned(),
                created: v["details"]["creation_date"].as_i64().unwrap(),
                name,
            }
        })
        .collect()
}

/// The instance's marks of both orders: how many, how many users in all.
async fn marks(url: &str) -> Vec<(i64, i64)> {
    let sql = "SELECT COUNT(*), CAST(SUM(n) AS BIGINT) FROM user_marks_created WHERE instance_id = 'inst' \
               UNION ALL SELECT COUNT(*), CAST(SUM(n) AS BIGINT) FROM user_marks_name WHERE instance_id = 'inst'";
    if url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_as(sql).fetch_all(&mut c).await.unwrap()
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_as(sql).fetch_all(&mut c).await.unwrap()
    }
}

/// Moves users to another org by rewriting their documents (no event
/// does), as a rebuild or a future event might. On SQLite the store writes
/// the org column beside the body (migration 0009); PostgreSQL generates it.
async fn move_org(url: &str, ids: &[String], org: &str) {
    let list = ids.iter().map(|i| format!("'{i}'")).collect::<Vec<_>>().join(", ");
    if url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        let sql = format!(
            "UPDATE docs SET body = json_set(body, '$.org_id', '{org}'), user_org = '{org}' \
             WHERE collection = 'user' AND id IN ({list})"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut c).await.unwrap();
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        let sql = format!(
            "UPDATE docs SET body = jsonb_set(body::jsonb, '{{org_id}}', '\"{org}\"')::text \
             WHERE collection = 'user' AND id IN ({list})"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut c).await.unwrap();
    }
}

async fn pages_match_every_user(url: &str) {
    let store: Arc<dyn EventStore> = twofold_store::open(url, &StoreOptions::default()).await.unwrap();
    let mut at = 0;
    for chunk in (0..USERS).collect::<Vec<_>>().chunks(250) {
        at += 1;
        let pushes = chunk.iter().map(|i| one(*i, 0, added(*i))).collect();
        store.push(push(at, pushes)).await.unwrap();
    }
    check_pages(store.as_ref(), url, &all_users(url).await, "added").await;

    // Removals (a whole bucket's worth, emptying some), renames (moving
    // users across buckets of the name order), org moves.
    at += 1;
    let removed = (0..USERS)
        .filter(|i| i % 5 == 1 || (1_000..2_300).contains(i))
        .map(|i| one(i, 1, E::UserRemoved(UserRemoved { user_name: name(i) })));
    store.push(push(at, removed.collect())).await.unwrap();
    at += 1;
    let renamed = (0..USERS)
        .filter(|i| i % 5 == 2 && !(1_000..2_300).contains(i))
        .map(|i| {
            one(
                i,
                1,
                E::UsernameChanged(UsernameChanged {
                    user_name: format!("m{i}"),
                    old_user_name: name(i),
                }),
            )
        });
    store.push(push(at, renamed.collect())).await.unwrap();
    let moved: Vec<String> = (0..USERS).filter(|i| i % 7 == 3).map(|i| user(i).id).collect();
    move_org(url, &moved, "org1").await;
    check_pages(store.as_ref(), url, &all_users(url).await, "changed").await;

    // A rebuild derives the same counts and marks.
    store.close().await;
    twofold_store::rebuild(url).await.unwrap().unwrap();
    let store = twofold_store::open(url, &StoreOptions::default()).await.unwrap();
    let mut all = all_users(url).await;
    for r in all.iter_mut().filter(|r| moved.contains(&r.id)) {
        r.org = format!("org{}", r.id.trim_start_matches('u').parse::<usize>().unwrap() % 3);
    }
    check_pages(store.as_ref(), url, &all, "rebuilt").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_pages_match_every_user() {
    common::with_sqlite("tf_pages", async |url| pages_match_every_user(&url).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_pages_match_every_user() {
    common::with_postgres("tf_pages", async |url| pages_match_every_user(&url).await).await;
}
