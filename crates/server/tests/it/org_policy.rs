//! Each org's own login policy, and inheritance from the instance default.

use serde_json::{Value, json};
use tonic::Code;
use twofold_proto::zitadel::management::v1::*;

use crate::harness::{Backend, Server, backend_tests, error_id, rest_error};

backend_tests!(
    inheritance_step_by_step,
    org_policy_errors_store_nothing,
    custom_policy_over_grpc
);

const SECOND: &str = "/management/v1/policies/login/second_factors";
const MULTI: &str = "/management/v1/policies/login/multi_factors";
const POLICY: &str = "/management/v1/policies/login";

fn names(list: &[&str]) -> Value {
    json!(
        list.iter()
            .map(|n| format!("SECOND_FACTOR_TYPE_{n}"))
            .collect::<Vec<_>>()
    )
}

async fn org_second_factors(s: &Server, org: &str) -> Value {
    let (status, body) = s.call_in(org, "POST", &format!("{SECOND}/_search"), None).await;
    assert_eq!(status, 200, "{body}");
    body.get("result").cloned().unwrap_or(json!([]))
}

async fn inheritance_step_by_step(b: Backend) {
    let s = Server::start(b).await;
    let bank = s.create_org("Bank").await;
    let home = s.my_org_id().await;
    let instance = s.instance_id().await;

    // 1. No custom policy: the org sees the instance default.
    assert_eq!(org_second_factors(&s, &bank).await, names(&["OTP", "U2F"]));

    // 2. An admin change to the default shows up at once.
    let (status, _) = s
        .call(
            "POST",
            "/admin/v1/policies/login/second_factors",
            Some(json!({"type": "SECOND_FACTOR_TYPE_OTP_EMAIL"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(org_second_factors(&s, &bank).await, names(&["OTP", "U2F", "OTP_EMAIL"]));

    // 3. The bank gets its own policy: security keys only; nothing copied.
    let (status, body) = s
        .call_in(
            &bank,
            "POST",
            POLICY,
            Some(json!({"allowUsernamePassword": true, "secondFactors": ["SECOND_FACTOR_TYPE_U2F"]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["details"]["resourceOwner"], bank);
    assert!(body["details"]["creationDate"].is_string());
    assert_eq!(org_second_factors(&s, &bank).await, names(&["U2F"]));
    let (_, got) = s.call_in(&bank, "GET", POLICY, None).await;
    assert_eq!(got.get("isDefault"), None);
    assert_eq!(got["policy"].get("isDefault"), None);
    assert_eq!(got["policy"]["details"]["resourceOwner"], bank);
    assert_eq!(got["policy"]["allowUsernamePassword"], true);
    assert_eq!(got["policy"].get("allowRegister"), None, "not copied from the default");
    assert_eq!(got["policy"]["passwordCheckLifetime"], "0s");
    assert_eq!(got["policy"].get("multiFactors"), None);

    // 4. Later default changes do not reach the bank, but do reach the others.
    let (status, _) = s
        .call(
            "DELETE",
            "/admin/v1/policies/login/second_factors/SECOND_FACTOR_TYPE_U2F",
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(org_second_factors(&s, &bank).await, names(&["U2F"]));
    assert_eq!(org_second_factors(&s, &home).await, names(&["OTP", "OTP_EMAIL"]));

    // 5. The bank changes its own list.
    let (status, body) = s
        .call_in(
            &bank,
            "POST",
            SECOND,
            Some(json!({"type": "SECOND_FACTOR_TYPE_OTP_SMS"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["details"]["resourceOwner"], bank);
    assert_eq!(org_second_factors(&s, &bank).await, names(&["U2F", "OTP_SMS"]));
    let (status, _) = s
        .call_in(&bank, "DELETE", &format!("{SECOND}/SECOND_FACTOR_TYPE_U2F"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(org_second_factors(&s, &bank).await, names(&["OTP_SMS"]));

    // 6. Reset: the bank inherits the current default again.
    let (status, body) = s.call_in(&bank, "DELETE", POLICY, None).await;
    assert_eq!(status, 200);
    assert!(body["details"]["changeDate"].is_string());
    assert_eq!(org_second_factors(&s, &bank).await, names(&["OTP", "OTP_EMAIL"]));
    let (_, got) = s.call_in(&bank, "GET", POLICY, None).await;
    assert_eq!(got["isDefault"], true);
    assert_eq!(got["policy"]["details"]["resourceOwner"], instance);

    // 7. …and can start over with a new custom policy.
    let (status, _) = s.call_in(&bank, "POST", POLICY, Some(json!({}))).await;
    assert_eq!(status, 200);
    assert_eq!(org_second_factors(&s, &bank).await, json!([]));
}

async fn org_policy_errors_store_nothing(b: Backend) {
    let s = Server::start(b).await;
    let org = s.create_org("Errors").await;
    let count = async |s: &Server| {
        let mut n = 0;
        for t in [
            "added",
            "changed",
            "removed",
            "secondfactor.added",
            "secondfactor.removed",
            "multifactor.added",
            "multifactor.removed",
        ] {
            n += s.count_events(&format!("org.policy.login.{t}")).await;
        }
        n
    };

    // Without a custom policy, factor changes are refused (ZITADEL #9047).
    for (method, path, body) in [
        (
            "POST",
            SECOND.to_owned(),
            Some(json!({"type": "SECOND_FACTOR_TYPE_OTP"})),
        ),
        ("DELETE", format!("{SECOND}/SECOND_FACTOR_TYPE_OTP"), None),
        (
            "POST",
            MULTI.to_owned(),
            Some(json!({"type": "MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"})),
        ),
        ("DELETE", format!("{MULTI}/1"), None),
    ] {
        let (status, got) = s.call_in(&org, method, &path, body).await;
        assert_eq!(status, 400, "{method} {path}: {got}");
        assert_eq!(got["code"], 9);
        assert_eq!(got["details"][0]["id"], "Org-4Rf9x");
        assert!(
            got["message"]
                .as_str()
                .unwrap()
                .contains("add a custom login policy first"),
            "{got}"
        );
    }
    let (status, got) = s.call_in(&org, "PUT", POLICY, Some(json!({}))).await;
    assert_eq!(
        (status, got),
        (404, rest_error(5, "Org-M0sif", "Login Policy not found"))
    );
    let (status, got) = s.call_in(&org, "DELETE", POLICY, None).await;
    assert_eq!(
        (status, got),
        (404, rest_error(5, "Org-GHB37", "Login Policy not found"))
    );

    // Invalid custom policies.
    for (body, status, expected) in [
        (
            json!({"defaultRedirectUri": "nope"}),
            400,
            rest_error(3, "Org-WSfdq", "Default Redirect URI is invalid"),
        ),
        (
            json!({"secondFactors": [0]}),
            400,
            rest_error(3, "Org-SFeea", "Multifactor invalid"),
        ),
        (
            json!({"secondFactors": [1, 7]}),
            400,
            rest_error(3, "Org-SFeea", "Multifactor invalid"),
        ),
        (
            json!({"multiFactors": [2]}),
            400,
            rest_error(3, "Org-WSfrg", "Multifactor invalid"),
        ),
        (
            json!({"idps": [{"idpId": "123", "ownerType": "IDP_OWNER_TYPE_ORG"}]}),
            400,
            rest_error(9, "Org-FEd32", "Identity Provider Configuration doesn't exist"),
        ),
    ] {
        let (got_status, got) = s.call_in(&org, "POST", POLICY, Some(body.clone())).await;
        assert_eq!((got_status, got), (status, expected), "{body}");
    }
    assert_eq!(count(&s).await, 0, "failed calls store nothing");

    let policy = json!({"forceMfa": true, "secondFactors": ["SECOND_FACTOR_TYPE_OTP"], "multiFactors": [1]});
    let (status, _) = s.call_in(&org, "POST", POLICY, Some(policy.clone())).await;
    assert_eq!(status, 200);
    let stored = count(&s).await;
    let (status, got) = s.call_in(&org, "POST", POLICY, Some(policy)).await;
    assert_eq!(
        (status, got),
        (409, rest_error(6, "Org-Dgfb2", "Login Policy already exists"))
    );
    let (status, got) = s.call_in(&org, "PUT", POLICY, Some(json!({"forceMfa": true}))).await;
    assert_eq!(
        (status, got),
        (400, rest_error(9, "Org-5M9vdd", "Errors.Org.LoginPolicy.NotChanged"))
    );
    let (status, got) = s
        .call_in(
            &org,
            "PUT",
            POLICY,
            Some(json!({"forceMfa": true, "defaultRedirectUri": "x"})),
        )
        .await;
    assert_eq!(
        (status, got),
        (400, rest_error(3, "Org-Sfd21", "Default Redirect URI is invalid"))
    );
    let (status, got) = s.call_in(&org, "POST", SECOND, Some(json!({"type": 1}))).await;
    assert_eq!(
        (status, got),
        (409, rest_error(6, "Org-2B0ps", "Multifactor already exists"))
    );
    let (status, got) = s.call_in(&org, "DELETE", &format!("{SECOND}/2"), None).await;
    assert_eq!(
        (status, got),
        (404, rest_error(5, "Org-3M9od", "Multifactor not existing"))
    );
    let (status, got) = s.call_in(&org, "POST", MULTI, Some(json!({"type": 1}))).await;
    assert_eq!(
        (status, got),
        (409, rest_error(6, "Org-3M9od", "Multifactor already exists"))
    );
    let (status, got) = s.call_in(&org, "POST", SECOND, Some(json!({"type": 0}))).await;
    assert_eq!(status, 400);
    assert_eq!(
        got["message"],
        "invalid AddSecondFactorToLoginPolicyRequest.Type: value must not be in list [0]"
    );
    assert_eq!(count(&s).await, stored, "failed calls store nothing");

    let (status, _) = s.call_in(&org, "DELETE", &format!("{MULTI}/1"), None).await;
    assert_eq!(status, 200);
    let (status, got) = s.call_in(&org, "DELETE", &format!("{MULTI}/1"), None).await;
    assert_eq!(
        (status, got),
        (404, rest_error(5, "Org-3M9df", "Multifactor not existing"))
    );
    let (status, got) = s.call_in(&org, "PUT", POLICY, Some(json!({"forceMfa": false}))).await;
    assert_eq!(status, 200, "{got}");
    assert!(got["details"]["changeDate"].is_string());
}

async fn custom_policy_over_grpc(b: Backend) {
    let s = Server::start(b).await;
    let org = s.create_org("Grpc Org").await;
    let mut m = s.management().await;
    fn in_org<T>(org: &str, msg: T) -> tonic::Request<T> {
        let mut r = tonic::Request::new(msg);
        r.metadata_mut().insert("x-zitadel-orgid", org.parse().unwrap());
        r
    }

    let err = m
        .add_second_factor_to_login_policy(in_org(&org, AddSecondFactorToLoginPolicyRequest { r#type: 3 }))
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), error_id(&err).as_str()),
        (Code::FailedPrecondition, "Org-4Rf9x")
    );

    m.add_custom_login_policy(in_org(
        &org,
        AddCustomLoginPolicyRequest {
            second_factors: vec![2, 3],
            ..Default::default()
        },
    ))
    .await
    .unwrap();
    let list = m
        .list_login_policy_second_factors(in_org(&org, ListLoginPolicySecondFactorsRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(list.result, vec![2, 3]);

    let err = m
        .add_second_factor_to_login_policy(in_org(&org, AddSecondFactorToLoginPolicyRequest { r#type: 3 }))
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), error_id(&err).as_str()),
        (Code::AlreadyExists, "Org-2B0ps")
    );
    let err = m
        .remove_multi_factor_from_login_policy(in_org(&org, RemoveMultiFactorFromLoginPolicyRequest { r#type: 1 }))
        .await
        .unwrap_err();
    assert_eq!((err.code(), error_id(&err).as_str()), (Code::NotFound, "Org-3M9df"));
    let err = m
        .add_custom_login_policy(in_org(&org, AddCustomLoginPolicyRequest::default()))
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), error_id(&err).as_str()),
        (Code::AlreadyExists, "Org-Dgfb2")
    );

    let got = m
        .get_login_policy(in_org(&org, GetLoginPolicyRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert!(!got.is_default);
    assert_eq!(got.policy.unwrap().details.unwrap().resource_owner, org);

    m.reset_login_policy_to_default(in_org(&org, ResetLoginPolicyToDefaultRequest {}))
        .await
        .unwrap();
    let got = m
        .get_login_policy(in_org(&org, GetLoginPolicyRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert!(got.is_default);
    assert_eq!(got.policy.unwrap().second_factors, vec![1, 2]);
}
