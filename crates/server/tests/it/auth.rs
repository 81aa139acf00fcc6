//! Authentication, org context and instance selection (contract §2, §3, §15).

use serde_json::json;
use tonic::Code;
use twofold_proto::zitadel::admin::v1::admin_service_client::AdminServiceClient;
use twofold_proto::zitadel::admin::v1::*;

use crate::harness::{Backend, Bearer, Server, backend_tests, error_id, rest_error};

backend_tests!(
    token_errors,
    org_header_must_exist,
    instance_is_chosen_by_host,
    grpc_auth_errors
);

const PATH: &str = "/admin/v1/policies/login/second_factors/_search";

async fn token_errors(b: Backend) {
    let s = Server::start(b).await;
    let http = reqwest::Client::new();

    let (status, body) = s.send(http.post(s.url(PATH))).await;
    assert_eq!(
        (status, body),
        (401, json!({"code": 16, "message": "auth header missing"}))
    );

    let (status, body) = s
        .send(http.post(s.url(PATH)).header("authorization", "Basic abc"))
        .await;
    assert_eq!(
        (status, body),
        (401, rest_error(16, "AUTH-toLo1", "invalid auth header"))
    );

    for token in ["not-a-token", &format!("{}x", s.token)] {
        let (status, body) = s.send(http.post(s.url(PATH)).bearer_auth(token)).await;
        assert_eq!(
            (status, body),
            (401, rest_error(16, "AUTH-7fs1e", "Errors.Token.Invalid"))
        );
    }

    let (status, _) = s.send(http.post(s.url(PATH)).bearer_auth(&s.token)).await;
    assert_eq!(status, 200);
}

async fn org_header_must_exist(b: Backend) {
    let s = Server::start(b).await;
    let (status, body) = s.send(s.req("POST", PATH).header("x-zitadel-orgid", "123456789")).await;
    assert_eq!(
        (status, body),
        (403, rest_error(7, "AUTH-Bs7Ds", "Organisation doesn't exist"))
    );

    let (_, org) = s.call("GET", "/management/v1/orgs/me", None).await;
    let org_id = org["org"]["id"].as_str().unwrap();
    let (status, _) = s.send(s.req("POST", PATH).header("x-zitadel-orgid", org_id)).await;
    assert_eq!(status, 200);
}

async fn instance_is_chosen_by_host(b: Backend) {
    let s = Server::start(b).await;
    let port = s.addr.port();
    let http = reqwest::Client::new();
    for host in ["localhost", "127.0.0.1"] {
        let url = format!("http://{host}:{port}{PATH}");
        let (status, _) = s.send(http.post(url).bearer_auth(&s.token)).await;
        assert_eq!(status, 200, "{host}");
    }
    let (status, body) = s
        .send(s.req("POST", PATH).header("host", format!("other.example.com:{port}")))
        .await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], 5);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("unable to set instance using origin other.example.com"),
        "{body}"
    );
    assert!(body.get("details").is_none());

    // Health checks need no instance.
    let resp = http
        .get(s.url("/debug/healthz"))
        .header("host", "other.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

async fn grpc_auth_errors(b: Backend) {
    let s = Server::start(b).await;
    let mut anonymous = AdminServiceClient::with_interceptor(s.channel().await, Bearer(String::new()));
    let err = anonymous
        .list_login_policy_second_factors(ListLoginPolicySecondFactorsRequest {})
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), err.message()),
        (Code::Unauthenticated, "auth header missing")
    );

    let mut wrong = AdminServiceClient::with_interceptor(s.channel().await, Bearer("nope".into()));
    let err = wrong
        .list_login_policy_second_factors(ListLoginPolicySecondFactorsRequest {})
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), error_id(&err).as_str()),
        (Code::Unauthenticated, "AUTH-7fs1e")
    );

    // Healthz needs no token.
    anonymous.healthz(HealthzRequest {}).await.unwrap();
}
