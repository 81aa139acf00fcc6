//! Lockout policy: how many failed password or one-time-password checks
//! lock a user (0 = never). The instance has a default; an org may have its
//! own. Independently of it, repeated OTP failures are always throttled
//! (see [`crate::session::otp_throttled_until`]).

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::event::EventPayload as E;
use crate::scope::Scope;

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

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LockoutState {
    pub exists: bool,
    pub settings: LockoutSettings,
}

impl LockoutState {
    pub fn fold<'a>(scope: Scope, events: impl IntoIterator<Item = &'a E>) -> Self {
        let mut s = Self::default();
        for e in events {
            match (scope, e) {
                (Scope::Instance, E::InstanceLockoutPolicyAdded(p)) | (Scope::Org, E::OrgLockoutPolicyAdded(p)) => {
                    s = Self {
                        exists: true,
                        settings: *p,
                    }
                }
                (Scope::Instance, E::InstanceLockoutPolicyChanged(c)) | (Scope::Org, E::OrgLockoutPolicyChanged(c)) => {
                    s.settings.apply(c)
                }
                (Scope::Org, E::OrgLockoutPolicyRemoved) => s = Self::default(),
                _ => {}
            }
        }
        s
    }
}

impl LockoutSettings {
    pub fn apply(&mut self, c: &LockoutChanges) {
        if let Some(v) = c.max_password_attempts {
            self.max_password_attempts = v;
        }
        if let Some(v) = c.max_otp_attempts {
            self.max_otp_attempts = v;
        }
    }

    /// Whether the failure that brings the count to `failures_after` locks.
    pub fn locks(max: u64, failures_after: u32) -> bool {
        max > 0 && u64::from(failures_after) >= max
    }
}

/// Full replacement; unchanged is an error, as for every ZITADEL policy.
pub fn decide_update(scope: Scope, state: &LockoutState, new: LockoutSettings) -> Result<Vec<E>, DomainError> {
    let (missing, unchanged) = match scope {
        Scope::Instance => (
            DomainError::not_found("INSTANCE-0oPew", "Errors.IAM.LockoutPolicy.NotFound"),
            DomainError::precondition("INSTANCE-0psjF", "Errors.IAM.LockoutPolicy.NotChanged"),
        ),
        Scope::Org => (
            DomainError::not_found("ORG-ADfs1", "Errors.ORG.LockoutPolicy.NotFound"),
            DomainError::precondition("ORG-0JFSr", "Errors.ORG.LockoutPolicy.NotChanged"),
        ),
    };
    // An instance created before lockout policies existed has none yet.
    if !state.exists && scope == Scope::Org {
        return Err(missing);
    }
    let old = state.settings;
    let c = LockoutChanges {
        max_password_attempts: (old.max_password_attempts != new.max_password_attempts)
            .then_some(new.max_password_attempts),
        max_otp_attempts: (old.max_otp_attempts != new.max_otp_attempts).then_some(new.max_otp_attempts),
    };
    if c == LockoutChanges::default() {
        return Err(unchanged);
    }
    Ok(vec![match scope {
        Scope::Instance if !state.exists => E::InstanceLockoutPolicyAdded(new),
        Scope::Instance => E::InstanceLockoutPolicyChanged(c),
        Scope::Org => E::OrgLockoutPolicyChanged(c),
    }])
}

pub fn decide_add_custom(state: &LockoutState, new: LockoutSettings) -> Result<Vec<E>, DomainError> {
    if state.exists {
        return Err(DomainError::already_exists(
            "ORG-0olDf",
            "Errors.ORG.LockoutPolicy.AlreadyExists",
        ));
    }
    Ok(vec![E::OrgLockoutPolicyAdded(new)])
}

pub fn decide_reset(state: &LockoutState) -> Result<Vec<E>, DomainError> {
    if !state.exists {
        return Err(DomainError::not_found("ORG-D4zuz", "Errors.ORG.LockoutPolicy.NotFound"));
    }
    Ok(vec![E::OrgLockoutPolicyRemoved])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockout_rules() {
        let s = LockoutState::default();
        let new = LockoutSettings {
            max_password_attempts: 0,
            max_otp_attempts: 3,
        };
        assert_eq!(decide_update(Scope::Org, &s, new).unwrap_err().id, "ORG-ADfs1");
        let added = decide_add_custom(&s, new).unwrap();
        let s = LockoutState::fold(Scope::Org, &added);
        assert_eq!(decide_update(Scope::Org, &s, new).unwrap_err().id, "ORG-0JFSr");
        assert_eq!(decide_add_custom(&s, new).unwrap_err().id, "ORG-0olDf");
        assert!(LockoutSettings::locks(3, 3) && !LockoutSettings::locks(3, 2) && !LockoutSettings::locks(0, 99));
        let reset = decide_reset(&s).unwrap();
        let mut all = added;
        all.extend(reset);
        assert_eq!(
            decide_reset(&LockoutState::fold(Scope::Org, &all)).unwrap_err().id,
            "ORG-D4zuz"
        );
    }
}
