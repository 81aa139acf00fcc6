//! What each request leaves behind for operators: a `tracing` span around
//! everything done for it (request id, method, instance, caller, result
//! code), the request metrics, and optionally an access-log line. The guard
//! opens the scope; the layers inside fill in what they learn: the auth
//! layer the method and the caller, the REST transcoder the method and the
//! code of the RPC it called. Everything runs in the request's own task, so
//! a task-local carries it without touching the request types.

use std::cell::Cell;
use std::future::Future;
use std::sync::Arc;

use tonic::Code;
use twofold_app::auth::RequestCtx;

tokio::task_local! {
    static CALL: Call;
}

#[derive(Default)]
struct Call {
    method: Cell<Option<Arc<str>>>,
    code: Cell<Option<Code>>,
}

/// What the inner layers learnt about a request.
pub struct Learnt {
    /// The gRPC method path, when the request reached an RPC.
    pub method: Option<Arc<str>>,
    /// The RPC's result code, when an inner layer knew it exactly.
    pub code: Option<Code>,
}

/// Runs `fut` (the whole request) so the inner layers can report to it.
pub async fn scope<T>(fut: impl Future<Output = T>) -> (T, Learnt) {
    CALL.scope(Call::default(), async {
        let out = fut.await;
        let learnt = CALL
            .try_with(|c| Learnt {
                method: c.method.take(),
                code: c.code.get(),
            })
            .unwrap_or(Learnt {
                method: None,
                code: None,
            });
        (out, learnt)
    })
    .await
}

/// The request calls the RPC `grpc_path` (REST learns it first, then the
/// auth layer: the span gets it once).
pub fn method(grpc_path: &Arc<str>) {
    let first = CALL
        .try_with(|c| {
            let known = c.method.take();
            let first = known.is_none();
            c.method.set(known.or_else(|| Some(grpc_path.clone())));
            first
        })
        .unwrap_or(true);
    if first {
        tracing::Span::current().record("method", &**grpc_path);
    }
}

/// The request's caller, once authenticated.
pub fn caller(ctx: &RequestCtx) {
    let span = tracing::Span::current();
    span.record("instance", ctx.instance_id.as_str());
    span.record("caller", ctx.caller.user_id.as_str());
}

/// The request's result code, as its RPC answered.
pub fn code(code: Code) {
    let _ = CALL.try_with(|c| c.code.set(Some(code)));
}

/// The code of a native gRPC answer: a trailers-only answer carries it in
/// its headers; any other answer is a message followed by OK.
pub fn grpc_code(headers: &http::HeaderMap) -> Code {
    headers
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i32>().ok())
        .map_or(Code::Ok, Code::from)
}

/// gRPC's canonical name of a code (the `code` label and span field).
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}
