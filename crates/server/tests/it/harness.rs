//! Starts the real `twofold` binary on a free port with its own data dir and
//! database (a SQLite file, or a fresh PostgreSQL database when
//! `TWOFOLD_TEST_DATABASE_URL` is set), and talks to it over HTTP and gRPC.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use prost::Message;
use serde_json::Value;
use sqlx::Connection;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use twofold_proto::zitadel::admin::v1::admin_service_client::AdminServiceClient;
use twofold_proto::zitadel::management::v1::management_service_client::ManagementServiceClient;

pub const PG_ENV: &str = "TWOFOLD_TEST_DATABASE_URL";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each named test (an `async fn(Backend)`) once per backend:
/// `sqlite::name` always, `postgres::name` when a server is configured
/// (built without `TWOFOLD_TEST_DATABASE_URL`, it is reported as ignored:
/// see build.rs).
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::harness::Backend::Sqlite).await }
            )*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(not(twofold_pg_tests), ignore = "TWOFOLD_TEST_DATABASE_URL is not set (see README: PostgreSQL suite)")]
            async fn $name() {
                if $crate::harness::postgres_available() {
                    super::$name($crate::harness::Backend::Postgres).await
                }
            })*
        }
    };
}
pub(crate) use backend_tests;

/// Whether the PostgreSQL tests can run. Built without the variable they
/// are ignored; this catches a run with `--ignored` but without a server.
pub fn postgres_available() -> bool {
    let set = std::env::var(PG_ENV).is_ok_and(|v| !v.is_empty());
    if !set {
        eprintln!("SKIPPED (no {PG_ENV}): see README, PostgreSQL suite");
    }
    set
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub fn unique_name() -> String {
    format!(
        "tf_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    )
}

/// A fresh PostgreSQL database, dropped when the value is.
pub struct PgDatabase {
    admin_url: String,
    name: String,
}

impl PgDatabase {
    pub async fn create() -> (Self, String) {
        let admin_url = std::env::var(PG_ENV).unwrap();
        let name = unique_name();
        let mut conn = sqlx::PgConnection::connect(&admin_url)
            .await
            .expect("connect to PostgreSQL");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .unwrap();
        let (base, _) = admin_url.rsplit_once('/').expect("database URL ends in /DB");
        let url = format!("{base}/{name}");
        (Self { admin_url, name }, url)
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs inside the test's runtime; use a runtime of our own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(mut c) = sqlx::PgConnection::connect(&url).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut c)
                    .await;
                }
            })
        })
        .join();
    }
}

pub struct Server {
    pub addr: SocketAddr,
    pub dir: PathBuf,
    /// The database, as the test reaches it.
    pub db_url: String,
    /// The database, as the server reaches it.
    server_db_url: String,
    pub token: String,
    child: Option<Child>,
    _pg: Option<PgDatabase>,
    http: reqwest::Client,
    /// Everything the server processes wrote to their log.
    log: Arc<Mutex<String>>,
    extra_args: Vec<String>,
}

impl Server {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, |url| url).await
    }

    /// Starts with extra `twofold start` flags.
    pub async fn start_args(backend: Backend, args: &[&str]) -> Self {
        let mut s = Self::start_with(backend, |url| url).await;
        if !args.is_empty() {
            s.extra_args = args.iter().map(|a| a.to_string()).collect();
            s.restart();
        }
        s
    }

    /// Starts with the database URL passed through `route` (e.g. to go
    /// through a proxy); `db_url` keeps the direct URL for the test's reads.
    pub async fn start_with(backend: Backend, route: impl FnOnce(String) -> String) -> Self {
        Self::start_at(backend, std::env::temp_dir().join(unique_name()), route).await
    }

    /// Starts with the data dir `dir` (e.g. on a file system of its own).
    pub async fn start_at(backend: Backend, dir: PathBuf, route: impl FnOnce(String) -> String) -> Self {
        let (pg, db_url) = match backend {
            Backend::Sqlite => (None, format!("sqlite://{}", dir.join("twofold.db").display())),
            Backend::Postgres => {
                let (db, url) = PgDatabase::create().await;
                (Some(db), url)
            }
        };
        let server_url = route(db_url.clone());
        let mut s = Self {
            addr: "127.0.0.1:0".parse().unwrap(),
            dir,
            server_db_url: server_url,
            db_url,
            token: String::new(),
            child: None,
            _pg: pg,
            http: reqwest::Client::new(),
            log: Arc::default(),
            extra_args: Vec::new(),
        };
        s.spawn();
        s.token = std::fs::read_to_string(s.dir.join("admin.pat"))
            .unwrap()
            .trim()
            .to_owned();
        s
    }

    /// Starts the binary on the same data dir and database.
    fn spawn(&mut self) {
        let extra: Vec<&str> = self.extra_args.iter().map(String::as_str).collect();
        let (child, addr) = spawn_logged(&self.dir, &self.server_db_url, &extra, Some(self.log.clone()));
        self.addr = addr;
        self.child = Some(child);
    }

    /// Another server process on the same database (its own data dir, the
    /// same master key), as a second node behind a load balancer would run.
    pub fn another_node(&self) -> Node {
        let dir = std::env::temp_dir().join(unique_name());
        let key = std::fs::read_to_string(self.dir.join("masterkey")).unwrap();
        // `=`: a key that starts with `-` must not read as a flag.
        let key_arg = format!("--masterkey={}", key.trim());
        let (child, addr) = spawn_twofold(&dir, &self.server_db_url, &[&key_arg]);
        Node {
            addr,
            child: Some(child),
            dir,
        }
    }

    /// Runs `twofold start` on this server's data dir and database with
    /// extra flags, expecting it to refuse: returns its exit status and log.
    /// Panics if it starts serving instead.
    pub fn start_refused(&self, extra: &[&str]) -> (ExitStatus, String) {
        self.start_refused_on(&self.server_db_url, extra)
    }

    /// [`Self::start_refused`] on another database.
    pub fn start_refused_on(&self, db_url: &str, extra: &[&str]) -> (ExitStatus, String) {
        let mut args = vec!["--database", db_url];
        args.extend_from_slice(extra);
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_twofold"));
        cmd.args(["start", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&self.dir)
            .args(args);
        run_to_end(cmd)
    }

    /// Runs another `twofold` command (e.g. `check`) on this server's
    /// database: its exit status and output (stdout, then stderr).
    pub fn command(&self, command: &str) -> (ExitStatus, String) {
        self.command_with(command, &[])
    }

    /// [`Self::command`] with further flags.
    pub fn command_with(&self, command: &str, extra: &[&str]) -> (ExitStatus, String) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_twofold"));
        cmd.args([command, "--data-dir"])
            .arg(&self.dir)
            .args(["--database", self.server_db_url.as_str()])
            .args(extra);
        run_to_end(cmd)
    }

    /// The process id of the server (for signals).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// SIGTERM, then waits for the process to exit.
    pub fn stop(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        child.wait().unwrap()
    }

    /// Reaps a process that was killed from outside.
    pub fn stop_killed(&mut self) -> Option<ExitStatus> {
        self.child.take().map(|mut c| c.wait().unwrap())
    }

    /// Restarts with other extra flags.
    pub fn restart_with(&mut self, args: &[&str]) {
        self.extra_args = args.iter().map(|a| a.to_string()).collect();
        self.restart();
    }

    pub fn restart(&mut self) {
        if self.child.is_some() {
            assert!(self.stop().success());
        }
        self.spawn();
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A REST request with the admin token.
    pub fn req(&self, method: &str, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method.parse().unwrap(), self.url(path))
            .bearer_auth(&self.token)
    }

    /// Sends a REST request; returns the status and the JSON body.
    pub async fn send(&self, rb: reqwest::RequestBuilder) -> (u16, Value) {
        let resp = rb.send().await.expect("request");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        let json = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
        (status, json)
    }

    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut rb = self.req(method, path);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        self.send(rb).await
    }

    pub async fn channel(&self) -> Channel {
        Channel::from_shared(self.url(""))
            .unwrap()
            .connect()
            .await
            .expect("gRPC connect")
    }

    pub async fn admin(&self) -> AdminServiceClient<InterceptedService<Channel, Bearer>> {
        AdminServiceClient::with_interceptor(self.channel().await, Bearer(self.token.clone()))
    }

    pub async fn management(&self) -> ManagementServiceClient<InterceptedService<Channel, Bearer>> {
        ManagementServiceClient::with_interceptor(self.channel().await, Bearer(self.token.clone()))
    }

    /// Number of stored events of a type, read straight from the database.
    pub async fn count_events(&self, event_type: &str) -> i64 {
        let sql = "SELECT COUNT(*) FROM events WHERE event_type = $1";
        if self.db_url.starts_with("sqlite:") {
            let mut c = sqlx::SqliteConnection::connect(&self.db_url).await.unwrap();
            sqlx::query_scalar(sql)
                .bind(event_type)
                .fetch_one(&mut c)
                .await
                .unwrap()
        } else {
            let mut c = sqlx::PgConnection::connect(&self.db_url).await.unwrap();
            sqlx::query_scalar(sql)
                .bind(event_type)
                .fetch_one(&mut c)
                .await
                .unwrap()
        }
    }

    /// The server's log so far.
    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// The server's log once it has a line containing every one of
    /// `needles` (the log reaches the harness through a pipe, a moment
    /// after the server wrote it); the log as it is after 10 s otherwise.
    pub async fn log_with(&self, needles: &[&str]) -> String {
        for _ in 0..200 {
            let log = self.log_text();
            if log.lines().any(|l| needles.iter().all(|n| l.contains(n))) {
                return log;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        self.log_text()
    }

    /// Every stored byte a secret could hide in: for SQLite the database
    /// and WAL files as they are on disk, for PostgreSQL every stored value.
    pub async fn stored_text(&self) -> String {
        if self.db_url.starts_with("sqlite:") {
            let mut all = Vec::new();
            for name in ["twofold.db", "twofold.db-wal"] {
                all.extend(std::fs::read(self.dir.join(name)).unwrap_or_default());
            }
            String::from_utf8_lossy(&all).into_owned()
        } else {
            let mut c = sqlx::PgConnection::connect(&self.db_url).await.unwrap();
            let mut text = String::new();
            for sql in [
                "SELECT COALESCE(string_agg(event_type || coalesce(payload, ''), ''), '') FROM events",
                "SELECT COALESCE(string_agg(id || coalesce(lookup, '') || body, ''), '') FROM docs",
                "SELECT COALESCE(string_agg(kind || value, ''), '') FROM unique_constraints",
            ] {
                let t: String = sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap();
                text.push_str(&t);
            }
            text
        }
    }

    /// Payloads of the stored events of a type, oldest first.
    pub async fn event_payloads(&self, event_type: &str) -> Vec<Value> {
        let sql = "SELECT payload FROM events WHERE event_type = $1 ORDER BY position";
        let rows: Vec<Option<String>> = if self.db_url.starts_with("sqlite:") {
            let mut c = sqlx::SqliteConnection::connect(&self.db_url).await.unwrap();
            sqlx::query_scalar(sql)
                .bind(event_type)
                .fetch_all(&mut c)
                .await
                .unwrap()
        } else {
            let mut c = sqlx::PgConnection::connect(&self.db_url).await.unwrap();
            sqlx::query_scalar(sql)
                .bind(event_type)
                .fetch_all(&mut c)
                .await
                .unwrap()
        };
        rows.into_iter()
            .map(|p| p.map(|p| serde_json::from_str(&p).unwrap()).unwrap_or(Value::Null))
            .collect()
    }

    pub async fn instance_id(&self) -> String {
        let (_, body) = self.call("GET", "/admin/v1/policies/login", None).await;
        body["policy"]["details"]["resourceOwner"].as_str().unwrap().to_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts `twofold start` on a free port; returns the child and its address.
pub fn spawn_twofold(dir: &std::path::Path, db_url: &str, extra: &[&str]) -> (Child, SocketAddr) {
    spawn_logged(dir, db_url, extra, None)
}

fn spawn_logged(
    dir: &std::path::Path,
    db_url: &str,
    extra: &[&str],
    log: Option<Arc<Mutex<String>>>,
) -> (Child, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_twofold"))
        .args([
            "start",
            "--listen",
            "127.0.0.1:0",
            "--db-acquire-timeout",
            "2",
            "--data-dir",
        ])
        .arg(dir)
        .args(["--database", db_url])
        .args(extra)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start twofold");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let (early_tx, early) = mpsc::channel::<String>();
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || {
        let mut started = false;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(addr) = line.split("listening on ").nth(1) {
                started = true;
                let _ = tx.send(addr.trim().to_owned());
            }
            if !started {
                let _ = early_tx.send(line.clone());
            }
            if let Some(log) = &log {
                let mut l = log.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
            }
            if std::env::var_os("TWOFOLD_TEST_LOG").is_some() {
                eprintln!("[server] {line}");
            }
        }
    });
    let Ok(addr) = rx.recv_timeout(Duration::from_secs(30)) else {
        let log: Vec<String> = early.try_iter().collect();
        panic!(
            "the server did not report its address (exit: {:?}); its log:\n{}",
            child.try_wait(),
            log.join("\n")
        );
    };
    (child, addr.parse().unwrap())
}

/// Runs `cmd` to its end (killed after 30 s, which fails the test).
fn run_to_end(mut cmd: Command) -> (ExitStatus, String) {
    let mut child = cmd
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run twofold");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("twofold kept running: {:?}", child.wait_with_output().unwrap());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status, text)
}

/// A further server process (see `Server::another_node`).
pub struct Node {
    pub addr: SocketAddr,
    child: Option<Child>,
    dir: PathBuf,
}

impl Node {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Adds `authorization: Bearer <token>` to gRPC calls.
#[derive(Clone)]
pub struct Bearer(pub String);

impl tonic::service::Interceptor for Bearer {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if !self.0.is_empty() {
            let v = format!("Bearer {}", self.0).parse().unwrap();
            req.metadata_mut().insert("authorization", v);
        }
        Ok(req)
    }
}

/// `google.rpc.Status` as carried in `grpc-status-details-bin`.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
    #[prost(message, repeated, tag = "3")]
    details: Vec<prost_types::Any>,
}

/// The ErrorDetail id of a gRPC error ("" when it has none).
pub fn error_id(status: &tonic::Status) -> String {
    let Ok(s) = RpcStatus::decode(status.details()) else {
        return String::new();
    };
    s.details
        .iter()
        .find(|a| a.type_url == "type.googleapis.com/zitadel.v1.ErrorDetail")
        .map(|a| {
            twofold_proto::zitadel::v1::ErrorDetail::decode(a.value.as_slice())
                .unwrap()
                .id
        })
        .unwrap_or_default()
}

/// The REST error body the contract prescribes for an error with an id.
pub fn rest_error(code: i32, id: &str, message: &str) -> Value {
    serde_json::json!({
        "code": code,
        "message": format!("{message} ({id})"),
        "details": [{"@type": "type.googleapis.com/zitadel.v1.ErrorDetail", "id": id, "message": message}]
    })
}

/// A gRPC codec that passes encoded messages through unchanged, for calls
/// built from descriptors or from deliberately broken bytes.
#[derive(Clone, Copy, Default)]
pub struct RawCodec;

impl tonic::codec::Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> RawCodec {
        RawCodec
    }

    fn decoder(&mut self) -> RawCodec {
        RawCodec
    }
}

impl tonic::codec::Encoder for RawCodec {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut tonic::codec::EncodeBuf<'_>) -> Result<(), tonic::Status> {
        bytes::BufMut::put_slice(dst, &item);
        Ok(())
    }
}

impl tonic::codec::Decoder for RawCodec {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut tonic::codec::DecodeBuf<'_>) -> Result<Option<Vec<u8>>, tonic::Status> {
        let n = bytes::Buf::remaining(src);
        Ok(Some(bytes::Buf::copy_to_bytes(src, n).to_vec()))
    }
}
