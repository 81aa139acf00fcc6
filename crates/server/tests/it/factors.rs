//! Users' second factors: TOTP, OTP SMS/email, recovery codes; who may
//! manage them; and that no secret is ever stored or logged in clear.

use serde_json::{Value, json};

use crate::fixtures::{PASSWORD, base32_decode, now, totp};
use crate::harness::{Backend, Server, backend_tests, rest_error};

backend_tests!(
    totp_life_cycle,
    totp_reregistration_replaces_the_secret,
    otp_sms_and_email,
    recovery_codes,
    who_may_remove_factors,
    no_secret_is_stored_or_logged,
);

/// The same code from Python's standard library, when a python3 is around.
fn python_totp(secret_b32: &str, unix: u64) -> Option<String> {
    let script = "import base64,hmac,hashlib,struct,sys\n\
        k=base64.b32decode(sys.argv[1]);h=hmac.new(k,struct.pack('>Q',int(sys.argv[2])//30),hashlib.sha1).digest()\n\
        o=h[19]&15;print('%06d'%((struct.unpack('>I',h[o:o+4])[0]&0x7fffffff)%1000000))";
    let out = std::process::Command::new("python3")
        .args(["-c", script, secret_b32, &unix.to_string()])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

async fn register(s: &Server, user: &str) -> (u16, Value) {
    s.call("POST", &format!("/v2/users/{user}/totp"), Some(json!({}))).await
}

async fn verify(s: &Server, user: &str, code: &str) -> (u16, Value) {
    s.call(
        "POST",
        &format!("/v2/users/{user}/totp/verify"),
        Some(json!({"code": code})),
    )
    .await
}

async fn totp_life_cycle(b: Backend) {
    let s = Server::start(b).await;
    let user = s.create_human(None, "alice").await;

    let (status, reg) = register(&s, &user).await;
    assert_eq!(status, 200, "{reg}");
    let secret = reg["secret"].as_str().unwrap();
    assert_eq!(secret.len(), 32, "20 bytes, base32 without padding");
    assert_eq!(base32_decode(secret).len(), 20);
    assert_eq!(
        reg["uri"],
        format!("otpauth://totp/Twofold:alice?algorithm=SHA1&digits=6&issuer=Twofold&period=30&secret={secret}")
    );
    let t = now();
    let code = totp(&base32_decode(secret), t);
    match python_totp(secret, t) {
        Some(py) => assert_eq!(py, code, "two independent TOTP implementations agree"),
        None => eprintln!("note: python3 not found; TOTP cross-check skipped"),
    }

    let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 500_000) % 1_000_000);
    let (status, got) = verify(&s, &user, &wrong).await;
    assert_eq!((status, got), (400, rest_error(3, "EVENT-8isk2", "Invalid code")));
    assert_eq!(
        s.count_events("user.human.mfa.otp.verified").await,
        0,
        "a failed check stores nothing"
    );

    let (status, got) = verify(&s, &user, &totp(&base32_decode(secret), now())).await;
    assert_eq!(status, 200, "{got}");
    assert!(got["details"]["changeDate"].is_string());
    let verified = s.event_payloads("user.human.mfa.otp.verified").await;
    assert!(
        verified[0]["step"].as_u64().unwrap() >= t / 30 - 1,
        "the step is recorded as used"
    );

    let list = format!("/management/v1/users/{user}/auth_factors/_search");
    let (status, got) = s.call("POST", &list, None).await;
    assert_eq!(
        (status, got),
        (
            200,
            json!({"result": [{"state": "AUTH_FACTOR_STATE_READY", "otp": {}}]})
        )
    );
    let (_, got) = s
        .call("GET", &format!("/v2/users/{user}/authentication_methods"), None)
        .await;
    assert_eq!(
        got["authMethodTypes"],
        json!(["AUTHENTICATION_METHOD_TYPE_TOTP", "AUTHENTICATION_METHOD_TYPE_PASSWORD"])
    );

    let (status, got) = register(&s, &user).await;
    assert_eq!(
        (status, got),
        (
            409,
            rest_error(
                6,
                "COMMAND-do9se",
                "Multifactor OTP (OneTimePassword) is already set up"
            )
        )
    );
    let (status, got) = verify(&s, &user, "123456").await;
    assert_eq!(
        (status, got),
        (400, rest_error(9, "COMMAND-qx4ls", "Errors.Users.MFA.OTP.AlreadyReady"))
    );

    // An administrator removes it (e.g. after a lost phone).
    let remove = format!("/management/v1/users/{user}/auth_factors/otp");
    let (status, got) = s.call("DELETE", &remove, None).await;
    assert_eq!(status, 200);
    let d = &got["details"];
    assert!(
        d["changeDate"].is_string() && d.get("creationDate").is_none(),
        "change-style: {d}"
    );
    assert_eq!(d["resourceOwner"], s.my_org_id().await);
    let (status, got) = s.call("DELETE", &remove, None).await;
    assert_eq!(
        (status, got),
        (
            404,
            rest_error(5, "COMMAND-Hd9sd", "Multifactor OTP (OneTimePassword) doesn't exist")
        )
    );
    let (_, got) = s.call("POST", &list, None).await;
    assert_eq!(got, json!({}));
    // An unknown user is not found (ZITADEL answers `{}`, which a caller
    // cannot tell from a user of another org without factors).
    let (status, got) = s
        .call("POST", "/management/v1/users/404/auth_factors/_search", None)
        .await;
    assert_eq!(
        (status, got),
        (404, rest_error(5, "QUERY-Dfbg2", "User could not be found"))
    );
}

async fn totp_reregistration_replaces_the_secret(b: Backend) {
    let s = Server::start(b).await;
    let user = s.create_human(None, "bob").await;
    let (_, first) = register(&s, &user).await;
    let (status, second) = register(&s, &user).await;
    assert_eq!(status, 200, "unverified: register again");
    let (first, second) = (first["secret"].as_str().unwrap(), second["secret"].as_str().unwrap());
    assert_ne!(first, second);
    let (status, got) = verify(&s, &user, &totp(&base32_decode(first), now())).await;
    assert_eq!(
        (status, got["details"][0]["id"].clone()),
        (400, json!("EVENT-8isk2")),
        "the old QR code is dead"
    );
    let (status, _) = verify(&s, &user, &totp(&base32_decode(second), now())).await;
    assert_eq!(status, 200);
    // v2 removal works too; no TOTP → 404.
    let (status, _) = s.call("DELETE", &format!("/v2/users/{user}/totp"), None).await;
    assert_eq!(status, 200);
    let (status, got) = verify(&s, &user, "123456").await;
    assert_eq!(
        (status, got["details"][0]["id"].clone()),
        (404, json!("COMMAND-3Mif9s"))
    );
}

async fn otp_sms_and_email(b: Backend) {
    let s = Server::start(b).await;
    let (_, got) = s
        .call(
            "POST",
            "/v2/users/human",
            Some(json!({
                "username": "dora",
                "profile": {"givenName": "Dora", "familyName": "D"},
                "email": {"email": "dora@example.com", "returnCode": {}},
                "phone": {"phone": "+41790000001", "returnCode": {}},
            })),
        )
        .await;
    let user = got["userId"].as_str().unwrap().to_owned();
    let (email_code, phone_code) = (got["emailCode"].clone(), got["phoneCode"].clone());

    let (status, got) = s
        .call("POST", &format!("/v2/users/{user}/otp_sms"), Some(json!({})))
        .await;
    assert_eq!(
        (status, got),
        (
            400,
            rest_error(9, "COMMAND-Q54j2", "Multifactor OTP (OneTimePassword) isn't ready")
        )
    );
    let (status, got) = s
        .call("POST", &format!("/v2/users/{user}/otp_email"), Some(json!({})))
        .await;
    assert_eq!(
        (status, got),
        (
            400,
            rest_error(9, "COMMAND-KLJ2d", "Multifactor OTP (OneTimePassword) isn't ready")
        )
    );
    s.call(
        "POST",
        &format!("/v2/users/{user}/phone/verify"),
        Some(json!({"verificationCode": phone_code})),
    )
    .await;
    s.call(
        "POST",
        &format!("/v2/users/{user}/email/verify"),
        Some(json!({"verificationCode": email_code})),
    )
    .await;

    for (path, exists_id, missing_id, mgmt) in [
        ("otp_sms", "COMMAND-Ad3g2", "COMMAND-Sr3h3", "otp_sms"),
        ("otp_email", "COMMAND-MKL2s", "COMMAND-b312D", "otp_email"),
    ] {
        let url = format!("/v2/users/{user}/{path}");
        let (status, _) = s.call("POST", &url, Some(json!({}))).await;
        assert_eq!(status, 200, "{path}");
        let (status, got) = s.call("POST", &url, Some(json!({}))).await;
        assert_eq!(
            (status, got["details"][0]["id"].clone()),
            (409, json!(exists_id)),
            "{path}"
        );
        let (status, _) = s
            .call(
                "DELETE",
                &format!("/management/v1/users/{user}/auth_factors/{mgmt}"),
                None,
            )
            .await;
        assert_eq!(status, 200, "{path}");
        let (status, got) = s.call("DELETE", &url, None).await;
        assert_eq!(
            (status, got["details"][0]["id"].clone()),
            (404, json!(missing_id)),
            "{path}"
        );
        let (status, _) = s.call("POST", &url, Some(json!({}))).await;
        assert_eq!(status, 200, "{path} again");
    }
    let (_, got) = s
        .call(
            "POST",
            &format!("/management/v1/users/{user}/auth_factors/_search"),
            None,
        )
        .await;
    assert_eq!(
        got["result"],
        json!([{"state": "AUTH_FACTOR_STATE_READY", "otpSms": {}}, {"state": "AUTH_FACTOR_STATE_READY", "otpEmail": {}}])
    );
    // A new phone number is a new binding: OTP by SMS must be added again.
    s.call(
        "POST",
        &format!("/v2/users/{user}/phone"),
        Some(json!({"phone": "+41790000002", "returnCode": {}})),
    )
    .await;
    let (_, got) = s
        .call(
            "POST",
            &format!("/management/v1/users/{user}/auth_factors/_search"),
            None,
        )
        .await;
    assert_eq!(
        got["result"],
        json!([{"state": "AUTH_FACTOR_STATE_READY", "otpEmail": {}}])
    );
}

async fn recovery_codes(b: Backend) {
    let s = Server::start(b).await;
    let user = s.create_human(None, "eve").await;
    let url = format!("/v2/users/{user}/recovery_codes");
    let (status, got) = s.call("POST", &url, Some(json!({}))).await;
    assert_eq!(status, 200, "{got}");
    let codes: Vec<String> = serde_json::from_value(got["recoveryCodes"].clone()).unwrap();
    assert_eq!(codes.len(), 10);
    for c in &codes {
        assert_eq!(c.len(), 19, "16 base32 characters (80 bits) in groups: {c}");
    }
    let stored = s.event_payloads("user.human.recovery.codes.added").await;
    let hashes = stored[0]["codeHashes"].as_array().unwrap();
    assert_eq!(hashes.len(), 10);
    assert!(
        hashes.iter().all(|h| h.as_str().unwrap().starts_with("$argon2id$")),
        "salted KDF: {hashes:?}"
    );
    let text = s.stored_text().await;
    assert!(
        codes.iter().all(|c| !text.contains(c.as_str())),
        "codes are never stored in clear"
    );

    let (_, got) = s
        .call("GET", &format!("/v2/users/{user}/authentication_methods"), None)
        .await;
    assert_eq!(
        got["authMethodTypes"],
        json!([
            "AUTHENTICATION_METHOD_TYPE_RECOVERY_CODE",
            "AUTHENTICATION_METHOD_TYPE_PASSWORD"
        ])
    );

    let (status, got) = s.call("POST", &url, Some(json!({"count": 3}))).await;
    assert_eq!(status, 200);
    assert_eq!(
        got["recoveryCodes"].as_array().unwrap().len(),
        3,
        "a new set replaces the old"
    );
    let (status, got) = s.call("POST", &url, Some(json!({"count": 500}))).await;
    assert_eq!((status, got["details"][0]["id"].clone()), (400, json!("USER-RcCnt1")));

    let (status, _) = s.call("DELETE", &url, None).await;
    assert_eq!(status, 200);
    let (status, got) = s.call("DELETE", &url, None).await;
    assert_eq!(
        (status, got),
        (404, rest_error(5, "COMMAND-RcV9d", "Recovery codes don't exist"))
    );
}

async fn who_may_remove_factors(b: Backend) {
    let s = Server::start(b).await;
    let a = s.create_org("Org A").await;
    let b_org = s.create_org("Org B").await;
    let owner_a = s.actor(&a, "owner-a", &["ORG_OWNER"], &[]).await;
    let nobody = s.actor(&a, "nobody", &[], &[]).await;
    let user_b = s.create_human(Some(&b_org), "bella").await;
    let (_, reg) = register(&s, &user_b).await;
    verify(
        &s,
        &user_b,
        &totp(&base32_decode(reg["secret"].as_str().unwrap()), now()),
    )
    .await;

    let remove = format!("/management/v1/users/{user_b}/auth_factors/otp");
    let (status, got) = s.call_as(&owner_a, None, "DELETE", &remove, None).await;
    assert_eq!(
        (status, got["details"][0]["id"].clone()),
        (404, json!("COMMAND-Hd9sd")),
        "other org: not there"
    );
    let (status, got) = s.call_as(&owner_a, Some(&b_org), "DELETE", &remove, None).await;
    assert_eq!((status, got["details"][0]["id"].clone()), (403, json!("AUTH-5mWD2")));
    let (status, got) = s.call_as(&nobody, None, "DELETE", &remove, None).await;
    assert_eq!((status, got["details"][0]["id"].clone()), (404, json!("AUTHZ-cdgFk")));
    // v2: permission on the user's own org, checked in the command. A
    // caller who cannot even read the user gets the unknown-user answer.
    let (status, got) = s
        .call_as(&owner_a, None, "DELETE", &format!("/v2/users/{user_b}/totp"), None)
        .await;
    assert_eq!(
        (status, got),
        (
            404,
            rest_error(5, "COMMAND-Hd9sd", "Multifactor OTP (OneTimePassword) doesn't exist")
        )
    );
    let viewer_b = s.actor(&b_org, "viewer-b", &["ORG_OWNER_VIEWER"], &[]).await;
    let (status, got) = s
        .call_as(&viewer_b, None, "DELETE", &format!("/v2/users/{user_b}/totp"), None)
        .await;
    assert_eq!(
        (status, got),
        (403, rest_error(7, "AUTH-AWfge", "No matching permissions found")),
        "seen but not writable"
    );
    let (status, got) = s
        .call_as(
            &nobody,
            None,
            "POST",
            &format!("/v2/users/{user_b}/totp"),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (status, got["details"][0]["id"].clone()),
        (400, json!("COMMAND-SqyJz")),
        "as for an unknown user"
    );
    let (_, list) = s
        .call_in(
            &b_org,
            "POST",
            &format!("/management/v1/users/{user_b}/auth_factors/_search"),
            None,
        )
        .await;
    assert_eq!(list["result"].as_array().unwrap().len(), 1, "nothing was removed");

    // Self-management needs no role: a machine user acting on itself passes
    // the permission check (and only then fails, as it is not human).
    let nobody_id = {
        let (_, list) = s
            .call(
                "POST",
                "/v2/users",
                Some(json!({"queries": [{"userNameQuery": {"userName": "nobody"}}]})),
            )
            .await;
        list["result"][0]["userId"].as_str().unwrap().to_owned()
    };
    let (status, got) = s
        .call_as(
            &nobody,
            None,
            "POST",
            &format!("/v2/users/{nobody_id}/totp"),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (status, got),
        (400, rest_error(9, "COMMAND-SqyJz", "User could not be found"))
    );
}

async fn no_secret_is_stored_or_logged(b: Backend) {
    let s = Server::start(b).await;
    let user = s.create_human(None, "frank").await;
    let (_, reg) = register(&s, &user).await;
    let secret = reg["secret"].as_str().unwrap().to_owned();
    verify(&s, &user, &totp(&base32_decode(&secret), now())).await;
    let (_, rc) = s
        .call("POST", &format!("/v2/users/{user}/recovery_codes"), Some(json!({})))
        .await;
    let codes: Vec<String> = serde_json::from_value(rc["recoveryCodes"].clone()).unwrap();
    let org = s.my_org_id().await;
    let bot = s.create_machine(&org, "robot").await;
    let pat = s.create_pat(&org, &bot).await;
    s.call("DELETE", &format!("/management/v1/users/{user}/auth_factors/otp"), None)
        .await;

    let stored = s.stored_text().await;
    let log = s.log_text();
    assert!(log.contains("listening on"), "the log was captured");
    let raw_secret = String::from_utf8_lossy(&base32_decode(&secret)).into_owned();
    let mut secrets = vec![PASSWORD.to_owned(), secret.clone(), pat.clone(), s.token.clone()];
    secrets.extend(codes);
    for secret in &secrets {
        assert!(!stored.contains(secret.as_str()), "{secret} is in the database");
        assert!(!log.contains(secret.as_str()), "{secret} is in the log");
    }
    assert!(raw_secret.len() < 8 || !stored.contains(&raw_secret));
}
