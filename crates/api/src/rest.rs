//! REST/JSON for every RPC that declares a `twofold.api.v1.http` route,
//! following grpc-gateway's rules: JSON body → request message, path
//! parameters (enum names or numbers) → fields, then the RPC called
//! in-process after the same admission as gRPC (`direct`; the Connect
//! transport, `connect.rs`, shares that call and the JSON). Answers
//! are canonical protobuf JSON (zero values omitted, 64-bit integers as
//! strings, enum names, RFC 3339 timestamps with `Z`, durations as "NNNs").

use std::collections::HashSet;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use http::{HeaderValue, Method, StatusCode};
use http_body_util::BodyExt;
use prost::Message;
use prost_reflect::ReflectMessage;
use prost_reflect::{DeserializeOptions, DynamicMessage, Kind, MessageDescriptor, SerializeOptions, Value};
use tonic::Status;

use crate::direct::Direct;
use crate::error::{invalid, protocol_error, rest_response};
use crate::methods::{DescriptorError, MethodInfo, Methods};
use crate::observe;

/// Deepest JSON nesting (objects and arrays) a request body may have: deep
/// enough for any real request, shallow enough that the protobuf message
/// built from it stays within prost's decoding recursion limit.
pub const MAX_JSON_DEPTH: usize = 32;

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

/// The REST side of the server: routes plus the RPCs they call.
#[derive(Clone)]
pub struct Rest {
    routes: Arc<Vec<Route>>,
    direct: Arc<Direct>,
    max_body_bytes: usize,
}

impl Rest {
    pub fn new(methods: &Methods, direct: Arc<Direct>, max_body_bytes: usize) -> Result<Self, DescriptorError> {
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
            .ok_or_else(|| DescriptorError(format!("the http option of {} names no verb", info.grpc_path)))?;
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
                c => u16::try_from(c)
                    .ok()
                    .and_then(|c| StatusCode::from_u16(c).ok())
                    .ok_or_else(|| DescriptorError(format!("success code {c} of {}", info.grpc_path)))?,
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
        Ok(Self {
            routes: Arc::new(routes),
            direct,
            max_body_bytes,
        })
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
            Some((route, params)) => {
                observe::method(&route.info.grpc_path);
                let (parts, body) = req.into_parts();
                let body = match read_body(body, route.body_is_request, self.max_body_bytes).await {
                    Ok(body) => body,
                    Err(resp) => return resp,
                };
                match self.call(route, params, parts, body).await {
                    Ok(resp) => {
                        observe::code(tonic::Code::Ok);
                        resp
                    }
                    Err(status) => {
                        observe::code(status.code());
                        rest_response(&status)
                    }
                }
            }
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

    async fn call(
        &self,
        route: &Route,
        params: Vec<(String, String)>,
        mut parts: http::request::Parts,
        body: Bytes,
    ) -> Result<Response, Status> {
        let mut msg = DynamicMessage::new(route.info.input.clone());
        if !body.iter().all(u8::is_ascii_whitespace) {
            msg = parse_body(&route.info.input, &body).map_err(|e| invalid(format!("invalid JSON body: {e}")))?;
        }
        set_query_params(&mut msg, query_params(parts.uri.query()))?;
        for (name, raw) in params {
            set_path_param(&mut msg, &name, &raw)?;
        }

        let message = Bytes::from(msg.encode_to_vec());
        let out = self.direct.call(&route.info, &mut parts, message).await?;
        let json = to_json(&route.info, &out)?;
        let headers = [(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"))];
        Ok((route.success, headers, json).into_response())
    }
}

/// The answer of `method` as canonical protobuf JSON: written from its
/// encoding where `wire_json` covers its types, else [`dynamic_json`].
pub(crate) fn to_json(method: &MethodInfo, message: &[u8]) -> Result<Vec<u8>, Status> {
    if let Some(json) = method.output_json.as_ref().and_then(|w| w.write(message)) {
        return Ok(json);
    }
    dynamic_json(&method.output, method.output_has_floats, message)
}

/// The answer `message` of type `output` as canonical protobuf JSON,
/// through a `DynamicMessage`; an answer that can hold floating-point
/// numbers (`has_floats`) goes through a `serde_json::Value` first, for
/// protojson's whole-number form.
pub(crate) fn dynamic_json(output: &MessageDescriptor, has_floats: bool, message: &[u8]) -> Result<Vec<u8>, Status> {
    let out = DynamicMessage::decode(output.clone(), message)
        .map_err(|e| Status::internal(format!("decoding the answer: {e}")))?;
    let encoding = |e: serde_json::Error| Status::internal(format!("encoding JSON: {e}"));
    let options = SerializeOptions::new();
    if has_floats {
        let mut json = out
            .serialize_with_options(serde_json::value::Serializer, &options)
            .map_err(encoding)?;
        integral_floats_as_integers(&mut json);
        return serde_json::to_vec(&json).map_err(encoding);
    }
    let mut json = Vec::with_capacity(256);
    out.serialize_with_options(&mut serde_json::Serializer::new(&mut json), &options)
        .map_err(encoding)?;
    Ok(json)
}

/// The request body, at most `limit` bytes, else 413 in the contract's
/// shape. Routes without a body mapping take none: only an empty JSON
/// object, which clients send to `_search` and DELETE routes, is tolerated.
async fn read_body(mut body: Body, takes_body: bool, limit: usize) -> Result<Bytes, Response> {
    const EMPTY_OBJECT_MAX: usize = 64;
    let cap = if takes_body { limit } else { EMPTY_OBJECT_MAX };
    let mut buf = BytesMut::new();
    let mut over = false;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| rest_response(&invalid(format!("reading body: {e}"))))?;
        let Ok(data) = frame.into_data() else { continue };
        if buf.len() + data.len() > cap {
            over = true;
            break;
        }
        buf.extend_from_slice(&data);
    }
    if over {
        drain(body).await;
    }
    let too_large =
        |message: String| protocol_error(StatusCode::PAYLOAD_TOO_LARGE, tonic::Code::ResourceExhausted, message);
    match (over, takes_body) {
        (true, true) => Err(too_large(format!("request body larger than {limit} bytes"))),
        (false, false) if is_empty_object(&buf) => Ok(buf.freeze()),
        (_, false) => Err(too_large("this route takes no request body".to_owned())),
        (false, true) => Ok(buf.freeze()),
    }
}

/// Reads and drops the rest of a refused body (up to a bound), so the
/// client, still sending, gets to read the 413 instead of a reset.
async fn drain(mut body: Body) {
    const DRAIN_MAX: usize = 32 << 20;
    let mut drained = 0;
    while drained < DRAIN_MAX
        && let Some(Ok(frame)) = body.frame().await
    {
        drained += frame.data_ref().map_or(0, Bytes::len);
    }
}

/// Nothing but whitespace, or `{}` with whitespace around and inside.
fn is_empty_object(body: &[u8]) -> bool {
    let text: Vec<u8> = body.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    text.is_empty() || text == b"{}"
}

/// `a=1&b.c=x` → [("a","1"), ("b.c","x")], percent-decoded.
pub(crate) fn query_params(query: Option<&str>) -> Vec<(String, String)> {
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

/// Places query parameters by grpc-gateway's rules: a name is a field's JSON
/// or proto name, dotted through singular message fields; a repeated scalar
/// collects every value. Whatever cannot be placed (unknown names, map,
/// message and repeated-message fields, a singular field given twice) is
/// refused naming the parameter, never ignored.
fn set_query_params(msg: &mut DynamicMessage, params: Vec<(String, String)>) -> Result<(), Status> {
    let mut singular = HashSet::new();
    for (name, raw) in params {
        if name.split('.').count() > MAX_JSON_DEPTH {
            return Err(invalid(format!("query parameter {name}: nested too deeply")));
        }
        let placed = set_query_param(msg, &name, &name, &raw)?;
        if placed.is_some_and(|field| !singular.insert(field)) {
            return Err(invalid(format!("query parameter {name} given more than once")));
        }
    }
    Ok(())
}

/// Sets the field `path` (the rest of parameter `name`) of `msg`. Returns the
/// field's proto-name path when it is singular (None when repeated), so a
/// second value for it is noticed under either spelling.
fn set_query_param(msg: &mut DynamicMessage, name: &str, path: &str, raw: &str) -> Result<Option<String>, Status> {
    let refuse = |why: String| invalid(format!("query parameter {name}: {why}"));
    let (head, rest) = match path.split_once('.') {
        Some((h, r)) => (h, Some(r)),
        None => (path, None),
    };
    let desc = msg.descriptor();
    let field = desc
        .get_field_by_json_name(head)
        .or_else(|| desc.get_field_by_name(head))
        .ok_or_else(|| refuse(format!("unknown field {head}")))?;
    let kind = field.kind();
    if field.is_map() {
        return Err(refuse(format!("map field {head} cannot be set in the query")));
    }
    match (rest, kind) {
        (Some(rest), Kind::Message(_)) if !field.is_list() => {
            let Some(mut inner) = msg.get_field(&field).as_message().cloned() else {
                return Err(refuse(format!("field {head} is not a message")));
            };
            let placed = set_query_param(&mut inner, name, rest, raw)?;
            msg.set_field(&field, Value::Message(inner));
            Ok(placed.map(|p| format!("{}.{p}", field.name())))
        }
        (_, Kind::Message(_)) if field.is_list() => Err(refuse(format!(
            "repeated message field {head} cannot be set in the query"
        ))),
        (None, Kind::Message(_)) => Err(refuse(format!("message field {head} cannot be set as a whole"))),
        (Some(_), _) => Err(refuse(format!("field {head} has no fields"))),
        (None, kind) => {
            let value = scalar(&kind, raw)
                .ok_or_else(|| invalid(format!("type mismatch, parameter: {name}, error: {raw} is not valid")))?;
            if !field.is_list() {
                msg.set_field(&field, value);
                return Ok(Some(field.name().to_owned()));
            }
            match msg.get_field_mut(&field) {
                Value::List(items) => items.push(value),
                _ => return Err(refuse(format!("field {head} is not a list"))),
            }
            Ok(None)
        }
    }
}

/// Path parameters are singular scalar fields named by the route template.
fn set_path_param(msg: &mut DynamicMessage, name: &str, raw: &str) -> Result<(), Status> {
    let field = msg
        .descriptor()
        .get_field_by_name(name)
        .filter(|f| !f.is_list() && !f.is_map())
        .ok_or_else(|| Status::internal(format!("route parameter {name} is not a singular field")))?;
    let value = scalar(&field.kind(), raw)
        .ok_or_else(|| invalid(format!("type mismatch, parameter: {name}, error: {raw} is not valid")))?;
    msg.set_field(&field, value);
    Ok(())
}

/// A scalar value of `kind` from its text (enum values by name or number).
fn scalar(kind: &Kind, raw: &str) -> Option<Value> {
    Some(match kind {
        Kind::String => Value::String(raw.to_owned()),
        Kind::Enum(e) => {
            let v = e
                .get_value_by_name(raw)
                .or_else(|| raw.parse().ok().and_then(|n| e.get_value(n)))?;
            Value::EnumNumber(v.number())
        }
        Kind::Uint64 | Kind::Fixed64 => Value::U64(raw.parse().ok()?),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Value::I64(raw.parse().ok()?),
        Kind::Uint32 | Kind::Fixed32 => Value::U32(raw.parse().ok()?),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Value::I32(raw.parse().ok()?),
        Kind::Bool => Value::Bool(raw.parse().ok()?),
        Kind::Double => Value::F64(raw.parse().ok()?),
        Kind::Float => Value::F32(raw.parse().ok()?),
        Kind::Bytes | Kind::Message(_) => return None,
    })
}

/// Parses a JSON body as grpc-gateway does with `DiscardUnknown`: unknown
/// fields are ignored, but an unknown enum name is still an error.
/// Errors name the field they are about (`field profile.givenName: …`).
pub(crate) fn parse_body(desc: &MessageDescriptor, body: &[u8]) -> Result<DynamicMessage, String> {
    let mut json: serde_json::Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    if nesting_exceeds(&json, MAX_JSON_DEPTH) {
        return Err(format!("nested deeper than {MAX_JSON_DEPTH} levels"));
    }
    drop_unknown_fields(&mut json, desc);
    let mut track = serde_path_to_error::Track::new();
    let de = serde_path_to_error::Deserializer::new(json, &mut track);
    DynamicMessage::deserialize_with_options(desc.clone(), de, &DeserializeOptions::new()).map_err(|e| {
        let path = track.path().to_string();
        if path == "." {
            e.to_string()
        } else {
            format!("field {path}: {e}")
        }
    })
}

/// Whether objects and arrays nest deeper than `max` levels.
fn nesting_exceeds(json: &serde_json::Value, max: usize) -> bool {
    let mut stack = vec![(json, 1)];
    while let Some((v, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &serde_json::Value>> = match v {
            serde_json::Value::Object(o) => Box::new(o.values()),
            serde_json::Value::Array(a) => Box::new(a.iter()),
            _ => continue,
        };
        if depth > max {
            return true;
        }
        stack.extend(children.map(|c| (c, depth + 1)));
    }
    false
}

fn drop_unknown_fields(json: &mut serde_json::Value, desc: &MessageDescriptor) {
    // Well-known types have their own JSON forms (strings for Duration…).
    if desc.full_name().starts_with("google.protobuf.") {
        return;
    }
    let serde_json::Value::Object(obj) = json else { return };
    obj.retain(|key, value| {
        let Some(field) = desc.get_field_by_json_name(key).or_else(|| desc.get_field_by_name(key)) else {
            return false;
        };
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
        true
    });
}

/// Writes whole-valued doubles as protojson does (`-7`, not `-7.0`); only
/// `google.protobuf.Value` numbers and double fields are affected
/// (`wire_json::number` is the same rule).
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

#[cfg(test)]
mod tests {
    use super::*;

    fn input(grpc_path: &str) -> MessageDescriptor {
        Methods::load()
            .unwrap()
            .get(grpc_path)
            .map(|m| m.input.clone())
            .unwrap()
    }

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn repeated_scalars_collect_every_value() {
        let mut msg = DynamicMessage::new(input("/zitadel.management.v1.ManagementService/AddOrgMember"));
        set_query_params(&mut msg, params(&[("userId", "u1"), ("roles", "A"), ("roles", "B")])).unwrap();
        let json = msg
            .serialize_with_options(serde_json::value::Serializer, &SerializeOptions::new())
            .unwrap();
        assert_eq!(json, serde_json::json!({"userId": "u1", "roles": ["A", "B"]}));
    }

    #[test]
    fn what_cannot_be_placed_is_refused_by_name() {
        let path = "/zitadel.management.v1.ManagementService/AddOrgMember";
        for (pairs, message) in [
            (vec![("nope", "1")], "query parameter nope: unknown field nope"),
            (
                vec![("userId.x", "1")],
                "query parameter userId.x: field userId has no fields",
            ),
            (
                vec![("userId", "a"), ("user_id", "b")],
                "query parameter user_id given more than once",
            ),
        ] {
            let mut msg = DynamicMessage::new(input(path));
            let err = set_query_params(&mut msg, params(&pairs)).unwrap_err();
            assert_eq!((err.code(), err.message()), (tonic::Code::InvalidArgument, message));
        }
    }

    #[test]
    fn json_nesting_is_measured() {
        assert!(!nesting_exceeds(&serde_json::json!({"a": [{"b": 1}]}), 3));
        assert!(nesting_exceeds(&serde_json::json!({"a": [{"b": {}}]}), 3));
    }
}
