//! List queries are evaluated or refused, never dropped (issue 10,
//! finding 2), over REST and gRPC.

use serde_json::{Value, json};
use twofold_proto::zitadel::object::v2::{ListQuery, TextQueryMethod};
use twofold_proto::zitadel::session::v2 as session;
use twofold_proto::zitadel::session::v2::session_service_client::SessionServiceClient;
use twofold_proto::zitadel::user::v2 as user;
use twofold_proto::zitadel::user::v2::user_service_client::UserServiceClient;

use crate::harness::{Backend, Bearer, Server, backend_tests, error_id, rest_error};

backend_tests!(user_queries, session_queries, refused_queries);

fn ids(list: &Value, key: &str, id: &str) -> Vec<String> {
    list[key]
        .as_array()
        .map(|a| a.iter().map(|u| u[id].as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

async fn list_users(s: &Server, queries: Value) -> (u16, Value) {
    s.call("POST", "/v2/users", Some(json!({ "queries": queries }))).await
}

async fn user_queries(b: Backend) {
    let s = Server::start(b).await;
    let org = s.create_org("Org B").await;
    let alice = s.create_human(None, "alice").await;
    let bella = s.create_human(Some(&org), "bella").await;
    let bot = s.create_machine(&org, "bot").await;

    // Finding 2 as reported: a login name nobody has finds nobody.
    let (status, got) = list_users(&s, json!([{"loginNameQuery": {"loginName": "nobody-xyz"}}])).await;
    assert_eq!((status, ids(&got, "result", "userId")), (200, vec![]), "{got}");
    assert_eq!(got["details"]["totalResult"], Value::Null, "total 0 (omitted)");
    let (_, got) = list_users(
        &s,
        json!([{"loginNameQuery": {"loginName": "ALICE", "method": "TEXT_QUERY_METHOD_EQUALS_IGNORE_CASE"}}]),
    )
    .await;
    assert_eq!(ids(&got, "result", "userId"), vec![alice.clone()]);
    let (_, got) = list_users(&s, json!([{"inUserIdsQuery": {"userIds": [bella, bot, "404"]}}])).await;
    assert_eq!(ids(&got, "result", "userId"), vec![bella.clone(), bot.clone()]);

    // Each kind of query, and their combinations.
    let cases = [
        (
            json!([{"firstNameQuery": {"firstName": "Alice"}}]),
            vec![&alice, &bella],
        ),
        (
            json!([{"lastNameQuery": {"lastName": "lid", "method": "TEXT_QUERY_METHOD_STARTS_WITH_IGNORE_CASE"}}]),
            vec![&alice, &bella],
        ),
        (
            json!([{"emailQuery": {"emailAddress": "bella@example.com"}}]),
            vec![&bella],
        ),
        (
            json!([{"typeQuery": {"type": "TYPE_MACHINE"}}, {"organizationIdQuery": {"organizationId": org}}]),
            vec![&bot],
        ),
        (
            json!([{"organizationIdQuery": {"organizationId": org}}]),
            vec![&bella, &bot],
        ),
        (
            json!([{"inUserEmailsQuery": {"userEmails": ["alice@example.com"]}}]),
            vec![&alice],
        ),
        (
            json!([{"organizationIdQuery": {"organizationId": org}}, {"typeQuery": {"type": "TYPE_HUMAN"}}]),
            vec![&bella],
        ),
        (
            json!([{"orQuery": {"queries": [
                {"userNameQuery": {"userName": "bot"}},
                {"userNameQuery": {"userName": "alice"}}
            ]}}]),
            vec![&alice, &bot],
        ),
        (
            json!([{"notQuery": {"query": {"organizationIdQuery": {"organizationId": org}}}},
                   {"typeQuery": {"type": "TYPE_HUMAN"}},
                   {"stateQuery": {"state": "USER_STATE_ACTIVE"}}]),
            // The admin is a machine user of the default org.
            vec![&alice],
        ),
        (json!([{"stateQuery": {"state": "USER_STATE_LOCKED"}}]), vec![]),
    ];
    for (queries, expected) in cases {
        let (status, got) = list_users(&s, queries.clone()).await;
        assert_eq!(status, 200, "{queries}: {got}");
        assert_eq!(
            ids(&got, "result", "userId"),
            expected.into_iter().cloned().collect::<Vec<_>>(),
            "{queries}"
        );
    }

    // gRPC: the same evaluation.
    let mut users = UserServiceClient::with_interceptor(s.channel().await, Bearer(s.token.clone()));
    let query = |q: user::search_query::Query| user::SearchQuery { query: Some(q) };
    let got = users
        .list_users(user::ListUsersRequest {
            queries: vec![query(user::search_query::Query::LoginNameQuery(user::LoginNameQuery {
                login_name: "nobody-xyz".into(),
                method: TextQueryMethod::Equals as i32,
            }))],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.result.len(), 0);
    let got = users
        .list_users(user::ListUsersRequest {
            queries: vec![query(user::search_query::Query::InUserIdsQuery(user::InUserIdQuery {
                user_ids: vec![alice.clone()],
            }))],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        got.result.iter().map(|u| u.user_id.clone()).collect::<Vec<_>>(),
        vec![alice]
    );
}

async fn session_queries(b: Backend) {
    let s = Server::start(b).await;
    let alice = s.create_human(None, "alice").await;
    let org = s.my_org_id().await;
    let login = s.actor(&org, "login-client", &[], &["IAM_LOGIN_CLIENT"]).await;
    let create = |token: String| {
        let s = &s;
        let alice = alice.clone();
        async move {
            let (status, got) = s
                .call_as(
                    &token,
                    None,
                    "POST",
                    "/v2/sessions",
                    Some(json!({"checks": {"user": {"userId": alice}}})),
                )
                .await;
            assert_eq!(status, 201, "{got}");
            got["sessionId"].as_str().unwrap().to_owned()
        }
    };
    let by_admin = create(s.token.clone()).await;
    let by_login = create(login.clone()).await;
    let login_id = {
        let (_, got) = list_users(&s, json!([{"userNameQuery": {"userName": "login-client"}}])).await;
        ids(&got, "result", "userId").remove(0)
    };
    let search = |queries: Value| s.call("POST", "/v2/sessions/search", Some(json!({ "queries": queries })));

    // Finding 2: creatorQuery was dropped and every session came back.
    let (status, got) = search(json!([{"creatorQuery": {"id": login_id}}])).await;
    assert_eq!((status, ids(&got, "sessions", "id")), (200, vec![by_login.clone()]));
    let (_, got) = search(json!([{"creatorQuery": {}}])).await;
    assert_eq!(ids(&got, "sessions", "id"), vec![by_admin.clone()], "unset: the caller");
    let (_, got) = search(json!([{"idsQuery": {"ids": [by_admin, "404"]}}])).await;
    assert_eq!(ids(&got, "sessions", "id"), vec![by_admin.clone()]);
    let (_, got) = search(json!([{"userIdQuery": {"id": alice}}])).await;
    assert_eq!(
        ids(&got, "sessions", "id"),
        vec![by_login.clone(), by_admin.clone()],
        "newest first"
    );
    let (_, got) = s
        .call(
            "POST",
            "/v2/sessions/search",
            Some(json!({"sortingColumn": "SESSION_FIELD_NAME_CREATION_DATE", "query": {"asc": true}})),
        )
        .await;
    assert_eq!(ids(&got, "sessions", "id"), vec![by_admin.clone(), by_login.clone()]);
    let (_, got) = search(json!([{"creationDateQuery": {
        "creationDate": "2000-01-01T00:00:00Z", "method": "TIMESTAMP_QUERY_METHOD_LESS"}}]))
    .await;
    assert_eq!(ids(&got, "sessions", "id"), Vec::<String>::new());
    let (_, got) = search(json!([{"expirationDateQuery": {
        "expirationDate": "2000-01-01T00:00:00Z", "method": "TIMESTAMP_QUERY_METHOD_GREATER"}}]))
    .await;
    assert_eq!(ids(&got, "sessions", "id").len(), 2, "no expiry is later than any date");

    // gRPC
    let mut sessions = SessionServiceClient::with_interceptor(s.channel().await, Bearer(s.token.clone()));
    let got = sessions
        .list_sessions(session::ListSessionsRequest {
            queries: vec![session::SearchQuery {
                query: Some(session::search_query::Query::CreatorQuery(session::CreatorQuery {
                    id: Some(login_id),
                })),
            }],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        got.sessions.iter().map(|s| s.id.clone()).collect::<Vec<_>>(),
        vec![by_login]
    );
}

/// What Twofold does not evaluate is refused, naming it.
async fn refused_queries(b: Backend) {
    let s = Server::start(b).await;
    let invalid = |message: &str| json!({"code": 3, "message": message});
    let cases = [
        (
            "/v2/users",
            json!({"queries": [{"metadataKeyFilter": {"key": "k"}}]}),
            invalid("metadataKeyFilter is not supported by Twofold"),
        ),
        (
            "/v2/users",
            // A kind this server does not know is dropped by the decoder,
            // leaving the required oneof empty.
            json!({"queries": [{"someFutureQuery": {"x": 1}}]}),
            invalid(
                "invalid ListUsersRequest.Queries[0]: embedded message failed validation | caused by: invalid SearchQuery.Query: value is required",
            ),
        ),
        (
            "/v2/users",
            json!({"queries": [{"orQuery": {"queries": [{}]}}]}),
            rest_error(3, "GRPC-vR9nC", "List.Query.Invalid"),
        ),
        (
            "/v2/users",
            json!({"query": {"limit": 1001}}),
            rest_error(3, "QUERY-4M0fs", "Limit exceeded"),
        ),
        (
            "/v2/users",
            json!({"queries": [{"userNameQuery": {"userName": ""}}]}),
            invalid("invalid UserNameQuery.UserName: value length must be between 1 and 200 runes, inclusive"),
        ),
        (
            "/v2/sessions/search",
            json!({"queries": [{"userAgentQuery": {}}]}),
            invalid("userAgentQuery is not supported by Twofold"),
        ),
        (
            "/v2/sessions/search",
            json!({"queries": [{}]}),
            invalid(
                "invalid ListSessionsRequest.Queries[0]: embedded message failed validation | caused by: invalid SearchQuery.Query: value is required",
            ),
        ),
        (
            "/admin/v1/orgs/_search",
            json!({"queries": [{}]}),
            invalid(
                "invalid ListOrgsRequest.Queries[0]: embedded message failed validation | caused by: invalid OrgQuery.Query: value is required",
            ),
        ),
        (
            "/admin/v1/members/_search",
            json!({"query": {"limit": 5000}}),
            rest_error(3, "QUERY-4M0fs", "Limit exceeded"),
        ),
        (
            "/management/v1/orgs/me/members/_search",
            json!({"queries": [{"unknownQuery": {}}]}),
            invalid(
                "invalid ListOrgMembersRequest.Queries[0]: embedded message failed validation | caused by: invalid SearchQuery.Query: value is required",
            ),
        ),
    ];
    for (path, body, expected) in cases {
        let (status, got) = s.call("POST", path, Some(body.clone())).await;
        assert_eq!((status, got), (400, expected), "{path} {body}");
    }
    // Nesting deeper than 20 levels: over REST the JSON depth limit
    // (rest.rs) refuses it first; over gRPC the query rule does.
    let mut deep = json!({"userNameQuery": {"userName": "x"}});
    for _ in 0..21 {
        deep = json!({"notQuery": {"query": deep}});
    }
    let (status, got) = list_users(&s, json!([deep])).await;
    assert_eq!(
        (status, got),
        (
            400,
            json!({"code": 3, "message": "invalid JSON body: nested deeper than 32 levels"})
        )
    );
    let mut deep = user::SearchQuery {
        query: Some(user::search_query::Query::UserNameQuery(user::UserNameQuery {
            user_name: "x".into(),
            ..Default::default()
        })),
    };
    for _ in 0..21 {
        deep = user::SearchQuery {
            query: Some(user::search_query::Query::NotQuery(Box::new(user::NotQuery {
                query: Some(Box::new(deep)),
            }))),
        };
    }
    let mut users = UserServiceClient::with_interceptor(s.channel().await, Bearer(s.token.clone()));
    let e = users
        .list_users(user::ListUsersRequest {
            queries: vec![deep],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), error_id(&e)),
        (tonic::Code::InvalidArgument, "USER-zsQ97".to_owned())
    );
    // Member queries now filter instead of being dropped.
    let (status, got) = s
        .call(
            "POST",
            "/admin/v1/members/_search",
            Some(json!({"queries": [{"emailQuery": {"email": "nobody@example.com"}}]})),
        )
        .await;
    assert_eq!((status, got["result"].clone()), (200, Value::Null));

    // gRPC: an empty query, an undefined sorting column, a too large limit.
    let e = users
        .list_users(user::ListUsersRequest {
            queries: vec![user::SearchQuery { query: None }],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    assert!(e.message().contains("SearchQuery.Query: value is required"), "{e:?}");
    let e = users
        .list_users(user::ListUsersRequest {
            sorting_column: 42,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), e.message()),
        (
            tonic::Code::InvalidArgument,
            "invalid ListUsersRequest.SortingColumn: value must be one of the defined enum values"
        )
    );
    let e = users
        .list_users(user::ListUsersRequest {
            query: Some(ListQuery {
                limit: 1001,
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), error_id(&e)),
        (tonic::Code::InvalidArgument, "QUERY-4M0fs".into())
    );
}
