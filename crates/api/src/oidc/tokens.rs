//! The token endpoint, the JWKS, userinfo, introspection, revocation and
//! end_session: form parsing, client credentials from
//! the `Authorization` header (RFC 6749 §2.3.1) and the RFC 6749 §5 JSON.

use std::collections::HashMap;

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, PRAGMA, WWW_AUTHENTICATE};
use http::{HeaderValue, StatusCode};
use serde_json::json;
use twofold_app::App;
use twofold_app::token_use::SignedOut;
use twofold_app::tokens::TokenRequest;
use twofold_domain::InstanceId;
use twofold_domain::oidc::token::{self, OAuthCode, OAuthError, invalid_request};

use super::endpoints::{domain_error, issuer};
use crate::auth::request_host;

/// Largest token request body (a few short parameters).
const MAX_FORM_BYTES: usize = 64 * 1024;

fn no_store(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}

/// RFC 6749 §5.2: 400, or 401 with `WWW-Authenticate` for a client that
/// failed to authenticate.
pub(super) fn oauth_refusal(e: &OAuthError) -> Response {
    let status = match e.code {
        OAuthCode::InvalidClient => StatusCode::UNAUTHORIZED,
        _ => StatusCode::BAD_REQUEST,
    };
    let mut resp = no_store(
        (
            status,
            axum::Json(json!({"error": e.code.as_str(), "error_description": e.description})),
        )
            .into_response(),
    );
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"token\""));
    }
    resp
}

/// The parameters of a form body; a parameter given twice is refused
/// (RFC 6749 §3.1: parameters MUST NOT be included more than once).
pub(super) async fn form(req: Request) -> Result<(http::request::Parts, HashMap<String, String>), OAuthError> {
    let (parts, body) = req.into_parts();
    let is_form = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(invalid_request("the body must be application/x-www-form-urlencoded"));
    }
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| invalid_request("the body is too large"))?;
    let mut params = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(&bytes) {
        if params.insert(k.to_string(), v.into_owned()).is_some() {
            return Err(invalid_request(format!("parameter {k} given more than once")));
        }
    }
    Ok((parts, params))
}

/// `Authorization: Basic` with the form-url-encoded client id and secret.
pub(super) fn basic_credentials(parts: &http::request::Parts) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = parts.headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let bad = || OAuthError::new(OAuthCode::InvalidClient, "malformed Authorization header");
    let value = value.to_str().map_err(|_| bad())?;
    let Some(encoded) = value.strip_prefix("Basic ") else {
        return Ok(None);
    };
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    let unescape = |s: &str| -> String {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Ok(Some((unescape(id), unescape(secret))))
}

/// The client a token, introspection or revocation request presents.
pub(super) fn presented(
    parts: &http::request::Parts,
    p: &mut HashMap<String, String>,
) -> Result<token::Presented, OAuthError> {
    let assertion_type = p.remove("client_assertion_type");
    token::presented(
        basic_credentials(parts)?,
        p.remove("client_id"),
        p.remove("client_secret"),
        assertion_type.as_deref(),
        p.remove("client_assertion"),
    )
}

/// What a token, introspection or revocation request brings: its form,
/// the instance it is for and the client it presents.
struct ClientForm {
    parts: http::request::Parts,
    p: HashMap<String, String>,
    instance: InstanceId,
    client: token::Presented,
}

async fn client_form(app: &App, req: Request) -> Result<ClientForm, Response> {
    let (parts, mut p) = form(req).await.map_err(|e| oauth_refusal(&e))?;
    let instance = app
        .resolve_instance(&request_host(&parts))
        .await
        .map_err(|e| domain_error(&e))?
        .id
        .clone();
    let client = presented(&parts, &mut p).map_err(|e| oauth_refusal(&e))?;
    Ok(ClientForm {
        parts,
        p,
        instance,
        client,
    })
}

/// `POST /oauth/v2/token`.
pub async fn token(app: App, req: Request) -> Response {
    let ClientForm {
        parts,
        mut p,
        instance,
        client,
    } = match client_form(&app, req).await {
        Ok(f) => f,
        Err(resp) => return resp,
    };
    let request = TokenRequest {
        grant_type: p.remove("grant_type").unwrap_or_default(),
        client,
        code: p.remove("code"),
        redirect_uri: p.remove("redirect_uri"),
        code_verifier: p.remove("code_verifier"),
        refresh_token: p.remove("refresh_token"),
        scope: p.remove("scope"),
    };
    match app.token(&instance, &issuer(&app, &parts), request).await {
        Ok(Ok(t)) => {
            let mut body = serde_json::Map::new();
            body.insert("access_token".into(), json!(t.access_token));
            body.insert("token_type".into(), json!("Bearer"));
            body.insert("expires_in".into(), json!(t.expires_in));
            if let Some(r) = t.refresh_token {
                body.insert("refresh_token".into(), json!(r));
            }
            if let Some(i) = t.id_token {
                body.insert("id_token".into(), json!(i));
            }
            no_store(axum::Json(body).into_response())
        }
        Ok(Err(e)) => oauth_refusal(&e),
        Err(e) => domain_error(&e),
    }
}

/// `GET /oauth/v2/keys`: the published signing keys.
pub async fn keys(app: App, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let instance = match app.resolve_instance(&request_host(&parts)).await {
        Ok(i) => i,
        Err(e) => return domain_error(&e),
    };
    match app.jwks(&instance.id).await {
        Ok(jwks) => {
            let mut resp = axum::Json(&*jwks).into_response();
            resp.headers_mut()
                .insert(CACHE_CONTROL, HeaderValue::from_static("max-age=300"));
            resp
        }
        Err(e) => domain_error(&e),
    }
}

/// The bearer token of a request, if it has one.
fn bearer(parts: &http::request::Parts) -> Option<String> {
    let v = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("Bearer").then(|| token.trim().to_owned())
}

/// `GET/POST /oidc/v1/userinfo` (bearer access token).
pub async fn userinfo(app: App, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let instance = match app.resolve_instance(&request_host(&parts)).await {
        Ok(i) => i,
        Err(e) => return domain_error(&e),
    };
    let claims = match bearer(&parts) {
        Some(t) => app.userinfo(&instance.id, &t).await,
        None => Ok(None),
    };
    match claims {
        Ok(Some(c)) => no_store(axum::Json(c).into_response()),
        Ok(None) => {
            let mut resp = no_store(
                (
                    StatusCode::UNAUTHORIZED,
                    axum::Json(json!({"error": "access_denied", "error_description": "access token invalid"})),
                )
                    .into_response(),
            );
            resp.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
            resp
        }
        Err(e) => domain_error(&e),
    }
}

/// `POST /oauth/v2/introspect` (RFC 7662).
pub async fn introspect(app: App, req: Request) -> Response {
    let ClientForm {
        parts,
        mut p,
        instance,
        client: caller,
    } = match client_form(&app, req).await {
        Ok(f) => f,
        Err(resp) => return resp,
    };
    let token = p.remove("token").unwrap_or_default();
    match app.introspect(&instance, &issuer(&app, &parts), &caller, &token).await {
        Ok(Ok(v)) => no_store(axum::Json(v).into_response()),
        Ok(Err(e)) => oauth_refusal(&e),
        Err(e) => domain_error(&e),
    }
}

/// `POST /oauth/v2/revoke` (RFC 7009).
pub async fn revoke(app: App, req: Request) -> Response {
    let ClientForm {
        parts,
        mut p,
        instance,
        client: caller,
    } = match client_form(&app, req).await {
        Ok(f) => f,
        Err(resp) => return resp,
    };
    let token = p.remove("token").unwrap_or_default();
    match app
        .revoke_token(&instance, &issuer(&app, &parts), &caller, &token)
        .await
    {
        Ok(Ok(())) => no_store(StatusCode::OK.into_response()),
        Ok(Err(e)) => oauth_refusal(&e),
        Err(e) => domain_error(&e),
    }
}

/// `GET/POST /oidc/v1/end_session`.
pub async fn end_session(app: App, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let mut p: HashMap<String, String> = parts
        .uri
        .query()
        .map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    if parts.method == http::Method::POST {
        match form(Request::from_parts(parts.clone(), body)).await {
            Ok((_, f)) => p.extend(f),
            Err(e) => return oauth_refusal(&e),
        }
    }
    let instance = match app.resolve_instance(&request_host(&parts)).await {
        Ok(i) => i,
        Err(e) => return domain_error(&e),
    };
    let get = |k: &str| p.get(k).map(String::as_str);
    match app
        .end_session(
            &instance.id,
            get("id_token_hint"),
            get("post_logout_redirect_uri"),
            get("state"),
        )
        .await
    {
        Ok(Ok(SignedOut::Redirect(to))) => match HeaderValue::from_str(&to) {
            Ok(v) => (StatusCode::FOUND, [(http::header::LOCATION, v)]).into_response(),
            Err(_) => oauth_refusal(&invalid_request("post_logout_redirect_uri is not a valid header")),
        },
        Ok(Ok(SignedOut::Done)) => no_store((StatusCode::OK, "signed out").into_response()),
        Ok(Err(e)) => oauth_refusal(&e),
        Err(e) => domain_error(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_url_decoded() {
        let header = |v: &str| {
            let (parts, ()) = http::Request::builder()
                .header(AUTHORIZATION, v)
                .body(())
                .unwrap()
                .into_parts();
            basic_credentials(&parts)
        };
        // "svc%40acme:a%2Bb%3Ac" → svc@acme / a+b:c
        let v = format!("Basic {}", STANDARD.encode("svc%40acme:a%2Bb%3Ac"));
        assert_eq!(header(&v).unwrap(), Some(("svc@acme".into(), "a+b:c".into())));
        assert_eq!(header("Bearer x").unwrap(), None);
        assert_eq!(header("Basic !!").unwrap_err().code, OAuthCode::InvalidClient);
    }
}
