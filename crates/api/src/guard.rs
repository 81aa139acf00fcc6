//! The outermost layer, around every transport: each request gets an id
//! (the client's `x-request-id`, else a new one; returned as `x-request-id`)
//! and one scope of fresh reads (`twofold_app::freshness`), metrics and, if
//! asked, an access-log line (`observe`; the span opens in the auth layer);
//! oversize URIs and header blocks are refused; a handler that panics answers 500 instead of dropping the
//! connection; error answers that lower layers leave without a body
//! (tonic-web's 400/405) get the contract's JSON body; and an HTTP/1
//! answer given before the request body was read says `connection: close`,
//! as hyper then closes the connection and a client must not reuse it.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::task::{Context, Poll};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use bytes::Bytes;
use futures_util::FutureExt;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Version};
use http_body::{Body as _, Frame, SizeHint};
use tonic::{Code, Status};

use crate::error::protocol_error;
use crate::observe;

/// Longest request target (path and query) served.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// Largest header block (names and values) served.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");
/// Longest request id taken from a client.
const MAX_REQUEST_ID_BYTES: usize = 128;

/// How requests are logged.
#[derive(Clone, Copy, Debug, Default)]
pub struct Logging {
    /// One info line per request at its end (method, code, duration).
    pub access_log: bool,
}

/// Serves `req` through `next` (everything inside the guard).
pub async fn guard<F, Fut>(logging: Logging, req: Request, next: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Response>,
{
    let started = Instant::now();
    let id = request_id(req.headers());
    // Operators' own endpoints (probes, scrapes) are not API calls.
    let operator = req.uri().path().starts_with("/debug/");
    let grpc = is_grpc(req.headers());
    let target = logging
        .access_log
        .then(|| (req.method().clone(), req.uri().path().to_owned()));
    // Boxed: the request's state is large, and the layers around would
    // each copy it. One scope of fresh reads per request: a caching store
    // catches up with other nodes' writes once, at its first read.
    let inner = Box::pin(twofold_app::freshness::request(guarded(req, next, grpc, &id)));
    let (mut resp, learnt) = observe::scope(id.clone(), inner).await;
    let code = learnt.code.unwrap_or_else(|| answer_code(&resp, grpc));
    let code = observe::code_name(code);
    let method = learnt.method.as_ref().unwrap_or(&UNMATCHED);
    if !operator {
        twofold_app::metrics::request(method, code, started.elapsed());
    }
    if let Some((http_method, path)) = target {
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let request_id = id.to_str().unwrap_or_default();
        tracing::info!(
            request_id,
            method = &**method,
            code,
            %http_method,
            path,
            status = resp.status().as_u16(),
            micros,
            "request finished"
        );
    }
    resp.headers_mut().insert(REQUEST_ID_HEADER, id);
    resp
}

/// The `method` label of requests that reached no RPC of the API (unknown
/// paths, gRPC health and reflection).
static UNMATCHED: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from("unmatched"));

/// The code of an answer no inner layer reported on: gRPC's own, else the
/// one grpc-gateway pairs with the HTTP status.
fn answer_code(resp: &Response, grpc: bool) -> Code {
    if grpc {
        observe::grpc_code(resp.headers())
    } else if resp.status().is_success() {
        Code::Ok
    } else {
        code_of(resp.status())
    }
}

/// The request's id: the client's `x-request-id` when it is a sane token
/// (visible ASCII, not too long), so a trace can follow a request across
/// services; else a new one.
fn request_id(headers: &HeaderMap) -> HeaderValue {
    headers
        .get(&REQUEST_ID_HEADER)
        .filter(|v| {
            let b = v.as_bytes();
            !b.is_empty() && b.len() <= MAX_REQUEST_ID_BYTES && b.iter().all(u8::is_ascii_graphic)
        })
        .cloned()
        .unwrap_or_else(|| HeaderValue::from_str(&new_request_id()).unwrap_or(HeaderValue::from_static("-")))
}

/// The request itself, with the guard's refusals, panic catching and
/// error bodies.
async fn guarded<F, Fut>(req: Request, next: F, grpc: bool, id: &HeaderValue) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Response>,
{
    let http1 = req.version() < Version::HTTP_2;
    // Only a request with a body needs watching (most have none).
    let read = (!req.body().is_end_stream()).then(|| Arc::new(AtomicBool::new(false)));
    let req = match &read {
        Some(read) => req.map(|inner| {
            Body::new(Tracked {
                inner,
                read: read.clone(),
            })
        }),
        None => req,
    };
    let mut resp = if let Some(refusal) = refuse_oversize(&req, grpc) {
        refusal
    } else {
        // Kept for the log line of a panic (cheap clones: shared bytes).
        let (method, uri) = (req.method().clone(), req.uri().clone());
        match AssertUnwindSafe(async move { next(req).await }).catch_unwind().await {
            Ok(resp) => with_error_body(resp),
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                tracing::error!(request_id = id.to_str().unwrap_or_default(), %method, path = uri.path(), panic = %what, "request handler panicked");
                let id = id.to_str().unwrap_or_default();
                let message = format!("An internal error occurred (request id {id})");
                if grpc {
                    Status::internal(message).into_http()
                } else {
                    protocol_error(StatusCode::INTERNAL_SERVER_ERROR, Code::Internal, message)
                }
            }
        }
    };
    if http1 && read.is_some_and(|r| !r.load(Ordering::Relaxed)) {
        resp.headers_mut()
            .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
    }
    resp
}

/// A request body that records when it has been read to the end.
struct Tracked {
    inner: Body,
    read: Arc<AtomicBool>,
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.read.store(true, Ordering::Relaxed);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Unique within the process and across restarts: start time, then a counter.
fn new_request_id() -> String {
    static START: LazyLock<u64> = LazyLock::new(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
    });
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    format!("{:x}-{}", *START, COUNTER.fetch_add(1, Ordering::Relaxed))
}

fn is_grpc(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/grpc"))
}

/// 414 for a long URI, 431 for a large header block (gRPC: the status a
/// gRPC server gives for metadata too large).
fn refuse_oversize(req: &Request, grpc: bool) -> Option<Response> {
    let uri_len = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    let header_len: usize = req.headers().iter().map(|(n, v)| n.as_str().len() + v.len()).sum();
    let (http, message) = if uri_len > MAX_URI_BYTES {
        (
            StatusCode::URI_TOO_LONG,
            format!("request URI longer than {MAX_URI_BYTES} bytes"),
        )
    } else if header_len > MAX_HEADER_BYTES {
        (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!("request headers larger than {MAX_HEADER_BYTES} bytes"),
        )
    } else {
        return None;
    };
    Some(if grpc {
        Status::resource_exhausted(message).into_http()
    } else {
        protocol_error(http, Code::InvalidArgument, message)
    })
}

/// An error status without a body (and so without a content type) gets the
/// contract's `{"code","message"}`; gRPC answers (status 200) are untouched.
fn with_error_body(resp: Response) -> Response {
    let status = resp.status();
    let bare = (status.is_client_error() || status.is_server_error())
        && !resp.headers().contains_key(http::header::CONTENT_TYPE)
        && resp.body().size_hint().exact() == Some(0);
    if !bare {
        return resp;
    }
    let message = status.canonical_reason().unwrap_or("request failed");
    let mut out = protocol_error(status, code_of(status), message);
    for (name, value) in resp.headers() {
        if name != http::header::CONTENT_LENGTH {
            out.headers_mut().append(name.clone(), value.clone());
        }
    }
    out
}

/// The gRPC code grpc-gateway pairs with an HTTP status.
fn code_of(status: StatusCode) -> Code {
    match status {
        StatusCode::UNAUTHORIZED => Code::Unauthenticated,
        StatusCode::FORBIDDEN => Code::PermissionDenied,
        StatusCode::NOT_FOUND => Code::NotFound,
        StatusCode::METHOD_NOT_ALLOWED | StatusCode::NOT_IMPLEMENTED => Code::Unimplemented,
        StatusCode::CONFLICT => Code::AlreadyExists,
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::TOO_MANY_REQUESTS => Code::ResourceExhausted,
        StatusCode::SERVICE_UNAVAILABLE => Code::Unavailable,
        StatusCode::GATEWAY_TIMEOUT => Code::DeadlineExceeded,
        s if s.is_client_error() => Code::InvalidArgument,
        _ => Code::Internal,
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;

    async fn boom() -> &'static str {
        panic!("boom")
    }

    fn app() -> Router {
        Router::new()
            .route("/boom", get(boom))
            .route("/bare", get(|| async { StatusCode::METHOD_NOT_ALLOWED }))
    }

    async fn send(req: http::Request<Body>) -> (StatusCode, HeaderMap, serde_json::Value) {
        let resp = guard(Logging::default(), req, |req| async {
            app().oneshot(req).await.unwrap()
        })
        .await;
        let (parts, body) = resp.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes();
        let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        (parts.status, parts.headers, json)
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_500_with_a_request_id() {
        let (status, headers, body) = send(http::Request::get("/boom").body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        let id = headers[REQUEST_ID_HEADER].to_str().unwrap().to_owned();
        assert_eq!(
            body,
            serde_json::json!({"code": 13, "message": format!("An internal error occurred (request id {id})")})
        );

        let req = http::Request::get("/boom")
            .header("content-type", "application/grpc")
            .body(Body::empty())
            .unwrap();
        let (status, headers, _) = send(req).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers["grpc-status"], "13");
        assert_ne!(headers[REQUEST_ID_HEADER].to_str().unwrap(), id);
    }

    #[tokio::test]
    async fn a_sane_client_request_id_is_kept() {
        let req = |id: &str| {
            http::Request::get("/bare")
                .header(REQUEST_ID_HEADER, id)
                .body(Body::empty())
                .unwrap()
        };
        let (_, headers, _) = send(req("trace-1")).await;
        assert_eq!(headers[REQUEST_ID_HEADER], "trace-1");
        for bad in ["two words", &"x".repeat(MAX_REQUEST_ID_BYTES + 1)] {
            let (_, headers, _) = send(req(bad)).await;
            assert!(!headers[REQUEST_ID_HEADER].is_empty());
            assert_ne!(headers[REQUEST_ID_HEADER], bad);
        }
    }

    #[tokio::test]
    async fn bare_errors_and_oversize_requests_get_json_bodies() {
        let (status, _, body) = send(http::Request::get("/bare").body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(body, serde_json::json!({"code": 12, "message": "Method Not Allowed"}));

        let long = format!("/bare?{}", "a".repeat(MAX_URI_BYTES));
        let (status, _, body) = send(http::Request::get(long).body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::URI_TOO_LONG);
        assert_eq!(body["code"], 3);

        let req = http::Request::get("/bare")
            .header("x-big", "b".repeat(MAX_HEADER_BYTES))
            .body(Body::empty())
            .unwrap();
        let (status, _, body) = send(req).await;
        assert_eq!(status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
        assert_eq!(body["code"], 3);
    }
}
