//! UserService v2 beyond the first set: lifecycle, email and phone codes,
//! CreateUser, updates, factors, the MFA-skip mark, IdP links and invites.

use serde_json::{Value, json};

use crate::fixtures::PASSWORD;
use crate::harness::{Backend, Bearer, Server, backend_tests, error_id, rest_error};
use crate::sinks::{http_sink, smtp_sink};

backend_tests!(
    deactivate_and_reactivate,
    lifecycle_permissions,
    email_and_phone_code_calls,
    create_user,
    update_human_user,
    update_user,
    update_with_a_password,
    factors_and_mfa_skip,
    invite_codes,
    self_service_contacts,
    over_grpc,
    codes_are_delivered,
);

fn id_of(got: &Value) -> Value {
    got["details"][0]["id"].clone()
}

async fn post(s: &Server, path: &str, body: Value) -> (u16, Value) {
    s.call("POST", path, Some(body)).await
}

/// A session with the user and password checked: (session id, token).
async fn sign_in(s: &Server, login_name: &str) -> (u16, Value) {
    post(
        s,
        "/v2/sessions",
        json!({"checks": {"user": {"loginName": login_name}, "password": {"password": PASSWORD}}}),
    )
    .await
}

async fn deactivate_and_reactivate(b: Backend) {
    let s = Server::start(b).await;
    let dora = s.create_human(None, "dora").await;
    let (status, session) = sign_in(&s, "dora").await;
    assert_eq!(status, 201, "{session}");
    let (session_id, token) = (
        session["sessionId"].as_str().unwrap(),
        session["sessionToken"].as_str().unwrap(),
    );

    let (status, got) = post(&s, &format!("/v2/users/{dora}/reactivate"), json!({})).await;
    assert_eq!(
        (status, got),
        (400, rest_error(9, "COMMAND-s5qqcz97hf", "User is not inactive"))
    );
    let (status, got) = post(&s, &format!("/v2/users/{dora}/deactivate"), json!({})).await;
    assert_eq!(status, 200, "{got}");
    assert!(got["details"]["changeDate"].is_string());
    let (_, got) = s.call("GET", &format!("/v2/users/{dora}"), None).await;
    assert_eq!(got["user"]["state"], "USER_STATE_INACTIVE");
    assert_eq!(got["user"]["human"]["state"], "USER_STATE_INACTIVE");
    let (_, got) = s.call("GET", &format!("/management/v1/users/{dora}"), None).await;
    assert_eq!(got["user"]["state"], "USER_STATE_INACTIVE", "v1 shows the state too");
    let (status, got) = post(&s, &format!("/v2/users/{dora}/deactivate"), json!({})).await;
    assert_eq!(
        (status, got),
        (400, rest_error(9, "COMMAND-5gunjw0cd7", "User already inactive"))
    );
    // A deactivated user can neither start nor go on with a session, and its
    // session token stops working.
    let (status, got) = sign_in(&s, "dora").await;
    assert_eq!(
        (status, got),
        (400, rest_error(9, "SESSION-Gj4ko", "Errors.User.NotActive"))
    );
    let (status, got) = s
        .call(
            "PATCH",
            &format!("/v2/sessions/{session_id}"),
            Some(json!({"sessionToken": token, "checks": {"password": {"password": PASSWORD}}})),
        )
        .await;
    assert_eq!(
        (status, got),
        (400, rest_error(9, "SESSION-Gj4ko", "Errors.User.NotActive"))
    );
    let (status, got) = s.call_as(token, None, "GET", &format!("/v2/users/{dora}"), None).await;
    assert_eq!((status, id_of(&got)), (401, json!("AUTH-7fs1e")));
    // A locked user cannot be locked while inactive; it can be deactivated.
    let (status, got) = post(&s, &format!("/v2/users/{dora}/lock"), json!({})).await;
    assert_eq!((status, id_of(&got)), (400, json!("COMMAND-lgws8wtsqf")));

    let (status, _) = post(&s, &format!("/v2/users/{dora}/reactivate"), json!({})).await;
    assert_eq!(status, 200);
    let (_, got) = s.call("GET", &format!("/v2/users/{dora}"), None).await;
    assert_eq!(got["user"]["state"], "USER_STATE_ACTIVE");
    let (status, got) = sign_in(&s, "dora").await;
    assert_eq!(status, 201, "{got}");
    let (status, _) = post(&s, &format!("/v2/users/{dora}/lock"), json!({})).await;
    assert_eq!(status, 200);
    let (status, _) = post(&s, &format!("/v2/users/{dora}/deactivate"), json!({})).await;
    assert_eq!(status, 200, "a locked user can be deactivated");

    for (path, id) in [
        ("deactivate", "COMMAND-5gp2p62iin"),
        ("reactivate", "COMMAND-9hy5kzbuk6"),
    ] {
        let (status, got) = post(&s, &format!("/v2/users/404/{path}"), json!({})).await;
        assert_eq!((status, got), (404, rest_error(5, id, "User could not be found")));
    }
    assert_eq!(s.count_events("user.deactivated").await, 2);
    assert_eq!(s.count_events("user.reactivated").await, 1);
}

async fn lifecycle_permissions(b: Backend) {
    let s = Server::start(b).await;
    let org_a = s.create_org("alpha").await;
    let org_b = s.create_org("beta").await;
    let owner_a = s.actor(&org_a, "owner-a", &["ORG_OWNER"], &[]).await;
    let me = s.create_machine(&org_a, "viewer-a").await;
    s.add_org_member(&org_a, &me, &["ORG_OWNER_VIEWER"]).await;
    let viewer = s.create_pat(&org_a, &me).await;
    let in_a = s.create_human(Some(&org_a), "in-a").await;
    let in_b = s.create_human(Some(&org_b), "in-b").await;

    // Org A's owner does not see org B's user: answered as for an unknown
    // user (the invite's "unknown" is a 400 in ZITADEL), nothing stored.
    for (path, status, id) in [
        ("deactivate", 404, "COMMAND-5gp2p62iin"),
        ("reactivate", 404, "COMMAND-9hy5kzbuk6"),
        ("mfa_init_skipped", 404, "COMMAND-auj6jeBei4"),
        ("email/send", 404, "COMMAND-ieJ2e"),
        ("invite_code", 400, "COMMAND-Wgvn4"),
    ] {
        let got = s
            .call_as(
                &owner_a,
                None,
                "POST",
                &format!("/v2/users/{in_b}/{path}"),
                Some(json!({})),
            )
            .await;
        assert_eq!((got.0, id_of(&got.1)), (status, json!(id)), "{path}");
    }
    let (status, got) = s
        .call_as(
            &owner_a,
            None,
            "POST",
            &format!("/v2/users/{in_a}/deactivate"),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    // A viewer sees the user but may not write it.
    let (status, got) = s
        .call_as(
            &viewer,
            None,
            "POST",
            &format!("/v2/users/{in_a}/reactivate"),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (status, got),
        (403, rest_error(7, "AUTH-AWfge", "No matching permissions found"))
    );
    // Deactivating is not self-service: the viewer may not deactivate itself.
    let (status, got) = s
        .call_as(
            &viewer,
            None,
            "POST",
            &format!("/v2/users/{me}/deactivate"),
            Some(json!({})),
        )
        .await;
    assert_eq!((status, id_of(&got)), (403, json!("AUTH-AWfge")));
    assert_eq!(s.count_events("user.deactivated").await, 1);
    assert_eq!(s.count_events("user.human.mfa.init.skipped").await, 0);
    assert_eq!(s.count_events("user.human.invite.code.added").await, 0);
}

async fn email_and_phone_code_calls(b: Backend) {
    let s = Server::start(b).await;
    let (status, got) = post(
        &s,
        "/v2/users/human",
        json!({
            "username": "emil",
            "profile": {"givenName": "Emil", "familyName": "E"},
            "email": {"email": "emil@example.com", "returnCode": {}},
        }),
    )
    .await;
    assert_eq!(status, 200, "{got}");
    let id = got["userId"].as_str().unwrap().to_owned();
    let first = got["emailCode"].as_str().unwrap().to_owned();
    let user = |p: &str| format!("/v2/users/{id}/{p}");

    let (status, got) = post(&s, &user("email/send"), json!({"returnCode": {}})).await;
    assert_eq!(status, 200, "{got}");
    let second = got["verificationCode"].as_str().unwrap().to_owned();
    assert_eq!(second.len(), 6);
    let (status, got) = post(&s, &user("email/resend"), json!({"returnCode": {}})).await;
    assert_eq!(status, 200, "{got}");
    let third = got["verificationCode"].as_str().unwrap().to_owned();
    // Sent (not returned): no code in the answer.
    let (status, got) = post(&s, &user("email/resend"), json!({"sendCode": {}})).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got.get("verificationCode"), None);
    let (status, got) = post(&s, &user("email/resend"), json!({"returnCode": {}})).await;
    assert_eq!(status, 200, "{got}");
    let latest = got["verificationCode"].as_str().unwrap().to_owned();

    // Replaced codes no longer verify; each failure is recorded.
    for old in [&first, &second, &third] {
        let (status, got) = post(&s, &user("email/verify"), json!({"verificationCode": old})).await;
        assert_eq!((status, got), (400, rest_error(3, "COMMAND-eis9R", "Code is invalid")));
    }
    assert_eq!(s.count_events("user.human.email.verification.failed").await, 3);
    let (status, got) = post(&s, &user("email/verify"), json!({"verificationCode": latest})).await;
    assert_eq!(status, 200, "{got}");
    // Single use.
    let (status, got) = post(&s, &user("email/verify"), json!({"verificationCode": latest})).await;
    assert_eq!((status, id_of(&got)), (400, json!("CODE-fnsJ3")));
    let (status, got) = post(&s, &user("email/resend"), json!({"returnCode": {}})).await;
    assert_eq!((status, got), (400, rest_error(9, "EMAIL-5w5ilin4yt", "Code is empty")));

    // Phone: no number yet.
    let (status, got) = post(&s, &user("phone/resend"), json!({"returnCode": {}})).await;
    assert_eq!((status, got), (404, rest_error(5, "COMMAND-ieJ2e", "Phone not found")));
    let (status, got) = post(
        &s,
        &user("phone"),
        json!({"phone": "+41 79 000 00 00", "returnCode": {}}),
    )
    .await;
    assert_eq!(status, 200, "{got}");
    let old = got["verificationCode"].as_str().unwrap().to_owned();
    let (status, got) = post(&s, &user("phone/resend"), json!({"returnCode": {}})).await;
    assert_eq!(status, 200, "{got}");
    let code = got["verificationCode"].as_str().unwrap().to_owned();
    let (status, got) = post(&s, &user("phone/verify"), json!({"verificationCode": old})).await;
    assert_eq!((status, got), (400, rest_error(3, "COMMAND-eis9R", "Code is invalid")));
    assert_eq!(s.count_events("user.human.phone.verification.failed").await, 1);
    let (status, _) = post(&s, &user("phone/verify"), json!({"verificationCode": code})).await;
    assert_eq!(status, 200);
    let (status, got) = post(&s, &user("phone/resend"), json!({})).await;
    assert_eq!((status, got), (400, rest_error(9, "PHONE-5xrra88eq8", "Code is empty")));
    // A verified phone allows OTP by SMS; removing the phone removes that too.
    let (status, got) = post(&s, &user("otp_sms"), json!({})).await;
    assert_eq!(status, 200, "{got}");
    let (status, got) = s.call("DELETE", &user("phone"), Some(json!({}))).await;
    assert_eq!(status, 200, "{got}");
    let (_, got) = s.call("GET", &format!("/v2/users/{id}"), None).await;
    assert_eq!(got["user"]["human"]["phone"], json!({}));
    let (_, got) = s.call("GET", &user("authentication_methods"), None).await;
    assert_eq!(got.get("authMethodTypes"), None, "{got}");
    let (status, got) = s.call("DELETE", &user("phone"), Some(json!({}))).await;
    assert_eq!((status, got), (404, rest_error(5, "COMMAND-ieJ2e", "Phone not found")));
    let (status, got) = post(&s, &user("otp_sms"), json!({})).await;
    assert_eq!((status, id_of(&got)), (400, json!("COMMAND-Q54j2")));

    // Machines have no email; codes are never stored in clear.
    let org = s.my_org_id().await;
    let bot = s.create_machine(&org, "bot").await;
    let (status, got) = post(&s, &format!("/v2/users/{bot}/email/send"), json!({"returnCode": {}})).await;
    assert_eq!((status, got), (404, rest_error(5, "COMMAND-ieJ2e", "Email not found")));
    let stored = s.stored_text().await;
    for c in [&first, &second, &third, &latest, &code] {
        assert!(!stored.contains(c.as_str()));
    }
}

async fn create_user(b: Backend) {
    let s = Server::start(b).await;
    let org_b = s.create_org("beta").await;
    let (status, got) = post(
        &s,
        "/v2/users/new",
        json!({
            "organizationId": org_b,
            "human": {
                "profile": {"givenName": "Hedy", "familyName": "Lamarr"},
                "email": {"email": "hedy@example.com", "returnCode": {}},
                "password": {"password": PASSWORD},
            },
        }),
    )
    .await;
    assert_eq!(status, 200, "{got}");
    let hedy = got["id"].as_str().unwrap().to_owned();
    assert!(got["creationDate"].is_string());
    assert_eq!(got["emailCode"].as_str().unwrap().len(), 6);
    assert_eq!(got.get("phoneCode"), None);
    let (_, got) = s.call("GET", &format!("/v2/users/{hedy}"), None).await;
    assert_eq!(got["user"]["username"], "hedy@example.com");
    assert_eq!(got["details"]["resourceOwner"], org_b);

    let (status, got) = post(
        &s,
        "/v2/users/new",
        json!({"organizationId": org_b, "userId": "bot-1", "machine": {"name": "Bot", "description": "does things"}}),
    )
    .await;
    assert_eq!((status, got["id"].clone()), (200, json!("bot-1")), "{got}");
    let (_, got) = s.call("GET", "/v2/users/bot-1", None).await;
    assert_eq!(
        got["user"]["username"], "bot-1",
        "a machine's user name defaults to its ID"
    );
    assert_eq!(
        got["user"]["machine"],
        json!({"name": "Bot", "description": "does things"})
    );

    let human = |patch: Value| {
        let mut h = json!({
            "profile": {"givenName": "Ada", "familyName": "L"},
            "email": {"email": "ada@example.com"},
        });
        for (k, v) in patch.as_object().unwrap() {
            h[k] = v.clone();
        }
        json!({"organizationId": org_b, "username": "ada", "human": h})
    };
    let owner_a = {
        let org_a = s.create_org("alpha").await;
        s.actor(&org_a, "owner-a", &["ORG_OWNER"], &[]).await
    };
    let cases = [
        (
            human(json!({"password": {"password": "short"}})),
            400,
            rest_error(3, "COMMA-HuJf6", "Password is too short"),
        ),
        (
            human(json!({"email": {"email": "nope"}})),
            400,
            rest_error(3, "EMAIL-599BI", "Email is invalid"),
        ),
        (
            json!({"organizationId": org_b, "username": "hedy@example.com", "machine": {"name": "X"}}),
            409,
            rest_error(6, "V3-DKcYh", "User already exists"),
        ),
        (
            json!({"organizationId": org_b, "userId": "bot-1", "machine": {"name": "X"}}),
            400,
            rest_error(9, "COMMAND-k2una", "Errors.User.AlreadyExisting"),
        ),
        (
            json!({"organizationId": org_b, "machine": {"name": ""}}),
            400,
            json!({"code": 3, "message": "invalid CreateUserRequest_Machine.Name: value length must be between 1 and 200 runes, inclusive"}),
        ),
        (
            json!({"organizationId": org_b}),
            400,
            json!({"code": 3, "message": "invalid CreateUserRequest.UserType: value is required"}),
        ),
        (
            json!({"organizationId": "404", "machine": {"name": "X"}}),
            403,
            rest_error(7, "AUTH-Bs7Ds", "Organisation doesn't exist"),
        ),
    ];
    for (body, status, expected) in cases {
        let got = post(&s, "/v2/users/new", body.clone()).await;
        assert_eq!(got, (status, expected), "{body}");
    }
    // Another org's owner may not create users in org B.
    let (status, got) = s
        .call_as(&owner_a, None, "POST", "/v2/users/new", Some(human(json!({}))))
        .await;
    assert_eq!(
        (status, got),
        (403, rest_error(7, "AUTH-AWfge", "No matching permissions found"))
    );
    assert_eq!(s.count_events("user.human.added").await, 1, "Hedy only");
    assert_eq!(
        s.count_events("user.machine.added").await,
        3,
        "the admin, owner-a and bot-1 only"
    );
}

async fn update_human_user(b: Backend) {
    let s = Server::start(b).await;
    let id = s.create_human(None, "grace").await;
    let path = format!("/v2/users/human/{id}");
    let (status, got) = s
        .call(
            "PUT",
            &path,
            Some(json!({
                "username": "hopper",
                "profile": {"givenName": "Grace", "familyName": "Hopper", "nickName": "Amazing"},
                "email": {"email": "grace@navy.mil", "returnCode": {}},
                "phone": {"phone": "+41 79 111 11 11", "isVerified": true},
            })),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert!(got["details"]["changeDate"].is_string());
    assert_eq!(got["emailCode"].as_str().unwrap().len(), 6);
    assert_eq!(got.get("phoneCode"), None);
    let (_, got) = s.call("GET", &format!("/v2/users/{id}"), None).await;
    let u = &got["user"];
    assert_eq!(u["username"], "hopper");
    assert_eq!(u["human"]["profile"]["familyName"], "Hopper");
    assert_eq!(u["human"]["profile"]["nickName"], "Amazing");
    assert_eq!(u["human"]["email"], json!({"email": "grace@navy.mil"}));
    assert_eq!(
        u["human"]["phone"],
        json!({"phone": "+41791111111", "isVerified": true})
    );
    // The new name signs in; the old one is free again.
    let (status, got) = sign_in(&s, "hopper").await;
    assert_eq!(status, 201, "{got}");
    s.create_human(None, "grace").await;

    // The same values again: success, nothing stored.
    let before = s.count_events("user.human.profile.changed").await;
    let (status, got) = s
        .call(
            "PUT",
            &path,
            Some(json!({
                "username": "hopper",
                "profile": {"givenName": "Grace", "familyName": "Hopper"},
                "email": {"email": "grace@navy.mil", "returnCode": {}},
                "phone": {"phone": ""},
            })),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got.get("emailCode"), None, "no new code for the same address");
    assert_eq!(s.count_events("user.human.profile.changed").await, before);
    assert_eq!(
        s.count_events("user.human.phone.removed").await,
        0,
        "PUT never removes the phone"
    );

    let cases = [
        (
            json!({"username": "grace"}),
            409,
            rest_error(6, "V3-DKcYh", "User already exists"),
        ),
        (
            json!({"email": {"email": "bad"}}),
            400,
            rest_error(3, "EMAIL-599BI", "Email is invalid"),
        ),
        (
            json!({"profile": {"givenName": "", "familyName": "H"}}),
            400,
            json!({"code": 3, "message": "invalid SetHumanProfile.GivenName: value length must be between 1 and 200 runes, inclusive"}),
        ),
        (
            // A weak password refuses the whole update.
            json!({"username": "grace-h", "password": {"password": {"password": "weak"}}}),
            400,
            rest_error(3, "DOMAIN-HuJf6", "Password is too short"),
        ),
    ];
    let kinds = [
        "user.username.changed",
        "user.human.email.changed",
        "user.human.profile.changed",
        "user.human.password.changed",
    ];
    let mut before = Vec::new();
    for kind in kinds {
        before.push(s.count_events(kind).await);
    }
    for (body, status, expected) in cases {
        let got = s.call("PUT", &path, Some(body.clone())).await;
        assert_eq!(got, (status, expected), "{body}");
    }
    for (kind, n) in kinds.into_iter().zip(before) {
        assert_eq!(s.count_events(kind).await, n, "refused updates store nothing: {kind}");
    }
    let (status, got) = s
        .call("PUT", "/v2/users/human/404", Some(json!({"username": "x"})))
        .await;
    assert_eq!(
        (status, got),
        (404, rest_error(5, "COMMAND-ugjs0upun6", "User could not be found"))
    );
    // Another org's owner does not see the user.
    let org_a = s.create_org("alpha").await;
    let owner_a = s.actor(&org_a, "owner-a", &["ORG_OWNER"], &[]).await;
    let (status, got) = s
        .call_as(&owner_a, None, "PUT", &path, Some(json!({"username": "x"})))
        .await;
    assert_eq!((status, id_of(&got)), (404, json!("COMMAND-ugjs0upun6")));
}

async fn update_user(b: Backend) {
    let s = Server::start(b).await;
    let id = s.create_human(None, "linus").await;
    let path = format!("/v2/users/{id}");
    let (status, got) = s
        .call(
            "PATCH",
            &path,
            Some(json!({"human": {"profile": {"displayName": "Linus T"}, "phone": {"phone": "+41791234567", "returnCode": {}}}})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert!(got["changeDate"].is_string());
    assert_eq!(got["phoneCode"].as_str().unwrap().len(), 6);
    let (status, got) = s
        .call(
            "PATCH",
            &path,
            Some(json!({"human": {"phone": {"phone": "", "isVerified": true}}})),
        )
        .await;
    assert_eq!(
        (status, got),
        (
            400,
            rest_error(3, "USERv2-4f3d6", "Verifying phone removal is not supported")
        )
    );
    // An empty number removes the phone.
    let (status, _) = s
        .call("PATCH", &path, Some(json!({"human": {"phone": {"phone": ""}}})))
        .await;
    assert_eq!(status, 200);
    let (_, got) = s.call("GET", &path, None).await;
    assert_eq!(got["user"]["human"]["phone"], json!({}));
    assert_eq!(got["user"]["human"]["profile"]["displayName"], "Linus T");
    assert_eq!(s.count_events("user.human.phone.removed").await, 1);

    let org = s.my_org_id().await;
    let bot = s.create_machine(&org, "bot").await;
    let (status, got) = s
        .call(
            "PATCH",
            &format!("/v2/users/{bot}"),
            Some(json!({"username": "robot", "machine": {"name": "Robot", "description": "beeps"}})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    let (_, got) = s.call("GET", &format!("/v2/users/{bot}"), None).await;
    assert_eq!(got["user"]["username"], "robot");
    assert_eq!(got["user"]["machine"], json!({"name": "Robot", "description": "beeps"}));
    let (status, got) = s.call("PATCH", &path, Some(json!({"username": "x"}))).await;
    assert_eq!(
        (status, got),
        (501, json!({"code": 12, "message": "user type is not implemented"}))
    );
}

async fn factors_and_mfa_skip(b: Backend) {
    let s = Server::start(b).await;
    let id = s.create_human(None, "fay").await;
    let user = |p: &str| format!("/v2/users/{id}/{p}");
    let (status, _) = post(&s, &user("totp"), json!({})).await;
    assert_eq!(status, 200);
    let (status, _) = post(&s, &user("otp_email"), json!({})).await;
    assert_eq!(status, 200);
    let search = |q: &str| format!("/v2/users/{id}/authentication_factors/_search{q}");
    let (status, got) = s.call("POST", &search(""), None).await;
    assert_eq!(
        (status, got),
        (
            200,
            json!({"result": [{"state": "AUTH_FACTOR_STATE_READY", "otpEmail": {}}]})
        ),
        "READY only by default; the TOTP is not verified yet"
    );
    let (status, got) = s
        .call(
            "POST",
            &search("?states=AUTH_FACTOR_STATE_NOT_READY&states=AUTH_FACTOR_STATE_READY&authFactors=OTP"),
            None,
        )
        .await;
    assert_eq!(
        (status, got),
        (
            200,
            json!({"result": [{"state": "AUTH_FACTOR_STATE_NOT_READY", "otp": {}}]})
        )
    );

    let (_, got) = s.call("GET", &format!("/v2/users/{id}"), None).await;
    assert_eq!(got["user"]["human"].get("mfaInitSkipped"), None);
    let (status, got) = post(&s, &user("mfa_init_skipped"), json!({})).await;
    assert_eq!(status, 200, "{got}");
    let when = got["details"]["changeDate"].clone();
    let (_, got) = s.call("GET", &format!("/v2/users/{id}"), None).await;
    assert_eq!(got["user"]["human"]["mfaInitSkipped"], when);
    let org = s.my_org_id().await;
    let bot = s.create_machine(&org, "bot").await;
    let (status, got) = post(&s, &format!("/v2/users/{bot}/mfa_init_skipped"), json!({})).await;
    assert_eq!(
        (status, got),
        (404, rest_error(5, "COMMAND-auj6jeBei4", "User could not be found"))
    );

    let (status, got) = post(&s, &user("links/_search"), json!({})).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got.get("result"), None);
    assert!(got["details"]["timestamp"].is_string(), "{got}");
    let (status, got) = post(&s, "/v2/users/404/links/_search", json!({})).await;
    assert_eq!((status, id_of(&got)), (404, json!("QUERY-Dfbg2")));
}

async fn invite_codes(b: Backend) {
    let s = Server::start(b).await;
    let org = s.my_org_id().await;
    let (status, got) = post(
        &s,
        "/v2/users/new",
        json!({
            "organizationId": org,
            "username": "ivy",
            "human": {"profile": {"givenName": "Ivy", "familyName": "I"}, "email": {"email": "ivy@example.com", "isVerified": false}},
        }),
    )
    .await;
    assert_eq!(status, 200, "{got}");
    let ivy = got["id"].as_str().unwrap().to_owned();
    let user = |p: &str| format!("/v2/users/{ivy}/{p}");

    let (status, got) = post(&s, &user("invite_code"), json!({"returnCode": {}})).await;
    assert_eq!(status, 200, "{got}");
    let code = got["inviteCode"].as_str().unwrap().to_owned();
    // A returned code is the caller's to pass on: it cannot be resent.
    let (status, got) = s.call("POST", &user("invite_code/resend"), None).await;
    assert_eq!((status, got), (400, rest_error(9, "COMMAND-Wr3gq", "Code not found")));
    let (status, got) = post(&s, &user("invite_code/verify"), json!({"verificationCode": "WRONG1"})).await;
    assert_eq!((status, got), (400, rest_error(3, "COMMAND-Wgn4q", "Code is invalid")));
    assert_eq!(s.count_events("user.human.invite.check.failed").await, 1);
    let (status, got) = post(&s, &user("invite_code/verify"), json!({"verificationCode": code})).await;
    assert_eq!(status, 200, "{got}");
    let (_, got) = s.call("GET", &format!("/v2/users/{ivy}"), None).await;
    assert_eq!(
        got["user"]["human"]["email"]["isVerified"], true,
        "the invite verified the email"
    );
    let (status, got) = post(&s, &user("invite_code/verify"), json!({"verificationCode": code})).await;
    assert_eq!((status, got), (400, rest_error(9, "COMMAND-Wr3gq", "Code not found")));
    assert!(!s.stored_text().await.contains(&code));

    // Sent by email: no code in the answer; then resent.
    let (status, got) = post(
        &s,
        &user("invite_code"),
        json!({"sendCode": {"applicationName": "Shop"}}),
    )
    .await;
    assert_eq!((status, got.get("inviteCode")), (200, None), "{got}");
    let (status, got) = s.call("POST", &user("invite_code/resend"), None).await;
    assert_eq!(status, 200, "{got}");
    let invites = s.event_payloads("user.human.invite.code.added").await;
    assert_eq!(invites.len(), 3);
    assert_eq!(
        invites[2]["applicationName"], "Shop",
        "a resend keeps the invite's application"
    );

    // A user with a password is already set up.
    let pw = s.create_human(None, "pw").await;
    let (status, got) = post(&s, &format!("/v2/users/{pw}/invite_code"), json!({"returnCode": {}})).await;
    assert_eq!(
        (status, got),
        (400, rest_error(9, "COMMAND-EF34g", "User is already initialized"))
    );
    let (status, got) = post(&s, "/v2/users/404/invite_code", json!({"returnCode": {}})).await;
    assert_eq!(
        (status, got),
        (400, rest_error(9, "COMMAND-Wgvn4", "User could not be found"))
    );
}

async fn self_service_contacts(b: Backend) {
    let s = Server::start(b).await;
    let sam = s.create_human(None, "sam").await;
    let (status, session) = sign_in(&s, "sam").await;
    assert_eq!(status, 201, "{session}");
    let token = session["sessionToken"].as_str().unwrap().to_owned();
    let me = |method: &'static str, p: &str, body: Value| {
        let (token, path) = (token.clone(), format!("/v2/users/{sam}/{p}"));
        let s = &s;
        async move { s.call_as(&token, None, method, &path, Some(body)).await }
    };
    // A user may change its own email and verify it with the code...
    let (status, got) = me("POST", "email", json!({"email": "sam@new.example", "returnCode": {}})).await;
    assert_eq!(status, 200, "{got}");
    let code = got["verificationCode"].as_str().unwrap().to_owned();
    let (status, got) = me("POST", "email/verify", json!({"verificationCode": code})).await;
    assert_eq!(status, 200, "{got}");
    let (status, got) = me("POST", "mfa_init_skipped", json!({})).await;
    assert_eq!(status, 200, "{got}");
    // ...but not vouch for an address or number itself.
    let vouching = [
        (
            "POST",
            "email",
            json!({"email": "sam@other.example", "isVerified": true}),
        ),
        ("POST", "phone", json!({"phone": "+41790000000", "isVerified": true})),
    ];
    for (method, p, body) in vouching {
        let (status, got) = me(method, p, body.clone()).await;
        assert_eq!((status, id_of(&got)), (404, json!("AUTHZ-cdgFk")), "{body}");
    }
    let (status, got) = s
        .call_as(
            &token,
            None,
            "PUT",
            &format!("/v2/users/human/{sam}"),
            Some(json!({"phone": {"phone": "+41790000000", "isVerified": true}})),
        )
        .await;
    assert_eq!((status, id_of(&got)), (404, json!("AUTHZ-cdgFk")));
    assert_eq!(s.count_events("user.human.phone.changed").await, 0);
    // Deactivating needs user.write, self or not.
    let (status, got) = me("POST", "deactivate", json!({})).await;
    assert_eq!((status, id_of(&got)), (404, json!("AUTHZ-cdgFk")));
}

/// The same calls over gRPC: status codes and error ids as over REST.
async fn over_grpc(b: Backend) {
    use twofold_proto::zitadel::user::v2::{
        CreateUserRequest, DeactivateUserRequest, ListAuthenticationFactorsRequest, ReactivateUserRequest,
        create_user_request, user_service_client::UserServiceClient,
    };
    let s = Server::start(b).await;
    let org = s.my_org_id().await;
    let mut users = UserServiceClient::with_interceptor(s.channel().await, Bearer(s.token.clone()));
    let created = users
        .create_user(CreateUserRequest {
            organization_id: org,
            user_id: None,
            username: Some("grpc-bot".into()),
            user_type: Some(create_user_request::UserType::Machine(create_user_request::Machine {
                name: "Bot".into(),
                description: None,
            })),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(created.creation_date.is_some());
    let id = created.id;
    let deactivate = DeactivateUserRequest { user_id: id.clone() };
    users.deactivate_user(deactivate.clone()).await.unwrap();
    let again = users.deactivate_user(deactivate).await.unwrap_err();
    assert_eq!(
        (again.code(), error_id(&again)),
        (tonic::Code::FailedPrecondition, "COMMAND-5gunjw0cd7".to_owned())
    );
    users
        .reactivate_user(ReactivateUserRequest { user_id: id.clone() })
        .await
        .unwrap();
    let factors = users
        .list_authentication_factors(ListAuthenticationFactorsRequest {
            user_id: id,
            auth_factors: vec![],
            states: vec![],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(factors.result, vec![]);
    let missing = users
        .deactivate_user(DeactivateUserRequest { user_id: "404".into() })
        .await
        .unwrap_err();
    assert_eq!(
        (missing.code(), error_id(&missing)),
        (tonic::Code::NotFound, "COMMAND-5gp2p62iin".to_owned())
    );
}

/// The 6-character code after "the code " in a mail.
fn mailed_code(mail: &str) -> String {
    let (_, rest) = mail.split_once("the code ").expect("a code in the mail");
    rest.chars().take(6).collect()
}

/// Codes not returned go out through the configured providers and work.
async fn codes_are_delivered(b: Backend) {
    let s = Server::start(b).await;
    let (smtp, mails) = smtp_sink().await;
    let (http, posts) = http_sink().await;
    let smtp_config =
        json!({"senderAddress": "noreply@twofold.test", "senderName": "Twofold", "host": smtp.to_string()});
    let (_, got) = post(&s, "/admin/v1/email/smtp", smtp_config).await;
    let email_id = got["id"].as_str().unwrap().to_owned();
    assert_eq!(
        post(&s, &format!("/admin/v1/email/{email_id}/_activate"), json!({}))
            .await
            .0,
        200
    );
    let sms_config = json!({"endpoint": format!("http://{http}/sms"), "description": "test"});
    let (_, got) = post(&s, "/admin/v1/sms/http", sms_config).await;
    let sms_id = got["id"].as_str().unwrap().to_owned();
    assert_eq!(
        post(&s, &format!("/admin/v1/sms/{sms_id}/_activate"), json!({}))
            .await
            .0,
        200
    );

    let org = s.my_org_id().await;
    let (status, got) = post(
        &s,
        "/v2/users/new",
        json!({
            "organizationId": org,
            "username": "nina",
            "human": {
                "profile": {"givenName": "Nina", "familyName": "N"},
                "email": {"email": "nina@example.com", "isVerified": false},
                "phone": {"phone": "+41790000077", "returnCode": {}},
            },
        }),
    )
    .await;
    assert_eq!(status, 200, "{got}");
    let nina = got["id"].as_str().unwrap().to_owned();
    let user = |p: &str| format!("/v2/users/{nina}/{p}");

    // Link templates are checked when given, and rendered into the mail.
    for (template, id) in [
        ("https://l/{{.Code", "DOMAIN-oGh5e"),
        ("https://l/{{.Secret}}", "DOMAIN-ieYa7"),
    ] {
        let body = json!({"sendCode": {"urlTemplate": template}});
        let (status, got) = post(&s, &user("email/send"), body).await;
        assert_eq!((status, got), (400, rest_error(3, id, "URL Template is invalid")));
        let body = json!({"sendCode": {"urlTemplate": template}});
        let (status, got) = post(&s, &user("invite_code"), body).await;
        assert_eq!((status, got), (400, rest_error(3, id, "URL Template is invalid")));
    }
    assert_eq!(s.count_events("user.human.email.code.added").await, 0);
    let template = "https://login.test/verify?code={{.Code}}&userId={{.UserID}}&organization={{.OrgID}}";
    let (status, got) = post(&s, &user("email/send"), json!({"sendCode": {"urlTemplate": template}})).await;
    assert_eq!((status, got.get("verificationCode")), (200, None), "{got}");
    let (envelope, mail) = mails.wait_for(1).await;
    assert!(envelope.contains("nina@example.com"), "{envelope}");
    assert!(mail.contains("Subject: Verify email"), "{mail}");
    let link = format!(
        "https://login.test/verify?code={}&userId={nina}&organization={org}",
        mailed_code(&mail)
    );
    assert!(mail.replace("=\n", "").replace("=3D", "=").contains(&link), "{mail}");
    let (status, got) = post(
        &s,
        &user("email/verify"),
        json!({"verificationCode": mailed_code(&mail)}),
    )
    .await;
    assert_eq!(status, 200, "{got}");

    let (status, got) = post(&s, &user("phone/resend"), json!({"sendCode": {}})).await;
    assert_eq!((status, got.get("verificationCode")), (200, None), "{got}");
    let (_, body) = posts.wait_for(1).await;
    let sms: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(sms["contextInfo"]["recipientPhoneNumber"], "+41790000077");
    let code = sms["args"]["oTP"].as_str().unwrap().to_owned();
    let (status, got) = post(&s, &user("phone/verify"), json!({"verificationCode": code})).await;
    assert_eq!(status, 200, "{got}");

    let (status, got) = post(
        &s,
        &user("invite_code"),
        json!({"sendCode": {"applicationName": "Shop", "urlTemplate": "https://login.test/invite?user={{.UserID}}"}}),
    )
    .await;
    assert_eq!(status, 200, "{got}");
    let (_, mail) = mails.wait_for(2).await;
    assert!(mail.contains("Subject: Invitation"), "{mail}");
    assert!(mail.contains("invited to Shop"), "{mail}");
    let link = format!("https://login.test/invite?user={nina}");
    assert!(mail.replace("=\n", "").replace("=3D", "=").contains(&link), "{mail}");
    let (status, got) = post(
        &s,
        &user("invite_code/verify"),
        json!({"verificationCode": mailed_code(&mail)}),
    )
    .await;
    assert_eq!(status, 200, "{got}");
    // Each delivery is recorded on the user.
    for kind in [
        "user.human.email.code.sent",
        "user.human.phone.code.sent",
        "user.human.invite.code.sent",
    ] {
        for _ in 0..50 {
            if s.count_events(kind).await == 1 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(s.count_events(kind).await, 1, "{kind}");
    }
}

/// UpdateHumanUser and UpdateUser set a password as SetPassword does
/// (complexity, proof, `user.write` without a proof even on oneself),
/// together with the other changes or not at all.
async fn update_with_a_password(b: Backend) {
    const NEW: &str = "N3w!password-Twofold";
    const NEWER: &str = "N3wer!password-Twofold";
    let s = Server::start(b).await;
    let id = s.create_human(None, "ida").await;
    let path = format!("/v2/users/human/{id}");
    let signs_in = |name: &'static str, password: &'static str| {
        let s = &s;
        async move {
            let body = json!({"checks": {"user": {"loginName": name}, "password": {"password": password}}});
            post(s, "/v2/sessions", body).await.0 == 201
        }
    };

    // An administrator: the password and the user name in one update.
    let (status, got) = s
        .call(
            "PUT",
            &path,
            Some(json!({"username": "ida-b", "password": {"password": {"password": NEW}}})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert!(signs_in("ida-b", NEW).await);
    assert!(!signs_in("ida-b", PASSWORD).await);
    assert_eq!(s.count_events("user.human.password.changed").await, 1);

    // A wrong current password: its failure alone is stored.
    let failed = s.count_events("user.human.password.check.failed").await;
    let (status, got) = s
        .call(
            "PUT",
            &path,
            Some(json!({
                "username": "ida-c",
                "password": {"password": {"password": NEWER}, "currentPassword": "Wr0ng!password"},
            })),
        )
        .await;
    assert_eq!((status, id_of(&got)), (400, json!("COMMAND-3M0fs")), "{got}");
    assert_eq!(s.count_events("user.human.password.check.failed").await, failed + 1);
    assert_eq!(s.count_events("user.username.changed").await, 1);
    assert!(signs_in("ida-b", NEW).await);

    // The user itself: with the current password, but not without a proof.
    let body = json!({"checks": {"user": {"loginName": "ida-b"}, "password": {"password": NEW}}});
    let (_, session) = post(&s, "/v2/sessions", body).await;
    let token = session["sessionToken"].as_str().unwrap().to_owned();
    let (status, got) = s
        .call_as(
            &token,
            None,
            "PUT",
            &path,
            Some(json!({"password": {"password": {"password": NEWER}}})),
        )
        .await;
    assert_eq!(status, 404, "{got}");
    assert_eq!(id_of(&got), json!("AUTHZ-cdgFk"), "{got}");
    let (status, got) = s
        .call_as(
            &token,
            None,
            "PUT",
            &path,
            Some(json!({"password": {"password": {"password": NEWER}, "currentPassword": NEW}})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert!(signs_in("ida-b", NEWER).await);

    // UpdateUser takes it the same way; a hashed password is not taken.
    let (status, got) = s
        .call(
            "PATCH",
            &format!("/v2/users/{id}"),
            Some(json!({"human": {"password": {"password": {"password": NEW, "changeRequired": true}}}})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert!(signs_in("ida-b", NEW).await);
    let (_, got) = s.call("GET", &format!("/v2/users/{id}"), None).await;
    assert_eq!(got["user"]["human"]["passwordChangeRequired"], true, "{got}");
    let (status, got) = s
        .call(
            "PATCH",
            &format!("/v2/users/{id}"),
            Some(json!({"human": {"password": {"hashedPassword": {"hash": "$2a$10$x"}}}})),
        )
        .await;
    assert_eq!(status, 400, "{got}");
    assert_eq!(s.count_events("user.human.password.changed").await, 3);
}
