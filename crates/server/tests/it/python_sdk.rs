//! ZITADEL's official Python SDK (`zitadel-client`, pinned in
//! `tests/python-sdk/requirements.txt`) against a real `twofold start`: it
//! speaks the Connect protocol with JSON bodies. The scenario lives in
//! `tests/python-sdk/sdk.py`; this test installs the SDK into a virtualenv
//! under `target/` and runs it. Skipped, with a message, when Python (or its
//! venv module) is missing or PyPI is unreachable.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::process::Command;

use crate::harness::{Backend, Server};
use crate::js_sdk::{available, run, text};

/// Written into the virtualenv after a successful install: the requirements
/// it was installed from, so an up-to-date install is not redone.
const STAMP: &str = ".twofold-installed";

/// What pip prints when it cannot reach the index.
const NETWORK_ERRORS: &[&str] = &[
    "Could not find a version that satisfies",
    "NewConnectionError",
    "Temporary failure in name resolution",
    "Max retries exceeded",
    "ConnectTimeoutError",
];

fn sdk_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python-sdk")
}

fn venv_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/python-sdk")
}

/// The venv's python with the pinned SDK, or None (and a message) when it
/// cannot be had here.
async fn install() -> Option<PathBuf> {
    let venv = venv_dir();
    let python = venv.join("bin/python");
    let want = std::fs::read(sdk_dir().join("requirements.txt")).unwrap();
    if std::fs::read(venv.join(STAMP)).is_ok_and(|have| have == want) {
        return Some(python);
    }
    let out = run(
        Command::new("python3").arg("-m").arg("venv").arg("--clear").arg(&venv),
        "python3 -m venv",
        Duration::from_secs(120),
    )
    .await;
    if !out.status.success() {
        eprintln!(
            "skipped: `python3 -m venv` failed (python3-venv missing?)\n{}",
            text(&out)
        );
        return None;
    }
    let out = run(
        Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(sdk_dir().join("requirements.txt")),
        "pip install",
        Duration::from_secs(600),
    )
    .await;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        if NETWORK_ERRORS.iter().any(|e| stderr.contains(e)) {
            eprintln!("skipped: pip could not reach PyPI\n{}", text(&out));
            return None;
        }
        panic!("pip install of the Python SDK failed\n{}", text(&out));
    }
    std::fs::write(venv.join(STAMP), want).unwrap();
    Some(python)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zitadel_python_sdk_works() {
    if !available("python3").await {
        eprintln!("skipped: python3 not found on PATH (needed for the ZITADEL Python SDK test)");
        return;
    }
    let Some(python) = install().await else { return };
    let s = Server::start(Backend::Sqlite).await;
    let out = run(
        Command::new(python)
            .arg("sdk.py")
            .env("TWOFOLD_URL", s.url(""))
            .env("TWOFOLD_PAT", &s.token)
            .current_dir(sdk_dir()),
        "python sdk.py",
        Duration::from_secs(120),
    )
    .await;
    assert!(
        out.status.success(),
        "the ZITADEL Python SDK failed against twofold ({})\n{}",
        out.status,
        text(&out)
    );
    eprint!("{}", String::from_utf8_lossy(&out.stdout));
}
