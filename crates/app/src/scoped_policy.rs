//! Use cases of the policies an org may replace with its own (lockout,
//! password complexity, password age; Admin and Management API, Settings
//! v2), one generic set for every kind (`twofold_domain::scoped_policy`).

use serde::Serialize;
use serde::de::DeserializeOwned;
use twofold_domain::readmodel::DocDetails;
use twofold_domain::readmodel::scoped_policy::PolicyView;
use twofold_domain::scope::Scope;
use twofold_domain::scoped_policy::{self, PolicyState, ScopedPolicy};
use twofold_domain::{AggregateRef, DomainError, InstanceId, OrgId, StoredEvent};

use crate::auth::RequestCtx;
use crate::{App, WriteDetails};

/// A policy kind as the app stores it.
pub trait StoredPolicy: ScopedPolicy + Serialize + DeserializeOwned + Send + Sync {}

impl<P: ScopedPolicy + Serialize + DeserializeOwned + Send + Sync> StoredPolicy for P {}

fn fold<P: ScopedPolicy>(scope: Scope, events: &[StoredEvent]) -> PolicyState<P> {
    PolicyState::fold(scope, events.iter().map(|e| &e.payload))
}

impl App {
    /// The instance default of kind `P` (the kind's built-in default for an
    /// instance set up before Twofold had it).
    pub async fn default_policy<P: StoredPolicy>(
        &self,
        instance_id: &InstanceId,
    ) -> Result<PolicyView<P>, DomainError> {
        Ok(self
            .typed_doc(instance_id, P::COLLECTION, instance_id.as_str())
            .await?
            .unwrap_or_else(|| PolicyView {
                settings: P::instance_default(),
                is_default: true,
                details: DocDetails {
                    resource_owner: instance_id.to_string(),
                    ..DocDetails::default()
                },
            }))
    }

    /// The policy of kind `P` in force for an org: its own, else the default.
    pub async fn org_policy<P: StoredPolicy>(
        &self,
        instance_id: &InstanceId,
        org_id: &OrgId,
    ) -> Result<PolicyView<P>, DomainError> {
        match self.typed_doc(instance_id, P::COLLECTION, org_id.as_str()).await? {
            Some(v) => Ok(v),
            None => self.default_policy(instance_id).await,
        }
    }

    /// The policy of kind `P` in force for `org_id` (None: the instance
    /// default) as the caller may see it (Settings v2).
    pub async fn visible_policy<P: StoredPolicy>(
        &self,
        ctx: &RequestCtx,
        org_id: Option<&str>,
    ) -> Result<PolicyView<P>, DomainError> {
        match self.policy_owner(ctx, org_id).await? {
            Some(org) => self.org_policy(&ctx.instance_id, &org).await,
            None => self.default_policy(&ctx.instance_id).await,
        }
    }

    /// Replaces the policy of `scope` (the instance, or the request's org).
    pub async fn update_policy<P: StoredPolicy>(
        &self,
        ctx: &RequestCtx,
        scope: Scope,
        settings: P,
    ) -> Result<WriteDetails, DomainError> {
        self.execute(
            &ctx.instance_id,
            ctx.caller.user_id.as_str(),
            ctx.scope_aggregate(scope),
            |events| scoped_policy::decide_update(scope, &fold::<P>(scope, events), settings),
        )
        .await
    }

    /// The request's org gets its own policy.
    pub async fn add_custom_policy<P: StoredPolicy>(
        &self,
        ctx: &RequestCtx,
        settings: P,
    ) -> Result<WriteDetails, DomainError> {
        self.execute(
            &ctx.instance_id,
            ctx.caller.user_id.as_str(),
            AggregateRef::org(&ctx.org_id),
            |events| scoped_policy::decide_add_custom(&fold::<P>(Scope::Org, events), settings),
        )
        .await
    }

    /// The request's org goes back to the instance default.
    pub async fn reset_policy<P: StoredPolicy>(&self, ctx: &RequestCtx) -> Result<WriteDetails, DomainError> {
        self.execute(
            &ctx.instance_id,
            ctx.caller.user_id.as_str(),
            AggregateRef::org(&ctx.org_id),
            |events| scoped_policy::decide_reset(&fold::<P>(Scope::Org, events)),
        )
        .await
    }
}
