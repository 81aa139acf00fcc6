//! The instance's security policy: whether the login may be embedded in
//! iframes (and from which origins) and whether impersonation is allowed.
//! Twofold stores and serves it; neither feature exists yet to act on it.

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::event::EventPayload as E;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecuritySettings {
    pub enable_iframe_embedding: bool,
    pub allowed_origins: Vec<String>,
    pub enable_impersonation: bool,
}

/// Payload of `instance.policy.security.set`: present keys changed (the
/// key names are ZITADEL's, mixed case included).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SecuritySet {
    /// ZITADEL's older events name it `enabled`.
    #[serde(
        rename = "enable_iframe_embedding",
        alias = "enabled",
        skip_serializing_if = "Option::is_none"
    )]
    pub enable_iframe_embedding: Option<bool>,
    #[serde(rename = "allowedOrigins", skip_serializing_if = "Option::is_none")]
    pub allowed_origins: Option<Vec<String>>,
    #[serde(rename = "enable_impersonation", skip_serializing_if = "Option::is_none")]
    pub enable_impersonation: Option<bool>,
}

impl SecuritySettings {
    pub fn apply(&mut self, c: &SecuritySet) {
        if let Some(v) = c.enable_iframe_embedding {
            self.enable_iframe_embedding = v;
        }
        if let Some(v) = &c.allowed_origins {
            self.allowed_origins.clone_from(v);
        }
        if let Some(v) = c.enable_impersonation {
            self.enable_impersonation = v;
        }
    }

    pub fn fold<'a>(events: impl IntoIterator<Item = &'a E>) -> Self {
        let mut s = Self::default();
        for e in events {
            if let E::InstanceSecurityPolicySet(c) = e {
                s.apply(c);
            }
        }
        s
    }
}

/// Full replacement of the three values; unchanged is an error.
pub fn decide_set(state: &SecuritySettings, new: SecuritySettings) -> Result<Vec<E>, DomainError> {
    let c = SecuritySet {
        enable_iframe_embedding: (state.enable_iframe_embedding != new.enable_iframe_embedding)
            .then_some(new.enable_iframe_embedding),
        allowed_origins: (state.allowed_origins != new.allowed_origins).then(|| new.allowed_origins.clone()),
        enable_impersonation: (state.enable_impersonation != new.enable_impersonation)
            .then_some(new.enable_impersonation),
    };
    if c == SecuritySet::default() {
        return Err(DomainError::precondition("POLICY-EWsf3", "No changes"));
    }
    Ok(vec![E::InstanceSecurityPolicySet(c)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_changed_keys_are_set_and_nothing_changed_is_refused() {
        let state = SecuritySettings::default();
        assert_eq!(
            decide_set(&state, SecuritySettings::default()).unwrap_err().id,
            "POLICY-EWsf3"
        );
        let new = SecuritySettings {
            enable_iframe_embedding: true,
            allowed_origins: vec!["https://app.example.com".into()],
            enable_impersonation: false,
        };
        let events = decide_set(&state, new.clone()).unwrap();
        let [E::InstanceSecurityPolicySet(set)] = events.as_slice() else {
            panic!("{events:?}")
        };
        assert_eq!(
            serde_json::to_value(set).unwrap(),
            serde_json::json!({"enable_iframe_embedding": true, "allowedOrigins": ["https://app.example.com"]})
        );
        assert_eq!(SecuritySettings::fold(&events), new);
        assert_eq!(decide_set(&new, new.clone()).unwrap_err().id, "POLICY-EWsf3");
    }
}
