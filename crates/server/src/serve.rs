//! The accept loop. `axum::serve` has no header-read or idle timeout and no
//! connection limit, so idle and slow clients could hold sockets until the
//! process ran out of file descriptors (issue 10, finding 5). Here each
//! connection is served by hyper's auto (HTTP/1.1 + h2c) builder with:
//! - a header-read timeout: a connection with no request in progress (its
//!   next request's head not yet complete) for that long is closed, on a new
//!   connection in either protocol and between HTTP/1.1 requests. It is kept
//!   here rather than by hyper's own `header_read_timeout`, which arms a
//!   timer for every request: measured, that cost a fifth of the CPU of a
//!   small REST call (`docs/benchmarks.md`);
//! - an idle timeout: an HTTP/2 connection with no request in progress for
//!   that long is shut down gracefully (GOAWAY);
//! - HTTP/2 keep-alive pings, so dead peers are noticed;
//! - a cap on open connections: above it a new connection is closed at
//!   once, and the cap is kept below the open-files limit so the listener
//!   itself never runs out of descriptors. Accept errors are logged and
//!   retried after a pause instead of spinning.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use twofold_api::Api;

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    pub h2_keepalive_interval: Duration,
    pub h2_keepalive_timeout: Duration,
    pub max_connections: usize,
}

const CAP_WARNING_INTERVAL: Duration = Duration::from_secs(10);

/// Descriptors kept free for the database, log and data files.
const RESERVED_FILES: usize = 128;

/// `wanted`, lowered to fit the soft open-files limit (Linux; elsewhere
/// `wanted` as given).
pub fn fit_open_files_limit(wanted: usize) -> usize {
    let Some(limit) = open_files_limit() else {
        return wanted;
    };
    let fits = limit.saturating_sub(RESERVED_FILES).max(1);
    if wanted > fits {
        tracing::warn!(
            wanted,
            limit,
            max_connections = fits,
            "--max-connections lowered to fit the open-files limit (raise it with ulimit -n)"
        );
        return fits;
    }
    wanted
}

fn open_files_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Serves `api` on `listener` until `stop` resolves, then lets open
/// requests finish and returns once every connection has closed.
pub async fn serve(listener: TcpListener, api: Api, limits: Limits, stop: impl Future<Output = ()>) {
    let api = Arc::new(api);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // The header-read timeout is `Activity`'s (see above).
    builder.http1().timer(TokioTimer::new()).header_read_timeout(None);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(limits.h2_keepalive_interval)
        .keep_alive_timeout(limits.h2_keepalive_timeout);
    let builder = Arc::new(builder);
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    // The cap being hit is logged at most once per interval.
    let mut warned: Option<Instant> = None;
    let (stopping, stop_rx) = watch::channel(false);
    tokio::pin!(stop);
    loop {
        let stream = tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    accept_failed(&e).await;
                    continue;
                }
            },
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            if warned.is_none_or(|at| at.elapsed() >= CAP_WARNING_INTERVAL) {
                warned = Some(Instant::now());
                tracing::warn!(
                    max_connections = limits.max_connections,
                    "connection limit reached: new connections are closed until others end"
                );
            }
            drop(stream);
            continue;
        };
        let (builder, api, stop_rx) = (builder.clone(), api.clone(), stop_rx.clone());
        tokio::spawn(async move {
            connection(&builder, stream, api, limits, stop_rx).await;
            drop(permit);
        });
    }
    drop(listener);
    let _ = stopping.send(true);
    // Each connection holds a permit until it ends.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = permits.acquire_many(all).await;
}

/// Per-connection errors (the peer gave up) are no reason to wait; running
/// out of descriptors or memory is, or the loop would spin.
async fn accept_failed(e: &std::io::Error) {
    use std::io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | ConnectionRefused | Interrupted
    ) {
        tracing::debug!(error = %e, "accept error");
        return;
    }
    tracing::warn!(error = %e, "accept error; pausing before the next accept");
    tokio::time::sleep(Duration::from_millis(250)).await;
}

async fn connection(
    builder: &auto::Builder<TokioExecutor>,
    stream: TcpStream,
    api: Arc<Api>,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let activity = Arc::new(Activity::new());
    let tracked = activity.clone();
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let busy = Busy::start(tracked.clone(), req.version() == hyper::Version::HTTP_2);
        let response = api.clone().handle(req.map(Body::new));
        async move {
            let response = response.await;
            Ok::<_, Infallible>(response.map(|inner| Body::new(Tracked { inner, _busy: busy })))
        }
    });
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    // Set once the connection is asked to close: by then idle, so it may
    // take no longer than a header timeout to do so.
    let mut deadline: Option<tokio::time::Instant> = None;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            _ = stop.wait_for(|s| *s), if deadline.is_none() && !*stop.borrow() => {
                conn.as_mut().graceful_shutdown();
            }
            () = activity.expired(limits), if deadline.is_none() => {
                conn.as_mut().graceful_shutdown();
                deadline = Some(tokio::time::Instant::now() + limits.header_timeout);
            }
            () = sleep_until(deadline), if deadline.is_some() => return,
        }
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Whether a connection has a request in progress, and since when not.
struct Activity {
    busy: AtomicUsize,
    served: AtomicBool,
    http2: AtomicBool,
    idle_since: Mutex<Instant>,
}

impl Activity {
    fn new() -> Self {
        Self {
            busy: AtomicUsize::new(0),
            served: AtomicBool::new(false),
            http2: AtomicBool::new(false),
            idle_since: Mutex::new(Instant::now()),
        }
    }

    /// Resolves once the connection has been idle too long: the header
    /// timeout for a new connection (its first request is late) and between
    /// HTTP/1.1 requests (the next head is late), the idle timeout for an
    /// HTTP/2 connection that has served. Checked a few times per limit,
    /// which is precise enough.
    async fn expired(&self, limits: Limits) {
        let tick = (limits.header_timeout.min(limits.idle_timeout) / 4)
            .clamp(Duration::from_millis(50), Duration::from_secs(1));
        loop {
            tokio::time::sleep(tick).await;
            if self.busy.load(Ordering::Acquire) > 0 {
                continue;
            }
            let limit = if self.served.load(Ordering::Acquire) && self.http2.load(Ordering::Acquire) {
                limits.idle_timeout
            } else {
                limits.header_timeout
            };
            let since = *self.idle_since.lock().unwrap_or_else(|e| e.into_inner());
            if since.elapsed() >= limit {
                return;
            }
        }
    }
}

/// A request in progress, from its headers until its response body ends.
struct Busy(Arc<Activity>);

impl Busy {
    fn start(activity: Arc<Activity>, http2: bool) -> Self {
        activity.http2.store(http2, Ordering::Release);
        activity.served.store(true, Ordering::Release);
        activity.busy.fetch_add(1, Ordering::AcqRel);
        Self(activity)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        *self.0.idle_since.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        self.0.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body that keeps its request counted as in progress.
struct Tracked {
    inner: Body,
    _busy: Busy,
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
