//! Lockout policy: how many failed password or one-time-password checks
//! lock a user (0 = never). The instance has a default; an org may have its
//! own. Independently of it, repeated OTP failures are always throttled
//! (see [`crate::session::otp_throttled_until`]).

use serde::{Deserialize, Serialize};

use crate::readmodel::Collection;
use crate::scoped_policy::{Refusals, ScopedPolicy, scoped_policy_events};

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LockoutSettings {
    #[serde(rename = "maxPasswordAttempts", skip_serializing_if = "is_zero")]
    pub max_password_attempts: u64,
    #[serde(rename = "maxOTPAttempts", skip_serializing_if = "is_zero")]
    pub max_otp_attempts: u64,
}

/// Payload of a `*.policy.lockout.changed` event: present keys changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LockoutChanges {
    #[serde(rename = "maxPasswordAttempts", skip_serializing_if = "Option::is_none")]
    pub max_password_attempts: Option<u64>,
    #[serde(rename = "maxOTPAttempts", skip_serializing_if = "Option::is_none")]
    pub max_otp_attempts: Option<u64>,
}

impl LockoutSettings {
    /// Whether the failure that brings the count to `failures_after` locks.
    pub fn locks(max: u64, failures_after: u32) -> bool {
        max > 0 && u64::from(failures_after) >= max
    }
}

impl ScopedPolicy for LockoutSettings {
    type Changes = LockoutChanges;
    const REFUSALS: Refusals = Refusals {
        org_missing: ("ORG-ADfs1", "Errors.ORG.LockoutPolicy.NotFound"),
        reset_missing: ("ORG-D4zuz", "Errors.ORG.LockoutPolicy.NotFound"),
        org_exists: ("ORG-0olDf", "Errors.ORG.LockoutPolicy.AlreadyExists"),
        instance_unchanged: ("INSTANCE-0psjF", "Errors.IAM.LockoutPolicy.NotChanged"),
        org_unchanged: ("ORG-0JFSr", "Errors.ORG.LockoutPolicy.NotChanged"),
    };
    const COLLECTION: Collection = Collection::LockoutPolicy;

    fn changes_to(&self, new: &Self) -> LockoutChanges {
        LockoutChanges {
            max_password_attempts: (self.max_password_attempts != new.max_password_attempts)
                .then_some(new.max_password_attempts),
            max_otp_attempts: (self.max_otp_attempts != new.max_otp_attempts).then_some(new.max_otp_attempts),
        }
    }

    fn apply(&mut self, c: &LockoutChanges) {
        if let Some(v) = c.max_password_attempts {
            self.max_password_attempts = v;
        }
        if let Some(v) = c.max_otp_attempts {
            self.max_otp_attempts = v;
        }
    }

    scoped_policy_events!(
        InstanceLockoutPolicyAdded,
        InstanceLockoutPolicyChanged,
        OrgLockoutPolicyAdded,
        OrgLockoutPolicyChanged,
        OrgLockoutPolicyRemoved
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_failure_reaching_the_maximum_locks() {
        assert!(LockoutSettings::locks(3, 3) && !LockoutSettings::locks(3, 2) && !LockoutSettings::locks(0, 99));
    }
}
