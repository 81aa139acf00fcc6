//! Orgs, machine users, personal access tokens and memberships.

use serde_json::json;

use crate::harness::{Backend, Server, backend_tests, rest_error};

backend_tests!(
    orgs,
    machine_users_and_tokens,
    token_expiry_is_honoured,
    org_members,
    iam_members
);

async fn orgs(b: Backend) {
    let s = Server::start(b).await;
    let (status, body) = s
        .call("POST", "/management/v1/orgs", Some(json!({"name": "ACME Corp"})))
        .await;
    assert_eq!(status, 200);
    let id = body["id"].as_str().unwrap().to_owned();
    assert_eq!(body["details"]["resourceOwner"], id);
    assert!(body["details"]["creationDate"].is_string() && body["details"].get("changeDate").is_none());

    for name in ["ACME Corp", "acme corp", " ACME Corp "] {
        let (status, got) = s.call("POST", "/management/v1/orgs", Some(json!({"name": name}))).await;
        assert_eq!(
            (status, got),
            (
                409,
                rest_error(6, "V3-DKcYh", "Organisation's name or id already taken")
            ),
            "{name}"
        );
    }
    let (status, got) = s
        .call("POST", "/management/v1/orgs", Some(json!({"name": "   "})))
        .await;
    assert_eq!(
        (status, got),
        (400, rest_error(3, "EVENT-Mf9sd", "Organisation is invalid"))
    );
    let (status, got) = s.call("POST", "/management/v1/orgs", Some(json!({}))).await;
    assert_eq!(status, 400);
    assert_eq!(
        got["message"],
        "invalid AddOrgRequest.Name: value length must be between 1 and 200 runes, inclusive"
    );
    assert_eq!(s.count_events("org.added").await, 2, "setup org + ACME");

    let (status, got) = s.call("GET", &format!("/admin/v1/orgs/{id}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(got["org"]["name"], "ACME Corp");
    assert_eq!(got["org"]["primaryDomain"], "acme-corp.localhost");
    let (status, got) = s.call("GET", "/admin/v1/orgs/404404", None).await;
    assert_eq!(
        (status, got),
        (404, rest_error(5, "QUERY-leq5Q", "Organisation not found"))
    );

    let (status, list) = s.call("POST", "/admin/v1/orgs/_search", Some(json!({}))).await;
    assert_eq!(status, 200);
    assert_eq!(list["details"]["totalResult"], "2");
    let (_, list) = s
        .call(
            "POST",
            "/admin/v1/orgs/_search",
            Some(json!({"queries": [{"nameQuery": {"name": "acme", "method": "TEXT_QUERY_METHOD_STARTS_WITH_IGNORE_CASE"}}]})),
        )
        .await;
    assert_eq!(list["result"].as_array().unwrap().len(), 1);
    assert_eq!(list["result"][0]["id"], id);

    // The creator owns the new org.
    let (status, members) = s
        .call_in_json(&id, "POST", "/management/v1/orgs/me/members/_search")
        .await;
    assert_eq!(status, 200);
    assert_eq!(members["result"][0]["roles"], json!(["ORG_OWNER"]));
    assert_eq!(members["result"][0]["preferredLoginName"], "admin");
}

impl Server {
    async fn call_in_json(&self, org: &str, method: &str, path: &str) -> (u16, serde_json::Value) {
        self.call_in(org, method, path, Some(json!({}))).await
    }
}

async fn machine_users_and_tokens(b: Backend) {
    let s = Server::start(b).await;
    let org = s.create_org("Robots").await;
    let (status, body) = s
        .call_in(
            &org,
            "POST",
            "/management/v1/users/machine",
            Some(json!({"userName": "bot", "name": "Bot", "description": "builds"})),
        )
        .await;
    assert_eq!(status, 200);
    let bot = body["userId"].as_str().unwrap().to_owned();
    assert_eq!(body["details"]["resourceOwner"], org);
    assert!(body["details"]["changeDate"].is_string() && body["details"].get("creationDate").is_none());

    let (status, got) = s
        .call_in(&org, "GET", &format!("/management/v1/users/{bot}"), None)
        .await;
    assert_eq!(status, 200);
    let u = &got["user"];
    assert_eq!(
        (u["userName"].clone(), u["state"].clone()),
        (json!("bot"), json!("USER_STATE_ACTIVE"))
    );
    assert_eq!(u["machine"], json!({"name": "Bot", "description": "builds"}));
    let (status, got) = s.call("GET", &format!("/management/v1/users/{bot}"), None).await;
    assert_eq!(
        (status, got),
        (404, rest_error(5, "QUERY-Dfbg2", "User could not be found")),
        "other org: exactly as an unknown user"
    );

    // User names are unique in the instance, whatever the case.
    let (status, got) = s
        .call(
            "POST",
            "/management/v1/users/machine",
            Some(json!({"userName": "BOT", "name": "x"})),
        )
        .await;
    assert_eq!((status, got), (409, rest_error(6, "V3-DKcYh", "User already exists")));
    let (status, got) = s
        .call(
            "POST",
            "/management/v1/users/machine",
            Some(json!({"userName": " ", "name": "x"})),
        )
        .await;
    assert_eq!(
        (status, got),
        (400, rest_error(3, "COMMAND-bs9Ds", "Userdata is invalid"))
    );
    let (status, got) = s
        .call_in(
            &org,
            "POST",
            "/management/v1/users/machine",
            Some(json!({"userName": "b2", "name": "x", "userId": bot})),
        )
        .await;
    assert_eq!(
        (status, got),
        (400, rest_error(9, "COMMAND-k2una", "Errors.User.AlreadyExisting"))
    );

    // Tokens: returned once, listed without the secret, removable.
    let pats = format!("/management/v1/users/{bot}/pats");
    let (status, t1) = s.call_in(&org, "POST", &pats, Some(json!({}))).await;
    assert_eq!(status, 200);
    let token1 = t1["token"].as_str().unwrap().to_owned();
    let (status, t2) = s
        .call_in(
            &org,
            "POST",
            &pats,
            Some(json!({"expirationDate": "2099-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(status, 200);
    let token2 = t2["token"].as_str().unwrap().to_owned();
    let (status, got) = s
        .call_in(
            &org,
            "POST",
            &pats,
            Some(json!({"expirationDate": "2001-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(
        (status, got),
        (400, rest_error(3, "DOMAIN-dv3t5", "Errors.AuthNKey.ExpireBeforeNow"))
    );
    let (status, got) = s.call("POST", &pats, Some(json!({}))).await;
    assert_eq!(
        (status, got),
        (400, rest_error(9, "COMMAND-Dggw2", "User could not be found")),
        "other org"
    );

    let (status, list) = s
        .call_in(&org, "POST", &format!("{pats}/_search"), Some(json!({})))
        .await;
    assert_eq!(status, 200);
    assert_eq!(list["details"]["totalResult"], "2");
    assert_eq!(list["result"][0]["expirationDate"], "9999-12-31T23:59:59Z");
    assert_eq!(list["result"][1]["expirationDate"], "2099-01-01T00:00:00Z");
    assert!(!list.to_string().contains(&token1), "secrets are never listed");

    // The bot has no membership yet: 404, as ZITADEL answers.
    let (status, got) = s
        .call_as(&token1, None, "GET", "/management/v1/policies/login", None)
        .await;
    assert_eq!(
        (status, got),
        (404, rest_error(5, "AUTHZ-cdgFk", "membership not found"))
    );

    let t1_id = t1["tokenId"].as_str().unwrap();
    let (status, _) = s.call_in(&org, "DELETE", &format!("{pats}/{t1_id}"), None).await;
    assert_eq!(status, 200);
    let (status, got) = s
        .call_as(&token1, None, "GET", "/management/v1/policies/login", None)
        .await;
    assert_eq!(
        (status, got),
        (401, rest_error(16, "AUTH-7fs1e", "Errors.Token.Invalid"))
    );
    let (status, got) = s.call_in(&org, "DELETE", &format!("{pats}/{t1_id}"), None).await;
    assert_eq!(
        (status, got),
        (404, rest_error(5, "COMMAND-4m77G", "Personal Access Token not found"))
    );

    // Removing the user ends its tokens and memberships and frees its name.
    s.add_org_member(&org, &bot, &["ORG_OWNER"]).await;
    let (status, _) = s
        .call_as(&token2, None, "GET", "/management/v1/policies/login", None)
        .await;
    assert_eq!(status, 200);
    let (status, got) = s.call("DELETE", &format!("/management/v1/users/{bot}"), None).await;
    assert_eq!(
        (status, got),
        (404, rest_error(5, "COMMAND-m9od", "User could not be found")),
        "other org"
    );
    let (status, _) = s
        .call_in(&org, "DELETE", &format!("/management/v1/users/{bot}"), None)
        .await;
    assert_eq!(status, 200);
    let (status, _) = s
        .call_as(&token2, None, "GET", "/management/v1/policies/login", None)
        .await;
    assert_eq!(status, 401);
    let (_, members) = s
        .call_in(&org, "POST", "/management/v1/orgs/me/members/_search", Some(json!({})))
        .await;
    assert!(!members.to_string().contains(&bot), "{members}");
    assert_eq!(s.count_events("org.member.cascade.removed").await, 1);
    let (status, _) = s
        .call_in(&org, "GET", &format!("/management/v1/users/{bot}"), None)
        .await;
    assert_eq!(status, 404);
    s.create_machine(&org, "bot").await;
}

async fn token_expiry_is_honoured(b: Backend) {
    let s = Server::start(b).await;
    let org = s.my_org_id().await;
    let bot = s.create_machine(&org, "shortlived").await;
    s.add_org_member(&org, &bot, &["ORG_OWNER_VIEWER"]).await;
    let soon = std::time::SystemTime::now() + std::time::Duration::from_secs(2);
    let secs = soon.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let (status, t) = s
        .call(
            "POST",
            &format!("/management/v1/users/{bot}/pats"),
            Some(json!({"expirationDate": {"seconds": secs}})),
        )
        .await;
    // protojson takes timestamps as RFC 3339 strings only.
    assert_eq!(status, 400, "{t}");
    let rfc3339 = time_rfc3339(secs);
    let (status, t) = s
        .call(
            "POST",
            &format!("/management/v1/users/{bot}/pats"),
            Some(json!({"expirationDate": rfc3339})),
        )
        .await;
    assert_eq!(status, 200, "{t}");
    let token = t["token"].as_str().unwrap();
    let (status, _) = s
        .call_as(token, None, "GET", "/management/v1/policies/login", None)
        .await;
    assert_eq!(status, 200);
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let (status, _) = s
        .call_as(token, None, "GET", "/management/v1/policies/login", None)
        .await;
    assert_eq!(status, 401, "expired");
}

/// Unix seconds as RFC 3339 (UTC), without a date library.
fn time_rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

async fn org_members(b: Backend) {
    let s = Server::start(b).await;
    let org = s.create_org("Members").await;
    let bot = s.create_machine(&org, "member").await;
    let members = "/management/v1/orgs/me/members";

    for (body, status, expected) in [
        (
            json!({"userId": bot, "roles": []}),
            400,
            rest_error(3, "ORG-4Mlfs", "Errors.Invalid.Argument"),
        ),
        (
            json!({"userId": bot, "roles": ["ORG_BOSS"]}),
            400,
            rest_error(3, "Org-4N8es", "Errors.Org.MemberInvalid"),
        ),
        (
            json!({"userId": bot, "roles": ["IAM_OWNER"]}),
            400,
            rest_error(3, "Org-4N8es", "Errors.Org.MemberInvalid"),
        ),
        (
            json!({"userId": "999", "roles": ["ORG_OWNER"]}),
            400,
            rest_error(9, "ORG-GoXOn", "User could not be found"),
        ),
    ] {
        let (got_status, got) = s.call_in(&org, "POST", members, Some(body.clone())).await;
        assert_eq!((got_status, got), (status, expected), "{body}");
    }
    let (status, got) = s
        .call_in(
            &org,
            "POST",
            members,
            Some(json!({"userId": bot, "roles": ["ORG_USER_MANAGER"]})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(got["details"]["resourceOwner"], org);
    let (status, got) = s
        .call_in(
            &org,
            "POST",
            members,
            Some(json!({"userId": bot, "roles": ["ORG_OWNER"]})),
        )
        .await;
    assert_eq!(
        (status, got),
        (409, rest_error(6, "ORG-poWwe", "Errors.Org.Member.AlreadyExists"))
    );

    let (status, _) = s
        .call_in(
            &org,
            "PUT",
            &format!("{members}/{bot}"),
            Some(json!({"roles": ["ORG_OWNER", "ORG_USER_MANAGER"]})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, got) = s
        .call_in(
            &org,
            "PUT",
            &format!("{members}/{bot}"),
            Some(json!({"roles": ["ORG_USER_MANAGER", "ORG_OWNER"]})),
        )
        .await;
    assert_eq!(
        (status, got),
        (400, rest_error(9, "Org-LiaZi", "Errors.Org.Member.RolesNotChanged"))
    );

    let (status, list) = s
        .call_in(
            &org,
            "POST",
            &format!("{members}/_search"),
            Some(json!({"queries": [{"userIdQuery": {"userId": bot}}]})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(list["details"]["totalResult"], "1");
    let m = &list["result"][0];
    assert_eq!(m["roles"], json!(["ORG_OWNER", "ORG_USER_MANAGER"]));
    assert_eq!(
        (m["userType"].clone(), m["userResourceOwner"].clone()),
        (json!("TYPE_MACHINE"), json!(org))
    );

    let (status, _) = s.call_in(&org, "DELETE", &format!("{members}/{bot}"), None).await;
    assert_eq!(status, 200);
    // Removing a non-member is not an error.
    let (status, got) = s.call_in(&org, "DELETE", &format!("{members}/{bot}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(got["details"]["resourceOwner"], org);
    let (status, got) = s
        .call_in(
            &org,
            "PUT",
            &format!("{members}/{bot}"),
            Some(json!({"roles": ["ORG_OWNER"]})),
        )
        .await;
    assert_eq!((status, got["details"][0]["id"].clone()), (404, json!("Org-D8JxR")));
}

async fn iam_members(b: Backend) {
    let s = Server::start(b).await;
    let org = s.my_org_id().await;
    let bot = s.create_machine(&org, "viewer").await;
    let (status, got) = s
        .call(
            "POST",
            "/admin/v1/members",
            Some(json!({"userId": bot, "roles": ["ORG_OWNER"]})),
        )
        .await;
    assert_eq!(
        (status, got),
        (400, rest_error(3, "INSTANCE-4m0fS", "Member is invalid"))
    );
    let (status, got) = s
        .call(
            "POST",
            "/admin/v1/members",
            Some(json!({"userId": "1", "roles": ["IAM_OWNER_VIEWER"]})),
        )
        .await;
    assert_eq!(
        (status, got),
        (400, rest_error(9, "INSTA-GSXOn", "User could not be found"))
    );
    s.add_iam_member(&bot, &["IAM_OWNER_VIEWER"]).await;
    let (status, got) = s
        .call(
            "POST",
            "/admin/v1/members",
            Some(json!({"userId": bot, "roles": ["IAM_OWNER_VIEWER"]})),
        )
        .await;
    assert_eq!(
        (status, got),
        (
            409,
            rest_error(6, "INSTA-pFDwe", "Errors.Instance.Member.AlreadyExists")
        )
    );

    let (status, list) = s.call("POST", "/admin/v1/members/_search", Some(json!({}))).await;
    assert_eq!(status, 200);
    assert_eq!(list["details"]["totalResult"], "2");
    let roles: Vec<_> = list["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["roles"][0].clone())
        .collect();
    assert_eq!(roles, vec![json!("IAM_OWNER"), json!("IAM_OWNER_VIEWER")]);

    let (status, _) = s
        .call(
            "PUT",
            &format!("/admin/v1/members/{bot}"),
            Some(json!({"roles": ["IAM_ORG_MANAGER"]})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = s.call("DELETE", &format!("/admin/v1/members/{bot}"), None).await;
    assert_eq!(status, 200);
    let (_, list) = s.call("POST", "/admin/v1/members/_search", Some(json!({}))).await;
    assert_eq!(list["details"]["totalResult"], "1");
}
