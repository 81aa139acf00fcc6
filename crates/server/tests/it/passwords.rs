//! Setting and resetting passwords (UserService v2 `SetPassword`,
//! `PasswordReset`): the complexity policy of the user's org on every set,
//! reset codes, the current password as proof, and who may do what.

use serde_json::{Value, json};

use crate::fixtures::PASSWORD;
use crate::harness::{Backend, Server, backend_tests, error_id, rest_error};

backend_tests!(
    set_password_follows_the_complexity_policy,
    reset_by_code,
    change_with_current_password,
    who_may_set_a_password,
    v1_password_calls,
    reset_link_by_email
);

const NEW: &str = "N3w!password-Twofold";

/// Opens a session with a password; the status and answer.
async fn sign_in(s: &Server, login: &str, password: &str) -> (u16, Value) {
    s.call(
        "POST",
        "/v2/sessions",
        Some(json!({"checks": {"user": {"loginName": login}, "password": {"password": password}}})),
    )
    .await
}

async fn set_password(s: &Server, id: &str, body: Value) -> (u16, Value) {
    s.call("POST", &format!("/v2/users/{id}/password"), Some(body)).await
}

async fn reset_code(s: &Server, id: &str) -> String {
    let (status, got) = s
        .call(
            "POST",
            &format!("/v2/users/{id}/password_reset"),
            Some(json!({"returnCode": {}})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    let code = got["verificationCode"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 6);
    assert!(
        code.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()),
        "{code}"
    );
    code
}

/// A human in `org` with `password`; returns its ID.
async fn human_with_password(s: &Server, org: &str, username: &str, password: &str) -> String {
    let (status, got) = s
        .call(
            "POST",
            "/v2/users/human",
            Some(json!({
                "username": username,
                "profile": {"givenName": "Bob", "familyName": "B"},
                "email": {"email": format!("{username}@example.com"), "isVerified": true},
                "password": {"password": password},
                "organization": {"orgId": org},
            })),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    got["userId"].as_str().unwrap().to_owned()
}

fn invalid_password(id: &str, message: &str) -> Value {
    rest_error(3, id, message)
}

async fn set_password_follows_the_complexity_policy(b: Backend) {
    let s = Server::start(b).await;
    let id = s.create_human(None, "alice").await;
    // Each rule of the instance default (8 bytes, all four classes), in ZITADEL's order.
    for (password, want_id, message) in [
        ("Sh0rt!", "DOMAIN-HuJf6", "Password is too short"),
        ("NOLOWER1!", "DOMAIN-co3Xw", "Password must contain lower case"),
        ("noupper1!", "DOMAIN-VoaRj", "Password must contain upper case"),
        ("NoNumber!", "DOMAIN-ZBv4H", "Password must contain number"),
        ("NoSymbol1", "DOMAIN-ZDLwA", "Password must contain symbol"),
    ] {
        let (status, got) = set_password(&s, &id, json!({"newPassword": {"password": password}})).await;
        assert_eq!((status, got), (400, invalid_password(want_id, message)), "{password}");
    }
    assert_eq!(s.count_events("user.human.password.changed").await, 0);
    // Nothing changed: the old password still signs in.
    assert_eq!(sign_in(&s, "alice", PASSWORD).await.0, 201);

    // The policy of the user's org counts: a custom one there applies.
    let org = s.create_org("Strict").await;
    let (status, got) = s
        .call_in(
            &org,
            "POST",
            "/management/v1/policies/password/complexity",
            Some(json!({"minLength": "24"})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    let strict = human_with_password(&s, &org, "bob", "Bob-has-a-long-passw0rd!").await;
    let (status, got) = set_password(&s, &strict, json!({"newPassword": {"password": NEW}})).await;
    assert_eq!(
        (status, got),
        (400, invalid_password("DOMAIN-HuJf6", "Password is too short"))
    );

    let (_, before) = sign_in(&s, "alice", PASSWORD).await;
    let session = before["sessionId"].as_str().unwrap().to_owned();
    let (status, got) = set_password(
        &s,
        &id,
        json!({"newPassword": {"password": NEW, "changeRequired": true}}),
    )
    .await;
    assert_eq!(status, 200, "{got}");
    let changed_at = got["details"]["changeDate"].clone();
    assert!(changed_at.is_string(), "{got}");
    // A session's password check made before the change no longer counts.
    let (_, got) = s.call("GET", &format!("/v2/sessions/{session}"), None).await;
    assert!(got["session"]["factors"]["user"].is_object(), "{got}");
    assert_eq!(got["session"]["factors"].get("password"), None, "{got}");
    assert_eq!(sign_in(&s, "alice", NEW).await.0, 201);
    let (status, got) = sign_in(&s, "alice", PASSWORD).await;
    assert_eq!(
        (status, got),
        (400, rest_error(3, "COMMAND-3M0fs", "Password is invalid"))
    );
    let (_, got) = s.call("GET", &format!("/v2/users/{id}"), None).await;
    assert_eq!(got["user"]["human"]["passwordChangeRequired"], true);
    assert_eq!(got["user"]["human"]["passwordChanged"], changed_at);
    let changed = s.event_payloads("user.human.password.changed").await;
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0]["changeRequired"], true);
    assert!(changed[0]["encodedHash"].as_str().unwrap().starts_with("$argon2id$"));
    assert!(!s.stored_text().await.contains(NEW));
}

async fn reset_by_code(b: Backend) {
    let s = Server::start(b).await;
    let id = s.create_human(None, "carol").await;
    let code = reset_code(&s, &id).await;
    let with_code =
        |password: &str, code: &str| json!({"newPassword": {"password": password}, "verificationCode": code});

    let (status, got) = set_password(&s, &id, with_code(NEW, "WRONG1")).await;
    assert_eq!((status, got), (400, rest_error(3, "CODE-woT0xc", "Code is invalid")));
    // A weak password is refused before the code is looked at; the code stays usable.
    let (status, got) = set_password(&s, &id, with_code("weak", &code)).await;
    assert_eq!(
        (status, got),
        (400, invalid_password("DOMAIN-HuJf6", "Password is too short"))
    );
    assert_eq!(sign_in(&s, "carol", PASSWORD).await.0, 201);

    let (status, got) = set_password(&s, &id, with_code(NEW, &code)).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(sign_in(&s, "carol", NEW).await.0, 201);
    assert_eq!(sign_in(&s, "carol", PASSWORD).await.0, 400);
    // Single use.
    let (status, got) = set_password(&s, &id, with_code("An0ther!password", &code)).await;
    assert_eq!((status, got), (400, rest_error(9, "COMMAND-2M9fs", "Code not found")));

    // A code stands a few wrong guesses only, then it is void.
    let code = reset_code(&s, &id).await;
    for _ in 0..5 {
        let (status, _) = set_password(&s, &id, with_code("An0ther!password", "GUESS1")).await;
        assert_eq!(status, 400);
    }
    let (status, got) = set_password(&s, &id, with_code("An0ther!password", &code)).await;
    assert_eq!((status, got["details"][0]["id"].clone()), (400, json!("COMMAND-2M9fs")));

    // Codes are stored as keyed hashes only; each request is an event.
    let added = s.event_payloads("user.human.password.code.added").await;
    assert_eq!(added.len(), 2);
    assert_eq!(added[0]["code_returned"], true);
    assert!(added[0].get("code").is_none(), "{}", added[0]);
    assert!(!s.stored_text().await.contains(&code));

    // Sending: the link template must render; unknown users are 404.
    let (status, got) = s
        .call(
            "POST",
            &format!("/v2/users/{id}/password_reset"),
            Some(json!({"sendLink": {"notificationType": "NOTIFICATION_TYPE_Email", "urlTemplate": "https://x/{{.Secret}}"}})),
        )
        .await;
    assert_eq!(
        (status, got),
        (400, rest_error(3, "DOMAIN-ieYa7", "URL Template is invalid"))
    );
    let (status, got) = s
        .call(
            "POST",
            &format!("/v2/users/{id}/password_reset"),
            Some(json!({"sendLink": {"urlTemplate": "https://login.example.com/set?code={{.Code}}&user={{.UserID}}"}})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert!(got.get("verificationCode").is_none(), "{got}");
    let (status, got) = s
        .call(
            "POST",
            "/v2/users/123456789/password_reset",
            Some(json!({"returnCode": {}})),
        )
        .await;
    assert_eq!(
        (status, got),
        (404, rest_error(5, "COMMAND-SAF4f", "User could not be found"))
    );

    // gRPC: the same rules.
    use twofold_proto::zitadel::user::v2::{
        Password, SetPasswordRequest, set_password_request::Verification, user_service_client::UserServiceClient,
    };
    let mut users = UserServiceClient::with_interceptor(s.channel().await, crate::harness::Bearer(s.token.clone()));
    let e = users
        .set_password(SetPasswordRequest {
            user_id: id.clone(),
            new_password: Some(Password {
                password: "An0ther!password".into(),
                change_required: false,
            }),
            verification: Some(Verification::VerificationCode("WRONG1".into())),
        })
        .await
        .unwrap_err();
    // (the link sent above holds a pending code)
    assert_eq!(
        (e.code(), error_id(&e)),
        (tonic::Code::InvalidArgument, "CODE-woT0xc".into())
    );
}

async fn change_with_current_password(b: Backend) {
    let s = Server::start(b).await;
    let id = s.create_human(None, "dave").await;
    // The user changes its own password with a session token as bearer.
    let (_, session) = sign_in(&s, "dave", PASSWORD).await;
    let token = session["sessionToken"].as_str().unwrap().to_owned();
    let path = format!("/v2/users/{id}/password");
    let change = |current: &str, new: &str| json!({"newPassword": {"password": new}, "currentPassword": current});

    let (status, got) = s
        .call_as(&token, None, "POST", &path, Some(change("Wr0ng!password", NEW)))
        .await;
    assert_eq!(
        (status, got),
        (400, rest_error(3, "COMMAND-3M0fs", "Password is invalid"))
    );
    assert_eq!(s.count_events("user.human.password.check.failed").await, 1);
    let (status, got) = s
        .call_as(&token, None, "POST", &path, Some(change(PASSWORD, PASSWORD)))
        .await;
    assert_eq!(
        (status, got),
        (
            400,
            rest_error(
                9,
                "COMMAND-Aesh5",
                "New password cannot be the same as your current password"
            )
        )
    );
    let (status, got) = s
        .call_as(&token, None, "POST", &path, Some(change(PASSWORD, "weak")))
        .await;
    assert_eq!(
        (status, got),
        (400, invalid_password("DOMAIN-HuJf6", "Password is too short"))
    );
    // Without a proof the user needs user.write, even on itself.
    let (status, got) = s
        .call_as(
            &token,
            None,
            "POST",
            &path,
            Some(json!({"newPassword": {"password": NEW}})),
        )
        .await;
    assert_eq!(
        (status, got),
        (404, rest_error(5, "AUTHZ-cdgFk", "membership not found"))
    );
    let (status, got) = s
        .call_as(&token, None, "POST", &path, Some(change(PASSWORD, NEW)))
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(sign_in(&s, "dave", NEW).await.0, 201);
    assert_eq!(sign_in(&s, "dave", PASSWORD).await.0, 400);

    // Wrong current passwords count toward the lockout policy.
    let (status, got) = s
        .call(
            "PUT",
            "/admin/v1/policies/password/lockout",
            Some(json!({"maxPasswordAttempts": 2})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(sign_in(&s, "dave", NEW).await.0, 201, "a success resets the count");
    let wrong = change("Wr0ng!password", "An0ther!password");
    let state = || async { s.call("GET", &format!("/v2/users/{id}"), None).await.1["user"]["state"].clone() };
    let (status, got) = set_password(&s, &id, wrong.clone()).await;
    assert_eq!((status, got["details"][0]["id"].clone()), (400, json!("COMMAND-3M0fs")));
    assert_eq!(state().await, "USER_STATE_ACTIVE");
    let (status, got) = set_password(&s, &id, wrong).await;
    assert_eq!((status, got["details"][0]["id"].clone()), (400, json!("COMMAND-3M0fs")));
    assert_eq!(state().await, "USER_STATE_LOCKED");
    let (status, got) = set_password(&s, &id, change(NEW, "An0ther!password")).await;
    assert_eq!(
        (status, got),
        (400, rest_error(9, "COMMAND-JLK35", "Errors.User.Locked"))
    );
}

async fn who_may_set_a_password(b: Backend) {
    let s = Server::start(b).await;
    let org_a = s.create_org("A").await;
    let org_b = s.create_org("B").await;
    let owner_a = s.actor(&org_a, "owner-a", &["ORG_OWNER"], &[]).await;
    let user_a = s.create_human(Some(&org_a), "erin").await;
    let user_b = s.create_human(Some(&org_b), "frank").await;
    let code_b = reset_code(&s, &user_b).await;
    let set = json!({"newPassword": {"password": NEW}});
    let not_found = rest_error(9, "COMMAND-G8dh3", "Password not found");

    // Org B's user looks to org A's owner like one that does not exist,
    // whatever the proof.
    for body in [
        set.clone(),
        json!({"newPassword": {"password": NEW}, "verificationCode": code_b}),
        json!({"newPassword": {"password": NEW}, "currentPassword": PASSWORD}),
    ] {
        let (status, got) = s
            .call_as(
                &owner_a,
                None,
                "POST",
                &format!("/v2/users/{user_b}/password"),
                Some(body),
            )
            .await;
        assert_eq!((status, got), (400, not_found.clone()));
    }
    let (status, got) = s
        .call_as(
            &owner_a,
            None,
            "POST",
            "/v2/users/123456789/password",
            Some(set.clone()),
        )
        .await;
    assert_eq!((status, got), (400, not_found));
    let (status, got) = s
        .call_as(
            &owner_a,
            None,
            "POST",
            &format!("/v2/users/{user_b}/password_reset"),
            Some(json!({"returnCode": {}})),
        )
        .await;
    assert_eq!(
        (status, got),
        (404, rest_error(5, "COMMAND-SAF4f", "User could not be found"))
    );
    assert_eq!(s.count_events("user.human.password.changed").await, 0);
    assert_eq!(sign_in(&s, "frank", PASSWORD).await.0, 201);

    // In its own org the owner may.
    let (status, got) = s
        .call_as(
            &owner_a,
            None,
            "POST",
            &format!("/v2/users/{user_a}/password"),
            Some(set),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(sign_in(&s, "erin", NEW).await.0, 201);
}

async fn v1_password_calls(b: Backend) {
    let s = Server::start(b).await;
    let id = s.create_human(None, "gina").await;
    let other_org = s.create_org("Other").await;
    let outsider = s.create_human(Some(&other_org), "hank").await;

    // Management SetHumanPassword: the org's policy, change required unless said otherwise.
    let path = format!("/management/v1/users/{id}/password");
    let (status, got) = s.call("POST", &path, Some(json!({"password": "NoSymbol1"}))).await;
    assert_eq!(
        (status, got),
        (400, invalid_password("DOMAIN-ZDLwA", "Password must contain symbol"))
    );
    let (status, got) = s.call("POST", &path, Some(json!({"password": NEW}))).await;
    assert_eq!(status, 200, "{got}");
    assert!(got["details"]["changeDate"].is_string(), "{got}");
    let (_, got) = s.call("GET", &format!("/v2/users/{id}"), None).await;
    assert_eq!(got["user"]["human"]["passwordChangeRequired"], true);
    assert_eq!(sign_in(&s, "gina", NEW).await.0, 201);
    // Only users of the context org.
    let (status, got) = s
        .call(
            "POST",
            &format!("/management/v1/users/{outsider}/password"),
            Some(json!({"password": NEW, "noChangeRequired": true})),
        )
        .await;
    assert_eq!(
        (status, got),
        (400, rest_error(9, "COMMAND-G8dh3", "Password not found"))
    );

    // Management SendHumanResetPasswordNotification: a code with the default link.
    let (status, got) = s
        .call(
            "POST",
            &format!("/management/v1/users/{id}/password/_reset"),
            Some(json!({"type": "TYPE_EMAIL"})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    let added = s.event_payloads("user.human.password.code.added").await;
    assert_eq!(added.len(), 1);
    assert_eq!(added[0]["notificationType"], 0);
    let template = added[0]["url_template"].as_str().unwrap();
    assert!(
        template.contains("/ui/v2/login/password/set?code={{.Code}}&userId={{.UserID}}"),
        "{template}"
    );
    let (status, got) = s
        .call(
            "POST",
            &format!("/management/v1/users/{outsider}/password/_reset"),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (status, got),
        (404, rest_error(5, "COMMAND-SAF4f", "User could not be found"))
    );

    // Auth UpdateMyPassword: the user's own, with the old password as proof.
    let (_, session) = sign_in(&s, "gina", NEW).await;
    let token = session["sessionToken"].as_str().unwrap().to_owned();
    let update = |old: &str, new: &str| Some(json!({"oldPassword": old, "newPassword": new}));
    let me = "/auth/v1/users/me/password";
    let (status, got) = s
        .call_as(&token, None, "PUT", me, update("Wr0ng!password", "An0ther!password"))
        .await;
    assert_eq!(
        (status, got),
        (400, rest_error(3, "COMMAND-3M0fs", "Password is invalid"))
    );
    let (status, got) = s
        .call_as(&token, None, "PUT", me, update(NEW, "an0ther!password"))
        .await;
    assert_eq!(
        (status, got),
        (
            400,
            invalid_password("DOMAIN-VoaRj", "Password must contain upper case")
        )
    );
    let (status, got) = s
        .call_as(&token, None, "PUT", me, update(NEW, "An0ther!password"))
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(sign_in(&s, "gina", "An0ther!password").await.0, 201);
    assert_eq!(sign_in(&s, "gina", NEW).await.0, 400);
    let (_, got) = s.call("GET", &format!("/v2/users/{id}"), None).await;
    // A password the user chose itself needs no change (false is omitted).
    assert_eq!(got["user"]["human"].get("passwordChangeRequired"), None, "{got}");
}

async fn reset_link_by_email(b: Backend) {
    let s = Server::start(b).await;
    let (smtp, mails) = crate::sinks::smtp_sink().await;
    let (status, got) = s
        .call(
            "POST",
            "/admin/v1/email/smtp",
            Some(json!({"senderAddress": "noreply@twofold.test", "senderName": "Twofold", "host": smtp.to_string()})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    let activate = format!("/admin/v1/email/{}/_activate", got["id"].as_str().unwrap());
    assert_eq!(s.call("POST", &activate, Some(json!({}))).await.0, 200);
    let id = s.create_human(None, "iris").await;

    let (status, got) = s
        .call(
            "POST",
            &format!("/v2/users/{id}/password_reset"),
            Some(json!({"sendLink": {"urlTemplate": "https://l.test/s?c={{.Code}}&u={{.UserID}}"}})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert!(got.get("verificationCode").is_none(), "sent, not returned: {got}");
    let (envelope, mail) = mails.wait_for(1).await;
    assert!(envelope.contains("iris@example.com"), "{envelope}");
    assert!(mail.contains("Subject: Reset password"), "{mail}");
    // Undo quoted-printable soft breaks and escapes, if the mailer used them.
    let text = mail.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=");
    let link = text
        .split_whitespace()
        .find(|w| w.starts_with("https://l.test/s?c="))
        .unwrap_or_else(|| panic!("a link in {text}"));
    let (code, user) = link
        .trim_start_matches("https://l.test/s?c=")
        .split_once("&u=")
        .unwrap();
    assert_eq!(user, id);
    let (status, got) = set_password(
        &s,
        &id,
        json!({"newPassword": {"password": NEW}, "verificationCode": code}),
    )
    .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(sign_in(&s, "iris", NEW).await.0, 201);
    // The delivery is recorded on the user.
    for _ in 0..100 {
        if s.count_events("user.human.password.code.sent").await == 1 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no user.human.password.code.sent event");
}
