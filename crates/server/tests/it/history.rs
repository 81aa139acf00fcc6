//! Long user histories: a command reads a user's snapshot and the events
//! after it, so a user with thousands of earlier events is read like a new
//! one (counted in events read, never timed) and behaves the same.

use serde_json::json;
use sqlx::Connection;

use crate::harness::{Backend, Server, backend_tests, rest_error};
use crate::sessions::create;

backend_tests!(a_long_history_is_read_from_its_snapshot);

/// Lock/unlock pairs appended to the user's history.
const PAIRS: i64 = 2_600;

/// The fast way to a long history: `2 * PAIRS` lock/unlock events written
/// straight into the event log (the server is stopped, nothing is cached).
async fn append_lock_pairs(s: &Server, user: &str) {
    let head = "SELECT instance_id, owner, MAX(sequence), MAX(created_at) FROM events \
                WHERE aggregate_type = 'user' AND aggregate_id = $1 GROUP BY instance_id, owner";
    let insert = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $5) \
         INSERT INTO events (instance_id, aggregate_type, aggregate_id, sequence, event_type, creator, owner, created_at) \
         SELECT $1, 'user', $2, $3 + i, CASE WHEN i % 2 = 1 THEN 'user.locked' ELSE 'user.unlocked' END, \
         'test', $4, $6 + i FROM n";
    macro_rules! run {
        ($conn:ty) => {{
            let mut c = <$conn>::connect(&s.db_url).await.unwrap();
            let (instance, owner, last, at): (String, String, i64, i64) =
                sqlx::query_as(head).bind(user).fetch_one(&mut c).await.unwrap();
            sqlx::query(insert)
                .bind(instance)
                .bind(user)
                .bind(last)
                .bind(owner)
                .bind(2 * PAIRS)
                .bind(at)
                .execute(&mut c)
                .await
                .unwrap();
        }};
    }
    if s.db_url.starts_with("sqlite:") {
        run!(sqlx::SqliteConnection)
    } else {
        run!(sqlx::PgConnection)
    }
}

/// Events the server has read to rebuild aggregates for commands.
async fn events_loaded(s: &Server) -> f64 {
    let text = reqwest::get(s.url("/debug/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("twofold_events_loaded_total ")?.parse().ok())
        .unwrap_or(0.0)
}

async fn lock(s: &Server, user: &str, lock: bool) -> (u16, serde_json::Value) {
    let verb = if lock { "lock" } else { "unlock" };
    s.call("POST", &format!("/v2/users/{user}/{verb}"), Some(json!({})))
        .await
}

async fn a_long_history_is_read_from_its_snapshot(b: Backend) {
    let mut s = Server::start(b).await;
    let user = s.create_human(None, "longhistory").await;
    s.stop();
    append_lock_pairs(&s, &user).await;
    s.restart();

    // The first command folds the whole history once and stores a snapshot.
    let before = events_loaded(&s).await;
    let (status, got) = lock(&s, &user, true).await;
    assert_eq!(status, 200, "{got}");
    let first = events_loaded(&s).await - before;
    assert!(first >= (2 * PAIRS) as f64, "the first command read {first} events");

    // Every later command reads the snapshot and the few events after it.
    let before = events_loaded(&s).await;
    let commands = 41;
    for i in 0..commands {
        let (status, got) = lock(&s, &user, i % 2 == 1).await;
        assert_eq!(status, 200, "{got}");
    }
    let (id, _) = create(&s, "longhistory").await;
    assert!(!id.is_empty());
    let read = events_loaded(&s).await - before;
    // Without snapshots: over 5,200 events per command.
    assert!(
        read <= f64::from(commands + 3) * 64.0,
        "{commands} commands and a sign-in read {read} events"
    );

    // The state folded from the snapshot is the user's: locked now, so a
    // second lock is refused exactly as on a short history.
    let (_, got) = s.call("GET", &format!("/v2/users/{user}"), None).await;
    assert_eq!(got["user"]["state"], "USER_STATE_ACTIVE");
    let (status, _) = lock(&s, &user, true).await;
    assert_eq!(status, 200);
    let (status, got) = lock(&s, &user, true).await;
    assert_eq!(
        (status, got["details"][0]["id"].clone()),
        (400, json!("COMMAND-lgws8wtsqf"))
    );
    let (status, _) = lock(&s, &user, false).await;
    assert_eq!(status, 200);
    let (status, got) = lock(&s, &user, false).await;
    assert_eq!(
        (status, got),
        (400, rest_error(9, "COMMAND-olb9vb0oca", "User is not locked"))
    );
}
