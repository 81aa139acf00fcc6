//! What issued tokens are good for: userinfo, introspection (RFC 7662),
//! revocation (RFC 7009), sign-out (`end_session`) and bearer access to
//! Twofold's own APIs. An access token is active while its grant is in
//! force, it is not revoked and not expired; an opaque one is found by
//! its grant's id and proven by its keyed hash, a JWT by its signature,
//! `sid` and `jti`.

use std::sync::Arc;

use serde_json::{Map, Value, json};
use twofold_domain::oidc::claims;
use twofold_domain::oidc::session::{self as grant, OidcSession, OidcSessionAdded, REVOKED_BY_CLIENT, SIGNED_OUT};
use twofold_domain::oidc::token::{self, OAuthError, Presented, invalid_request};
use twofold_domain::readmodel::Collection;
use twofold_domain::readmodel::directory::{OrgView, UserState, UserView};
use twofold_domain::session::{self, SessionState};
use twofold_domain::{AggregateRef, ClientId, DomainError, InstanceId, SessionId, Timestamp};

use crate::App;
use crate::command::store_error;

/// The audience entry of tokens meant for Twofold's own APIs (scope
/// `urn:zitadel:iam:org:project:id:zitadel:aud`).
pub const OWN_API_AUDIENCE: &str = "zitadel";

/// An active access token.
pub struct ActiveToken {
    pub sid: String,
    pub grant: OidcSessionAdded,
    pub token_id: String,
    pub scope: Vec<String>,
    pub expires_at: Timestamp,
}

/// What userinfo answers: the user's claims for the token's scope,
/// serialised straight from the shared read models.
pub struct UserInfo {
    user: Arc<UserView>,
    org: Option<Arc<OrgView>>,
    scope: Vec<String>,
}

impl serde::Serialize for UserInfo {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        claims::UserClaims {
            user: &self.user,
            org: self.org.as_deref(),
            scopes: &self.scope,
        }
        .serialize(s)
    }
}

/// Where `end_session` sends the browser.
pub enum SignedOut {
    /// The validated `post_logout_redirect_uri` with the state.
    Redirect(String),
    /// No redirect asked for.
    Done,
}

fn secs(t: Timestamp) -> i64 {
    t.0.div_euclid(1_000_000)
}

impl App {
    /// The grant `sid` as its read model holds it.
    async fn oidc_session(&self, instance_id: &InstanceId, sid: &str) -> Result<Option<Arc<OidcSession>>, DomainError> {
        self.shared_doc(instance_id, Collection::OidcSession, sid).await
    }

    /// The access token `token` if it is active now.
    pub async fn active_access_token(
        &self,
        instance_id: &InstanceId,
        token: &str,
    ) -> Result<Option<ActiveToken>, DomainError> {
        let now = self.now();
        let (sid, key) = if let Some(sid) = grant::session_id_of(token) {
            (sid.to_owned(), self.keys.token_hash(token))
        } else {
            let Some(c) = self.verified_jwt(instance_id, token).await? else {
                return Ok(None);
            };
            let field = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
            (field("sid"), field("jti"))
        };
        if sid.is_empty() || key.is_empty() {
            return Ok(None);
        }
        let Some(s) = self.oidc_session(instance_id, &sid).await? else {
            return Ok(None);
        };
        Ok(s.active_access_token(&key, now).map(|(g, t)| ActiveToken {
            sid: sid.clone(),
            grant: g.clone(),
            token_id: t.id.clone(),
            scope: t.scope.clone(),
            expires_at: t.expires_at,
        }))
    }

    /// `GET/POST /oidc/v1/userinfo`: the claims, or None (401).
    pub async fn userinfo(&self, instance_id: &InstanceId, token: &str) -> Result<Option<UserInfo>, DomainError> {
        let Some(t) = self.active_access_token(instance_id, token).await? else {
            return Ok(None);
        };
        let user = self
            .shared_doc::<UserView>(instance_id, Collection::User, &t.grant.user_id)
            .await?;
        let Some(user) = user.filter(|u| u.state == UserState::Active) else {
            return Ok(None);
        };
        let org = self.claims_org(instance_id, &user, &t.scope).await?;
        Ok(Some(UserInfo {
            user,
            org,
            scope: t.scope,
        }))
    }

    /// `POST /oauth/v2/introspect`: the caller is an app (the token's own
    /// client, or an API or OIDC app of a project in the token's audience).
    pub async fn introspect(
        &self,
        instance_id: &InstanceId,
        issuer: &str,
        caller: &Presented,
        token: &str,
    ) -> Result<Result<Value, OAuthError>, DomainError> {
        let app = match self
            .authenticate_app(instance_id, caller, issuer, token::INTROSPECT_PATH)
            .await?
        {
            Ok(a) => a,
            Err(e) => return Ok(Err(e)),
        };
        let inactive = json!({"active": false});
        let Some(t) = self.active_access_token(instance_id, token).await? else {
            return Ok(Ok(inactive));
        };
        let aud = claims::audience(&t.grant);
        let allowed = t.grant.client_id == app.client_id.as_str() || aud.iter().any(|a| a == app.project_id.as_str());
        if !allowed {
            return Ok(Ok(inactive));
        }
        let mut out = Map::new();
        out.insert("active".into(), json!(true));
        out.insert("scope".into(), json!(t.scope.join(" ")));
        out.insert("client_id".into(), json!(t.grant.client_id));
        out.insert("token_type".into(), json!("Bearer"));
        out.insert("exp".into(), json!(secs(t.expires_at)));
        out.insert(
            "iat".into(),
            json!(secs(Timestamp(t.expires_at.0 - grant::ACCESS_TOKEN_US))),
        );
        out.insert("sub".into(), json!(t.grant.user_id));
        out.insert("aud".into(), json!(aud));
        out.insert("iss".into(), json!(issuer));
        out.insert("jti".into(), json!(t.token_id));
        if let Some(user) = self.user_claims(instance_id, &t.grant, &t.scope).await? {
            for (k, v) in user {
                out.entry(k).or_insert(v);
            }
        }
        Ok(Ok(Value::Object(out)))
    }

    /// `POST /oauth/v2/revoke`: a refresh token ends its grant, an access
    /// token only itself. Unknown tokens and tokens of other clients are
    /// answered like revoked ones (RFC 7009 §2.2).
    pub async fn revoke_token(
        &self,
        instance_id: &InstanceId,
        issuer: &str,
        caller: &Presented,
        token: &str,
    ) -> Result<Result<(), OAuthError>, DomainError> {
        let app = match self
            .authenticate_app(instance_id, caller, issuer, token::REVOKE_PATH)
            .await?
        {
            Ok(a) => a,
            Err(e) => return Ok(Err(e)),
        };
        if token.is_empty() {
            return Ok(Err(invalid_request("token missing")));
        }
        let client = app.client_id.as_str();
        let hash = self.keys.token_hash(token);
        let refresh_sid = grant::session_id_of(token).map(str::to_owned);
        let (sid, access_id) = match self.active_access_token(instance_id, token).await? {
            Some(t) => (t.sid, Some(t.token_id)),
            None => match refresh_sid {
                Some(sid) => (sid, None),
                None => return Ok(Ok(())),
            },
        };
        let agg = AggregateRef::oidc_session(&sid, instance_id);
        self.execute(instance_id, client, agg, |events| {
            let s = OidcSession::fold(events);
            if s.added.as_ref().is_none_or(|g| g.client_id != client) {
                return Ok(vec![]);
            }
            Ok(match &access_id {
                Some(id) => grant::decide_revoke_access_token(&s, id),
                None if s.refresh.as_ref().is_some_and(|r| r.hash == hash) => {
                    grant::decide_revoke(&s, REVOKED_BY_CLIENT)
                }
                None => vec![],
            })
        })
        .await?;
        Ok(Ok(()))
    }

    /// `GET /oidc/v1/end_session`: the ID token hint names the grant (its
    /// signature checked, its expiry not); the grant is revoked, its
    /// Session API session terminated, and the browser sent to a
    /// registered `post_logout_redirect_uri` with the state.
    pub async fn end_session(
        &self,
        instance_id: &InstanceId,
        id_token_hint: Option<&str>,
        post_logout_redirect_uri: Option<&str>,
        state: Option<&str>,
    ) -> Result<Result<SignedOut, OAuthError>, DomainError> {
        let Some(hint) = id_token_hint.filter(|h| !h.is_empty()) else {
            return Ok(Err(invalid_request("id_token_hint is required")));
        };
        let Some(c) = self.verified_jwt(instance_id, hint).await? else {
            return Ok(Err(invalid_request(
                "id_token_hint is not a valid ID token of this issuer",
            )));
        };
        let field = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
        let (sid, client_id) = (field("sid"), field("azp"));
        let app = self
            .app_by_client_id(instance_id, &ClientId::from(client_id.as_str()))
            .await?;
        let redirect = match post_logout_redirect_uri.filter(|u| !u.is_empty()) {
            None => None,
            Some(uri) => {
                let registered = app
                    .as_ref()
                    .and_then(|a| a.oidc())
                    .is_some_and(|o| o.post_logout_redirect_uris.iter().any(|r| r == uri));
                if !registered {
                    return Ok(Err(invalid_request(
                        "post_logout_redirect_uri is not registered for this client",
                    )));
                }
                Some(uri)
            }
        };
        let agg = AggregateRef::oidc_session(&sid, instance_id);
        let events = self.store.events(instance_id, &agg).await.map_err(store_error)?;
        let signed_in = OidcSession::fold(&events).added.map(|g| g.session_id);
        self.execute(instance_id, &client_id, agg, |events| {
            Ok(grant::decide_revoke(&OidcSession::fold(events), SIGNED_OUT))
        })
        .await?;
        if let Some(session_id) = signed_in.filter(|s| !s.is_empty()) {
            let agg = AggregateRef::session(&SessionId::from(session_id.as_str()), instance_id);
            self.execute(instance_id, &client_id, agg, |events| {
                Ok(session::decide_terminate(&SessionState::fold(events)))
            })
            .await?;
        }
        Ok(Ok(match redirect {
            Some(uri) => SignedOut::Redirect(crate::oidc::callback_url(
                uri,
                twofold_domain::oidc::auth_request::ResponseMode::Query,
                &[("state", state.unwrap_or(""))],
            )),
            None => SignedOut::Done,
        }))
    }
}
