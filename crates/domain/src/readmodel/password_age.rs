//! The password-age-policy read model: the instance default (keyed
//! by the instance ID) and each org's own policy (keyed by the org ID).

use serde::{Deserialize, Serialize};

use super::{Collection, DocDetails, DocKey};
use crate::event::{AggregateType, EventPayload as E, StoredEvent};
use crate::password_age::PasswordAgeSettings;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordAgeView {
    pub details: DocDetails,
    pub settings: PasswordAgeSettings,
    pub is_default: bool,
}

pub(super) fn affected(ev: &StoredEvent) -> Vec<DocKey> {
    match ev.payload {
        E::InstancePasswordAgePolicyAdded(_)
        | E::InstancePasswordAgePolicyChanged(_)
        | E::OrgPasswordAgePolicyAdded(_)
        | E::OrgPasswordAgePolicyChanged(_)
        | E::OrgPasswordAgePolicyRemoved => {
            vec![DocKey::new(Collection::PasswordAgePolicy, ev.aggregate.id.clone())]
        }
        _ => vec![],
    }
}

pub(super) fn apply(ev: &StoredEvent, prior: Option<PasswordAgeView>) -> Option<PasswordAgeView> {
    match (&ev.payload, prior) {
        (E::InstancePasswordAgePolicyAdded(s) | E::OrgPasswordAgePolicyAdded(s), _) => Some(PasswordAgeView {
            details: DocDetails::created(ev),
            settings: *s,
            is_default: ev.aggregate.kind == AggregateType::Instance,
        }),
        (E::InstancePasswordAgePolicyChanged(c) | E::OrgPasswordAgePolicyChanged(c), Some(mut v)) => {
            v.settings.apply(c);
            v.details.touch(ev);
            Some(v)
        }
        _ => None,
    }
}
