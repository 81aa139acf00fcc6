//! The token endpoint's rules: how a client must authenticate, and when a
//! code may be exchanged (once, by its client, with its redirect URI and
//! PKCE verifier). Refusals are RFC 6749 §5.2 errors.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::auth_request::{AuthRequestAdded, AuthRequestState, CodeExchanged, SessionLinked};
use crate::event::{EventPayload as E, Timestamp};
use crate::oidc_config::{ApiAuthMethod, AuthMethod};

/// The paths of the endpoints a client authenticates at (spec §28.1); a
/// client assertion may name their URL as its audience.
pub const TOKEN_PATH: &str = "/oauth/v2/token";
pub const INTROSPECT_PATH: &str = "/oauth/v2/introspect";
pub const REVOKE_PATH: &str = "/oauth/v2/revoke";

/// The `error` of RFC 6749 §5.2 (and RFC 7009 / 7662).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OAuthCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
}

impl OAuthCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthError {
    pub code: OAuthCode,
    pub description: Cow<'static, str>,
}

impl OAuthError {
    pub fn new(code: OAuthCode, description: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            description: description.into(),
        }
    }
}

pub fn invalid_grant(description: impl Into<Cow<'static, str>>) -> OAuthError {
    OAuthError::new(OAuthCode::InvalidGrant, description)
}
pub fn invalid_request(description: impl Into<Cow<'static, str>>) -> OAuthError {
    OAuthError::new(OAuthCode::InvalidRequest, description)
}
pub fn invalid_client(description: impl Into<Cow<'static, str>>) -> OAuthError {
    OAuthError::new(OAuthCode::InvalidClient, description)
}

/// How a request presented its client (RFC 6749 §2.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Presented {
    /// `Authorization: Basic` (id and secret already form-url-decoded).
    Basic { id: String, secret: String },
    /// `client_id` and `client_secret` in the body.
    Post { id: String, secret: String },
    /// `client_assertion` (RFC 7523).
    Assertion { assertion: String },
    /// `client_id` alone: a public client.
    Public { id: String },
}

pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The client a request presents. More than one way at once is refused
/// (§2.3: a client MUST NOT use more than one method per request).
pub fn presented(
    basic: Option<(String, String)>,
    client_id: Option<String>,
    client_secret: Option<String>,
    assertion_type: Option<&str>,
    assertion: Option<String>,
) -> Result<Presented, OAuthError> {
    let id = client_id.filter(|s| !s.is_empty());
    let secret = client_secret.filter(|s| !s.is_empty());
    match (basic, id, secret, assertion_type, assertion) {
        (Some(_), _, Some(_), _, _) | (Some(_), _, _, _, Some(_)) | (_, _, Some(_), _, Some(_)) => {
            Err(invalid_request("the client authenticates in more than one way"))
        }
        (Some((basic_id, secret)), id, None, _, None) => {
            if id.is_some_and(|i| i != basic_id) {
                return Err(invalid_request("client_id differs from the Authorization header"));
            }
            Ok(Presented::Basic { id: basic_id, secret })
        }
        (None, _, None, Some(JWT_BEARER_ASSERTION), Some(assertion)) => Ok(Presented::Assertion { assertion }),
        (None, _, None, _, Some(_)) => Err(invalid_request("unsupported client_assertion_type")),
        (None, Some(id), Some(secret), _, None) => Ok(Presented::Post { id, secret }),
        (None, Some(id), None, _, None) => Ok(Presented::Public { id }),
        (None, None, _, _, None) => Err(invalid_client("client_id missing")),
    }
}

impl Presented {
    pub fn client_id(&self) -> Option<&str> {
        match self {
            Self::Basic { id, .. } | Self::Post { id, .. } | Self::Public { id } => Some(id),
            Self::Assertion { .. } => None,
        }
    }
}

/// What proves the client, given how it registered.
#[derive(Debug, PartialEq, Eq)]
pub enum Proof<'a> {
    /// Its secret, to compare with the stored keyed hash.
    Secret(&'a str),
    /// Nothing: a public client (PKCE protects its codes).
    Nothing,
    /// A client assertion, to verify with the app's keys
    /// ([`super::client_assertion`]).
    Assertion(&'a str),
}

/// The registered way an app authenticates at the token endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Registered {
    Oidc(AuthMethod),
    Api(ApiAuthMethod),
}

/// Checks that the client used the way it registered (stricter than
/// ZITADEL, which lets secret clients use either transport).
pub fn proof<'a>(registered: Registered, presented: &'a Presented) -> Result<Proof<'a>, OAuthError> {
    use Presented as P;
    match (registered, presented) {
        (Registered::Oidc(AuthMethod::Basic) | Registered::Api(ApiAuthMethod::Basic), P::Basic { secret, .. })
        | (Registered::Oidc(AuthMethod::Post), P::Post { secret, .. }) => Ok(Proof::Secret(secret)),
        (Registered::Oidc(AuthMethod::None), P::Public { .. }) => Ok(Proof::Nothing),
        (
            Registered::Oidc(AuthMethod::PrivateKeyJwt) | Registered::Api(ApiAuthMethod::PrivateKeyJwt),
            P::Assertion { assertion },
        ) => Ok(Proof::Assertion(assertion)),
        (Registered::Oidc(AuthMethod::PrivateKeyJwt) | Registered::Api(ApiAuthMethod::PrivateKeyJwt), _) => {
            Err(invalid_client("client assertion missing"))
        }
        (_, P::Public { .. }) => Err(invalid_client("empty client secret")),
        (Registered::Oidc(AuthMethod::None), _) => Err(invalid_client("a public client has no secret")),
        _ => Err(invalid_client(
            "the client authenticates in another way than it registered",
        )),
    }
}

/// An authorization-code grant as presented.
pub struct CodeGrant<'a> {
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub code_verifier: Option<&'a str>,
    pub now: Timestamp,
}

/// What a presented code leads to.
#[derive(Debug, PartialEq, Eq)]
pub enum CodeUse {
    /// The first exchange: these events end the auth request, and the
    /// grant is started from what was requested and who signed in.
    First {
        events: Vec<E>,
        request: Box<AuthRequestAdded>,
        linked: SessionLinked,
    },
    /// The code was exchanged before (RFC 6749 §4.1.2): the tokens of that
    /// exchange are to be revoked, and the request refused.
    Again { oidc_session_id: String },
}

/// Checks an RFC 7636 S256 verifier against the stored challenge.
fn check_pkce(request: &AuthRequestAdded, verifier: Option<&str>) -> Result<(), OAuthError> {
    match (&request.code_challenge, verifier) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(invalid_grant("code_verifier unexpectedly provided")),
        (Some(_), None) => Err(invalid_grant("code_verifier required")),
        (Some(c), Some(v)) => {
            let well_formed =
                (43..=128).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
            let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes()));
            if well_formed && c.method == 1 && computed == c.challenge {
                Ok(())
            } else {
                Err(invalid_grant("invalid code_verifier"))
            }
        }
    }
}

/// The exchange of the code of `s` (found by its keyed hash), which
/// starts the grant `oidc_session_id`.
pub fn decide_exchange(s: &AuthRequestState, g: &CodeGrant<'_>, oidc_session_id: &str) -> Result<CodeUse, OAuthError> {
    let invalid = || invalid_grant("invalid code");
    let (Some(request), Some(linked), Some(code_expires_at)) = (&s.added, &s.linked, s.code_expires_at) else {
        return Err(invalid());
    };
    if let Some(id) = &s.exchanged {
        return Ok(CodeUse::Again {
            oidc_session_id: id.clone(),
        });
    }
    if request.client_id != g.client_id {
        return Err(invalid());
    }
    if code_expires_at <= g.now {
        return Err(invalid_grant("code expired"));
    }
    if request.redirect_uri != g.redirect_uri {
        return Err(invalid_grant(
            "redirect_uri differs from the one of the authorization request",
        ));
    }
    check_pkce(request, g.code_verifier)?;
    Ok(CodeUse::First {
        events: vec![
            E::AuthRequestCodeExchanged(CodeExchanged {
                oidc_session_id: oidc_session_id.to_owned(),
            }),
            E::AuthRequestSucceeded,
        ],
        request: Box::new(request.clone()),
        linked: linked.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::auth_request::CodeChallenge;

    const VERIFIER: &str = "twofold-pkce-verifier-0123456789-abcdefghijklmnop";
    /// BASE64URL(SHA-256(VERIFIER)).
    const CHALLENGE: &str = "3MCkrOAIL9m1PExoUgDfS7wifprBUZWyQq_u4BzCj6c";

    fn state(challenge: bool, exchanged: Option<&str>) -> AuthRequestState {
        AuthRequestState {
            added: Some(AuthRequestAdded {
                client_id: "c".into(),
                redirect_uri: "https://a/cb".into(),
                code_challenge: challenge.then(|| CodeChallenge {
                    challenge: CHALLENGE.into(),
                    method: 1,
                }),
                ..AuthRequestAdded::default()
            }),
            linked: Some(SessionLinked::default()),
            code_expires_at: Some(Timestamp(100)),
            exchanged: exchanged.map(str::to_owned),
            failed: false,
        }
    }

    fn grant<'a>(client: &'a str, uri: &'a str, verifier: Option<&'a str>, now: i64) -> CodeGrant<'a> {
        CodeGrant {
            client_id: client,
            redirect_uri: uri,
            code_verifier: verifier,
            now: Timestamp(now),
        }
    }

    #[test]
    fn a_code_is_exchanged_once_with_its_verifier() {
        let got = decide_exchange(
            &state(true, None),
            &grant("c", "https://a/cb", Some(VERIFIER), 1),
            "V2_9",
        )
        .unwrap();
        let CodeUse::First { events, .. } = got else {
            panic!("first use")
        };
        assert_eq!(
            events,
            vec![
                E::AuthRequestCodeExchanged(CodeExchanged {
                    oidc_session_id: "V2_9".into()
                }),
                E::AuthRequestSucceeded
            ]
        );
        // given the code was exchanged; when it comes again (even from
        // another client); then the first grant is named for revocation
        for client in ["c", "other"] {
            let got = decide_exchange(
                &state(true, Some("V2_9")),
                &grant(client, "https://a/cb", Some(VERIFIER), 1),
                "V2_10",
            );
            assert_eq!(
                got,
                Ok(CodeUse::Again {
                    oidc_session_id: "V2_9".into()
                })
            );
        }
    }

    #[test]
    fn exchange_refusals() {
        let long = "a".repeat(129);
        // given challenge stored, client, redirect uri, verifier, now; then the description
        type Case<'a> = (bool, &'a str, &'a str, Option<&'a str>, i64, &'a str);
        let cases: Vec<Case<'_>> = vec![
            (true, "other", "https://a/cb", Some(VERIFIER), 1, "invalid code"),
            (true, "c", "https://a/cb", Some(VERIFIER), 100, "code expired"),
            (
                true,
                "c",
                "https://a/other",
                Some(VERIFIER),
                1,
                "redirect_uri differs from the one of the authorization request",
            ),
            (true, "c", "https://a/cb", None, 1, "code_verifier required"),
            (true, "c", "https://a/cb", Some(CHALLENGE), 1, "invalid code_verifier"),
            (true, "c", "https://a/cb", Some("short"), 1, "invalid code_verifier"),
            (true, "c", "https://a/cb", Some(&long), 1, "invalid code_verifier"),
            (
                false,
                "c",
                "https://a/cb",
                Some(VERIFIER),
                1,
                "code_verifier unexpectedly provided",
            ),
        ];
        for (challenge, client, uri, verifier, now, want) in cases {
            let got = decide_exchange(&state(challenge, None), &grant(client, uri, verifier, now), "V2_9").unwrap_err();
            assert_eq!(got.code, OAuthCode::InvalidGrant);
            assert_eq!(got.description, want, "{client} {uri} {verifier:?} {now}");
        }
        let unlinked = AuthRequestState {
            linked: None,
            ..state(false, None)
        };
        assert_eq!(
            decide_exchange(&unlinked, &grant("c", "https://a/cb", None, 1), "V2_9")
                .unwrap_err()
                .description,
            "invalid code"
        );
        assert!(decide_exchange(&state(false, None), &grant("c", "https://a/cb", None, 1), "V2_9").is_ok());
    }

    fn p(basic: bool, id: Option<&str>, secret: Option<&str>) -> Result<Presented, OAuthError> {
        presented(
            basic.then(|| ("c".to_owned(), "s".to_owned())),
            id.map(str::to_owned),
            secret.map(str::to_owned),
            None,
            None,
        )
    }

    #[test]
    fn clients_authenticate_once_the_way_they_registered() {
        let basic = p(true, None, None).unwrap();
        let post = p(false, Some("c"), Some("s")).unwrap();
        let public = p(false, Some("c"), None).unwrap();
        let assertion = Presented::Assertion {
            assertion: "jwt".into(),
        };
        assert_eq!(p(true, Some("c"), None).unwrap(), basic);
        assert_eq!(p(true, Some("d"), None).unwrap_err().code, OAuthCode::InvalidRequest);
        assert_eq!(p(true, None, Some("s")).unwrap_err().code, OAuthCode::InvalidRequest);
        assert_eq!(p(false, None, None).unwrap_err().code, OAuthCode::InvalidClient);
        assert_eq!(
            presented(None, None, None, Some(JWT_BEARER_ASSERTION), Some("jwt".into())),
            Ok(Presented::Assertion {
                assertion: "jwt".into()
            })
        );

        use AuthMethod as M;
        // given registered method, presented; then proof or error description
        let cases: Vec<(Registered, &Presented, Result<Proof<'_>, &str>)> = vec![
            (Registered::Oidc(M::Basic), &basic, Ok(Proof::Secret("s"))),
            (Registered::Api(ApiAuthMethod::Basic), &basic, Ok(Proof::Secret("s"))),
            (Registered::Oidc(M::Post), &post, Ok(Proof::Secret("s"))),
            (Registered::Oidc(M::None), &public, Ok(Proof::Nothing)),
            (
                Registered::Oidc(M::Basic),
                &post,
                Err("the client authenticates in another way than it registered"),
            ),
            (Registered::Oidc(M::Basic), &public, Err("empty client secret")),
            (Registered::Oidc(M::None), &basic, Err("a public client has no secret")),
            (
                Registered::Oidc(M::PrivateKeyJwt),
                &basic,
                Err("client assertion missing"),
            ),
            (
                Registered::Api(ApiAuthMethod::PrivateKeyJwt),
                &public,
                Err("client assertion missing"),
            ),
            (
                Registered::Oidc(M::PrivateKeyJwt),
                &assertion,
                Ok(Proof::Assertion("jwt")),
            ),
            (
                Registered::Api(ApiAuthMethod::PrivateKeyJwt),
                &assertion,
                Ok(Proof::Assertion("jwt")),
            ),
            (
                Registered::Oidc(M::Basic),
                &assertion,
                Err("the client authenticates in another way than it registered"),
            ),
        ];
        for (registered, presented, want) in cases {
            let got = proof(registered, presented).map_err(|e| {
                assert_eq!(e.code, OAuthCode::InvalidClient);
                e.description.into_owned()
            });
            assert_eq!(got, want.map_err(str::to_owned), "{registered:?} {presented:?}");
        }
    }
}
