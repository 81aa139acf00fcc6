//! Who may do what: the role → permission table and the membership check.
//! This is the only place that knows which role grants which permission.

use crate::error::DomainError;

const ROLES: &[(&str, &[&str])] = &[
    (
        "IAM_OWNER",
        &[
            "iam.read",
            "iam.write",
            "iam.policy.read",
            "iam.policy.write",
            "iam.member.read",
            "iam.member.write",
            "iam.member.delete",
            "org.create",
            "org.read",
            "org.write",
            "org.member.read",
            "org.member.write",
            "org.member.delete",
            "policy.read",
            "policy.write",
            "policy.delete",
            "user.read",
            "user.write",
            "user.delete",
            "user.credential.write",
            "session.read",
            "session.write",
            "session.delete",
        ],
    ),
    (
        "IAM_OWNER_VIEWER",
        &[
            "iam.read",
            "iam.policy.read",
            "iam.member.read",
            "org.read",
            "org.member.read",
            "policy.read",
            "user.read",
            "session.read",
        ],
    ),
    (
        "IAM_ORG_MANAGER",
        &[
            "org.create",
            "org.read",
            "org.write",
            "org.member.read",
            "org.member.write",
            "org.member.delete",
            "policy.read",
            "policy.write",
            "policy.delete",
            "user.read",
            "user.write",
            "user.delete",
            "user.credential.write",
            "session.read",
            "session.delete",
        ],
    ),
    (
        "IAM_USER_MANAGER",
        &[
            "org.read",
            "org.member.read",
            "org.member.delete",
            "user.read",
            "user.write",
            "user.delete",
            "session.read",
            "session.delete",
        ],
    ),
    (
        "IAM_LOGIN_CLIENT",
        &[
            "iam.read",
            "iam.policy.read",
            "iam.member.read",
            "iam.member.write",
            "org.read",
            "org.member.read",
            "org.member.write",
            "policy.read",
            "user.read",
            "user.write",
            "user.credential.write",
            "session.read",
            "session.write",
            "session.delete",
        ],
    ),
    (
        "ORG_OWNER",
        &[
            "org.read",
            "org.write",
            "org.member.read",
            "org.member.write",
            "org.member.delete",
            "policy.read",
            "policy.write",
            "policy.delete",
            "user.read",
            "user.write",
            "user.delete",
            "user.credential.write",
            "session.read",
            "session.delete",
        ],
    ),
    (
        "ORG_USER_MANAGER",
        &[
            "org.read",
            "policy.read",
            "user.read",
            "user.write",
            "user.delete",
            "session.read",
            "session.delete",
        ],
    ),
    (
        "ORG_OWNER_VIEWER",
        &["org.read", "org.member.read", "policy.read", "user.read"],
    ),
    (
        "ORG_SETTINGS_MANAGER",
        &[
            "org.read",
            "org.write",
            "org.member.read",
            "policy.read",
            "policy.write",
            "policy.delete",
        ],
    ),
    ("ORG_USER_PERMISSION_EDITOR", &["policy.read", "user.read"]),
    ("ORG_PROJECT_PERMISSION_EDITOR", &["policy.read", "user.read"]),
    ("PROJECT_OWNER", &["policy.read", "user.read"]),
    ("PROJECT_OWNER_VIEWER", &["policy.read", "user.read"]),
    ("PROJECT_GRANT_OWNER", &["policy.read", "user.read"]),
    ("PROJECT_GRANT_OWNER_VIEWER", &["policy.read", "user.read"]),
    ("ORG_PROJECT_CREATOR", &["policy.read"]),
    ("PROJECT_OWNER_GLOBAL", &["policy.read"]),
    ("PROJECT_OWNER_VIEWER_GLOBAL", &["policy.read"]),
    (
        "SELF_MANAGEMENT_GLOBAL",
        &["org.create", "policy.read", "user.self.delete"],
    ),
    ("ORG_USER_SELF_MANAGER", &["policy.read", "user.self.delete"]),
];

/// Whether `role` is one Twofold knows.
pub fn is_known_role(role: &str) -> bool {
    ROLES.iter().any(|(r, _)| *r == role)
}

pub fn role_grants(role: &str, permission: &str) -> bool {
    ROLES.iter().any(|(r, perms)| *r == role && perms.contains(&permission))
}

/// Where a membership applies: instance roles apply in every org of the
/// instance, org roles only in their org.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MemberScope {
    Instance,
    Org(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    pub scope: MemberScope,
    pub roles: Vec<String>,
}

/// Checks `permission` in the context of `org_id` against all of the
/// caller's memberships. Instance roles count everywhere, org roles only in
/// their org. A caller without any membership gets NotFound (ZITADEL's
/// answer); one whose roles do not grant the permission there gets
/// PermissionDenied.
pub fn check(memberships: &[Membership], org_id: &str, permission: &str) -> Result<(), DomainError> {
    if memberships.is_empty() {
        return Err(DomainError::not_found("AUTHZ-cdgFk", "membership not found"));
    }
    let granted = memberships
        .iter()
        .filter(|m| match &m.scope {
            MemberScope::Instance => true,
            MemberScope::Org(o) => o == org_id,
        })
        .any(|m| m.roles.iter().any(|r| role_grants(r, permission)));
    if granted {
        Ok(())
    } else {
        Err(DomainError::permission_denied(
            "AUTH-5mWD2",
            "No matching permissions found",
        ))
    }
}

/// Whether a caller sees a user: itself, or `user.read` in the user's org.
pub fn sees_user(memberships: &[Membership], caller_id: &str, user_id: &str, user_org: &str) -> bool {
    caller_id == user_id || check(memberships, user_org, "user.read").is_ok()
}

/// Whether a caller sees a session: one it created or whose user it is, or
/// with `session.read` in the checked user's org (the instance while no
/// user is checked), as ZITADEL's session queries allow.
pub fn sees_session(memberships: &[Membership], caller_id: &str, creator: &str, user: Option<(&str, &str)>) -> bool {
    creator == caller_id
        || user.is_some_and(|(id, _)| id == caller_id)
        || check(memberships, user.map_or("", |(_, org)| org), "session.read").is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn m(scope: MemberScope, role: &str) -> Membership {
        Membership {
            scope,
            roles: vec![role.to_owned()],
        }
    }

    #[test]
    fn who_sees_users_and_sessions() {
        let owner_a = vec![m(MemberScope::Org("a".into()), "ORG_OWNER")];
        let iam = vec![m(MemberScope::Instance, "IAM_OWNER_VIEWER")];
        let none: Vec<Membership> = vec![];
        // (memberships, user id, user org, expected)
        let users = [
            (&owner_a, "u", "a", true),
            (&owner_a, "u", "b", false),
            (&owner_a, "me", "b", true),
            (&iam, "u", "b", true),
            (&none, "u", "a", false),
            (&none, "me", "a", true),
        ];
        for (ms, user, org, expected) in users {
            assert_eq!(sees_user(ms, "me", user, org), expected, "{ms:?} {user}@{org}");
        }
        // (memberships, creator, checked user, expected)
        let sessions = [
            (&owner_a, "x", Some(("u", "a")), true),
            (&owner_a, "x", Some(("u", "b")), false),
            (&owner_a, "me", Some(("u", "b")), true),
            (&owner_a, "x", Some(("me", "b")), true),
            (&owner_a, "x", None, false),
            (&iam, "x", None, true),
            (&none, "x", Some(("u", "a")), false),
        ];
        for (ms, creator, user, expected) in sessions {
            assert_eq!(
                sees_session(ms, "me", creator, user),
                expected,
                "{ms:?} {creator} {user:?}"
            );
        }
    }

    #[test]
    fn permission_table() {
        use ErrorKind::*;
        let own = || MemberScope::Org("own".into());
        // (memberships, permission, target org, expected)
        let cases: Vec<(Vec<Membership>, &str, &str, Option<ErrorKind>)> = vec![
            (
                vec![m(MemberScope::Instance, "IAM_OWNER")],
                "iam.policy.write",
                "any",
                None,
            ),
            (
                vec![m(MemberScope::Instance, "IAM_OWNER")],
                "policy.write",
                "other",
                None,
            ),
            (
                vec![m(MemberScope::Instance, "IAM_OWNER_VIEWER")],
                "iam.policy.read",
                "any",
                None,
            ),
            (
                vec![m(MemberScope::Instance, "IAM_OWNER_VIEWER")],
                "iam.policy.write",
                "any",
                Some(PermissionDenied),
            ),
            (
                vec![m(MemberScope::Instance, "IAM_ORG_MANAGER")],
                "iam.policy.read",
                "any",
                Some(PermissionDenied),
            ),
            (vec![m(own(), "ORG_OWNER")], "policy.write", "own", None),
            (
                vec![m(own(), "ORG_OWNER")],
                "policy.write",
                "other",
                Some(PermissionDenied),
            ),
            (
                vec![m(own(), "ORG_OWNER")],
                "iam.policy.read",
                "own",
                Some(PermissionDenied),
            ),
            (
                vec![m(own(), "ORG_OWNER_VIEWER")],
                "policy.write",
                "own",
                Some(PermissionDenied),
            ),
            (vec![m(own(), "ORG_SETTINGS_MANAGER")], "policy.delete", "own", None),
            (vec![], "policy.read", "own", Some(NotFound)),
        ];
        for (ms, perm, org, expected) in cases {
            let got = check(&ms, org, perm).err().map(|e| e.kind);
            assert_eq!(got, expected, "{ms:?} {perm} in {org}");
        }
    }

    #[test]
    fn error_ids() {
        assert_eq!(check(&[], "o", "policy.read").unwrap_err().id, "AUTHZ-cdgFk");
        let viewer = [m(MemberScope::Instance, "IAM_OWNER_VIEWER")];
        assert_eq!(check(&viewer, "o", "iam.policy.write").unwrap_err().id, "AUTH-5mWD2");
    }
}
