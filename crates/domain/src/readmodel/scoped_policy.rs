//! The read model of the policies an org may replace with its own
//! ([`crate::scoped_policy`]): per kind, the instance default (keyed by the
//! instance ID) and each org's own policy (keyed by the org ID).

use serde::{Deserialize, Serialize};

use super::{DocDetails, DocKey};
use crate::event::{AggregateType, StoredEvent};
use crate::scope::Scope;
use crate::scoped_policy::{ScopedPolicy, Step};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyView<P> {
    pub details: DocDetails,
    pub settings: P,
    pub is_default: bool,
}

/// `ev` as a step of kind `P` on the instance or an org.
fn step<P: ScopedPolicy>(ev: &StoredEvent) -> Option<(Scope, Step<'_, P>)> {
    let scope = match ev.aggregate.kind {
        AggregateType::Instance => Scope::Instance,
        AggregateType::Org => Scope::Org,
        AggregateType::User
        | AggregateType::Session
        | AggregateType::Project
        | AggregateType::AuthRequest
        | AggregateType::KeyPair
        | AggregateType::OidcSession
        | AggregateType::ClientAssertion => {
            return None;
        }
    };
    P::step(scope, &ev.payload).map(|s| (scope, s))
}

pub(super) fn affected<P: ScopedPolicy>(ev: &StoredEvent) -> Option<DocKey> {
    step::<P>(ev).map(|_| DocKey::new(P::COLLECTION, ev.aggregate.id.clone()))
}

pub(super) fn apply<P: ScopedPolicy>(ev: &StoredEvent, prior: Option<PolicyView<P>>) -> Option<PolicyView<P>> {
    match (step::<P>(ev)?, prior) {
        ((scope, Step::Added(settings)), _) => Some(PolicyView {
            details: DocDetails::created(ev),
            settings: *settings,
            is_default: scope == Scope::Instance,
        }),
        ((_, Step::Changed(c)), Some(mut v)) => {
            v.settings.apply(c);
            v.details.touch(ev);
            Some(v)
        }
        _ => None,
    }
}
