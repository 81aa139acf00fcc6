//! Lockout-policy use cases (Admin and Management API, Settings v2).

use twofold_domain::lockout::{self, LockoutSettings, LockoutState};
use twofold_domain::readmodel::Collection;
use twofold_domain::readmodel::lockout::LockoutView;
use twofold_domain::scope::Scope;
use twofold_domain::{AggregateRef, DomainError, InstanceId, OrgId};

use crate::auth::RequestCtx;
use crate::{App, WriteDetails};

impl App {
    /// The instance default (all zeros, lockout off, if never set).
    pub async fn default_lockout_policy(&self, instance_id: &InstanceId) -> Result<LockoutView, DomainError> {
        Ok(self
            .typed_doc(instance_id, Collection::LockoutPolicy, instance_id.as_str())
            .await?
            .unwrap_or_else(|| LockoutView {
                is_default: true,
                ..LockoutView::default()
            }))
    }

    /// The policy in force for an org: its own, else the default.
    pub async fn org_lockout_policy(
        &self,
        instance_id: &InstanceId,
        org_id: &OrgId,
    ) -> Result<LockoutView, DomainError> {
        match self
            .typed_doc(instance_id, Collection::LockoutPolicy, org_id.as_str())
            .await?
        {
            Some(v) => Ok(v),
            None => self.default_lockout_policy(instance_id).await,
        }
    }

    /// The lockout policy in force for `org_id` (None: the instance
    /// default) as the caller may see it (Settings v2).
    pub async fn visible_lockout_policy(
        &self,
        ctx: &RequestCtx,
        org_id: Option<&str>,
    ) -> Result<LockoutView, DomainError> {
        match self.policy_owner(ctx, org_id).await? {
            Some(org) => self.org_lockout_policy(&ctx.instance_id, &org).await,
            None => self.default_lockout_policy(&ctx.instance_id).await,
        }
    }

    pub async fn update_lockout_policy(
        &self,
        ctx: &RequestCtx,
        scope: Scope,
        settings: LockoutSettings,
    ) -> Result<WriteDetails, DomainError> {
        self.execute(
            &ctx.instance_id,
            ctx.caller.user_id.as_str(),
            ctx.scope_aggregate(scope),
            |events| {
                let state = LockoutState::fold(scope, events.iter().map(|e| &e.payload));
                lockout::decide_update(scope, &state, settings)
            },
        )
        .await
    }

    pub async fn add_custom_lockout_policy(
        &self,
        ctx: &RequestCtx,
        settings: LockoutSettings,
    ) -> Result<WriteDetails, DomainError> {
        self.execute(
            &ctx.instance_id,
            ctx.caller.user_id.as_str(),
            AggregateRef::org(&ctx.org_id),
            |events| {
                lockout::decide_add_custom(
                    &LockoutState::fold(Scope::Org, events.iter().map(|e| &e.payload)),
                    settings,
                )
            },
        )
        .await
    }

    pub async fn reset_lockout_policy(&self, ctx: &RequestCtx) -> Result<WriteDetails, DomainError> {
        self.execute(
            &ctx.instance_id,
            ctx.caller.user_id.as_str(),
            AggregateRef::org(&ctx.org_id),
            |events| lockout::decide_reset(&LockoutState::fold(Scope::Org, events.iter().map(|e| &e.payload))),
        )
        .await
    }
}
