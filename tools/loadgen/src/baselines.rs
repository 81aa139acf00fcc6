//! The ceilings Twofold's figures are measured against, in the same run.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Response, body::Incoming};
use hyper_util::rt::TokioIo;
use sqlx::ConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use tokio::net::TcpListener;

use crate::cpu;
use crate::drive::Outcome;

/// The runtime of the in-process baseline servers: threads of their own
/// (named [`cpu::SERVER_THREAD`]), so their CPU time is told apart from the
/// client's, as many as the machine has cores (like the server's).
fn servers() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(cpu::cores() as usize)
            .thread_name(cpu::SERVER_THREAD)
            .enable_all()
            .build()
            .expect("baseline server runtime")
    })
}

/// A bare hyper HTTP/1.1 server answering a fixed small JSON body.
pub async fn hyper_server() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    listener.set_nonblocking(true).expect("nonblocking");
    servers().spawn(async move {
        let listener = TcpListener::from_std(listener).expect("listener");
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let svc = service_fn(|_req: hyper::Request<Incoming>| async {
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(
                        br#"{"details":{"totalResult":"2"},"result":["SECOND_FACTOR_TYPE_OTP","SECOND_FACTOR_TYPE_U2F"]}"#,
                    ))))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    addr
}

/// The bare hyper server in a process of its own, as Twofold runs: a
/// baseline inside loadgen's process is woken by the client without a
/// switch between address spaces, which on a 2-vCPU VM made it look up to
/// twice as fast per request as the same server in another process, and
/// every ratio to it too low. Returns its address and the child (killed on
/// drop), whose CPU time is measured like Twofold's.
pub async fn hyper_process() -> anyhow::Result<(SocketAddr, tokio::process::Child)> {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(std::env::current_exe()?)
        .arg("--serve-hyper")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let stdout = child.stdout.take().ok_or_else(|| anyhow::anyhow!("no stdout"))?;
    let mut line = String::new();
    tokio::io::BufReader::new(stdout).read_line(&mut line).await?;
    Ok((line.trim().parse()?, child))
}

/// `loadgen --serve-hyper`: the child side of [`hyper_process`].
pub async fn serve_hyper_here() -> anyhow::Result<()> {
    use tokio::io::AsyncReadExt;
    let addr = hyper_server().await;
    println!("{addr}");
    // Until the parent closes stdin (or dies).
    let mut sink = Vec::new();
    tokio::io::stdin().read_to_end(&mut sink).await?;
    Ok(())
}

/// A bare tonic server: the standard health service, always SERVING.
pub async fn tonic_server() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    listener.set_nonblocking(true).expect("nonblocking");
    let (reporter, service) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("", tonic_health::ServingStatus::Serving)
        .await;
    servers().spawn(async move {
        let listener = TcpListener::from_std(listener).expect("listener");
        let _ = tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
            .await;
    });
    addr
}

/// One durable insert per transaction on SQLite (WAL, synchronous=FULL),
/// for `duration`: the fsync ceiling for unbatched writes.
pub async fn sqlite_fsync(duration: Duration) -> Outcome {
    let dir = std::env::temp_dir().join(format!("loadgen-sqlite-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut conn = SqliteConnectOptions::new()
        .filename(dir.join("raw.db"))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .connect()
        .await
        .expect("sqlite");
    sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        .execute(&mut conn)
        .await
        .expect("create");
    let mut hist = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
    let meter = cpu::Meter::start(cpu::Server::None);
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < duration {
        let t = Instant::now();
        sqlx::query("INSERT INTO t (body) VALUES ($1)")
            .bind("{\"mfaType\":3}")
            .execute(&mut conn)
            .await
            .expect("insert");
        hist.record(t.elapsed().as_micros().max(1) as u64).ok();
        n += 1;
    }
    let _ = std::fs::remove_dir_all(&dir);
    let seconds = started.elapsed().as_secs_f64();
    Outcome::new(
        "baseline: sqlite fsync/insert",
        None,
        (n, 0),
        seconds,
        &hist,
        meter.finish(),
    )
}
