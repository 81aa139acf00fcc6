//! The scenarios: Twofold started from its binary on a fresh data dir, the
//! baselines beside it, each driven for the same time.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tonic::transport::Channel;
use twofold_proto::zitadel::admin::v1::ListLoginPolicySecondFactorsRequest;
use twofold_proto::zitadel::admin::v1::admin_service_client::AdminServiceClient;

use crate::cpu::Server;
use crate::drive::{Outcome, run, run_raw};
use crate::{Args, baselines, raw, signin, wrk};

const PASSWORD: &str = "Secr3t!pass-Load";

struct Twofold {
    child: Child,
    url: String,
    addr: SocketAddr,
    token: String,
    dir: std::path::PathBuf,
    /// Kept for the next run (`--data-dir`).
    keep: bool,
    /// Time from process start to its first successful /debug/ready.
    ready_after: Duration,
    /// The server's log lines that matter here (see `start`).
    log: std::sync::mpsc::Receiver<String>,
    started: Instant,
}

impl Drop for Twofold {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.dir);
            let _ = std::fs::remove_file(secrets_file(&self.dir));
        }
    }
}

/// Where `twofold seed` writes the seeded users' TOTP secrets.
fn secrets_file(dir: &Path) -> PathBuf {
    dir.with_extension("totp")
}

/// The server's argon2 flags as loadgen was given them.
fn argon2_flags(args: &Args) -> [String; 4] {
    [
        "--argon2-memory-kib".into(),
        args.argon2_memory_kib.to_string(),
        "--argon2-iterations".into(),
        args.argon2_iterations.to_string(),
    ]
}

/// `twofold seed` into `dir` (`--seed-users` users with the load password
/// and TOTP), unless `dir` holds a database already.
fn seed(args: &Args, dir: &Path, database: &[String]) -> anyhow::Result<()> {
    if args.seed_users == 0 || (database.is_empty() && dir.join("twofold.db").exists()) {
        return Ok(());
    }
    let started = Instant::now();
    let status = Command::new(&args.twofold)
        .args(["seed", "--data-dir"])
        .arg(dir)
        .args(database)
        .args(argon2_flags(args))
        .args([
            "--users",
            &args.seed_users.to_string(),
            "--password",
            PASSWORD,
            "--sign-ins",
            &args.seed_sign_ins.to_string(),
            "--totp-secrets",
        ])
        .arg(secrets_file(dir))
        .env("RUST_LOG", "warn,twofold=info")
        .status()?;
    anyhow::ensure!(status.success(), "twofold seed failed");
    eprintln!(
        "seeded {} users in {:.1} s",
        args.seed_users,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Starts Twofold on the embedded database, or on `postgres` (a URL whose
/// database is dropped and created afresh first).
async fn start(args: &Args, postgres: Option<&str>) -> anyhow::Result<Twofold> {
    let (dir, keep) = match (&args.data_dir, postgres) {
        (Some(d), None) => (d.clone(), true),
        _ => {
            let backend = if postgres.is_some() { "pg" } else { "sqlite" };
            let name = format!("loadgen-twofold-{backend}-{}", std::process::id());
            let d = std::env::temp_dir().join(name);
            let _ = std::fs::remove_dir_all(&d);
            (d, false)
        }
    };
    let database: Vec<String> = match postgres {
        Some(url) => {
            fresh_postgres(url).await?;
            vec!["--database".into(), url.to_owned()]
        }
        None => Vec::new(),
    };
    seed(args, &dir, &database)?;
    let started = Instant::now();
    let mut child = Command::new(&args.twofold)
        .args(["start", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&dir)
        .args(&database)
        .args(argon2_flags(args))
        .env("RUST_LOG", "warn,twofold=info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let stderr = child.stderr.take().expect("piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(a) = line.split("listening on ").nth(1) {
                let _ = tx.send(a.trim().to_owned());
            } else if line.contains("integrity check") {
                let _ = tx.send(line);
            }
        }
    });
    let addr: SocketAddr = rx.recv_timeout(Duration::from_secs(60))?.parse()?;
    let url = format!("http://{addr}");
    let http = reqwest::Client::new();
    while !http
        .get(format!("{url}/debug/ready"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let ready_after = started.elapsed();
    let token = std::fs::read_to_string(dir.join("admin.pat"))?.trim().to_owned();
    Ok(Twofold {
        child,
        url,
        addr,
        token,
        dir,
        keep,
        ready_after,
        log: rx,
        started,
    })
}

impl Twofold {
    /// Waits for the start's integrity check of the SQLite file (it runs
    /// beside the serving server and, on a large file, holds back the
    /// WAL's checkpoints while it reads): the scenarios measure the steady
    /// state after it. Reports how long after the start it ended.
    fn await_integrity_check(&self) {
        match self.log.recv_timeout(Duration::from_secs(600)) {
            Ok(line) => eprintln!(
                "integrity check ended {:.1} s after start: {}",
                self.started.elapsed().as_secs_f64(),
                line.split("INFO ").last().unwrap_or(&line).trim()
            ),
            Err(_) => eprintln!("no integrity check reported"),
        }
    }
}

/// Drops and creates the database `url` names, through the server's
/// `postgres` database.
async fn fresh_postgres(url: &str) -> anyhow::Result<()> {
    use sqlx::Connection;
    let (server, name) = url
        .rsplit_once('/')
        .filter(|(_, n)| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .ok_or_else(|| anyhow::anyhow!("--postgres: expected postgres://…/NAME (letters, digits, _), got {url}"))?;
    let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres")).await?;
    for sql in [
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        format!("CREATE DATABASE {name}"),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut admin).await?;
    }
    Ok(())
}

/// Resident set size of a process, from /proc (Linux).
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

pub(crate) fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .http1_only()
        .pool_max_idle_per_host(1)
        .build()
        .expect("client")
}

async fn post(c: &reqwest::Client, url: &str, token: &str, body: Value) -> Option<Value> {
    let r = c.post(url).bearer_auth(token).json(&body).send().await.ok()?;
    if !r.status().is_success() {
        return None;
    }
    r.json().await.ok()
}

pub async fn run_all(args: &Args) -> anyhow::Result<Vec<Outcome>> {
    let mut out = Vec::new();
    let d = args.duration();
    let n = args.connections;

    // Baselines first, so they run on the same machine state.
    let (hyper_addr, hyper_child) = baselines::hyper_process().await?;
    let hyper = Server::Child(hyper_child.id().unwrap_or(0));
    let tonic_addr = baselines::tonic_server().await;
    // The Connect scenario is measured against the REST one, which needs hyper's.
    let rest_list = args.wants("rest-list") || args.wants("connect-list");
    let conns = (n, args.client_threads());
    let oidc = args.wants("cc-token") || args.wants("userinfo");
    if args.wants("baselines") || rest_list || oidc || args.wants("login-page") || args.wants("wrk") {
        let req = raw::Requests::Fixed(raw::request("GET", hyper_addr, "/", &[], b"").into());
        out.push(run_raw("baseline: bare hyper", None, hyper, hyper_addr, req, conns, d));
    }
    if args.wants("wrk") {
        let get = ("GET", "/", &[][..], "");
        out.extend(wrk::run(
            "wrk: bare hyper",
            Some("baseline: bare hyper"),
            hyper,
            hyper_addr,
            get,
            conns,
            d,
        ));
    }
    if args.wants("baselines") || args.wants("grpc-list") {
        let ch = Channel::from_shared(format!("http://{tonic_addr}"))?.connect().await?;
        let clients: Vec<_> = (0..n)
            .map(|_| tonic_health::pb::health_client::HealthClient::new(ch.clone()))
            .collect();
        out.push(
            run("baseline: bare tonic", None, Server::InProcess, n, d, move |w| {
                let mut c = clients[w].clone();
                async move {
                    c.check(tonic_health::pb::HealthCheckRequest { service: String::new() })
                        .await
                        .is_ok()
                }
            })
            .await,
        );
    }
    if args.wants("baselines") || args.wants("writes") {
        out.push(baselines::sqlite_fsync(d).await);
    }
    let signs_in = args.wants("sign-in-totp") || args.wants("hash-only");
    if signs_in {
        out.push(signin::hash_only(
            (args.argon2_memory_kib, args.argon2_iterations, 1),
            d,
        ));
    }

    let tf = start(args, None).await?;
    eprintln!(
        "twofold ready {:.0} ms after start",
        tf.ready_after.as_secs_f64() * 1000.0
    );
    tf.await_integrity_check();
    let idle_rss = rss_kib(tf.child.id());
    eprintln!("twofold idle RSS {} KiB", idle_rss.unwrap_or(0));
    let server = Server::Child(tf.child.id());
    let bearer = format!("Bearer {}", tf.token);

    if rest_list || args.wants("wrk") {
        out.push(rest_list_on(&tf, REST_LIST_SQLITE, "baseline: bare hyper", conns, d));
        if args.wants("wrk") {
            let post = ("POST", REST_LIST, &[("Authorization", bearer.as_str())][..], "");
            out.extend(wrk::run(
                "wrk: REST list 2FA",
                Some("wrk: bare hyper"),
                server,
                tf.addr,
                post,
                conns,
                d,
            ));
        }
    }
    if args.wants("connect-list") {
        // The same read over the Connect protocol (JSON), on the gRPC path.
        let path = "/zitadel.admin.v1.AdminService/ListLoginPolicySecondFactors";
        let headers = [("Authorization", bearer.as_str()), ("Content-Type", "application/json")];
        let req = raw::Requests::Fixed(raw::request("POST", tf.addr, path, &headers, b"{}").into());
        out.push(run_raw(
            "twofold: Connect list 2FA",
            Some("twofold: REST list 2FA"),
            server,
            tf.addr,
            req,
            conns,
            d,
        ));
    }
    let seeded = if signs_in || args.wants("totp-only") {
        let file = secrets_file(&tf.dir);
        Some(Arc::new(signin::Seeded::load(&file).map_err(|e| {
            anyhow::anyhow!("{e}: the sign-in scenarios need --seed-users (users with TOTP)")
        })?))
    } else {
        None
    };
    if let (true, Some(seeded)) = (args.wants("sign-in-totp"), &seeded) {
        let req = signin::sessions(tf.addr, &tf.token, seeded.clone(), Some(PASSWORD));
        let conns = (args.write_connections, args.client_threads());
        out.push(run_raw(
            "twofold: password + TOTP sign-in",
            Some(signin::HASH_ONLY),
            server,
            tf.addr,
            req,
            conns,
            d,
        ));
    }
    if let (true, Some(seeded)) = (args.wants("totp-only"), &seeded) {
        eprintln!("TOTP-only sign-ins over {} enrolled users", seeded.len());
        let req = signin::sessions(tf.addr, &tf.token, seeded.clone(), None);
        out.push(run_raw(
            "twofold: TOTP-only sign-in",
            None,
            server,
            tf.addr,
            req,
            conns,
            d,
        ));
    }
    if args.wants("list-users") {
        let users = args.seed_users.max(1) as usize;
        // A page without filters comes from the store's indexes (issue 17
        // item 7), so it runs with as many connections as the lookup.
        let scenarios = [
            ("twofold: ListUsers by user name", true, args.list_connections),
            ("twofold: ListUsers page of 100", false, args.list_connections),
        ];
        for (name, by_name, connections) in scenarios {
            let req = signin::list_users(tf.addr, &tf.token, users, by_name);
            out.push(run_raw(name, None, server, tf.addr, req, (connections, 1), d));
        }
    }
    if args.wants("grpc-list") {
        let ch = Channel::from_shared(tf.url.clone())?.connect().await?;
        let bearer: tonic::metadata::MetadataValue<_> = format!("Bearer {}", tf.token).parse()?;
        let clients: Vec<_> = (0..n).map(|_| AdminServiceClient::new(ch.clone())).collect();
        out.push(
            run(
                "twofold: gRPC list 2FA",
                Some("baseline: bare tonic"),
                server,
                n,
                d,
                move |w| {
                    let mut c = clients[w].clone();
                    let bearer = bearer.clone();
                    async move {
                        let mut req = tonic::Request::new(ListLoginPolicySecondFactorsRequest {});
                        req.metadata_mut().insert("authorization", bearer);
                        c.list_login_policy_second_factors(req).await.is_ok()
                    }
                },
            )
            .await,
        );
    }
    if args.wants("writes") {
        out.push(writes_on(args, &tf, WRITES_SQLITE, "baseline: sqlite fsync/insert").await?);
    }
    if args.wants("sign-in") {
        let w = args.write_connections;
        let http = http_client();
        for i in 0..w {
            post(
                &http,
                &format!("{}/v2/users/human", tf.url),
                &tf.token,
                json!({"username": format!("load{i}"), "profile": {"givenName": "L", "familyName": "L"},
                       "email": {"email": format!("load{i}@example.com"), "isVerified": true},
                       "password": {"password": PASSWORD}}),
            )
            .await
            .ok_or_else(|| anyhow::anyhow!("creating a user"))?;
        }
        let clients: Vec<_> = (0..w).map(|_| http_client()).collect();
        let (url, token) = (tf.url.clone(), tf.token.clone());
        out.push(
            run("twofold: session + password", None, server, w, d, move |i| {
                let (c, url, token) = (clients[i].clone(), url.clone(), token.clone());
                async move {
                    post(
                        &c,
                        &format!("{url}/v2/sessions"),
                        &token,
                        json!({"checks": {"user": {"loginName": format!("load{i}")}, "password": {"password": PASSWORD}}}),
                    )
                    .await
                    .is_some()
                }
            })
            .await,
        );
    }
    if args.wants("login-page") {
        out.push(crate::login_page::scenario(tf.addr, server, conns, d));
    }
    crate::oidc_scenarios::run_oidc(args, (&tf.url, tf.addr, server), &tf.token, &mut out).await?;
    eprintln!("twofold RSS after the run {} KiB", rss_kib(tf.child.id()).unwrap_or(0));
    drop(tf);
    if let Some(url) = &args.postgres {
        // The same reads and writes on PostgreSQL, each against the SQLite
        // figure above (issue 17 item 6).
        let tf = start(args, Some(url)).await?;
        eprintln!(
            "twofold on PostgreSQL ready {:.0} ms after start",
            tf.ready_after.as_secs_f64() * 1000.0
        );
        if rest_list {
            out.push(rest_list_on(
                &tf,
                "twofold (PostgreSQL): REST list 2FA",
                REST_LIST_SQLITE,
                conns,
                d,
            ));
        }
        if args.wants("writes") {
            out.push(writes_on(args, &tf, "twofold (PostgreSQL): durable writes", WRITES_SQLITE).await?);
        }
    }
    Ok(out)
}

const REST_LIST: &str = "/admin/v1/policies/login/second_factors/_search";
const REST_LIST_SQLITE: &str = "twofold: REST list 2FA";
const WRITES_SQLITE: &str = "twofold: durable writes";

/// The admin's REST list of the instance's second factors: the steady-state
/// authenticated read.
fn rest_list_on(tf: &Twofold, name: &str, baseline: &str, conns: (usize, usize), d: Duration) -> Outcome {
    let bearer = format!("Bearer {}", tf.token);
    let req = raw::request("POST", tf.addr, REST_LIST, &[("Authorization", &bearer)], b"");
    let req = raw::Requests::Fixed(req.into());
    run_raw(
        name,
        Some(baseline),
        Server::Child(tf.child.id()),
        tf.addr,
        req,
        conns,
        d,
    )
}

/// Durable writes: each worker toggles a factor of its own org's custom
/// policy, so workers never contend for one aggregate: every call is one
/// durable append.
async fn writes_on(args: &Args, tf: &Twofold, name: &str, baseline: &str) -> anyhow::Result<Outcome> {
    let w = args.write_connections;
    let http = http_client();
    let mut orgs = Vec::new();
    for i in 0..w {
        let org = post(
            &http,
            &format!("{}/management/v1/orgs", tf.url),
            &tf.token,
            json!({"name": format!("load-{i}")}),
        )
        .await
        .and_then(|v| v["id"].as_str().map(str::to_owned))
        .ok_or_else(|| anyhow::anyhow!("creating an org"))?;
        http.post(format!("{}/management/v1/policies/login", tf.url))
            .bearer_auth(&tf.token)
            .header("x-zitadel-orgid", &org)
            .json(&json!({}))
            .send()
            .await?;
        orgs.push(org);
    }
    let clients: Vec<_> = (0..w).map(|_| http_client()).collect();
    let flips: Vec<_> = (0..w)
        .map(|_| std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)))
        .collect();
    let (url, token) = (tf.url.clone(), tf.token.clone());
    let server = Server::Child(tf.child.id());
    Ok(run(name, Some(baseline), server, w, args.duration(), move |i| {
        let (c, url, token, org) = (clients[i].clone(), url.clone(), token.clone(), orgs[i].clone());
        let on = !flips[i].fetch_xor(true, std::sync::atomic::Ordering::Relaxed);
        async move {
            let path = "/management/v1/policies/login/second_factors";
            let req = if on {
                c.post(format!("{url}{path}")).json(&json!({"type": 3}))
            } else {
                c.delete(format!("{url}{path}/3"))
            };
            req.bearer_auth(&token)
                .header("x-zitadel-orgid", org)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        }
    })
    .await)
}
