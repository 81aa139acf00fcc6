//! The Connect protocol (<https://connectrpc.com/docs/protocol>), unary calls,
//! on each RPC's gRPC path: `POST /<package>.<Service>/<Method>` with an
//! `application/json` or `application/proto` body, or `GET` with the
//! `message`/`encoding` query for methods declared
//! `idempotency_level = NO_SIDE_EFFECTS`. The content type tells it apart
//! from gRPC and gRPC-web on the same path. Like REST, the message is handed
//! in-process to the RPC after the admission gRPC calls pass too (`direct`),
//! so authentication, permission checks, validation and error ids are the
//! gRPC ones; only the framing and the error shape
//! (`error::connect_response`) are Connect's.
//!
//! Written here rather than taken from a crate: the Rust Connect crates
//! (`connectrpc`, `connectrpc-axum`, `axum-connect`) dispatch to typed
//! handlers generated per service, a second implementation of every RPC.

use std::future::Future;
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use prost::Message;
use tonic::Status;

use crate::direct::Direct;
use crate::error::{connect_response, invalid};
use crate::methods::{MethodInfo, Methods};
use crate::rest::{parse_body, to_json};

const JSON: &str = "application/json";
const PROTO: &str = "application/proto";
/// Answers smaller than this go uncompressed: gzip would save next to nothing.
const COMPRESS_MIN_BYTES: usize = 1024;
/// Connect allows at most 10 digits of milliseconds.
const MAX_TIMEOUT_DIGITS: usize = 10;

#[derive(Clone, Copy, PartialEq)]
enum Codec {
    Json,
    Proto,
}

impl Codec {
    fn content_type(self) -> &'static str {
        match self {
            Codec::Json => JSON,
            Codec::Proto => PROTO,
        }
    }
}

/// Everything a Connect call needs besides the request.
#[derive(Clone)]
pub struct Connect {
    methods: Arc<Methods>,
    direct: Arc<Direct>,
    max_body_bytes: usize,
}

impl Connect {
    pub fn new(methods: Arc<Methods>, direct: Arc<Direct>, max_body_bytes: usize) -> Self {
        Self {
            methods,
            direct,
            max_body_bytes,
        }
    }
}

/// Takes the Connect requests; gRPC, gRPC-web, REST and everything else
/// go on to `next` untouched.
pub async fn route<F, Fut>(c: &Connect, req: Request, next: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Response>,
{
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with("application/grpc") {
        return next(req).await;
    }
    let codec = codec_of(content_type);
    let Some(info) = c.methods.get(req.uri().path()).cloned() else {
        // `/<package>.<Service>/…` with a Connect body: an RPC we do not
        // serve. (REST paths never have a dot in their first segment.)
        let rpc_like = req
            .uri()
            .path()
            .trim_start_matches('/')
            .split('/')
            .next()
            .is_some_and(|s| s.contains('.'));
        if req.method() == Method::POST && codec.is_some() && rpc_like {
            return refusal(
                StatusCode::NOT_FOUND,
                Status::unimplemented(format!("unknown method {}", req.uri().path())),
            );
        }
        return next(req).await;
    };
    match (req.method(), codec) {
        // Boxed: their state is large, and every other request would carry it.
        (&Method::POST, Some(codec)) => Box::pin(c.post(&info, codec, req)).await,
        (&Method::POST, None) => {
            let mut resp = refusal(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Status::invalid_argument(format!("unsupported content type {content_type:?}")),
            );
            let accepted = "application/grpc, application/grpc+proto, application/grpc-web, \
                            application/grpc-web+proto, application/json, application/proto";
            resp.headers_mut()
                .insert("accept-post", HeaderValue::from_static(accepted));
            resp
        }
        (&Method::GET, _) if info.no_side_effects => Box::pin(c.get(&info, req)).await,
        _ => {
            let allow = if info.no_side_effects { "GET, POST" } else { "POST" };
            let mut resp = refusal(
                StatusCode::METHOD_NOT_ALLOWED,
                Status::unimplemented(format!("{} is not served for {}", req.method(), info.grpc_path)),
            );
            resp.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(allow));
            resp
        }
    }
}

impl Connect {
    async fn post(&self, info: &MethodInfo, codec: Codec, req: Request) -> Response {
        let (mut parts, body) = req.into_parts();
        let result = async {
            if let Some(v) = parts.headers.get("connect-protocol-version")
                && v != "1"
            {
                return Err(invalid(format!(
                    "connect-protocol-version must be \"1\": got {:?}",
                    v.to_str().unwrap_or("")
                )));
            }
            let timeout = timeout(&parts.headers)?;
            let encoding = parts
                .headers
                .get(header::CONTENT_ENCODING)
                .or_else(|| parts.headers.get("connect-content-encoding"))
                .map(|v| v.to_str().unwrap_or("?"));
            let body = Limited::new(body, self.max_body_bytes)
                .collect()
                .await
                .map_err(|e| read_error(&*e, self.max_body_bytes))?
                .to_bytes();
            let body = self.decompress(encoding, body)?;
            self.call(info, codec, &mut parts, body, timeout).await
        }
        .await;
        respond(codec, &parts.headers, result)
    }

    async fn get(&self, info: &MethodInfo, req: Request) -> Response {
        let (mut parts, _) = req.into_parts();
        let request = GetQuery::parse(parts.uri.query()).and_then(|q| {
            let (codec, message, compression) = q.into_message()?;
            Ok((codec, self.decompress(compression.as_deref(), message)?))
        });
        let (codec, body) = match request {
            Ok(request) => request,
            Err(status) => return connect_response(&status),
        };
        let result = match timeout(&parts.headers) {
            Ok(timeout) => self.call(info, codec, &mut parts, body, timeout).await,
            Err(status) => Err(status),
        };
        respond(codec, &parts.headers, result)
    }

    /// Decodes the request message, calls the RPC and encodes its answer.
    async fn call(
        &self,
        info: &MethodInfo,
        codec: Codec,
        parts: &mut http::request::Parts,
        body: Bytes,
        timeout: Option<Duration>,
    ) -> Result<Vec<u8>, Status> {
        let message = match codec {
            // Decoded (and refused) with the RPC's own message type.
            Codec::Proto => body,
            Codec::Json if body.is_empty() => {
                return Err(invalid(
                    "unmarshal message: zero-length payload is not a valid JSON object",
                ));
            }
            Codec::Json => Bytes::from(
                parse_body(&info.input, &body)
                    .map_err(|e| invalid(format!("unmarshal message: {e}")))?
                    .encode_to_vec(),
            ),
        };
        let call = self.direct.call(info, parts, message);
        let out = match timeout {
            Some(limit) => tokio::time::timeout(limit, call)
                .await
                .map_err(|_| Status::deadline_exceeded("the operation timed out"))??,
            None => call.await?,
        };
        match codec {
            Codec::Proto => Ok(out),
            Codec::Json => to_json(info, &out),
        }
    }

    /// The request message uncompressed, still within the size limit.
    fn decompress(&self, encoding: Option<&str>, body: Bytes) -> Result<Bytes, Status> {
        match encoding {
            None | Some("identity") => Ok(body),
            Some("gzip") => {
                let limit = u64::try_from(self.max_body_bytes).unwrap_or(u64::MAX);
                let mut out = Vec::new();
                GzDecoder::new(body.as_ref())
                    .take(limit.saturating_add(1))
                    .read_to_end(&mut out)
                    .map_err(|e| invalid(format!("decompressing the message: {e}")))?;
                if out.len() > self.max_body_bytes {
                    return Err(too_large(self.max_body_bytes));
                }
                Ok(Bytes::from(out))
            }
            Some(other) => Err(Status::unimplemented(format!(
                "unknown compression {other:?}: supported encodings are gzip, identity"
            ))),
        }
    }
}

/// The codec of a Connect unary content type (parameters ignored).
fn codec_of(content_type: &str) -> Option<Codec> {
    let base = content_type.split(';').next().unwrap_or("").trim();
    if base.eq_ignore_ascii_case(JSON) {
        Some(Codec::Json)
    } else if base.eq_ignore_ascii_case(PROTO) {
        Some(Codec::Proto)
    } else {
        None
    }
}

/// `Connect-Timeout-Ms`, when sent.
fn timeout(headers: &HeaderMap) -> Result<Option<Duration>, Status> {
    let Some(v) = headers.get("connect-timeout-ms") else {
        return Ok(None);
    };
    let text = v.to_str().unwrap_or("");
    if text.is_empty() || text.len() > MAX_TIMEOUT_DIGITS || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(format!("connect-timeout-ms is not a valid timeout: {text:?}")));
    }
    Ok(text.parse().ok().map(Duration::from_millis))
}

fn too_large(limit: usize) -> Status {
    Status::resource_exhausted(format!("request message larger than {limit} bytes"))
}

fn read_error(e: &(dyn std::error::Error + Send + Sync + 'static), limit: usize) -> Status {
    if e.is::<http_body_util::LengthLimitError>() {
        too_large(limit)
    } else {
        invalid(format!("reading the request body: {e}"))
    }
}

/// The success answer in the request's codec (gzip when the client accepts
/// it and it is worth it), or the error in Connect's JSON.
fn respond(codec: Codec, request_headers: &HeaderMap, result: Result<Vec<u8>, Status>) -> Response {
    let body = match result {
        Ok(body) => body,
        Err(status) => return connect_response(&status),
    };
    let gzip = body.len() >= COMPRESS_MIN_BYTES && accepts_gzip(request_headers);
    let (body, encoding) = match gzip.then(|| gzip_bytes(&body)).flatten() {
        Some(zipped) => (zipped, Some("gzip")),
        None => (body, None),
    };
    let mut resp = Response::new(Body::from(body));
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(codec.content_type()));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    if let Some(encoding) = encoding {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    resp
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let gzip = parts.next().is_some_and(|name| name.eq_ignore_ascii_case("gzip"));
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            gzip && !refused
        })
}

fn gzip_bytes(body: &[u8]) -> Option<Vec<u8>> {
    let mut enc = GzEncoder::new(Vec::with_capacity(body.len() / 2), Compression::fast());
    enc.write_all(body).ok()?;
    enc.finish().ok()
}

/// A Connect error with a transport-level HTTP status of its own.
fn refusal(http: StatusCode, status: Status) -> Response {
    let mut resp = connect_response(&status);
    *resp.status_mut() = http;
    resp
}

/// The query of a Connect GET, values percent-decoded to bytes (a binary
/// message need not be UTF-8).
#[derive(Default)]
struct GetQuery {
    message: Option<Vec<u8>>,
    encoding: Option<Vec<u8>>,
    base64: Option<Vec<u8>>,
    compression: Option<Vec<u8>>,
    connect: Option<Vec<u8>>,
}

impl GetQuery {
    fn parse(query: Option<&str>) -> Result<Self, Status> {
        let mut q = Self::default();
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value: Vec<u8> = percent_encoding::percent_decode_str(&value.replace('+', " ")).collect();
            let slot = match name {
                "message" => &mut q.message,
                "encoding" => &mut q.encoding,
                "base64" => &mut q.base64,
                "compression" => &mut q.compression,
                "connect" => &mut q.connect,
                // Cache busters and the like are allowed.
                _ => continue,
            };
            if slot.replace(value).is_some() {
                return Err(invalid(format!("query parameter {name} given more than once")));
            }
        }
        Ok(q)
    }

    /// The codec, the (still compressed) message and its compression.
    fn into_message(self) -> Result<(Codec, Bytes, Option<String>), Status> {
        if self.connect.as_ref().is_some_and(|v| v != b"v1") {
            return Err(invalid("the connect query parameter must be \"v1\""));
        }
        let codec = match self.encoding.as_deref() {
            Some(b"json") => Codec::Json,
            Some(b"proto") => Codec::Proto,
            _ => return Err(invalid("the encoding query parameter must be \"json\" or \"proto\"")),
        };
        let mut message = self.message.unwrap_or_default();
        if self.base64.as_deref() == Some(b"1") {
            // Padding is optional.
            let trimmed: Vec<u8> = message.iter().copied().filter(|b| *b != b'=').collect();
            message = URL_SAFE_NO_PAD
                .decode(trimmed)
                .map_err(|e| invalid(format!("the message query parameter is not URL-safe base64: {e}")))?;
        }
        let compression = self.compression.map(|c| String::from_utf8_lossy(&c).into_owned());
        Ok((codec, Bytes::from(message), compression))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_pick_the_codec() {
        assert!(codec_of("application/json; charset=utf-8") == Some(Codec::Json));
        assert!(codec_of("application/proto") == Some(Codec::Proto));
        assert!(codec_of("text/plain").is_none());
    }

    #[test]
    fn gzip_acceptance_honours_q_zero() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
            m
        };
        assert!(accepts_gzip(&h("gzip, deflate")));
        assert!(accepts_gzip(&h("br;q=1.0, gzip;q=0.5")));
        assert!(!accepts_gzip(&h("gzip;q=0")));
        assert!(!accepts_gzip(&h("identity")));
    }

    #[test]
    fn timeouts_are_at_most_ten_digits() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert("connect-timeout-ms", HeaderValue::from_str(v).unwrap());
            m
        };
        assert_eq!(timeout(&h("250")).unwrap(), Some(Duration::from_millis(250)));
        assert!(timeout(&h("12345678901")).is_err());
        assert!(timeout(&h("-1")).is_err());
        assert_eq!(timeout(&HeaderMap::new()).unwrap(), None);
    }
}
