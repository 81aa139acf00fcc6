//! The data dir and the master key (issue 10, findings 6, 7 and 9): a start
//! with another key, without its key file, or over a lost, empty or
//! corrupt database refuses with a clear message and changes nothing; the
//! files are private to the server's user.

use std::os::unix::fs::PermissionsExt;

use sqlx::Connection;

use crate::harness::{Backend, PgDatabase, Server, backend_tests};

backend_tests!(
    another_master_key_is_refused,
    a_missing_key_file_is_refused,
    a_database_of_an_earlier_version_gets_its_key_check,
    a_lost_database_is_not_bootstrapped_over
);

const OTHER_KEY: &str = "abcdefghijklmnopqrstuvwxyz012345";

/// Starts, proves the instance is there, and stops.
async fn used_and_stopped(b: Backend) -> Server {
    let mut s = Server::start(b).await;
    let (status, _) = s.call("GET", "/admin/v1/policies/login", None).await;
    assert_eq!(status, 200);
    assert!(s.stop().success());
    s
}

/// Everything stored, to show a refused start changed nothing.
async fn fingerprint(s: &Server) -> (i64, i64, String) {
    (
        s.count_events("instance.added").await,
        s.count_events("user.pat.added").await,
        std::fs::read_to_string(s.dir.join("admin.pat")).unwrap_or_default(),
    )
}

async fn another_master_key_is_refused(b: Backend) {
    let mut s = used_and_stopped(b).await;
    let before = fingerprint(&s).await;
    let (status, log) = s.start_refused(&["--masterkey", OTHER_KEY]);
    assert!(!status.success(), "{log}");
    assert!(log.contains("the master key does not match"), "{log}");
    assert!(log.contains(&s.dir.display().to_string()), "names the data dir: {log}");
    assert!(log.contains("--masterkey"), "says what to do: {log}");
    assert_eq!(fingerprint(&s).await, before, "nothing changed");

    s.restart();
    let (status, _) = s.call("GET", "/admin/v1/policies/login", None).await;
    assert_eq!(status, 200, "the right key still works");
}

async fn a_missing_key_file_is_refused(b: Backend) {
    let mut s = used_and_stopped(b).await;
    let before = fingerprint(&s).await;
    let key_file = s.dir.join("masterkey");
    let key = std::fs::read(&key_file).unwrap();
    std::fs::remove_file(&key_file).unwrap();

    let (status, log) = s.start_refused(&[]);
    assert!(!status.success(), "{log}");
    assert!(log.contains("the master key") && log.contains("is missing"), "{log}");
    assert!(!key_file.exists(), "no new key was generated");

    // Without the PAT file too, the database still holds the instance.
    let pat = std::fs::read(s.dir.join("admin.pat")).unwrap();
    std::fs::remove_file(s.dir.join("admin.pat")).unwrap();
    let (status, log) = s.start_refused(&[]);
    assert!(!status.success(), "{log}");
    assert!(log.contains("but none was given"), "{log}");
    assert!(!key_file.exists(), "no new key was generated");
    assert!(!s.dir.join("admin.pat").exists(), "no new instance");

    std::fs::write(s.dir.join("admin.pat"), pat).unwrap();
    std::fs::write(&key_file, key).unwrap();
    assert_eq!(fingerprint(&s).await, before, "nothing changed");
    s.restart();
    let (status, _) = s.call("GET", "/admin/v1/policies/login", None).await;
    assert_eq!(status, 200);
}

/// Databases created before key checks existed have none: the first start
/// records it, and from then on another key is refused.
async fn a_database_of_an_earlier_version_gets_its_key_check(b: Backend) {
    let mut s = used_and_stopped(b).await;
    let forget = "DELETE FROM server_meta WHERE name = 'key_check'";
    let count = "SELECT COUNT(*) FROM server_meta WHERE name = 'key_check'";
    let recorded = if s.db_url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(&s.db_url).await.unwrap();
        sqlx::query(forget).execute(&mut c).await.unwrap();
        c.close().await.unwrap();
        s.restart();
        let mut c = sqlx::SqliteConnection::connect(&s.db_url).await.unwrap();
        sqlx::query_scalar::<_, i64>(count).fetch_one(&mut c).await.unwrap()
    } else {
        let mut c = sqlx::PgConnection::connect(&s.db_url).await.unwrap();
        sqlx::query(forget).execute(&mut c).await.unwrap();
        s.restart();
        sqlx::query_scalar::<_, i64>(count).fetch_one(&mut c).await.unwrap()
    };
    assert_eq!(recorded, 1, "recorded on the first start");
    assert!(s.log_text().contains("recorded the master key check"));
    assert!(s.stop().success());
    let (status, log) = s.start_refused(&["--masterkey", OTHER_KEY]);
    assert!(!status.success() && log.contains("does not match"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_or_missing_database_file_is_not_bootstrapped_over() {
    let s = used_and_stopped(Backend::Sqlite).await;
    let pat = std::fs::read_to_string(s.dir.join("admin.pat")).unwrap();
    let db = s.dir.join("twofold.db");
    let saved = std::fs::read(&db).unwrap();
    for name in ["twofold.db-wal", "twofold.db-shm"] {
        let _ = std::fs::remove_file(s.dir.join(name));
    }

    std::fs::write(&db, b"").unwrap();
    let (status, log) = s.start_refused(&[]);
    assert!(!status.success(), "{log}");
    assert!(
        log.contains("is empty") && log.contains("restore the database"),
        "{log}"
    );
    assert_eq!(std::fs::metadata(&db).unwrap().len(), 0, "left as it was");

    std::fs::remove_file(&db).unwrap();
    let (status, log) = s.start_refused(&[]);
    assert!(!status.success(), "{log}");
    assert!(log.contains("is missing"), "{log}");
    assert!(!db.exists(), "not created");
    assert_eq!(
        std::fs::read_to_string(s.dir.join("admin.pat")).unwrap(),
        pat,
        "admin.pat kept"
    );

    std::fs::write(&db, saved).unwrap();
    let (status, out) = s.command("check");
    assert!(status.success(), "restored: {out}");
}

/// A database without the instance (lost and replaced by a fresh one) next
/// to the data dir of an earlier start is refused, and admin.pat kept.
async fn a_lost_database_is_not_bootstrapped_over(b: Backend) {
    let s = used_and_stopped(b).await;
    let pat = std::fs::read_to_string(s.dir.join("admin.pat")).unwrap();
    let (_fresh_pg, other_url) = match b {
        Backend::Sqlite => {
            // Not empty (then it would count as lost already): a table.
            let url = format!("sqlite://{}", s.dir.join("other.db").display());
            let opts = <sqlx::sqlite::SqliteConnectOptions as std::str::FromStr>::from_str(&url)
                .unwrap()
                .create_if_missing(true);
            let mut c = sqlx::SqliteConnection::connect_with(&opts).await.unwrap();
            sqlx::query("CREATE TABLE unrelated (x)").execute(&mut c).await.unwrap();
            c.close().await.unwrap();
            (None, url)
        }
        Backend::Postgres => {
            let (db, url) = PgDatabase::create().await;
            (Some(db), url)
        }
    };
    let (status, log) = s.start_refused_on(&other_url, &[]);
    assert!(!status.success(), "{log}");
    assert!(log.contains("holds no instance") && log.contains("admin.pat"), "{log}");
    assert_eq!(
        std::fs::read_to_string(s.dir.join("admin.pat")).unwrap(),
        pat,
        "admin.pat kept"
    );
}

/// 4 KiB of random bytes in the middle of the file: the start refuses and
/// `twofold check` reports it; an intact file checks fine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_database_is_reported() {
    let mut s = Server::start(Backend::Sqlite).await;
    let org = s.create_org("corruption").await;
    for i in 0..40 {
        s.create_machine(&org, &format!("user{i}")).await;
    }
    assert!(s.stop().success());
    let (status, out) = s.command("check");
    assert!(status.success(), "{out}");
    assert!(out.contains("ok"), "{out}");

    let db = s.dir.join("twofold.db");
    let mut bytes = std::fs::read(&db).unwrap();
    let pages = bytes.len() / 4096;
    assert!(pages >= 8, "a database of {pages} pages");
    let at = pages / 2 * 4096;
    let mut noise = vec![0u8; 4096];
    getrandom::fill(&mut noise).unwrap();
    bytes[at..at + 4096].copy_from_slice(&noise);
    std::fs::write(&db, bytes).unwrap();

    let (status, out) = s.command("check");
    assert!(!status.success(), "{out}");
    assert!(
        out.contains("is corrupt") && out.contains("restore it from a backup"),
        "{out}"
    );
    let (status, log) = s.start_refused(&[]);
    assert!(!status.success(), "{log}");
    assert!(log.contains("integrity check"), "{log}");
}

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_files_are_private() {
    let mut s = Server::start(Backend::Sqlite).await;
    let (status, _) = s
        .call("POST", "/management/v1/orgs", Some(serde_json::json!({"name": "x"})))
        .await;
    assert_eq!(status, 200);
    let files = [
        "twofold.db",
        "twofold.db-wal",
        "twofold.db-shm",
        "masterkey",
        "admin.pat",
    ];
    assert_eq!(mode(&s.dir), 0o700, "data dir");
    for f in files {
        assert_eq!(mode(&s.dir.join(f)), 0o600, "{f}");
    }

    // Files of an earlier version are made private at the next start.
    assert!(s.stop().success());
    std::fs::set_permissions(&s.dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    for f in files {
        let p = s.dir.join(f);
        std::fs::write(&p, std::fs::read(&p).unwrap_or_default()).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    s.restart();
    assert_eq!(mode(&s.dir), 0o700, "data dir");
    for f in files {
        assert_eq!(mode(&s.dir.join(f)), 0o600, "{f}");
    }
}
