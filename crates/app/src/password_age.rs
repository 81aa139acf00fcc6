//! Password-age-policy use cases (Admin and Management API, Settings v2).

use twofold_domain::password_age::{self, PasswordAgeSettings, PasswordAgeState};
use twofold_domain::readmodel::password_age::PasswordAgeView;
use twofold_domain::readmodel::{Collection, DocDetails};
use twofold_domain::scope::Scope;
use twofold_domain::{AggregateRef, DomainError, InstanceId, OrgId};

use crate::auth::RequestCtx;
use crate::{App, WriteDetails};

impl App {
    /// The instance default (no expiry, if never set).
    pub async fn default_password_age_policy(&self, instance_id: &InstanceId) -> Result<PasswordAgeView, DomainError> {
        Ok(self
            .typed_doc(instance_id, Collection::PasswordAgePolicy, instance_id.as_str())
            .await?
            .unwrap_or_else(|| PasswordAgeView {
                is_default: true,
                details: DocDetails {
                    resource_owner: instance_id.to_string(),
                    ..DocDetails::default()
                },
                ..PasswordAgeView::default()
            }))
    }

    /// The policy in force for an org: its own, else the default.
    pub async fn org_password_age_policy(
        &self,
        instance_id: &InstanceId,
        org_id: &OrgId,
    ) -> Result<PasswordAgeView, DomainError> {
        match self
            .typed_doc(instance_id, Collection::PasswordAgePolicy, org_id.as_str())
            .await?
        {
            Some(v) => Ok(v),
            None => self.default_password_age_policy(instance_id).await,
        }
    }

    /// The password age policy in force for `org_id` (None: the instance
    /// default) as the caller may see it (Settings v2).
    pub async fn visible_password_age_policy(
        &self,
        ctx: &RequestCtx,
        org_id: Option<&str>,
    ) -> Result<PasswordAgeView, DomainError> {
        match self.policy_owner(ctx, org_id).await? {
            Some(org) => self.org_password_age_policy(&ctx.instance_id, &org).await,
            None => self.default_password_age_policy(&ctx.instance_id).await,
        }
    }

    pub async fn update_password_age_policy(
        &self,
        ctx: &RequestCtx,
        scope: Scope,
        settings: PasswordAgeSettings,
    ) -> Result<WriteDetails, DomainError> {
        self.execute(
            &ctx.instance_id,
            ctx.caller.user_id.as_str(),
            ctx.scope_aggregate(scope),
            |events| {
                let state = PasswordAgeState::fold(scope, events.iter().map(|e| &e.payload));
                password_age::decide_update(scope, &state, settings)
            },
        )
        .await
    }

    pub async fn add_custom_password_age_policy(
        &self,
        ctx: &RequestCtx,
        settings: PasswordAgeSettings,
    ) -> Result<WriteDetails, DomainError> {
        self.execute(
            &ctx.instance_id,
            ctx.caller.user_id.as_str(),
            AggregateRef::org(&ctx.org_id),
            |events| {
                password_age::decide_add_custom(
                    &PasswordAgeState::fold(Scope::Org, events.iter().map(|e| &e.payload)),
                    settings,
                )
            },
        )
        .await
    }

    pub async fn reset_password_age_policy(&self, ctx: &RequestCtx) -> Result<WriteDetails, DomainError> {
        self.execute(
            &ctx.instance_id,
            ctx.caller.user_id.as_str(),
            AggregateRef::org(&ctx.org_id),
            |events| password_age::decide_reset(&PasswordAgeState::fold(Scope::Org, events.iter().map(|e| &e.payload))),
        )
        .await
    }
}
