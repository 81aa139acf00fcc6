//! The gRPC auth layer: every call to a method with an auth option gets its
//! instance (from the host), caller (from the bearer token) and org context
//! settled here (`admit`), before the handler runs. REST and Connect calls
//! skip the gRPC router but pass the same `admit` (`direct`).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderName;
use tracing::Instrument;
use twofold_app::App;
use twofold_app::auth::{MethodAuth, RequestCtx};
use twofold_domain::DomainError;

use crate::error::to_status;
use crate::methods::{MethodInfo, Methods};
use crate::{grpc_decode, nul_strings, observe};

#[derive(Clone)]
pub struct AuthState {
    pub app: App,
    pub methods: Arc<Methods>,
    /// The gRPC message size limit.
    pub max_message_bytes: usize,
}

/// Header that names the instance host explicitly (ZITADEL's default
/// `InstanceHostHeaders`); otherwise Host / `:authority` decides.
const INSTANCE_HOST_HEADER: HeaderName = HeaderName::from_static("x-zitadel-instance-host");
pub const ORG_HEADER: HeaderName = HeaderName::from_static("x-zitadel-orgid");

/// The host (without port) a request reached the instance under; WebAuthn
/// uses it as the default relying party ID.
#[derive(Clone, Debug)]
pub struct RequestHost(pub String);

pub fn request_host(req: &http::request::Parts) -> String {
    let header = |name| req.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    header(INSTANCE_HOST_HEADER)
        .or_else(|| header(http::header::HOST))
        .or_else(|| req.uri.authority().map(|a| a.to_string()))
        .unwrap_or_default()
}

/// The one layer every RPC passes (each layer costs every request): the
/// caller is settled, the request message checked for NUL characters
/// (`nul_strings`), and tonic's decode failures answered as client errors
/// (`grpc_decode`).
pub async fn layer(State(s): State<AuthState>, req: Request, next: Next) -> Response {
    let Some(method) = s.methods.get(req.uri().path()).cloned() else {
        return next.run(req).await;
    };
    observe::method(&method.grpc_path);
    let resp = call(&s, &method, req, next)
        .instrument(observe::span(&method.grpc_path))
        .await;
    observe::code(observe::grpc_code(resp.headers()));
    resp
}

async fn call(s: &AuthState, method: &MethodInfo, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    if let Err(status) = admit(&s.app, method, &mut parts).await {
        return status.into_http();
    }
    let req = match nul_strings::refuse_nul(method, Request::from_parts(parts, body), s.max_message_bytes).await {
        Ok(req) => req,
        Err(refusal) => return refusal,
    };
    grpc_decode::client_errors(next.run(req).await)
}

/// The check every RPC passes before its handler, whatever the transport:
/// for a method with an auth option, the instance, caller and org context
/// are settled and the declared permission checked; the result goes into
/// the request's extensions, where handlers read it (`ctx`, `host`).
pub async fn admit(app: &App, method: &MethodInfo, parts: &mut http::request::Parts) -> Result<(), tonic::Status> {
    let Some(auth) = &method.auth else {
        return Ok(());
    };
    let host = request_host(parts);
    let ctx = settle(app, parts, &host, auth).await.map_err(to_status)?;
    observe::caller(&tracing::Span::current(), &ctx);
    parts.extensions.insert(ctx);
    parts
        .extensions
        .insert(RequestHost(twofold_app::auth::host_without_port(&host)));
    Ok(())
}

async fn settle(
    app: &App,
    parts: &http::request::Parts,
    host: &str,
    auth: &MethodAuth,
) -> Result<RequestCtx, DomainError> {
    let header = |name| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let instance = app.resolve_instance(host).await?;
    let caller = app
        .authenticate(&instance.id, header(http::header::AUTHORIZATION))
        .await?;
    app.authorize(&instance.id, caller, header(ORG_HEADER), auth).await
}

/// The context the auth layer attached to a request.
pub fn ctx<T>(req: &tonic::Request<T>) -> Result<RequestCtx, tonic::Status> {
    req.extensions()
        .get::<RequestCtx>()
        .cloned()
        .ok_or_else(|| tonic::Status::internal("request context missing"))
}

/// The host the auth layer recorded for the request.
pub fn host<T>(req: &tonic::Request<T>) -> String {
    req.extensions()
        .get::<RequestHost>()
        .map(|h| h.0.clone())
        .unwrap_or_default()
}
