//! What each request leaves behind for operators: a `tracing` span around
//! the RPC (request id, method, instance, caller), the request metrics,
//! and optionally an access-log line. The guard opens the scope with the
//! request id; the layers inside fill in what they learn: the REST
//! transcoder the method and the code of the RPC it called, the auth layer
//! the method, the caller and the code. Everything runs in the request's
//! own task, so a task-local carries it without touching the request types.
//!
//! The span opens in the auth layer, where the method is known, and gets
//! the caller once authenticated. Its fields are kept as data and
//! formatted only when a line is logged inside it: formatting them on every
//! request was the largest part of what tracing cost per call.
//! The guard's own lines (a panic, the access log) name the request id
//! themselves.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use http::HeaderValue;
use tonic::Code;
use tracing::{Event, Span, Subscriber};
use tracing_subscriber::Registry;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;
use twofold_app::auth::RequestCtx;
use twofold_domain::ids::{InstanceId, UserId};

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

/// The span of a call to `grpc_path`. It has no fields of its own: the
/// request's id and method are kept as data in the span
/// (`RequestFields`) and formatted only when a log line is written inside
/// it (`EventFormat`), instead of by the log subscriber on every request.
pub fn span(grpc_path: &Arc<str>) -> Span {
    let span = tracing::info_span!("request");
    let Ok(request_id) = CALL.try_with(|c| c.request_id.clone()) else {
        return span;
    };
    let fields = RequestFields {
        request_id,
        method: grpc_path.clone(),
        caller: None,
    };
    with_fields(&span, |slot| *slot = Some(fields));
    span
}

/// The call's caller, once authenticated.
pub fn caller(span: &Span, ctx: &RequestCtx) {
    with_fields(span, |slot| {
        if let Some(fields) = slot {
            fields.caller = Some((ctx.instance_id.clone(), ctx.caller.user_id.clone()));
        }
    });
}

/// What a request's span shows in a log line:
/// `request{request_id=… method=… instance=… caller=…}`.
pub struct RequestFields {
    request_id: HeaderValue,
    method: Arc<str>,
    caller: Option<(InstanceId, UserId)>,
}

impl fmt::Display for RequestFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = self.request_id.to_str().unwrap_or_default();
        write!(f, "request_id={id} method={}", self.method)?;
        if let Some((instance, caller)) = &self.caller {
            write!(f, " instance={instance} caller={caller}")?;
        }
        Ok(())
    }
}

/// Runs `f` on the `RequestFields` slot of `span` (none while logging is
/// off for it, or under a subscriber without a span registry).
fn with_fields(span: &Span, f: impl FnOnce(&mut Option<RequestFields>)) {
    span.with_subscriber(|(id, dispatch)| {
        let Some(span) = dispatch.downcast_ref::<Registry>().and_then(|r| r.span(id)) else {
            return;
        };
        let mut extensions = span.extensions_mut();
        let mut slot = extensions.remove::<RequestFields>();
        f(&mut slot);
        if let Some(fields) = slot {
            extensions.insert(fields);
        }
    });
}

/// The log format of the server: `inner`'s, with each request span's
/// fields written into it when a line is written inside the span.
pub struct EventFormat<F>(pub F);

impl<S, N, F> FormatEvent<S, N> for EventFormat<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        for span in ctx.event_scope().into_iter().flatten() {
            let mut extensions = span.extensions_mut();
            let Some(text) = extensions.get_mut::<RequestFields>().map(|f| f.to_string()) else {
                continue;
            };
            if let Some(formatted) = extensions.get_mut::<FormattedFields<N>>() {
                formatted.fields = text;
            }
        }
        self.0.format_event(ctx, writer, event)
    }
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

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::Mutex;

    use tracing::Instrument;
    use twofold_app::auth::Caller;
    use twofold_domain::ids::OrgId;

    use super::*;

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Lines {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_line_logged_inside_a_call_names_the_request() {
        let lines = Lines::default();
        let sink = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || sink.clone())
            .with_ansi(false)
            .event_format(EventFormat(tracing_subscriber::fmt::format().with_ansi(false)))
            .finish();
        let _default = tracing::subscriber::set_default(subscriber);
        let ctx = RequestCtx {
            instance_id: InstanceId::new("inst-1"),
            caller: Caller {
                user_id: UserId::new("user-9"),
                org_id: OrgId::new("org-2"),
                session: None,
                hosted_login: false,
                oidc_amr: None,
            },
            org_id: OrgId::new("org-2"),
            check: None,
        };
        let method: Arc<str> = Arc::from("/pkg.Service/Call");
        let call = async {
            tracing::info!("before the caller is known");
            caller(&Span::current(), &ctx);
            tracing::warn!("after");
            async { tracing::error!("in a child span") }
                .instrument(tracing::info_span!("child", step = 2))
                .await;
        };
        // The span opens inside the request's scope, as in the auth layer.
        scope(HeaderValue::from_static("req-1"), async {
            call.instrument(span(&method)).await
        })
        .await;
        tracing::info!("outside any call");

        let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        let got: Vec<_> = text
            .lines()
            .map(|l| l.split_once(' ').map_or(l, |(_, rest)| rest.trim_start()))
            .collect();
        assert_eq!(
            got,
            [
                "INFO request{request_id=req-1 method=/pkg.Service/Call}: twofold_api::observe::tests: before the caller is known",
                "WARN request{request_id=req-1 method=/pkg.Service/Call instance=inst-1 caller=user-9}: twofold_api::observe::tests: after",
                "ERROR request{request_id=req-1 method=/pkg.Service/Call instance=inst-1 caller=user-9}:child{step=2}: twofold_api::observe::tests: in a child span",
                "INFO twofold_api::observe::tests: outside any call",
            ]
        );
    }
}
