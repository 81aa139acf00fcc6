//! The login client (ZITADEL's Login v2 app): a machine user with a PAT and
//! only the instance role IAM_LOGIN_CLIENT signs a user in — finds it by
//! login name, reads the settings, creates the session with user and
//! password, adds TOTP — and is refused what the role does not grant.

use serde_json::{Value, json};

use crate::fixtures::{PASSWORD, totp};
use crate::harness::{Backend, Server, backend_tests, rest_error};
use crate::sessions::{enrolled, fresh_step};

backend_tests!(login_client_signs_a_user_in, other_orgs_users_stay_invisible);

/// The login client's PAT (v2 AddPersonalAccessToken, set up by the admin).
async fn login_client(s: &Server) -> String {
    let my_org = s.my_org_id().await;
    let client = s.create_machine(&my_org, "login-client").await;
    s.add_iam_member(&client, &["IAM_LOGIN_CLIENT"]).await;
    let (status, got) = s
        .call(
            "POST",
            &format!("/v2/users/{client}/pats"),
            Some(json!({"expirationDate": "2999-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    got["token"].as_str().unwrap().to_owned()
}

fn user_ids(got: &Value) -> Vec<String> {
    got["result"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|u| u["userId"].as_str().unwrap().to_owned())
        .collect()
}

async fn login_client_signs_a_user_in(b: Backend) {
    let s = Server::start(b).await;
    let bank = s.create_org("Bank").await;
    let t = fresh_step().await;
    let (alice, seed) = enrolled(&s, Some(&bank), "alice", t).await;
    let client = login_client(&s).await;
    let call = |method: &'static str, path: String, body: Option<Value>| {
        let (s, client) = (&s, &client);
        async move { s.call_as(client, None, method, &path, body).await }
    };

    // 1. The user by login name (any org of the instance).
    let (status, got) = call(
        "POST",
        "/v2/users".into(),
        Some(json!({"queries": [{"loginNameQuery": {"loginName": "alice", "method": "TEXT_QUERY_METHOD_EQUALS"}}]})),
    )
    .await;
    assert_eq!((status, user_ids(&got)), (200, vec![alice.clone()]), "{got}");
    let user = &got["result"][0];
    assert_eq!(user["preferredLoginName"], "alice");
    assert_eq!(user["details"]["resourceOwner"], json!(bank));
    // An unsupported query is refused, not ignored.
    let (status, got) = call(
        "POST",
        "/v2/users".into(),
        Some(json!({"queries": [{"metadataKeyFilter": {"key": "k"}}]})),
    )
    .await;
    assert_eq!(
        (status, got),
        (
            400,
            json!({"code": 3, "message": "metadataKeyFilter is not supported by Twofold"})
        )
    );

    // 2. The settings of the user's org, and the orgs.
    for path in [
        format!("/v2/settings/login?ctx.orgId={bank}"),
        format!("/v2/settings/password/complexity?ctx.orgId={bank}"),
        format!("/v2/settings/lockout?ctx.orgId={bank}"),
        "/v2/settings".to_owned(),
        "/v2/settings/security".to_owned(),
        "/v2/settings/hosted_login_translation?locale=en&instance=true".to_owned(),
    ] {
        let (status, got) = call("GET", path.clone(), None).await;
        assert_eq!(status, 200, "{path}: {got}");
    }
    let (status, got) = call("GET", format!("/v2/settings/login?ctx.orgId={bank}"), None).await;
    assert_eq!(
        (status, &got["settings"]["allowUsernamePassword"]),
        (200, &json!(true)),
        "{got}"
    );
    let (status, got) = call(
        "POST",
        "/v2/organizations/_search".into(),
        Some(json!({"queries": [{"idQuery": {"id": bank}}]})),
    )
    .await;
    assert_eq!((status, &got["result"][0]["name"]), (200, &json!("Bank")), "{got}");

    // 3. The session: user and password, then TOTP.
    let (status, got) = call(
        "POST",
        "/v2/sessions".into(),
        Some(json!({"checks": {"user": {"loginName": "alice"}, "password": {"password": PASSWORD}}})),
    )
    .await;
    assert_eq!(status, 201, "{got}");
    let session = got["sessionId"].as_str().unwrap().to_owned();
    let (status, got) = call(
        "PATCH",
        format!("/v2/sessions/{session}"),
        Some(json!({"checks": {"totp": {"code": totp(&seed, t)}}})),
    )
    .await;
    assert_eq!(status, 200, "{got}");
    let token = got["sessionToken"].as_str().unwrap().to_owned();
    let (status, got) = call("GET", format!("/v2/sessions/{session}"), None).await;
    assert_eq!(status, 200, "{got}");
    let factors = &got["session"]["factors"];
    assert_eq!(factors["user"]["id"], json!(alice));
    for factor in ["user", "password", "totp"] {
        assert!(factors[factor]["verifiedAt"].is_string(), "{factor}: {factors}");
    }
    // The session token now signs alice in.
    let (status, got) = s
        .call_as(&token, None, "GET", &format!("/v2/users/{alice}"), None)
        .await;
    assert_eq!((status, &got["user"]["userId"]), (200, &json!(alice)), "{got}");

    // 4. What the role does not grant.
    let denied = (403, rest_error(7, "AUTH-5mWD2", "No matching permissions found"));
    let refused: Vec<(&str, String, Option<Value>)> = vec![
        (
            "PUT",
            "/admin/v1/policies/login".into(),
            Some(json!({"allowUsernamePassword": false})),
        ),
        (
            "PUT",
            "/v2/policies/security".into(),
            Some(json!({"enableImpersonation": true})),
        ),
        (
            "PUT",
            "/v2/settings/hosted_login_translation".into(),
            Some(json!({"instance": true, "locale": "en", "translations": {}})),
        ),
        ("POST", "/v2/organizations".into(), Some(json!({"name": "Client Org"}))),
    ];
    for (method, path, body) in refused {
        let got = call(method, path.clone(), body).await;
        assert_eq!(got, denied, "{method} {path}");
    }
    // Org policies and users of Bank: no policy.write, no user.delete.
    let (status, got) = s
        .call_as(
            &client,
            Some(&bank),
            "PUT",
            "/management/v1/policies/login",
            Some(json!({"allowUsernamePassword": false})),
        )
        .await;
    assert_eq!((status, got), denied);
    let (status, got) = call("DELETE", format!("/v2/users/{alice}"), None).await;
    assert_eq!(
        (status, got),
        (403, rest_error(7, "AUTH-AWfge", "No matching permissions found"))
    );
    let (status, got) = call("DELETE", format!("/admin/v1/members/{alice}"), None).await;
    assert_eq!((status, got), denied, "no iam.member.delete");
    // Nothing of that changed anything: alice still signs in by password.
    let (status, _) = call(
        "POST",
        "/v2/sessions".into(),
        Some(json!({"checks": {"user": {"userId": alice}, "password": {"password": PASSWORD}}})),
    )
    .await;
    assert_eq!(status, 201);
}

/// ListUsers shows nobody of an org the caller may not read, whatever the
/// query; the login client (instance role) sees them all.
async fn other_orgs_users_stay_invisible(b: Backend) {
    let s = Server::start(b).await;
    let bank = s.create_org("Bank").await;
    let shop = s.create_org("Shop").await;
    let alice = s.create_human(Some(&bank), "alice").await;
    let sam = s.create_human(Some(&shop), "sam").await;
    let owner_shop = s.actor(&shop, "shop-owner", &["ORG_OWNER"], &[]).await;
    let client = login_client(&s).await;
    let queries = [
        json!([{"loginNameQuery": {"loginName": "alice"}}]),
        json!([{"inUserIdsQuery": {"userIds": [alice]}}]),
        json!([{"organizationIdQuery": {"organizationId": bank}}]),
        json!([{"notQuery": {"query": {"organizationIdQuery": {"organizationId": shop}}}}, {"typeQuery": {"type": "TYPE_HUMAN"}}]),
        json!([{"orQuery": {"queries": [
            {"emailQuery": {"emailAddress": "alice@example.com"}},
            {"userNameQuery": {"userName": "sam"}}
        ]}}]),
    ];
    for q in &queries {
        let body = Some(json!({ "queries": q }));
        let (status, got) = s.call_as(&owner_shop, None, "POST", "/v2/users", body.clone()).await;
        assert_eq!(status, 200, "{got}");
        assert!(!user_ids(&got).contains(&alice), "{q}: {got}");
        let (_, got) = s.call_as(&client, None, "POST", "/v2/users", body).await;
        assert!(user_ids(&got).contains(&alice), "{q}: {got}");
    }
    let (_, got) = s
        .call_as(
            &owner_shop,
            None,
            "POST",
            "/v2/users",
            Some(json!({"queries": queries[4]})),
        )
        .await;
    assert_eq!(user_ids(&got), vec![sam], "{got}");
    assert_eq!(got["details"]["totalResult"], "1", "the invisible are not counted");
}
