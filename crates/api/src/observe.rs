//! What each request leaves behind for operators: a `tracing` span around
//! the RPC (request id, method, instance, caller), the request metrics,
//! and optionally an access-log line. The guard opens the scope with the
//! request id; the layers inside fill in what they learn: the REST
//! transcoder the method and the code of the RPC it called, the auth layer
//! the method, the caller and the code. Everything runs in the request's
//! own task, so a task-local carries it without touching the request types.
//!
//! The span opens in the auth layer, where the method is known, and gets
//! the caller in one more record once authenticated: each field a span is
//! given costs a formatting pass in the log subscriber on every request.
//! The guard's own lines (a panic, the access log) name the request id
//! themselves.

use std::cell::Cell;
use std::future::Future;
use std::sync::Arc;

use http::HeaderValue;
use tonic::Code;
use tracing::Span;
use tracing::field::{Empty, Value, display};
use twofold_app::auth::RequestCtx;

tokio::task_local! {
    static CALL: Call;
}

struct Call {
    request_id: HeaderValue,
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

/// Runs `fut` (the whole request with id `request_id`) so the inner layers
/// can report to it.
pub async fn scope<T>(request_id: HeaderValue, fut: impl Future<Output = T>) -> (T, Learnt) {
    let call = Call {
        request_id,
        method: Cell::new(None),
        code: Cell::new(None),
    };
    CALL.scope(call, async {
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
/// auth layer).
pub fn method(grpc_path: &Arc<str>) {
    let _ = CALL.try_with(|c| {
        let known = c.method.take();
        c.method.set(known.or_else(|| Some(grpc_path.clone())));
    });
}

/// The span of a call to `grpc_path`, carrying the request's id.
pub fn span(grpc_path: &str) -> Span {
    let id = CALL.try_with(|c| c.request_id.clone()).ok();
    let id = id.as_ref().and_then(|v| v.to_str().ok()).unwrap_or_default();
    tracing::info_span!(
        "request",
        request_id = %id,
        method = %grpc_path,
        instance = Empty,
        caller = Empty,
    )
}

/// The call's caller, once authenticated (one record for both fields).
pub fn caller(span: &Span, ctx: &RequestCtx) {
    let Some(meta) = span.metadata() else { return };
    let fields = meta.fields();
    let (Some(instance), Some(caller)) = (fields.field("instance"), fields.field("caller")) else {
        return;
    };
    let (instance_value, caller_value) = (display(&ctx.instance_id), display(&ctx.caller.user_id));
    let values = [
        (&instance, Some(&instance_value as &dyn Value)),
        (&caller, Some(&caller_value as &dyn Value)),
    ];
    span.record_all(&fields.value_set(&values));
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
