//! UserService v2 personal access tokens: added for machine users only,
//! shown once and stored hashed, honoured until they expire, listed only
//! to those who may read their user, removed for good.

use serde_json::{Value, json};
use twofold_proto::zitadel::user::v2 as user;
use twofold_proto::zitadel::user::v2::user_service_client::UserServiceClient;

use crate::harness::{Backend, Bearer, Server, backend_tests, error_id, rest_error};

backend_tests!(personal_access_tokens);

/// An RFC 3339 time `secs` from now (negative: in the past).
fn in_secs(secs: i64) -> String {
    prost_types::Timestamp {
        seconds: crate::fixtures::now() as i64 + secs,
        nanos: 0,
    }
    .to_string()
}

async fn add_pat(s: &Server, token: &str, user_id: &str, expiration: Value) -> (u16, Value) {
    let body = if expiration.is_null() {
        json!({})
    } else {
        json!({ "expirationDate": expiration })
    };
    s.call_as(token, None, "POST", &format!("/v2/users/{user_id}/pats"), Some(body))
        .await
}

async fn search(s: &Server, token: &str, body: Value) -> (u16, Value) {
    s.call_as(token, None, "POST", "/v2/users/pats/search", Some(body))
        .await
}

fn token_ids(got: &Value) -> Vec<String> {
    got["result"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn personal_access_tokens(b: Backend) {
    let s = Server::start(b).await;
    let admin = s.token.clone();
    let org_a = s.create_org("Org A").await;
    let org_b = s.create_org("Org B").await;
    let bot_b = s.create_machine(&org_b, "bot-b").await;
    let human_b = s.create_human(Some(&org_b), "bella").await;
    let owner_a = s.actor(&org_a, "owner-a", &["ORG_OWNER"], &[]).await;
    let bot_a = s.create_machine(&org_a, "bot-a").await;

    // Added: the token is returned once and works; only its hash is stored.
    let (status, got) = add_pat(&s, &admin, &bot_b, json!(in_secs(3600))).await;
    assert_eq!(status, 200, "{got}");
    let token = got["token"].as_str().unwrap().to_owned();
    let token_id = got["tokenId"].as_str().unwrap().to_owned();
    assert!(got["creationDate"].as_str().unwrap().ends_with('Z'), "{got}");
    assert_eq!(got.as_object().unwrap().len(), 3, "{got}");
    assert!(!s.stored_text().await.contains(&token), "the token is stored hashed");
    let (status, got) = s
        .call_as(&token, None, "GET", &format!("/v2/users/{bot_b}"), None)
        .await;
    assert_eq!((status, &got["user"]["userId"]), (200, &json!(bot_b)), "{got}");

    // The user itself may add one (self), without any membership.
    let (status, got) = add_pat(&s, &token, &bot_b, json!(in_secs(600))).await;
    assert_eq!(status, 200, "{got}");
    let own_id = got["tokenId"].as_str().unwrap().to_owned();

    // Refusals.
    let invalid = |m: &str| json!({"code": 3, "message": m});
    let cases = [
        (
            &bot_b,
            Value::Null,
            400,
            invalid("invalid AddPersonalAccessTokenRequest.ExpirationDate: value is required"),
        ),
        (
            &bot_b,
            json!(in_secs(-60)),
            400,
            rest_error(3, "DOMAIN-dv3t5", "Errors.AuthNKey.ExpireBeforeNow"),
        ),
        (
            &human_b,
            json!(in_secs(60)),
            400,
            rest_error(9, "COMMAND-Df2f1", "Not allowed for this user type"),
        ),
    ];
    for (user, expiration, status, expected) in cases {
        let got = add_pat(&s, &admin, user, expiration.clone()).await;
        assert_eq!(got, (status, expected), "{user} {expiration}");
    }
    // B's machine user answers the owner of A as an unknown user does.
    let unknown = (400, rest_error(9, "COMMAND-Dggw2", "User could not be found"));
    assert_eq!(add_pat(&s, &admin, "404404", json!(in_secs(60))).await, unknown);
    assert_eq!(add_pat(&s, &owner_a, &bot_b, json!(in_secs(60))).await, unknown);
    // The owner of A may for A's machine user.
    let (status, got) = add_pat(&s, &owner_a, &bot_a, json!(in_secs(7200))).await;
    assert_eq!(status, 200, "{got}");
    let a_id = got["tokenId"].as_str().unwrap().to_owned();

    // Listing: rows of users the caller may read only.
    let (status, got) = search(&s, &admin, json!({"filters": [{"userIdFilter": {"id": bot_b}}]})).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(token_ids(&got), vec![token_id.clone(), own_id.clone()]);
    assert_eq!(got["pagination"], json!({"totalResult": "2", "appliedLimit": "100"}));
    let first = &got["result"][0];
    assert_eq!(first["userId"], json!(bot_b));
    assert_eq!(first["organizationId"], json!(org_b));
    assert!(
        first["expirationDate"].is_string() && first["creationDate"].is_string(),
        "{got}"
    );
    // A's tokens: the owner's own and bot-a's.
    let (_, got) = search(&s, &owner_a, json!({})).await;
    let orgs: Vec<&Value> = got["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["organizationId"])
        .collect();
    assert_eq!(orgs, vec![&json!(org_a); 2], "only A's tokens: {got}");
    assert!(token_ids(&got).contains(&a_id), "{got}");
    let (_, got) = search(&s, &owner_a, json!({"filters": [{"tokenIdFilter": {"id": token_id}}]})).await;
    assert_eq!(token_ids(&got), Vec::<String>::new(), "{got}");
    // The machine user sees its own tokens.
    let (_, got) = search(&s, &token, json!({})).await;
    assert_eq!(token_ids(&got), vec![token_id.clone(), own_id.clone()], "{got}");

    let cases = [
        (
            json!({"filters": [{"organizationIdFilter": {"id": org_a}}, {"userIdFilter": {"id": bot_a}}]}),
            vec![&a_id],
        ),
        (
            json!({"filters": [{"organizationIdFilter": {"id": org_a}}, {"userIdFilter": {"id": bot_b}}]}),
            vec![],
        ),
        (json!({"filters": [{"tokenIdFilter": {"id": own_id}}]}), vec![&own_id]),
        (
            json!({"filters": [
                {"organizationIdFilter": {"id": org_b}},
                {"expirationDateFilter": {"timestamp": in_secs(1800), "method": "TIMESTAMP_FILTER_METHOD_BEFORE"}}
            ]}),
            vec![&own_id],
        ),
        (
            json!({"filters": [
                {"organizationIdFilter": {"id": org_b}},
                {"createdDateFilter": {"timestamp": in_secs(-3600), "method": "TIMESTAMP_FILTER_METHOD_AFTER"}}
            ]}),
            vec![&token_id, &own_id],
        ),
        (
            json!({
                "filters": [{"userIdFilter": {"id": bot_b}}],
                "sortingColumn": "PERSONAL_ACCESS_TOKEN_FIELD_NAME_EXPIRATION_DATE",
                "pagination": {"asc": true}
            }),
            vec![&own_id, &token_id],
        ),
        (
            json!({
                "filters": [{"userIdFilter": {"id": bot_b}}],
                "pagination": {"offset": 1, "limit": 1}
            }),
            vec![&own_id],
        ),
    ];
    for (body, expected) in cases {
        let (status, got) = search(&s, &admin, body.clone()).await;
        assert_eq!(
            (status, token_ids(&got)),
            (200, expected.into_iter().cloned().collect()),
            "{body}"
        );
    }
    let (_, got) = search(&s, &admin, json!({"pagination": {"limit": 1}})).await;
    assert_eq!(got["pagination"]["appliedLimit"], "1");
    let refused = [
        (
            json!({"filters": [{}]}),
            invalid(
                "invalid ListPersonalAccessTokensRequest.Filters[0]: embedded message failed validation | caused by: invalid PersonalAccessTokensSearchFilter.Filter: value is required",
            ),
        ),
        (
            json!({"pagination": {"limit": 1001}}),
            rest_error(3, "QUERY-4M0fs", "Limit exceeded"),
        ),
        (
            json!({"sortingColumn": 9}),
            invalid(
                "invalid ListPersonalAccessTokensRequest.SortingColumn: value must be one of the defined enum values",
            ),
        ),
    ];
    for (body, expected) in refused {
        assert_eq!(search(&s, &admin, body.clone()).await, (400, expected), "{body}");
    }

    // Removal: B's token answers the owner of A as an unknown one.
    let not_found = (404, rest_error(5, "COMMAND-4m77G", "Personal Access Token not found"));
    let remove = |token: String, user: String, id: String| {
        let s = &s;
        async move {
            s.call_as(&token, None, "DELETE", &format!("/v2/users/{user}/pats/{id}"), None)
                .await
        }
    };
    assert_eq!(remove(owner_a.clone(), bot_b.clone(), own_id.clone()).await, not_found);
    assert_eq!(remove(admin.clone(), bot_b.clone(), "404404".into()).await, not_found);
    let (status, got) = remove(admin.clone(), bot_b.clone(), token_id.clone()).await;
    assert_eq!(status, 200, "{got}");
    assert!(got["deletionDate"].is_string(), "{got}");
    assert_eq!(remove(admin.clone(), bot_b.clone(), token_id.clone()).await, not_found);
    let (status, got) = s
        .call_as(&token, None, "GET", &format!("/v2/users/{bot_b}"), None)
        .await;
    assert_eq!(
        (status, got),
        (401, rest_error(16, "AUTH-7fs1e", "Errors.Token.Invalid")),
        "a removed token is refused"
    );

    // The expiration date is honoured by the auth layer.
    let (status, got) = add_pat(&s, &admin, &bot_a, json!(in_secs(2))).await;
    assert_eq!(status, 200, "{got}");
    let short = got["token"].as_str().unwrap().to_owned();
    let (status, _) = s
        .call_as(&short, None, "GET", &format!("/v2/users/{bot_a}"), None)
        .await;
    assert_eq!(status, 200);
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    let (status, got) = s
        .call_as(&short, None, "GET", &format!("/v2/users/{bot_a}"), None)
        .await;
    assert_eq!(
        (status, got),
        (401, rest_error(16, "AUTH-7fs1e", "Errors.Token.Invalid")),
        "an expired token is refused"
    );

    // A removed user's tokens are gone from the list (and refused).
    let bot_c = s.create_machine(&org_b, "bot-c").await;
    let (status, got) = add_pat(&s, &admin, &bot_c, json!(in_secs(600))).await;
    assert_eq!(status, 200, "{got}");
    let c_token = got["token"].as_str().unwrap().to_owned();
    let by_c = json!({"filters": [{"userIdFilter": {"id": bot_c}}]});
    let (_, got) = search(&s, &admin, by_c.clone()).await;
    assert_eq!(token_ids(&got).len(), 1, "{got}");
    let (status, got) = s.call("DELETE", &format!("/v2/users/{bot_c}"), None).await;
    assert_eq!(status, 200, "{got}");
    let (status, got) = search(&s, &admin, by_c).await;
    assert_eq!((status, token_ids(&got)), (200, Vec::<String>::new()), "{got}");
    assert_eq!(got["pagination"]["totalResult"], Value::Null, "0 (omitted): {got}");
    let (status, _) = s
        .call_as(&c_token, None, "GET", &format!("/v2/users/{bot_c}"), None)
        .await;
    assert_eq!(status, 401);

    // gRPC: the same use cases.
    let mut users = UserServiceClient::with_interceptor(s.channel().await, Bearer(owner_a.clone()));
    let e = users
        .add_personal_access_token(user::AddPersonalAccessTokenRequest {
            user_id: bot_b.clone(),
            expiration_date: Some(prost_types::Timestamp {
                seconds: crate::fixtures::now() as i64 + 60,
                nanos: 0,
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), error_id(&e)),
        (tonic::Code::FailedPrecondition, "COMMAND-Dggw2".into())
    );
    let list = users
        .list_personal_access_tokens(user::ListPersonalAccessTokensRequest {
            filters: vec![user::PersonalAccessTokensSearchFilter {
                filter: Some(user::personal_access_tokens_search_filter::Filter::UserIdFilter(
                    twofold_proto::zitadel::filter::v2::IdFilter { id: bot_a.clone() },
                )),
            }],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(list.result[0].id, a_id);
    assert_eq!(list.pagination.unwrap().total_result, 2, "a_id and the expired one");
}
