//! A full disk (issue 10, finding 4): writes fail cleanly in the contract's
//! shape, readiness says so, and everything recovers once space is back,
//! without restart and without losing an acknowledged write. Needs a small
//! file system of its own, so root (to mount a tmpfs); skipped otherwise.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::json;

use crate::harness::{Backend, Server, rest_error, unique_name};

/// A tmpfs mounted for one test, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(size: &str) -> Option<Self> {
        let dir = std::env::temp_dir().join(unique_name());
        std::fs::create_dir_all(&dir).ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = std::fs::remove_dir(&dir);
            return None;
        }
        Some(Self(dir))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes zeros to `path` until the file system is full.
fn fill(path: &Path) {
    let mut f = std::fs::File::create(path).unwrap();
    let chunk = vec![0u8; 4096];
    while f.write_all(&chunk).is_ok() {}
    let _ = f.sync_all();
}

async fn create_org(s: &Server, name: &str) -> (u16, serde_json::Value) {
    s.call("POST", "/management/v1/orgs", Some(json!({ "name": name })))
        .await
}

async fn ready(s: &Server) -> u16 {
    reqwest::get(s.url("/debug/ready")).await.unwrap().status().as_u16()
}

/// Every acknowledged org is there, nothing of the refused writes.
async fn all_there(s: &Server, acknowledged: &[String], failed_name: &str) {
    for id in acknowledged {
        let (status, _) = s.call("GET", &format!("/admin/v1/orgs/{id}"), None).await;
        assert_eq!(status, 200, "acknowledged org {id} is there");
    }
    for name in [failed_name, "still full"] {
        let (_, list) = s
            .call(
                "POST",
                "/admin/v1/orgs/_search",
                Some(json!({"queries": [{"nameQuery": {"name": name, "method": "TEXT_QUERY_METHOD_EQUALS"}}]})),
            )
            .await;
        assert_eq!(
            list["result"],
            json!(null),
            "nothing of the failed write {name:?}: {list}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_full_recovers_without_restart_skipped_unless_root_may_mount_tmpfs() {
    let Some(fs) = Tmpfs::mount("8m") else {
        eprintln!(
            "skipped disk_full_recovers_without_restart: mounting a tmpfs failed (needs root); \
             the disk-full recovery is not tested on this machine"
        );
        return;
    };
    let mut s = Server::start_at(Backend::Sqlite, fs.0.join("data"), |url| url).await;
    let mut acknowledged = Vec::new();
    for i in 0..5 {
        let (status, body) = create_org(&s, &format!("before {i}")).await;
        assert_eq!(status, 200, "{body}");
        acknowledged.push(body["id"].as_str().unwrap().to_owned());
    }

    let filler = fs.0.join("filler");
    fill(&filler);
    // Writes may still fit in space SQLite holds already; soon one fails.
    let mut failed = None;
    for i in 0..200 {
        let (status, body) = create_org(&s, &format!("during {i}")).await;
        if status == 200 {
            acknowledged.push(body["id"].as_str().unwrap().to_owned());
        } else {
            failed = Some((format!("during {i}"), status, body));
            break;
        }
    }
    let (failed_name, status, body) = failed.expect("a write fails once the disk is full");
    assert_eq!(
        (status, body),
        (503, rest_error(14, "STORE-Unav1", "database unavailable, try again"))
    );
    assert_eq!(ready(&s).await, 412, "not ready while the writer cannot commit");
    let (status, _) = create_org(&s, "still full").await;
    assert_eq!(status, 503);

    std::fs::remove_file(&filler).unwrap();
    let (status, body) = create_org(&s, "after").await;
    assert_eq!(status, 200, "the next write works once space is back: {body}");
    acknowledged.push(body["id"].as_str().unwrap().to_owned());
    assert_eq!(ready(&s).await, 200, "ready again");
    assert!(s.log_text().contains("database or disk is full"), "the cause is logged");

    all_there(&s, &acknowledged, &failed_name).await;
    assert_eq!(s.count_events("org.added").await, acknowledged.len() as i64 + 1);

    // The same after a restart, and the file is sound.
    assert!(s.stop().success());
    let (status, out) = s.command("check");
    assert!(status.success(), "{out}");
    s.restart();
    tokio::time::sleep(Duration::from_millis(100)).await;
    all_there(&s, &acknowledged, &failed_name).await;
}
