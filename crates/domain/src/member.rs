//! Memberships: which users hold which roles on the instance or on an org.
//! The two scopes share the rules and differ in role names and error ids.

use std::collections::BTreeMap;

use crate::error::DomainError;
use crate::event::{EventPayload as E, MemberPayload, UserIdPayload};
use crate::permissions::is_known_role;
use crate::scope::Scope;

impl Scope {
    fn role_allowed(self, role: &str) -> bool {
        is_known_role(role)
            && match self {
                Self::Instance => role.starts_with("IAM_"),
                Self::Org => role.starts_with("ORG_") || role == "SELF_MANAGEMENT_GLOBAL",
            }
    }

    fn validate_roles(self, roles: &[String]) -> Result<(), DomainError> {
        match self {
            Self::Org if roles.is_empty() => Err(DomainError::invalid("ORG-4Mlfs", "Errors.Invalid.Argument")),
            _ if roles.iter().all(|r| self.role_allowed(r)) => Ok(()),
            Self::Org => Err(DomainError::invalid("Org-4N8es", "Errors.Org.MemberInvalid")),
            Self::Instance => Err(DomainError::invalid("INSTANCE-4m0fS", "Member is invalid")),
        }
    }

    fn user_missing(self) -> DomainError {
        match self {
            Self::Instance => DomainError::precondition("INSTA-GSXOn", "User could not be found"),
            Self::Org => DomainError::precondition("ORG-GoXOn", "User could not be found"),
        }
    }

    fn already_member(self) -> DomainError {
        match self {
            Self::Instance => DomainError::already_exists("INSTA-pFDwe", "Errors.Instance.Member.AlreadyExists"),
            Self::Org => DomainError::already_exists("ORG-poWwe", "Errors.Org.Member.AlreadyExists"),
        }
    }

    fn not_member(self) -> DomainError {
        match self {
            Self::Instance => DomainError::not_found("INSTANCE-D8JxR", "Member not found"),
            Self::Org => DomainError::not_found("Org-D8JxR", "Member not found"),
        }
    }

    fn unchanged(self) -> DomainError {
        match self {
            Self::Instance => DomainError::precondition("INSTANCE-LiaZi", "Errors.IAM.Member.RolesNotChanged"),
            Self::Org => DomainError::precondition("Org-LiaZi", "Errors.Org.Member.RolesNotChanged"),
        }
    }

    fn added(self, p: MemberPayload) -> E {
        match self {
            Self::Instance => E::InstanceMemberAdded(p),
            Self::Org => E::OrgMemberAdded(p),
        }
    }
    fn changed(self, p: MemberPayload) -> E {
        match self {
            Self::Instance => E::InstanceMemberChanged(p),
            Self::Org => E::OrgMemberChanged(p),
        }
    }
    fn removed(self, user_id: &str) -> E {
        let p = UserIdPayload {
            user_id: user_id.to_owned(),
        };
        match self {
            Self::Instance => E::InstanceMemberRemoved(p),
            Self::Org => E::OrgMemberRemoved(p),
        }
    }
}

/// Members of one instance or org: user ID → roles.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Members(pub BTreeMap<String, Vec<String>>);

impl Members {
    pub fn fold<'a>(events: impl IntoIterator<Item = &'a E>) -> Self {
        let mut m = BTreeMap::new();
        for e in events {
            match e {
                E::InstanceMemberAdded(p)
                | E::InstanceMemberChanged(p)
                | E::OrgMemberAdded(p)
                | E::OrgMemberChanged(p) => {
                    m.insert(p.user_id.clone(), p.roles.clone());
                }
                E::InstanceMemberRemoved(p)
                | E::InstanceMemberCascadeRemoved(p)
                | E::OrgMemberRemoved(p)
                | E::OrgMemberCascadeRemoved(p) => {
                    m.remove(&p.user_id);
                }
                _ => {}
            }
        }
        Self(m)
    }

    pub fn contains(&self, user_id: &str) -> bool {
        self.0.contains_key(user_id)
    }
}

pub fn decide_add(
    scope: Scope,
    members: &Members,
    user_id: &str,
    user_exists: bool,
    roles: Vec<String>,
) -> Result<Vec<E>, DomainError> {
    scope.validate_roles(&roles)?;
    if !user_exists {
        return Err(scope.user_missing());
    }
    if members.contains(user_id) {
        return Err(scope.already_member());
    }
    Ok(vec![scope.added(MemberPayload {
        user_id: user_id.to_owned(),
        roles,
    })])
}

pub fn decide_change(
    scope: Scope,
    members: &Members,
    user_id: &str,
    roles: Vec<String>,
) -> Result<Vec<E>, DomainError> {
    scope.validate_roles(&roles)?;
    let current = members.0.get(user_id).ok_or_else(|| scope.not_member())?;
    let mut a = current.clone();
    let mut b = roles.clone();
    a.sort();
    b.sort();
    if a == b {
        return Err(scope.unchanged());
    }
    Ok(vec![scope.changed(MemberPayload {
        user_id: user_id.to_owned(),
        roles,
    })])
}

/// The membership removal that accompanies the removal of its user.
pub fn cascade_removed(aggregate: crate::event::AggregateType, user_id: &str) -> E {
    let p = UserIdPayload {
        user_id: user_id.to_owned(),
    };
    match aggregate {
        crate::event::AggregateType::Org => E::OrgMemberCascadeRemoved(p),
        _ => E::InstanceMemberCascadeRemoved(p),
    }
}

/// Removing a non-member is not an error (nothing happens), as in ZITADEL.
pub fn decide_remove(scope: Scope, members: &Members, user_id: &str) -> Vec<E> {
    if members.contains(user_id) {
        vec![scope.removed(user_id)]
    } else {
        vec![]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles(r: &[&str]) -> Vec<String> {
        r.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn org_member_rules() {
        let none = Members::default();
        let id = |r: Result<Vec<E>, DomainError>| r.unwrap_err().id;
        assert_eq!(id(decide_add(Scope::Org, &none, "u", true, vec![])), "ORG-4Mlfs");
        assert_eq!(
            id(decide_add(Scope::Org, &none, "u", true, roles(&["IAM_OWNER"]))),
            "Org-4N8es"
        );
        assert_eq!(
            id(decide_add(Scope::Org, &none, "u", true, roles(&["ORG_NOPE"]))),
            "Org-4N8es"
        );
        assert_eq!(
            id(decide_add(Scope::Org, &none, "u", false, roles(&["ORG_OWNER"]))),
            "ORG-GoXOn"
        );
        let added = decide_add(Scope::Org, &none, "u", true, roles(&["ORG_OWNER"])).unwrap();
        let m = Members::fold(&added);
        assert_eq!(
            id(decide_add(Scope::Org, &m, "u", true, roles(&["ORG_OWNER"]))),
            "ORG-poWwe"
        );
        assert_eq!(
            id(decide_change(Scope::Org, &m, "u", roles(&["ORG_OWNER"]))),
            "Org-LiaZi"
        );
        assert_eq!(
            id(decide_change(Scope::Org, &none, "u", roles(&["ORG_OWNER"]))),
            "Org-D8JxR"
        );
        assert_eq!(decide_remove(Scope::Org, &none, "u"), vec![]);
        assert_eq!(decide_remove(Scope::Org, &m, "u").len(), 1);
    }

    #[test]
    fn instance_member_rules() {
        let none = Members::default();
        assert!(
            decide_add(Scope::Instance, &none, "u", true, vec![]).is_ok(),
            "empty roles are accepted"
        );
        let e = decide_add(Scope::Instance, &none, "u", true, roles(&["ORG_OWNER"])).unwrap_err();
        assert_eq!(e.id, "INSTANCE-4m0fS");
    }
}
