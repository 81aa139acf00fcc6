//! Password-complexity-policy use cases (Admin and Management API, Settings v2).

use twofold_domain::password_complexity::{self as complexity, PasswordComplexitySettings, PasswordComplexityState};
use twofold_domain::readmodel::password_complexity::PasswordComplexityView;
use twofold_domain::readmodel::{Collection, DocDetails};
use twofold_domain::scope::Scope;
use twofold_domain::{AggregateRef, DomainError, InstanceId, OrgId};

use crate::auth::RequestCtx;
use crate::{App, WriteDetails};

impl App {
    /// The instance default (ZITADEL's, for an instance set up before
    /// Twofold had the policy).
    pub async fn default_password_complexity_policy(
        &self,
        instance_id: &InstanceId,
    ) -> Result<PasswordComplexityView, DomainError> {
        Ok(self
            .typed_doc(instance_id, Collection::PasswordComplexityPolicy, instance_id.as_str())
            .await?
            .unwrap_or_else(|| PasswordComplexityView {
                settings: PasswordComplexitySettings::instance_default(),
                is_default: true,
                details: DocDetails {
                    resource_owner: instance_id.to_string(),
                    ..DocDetails::default()
                },
            }))
    }

    /// The policy in force for an org: its own, else the default.
    pub async fn org_password_complexity_policy(
        &self,
        instance_id: &InstanceId,
        org_id: &OrgId,
    ) -> Result<PasswordComplexityView, DomainError> {
        match self
            .typed_doc(instance_id, Collection::PasswordComplexityPolicy, org_id.as_str())
            .await?
        {
            Some(v) => Ok(v),
            None => self.default_password_complexity_policy(instance_id).await,
        }
    }

    /// The password complexity policy in force for `org_id` (None: the instance
    /// default) as the caller may see it (Settings v2).
    pub async fn visible_password_complexity_policy(
        &self,
        ctx: &RequestCtx,
        org_id: Option<&str>,
    ) -> Result<PasswordComplexityView, DomainError> {
        match self.policy_owner(ctx, org_id).await? {
            Some(org) => self.org_password_complexity_policy(&ctx.instance_id, &org).await,
            None => self.default_password_complexity_policy(&ctx.instance_id).await,
        }
    }

    pub async fn update_password_complexity_policy(
        &self,
        ctx: &RequestCtx,
        scope: Scope,
        settings: PasswordComplexitySettings,
    ) -> Result<WriteDetails, DomainError> {
        self.execute(
            &ctx.instance_id,
            ctx.caller.user_id.as_str(),
            ctx.scope_aggregate(scope),
            |events| {
                let state = PasswordComplexityState::fold(scope, events.iter().map(|e| &e.payload));
                complexity::decide_update(scope, &state, settings)
            },
        )
        .await
    }

    pub async fn add_custom_password_complexity_policy(
        &self,
        ctx: &RequestCtx,
        settings: PasswordComplexitySettings,
    ) -> Result<WriteDetails, DomainError> {
        self.execute(
            &ctx.instance_id,
            ctx.caller.user_id.as_str(),
            AggregateRef::org(&ctx.org_id),
            |events| {
                complexity::decide_add_custom(
                    &PasswordComplexityState::fold(Scope::Org, events.iter().map(|e| &e.payload)),
                    settings,
                )
            },
        )
        .await
    }

    pub async fn reset_password_complexity_policy(&self, ctx: &RequestCtx) -> Result<WriteDetails, DomainError> {
        self.execute(
            &ctx.instance_id,
            ctx.caller.user_id.as_str(),
            AggregateRef::org(&ctx.org_id),
            |events| {
                complexity::decide_reset(&PasswordComplexityState::fold(
                    Scope::Org,
                    events.iter().map(|e| &e.payload),
                ))
            },
        )
        .await
    }
}
