//! Admin API: the instance's default login policy and its factor lists.

use serde_json::{Value, json};
use tonic::Code;
use twofold_proto::zitadel::admin::v1::*;

use crate::harness::{Backend, Server, backend_tests, error_id, rest_error};

backend_tests!(
    default_policy_as_zitadel_creates_it,
    second_factors_over_rest,
    multi_factors_over_rest,
    factors_over_grpc,
    update_login_policy,
    bad_input_changes_nothing,
    concurrent_identical_adds,
    recovery_codes_are_a_policy_factor,
);

async fn second_factors(s: &Server) -> Value {
    let (status, body) = s
        .call("POST", "/admin/v1/policies/login/second_factors/_search", None)
        .await;
    assert_eq!(status, 200);
    body["result"].clone()
}

async fn default_policy_as_zitadel_creates_it(b: Backend) {
    let s = Server::start(b).await;
    let (status, mut body) = s.call("GET", "/admin/v1/policies/login", None).await;
    assert_eq!(status, 200);
    let details = body["policy"].as_object_mut().unwrap().remove("details").unwrap();
    assert_eq!(
        body,
        json!({"policy": {
            "allowUsernamePassword": true, "allowRegister": true, "allowExternalIdp": true,
            "passwordlessType": "PASSWORDLESS_TYPE_ALLOWED", "isDefault": true,
            "passwordCheckLifetime": "864000s", "externalLoginCheckLifetime": "864000s",
            "mfaInitSkipLifetime": "2592000s", "secondFactorCheckLifetime": "64800s",
            "multiFactorCheckLifetime": "43200s",
            "secondFactors": ["SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_U2F"],
            "multiFactors": ["MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"],
            "allowDomainDiscovery": true}})
    );
    let owner = details["resourceOwner"].as_str().unwrap();
    assert!(
        owner.len() >= 17 && owner.chars().all(|c| c.is_ascii_digit()),
        "snowflake id: {owner}"
    );
    assert!(details["sequence"].is_string());
    assert!(details["creationDate"].as_str().unwrap().ends_with('Z'));
}

async fn second_factors_over_rest(b: Backend) {
    let s = Server::start(b).await;
    let instance = s.instance_id().await;
    let path = "/admin/v1/policies/login/second_factors";

    let (status, list) = s.call("POST", &format!("{path}/_search"), None).await;
    assert_eq!(status, 200);
    assert_eq!(list["details"]["totalResult"], "2");
    assert!(list["details"]["viewTimestamp"].as_str().unwrap().ends_with('Z'));
    assert!(list["details"].get("processedSequence").is_none());

    let (status, added) = s
        .call("POST", path, Some(json!({"type": "SECOND_FACTOR_TYPE_OTP_EMAIL"})))
        .await;
    assert_eq!(status, 200);
    let d = &added["details"];
    assert_eq!(d["resourceOwner"], instance);
    assert!(
        d["creationDate"].is_string() && d.get("changeDate").is_none(),
        "add-style: {d}"
    );
    let seq: u64 = d["sequence"].as_str().unwrap().parse().unwrap();

    // Read-your-writes: the list shows it at once, in insertion order.
    assert_eq!(
        second_factors(&s).await,
        json!([
            "SECOND_FACTOR_TYPE_OTP",
            "SECOND_FACTOR_TYPE_U2F",
            "SECOND_FACTOR_TYPE_OTP_EMAIL"
        ])
    );

    let (status, body) = s.call("POST", path, Some(json!({"type": 3}))).await;
    assert_eq!(status, 409);
    assert_eq!(
        body,
        rest_error(6, "INSTANCE-2B0ps", "Errors.Instance.MFA.AlreadyExists")
    );

    let (status, removed) = s
        .call("DELETE", &format!("{path}/SECOND_FACTOR_TYPE_OTP_EMAIL"), None)
        .await;
    assert_eq!(status, 200);
    let d = &removed["details"];
    assert!(
        d["changeDate"].is_string() && d.get("creationDate").is_none(),
        "change-style: {d}"
    );
    assert_eq!(d["sequence"], (seq + 1).to_string());

    let (status, body) = s
        .call("DELETE", &format!("{path}/SECOND_FACTOR_TYPE_OTP_EMAIL"), None)
        .await;
    assert_eq!(status, 404);
    assert_eq!(body, rest_error(5, "INSTANCE-3M9od", "Multifactor not existing"));

    // The path parameter also takes the enum number.
    let (status, _) = s.call("DELETE", &format!("{path}/1"), None).await;
    assert_eq!(status, 200);
    assert_eq!(second_factors(&s).await, json!(["SECOND_FACTOR_TYPE_U2F"]));

    // Removing every factor is allowed; the list is then empty and omitted.
    let (status, _) = s.call("DELETE", &format!("{path}/2"), None).await;
    assert_eq!(status, 200);
    let (_, list) = s.call("POST", &format!("{path}/_search"), None).await;
    assert_eq!(list.get("result"), None);
    assert_eq!(list["details"].get("totalResult"), None);
}

async fn multi_factors_over_rest(b: Backend) {
    let s = Server::start(b).await;
    let path = "/admin/v1/policies/login/multi_factors";
    let mf = "MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION";

    let (status, body) = s.call("POST", path, Some(json!({"type": mf}))).await;
    assert_eq!(status, 409);
    assert_eq!(
        body,
        rest_error(6, "INSTANCE-3M9od", "Errors.Instance.MFA.AlreadyExists")
    );

    let (status, _) = s.call("DELETE", &format!("{path}/{mf}"), None).await;
    assert_eq!(status, 200);
    let (status, body) = s.call("DELETE", &format!("{path}/1"), None).await;
    assert_eq!(status, 404);
    assert_eq!(body, rest_error(5, "INSTANCE-3M9df", "Multifactor not existing"));

    let (_, list) = s.call("POST", &format!("{path}/_search"), None).await;
    assert_eq!(list.get("result"), None);
    let (status, _) = s.call("POST", path, Some(json!({"type": 1}))).await;
    assert_eq!(status, 200);
    let (_, list) = s.call("POST", &format!("{path}/_search"), None).await;
    assert_eq!(list["result"], json!([mf]));
    assert_eq!(list["details"]["totalResult"], "1");
}

async fn factors_over_grpc(b: Backend) {
    let s = Server::start(b).await;
    let mut admin = s.admin().await;

    let list = admin
        .list_login_policy_second_factors(ListLoginPolicySecondFactorsRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(list.result, vec![1, 2]);
    assert_eq!(list.details.unwrap().total_result, 2);

    let added = admin
        .add_second_factor_to_login_policy(AddSecondFactorToLoginPolicyRequest { r#type: 4 })
        .await
        .unwrap()
        .into_inner();
    let d = added.details.unwrap();
    assert!(d.creation_date.is_some() && d.change_date.is_none());

    let err = admin
        .add_second_factor_to_login_policy(AddSecondFactorToLoginPolicyRequest { r#type: 4 })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists);
    assert_eq!(err.message(), "Errors.Instance.MFA.AlreadyExists (INSTANCE-2B0ps)");
    assert_eq!(error_id(&err), "INSTANCE-2B0ps");

    let err = admin
        .remove_second_factor_from_login_policy(RemoveSecondFactorFromLoginPolicyRequest { r#type: 3 })
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), error_id(&err).as_str()),
        (Code::NotFound, "INSTANCE-3M9od")
    );

    let err = admin
        .add_second_factor_to_login_policy(AddSecondFactorToLoginPolicyRequest { r#type: 0 })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(
        err.message(),
        "invalid AddSecondFactorToLoginPolicyRequest.Type: value must not be in list [0]"
    );
    assert_eq!(error_id(&err), "");

    let err = admin
        .remove_multi_factor_from_login_policy(RemoveMultiFactorFromLoginPolicyRequest { r#type: 7 })
        .await
        .unwrap_err();
    assert_eq!(
        err.message(),
        "invalid RemoveMultiFactorFromLoginPolicyRequest.Type: value must be one of the defined enum values"
    );

    let removed = admin
        .remove_second_factor_from_login_policy(RemoveSecondFactorFromLoginPolicyRequest { r#type: 4 })
        .await
        .unwrap()
        .into_inner();
    let d = removed.details.unwrap();
    assert!(d.change_date.is_some() && d.creation_date.is_none());

    let policy = admin
        .get_login_policy(GetLoginPolicyRequest {})
        .await
        .unwrap()
        .into_inner()
        .policy
        .unwrap();
    assert_eq!(policy.second_factors, vec![1, 2]);
    assert_eq!(policy.multi_factors, vec![1]);
    assert!(policy.is_default);
    assert_eq!(policy.second_factor_check_lifetime.unwrap().seconds, 64_800);

    let mf = admin
        .list_login_policy_multi_factors(ListLoginPolicyMultiFactorsRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(mf.result, vec![1]);
}

fn full_update() -> Value {
    json!({
        "allowUsernamePassword": true, "allowRegister": false, "allowExternalIdp": true,
        "forceMfa": true, "passwordlessType": "PASSWORDLESS_TYPE_ALLOWED",
        "passwordCheckLifetime": "864000s", "externalLoginCheckLifetime": "864000s",
        "mfaInitSkipLifetime": "2592000s", "secondFactorCheckLifetime": "3600s",
        "multiFactorCheckLifetime": "43200s", "allowDomainDiscovery": true,
        "defaultRedirectUri": "https://app.example.com/home"
    })
}

async fn update_login_policy(b: Backend) {
    let s = Server::start(b).await;
    let path = "/admin/v1/policies/login";

    let (status, body) = s.call("PUT", path, Some(full_update())).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["details"]["changeDate"].is_string() && body["details"].get("creationDate").is_none());
    let (_, got) = s.call("GET", path, None).await;
    let p = &got["policy"];
    assert_eq!(p["forceMfa"], true);
    assert_eq!(p.get("allowRegister"), None);
    assert_eq!(p["secondFactorCheckLifetime"], "3600s");
    assert_eq!(p["defaultRedirectUri"], "https://app.example.com/home");
    // Updating settings leaves the factor lists alone.
    assert_eq!(
        p["secondFactors"],
        json!(["SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_U2F"])
    );

    let (status, body) = s.call("PUT", path, Some(full_update())).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        rest_error(9, "INSTANCE-5M9vdd", "Default Login Policy has not been changed")
    );

    let mut bad = full_update();
    bad["defaultRedirectUri"] = json!("no-scheme.example.com");
    let (status, body) = s.call("PUT", path, Some(bad)).await;
    assert_eq!(status, 400);
    assert_eq!(body, rest_error(3, "IAM-SFdqd", "Default Redirect URI is invalid"));

    let mut bad = full_update();
    bad["passwordlessType"] = json!(5);
    let (status, body) = s.call("PUT", path, Some(bad)).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"code": 3, "message": "invalid UpdateLoginPolicyRequest.PasswordlessType: value must be one of the defined enum values"})
    );

    // Full replacement: an empty body turns every flag off and lifetimes to 0s.
    let (status, _) = s.call("PUT", path, Some(json!({}))).await;
    assert_eq!(status, 200);
    let (_, got) = s.call("GET", path, None).await;
    let p = &got["policy"];
    assert_eq!(p.get("allowUsernamePassword"), None);
    assert_eq!(p["passwordCheckLifetime"], "0s");
    assert_eq!(s.count_events("instance.policy.login.changed").await, 2);
}

async fn bad_input_changes_nothing(b: Backend) {
    let s = Server::start(b).await;
    let path = "/admin/v1/policies/login/second_factors";
    let (_, before) = s.call("GET", "/admin/v1/policies/login", None).await;
    let pgv = |reason: &str| json!({"code": 3, "message": format!("invalid AddSecondFactorToLoginPolicyRequest.Type: {reason}")});

    for (body, expected) in [
        (json!({}), pgv("value must not be in list [0]")),
        (json!({"type": 0}), pgv("value must not be in list [0]")),
        (
            json!({"type": "SECOND_FACTOR_TYPE_UNSPECIFIED"}),
            pgv("value must not be in list [0]"),
        ),
        (json!({"type": 9}), pgv("value must be one of the defined enum values")),
    ] {
        let (status, got) = s.call("POST", path, Some(body.clone())).await;
        assert_eq!((status, &got), (400, &expected), "{body}");
    }

    // Unknown enum name and malformed JSON fail at the gateway.
    for raw in [r#"{"type":"SECOND_FACTOR_TYPE_FOO"}"#, r#"{"type": "#, "[1,2]"] {
        let (status, got) = s.send(s.req("POST", path).body(raw)).await;
        assert_eq!(status, 400, "{raw}");
        assert_eq!(got["code"], 3);
        assert!(
            got["message"].as_str().unwrap().starts_with("invalid JSON body"),
            "{got}"
        );
        assert!(got.get("details").is_none());
    }

    let (status, got) = s.call("DELETE", &format!("{path}/FOO"), None).await;
    assert_eq!(status, 400);
    assert_eq!(
        got,
        json!({"code": 3, "message": "type mismatch, parameter: type, error: FOO is not valid"})
    );
    let (status, got) = s.call("DELETE", &format!("{path}/9"), None).await;
    assert_eq!(
        (status, got["message"].as_str().unwrap()),
        (400, "type mismatch, parameter: type, error: 9 is not valid")
    );
    let (status, got) = s.call("DELETE", &format!("{path}/0"), None).await;
    assert_eq!(status, 400);
    assert_eq!(
        got["message"],
        "invalid RemoveSecondFactorFromLoginPolicyRequest.Type: value must not be in list [0]"
    );

    let (status, got) = s.call("POST", "/admin/v1/policies/login/third_factors", None).await;
    assert_eq!((status, got), (404, json!({"code": 5, "message": "Not Found"})));
    let (status, got) = s.call("PATCH", path, None).await;
    assert_eq!(
        (status, got),
        (405, json!({"code": 12, "message": "Method Not Allowed"}))
    );

    let (_, after) = s.call("GET", "/admin/v1/policies/login", None).await;
    assert_eq!(before, after, "nothing was stored");
    assert_eq!(s.count_events("instance.policy.login.secondfactor.added").await, 2);
    assert_eq!(s.count_events("instance.policy.login.secondfactor.removed").await, 0);
}

async fn concurrent_identical_adds(b: Backend) {
    let s = Server::start(b).await;
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let rb = s
                .req("POST", "/admin/v1/policies/login/second_factors")
                .json(&json!({"type": "SECOND_FACTOR_TYPE_OTP_SMS"}));
            tokio::spawn(async move { rb.send().await.unwrap().status().as_u16() })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    statuses.sort();
    let mut expected = vec![200];
    expected.extend([409; 19]);
    assert_eq!(statuses, expected);
    assert_eq!(
        s.count_events("instance.policy.login.secondfactor.added").await,
        3,
        "2 at setup + 1"
    );
}

async fn recovery_codes_are_a_policy_factor(b: Backend) {
    let s = Server::start(b).await;
    let path = "/admin/v1/policies/login/second_factors";
    let (status, _) = s
        .call("POST", path, Some(json!({"type": "SECOND_FACTOR_TYPE_RECOVERY_CODES"})))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        second_factors(&s).await,
        json!([
            "SECOND_FACTOR_TYPE_OTP",
            "SECOND_FACTOR_TYPE_U2F",
            "SECOND_FACTOR_TYPE_RECOVERY_CODES"
        ])
    );
    let (status, _) = s.call("DELETE", &format!("{path}/5"), None).await;
    assert_eq!(status, 200);
    let (status, got) = s.call("POST", path, Some(json!({"type": 6}))).await;
    assert_eq!(status, 400);
    assert_eq!(
        got["message"],
        "invalid AddSecondFactorToLoginPolicyRequest.Type: value must be one of the defined enum values"
    );
}
