//! Organizations.

use crate::error::DomainError;
use crate::event::{DomainPayload, EventPayload, MemberPayload, NamePayload};
use crate::member::{self, Members};
use crate::scope::Scope;

/// An org named in a request (`x-zitadel-orgid`, or a user's org) that
/// does not exist.
pub fn unknown_org() -> DomainError {
    DomainError::permission_denied("AUTH-Bs7Ds", "Organisation doesn't exist")
}

/// Events of a new org named `name` (trimmed), with a generated primary
/// domain under `host` and `creator` as its ORG_OWNER.
pub fn decide_add(name: &str, host: &str, creator: &str) -> Result<(String, Vec<EventPayload>), DomainError> {
    let (domain, mut events) = new_org(name, host)?;
    events.push(EventPayload::OrgMemberAdded(MemberPayload {
        user_id: creator.to_owned(),
        roles: vec![ORG_OWNER.into()],
    }));
    Ok((domain, events))
}

const ORG_OWNER: &str = "ORG_OWNER";

/// The org, its generated domain verified and primary.
fn new_org(name: &str, host: &str) -> Result<(String, Vec<EventPayload>), DomainError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(DomainError::invalid("EVENT-Mf9sd", "Organisation is invalid"));
    }
    crate::names::check("org name", name)?;
    let domain = generated_domain(name, host)
        .ok_or_else(|| DomainError::invalid("ORG-RrfXY", "Errors.Org.Domain.EmptyString"))?;
    let d = || DomainPayload { domain: domain.clone() };
    let events = vec![
        EventPayload::OrgAdded(NamePayload { name: name.to_owned() }),
        EventPayload::OrgDomainAdded(d()),
        EventPayload::OrgDomainVerified(d()),
        EventPayload::OrgDomainPrimarySet(d()),
    ];
    Ok((domain, events))
}

/// An admin of an org set up by v2 AddOrganization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewOrgAdmin {
    pub user_id: String,
    /// Whether the user exists (or is created with the org).
    pub exists: bool,
    /// ORG_OWNER when empty.
    pub roles: Vec<String>,
}

/// v2 AddOrganization: the org and its admins' memberships (the caller is
/// not added). `org_exists`: the aggregate already has events, which a
/// caller-chosen ID reports as taken.
pub fn decide_set_up(
    org_exists: bool,
    name: &str,
    host: &str,
    admins: &[NewOrgAdmin],
) -> Result<(String, Vec<EventPayload>), DomainError> {
    if org_exists {
        return Err(DomainError::already_exists("ORG-laho2n", "Errors.Org.AlreadyExisting"));
    }
    let (domain, mut events) = new_org(name, host)?;
    for admin in admins {
        let roles = if admin.roles.is_empty() {
            vec![ORG_OWNER.to_owned()]
        } else {
            admin.roles.clone()
        };
        let members = Members::fold(&events);
        events.extend(member::decide_add(
            Scope::Org,
            &members,
            &admin.user_id,
            admin.exists,
            roles,
        )?);
    }
    Ok((domain, events))
}

/// The domain generated for a new org: `<label>.<host>`, where the label is
/// the lower-cased name with spaces as `-` and everything but letters,
/// digits and `-` removed (at most 63 characters, no `-` at either end).
/// None when nothing of the name is left.
pub fn generated_domain(name: &str, host: &str) -> Option<String> {
    let label: String = name
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c == ' ' { '-' } else { c })
        .filter(|c| c.is_alphanumeric() || *c == '-')
        .take(63)
        .collect();
    let label = label.trim_matches('-');
    (!label.is_empty()).then(|| format!("{label}.{host}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_domains() {
        assert_eq!(
            generated_domain("ACME Corp", "localhost").unwrap(),
            "acme-corp.localhost"
        );
        assert_eq!(
            generated_domain(" -Bank (EU)- ", "example.com").unwrap(),
            "bank-eu.example.com"
        );
        assert_eq!(generated_domain("!!!", "localhost"), None);
    }

    #[test]
    fn add_org_validates_the_name() {
        assert_eq!(decide_add("  ", "localhost", "u").unwrap_err().id, "EVENT-Mf9sd");
        assert_eq!(decide_add("???", "localhost", "u").unwrap_err().id, "ORG-RrfXY");
        let (domain, events) = decide_add(" Bank ", "localhost", "u").unwrap();
        assert_eq!(domain, "bank.localhost");
        assert_eq!(events.len(), 5);
    }

    #[test]
    fn set_up_org_with_admins() {
        let admin = |id: &str, exists: bool, roles: &[&str]| NewOrgAdmin {
            user_id: id.into(),
            exists,
            roles: roles.iter().map(|r| r.to_string()).collect(),
        };
        let roles_of = |events: &[EventPayload]| -> Vec<(String, Vec<String>)> {
            events
                .iter()
                .filter_map(|e| match e {
                    EventPayload::OrgMemberAdded(m) => Some((m.user_id.clone(), m.roles.clone())),
                    _ => None,
                })
                .collect()
        };
        let (_, events) = decide_set_up(false, "Bank", "localhost", &[]).unwrap();
        assert_eq!(
            (events.len(), roles_of(&events)),
            (4, vec![]),
            "the caller is not added"
        );
        let (_, events) = decide_set_up(
            false,
            "Bank",
            "localhost",
            &[admin("a", true, &[]), admin("b", true, &["ORG_USER_MANAGER"])],
        )
        .unwrap();
        assert_eq!(
            roles_of(&events),
            vec![
                ("a".into(), vec!["ORG_OWNER".into()]),
                ("b".into(), vec!["ORG_USER_MANAGER".into()])
            ]
        );
        // (org exists, admins, error id)
        let refused = [
            (true, vec![], "ORG-laho2n"),
            (false, vec![admin("x", false, &[])], "ORG-GoXOn"),
            (false, vec![admin("a", true, &["IAM_OWNER"])], "Org-4N8es"),
            (false, vec![admin("a", true, &[]), admin("a", true, &[])], "ORG-poWwe"),
        ];
        for (exists, admins, id) in refused {
            let err = decide_set_up(exists, "Bank", "localhost", &admins).unwrap_err();
            assert_eq!(err.id, id, "{admins:?}");
        }
    }
}
