//! The instance's security policy (Settings v2).

use twofold_domain::readmodel::Collection;
use twofold_domain::readmodel::security::SecurityView;
use twofold_domain::security::{self, SecuritySettings};
use twofold_domain::{AggregateRef, DomainError, InstanceId};

use crate::auth::RequestCtx;
use crate::{App, WriteDetails};

impl App {
    /// The policy as set (everything off if never set).
    pub async fn security_policy(&self, instance_id: &InstanceId) -> Result<SecurityView, DomainError> {
        Ok(self
            .typed_doc(instance_id, Collection::SecurityPolicy, instance_id.as_str())
            .await?
            .unwrap_or_default())
    }

    pub async fn set_security_policy(
        &self,
        ctx: &RequestCtx,
        settings: SecuritySettings,
    ) -> Result<WriteDetails, DomainError> {
        self.execute(
            &ctx.instance_id,
            ctx.caller.user_id.as_str(),
            AggregateRef::instance(&ctx.instance_id),
            |events| {
                security::decide_set(
                    &SecuritySettings::fold(events.iter().map(|e| &e.payload)),
                    settings.clone(),
                )
            },
        )
        .await
    }
}
