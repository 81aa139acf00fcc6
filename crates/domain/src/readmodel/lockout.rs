//! The lockout-policy read model: the instance default (keyed by the
//! instance ID) and each org's own policy (keyed by the org ID).

use serde::{Deserialize, Serialize};

use super::{Collection, DocDetails, DocKey};
use crate::event::{AggregateType, EventPayload as E, StoredEvent};
use crate::lockout::LockoutSettings;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockoutView {
    pub details: DocDetails,
    pub settings: LockoutSettings,
    pub is_default: bool,
}

pub(super) fn affected(ev: &StoredEvent) -> Vec<DocKey> {
    match ev.payload {
        E::InstanceLockoutPolicyAdded(_)
        | E::InstanceLockoutPolicyChanged(_)
        | E::OrgLockoutPolicyAdded(_)
        | E::OrgLockoutPolicyChanged(_)
        | E::OrgLockoutPolicyRemoved => vec![DocKey::new(Collection::LockoutPolicy, ev.aggregate.id.clone())],
        _ => vec![],
    }
}

pub(super) fn apply(ev: &StoredEvent, prior: Option<LockoutView>) -> Option<LockoutView> {
    match (&ev.payload, prior) {
        (E::InstanceLockoutPolicyAdded(s) | E::OrgLockoutPolicyAdded(s), _) => Some(LockoutView {
            details: DocDetails::created(ev),
            settings: *s,
            is_default: ev.aggregate.kind == AggregateType::Instance,
        }),
        (E::InstanceLockoutPolicyChanged(c) | E::OrgLockoutPolicyChanged(c), Some(mut v)) => {
            v.settings.apply(c);
            v.details.touch(ev);
            Some(v)
        }
        _ => None,
    }
}
