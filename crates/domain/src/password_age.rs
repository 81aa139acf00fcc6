//! Password age policy: after how many days a password expires and how many
//! days before that the login warns (0 = never). The instance has a default
//! (no expiry, set at setup); an org may have its own. Only login front ends
//! act on it: no API refuses an old password (as in ZITADEL).

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::event::EventPayload as E;
use crate::scope::Scope;

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

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PasswordAgeState {
    pub exists: bool,
    pub settings: PasswordAgeSettings,
}

impl PasswordAgeState {
    pub fn fold<'a>(scope: Scope, events: impl IntoIterator<Item = &'a E>) -> Self {
        let mut s = Self::default();
        for e in events {
            match (scope, e) {
                (Scope::Instance, E::InstancePasswordAgePolicyAdded(p))
                | (Scope::Org, E::OrgPasswordAgePolicyAdded(p)) => {
                    s = Self {
                        exists: true,
                        settings: *p,
                    }
                }
                (Scope::Instance, E::InstancePasswordAgePolicyChanged(c))
                | (Scope::Org, E::OrgPasswordAgePolicyChanged(c)) => s.settings.apply(c),
                (Scope::Org, E::OrgPasswordAgePolicyRemoved) => s = Self::default(),
                _ => {}
            }
        }
        s
    }
}

impl PasswordAgeSettings {
    pub fn apply(&mut self, c: &PasswordAgeChanges) {
        if let Some(v) = c.max_age_days {
            self.max_age_days = v;
        }
        if let Some(v) = c.expire_warn_days {
            self.expire_warn_days = v;
        }
    }
}

/// Full replacement; unchanged is an error, as for every ZITADEL policy.
/// An instance set up before the policy existed gets it added on its first
/// update (its effective default until then is no expiry).
pub fn decide_update(scope: Scope, state: &PasswordAgeState, new: PasswordAgeSettings) -> Result<Vec<E>, DomainError> {
    if !state.exists && scope == Scope::Org {
        return Err(DomainError::not_found("ORG-0oPew", "Password Age Policy not found"));
    }
    let old = state.settings;
    let c = PasswordAgeChanges {
        max_age_days: (old.max_age_days != new.max_age_days).then_some(new.max_age_days),
        expire_warn_days: (old.expire_warn_days != new.expire_warn_days).then_some(new.expire_warn_days),
    };
    if c == PasswordAgeChanges::default() {
        return Err(match scope {
            Scope::Instance => {
                DomainError::precondition("INSTANCE-180sf", "Default Password Age Policy has not been changed")
            }
            // ZITADEL's key, typo included.
            Scope::Org => DomainError::precondition("Org-dsgjR", "Errors.ORg.LabelPolicy.NotChanged"),
        });
    }
    Ok(vec![match scope {
        Scope::Instance if !state.exists => E::InstancePasswordAgePolicyAdded(new),
        Scope::Instance => E::InstancePasswordAgePolicyChanged(c),
        Scope::Org => E::OrgPasswordAgePolicyChanged(c),
    }])
}

pub fn decide_add_custom(state: &PasswordAgeState, new: PasswordAgeSettings) -> Result<Vec<E>, DomainError> {
    if state.exists {
        return Err(DomainError::already_exists(
            "ORG-Lk0dS",
            "Password Age Policy already exists",
        ));
    }
    Ok(vec![E::OrgPasswordAgePolicyAdded(new)])
}

pub fn decide_reset(state: &PasswordAgeState) -> Result<Vec<E>, DomainError> {
    if !state.exists {
        return Err(DomainError::not_found("ORG-Dgs1g", "Password Age Policy not found"));
    }
    Ok(vec![E::OrgPasswordAgePolicyRemoved])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn age(max_age_days: u64, expire_warn_days: u64) -> PasswordAgeSettings {
        PasswordAgeSettings {
            max_age_days,
            expire_warn_days,
        }
    }

    #[test]
    fn instance_policy_changes_only_what_differs() {
        let id = |r: Result<Vec<E>, DomainError>| r.unwrap_err().id;
        // given no policy (an older instance), when updated to no expiry, then unchanged
        let none = PasswordAgeState::default();
        assert_eq!(id(decide_update(Scope::Instance, &none, age(0, 0))), "INSTANCE-180sf");
        let added = decide_update(Scope::Instance, &none, age(90, 0)).unwrap();
        assert_eq!(added, vec![E::InstancePasswordAgePolicyAdded(age(90, 0))]);
        let s = PasswordAgeState::fold(Scope::Instance, &added);
        assert_eq!(
            decide_update(Scope::Instance, &s, age(90, 7)).unwrap(),
            vec![E::InstancePasswordAgePolicyChanged(PasswordAgeChanges {
                max_age_days: None,
                expire_warn_days: Some(7),
            })]
        );
    }

    #[test]
    fn org_policy_is_added_updated_and_reset() {
        let id = |r: Result<Vec<E>, DomainError>| r.unwrap_err().id;
        let s = PasswordAgeState::default();
        assert_eq!(id(decide_update(Scope::Org, &s, age(1, 1))), "ORG-0oPew");
        assert_eq!(id(decide_reset(&s)), "ORG-Dgs1g");
        let added = decide_add_custom(&s, age(30, 5)).unwrap();
        let s = PasswordAgeState::fold(Scope::Org, &added);
        assert_eq!(id(decide_add_custom(&s, age(30, 5))), "ORG-Lk0dS");
        assert_eq!(id(decide_update(Scope::Org, &s, age(30, 5))), "Org-dsgjR");
        let mut all = added;
        all.extend(decide_reset(&s).unwrap());
        assert!(!PasswordAgeState::fold(Scope::Org, &all).exists);
    }
}
