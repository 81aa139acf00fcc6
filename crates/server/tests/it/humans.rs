//! Human users through UserService v2.

use serde_json::json;

use crate::fixtures::PASSWORD;
use crate::harness::{Backend, Server, backend_tests, rest_error};

backend_tests!(
    add_and_get_human,
    add_human_validation,
    email_and_phone_codes,
    list_lock_delete
);

async fn add_and_get_human(b: Backend) {
    let s = Server::start(b).await;
    let org = s.my_org_id().await;
    let (status, got) = s
        .call(
            "POST",
            "/v2/users/human",
            Some(json!({
                "profile": {"givenName": " Ada ", "familyName": "Lovelace"},
                "email": {"email": "ada@example.com", "returnCode": {}},
                "phone": {"phone": "079 123 45 67", "returnCode": {}},
                "password": {"password": PASSWORD, "changeRequired": true},
            })),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    let id = got["userId"].as_str().unwrap();
    assert_eq!(got["details"]["resourceOwner"], org);
    assert!(got["details"]["changeDate"].is_string());
    let email_code = got["emailCode"].as_str().unwrap();
    assert_eq!(email_code.len(), 6);
    assert!(got["phoneCode"].is_string());

    let (status, got) = s.call("GET", &format!("/v2/users/{id}"), None).await;
    assert_eq!(status, 200);
    let u = &got["user"];
    assert_eq!(u["username"], "ada@example.com", "the username defaults to the email");
    assert_eq!(u["state"], "USER_STATE_ACTIVE");
    let h = &u["human"];
    assert_eq!(h["profile"]["givenName"], "Ada");
    assert_eq!(h["profile"]["displayName"], "Ada Lovelace");
    assert_eq!(h["email"], json!({"email": "ada@example.com"}));
    assert_eq!(h["phone"], json!({"phone": "+41791234567"}));
    assert_eq!(h["passwordChangeRequired"], true);
    assert!(got["details"]["creationDate"].is_string());

    let (status, got) = s.call("GET", "/v2/users/404", None).await;
    assert_eq!(
        (status, got),
        (404, rest_error(5, "QUERY-Dfbg2", "User could not be found"))
    );
    // Passwords are stored as argon2id hashes only.
    let added = s.event_payloads("user.human.added").await;
    assert!(
        added[0]["encodedHash"]
            .as_str()
            .unwrap()
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
    );
}

async fn add_human_validation(b: Backend) {
    let s = Server::start(b).await;
    s.create_human(None, "taken").await;
    let base = || {
        json!({
            "username": "bob",
            "profile": {"givenName": "Bob", "familyName": "Builder"},
            "email": {"email": "bob@example.com"},
            "password": {"password": PASSWORD},
        })
    };
    let cases = [
        (
            json!({"username": "TAKEN"}),
            409,
            rest_error(6, "V3-DKcYh", "User already exists"),
        ),
        (
            json!({"email": {"email": "not-an-email"}}),
            400,
            rest_error(3, "EMAIL-599BI", "Email is invalid"),
        ),
        (
            json!({"phone": {"phone": "12"}}),
            400,
            rest_error(3, "PHONE-so0wa", "Phone is invalid"),
        ),
        (
            json!({"password": {"password": "short"}}),
            400,
            rest_error(3, "COMMA-HuJf6", "Password is too short"),
        ),
        (
            json!({"password": {"password": "nouppercase1!"}}),
            400,
            rest_error(3, "COMMA-VoaRj", "Password must contain upper case"),
        ),
        (
            json!({"profile": {"givenName": " ", "familyName": "B"}}),
            400,
            rest_error(3, "USER-UCej2", "Given name is empty"),
        ),
        (
            json!({"organization": {"orgId": "123"}}),
            403,
            rest_error(7, "AUTH-Bs7Ds", "Organisation doesn't exist"),
        ),
    ];
    for (patch, status, expected) in cases {
        let mut body = base();
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (got_status, got) = s.call("POST", "/v2/users/human", Some(body.clone())).await;
        assert_eq!((got_status, got), (status, expected), "{body}");
    }
    let (status, got) = s
        .call("POST", "/v2/users/human", Some(json!({"email": {"email": "a@b.ch"}})))
        .await;
    assert_eq!(
        (status, got),
        (
            400,
            json!({"code": 3, "message": "invalid AddHumanUserRequest.Profile: value is required"})
        )
    );
    assert_eq!(
        s.count_events("user.human.added").await,
        1,
        "failed calls store nothing"
    );
}

async fn email_and_phone_codes(b: Backend) {
    let s = Server::start(b).await;
    let (_, got) = s
        .call(
            "POST",
            "/v2/users/human",
            Some(json!({
                "username": "carol",
                "profile": {"givenName": "Carol", "familyName": "C"},
                "email": {"email": "carol@example.com", "returnCode": {}},
            })),
        )
        .await;
    let id = got["userId"].as_str().unwrap().to_owned();
    let code = got["emailCode"].as_str().unwrap().to_owned();

    let (status, got) = s
        .call(
            "POST",
            &format!("/v2/users/{id}/email/verify"),
            Some(json!({"verificationCode": "WRONG1"})),
        )
        .await;
    assert_eq!((status, got), (400, rest_error(3, "COMMAND-eis9R", "Code is invalid")));
    let (status, _) = s
        .call(
            "POST",
            &format!("/v2/users/{id}/email/verify"),
            Some(json!({"verificationCode": code})),
        )
        .await;
    assert_eq!(status, 200);
    // Single use: the code is gone once used.
    let (status, got) = s
        .call(
            "POST",
            &format!("/v2/users/{id}/email/verify"),
            Some(json!({"verificationCode": code})),
        )
        .await;
    assert_eq!((status, got["details"][0]["id"].clone()), (400, json!("CODE-fnsJ3")));
    let (_, got) = s.call("GET", &format!("/v2/users/{id}"), None).await;
    assert_eq!(got["user"]["human"]["email"]["isVerified"], true);

    let (status, got) = s
        .call(
            "POST",
            &format!("/v2/users/{id}/phone"),
            Some(json!({"phone": "+41 79 000 00 00", "returnCode": {}})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    let code = got["verificationCode"].as_str().unwrap().to_owned();
    let (status, _) = s
        .call(
            "POST",
            &format!("/v2/users/{id}/phone/verify"),
            Some(json!({"verificationCode": code})),
        )
        .await;
    assert_eq!(status, 200);
    let (_, got) = s.call("GET", &format!("/v2/users/{id}"), None).await;
    assert_eq!(
        got["user"]["human"]["phone"],
        json!({"phone": "+41790000000", "isVerified": true})
    );
    // No code is ever stored in clear.
    assert!(!s.stored_text().await.contains(&code));
}

async fn list_lock_delete(b: Backend) {
    let s = Server::start(b).await;
    let a = s.create_human(None, "anna").await;
    let bob = s.create_human(None, "bert").await;

    let (status, got) = s
        .call(
            "POST",
            "/v2/users",
            Some(json!({"queries": [{"userNameQuery": {"userName": "AN", "method": "TEXT_QUERY_METHOD_STARTS_WITH_IGNORE_CASE"}}]})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(got["details"]["totalResult"], "1");
    assert_eq!(got["result"][0]["userId"], a);
    // A chosen column sorts ascending with `asc`, else descending (ZITADEL's rule).
    for (asc, expected) in [(true, ["admin", "anna", "bert"]), (false, ["bert", "anna", "admin"])] {
        let (_, got) = s
            .call(
                "POST",
                "/v2/users",
                Some(json!({"sortingColumn": "USER_FIELD_NAME_USER_NAME", "query": {"asc": asc}})),
            )
            .await;
        let names: Vec<_> = got["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["username"].clone())
            .collect();
        assert_eq!(names, expected.map(|n| json!(n)).to_vec(), "asc: {asc}");
    }

    let (status, got) = s.call("POST", &format!("/v2/users/{a}/unlock"), Some(json!({}))).await;
    assert_eq!(
        (status, got),
        (400, rest_error(9, "COMMAND-olb9vb0oca", "User is not locked"))
    );
    let (status, _) = s.call("POST", &format!("/v2/users/{a}/lock"), Some(json!({}))).await;
    assert_eq!(status, 200);
    let (_, got) = s.call("GET", &format!("/v2/users/{a}"), None).await;
    assert_eq!(got["user"]["state"], "USER_STATE_LOCKED");
    let (status, got) = s.call("POST", &format!("/v2/users/{a}/lock"), Some(json!({}))).await;
    assert_eq!(
        (status, got["details"][0]["id"].clone()),
        (400, json!("COMMAND-lgws8wtsqf"))
    );
    let (status, _) = s.call("POST", &format!("/v2/users/{a}/unlock"), Some(json!({}))).await;
    assert_eq!(status, 200);
    let (status, got) = s.call("POST", "/v2/users/999/lock", Some(json!({}))).await;
    assert_eq!(
        (status, got["details"][0]["id"].clone()),
        (404, json!("COMMAND-450yxuqrh1"))
    );

    let (status, _) = s.call("DELETE", &format!("/v2/users/{bob}"), None).await;
    assert_eq!(status, 200);
    let (status, got) = s.call("DELETE", &format!("/v2/users/{bob}"), None).await;
    assert_eq!(
        (status, got),
        (404, rest_error(5, "COMMAND-bd4ir1mblj", "User could not be found"))
    );
    // The name is free again.
    s.create_human(None, "bert").await;
}
