//! The authorize endpoint's rules (RFC 6749 §4.1, RFC 7636, OIDC Core
//! §3.1.2): which requests become an auth request, and how the others are
//! answered. Until the redirect URI is known to be the client's, an error
//! is never sent to it (`Refusal::Direct`); after that it goes back there
//! (`Refusal::Redirect`).

use crate::event::Timestamp;
use crate::oidc::auth_request::{AuthRequestAdded, CodeChallenge, ResponseMode, prompt_number};
use crate::oidc::scopes;
use crate::oidc_config::{AuthMethod, OidcConfig, ResponseType};
use crate::readmodel::projects::{Activity, AppView};

/// The parameters of an authorize request (query or form).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct AuthorizeParams {
    pub client_id: String,
    pub redirect_uri: String,
    pub response_type: String,
    pub scope: String,
    pub state: String,
    pub nonce: String,
    pub prompt: String,
    pub login_hint: String,
    pub max_age: String,
    pub ui_locales: String,
    pub response_mode: String,
    pub code_challenge: String,
    pub code_challenge_method: String,
}

/// Why an authorize request is refused, and where the answer goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// To the browser (400 JSON): the client or its redirect URI is unknown.
    Direct { description: String },
    /// Back to the client's redirect URI (RFC 6749 §4.1.2.1).
    Redirect {
        redirect_uri: String,
        mode: ResponseMode,
        error: &'static str,
        description: String,
        state: String,
    },
}

/// The client as the authorize endpoint found it.
pub struct Client<'a> {
    pub app: &'a AppView,
    pub project_active: bool,
    /// Client IDs of all apps of the project (the audience).
    pub project_client_ids: Vec<String>,
}

fn direct(d: &str) -> Refusal {
    Refusal::Direct {
        description: d.to_owned(),
    }
}

/// The client's OIDC config, if it may start a sign-in at `redirect_uri`.
/// An inactive app or project is refused like an unknown client.
pub fn check_client<'c, 'a>(
    client: Option<&'c Client<'a>>,
    p: &AuthorizeParams,
) -> Result<(&'c Client<'a>, &'a OidcConfig), Refusal> {
    if p.client_id.is_empty() {
        return Err(direct("client_id is missing"));
    }
    let (client, config) = client
        .filter(|c| c.project_active && c.app.state == Activity::Active)
        .and_then(|c| Some((c, c.app.oidc()?)))
        .ok_or_else(|| direct("unknown client_id (no active OIDC application has it)"))?;
    if p.redirect_uri.is_empty() {
        return Err(direct("redirect_uri is missing"));
    }
    if !config.redirect_uris.contains(&p.redirect_uri) {
        return Err(direct("redirect_uri is not registered for this client"));
    }
    Ok((client, config))
}

fn response_type(s: &str) -> Option<ResponseType> {
    let mut parts: Vec<&str> = s.split_whitespace().collect();
    parts.sort_unstable();
    match parts.as_slice() {
        ["code"] => Some(ResponseType::Code),
        ["id_token"] => Some(ResponseType::IdToken),
        ["id_token", "token"] => Some(ResponseType::IdTokenToken),
        _ => None,
    }
}

/// A base64url SHA-256 digest: 43 characters of the URL-safe alphabet.
fn is_s256_challenge(c: &str) -> bool {
    c.len() == 43 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The auth request an authorize call stores, or its refusal. Call after
/// [`check_client`] succeeded.
pub fn decide(
    client: &Client<'_>,
    config: &OidcConfig,
    p: &AuthorizeParams,
    issuer: &str,
    now: Timestamp,
    lifetime_us: i64,
) -> Result<AuthRequestAdded, Refusal> {
    let mode = ResponseMode::parse(&p.response_mode);
    let refuse = |error: &'static str, description: &str| Refusal::Redirect {
        redirect_uri: p.redirect_uri.clone(),
        mode: mode.unwrap_or_default(),
        error,
        description: description.to_owned(),
        state: p.state.clone(),
    };
    let mode = mode.ok_or_else(|| refuse("invalid_request", "response_mode must be query, fragment or form_post"))?;
    let rt = response_type(&p.response_type)
        .ok_or_else(|| refuse("unsupported_response_type", "response_type is missing or unknown"))?;
    if !config.response_types.contains(&rt) {
        return Err(refuse(
            "unsupported_response_type",
            "the client is not allowed this response_type",
        ));
    }
    if rt != ResponseType::Code {
        return Err(refuse(
            "unsupported_response_type",
            "only response_type code is served so far",
        ));
    }
    let scope = scopes::filter(&p.scope);
    if scope.is_empty() {
        return Err(refuse("invalid_request", "The scope of your request is missing"));
    }
    if !scope.iter().any(|s| s == "openid") {
        return Err(refuse("invalid_scope", "The scope openid is missing in your request"));
    }
    let code_challenge = match (p.code_challenge.as_str(), p.code_challenge_method.as_str()) {
        ("", "") if config.auth_method == AuthMethod::None => {
            return Err(refuse(
                "invalid_request",
                "code_challenge is required (PKCE S256) for public clients",
            ));
        }
        ("", "") => None,
        ("", _) => {
            return Err(refuse(
                "invalid_request",
                "code_challenge_method without code_challenge",
            ));
        }
        (c, "S256") if is_s256_challenge(c) => Some(CodeChallenge {
            challenge: c.to_owned(),
            method: 1,
        }),
        (_, "S256") => {
            return Err(refuse(
                "invalid_request",
                "code_challenge is not a base64url SHA-256 digest",
            ));
        }
        (_, "" | "plain") => {
            return Err(refuse(
                "invalid_request",
                "code_challenge_method plain is not allowed, use S256",
            ));
        }
        _ => return Err(refuse("invalid_request", "code_challenge_method must be S256")),
    };
    let mut prompt = vec![];
    for s in p.prompt.split_whitespace() {
        let n = prompt_number(s).ok_or_else(|| refuse("invalid_request", "prompt has an unknown value"))?;
        if !prompt.contains(&n) {
            prompt.push(n);
        }
    }
    if prompt.contains(&1) && prompt.len() > 1 {
        return Err(refuse(
            "invalid_request",
            "prompt none cannot be combined with other values",
        ));
    }
    let mut max_age = match p.max_age.as_str() {
        "" => None,
        s => Some(
            s.parse::<u32>()
                .map_err(|_| refuse("invalid_request", "max_age must be a number of seconds"))?,
        ),
    }
    .map(|s| i64::from(s) * 1_000_000_000);
    if prompt.contains(&2) {
        max_age = Some(0);
    }
    let mut audience = vec![client.app.project_id.as_str().to_owned()];
    for id in client
        .project_client_ids
        .iter()
        .cloned()
        .chain(scopes::audience_projects(&scope))
    {
        if !audience.contains(&id) {
            audience.push(id);
        }
    }
    Ok(AuthRequestAdded {
        login_client: String::new(),
        client_id: p.client_id.clone(),
        redirect_uri: p.redirect_uri.clone(),
        state: p.state.clone(),
        nonce: p.nonce.clone(),
        need_refresh_token: scope.iter().any(|s| s == scopes::OFFLINE_ACCESS),
        scope,
        audience,
        response_type: rt,
        response_mode: mode.number(),
        code_challenge,
        prompt,
        ui_locales: p.ui_locales.split_whitespace().map(str::to_owned).collect(),
        max_age,
        login_hint: Some(p.login_hint.clone()).filter(|h| !h.is_empty()),
        hint_user_id: None,
        issuer: issuer.to_owned(),
        expires_at: Timestamp(now.0.saturating_add(lifetime_us)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::readmodel::DocDetails;
    use crate::readmodel::projects::AppConfigView;

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn app(auth: AuthMethod) -> AppView {
        AppView {
            id: "a".into(),
            project_id: "p".into(),
            org_id: "o".into(),
            name: "web".into(),
            state: Activity::Active,
            client_id: "c@p".into(),
            hashed_secret: None,
            config: Some(AppConfigView::Oidc(OidcConfig {
                redirect_uris: vec!["https://app.example/cb".into()],
                response_types: vec![ResponseType::Code],
                auth_method: auth,
                ..OidcConfig::default()
            })),
            details: DocDetails::default(),
            keys: vec![],
        }
    }

    fn params(f: impl FnOnce(&mut AuthorizeParams)) -> AuthorizeParams {
        let mut p = AuthorizeParams {
            client_id: "c@p".into(),
            redirect_uri: "https://app.example/cb".into(),
            response_type: "code".into(),
            scope: "openid".into(),
            state: "st".into(),
            code_challenge: CHALLENGE.into(),
            code_challenge_method: "S256".into(),
            ..AuthorizeParams::default()
        };
        f(&mut p);
        p
    }

    fn run(a: &AppView, project_active: bool, p: &AuthorizeParams) -> Result<AuthRequestAdded, Refusal> {
        let client = Client {
            app: a,
            project_active,
            project_client_ids: vec!["c@p".into()],
        };
        let (client, config) = check_client(Some(&client), p)?;
        decide(client, config, p, "http://localhost:8080", Timestamp(0), 5)
    }

    #[test]
    fn unknown_clients_and_redirects_are_answered_directly() {
        let public = app(AuthMethod::None);
        let mut inactive = app(AuthMethod::None);
        inactive.state = Activity::Inactive;
        let mut api = app(AuthMethod::None);
        api.config = None;
        // given app, project active, params; then the description
        let cases: Vec<(&AppView, bool, AuthorizeParams, &str)> = vec![
            (&public, true, params(|p| p.client_id.clear()), "client_id is missing"),
            (&inactive, true, params(|_| {}), "unknown client_id"),
            (&public, false, params(|_| {}), "unknown client_id"),
            (&api, true, params(|_| {}), "unknown client_id"),
            (
                &public,
                true,
                params(|p| p.redirect_uri.clear()),
                "redirect_uri is missing",
            ),
            (
                &public,
                true,
                params(|p| p.redirect_uri = "https://app.example/cb/".into()),
                "redirect_uri is not registered",
            ),
        ];
        for (a, active, p, want) in cases {
            match run(a, active, &p) {
                Err(Refusal::Direct { description }) => assert!(description.starts_with(want), "{description}"),
                other => panic!("{want}: {other:?}"),
            }
        }
        let unknown = check_client(None, &params(|_| {}));
        assert!(matches!(unknown, Err(Refusal::Direct { .. })));
    }

    #[test]
    fn bad_requests_go_back_to_the_client() {
        let public = app(AuthMethod::None);
        let confidential = app(AuthMethod::Basic);
        let no_pkce = |p: &mut AuthorizeParams| {
            p.code_challenge.clear();
            p.code_challenge_method.clear();
        };
        // given app, params; then error and description
        let cases: Vec<(&AppView, AuthorizeParams, &str, &str)> = vec![
            (
                &public,
                params(no_pkce),
                "invalid_request",
                "code_challenge is required",
            ),
            (
                &public,
                params(|p| p.code_challenge_method = "plain".into()),
                "invalid_request",
                "code_challenge_method plain",
            ),
            (
                &confidential,
                params(|p| p.code_challenge_method.clear()),
                "invalid_request",
                "code_challenge_method plain",
            ),
            (
                &public,
                params(|p| p.code_challenge = "short".into()),
                "invalid_request",
                "code_challenge is not",
            ),
            (
                &public,
                params(|p| p.response_type = "token".into()),
                "unsupported_response_type",
                "",
            ),
            (
                &public,
                params(|p| p.response_type = "id_token".into()),
                "unsupported_response_type",
                "the client",
            ),
            (&public, params(|p| p.scope = "profile".into()), "invalid_scope", ""),
            (
                &public,
                params(|p| p.scope = "custom".into()),
                "invalid_request",
                "The scope",
            ),
            (
                &public,
                params(|p| p.prompt = "none login".into()),
                "invalid_request",
                "prompt none",
            ),
            (
                &public,
                params(|p| p.prompt = "later".into()),
                "invalid_request",
                "prompt has",
            ),
            (
                &public,
                params(|p| p.max_age = "-1".into()),
                "invalid_request",
                "max_age",
            ),
            (
                &public,
                params(|p| p.response_mode = "web".into()),
                "invalid_request",
                "response_mode",
            ),
        ];
        for (a, p, want_error, want_desc) in cases {
            match run(a, true, &p) {
                Err(Refusal::Redirect {
                    error,
                    description,
                    state,
                    redirect_uri,
                    ..
                }) => {
                    assert_eq!((error, state.as_str()), (want_error, "st"), "{p:?}");
                    assert!(description.starts_with(want_desc), "{description}");
                    assert_eq!(redirect_uri, "https://app.example/cb");
                }
                other => panic!("{p:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_valid_request_is_stored_as_asked() {
        let confidential = app(AuthMethod::Basic);
        let p = params(|p| {
            p.scope = "openid custom offline_access urn:zitadel:iam:org:id:42".into();
            p.prompt = "login".into();
            p.max_age = "60".into();
            p.login_hint = "alice".into();
            p.ui_locales = "de en".into();
            p.response_mode = "form_post".into();
        });
        let got = run(&confidential, true, &p).unwrap();
        assert_eq!(got.scope, ["openid", "offline_access", "urn:zitadel:iam:org:id:42"]);
        assert!(got.need_refresh_token);
        assert_eq!(got.pinned_org(), Some("42"));
        assert_eq!(got.max_age, Some(0));
        assert_eq!(got.prompt, [2]);
        assert_eq!(got.response_mode, 3);
        assert_eq!(got.audience, ["p", "c@p"]);
        assert_eq!(got.login_hint.as_deref(), Some("alice"));
        assert_eq!(got.expires_at, Timestamp(5), "the operator's lifetime");
        // A confidential client may leave PKCE out.
        let p = params(|p| {
            p.code_challenge.clear();
            p.code_challenge_method.clear();
        });
        assert_eq!(run(&confidential, true, &p).unwrap().code_challenge, None);
    }
}
