//! The password-complexity-policy read model: the instance default (keyed
//! by the instance ID) and each org's own policy (keyed by the org ID).

use serde::{Deserialize, Serialize};

use super::{Collection, DocDetails, DocKey};
use crate::event::{AggregateType, EventPayload as E, StoredEvent};
use crate::password_complexity::PasswordComplexitySettings;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordComplexityView {
    pub details: DocDetails,
    pub settings: PasswordComplexitySettings,
    pub is_default: bool,
}

pub(super) fn affected(ev: &StoredEvent) -> Vec<DocKey> {
    match ev.payload {
        E::InstancePasswordComplexityPolicyAdded(_)
        | E::InstancePasswordComplexityPolicyChanged(_)
        | E::OrgPasswordComplexityPolicyAdded(_)
        | E::OrgPasswordComplexityPolicyChanged(_)
        | E::OrgPasswordComplexityPolicyRemoved => {
            vec![DocKey::new(
                Collection::PasswordComplexityPolicy,
                ev.aggregate.id.clone(),
            )]
        }
        _ => vec![],
    }
}

pub(super) fn apply(ev: &StoredEvent, prior: Option<PasswordComplexityView>) -> Option<PasswordComplexityView> {
    match (&ev.payload, prior) {
        (E::InstancePasswordComplexityPolicyAdded(s) | E::OrgPasswordComplexityPolicyAdded(s), _) => {
            Some(PasswordComplexityView {
                details: DocDetails::created(ev),
                settings: *s,
                is_default: ev.aggregate.kind == AggregateType::Instance,
            })
        }
        (E::InstancePasswordComplexityPolicyChanged(c) | E::OrgPasswordComplexityPolicyChanged(c), Some(mut v)) => {
            v.settings.apply(c);
            v.details.touch(ev);
            Some(v)
        }
        _ => None,
    }
}
