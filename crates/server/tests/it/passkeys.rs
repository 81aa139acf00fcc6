//! Passkeys: registration with a software authenticator that verifies the
//! user and stores resident keys, sign-in with the passkey alone (with a
//! user name, or by discoverable credential without one), the login
//! policy's say, sign counters, removal, and the v1 passwordless RPCs.

use serde_json::{Value, json};
use url::Url;

use crate::harness::{Backend, Server, backend_tests};
use crate::soft_passkey::SoftPasskey;

backend_tests!(
    passkey_register_sign_in_remove,
    passkey_policy_and_counters,
    passkey_registration_codes_and_reach,
    passkey_v1_passwordless,
    passkey_self_service_and_force_mfa,
    passkey_counts_in_the_policy_preview,
    passkey_discoverable_sign_in,
    passkey_discoverable_policy_and_removal,
    passkey_registration_needs_a_resident_key
);

const MULTI: &str = "/admin/v1/policies/login/multi_factors";

fn origin(s: &Server) -> String {
    format!("http://localhost:{}", s.addr.port())
}

/// Starts a registration; returns the passkey ID and the creation options.
async fn register(s: &Server, user: &str, body: Value) -> (String, Value) {
    let (status, got) = s.call("POST", &format!("/v2/users/{user}/passkeys"), Some(body)).await;
    assert_eq!(status, 200, "{got}");
    (
        got["passkeyId"].as_str().unwrap().to_owned(),
        got["publicKeyCredentialCreationOptions"].clone(),
    )
}

/// The passkey's answer to the creation options.
fn attest(token: &mut SoftPasskey, s: &Server, options: &Value) -> Value {
    token.register(&origin(s), options)
}

/// Registers and verifies a passkey of `user` held by `token`.
async fn enrol(s: &Server, user: &str, token: &mut SoftPasskey) -> String {
    let (id, options) = register(s, user, json!({"domain": "localhost"})).await;
    let cred = attest(token, s, &options);
    let (status, got) = s
        .call(
            "POST",
            &format!("/v2/users/{user}/passkeys/{id}"),
            Some(json!({"publicKeyCredential": cred, "passkeyName": "phone"})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    id
}

/// A new session for `login` with a passkey challenge: the status, the
/// session ID and the request options, or the error body.
async fn passkey_session(s: &Server, login: &str) -> (u16, String, Value) {
    let (status, got) = s
        .call(
            "POST",
            "/v2/sessions",
            Some(json!({
                "checks": {"user": {"loginName": login}},
                "challenges": {"webAuthN": {"domain": "localhost", "userVerificationRequirement": "USER_VERIFICATION_REQUIREMENT_REQUIRED"}}
            })),
        )
        .await;
    if status != 201 {
        return (status, String::new(), got);
    }
    let options = got["challenges"]["webAuthN"]["publicKeyCredentialRequestOptions"].clone();
    (
        status,
        got["sessionId"].as_str().unwrap_or_default().to_owned(),
        options,
    )
}

async fn check(s: &Server, token: &mut SoftPasskey, session: &str, options: &Value) -> (u16, Value) {
    let assertion = token.sign(&origin(s), options);
    s.call(
        "PATCH",
        &format!("/v2/sessions/{session}"),
        Some(json!({"checks": {"webAuthN": {"credentialAssertionData": assertion}}})),
    )
    .await
}

fn error_id(got: &Value) -> &str {
    got["details"][0]["id"].as_str().unwrap_or_default()
}

async fn passkey_register_sign_in_remove(b: Backend) {
    let s = Server::start(b).await;
    let user = s.create_human(None, "pia").await;
    let mut token = SoftPasskey::new();

    let (_, options) = register(
        &s,
        &user,
        json!({"domain": "localhost", "authenticator": "PASSKEY_AUTHENTICATOR_PLATFORM"}),
    )
    .await;
    let pk = &options["publicKey"];
    assert_eq!(pk["rp"]["id"], "localhost");
    assert_eq!(pk["attestation"], "none");
    let sel = &pk["authenticatorSelection"];
    assert_eq!(sel["residentKey"], "required", "{pk}");
    assert_eq!(sel["requireResidentKey"], true);
    assert_eq!(sel["userVerification"], "required");
    assert_eq!(sel["authenticatorAttachment"], "platform");

    // The first pending registration is the one verified.
    let first = {
        let (status, got) = s
            .call("POST", &format!("/v2/users/{user}/passkeys/_search"), Some(json!({})))
            .await;
        assert_eq!(status, 200, "{got}");
        assert_eq!(got.get("result"), None, "pending passkeys are not listed: {got}");
        // A malformed response, or one to another challenge, is refused; nothing stored.
        let (status, got) = s
            .call(
                "POST",
                &format!("/v2/users/{user}/passkeys/x"),
                Some(json!({"publicKeyCredential": {"id": "x"}, "passkeyName": "laptop"})),
            )
            .await;
        assert_eq!((status, error_id(&got)), (400, "WEBAU-sEr8c"), "{got}");
        let mut wrong = options.clone();
        wrong["publicKey"]["challenge"] = json!("A".repeat(43));
        let mut other_token = SoftPasskey::new();
        let cred = attest(&mut other_token, &s, &wrong);
        let (status, got) = s
            .call(
                "POST",
                &format!("/v2/users/{user}/passkeys/x"),
                Some(json!({"publicKeyCredential": cred, "passkeyName": "laptop"})),
            )
            .await;
        assert_eq!((status, error_id(&got)), (400, "WEBAU-3Vb9s"), "{got}");
        assert_eq!(s.count_events("user.human.passwordless.token.verified").await, 0);
        let cred = attest(&mut token, &s, &options);
        let (status, got) = s
            .call(
                "POST",
                &format!("/v2/users/{user}/passkeys/ignored"),
                Some(json!({"publicKeyCredential": cred, "passkeyName": "laptop"})),
            )
            .await;
        assert_eq!(status, 200, "{got}");
        let (_, got) = s
            .call("POST", &format!("/v2/users/{user}/passkeys/_search"), Some(json!({})))
            .await;
        assert_eq!(got["result"][0]["state"], "AUTH_FACTOR_STATE_READY", "{got}");
        assert_eq!(got["result"][0]["name"], "laptop");
        assert_eq!(got["details"]["totalResult"], "1");
        got["result"][0]["id"].as_str().unwrap().to_owned()
    };
    let (_, got) = s
        .call("GET", &format!("/v2/users/{user}/authentication_methods"), None)
        .await;
    assert_eq!(
        got["authMethodTypes"],
        json!([
            "AUTHENTICATION_METHOD_TYPE_PASSKEY",
            "AUTHENTICATION_METHOD_TYPE_PASSWORD"
        ])
    );
    // Nothing pending: verifying again is refused (ZITADEL: 500).
    let cred = attest(&mut token, &s, &options);
    let (status, got) = s
        .call(
            "POST",
            &format!("/v2/users/{user}/passkeys/{first}"),
            Some(json!({"publicKeyCredential": cred, "passkeyName": "again"})),
        )
        .await;
    assert_eq!((status, error_id(&got)), (404, "WEBAU-5M9so"), "{got}");
    // A second registration excludes the passkey already registered.
    let (_, options) = register(&s, &user, json!({"domain": "localhost"})).await;
    assert_eq!(
        options["publicKey"]["excludeCredentials"].as_array().map(Vec::len),
        Some(1)
    );
    assert!(
        options["publicKey"]["authenticatorSelection"]
            .get("authenticatorAttachment")
            .is_none()
    );

    // Signing in with the passkey alone: user check + passkey check.
    let (status, session, request) = passkey_session(&s, "pia").await;
    assert_eq!(status, 201, "{request}");
    assert_eq!(request["publicKey"]["userVerification"], "required");
    assert_eq!(
        request["publicKey"]["allowCredentials"].as_array().map(Vec::len),
        Some(1)
    );
    let (status, got) = check(&s, &mut token, &session, &request).await;
    assert_eq!(status, 200, "{got}");
    let (_, got) = s.call("GET", &format!("/v2/sessions/{session}"), None).await;
    let f = &got["session"]["factors"];
    assert!(f["webAuthN"]["verifiedAt"].is_string(), "{f}");
    assert_eq!(f["webAuthN"]["userVerified"], true, "{f}");
    assert!(f.get("password").is_none(), "{f}");

    // A security-key challenge does not offer passkeys (separate families).
    let (status, got) = s
        .call(
            "POST",
            "/v2/sessions",
            Some(json!({
                "checks": {"user": {"loginName": "pia"}},
                "challenges": {"webAuthN": {"domain": "localhost", "userVerificationRequirement": "USER_VERIFICATION_REQUIREMENT_DISCOURAGED"}}
            })),
        )
        .await;
    assert_eq!((status, error_id(&got)), (400, "WEBAU-4G8sw"), "{got}");

    // Removed: gone from the list, no longer a way in.
    let (status, got) = s
        .call("DELETE", &format!("/v2/users/{user}/passkeys/{first}"), None)
        .await;
    assert_eq!(status, 200, "{got}");
    let (status, got) = s
        .call("DELETE", &format!("/v2/users/{user}/passkeys/{first}"), None)
        .await;
    assert_eq!((status, error_id(&got)), (404, "COMMAND-DAfb2"), "{got}");
    let (_, got) = s
        .call("POST", &format!("/v2/users/{user}/passkeys/_search"), Some(json!({})))
        .await;
    assert_eq!(got.get("result"), None, "{got}");
    let (status, _, got) = passkey_session(&s, "pia").await;
    assert_eq!((status, error_id(&got)), (400, "WEBAU-4G8sw"), "{got}");
    let (_, got) = s
        .call("GET", &format!("/v2/users/{user}/authentication_methods"), None)
        .await;
    assert_eq!(got["authMethodTypes"], json!(["AUTHENTICATION_METHOD_TYPE_PASSWORD"]));
    assert_eq!(s.count_events("user.human.passwordless.token.removed").await, 1);
}

async fn passkey_policy_and_counters(b: Backend) {
    let s = Server::start(b).await;
    let user = s.create_human(None, "quinn").await;
    let mut token = SoftPasskey::new();
    enrol(&s, &user, &mut token).await;

    // A first sign-in advances the counter.
    let (_, session, request) = passkey_session(&s, "quinn").await;
    let (status, got) = check(&s, &mut token, &session, &request).await;
    assert_eq!(status, 200, "{got}");
    // A copy of the key as it is now, then the original signs once more.
    let mut clone = token.clone();
    let (_, session, request) = passkey_session(&s, "quinn").await;
    let (status, got) = check(&s, &mut token, &session, &request).await;
    assert_eq!(status, 200, "{got}");
    // The copy's counter does not advance past the stored one: refused.
    let (_, session, request) = passkey_session(&s, "quinn").await;
    let (status, got) = check(&s, &mut clone, &session, &request).await;
    assert_eq!((status, error_id(&got)), (400, "SESSION-Cl0ne"), "{got}");
    let (_, got) = s.call("GET", &format!("/v2/sessions/{session}"), None).await;
    assert!(got["session"]["factors"].get("webAuthN").is_none(), "{got}");
    assert!(
        s.log_with(&["possible cloned authenticator"])
            .await
            .contains("possible cloned")
    );

    // A challenge taken while allowed is refused once the policy drops passkeys.
    let (_, session, request) = passkey_session(&s, "quinn").await;
    let mf = "MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION";
    let (status, _) = s.call("DELETE", &format!("{MULTI}/{mf}"), None).await;
    assert_eq!(status, 200);
    let (status, got) = check(&s, &mut token, &session, &request).await;
    assert_eq!((status, error_id(&got)), (400, "SESSION-F4ct0"), "{got}");
    let (status, _, got) = passkey_session(&s, "quinn").await;
    assert_eq!(status, 400, "{got}");
    assert_eq!(error_id(&got), "SESSION-F4ct0", "{got}");

    // Back in the policy, but passwordless sign-in not allowed: refused too.
    let (status, _) = s.call("POST", MULTI, Some(json!({"type": mf}))).await;
    assert_eq!(status, 200);
    let (status, got) = s
        .call(
            "PUT",
            "/admin/v1/policies/login",
            Some(json!({"allowUsernamePassword": true, "passwordlessType": "PASSWORDLESS_TYPE_NOT_ALLOWED"})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    let (status, _, got) = passkey_session(&s, "quinn").await;
    assert_eq!((status, error_id(&got)), (400, "SESSION-F4ct0"), "{got}");
}

async fn passkey_registration_codes_and_reach(b: Backend) {
    let s = Server::start(b).await;
    let user = s.create_human(None, "rex").await;
    let link = format!("/v2/users/{user}/passkeys/registration_link");
    let (status, got) = s.call("POST", &link, Some(json!({"returnCode": {}}))).await;
    assert_eq!(status, 200, "{got}");
    let (code_id, code) = (
        got["code"]["id"].as_str().unwrap().to_owned(),
        got["code"]["code"].as_str().unwrap().to_owned(),
    );
    assert!(!s.stored_text().await.contains(&code), "codes are stored hashed");

    // Another org's owner: the user and its passkeys look absent.
    let other = s.create_org("elsewhere").await;
    let stranger = s.actor(&other, "stranger", &["ORG_OWNER"], &[]).await;
    for (method, path, body) in [
        ("POST", format!("/v2/users/{user}/passkeys/_search"), Some(json!({}))),
        (
            "POST",
            format!("/v2/users/{user}/passkeys"),
            Some(json!({"domain": "localhost"})),
        ),
        ("POST", link.clone(), Some(json!({"returnCode": {}}))),
        ("DELETE", format!("/v2/users/{user}/passkeys/123"), None),
    ] {
        let (status, got) = s.call_as(&stranger, None, method, &path, body).await;
        assert_eq!(status, 404, "{method} {path}: {got}");
    }

    // A wrong code is refused and recorded; the right one works once.
    let with_code = |c: &str| json!({"domain": "localhost", "code": {"id": code_id, "code": c}});
    let (status, got) = s
        .call_as(
            &stranger,
            None,
            "POST",
            &format!("/v2/users/{user}/passkeys"),
            Some(with_code("WRONG")),
        )
        .await;
    assert_eq!((status, error_id(&got)), (400, "COMMAND-Eeb2a"), "{got}");
    assert_eq!(
        s.count_events("user.human.passwordless.initialization.code.check.failed")
            .await,
        1
    );
    let (status, got) = s
        .call_as(
            &stranger,
            None,
            "POST",
            &format!("/v2/users/{user}/passkeys"),
            Some(with_code(&code)),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(
        got["publicKeyCredentialCreationOptions"]["publicKey"]["authenticatorSelection"]["residentKey"],
        "required"
    );
    let (status, got) = s
        .call_as(
            &stranger,
            None,
            "POST",
            &format!("/v2/users/{user}/passkeys"),
            Some(with_code(&code)),
        )
        .await;
    assert_eq!((status, error_id(&got)), (400, "COMMAND-Eeb2a"), "{got}");

    // A bad link template is refused, nothing stored.
    let before = s
        .count_events("user.human.passwordless.initialization.code.requested")
        .await;
    let (status, got) = s
        .call(
            "POST",
            &link,
            Some(json!({"sendLink": {"urlTemplate": "https://x/{{.Nope}}"}})),
        )
        .await;
    assert_eq!((status, error_id(&got)), (400, "DOMAIN-ieYa7"), "{got}");
    let (status, got) = s
        .call(
            "POST",
            &link,
            Some(json!({"sendLink": {"urlTemplate": "https://x/{{.CodeID}}/{{.Code}}"}})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert!(got.get("code").is_none(), "{got}");
    assert_eq!(
        s.count_events("user.human.passwordless.initialization.code.requested")
            .await,
        before + 1
    );

    // user.passkey.write is needed to create links: an org user manager lacks it.
    let home = s.my_org_id().await;
    let manager = s.actor(&home, "manager", &["ORG_USER_MANAGER"], &[]).await;
    let (status, got) = s
        .call_as(&manager, None, "POST", &link, Some(json!({"returnCode": {}})))
        .await;
    assert_eq!(status, 403, "{got}");
}

async fn passkey_v1_passwordless(b: Backend) {
    let s = Server::start(b).await;
    let user = s.create_human(None, "sam").await;
    let mut token = SoftPasskey::new();
    let id = enrol(&s, &user, &mut token).await;

    let (status, got) = s
        .call(
            "POST",
            &format!("/management/v1/users/{user}/passwordless/_search"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(
        got,
        json!({"result": [{"id": id, "state": "AUTH_FACTOR_STATE_READY", "name": "phone"}]})
    );
    // Management acts in the context org only.
    let other = s.create_org("v1-elsewhere").await;
    let (status, got) = s
        .call_in(
            &other,
            "POST",
            &format!("/management/v1/users/{user}/passwordless/_search"),
            None,
        )
        .await;
    assert_eq!(status, 404, "{got}");
    // A link to hand out: the default v1 login page with the code.
    let (status, got) = s
        .call("POST", &format!("/management/v1/users/{user}/passwordless/_link"), None)
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["expiration"], "3600s");
    let link = Url::parse(got["link"].as_str().unwrap()).unwrap();
    assert_eq!(link.path(), "/ui/login/login/passwordless/init");
    let q: std::collections::HashMap<String, String> = link.query_pairs().into_owned().collect();
    assert_eq!(q["userID"], user);
    let (status, got) = s
        .call_in(
            &other,
            "POST",
            &format!("/management/v1/users/{user}/passwordless/_link"),
            None,
        )
        .await;
    assert_eq!(status, 404, "{got}");
    let body = json!({"domain": "localhost", "code": {"id": q["codeID"], "code": q["code"]}});
    let (status, got) = s.call("POST", &format!("/v2/users/{user}/passkeys"), Some(body)).await;
    assert_eq!(status, 200, "the link's code registers: {got}");

    let (status, got) = s
        .call(
            "POST",
            &format!("/management/v1/users/{user}/passwordless/_send_link"),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert!(got["details"]["sequence"].is_string(), "{got}");

    let (status, got) = s
        .call(
            "DELETE",
            &format!("/management/v1/users/{user}/passwordless/{id}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{got}");
    let (status, got) = s
        .call(
            "DELETE",
            &format!("/management/v1/users/{user}/passwordless/{id}"),
            None,
        )
        .await;
    assert_eq!(status, 404, "{got}");
    let (_, got) = s
        .call(
            "POST",
            &format!("/management/v1/users/{user}/passwordless/_search"),
            None,
        )
        .await;
    assert_eq!(got, json!({}));
}

/// The caller's own passkeys (Auth v1) under force-MFA: enrolment stays
/// reachable with a password session, and a passkey alone satisfies MFA.
async fn passkey_self_service_and_force_mfa(b: Backend) {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    let s = Server::start(b).await;
    let (_, policy) = s.call("GET", "/admin/v1/policies/login", None).await;
    let mut p = policy["policy"].clone();
    for k in ["details", "isDefault", "secondFactors", "multiFactors", "idps"] {
        p.as_object_mut().unwrap().remove(k);
    }
    p["forceMfa"] = json!(true);
    let (status, got) = s.call("PUT", "/admin/v1/policies/login", Some(p)).await;
    assert_eq!(status, 200, "{got}");
    s.create_human(None, "tara").await;
    let (_, password_token) = crate::sessions::create(&s, "tara").await;
    let local = format!("http://localhost:{}", s.addr.port());
    let http = reqwest::Client::new();
    let call = |token: &str, method: &str, path: &str, body: Value| {
        http.request(method.parse().unwrap(), format!("{local}{path}"))
            .bearer_auth(token)
            .json(&body)
    };
    let t = password_token.as_str();
    let (status, got) = s
        .send(call(t, "POST", "/auth/v1/users/me/passwordless/_search", json!({})))
        .await;
    assert_eq!(status, 403, "a password alone is not enough under force-MFA: {got}");

    let (status, got) = s
        .send(call(t, "POST", "/auth/v1/users/me/passwordless", json!({})))
        .await;
    assert_eq!(status, 200, "{got}");
    let options: Value =
        serde_json::from_slice(&STANDARD.decode(got["key"]["publicKey"].as_str().unwrap()).unwrap()).unwrap();
    assert_eq!(options["publicKey"]["rp"]["id"], "localhost");
    assert_eq!(
        options["publicKey"]["authenticatorSelection"]["userVerification"],
        "required"
    );
    let mut key = SoftPasskey::new();
    let cred = attest(&mut key, &s, &options);
    let verification =
        json!({"publicKeyCredential": STANDARD.encode(serde_json::to_vec(&cred).unwrap()), "tokenName": "mine"});
    let (status, got) = s
        .send(call(
            t,
            "POST",
            "/auth/v1/users/me/passwordless/_verify",
            json!({"verification": verification}),
        ))
        .await;
    assert_eq!(status, 200, "{got}");

    for path in [
        "/auth/v1/users/me/passwordless/_link",
        "/auth/v1/users/me/passwordless/_send_link",
    ] {
        let (status, got) = s.send(call(t, "POST", path, json!({}))).await;
        assert_eq!(status, 200, "{path}: {got}");
    }
    assert_eq!(
        s.count_events("user.human.passwordless.initialization.code.requested")
            .await,
        2
    );

    // Signed in with the passkey alone, the caller passes force-MFA.
    let (status, session, request) = passkey_session(&s, "tara").await;
    assert_eq!(status, 201, "{request}");
    let (status, got) = check(&s, &mut key, &session, &request).await;
    assert_eq!(status, 200, "{got}");
    let passkey_token = got["sessionToken"].as_str().unwrap().to_owned();
    let t = passkey_token.as_str();
    let (status, got) = s
        .send(call(t, "POST", "/auth/v1/users/me/passwordless/_search", json!({})))
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["result"][0]["name"], "mine", "{got}");
    assert_eq!(got["result"][0]["state"], "AUTH_FACTOR_STATE_READY");
    let id = got["result"][0]["id"].as_str().unwrap().to_owned();
    let (status, got) = s
        .send(call(
            t,
            "DELETE",
            &format!("/auth/v1/users/me/passwordless/{id}"),
            json!({}),
        ))
        .await;
    assert_eq!(status, 200, "{got}");
    let (_, got) = s
        .send(call(t, "POST", "/auth/v1/users/me/passwordless/_search", json!({})))
        .await;
    assert_eq!(got, json!({}));
}

/// The login-policy preview counts a verified passkey as a way in.
async fn passkey_counts_in_the_policy_preview(b: Backend) {
    let s = Server::start(b).await;
    let una = s.create_human(None, "una").await;
    let mut token = SoftPasskey::new();
    enrol(&s, &una, &mut token).await;
    s.create_human(None, "vic").await;
    let (status, got) = s
        .call(
            "POST",
            "/admin/v1/policies/login/_preview",
            Some(json!({"removeMultiFactor": "MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["losesAFactor"]["count"], 1, "{got}");
    assert!(got["losesAFactor"]["examples"].to_string().contains(&una), "{got}");
    assert_eq!(got["lockedOut"]["count"], 0, "{got}");
}

/// A new session with only a passkey challenge (no user): the status, the
/// session ID and the request options, or the error body.
async fn discoverable_session(s: &Server) -> (u16, String, Value) {
    let (status, got) = s
        .call(
            "POST",
            "/v2/sessions",
            Some(json!({
                "challenges": {"webAuthN": {"domain": "localhost", "userVerificationRequirement": "USER_VERIFICATION_REQUIREMENT_REQUIRED"}}
            })),
        )
        .await;
    assert_eq!(status, 201, "{got}");
    (
        status,
        got["sessionId"].as_str().unwrap().to_owned(),
        got["challenges"]["webAuthN"]["publicKeyCredentialRequestOptions"].clone(),
    )
}

/// Signs in without a user name: a discoverable challenge answered by
/// `token` (its assertion changed by `tamper`); the SetSession answer.
async fn sign_in_discoverable(
    s: &Server,
    token: &mut SoftPasskey,
    tamper: impl FnOnce(&mut Value),
) -> (u16, String, Value) {
    let (_, session, request) = discoverable_session(s).await;
    let mut assertion = token.sign(&origin(s), &request);
    tamper(&mut assertion);
    let (status, got) = s
        .call(
            "PATCH",
            &format!("/v2/sessions/{session}"),
            Some(json!({"checks": {"webAuthN": {"credentialAssertionData": assertion}}})),
        )
        .await;
    (status, session, got)
}

async fn passkey_discoverable_sign_in(b: Backend) {
    let s = Server::start(b).await;
    let wes = s.create_human(None, "wes").await;
    let mut token = SoftPasskey::new();
    enrol(&s, &wes, &mut token).await;
    let (_, got) = s
        .call("POST", &format!("/v2/users/{wes}/passkeys/_search"), Some(json!({})))
        .await;
    assert_eq!(got["result"][0]["state"], "AUTH_FACTOR_STATE_READY", "{got}");

    // A passkey challenge without a user: any discoverable credential may answer.
    let (_, session, request) = discoverable_session(&s).await;
    let pk = &request["publicKey"];
    assert_eq!(pk["userVerification"], "required", "{request}");
    assert_eq!(pk["rpId"], "localhost");
    assert!(pk["allowCredentials"].as_array().is_none_or(Vec::is_empty), "{request}");
    assert!(request.get("mediation").is_none(), "{request}");
    let (_, got) = s.call("GET", &format!("/v2/sessions/{session}"), None).await;
    assert!(got["session"]["factors"].get("user").is_none(), "{got}");

    // The assertion's user handle names the user: signed in without a password.
    let assertion = token.sign(&origin(&s), &request);
    let (status, got) = s
        .call(
            "PATCH",
            &format!("/v2/sessions/{session}"),
            Some(json!({"checks": {"webAuthN": {"credentialAssertionData": assertion}}})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    let (_, got) = s.call("GET", &format!("/v2/sessions/{session}"), None).await;
    let f = &got["session"]["factors"];
    assert_eq!(f["user"]["id"], wes, "{f}");
    assert_eq!(f["user"]["loginName"], "wes", "{f}");
    assert_eq!(f["webAuthN"]["userVerified"], true, "{f}");
    assert!(f.get("password").is_none(), "{f}");

    // With a user name first, the same passkey signs in as well.
    let (status, session, request) = passkey_session(&s, "wes").await;
    assert_eq!(status, 201, "{request}");
    let (status, got) = check(&s, &mut token, &session, &request).await;
    assert_eq!(status, 200, "{got}");

    // Refused like a bad assertion, without a user to count it against:
    // a credential nobody registered, another user's handle.
    let zoe = s.create_human(None, "zoe").await;
    let (_, zoe_options) = register(&s, &zoe, json!({"domain": "localhost"})).await;
    let mut unregistered = SoftPasskey::new();
    attest(&mut unregistered, &s, &zoe_options);
    let failures = "user.human.passwordless.token.check.failed";
    let (status, session, got) = sign_in_discoverable(&s, &mut unregistered, |_| {}).await;
    assert_eq!((status, error_id(&got)), (400, "WEBAU-ADgv4"), "{got}");
    let (_, got) = s.call("GET", &format!("/v2/sessions/{session}"), None).await;
    assert!(got["session"]["factors"].get("user").is_none(), "{got}");
    let zoe_handle = zoe_options["publicKey"]["user"]["id"].clone();
    let (status, _, got) = sign_in_discoverable(&s, &mut token, |a| a["response"]["userHandle"] = zoe_handle).await;
    assert_eq!((status, error_id(&got)), (400, "WEBAU-ADgv4"), "{got}");
    assert_eq!(s.count_events(failures).await, 0);

    // A named user's refused assertion counts as the user's failed attempt.
    let (status, _, got) = sign_in_discoverable(&s, &mut token, |a| {
        a["response"]["signature"] = json!("MEUCIQ");
    })
    .await;
    assert_eq!((status, error_id(&got)), (400, "WEBAU-ADgv4"), "{got}");
    assert_eq!(s.count_events(failures).await, 1);

    // Without user verification (a plain security key's answer): refused.
    token.verifies_user = false;
    let (status, _, got) = sign_in_discoverable(&s, &mut token, |_| {}).await;
    assert_eq!((status, error_id(&got)), (400, "WEBAU-ADgv4"), "{got}");
    token.verifies_user = true;

    // A copy of the key whose counter falls behind: a possible clone.
    let mut copy = token.clone();
    let (status, _, got) = sign_in_discoverable(&s, &mut token, |_| {}).await;
    assert_eq!(status, 200, "{got}");
    let (status, session, got) = sign_in_discoverable(&s, &mut copy, |_| {}).await;
    assert_eq!((status, error_id(&got)), (400, "SESSION-Cl0ne"), "{got}");
    let (_, got) = s.call("GET", &format!("/v2/sessions/{session}"), None).await;
    assert!(got["session"]["factors"].get("user").is_none(), "{got}");

    // Locked by failed attempts (lockout policy: 2 OTP attempts, one failed
    // since the last success): the passkey is no way in either.
    let (status, got) = s
        .call(
            "PUT",
            "/admin/v1/policies/password/lockout",
            Some(json!({"maxOtpAttempts": 2})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    let (status, _, got) = sign_in_discoverable(&s, &mut token, |a| {
        a["response"]["signature"] = json!("MEUCIQ");
    })
    .await;
    assert_eq!((status, error_id(&got)), (400, "WEBAU-ADgv4"), "{got}");
    assert_eq!(s.count_events("user.locked").await, 1);
    let (status, _, got) = sign_in_discoverable(&s, &mut token, |_| {}).await;
    assert_eq!((status, error_id(&got)), (400, "SESSION-Gj4ko"), "{got}");
}

/// The policy of the named user's org decides, as it is at the check;
/// removed passkeys no longer sign in.
async fn passkey_discoverable_policy_and_removal(b: Backend) {
    let s = Server::start(b).await;
    let ada = s.create_human(None, "ada").await;
    let mut ada_key = SoftPasskey::new();
    enrol(&s, &ada, &mut ada_key).await;
    // An org with its own policy that keeps passkeys.
    let keeps = s.create_org("keeps-passkeys").await;
    let (status, got) = s
        .call_in(
            &keeps,
            "POST",
            "/management/v1/policies/login",
            Some(json!({
                "allowUsernamePassword": true,
                "passwordlessType": "PASSWORDLESS_TYPE_ALLOWED",
                "multiFactors": ["MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"],
            })),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    let bo = s.create_human(Some(&keeps), "bo").await;
    let mut bo_key = SoftPasskey::new();
    enrol(&s, &bo, &mut bo_key).await;

    // The instance policy drops passkeys: the inheriting org's user is
    // refused (no failed attempt), the custom policy's user is not.
    let mf = "MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION";
    let (status, _) = s.call("DELETE", &format!("{MULTI}/{mf}"), None).await;
    assert_eq!(status, 200);
    let (status, _, got) = sign_in_discoverable(&s, &mut ada_key, |_| {}).await;
    assert_eq!((status, error_id(&got)), (400, "SESSION-F4ct0"), "{got}");
    assert!(got["message"].as_str().unwrap_or_default().contains(mf), "{got}");
    let (status, _, got) = sign_in_discoverable(&s, &mut bo_key, |_| {}).await;
    assert_eq!(status, 200, "{got}");
    // Back in the instance policy: signs in again.
    let (status, _) = s.call("POST", MULTI, Some(json!({"type": mf}))).await;
    assert_eq!(status, 200);
    let (status, _, got) = sign_in_discoverable(&s, &mut ada_key, |_| {}).await;
    assert_eq!(status, 200, "{got}");
    // Passwordless sign-in not allowed: refused too.
    let (status, got) = s
        .call(
            "PUT",
            "/admin/v1/policies/login",
            Some(json!({"allowUsernamePassword": true, "passwordlessType": "PASSWORDLESS_TYPE_NOT_ALLOWED"})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    let (status, _, got) = sign_in_discoverable(&s, &mut ada_key, |_| {}).await;
    assert_eq!((status, error_id(&got)), (400, "SESSION-F4ct0"), "{got}");
    assert_eq!(s.count_events("user.human.passwordless.token.check.failed").await, 0);

    // Removed by an administrator (Management v1) and by the user itself
    // (v2 with the user's own session): neither signs in any more.
    let (_, got) = s
        .call_in(
            &keeps,
            "POST",
            &format!("/management/v1/users/{bo}/passwordless/_search"),
            None,
        )
        .await;
    let bo_passkey = got["result"][0]["id"].as_str().unwrap().to_owned();
    let (status, got) = s
        .call_in(
            &keeps,
            "DELETE",
            &format!("/management/v1/users/{bo}/passwordless/{bo_passkey}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{got}");
    let (status, _, got) = sign_in_discoverable(&s, &mut bo_key, |_| {}).await;
    assert_eq!((status, error_id(&got)), (400, "WEBAU-ADgv4"), "{got}");

    let (status, got) = s
        .call(
            "PUT",
            "/admin/v1/policies/login",
            Some(json!({"allowUsernamePassword": true, "passwordlessType": "PASSWORDLESS_TYPE_ALLOWED"})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    let (_, ada_token) = crate::sessions::create(&s, "ada").await;
    let http = reqwest::Client::new();
    let (status, got) = s
        .send(
            http.post(s.url(&format!("/v2/users/{ada}/passkeys/_search")))
                .bearer_auth(&ada_token)
                .json(&json!({})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    let ada_passkey = got["result"][0]["id"].as_str().unwrap().to_owned();
    let (status, got) = s
        .send(
            http.delete(s.url(&format!("/v2/users/{ada}/passkeys/{ada_passkey}")))
                .bearer_auth(&ada_token),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    let (status, _, got) = sign_in_discoverable(&s, &mut ada_key, |_| {}).await;
    assert_eq!((status, error_id(&got)), (400, "WEBAU-ADgv4"), "{got}");
}

/// A passkey must be discoverable: a client reporting (credProps) that
/// the authenticator made no resident key is refused, nothing stored.
async fn passkey_registration_needs_a_resident_key(b: Backend) {
    let s = Server::start(b).await;
    let cy = s.create_human(None, "cy").await;
    let mut token = SoftPasskey::new();
    token.reports_resident_key = Some(false);
    let (id, options) = register(&s, &cy, json!({"domain": "localhost"})).await;
    let cred = attest(&mut token, &s, &options);
    let (status, got) = s
        .call(
            "POST",
            &format!("/v2/users/{cy}/passkeys/{id}"),
            Some(json!({"publicKeyCredential": cred, "passkeyName": "old key"})),
        )
        .await;
    assert_eq!((status, error_id(&got)), (400, "WEBAU-Rk3y0"), "{got}");
    assert!(got["message"].as_str().unwrap().contains("resident key"), "{got}");
    assert_eq!(s.count_events("user.human.passwordless.token.verified").await, 0);
    // A client that does not report credProps is taken at its word.
    token.reports_resident_key = None;
    let cred = attest(&mut token, &s, &options);
    let (status, got) = s
        .call(
            "POST",
            &format!("/v2/users/{cy}/passkeys/{id}"),
            Some(json!({"publicKeyCredential": cred, "passkeyName": "new key"})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
}
