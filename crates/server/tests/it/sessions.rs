//! Sign-in sessions that enforce the login policy.

use serde_json::{Value, json};
use webauthn_authenticator_rs::prelude::{
    CreationChallengeResponse, RequestChallengeResponse, Url, WebauthnAuthenticator,
};
use webauthn_authenticator_rs::softtoken::SoftToken;

use crate::fixtures::{PASSWORD, base32_decode, now, totp};
use crate::harness::{Backend, Server, backend_tests, rest_error};

backend_tests!(
    full_sign_in_and_replay,
    policy_is_enforced_live,
    brute_force_is_throttled,
    otp_sms_and_email_challenges,
    security_key_and_recovery_code_checks,
    force_mfa_on_session_tokens,
    session_errors,
    concurrent_replays_one_wins,
    lockout_policy_locks_and_unlock_restores,
    settings_service,
    self_service_security_key,
);

/// Waits while the current 30 s step is about to end, so codes computed
/// from one `now()` stay valid for the test's few requests.
pub(crate) async fn fresh_step() -> u64 {
    while now() % 30 > 25 {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    now()
}

/// A human with a verified TOTP (enrolled with the previous step's code,
/// which is thereby used up); returns (user id, TOTP seed).
pub(crate) async fn enrolled(s: &Server, org: Option<&str>, name: &str, t: u64) -> (String, Vec<u8>) {
    let user = s.create_human(org, name).await;
    let (_, reg) = s.call("POST", &format!("/v2/users/{user}/totp"), Some(json!({}))).await;
    let seed = base32_decode(reg["secret"].as_str().unwrap());
    let (status, got) = s
        .call(
            "POST",
            &format!("/v2/users/{user}/totp/verify"),
            Some(json!({"code": totp(&seed, t - 30)})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    (user, seed)
}

pub(crate) async fn create(s: &Server, name: &str) -> (String, String) {
    let (status, got) = s
        .call(
            "POST",
            "/v2/sessions",
            Some(json!({"checks": {"user": {"loginName": name}, "password": {"password": PASSWORD}}})),
        )
        .await;
    assert_eq!(status, 201, "{got}");
    (
        got["sessionId"].as_str().unwrap().to_owned(),
        got["sessionToken"].as_str().unwrap().to_owned(),
    )
}

async fn set(s: &Server, id: &str, body: Value) -> (u16, Value) {
    s.call("PATCH", &format!("/v2/sessions/{id}"), Some(body)).await
}

pub(crate) async fn check_totp(s: &Server, id: &str, code: &str) -> (u16, Value) {
    set(s, id, json!({"checks": {"totp": {"code": code}}})).await
}

async fn full_sign_in_and_replay(b: Backend) {
    let s = Server::start(b).await;
    let t = fresh_step().await;
    let (user, seed) = enrolled(&s, None, "alice", t).await;
    let (id, token) = create(&s, "alice").await;

    let (status, got) = check_totp(&s, &id, &totp(&seed, t)).await;
    assert_eq!(status, 200, "{got}");
    let new_token = got["sessionToken"].as_str().unwrap().to_owned();
    assert_ne!(new_token, token, "the token rotates");
    assert_eq!(got["details"]["resourceOwner"], s.instance_id().await);

    let (status, got) = s
        .call("GET", &format!("/v2/sessions/{id}?sessionToken={new_token}"), None)
        .await;
    assert_eq!(status, 200, "{got}");
    let f = &got["session"]["factors"];
    assert_eq!(f["user"]["id"], user);
    assert_eq!(f["user"]["loginName"], "alice");
    for factor in ["user", "password", "totp"] {
        assert!(
            f[factor]["verifiedAt"].as_str().unwrap().ends_with('Z'),
            "{factor}: {f}"
        );
    }
    let (status, _) = s
        .call("GET", &format!("/v2/sessions/{id}?sessionToken={token}"), None)
        .await;
    assert_eq!(status, 403, "the old token stopped working");

    // The same code again, in this session or another one: refused.
    let (status, got) = check_totp(&s, &id, &totp(&seed, t)).await;
    assert_eq!(
        (status, got["details"][0]["id"].clone()),
        (400, json!("SESSION-R3play"))
    );
    let (other, _) = create(&s, "alice").await;
    let (status, got) = check_totp(&s, &other, &totp(&seed, t)).await;
    assert_eq!(
        (status, got["details"][0]["id"].clone()),
        (400, json!("SESSION-R3play"))
    );
    // The enrolment code was consumed too.
    let (status, _) = check_totp(&s, &other, &totp(&seed, t - 30)).await;
    assert_eq!(status, 400);
    // The next step's code works.
    let (status, got) = check_totp(&s, &other, &totp(&seed, t + 30)).await;
    assert_eq!(status, 200, "{got}");
}

async fn policy_is_enforced_live(b: Backend) {
    let s = Server::start(b).await;
    let bank = s.create_org("Bank").await;
    let (status, _) = s
        .call_in(
            &bank,
            "POST",
            "/management/v1/policies/login",
            Some(json!({"allowUsernamePassword": true, "secondFactors": [1]})),
        )
        .await;
    assert_eq!(status, 200);
    let t = fresh_step().await;
    let (_, bob_seed) = enrolled(&s, None, "bob", t).await;
    let (_, carol_seed) = enrolled(&s, Some(&bank), "carol", t).await;
    let (bob, _) = create(&s, "bob").await;
    let (carol, _) = create(&s, "carol").await;

    let (status, _) = s
        .call(
            "DELETE",
            "/admin/v1/policies/login/second_factors/SECOND_FACTOR_TYPE_OTP",
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, got) = check_totp(&s, &bob, &totp(&bob_seed, t)).await;
    assert_eq!(status, 400, "{got}");
    assert_eq!(got["code"], 9);
    assert_eq!(got["details"][0]["id"], "SESSION-F4ct0");
    assert!(
        got["message"].as_str().unwrap().contains("SECOND_FACTOR_TYPE_OTP"),
        "{got}"
    );
    // The bank's own policy still allows OTP.
    let (status, got) = check_totp(&s, &carol, &totp(&carol_seed, t)).await;
    assert_eq!(status, 200, "{got}");

    let (status, _) = s
        .call(
            "POST",
            "/admin/v1/policies/login/second_factors",
            Some(json!({"type": 1})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, got) = check_totp(&s, &bob, &totp(&bob_seed, t)).await;
    assert_eq!(status, 200, "the refused check did not use the code up: {got}");

    // Password sign-in can be switched off too.
    let bank_policy = json!({"allowUsernamePassword": false});
    s.call_in(&bank, "PUT", "/management/v1/policies/login", Some(bank_policy))
        .await;
    let (status, got) = s
        .call(
            "POST",
            "/v2/sessions",
            Some(json!({"checks": {"user": {"loginName": "carol"}, "password": {"password": PASSWORD}}})),
        )
        .await;
    assert_eq!((status, got["details"][0]["id"].clone()), (400, json!("SESSION-PwN0t")));
}

async fn brute_force_is_throttled(b: Backend) {
    let s = Server::start_args(b, &["--otp-throttle-seconds", "2"]).await;
    let t = fresh_step().await;
    let (_, seed) = enrolled(&s, None, "mallory", t).await;
    let (id, _) = create(&s, "mallory").await;
    let good = totp(&seed, t);
    let wrong = format!("{:06}", (good.parse::<u32>().unwrap() + 1) % 1_000_000);
    for _ in 0..5 {
        let (status, got) = check_totp(&s, &id, &wrong).await;
        assert_eq!((status, got["details"][0]["id"].clone()), (400, json!("EVENT-8isk2")));
    }
    let resp = s
        .req("PATCH", &format!("/v2/sessions/{id}"))
        .json(&json!({"checks": {"totp": {"code": good}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    let retry: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        (body["code"].clone(), body["details"][0]["id"].clone()),
        (json!(8), json!("SESSION-Thr0t"))
    );
    assert_eq!(
        s.count_events("user.human.mfa.otp.check.failed").await,
        5,
        "refused checks are not counted"
    );
    // That a right code works once the window is over is tested on a
    // settable clock: crates/app/tests/sign_in.rs.
}

async fn otp_sms_and_email_challenges(b: Backend) {
    let s = Server::start(b).await;
    let (status, _) = s
        .call(
            "POST",
            "/admin/v1/policies/login/second_factors",
            Some(json!({"type": 3})),
        )
        .await;
    assert_eq!(status, 200);
    let (_, got) = s
        .call(
            "POST",
            "/v2/users/human",
            Some(json!({
                "username": "otto",
                "profile": {"givenName": "Otto", "familyName": "O"},
                "email": {"email": "otto@example.com", "isVerified": true},
                "phone": {"phone": "+41790000009", "isVerified": true},
                "password": {"password": PASSWORD},
            })),
        )
        .await;
    let user = got["userId"].as_str().unwrap().to_owned();
    s.call("POST", &format!("/v2/users/{user}/otp_sms"), Some(json!({})))
        .await;
    s.call("POST", &format!("/v2/users/{user}/otp_email"), Some(json!({})))
        .await;
    let (id, _) = create(&s, "otto").await;

    // SMS is not an allowed factor of the default policy.
    let (status, got) = set(&s, &id, json!({"challenges": {"otpSms": {"returnCode": true}}})).await;
    assert_eq!((status, got["details"][0]["id"].clone()), (400, json!("SESSION-F4ct0")));
    let (status, got) = set(&s, &id, json!({"challenges": {"otpEmail": {"returnCode": {}}}})).await;
    assert_eq!(status, 200, "{got}");
    let code = got["challenges"]["otpEmail"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 8);
    assert!(code.chars().all(|c| c.is_ascii_digit()));
    let (status, got) = set(&s, &id, json!({"checks": {"otpEmail": {"code": "00000000"}}})).await;
    assert_eq!((status, got), (400, rest_error(3, "CODE-woT0xc", "Code is invalid")));
    let (status, got) = set(&s, &id, json!({"checks": {"otpEmail": {"code": code}}})).await;
    assert_eq!(status, 200, "{got}");
    let (status, got) = set(&s, &id, json!({"checks": {"otpEmail": {"code": code}}})).await;
    assert_eq!(
        (status, got),
        (400, rest_error(9, "COMMAND-S34gh", "Code not found")),
        "single use"
    );
    assert!(!s.stored_text().await.contains(&code), "codes are stored hashed");

    s.call(
        "POST",
        "/admin/v1/policies/login/second_factors",
        Some(json!({"type": 4})),
    )
    .await;
    let (_, got) = set(&s, &id, json!({"challenges": {"otpSms": {"returnCode": true}}})).await;
    let code = got["challenges"]["otpSms"].as_str().unwrap().to_owned();
    let (status, _) = set(&s, &id, json!({"checks": {"otpSms": {"code": code}}})).await;
    assert_eq!(status, 200);
    let (_, got) = s.call("GET", &format!("/v2/sessions/{id}"), None).await;
    let f = &got["session"]["factors"];
    assert!(
        f["otpSms"]["verifiedAt"].is_string() && f["otpEmail"]["verifiedAt"].is_string(),
        "{f}"
    );
}

async fn security_key_and_recovery_code_checks(b: Backend) {
    let s = Server::start(b).await;
    s.call(
        "POST",
        "/admin/v1/policies/login/second_factors",
        Some(json!({"type": 5})),
    )
    .await;
    let user = s.create_human(None, "kim").await;
    let origin = Url::parse(&format!("http://localhost:{}", s.addr.port())).unwrap();
    let (mut key, _) = SoftToken::new(true).unwrap();
    let (_, reg) = s
        .call(
            "POST",
            &format!("/v2/users/{user}/u2f"),
            Some(json!({"domain": "localhost"})),
        )
        .await;
    let ccr: CreationChallengeResponse =
        serde_json::from_value(reg["publicKeyCredentialCreationOptions"].clone()).unwrap();
    let cred = key.do_registration(origin.clone(), ccr).unwrap();
    let u2f = reg["u2fId"].as_str().unwrap();
    let (status, _) = s
        .call(
            "POST",
            &format!("/v2/users/{user}/u2f/{u2f}"),
            Some(json!({"publicKeyCredential": cred, "tokenName": "key"})),
        )
        .await;
    assert_eq!(status, 200);

    let (id, _) = create(&s, "kim").await;
    let (status, got) = set(&s, &id, json!({"challenges": {"webAuthN": {"domain": "localhost", "userVerificationRequirement": "USER_VERIFICATION_REQUIREMENT_DISCOURAGED"}}})).await;
    assert_eq!(status, 200, "{got}");
    let rcr: RequestChallengeResponse =
        serde_json::from_value(got["challenges"]["webAuthN"]["publicKeyCredentialRequestOptions"].clone()).unwrap();
    let assertion = key.do_authentication(origin, rcr).unwrap();
    let (status, got) = set(
        &s,
        &id,
        json!({"checks": {"webAuthN": {"credentialAssertionData": assertion}}}),
    )
    .await;
    assert_eq!(status, 200, "{got}");
    let (_, got) = s.call("GET", &format!("/v2/sessions/{id}"), None).await;
    assert!(got["session"]["factors"]["webAuthN"]["verifiedAt"].is_string(), "{got}");

    let (_, rc) = s
        .call(
            "POST",
            &format!("/v2/users/{user}/recovery_codes"),
            Some(json!({"count": 2})),
        )
        .await;
    let code = rc["recoveryCodes"][0].as_str().unwrap().to_owned();
    let (status, got) = set(
        &s,
        &id,
        json!({"checks": {"recoveryCode": {"code": code.to_lowercase()}}}),
    )
    .await;
    assert_eq!(status, 200, "{got}");
    let (status, got) = set(&s, &id, json!({"checks": {"recoveryCode": {"code": code}}})).await;
    assert_eq!(
        (status, got),
        (400, rest_error(3, "SESSION-Rc1nv", "Invalid recovery code")),
        "used up"
    );
    let (_, got) = s
        .call("GET", &format!("/v2/users/{user}/authentication_methods"), None)
        .await;
    assert!(
        got["authMethodTypes"]
            .as_array()
            .unwrap()
            .contains(&json!("AUTHENTICATION_METHOD_TYPE_RECOVERY_CODE"))
    );
}

async fn force_mfa_on_session_tokens(b: Backend) {
    let s = Server::start(b).await;
    let (_, policy) = s.call("GET", "/admin/v1/policies/login", None).await;
    let mut p = policy["policy"].clone();
    for k in ["details", "isDefault", "secondFactors", "multiFactors", "idps"] {
        p.as_object_mut().unwrap().remove(k);
    }
    p["forceMfa"] = json!(true);
    let (status, got) = s.call("PUT", "/admin/v1/policies/login", Some(p)).await;
    assert_eq!(status, 200, "{got}");
    s.create_human(None, "fiona").await;
    let (id, token) = create(&s, "fiona").await;

    let (status, got) = s
        .call_as(&token, None, "POST", "/auth/v1/users/me/auth_factors/_search", None)
        .await;
    assert_eq!((status, got), (403, rest_error(7, "AUTHZ-Kl3p0", "mfa required")));
    // Enrolment stays reachable for a user forced into MFA.
    let (status, got) = s
        .call_as(
            &token,
            None,
            "POST",
            "/auth/v1/users/me/auth_factors/otp",
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert!(
        got["url"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/Twofold:fiona?")
    );
    let seed = base32_decode(got["secret"].as_str().unwrap());
    let t = fresh_step().await;
    let (status, got) = s
        .call_as(
            &token,
            None,
            "POST",
            "/auth/v1/users/me/auth_factors/otp/_verify",
            Some(json!({"code": totp(&seed, t - 30)})),
        )
        .await;
    assert_eq!(status, 200, "{got}");

    let (status, got) = set(&s, &id, json!({"checks": {"totp": {"code": totp(&seed, t)}}})).await;
    assert_eq!(status, 200, "{got}");
    let token = got["sessionToken"].as_str().unwrap().to_owned();
    let (status, got) = s
        .call_as(&token, None, "POST", "/auth/v1/users/me/auth_factors/_search", None)
        .await;
    assert_eq!(
        (status, got),
        (
            200,
            json!({"result": [{"state": "AUTH_FACTOR_STATE_READY", "otp": {}}]})
        )
    );
}

async fn session_errors(b: Backend) {
    let s = Server::start(b).await;
    s.create_human(None, "gus").await;
    let (status, got) = s
        .call(
            "POST",
            "/v2/sessions",
            Some(json!({"checks": {"user": {"loginName": "nobody"}}})),
        )
        .await;
    assert_eq!(
        (status, got),
        (404, rest_error(5, "QUERY-Dfbg2", "User could not be found"))
    );
    let (status, got) = s
        .call(
            "POST",
            "/v2/sessions",
            Some(json!({"checks": {"user": {"loginName": "gus"}, "password": {"password": "nope"}}})),
        )
        .await;
    assert_eq!(
        (status, got),
        (400, rest_error(3, "COMMAND-3M0fs", "Password is invalid"))
    );
    assert_eq!(
        s.count_events("session.added").await,
        0,
        "a failed check stores no session"
    );
    assert_eq!(
        s.count_events("user.human.password.check.failed").await,
        1,
        "…but its failure"
    );

    let (id, token) = create(&s, "gus").await;
    let (status, got) = set(&s, &id, json!({"checks": {"totp": {"code": "12345"}}})).await;
    assert_eq!(status, 400);
    assert_eq!(
        got["message"],
        "invalid SetSessionRequest.Checks: embedded message failed validation | caused by: invalid Checks.Totp: embedded message failed validation | caused by: invalid CheckTOTP.Code: value length must be 6 runes"
    );
    let (status, got) = set(&s, &id, json!({"checks": {"totp": {"code": "123456"}}})).await;
    assert_eq!(
        (status, got["details"][0]["id"].clone()),
        (400, json!("COMMAND-3Mif9s"))
    );
    let (status, got) = set(&s, &id, json!({"sessionToken": "wrong", "checks": {}})).await;
    assert_eq!((status, got["details"][0]["id"].clone()), (403, json!("COMMAND-sGr42")));

    let (status, _) = s
        .call(
            "DELETE",
            &format!("/v2/sessions/{id}"),
            Some(json!({"sessionToken": token})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, got) = s.call("GET", &format!("/v2/sessions/{id}"), None).await;
    assert_eq!(
        (status, got),
        (404, rest_error(5, "QUERY-SFeaa", "Session does not exist"))
    );
    let (status, _) = s
        .call_as(&token, None, "POST", "/auth/v1/users/me/auth_factors/_search", None)
        .await;
    assert_eq!(status, 401, "a terminated session's token is dead");
}

async fn concurrent_replays_one_wins(b: Backend) {
    let s = Server::start(b).await;
    let t = fresh_step().await;
    let (_, seed) = enrolled(&s, None, "racer", t).await;
    let mut ids = Vec::new();
    // Five racers: the four refused replays stay under the OTP throttle.
    for _ in 0..5 {
        ids.push(create(&s, "racer").await.0);
    }
    let code = totp(&seed, t);
    let tasks: Vec<_> = ids
        .iter()
        .map(|id| {
            let rb = s
                .req("PATCH", &format!("/v2/sessions/{id}"))
                .json(&json!({"checks": {"totp": {"code": code}}}));
            tokio::spawn(async move { rb.send().await.unwrap().status().as_u16() })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    statuses.sort();
    assert_eq!(statuses, vec![200, 400, 400, 400, 400], "one code, one sign-in");
}

async fn lockout_policy_locks_and_unlock_restores(b: Backend) {
    let s = Server::start(b).await;
    let path = "/admin/v1/policies/password/lockout";
    let (status, got) = s.call("PUT", path, Some(json!({"maxOtpAttempts": 3}))).await;
    assert_eq!(status, 200, "{got}");
    let (status, got) = s.call("PUT", path, Some(json!({"maxOtpAttempts": 3}))).await;
    assert_eq!(
        (status, got),
        (
            400,
            rest_error(9, "INSTANCE-0psjF", "Errors.IAM.LockoutPolicy.NotChanged")
        )
    );
    let (_, got) = s.call("GET", "/admin/v1/policies/lockout", None).await;
    assert_eq!(got["policy"]["maxOtpAttempts"], "3");
    assert_eq!(got["policy"]["isDefault"], true);

    let t = fresh_step().await;
    let (user, seed) = enrolled(&s, None, "locky", t).await;
    let (id, _) = create(&s, "locky").await;
    let wrong = format!("{:06}", (totp(&seed, t).parse::<u32>().unwrap() + 7) % 1_000_000);
    for _ in 0..3 {
        let (status, got) = check_totp(&s, &id, &wrong).await;
        assert_eq!((status, got["details"][0]["id"].clone()), (400, json!("EVENT-8isk2")));
    }
    let (_, got) = s.call("GET", &format!("/v2/users/{user}"), None).await;
    assert_eq!(got["user"]["state"], "USER_STATE_LOCKED", "locked after 3");
    let (status, got) = check_totp(&s, &id, &totp(&seed, t)).await;
    assert_eq!((status, got["details"][0]["id"].clone()), (400, json!("COMMAND-SF3fg")));
    let (status, _) = s
        .call("POST", &format!("/v2/users/{user}/unlock"), Some(json!({})))
        .await;
    assert_eq!(status, 200);
    let (status, got) = check_totp(&s, &id, &totp(&seed, t)).await;
    assert_eq!(status, 200, "{got}");

    // An org's own lockout policy.
    let org = s.create_org("Strict").await;
    let own = "/management/v1/policies/lockout";
    let (status, _) = s
        .call_in(&org, "POST", own, Some(json!({"maxPasswordAttempts": 5})))
        .await;
    assert_eq!(status, 200);
    let (status, got) = s.call_in(&org, "POST", own, Some(json!({}))).await;
    assert_eq!((status, got["details"][0]["id"].clone()), (409, json!("ORG-0olDf")));
    let (status, got) = s
        .call_in(&org, "PUT", own, Some(json!({"maxPasswordAttempts": 5})))
        .await;
    assert_eq!((status, got["details"][0]["id"].clone()), (400, json!("ORG-0JFSr")));
    let (_, got) = s.call_in(&org, "GET", own, None).await;
    assert_eq!(
        (got["policy"]["maxPasswordAttempts"].clone(), got.get("isDefault")),
        (json!("5"), None)
    );
    let (status, _) = s.call_in(&org, "DELETE", own, None).await;
    assert_eq!(status, 200);
    let (status, got) = s.call_in(&org, "DELETE", own, None).await;
    assert_eq!((status, got["details"][0]["id"].clone()), (404, json!("ORG-D4zuz")));
    let (_, got) = s.call_in(&org, "GET", own, None).await;
    assert_eq!(got["isDefault"], true);
}

async fn settings_service(b: Backend) {
    let s = Server::start(b).await;
    let (status, got) = s.call("GET", "/v2/settings/login", None).await;
    assert_eq!(status, 200, "{got}");
    let st = &got["settings"];
    assert_eq!(
        st["secondFactors"],
        json!(["SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_U2F"])
    );
    assert_eq!(st["multiFactors"], json!(["MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"]));
    assert_eq!(st["passkeysType"], "PASSKEYS_TYPE_ALLOWED");
    assert_eq!(st["resourceOwnerType"], "RESOURCE_OWNER_TYPE_INSTANCE");
    assert_eq!(st["secondFactorCheckLifetime"], "64800s");

    let bank = s.create_org("Bank").await;
    s.call_in(
        &bank,
        "POST",
        "/management/v1/policies/login",
        Some(json!({"secondFactors": [2]})),
    )
    .await;
    let (_, got) = s
        .call("GET", &format!("/v2/settings/login?ctx.orgId={bank}"), None)
        .await;
    assert_eq!(got["settings"]["secondFactors"], json!(["SECOND_FACTOR_TYPE_U2F"]));
    assert_eq!(got["settings"]["resourceOwnerType"], "RESOURCE_OWNER_TYPE_ORG");
    assert_eq!(got["details"]["resourceOwner"], bank);
    let (_, got) = s.call("GET", "/v2/settings/login?ctx.instance=true", None).await;
    assert_eq!(got["settings"]["resourceOwnerType"], "RESOURCE_OWNER_TYPE_INSTANCE");

    let (status, got) = s.call("GET", "/v2/settings/lockout", None).await;
    assert_eq!(
        (status, got["settings"].clone()),
        (200, json!({"resourceOwnerType": "RESOURCE_OWNER_TYPE_INSTANCE"}))
    );
}

async fn self_service_security_key(b: Backend) {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    let s = Server::start(b).await;
    s.create_human(None, "selma").await;
    let (_, token) = create(&s, "selma").await;
    let local = format!("http://localhost:{}", s.addr.port());
    let http = reqwest::Client::new();
    let call = |method: &str, path: &str, body: Value| {
        http.request(method.parse().unwrap(), format!("{local}{path}"))
            .bearer_auth(&token)
            .json(&body)
    };

    let (status, got) = s
        .send(call("POST", "/auth/v1/users/me/auth_factors/u2f", json!({})))
        .await;
    assert_eq!(status, 200, "{got}");
    let options: Value =
        serde_json::from_slice(&STANDARD.decode(got["key"]["publicKey"].as_str().unwrap()).unwrap()).unwrap();
    assert_eq!(
        options["publicKey"]["rp"]["id"], "localhost",
        "the relying party is the request's host"
    );
    let (mut key, _) = SoftToken::new(true).unwrap();
    let ccr: CreationChallengeResponse = serde_json::from_value(options).unwrap();
    let cred = key.do_registration(Url::parse(&local).unwrap(), ccr).unwrap();
    let verification =
        json!({"publicKeyCredential": STANDARD.encode(serde_json::to_vec(&cred).unwrap()), "tokenName": "mine"});
    let (status, got) = s
        .send(call(
            "POST",
            "/auth/v1/users/me/auth_factors/u2f/_verify",
            json!({"verification": verification}),
        ))
        .await;
    assert_eq!(status, 200, "{got}");
    let (_, got) = s
        .send(call("POST", "/auth/v1/users/me/auth_factors/_search", json!({})))
        .await;
    let id = got["result"][0]["u2f"]["id"].as_str().unwrap().to_owned();
    assert_eq!(got["result"][0]["u2f"]["name"], "mine");
    let (status, _) = s
        .send(call(
            "DELETE",
            &format!("/auth/v1/users/me/auth_factors/u2f/{id}"),
            json!({}),
        ))
        .await;
    assert_eq!(status, 200);
    let (_, got) = s
        .send(call("POST", "/auth/v1/users/me/auth_factors/_search", json!({})))
        .await;
    assert_eq!(got, json!({}));
}
