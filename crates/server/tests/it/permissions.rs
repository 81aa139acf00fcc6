//! Who may call what: role × API × own org / other org, with real tokens.

use serde_json::json;

use crate::harness::{Backend, Server, backend_tests};

backend_tests!(permission_table, org_owner_story);

async fn permission_table(b: Backend) {
    let s = Server::start(b).await;
    let own = s.create_org("Own").await;
    let other = s.create_org("Other").await;
    let actors = [
        ("iam_owner", s.actor(&own, "iam_owner", &[], &["IAM_OWNER"]).await),
        (
            "iam_viewer",
            s.actor(&own, "iam_viewer", &[], &["IAM_OWNER_VIEWER"]).await,
        ),
        (
            "iam_org_manager",
            s.actor(&own, "iam_org_manager", &[], &["IAM_ORG_MANAGER"]).await,
        ),
        ("org_owner", s.actor(&own, "org_owner", &["ORG_OWNER"], &[]).await),
        (
            "org_viewer",
            s.actor(&own, "org_viewer", &["ORG_OWNER_VIEWER"], &[]).await,
        ),
        (
            "org_settings",
            s.actor(&own, "org_settings", &["ORG_SETTINGS_MANAGER"], &[]).await,
        ),
        ("nobody", s.actor(&own, "nobody", &[], &[]).await),
    ];
    // Give "other" a custom policy so writes there can succeed.
    let (status, _) = s
        .call_in(&other, "POST", "/management/v1/policies/login", Some(json!({})))
        .await;
    assert_eq!(status, 200);

    let admin_read = ("GET", "/admin/v1/policies/login", None);
    let admin_write = ("PUT", "/admin/v1/policies/login", Some(json!({"allowRegister": true})));
    let org_read = ("GET", "/management/v1/policies/login", None);
    let org_write = (
        "POST",
        "/management/v1/policies/login/second_factors",
        Some(json!({"type": 3})),
    );
    let member_read = ("POST", "/management/v1/orgs/me/members/_search", Some(json!({})));

    // (actor, call, org context, expected status)
    let own_org = Some(own.as_str());
    let other_org = Some(other.as_str());
    let table = [
        ("iam_owner", admin_read.clone(), own_org, 200),
        ("iam_viewer", admin_read.clone(), own_org, 200),
        ("iam_viewer", admin_write.clone(), own_org, 403),
        ("iam_viewer", org_read.clone(), other_org, 200),
        ("iam_viewer", org_write.clone(), other_org, 403),
        ("iam_org_manager", admin_read.clone(), own_org, 403),
        ("iam_org_manager", org_write.clone(), other_org, 200),
        ("org_owner", org_read.clone(), own_org, 200),
        ("org_owner", member_read.clone(), own_org, 200),
        ("org_owner", org_read.clone(), other_org, 403),
        ("org_owner", org_write.clone(), other_org, 403),
        ("org_owner", admin_read.clone(), own_org, 403),
        ("org_viewer", org_read.clone(), own_org, 200),
        ("org_viewer", org_write.clone(), own_org, 403),
        ("org_settings", org_read.clone(), own_org, 200),
        ("org_settings", member_read.clone(), own_org, 200),
        ("org_settings", admin_read.clone(), own_org, 403),
        ("nobody", org_read.clone(), own_org, 404),
        ("nobody", admin_read.clone(), own_org, 404),
        ("iam_owner", admin_write.clone(), own_org, 200),
    ];
    for (who, (method, path, body), org, expected) in table {
        let token = &actors.iter().find(|(n, _)| *n == who).unwrap().1;
        let (status, got) = s.call_as(token, org, method, path, body).await;
        assert_eq!(status, expected, "{who} {method} {path} in {org:?}: {got}");
        let id = got["details"][0]["id"].clone();
        match status {
            403 => assert_eq!(id, "AUTH-5mWD2", "{who} {path}"),
            404 => assert_eq!(id, "AUTHZ-cdgFk", "{who} {path}"),
            _ => {}
        }
    }
}

/// The acceptance story: an IAM_OWNER sets up an org with its own owner.
async fn org_owner_story(b: Backend) {
    let s = Server::start(b).await;
    let home = s.my_org_id().await;
    let bank = s.create_org("Bank").await;
    let bot = s.create_machine(&bank, "bank-admin").await;
    let token = s.create_pat(&bank, &bot).await;
    s.add_org_member(&bank, &bot, &["ORG_OWNER"]).await;

    // Its own org (no header needed: the token's org is the context).
    let (status, got) = s.call_as(&token, None, "GET", "/management/v1/orgs/me", None).await;
    assert_eq!((status, got["org"]["id"].clone()), (200, json!(bank)));
    let (status, _) = s
        .call_as(
            &token,
            None,
            "POST",
            "/management/v1/policies/login",
            Some(json!({"secondFactors": [2]})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, got) = s
        .call_as(
            &token,
            None,
            "POST",
            "/management/v1/policies/login/second_factors/_search",
            None,
        )
        .await;
    assert_eq!(
        (status, got["result"].clone()),
        (200, json!(["SECOND_FACTOR_TYPE_U2F"]))
    );

    // Another org, and the Admin API: 403.
    let (status, got) = s
        .call_as(&token, Some(&home), "GET", "/management/v1/policies/login", None)
        .await;
    assert_eq!((status, got["details"][0]["id"].clone()), (403, json!("AUTH-5mWD2")));
    let (status, got) = s.call_as(&token, None, "GET", "/admin/v1/policies/login", None).await;
    assert_eq!((status, got["details"][0]["id"].clone()), (403, json!("AUTH-5mWD2")));

    // A token whose user has no membership at all: 404.
    let loner = s.create_machine(&bank, "loner").await;
    let loner_token = s.create_pat(&bank, &loner).await;
    let (status, got) = s
        .call_as(&loner_token, None, "GET", "/management/v1/policies/login", None)
        .await;
    assert_eq!((status, got["details"][0]["id"].clone()), (404, json!("AUTHZ-cdgFk")));
}
