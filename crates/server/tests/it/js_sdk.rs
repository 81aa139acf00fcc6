//! ZITADEL's own JavaScript SDKs against a real `twofold start`: `@zitadel/node`
//! (nice-grpc, native gRPC over h2c) and `@zitadel/client` (connect-es, over
//! its gRPC transport and its Connect transport in JSON and binary). The scenario lives in `tests/js-sdk/sdk.mjs`; this test installs
//! the pinned packages (`npm ci`) and runs it. Skipped, with a message, when
//! node/npm are missing or the npm registry is unreachable.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use tokio::process::Command;

use crate::harness::{Backend, Server};

/// Written into `node_modules` after a successful `npm ci`: the manifest and
/// lockfile it was installed from, so an up-to-date install is not redone.
const STAMP: &str = ".twofold-installed";

/// Error codes npm reports when it cannot reach the registry.
const NETWORK_ERRORS: &[&str] = &[
    "FetchError",
    "ENOTFOUND",
    "EAI_AGAIN",
    "ECONNREFUSED",
    "ECONNRESET",
    "ETIMEDOUT",
    "ENETUNREACH",
    "EHOSTUNREACH",
    "ERR_SOCKET_TIMEOUT",
    "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
    "SELF_SIGNED_CERT_IN_CHAIN",
];

fn sdk_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js-sdk")
}

/// Whether `program --version` runs.
pub async fn available(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .await
        .is_ok_and(|o| o.status.success())
}

pub async fn run(cmd: &mut Command, what: &str, limit: Duration) -> Output {
    cmd.kill_on_drop(true);
    tokio::time::timeout(limit, cmd.output())
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {limit:?}"))
        .unwrap_or_else(|e| panic!("{what}: {e}"))
}

pub fn text(out: &Output) -> String {
    format!(
        "--- stdout ---\n{}--- stderr ---\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The stamp contents for the current manifest and lockfile.
fn stamp(dir: &Path) -> Vec<u8> {
    let mut s = std::fs::read(dir.join("package.json")).unwrap();
    s.extend(std::fs::read(dir.join("package-lock.json")).unwrap());
    s
}

/// Installs the pinned packages unless `node_modules` already matches the
/// lockfile. `false` when the registry cannot be reached (the test is skipped).
pub(crate) async fn npm_ci(dir: &Path) -> bool {
    let want = stamp(dir);
    let stamp_file = dir.join("node_modules").join(STAMP);
    if std::fs::read(&stamp_file).is_ok_and(|have| have == want) {
        return true;
    }
    let started = Instant::now();
    let out = run(
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--prefer-offline"])
            .current_dir(dir),
        "npm ci",
        Duration::from_secs(600),
    )
    .await;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        if NETWORK_ERRORS.iter().any(|code| stderr.contains(code)) {
            eprintln!("skipped: `npm ci` could not reach the npm registry\n{}", text(&out));
            return false;
        }
        panic!("`npm ci` in {} failed\n{}", dir.display(), text(&out));
    }
    eprintln!("npm ci took {:.1?}", started.elapsed());
    std::fs::write(&stamp_file, want).unwrap();
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zitadel_js_sdks_work() {
    if !(available("node").await && available("npm").await) {
        eprintln!("skipped: node/npm not found on PATH (needed for the ZITADEL JavaScript SDK test)");
        return;
    }
    let dir = sdk_dir();
    if !npm_ci(&dir).await {
        return;
    }

    let s = Server::start(Backend::Sqlite).await;
    let org = s.create_org("SDK Bank").await;
    let (status, body) = s
        .call_in(
            &org,
            "POST",
            "/management/v1/policies/login",
            Some(serde_json::json!({"secondFactors": [2]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let out = run(
        Command::new("node")
            .arg("sdk.mjs")
            .env("TWOFOLD_URL", s.url(""))
            .env("TWOFOLD_PAT", &s.token)
            .env("TWOFOLD_ORG_ID", &org)
            .current_dir(&dir),
        "node sdk.mjs",
        Duration::from_secs(120),
    )
    .await;
    assert!(
        out.status.success(),
        "the ZITADEL JavaScript SDKs failed against twofold ({})\n{}",
        out.status,
        text(&out)
    );
    eprint!("{}", String::from_utf8_lossy(&out.stdout));
}
