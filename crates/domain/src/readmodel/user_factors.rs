//! One small document per human user for the login-policy preview: who they
//! are and which factor kinds they have ready. Derived from the user document
//! whenever the store writes it; its lookup `<org id>:<mask>` lets the store
//! count users per org and factor set without reading the documents.

use serde::{Deserialize, Serialize};

use super::directory::{UserState, UserView};
use super::{Collection, DocKey, DocWrite};
use crate::ids::{OrgId, UserId};
use crate::policy_preview::{FactorMask, UserRef};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserFactorsView {
    pub user_id: UserId,
    pub login_name: String,
    pub org_id: OrgId,
    pub state: UserState,
    pub mask: FactorMask,
}

impl UserFactorsView {
    pub fn user_ref(&self) -> UserRef {
        UserRef {
            user_id: self.user_id.clone(),
            login_name: self.login_name.clone(),
            org_id: self.org_id.clone(),
        }
    }
}

/// The lookup of the users of `org` with exactly the factors `mask`.
pub fn group_lookup(org: &OrgId, mask: FactorMask) -> String {
    format!("{}:{}", org.as_str(), mask.0)
}

/// The org and mask a lookup names; None for anything else.
pub fn parse_group(lookup: &str) -> Option<(OrgId, FactorMask)> {
    let (org, mask) = lookup.rsplit_once(':')?;
    Some((OrgId::from(org), FactorMask(mask.parse().ok()?)))
}

/// The summary to write after the user document `w` was written: the
/// summary of a human, or its removal (machine users and removed users).
pub(super) fn derived(w: &DocWrite) -> Option<DocWrite> {
    if w.key.collection != Collection::User {
        return None;
    }
    let view = w
        .doc
        .as_ref()
        // From the borrowed document: no copy of it.
        .and_then(|d| UserView::deserialize(d).ok())
        .filter(|u| u.human().is_some())
        .map(|u| UserFactorsView {
            mask: FactorMask::of_user(&u),
            user_id: u.id,
            login_name: u.user_name,
            org_id: u.org_id,
            state: u.state,
        });
    Some(DocWrite {
        key: DocKey::new(Collection::UserFactors, w.key.id.clone()),
        lookup: view.as_ref().map(|v| group_lookup(&v.org_id, v.mask)),
        doc: view.and_then(|v| serde_json::to_value(v).ok()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_round_trips() {
        let org = OrgId::from("3001");
        assert_eq!(
            parse_group(&group_lookup(&org, FactorMask(5))),
            Some((org, FactorMask(5)))
        );
        assert_eq!(parse_group("x"), None);
    }
}
