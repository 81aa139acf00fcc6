//! REST/JSON for every RPC that declares a `twofold.api.v1.http` route,
//! following grpc-gateway's rules: JSON body → request message, path
//! parameters (enum names or numbers) → fields, then an in-process call to
//! the gRPC router, so auth and validation run exactly as for gRPC. Answers
//! are canonical protobuf JSON (zero values omitted, 64-bit integers as
//! strings, enum names, RFC 3339 timestamps with `Z`, durations as "NNNs").

use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use bytes::{Buf, BufMut, Bytes, BytesMut};
use http::{HeaderValue, Method, StatusCode, Version};
use http_body_util::BodyExt;
use prost::Message;
use prost_reflect::ReflectMessage;
use prost_reflect::{DeserializeOptions, DynamicMessage, Kind, MessageDescriptor, SerializeOptions, Value};
use tonic::Status;
use tower::ServiceExt;

use crate::error::{invalid, rest_response};
use crate::methods::{MethodInfo, Methods};

const MAX_BODY: usize = 1 << 20;

enum Segment {
    Literal(String),
    Param(String),
}

struct Route {
    method: Method,
    segments: Vec<Segment>,
    body_is_request: bool,
    success: StatusCode,
    info: Arc<MethodInfo>,
}

impl Route {
    /// Path parameters when `path` fits this route's template.
    fn matches(&self, path: &[&str]) -> Option<Vec<(String, String)>> {
        if path.len() != self.segments.len() {
            return None;
        }
        let mut params = Vec::new();
        for (seg, part) in self.segments.iter().zip(path) {
            match seg {
                Segment::Literal(l) if l == part => {}
                Segment::Literal(_) => return None,
                Segment::Param(name) => {
                    let value = percent_encoding::percent_decode_str(part).decode_utf8().ok()?;
                    params.push((name.clone(), value.into_owned()));
                }
            }
        }
        Some(params)
    }

    fn literal_count(&self) -> usize {
        self.segments
            .iter()
            .filter(|s| matches!(s, Segment::Literal(_)))
            .count()
    }
}

/// The REST side of the server: routes plus the gRPC router they call.
#[derive(Clone)]
pub struct Rest {
    routes: Arc<Vec<Route>>,
    grpc: axum::Router,
}

impl Rest {
    pub fn new(methods: &Methods, grpc: axum::Router) -> Self {
        let mut routes = Vec::new();
        for info in methods.iter() {
            let Some(http) = &info.http else { continue };
            let (method, template) = [
                (Method::GET, &http.get),
                (Method::POST, &http.post),
                (Method::PUT, &http.put),
                (Method::DELETE, &http.delete),
                (Method::PATCH, &http.patch),
            ]
            .into_iter()
            .find(|(_, t)| !t.is_empty())
            .expect("an http option names a verb");
            let segments = template
                .trim_start_matches('/')
                .split('/')
                .map(|s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(name) => Segment::Param(name.to_owned()),
                    None => Segment::Literal(s.to_owned()),
                })
                .collect();
            let success = match http.success_code {
                0 => StatusCode::OK,
                c => StatusCode::from_u16(c as u16).expect("valid success code"),
            };
            routes.push(Route {
                method,
                segments,
                body_is_request: http.body == "*",
                success,
                info: info.clone(),
            });
        }
        // Most specific first: `/second_factors/_search` before `/second_factors/{type}`.
        routes.sort_by_key(|r| std::cmp::Reverse(r.literal_count()));
        Self {
            routes: Arc::new(routes),
            grpc,
        }
    }

    /// Fallback handler of the whole router: REST routes, else 404/405.
    pub async fn handle(self, req: Request) -> Response {
        let is_grpc = req
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/grpc"));
        if is_grpc {
            return Status::unimplemented(format!("unknown service or method {}", req.uri().path())).into_http();
        }
        let path: Vec<&str> = req.uri().path().trim_start_matches('/').split('/').collect();
        let mut path_known = false;
        let mut found = None;
        for route in self.routes.iter() {
            if let Some(params) = route.matches(&path) {
                path_known = true;
                if route.method == req.method() {
                    found = Some((route, params));
                    break;
                }
            }
        }
        match found {
            Some((route, params)) => match self.call(route, params, req).await {
                Ok(resp) => resp,
                Err(status) => rest_response(&status),
            },
            None if path_known => (
                StatusCode::METHOD_NOT_ALLOWED,
                axum::Json(serde_json::json!({"code": 12, "message": "Method Not Allowed"})),
            )
                .into_response(),
            None => (
                StatusCode::NOT_FOUND,
                axum::Json(serde_json::json!({"code": 5, "message": "Not Found"})),
            )
                .into_response(),
        }
    }

    async fn call(&self, route: &Route, params: Vec<(String, String)>, req: Request) -> Result<Response, Status> {
        let (parts, body) = req.into_parts();
        let mut msg = DynamicMessage::new(route.info.input.clone());
        if route.body_is_request {
            let body = axum::body::to_bytes(body, MAX_BODY)
                .await
                .map_err(|e| invalid(format!("reading body: {e}")))?;
            if !body.iter().all(u8::is_ascii_whitespace) {
                msg = parse_body(&route.info.input, &body).map_err(|e| invalid(format!("invalid JSON body: {e}")))?;
            }
        }
        for (name, raw) in query_params(parts.uri.query()) {
            set_query_param(&mut msg, &name, &raw)?;
        }
        for (name, raw) in params {
            set_path_param(&mut msg, &name, &raw)?;
        }

        let grpc_req = grpc_request(&route.info.grpc_path, &parts, &msg.encode_to_vec());
        let resp = self.grpc.clone().oneshot(grpc_req).await.expect("router is infallible");
        let (head, body) = resp.into_parts();
        let collected = body
            .collect()
            .await
            .map_err(|e| Status::internal(format!("reading gRPC response: {e}")))?;
        let trailers = collected.trailers().cloned();
        let status = trailers
            .as_ref()
            .and_then(Status::from_header_map)
            .or_else(|| Status::from_header_map(&head.headers))
            .unwrap_or_else(|| Status::internal("gRPC response without status"));
        if status.code() != tonic::Code::Ok {
            return Err(status);
        }
        let mut data = collected.to_bytes();
        if data.len() < 5 {
            return Err(Status::internal("gRPC response without message"));
        }
        data.advance(5);
        let out = DynamicMessage::decode(route.info.output.clone(), data)
            .map_err(|e| Status::internal(format!("decoding gRPC response: {e}")))?;
        let mut json = out
            .serialize_with_options(serde_json::value::Serializer, &SerializeOptions::new())
            .map_err(|e| Status::internal(format!("encoding JSON: {e}")))?;
        integral_floats_as_integers(&mut json);
        let json = serde_json::to_vec(&json).expect("JSON values serialize");
        Ok(Response::builder()
            .status(route.success)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Body::from(json))
            .expect("valid response"))
    }
}

/// A unary gRPC request for `grpc_path`, carrying over the headers the
/// gRPC side reads (auth, instance host, org context, language).
fn grpc_request(grpc_path: &str, parts: &http::request::Parts, message: &[u8]) -> Request {
    let mut frame = BytesMut::with_capacity(5 + message.len());
    frame.put_u8(0);
    frame.put_u32(message.len() as u32);
    frame.put_slice(message);
    let mut req = Request::new(Body::from(Bytes::from(frame)));
    *req.method_mut() = Method::POST;
    *req.uri_mut() = grpc_path.parse().expect("method paths are valid URIs");
    *req.version_mut() = Version::HTTP_2;
    let h = req.headers_mut();
    h.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
    h.insert(http::header::TE, HeaderValue::from_static("trailers"));
    for (name, value) in &parts.headers {
        let n = name.as_str();
        if n == "authorization" || n == "host" || n == "accept-language" || n.starts_with("x-zitadel-") {
            h.append(name.clone(), value.clone());
        }
    }
    if !h.contains_key(http::header::HOST)
        && let Some(a) = parts.uri.authority()
        && let Ok(v) = HeaderValue::from_str(a.as_str())
    {
        h.insert(http::header::HOST, v);
    }
    req
}

/// `a=1&b.c=x` → [("a","1"), ("b.c","x")], percent-decoded.
fn query_params(query: Option<&str>) -> Vec<(String, String)> {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// A query parameter names a field by JSON or proto name, dotted into
/// nested messages (grpc-gateway's rule); unknown names are ignored.
fn set_query_param(msg: &mut DynamicMessage, path: &str, raw: &str) -> Result<(), Status> {
    let (head, rest) = match path.split_once('.') {
        Some((h, r)) => (h, Some(r)),
        None => (path, None),
    };
    let desc = msg.descriptor();
    let Some(field) = desc
        .get_field_by_json_name(head)
        .or_else(|| desc.get_field_by_name(head))
    else {
        return Ok(());
    };
    match rest {
        None => set_path_param(msg, field.name(), raw),
        Some(rest) => {
            let Kind::Message(_) = field.kind() else { return Ok(()) };
            let mut inner = msg.get_field(&field).as_message().cloned().expect("message field");
            set_query_param(&mut inner, rest, raw)?;
            msg.set_field(&field, Value::Message(inner));
            Ok(())
        }
    }
}

fn set_path_param(msg: &mut DynamicMessage, name: &str, raw: &str) -> Result<(), Status> {
    let mismatch = || invalid(format!("type mismatch, parameter: {name}, error: {raw} is not valid"));
    let field = msg
        .descriptor()
        .get_field_by_name(name)
        .ok_or_else(|| Status::internal(format!("route parameter {name} is not a field")))?;
    let value = match field.kind() {
        Kind::String => Value::String(raw.to_owned()),
        Kind::Enum(e) => {
            let v = e
                .get_value_by_name(raw)
                .or_else(|| raw.parse().ok().and_then(|n| e.get_value(n)))
                .ok_or_else(mismatch)?;
            Value::EnumNumber(v.number())
        }
        Kind::Uint64 | Kind::Fixed64 => Value::U64(raw.parse().map_err(|_| mismatch())?),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Value::I64(raw.parse().map_err(|_| mismatch())?),
        Kind::Uint32 | Kind::Fixed32 => Value::U32(raw.parse().map_err(|_| mismatch())?),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Value::I32(raw.parse().map_err(|_| mismatch())?),
        Kind::Bool => Value::Bool(raw.parse().map_err(|_| mismatch())?),
        _ => return Err(mismatch()),
    };
    msg.set_field(&field, value);
    Ok(())
}

/// Parses a JSON body as grpc-gateway does with `DiscardUnknown`: unknown
/// fields are ignored, but an unknown enum name is still an error.
fn parse_body(desc: &MessageDescriptor, body: &[u8]) -> Result<DynamicMessage, String> {
    let mut json: serde_json::Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    drop_unknown_fields(&mut json, desc);
    DynamicMessage::deserialize_with_options(desc.clone(), json, &DeserializeOptions::new()).map_err(|e| e.to_string())
}

fn drop_unknown_fields(json: &mut serde_json::Value, desc: &MessageDescriptor) {
    // Well-known types have their own JSON forms (strings for Duration…).
    if desc.full_name().starts_with("google.protobuf.") {
        return;
    }
    let serde_json::Value::Object(obj) = json else { return };
    obj.retain(|key, _| {
        desc.get_field_by_json_name(key)
            .or_else(|| desc.get_field_by_name(key))
            .is_some()
    });
    for (key, value) in obj.iter_mut() {
        let field = desc
            .get_field_by_json_name(key)
            .or_else(|| desc.get_field_by_name(key))
            .expect("kept above");
        if field.is_map() {
            if let (Kind::Message(entry), serde_json::Value::Object(m)) = (field.kind(), &mut *value)
                && let Kind::Message(v) = entry.map_entry_value_field().kind()
            {
                m.values_mut().for_each(|x| drop_unknown_fields(x, &v));
            }
        } else if let Kind::Message(m) = field.kind() {
            match value {
                serde_json::Value::Array(items) => items.iter_mut().for_each(|x| drop_unknown_fields(x, &m)),
                other => drop_unknown_fields(other, &m),
            }
        }
    }
}

/// Writes whole-valued doubles as protojson does (`-7`, not `-7.0`); only
/// `google.protobuf.Value` numbers and double fields are affected.
fn integral_floats_as_integers(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Number(n) => {
            if let Some(f) = n
                .as_f64()
                .filter(|f| n.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e15)
            {
                *n = serde_json::Number::from(f as i64);
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(integral_floats_as_integers),
        serde_json::Value::Object(o) => o.values_mut().for_each(integral_floats_as_integers),
        _ => {}
    }
}
