//! The OIDC provider's use cases so far: the authorize endpoint stores an
//! auth request for a valid client; `GetAuthRequest` reads it; and
//! `CreateCallback` links a session that passes the door (the effective
//! login policy of the user's org, now) and issues a single-use code, or
//! fails the request with the login's error.

use twofold_domain::oidc::auth_request::{self, AuthRequestState, ResponseMode, SessionLinked};
use twofold_domain::oidc::authorize::{self, AuthorizeParams, Client, Refusal};
use twofold_domain::oidc::door::{self, Door};
use twofold_domain::readmodel::Collection;
use twofold_domain::readmodel::auth_request::AuthRequestView;
use twofold_domain::readmodel::directory::UserView;
use twofold_domain::readmodel::projects::{Activity, AppView, ProjectView};
use twofold_domain::readmodel::session::SessionView;
use twofold_domain::session::SessionState;
use twofold_domain::{AggregateRef, ClientId, DomainError, InstanceId, OrgId, SessionId, Timestamp};

use crate::auth::RequestCtx;
use crate::command::store_error;
use crate::{App, WriteDetails, secrets};

/// Where the OIDC endpoints live (flags `--external-url`, `--login-url`)
/// and how long an auth request waits (`--auth-request-lifetime`).
#[derive(Clone, Debug)]
pub struct OidcSettings {
    /// The issuer; None: the scheme, host and port of each request.
    pub external_url: Option<String>,
    /// Base URL of the login UI; None: `{issuer}/ui/login` (the hosted login).
    pub login_url: Option<String>,
    /// How long an auth request accepts its callback, in µs.
    pub auth_request_lifetime_us: i64,
}

impl Default for OidcSettings {
    fn default() -> Self {
        Self {
            external_url: None,
            login_url: None,
            auth_request_lifetime_us: twofold_domain::oidc::auth_request::DEFAULT_LIFETIME_US,
        }
    }
}

/// How the login finishes an auth request.
pub enum Callback {
    Session {
        session_id: SessionId,
        session_token: String,
    },
    Error {
        /// The proto `ErrorReason` number.
        reason: i32,
        description: Option<String>,
        uri: Option<String>,
    },
}

/// The OAuth `error` of a proto `ErrorReason` (spec §29.2).
fn error_name(reason: i32) -> &'static str {
    match reason {
        1 => "invalid_request",
        2 => "unauthorized_client",
        3 => "access_denied",
        4 => "unsupported_response_type",
        5 => "invalid_scope",
        7 => "temporarily_unavailable",
        8 => "interaction_required",
        9 => "login_required",
        10 => "account_selection_required",
        11 => "consent_required",
        12 => "invalid_request_uri",
        13 => "invalid_request_object",
        14 => "request_not_supported",
        15 => "request_uri_not_supported",
        16 => "registration_not_supported",
        _ => "server_error",
    }
}

/// `redirect_uri` with `params` in its query, or in its fragment.
/// (A form_post answer is carried in the query of the callback URL too:
/// the login hands the browser a URL, not a form.)
pub fn callback_url(redirect_uri: &str, mode: ResponseMode, params: &[(&str, &str)]) -> String {
    let params: Vec<(&str, &str)> = params.iter().filter(|(_, v)| !v.is_empty()).copied().collect();
    match url::Url::parse(redirect_uri) {
        Ok(mut u) if mode == ResponseMode::Fragment => {
            let encoded = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(params)
                .finish();
            u.set_fragment(Some(&encoded));
            u.to_string()
        }
        Ok(mut u) => {
            u.query_pairs_mut().extend_pairs(params);
            u.to_string()
        }
        // Registered URIs are validated when the app is saved; keep the
        // string as it is rather than invent another.
        Err(_) => redirect_uri.to_owned(),
    }
}

fn auth_request_missing() -> DomainError {
    DomainError::not_found("QUERY-Thee9", "Auth Request does not exist")
}

impl App {
    pub fn oidc_settings(&self) -> &OidcSettings {
        &self.config.oidc
    }

    /// The authorize endpoint: the ID of the stored auth request, or how
    /// the request is refused.
    pub async fn start_auth_request(
        &self,
        instance_id: &InstanceId,
        params: &AuthorizeParams,
        issuer: &str,
    ) -> Result<Result<String, Refusal>, DomainError> {
        let app = self
            .app_by_client_id(instance_id, &ClientId::from(params.client_id.as_str()))
            .await?;
        let client = match &app {
            Some(a) => Some(self.authorize_client(instance_id, a).await?),
            None => None,
        };
        let (client, config) = match authorize::check_client(client.as_ref(), params) {
            Ok(c) => c,
            Err(r) => return Ok(Err(r)),
        };
        let added = match authorize::decide(
            client,
            config,
            params,
            issuer,
            self.now(),
            self.oidc_settings().auth_request_lifetime_us,
        ) {
            Ok(a) => a,
            Err(r) => return Ok(Err(r)),
        };
        let id = format!("V2_{}", self.ids.next());
        self.create(
            instance_id,
            "",
            vec![(
                AggregateRef::auth_request(&id, instance_id),
                vec![twofold_domain::EventPayload::AuthRequestAdded(Box::new(added))],
            )],
            vec![],
        )
        .await
        .map_err(store_error)?;
        Ok(Ok(id))
    }

    async fn authorize_client<'a>(
        &self,
        instance_id: &InstanceId,
        app: &'a AppView,
    ) -> Result<Client<'a>, DomainError> {
        let project: Option<ProjectView> = self
            .typed_doc(instance_id, Collection::Project, app.project_id.as_str())
            .await?;
        let siblings: Vec<AppView> = self
            .typed_prefix(instance_id, Collection::App, &format!("{}:", app.project_id.as_str()))
            .await?;
        Ok(Client {
            app,
            project_active: project.is_some_and(|p| p.state == Activity::Active),
            project_client_ids: siblings.into_iter().map(|a| a.client_id.as_str().to_owned()).collect(),
        })
    }

    /// An open auth request; the declared check (`session.read`) on the instance.
    pub async fn get_auth_request(&self, ctx: &RequestCtx, id: &str) -> Result<AuthRequestView, DomainError> {
        self.require_on_instance(ctx).await?;
        let view: AuthRequestView = self
            .typed_doc(&ctx.instance_id, Collection::AuthRequest, id)
            .await?
            .ok_or_else(auth_request_missing)?;
        if view.exchanged || view.request.expires_at <= self.now() {
            return Err(auth_request_missing());
        }
        Ok(view)
    }

    /// Finishes an auth request; the declared check (`session.link`) on the
    /// instance. Returns the details and the URL to send the browser to.
    pub async fn create_callback(
        &self,
        ctx: &RequestCtx,
        id: &str,
        callback: Callback,
    ) -> Result<(WriteDetails, String), DomainError> {
        let agg = AggregateRef::auth_request(id, &ctx.instance_id);
        let events = self.store.events(&ctx.instance_id, &agg).await.map_err(store_error)?;
        let state = AuthRequestState::fold(&events);
        let handled = match callback {
            Callback::Session { .. } => "COMMAND-Sx208nt",
            Callback::Error { .. } => "COMMAND-Sx202nt",
        };
        // Existence and state first, then the caller (ZITADEL's order).
        auth_request::require_unhandled(&state, handled)?;
        self.require_on_instance(ctx).await?;
        let now = self.now();
        let request = auth_request::require_open(&state, now, handled)?.clone();
        let mode = ResponseMode::from_number(request.response_mode);
        let creator = ctx.caller.user_id.as_str();
        match callback {
            Callback::Error {
                reason,
                description,
                uri,
            } => {
                let details = self
                    .execute(&ctx.instance_id, creator, agg, |events| {
                        auth_request::decide_fail(&AuthRequestState::fold(events), now, reason)
                    })
                    .await?;
                let url = callback_url(
                    &request.redirect_uri,
                    mode,
                    &[
                        ("error", error_name(reason)),
                        ("error_description", description.as_deref().unwrap_or("")),
                        ("error_uri", uri.as_deref().unwrap_or("")),
                        ("state", &request.state),
                    ],
                );
                Ok((details, url))
            }
            Callback::Session {
                session_id,
                session_token,
            } => {
                let requested_at = events.first().map(|e| e.created_at).unwrap_or_default();
                let linked = self
                    .admit_session(ctx, &request, requested_at, &session_id, &session_token)
                    .await?;
                let code = secrets::random_token(32);
                let code_hash = self.keys.token_hash(&code);
                let details = self
                    .execute(&ctx.instance_id, creator, agg, |events| {
                        auth_request::decide_link(
                            &AuthRequestState::fold(events),
                            now,
                            linked.clone(),
                            code_hash.clone(),
                        )
                    })
                    .await?;
                let url = callback_url(
                    &request.redirect_uri,
                    mode,
                    &[("code", &code), ("state", &request.state)],
                );
                Ok((details, url))
            }
        }
    }

    /// The session's checks (spec §29.4), then the door: the session must
    /// satisfy its user's effective login policy now.
    async fn admit_session(
        &self,
        ctx: &RequestCtx,
        request: &auth_request::AuthRequestAdded,
        requested_at: Timestamp,
        session_id: &SessionId,
        token: &str,
    ) -> Result<SessionLinked, DomainError> {
        let missing = || DomainError::precondition("COMMAND-Flk38", "Session does not exist");
        let events = self
            .store
            .events(&ctx.instance_id, &AggregateRef::session(session_id, &ctx.instance_id))
            .await
            .map_err(store_error)?;
        let state = SessionState::fold(&events);
        if !state.exists {
            return Err(missing());
        }
        let now = self.now();
        state.require_usable(now)?;
        state.require_token(&self.keys.token_hash(token))?;
        let mut session: SessionView = self
            .typed_doc(&ctx.instance_id, Collection::Session, session_id.as_str())
            .await?
            .ok_or_else(missing)?;
        let (Some(user_id), Some(org_id)) = (session.user_id.clone(), session.user_org_id.clone()) else {
            return Err(DomainError::precondition(
                door::REFUSED,
                format!("session {session_id} has no checked user"),
            ));
        };
        let user: UserView = self
            .typed_doc(&ctx.instance_id, Collection::User, user_id.as_str())
            .await?
            .ok_or_else(|| DomainError::precondition(door::REFUSED, "the session's user no longer exists"))?;
        if let Some(pinned) = request.pinned_org()
            && pinned != org_id.as_str()
        {
            return Err(DomainError::precondition(
                door::REFUSED,
                format!("the auth request is for organization {pinned}; the session's user belongs to another"),
            ));
        }
        session.forget_password_checked_before(user.human().and_then(|h| h.password_changed_at));
        let policy = self
            .org_login_policy(&ctx.instance_id, &OrgId::from(org_id.as_str()))
            .await?;
        let amr = door::admit(&Door {
            session: &session,
            user_state: user.state,
            enrolled: &user.factors,
            policy: &policy,
            authenticated_since: door::authenticated_since(request.max_age, requested_at, now),
            now,
        })?;
        let auth_time = [
            session.password_checked_at,
            session.webauthn_checked_at,
            session.second_factor_at(),
        ]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(session.details.creation_date);
        Ok(SessionLinked {
            session_id: session_id.as_str().to_owned(),
            user_id: user_id.as_str().to_owned(),
            user_org_id: org_id.as_str().to_owned(),
            auth_time,
            amr: amr.iter().map(|a| a.as_str().to_owned()).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_urls_per_response_mode() {
        let q = callback_url(
            "https://app.example/cb?x=1",
            ResponseMode::Query,
            &[("code", "a b"), ("state", "s&t")],
        );
        assert_eq!(q, "https://app.example/cb?x=1&code=a+b&state=s%26t");
        let f = callback_url(
            "https://app.example/cb",
            ResponseMode::Fragment,
            &[("code", "c"), ("state", "")],
        );
        assert_eq!(f, "https://app.example/cb#code=c");
        assert_eq!(error_name(0), "server_error");
        assert_eq!(error_name(3), "access_denied");
    }
}
