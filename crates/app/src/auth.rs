//! Who is calling, in which instance and org, and may they. The rules are
//! ZITADEL's (its error ids included): instance by host, bearer personal
//! access token, `x-zitadel-orgid` for the org context, memberships → roles
//! → permissions (see `twofold_domain::permissions`).

use std::sync::Arc;

use crate::docs::internal_doc_error;
use twofold_domain::permissions::{self, Membership, On, Permission, ResourceCheck};
use twofold_domain::readmodel::Collection;
use twofold_domain::readmodel::directory::{
    InstanceDomainView, InstanceView, MemberView, OrgView, PatView, UserState, UserView,
};
use twofold_domain::readmodel::session::SessionView;
use twofold_domain::scope::Scope;
use twofold_domain::session;
use twofold_domain::{AggregateRef, DomainError, ErrorKind, InstanceId, OrgId, UserId};

use crate::App;
use crate::command::store_error;

/// The authenticated user behind a token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub user_id: UserId,
    /// The org the user belongs to.
    pub org_id: OrgId,
    /// The sign-in session, when the token is a session token.
    pub session: Option<Box<SessionView>>,
    /// The server's own hosted login (see [`crate::login_ui`]): granted the
    /// instance role IAM_LOGIN_CLIENT, with no stored user behind it.
    pub hosted_login: bool,
    /// How the user signed in, when the token is an OIDC access token of a
    /// sign-in (not of client credentials).
    pub oidc_amr: Option<Vec<String>>,
}

/// Everything a handler knows about the request's origin once it is allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestCtx {
    pub instance_id: InstanceId,
    pub caller: Caller,
    /// The org the call acts on: `x-zitadel-orgid`, else the caller's org.
    pub org_id: OrgId,
    /// What the called RPC declares its use case checks on the resource.
    pub check: Option<ResourceCheck>,
}

impl RequestCtx {
    /// The aggregate holding `scope`'s policies and members for this
    /// request: the instance, or the context org.
    pub fn scope_aggregate(&self, scope: Scope) -> AggregateRef {
        match scope {
            Scope::Instance => AggregateRef::instance(&self.instance_id),
            Scope::Org => AggregateRef::org(&self.org_id),
        }
    }
}

/// An RPC's auth option as its proto declares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MethodAuth {
    /// Checked on the org context before the handler runs; None: any valid
    /// token will do.
    pub permission: Option<Permission>,
    /// Reachable before force_mfa is satisfied (factor enrolment).
    pub enrolment: bool,
    /// Checked by the use case once it has found its resource (v2 APIs).
    pub check: Option<ResourceCheck>,
}

fn token_invalid() -> DomainError {
    DomainError::unauthenticated("AUTH-7fs1e", "Errors.Token.Invalid")
}

/// The token of an `authorization` value: exactly the scheme `Bearer` (any
/// case), whitespace, then one token. `xBearer t`, `Basic Bearer t` and
/// `Bearer t u` are refused; an empty token is an invalid token.
fn bearer_token(header: &str) -> Result<&str, DomainError> {
    let invalid = || DomainError::unauthenticated("AUTH-toLo1", "invalid auth header");
    let header = header.trim();
    let (scheme, token) = header
        .split_once(|c: char| c.is_ascii_whitespace())
        .unwrap_or((header, ""));
    let token = token.trim_start();
    if !scheme.eq_ignore_ascii_case("Bearer") || token.bytes().any(|b| b.is_ascii_whitespace()) {
        return Err(invalid());
    }
    Ok(token)
}

/// The host without a port, lower-cased (`[::1]:8080` → `::1`).
pub fn host_without_port(host: &str) -> String {
    let host = host.trim();
    let bare = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map_or(host, |(h, port)| {
            if port.chars().all(|c| c.is_ascii_digit()) {
                h
            } else {
                host
            }
        })
    };
    bare.to_ascii_lowercase()
}

impl App {
    /// The instance a request is for, from its Host (or `:authority`).
    pub async fn resolve_instance(&self, host: &str) -> Result<Arc<InstanceView>, DomainError> {
        let domain = host_without_port(host);
        if domain.is_empty() {
            return Err(DomainError::new(ErrorKind::NotFound, "", "no instanceHost specified"));
        }
        let not_found = || {
            DomainError::new(
                ErrorKind::NotFound,
                "",
                format!(
                    "unable to set instance using origin {domain}: ID=QUERY-1kIjX Message=Instance not found. \
                     Make sure you got the domain right."
                ),
            )
        };
        let Some(d) = self
            .store
            .doc_any_instance(Collection::InstanceDomain, &domain)
            .await
            .map_err(store_error)?
        else {
            return Err(not_found());
        };
        let d: Arc<InstanceDomainView> = self
            .parsed
            .get(&d)
            .map_err(|e| internal_doc_error(Collection::InstanceDomain, e))?;
        self.shared_doc(&d.instance_id, Collection::Instance, d.instance_id.as_str())
            .await?
            .ok_or_else(not_found)
    }

    /// The caller behind an `authorization` header value.
    pub async fn authenticate(&self, instance_id: &InstanceId, header: Option<&str>) -> Result<Caller, DomainError> {
        let header = header.ok_or_else(|| DomainError::new(ErrorKind::Unauthenticated, "", "auth header missing"))?;
        let token = bearer_token(header)?;
        if token.is_empty() {
            return Err(token_invalid());
        }
        let mut oidc_amr = None;
        let (user_id, session) = match self.oidc_bearer(instance_id, token).await? {
            Some((user_id, amr)) => {
                oidc_amr = amr;
                (user_id, None)
            }
            None => self.pat_or_session(instance_id, token).await?,
        };
        let user: UserView = self
            .typed_doc(instance_id, Collection::User, user_id.as_str())
            .await?
            .filter(|u: &UserView| u.state == UserState::Active)
            .ok_or_else(token_invalid)?;
        Ok(Caller {
            user_id: user.id,
            org_id: user.org_id,
            session,
            hosted_login: false,
            oidc_amr,
        })
    }

    /// The user of an OIDC access token meant for Twofold's APIs (its
    /// audience names them), and its `amr` when it comes from a sign-in.
    /// None when the token is no active OIDC access token.
    async fn oidc_bearer(
        &self,
        instance_id: &InstanceId,
        token: &str,
    ) -> Result<Option<(UserId, Option<Vec<String>>)>, DomainError> {
        let shaped = twofold_domain::oidc::session::session_id_of(token).is_some() || token.split('.').count() == 3;
        if !shaped {
            return Ok(None);
        }
        let Some(t) = self.active_access_token(instance_id, token).await? else {
            return Ok(None);
        };
        let for_us = twofold_domain::oidc::claims::audience(&t.grant)
            .iter()
            .any(|a| a == crate::token_use::OWN_API_AUDIENCE);
        if !for_us {
            return Err(token_invalid());
        }
        let amr = (!t.grant.session_id.is_empty()).then_some(t.grant.amr);
        Ok(Some((UserId::from(t.grant.user_id.as_str()), amr)))
    }

    /// The user (and session) of a personal access token or session token.
    async fn pat_or_session(
        &self,
        instance_id: &InstanceId,
        token: &str,
    ) -> Result<(UserId, Option<Box<SessionView>>), DomainError> {
        let hash = self.keys.token_hash(token);
        let now = self.now();
        let pat: Option<PatView> = self
            .typed_lookup(instance_id, Collection::Pat, &hash)
            .await?
            .into_iter()
            .next();
        let (user_id, session) = match pat {
            Some(p) if p.expiration > now => (p.user_id, None),
            Some(_) => return Err(token_invalid()),
            None => {
                let session: SessionView = self
                    .typed_lookup(instance_id, Collection::Session, &hash)
                    .await?
                    .into_iter()
                    .next()
                    .ok_or_else(token_invalid)?;
                if session.expiration.is_some_and(|e| e <= now) {
                    return Err(DomainError::permission_denied("AUTHZ-EGDo3", "session expired"));
                }
                let user_id = session.user_id.clone().ok_or_else(token_invalid)?;
                (user_id, Some(Box::new(session)))
            }
        };
        Ok((user_id, session))
    }

    /// Settles the org context and checks the method's permission there. A
    /// session token must also satisfy the login policy's force_mfa, except
    /// for `enrolment` calls (so a user forced into MFA can enrol a factor).
    pub async fn authorize(
        &self,
        instance_id: &InstanceId,
        caller: Caller,
        org_header: Option<&str>,
        method: &MethodAuth,
    ) -> Result<RequestCtx, DomainError> {
        if let Some(session) = &caller.session {
            self.require_sign_in(instance_id, &caller, session, method.enrolment)
                .await?;
        }
        if let Some(amr) = caller.oidc_amr.as_ref().filter(|_| !method.enrolment) {
            let policy = self.org_login_policy(instance_id, &caller.org_id).await?.settings;
            session::access::require_grant_mfa(amr, Some(&policy))?;
        }
        let org_id = match org_header.map(str::trim).filter(|h| !h.is_empty()) {
            Some(org) => {
                let exists = self
                    .typed_doc::<OrgView>(instance_id, Collection::Org, org)
                    .await?
                    .is_some();
                if !exists {
                    return Err(twofold_domain::org::unknown_org());
                }
                OrgId::from(org)
            }
            None => caller.org_id.clone(),
        };
        if let Some(permission) = method.permission {
            let memberships = self.memberships(instance_id, &caller.user_id).await?;
            permissions::check(&memberships, On::Org(&org_id), permission)?;
        }
        Ok(RequestCtx {
            instance_id: instance_id.clone(),
            caller,
            org_id,
            check: method.check,
        })
    }
}

impl App {
    /// A session used as a bearer token must carry a first factor, and a
    /// recent second factor when the user's effective policy forces MFA.
    async fn require_sign_in(
        &self,
        instance_id: &InstanceId,
        caller: &Caller,
        s: &SessionView,
        enrolment: bool,
    ) -> Result<(), DomainError> {
        let policy = if enrolment {
            None
        } else {
            Some(self.org_login_policy(instance_id, &caller.org_id).await?.settings)
        };
        session::access::require_sign_in(s, policy.as_ref(), self.now())
    }

    pub(crate) async fn memberships(
        &self,
        instance_id: &InstanceId,
        user_id: &UserId,
    ) -> Result<Vec<Membership>, DomainError> {
        Ok(self
            .typed_lookup::<MemberView>(instance_id, Collection::Member, user_id.as_str())
            .await?
            .iter()
            .map(MemberView::membership)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::{bearer_token, host_without_port};

    #[test]
    fn bearer_scheme() {
        assert_eq!(bearer_token("Bearer abc"), Ok("abc"));
        assert_eq!(bearer_token("bearer  abc"), Ok("abc"));
        assert_eq!(bearer_token("BEARER\tabc"), Ok("abc"));
        assert_eq!(bearer_token("Bearer "), Ok(""));
        for bad in [
            "xBearer abc",
            "Basic Bearer abc",
            "Bearerabc",
            "Bearer abc def",
            "abc",
            "Bearer\u{a0}abc",
        ] {
            assert_eq!(bearer_token(bad).unwrap_err().id, "AUTH-toLo1", "{bad}");
        }
    }

    #[test]
    fn hosts() {
        assert_eq!(host_without_port("localhost:8080"), "localhost");
        assert_eq!(host_without_port("Example.COM"), "example.com");
        assert_eq!(host_without_port("[::1]:8080"), "::1");
        assert_eq!(host_without_port("127.0.0.1"), "127.0.0.1");
    }
}
