//! The token endpoint (`POST /oauth/v2/token`): the client authenticates
//! the way it registered, then a grant — authorization code (+ PKCE),
//! refresh token (rotating; a reused one revokes the family) or client
//! credentials (machine users and API apps) — starts or continues an
//! `oidc_session`. Opaque tokens are stored as keyed hashes; ID tokens are
//! signed RS256, JWT access tokens ES256.

use std::sync::Arc;

use twofold_domain::oidc::claims::{self, IdToken};
use twofold_domain::oidc::keys::Signs;
use twofold_domain::oidc::scopes;
use twofold_domain::oidc::session::{
    self as grant, AccessTokenAdded, OidcSession, OidcSessionAdded, REUSED_CODE, Refresh, RefreshTokenAdded,
};
use twofold_domain::oidc::token::{
    self, CodeGrant, CodeUse, OAuthCode, OAuthError, Presented, Proof, Registered, invalid_client, invalid_grant,
    invalid_request,
};
use twofold_domain::oidc_config::{GrantType, TokenType};
use twofold_domain::readmodel::Collection;
use twofold_domain::readmodel::auth_request::AuthRequestView;
use twofold_domain::readmodel::directory::{OrgView, UserKind, UserView};
use twofold_domain::readmodel::projects::{Activity, AppConfigView, AppView, ProjectView};
use twofold_domain::{AggregateRef, ClientId, DomainError, EventPayload as E, InstanceId, OrgId};

use crate::App;
use crate::command::{Decision, history, store_error};
use crate::secrets;

/// A token request as the transport parsed it.
pub struct TokenRequest {
    pub grant_type: String,
    pub client: Presented,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
}

/// A successful answer (RFC 6749 §5.1).
#[derive(Debug)]
pub struct Issued {
    pub access_token: String,
    pub expires_in: i64,
    pub refresh_token: Option<String>,
    pub id_token: Option<String>,
}

/// The answer of a token request: tokens, or an OAuth error.
pub type Answer = Result<Issued, OAuthError>;

/// A fresh opaque token of grant `sid` and its keyed hash.
fn opaque(app: &App, sid: &str) -> (String, String) {
    let token = format!("{sid}.{}", secrets::random_token(32));
    let hash = app.keys.token_hash(&token);
    (token, hash)
}

/// The tokens a step of a grant hands out, made before its events.
struct NewAccess {
    token: String,
    event: AccessTokenAdded,
}

impl App {
    fn new_sid(&self) -> String {
        format!("V2_{}", self.ids.next())
    }

    /// A new access token of `g` (JWT when `jwt`, else opaque).
    async fn new_access_token(
        &self,
        instance_id: &InstanceId,
        issuer: &str,
        sid: &str,
        g: &OidcSessionAdded,
        jwt: bool,
        reason: &str,
    ) -> Result<NewAccess, DomainError> {
        let now = self.now();
        let id = format!("at_{}", self.ids.next());
        let (token, hash) = if jwt {
            let c = claims::jwt_access_token(issuer, g, sid, &id, now);
            (self.sign_jwt(instance_id, Signs::AccessToken, &c).await?, None)
        } else {
            let (t, h) = opaque(self, sid);
            (t, Some(h))
        };
        Ok(NewAccess {
            token,
            event: AccessTokenAdded::new(id, g.scope.clone(), reason, hash, now),
        })
    }

    /// The app a request presents, if it proves itself the way it
    /// registered and may be used (active, in an active project). A client
    /// assertion names its client in `sub` and must be meant for `issuer`
    /// or the URL of `endpoint` (a path under it).
    pub(crate) async fn authenticate_app(
        &self,
        instance_id: &InstanceId,
        presented: &Presented,
        issuer: &str,
        endpoint: &str,
    ) -> Result<Answered<AppView>, DomainError> {
        let client_id = match presented {
            Presented::Assertion { assertion } => crate::app_keys::assertion_subject(assertion),
            other => other.client_id().map(str::to_owned),
        };
        let Some(client_id) = client_id else {
            return Ok(Err(invalid_client("client assertion invalid")));
        };
        let app = self
            .app_by_client_id(instance_id, &ClientId::from(client_id.as_str()))
            .await?;
        let Some(app) = app else {
            // Hashed anyway: the time taken does not tell whether it exists.
            self.keys.verify_client_secret("", "");
            return Ok(Err(invalid_client("client not found")));
        };
        let registered = match &app.config {
            Some(AppConfigView::Oidc(c)) => Registered::Oidc(c.auth_method),
            Some(AppConfigView::Api(m)) => Registered::Api(*m),
            None => return Ok(Err(invalid_client("client not found"))),
        };
        match token::proof(registered, presented) {
            Err(e) => return Ok(Err(e)),
            Ok(Proof::Secret(secret)) => {
                if !self
                    .keys
                    .verify_client_secret(secret, app.hashed_secret.as_deref().unwrap_or(""))
                {
                    return Ok(Err(invalid_client("invalid secret")));
                }
            }
            Ok(Proof::Assertion(assertion)) => {
                if let Err(e) = self
                    .check_client_assertion(instance_id, issuer, endpoint, &app, assertion)
                    .await?
                {
                    return Ok(Err(e));
                }
            }
            Ok(Proof::Nothing) => {}
        }
        let project_active = self
            .typed_doc::<ProjectView>(instance_id, Collection::Project, app.project_id.as_str())
            .await?
            .is_some_and(|p| p.state == Activity::Active);
        if app.state != Activity::Active || !project_active {
            return Ok(Err(invalid_client("client is not active")));
        }
        Ok(Ok(app))
    }

    /// `POST /oauth/v2/token`.
    pub async fn token(
        &self,
        instance_id: &InstanceId,
        issuer: &str,
        req: TokenRequest,
    ) -> Result<Answer, DomainError> {
        match req.grant_type.as_str() {
            "authorization_code" => self.code_grant(instance_id, issuer, &req).await,
            "refresh_token" => self.refresh_grant(instance_id, issuer, &req).await,
            "client_credentials" => self.client_credentials(instance_id, issuer, &req).await,
            "" => Ok(Err(invalid_request("grant_type missing"))),
            other => Ok(Err(OAuthError::new(
                OAuthCode::UnsupportedGrantType,
                format!("grant_type {other:?} is not supported"),
            ))),
        }
    }

    async fn oidc_app(
        &self,
        instance_id: &InstanceId,
        issuer: &str,
        presented: &Presented,
        grant_type: GrantType,
        name: &str,
    ) -> Result<Answered<AppView>, DomainError> {
        let app = match self
            .authenticate_app(instance_id, presented, issuer, token::TOKEN_PATH)
            .await?
        {
            Ok(a) => a,
            Err(e) => return Ok(Err(e)),
        };
        if !app.oidc().is_some_and(|c| c.grant_types.contains(&grant_type)) {
            return Ok(Err(OAuthError::new(
                OAuthCode::UnauthorizedClient,
                format!("grant_type \"{name}\" not allowed"),
            )));
        }
        Ok(Ok(app))
    }

    async fn code_grant(
        &self,
        instance_id: &InstanceId,
        issuer: &str,
        req: &TokenRequest,
    ) -> Result<Answer, DomainError> {
        let app = match self
            .oidc_app(
                instance_id,
                issuer,
                &req.client,
                GrantType::AuthorizationCode,
                "authorization_code",
            )
            .await?
        {
            Ok(a) => a,
            Err(e) => return Ok(Err(e)),
        };
        let Some(code) = req.code.as_deref().filter(|c| !c.is_empty()) else {
            return Ok(Err(invalid_request("code missing")));
        };
        let found: Vec<AuthRequestView> = self
            .typed_lookup(instance_id, Collection::AuthRequest, &self.keys.token_hash(code))
            .await?;
        let Some(request) = found.into_iter().next() else {
            return Ok(Err(invalid_grant("invalid code")));
        };
        let now = self.now();
        let client_id = app.client_id.as_str();
        let redirect_uri = req.redirect_uri.as_deref().unwrap_or("");
        let exchange = CodeGrant {
            client_id,
            redirect_uri,
            code_verifier: req.code_verifier.as_deref(),
            now,
        };
        let request_ref = AggregateRef::auth_request(&request.id, instance_id);
        let events = self
            .store
            .events(instance_id, &request_ref)
            .await
            .map_err(store_error)?;
        let sid = self.new_sid();
        let state = twofold_domain::oidc::auth_request::AuthRequestState::fold(&events);
        let (request, linked) = match token::decide_exchange(&state, &exchange, &sid) {
            Err(e) => return Ok(Err(e)),
            Ok(CodeUse::Again { oidc_session_id }) => {
                let agg = AggregateRef::oidc_session(&oidc_session_id, instance_id);
                self.execute(instance_id, client_id, agg, |events| {
                    Ok(grant::decide_revoke(&OidcSession::fold(events), REUSED_CODE))
                })
                .await?;
                return Ok(Err(invalid_grant("code has been used already: its tokens are revoked")));
            }
            Ok(CodeUse::First { request, linked, .. }) => (request, linked),
        };
        let config = app.oidc();
        let g = OidcSessionAdded {
            user_id: linked.user_id.clone(),
            user_resource_owner: linked.user_org_id.clone(),
            session_id: linked.session_id.clone(),
            client_id: client_id.to_owned(),
            audience: request.audience.clone(),
            scope: request.scope.clone(),
            amr: linked.amr.clone(),
            auth_time: linked.auth_time,
            nonce: request.nonce.clone(),
        };
        let jwt = config.is_some_and(|c| c.access_token_type == TokenType::Jwt);
        let access = self
            .new_access_token(instance_id, issuer, &sid, &g, jwt, "auth_code")
            .await?;
        let refresh = (request.need_refresh_token
            && config.is_some_and(|c| c.grant_types.contains(&GrantType::RefreshToken)))
        .then(|| opaque(self, &sid));
        let mut grant_events = vec![
            E::OidcSessionAdded(Box::new(g.clone())),
            E::AccessTokenAdded(access.event.clone()),
        ];
        if let Some((_, hash)) = &refresh {
            grant_events.push(E::RefreshTokenAdded(RefreshTokenAdded::new(
                format!("rt_{}", self.ids.next()),
                hash.clone(),
                now,
            )));
        }
        let grant_ref = AggregateRef::oidc_session(&sid, instance_id);
        let (_, outcome) = self
            .execute_many_with(instance_id, client_id, vec![request_ref, grant_ref], |loaded| {
                let state = twofold_domain::oidc::auth_request::AuthRequestState::fold(history(loaded, 0));
                match token::decide_exchange(&state, &exchange, &sid) {
                    Ok(CodeUse::First { events, .. }) => Ok((
                        Decision {
                            events: vec![events, grant_events.clone()],
                            ..Decision::default()
                        },
                        Ok(()),
                    )),
                    // Lost a race with another exchange of the same code.
                    Ok(CodeUse::Again { .. }) => Ok((Decision::default(), Err(invalid_grant("invalid code")))),
                    Err(e) => Ok((Decision::default(), Err(e))),
                }
            })
            .await?;
        if let Err(e) = outcome {
            return Ok(Err(e));
        }
        let id_token = self
            .id_token(instance_id, issuer, &app, &sid, &g, Some(&access.token))
            .await?;
        Ok(Ok(Issued {
            access_token: access.token,
            expires_in: grant::ACCESS_TOKEN_US / 1_000_000,
            refresh_token: refresh.map(|(t, _)| t),
            id_token,
        }))
    }

    /// An ID token when the grant asked for `openid`.
    async fn id_token(
        &self,
        instance_id: &InstanceId,
        issuer: &str,
        app: &AppView,
        sid: &str,
        g: &OidcSessionAdded,
        access_token: Option<&str>,
    ) -> Result<Option<String>, DomainError> {
        if !g.scope.iter().any(|s| s == "openid") {
            return Ok(None);
        }
        let user = match app.oidc().is_some_and(|c| c.id_token_userinfo_assertion) {
            true => self.user_claims(instance_id, g, &g.scope).await?,
            false => None,
        };
        let c = claims::id_token(IdToken {
            issuer,
            grant: g,
            sid,
            access_token,
            user,
            now: self.now(),
        });
        Ok(Some(self.sign_jwt(instance_id, Signs::IdToken, &c).await?))
    }

    /// The claims of the grant's user for `scope` (the token's, which a
    /// refresh may have narrowed; None: no such user).
    pub(crate) async fn user_claims(
        &self,
        instance_id: &InstanceId,
        g: &OidcSessionAdded,
        scope: &[String],
    ) -> Result<Option<serde_json::Map<String, serde_json::Value>>, DomainError> {
        let Some(user) = self
            .typed_doc::<UserView>(instance_id, Collection::User, &g.user_id)
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(self.claims_of(instance_id, &user, scope).await?))
    }

    /// The claims of `user` that `scope` asks for.
    pub(crate) async fn claims_of(
        &self,
        instance_id: &InstanceId,
        user: &UserView,
        scope: &[String],
    ) -> Result<serde_json::Map<String, serde_json::Value>, DomainError> {
        let org = self.claims_org(instance_id, user, scope).await?;
        Ok(claims::user_claims(user, org.as_deref(), scope))
    }

    /// The user's org if `scope` asks for its claims.
    pub(crate) async fn claims_org(
        &self,
        instance_id: &InstanceId,
        user: &UserView,
        scope: &[String],
    ) -> Result<Option<Arc<OrgView>>, DomainError> {
        if !claims::needs_org(scope) {
            return Ok(None);
        }
        self.shared_doc(instance_id, Collection::Org, user.org_id.as_str())
            .await
    }

    async fn refresh_grant(
        &self,
        instance_id: &InstanceId,
        issuer: &str,
        req: &TokenRequest,
    ) -> Result<Answer, DomainError> {
        let app = match self
            .oidc_app(
                instance_id,
                issuer,
                &req.client,
                GrantType::RefreshToken,
                "refresh_token",
            )
            .await?
        {
            Ok(a) => a,
            Err(e) => return Ok(Err(e)),
        };
        let presented = req.refresh_token.as_deref().unwrap_or("");
        let Some(sid) = grant::session_id_of(presented) else {
            return Ok(Err(invalid_grant("invalid refresh token")));
        };
        let agg = AggregateRef::oidc_session(sid, instance_id);
        let events = self.store.events(instance_id, &agg).await.map_err(store_error)?;
        let Some(mut g) = OidcSession::fold(&events).added else {
            return Ok(Err(invalid_grant("invalid refresh token")));
        };
        if g.client_id != app.client_id.as_str() {
            return Ok(Err(invalid_grant("invalid refresh token")));
        }
        // The new tokens carry the narrowed scope; the grant keeps its own.
        g.scope = match scopes::narrowed(&g.scope, req.scope.as_deref()) {
            Ok(s) => s,
            Err(e) => return Ok(Err(e)),
        };
        let client_id = app.client_id.as_str();
        let jwt = app.oidc().is_some_and(|c| c.access_token_type == TokenType::Jwt);
        let access = self
            .new_access_token(instance_id, issuer, sid, &g, jwt, "refresh")
            .await?;
        let (next, next_hash) = opaque(self, sid);
        let hash = self.keys.token_hash(presented);
        let now = self.now();
        let rt_id = format!("rt_{}", self.ids.next());
        let (_, outcome) = self
            .execute_many_with(instance_id, client_id, vec![agg], |loaded| {
                let s = OidcSession::fold(history(loaded, 0));
                let decided = grant::decide_refresh(
                    &s,
                    &hash,
                    client_id,
                    now,
                    (rt_id.clone(), next_hash.clone()),
                    access.event.clone(),
                );
                Ok(match decided {
                    Ok(Refresh::Rotate(events)) => (Decision::one(events), Ok(())),
                    Ok(Refresh::Reused(events)) => (
                        Decision::one(events),
                        Err(invalid_grant("refresh token reused: the grant is revoked")),
                    ),
                    Err(e) => (Decision::default(), Err(e)),
                })
            })
            .await?;
        if let Err(e) = outcome {
            return Ok(Err(e));
        }
        let id_token = self
            .id_token(instance_id, issuer, &app, sid, &g, Some(&access.token))
            .await?;
        Ok(Ok(Issued {
            access_token: access.token,
            expires_in: grant::ACCESS_TOKEN_US / 1_000_000,
            refresh_token: Some(next),
            id_token,
        }))
    }

    /// Client credentials: a machine user (client ID = its login name,
    /// its machine secret) or an API app (the app is the subject).
    async fn client_credentials(
        &self,
        instance_id: &InstanceId,
        issuer: &str,
        req: &TokenRequest,
    ) -> Result<Answer, DomainError> {
        let scope = scopes::filter(req.scope.as_deref().unwrap_or(""));
        let (id, secret) = match &req.client {
            Presented::Basic { id, secret } | Presented::Post { id, secret } => (id.as_str(), secret.as_str()),
            Presented::Public { .. } => return Ok(Err(invalid_client("empty client secret"))),
            // Only apps have keys: an API app with private_key_jwt.
            Presented::Assertion { .. } => {
                let app = match self
                    .authenticate_app(instance_id, &req.client, issuer, token::TOKEN_PATH)
                    .await?
                {
                    Ok(a) if matches!(a.config, Some(AppConfigView::Api(_))) => a,
                    Ok(_) => {
                        return Ok(Err(OAuthError::new(
                            OAuthCode::UnauthorizedClient,
                            "grant_type \"client_credentials\" not allowed",
                        )));
                    }
                    Err(e) => return Ok(Err(e)),
                };
                let id = app.client_id.as_str();
                return Ok(Ok(self
                    .issue_client_credentials(instance_id, issuer, id, id.to_owned(), &app.org_id, scope, false)
                    .await?));
            }
        };
        let app = self.app_by_client_id(instance_id, &ClientId::from(id)).await?;
        let (user_id, org_id, jwt) = if app
            .as_ref()
            .is_some_and(|a| matches!(a.config, Some(AppConfigView::Api(_))))
        {
            match self
                .authenticate_app(instance_id, &req.client, issuer, token::TOKEN_PATH)
                .await?
            {
                Ok(a) => (a.client_id.as_str().to_owned(), a.org_id, false),
                Err(e) => return Ok(Err(e)),
            }
        } else {
            match self.verify_machine_secret(instance_id, id, secret).await {
                Ok(user_id) => {
                    let user: Option<UserView> =
                        self.typed_doc(instance_id, Collection::User, user_id.as_str()).await?;
                    let Some(user) = user else {
                        return Ok(Err(invalid_client("invalid secret")));
                    };
                    let jwt = matches!(
                        user.kind,
                        UserKind::Machine {
                            access_token_type: 1,
                            ..
                        }
                    );
                    (user_id.as_str().to_owned(), user.org_id, jwt)
                }
                Err(e) if e.kind == twofold_domain::ErrorKind::FailedPrecondition => {
                    return Ok(Err(invalid_client("invalid secret")));
                }
                Err(e) => return Err(e),
            }
        };
        Ok(Ok(self
            .issue_client_credentials(instance_id, issuer, id, user_id, &org_id, scope, jwt)
            .await?))
    }

    #[expect(clippy::too_many_arguments, reason = "one grant's parts, each named")]
    async fn issue_client_credentials(
        &self,
        instance_id: &InstanceId,
        issuer: &str,
        client_id: &str,
        user_id: String,
        org_id: &OrgId,
        scope: Vec<String>,
        jwt: bool,
    ) -> Result<Issued, DomainError> {
        // An org scope for another org than the subject's is dropped (spec §28.3).
        let scope: Vec<String> = scope
            .into_iter()
            .filter(|s| {
                s.strip_prefix(scopes::ORG_ID_PREFIX)
                    .is_none_or(|id| id == org_id.as_str())
            })
            .collect();
        let mut audience = vec![client_id.to_owned()];
        audience.extend(scopes::audience_projects(&scope));
        let now = self.now();
        let g = OidcSessionAdded {
            user_id,
            user_resource_owner: org_id.as_str().to_owned(),
            session_id: String::new(),
            client_id: client_id.to_owned(),
            audience,
            scope,
            amr: vec!["pwd".into()],
            auth_time: now,
            nonce: String::new(),
        };
        let sid = self.new_sid();
        let access = self
            .new_access_token(instance_id, issuer, &sid, &g, jwt, "client_credentials")
            .await?;
        self.create(
            instance_id,
            &g.user_id,
            vec![(
                AggregateRef::oidc_session(&sid, instance_id),
                vec![
                    E::OidcSessionAdded(Box::new(g.clone())),
                    E::AccessTokenAdded(access.event),
                ],
            )],
            vec![],
        )
        .await
        .map_err(store_error)?;
        Ok(Issued {
            access_token: access.token,
            expires_in: grant::ACCESS_TOKEN_US / 1_000_000,
            refresh_token: None,
            id_token: None,
        })
    }
}

/// A result that is either the thing asked for or the OAuth refusal.
type Answered<T> = Result<T, OAuthError>;
