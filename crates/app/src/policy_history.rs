//! Who changed a login policy, when and how: the policy's own events.

use twofold_domain::login_policy::is_policy_event;
use twofold_domain::readmodel::Collection;
use twofold_domain::readmodel::directory::UserView;
use twofold_domain::scope::Scope;
use twofold_domain::{DomainError, StoredEvent};

use crate::App;
use crate::auth::RequestCtx;
use crate::command::store_error;

/// One change of a policy.
pub struct PolicyEvent {
    pub event: StoredEvent,
    /// The editor's user name; None for the system or a removed user.
    pub editor: Option<String>,
}

impl App {
    /// The changes of the default policy (instance scope) or of the context
    /// org's own policy, newest first. For a caller authorized to read that
    /// policy.
    pub async fn login_policy_history(&self, ctx: &RequestCtx, scope: Scope) -> Result<Vec<PolicyEvent>, DomainError> {
        let events = self
            .store
            .events(&ctx.instance_id, &ctx.scope_aggregate(scope))
            .await
            .map_err(store_error)?;
        let mut out = Vec::new();
        for e in events.iter().rev().filter(|e| is_policy_event(scope, &e.payload)) {
            let editor = self
                .typed_doc::<UserView>(&ctx.instance_id, Collection::User, &e.creator)
                .await?
                .map(|u| u.user_name);
            out.push(PolicyEvent {
                event: e.clone(),
                editor,
            });
        }
        Ok(out)
    }
}
