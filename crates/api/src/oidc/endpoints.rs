//! Discovery and authorize (the token-side endpoints are in
//! [`super::tokens`]). The issuer is `--external-url`, else the scheme, host and
//! port each request came in on.

use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, Request};
use axum::response::{IntoResponse, Response};
use http::header::{CACHE_CONTROL, LOCATION};
use http::{HeaderValue, StatusCode};
use serde_json::json;
use twofold_app::App;
use twofold_app::oidc::callback_url;
use twofold_domain::oidc::authorize::{AuthorizeParams, Refusal};
use twofold_domain::{DomainError, ErrorKind};

use crate::auth::request_host;

/// The endpoints at ZITADEL's default paths (spec §28.1).
const AUTHORIZE: &str = "/oauth/v2/authorize";
use twofold_domain::oidc::token::{INTROSPECT_PATH as INTROSPECT, REVOKE_PATH as REVOKE, TOKEN_PATH as TOKEN};
const USERINFO: &str = "/oidc/v1/userinfo";
const END_SESSION: &str = "/oidc/v1/end_session";
const DEVICE: &str = "/oauth/v2/device_authorization";
const KEYS: &str = "/oauth/v2/keys";

/// The issuer for a request (no trailing slash).
pub(super) fn issuer(app: &App, parts: &http::request::Parts) -> String {
    if let Some(url) = &app.oidc_settings().external_url {
        return url.trim_end_matches('/').to_owned();
    }
    let scheme = parts.uri.scheme_str().unwrap_or("http");
    format!("{scheme}://{}", request_host(parts))
}

/// `{"error": …, "error_description": …}` with `status` (never a redirect).
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut resp = (
        status,
        axum::Json(json!({"error": error, "error_description": description})),
    )
        .into_response();
    resp.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

pub(super) fn domain_error(e: &DomainError) -> Response {
    match e.kind {
        ErrorKind::NotFound => oauth_error(StatusCode::NOT_FOUND, "invalid_request", &e.message),
        ErrorKind::Unavailable => oauth_error(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", &e.message),
        _ => {
            tracing::error!(error = %e, "OIDC endpoint failed");
            oauth_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "An internal error occurred",
            )
        }
    }
}

fn found(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(v) => (StatusCode::FOUND, [(LOCATION, v)]).into_response(),
        Err(_) => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "redirect target is not a valid header",
        ),
    }
}

/// `GET /.well-known/openid-configuration` (spec §28.2).
pub async fn discovery(app: App, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    if let Err(e) = app.resolve_instance(&request_host(&parts)).await {
        return domain_error(&e);
    }
    let iss = issuer(&app, &parts);
    let at = |path: &str| format!("{iss}{path}");
    let auth_methods = json!(["none", "client_secret_basic", "client_secret_post", "private_key_jwt"]);
    axum::Json(json!({
        "issuer": iss,
        "authorization_endpoint": at(AUTHORIZE),
        "token_endpoint": at(TOKEN),
        "introspection_endpoint": at(INTROSPECT),
        "userinfo_endpoint": at(USERINFO),
        "revocation_endpoint": at(REVOKE),
        "end_session_endpoint": at(END_SESSION),
        "device_authorization_endpoint": at(DEVICE),
        "jwks_uri": at(KEYS),
        "scopes_supported": ["openid", "profile", "email", "phone", "address", "offline_access"],
        "response_types_supported": ["code", "id_token", "id_token token"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "grant_types_supported": [
            "authorization_code", "implicit", "refresh_token", "client_credentials",
            "urn:ietf:params:oauth:grant-type:jwt-bearer", "urn:ietf:params:oauth:grant-type:device_code"
        ],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["EdDSA", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512"],
        "request_object_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "private_key_jwt"],
        "introspection_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "claims_supported": [
            "sub", "aud", "exp", "iat", "iss", "auth_time", "nonce", "acr", "amr", "c_hash", "at_hash", "act",
            "scopes", "client_id", "azp", "preferred_username", "name", "family_name", "given_name", "locale",
            "email", "email_verified", "phone_number", "phone_number_verified"
        ],
        "code_challenge_methods_supported": ["S256"],
        "ui_locales_supported": [
            "bg", "cs", "de", "en", "es", "fr", "hu", "id", "it", "ja", "ko", "mk", "nl", "pl", "pt", "ro", "ru",
            "sv", "tr", "zh"
        ],
        "request_parameter_supported": true,
        "request_uri_parameter_supported": false
    }))
    .into_response()
}

/// `GET /oauth/v2/authorize` (parameters in the query).
pub async fn authorize_get(app: App, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let params: Result<Query<AuthorizeParams>, QueryRejection> = Query::try_from_uri(&parts.uri);
    match params {
        Ok(Query(p)) => authorize(&app, &request_host(&parts), &issuer(&app, &parts), p).await,
        Err(e) => oauth_error(StatusCode::BAD_REQUEST, "invalid_request", &e.body_text()),
    }
}

/// `POST /oauth/v2/authorize` (parameters as a form).
pub async fn authorize_post(app: App, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let (host, iss) = (request_host(&parts), issuer(&app, &parts));
    let form: Result<Form<AuthorizeParams>, FormRejection> =
        <Form<AuthorizeParams> as axum::extract::FromRequest<()>>::from_request(Request::from_parts(parts, body), &())
            .await;
    match form {
        Ok(Form(p)) => authorize(&app, &host, &iss, p).await,
        Err(e) => oauth_error(StatusCode::BAD_REQUEST, "invalid_request", &e.body_text()),
    }
}

/// Stores the auth request and sends the browser to the login (302).
async fn authorize(app: &App, host: &str, iss: &str, p: AuthorizeParams) -> Response {
    let instance = match app.resolve_instance(host).await {
        Ok(i) => i,
        Err(e) => return domain_error(&e),
    };
    match app.start_auth_request(&instance.id, &p, iss).await {
        Ok(Ok(id)) => {
            let login = match &app.oidc_settings().login_url {
                Some(url) => url.trim_end_matches('/').to_owned(),
                None => format!("{iss}/ui/login"),
            };
            let query = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("authRequest", &id)
                .finish();
            found(&format!("{login}/login?{query}"))
        }
        Ok(Err(Refusal::Direct { description })) => {
            oauth_error(StatusCode::BAD_REQUEST, "invalid_request", &description)
        }
        Ok(Err(Refusal::Redirect {
            redirect_uri,
            mode,
            error,
            description,
            state,
        })) => found(&callback_url(
            &redirect_uri,
            mode,
            &[("error", error), ("error_description", &description), ("state", &state)],
        )),
        Err(e) => domain_error(&e),
    }
}
