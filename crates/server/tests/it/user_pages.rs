//! v2 ListUsers pages computed by the store (no filter, or one org, sorted
//! by creation or user name, ascending or descending) show exactly the
//! users, order and total of the general listing, for callers with
//! different reach: the instance's owner, an org's viewer, a viewer of two
//! orgs, a caller seeing only itself; before and after a removal and a
//! rename. (Buckets and org moves: crates/store/tests/user_pages.rs.)

use serde_json::{Value, json};

use crate::harness::{Backend, Server, backend_tests};

backend_tests!(store_pages_match_the_general_listing);

/// Matches every user, and is a filter: the general listing's path.
fn everyone() -> Value {
    json!({"notQuery": {"query": {"inUserIdsQuery": {"userIds": ["no-such-user"]}}}})
}

async fn page(
    s: &Server,
    token: &str,
    mut queries: Vec<Value>,
    general: bool,
    list: Value,
    sort: &str,
) -> (u64, Vec<String>) {
    if general {
        queries.push(everyone());
    }
    let body = json!({"query": list, "sortingColumn": sort, "queries": queries});
    let (status, got) = s.call_as(token, None, "POST", "/v2/users", Some(body)).await;
    assert_eq!(status, 200, "{got}");
    let total = got["details"]["totalResult"].as_str().map_or(0, |t| t.parse().unwrap());
    let ids = got["result"]
        .as_array()
        .map(|a| a.iter().map(|u| u["userId"].as_str().unwrap().to_owned()).collect())
        .unwrap_or_default();
    (total, ids)
}

async fn store_pages_match_the_general_listing(b: Backend) {
    let s = Server::start(b).await;
    let a = s.create_org("alpha").await;
    let bo = s.create_org("beta").await;
    let c = s.create_org("gamma").await;
    // Names whose order differs from their creation order, one upper-case.
    let mut in_a = Vec::new();
    for name in ["zoe", "Mia", "adam", "kurt"] {
        in_a.push(s.create_human(Some(&a), name).await);
    }
    for name in ["bert", "yann"] {
        s.create_human(Some(&bo), name).await;
    }
    for name in ["carl", "nina"] {
        s.create_human(Some(&c), name).await;
    }
    let viewer_a = s.actor(&a, "viewer-a", &["ORG_OWNER_VIEWER"], &[]).await;
    let two = s.create_machine(&c, "two-orgs").await;
    s.add_org_member(&a, &two, &["ORG_OWNER_VIEWER"]).await;
    s.add_org_member(&bo, &two, &["ORG_OWNER_VIEWER"]).await;
    let two = s.create_pat(&c, &two).await;
    let alone = s.actor(&c, "alone", &[], &[]).await;

    // What the store's page gives is what the general listing gives.
    let callers = [
        ("admin", &s.token),
        ("viewer-a", &viewer_a),
        ("two-orgs", &two),
        ("alone", &alone),
    ];
    let sorts = [
        "USER_FIELD_NAME_UNSPECIFIED",
        "USER_FIELD_NAME_CREATION_DATE",
        "USER_FIELD_NAME_USER_NAME",
    ];
    let lists = [
        json!({}),
        json!({"limit": 3}),
        json!({"offset": "2", "limit": 3, "asc": true}),
        json!({"offset": "1", "limit": 4}),
        json!({"offset": "100"}),
    ];
    let filters = [vec![], vec![json!({"organizationIdQuery": {"organizationId": a}})]];
    let compare = async |when: &str| {
        for (who, token) in callers {
            for sort in sorts {
                for list in &lists {
                    for filter in &filters {
                        let fast = page(&s, token, filter.clone(), false, list.clone(), sort).await;
                        let general = page(&s, token, filter.clone(), true, list.clone(), sort).await;
                        assert_eq!(fast, general, "{when}: {who} {sort} {list} {filter:?}");
                    }
                }
            }
        }
    };
    compare("created").await;

    // And what they give: the admin sees every user (itself included),
    // org A's viewer A's five users (itself among them) by name, the
    // caller of no role only itself.
    let (total, _) = page(&s, &s.token, vec![], false, json!({}), sorts[0]).await;
    assert_eq!(total, 12, "8 humans, 3 machines, the admin");
    let (total, names) = page(&s, &viewer_a, vec![], false, json!({"asc": true}), sorts[2]).await;
    assert_eq!(total, 5);
    assert_eq!(names.len(), 5);
    assert_eq!(
        names[..3],
        [in_a[2].clone(), in_a[3].clone(), in_a[1].clone()],
        "adam, kurt, Mia"
    );
    let (total, ids) = page(&s, &two, vec![], false, json!({}), sorts[0]).await;
    assert_eq!((total, ids.len()), (8, 8), "A's five (its viewer too), B's two, itself");
    let (total, ids) = page(&s, &alone, vec![], false, json!({}), sorts[0]).await;
    assert_eq!((total, ids.len()), (1, 1));

    // A removal and a rename move users out of the counts and along the
    // name order.
    let (status, got) = s.call("DELETE", &format!("/v2/users/{}", in_a[0]), None).await;
    assert_eq!(status, 200, "{got}");
    let (status, got) = s
        .call(
            "PUT",
            &format!("/v2/users/human/{}", in_a[3]),
            Some(json!({"username": "Aaron"})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    compare("changed").await;
    let (total, names) = page(&s, &viewer_a, vec![], false, json!({"asc": true}), sorts[2]).await;
    assert_eq!(total, 4);
    assert_eq!(
        names[..3],
        [in_a[3].clone(), in_a[2].clone(), in_a[1].clone()],
        "Aaron, adam, Mia"
    );
}
