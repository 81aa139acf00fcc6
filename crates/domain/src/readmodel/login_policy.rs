//! The login-policy read model: one document per instance default (keyed by
//! the instance ID) and per org with a custom policy (keyed by the org ID).

use serde::{Deserialize, Serialize};

use super::{Collection, DocDetails, DocKey};
use crate::event::{AggregateType, StoredEvent};
use crate::factors::{MultiFactor, SecondFactor};
use crate::login_policy::{LoginPolicySettings, LoginPolicyState, is_policy_event};
use crate::scope::Scope;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginPolicyView {
    pub details: DocDetails,
    pub settings: LoginPolicySettings,
    pub second_factors: Vec<SecondFactor>,
    pub multi_factors: Vec<MultiFactor>,
    /// True for the instance default.
    pub is_default: bool,
}

fn scope(ev: &StoredEvent) -> Option<Scope> {
    match ev.aggregate.kind {
        AggregateType::Instance => Some(Scope::Instance),
        AggregateType::Org => Some(Scope::Org),
        AggregateType::User
        | AggregateType::Session
        | AggregateType::Project
        | AggregateType::AuthRequest
        | AggregateType::KeyPair
        | AggregateType::OidcSession
        | AggregateType::ClientAssertion => None,
    }
}

pub(super) fn affected(ev: &StoredEvent) -> Vec<DocKey> {
    match scope(ev) {
        Some(s) if is_policy_event(s, &ev.payload) => {
            vec![DocKey::new(Collection::LoginPolicy, ev.aggregate.id.clone())]
        }
        _ => vec![],
    }
}

pub(super) fn apply(ev: &StoredEvent, prior: Option<LoginPolicyView>) -> Option<LoginPolicyView> {
    use crate::event::EventPayload as E;
    let scope = scope(ev)?;
    match (&ev.payload, prior) {
        (E::InstanceLoginPolicyAdded(s) | E::OrgLoginPolicyAdded(s), _) => Some(LoginPolicyView {
            details: DocDetails::created(ev),
            settings: s.clone(),
            second_factors: vec![],
            multi_factors: vec![],
            is_default: scope == Scope::Instance,
        }),
        (E::OrgLoginPolicyRemoved, _) => None,
        // Factor events for an org without a custom policy touch no document.
        (_, None) => None,
        (payload, Some(mut view)) => {
            let mut state = LoginPolicyState {
                exists: true,
                settings: view.settings,
                second_factors: view.second_factors,
                multi_factors: view.multi_factors,
            };
            state.apply(scope, payload);
            view.settings = state.settings;
            view.second_factors = state.second_factors;
            view.multi_factors = state.multi_factors;
            view.details.touch(ev);
            Some(view)
        }
    }
}
