//! The Connect protocol on the gRPC paths: unary JSON and proto calls, GET
//! for reads, gzip both ways, Connect's error shape and HTTP statuses, and
//! one refusal seen identically over gRPC, gRPC-web, REST and Connect.

use std::io::{Read, Write};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use prost::Message;
use serde_json::{Value, json};
use tonic::Code;
use twofold_proto::zitadel::admin::v1::admin_service_client::AdminServiceClient;
use twofold_proto::zitadel::admin::v1::{
    AddSecondFactorToLoginPolicyRequest, RemoveSecondFactorFromLoginPolicyRequest,
};
use twofold_proto::zitadel::user::v2::{GetUserByIdRequest, GetUserByIdResponse};
use twofold_proto::zitadel::v1::ErrorDetail;

use crate::fixtures::{ORG, PASSWORD};
use crate::harness::{Backend, Bearer, Server, backend_tests, error_id};

backend_tests!(
    connect_json_and_proto_calls,
    connect_get_for_reads,
    connect_gzip_both_ways,
    connect_errors_have_connect_shape,
    same_refusal_on_every_transport
);

const ADD_HUMAN: &str = "/zitadel.user.v2.UserService/AddHumanUser";
const GET_USER: &str = "/zitadel.user.v2.UserService/GetUserByID";
const LIST_USERS: &str = "/zitadel.user.v2.UserService/ListUsers";

/// A Connect JSON call with the admin token; status, headers and JSON body.
async fn connect(s: &Server, path: &str, body: Value) -> (u16, http::HeaderMap, Value) {
    let resp = s
        .req("POST", path)
        .header("content-type", "application/json")
        .header("connect-protocol-version", "1")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
    let text = resp.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, headers, json)
}

fn human(username: &str) -> Value {
    json!({
        "username": username,
        "profile": {"givenName": "Grace", "familyName": "Hopper"},
        "email": {"email": format!("{username}@example.com"), "isVerified": true},
        "password": {"password": PASSWORD},
    })
}

/// The ErrorDetail id of a Connect error body, read from the base64 value
/// (what clients decode) and checked against the debug JSON.
fn connect_error_id(body: &Value) -> String {
    let Some(details) = body.get("details") else {
        return String::new();
    };
    assert_eq!(details.as_array().unwrap().len(), 1, "{body}");
    let d = &details[0];
    assert_eq!(d["type"], "zitadel.v1.ErrorDetail", "{body}");
    let value = d["value"].as_str().unwrap();
    assert!(!value.ends_with('='), "unpadded base64: {value}");
    let detail = ErrorDetail::decode(STANDARD_NO_PAD.decode(value).unwrap().as_slice()).unwrap();
    assert_eq!(d["debug"], json!({"id": detail.id, "message": detail.message}));
    assert_eq!(
        body["message"].as_str().unwrap(),
        format!("{} ({})", detail.message, detail.id)
    );
    detail.id
}

async fn connect_json_and_proto_calls(b: Backend) {
    let s = Server::start(b).await;
    let (status, headers, got) = connect(&s, ADD_HUMAN, human("grace")).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(headers["content-type"], "application/json");
    let id = got["userId"].as_str().unwrap().to_owned();
    assert!(got["details"]["changeDate"].is_string(), "{got}");

    // Binary: the bare message in, the bare message out.
    let resp = s
        .req("POST", GET_USER)
        .header("content-type", "application/proto")
        .body(GetUserByIdRequest { user_id: id.clone() }.encode_to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/proto");
    let user = GetUserByIdResponse::decode(resp.bytes().await.unwrap())
        .unwrap()
        .user
        .unwrap();
    assert_eq!((user.user_id.as_str(), user.username.as_str()), (id.as_str(), "grace"));

    // Canonical JSON: zero values omitted, enums by name; unknown fields ignored.
    let (status, _, got) = connect(
        &s,
        LIST_USERS,
        json!({"queries": [{"userNameQuery": {"userName": "grace"}}], "noSuchField": 1}),
    )
    .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["details"]["totalResult"], "1");
    let u = &got["result"][0];
    assert_eq!(u["state"], "USER_STATE_ACTIVE");
    assert_eq!(u["human"]["profile"]["givenName"], "Grace");
    assert!(u["human"].get("passwordChangeRequired").is_none(), "{u}");

    // An empty request is `{}`; a zero-length JSON body is refused.
    let (status, _, got) = connect(&s, LIST_USERS, json!({})).await;
    assert_eq!(status, 200, "{got}");
    let resp = s
        .req("POST", LIST_USERS)
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let got: Value = resp.json().await.unwrap();
    assert_eq!(got["code"], "invalid_argument");
}

async fn connect_get_for_reads(b: Backend) {
    let s = Server::start(b).await;
    let id = s.create_human(None, "ada").await;
    let query = |pairs: &[(&str, &str)]| {
        let mut u = url::Url::parse(&s.url(GET_USER)).unwrap();
        u.query_pairs_mut().extend_pairs(pairs);
        u.to_string()
    };
    let get = |url: String| {
        let token = s.token.clone();
        async move {
            let resp = reqwest::Client::new().get(url).bearer_auth(token).send().await.unwrap();
            (
                resp.status().as_u16(),
                resp.headers().clone(),
                resp.bytes().await.unwrap(),
            )
        }
    };

    let message = json!({"userId": id}).to_string();
    let (status, headers, body) = get(query(&[("connect", "v1"), ("encoding", "json"), ("message", &message)])).await;
    assert_eq!(status, 200, "{body:?}");
    assert_eq!(headers["content-type"], "application/json");
    let got: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(got["user"]["username"], "ada");

    let message = URL_SAFE_NO_PAD.encode(GetUserByIdRequest { user_id: id.clone() }.encode_to_vec());
    let (status, headers, body) = get(query(&[("encoding", "proto"), ("base64", "1"), ("message", &message)])).await;
    assert_eq!(status, 200, "{body:?}");
    assert_eq!(headers["content-type"], "application/proto");
    let got = GetUserByIdResponse::decode(body).unwrap();
    assert_eq!(got.user.unwrap().username, "ada");

    // Compressed, with padded base64 (padding is optional).
    let message = base64::engine::general_purpose::URL_SAFE.encode(gzip(json!({"userId": id}).to_string().as_bytes()));
    let (status, _, body) = get(query(&[
        ("encoding", "json"),
        ("base64", "1"),
        ("compression", "gzip"),
        ("message", &message),
    ]))
    .await;
    assert_eq!(status, 200, "{body:?}");
    let got: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(got["user"]["username"], "ada");

    let (status, _, body) = get(query(&[("encoding", "yaml"), ("message", "{}")])).await;
    assert_eq!(status, 400, "{body:?}");

    // Only methods without side effects are served by GET.
    let resp = s.req("GET", ADD_HUMAN).send().await.unwrap();
    assert_eq!(resp.status(), 405);
    assert_eq!(resp.headers()["allow"], "POST");

    // A content type that is neither Connect nor gRPC.
    let resp = s
        .req("POST", GET_USER)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 415);
    let accepted = resp.headers()["accept-post"].to_str().unwrap().to_owned();
    assert!(accepted.contains("application/json") && accepted.contains("application/proto"));
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

async fn connect_gzip_both_ways(b: Backend) {
    let s = Server::start(b).await;
    let resp = s
        .req("POST", ADD_HUMAN)
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(gzip(human("zipped").to_string().as_bytes()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers().get("content-encoding").is_none(),
        "small answers stay plain"
    );
    let got: Value = resp.json().await.unwrap();
    assert!(got["userId"].is_string(), "{got}");
    for name in ["zipped2", "zipped3", "zipped4"] {
        s.create_human(None, name).await;
    }

    // A list of several users is worth compressing.
    let resp = s
        .req("POST", LIST_USERS)
        .header("content-type", "application/json")
        .header("accept-encoding", "gzip")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-encoding"], "gzip");
    let mut text = String::new();
    GzDecoder::new(resp.bytes().await.unwrap().as_ref())
        .read_to_string(&mut text)
        .unwrap();
    let got: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(got["result"].as_array().unwrap().len(), 5, "{got}");

    // Not garbage, and not an unknown encoding.
    for (encoding, body, code, http) in [
        ("gzip", b"not gzip".to_vec(), "invalid_argument", 400),
        ("br", b"{}".to_vec(), "unimplemented", 501),
    ] {
        let resp = s
            .req("POST", LIST_USERS)
            .header("content-type", "application/json")
            .header("content-encoding", encoding)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), http, "{encoding}");
        let got: Value = resp.json().await.unwrap();
        assert_eq!(got["code"], code, "{encoding}");
    }
}

async fn connect_errors_have_connect_shape(b: Backend) {
    let s = Server::start(b).await;
    let add_factor = "/zitadel.admin.v1.AdminService/AddSecondFactorToLoginPolicy";
    let (status, _, got) = connect(&s, add_factor, json!({"type": "SECOND_FACTOR_TYPE_OTP_EMAIL"})).await;
    assert_eq!(status, 200, "{got}");

    let send = |rb: reqwest::RequestBuilder| async move {
        let resp = rb.send().await.unwrap();
        let status = resp.status().as_u16();
        assert_eq!(
            resp.headers()["content-type"],
            "application/json",
            "errors are always JSON"
        );
        (status, resp.json::<Value>().await.unwrap())
    };
    let json_req = |method: &str, token: Option<&str>, body: Value| {
        let mut rb = reqwest::Client::new()
            .post(s.url(method))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        rb
    };
    let admin = Some(s.token.as_str());
    let rows: Vec<(&str, reqwest::RequestBuilder, u16, &str, &str)> = vec![
        (
            "existing factor",
            json_req(add_factor, admin, json!({"type": 3})),
            409,
            "already_exists",
            "INSTANCE-2B0ps",
        ),
        (
            "unknown user",
            json_req(GET_USER, admin, json!({"userId": "404"})),
            404,
            "not_found",
            "QUERY-Dfbg2",
        ),
        (
            "validation",
            json_req(add_factor, admin, json!({"type": 0})),
            400,
            "invalid_argument",
            "",
        ),
        (
            "bad JSON",
            json_req(GET_USER, admin, json!("not an object")),
            400,
            "invalid_argument",
            "",
        ),
        (
            "no token",
            json_req(GET_USER, None, json!({})),
            401,
            "unauthenticated",
            "",
        ),
        (
            "bad token",
            json_req(GET_USER, Some("not-a-token"), json!({})),
            401,
            "unauthenticated",
            "AUTH-7fs1e",
        ),
        (
            "unknown org",
            json_req(
                "/zitadel.management.v1.ManagementService/GetLoginPolicy",
                admin,
                json!({}),
            )
            .header(ORG, "123"),
            403,
            "permission_denied",
            "AUTH-Bs7Ds",
        ),
        (
            "default policy of own org",
            json_req(
                "/zitadel.management.v1.ManagementService/AddSecondFactorToLoginPolicy",
                admin,
                json!({"type": 3}),
            ),
            400,
            "failed_precondition",
            "Org-4Rf9x",
        ),
        (
            "deadline",
            json_req(ADD_HUMAN, admin, human("late")).header("connect-timeout-ms", "1"),
            504,
            "deadline_exceeded",
            "",
        ),
        (
            "unknown method",
            json_req("/zitadel.user.v2.UserService/NoSuchMethod", admin, json!({})),
            404,
            "unimplemented",
            "",
        ),
        (
            "protocol version",
            json_req(GET_USER, admin, json!({})).header("connect-protocol-version", "2"),
            400,
            "invalid_argument",
            "",
        ),
    ];
    for (what, rb, http, code, id) in rows {
        let (status, body) = send(rb).await;
        assert_eq!((status, body["code"].as_str().unwrap()), (http, code), "{what}: {body}");
        assert_eq!(connect_error_id(&body), id, "{what}: {body}");
    }

    // Binary requests get their errors in JSON too.
    let resp = s
        .req("POST", GET_USER)
        .header("content-type", "application/proto")
        .body(GetUserByIdRequest { user_id: "404".into() }.encode_to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(connect_error_id(&body), "QUERY-Dfbg2");
    let resp = s
        .req("POST", GET_USER)
        .header("content-type", "application/proto")
        .body(vec![0xff, 0xff, 0xff])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
}

/// One refusal over one transport: its code and ErrorDetail id.
async fn refusal(s: &Server, transport: &str, token: &str, add: bool, factor: i32) -> (Code, String) {
    let (rpc, verb, rest_path) = if add {
        (
            "AddSecondFactorToLoginPolicy",
            "POST",
            "/admin/v1/policies/login/second_factors".to_owned(),
        )
    } else {
        (
            "RemoveSecondFactorFromLoginPolicy",
            "DELETE",
            format!("/admin/v1/policies/login/second_factors/{factor}"),
        )
    };
    let grpc_path = format!("/zitadel.admin.v1.AdminService/{rpc}");
    let message = if add {
        AddSecondFactorToLoginPolicyRequest { r#type: factor }.encode_to_vec()
    } else {
        RemoveSecondFactorFromLoginPolicyRequest { r#type: factor }.encode_to_vec()
    };
    let http = reqwest::Client::new();
    match transport {
        "gRPC" => {
            let mut admin = AdminServiceClient::with_interceptor(s.channel().await, Bearer(token.to_owned()));
            let err = if add {
                admin
                    .add_second_factor_to_login_policy(AddSecondFactorToLoginPolicyRequest { r#type: factor })
                    .await
                    .unwrap_err()
            } else {
                admin
                    .remove_second_factor_from_login_policy(RemoveSecondFactorFromLoginPolicyRequest { r#type: factor })
                    .await
                    .unwrap_err()
            };
            (err.code(), error_id(&err))
        }
        "gRPC-web" => {
            let mut frame = vec![0u8];
            frame.extend((message.len() as u32).to_be_bytes());
            frame.extend(&message);
            let resp = http
                .post(s.url(&grpc_path))
                .bearer_auth(token)
                .header("content-type", "application/grpc-web+proto")
                .header("x-grpc-web", "1")
                .body(frame)
                .send()
                .await
                .unwrap();
            let mut trailers = resp.headers().clone();
            let body = resp.bytes().await.unwrap();
            // Trailers-only answers carry the status in the headers, others in a trailer frame.
            if body.len() > 5 && body[0] & 0x80 != 0 {
                for line in String::from_utf8_lossy(&body[5..]).lines() {
                    if let Some((k, v)) = line.split_once(':') {
                        trailers.insert(
                            http::HeaderName::from_bytes(k.trim().as_bytes()).unwrap(),
                            v.trim().parse().unwrap(),
                        );
                    }
                }
            }
            let status = tonic::Status::from_header_map(&trailers).expect("a grpc-status");
            (status.code(), error_id(&status))
        }
        "REST" => {
            let mut rb = http
                .request(verb.parse().unwrap(), s.url(&rest_path))
                .bearer_auth(token);
            if add {
                rb = rb.json(&json!({"type": factor}));
            }
            let (_, body) = s.send(rb).await;
            let code = Code::from_i32(body["code"].as_i64().unwrap() as i32);
            let id = body["details"][0]["id"].as_str().unwrap_or("").to_owned();
            (code, id)
        }
        "Connect" => {
            let resp = http
                .post(s.url(&grpc_path))
                .bearer_auth(token)
                .header("content-type", "application/proto")
                .body(message)
                .send()
                .await
                .unwrap();
            let body: Value = resp.json().await.unwrap();
            let code = match body["code"].as_str().unwrap() {
                "already_exists" => Code::AlreadyExists,
                "not_found" => Code::NotFound,
                "unauthenticated" => Code::Unauthenticated,
                other => panic!("unexpected code {other}"),
            };
            (code, connect_error_id(&body))
        }
        other => panic!("no transport {other}"),
    }
}

async fn same_refusal_on_every_transport(b: Backend) {
    let s = Server::start(b).await;
    const OTP_EMAIL: i32 = 3;
    let token = s.token.clone();
    // (what, setup: add OTP_EMAIL first, token, add or remove, expected)
    let rows = [
        (
            "remove an absent factor",
            false,
            token.as_str(),
            false,
            (Code::NotFound, "INSTANCE-3M9od"),
        ),
        (
            "add an existing factor",
            true,
            token.as_str(),
            true,
            (Code::AlreadyExists, "INSTANCE-2B0ps"),
        ),
        (
            "invalid token",
            false,
            "not-a-token",
            true,
            (Code::Unauthenticated, "AUTH-7fs1e"),
        ),
    ];
    for (what, setup, token, add, (code, id)) in rows {
        if setup {
            let (status, body) = s
                .call(
                    "POST",
                    "/admin/v1/policies/login/second_factors",
                    Some(json!({"type": OTP_EMAIL})),
                )
                .await;
            assert_eq!(status, 200, "{body}");
        }
        for transport in ["gRPC", "gRPC-web", "REST", "Connect"] {
            let got = refusal(&s, transport, token, add, OTP_EMAIL).await;
            assert_eq!(got, (code, id.to_owned()), "{what} over {transport}");
        }
    }
}
