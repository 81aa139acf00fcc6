//! Management API, read side: what an org sees of the login policy.

use serde_json::json;
use twofold_proto::zitadel::management::v1::*;

use crate::harness::{Backend, Server, backend_tests};

backend_tests!(org_inherits_the_default_live, my_org, management_over_grpc);

async fn org_inherits_the_default_live(b: Backend) {
    let s = Server::start(b).await;
    let instance = s.instance_id().await;

    let (status, body) = s.call("GET", "/management/v1/policies/login", None).await;
    assert_eq!(status, 200);
    assert_eq!(body["isDefault"], true);
    assert_eq!(body["policy"]["isDefault"], true);
    assert_eq!(body["policy"]["details"]["resourceOwner"], instance);

    let (status, default) = s.call("GET", "/management/v1/policies/default/login", None).await;
    assert_eq!(status, 200);
    assert_eq!(default["policy"], body["policy"]);

    let list = |path: &'static str| {
        let s = &s;
        async move {
            let (status, body) = s.call("POST", path, None).await;
            assert_eq!(status, 200);
            body["result"].clone()
        }
    };
    let second = "/management/v1/policies/login/second_factors/_search";
    let multi = "/management/v1/policies/login/auth_factors/_search";
    assert_eq!(
        list(second).await,
        json!(["SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_U2F"])
    );
    assert_eq!(list(multi).await, json!(["MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"]));

    // An admin change shows up for the org at once.
    let (status, _) = s
        .call(
            "POST",
            "/admin/v1/policies/login/second_factors",
            Some(json!({"type": "SECOND_FACTOR_TYPE_OTP_EMAIL"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        list(second).await,
        json!([
            "SECOND_FACTOR_TYPE_OTP",
            "SECOND_FACTOR_TYPE_U2F",
            "SECOND_FACTOR_TYPE_OTP_EMAIL"
        ])
    );
    let (status, _) = s
        .call(
            "DELETE",
            "/admin/v1/policies/login/second_factors/SECOND_FACTOR_TYPE_OTP",
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        list(second).await,
        json!(["SECOND_FACTOR_TYPE_U2F", "SECOND_FACTOR_TYPE_OTP_EMAIL"])
    );
}

async fn my_org(b: Backend) {
    let s = Server::start(b).await;
    let (status, body) = s.call("GET", "/management/v1/orgs/me", None).await;
    assert_eq!(status, 200);
    let org = &body["org"];
    assert_eq!(org["name"], "Twofold");
    assert_eq!(org["state"], "ORG_STATE_ACTIVE");
    assert_eq!(org["primaryDomain"], "twofold.localhost");
    assert_eq!(org["details"]["resourceOwner"], org["id"]);
}

async fn management_over_grpc(b: Backend) {
    let s = Server::start(b).await;
    let mut m = s.management().await;
    let got = m.get_login_policy(GetLoginPolicyRequest {}).await.unwrap().into_inner();
    assert!(got.is_default);
    assert_eq!(got.policy.unwrap().second_factors, vec![1, 2]);
    let list = m
        .list_login_policy_multi_factors(ListLoginPolicyMultiFactorsRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(list.result, vec![1]);
    let org = m
        .get_my_org(GetMyOrgRequest {})
        .await
        .unwrap()
        .into_inner()
        .org
        .unwrap();
    assert_eq!(org.name, "Twofold");
}
