//! Client input the server must refuse cleanly: query parameters it cannot
//! place, deep nesting, oversize bodies, control characters in names, odd
//! auth schemes, protocol-level errors. Each answer is a 4xx (or a gRPC
//! client-error code) in the contract's shape, and nothing is stored.

use serde_json::{Value, json};
use twofold_proto::zitadel::session::v2::session_service_client::SessionServiceClient;
use twofold_proto::zitadel::session::v2::{CheckWebAuthN, Checks, CreateSessionRequest};

use crate::harness::{Backend, Bearer, Server, backend_tests};

backend_tests!(
    query_params_are_placed_or_refused,
    deep_nesting_is_invalid_argument,
    grpc_garbage_is_invalid_argument,
    body_caps,
    names_refuse_control_and_bidi_characters,
    only_the_bearer_scheme_authenticates,
    protocol_errors_carry_a_json_body,
    json_type_errors_name_the_field,
    nul_characters_are_refused,
);

/// A 4xx answer in the contract's shape: `code` and `message`, optional `details`.
fn assert_contract_error(status: u16, body: &Value, context: &str) {
    assert!((400..500).contains(&status), "{context}: {status} {body}");
    let obj = body
        .as_object()
        .unwrap_or_else(|| panic!("{context}: not an object: {body}"));
    assert!(obj["code"].as_i64().is_some_and(|c| c > 0), "{context}: {body}");
    assert!(obj["message"].is_string(), "{context}: {body}");
    assert!(
        obj.keys().all(|k| ["code", "message", "details"].contains(&k.as_str())),
        "{context}: {body}"
    );
}

async fn query_params_are_placed_or_refused(b: Backend) {
    let s = Server::start(b).await;
    // Finding 3: repeated, map and message fields (and unknown names) in the query.
    let cases = [
        ("POST", "/admin/v1/orgs/_search?queries.x=1", "queries"),
        ("POST", "/v2/users?queries.userNameQuery.userName=x", "queries"),
        ("POST", "/v2/sessions?metadata.k=x", "metadata"),
        ("POST", "/v2/sessions?checks=x", "checks"),
        ("GET", "/admin/v1/policies/login?nonsense=1", "nonsense"),
        ("GET", "/management/v1/orgs/me?query.limit=1", "query"),
    ];
    for (method, path, field) in cases {
        let (status, body) = s.call(method, path, None).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["code"], 3, "{path}: {body}");
        let message = body["message"].as_str().unwrap();
        assert!(message.contains(field), "{path}: {message}");
        assert_contract_error(status, &body, path);
    }
    assert_eq!(s.count_events("org.added").await, 1);

    // A scalar of a nested message is placed; a scalar given twice is refused.
    let (status, body) = s.call("GET", "/v2/settings/login?ctx.instance=true", None).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = s
        .call("GET", "/v2/settings/login?ctx.instance=true&ctx.instance=false", None)
        .await;
    assert_eq!(status, 400);

    let health = reqwest::get(s.url("/debug/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
}

/// A `google.protobuf.Struct` nested `depth` levels: {"a":{"a":…{}}}.
fn nested_json(depth: usize) -> Value {
    let mut v = json!({});
    for _ in 0..depth {
        v = json!({ "a": v });
    }
    v
}

fn nested_struct(depth: usize) -> prost_types::Struct {
    let mut s = prost_types::Struct::default();
    for _ in 0..depth {
        let value = prost_types::Value {
            kind: Some(prost_types::value::Kind::StructValue(s)),
        };
        s = prost_types::Struct {
            fields: [("a".to_owned(), value)].into(),
        };
    }
    s
}

async fn deep_nesting_is_invalid_argument(b: Backend) {
    let s = Server::start(b).await;
    let before = s.count_events("session.added").await;
    for depth in [33, 40, 50, 120] {
        let body = json!({"checks": {"webAuthN": {"credentialAssertionData": nested_json(depth)}}});
        let (status, got) = s.call("POST", "/v2/sessions", Some(body)).await;
        assert_eq!((status, got["code"].clone()), (400, json!(3)), "depth {depth}: {got}");
        assert_contract_error(status, &got, "nesting");
    }

    let mut sessions = SessionServiceClient::with_interceptor(s.channel().await, Bearer(s.token.clone()));
    let req = CreateSessionRequest {
        checks: Some(Checks {
            web_auth_n: Some(CheckWebAuthN {
                credential_assertion_data: Some(nested_struct(60)),
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let err = sessions.create_session(req).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument, "{err:?}");
    assert_eq!(s.count_events("session.added").await, before);
}

/// A raw unary gRPC call over HTTP/2; returns the grpc-status and message of
/// a trailers-only answer (None when the status came in trailers).
async fn raw_grpc(s: &Server, path: &str, content_type: &str, body: Vec<u8>) -> Option<(String, String)> {
    let client = reqwest::Client::builder().http2_prior_knowledge().build().unwrap();
    let resp = client
        .post(s.url(path))
        .header("content-type", content_type)
        .header("te", "trailers")
        .bearer_auth(&s.token)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let h = resp.headers();
    let status = h.get("grpc-status")?.to_str().unwrap().to_owned();
    let message = h
        .get("grpc-message")
        .map(|m| m.to_str().unwrap().to_owned())
        .unwrap_or_default();
    Some((status, message))
}

fn frame(flag: u8, len: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![flag];
    out.extend(len.to_be_bytes());
    out.extend(payload);
    out
}

async fn grpc_garbage_is_invalid_argument(b: Backend) {
    let s = Server::start(b).await;
    let path = "/zitadel.management.v1.ManagementService/AddOrg";
    let cases = [
        ("garbage message", frame(0, 3, &[0xff, 0xff, 0xff])),
        ("truncated frame", frame(0, 10, &[1, 2])),
        ("no message", vec![]),
        ("compressed flag without encoding", frame(1, 2, &[10, 0])),
        ("bad flag", frame(7, 2, &[10, 0])),
    ];
    for (what, body) in cases {
        let got = raw_grpc(&s, path, "application/grpc", body).await;
        assert_eq!(got.as_ref().map(|g| g.0.as_str()), Some("3"), "{what}: {got:?}");
    }
    // The same through gRPC-web, binary and text.
    let resp = s
        .req("POST", path)
        .header("content-type", "application/grpc-web+proto")
        .body(frame(0, 3, &[0xff, 0xff, 0xff]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["grpc-status"], "3");
    let resp = s
        .req("POST", path)
        .header("content-type", "application/grpc-web-text")
        .body("!!!not base64!!!")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["grpc-status"], "3");
    assert_eq!(s.count_events("org.added").await, 1);
}

async fn body_caps(b: Backend) {
    let s = Server::start_args(b, &["--max-request-body-bytes", "65536"]).await;
    let big = "x".repeat(70_000);
    let (status, body) = s.call("POST", "/management/v1/orgs", Some(json!({"name": big}))).await;
    assert_eq!(status, 413, "{body}");
    assert_contract_error(status, &body, "oversize");

    // Routes without a body take none.
    for (method, path) in [("GET", "/admin/v1/policies/login"), ("DELETE", "/v2/users/123")] {
        let (status, body) = s.send(s.req(method, path).body(vec![b'{'; 20_000])).await;
        assert_eq!(status, 413, "{method} {path}: {body}");
        assert_contract_error(status, &body, path);
    }
    let (status, _) = s.call("GET", "/admin/v1/policies/login", None).await;
    assert_eq!(status, 200);

    // gRPC: the message size limit applies, with a client-error code.
    let mut mgmt = s.management().await;
    let err = mgmt
        .add_org(twofold_proto::zitadel::management::v1::AddOrgRequest { name: big })
        .await
        .unwrap_err();
    assert!(
        matches!(
            err.code(),
            tonic::Code::ResourceExhausted | tonic::Code::InvalidArgument
        ),
        "{err:?}"
    );
    assert_eq!(s.count_events("org.added").await, 1);
}

async fn names_refuse_control_and_bidi_characters(b: Backend) {
    let s = Server::start(b).await;
    // (U+0000 is refused earlier, for every string: nul_characters_are_refused.)
    let bad = [
        "evil\u{7}name",
        "evil\u{202e}eman",
        "evil\u{1b}[31mname",
        "a\u{2066}b",
        "a\u{85}b",
    ];
    for name in bad {
        let (status, body) = s.call("POST", "/management/v1/orgs", Some(json!({"name": name}))).await;
        assert_eq!(status, 400, "{name:?}: {body}");
        assert!(body["message"].as_str().unwrap().contains("name"), "{body}");
        assert_contract_error(status, &body, "org name");

        let (status, body) = s
            .call(
                "POST",
                "/management/v1/users/machine",
                Some(json!({"userName": name, "name": "ok"})),
            )
            .await;
        assert_eq!(status, 400, "{name:?}: {body}");
        assert!(body["message"].as_str().unwrap().contains("user name"), "{body}");

        let (status, body) = s
            .call(
                "POST",
                "/management/v1/users/machine",
                Some(json!({"userName": "machine-ok", "name": name})),
            )
            .await;
        assert_eq!(status, 400, "{name:?}: {body}");

        for (field, human) in [
            (
                "user name",
                json!({"username": name, "profile": {"givenName": "A", "familyName": "B"}}),
            ),
            (
                "given name",
                json!({"username": "h1", "profile": {"givenName": name, "familyName": "B"}}),
            ),
            (
                "family name",
                json!({"username": "h2", "profile": {"givenName": "A", "familyName": name}}),
            ),
            (
                "nick name",
                json!({"username": "h3", "profile": {"givenName": "A", "familyName": "B", "nickName": name}}),
            ),
            (
                "display name",
                json!({"username": "h4", "profile": {"givenName": "A", "familyName": "B", "displayName": name}}),
            ),
        ] {
            let mut human = human;
            human["email"] = json!({"email": "h@example.com"});
            let (status, body) = s.call("POST", "/v2/users/human", Some(human)).await;
            assert_eq!(status, 400, "{field} {name:?}: {body}");
            assert!(body["message"].as_str().unwrap().contains(field), "{field}: {body}");
        }
    }
    assert_eq!(s.count_events("org.added").await, 1);
    assert_eq!(s.count_events("user.machine.added").await, 1);
    assert_eq!(s.count_events("user.human.added").await, 0);
    // Ordinary non-ASCII names stay welcome.
    s.create_org("Zürich Ärzte 東京").await;
}

async fn only_the_bearer_scheme_authenticates(b: Backend) {
    let s = Server::start(b).await;
    let token = s.token.clone();
    let http = reqwest::Client::new();
    let get = |auth: String| {
        http.get(s.url("/admin/v1/policies/login"))
            .header("authorization", auth)
    };
    for auth in [
        format!("xBearer {token}"),
        format!("Basic Bearer {token}"),
        format!("Bearer{token}"),
        format!("Bearer {token} Bearer {token}"),
        format!("Token {token}"),
        token.clone(),
    ] {
        let (status, body) = s.send(get(auth.clone())).await;
        assert_eq!(status, 401, "{auth}: {body}");
        assert_contract_error(status, &body, &auth);
    }
    for auth in [
        format!("Bearer {token}"),
        format!("bearer {token}"),
        format!("BEARER  {token}"),
    ] {
        let (status, body) = s.send(get(auth.clone())).await;
        assert_eq!(status, 200, "{auth}: {body}");
    }
}

async fn protocol_errors_carry_a_json_body(b: Backend) {
    let s = Server::start(b).await;
    let http = reqwest::Client::new();
    let long = format!("/admin/v1/policies/login?{}", "a".repeat(20_000));
    let (status, body) = s.send(http.get(s.url(&long))).await;
    assert_eq!(status, 414, "{body}");
    assert_contract_error(status, &body, "uri");

    let (status, body) = s
        .send(
            http.get(s.url("/admin/v1/policies/login"))
                .header("x-big", "b".repeat(40_000)),
        )
        .await;
    assert_eq!(status, 431, "{body}");
    assert_contract_error(status, &body, "headers");

    // gRPC-web with the wrong method, and gRPC over HTTP/1 without gRPC-web.
    let path = "/zitadel.admin.v1.AdminService/GetLoginPolicy";
    let (status, body) = s
        .send(
            http.get(s.url(path))
                .header("content-type", "application/grpc-web+proto"),
        )
        .await;
    assert_eq!(status, 405, "{body}");
    assert_contract_error(status, &body, "grpc-web GET");
    // A JSON body on a gRPC path is a Connect call (connect.rs); any other
    // content type there is refused with Connect's 415 and its error body.
    let (status, body) = s
        .send(
            http.post(s.url(path))
                .header("authorization", format!("Bearer {}", s.token))
                .header("content-type", "application/json")
                .body("{}"),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["policy"].is_object(), "{body}");
    let (status, body) = s
        .send(http.post(s.url(path)).header("content-type", "text/plain").body("{}"))
        .await;
    assert_eq!((status, &body["code"]), (415, &json!("invalid_argument")), "{body}");
    // An answer given before the body was read closes the connection, and
    // says so, so the client does not send its next request into it.
    for _ in 0..3 {
        let resp = http
            .post(s.url("/nowhere/%ff"))
            .body(vec![b'x'; 200_000])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 404);
        assert_eq!(resp.headers()["connection"], "close");
    }
    let health = reqwest::get(s.url("/debug/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
}

/// PostgreSQL cannot hold U+0000 in text: a request string with one is
/// refused before any lookup (it used to be a 500 on PostgreSQL).
async fn nul_characters_are_refused(b: Backend) {
    let s = Server::start(b).await;
    let (status, body) = s.call("GET", "/admin/v1/orgs/a%00b", None).await;
    assert_eq!((status, body["code"].clone()), (400, json!(3)), "{body}");
    assert!(body["message"].as_str().unwrap().contains("id"), "{body}");
    let (status, body) = s
        .call(
            "POST",
            "/v2/sessions",
            Some(json!({"checks": {"user": {"loginName": "admin\u{0}"}}})),
        )
        .await;
    assert_eq!((status, body["code"].clone()), (400, json!(3)), "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("checks.user.loginName"),
        "{body}"
    );

    let mut admin = s.admin().await;
    let err = admin
        .get_org_by_id(twofold_proto::zitadel::admin::v1::GetOrgByIdRequest { id: "x\0".into() })
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument, "{err:?}");
    assert_eq!(s.count_events("session.added").await, 0);
}

async fn json_type_errors_name_the_field(b: Backend) {
    let s = Server::start(b).await;
    let (status, body) = s
        .call(
            "POST",
            "/v2/users/human",
            Some(json!({"username": 5, "profile": {"givenName": "A", "familyName": "B"}})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("username"), "{message}");

    let (status, body) = s
        .call(
            "POST",
            "/v2/users/human",
            Some(json!({"username": "u", "profile": {"givenName": ["A"], "familyName": "B"}})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("profile.givenName"), "{message}");

    let (status, body) = s.send(s.req("POST", "/management/v1/orgs").body("{not json")).await;
    assert_eq!((status, body["code"].clone()), (400, json!(3)), "{body}");
}
