//! The token side of the OIDC provider (issue 13) driven by a real relying
//! party, the `openidconnect` crate: discovery, code + PKCE through the
//! Session API and CreateCallback, ID tokens checked against the JWKS,
//! refresh rotation and reuse detection, client credentials, and the
//! token endpoint's refusals.

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreErrorResponseType, CoreIdTokenVerifier, CoreProviderMetadata,
    CoreTokenResponse,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, HttpRequest, HttpResponse, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, RefreshToken, RequestTokenError, Scope, TokenResponse,
};
use serde_json::{Value, json};

use crate::fixtures::totp;
use crate::harness::{Backend, Server, backend_tests, rest_error};
use crate::oidc::{REDIRECT, browser, callback, login_client, password_session, with_session};
use crate::sessions::{enrolled, fresh_step};

backend_tests!(
    code_flow_with_a_relying_party,
    token_endpoint_refusals,
    forced_mfa_shows_in_the_id_token,
    client_credentials_for_a_machine_user,
    userinfo_introspection_revocation_and_sign_out,
    access_tokens_on_twofold_apis
);

const BYE: &str = "https://app.example/bye";

pub(crate) type Rp =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

/// The relying party's HTTP, through reqwest (no redirects followed).
pub(crate) async fn http(req: HttpRequest) -> Result<HttpResponse, reqwest::Error> {
    let (parts, body) = req.into_parts();
    let resp = browser()
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await?;
    let mut out = http::Response::builder().status(resp.status());
    for (k, v) in resp.headers() {
        out = out.header(k, v);
    }
    Ok(out.body(resp.bytes().await?.to_vec()).unwrap())
}

pub(crate) async fn discover(s: &Server) -> CoreProviderMetadata {
    CoreProviderMetadata::discover_async(IssuerUrl::new(s.url("")).unwrap(), &http)
        .await
        .unwrap()
}

/// A confidential web app (client_secret_basic) allowed to refresh:
/// (project, app id, client id, secret).
async fn web_app(s: &Server, org: &str) -> (String, String, String, String) {
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
                "name": "web", "redirectUris": [REDIRECT],
                "grantTypes": ["OIDC_GRANT_TYPE_AUTHORIZATION_CODE", "OIDC_GRANT_TYPE_REFRESH_TOKEN"],
                "idTokenUserinfoAssertion": true, "postLogoutRedirectUris": [BYE]
            })),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    let field = |k: &str| got[k].as_str().unwrap().to_owned();
    (project, field("appId"), field("clientId"), field("clientSecret"))
}

fn rp(meta: CoreProviderMetadata, client_id: &str, secret: &str) -> Rp {
    CoreClient::from_provider_metadata(
        meta,
        ClientId::new(client_id.into()),
        Some(ClientSecret::new(secret.into())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap())
}

/// What the relying party keeps between authorize and the callback.
pub(crate) struct Pending {
    pub verifier: PkceCodeVerifier,
    pub nonce: Nonce,
    pub state: CsrfToken,
    pub auth_request: String,
}

/// The relying party sends the browser to authorize; the ID of the auth
/// request the login is handed.
pub(crate) async fn start(s: &Server, rp: &Rp, scopes: &[&str]) -> Pending {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut req = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge);
    for sc in scopes {
        req = req.add_scope(Scope::new((*sc).into()));
    }
    let (url, state, nonce) = req.url();
    let resp = browser().get(url.as_str()).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 302);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let auth_request = location.rsplit_once("authRequest=").unwrap().1.to_owned();
    assert!(location.starts_with(&s.url("/ui/login/login?")), "{location}");
    Pending {
        verifier,
        nonce,
        state,
        auth_request,
    }
}

/// The login links the session; the code the browser brings back.
pub(crate) async fn finish(s: &Server, login: &str, p: &Pending, session: &(String, String)) -> String {
    let (status, got) = callback(s, login, &p.auth_request, with_session(&session.0, &session.1)).await;
    assert_eq!(status, 200, "{got}");
    let url = url::Url::parse(got["callbackUrl"].as_str().unwrap()).unwrap();
    let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(&q["state"], p.state.secret());
    q["code"].clone()
}

fn verifier<'a>(rp: &'a Rp, project: &str) -> CoreIdTokenVerifier<'a> {
    let project = project.to_owned();
    // The audience also names the project (as ZITADEL's does).
    rp.id_token_verifier()
        .set_other_audience_verifier_fn(move |aud| **aud == project)
}

/// The OAuth error of a refused token request.
fn oauth_error<E: std::error::Error>(
    e: RequestTokenError<E, openidconnect::StandardErrorResponse<CoreErrorResponseType>>,
) -> (String, String) {
    match e {
        RequestTokenError::ServerResponse(r) => (
            r.error().as_ref().to_owned(),
            r.error_description().cloned().unwrap_or_default(),
        ),
        other => panic!("{other:?}"),
    }
}

async fn exchange(rp: &Rp, code: &str, verifier: PkceCodeVerifier) -> Result<CoreTokenResponse, (String, String)> {
    rp.exchange_code(AuthorizationCode::new(code.into()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .map_err(oauth_error)
}

async fn refresh(rp: &Rp, token: &RefreshToken) -> Result<CoreTokenResponse, (String, String)> {
    rp.exchange_refresh_token(token)
        .unwrap()
        .request_async(&http)
        .await
        .map_err(oauth_error)
}

fn refused(description: &str) -> (String, String) {
    ("invalid_grant".into(), description.into())
}

async fn code_flow_with_a_relying_party(b: Backend) {
    let s = Server::start(b).await;
    let bank = s.create_org("Bank").await;
    let (project, _, client_id, secret) = web_app(&s, &bank).await;
    let alice = s.create_human(Some(&bank), "alice").await;
    let login = login_client(&s).await;
    let meta = discover(&s).await;
    assert_eq!(meta.issuer().as_str(), s.url(""));
    let rp = rp(meta, &client_id, &secret);

    // Authorize → login → callback → code → tokens.
    let p = start(&s, &rp, &["profile", "email", "offline_access"]).await;
    let session = password_session(&s, &login, "alice").await;
    let code = finish(&s, &login, &p, &session).await;
    let tokens = exchange(&rp, &code, p.verifier).await.unwrap();
    let id_token = tokens.id_token().unwrap();
    let claims = id_token.claims(&verifier(&rp, &project), &p.nonce).unwrap();
    assert_eq!(claims.subject().as_str(), alice);
    let amr: Vec<&str> = claims.auth_method_refs().unwrap().iter().map(|a| a.as_str()).collect();
    assert_eq!(amr, ["pwd"]);
    assert_eq!(claims.email().unwrap().as_str(), "alice@example.com");
    // at_hash binds the access token (RS256: SHA-256).
    let at_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier(&rp, &project)).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&at_hash));
    assert_eq!(tokens.expires_in().unwrap().as_secs(), 12 * 3600);
    // The raw claims, with ZITADEL's extras.
    let raw = payload(&id_token.to_string());
    assert_eq!(raw["aud"], json!([project, client_id]));
    assert_eq!(raw["azp"], json!(client_id));
    assert!(raw["sid"].as_str().unwrap().starts_with("V2_"), "{raw}");
    assert_eq!(raw["preferred_username"], "alice");
    assert_eq!(raw["acr"], "urn:twofold:acr:single-factor");
    // Tokens are stored as keyed hashes only.
    let stored = s.stored_text().await;
    assert!(!stored.contains(tokens.access_token().secret()));
    let r1 = tokens.refresh_token().unwrap().clone();
    assert!(!stored.contains(r1.secret()));

    // The JWKS: one RSA and one EC key, each with its kid.
    let jwks: Value = reqwest::get(s.url("/oauth/v2/keys"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let algs: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["alg"].as_str().unwrap())
        .collect();
    assert_eq!(algs, ["RS256", "ES256"]);
    assert_eq!(s.count_events("key_pair.added").await, 2);

    // Refresh: the token rotates; the old one presented again revokes the
    // whole family, the newest included.
    let rotated = refresh(&rp, &r1).await.unwrap();
    let r2 = rotated.refresh_token().unwrap().clone();
    assert_ne!(r2.secret(), r1.secret());
    assert!(rotated.id_token().is_some());
    // A narrower scope on refresh (RFC 6749 §6): the new tokens carry it,
    // a scope never granted is refused, and the grant keeps its own.
    let narrowed = rp
        .exchange_refresh_token(&r2)
        .unwrap()
        .add_scope(Scope::new("openid".into()))
        .add_scope(Scope::new("email".into()))
        .request_async(&http)
        .await
        .unwrap();
    let raw = payload(&narrowed.id_token().unwrap().to_string());
    assert_eq!(
        (&raw["email"], raw.get("preferred_username")),
        (&json!("alice@example.com"), None)
    );
    let (status, info) = userinfo(&s, narrowed.access_token().secret()).await;
    assert_eq!((status, info.get("preferred_username")), (200, None), "{info}");
    let r3 = narrowed.refresh_token().unwrap().clone();
    let wider = rp
        .exchange_refresh_token(&r3)
        .unwrap()
        .add_scope(Scope::new("phone".into()))
        .request_async(&http)
        .await
        .map_err(oauth_error);
    assert_eq!(
        wider.unwrap_err(),
        ("invalid_scope".to_owned(), "scope \"phone\" was not granted".to_owned())
    );
    let full = refresh(&rp, &r3).await.unwrap();
    assert_eq!(
        payload(&full.id_token().unwrap().to_string())["preferred_username"],
        "alice"
    );
    assert_eq!(
        refresh(&rp, &r1).await.unwrap_err(),
        refused("refresh token reused: the grant is revoked")
    );
    assert_eq!(refresh(&rp, &r2).await.unwrap_err(), refused("refresh token revoked"));
    assert_eq!(
        s.event_payloads("oidc_session.revoked").await,
        vec![json!({"reason": "refresh_token_reused"})]
    );

    // A code used twice: refused, and the tokens of its first use revoked.
    let p = start(&s, &rp, &["offline_access"]).await;
    let code = finish(&s, &login, &p, &session).await;
    let verifier_secret = p.verifier.secret().clone();
    let tokens = exchange(&rp, &code, p.verifier).await.unwrap();
    assert_eq!(
        exchange(&rp, &code, PkceCodeVerifier::new(verifier_secret))
            .await
            .unwrap_err(),
        refused("code has been used already: its tokens are revoked")
    );
    assert_eq!(
        refresh(&rp, tokens.refresh_token().unwrap()).await.unwrap_err(),
        refused("refresh token revoked")
    );
    // The auth request is done: the login no longer sees it.
    let (status, _) = s
        .call_as(
            &login,
            None,
            "GET",
            &format!("/v2/oidc/auth_requests/{}", p.auth_request),
            None,
        )
        .await;
    assert_eq!(status, 404);
}

/// The claims of a JWT, unverified (the relying party verified it).
pub(crate) fn payload(jwt: &str) -> Value {
    use base64::Engine;
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// POST /oauth/v2/token with `form` and optional basic credentials.
pub(crate) async fn token_call(
    s: &Server,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (u16, Option<String>, Value) {
    form_call(s, "/oauth/v2/token", basic, form).await
}

/// POST a form to `path` with optional basic credentials.
pub(crate) async fn form_call(
    s: &Server,
    path: &str,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (u16, Option<String>, Value) {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let mut rb = reqwest::Client::new()
        .post(s.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    if let Some((id, secret)) = basic {
        rb = rb.basic_auth(id, Some(secret));
    }
    let resp = rb.send().await.unwrap();
    let status = resp.status().as_u16();
    let challenge = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = resp.text().await.unwrap();
    (status, challenge, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// GET /oidc/v1/userinfo with a bearer token: status and body.
async fn userinfo(s: &Server, token: &str) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .get(s.url("/oidc/v1/userinfo"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

pub(crate) fn error(code: &str, description: &str) -> Value {
    json!({"error": code, "error_description": description})
}

async fn token_endpoint_refusals(b: Backend) {
    let s = Server::start(b).await;
    let bank = s.create_org("Bank").await;
    let (project, app_id, client_id, secret) = web_app(&s, &bank).await;
    s.create_human(Some(&bank), "alice").await;
    let login = login_client(&s).await;
    let rp = rp(discover(&s).await, &client_id, &secret);
    let session = password_session(&s, &login, "alice").await;
    let p = start(&s, &rp, &[]).await;
    let code = finish(&s, &login, &p, &session).await;
    let verifier = p.verifier.secret().as_str();
    let grant = |redirect: &'static str, v: Option<&'static str>| {
        let mut form = vec![("grant_type", "authorization_code"), ("redirect_uri", redirect)];
        if let Some(v) = v {
            form.push(("code_verifier", v));
        }
        form
    };
    let with_code = |mut form: Vec<(&'static str, &'static str)>, code: &'static str| {
        form.push(("code", code));
        form
    };
    let code: &'static str = Box::leak(code.into_boxed_str());
    let verifier: &'static str = Box::leak(verifier.to_owned().into_boxed_str());
    let basic = Some((client_id.as_str(), secret.as_str()));

    // Wrong client secret: 401 with a challenge, and nothing changes.
    assert_eq!(
        token_call(
            &s,
            Some((&client_id, "wrong")),
            &with_code(grant(REDIRECT, Some(verifier)), code)
        )
        .await,
        (
            401,
            Some("Basic realm=\"token\"".into()),
            error("invalid_client", "invalid secret")
        )
    );
    // The secret in the body while the app registered basic.
    let mut form = with_code(grant(REDIRECT, Some(verifier)), code);
    form.extend([("client_id", client_id.as_str()), ("client_secret", secret.as_str())]);
    assert_eq!(
        token_call(&s, None, &form).await.2,
        error(
            "invalid_client",
            "the client authenticates in another way than it registered"
        )
    );
    // PKCE and redirect URI.
    let cases = [
        (grant(REDIRECT, None), "code_verifier required"),
        (
            grant(REDIRECT, Some("x-wrong-verifier-x-wrong-verifier-x-wrong-verifier")),
            "invalid code_verifier",
        ),
        (
            grant("https://app.example/other", Some(verifier)),
            "redirect_uri differs from the one of the authorization request",
        ),
    ];
    for (form, description) in cases {
        assert_eq!(
            token_call(&s, basic, &with_code(form, code)).await,
            (400, None, error("invalid_grant", description))
        );
    }
    assert_eq!(
        token_call(&s, basic, &with_code(grant(REDIRECT, Some(verifier)), "nope"))
            .await
            .2,
        error("invalid_grant", "invalid code")
    );
    assert_eq!(
        token_call(&s, basic, &[("grant_type", "password")]).await,
        (
            400,
            None,
            error("unsupported_grant_type", "grant_type \"password\" is not supported")
        )
    );
    assert_eq!(s.count_events("oidc_session.added").await, 0);

    // A deactivated app is refused; reactivated, the code still works.
    let app_path = format!("/management/v1/projects/{project}/apps/{app_id}");
    assert_eq!(
        s.call_in(&bank, "POST", &format!("{app_path}/_deactivate"), Some(json!({})))
            .await
            .0,
        200
    );
    let (status, _, got) = token_call(&s, basic, &with_code(grant(REDIRECT, Some(verifier)), code)).await;
    assert_eq!((status, got), (401, error("invalid_client", "client is not active")));
    assert_eq!(
        s.call_in(&bank, "POST", &format!("{app_path}/_reactivate"), Some(json!({})))
            .await
            .0,
        200
    );
    let (status, _, got) = token_call(&s, basic, &with_code(grant(REDIRECT, Some(verifier)), code)).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["token_type"], "Bearer");
    assert_eq!(got.get("refresh_token"), None, "no offline_access asked");
}

async fn forced_mfa_shows_in_the_id_token(b: Backend) {
    let s = Server::start(b).await;
    let bank = s.create_org("Bank").await;
    let (project, _, client_id, secret) = web_app(&s, &bank).await;
    let login = login_client(&s).await;
    let t = fresh_step().await;
    let (_alice, seed) = enrolled(&s, Some(&bank), "alice", t).await;
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
    let rp = rp(discover(&s).await, &client_id, &secret);
    let p = start(&s, &rp, &[]).await;
    let (session, token) = password_session(&s, &login, "alice").await;
    // Password only: refused at the door.
    let (status, got) = callback(&s, &login, &p.auth_request, with_session(&session, &token)).await;
    assert_eq!((status, &got["details"][0]["id"]), (400, &json!("OIDC-D00r1")), "{got}");
    // With TOTP: admitted, and the ID token says how.
    let (status, got) = s
        .call_as(
            &login,
            None,
            "PATCH",
            &format!("/v2/sessions/{session}"),
            Some(json!({"sessionToken": token, "checks": {"totp": {"code": totp(&seed, t)}}})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    let token = got["sessionToken"].as_str().unwrap().to_owned();
    let code = finish(&s, &login, &p, &(session, token)).await;
    let tokens = exchange(&rp, &code, p.verifier).await.unwrap();
    let claims = tokens
        .id_token()
        .unwrap()
        .claims(&verifier(&rp, &project), &p.nonce)
        .unwrap();
    let amr: Vec<&str> = claims.auth_method_refs().unwrap().iter().map(|a| a.as_str()).collect();
    assert_eq!(amr, ["pwd", "otp", "mfa"]);
    assert_eq!(
        claims.auth_context_ref().map(|a| a.as_str()),
        Some("urn:twofold:acr:multi-factor")
    );
}

async fn client_credentials_for_a_machine_user(b: Backend) {
    let s = Server::start(b).await;
    let bank = s.create_org("Bank").await;
    let svc = s.create_machine(&bank, "svc").await;
    let (status, got) = s
        .call_in(
            &bank,
            "PUT",
            &format!("/management/v1/users/{svc}/secret"),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    let (id, secret) = (got["clientId"].as_str().unwrap(), got["clientSecret"].as_str().unwrap());
    let meta = discover(&s).await;
    let machine = CoreClient::from_provider_metadata(
        meta.clone(),
        ClientId::new(id.into()),
        Some(ClientSecret::new(secret.into())),
    );
    let tokens = machine
        .exchange_client_credentials()
        .unwrap()
        .add_scope(Scope::new("urn:zitadel:iam:org:project:id:zitadel:aud".into()))
        .request_async(&http)
        .await
        .unwrap();
    assert!(tokens.refresh_token().is_none());
    assert_eq!(tokens.expires_in().unwrap().as_secs(), 12 * 3600);
    assert!(!s.stored_text().await.contains(tokens.access_token().secret()));
    let added = s.event_payloads("oidc_session.added").await;
    assert_eq!(added[0]["userID"], json!(svc));
    assert_eq!(added[0]["amr"], json!(["pwd"]));
    assert_eq!(added[0]["audience"], json!([id, "zitadel"]));

    // A wrong secret.
    let wrong = CoreClient::from_provider_metadata(meta, ClientId::new(id.into()), Some(ClientSecret::new("x".into())));
    let err = wrong
        .exchange_client_credentials()
        .unwrap()
        .request_async(&http)
        .await
        .unwrap_err();
    assert_eq!(oauth_error(err), ("invalid_client".into(), "invalid secret".into()));
    assert_eq!(s.count_events("oidc_session.added").await, 1);
}

async fn userinfo_introspection_revocation_and_sign_out(b: Backend) {
    use openidconnect::core::CoreUserInfoClaims;

    let s = Server::start(b).await;
    let bank = s.create_org("Bank").await;
    let (project, _, client_id, secret) = web_app(&s, &bank).await;
    let (status, got) = s
        .call_in(
            &bank,
            "POST",
            &format!("/management/v1/projects/{project}/apps/api"),
            Some(json!({"name": "api"})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    let (api_id, api_secret) = (
        got["clientId"].as_str().unwrap().to_owned(),
        got["clientSecret"].as_str().unwrap().to_owned(),
    );
    let alice = s.create_human(Some(&bank), "alice").await;
    let login = login_client(&s).await;
    let rp = rp(discover(&s).await, &client_id, &secret);
    let session = password_session(&s, &login, "alice").await;
    let p = start(&s, &rp, &["profile", "email", "offline_access"]).await;
    let code = finish(&s, &login, &p, &session).await;
    let tokens = exchange(&rp, &code, p.verifier).await.unwrap();
    let at = tokens.access_token().secret().clone();

    // userinfo, through the relying party.
    let info: CoreUserInfoClaims = rp
        .user_info(tokens.access_token().clone(), None)
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    assert_eq!(info.subject().as_str(), alice);
    assert_eq!(info.email().unwrap().as_str(), "alice@example.com");
    assert_eq!(info.preferred_username().unwrap().as_str(), "alice");
    let invalid = json!({"error": "access_denied", "error_description": "access token invalid"});
    assert_eq!(userinfo(&s, "V2_1.nope").await, (401, invalid.clone()));

    // Introspection by an API app of the same project.
    let api = Some((api_id.as_str(), api_secret.as_str()));
    let (status, _, got) = form_call(&s, "/oauth/v2/introspect", api, &[("token", &at)]).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!((&got["active"], &got["sub"]), (&json!(true), &json!(alice)));
    assert_eq!(got["client_id"], json!(client_id));
    assert_eq!(got["scope"], "openid profile email offline_access");
    assert_eq!(got["iss"], json!(s.url("")));
    let inactive = (200, None, json!({"active": false}));
    assert_eq!(
        form_call(&s, "/oauth/v2/introspect", api, &[("token", "V2_1.nope")]).await,
        inactive
    );
    assert_eq!(
        form_call(&s, "/oauth/v2/introspect", Some((&api_id, "wrong")), &[("token", &at)])
            .await
            .2,
        json!({"error": "invalid_client", "error_description": "invalid secret"})
    );

    // Revoking the access token ends it alone; revoking the refresh token
    // ends the grant.
    let web = Some((client_id.as_str(), secret.as_str()));
    assert_eq!(
        form_call(&s, "/oauth/v2/revoke", web, &[("token", &at)]).await,
        (200, None, Value::Null)
    );
    assert_eq!(
        form_call(&s, "/oauth/v2/introspect", api, &[("token", &at)]).await,
        inactive
    );
    assert_eq!(userinfo(&s, &at).await, (401, invalid.clone()));
    let r1 = tokens.refresh_token().unwrap();
    let fresh = refresh(&rp, r1).await.unwrap();
    assert_eq!(userinfo(&s, fresh.access_token().secret()).await.0, 200);
    let r2 = fresh.refresh_token().unwrap();
    // Another client's revocation changes nothing (and is answered 200).
    assert_eq!(
        form_call(&s, "/oauth/v2/revoke", api, &[("token", r2.secret())])
            .await
            .0,
        200
    );
    assert_eq!(userinfo(&s, fresh.access_token().secret()).await.0, 200);
    assert_eq!(
        form_call(&s, "/oauth/v2/revoke", web, &[("token", r2.secret())])
            .await
            .0,
        200
    );
    assert_eq!(refresh(&rp, r2).await.unwrap_err(), refused("refresh token revoked"));
    assert_eq!(userinfo(&s, fresh.access_token().secret()).await.0, 401);

    // end_session: the hint's grant ends, the session too, and the browser
    // goes to the registered URI with the state.
    let p = start(&s, &rp, &[]).await;
    let code = finish(&s, &login, &p, &session).await;
    let tokens = exchange(&rp, &code, p.verifier).await.unwrap();
    let hint = tokens.id_token().unwrap().to_string();
    let end = |uri: &str| {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("id_token_hint", hint.as_str()),
                ("post_logout_redirect_uri", uri),
                ("state", "s1"),
            ])
            .finish();
        s.url(&format!("/oidc/v1/end_session?{query}"))
    };
    let resp = browser().get(end("https://evil.example/")).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({"error": "invalid_request", "error_description": "post_logout_redirect_uri is not registered for this client"})
    );
    assert_eq!(userinfo(&s, tokens.access_token().secret()).await.0, 200);
    let resp = browser().get(end(BYE)).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 302);
    assert_eq!(resp.headers()["location"], format!("{BYE}?state=s1").as_str());
    assert_eq!(userinfo(&s, tokens.access_token().secret()).await.0, 401);
    assert_eq!(s.count_events("session.terminated").await, 1);
    let (status, _) = callback(
        &s,
        &login,
        &start(&s, &rp, &[]).await.auth_request,
        with_session(&session.0, &session.1),
    )
    .await;
    assert_eq!(status, 400, "the session has ended");
}

const FORCE_MFA: &str = r#"{
    "allowUsernamePassword": true, "allowRegister": true, "allowExternalIdp": true,
    "forceMfa": true, "passwordlessType": "PASSWORDLESS_TYPE_ALLOWED",
    "passwordCheckLifetime": "864000s", "externalLoginCheckLifetime": "864000s",
    "mfaInitSkipLifetime": "2592000s", "secondFactorCheckLifetime": "64800s",
    "multiFactorCheckLifetime": "43200s"
}"#;

async fn access_tokens_on_twofold_apis(b: Backend) {
    let s = Server::start(b).await;
    let bank = s.create_org("Bank").await;
    let (_, _, client_id, secret) = web_app(&s, &bank).await;
    s.create_human(Some(&bank), "alice").await;
    let login = login_client(&s).await;
    let rp = rp(discover(&s).await, &client_id, &secret);
    let session = password_session(&s, &login, "alice").await;
    let search = |token: String| {
        let s = &s;
        async move {
            s.call_as(
                &token,
                None,
                "POST",
                "/auth/v1/users/me/auth_factors/_search",
                Some(json!({})),
            )
            .await
        }
    };
    // With Twofold's API in the audience, the token is a bearer token here.
    let p = start(&s, &rp, &["urn:zitadel:iam:org:project:id:zitadel:aud"]).await;
    let code = finish(&s, &login, &p, &session).await;
    let ours = exchange(&rp, &code, p.verifier).await.unwrap();
    let (status, got) = search(ours.access_token().secret().clone()).await;
    assert_eq!(status, 200, "{got}");
    // Without it, it is not.
    let p = start(&s, &rp, &[]).await;
    let code = finish(&s, &login, &p, &session).await;
    let theirs = exchange(&rp, &code, p.verifier).await.unwrap();
    let (status, got) = search(theirs.access_token().secret().clone()).await;
    assert_eq!(
        (status, got),
        (401, rest_error(16, "AUTH-7fs1e", "Errors.Token.Invalid"))
    );
    // Force MFA, as for session tokens: a password-only sign-in no longer
    // reaches the API.
    let policy: Value = serde_json::from_str(FORCE_MFA).unwrap();
    assert_eq!(s.call("PUT", "/admin/v1/policies/login", Some(policy)).await.0, 200);
    let (status, got) = search(ours.access_token().secret().clone()).await;
    assert_eq!((status, got), (403, rest_error(7, "AUTHZ-Kl3p0", "mfa required")));
}
