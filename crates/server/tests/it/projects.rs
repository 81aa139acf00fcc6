//! Management API v1: projects, applications and machine-user secrets
//! (issue 13, item 1; contract part 3 §30), over REST and gRPC.

use serde_json::{Value, json};
use twofold_proto::zitadel::management::v1::*;

use crate::harness::{Backend, Server, backend_tests, error_id, rest_error};

backend_tests!(
    project_lifecycle,
    oidc_app_lifecycle,
    public_and_api_clients,
    other_orgs_projects_are_invisible,
    machine_secrets,
    list_queries_are_checked,
    apps_over_grpc
);

async fn add_project(s: &Server, org: &str, name: &str) -> String {
    let (status, got) = s
        .call_in(org, "POST", "/management/v1/projects", Some(json!({"name": name})))
        .await;
    assert_eq!(status, 200, "{got}");
    got["id"].as_str().unwrap().to_owned()
}

/// A confidential WEB app (BASIC auth): id, client id and secret.
async fn add_web_app(s: &Server, org: &str, project: &str, name: &str) -> (String, String, String) {
    let (status, got) = s
        .call_in(
            org,
            "POST",
            &format!("/management/v1/projects/{project}/apps/oidc"),
            Some(json!({"name": name, "redirectUris": ["https://shop.example/cb"]})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    let field = |k: &str| got[k].as_str().unwrap().to_owned();
    (field("appId"), field("clientId"), field("clientSecret"))
}

fn error(status: u16, code: i32, id: &str, message: &str) -> (u16, Value) {
    (status, rest_error(code, id, message))
}

async fn project_lifecycle(b: Backend) {
    let s = Server::start(b).await;
    let org = s.create_org("Acme").await;
    let (status, got) = s
        .call_in(
            &org,
            "POST",
            "/management/v1/projects",
            Some(json!({"name": "Shop", "projectRoleAssertion": true})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    let id = got["id"].as_str().unwrap().to_owned();
    assert_eq!(got["details"]["resourceOwner"], json!(org));
    assert_eq!(got["details"]["sequence"], "1");
    assert!(got["details"]["creationDate"].is_string() && got["details"].get("changeDate").is_none());
    assert_eq!(
        s.event_payloads("project.added").await,
        vec![json!({
            "name": "Shop", "projectRoleAssertion": true, "projectRoleCheck": false,
            "hasProjectCheck": false, "privateLabelingSetting": 0
        })]
    );

    let path = format!("/management/v1/projects/{id}");
    let (status, got) = s.call_in(&org, "GET", &path, None).await;
    assert_eq!(status, 200, "{got}");
    let project = &got["project"];
    assert_eq!(project["id"], json!(id));
    assert_eq!(project["name"], "Shop");
    assert_eq!(project["state"], "PROJECT_STATE_ACTIVE");
    assert_eq!(project["projectRoleAssertion"], true);
    assert_eq!(project.get("projectRoleCheck"), None, "false is omitted");
    assert_eq!(project["details"]["resourceOwner"], json!(org));

    // Names are unique per org, case-sensitively, and free in other orgs.
    let dup = s
        .call_in(&org, "POST", "/management/v1/projects", Some(json!({"name": "Shop"})))
        .await;
    assert_eq!(dup, error(409, 6, "V3-DKcYh", "Project already exists on organization"));
    add_project(&s, &org, "shop").await;
    let other = s.create_org("Other").await;
    add_project(&s, &other, "Shop").await;

    // Update: unchanged is 200 without an event; a rename frees the old name.
    let update = json!({"name": "Shop", "projectRoleAssertion": true});
    let (status, got) = s.call_in(&org, "PUT", &path, Some(update)).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(s.count_events("project.changed").await, 0);
    let (status, got) = s
        .call_in(
            &org,
            "PUT",
            &path,
            Some(json!({"name": "Store", "hasProjectCheck": true})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert!(got["details"]["changeDate"].is_string());
    assert_eq!(
        s.event_payloads("project.changed").await,
        vec![json!({"name": "Store", "projectRoleAssertion": false, "hasProjectCheck": true})]
    );
    add_project(&s, &org, "Shop").await;
    let (_, got) = s.call_in(&org, "GET", &path, None).await;
    assert_eq!(got["project"]["name"], "Store");

    // Deactivate / reactivate, each once.
    let deactivate = format!("{path}/_deactivate");
    let reactivate = format!("{path}/_reactivate");
    assert_eq!(
        s.call_in(&org, "POST", &reactivate, Some(json!({}))).await,
        error(400, 9, "COMMAND-5M9bs", "Project is not deactivated")
    );
    assert_eq!(s.call_in(&org, "POST", &deactivate, Some(json!({}))).await.0, 200);
    assert_eq!(
        s.call_in(&org, "POST", &deactivate, Some(json!({}))).await,
        error(400, 9, "COMMAND-mki55", "Project is not active")
    );
    let (_, got) = s.call_in(&org, "GET", &path, None).await;
    assert_eq!(got["project"]["state"], "PROJECT_STATE_INACTIVE");
    assert_eq!(s.call_in(&org, "POST", &reactivate, Some(json!({}))).await.0, 200);

    // Remove: gone, and its name is free again.
    let (status, got) = s.call_in(&org, "DELETE", &path, None).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(
        s.call_in(&org, "GET", &path, None).await,
        error(404, 5, "QUERY-fk2fs", "Project not found")
    );
    assert_eq!(
        s.call_in(&org, "DELETE", &path, None).await,
        error(404, 5, "COMMAND-3M9sd", "Project not found")
    );
    add_project(&s, &org, "Store").await;

    // Bad input is refused before anything is stored.
    let (status, got) = s
        .call_in(&org, "POST", "/management/v1/projects", Some(json!({"name": ""})))
        .await;
    assert_eq!(status, 400, "{got}");
    assert_eq!(
        got["message"],
        "invalid AddProjectRequest.Name: value length must be between 1 and 200 runes, inclusive"
    );
}

async fn oidc_app_lifecycle(b: Backend) {
    let s = Server::start(b).await;
    let org = s.create_org("Acme").await;
    let project = add_project(&s, &org, "Shop").await;
    let apps = format!("/management/v1/projects/{project}/apps");

    let (status, got) = s
        .call_in(
            &org,
            "POST",
            &format!("{apps}/oidc"),
            Some(json!({
                "name": "web",
                "redirectUris": [" https://shop.example/cb "],
                "postLogoutRedirectUris": ["https://shop.example/bye"],
                "grantTypes": ["OIDC_GRANT_TYPE_AUTHORIZATION_CODE", "OIDC_GRANT_TYPE_REFRESH_TOKEN"],
                "accessTokenType": "OIDC_TOKEN_TYPE_JWT",
                "idTokenUserinfoAssertion": true,
                "clockSkew": "2s",
                "additionalOrigins": ["https://admin.shop.example"],
                "devMode": true
            })),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    let app_id = got["appId"].as_str().unwrap().to_owned();
    let client_id = got["clientId"].as_str().unwrap().to_owned();
    let secret = got["clientSecret"].as_str().unwrap().to_owned();
    assert!(
        client_id.chars().all(|c| c.is_ascii_digit()),
        "a snowflake id: {client_id}"
    );
    assert_eq!(secret.len(), 43, "32 random bytes, base64url");
    assert_eq!(got.get("noneCompliant"), None);
    assert_eq!(got.get("complianceProblems"), None);
    assert_eq!(got["details"]["resourceOwner"], json!(org));
    // The secret is shown once: stored only as a keyed hash.
    assert!(!s.stored_text().await.contains(&secret));

    let app_path = format!("{apps}/{app_id}");
    let (status, got) = s.call_in(&org, "GET", &app_path, None).await;
    assert_eq!(status, 200, "{got}");
    assert!(!got.to_string().contains(&secret));
    let app = &got["app"];
    assert_eq!(
        (&app["id"], &app["name"], &app["state"]),
        (&json!(app_id), &json!("web"), &json!("APP_STATE_ACTIVE"))
    );
    assert_eq!(
        app["oidcConfig"],
        json!({
            "redirectUris": ["https://shop.example/cb"],
            "responseTypes": ["OIDC_RESPONSE_TYPE_CODE"],
            "grantTypes": ["OIDC_GRANT_TYPE_AUTHORIZATION_CODE", "OIDC_GRANT_TYPE_REFRESH_TOKEN"],
            "clientId": client_id,
            "postLogoutRedirectUris": ["https://shop.example/bye"],
            "devMode": true,
            "accessTokenType": "OIDC_TOKEN_TYPE_JWT",
            "idTokenUserinfoAssertion": true,
            "clockSkew": "2s",
            "additionalOrigins": ["https://admin.shop.example"],
            "allowedOrigins": ["https://shop.example", "https://admin.shop.example"]
        })
    );

    // An invalid redirect URI is refused, nothing stored.
    let before = s.count_events("project.application.added").await;
    for uri in ["/relative/cb", "https://shop.example/cb#fragment", "shop.example/cb"] {
        let got = s
            .call_in(
                &org,
                "POST",
                &format!("{apps}/oidc"),
                Some(json!({"name": "bad", "redirectUris": [uri]})),
            )
            .await;
        assert_eq!(got, error(400, 3, "PROJECT-1n8df", "Application invalid"), "{uri}");
    }
    let inconsistent = s
        .call_in(
            &org,
            "POST",
            &format!("{apps}/oidc"),
            Some(json!({"name": "bad", "responseTypes": ["OIDC_RESPONSE_TYPE_ID_TOKEN"]})),
        )
        .await;
    assert_eq!(inconsistent, error(400, 3, "PROJECT-1n8df", "Application invalid"));
    let (status, got) = s
        .call_in(
            &org,
            "POST",
            &format!("{apps}/oidc"),
            Some(json!({"name": "bad", "clockSkew": "6s"})),
        )
        .await;
    assert_eq!(
        (status, got["message"].as_str()),
        (
            400,
            Some("invalid AddOIDCAppRequest.ClockSkew: value must be inside range [0s, 5s]")
        )
    );
    assert_eq!(s.count_events("project.application.added").await, before);
    let dup = s
        .call_in(&org, "POST", &format!("{apps}/oidc"), Some(json!({"name": "web"})))
        .await;
    assert_eq!(dup, error(409, 6, "V3-DKcYh", "Application already exists"));

    // Update: changed keys only; unchanged is an error; empty URI lists stay.
    let config = format!("{app_path}/oidc_config");
    let update = json!({"appType": "OIDC_APP_TYPE_USER_AGENT", "authMethodType": "OIDC_AUTH_METHOD_TYPE_NONE",
        "grantTypes": ["OIDC_GRANT_TYPE_AUTHORIZATION_CODE", "OIDC_GRANT_TYPE_REFRESH_TOKEN"],
        "accessTokenType": "OIDC_TOKEN_TYPE_JWT", "idTokenUserinfoAssertion": true, "clockSkew": "2s", "devMode": true});
    let (status, got) = s.call_in(&org, "PUT", &config, Some(update.clone())).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(
        s.event_payloads("project.application.config.oidc.changed").await,
        vec![json!({"appId": app_id, "applicationType": 1, "authMethodType": 2})]
    );
    assert_eq!(
        s.call_in(&org, "PUT", &config, Some(update)).await,
        error(400, 9, "COMMAND-1m88i", "No changes")
    );
    let bad = s
        .call_in(&org, "PUT", &config, Some(json!({"redirectUris": ["relative"]})))
        .await;
    assert_eq!(bad, error(400, 3, "COMMAND-5m9fs", "OIDC configuration is invalid"));
    let (_, got) = s.call_in(&org, "GET", &app_path, None).await;
    let oidc = &got["app"]["oidcConfig"];
    assert_eq!(oidc["redirectUris"], json!(["https://shop.example/cb"]));
    assert_eq!(
        (&oidc["appType"], &oidc["authMethodType"]),
        (&json!("OIDC_APP_TYPE_USER_AGENT"), &json!("OIDC_AUTH_METHOD_TYPE_NONE"))
    );

    // Regenerate: a new secret, shown once.
    let (status, got) = s
        .call_in(
            &org,
            "POST",
            &format!("{config}/_generate_client_secret"),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    let new_secret = got["clientSecret"].as_str().unwrap();
    assert_eq!(new_secret.len(), 43);
    assert_ne!(new_secret, secret);
    assert_eq!(
        s.count_events("project.application.config.oidc.secret.changed").await,
        1
    );

    // Deactivate / reactivate, each once.
    let deactivate = format!("{app_path}/_deactivate");
    let reactivate = format!("{app_path}/_reactivate");
    assert_eq!(
        s.call_in(&org, "POST", &reactivate, Some(json!({}))).await,
        error(400, 9, "COMMAND-1n8cM", "Application is not inactive")
    );
    assert_eq!(s.call_in(&org, "POST", &deactivate, Some(json!({}))).await.0, 200);
    assert_eq!(
        s.call_in(&org, "POST", &deactivate, Some(json!({}))).await,
        error(400, 9, "COMMAND-dsh35", "Application is not active")
    );
    let (_, got) = s.call_in(&org, "GET", &app_path, None).await;
    assert_eq!(got["app"]["state"], "APP_STATE_INACTIVE");
    assert_eq!(s.call_in(&org, "POST", &reactivate, Some(json!({}))).await.0, 200);

    // Rename, then list with a name query.
    let second = add_web_app(&s, &org, &project, "backend").await;
    let (status, _) = s
        .call_in(&org, "PUT", &app_path, Some(json!({"name": "frontend"})))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        s.call_in(&org, "PUT", &app_path, Some(json!({"name": "frontend"})))
            .await,
        error(400, 9, "COMMAND-2m8vx", "No changes")
    );
    let (status, got) = s
        .call_in(&org, "POST", &format!("{apps}/_search"), Some(json!({})))
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["details"]["totalResult"], "2");
    let names: Vec<&Value> = got["result"].as_array().unwrap().iter().map(|a| &a["name"]).collect();
    assert_eq!(names, [&json!("frontend"), &json!("backend")]);
    let search =
        json!({"queries": [{"nameQuery": {"name": "BACK", "method": "TEXT_QUERY_METHOD_STARTS_WITH_IGNORE_CASE"}}]});
    let (_, got) = s.call_in(&org, "POST", &format!("{apps}/_search"), Some(search)).await;
    assert_eq!(got["result"].as_array().unwrap().len(), 1);
    assert_eq!(got["result"][0]["id"], json!(second.0));

    // Remove one app; removing the project removes the other with it.
    assert_eq!(s.call_in(&org, "DELETE", &app_path, None).await.0, 200);
    assert_eq!(
        s.call_in(&org, "GET", &app_path, None).await,
        error(404, 5, "QUERY-pCP8P", "Errors.App.NotExisting")
    );
    assert_eq!(
        s.call_in(&org, "DELETE", &app_path, None).await,
        error(404, 5, "COMMAND-0po9s", "Application doesn't exist")
    );
    assert_eq!(
        s.call_in(&org, "DELETE", &format!("/management/v1/projects/{project}"), None)
            .await
            .0,
        200
    );
    assert_eq!(s.count_events("project.application.removed").await, 2);
    assert_eq!(
        s.call_in(&org, "GET", &format!("{apps}/{}", second.0), None).await,
        error(404, 5, "QUERY-pCP8P", "Errors.App.NotExisting")
    );
}

async fn public_and_api_clients(b: Backend) {
    let s = Server::start(b).await;
    let org = s.create_org("Acme").await;
    let project = add_project(&s, &org, "Mobile").await;
    let apps = format!("/management/v1/projects/{project}/apps");
    // NATIVE + NONE: a public client, no secret, compliant with loopback http.
    let (status, got) = s
        .call_in(
            &org,
            "POST",
            &format!("{apps}/oidc"),
            Some(
                json!({"name": "app", "appType": "OIDC_APP_TYPE_NATIVE", "authMethodType": "OIDC_AUTH_METHOD_TYPE_NONE",
                "redirectUris": ["com.example.app:/cb", "http://127.0.0.1:7000/cb"]}),
            ),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got.get("clientSecret"), None, "{got}");
    assert_eq!(got.get("complianceProblems"), None, "{got}");
    let stored = &s.event_payloads("project.application.config.oidc.added").await[0];
    assert_eq!(stored.get("hashedSecret"), None);

    // A NATIVE app with a confidential method and a non-loopback http URI is
    // accepted with its compliance problems reported.
    let (status, got) = s
        .call_in(
            &org,
            "POST",
            &format!("{apps}/oidc"),
            Some(json!({"name": "lax", "appType": "OIDC_APP_TYPE_NATIVE", "redirectUris": ["http://shop.example/cb"]})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert!(got["clientSecret"].is_string());
    assert_eq!(got["noneCompliant"], true);
    let keys: Vec<&Value> = got["complianceProblems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["key"])
        .collect();
    assert_eq!(
        keys,
        [
            "Application.OIDC.V1.NotCompliant",
            "Application.OIDC.V1.NotCompliant",
            "Application.OIDC.V1.Native.RedirectUris.MustBeHttpLocalhost",
            "Application.OIDC.V1.Native.AuthMethodType.NotNone"
        ]
    );
    assert_eq!(
        got["complianceProblems"][3]["localizedMessage"],
        "Native applications should have authmethodtype none."
    );

    // API apps: BASIC gets a secret, PRIVATE_KEY_JWT none.
    let (status, got) = s
        .call_in(&org, "POST", &format!("{apps}/api"), Some(json!({"name": "api"})))
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["clientSecret"].as_str().unwrap().len(), 43);
    let api_id = got["appId"].as_str().unwrap().to_owned();
    let (status, got) = s
        .call_in(
            &org,
            "POST",
            &format!("{apps}/api"),
            Some(json!({"name": "jwt", "authMethodType": "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"})),
        )
        .await;
    assert_eq!((status, got.get("clientSecret")), (200, None), "{got}");
    let (_, got) = s.call_in(&org, "GET", &format!("{apps}/{api_id}"), None).await;
    assert!(
        got["app"]["apiConfig"]["clientId"]
            .as_str()
            .is_some_and(|c| !c.is_empty()),
        "{got}"
    );
    assert_eq!(got["app"].get("oidcConfig"), None);
    // API config: a new auth method once, a new secret (the old one is gone).
    let api_config = format!("{apps}/{api_id}/api_config");
    let change = json!({"authMethodType": "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"});
    assert_eq!(s.call_in(&org, "PUT", &api_config, Some(change.clone())).await.0, 200);
    assert_eq!(
        s.call_in(&org, "PUT", &api_config, Some(change)).await,
        error(400, 9, "COMMAND-1m88i", "No changes")
    );
    assert_eq!(
        s.event_payloads("project.application.config.api.changed").await,
        vec![json!({"appId": api_id, "authMethodType": 1})]
    );
    let (status, got) = s
        .call_in(
            &org,
            "POST",
            &format!("{api_config}/_generate_client_secret"),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (status, got["clientSecret"].as_str().map(str::len)),
        (200, Some(43)),
        "{got}"
    );
    // The OIDC calls refuse API apps, and the API calls OIDC apps.
    let (oidc_id, _, _) = add_web_app(&s, &org, &project, "web").await;
    let got = s
        .call_in(&org, "PUT", &format!("{apps}/{oidc_id}/api_config"), Some(json!({})))
        .await;
    assert_eq!(got, error(400, 3, "COMMAND-Gnwt3", "Application is not type API"));
    let got = s
        .call_in(
            &org,
            "POST",
            &format!("{apps}/{oidc_id}/api_config/_generate_client_secret"),
            Some(json!({})),
        )
        .await;
    assert_eq!(got, error(400, 3, "COMMAND-aeH4", "Application is not type API"));
    let got = s
        .call_in(&org, "PUT", &format!("{apps}/{api_id}/oidc_config"), Some(json!({})))
        .await;
    assert_eq!(got, error(400, 3, "COMMAND-GBr34", "Application is not type OIDC"));
    let got = s
        .call_in(
            &org,
            "POST",
            &format!("{apps}/{api_id}/oidc_config/_generate_client_secret"),
            Some(json!({})),
        )
        .await;
    assert_eq!(got, error(400, 3, "COMMAND-Ghrh3", "Application is not type OIDC"));
}

async fn other_orgs_projects_are_invisible(b: Backend) {
    let s = Server::start(b).await;
    let org_a = s.create_org("Org A").await;
    let org_b = s.create_org("Org B").await;
    let owner_a = s.actor(&org_a, "owner-a", &["ORG_OWNER"], &[]).await;
    let project_b = add_project(&s, &org_b, "Secret project").await;
    let (app_b, _, _) = add_web_app(&s, &org_b, &project_b, "web").await;
    let own = {
        let (status, got) = s
            .call_as(
                &owner_a,
                None,
                "POST",
                "/management/v1/projects",
                Some(json!({"name": "Mine"})),
            )
            .await;
        assert_eq!(status, 200, "{got}");
        got["id"].as_str().unwrap().to_owned()
    };

    let as_a = |method: &'static str, path: String, body: Option<Value>| {
        let (s, token) = (&s, owner_a.clone());
        async move { s.call_as(&token, None, method, &path, body).await }
    };
    let project_path = format!("/management/v1/projects/{project_b}");
    assert_eq!(
        as_a("GET", project_path.clone(), None).await,
        error(404, 5, "QUERY-fk2fs", "Project not found")
    );
    assert_eq!(
        as_a("PUT", project_path.clone(), Some(json!({"name": "Mine now"}))).await,
        error(404, 5, "COMMAND-3M9sd", "Project not found")
    );
    assert_eq!(
        as_a("DELETE", project_path.clone(), None).await,
        error(404, 5, "COMMAND-3M9sd", "Project not found")
    );
    assert_eq!(
        as_a("GET", format!("{project_path}/apps/{app_b}"), None).await,
        error(404, 5, "QUERY-pCP8P", "Errors.App.NotExisting")
    );
    assert_eq!(
        as_a("POST", format!("{project_path}/apps/_search"), Some(json!({}))).await,
        error(404, 5, "QUERY-fk2fs", "Project not found")
    );
    assert_eq!(
        as_a("POST", format!("{project_path}/apps/oidc"), Some(json!({"name": "x"}))).await,
        error(400, 9, "COMMAND-EbFMN", "Project not found")
    );
    assert_eq!(
        as_a(
            "POST",
            format!("{project_path}/apps/{app_b}/_deactivate"),
            Some(json!({}))
        )
        .await,
        error(404, 5, "COMMAND-ov9d3", "Application doesn't exist")
    );
    let (status, got) = as_a("POST", "/management/v1/projects/_search".into(), Some(json!({}))).await;
    assert_eq!(status, 200);
    assert_eq!(got["details"]["totalResult"], "1");
    assert_eq!(got["result"][0]["id"], json!(own));
    // Naming B as resource owner finds nothing either.
    let search = json!({"queries": [{"projectResourceOwnerQuery": {"resourceOwner": org_b}}]});
    let (_, got) = as_a("POST", "/management/v1/projects/_search".into(), Some(search)).await;
    assert_eq!(got["details"].get("totalResult"), None, "{got}");
    // B's project is untouched.
    let (_, got) = s.call_in(&org_b, "GET", &project_path, None).await;
    assert_eq!(got["project"]["name"], "Secret project");

    // ORG_OWNER writes apps but may not remove them (project.app.delete).
    let (app_a, _, _) = add_web_app(&s, &org_a, &own, "web").await;
    let app_a_path = format!("/management/v1/projects/{own}/apps/{app_a}");
    assert_eq!(
        as_a("DELETE", app_a_path.clone(), None).await,
        error(403, 7, "AUTH-5mWD2", "No matching permissions found")
    );
    assert_eq!(
        as_a("POST", format!("{app_a_path}/_deactivate"), Some(json!({})))
            .await
            .0,
        200
    );
    let viewer = s.actor(&org_a, "viewer-a", &["ORG_OWNER_VIEWER"], &[]).await;
    let (status, _) = s.call_as(&viewer, None, "GET", &app_a_path, None).await;
    assert_eq!(status, 200);
    let (status, _) = s
        .call_as(
            &viewer,
            None,
            "POST",
            "/management/v1/projects",
            Some(json!({"name": "No"})),
        )
        .await;
    assert_eq!(status, 403);
}

async fn machine_secrets(b: Backend) {
    let s = Server::start(b).await;
    let org = s.create_org("Acme").await;
    let machine = s.create_machine(&org, "svc").await;
    let path = format!("/management/v1/users/{machine}/secret");
    let (status, got) = s.call_in(&org, "PUT", &path, Some(json!({}))).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["clientId"], "svc");
    let first = got["clientSecret"].as_str().unwrap().to_owned();
    assert_eq!(first.len(), 43);
    assert_eq!(got["details"]["resourceOwner"], json!(org));
    assert!(!s.stored_text().await.contains(&first));
    let (status, got) = s.call_in(&org, "PUT", &path, Some(json!({}))).await;
    assert_eq!(status, 200);
    assert_ne!(
        got["clientSecret"].as_str().unwrap(),
        first,
        "a new secret replaces the old"
    );
    assert_eq!(s.count_events("user.machine.secret.set").await, 2);

    assert_eq!(s.call_in(&org, "DELETE", &path, None).await.0, 200);
    assert_eq!(s.count_events("user.machine.secret.removed").await, 1);
    assert_eq!(
        s.call_in(&org, "DELETE", &path, None).await,
        error(400, 9, "COMMAND-coi82n", "Secret doesn't exist")
    );

    // Humans, unknown users and users of other orgs have none.
    let human = s.create_human(Some(&org), "alice").await;
    let other = s.create_org("Other").await;
    for user in [human.as_str(), "999999999999999999"] {
        let got = s
            .call_in(
                &org,
                "PUT",
                &format!("/management/v1/users/{user}/secret"),
                Some(json!({})),
            )
            .await;
        assert_eq!(
            got,
            error(400, 9, "COMMAND-x8910n", "Errors.User.NotExisting"),
            "{user}"
        );
    }
    let got = s.call_in(&other, "PUT", &path, Some(json!({}))).await;
    assert_eq!(got, error(400, 9, "COMMAND-x8910n", "Errors.User.NotExisting"));
    let got = s.call_in(&other, "DELETE", &path, None).await;
    assert_eq!(got, error(400, 9, "COMMAND-x7s802", "Errors.User.NotExisting"));
}

async fn list_queries_are_checked(b: Backend) {
    let s = Server::start(b).await;
    let org = s.create_org("Acme").await;
    add_project(&s, &org, "Shop").await;
    add_project(&s, &org, "Blog").await;
    let search = |body: Value| {
        let (s, org) = (&s, org.clone());
        async move {
            s.call_in(&org, "POST", "/management/v1/projects/_search", Some(body))
                .await
        }
    };
    let (status, got) =
        search(json!({"queries": [{"nameQuery": {"name": "sh", "method": "TEXT_QUERY_METHOD_CONTAINS_IGNORE_CASE"}}]}))
            .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["details"]["totalResult"], "1");
    assert_eq!(got["result"][0]["name"], "Shop");
    let (_, got) = search(json!({"query": {"limit": 1}})).await;
    assert_eq!(
        (
            got["details"]["totalResult"].as_str(),
            got["result"].as_array().map(Vec::len)
        ),
        (Some("2"), Some(1))
    );
    // An empty (or unknown) query kind is refused, not ignored.
    for q in [json!({}), json!({"stateQuery": {"state": 1}})] {
        let (status, got) = search(json!({"queries": [q]})).await;
        assert_eq!(status, 400, "{got}");
        assert_eq!(
            got["message"],
            "invalid ListProjectsRequest.Queries[0]: embedded message failed validation | caused by: invalid ProjectQuery.Query: value is required"
        );
    }
    let (status, got) = search(json!({"queries": [{"nameQuery": {"name": "x", "method": 42}}]})).await;
    assert_eq!(
        (status, got["message"].as_str()),
        (
            400,
            Some("invalid ProjectNameQuery.Method: value must be one of the defined enum values")
        )
    );
    let (status, _) = search(json!({"query": {"limit": 1001}})).await;
    assert_eq!(status, 400);
}

async fn apps_over_grpc(b: Backend) {
    let s = Server::start(b).await;
    let mut m = s.management().await;
    let project = m
        .add_project(AddProjectRequest {
            name: "Shop".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .id;
    let added = m
        .add_oidc_app(AddOidcAppRequest {
            project_id: project.clone(),
            name: "web".into(),
            redirect_uris: vec!["https://shop.example/cb".into()],
            auth_method_type: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(added.client_secret.len(), 43);
    let got = m
        .get_app_by_id(GetAppByIdRequest {
            project_id: project.clone(),
            app_id: added.app_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    use twofold_proto::zitadel::app::v1::app::Config;
    let Some(Config::OidcConfig(c)) = got.app.unwrap().config else {
        panic!("an OIDC app")
    };
    assert_eq!((c.client_id, c.auth_method_type), (added.client_id, 1));
    let e = m
        .get_project_by_id(GetProjectByIdRequest {
            id: "999999999999999999".into(),
        })
        .await
        .unwrap_err();
    assert_eq!((e.code(), error_id(&e)), (tonic::Code::NotFound, "QUERY-fk2fs".into()));
    let e = m
        .add_oidc_app(AddOidcAppRequest {
            project_id: project,
            name: "bad".into(),
            redirect_uris: vec!["https://shop.example/#x".into()],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), error_id(&e)),
        (tonic::Code::InvalidArgument, "PROJECT-1n8df".into())
    );
}
