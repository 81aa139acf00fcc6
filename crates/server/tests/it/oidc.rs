//! The OIDC provider's first slice (issue 13): discovery, authorize →
//! login hand-over, and OIDCService v2 GetAuthRequest / CreateCallback,
//! where the session must satisfy the login policy of its user's org now.

use serde_json::{Value, json};

use crate::fixtures::{PASSWORD, totp};
use crate::harness::{Backend, Server, backend_tests, rest_error};
use crate::sessions::{enrolled, fresh_step};

backend_tests!(
    discovery_document,
    authorize_hands_over_to_the_login_and_callback_issues_a_code,
    the_door_follows_the_login_policy_now,
    authorize_refusals,
    callback_errors_and_grpc,
    an_expired_auth_request_is_refused
);

pub(crate) const REDIRECT: &str = "https://app.example/cb";
/// RFC 7636 appendix B.
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// A public (PKCE) OIDC app in a new project of `org`: (project, app id, client id).
pub(crate) async fn public_app(s: &Server, org: &str) -> (String, String, String) {
    let (status, got) = s
        .call_in(org, "POST", "/management/v1/projects", Some(json!({"name": "Shop"})))
        .await;
    assert_eq!(status, 200, "{got}");
    let project = got["id"].as_str().unwrap().to_owned();
    let (status, got) = s
        .call_in(
            org,
            "POST",
            &format!("/management/v1/projects/{project}/apps/oidc"),
            Some(json!({
                "name": "spa", "redirectUris": [REDIRECT],
                "appType": "OIDC_APP_TYPE_USER_AGENT", "authMethodType": "OIDC_AUTH_METHOD_TYPE_NONE"
            })),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    let field = |k: &str| got[k].as_str().unwrap().to_owned();
    (project, field("appId"), field("clientId"))
}

/// A client that shows redirects instead of following them.
pub(crate) fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// GET /oauth/v2/authorize with `params`: status, Location, body.
async fn authorize(s: &Server, params: &[(&str, &str)]) -> (u16, String, String) {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let resp = browser()
        .get(s.url(&format!("/oauth/v2/authorize?{query}")))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let location = resp
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, location, resp.text().await.unwrap())
}

fn pkce<'a>(client_id: &'a str, state: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", "openid profile custom"),
        ("state", state),
        ("nonce", "n-1"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]
}

/// Authorizes with PKCE; the ID of the auth request the login is sent to.
pub(crate) async fn auth_request(s: &Server, client_id: &str, state: &str) -> String {
    let (status, location, body) = authorize(s, &pkce(client_id, state)).await;
    assert_eq!(status, 302, "{body}");
    let prefix = format!("{}/ui/login/login?authRequest=", s.url(""));
    let id = location.strip_prefix(&prefix).unwrap_or_else(|| panic!("{location}"));
    assert!(id.starts_with("V2_"), "{id}");
    id.to_owned()
}

/// A machine user with the instance role IAM_LOGIN_CLIENT: its token.
pub(crate) async fn login_client(s: &Server) -> String {
    let my_org = s.my_org_id().await;
    let client = s.create_machine(&my_org, "login-client").await;
    s.add_iam_member(&client, &["IAM_LOGIN_CLIENT"]).await;
    s.create_pat(&my_org, &client).await
}

/// A session of `name` checked with its password: (id, token).
pub(crate) async fn password_session(s: &Server, client: &str, name: &str) -> (String, String) {
    let (status, got) = s
        .call_as(
            client,
            None,
            "POST",
            "/v2/sessions",
            Some(json!({"checks": {"user": {"loginName": name}, "password": {"password": PASSWORD}}})),
        )
        .await;
    assert_eq!(status, 201, "{got}");
    let field = |k: &str| got[k].as_str().unwrap().to_owned();
    (field("sessionId"), field("sessionToken"))
}

pub(crate) async fn callback(s: &Server, token: &str, id: &str, body: Value) -> (u16, Value) {
    s.call_as(token, None, "POST", &format!("/v2/oidc/auth_requests/{id}"), Some(body))
        .await
}

pub(crate) fn with_session(session: &str, token: &str) -> Value {
    json!({"session": {"sessionId": session, "sessionToken": token}})
}

/// The `code` of a callback URL that also carries `state`.
fn code_of(url: &str, state: &str) -> String {
    let u = url::Url::parse(url).unwrap();
    assert_eq!(
        format!("{}://{}{}", u.scheme(), u.host_str().unwrap(), u.path()),
        REDIRECT
    );
    let pairs: Vec<(String, String)> = u.query_pairs().into_owned().collect();
    assert_eq!(pairs.len(), 2, "{url}");
    assert_eq!(pairs[0].0, "code");
    assert_eq!(pairs[1], ("state".to_owned(), state.to_owned()));
    pairs[0].1.clone()
}

async fn discovery_document(b: Backend) {
    let s = Server::start(b).await;
    let resp = reqwest::get(s.url("/.well-known/openid-configuration")).await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let got: Value = resp.json().await.unwrap();
    let iss = s.url("");
    assert!(iss.starts_with("http://127.0.0.1:"), "{iss}");
    assert_eq!(got["issuer"], json!(iss));
    for (key, path) in [
        ("authorization_endpoint", "/oauth/v2/authorize"),
        ("token_endpoint", "/oauth/v2/token"),
        ("introspection_endpoint", "/oauth/v2/introspect"),
        ("userinfo_endpoint", "/oidc/v1/userinfo"),
        ("revocation_endpoint", "/oauth/v2/revoke"),
        ("end_session_endpoint", "/oidc/v1/end_session"),
        ("device_authorization_endpoint", "/oauth/v2/device_authorization"),
        ("jwks_uri", "/oauth/v2/keys"),
    ] {
        assert_eq!(got[key], json!(format!("{iss}{path}")), "{key}");
    }
    assert_eq!(got["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(
        got["response_types_supported"],
        json!(["code", "id_token", "id_token token"])
    );
    assert_eq!(
        got["scopes_supported"],
        json!(["openid", "profile", "email", "phone", "address", "offline_access"])
    );
    assert_eq!(got["request_uri_parameter_supported"], json!(false));

    // --external-url overrides the request's origin, and --login-url the login.
    let s = Server::start_args(
        b,
        &[
            "--external-url",
            "https://id.example.com/",
            "--login-url",
            "https://login.example/app",
        ],
    )
    .await;
    let got: Value = reqwest::get(s.url("/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["issuer"], "https://id.example.com");
    assert_eq!(got["jwks_uri"], "https://id.example.com/oauth/v2/keys");
    let org = s.create_org("Bank").await;
    let (_, _, client_id) = public_app(&s, &org).await;
    let (status, location, _) = authorize(&s, &pkce(&client_id, "st")).await;
    assert_eq!(status, 302);
    assert!(
        location.starts_with("https://login.example/app/login?authRequest=V2_"),
        "{location}"
    );
    let added = s.event_payloads("auth_request.added").await;
    assert_eq!(added[0]["issuer"], "https://id.example.com");
}

async fn authorize_hands_over_to_the_login_and_callback_issues_a_code(b: Backend) {
    let s = Server::start(b).await;
    let bank = s.create_org("Bank").await;
    let (project, _, client_id) = public_app(&s, &bank).await;
    s.create_human(Some(&bank), "alice").await;
    let client = login_client(&s).await;
    let id = auth_request(&s, &client_id, "st-1").await;

    // The stored request, as ZITADEL names its keys.
    let added = s.event_payloads("auth_request.added").await;
    assert_eq!(added.len(), 1);
    let a = &added[0];
    assert_eq!(a["client_id"], json!(client_id));
    assert_eq!(a["redirect_uri"], REDIRECT);
    assert_eq!(a["scope"], json!(["openid", "profile"]), "unknown scopes are dropped");
    assert_eq!(a["audience"], json!([project, client_id]));
    assert_eq!(a["code_challenge"], json!({"Challenge": CHALLENGE, "Method": 1}));
    assert_eq!((&a["state"], &a["nonce"]), (&json!("st-1"), &json!("n-1")));

    // The login reads it.
    let path = format!("/v2/oidc/auth_requests/{id}");
    let (status, got) = s.call_as(&client, None, "GET", &path, None).await;
    assert_eq!(status, 200, "{got}");
    let r = &got["authRequest"];
    assert_eq!(r["id"], json!(id));
    assert_eq!(r["clientId"], json!(client_id));
    assert_eq!(r["scope"], json!(["openid", "profile"]));
    assert_eq!(r["redirectUri"], REDIRECT);
    assert!(r["creationDate"].as_str().unwrap().ends_with('Z'));
    assert_eq!(r.get("prompt"), None);
    // Prompt, hints and locales as asked; `login` forces max_age 0.
    let mut params = pkce(&client_id, "st-0");
    params.extend([
        ("prompt", "login"),
        ("login_hint", "alice"),
        ("ui_locales", "de en"),
        ("max_age", "600"),
    ]);
    let (status, location, _) = authorize(&s, &params).await;
    assert_eq!(status, 302);
    let other = location.rsplit_once("authRequest=").unwrap().1.to_owned();
    let (status, got) = s
        .call_as(&client, None, "GET", &format!("/v2/oidc/auth_requests/{other}"), None)
        .await;
    assert_eq!(status, 200, "{got}");
    let r = &got["authRequest"];
    assert_eq!(r["prompt"], json!(["PROMPT_LOGIN"]));
    assert_eq!((&r["loginHint"], &r["maxAge"]), (&json!("alice"), &json!("0s")));
    assert_eq!(r["uiLocales"], json!(["de", "en"]));
    // An unknown request is not found.
    let (status, got) = s
        .call_as(&client, None, "GET", "/v2/oidc/auth_requests/V2_1", None)
        .await;
    assert_eq!(
        (status, got),
        (404, rest_error(5, "QUERY-Thee9", "Auth Request does not exist"))
    );

    // A password session (alice has no second factor; the policy does not force MFA).
    let (session, token) = password_session(&s, &client, "alice").await;
    // The admin (IAM_OWNER) may read auth requests but not link them.
    let (status, _) = s.call("GET", &path, None).await;
    assert_eq!(status, 200);
    assert_eq!(
        s.call("POST", &path, Some(with_session(&session, &token))).await,
        (403, rest_error(7, "AUTH-AWfge", "No matching permissions found"))
    );
    // A wrong session token.
    assert_eq!(
        callback(&s, &client, &id, with_session(&session, "nope")).await,
        (403, rest_error(7, "COMMAND-sGr42", "Session Token is invalid"))
    );
    let (status, got) = callback(&s, &client, &id, with_session(&session, &token)).await;
    assert_eq!(status, 200, "{got}");
    let code = code_of(got["callbackUrl"].as_str().unwrap(), "st-1");
    assert!(code.len() >= 43, "{code}");
    assert_eq!(got["details"]["resourceOwner"], json!(s.instance_id().await));
    let linked = s.event_payloads("auth_request.session.linked").await;
    assert_eq!(linked[0]["session_id"], json!(session));
    assert_eq!(linked[0]["amr"], json!(["pwd"]));
    // The code is stored only as a keyed hash.
    assert!(!s.stored_text().await.contains(&code));

    // Each request links once; one session may link several requests.
    assert_eq!(
        callback(&s, &client, &id, with_session(&session, &token)).await,
        (
            400,
            rest_error(9, "COMMAND-Sx208nt", "Auth Request has already been handled")
        )
    );
    let second = auth_request(&s, &client_id, "st-2").await;
    let (status, got) = callback(&s, &client, &second, with_session(&session, &token)).await;
    assert_eq!(status, 200, "{got}");
    assert_ne!(code_of(got["callbackUrl"].as_str().unwrap(), "st-2"), code);

    // prompt=login (max_age 0): only a check made after the request counts.
    let mut params = pkce(&client_id, "st-3");
    params.push(("prompt", "login"));
    let (_, location, _) = authorize(&s, &params).await;
    let fresh = location.rsplit_once("authRequest=").unwrap().1.to_owned();
    let (status, got) = callback(&s, &client, &fresh, with_session(&session, &token)).await;
    assert_eq!((status, &got["details"][0]["id"]), (400, &json!("OIDC-D00r1")), "{got}");
    let (status, got) = callback(&s, &client, &other, with_session(&session, &token)).await;
    assert_eq!(status, 200, "the session was checked after that request: {got}");
}

async fn the_door_follows_the_login_policy_now(b: Backend) {
    let s = Server::start(b).await;
    let bank = s.create_org("Bank").await;
    let (_, _, client_id) = public_app(&s, &bank).await;
    let client = login_client(&s).await;
    let t = fresh_step().await;
    let (_alice, seed) = enrolled(&s, Some(&bank), "alice", t).await;
    s.create_human(Some(&bank), "bob").await;
    let (status, got) = s
        .call(
            "PUT",
            "/admin/v1/policies/login",
            Some(json!({
                "allowUsernamePassword": true, "allowRegister": true, "allowExternalIdp": true,
                "forceMfa": true, "passwordlessType": "PASSWORDLESS_TYPE_ALLOWED",
                "passwordCheckLifetime": "864000s", "externalLoginCheckLifetime": "864000s",
                "mfaInitSkipLifetime": "2592000s", "secondFactorCheckLifetime": "64800s",
                "multiFactorCheckLifetime": "43200s"
            })),
        )
        .await;
    assert_eq!(status, 200, "{got}");

    // Force MFA: a password-only session is refused.
    let id = auth_request(&s, &client_id, "st").await;
    let (session, token) = password_session(&s, &client, "alice").await;
    let refused = |missing: &str| {
        (
            400,
            rest_error(
                9,
                "OIDC-D00r1",
                &format!(
                    "the login policy forces MFA: session {session} lacks a second factor check ({missing}) within 18h"
                ),
            ),
        )
    };
    assert_eq!(
        callback(&s, &client, &id, with_session(&session, &token)).await,
        refused("OTP, U2F")
    );
    // bob has no second factor at all: refused too (he must enrol one first).
    let (bob_session, bob_token) = password_session(&s, &client, "bob").await;
    let (status, got) = callback(&s, &client, &id, with_session(&bob_session, &bob_token)).await;
    assert_eq!((status, &got["code"]), (400, &json!(9)), "{got}");

    // After a TOTP check the same request is accepted.
    let (status, got) = s
        .call_as(
            &client,
            None,
            "PATCH",
            &format!("/v2/sessions/{session}"),
            Some(json!({"sessionToken": token, "checks": {"totp": {"code": totp(&seed, t)}}})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    let token = got["sessionToken"].as_str().unwrap().to_owned();
    let (status, got) = callback(&s, &client, &id, with_session(&session, &token)).await;
    assert_eq!(status, 200, "{got}");
    code_of(got["callbackUrl"].as_str().unwrap(), "st");
    let linked = s.event_payloads("auth_request.session.linked").await;
    assert_eq!(linked[0]["amr"], json!(["pwd", "otp", "mfa"]));

    // OTP removed from the policy: the same session no longer passes.
    let (status, got) = s
        .call(
            "DELETE",
            "/admin/v1/policies/login/second_factors/SECOND_FACTOR_TYPE_OTP",
            None,
        )
        .await;
    assert_eq!(status, 200, "{got}");
    let id = auth_request(&s, &client_id, "st").await;
    assert_eq!(
        callback(&s, &client, &id, with_session(&session, &token)).await,
        refused("U2F")
    );
}

async fn authorize_refusals(b: Backend) {
    let s = Server::start(b).await;
    let bank = s.create_org("Bank").await;
    let (project, app_id, client_id) = public_app(&s, &bank).await;
    let direct = |description: &str| {
        (
            400,
            String::new(),
            json!({"error": "invalid_request", "error_description": description}).to_string(),
        )
    };
    // Unknown client, unregistered redirect URI: answered here, never redirected.
    let mut params = pkce("unknown", "st");
    assert_eq!(
        authorize(&s, &params).await,
        direct("unknown client_id (no active OIDC application has it)")
    );
    params = pkce(&client_id, "st");
    params[1] = ("redirect_uri", "https://evil.example/cb");
    assert_eq!(
        authorize(&s, &params).await,
        direct("redirect_uri is not registered for this client")
    );
    // After the redirect URI is known: errors go back to it, with the state.
    let back = |error: &str, description: &str| {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([("error", error), ("error_description", description), ("state", "st")])
            .finish();
        (302, format!("{REDIRECT}?{query}"), String::new())
    };
    params = pkce(&client_id, "st");
    params[7] = ("code_challenge_method", "plain");
    assert_eq!(
        authorize(&s, &params).await,
        back(
            "invalid_request",
            "code_challenge_method plain is not allowed, use S256"
        )
    );
    params.truncate(6);
    assert_eq!(
        authorize(&s, &params).await,
        back(
            "invalid_request",
            "code_challenge is required (PKCE S256) for public clients"
        )
    );
    params = pkce(&client_id, "st");
    params[3] = ("scope", "profile");
    assert_eq!(
        authorize(&s, &params).await,
        back("invalid_scope", "The scope openid is missing in your request")
    );
    assert_eq!(s.count_events("auth_request.added").await, 0);

    // The POST form works like GET.
    let resp = browser()
        .post(s.url("/oauth/v2/authorize"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pkce(&client_id, "st"))
                .finish(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 302);
    let location = resp.headers()["location"].to_str().unwrap();
    assert!(location.contains("/ui/login/login?authRequest=V2_"), "{location}");

    // A deactivated app, then a deactivated project: like an unknown client.
    let unknown = direct("unknown client_id (no active OIDC application has it)");
    let app_path = format!("/management/v1/projects/{project}/apps/{app_id}");
    for (deactivate, reactivate) in [
        (format!("{app_path}/_deactivate"), format!("{app_path}/_reactivate")),
        (
            format!("/management/v1/projects/{project}/_deactivate"),
            format!("/management/v1/projects/{project}/_reactivate"),
        ),
    ] {
        assert_eq!(s.call_in(&bank, "POST", &deactivate, Some(json!({}))).await.0, 200);
        assert_eq!(authorize(&s, &pkce(&client_id, "st")).await, unknown, "{deactivate}");
        assert_eq!(s.call_in(&bank, "POST", &reactivate, Some(json!({}))).await.0, 200);
        assert_eq!(authorize(&s, &pkce(&client_id, "st")).await.0, 302);
    }
}

/// The error kind of CreateCallback, and both RPCs over gRPC.
async fn callback_errors_and_grpc(b: Backend) {
    use twofold_proto::zitadel::oidc::v2::oidc_service_client::OidcServiceClient;
    use twofold_proto::zitadel::oidc::v2::{GetAuthRequestRequest, create_callback_request};

    let s = Server::start(b).await;
    let bank = s.create_org("Bank").await;
    let (_, _, client_id) = public_app(&s, &bank).await;
    let client = login_client(&s).await;
    let id = auth_request(&s, &client_id, "st").await;
    let (status, got) = callback(
        &s,
        &client,
        &id,
        json!({"error": {"error": "ERROR_REASON_ACCESS_DENIED", "errorDescription": "user said no"}}),
    )
    .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(
        got["callbackUrl"],
        format!("{REDIRECT}?error=access_denied&error_description=user+said+no&state=st")
    );
    assert_eq!(
        s.event_payloads("auth_request.failed").await,
        vec![json!({"reason": 3})]
    );
    // A failed request is gone.
    let (status, _) = s
        .call_as(&client, None, "GET", &format!("/v2/oidc/auth_requests/{id}"), None)
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        callback(&s, &client, &id, json!({"error": {"error": 3}})).await,
        (
            400,
            rest_error(9, "COMMAND-Sx202nt", "Auth Request has already been handled")
        )
    );
    let (status, got) = callback(&s, &client, &id, json!({})).await;
    assert_eq!(status, 400, "{got}");

    // gRPC: the same service.
    let id = auth_request(&s, &client_id, "st").await;
    let channel = s.channel().await;
    let bearer: tonic::metadata::MetadataValue<_> = format!("Bearer {client}").parse().unwrap();
    let mut grpc = OidcServiceClient::with_interceptor(channel, move |mut req: tonic::Request<()>| {
        req.metadata_mut().insert("authorization", bearer.clone());
        Ok(req)
    });
    let got = grpc
        .get_auth_request(GetAuthRequestRequest {
            auth_request_id: id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.auth_request.unwrap().client_id, client_id);
    let err = grpc
        .create_callback(twofold_proto::zitadel::oidc::v2::CreateCallbackRequest {
            auth_request_id: id,
            callback_kind: Some(create_callback_request::CallbackKind::Session(
                twofold_proto::zitadel::oidc::v2::Session {
                    session_id: "missing".into(),
                    session_token: "t".into(),
                },
            )),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::FailedPrecondition);
    assert_eq!(crate::harness::error_id(&err), "COMMAND-Flk38");
}

/// An auth request that waited longer than the operator's
/// `--auth-request-lifetime` is refused, even with a valid session.
async fn an_expired_auth_request_is_refused(b: Backend) {
    let s = Server::start_args(b, &["--auth-request-lifetime", "1"]).await;
    let bank = s.create_org("Bank").await;
    let (_, _, client_id) = public_app(&s, &bank).await;
    s.create_human(Some(&bank), "alice").await;
    let client = login_client(&s).await;
    let session = password_session(&s, &client, "alice").await;
    let id = auth_request(&s, &client_id, "st").await;
    let (status, got) = s
        .call_as(&client, None, "GET", &format!("/v2/oidc/auth_requests/{id}"), None)
        .await;
    assert_eq!(status, 200, "{got}");
    // Past its one-second lifetime.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(
        s.call_as(&client, None, "GET", &format!("/v2/oidc/auth_requests/{id}"), None)
            .await,
        (404, rest_error(5, "QUERY-Thee9", "Auth Request does not exist"))
    );
    assert_eq!(
        callback(&s, &client, &id, with_session(&session.0, &session.1)).await,
        (400, rest_error(9, "OIDC-AuRqX", "Auth Request has expired"))
    );
    assert_eq!(s.count_events("auth_request.session.linked").await, 0);
}
