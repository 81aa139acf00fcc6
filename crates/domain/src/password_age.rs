//! Password age policy: after how many days a password expires and how many
//! days before that the login warns (0 = never). The instance has a default
//! (no expiry, set at setup); an org may have its own (see `scoped_policy`). Only login front ends
//! act on it: no API refuses an old password (as in ZITADEL).

use serde::{Deserialize, Serialize};

use crate::readmodel::Collection;
use crate::scoped_policy::{Refusals, ScopedPolicy, scoped_policy_events};

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PasswordAgeSettings {
    #[serde(rename = "maxAgeDays", skip_serializing_if = "is_zero")]
    pub max_age_days: u64,
    #[serde(rename = "expireWarnDays", skip_serializing_if = "is_zero")]
    pub expire_warn_days: u64,
}

/// Payload of a `*.policy.password.age.changed` event: present keys changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PasswordAgeChanges {
    #[serde(rename = "maxAgeDays", skip_serializing_if = "Option::is_none")]
    pub max_age_days: Option<u64>,
    #[serde(rename = "expireWarnDays", skip_serializing_if = "Option::is_none")]
    pub expire_warn_days: Option<u64>,
}

impl ScopedPolicy for PasswordAgeSettings {
    type Changes = PasswordAgeChanges;
    const REFUSALS: Refusals = Refusals {
        org_missing: ("ORG-0oPew", "Password Age Policy not found"),
        reset_missing: ("ORG-Dgs1g", "Password Age Policy not found"),
        org_exists: ("ORG-Lk0dS", "Password Age Policy already exists"),
        instance_unchanged: ("INSTANCE-180sf", "Default Password Age Policy has not been changed"),
        // ZITADEL's key, typo included.
        org_unchanged: ("Org-dsgjR", "Errors.ORg.LabelPolicy.NotChanged"),
    };
    const COLLECTION: Collection = Collection::PasswordAgePolicy;

    fn changes_to(&self, new: &Self) -> PasswordAgeChanges {
        PasswordAgeChanges {
            max_age_days: (self.max_age_days != new.max_age_days).then_some(new.max_age_days),
            expire_warn_days: (self.expire_warn_days != new.expire_warn_days).then_some(new.expire_warn_days),
        }
    }

    fn apply(&mut self, c: &PasswordAgeChanges) {
        if let Some(v) = c.max_age_days {
            self.max_age_days = v;
        }
        if let Some(v) = c.expire_warn_days {
            self.expire_warn_days = v;
        }
    }

    scoped_policy_events!(
        InstancePasswordAgePolicyAdded,
        InstancePasswordAgePolicyChanged,
        OrgPasswordAgePolicyAdded,
        OrgPasswordAgePolicyChanged,
        OrgPasswordAgePolicyRemoved
    );
}
