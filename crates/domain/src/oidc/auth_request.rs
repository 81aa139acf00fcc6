//! OIDC auth requests (login v2): created by the authorize endpoint, linked
//! to a session once by `CreateCallback`, which also issues the code. Event
//! names and payload keys are ZITADEL's (`auth_request.*`); Twofold adds an
//! expiry, the code's keyed hash and lifetime, and the `amr` the door
//! granted.

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::event::{EventPayload as E, StoredEvent, Timestamp};
use crate::oidc_config::ResponseType;

/// How long an auth request waits for its callback by default (ZITADEL's
/// never expire; the operator sets it with `--auth-request-lifetime`).
pub const DEFAULT_LIFETIME_US: i64 = 30 * 60 * 1_000_000;
/// How long a code may wait to be exchanged (RFC 6749 §4.1.2: at most 10 min).
pub const CODE_LIFETIME_US: i64 = 10 * 60 * 1_000_000;

fn is_false(b: &bool) -> bool {
    !*b
}

/// `code_challenge` with ZITADEL's Go field names; Method 1 = S256 (the
/// only one Twofold accepts).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeChallenge {
    #[serde(rename = "Challenge")]
    pub challenge: String,
    #[serde(rename = "Method")]
    pub method: i32,
}

/// `response_mode`: 0 unspecified, 1 query, 2 fragment, 3 form_post.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ResponseMode {
    #[default]
    Unspecified,
    Query,
    Fragment,
    FormPost,
}

impl ResponseMode {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "" => Some(Self::Unspecified),
            "query" => Some(Self::Query),
            "fragment" => Some(Self::Fragment),
            "form_post" => Some(Self::FormPost),
            _ => None,
        }
    }
    pub fn number(self) -> i32 {
        match self {
            Self::Unspecified => 0,
            Self::Query => 1,
            Self::Fragment => 2,
            Self::FormPost => 3,
        }
    }
    pub fn from_number(n: i32) -> Self {
        match n {
            1 => Self::Query,
            2 => Self::Fragment,
            3 => Self::FormPost,
            _ => Self::Unspecified,
        }
    }
}

/// `prompt` values (the proto's `Prompt` numbers).
pub fn prompt_number(s: &str) -> Option<i32> {
    match s {
        "none" => Some(1),
        "login" => Some(2),
        "consent" => Some(3),
        "select_account" => Some(4),
        "create" => Some(5),
        _ => None,
    }
}

/// `auth_request.added`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthRequestAdded {
    pub login_client: String,
    pub client_id: String,
    pub redirect_uri: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub state: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub nonce: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scope: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub audience: Vec<String>,
    pub response_type: ResponseType,
    pub response_mode: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_challenge: Option<CodeChallenge>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub prompt: Vec<i32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ui_locales: Vec<String>,
    /// Nanoseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_age: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_hint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint_user_id: Option<String>,
    #[serde(skip_serializing_if = "is_false")]
    pub need_refresh_token: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub issuer: String,
    /// Twofold: when the request stops accepting a callback.
    pub expires_at: Timestamp,
}

impl AuthRequestAdded {
    /// The org a `urn:zitadel:iam:org:id:{id}` scope pins the sign-in to.
    pub fn pinned_org(&self) -> Option<&str> {
        self.scope
            .iter()
            .find_map(|s| s.strip_prefix(crate::oidc::scopes::ORG_ID_PREFIX))
    }
}

/// `auth_request.session.linked`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionLinked {
    pub session_id: String,
    pub user_id: String,
    /// Twofold: the user's org.
    pub user_org_id: String,
    pub auth_time: Timestamp,
    /// Twofold: the `amr` values the door granted.
    pub amr: Vec<String>,
}

/// `auth_request.code.added` (Twofold keeps the code's keyed hash here).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CodeAdded {
    pub code_hash: String,
    pub expires_at: Timestamp,
}

/// `auth_request.failed`: the proto `ErrorReason` number.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Failed {
    pub reason: i32,
}

/// `auth_request.code.exchanged`: Twofold names the grant the code started
/// (a second use of the code revokes it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CodeExchanged {
    pub oidc_session_id: String,
}

/// An auth request folded from its events.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuthRequestState {
    pub added: Option<AuthRequestAdded>,
    pub linked: Option<SessionLinked>,
    pub code_expires_at: Option<Timestamp>,
    /// The grant the code started, once exchanged.
    pub exchanged: Option<String>,
    pub failed: bool,
}

impl AuthRequestState {
    pub fn fold(events: &[StoredEvent]) -> Self {
        let mut s = Self::default();
        for ev in events {
            match &ev.payload {
                E::AuthRequestAdded(a) => s.added = Some((**a).clone()),
                E::AuthRequestSessionLinked(l) => s.linked = Some(l.clone()),
                E::AuthRequestCodeAdded(c) => s.code_expires_at = Some(c.expires_at),
                E::AuthRequestCodeExchanged(x) => s.exchanged = Some(x.oidc_session_id.clone()),
                E::AuthRequestFailed(_) => s.failed = true,
                _ => {}
            }
        }
        s
    }
}

pub fn not_found() -> DomainError {
    DomainError::not_found("COMMAND-jae5P", "Auth Request does not exist")
}

/// The request, if no callback has handled it yet. `handled_id` differs
/// between the session and the error callback, as in ZITADEL.
pub fn require_unhandled<'s>(
    s: &'s AuthRequestState,
    handled_id: &'static str,
) -> Result<&'s AuthRequestAdded, DomainError> {
    let added = s.added.as_ref().ok_or_else(not_found)?;
    if s.linked.is_some() || s.failed {
        return Err(DomainError::precondition(
            handled_id,
            "Auth Request has already been handled",
        ));
    }
    Ok(added)
}

/// The request, if it still waits for its one callback (unhandled and
/// not expired).
pub fn require_open<'s>(
    s: &'s AuthRequestState,
    now: Timestamp,
    handled_id: &'static str,
) -> Result<&'s AuthRequestAdded, DomainError> {
    let added = require_unhandled(s, handled_id)?;
    if added.expires_at <= now {
        return Err(DomainError::precondition("OIDC-AuRqX", "Auth Request has expired"));
    }
    Ok(added)
}

/// Links the session and adds the code, once.
pub fn decide_link(
    s: &AuthRequestState,
    now: Timestamp,
    linked: SessionLinked,
    code_hash: String,
) -> Result<Vec<E>, DomainError> {
    require_open(s, now, "COMMAND-Sx208nt")?;
    Ok(vec![
        E::AuthRequestSessionLinked(linked),
        E::AuthRequestCodeAdded(CodeAdded {
            code_hash,
            expires_at: Timestamp(now.0 + CODE_LIFETIME_US),
        }),
    ])
}

/// Fails the request with the login's reason, once.
pub fn decide_fail(s: &AuthRequestState, now: Timestamp, reason: i32) -> Result<Vec<E>, DomainError> {
    require_open(s, now, "COMMAND-Sx202nt")?;
    Ok(vec![E::AuthRequestFailed(Failed { reason })])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{AggregateRef, AggregateType};

    fn ev(payload: E) -> StoredEvent {
        StoredEvent {
            instance_id: "i".into(),
            aggregate: AggregateRef {
                kind: AggregateType::AuthRequest,
                id: "V2_1".into(),
                owner: "i".into(),
            },
            sequence: 1,
            position: 1,
            created_at: Timestamp(0),
            creator: "u".into(),
            payload,
        }
    }

    fn added() -> StoredEvent {
        ev(E::AuthRequestAdded(Box::new(AuthRequestAdded {
            client_id: "c".into(),
            expires_at: Timestamp(100),
            ..AuthRequestAdded::default()
        })))
    }

    #[test]
    fn a_request_links_once_and_not_after_expiry() {
        let linked = || ev(E::AuthRequestSessionLinked(SessionLinked::default()));
        let failed = || ev(E::AuthRequestFailed(Failed { reason: 3 }));
        // given events, now; then the error id (None: linked)
        let cases: Vec<(Vec<StoredEvent>, i64, Option<&str>)> = vec![
            (vec![], 1, Some("COMMAND-jae5P")),
            (vec![added()], 1, None),
            (vec![added(), linked()], 1, Some("COMMAND-Sx208nt")),
            (vec![added(), failed()], 1, Some("COMMAND-Sx208nt")),
            (vec![added()], 100, Some("OIDC-AuRqX")),
        ];
        for (events, now, want) in cases {
            let s = AuthRequestState::fold(&events);
            let got = decide_link(&s, Timestamp(now), SessionLinked::default(), "h".into());
            match want {
                None => {
                    let got = got.unwrap();
                    assert_eq!(got.len(), 2);
                    assert_eq!(
                        got[1],
                        E::AuthRequestCodeAdded(CodeAdded {
                            code_hash: "h".into(),
                            expires_at: Timestamp(now + CODE_LIFETIME_US)
                        })
                    );
                }
                Some(id) => assert_eq!(got.unwrap_err().id, id, "{events:?}"),
            }
        }
        let s = AuthRequestState::fold(&[added(), linked()]);
        assert_eq!(decide_fail(&s, Timestamp(1), 3).unwrap_err().id, "COMMAND-Sx202nt");
    }

    #[test]
    fn added_keeps_zitadel_keys() {
        let (ty, payload) = E::AuthRequestAdded(Box::new(AuthRequestAdded {
            client_id: "c".into(),
            redirect_uri: "https://a/cb".into(),
            scope: vec!["openid".into()],
            code_challenge: Some(CodeChallenge {
                challenge: "x".into(),
                method: 1,
            }),
            expires_at: Timestamp(5),
            ..AuthRequestAdded::default()
        }))
        .to_parts();
        assert_eq!(ty, "auth_request.added");
        assert_eq!(
            payload,
            Some(serde_json::json!({
                "login_client": "", "client_id": "c", "redirect_uri": "https://a/cb",
                "scope": ["openid"], "response_type": 0, "response_mode": 0,
                "code_challenge": {"Challenge": "x", "Method": 1}, "expires_at": 5
            }))
        );
    }
}
