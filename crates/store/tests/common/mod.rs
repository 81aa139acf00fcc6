//! The databases of the store's tests: a temporary SQLite file, and a fresh
//! PostgreSQL database when `TWOFOLD_TEST_DATABASE_URL` is set (skipped
//! visibly otherwise); each removed after its test.

use sqlx::Connection;

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}_{}_{nanos}", std::process::id())
}

/// Runs `test` with the URL of a new SQLite file named after `prefix`.
pub async fn with_sqlite(prefix: &str, test: impl AsyncFnOnce(String)) {
    let path = std::env::temp_dir().join(format!("{}.db", unique(prefix)));
    test(format!("sqlite://{}", path.display())).await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

/// Runs `test` with the URL of a new PostgreSQL database named after
/// `prefix`, if a server is configured.
pub async fn with_postgres(prefix: &str, test: impl AsyncFnOnce(String)) {
    let Ok(admin) = std::env::var("TWOFOLD_TEST_DATABASE_URL") else {
        eprintln!("SKIPPED (no TWOFOLD_TEST_DATABASE_URL)");
        return;
    };
    let name = unique(prefix);
    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    let (base, _) = admin.rsplit_once('/').unwrap();
    test(format!("{base}/{name}")).await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut conn)
    .await
    .unwrap();
}
