//! An OIDC application's configuration: its wire enums (the numbers are the
//! proto values and what events store), the validity rules a change must
//! pass, and the compliance report ZITADEL computes (`GetOIDCCompliance`).

use serde::{Deserialize, Serialize};

/// Defines a wire enum whose first variant is 0 and the default.
macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $first:ident = $n0:literal, $($variant:ident = $n:literal,)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(into = "i32", try_from = "i32")]
        pub enum $name {
            #[default]
            $first,
            $($variant,)*
        }

        impl $name {
            pub fn from_i32(v: i32) -> Option<Self> {
                match v {
                    $n0 => Some(Self::$first),
                    $($n => Some(Self::$variant),)*
                    _ => None,
                }
            }
        }

        impl From<$name> for i32 {
            fn from(v: $name) -> i32 {
                match v {
                    $name::$first => $n0,
                    $($name::$variant => $n,)*
                }
            }
        }

        impl TryFrom<i32> for $name {
            type Error = String;
            fn try_from(v: i32) -> Result<Self, String> {
                Self::from_i32(v).ok_or_else(|| format!("unknown {} {v}", stringify!($name)))
            }
        }
    };
}

wire_enum! {
    /// `OIDCResponseType`.
    ResponseType { Code = 0, IdToken = 1, IdTokenToken = 2, }
}
wire_enum! {
    /// `OIDCGrantType`.
    GrantType { AuthorizationCode = 0, Implicit = 1, RefreshToken = 2, DeviceCode = 3, TokenExchange = 4, }
}
wire_enum! {
    /// `OIDCAppType`.
    AppType { Web = 0, UserAgent = 1, Native = 2, }
}
wire_enum! {
    /// `OIDCAuthMethodType`: how the client authenticates at the token endpoint.
    AuthMethod { Basic = 0, Post = 1, None = 2, PrivateKeyJwt = 3, }
}
wire_enum! {
    /// `OIDCTokenType` of the access tokens issued to the app.
    TokenType { Bearer = 0, Jwt = 1, }
}
wire_enum! {
    /// `APIAuthMethodType`.
    ApiAuthMethod { Basic = 0, PrivateKeyJwt = 1, }
}
wire_enum! {
    /// Which login UI the app's users are sent to (`zitadel.app.v1.LoginVersion`).
    LoginVersion { Unspecified = 0, V1 = 1, V2 = 2, }
}

/// Largest clock skew an app may allow, in nanoseconds (5 s).
pub const MAX_CLOCK_SKEW_NANOS: i64 = 5_000_000_000;

/// An OIDC app's configuration, with the payload keys of ZITADEL's
/// `project.application.config.oidc.added` event.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OidcConfig {
    pub redirect_uris: Vec<String>,
    pub response_types: Vec<ResponseType>,
    pub grant_types: Vec<GrantType>,
    #[serde(rename = "applicationType")]
    pub app_type: AppType,
    #[serde(rename = "authMethodType")]
    pub auth_method: AuthMethod,
    pub post_logout_redirect_uris: Vec<String>,
    pub dev_mode: bool,
    pub access_token_type: TokenType,
    pub access_token_role_assertion: bool,
    pub id_token_role_assertion: bool,
    pub id_token_userinfo_assertion: bool,
    /// Nanoseconds, as ZITADEL stores durations.
    pub clock_skew: i64,
    pub additional_origins: Vec<String>,
    pub skip_native_app_success_page: bool,
    #[serde(rename = "backChannelLogoutURI")]
    pub back_channel_logout_uri: String,
    pub login_version: LoginVersion,
    #[serde(rename = "loginBaseURI")]
    pub login_base_uri: String,
}

impl OidcConfig {
    /// The request as ZITADEL stores it: URIs trimmed, and empty response
    /// and grant types defaulted to `[CODE]` / `[AUTHORIZATION_CODE]`.
    pub fn normalized(mut self) -> Self {
        for list in [
            &mut self.redirect_uris,
            &mut self.post_logout_redirect_uris,
            &mut self.additional_origins,
        ] {
            for uri in list.iter_mut() {
                *uri = uri.trim().to_owned();
            }
        }
        self.back_channel_logout_uri = self.back_channel_logout_uri.trim().to_owned();
        if self.response_types.is_empty() {
            self.response_types = vec![ResponseType::Code];
        }
        if self.grant_types.is_empty() {
            self.grant_types = vec![GrantType::AuthorizationCode];
        }
        self
    }

    /// An update's config: lists of URIs sent empty keep their current
    /// values (ZITADEL's update cannot clear them).
    pub fn updating(mut self, current: &OidcConfig) -> Self {
        if self.redirect_uris.is_empty() {
            self.redirect_uris = current.redirect_uris.clone();
        }
        if self.post_logout_redirect_uris.is_empty() {
            self.post_logout_redirect_uris = current.post_logout_redirect_uris.clone();
        }
        if self.additional_origins.is_empty() {
            self.additional_origins = current.additional_origins.clone();
        }
        self
    }

    /// ZITADEL's `IsValid` plus the URI rules of RFC 6749 §3.1.2: clock
    /// skew within 0–5 s, additional origins are origins, every response
    /// type has its grant type, and every redirect (and logout) URI is
    /// absolute without a fragment.
    pub fn is_valid(&self) -> bool {
        let has = |g| self.grant_types.contains(&g);
        let grants_cover_responses = self.response_types.iter().all(|r| match r {
            ResponseType::Code => has(GrantType::AuthorizationCode) || has(GrantType::DeviceCode),
            ResponseType::IdToken | ResponseType::IdTokenToken => has(GrantType::Implicit),
        });
        (0..=MAX_CLOCK_SKEW_NANOS).contains(&self.clock_skew)
            && self.additional_origins.iter().all(|o| is_origin(o))
            && grants_cover_responses
            && self
                .redirect_uris
                .iter()
                .chain(&self.post_logout_redirect_uris)
                .all(|u| is_redirect_uri(u))
            && (self.back_channel_logout_uri.is_empty() || is_redirect_uri(&self.back_channel_logout_uri))
    }

    /// Whether the app gets a client secret: only the auth methods that send one.
    pub fn has_secret(&self) -> bool {
        matches!(self.auth_method, AuthMethod::Basic | AuthMethod::Post)
    }

    /// A public client (auth method NONE) has no secret to prove itself
    /// with, so its code exchanges must carry a PKCE verifier.
    pub fn requires_pkce(&self) -> bool {
        self.auth_method == AuthMethod::None
    }

    /// Origins of the redirect URIs and the additional origins, each once
    /// (CORS allow list of the app).
    pub fn allowed_origins(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let origins = self.redirect_uris.iter().filter_map(|u| origin_of(u));
        for o in origins.chain(self.additional_origins.iter().cloned()) {
            if !out.contains(&o) {
                out.push(o);
            }
        }
        out
    }

    /// The compliance report (`none_compliant`, problem keys in ZITADEL's order).
    pub fn compliance(&self) -> Compliance {
        compliance(self)
    }
}

/// `scheme:rest` with a valid scheme, no fragment, no whitespace; `http`
/// and `https` URIs need a host.
pub fn is_redirect_uri(uri: &str) -> bool {
    if uri.is_empty() || uri.contains('#') || uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    match url::Url::parse(uri) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => {
            // The parser forgives `https:///host`; a redirect URI must not rely on that.
            let authority = uri.get(u.scheme().len()..).and_then(|r| r.strip_prefix("://"));
            authority.is_some_and(|a| !a.starts_with('/')) && u.host_str().is_some_and(|h| !h.is_empty())
        }
        Ok(_) => true,
        Err(_) => false,
    }
}

/// `scheme://host[:port]`, nothing more.
pub fn is_origin(origin: &str) -> bool {
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    !scheme.is_empty()
        && !authority.is_empty()
        && !authority.contains(['/', '?', '#', '@'])
        && !origin.chars().any(|c| c.is_whitespace() || c.is_control())
        && url::Url::parse(origin).is_ok_and(|u| u.host_str().is_some_and(|h| !h.is_empty()))
}

fn origin_of(uri: &str) -> Option<String> {
    let u = url::Url::parse(uri).ok()?;
    let host = u.host_str().filter(|h| !h.is_empty())?;
    Some(match u.port() {
        Some(port) => format!("{}://{host}:{port}", u.scheme()),
        None => format!("{}://{host}", u.scheme()),
    })
}

/// A compliance problem: the i18n key ZITADEL reports and its English text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Problem {
    pub key: &'static str,
    pub text: &'static str,
}

macro_rules! problems {
    ($($name:ident = $key:literal, $text:literal;)*) => {
        $(pub const $name: Problem = Problem { key: $key, text: $text };)*
    };
}

problems! {
    NOT_COMPLIANT = "Application.OIDC.V1.NotCompliant",
        "Your configuration is not compliant and differs from OIDC 1.0 standard.";
    NO_REDIRECT_URIS = "Application.OIDC.V1.NoRedirectUris", "At least one redirect uri must be registered.";
    REFRESH_NO_AUTH_CODE = "Application.OIDC.V1.GrantType.Refresh.NoAuthCode",
        "Refresh Token only allowed in combination with Authorization Code.";
    CODE_HTTP_ONLY_FOR_WEB = "Application.OIDC.V1.Code.RedirectUris.HttpOnlyForWeb",
        "Grant type code only allowed http redirect uris for apptype web.";
    NATIVE_MUST_BE_HTTP_LOCALHOST = "Application.OIDC.V1.Native.RedirectUris.MustBeHttpLocalhost",
        "Redirect URIs must begin with your own protocol, http://127.0.0.1, http://[::1] or http://localhost.";
    CODE_CUSTOM_ONLY_FOR_NATIVE = "Application.OIDC.V1.Code.RedirectUris.CustomOnlyForNative",
        "Grant type code only allows custom redirect uris for apptype native  (e.g appname:// )";
    IMPLICIT_CUSTOM_NOT_ALLOWED = "Application.OIDC.V1.Implicit.RedirectUris.CustomNotAllowed",
        "Grant type implicit doesn't allow custom redirect uris";
    IMPLICIT_HTTP_NOT_ALLOWED = "Application.OIDC.V1.Implicit.RedirectUris.HttpNotAllowed",
        "Grant type implicit doesn't allow http redirect uris";
    NATIVE_AUTH_NOT_NONE = "Application.OIDC.V1.Native.AuthMethodType.NotNone",
        "Native applications should have authmethodtype none.";
    USER_AGENT_AUTH_NOT_NONE = "Application.OIDC.V1.UserAgent.AuthMethodType.NotNone",
        "User agent app should have authmethodtype none.";
    NOT_ALL_COMBINATIONS = "Application.OIDC.V1.NotAllCombinationsAreAllowed",
        "Configuration is compliant, but not all possible combinations are allowed.";
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Compliance {
    pub none_compliant: bool,
    pub problems: Vec<Problem>,
}

impl Compliance {
    fn problem(&mut self, p: Problem) {
        self.none_compliant = true;
        self.problems.push(p);
    }
}

const HTTP: &str = "http://";
const HTTPS: &str = "https://";

fn compliance(c: &OidcConfig) -> Compliance {
    let mut out = Compliance::default();
    let has = |g| c.grant_types.contains(&g);
    let (code, implicit, device) = (
        has(GrantType::AuthorizationCode),
        has(GrantType::Implicit),
        has(GrantType::DeviceCode),
    );
    if has(GrantType::RefreshToken) && !code && !device {
        out.problem(REFRESH_NO_AUTH_CODE);
    }
    let uris = &c.redirect_uris;
    if uris.is_empty() && (!device || code) {
        out.none_compliant = true;
        out.problems.insert(0, NO_REDIRECT_URIS);
    }
    let all_https = uris.iter().all(|u| u.starts_with(HTTPS));
    let any_http = uris.iter().any(|u| u.starts_with(HTTP));
    let any_custom = uris.iter().any(|u| !u.starts_with(HTTP) && !u.starts_with(HTTPS));
    let http_only_loopback = uris.iter().filter(|u| u.starts_with(HTTP)).all(|u| is_loopback(u));
    let native = c.app_type == AppType::Native;
    if !all_https {
        if implicit && code {
            if any_custom && !native {
                out.problem(IMPLICIT_CUSTOM_NOT_ALLOWED);
            }
            if any_http {
                if c.app_type == AppType::UserAgent {
                    out.problem(CODE_HTTP_ONLY_FOR_WEB);
                }
                if native && !http_only_loopback {
                    out.problem(NATIVE_MUST_BE_HTTP_LOCALHOST);
                }
            }
            if !out.none_compliant {
                out.problems.push(NOT_ALL_COMBINATIONS);
            }
        } else if implicit {
            if any_custom {
                out.problem(IMPLICIT_CUSTOM_NOT_ALLOWED);
            }
            if any_http {
                if !native {
                    out.problem(IMPLICIT_HTTP_NOT_ALLOWED);
                } else if !http_only_loopback {
                    out.problem(NATIVE_MUST_BE_HTTP_LOCALHOST);
                }
            }
        } else if code {
            if any_http {
                if c.app_type == AppType::UserAgent {
                    out.problem(CODE_HTTP_ONLY_FOR_WEB);
                }
                if native && !http_only_loopback {
                    out.problem(NATIVE_MUST_BE_HTTP_LOCALHOST);
                }
            }
            if any_custom && !native {
                out.problem(CODE_CUSTOM_ONLY_FOR_NATIVE);
            }
        }
    }
    match c.app_type {
        AppType::Native | AppType::UserAgent => {
            if c.auth_method != AuthMethod::None {
                out.problem(if native {
                    NATIVE_AUTH_NOT_NONE
                } else {
                    USER_AGENT_AUTH_NOT_NONE
                });
            }
            // ZITADEL's app-type check prepends the marker itself too.
            if out.none_compliant {
                out.problems.insert(0, NOT_COMPLIANT);
            }
        }
        AppType::Web => {}
    }
    if out.none_compliant {
        out.problems.insert(0, NOT_COMPLIANT);
    }
    out
}

fn is_loopback(uri: &str) -> bool {
    url::Url::parse(uri).ok().is_some_and(|u| {
        matches!(
            u.host_str(),
            Some("localhost" | "127.0.0.1" | "[::1]" | "[0:0:0:0:0:0:0:1]")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(app_type: AppType, auth_method: AuthMethod, grants: &[GrantType], uris: &[&str]) -> OidcConfig {
        OidcConfig {
            redirect_uris: uris.iter().map(|u| u.to_string()).collect(),
            grant_types: grants.to_vec(),
            app_type,
            auth_method,
            ..OidcConfig::default()
        }
        .normalized()
    }

    #[test]
    fn validity() {
        use GrantType::*;
        use ResponseType::*;
        let ok = OidcConfig::default().normalized();
        // (change, valid)
        let cases: Vec<(OidcConfig, bool)> = vec![
            (ok.clone(), true),
            (
                OidcConfig {
                    clock_skew: MAX_CLOCK_SKEW_NANOS,
                    ..ok.clone()
                },
                true,
            ),
            (
                OidcConfig {
                    clock_skew: MAX_CLOCK_SKEW_NANOS + 1,
                    ..ok.clone()
                },
                false,
            ),
            (
                OidcConfig {
                    clock_skew: -1,
                    ..ok.clone()
                },
                false,
            ),
            (
                OidcConfig {
                    response_types: vec![IdToken],
                    ..ok.clone()
                },
                false,
            ),
            (
                OidcConfig {
                    response_types: vec![IdToken, IdTokenToken],
                    grant_types: vec![Implicit],
                    ..ok.clone()
                },
                true,
            ),
            (
                OidcConfig {
                    grant_types: vec![DeviceCode],
                    ..ok.clone()
                },
                true,
            ),
            (
                OidcConfig {
                    grant_types: vec![RefreshToken],
                    ..ok.clone()
                },
                false,
            ),
            (
                OidcConfig {
                    additional_origins: vec!["https://app.example.com:8443".into()],
                    ..ok.clone()
                },
                true,
            ),
            (
                OidcConfig {
                    additional_origins: vec!["https://app.example.com/path".into()],
                    ..ok.clone()
                },
                false,
            ),
            (
                OidcConfig {
                    additional_origins: vec!["app.example.com".into()],
                    ..ok.clone()
                },
                false,
            ),
        ];
        for (c, valid) in cases {
            assert_eq!(c.is_valid(), valid, "{c:?}");
        }
    }

    #[test]
    fn redirect_uris() {
        // (uri, accepted)
        let cases = [
            ("https://app.example.com/cb", true),
            ("http://localhost:3000/cb", true),
            ("http://app.example.com/cb?x=1", true),
            ("com.example.app:/oauth2redirect", true),
            ("myapp://callback", true),
            ("/relative/cb", false),
            ("app.example.com/cb", false),
            ("https://app.example.com/cb#frag", false),
            ("https://app.example.com/cb#", false),
            ("https:///cb", false),
            ("https://app.example.com/c b", false),
            ("", false),
        ];
        for (uri, accepted) in cases {
            assert_eq!(is_redirect_uri(uri), accepted, "{uri}");
            let c = OidcConfig {
                redirect_uris: vec![uri.into()],
                ..OidcConfig::default()
            }
            .normalized();
            assert_eq!(c.is_valid(), accepted, "{uri}");
            let logout = OidcConfig {
                post_logout_redirect_uris: vec![uri.into()],
                ..OidcConfig::default()
            }
            .normalized();
            assert_eq!(logout.is_valid(), accepted, "post logout {uri}");
        }
    }

    #[test]
    fn normalizing_and_updating() {
        let c = OidcConfig {
            redirect_uris: vec!["  https://a.example/cb ".into()],
            ..OidcConfig::default()
        }
        .normalized();
        assert_eq!(c.redirect_uris, vec!["https://a.example/cb".to_owned()]);
        assert_eq!(c.response_types, vec![ResponseType::Code]);
        assert_eq!(c.grant_types, vec![GrantType::AuthorizationCode]);
        let update = OidcConfig {
            dev_mode: true,
            ..OidcConfig::default()
        }
        .normalized()
        .updating(&c);
        assert_eq!(
            update.redirect_uris, c.redirect_uris,
            "empty lists keep the current ones"
        );
        assert!(update.dev_mode);
    }

    #[test]
    fn secrets_and_pkce() {
        use AuthMethod::*;
        // (auth method, gets a secret, needs PKCE)
        for (m, secret, pkce) in [
            (Basic, true, false),
            (Post, true, false),
            (None, false, true),
            (PrivateKeyJwt, false, false),
        ] {
            let c = config(AppType::Web, m, &[], &[]);
            assert_eq!((c.has_secret(), c.requires_pkce()), (secret, pkce), "{m:?}");
        }
    }

    #[test]
    fn allowed_origins() {
        let c = OidcConfig {
            redirect_uris: vec![
                "https://a.example/cb".into(),
                "https://a.example/other".into(),
                "http://localhost:3000/cb".into(),
            ],
            additional_origins: vec!["https://b.example".into(), "https://a.example".into()],
            ..OidcConfig::default()
        };
        assert_eq!(
            c.allowed_origins(),
            vec!["https://a.example", "http://localhost:3000", "https://b.example"]
        );
    }

    #[test]
    fn compliance_problems() {
        use AppType::*;
        use AuthMethod as A;
        use GrantType::*;
        let keys = |c: OidcConfig| {
            let r = c.compliance();
            (r.none_compliant, r.problems.iter().map(|p| p.key).collect::<Vec<_>>())
        };
        let nc = NOT_COMPLIANT.key;
        // (config, none_compliant, problem keys)
        let cases: Vec<(OidcConfig, bool, Vec<&str>)> = vec![
            (config(Web, A::Basic, &[], &["https://a.example/cb"]), false, vec![]),
            (config(Web, A::Basic, &[], &["http://a.example/cb"]), false, vec![]),
            (config(Web, A::Basic, &[], &[]), true, vec![nc, NO_REDIRECT_URIS.key]),
            (config(Web, A::Basic, &[DeviceCode], &[]), false, vec![]),
            (
                config(Web, A::Basic, &[DeviceCode, AuthorizationCode], &[]),
                true,
                vec![nc, NO_REDIRECT_URIS.key],
            ),
            (
                config(Web, A::Basic, &[RefreshToken, Implicit], &["https://a.example/cb"]),
                true,
                vec![nc, REFRESH_NO_AUTH_CODE.key],
            ),
            (
                config(UserAgent, A::None, &[], &["http://a.example/cb"]),
                true,
                vec![nc, nc, CODE_HTTP_ONLY_FOR_WEB.key],
            ),
            (
                config(
                    Native,
                    A::None,
                    &[],
                    &["http://localhost:4000/cb", "http://127.0.0.1/cb"],
                ),
                false,
                vec![],
            ),
            (
                config(Native, A::None, &[], &["http://[::1]:4000/cb", "myapp://cb"]),
                false,
                vec![],
            ),
            (
                config(Native, A::None, &[], &["http://a.example/cb"]),
                true,
                vec![nc, nc, NATIVE_MUST_BE_HTTP_LOCALHOST.key],
            ),
            (
                config(Web, A::Basic, &[], &["myapp://cb"]),
                true,
                vec![nc, CODE_CUSTOM_ONLY_FOR_NATIVE.key],
            ),
            (
                config(Web, A::Basic, &[Implicit], &["myapp://cb", "http://a.example"]),
                true,
                vec![nc, IMPLICIT_CUSTOM_NOT_ALLOWED.key, IMPLICIT_HTTP_NOT_ALLOWED.key],
            ),
            (
                config(Web, A::Basic, &[Implicit, AuthorizationCode], &["http://a.example/cb"]),
                false,
                vec![NOT_ALL_COMBINATIONS.key],
            ),
            (
                config(Native, A::Basic, &[], &["myapp://cb"]),
                true,
                vec![nc, nc, NATIVE_AUTH_NOT_NONE.key],
            ),
            (
                config(UserAgent, A::Post, &[], &["https://a.example/cb"]),
                true,
                vec![nc, nc, USER_AGENT_AUTH_NOT_NONE.key],
            ),
        ];
        for (c, none_compliant, expected) in cases {
            assert_eq!(keys(c.clone()), (none_compliant, expected), "{c:?}");
        }
    }

    #[test]
    fn stored_with_zitadel_keys() {
        let c = config(
            AppType::Native,
            AuthMethod::None,
            &[GrantType::RefreshToken],
            &["myapp://cb"],
        );
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["applicationType"], 2);
        assert_eq!(v["authMethodType"], 2);
        assert_eq!(v["grantTypes"], serde_json::json!([2]));
        assert_eq!(v["backChannelLogoutURI"], "");
        assert_eq!(serde_json::from_value::<OidcConfig>(v).unwrap(), c);
        assert!(serde_json::from_value::<OidcConfig>(serde_json::json!({"applicationType": 7})).is_err());
    }
}
