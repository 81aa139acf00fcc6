//! Organizations.

use crate::error::DomainError;
use crate::event::{DomainPayload, EventPayload, MemberPayload, NamePayload};

/// An org named in a request (`x-zitadel-orgid`, or a user's org) that
/// does not exist.
pub fn unknown_org() -> DomainError {
    DomainError::permission_denied("AUTH-Bs7Ds", "Organisation doesn't exist")
}

/// Events of a new org named `name` (trimmed), with a generated primary
/// domain under `host` and `creator` as its ORG_OWNER.
pub fn decide_add(name: &str, host: &str, creator: &str) -> Result<(String, Vec<EventPayload>), DomainError> {
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
        EventPayload::OrgMemberAdded(MemberPayload {
            user_id: creator.to_owned(),
            roles: vec!["ORG_OWNER".into()],
        }),
    ];
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
}
