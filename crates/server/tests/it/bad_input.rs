//! The bad-input suite: for every RPC of the method table the server uses,
//! generated requests over REST (bodies of right and wrong types, deep
//! nesting, huge strings, unknown fields, control characters; random path
//! values, query strings and headers), native gRPC (generated and mangled
//! protobuf) and gRPC-web. Every answer must be a non-5xx; every error in
//! the contract's shape (gRPC: no INTERNAL/UNKNOWN/DATA_LOSS); the server
//! keeps answering; and a refused request stores nothing.
//!
//! Deterministic: a fixed seed (override with TWOFOLD_BAD_INPUT_SEED to
//! explore; a failure prints the seed and the request).

use std::str::FromStr;

use bytes::BufMut;
use prost_reflect::{DynamicMessage, FieldDescriptor, Kind, MessageDescriptor};
use serde_json::{Map, Value, json};
use sqlx::Connection;
use twofold_api::methods::{MethodInfo, Methods};

use crate::harness::{Backend, RawCodec, Server, backend_tests};

backend_tests!(bad_input_suite);

/// REST cases per route, gRPC and gRPC-web cases per method.
const REST_CASES: usize = 20;
const GRPC_CASES: usize = 8;
const GRPC_WEB_CASES: usize = 3;
const DEFAULT_SEED: u64 = 0x7f01_dbad;

/// SplitMix64: small, seedable, good enough to pick test inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Ids that exist (a sacrificial org and user), so some requests get past
/// the lookups, next to ids that do not.
struct Known {
    org: String,
    user: String,
}

fn string(rng: &mut Rng, known: &Known) -> String {
    match rng.below(12) {
        0 => String::new(),
        1 => "x".repeat(rng.below(300) + 200),
        2 => "evil\u{0}\u{1b}[31m\u{202e}name\u{2066}".to_owned(),
        3 => known.user.clone(),
        4 => known.org.clone(),
        5 => rng.next().to_string(),
        6 => "Zürich 東京 👩‍💻".to_owned(),
        7 => "' OR 1=1; --".to_owned(),
        8 => "%00%ff../..\\".to_owned(),
        9 => "a@example.com".to_owned(),
        10 => "Secr3t!pass-Twofold".to_owned(),
        _ => format!("n{}", rng.below(1000)),
    }
}

/// Any JSON value, nested at most `depth` more levels.
fn any_json(rng: &mut Rng, known: &Known, depth: usize) -> Value {
    match rng.below(if depth == 0 { 5 } else { 7 }) {
        0 => Value::Null,
        1 => json!(rng.chance(50)),
        2 => json!(rng.next() as i64),
        3 => json!(-1.5e300),
        4 => json!(string(rng, known)),
        5 => Value::Array((0..rng.below(3)).map(|_| any_json(rng, known, depth - 1)).collect()),
        _ => {
            let mut m = Map::new();
            for _ in 0..rng.below(3) {
                m.insert(string(rng, known), any_json(rng, known, depth - 1));
            }
            Value::Object(m)
        }
    }
}

fn nested(depth: usize) -> Value {
    let mut v = json!({});
    for i in 0..depth {
        v = if i % 2 == 0 { json!({ "a": v }) } else { json!([v]) };
    }
    v
}

/// A JSON value for a field: usually of its type, sometimes not.
fn field_json(rng: &mut Rng, known: &Known, field: &FieldDescriptor, depth: usize) -> Value {
    if rng.chance(10) {
        return any_json(rng, known, 2);
    }
    if field.is_map() {
        let mut m = Map::new();
        for _ in 0..rng.below(3) {
            m.insert(string(rng, known), any_json(rng, known, 1));
        }
        return Value::Object(m);
    }
    if field.is_list() {
        return Value::Array(
            (0..rng.below(3))
                .map(|_| kind_json(rng, known, &field.kind(), depth))
                .collect(),
        );
    }
    kind_json(rng, known, &field.kind(), depth)
}

fn kind_json(rng: &mut Rng, known: &Known, kind: &Kind, depth: usize) -> Value {
    match kind {
        Kind::String => json!(string(rng, known)),
        Kind::Bytes => json!(*rng.pick(&["aGVsbG8=", "!!notbase64", ""])),
        Kind::Bool => json!(rng.chance(50)),
        Kind::Double | Kind::Float => json!(*rng.pick(&[0.5, -1.0, 1e308])),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => json!(*rng.pick(&[0i64, 1, -1, 2_147_483_648, 86400])),
        Kind::Uint32 | Kind::Fixed32 => json!(*rng.pick(&[0i64, 1, -1, 100, 4_294_967_296])),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 | Kind::Uint64 | Kind::Fixed64 => {
            json!(*rng.pick(&["0", "1", "-1", "18446744073709551616", "12x"]))
        }
        Kind::Enum(e) => {
            let values: Vec<String> = e.values().map(|v| v.name().to_owned()).collect();
            match rng.below(4) {
                0 => json!("NOT_A_VALUE"),
                1 => json!(rng.below(20) as i64 - 2),
                _ => json!(rng.pick(&values)),
            }
        }
        Kind::Message(m) => message_json(rng, known, m, depth),
    }
}

fn message_json(rng: &mut Rng, known: &Known, desc: &MessageDescriptor, depth: usize) -> Value {
    match desc.full_name() {
        "google.protobuf.Duration" => return json!(*rng.pick(&["3s", "-1s", "0.5s", "9999999999999s", "x"])),
        "google.protobuf.Timestamp" => return json!(*rng.pick(&["2024-01-01T00:00:00Z", "yesterday", "9999-99-99"])),
        "google.protobuf.Struct" => {
            return if rng.chance(20) {
                nested(rng.below(60) + 20)
            } else {
                any_json(rng, known, 3)
            };
        }
        "google.protobuf.Value" | "google.protobuf.ListValue" => return any_json(rng, known, 3),
        n if n.starts_with("google.protobuf.") => return any_json(rng, known, 1),
        _ => {}
    }
    if depth == 0 {
        return json!({});
    }
    let mut m = Map::new();
    for field in desc.fields() {
        if rng.chance(50) {
            m.insert(field.json_name().to_owned(), field_json(rng, known, &field, depth - 1));
        }
    }
    if rng.chance(10) {
        m.insert("unknownField".to_owned(), any_json(rng, known, 2));
    }
    Value::Object(m)
}

/// A request body for `info`, or garbage, or nothing.
fn body(rng: &mut Rng, known: &Known, info: &MethodInfo, takes_body: bool) -> Option<Vec<u8>> {
    if !takes_body && rng.chance(70) {
        return None;
    }
    let v = match rng.below(20) {
        0 => return Some(b"{not json".to_vec()),
        1 => return Some(vec![b'x'; 1_100_000]),
        2 => json!({ "a": nested(rng.below(150) + 30) }),
        3 => any_json(rng, known, 3),
        _ => message_json(rng, known, &info.input, 4),
    };
    Some(serde_json::to_vec(&v).unwrap_or_default())
}

fn path_value(rng: &mut Rng, known: &Known) -> String {
    match rng.below(8) {
        0 => known.user.clone(),
        1 => known.org.clone(),
        2 => "NOT_AN_ENUM".to_owned(),
        3 => "%ff%fe%00".to_owned(),
        4 => "%E2%80%AEevil".to_owned(),
        5 => "x".repeat(300),
        6 => rng.below(10).to_string(),
        _ => rng.next().to_string(),
    }
}

/// The route's template with generated path values, and maybe a query.
fn path(rng: &mut Rng, known: &Known, template: &str, info: &MethodInfo) -> String {
    let mut out = String::new();
    for seg in template.trim_start_matches('/').split('/') {
        out.push('/');
        if seg.starts_with('{') {
            out.push_str(&path_value(rng, known));
        } else {
            out.push_str(seg);
        }
    }
    if rng.chance(30) {
        let names: Vec<String> = info.input.fields().map(|f| f.json_name().to_owned()).collect();
        let mut params = Vec::new();
        for _ in 0..rng.below(3) + 1 {
            let name = match rng.below(4) {
                _ if names.is_empty() => "%zz".to_owned(),
                0 => "nonsense".to_owned(),
                1 => format!("{}.x", rng.pick(&names)),
                _ => rng.pick(&names).clone(),
            };
            params.push(format!("{name}={}", path_value(rng, known)));
        }
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

/// Auth, host and org headers: mostly the admin's, sometimes not.
fn headers(rng: &mut Rng, token: &str, known: &Known) -> Vec<(&'static str, String)> {
    let auth = match rng.below(10) {
        0 => None,
        1 => Some(format!("xBearer {token}")),
        2 => Some(format!("Basic Bearer {token}")),
        3 => Some("Bearer ".to_owned() + &"A".repeat(rng.below(100))),
        _ => Some(format!("Bearer {token}")),
    };
    let mut h: Vec<(&'static str, String)> = auth.map(|a| ("authorization", a)).into_iter().collect();
    if rng.chance(10) {
        h.push((
            "x-zitadel-instance-host",
            (*rng.pick(&["evil.example", "", "localhost:99999"])).to_owned(),
        ));
    }
    if rng.chance(20) {
        let org = match rng.below(4) {
            0 => known.org.clone(),
            1 => "../../etc".to_owned(),
            2 => "9".repeat(500),
            _ => rng.next().to_string(),
        };
        h.push(("x-zitadel-orgid", org));
    }
    h
}

/// Events a request may store although it is refused: failed checks and
/// lockouts are durable by design; deliveries run in the background.
const DURABLE_ON_FAILURE: &str = "event_type NOT LIKE '%.check.failed' AND event_type <> 'user.locked' \
     AND event_type NOT LIKE '%delivery%' AND event_type NOT LIKE '%.sent'";

enum Db {
    Sqlite(sqlx::SqliteConnection),
    Pg(sqlx::PgConnection),
}

impl Db {
    async fn open(url: &str) -> Self {
        if url.starts_with("sqlite:") {
            Db::Sqlite(sqlx::SqliteConnection::connect(url).await.unwrap())
        } else {
            Db::Pg(sqlx::PgConnection::connect(url).await.unwrap())
        }
    }

    /// Events other than those a refused request may store.
    async fn events(&mut self) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM events WHERE {DURABLE_ON_FAILURE}");
        match self {
            Db::Sqlite(c) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(c).await.unwrap(),
            Db::Pg(c) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(c).await.unwrap(),
        }
    }
}

/// Protobuf bytes for `info`'s input: a generated message, mangled or not,
/// or plain garbage.
fn proto_bytes(rng: &mut Rng, known: &Known, info: &MethodInfo) -> Vec<u8> {
    let json = message_json(rng, known, &info.input, 4);
    let mut bytes = DynamicMessage::deserialize(info.input.clone(), json)
        .map(|m| prost::Message::encode_to_vec(&m))
        .unwrap_or_default();
    match rng.below(6) {
        0 => bytes = (0..rng.below(64)).map(|_| rng.next() as u8).collect(),
        1 if !bytes.is_empty() => {
            let cut = rng.below(bytes.len());
            bytes.truncate(cut);
        }
        2 if !bytes.is_empty() => {
            let at = rng.below(bytes.len());
            bytes[at] ^= 0xff;
        }
        3 => {
            // A google.protobuf.Struct-like nesting of length-delimited field 1.
            for _ in 0..200 {
                let mut outer = vec![0x0a];
                prost::encoding::encode_varint(bytes.len() as u64, &mut outer);
                outer.extend(bytes);
                bytes = outer;
            }
        }
        _ => {}
    }
    bytes
}

fn is_server_fault(code: tonic::Code) -> bool {
    matches!(
        code,
        tonic::Code::Internal | tonic::Code::Unknown | tonic::Code::DataLoss
    )
}

/// The grpc-status of a gRPC-web answer: from the headers (trailers-only)
/// or from the trailer frame of the body.
fn grpc_web_status(headers: &reqwest::header::HeaderMap, mut body: &[u8]) -> Option<i32> {
    if let Some(s) = headers.get("grpc-status") {
        return s.to_str().ok()?.parse().ok();
    }
    while body.len() >= 5 {
        let len = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
        let payload = body.get(5..5 + len)?;
        if body[0] & 0x80 != 0 {
            let text = String::from_utf8_lossy(payload);
            return text
                .lines()
                .find_map(|l| l.strip_prefix("grpc-status:"))
                .and_then(|s| s.trim().parse().ok());
        }
        body = &body[5 + len..];
    }
    None
}

fn template(info: &MethodInfo) -> Option<(&'static str, &str, bool)> {
    let http = info.http.as_ref()?;
    let takes_body = http.body == "*";
    [
        ("GET", &http.get),
        ("POST", &http.post),
        ("PUT", &http.put),
        ("DELETE", &http.delete),
        ("PATCH", &http.patch),
    ]
    .into_iter()
    .find(|(_, t)| !t.is_empty())
    .map(|(m, t)| (m, t.as_str(), takes_body))
}

async fn bad_input_suite(b: Backend) {
    let seed = std::env::var("TWOFOLD_BAD_INPUT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    let mut rng = Rng(seed);
    let s = Server::start(b).await;
    let org = s.create_org("Victim Org").await;
    let user = s.create_human(Some(&org), "victim").await;
    let known = Known { org, user };
    let mut db = Db::open(&s.db_url).await;
    let http = reqwest::Client::new();

    let mut methods: Vec<_> = Methods::load().unwrap().iter().cloned().collect();
    methods.sort_by(|a, b| a.grpc_path.cmp(&b.grpc_path));
    let (mut rest_sent, mut rest_accepted, mut grpc_sent) = (0, 0, 0);

    for info in &methods {
        let Some((method, tpl, takes_body)) = template(info) else {
            continue;
        };
        for _ in 0..REST_CASES {
            let p = path(&mut rng, &known, tpl, info);
            let body = body(&mut rng, &known, info, takes_body);
            let mut rb = http.request(reqwest::Method::from_str(method).unwrap(), s.url(&p));
            for (name, value) in headers(&mut rng, &s.token, &known) {
                rb = rb.header(name, value);
            }
            let shown = body
                .as_ref()
                .map(|b| String::from_utf8_lossy(&b[..b.len().min(300)]).into_owned());
            if let Some(b) = body {
                rb = rb.header("content-type", "application/json").body(b);
            }
            let before = db.events().await;
            let resp = rb
                .send()
                .await
                .unwrap_or_else(|e| panic!("seed {seed}: {method} {p} {shown:?}: {e:?}"));
            let status = resp.status().as_u16();
            let text = resp.text().await.unwrap_or_default();
            let ctx = format!("seed {seed}: {method} {p} body {shown:?} → {status} {text}");
            // 501 is the REST form of UNIMPLEMENTED, a contract answer (e.g.
            // UpdateUser without a user type), as on gRPC below.
            assert!(status < 500 || status == 501, "{ctx}");
            if status >= 400 {
                let v: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {ctx}"));
                let obj = v.as_object().unwrap_or_else(|| panic!("{ctx}"));
                assert!(obj.get("code").and_then(Value::as_i64).is_some_and(|c| c > 0), "{ctx}");
                assert!(obj.get("message").is_some_and(Value::is_string), "{ctx}");
                assert!(
                    obj.keys().all(|k| ["code", "message", "details"].contains(&k.as_str())),
                    "{ctx}"
                );
                assert_eq!(db.events().await, before, "stored by a refused request: {ctx}");
            }
            rest_sent += 1;
            rest_accepted += usize::from(status < 300);
        }
    }

    let mut grpc = tonic::client::Grpc::new(s.channel().await);
    for info in &methods {
        for _ in 0..GRPC_CASES {
            let bytes = proto_bytes(&mut rng, &known, info);
            let mut req = tonic::Request::new(bytes.clone());
            for (name, value) in headers(&mut rng, &s.token, &known) {
                if let Ok(v) = value.parse() {
                    req.metadata_mut().insert(name, v);
                }
            }
            let before = db.events().await;
            grpc.ready().await.unwrap();
            let path = http::uri::PathAndQuery::from_str(&info.grpc_path).unwrap();
            let result = grpc.unary(req, path, RawCodec).await;
            if let Err(status) = result {
                let ctx = format!(
                    "seed {seed}: {} {:?} → {status:?}",
                    info.grpc_path,
                    &bytes[..bytes.len().min(100)]
                );
                assert!(!is_server_fault(status.code()), "{ctx}");
                assert_eq!(db.events().await, before, "stored by a refused request: {ctx}");
            }
            grpc_sent += 1;
        }
        for _ in 0..GRPC_WEB_CASES {
            let bytes = proto_bytes(&mut rng, &known, info);
            let mut framed = vec![0u8];
            framed.put_u32(bytes.len() as u32);
            framed.extend(&bytes);
            if rng.chance(30) {
                framed.truncate(rng.below(framed.len()));
            }
            let before = db.events().await;
            let resp = s
                .req("POST", &info.grpc_path)
                .header("content-type", "application/grpc-web+proto")
                .body(framed)
                .send()
                .await
                .unwrap();
            let http_status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let body = resp.bytes().await.unwrap_or_default();
            let ctx = format!("seed {seed}: grpc-web {} → {http_status} {headers:?}", info.grpc_path);
            assert_eq!(http_status, 200, "{ctx}");
            let code = grpc_web_status(&headers, &body).unwrap_or_else(|| panic!("no grpc-status: {ctx}"));
            assert!(!is_server_fault(tonic::Code::from(code)), "{ctx}: {code}");
            if code != 0 {
                assert_eq!(db.events().await, before, "stored by a refused request: {ctx}");
            }
            grpc_sent += 1;
        }
    }

    let health = reqwest::get(s.url("/debug/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    let (status, _) = s.call("GET", "/admin/v1/policies/login", None).await;
    assert_eq!(status, 200);
    // The generator reaches the handlers: some requests are valid enough to succeed.
    assert!(
        rest_sent > 1000 && grpc_sent > 500 && rest_accepted > 0,
        "{rest_sent} REST ({rest_accepted} accepted), {grpc_sent} gRPC requests"
    );
}
