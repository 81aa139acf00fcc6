//! Login-policy use cases: the instance default (Admin API) and the policy
//! an org sees (Management API).

use twofold_domain::login_policy::{self as lp, LoginPolicySettings, LoginPolicyState};
use twofold_domain::readmodel::Collection;
use twofold_domain::readmodel::login_policy::LoginPolicyView;
use twofold_domain::scope::Scope;
use twofold_domain::{AggregateRef, DomainError, EventPayload, InstanceId, OrgId, StoredEvent};

use crate::auth::RequestCtx;
use crate::policy_preview::{Force, PolicyChange};
use crate::{App, WriteDetails};

/// A change to one of a policy's factor lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FactorChange {
    AddSecond(twofold_domain::factors::SecondFactor),
    RemoveSecond(twofold_domain::factors::SecondFactor),
    AddMulti(twofold_domain::factors::MultiFactor),
    RemoveMulti(twofold_domain::factors::MultiFactor),
}

fn payloads(events: &[StoredEvent]) -> impl Iterator<Item = &EventPayload> {
    events.iter().map(|e| &e.payload)
}

impl App {
    /// The instance's default policy.
    pub async fn default_login_policy(&self, instance_id: &InstanceId) -> Result<LoginPolicyView, DomainError> {
        self.typed_doc(instance_id, Collection::LoginPolicy, instance_id.as_str())
            .await?
            .ok_or_else(|| DomainError::internal("QUERY-SArt2", "An internal error occurred"))
    }

    /// The policy in force for an org: its custom policy, else the default.
    pub async fn org_login_policy(
        &self,
        instance_id: &InstanceId,
        org_id: &OrgId,
    ) -> Result<LoginPolicyView, DomainError> {
        match self
            .typed_doc(instance_id, Collection::LoginPolicy, org_id.as_str())
            .await?
        {
            Some(custom) => Ok(custom),
            None => self.default_login_policy(instance_id).await,
        }
    }

    /// The login policy in force for `org_id` (None: the instance default)
    /// as the caller may see it (Settings v2).
    pub async fn visible_login_policy(
        &self,
        ctx: &RequestCtx,
        org_id: Option<&str>,
    ) -> Result<LoginPolicyView, DomainError> {
        match self.policy_owner(ctx, org_id).await? {
            Some(org) => self.org_login_policy(&ctx.instance_id, &org).await,
            None => self.default_login_policy(&ctx.instance_id).await,
        }
    }

    /// Changes a factor list of the default policy or of the context org's policy.
    pub async fn change_factor(
        &self,
        ctx: &RequestCtx,
        scope: Scope,
        change: FactorChange,
        force: Force,
    ) -> Result<WriteDetails, DomainError> {
        self.guard_owners(ctx, scope, &PolicyChange::Factor(change), force)
            .await?;
        self.execute(
            &ctx.instance_id,
            ctx.caller.user_id.as_str(),
            ctx.scope_aggregate(scope),
            |events| {
                let state = LoginPolicyState::fold(scope, payloads(events));
                match change {
                    FactorChange::AddSecond(f) => lp::decide_add_second_factor(scope, &state, f),
                    FactorChange::RemoveSecond(f) => lp::decide_remove_second_factor(scope, &state, f),
                    FactorChange::AddMulti(f) => lp::decide_add_multi_factor(scope, &state, f),
                    FactorChange::RemoveMulti(f) => lp::decide_remove_multi_factor(scope, &state, f),
                }
            },
        )
        .await
    }

    /// Replaces the settings of the default policy or of the context org's policy.
    pub async fn update_login_policy(
        &self,
        ctx: &RequestCtx,
        scope: Scope,
        settings: LoginPolicySettings,
        force: Force,
    ) -> Result<WriteDetails, DomainError> {
        self.guard_owners(ctx, scope, &PolicyChange::Settings(settings.clone()), force)
            .await?;
        self.execute(
            &ctx.instance_id,
            ctx.caller.user_id.as_str(),
            ctx.scope_aggregate(scope),
            |events| {
                lp::decide_update(
                    scope,
                    &LoginPolicyState::fold(scope, payloads(events)),
                    settings.clone(),
                )
            },
        )
        .await
    }

    /// Gives the context org a policy of its own, exactly as requested.
    pub async fn add_custom_login_policy(
        &self,
        ctx: &RequestCtx,
        settings: LoginPolicySettings,
        second_factors: &[i32],
        multi_factors: &[i32],
        idp_count: usize,
        force: Force,
    ) -> Result<WriteDetails, DomainError> {
        // Factor lists decide no lock-out: the settings alone are checked.
        self.guard_owners(ctx, Scope::Org, &PolicyChange::Settings(settings.clone()), force)
            .await?;
        self.execute(
            &ctx.instance_id,
            ctx.caller.user_id.as_str(),
            AggregateRef::org(&ctx.org_id),
            |events| {
                let state = LoginPolicyState::fold(Scope::Org, payloads(events));
                lp::decide_add_custom(&state, settings.clone(), second_factors, multi_factors, idp_count)
            },
        )
        .await
    }

    /// The context org goes back to the instance default.
    pub async fn reset_login_policy(&self, ctx: &RequestCtx, force: Force) -> Result<WriteDetails, DomainError> {
        self.guard_owners(ctx, Scope::Org, &PolicyChange::Reset, force).await?;
        self.execute(
            &ctx.instance_id,
            ctx.caller.user_id.as_str(),
            AggregateRef::org(&ctx.org_id),
            |events| lp::decide_reset(&LoginPolicyState::fold(Scope::Org, payloads(events))),
        )
        .await
    }
}
