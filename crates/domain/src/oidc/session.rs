//! The tokens of one grant (an `oidc_session`, id `V2_…`, as in ZITADEL):
//! what a code exchange or a client-credentials grant starts, refresh
//! tokens rotate and revocation ends. Event names are ZITADEL's; Twofold
//! adds the keyed hashes of the opaque tokens and their expiry.
//!
//! Opaque tokens are `{oidc session id}.{random}`: the id finds the
//! session with one read, the keyed hash of the whole token proves it.

use serde::{Deserialize, Serialize};

use super::token::{OAuthError, invalid_grant};
use crate::event::{EventPayload as E, StoredEvent, Timestamp};

const HOUR_US: i64 = 3_600_000_000;
/// ZITADEL's default lifetimes (spec §28.3).
pub const ACCESS_TOKEN_US: i64 = 12 * HOUR_US;
pub const ID_TOKEN_US: i64 = 12 * HOUR_US;
pub const REFRESH_IDLE_US: i64 = 720 * HOUR_US;
pub const REFRESH_ABSOLUTE_US: i64 = 2160 * HOUR_US;

/// Why a session was revoked as a whole.
pub const REUSED_REFRESH_TOKEN: &str = "refresh_token_reused";
pub const REUSED_CODE: &str = "code_reused";
pub const REVOKED_BY_CLIENT: &str = "revoked";
pub const SIGNED_OUT: &str = "end_session";

/// `oidc_session.added` (ZITADEL's keys; `amr` instead of `authMethods`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct OidcSessionAdded {
    #[serde(rename = "userID")]
    pub user_id: String,
    pub user_resource_owner: String,
    /// The Session API session that signed in ("" for client credentials).
    #[serde(rename = "sessionID")]
    pub session_id: String,
    #[serde(rename = "clientID")]
    pub client_id: String,
    pub audience: Vec<String>,
    pub scope: Vec<String>,
    pub amr: Vec<String>,
    pub auth_time: Timestamp,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub nonce: String,
}

/// `oidc_session.access_token.added`; `token_hash` is None for a JWT.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AccessTokenAdded {
    pub id: String,
    pub scope: Vec<String>,
    /// Nanoseconds.
    pub lifetime: i64,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_hash: Option<String>,
    pub expires_at: Timestamp,
}

impl AccessTokenAdded {
    pub fn new(id: String, scope: Vec<String>, reason: &str, token_hash: Option<String>, now: Timestamp) -> Self {
        Self {
            id,
            scope,
            lifetime: ACCESS_TOKEN_US * 1_000,
            reason: reason.to_owned(),
            token_hash,
            expires_at: Timestamp(now.0 + ACCESS_TOKEN_US),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenId {
    pub id: String,
}

/// `oidc_session.refresh_token.added`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RefreshTokenAdded {
    pub id: String,
    /// Nanoseconds.
    pub lifetime: i64,
    pub idle_lifetime: i64,
    pub token_hash: String,
    pub expires_at: Timestamp,
    pub idle_expires_at: Timestamp,
}

impl RefreshTokenAdded {
    pub fn new(id: String, token_hash: String, now: Timestamp) -> Self {
        Self {
            id,
            lifetime: REFRESH_ABSOLUTE_US * 1_000,
            idle_lifetime: REFRESH_IDLE_US * 1_000,
            token_hash,
            expires_at: Timestamp(now.0 + REFRESH_ABSOLUTE_US),
            idle_expires_at: Timestamp(now.0 + REFRESH_IDLE_US),
        }
    }
}

/// `oidc_session.refresh_token.renewed`: the next token of the family.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RefreshTokenRenewed {
    pub id: String,
    pub idle_lifetime: i64,
    pub token_hash: String,
    pub idle_expires_at: Timestamp,
}

/// Twofold `oidc_session.revoked`: every token of the grant ends.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRevoked {
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessToken {
    pub id: String,
    pub hash: Option<String>,
    pub scope: Vec<String>,
    pub expires_at: Timestamp,
    pub revoked: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshToken {
    pub id: String,
    pub hash: String,
    pub expires_at: Timestamp,
    pub idle_expires_at: Timestamp,
}

/// A grant folded from its events; also its read-model document.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OidcSession {
    pub id: String,
    pub added: Option<OidcSessionAdded>,
    /// Access tokens not yet expired when the last event was written.
    pub access_tokens: Vec<AccessToken>,
    pub refresh: Option<RefreshToken>,
    /// Hashes of the refresh tokens already rotated away: presented again,
    /// they reveal a stolen family.
    pub spent_refresh_hashes: Vec<String>,
    pub revoked: Option<String>,
}

/// The session id of an opaque token, if it has the form of one.
pub fn session_id_of(token: &str) -> Option<&str> {
    let (id, secret) = token.split_once('.')?;
    (id.starts_with("V2_") && !secret.is_empty() && !secret.contains('.')).then_some(id)
}

impl OidcSession {
    pub fn fold(events: &[StoredEvent]) -> Self {
        let mut s = Self::default();
        for ev in events {
            s.apply(ev);
        }
        s
    }

    pub fn apply(&mut self, ev: &StoredEvent) {
        let now = ev.created_at;
        self.access_tokens.retain(|t| t.expires_at > now);
        match &ev.payload {
            E::OidcSessionAdded(a) => {
                self.id = ev.aggregate.id.clone();
                self.added = Some((**a).clone());
            }
            E::AccessTokenAdded(t) => self.access_tokens.push(AccessToken {
                id: t.id.clone(),
                hash: t.token_hash.clone(),
                scope: t.scope.clone(),
                expires_at: t.expires_at,
                revoked: false,
            }),
            E::AccessTokenRevoked(t) => {
                for a in self.access_tokens.iter_mut().filter(|a| a.id == t.id) {
                    a.revoked = true;
                }
            }
            E::RefreshTokenAdded(r) => {
                self.refresh = Some(RefreshToken {
                    id: r.id.clone(),
                    hash: r.token_hash.clone(),
                    expires_at: r.expires_at,
                    idle_expires_at: r.idle_expires_at,
                })
            }
            E::RefreshTokenRenewed(r) => {
                if let Some(old) = &mut self.refresh {
                    self.spent_refresh_hashes
                        .push(std::mem::replace(&mut old.hash, r.token_hash.clone()));
                    old.id = r.id.clone();
                    old.idle_expires_at = r.idle_expires_at;
                }
            }
            E::OidcSessionRevoked(r) => self.revoked = Some(r.reason.clone()),
            _ => {}
        }
    }

    /// The grant, if it is still in force.
    pub fn live(&self) -> Option<&OidcSessionAdded> {
        self.added.as_ref().filter(|_| self.revoked.is_none())
    }

    /// The access token with this hash (or, for a JWT, this id), if it is
    /// active now.
    pub fn active_access_token(&self, hash_or_id: &str, now: Timestamp) -> Option<(&OidcSessionAdded, &AccessToken)> {
        let grant = self.live()?;
        let token = self
            .access_tokens
            .iter()
            .find(|t| t.hash.as_deref().unwrap_or(&t.id) == hash_or_id)?;
        (!token.revoked && token.expires_at > now).then_some((grant, token))
    }
}

/// What a presented refresh token leads to.
#[derive(Debug, PartialEq, Eq)]
pub enum Refresh {
    /// The current token: the family moves on.
    Rotate(Vec<E>),
    /// A token rotated away before: the family is revoked, newest included
    /// (and the request is refused).
    Reused(Vec<E>),
}

/// A refresh-token grant: `hash` of the presented token, by `client_id`;
/// `next` the renewed refresh token and `access` the new access token.
pub fn decide_refresh(
    s: &OidcSession,
    hash: &str,
    client_id: &str,
    now: Timestamp,
    next: (String, String),
    access: AccessTokenAdded,
) -> Result<Refresh, OAuthError> {
    let invalid = || invalid_grant("invalid refresh token");
    let (Some(grant), Some(current)) = (&s.added, &s.refresh) else {
        return Err(invalid());
    };
    if grant.client_id != client_id {
        return Err(invalid());
    }
    if s.revoked.is_some() {
        return Err(invalid_grant("refresh token revoked"));
    }
    if current.hash != hash {
        if s.spent_refresh_hashes.iter().any(|h| h == hash) {
            return Ok(Refresh::Reused(vec![E::OidcSessionRevoked(SessionRevoked {
                reason: REUSED_REFRESH_TOKEN.to_owned(),
            })]));
        }
        return Err(invalid());
    }
    if current.expires_at <= now || current.idle_expires_at <= now {
        return Err(invalid_grant("refresh token expired"));
    }
    let (id, token_hash) = next;
    Ok(Refresh::Rotate(vec![
        E::RefreshTokenRenewed(RefreshTokenRenewed {
            id,
            idle_lifetime: REFRESH_IDLE_US * 1_000,
            token_hash,
            idle_expires_at: Timestamp((now.0 + REFRESH_IDLE_US).min(current.expires_at.0)),
        }),
        E::AccessTokenAdded(access),
    ]))
}

/// Revokes the whole grant (RFC 7009 for a refresh token, a reused code,
/// sign-out); nothing when it is revoked already.
pub fn decide_revoke(s: &OidcSession, reason: &str) -> Vec<E> {
    if s.added.is_none() || s.revoked.is_some() {
        return vec![];
    }
    vec![E::OidcSessionRevoked(SessionRevoked {
        reason: reason.to_owned(),
    })]
}

/// Revokes one access token; nothing when it is unknown or revoked already.
pub fn decide_revoke_access_token(s: &OidcSession, id: &str) -> Vec<E> {
    if s.access_tokens.iter().any(|t| t.id == id && !t.revoked) {
        vec![E::AccessTokenRevoked(TokenId { id: id.to_owned() })]
    } else {
        vec![]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{AggregateRef, AggregateType};

    fn ev(at: i64, payload: E) -> StoredEvent {
        StoredEvent {
            instance_id: "i".into(),
            aggregate: AggregateRef {
                kind: AggregateType::OidcSession,
                id: "V2_1".into(),
                owner: "i".into(),
            },
            sequence: 1,
            position: 1,
            created_at: Timestamp(at),
            creator: "u".into(),
            payload,
        }
    }

    fn started(refresh: &str) -> Vec<StoredEvent> {
        vec![
            ev(
                0,
                E::OidcSessionAdded(Box::new(OidcSessionAdded {
                    user_id: "u".into(),
                    client_id: "c".into(),
                    ..OidcSessionAdded::default()
                })),
            ),
            ev(
                0,
                E::AccessTokenAdded(AccessTokenAdded::new(
                    "at_1".into(),
                    vec![],
                    "auth_code",
                    Some("a1".into()),
                    Timestamp(0),
                )),
            ),
            ev(
                0,
                E::RefreshTokenAdded(RefreshTokenAdded::new("rt_1".into(), refresh.into(), Timestamp(0))),
            ),
        ]
    }

    fn access(id: &str) -> AccessTokenAdded {
        AccessTokenAdded::new(id.into(), vec![], "refresh", Some(format!("h-{id}")), Timestamp(10))
    }

    fn rotate(s: &OidcSession, hash: &str, client: &str, now: i64, next: &str) -> Result<Refresh, OAuthError> {
        decide_refresh(
            s,
            hash,
            client,
            Timestamp(now),
            (format!("rt_{next}"), next.to_owned()),
            access(&format!("at_{next}")),
        )
    }

    #[test]
    fn a_refresh_token_rotates_and_its_reuse_revokes_the_family() {
        // given a grant with refresh token r1
        let mut events = started("r1");
        let s = OidcSession::fold(&events);
        // when r1 is presented, then the family moves on to r2
        let Ok(Refresh::Rotate(next)) = rotate(&s, "r1", "c", 10, "r2") else {
            panic!("rotates")
        };
        assert!(matches!(&next[0], E::RefreshTokenRenewed(r) if r.token_hash == "r2"));
        events.extend(next.into_iter().map(|p| ev(10, p)));
        let s = OidcSession::fold(&events);
        assert_eq!(s.refresh.as_ref().unwrap().hash, "r2");
        assert!(s.active_access_token("h-at_r2", Timestamp(11)).is_some());
        // when r1 is presented again, then the whole family is revoked
        let Ok(Refresh::Reused(revoke)) = rotate(&s, "r1", "c", 20, "r3") else {
            panic!("reuse detected")
        };
        events.extend(revoke.into_iter().map(|p| ev(20, p)));
        let s = OidcSession::fold(&events);
        assert_eq!(s.revoked.as_deref(), Some(REUSED_REFRESH_TOKEN));
        // and the newest token, r2, is refused as are its access tokens
        assert_eq!(
            rotate(&s, "r2", "c", 30, "r4").unwrap_err().description,
            "refresh token revoked"
        );
        assert!(s.active_access_token("h-at_r2", Timestamp(31)).is_none());
        assert!(s.active_access_token("a1", Timestamp(31)).is_none());
    }

    #[test]
    fn refresh_refusals() {
        let s = OidcSession::fold(&started("r1"));
        // given hash, client, now; then the description
        let cases = [
            ("nope", "c", 10, "invalid refresh token"),
            ("r1", "other", 10, "invalid refresh token"),
            ("r1", "c", REFRESH_IDLE_US, "refresh token expired"),
        ];
        for (hash, client, now, want) in cases {
            let got = rotate(&s, hash, client, now, "x").unwrap_err();
            assert_eq!(got.code, crate::oidc::token::OAuthCode::InvalidGrant);
            assert_eq!(got.description, want, "{hash} {client} {now}");
        }
        assert_eq!(OidcSession::fold(&[]).refresh, None);
        assert!(rotate(&OidcSession::default(), "r1", "c", 1, "x").is_err());
    }

    #[test]
    fn access_tokens_expire_and_are_revoked_one_by_one() {
        let mut events = started("r1");
        let s = OidcSession::fold(&events);
        assert!(s.active_access_token("a1", Timestamp(ACCESS_TOKEN_US - 1)).is_some());
        assert!(s.active_access_token("a1", Timestamp(ACCESS_TOKEN_US)).is_none());
        assert!(s.active_access_token("a2", Timestamp(1)).is_none());
        let revoke = decide_revoke_access_token(&s, "at_1");
        assert_eq!(revoke.len(), 1);
        events.extend(revoke.into_iter().map(|p| ev(5, p)));
        let s = OidcSession::fold(&events);
        assert!(s.active_access_token("a1", Timestamp(6)).is_none());
        assert!(decide_revoke_access_token(&s, "at_1").is_empty(), "once");
        assert!(s.live().is_some(), "the refresh token lives on");
        assert_eq!(decide_revoke(&s, REVOKED_BY_CLIENT).len(), 1);
    }

    #[test]
    fn opaque_tokens_name_their_session() {
        assert_eq!(session_id_of("V2_123.abc"), Some("V2_123"));
        for bad in ["V2_123", "x.abc", "V2_1.", "a.b.c", "V2_1.a.b"] {
            assert_eq!(session_id_of(bad), None, "{bad}");
        }
    }
}
