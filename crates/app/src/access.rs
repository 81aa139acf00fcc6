//! Authorization by construction. A use case reaches a user (and what hangs
//! off it: factors, authentication methods, tokens) or a session only
//! through the checks here, which hand it out as [`Authorized`], a value
//! nothing else can make; user writes ([`App::on_user`]) take one. Each
//! check asks for the caller's permission on the resource's owning org: for
//! the v2 APIs the one the RPC declares in its proto auth option
//! ([`RequestCtx::check`]). A resource the caller may not see is answered
//! with the use case's own "not found" error, exactly like one that does not
//! exist.

use std::ops::Deref;

use twofold_domain::permissions::{self, CheckedOn, Membership, On, Permission, ResourceCheck, SESSION_READ};
use twofold_domain::readmodel::Collection;
use twofold_domain::readmodel::directory::UserView;
use twofold_domain::readmodel::session::SessionView;
use twofold_domain::{DomainError, ErrorKind, OrgId, SessionId, UserId};

use crate::App;
use crate::auth::RequestCtx;

/// A resource the caller was found allowed to see. Only this module makes one.
#[derive(Debug)]
pub struct Authorized<T>(T);

impl<T> Authorized<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Authorized<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// The caller's memberships, read once per request and asked per org.
pub(crate) struct Grants<'a> {
    ctx: &'a RequestCtx,
    memberships: Vec<Membership>,
}

impl Grants<'_> {
    pub(crate) fn has(&self, on: On<'_>, permission: Permission) -> bool {
        permissions::check(&self.memberships, on, permission).is_ok()
    }

    /// `permission` `on` the instance or an org, reported as an in-command check.
    pub(crate) fn require(&self, on: On<'_>, permission: Permission) -> Result<(), DomainError> {
        permissions::check(&self.memberships, on, permission).map_err(in_command)
    }

    /// The declared `check` on `user`, reported as an in-command check.
    fn require_on_user(&self, check: &ResourceCheck, user: &UserView) -> Result<(), DomainError> {
        permissions::check_resource(
            &self.memberships,
            check,
            On::Org(&user.org_id),
            self.is_caller(&user.id),
        )
        .map_err(in_command)
    }

    fn is_caller(&self, user_id: &UserId) -> bool {
        self.ctx.caller.user_id == *user_id
    }

    /// Whether the request reaches `user` (see [`Reach`]).
    pub(crate) fn sees_user(&self, user: &UserView, reach: Reach) -> bool {
        match reach {
            Reach::ContextOrg(permission) => {
                user.org_id == self.ctx.org_id && self.has(On::Org(&user.org_id), permission)
            }
            Reach::Readable => {
                permissions::sees_user(&self.memberships, &self.ctx.caller.user_id, &user.id, &user.org_id)
            }
        }
    }

    /// Whether the caller may read `s` by `read` (see [`permissions::sees_session`]).
    fn reads_session(&self, s: &SessionView, read: &ResourceCheck) -> bool {
        let no_org = OrgId::default();
        let user = s
            .user_id
            .as_ref()
            .map(|id| (id, s.user_org_id.as_ref().unwrap_or(&no_org)));
        permissions::sees_session(&self.memberships, read, &self.ctx.caller.user_id, &s.creator, user)
    }
}

/// The users a v2 listing may show (see [`App::user_scope`]).
#[derive(Debug)]
pub(crate) struct UserScope {
    /// None: every org.
    pub orgs: Option<Vec<OrgId>>,
    /// The caller and its org, when it is visible and not in `orgs`.
    pub caller: Option<(UserId, OrgId)>,
}

/// How a request was allowed to act on a session.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SessionAccess<'t> {
    /// By the session's token, which the use case must compare.
    Token(&'t str),
    /// By the caller's relation to the session (its permission, or being its user).
    Caller,
}

/// A lack of permission as ZITADEL's v2 in-command checks report it
/// (`AUTH-AWfge`; no membership at all stays `AUTHZ-cdgFk`).
fn in_command(e: DomainError) -> DomainError {
    if e.kind == ErrorKind::PermissionDenied {
        not_permitted()
    } else {
        e
    }
}

/// `token`, when the RPC accepts a session's token in place of its check
/// and the request carries one.
pub(crate) fn session_token<'t>(ctx: &RequestCtx, token: Option<&'t str>) -> Result<Option<&'t str>, DomainError> {
    let check = declared(ctx, CheckedOn::SessionUser)?;
    Ok(token.filter(|t| check.session_token && !t.is_empty()))
}

/// ZITADEL's v2 in-command refusal.
pub(crate) fn not_permitted() -> DomainError {
    DomainError::permission_denied("AUTH-AWfge", "No matching permissions found")
}

/// The check the called RPC declares for a use case that resolves its org
/// as `on`. A method that declares none (or another) is a defect of the
/// proto options: refused rather than let through unchecked.
fn declared(ctx: &RequestCtx, on: CheckedOn) -> Result<ResourceCheck, DomainError> {
    ctx.check.filter(|c| c.on == on).ok_or_else(|| {
        tracing::error!(?on, declared = ?ctx.check, "RPC declares no matching resource check");
        DomainError::internal("AUTHZ-NoChk", "An internal error occurred")
    })
}

/// Which users a request reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reach {
    /// Management API v1: users of the context org, with this permission there.
    ContextOrg(Permission),
    /// The v2 APIs: the caller itself, and users of orgs where it has `user.read`.
    Readable,
}

impl App {
    pub(crate) async fn grants<'a>(&self, ctx: &'a RequestCtx) -> Result<Grants<'a>, DomainError> {
        let memberships = if ctx.caller.hosted_login {
            crate::login_ui::memberships()
        } else {
            self.memberships(&ctx.instance_id, &ctx.caller.user_id).await?
        };
        Ok(Grants { ctx, memberships })
    }

    /// The user `user_id` if the request reaches it, else `missing`.
    pub(crate) async fn visible_user(
        &self,
        ctx: &RequestCtx,
        user_id: &UserId,
        reach: Reach,
        missing: DomainError,
    ) -> Result<Authorized<UserView>, DomainError> {
        let grants = self.grants(ctx).await?;
        self.visible_user_with(&grants, user_id, reach, missing).await
    }

    async fn visible_user_with(
        &self,
        grants: &Grants<'_>,
        user_id: &UserId,
        reach: Reach,
        missing: DomainError,
    ) -> Result<Authorized<UserView>, DomainError> {
        let user: Option<UserView> = self
            .typed_doc(&grants.ctx.instance_id, Collection::User, user_id.as_str())
            .await?;
        match user {
            Some(u) if grants.sees_user(&u, reach) => Ok(Authorized(u)),
            _ => Err(missing),
        }
    }

    /// A user for a call that a code authorises instead of a permission
    /// (passkey registration with a registration code): the use case's
    /// decision must check the code on the user's aggregate first.
    pub(crate) async fn user_for_code(
        &self,
        ctx: &RequestCtx,
        user_id: &UserId,
        missing: DomainError,
    ) -> Result<Authorized<UserView>, DomainError> {
        let user: Option<UserView> = self
            .typed_doc(&ctx.instance_id, Collection::User, user_id.as_str())
            .await?;
        user.map(Authorized).ok_or(missing)
    }

    /// A user of the v2 APIs the caller sees and passes the RPC's declared
    /// check on. One it does not see is `missing`; one it sees without the
    /// permission is refused.
    pub(crate) async fn user_to_act_on(
        &self,
        ctx: &RequestCtx,
        user_id: &UserId,
        missing: DomainError,
    ) -> Result<Authorized<UserView>, DomainError> {
        let check = declared(ctx, CheckedOn::TargetUser)?;
        let grants = self.grants(ctx).await?;
        let user = self
            .visible_user_with(&grants, user_id, Reach::Readable, missing)
            .await?;
        grants.require_on_user(&check, &user)?;
        Ok(user)
    }

    /// The users [`Self::users_to_act_on`] would keep, as orgs: every org
    /// whose users the caller sees and passes the RPC's declared check on
    /// (None: all of them, the instance's roles grant both), and the caller
    /// itself with its org when it passes the check only as itself.
    pub(crate) async fn user_scope(&self, ctx: &RequestCtx) -> Result<UserScope, DomainError> {
        let check = declared(ctx, CheckedOn::TargetUser)?;
        let grants = self.grants(ctx).await?;
        let reaches = |org: &OrgId| {
            grants.has(On::Org(org), Permission::UserRead)
                && permissions::check_resource(&grants.memberships, &check, On::Org(org), false).is_ok()
        };
        // An org of no membership of the caller's: the instance's roles
        // alone, and an org's roles only ever add to them.
        if reaches(&OrgId::default()) {
            return Ok(UserScope {
                orgs: None,
                caller: None,
            });
        }
        let mut orgs: Vec<OrgId> = grants
            .memberships
            .iter()
            .filter_map(|m| m.org_id.as_deref())
            .map(OrgId::from)
            .filter(|o| reaches(o))
            .collect();
        orgs.sort();
        orgs.dedup();
        let me: Option<UserView> = self
            .typed_doc(&ctx.instance_id, Collection::User, ctx.caller.user_id.as_str())
            .await?;
        let caller = me
            .filter(|u| !orgs.contains(&u.org_id) && grants.require_on_user(&check, u).is_ok())
            .map(|u| (u.id, u.org_id));
        Ok(UserScope {
            orgs: Some(orgs),
            caller,
        })
    }

    /// The users of `candidates` the caller sees and passes the RPC's
    /// declared check on.
    pub(crate) async fn users_to_act_on(
        &self,
        ctx: &RequestCtx,
        candidates: Vec<UserView>,
    ) -> Result<Vec<UserView>, DomainError> {
        let check = declared(ctx, CheckedOn::TargetUser)?;
        let grants = self.grants(ctx).await?;
        Ok(candidates
            .into_iter()
            .filter(|u| grants.sees_user(u, Reach::Readable) && grants.require_on_user(&check, u).is_ok())
            .collect())
    }

    /// The session `session_id` if the caller passes the RPC's declared read
    /// check on it, else `missing`.
    pub(crate) async fn visible_session(
        &self,
        ctx: &RequestCtx,
        session_id: &SessionId,
        missing: DomainError,
    ) -> Result<Authorized<SessionView>, DomainError> {
        let read = declared(ctx, CheckedOn::SessionUser)?;
        let session: Option<SessionView> = self
            .typed_doc(&ctx.instance_id, Collection::Session, session_id.as_str())
            .await?;
        let grants = self.grants(ctx).await?;
        match session {
            Some(s) if grants.reads_session(&s, &read) => Ok(Authorized(s)),
            _ => Err(missing),
        }
    }

    /// The sessions of `candidates` that pass the RPC's declared read check.
    pub(crate) async fn readable_sessions(
        &self,
        ctx: &RequestCtx,
        candidates: Vec<SessionView>,
    ) -> Result<Vec<SessionView>, DomainError> {
        let read = declared(ctx, CheckedOn::SessionUser)?;
        let grants = self.grants(ctx).await?;
        Ok(candidates
            .into_iter()
            .filter(|s| grants.reads_session(s, &read))
            .collect())
    }

    /// The RPC's declared check on a session created by `creator` whose
    /// checked user is `user`: its token when the RPC accepts one and the
    /// request carries it; else a session the caller cannot read is
    /// `missing`, and one it reads needs the check.
    pub(crate) async fn session_access<'t>(
        &self,
        ctx: &RequestCtx,
        creator: &str,
        user: Option<(&UserId, &OrgId)>,
        token: Option<&'t str>,
        missing: DomainError,
    ) -> Result<SessionAccess<'t>, DomainError> {
        if let Some(t) = session_token(ctx, token)? {
            return Ok(SessionAccess::Token(t));
        }
        let check = declared(ctx, CheckedOn::SessionUser)?;
        let grants = self.grants(ctx).await?;
        let caller = &ctx.caller.user_id;
        if !permissions::sees_session(&grants.memberships, &SESSION_READ, caller, creator, user) {
            return Err(missing);
        }
        permissions::check_session(&grants.memberships, &check, caller, user).map_err(in_command)?;
        Ok(SessionAccess::Caller)
    }

    /// The RPC's declared check on the instance.
    pub(crate) async fn require_on_instance(&self, ctx: &RequestCtx) -> Result<(), DomainError> {
        let check = declared(ctx, CheckedOn::Instance)?;
        self.require_permission(ctx, On::Instance, check.permission).await
    }

    /// The org whose policies the caller asked for (None: the instance), as
    /// it may see them: an org where it lacks `policy.read` is treated like
    /// an unknown one, whose policies are the instance defaults.
    pub(crate) async fn policy_owner(
        &self,
        ctx: &RequestCtx,
        org_id: Option<&str>,
    ) -> Result<Option<OrgId>, DomainError> {
        let Some(org) = org_id.map(OrgId::from) else {
            return Ok(None);
        };
        let grants = self.grants(ctx).await?;
        Ok(grants.has(On::Org(&org), Permission::PolicyRead).then_some(org))
    }

    /// `permission` `on` the instance or an org.
    pub(crate) async fn require_permission(
        &self,
        ctx: &RequestCtx,
        on: On<'_>,
        permission: Permission,
    ) -> Result<(), DomainError> {
        self.grants(ctx).await?.require(on, permission)
    }

    /// The RPC's declared check on the org the request names (e.g. where a
    /// user is to be created).
    pub(crate) async fn require_on_requested_org(&self, ctx: &RequestCtx, org_id: &str) -> Result<(), DomainError> {
        let check = declared(ctx, CheckedOn::RequestedOrg)?;
        self.require_permission(ctx, On::Org(&OrgId::from(org_id)), check.permission)
            .await
    }
}

/// The RPC's declared check, applied to each row of a list: rows the
/// caller may not read are left out, as if they did not exist.
pub(crate) struct RowCheck<'a> {
    grants: Grants<'a>,
    check: ResourceCheck,
}

impl RowCheck<'_> {
    /// A row owned by `org_id`, about `user_id` (for the self rule).
    pub(crate) fn allows(&self, org_id: &OrgId, user_id: Option<&UserId>) -> bool {
        let is_self = user_id.is_some_and(|u| self.grants.is_caller(u));
        permissions::check_resource(&self.grants.memberships, &self.check, On::Org(org_id), is_self).is_ok()
    }
}

impl App {
    /// The check a list RPC declares on `on`, with the caller's memberships.
    pub(crate) async fn row_check<'a>(&self, ctx: &'a RequestCtx, on: CheckedOn) -> Result<RowCheck<'a>, DomainError> {
        let check = declared(ctx, on)?;
        Ok(RowCheck {
            grants: self.grants(ctx).await?,
            check,
        })
    }
}
