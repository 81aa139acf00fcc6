//! `twofold seed` (users created through the domain's events, in batches)
//! and `twofold rebuild` (read models derived again from the events).

use std::os::unix::fs::PermissionsExt;

use serde_json::{Value, json};
use sqlx::Connection;

use crate::fixtures::{PASSWORD, base32_decode, now, totp};
use crate::harness::{Backend, Server, backend_tests};

backend_tests!(seeded_users_sign_in_and_rebuild_restores_read_models);

/// Every read-model document, ordered.
async fn docs(s: &Server) -> Vec<(String, String, String, Option<String>, String)> {
    let sql = "SELECT instance_id, collection, id, lookup, body FROM docs ORDER BY instance_id, collection, id";
    if s.db_url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(&s.db_url).await.unwrap();
        sqlx::query_as(sql).fetch_all(&mut c).await.unwrap()
    } else {
        let mut c = sqlx::PgConnection::connect(&s.db_url).await.unwrap();
        sqlx::query_as(sql).fetch_all(&mut c).await.unwrap()
    }
}

async fn execute(s: &Server, sql: &str) {
    if s.db_url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(&s.db_url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut c).await.unwrap();
    } else {
        let mut c = sqlx::PgConnection::connect(&s.db_url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut c).await.unwrap();
    }
}

async fn users_named(s: &Server, name: &str) -> Value {
    let (status, body) = s
        .call(
            "POST",
            "/v2/users",
            Some(json!({"queries": [{"userNameQuery": {"userName": name, "method": "TEXT_QUERY_METHOD_EQUALS"}}]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn seeded_users_sign_in_and_rebuild_restores_read_models(b: Backend) {
    let mut s = Server::start(b).await;
    assert!(s.stop().success());
    let secrets = s.dir.join("seed.totp");
    let secrets_arg = secrets.to_str().unwrap();
    let seed = [
        "--users",
        "30",
        "--batch",
        "7",
        "--password",
        PASSWORD,
        "--totp-secrets",
        secrets_arg,
    ];
    let (status, log) = s.command_with("seed", &seed);
    assert!(status.success(), "{log}");
    assert!(log.contains("seeded users=30"), "{log}");
    let lines = std::fs::read_to_string(&secrets).unwrap();
    assert_eq!(lines.lines().count(), 30);
    assert_eq!(std::fs::metadata(&secrets).unwrap().permissions().mode() & 0o777, 0o600);
    let secret_of = |name: &str| {
        let line = lines.lines().find(|l| l.split(' ').next() == Some(name)).unwrap();
        base32_decode(line.split(' ').nth(1).unwrap())
    };

    // The same names again: the batch fails whole, nothing is added.
    let (status, log) = s.command_with("seed", &["--users", "3", "--first", "28"]);
    assert!(!status.success(), "{log}");
    assert!(log.contains("User already exists"), "{log}");

    // Read models destroyed, then derived again from the events: the same
    // documents as before, byte for byte.
    let before = docs(&s).await;
    assert!(
        before.iter().filter(|d| d.1 == "user").count() >= 31,
        "30 seeded and the admin"
    );
    execute(
        &s,
        "DELETE FROM docs WHERE collection IN ('user', 'user_factors', 'org')",
    )
    .await;
    let (status, log) = s.command("rebuild");
    assert!(status.success(), "{log}");
    assert!(log.contains("read models rebuilt"), "{log}");
    assert_eq!(docs(&s).await, before);

    s.restart();
    let listed = users_named(&s, "seed7").await;
    assert_eq!(listed["details"]["totalResult"], "1", "{listed}");
    assert_eq!(listed["result"][0]["username"], "seed7");
    assert_eq!(listed["result"][0]["human"]["email"]["isVerified"], true);
    let none = users_named(&s, "SEED7").await;
    assert!(
        none["result"].as_array().is_none_or(Vec::is_empty),
        "exact match is case-sensitive: {none}"
    );
    let (_, all) = s.call("POST", "/v2/users", Some(json!({"query": {"limit": 5}}))).await;
    assert_eq!(all["details"]["totalResult"], "31", "{all}");
    assert_eq!(all["result"].as_array().unwrap().len(), 5);

    // A seeded user signs in with the shared password and a fresh TOTP code…
    let code = totp(&secret_of("seed7"), now());
    let checks =
        json!({"checks": {"user": {"loginName": "seed7"}, "password": {"password": PASSWORD}, "totp": {"code": code}}});
    let (status, body) = s.call("POST", "/v2/sessions", Some(checks.clone())).await;
    assert_eq!(status, 201, "{body}");
    let id = body["sessionId"].as_str().unwrap();
    let (_, session) = s.call("GET", &format!("/v2/sessions/{id}"), None).await;
    let factors = &session["session"]["factors"];
    assert!(factors["password"]["verifiedAt"].is_string(), "{session}");
    assert!(factors["totp"]["verifiedAt"].is_string(), "{session}");
    // …once: the code is used up, like any other.
    let (status, body) = s.call("POST", "/v2/sessions", Some(checks)).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["details"][0]["id"], "SESSION-R3play", "{body}");
}
