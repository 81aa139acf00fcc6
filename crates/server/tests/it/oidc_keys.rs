//! App keys (Management API v1 AddAppKey, GetAppKey, ListAppKeys,
//! RemoveAppKey) and `private_key_jwt` client authentication with them at
//! the token and introspection endpoints: assertions signed with the
//! returned private key by the `openidconnect` crate's RSA signer.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use openidconnect::core::{CoreClient, CoreJwsSigningAlgorithm, CoreRsaPrivateSigningKey};
use openidconnect::{ClientId, JsonWebKeyId, PrivateSigningKey, RedirectUrl};
use serde_json::{Value, json};

use crate::harness::{Backend, Server, backend_tests, rest_error};
use crate::oidc::{REDIRECT, login_client, password_session};
use crate::oidc_tokens::{Rp, discover, error, finish, form_call, payload, start, token_call};

backend_tests!(app_keys_are_managed, private_key_jwt_authenticates_clients);

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A new project of `org` with an app added at `kind` (`oidc` or `api`)
/// from `body`: (project, app id, client id).
async fn app(s: &Server, org: &str, project: Option<&str>, kind: &str, body: Value) -> (String, String, String) {
    let project = match project {
        Some(p) => p.to_owned(),
        None => {
            let (status, got) = s
                .call_in(org, "POST", "/management/v1/projects", Some(json!({"name": "Shop"})))
                .await;
            assert_eq!(status, 200, "{got}");
            got["id"].as_str().unwrap().to_owned()
        }
    };
    let key_app = body["authMethodType"]
        .as_str()
        .is_some_and(|m| m.ends_with("PRIVATE_KEY_JWT"));
    let (status, got) = s
        .call_in(
            org,
            "POST",
            &format!("/management/v1/projects/{project}/apps/{kind}"),
            Some(body),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    if key_app {
        assert_eq!(got.get("clientSecret"), None, "a key app gets no secret");
    }
    let field = |k: &str| got[k].as_str().unwrap().to_owned();
    (project, field("appId"), field("clientId"))
}

fn api_app_body() -> Value {
    json!({"name": "api", "authMethodType": "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"})
}

fn web_app_body() -> Value {
    json!({
        "name": "web", "redirectUris": [REDIRECT],
        "grantTypes": ["OIDC_GRANT_TYPE_AUTHORIZATION_CODE", "OIDC_GRANT_TYPE_REFRESH_TOKEN"],
        "authMethodType": "OIDC_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"
    })
}

/// AddAppKey: status and body.
async fn add_key(s: &Server, org: &str, project: &str, app: &str, body: Value) -> (u16, Value) {
    s.call_in(
        org,
        "POST",
        &format!("/management/v1/projects/{project}/apps/{app}/keys"),
        Some(body),
    )
    .await
}

/// A new key: (key id, the key file's JSON).
async fn new_key(s: &Server, org: &str, project: &str, app: &str, expires: Option<&str>) -> (String, Value) {
    let mut body = json!({"type": "KEY_TYPE_JSON"});
    if let Some(e) = expires {
        body["expirationDate"] = json!(e);
    }
    let (status, got) = add_key(s, org, project, app, body).await;
    assert_eq!(status, 200, "{got}");
    let file: Value = serde_json::from_slice(&STANDARD.decode(got["keyDetails"].as_str().unwrap()).unwrap()).unwrap();
    (got["id"].as_str().unwrap().to_owned(), file)
}

async fn app_keys_are_managed(b: Backend) {
    let s = Server::start(b).await;
    let bank = s.create_org("Bank").await;
    let other = s.create_org("Other").await;
    let (project, app_id, client_id) = app(&s, &bank, None, "api", api_app_body()).await;
    let keys = format!("/management/v1/projects/{project}/apps/{app_id}/keys");

    let (status, got) = add_key(
        &s,
        &bank,
        &project,
        &app_id,
        json!({"type": "KEY_TYPE_JSON", "expirationDate": "2099-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(status, 200, "{got}");
    let k1 = got["id"].as_str().unwrap().to_owned();
    assert!(got["details"]["creationDate"].is_string(), "{got}");
    assert_eq!(got["details"]["resourceOwner"], bank);
    // The key file, returned this once (ZITADEL's JSON).
    let file: Value = serde_json::from_slice(&STANDARD.decode(got["keyDetails"].as_str().unwrap()).unwrap()).unwrap();
    let pem = file["key"].as_str().unwrap();
    assert!(pem.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"), "{pem}");
    assert_eq!(
        file,
        json!({"type": "application", "keyId": k1, "key": pem, "appId": app_id, "clientId": client_id})
    );
    // Only the public key is stored.
    let stored = s.stored_text().await;
    let private_line = pem.lines().nth(3).unwrap();
    assert!(!stored.contains(private_line));
    let added = s.event_payloads("project.application.oidc.key.added").await;
    assert_eq!(added.len(), 1);
    assert_eq!(added[0]["keyId"], json!(k1));
    assert!(
        added[0]["publicKey"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----")
    );

    // No expiration date: the end of time, as ZITADEL.
    let (k2, _) = new_key(&s, &bank, &project, &app_id, None).await;
    let (status, got) = s.call_in(&bank, "GET", &format!("{keys}/{k2}"), None).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["key"]["id"], json!(k2));
    assert_eq!(got["key"]["type"], "KEY_TYPE_JSON");
    assert_eq!(got["key"]["expirationDate"], "9999-12-31T23:59:59Z");
    let (status, got) = s
        .call_in(&bank, "POST", &format!("{keys}/_search"), Some(json!({})))
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["details"]["totalResult"], "2");
    let ids: Vec<&str> = got["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [k1.as_str(), k2.as_str()]);
    assert_eq!(got["result"][0]["expirationDate"], "2099-01-01T00:00:00Z");

    // Refusals, each changing nothing.
    let cases = [
        (
            app_id.as_str(),
            json!({}),
            400,
            json!({"code": 3, "message": "invalid AddAppKeyRequest.Type: value must not be in list [0]"}),
        ),
        (
            app_id.as_str(),
            json!({"type": "KEY_TYPE_JSON", "expirationDate": "2020-01-01T00:00:00Z"}),
            400,
            rest_error(3, "DOMAIN-dv3t5", "Errors.AuthNKey.ExpireBeforeNow"),
        ),
        (
            "404404",
            json!({"type": "KEY_TYPE_JSON"}),
            400,
            rest_error(9, "COMMAND-sak25", "Application not found"),
        ),
    ];
    for (app, body, status, want) in cases {
        assert_eq!(add_key(&s, &bank, &project, app, body).await, (status, want));
    }
    let (_, web_id, _) = app(
        &s,
        &bank,
        Some(&project),
        "oidc",
        json!({"name": "basic", "redirectUris": [REDIRECT]}),
    )
    .await;
    assert_eq!(
        add_key(&s, &bank, &project, &web_id, json!({"type": "KEY_TYPE_JSON"})).await,
        (
            400,
            rest_error(9, "COMMAND-Dff54", "Chosen Auth Method does not require a key")
        )
    );
    // Another org's caller sees no such app or key.
    assert_eq!(
        add_key(&s, &other, &project, &app_id, json!({"type": "KEY_TYPE_JSON"})).await,
        (400, rest_error(9, "COMMAND-sak25", "Application not found"))
    );
    let not_found = rest_error(5, "QUERY-AppKy", "Errors.AuthNKey.NotFound");
    assert_eq!(
        s.call_in(&other, "GET", &format!("{keys}/{k1}"), None).await,
        (404, not_found.clone())
    );
    let (status, got) = s
        .call_in(&other, "POST", &format!("{keys}/_search"), Some(json!({})))
        .await;
    assert_eq!((status, &got["result"]), (200, &Value::Null), "{got}");
    assert_eq!(
        s.call_in(&other, "DELETE", &format!("{keys}/{k1}"), None).await,
        (404, rest_error(5, "COMMAND-4m77G", "Application key not found"))
    );
    assert_eq!(s.count_events("project.application.oidc.key.added").await, 2);

    // Removed once; then it is gone.
    let (status, got) = s.call_in(&bank, "DELETE", &format!("{keys}/{k1}"), None).await;
    assert_eq!(status, 200, "{got}");
    assert!(got["details"]["changeDate"].is_string(), "{got}");
    assert_eq!(
        s.call_in(&bank, "DELETE", &format!("{keys}/{k1}"), None).await,
        (404, rest_error(5, "COMMAND-4m77G", "Application key not found"))
    );
    assert_eq!(
        s.call_in(&bank, "GET", &format!("{keys}/{k1}"), None).await,
        (404, not_found)
    );
    assert_eq!(
        s.event_payloads("project.application.oidc.key.removed").await,
        vec![json!({"applicationId": app_id, "keyId": k1})]
    );

    // gRPC: the same service.
    use twofold_proto::zitadel::management::v1::GetAppKeyRequest;
    let mut req = tonic::Request::new(GetAppKeyRequest {
        project_id: project.clone(),
        app_id: app_id.clone(),
        key_id: k2.clone(),
    });
    req.metadata_mut().insert(crate::fixtures::ORG, bank.parse().unwrap());
    let got = s.management().await.get_app_key(req).await.unwrap().into_inner();
    assert_eq!(got.key.unwrap().id, k2);
}

/// Claims of an assertion of `client_id`, valid for a minute.
fn claims(client_id: &str, aud: &str, jti: &str) -> Value {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    json!({"iss": client_id, "sub": client_id, "aud": aud, "iat": now, "exp": now + 60, "jti": jti})
}

/// A compact JWS of `claims`, RS256 with the key file's private key under `kid`.
fn sign(file: &Value, kid: &str, claims: &Value) -> String {
    let key =
        CoreRsaPrivateSigningKey::from_pem(file["key"].as_str().unwrap(), Some(JsonWebKeyId::new(kid.into()))).unwrap();
    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let signed = format!(
        "{}.{}",
        b64(&json!({"alg": "RS256", "typ": "JWT", "kid": kid})),
        b64(claims)
    );
    let sig = key
        .sign(&CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256, signed.as_bytes())
        .unwrap();
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(sig))
}

/// A form with the client assertion and `rest`.
fn with_assertion<'a>(assertion: &'a str, rest: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", assertion),
    ];
    form.extend_from_slice(rest);
    form
}

async fn private_key_jwt_authenticates_clients(b: Backend) {
    let s = Server::start(b).await;
    let issuer = s.url("");
    let token_url = s.url("/oauth/v2/token");
    let bank = s.create_org("Bank").await;
    let (project, web_id, web_client) = app(&s, &bank, None, "oidc", web_app_body()).await;
    let (_, api_id, api_client) = app(&s, &bank, Some(&project), "api", api_app_body()).await;
    let (web_kid, web_key) = new_key(&s, &bank, &project, &web_id, None).await;
    let (api_kid, api_key) = new_key(&s, &bank, &project, &api_id, None).await;
    s.create_human(Some(&bank), "alice").await;
    let login = login_client(&s).await;

    // Code flow: the code is exchanged with an assertion meant for the
    // token endpoint; PKCE as for any client.
    let rp: Rp = CoreClient::from_provider_metadata(discover(&s).await, ClientId::new(web_client.clone()), None)
        .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    let p = start(&s, &rp, &["offline_access"]).await;
    let session = password_session(&s, &login, "alice").await;
    let code = finish(&s, &login, &p, &session).await;
    let first = sign(&web_key, &web_kid, &claims(&web_client, &token_url, "web-1"));
    let (status, _, got) = token_call(
        &s,
        None,
        &with_assertion(
            &first,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", p.verifier.secret()),
            ],
        ),
    )
    .await;
    assert_eq!(status, 200, "{got}");
    let access = got["access_token"].as_str().unwrap().to_owned();
    let refresh = got["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(payload(got["id_token"].as_str().unwrap())["azp"], json!(web_client));

    // The same assertion again: its jti is used up.
    let refresh_form = [("grant_type", "refresh_token"), ("refresh_token", refresh.as_str())];
    let invalid = |d: &str| {
        (
            401,
            Some("Basic realm=\"token\"".to_owned()),
            error("invalid_client", d),
        )
    };
    assert_eq!(
        token_call(&s, None, &with_assertion(&first, &refresh_form)).await,
        invalid("client assertion: jti already used")
    );
    // A secret does not do for a key client.
    assert_eq!(
        token_call(&s, Some((&web_client, "secret")), &refresh_form).await,
        invalid("client assertion missing")
    );
    // A fresh assertion meant for the issuer refreshes.
    let second = sign(&web_key, &web_kid, &claims(&web_client, &issuer, "web-2"));
    let (status, _, got) = token_call(&s, None, &with_assertion(&second, &refresh_form)).await;
    assert_eq!(status, 200, "{got}");

    // The API app of the project introspects with its own key.
    let introspect = |assertion: String| {
        let s = &s;
        let access = access.clone();
        async move {
            form_call(
                s,
                "/oauth/v2/introspect",
                None,
                &with_assertion(&assertion, &[("token", &access)]),
            )
            .await
        }
    };
    let (status, _, got) = introspect(sign(&api_key, &api_kid, &claims(&api_client, &issuer, "api-1"))).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!((&got["active"], &got["client_id"]), (&json!(true), &json!(web_client)));

    // Refusals: each 401 invalid_client.
    let far = {
        let mut c = claims(&api_client, &issuer, "api-far");
        c["exp"] = json!(c["iat"].as_u64().unwrap() + 7200);
        c
    };
    let no_exp = {
        let mut c = claims(&api_client, &issuer, "api-no-exp");
        c.as_object_mut().unwrap().remove("exp");
        c
    };
    let other_iss = {
        let mut c = claims(&api_client, &issuer, "api-iss");
        c["iss"] = json!(web_client);
        c
    };
    let cases = [
        (
            sign(&web_key, &api_kid, &claims(&api_client, &issuer, "api-2")),
            "client assertion: invalid signature",
        ),
        (
            sign(&web_key, &web_kid, &claims(&api_client, &issuer, "api-3")),
            "client assertion: unknown key",
        ),
        (
            sign(
                &api_key,
                &api_kid,
                &claims(&api_client, "https://other.example", "api-4"),
            ),
            "client assertion: aud must contain the issuer",
        ),
        (
            sign(&api_key, &api_kid, &far),
            "client assertion: exp too far in the future",
        ),
        (sign(&api_key, &api_kid, &no_exp), "client assertion: exp missing"),
        (
            sign(&api_key, &api_kid, &other_iss),
            "client assertion: iss and sub must be the client_id",
        ),
        (
            sign(&api_key, &api_kid, &claims(&api_client, &issuer, "api-1")),
            "client assertion: jti already used",
        ),
        ("not.a.jwt".to_owned(), "client assertion invalid"),
    ];
    for (assertion, description) in cases {
        assert_eq!(introspect(assertion).await, invalid(description), "{description}");
    }

    // Client credentials for the API app, with its key.
    let (status, _, got) = token_call(
        &s,
        None,
        &with_assertion(
            &sign(&api_key, &api_kid, &claims(&api_client, &token_url, "api-5")),
            &[("grant_type", "client_credentials")],
        ),
    )
    .await;
    assert_eq!(status, 200, "{got}");
    assert!(got["access_token"].is_string(), "{got}");

    // A removed key, and an expired one, authenticate no more.
    let (status, got) = s
        .call_in(
            &bank,
            "DELETE",
            &format!("/management/v1/projects/{project}/apps/{api_id}/keys/{api_kid}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(
        introspect(sign(&api_key, &api_kid, &claims(&api_client, &issuer, "api-6"))).await,
        invalid("client assertion: unknown key")
    );
    let soon = {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 2;
        prost_types::Timestamp {
            seconds: t as i64,
            nanos: 0,
        }
        .to_string()
    };
    let (short_kid, short_key) = new_key(&s, &bank, &project, &api_id, Some(&soon)).await;
    let (status, _, got) = introspect(sign(&short_key, &short_kid, &claims(&api_client, &issuer, "api-7"))).await;
    assert_eq!(status, 200, "{got}");
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(
        introspect(sign(&short_key, &short_kid, &claims(&api_client, &issuer, "api-8"))).await,
        invalid("client assertion: key expired")
    );
    assert_eq!(s.count_events("client_assertion.used").await, 5);
}
