//! OrganizationService v2: AddOrganization with its admins (stored
//! together or not at all) and ListOrganizations (only orgs the caller may
//! read), over REST, gRPC and Connect.

use serde_json::{Value, json};
use twofold_proto::zitadel::org::v2 as org;
use twofold_proto::zitadel::org::v2::organization_service_client::OrganizationServiceClient;

use crate::fixtures::ORG;
use crate::harness::{Backend, Bearer, Server, backend_tests, error_id, rest_error};

backend_tests!(add_organization, list_organizations);

async fn add(s: &Server, body: Value) -> (u16, Value) {
    s.call("POST", "/v2/organizations", Some(body)).await
}

async fn members(s: &Server, org: &str) -> Vec<(String, Value)> {
    let (status, got) = s
        .call_in(org, "POST", "/management/v1/orgs/me/members/_search", Some(json!({})))
        .await;
    assert_eq!(status, 200, "{got}");
    got["result"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|m| (m["userId"].as_str().unwrap().to_owned(), m["roles"].clone()))
        .collect()
}

async fn add_organization(b: Backend) {
    let s = Server::start(b).await;
    let my_org = s.my_org_id().await;
    let existing = s.create_human(None, "alice").await;

    // Name only: the org exists with its generated domain, nobody is a member
    // (unlike v1, the caller is not added).
    let (status, got) = add(&s, json!({"name": "Bank"})).await;
    assert_eq!(status, 201, "{got}");
    let bank = got["organizationId"].as_str().unwrap().to_owned();
    assert_eq!(got["details"]["resourceOwner"], json!(bank), "{got}");
    assert_eq!(got.get("createdAdmins"), None, "{got}");
    assert_eq!(members(&s, &bank).await, vec![]);
    let (status, got) = s.call_in(&bank, "GET", "/management/v1/orgs/me", None).await;
    assert_eq!(
        (status, &got["org"]["name"], &got["org"]["primaryDomain"]),
        (200, &json!("Bank"), &json!("bank.localhost")),
        "{got}"
    );

    // Admins: an existing user (default role) and a new human (own roles,
    // its email code handed back), under a chosen id.
    let (status, got) = add(
        &s,
        json!({
            "name": "Shop",
            "orgId": "shop-org",
            "admins": [
                {"userId": existing},
                {"human": {
                    "username": "shopkeeper",
                    "profile": {"givenName": "Sam", "familyName": "Keeper"},
                    "email": {"email": "sam@example.com", "returnCode": {}},
                    "password": {"password": crate::fixtures::PASSWORD}
                }, "roles": ["ORG_USER_MANAGER"]}
            ]
        }),
    )
    .await;
    assert_eq!(status, 201, "{got}");
    assert_eq!(got["organizationId"], "shop-org");
    let created = got["createdAdmins"].as_array().unwrap();
    assert_eq!(created.len(), 1, "{got}");
    let keeper = created[0]["userId"].as_str().unwrap().to_owned();
    assert_eq!(created[0]["emailCode"].as_str().unwrap().len(), 6, "{got}");
    assert_eq!(created[0].get("phoneCode"), None);
    let mut got_members = members(&s, "shop-org").await;
    got_members.sort_by(|a, b| a.0.cmp(&b.0));
    let mut expected = vec![
        (existing.clone(), json!(["ORG_OWNER"])),
        (keeper.clone(), json!(["ORG_USER_MANAGER"])),
    ];
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(got_members, expected);
    let (status, got) = s.call("GET", &format!("/v2/users/{keeper}"), None).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["user"]["details"]["resourceOwner"], "shop-org");
    assert_eq!(got["user"]["human"]["email"], json!({"email": "sam@example.com"}));

    // Refusals; none of them stores anything.
    let before = s.count_events("org.added").await;
    let invalid = |m: &str| json!({"code": 3, "message": m});
    let cases = [
        (
            json!({"name": ""}),
            400,
            invalid("invalid AddOrganizationRequest.Name: value length must be between 1 and 200 runes, inclusive"),
        ),
        (
            json!({"name": "Shop 2", "orgId": "shop-org"}),
            409,
            rest_error(6, "ORG-laho2n", "Errors.Org.AlreadyExisting"),
        ),
        (
            json!({"name": "Bank"}),
            409,
            rest_error(6, "V3-DKcYh", "Organisation's name or id already taken"),
        ),
        (
            json!({"name": "Ghost Admin", "admins": [{"userId": "404404"}]}),
            400,
            rest_error(9, "ORG-GoXOn", "User could not be found"),
        ),
        (
            json!({"name": "Bad Role", "admins": [{"userId": existing, "roles": ["IAM_OWNER"]}]}),
            400,
            rest_error(3, "Org-4N8es", "Errors.Org.MemberInvalid"),
        ),
        (
            json!({"name": "Bad Email", "admins": [{"human": {
                "profile": {"givenName": "B", "familyName": "E"},
                "email": {"email": "not-an-email"}
            }}]}),
            400,
            rest_error(3, "EMAIL-599BI", "Email is invalid"),
        ),
        (
            // The new admin's user name is taken: the org is not stored either.
            json!({"name": "Taken Name", "admins": [{"human": {
                "username": "alice",
                "profile": {"givenName": "A", "familyName": "B"},
                "email": {"email": "a2@example.com", "isVerified": true}
            }}]}),
            409,
            rest_error(6, "V3-DKcYh", "User already exists"),
        ),
        (
            // The same new user twice.
            json!({"name": "Twice", "admins": [
                {"human": {"userId": "twin", "username": "twin-1", "profile": {"givenName": "T", "familyName": "W"},
                    "email": {"email": "t1@example.com", "isVerified": true}}},
                {"human": {"userId": "twin", "username": "twin-2", "profile": {"givenName": "T", "familyName": "W"},
                    "email": {"email": "t2@example.com", "isVerified": true}}}
            ]}),
            409,
            rest_error(6, "ORG-poWwe", "Errors.Org.Member.AlreadyExists"),
        ),
        (
            json!({"name": "No Type", "admins": [{"roles": ["ORG_OWNER"]}]}),
            400,
            invalid("invalid Admin.UserType: value is required"),
        ),
    ];
    for (body, status, expected) in cases {
        assert_eq!(add(&s, body.clone()).await, (status, expected), "{body}");
    }
    assert_eq!(s.count_events("org.added").await, before);
    let (status, got) = add(&s, json!({"name": "Taken Name"})).await;
    assert_eq!(status, 201, "the refused name is still free: {got}");

    // org.create is needed: an org owner lacks it.
    let owner = s.actor(&my_org, "owner", &["ORG_OWNER"], &[]).await;
    let (status, got) = s
        .call_as(&owner, None, "POST", "/v2/organizations", Some(json!({"name": "Mine"})))
        .await;
    assert_eq!(
        (status, got),
        (403, rest_error(7, "AUTH-5mWD2", "No matching permissions found"))
    );

    // gRPC: the same service.
    let mut client = OrganizationServiceClient::with_interceptor(s.channel().await, Bearer(s.token.clone()));
    let added = client
        .add_organization(org::AddOrganizationRequest {
            name: "Over gRPC".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!added.organization_id.is_empty());
    let e = client
        .add_organization(org::AddOrganizationRequest {
            name: "Over gRPC".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), error_id(&e)),
        (tonic::Code::AlreadyExists, "V3-DKcYh".into())
    );
}

fn names(got: &Value) -> Vec<String> {
    got["result"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|o| o["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn search(s: &Server, body: Value) -> Value {
    let (status, got) = s.call("POST", "/v2/organizations/_search", Some(body)).await;
    assert_eq!(status, 200, "{got}");
    got
}

async fn list_organizations(b: Backend) {
    let s = Server::start(b).await;
    let my_org = s.my_org_id().await;
    let (_, my) = s.call("GET", "/management/v1/orgs/me", None).await;
    let my_name = my["org"]["name"].as_str().unwrap().to_owned();
    let zoo = s.create_org("Zoo").await;
    let apex = s.create_org("Apex").await;
    let got = search(&s, json!({})).await;
    assert_eq!(names(&got), vec![my_name.clone(), "Zoo".into(), "Apex".into()]);
    assert_eq!(got["details"]["totalResult"], "3");
    let org = &got["result"][1];
    assert_eq!(org["id"], json!(zoo));
    assert_eq!(org["state"], "ORGANIZATION_STATE_ACTIVE");
    assert_eq!(org["primaryDomain"], "zoo.localhost");
    assert_eq!(org["details"]["resourceOwner"], json!(zoo));

    let cases = [
        (
            json!({"sortingColumn": "ORGANIZATION_FIELD_NAME_NAME", "query": {"asc": true}}),
            {
                let mut all = vec![my_name.clone(), "Zoo".into(), "Apex".into()];
                all.sort_by_key(|n| n.to_lowercase());
                all
            },
        ),
        (
            json!({"queries": [{"nameQuery": {"name": "zo", "method": "TEXT_QUERY_METHOD_STARTS_WITH_IGNORE_CASE"}}]}),
            vec!["Zoo".into()],
        ),
        (
            json!({"queries": [{"domainQuery": {"domain": "apex.localhost"}}]}),
            vec!["Apex".into()],
        ),
        (json!({"queries": [{"idQuery": {"id": apex}}]}), vec!["Apex".into()]),
        (json!({"queries": [{"defaultQuery": {}}]}), vec![my_name.clone()]),
        (
            json!({"queries": [{"stateQuery": {"state": "ORGANIZATION_STATE_INACTIVE"}}]}),
            vec![],
        ),
        (
            json!({"queries": [{"stateQuery": {"state": "ORGANIZATION_STATE_ACTIVE"}}, {"idQuery": {"id": zoo}}]}),
            vec!["Zoo".into()],
        ),
        (json!({"query": {"offset": 1, "limit": 1}}), vec!["Zoo".into()]),
    ];
    for (body, expected) in cases {
        assert_eq!(names(&search(&s, body.clone()).await), expected, "{body}");
    }

    // Only orgs the caller may read: an owner of Zoo sees Zoo alone; a login
    // client (instance member) sees them all.
    let owner = s.actor(&zoo, "zoo-owner", &["ORG_OWNER"], &[]).await;
    let (status, got) = s
        .call_as(&owner, None, "POST", "/v2/organizations/_search", Some(json!({})))
        .await;
    assert_eq!((status, names(&got)), (200, vec!["Zoo".to_owned()]), "{got}");
    assert_eq!(got["details"]["totalResult"], "1");
    let (_, got) = s
        .call_as(
            &owner,
            None,
            "POST",
            "/v2/organizations/_search",
            Some(json!({"queries": [{"idQuery": {"id": apex}}]})),
        )
        .await;
    assert_eq!(names(&got), Vec::<String>::new(), "{got}");
    let client = s.actor(&my_org, "login-client", &[], &["IAM_LOGIN_CLIENT"]).await;
    let (_, got) = s
        .call_as(
            &client,
            Some(&zoo),
            "POST",
            "/v2/organizations/_search",
            Some(json!({})),
        )
        .await;
    assert_eq!(names(&got).len(), 3, "{got}");
    // A user without any membership sees none.
    let nobody = s.create_machine(&my_org, "nobody").await;
    let nobody = s.create_pat(&my_org, &nobody).await;
    let (status, got) = s
        .call_as(&nobody, None, "POST", "/v2/organizations/_search", Some(json!({})))
        .await;
    assert_eq!((status, names(&got)), (200, Vec::<String>::new()), "{got}");

    // Refused queries.
    let invalid = |m: &str| json!({"code": 3, "message": m});
    let refused = [
        (
            json!({"queries": [{}]}),
            invalid(
                "invalid ListOrganizationsRequest.Queries[0]: embedded message failed validation | caused by: invalid SearchQuery.Query: value is required",
            ),
        ),
        (
            json!({"queries": [{"someFutureQuery": {}}]}),
            invalid(
                "invalid ListOrganizationsRequest.Queries[0]: embedded message failed validation | caused by: invalid SearchQuery.Query: value is required",
            ),
        ),
        (
            json!({"queries": [{"nameQuery": {"name": ""}}]}),
            invalid("invalid OrganizationNameQuery.Name: value length must be between 1 and 200 runes, inclusive"),
        ),
        (
            json!({"query": {"limit": 1001}}),
            rest_error(3, "QUERY-4M0fs", "Limit exceeded"),
        ),
        (
            json!({"sortingColumn": 7}),
            invalid("invalid ListOrganizationsRequest.SortingColumn: value must be one of the defined enum values"),
        ),
    ];
    for (body, expected) in refused {
        let got = s.call("POST", "/v2/organizations/_search", Some(body.clone())).await;
        assert_eq!(got, (400, expected), "{body}");
    }

    // Connect (JSON) and gRPC give the same list.
    let resp = reqwest::Client::new()
        .post(s.url("/zitadel.org.v2.OrganizationService/ListOrganizations"))
        .bearer_auth(&s.token)
        .header("content-type", "application/json")
        .header(ORG, &zoo)
        .body(r#"{"queries":[{"idQuery":{"id":"ID"}}]}"#.replace("ID", &zoo))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let got: Value = resp.json().await.unwrap();
    assert_eq!(names(&got), vec!["Zoo".to_owned()], "{got}");
    let mut client = OrganizationServiceClient::with_interceptor(s.channel().await, Bearer(owner));
    let list = client
        .list_organizations(org::ListOrganizationsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        list.result.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(),
        vec![zoo.as_str()]
    );
}
