//! The instance's security policy (keyed by the instance ID).

use serde::{Deserialize, Serialize};

use super::{Collection, DocDetails, DocKey};
use crate::event::{EventPayload as E, StoredEvent};
use crate::security::SecuritySettings;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityView {
    pub details: DocDetails,
    pub settings: SecuritySettings,
}

pub(super) fn affected(ev: &StoredEvent) -> Vec<DocKey> {
    match ev.payload {
        E::InstanceSecurityPolicySet(_) => vec![DocKey::new(Collection::SecurityPolicy, ev.aggregate.id.clone())],
        _ => vec![],
    }
}

pub(super) fn apply(ev: &StoredEvent, prior: Option<SecurityView>) -> Option<SecurityView> {
    match (&ev.payload, prior) {
        (E::InstanceSecurityPolicySet(c), Some(mut v)) => {
            v.settings.apply(c);
            v.details.touch(ev);
            Some(v)
        }
        (E::InstanceSecurityPolicySet(c), None) => {
            let mut settings = SecuritySettings::default();
            settings.apply(c);
            Some(SecurityView {
                details: DocDetails::created(ev),
                settings,
            })
        }
        _ => None,
    }
}
