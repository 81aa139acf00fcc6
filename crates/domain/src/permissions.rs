//! Who may do what: the role → permission table and the membership check.
//! This is the only place that knows which role grants which permission.

use crate::error::DomainError;
use crate::ids::{OrgId, UserId};
use Permission::*;

/// Defines [`Permission`] from `Variant => "wire.name"` pairs, so each
/// permission is written once: the enum, [`Permission::ALL`] and `as_str`.
macro_rules! permissions {
    ($($variant:ident => $name:literal,)*) => {
        /// A permission as roles grant it and RPCs require it; `as_str` is its
        /// wire name (`user.write`), the one the proto auth options use.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Permission {
            $($variant,)*
        }

        impl Permission {
            pub const ALL: &[Permission] = &[$(Permission::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Permission::$variant => $name,)*
                }
            }
        }
    };
}

permissions! {
    IamRead => "iam.read",
    IamWrite => "iam.write",
    IamPolicyRead => "iam.policy.read",
    IamPolicyWrite => "iam.policy.write",
    IamMemberRead => "iam.member.read",
    IamMemberWrite => "iam.member.write",
    IamMemberDelete => "iam.member.delete",
    OrgCreate => "org.create",
    OrgRead => "org.read",
    OrgWrite => "org.write",
    OrgMemberRead => "org.member.read",
    OrgMemberWrite => "org.member.write",
    OrgMemberDelete => "org.member.delete",
    PolicyRead => "policy.read",
    PolicyWrite => "policy.write",
    PolicyDelete => "policy.delete",
    UserRead => "user.read",
    UserWrite => "user.write",
    UserDelete => "user.delete",
    UserCredentialWrite => "user.credential.write",
    UserSelfDelete => "user.self.delete",
    SessionRead => "session.read",
    SessionWrite => "session.write",
    SessionDelete => "session.delete",
    ProjectCreate => "project.create",
    ProjectRead => "project.read",
    ProjectWrite => "project.write",
    ProjectDelete => "project.delete",
    ProjectAppRead => "project.app.read",
    ProjectAppWrite => "project.app.write",
    ProjectAppDelete => "project.app.delete",
    SessionLink => "session.link",
    IamIdpRead => "iam.idp.read",
    IamFeatureRead => "iam.feature.read",
    IamRestrictionsRead => "iam.restrictions.read",
    OrgIdpRead => "org.idp.read",
    OrgFeatureRead => "org.feature.read",
    UserGrantRead => "user.grant.read",
    UserGrantWrite => "user.grant.write",
    UserMembershipRead => "user.membership.read",
    UserPasskeyWrite => "user.passkey.write",
    UserFeatureRead => "user.feature.read",
    ProjectMemberRead => "project.member.read",
    ProjectMemberWrite => "project.member.write",
    ProjectRoleRead => "project.role.read",
    ProjectGrantRead => "project.grant.read",
    ProjectGrantMemberRead => "project.grant.member.read",
    ProjectGrantMemberWrite => "project.grant.member.write",
    UserschemaRead => "userschema.read",
}

impl Permission {
    /// The permission of a wire name; None for a name no role grants.
    pub fn parse(name: &str) -> Option<Permission> {
        Permission::ALL.iter().copied().find(|p| p.as_str() == name)
    }
}

impl std::fmt::Display for Permission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

const ROLES: &[(&str, &[Permission])] = &[
    (
        "IAM_OWNER",
        &[
            IamRead,
            IamWrite,
            IamPolicyRead,
            IamPolicyWrite,
            IamMemberRead,
            IamMemberWrite,
            IamMemberDelete,
            OrgCreate,
            OrgRead,
            OrgWrite,
            OrgMemberRead,
            OrgMemberWrite,
            OrgMemberDelete,
            PolicyRead,
            PolicyWrite,
            PolicyDelete,
            UserRead,
            UserWrite,
            UserDelete,
            UserCredentialWrite,
            UserPasskeyWrite,
            SessionRead,
            SessionWrite,
            SessionDelete,
            ProjectCreate,
            ProjectRead,
            ProjectWrite,
            ProjectDelete,
            ProjectAppRead,
            ProjectAppWrite,
            ProjectAppDelete,
        ],
    ),
    (
        "IAM_OWNER_VIEWER",
        &[
            IamRead,
            IamPolicyRead,
            IamMemberRead,
            OrgRead,
            OrgMemberRead,
            PolicyRead,
            UserRead,
            SessionRead,
            ProjectRead,
            ProjectAppRead,
        ],
    ),
    (
        "IAM_ORG_MANAGER",
        &[
            OrgCreate,
            OrgRead,
            OrgWrite,
            OrgMemberRead,
            OrgMemberWrite,
            OrgMemberDelete,
            PolicyRead,
            PolicyWrite,
            PolicyDelete,
            UserRead,
            UserWrite,
            UserDelete,
            UserCredentialWrite,
            UserPasskeyWrite,
            SessionRead,
            SessionDelete,
            ProjectCreate,
            ProjectRead,
            ProjectWrite,
            ProjectDelete,
            ProjectAppRead,
            ProjectAppWrite,
            ProjectAppDelete,
        ],
    ),
    (
        "IAM_USER_MANAGER",
        &[
            OrgRead,
            OrgMemberRead,
            OrgMemberDelete,
            UserRead,
            UserWrite,
            UserDelete,
            UserPasskeyWrite,
            SessionRead,
            SessionDelete,
            ProjectRead,
            ProjectAppRead,
        ],
    ),
    // ZITADEL's default list, in its order (its two repeated project member
    // entries written once).
    (
        "IAM_LOGIN_CLIENT",
        &[
            IamRead,
            IamPolicyRead,
            IamMemberRead,
            IamMemberWrite,
            IamIdpRead,
            IamFeatureRead,
            IamRestrictionsRead,
            OrgRead,
            OrgMemberRead,
            OrgMemberWrite,
            OrgIdpRead,
            OrgFeatureRead,
            UserRead,
            UserWrite,
            UserGrantRead,
            UserGrantWrite,
            UserMembershipRead,
            UserCredentialWrite,
            UserPasskeyWrite,
            UserFeatureRead,
            PolicyRead,
            ProjectRead,
            ProjectMemberRead,
            ProjectMemberWrite,
            ProjectRoleRead,
            ProjectAppRead,
            ProjectGrantRead,
            ProjectGrantMemberRead,
            ProjectGrantMemberWrite,
            SessionRead,
            SessionWrite,
            SessionLink,
            SessionDelete,
            UserschemaRead,
        ],
    ),
    (
        "ORG_OWNER",
        &[
            OrgRead,
            OrgWrite,
            OrgMemberRead,
            OrgMemberWrite,
            OrgMemberDelete,
            PolicyRead,
            PolicyWrite,
            PolicyDelete,
            UserRead,
            UserWrite,
            UserDelete,
            UserCredentialWrite,
            UserPasskeyWrite,
            SessionRead,
            SessionDelete,
            ProjectCreate,
            ProjectRead,
            ProjectWrite,
            ProjectDelete,
            ProjectAppRead,
            ProjectAppWrite,
        ],
    ),
    (
        "ORG_USER_MANAGER",
        &[
            OrgRead,
            PolicyRead,
            UserRead,
            UserWrite,
            UserDelete,
            SessionRead,
            SessionDelete,
            ProjectRead,
        ],
    ),
    (
        "ORG_OWNER_VIEWER",
        &[
            OrgRead,
            OrgMemberRead,
            PolicyRead,
            UserRead,
            ProjectRead,
            ProjectAppRead,
        ],
    ),
    (
        "ORG_SETTINGS_MANAGER",
        &[
            OrgRead,
            OrgWrite,
            OrgMemberRead,
            PolicyRead,
            PolicyWrite,
            PolicyDelete,
            ProjectRead,
        ],
    ),
    (
        "ORG_USER_PERMISSION_EDITOR",
        &[PolicyRead, UserRead, ProjectRead, ProjectAppRead],
    ),
    (
        "ORG_PROJECT_PERMISSION_EDITOR",
        &[PolicyRead, UserRead, ProjectRead, ProjectAppRead],
    ),
    (
        "PROJECT_OWNER",
        &[
            PolicyRead,
            UserRead,
            ProjectRead,
            ProjectWrite,
            ProjectDelete,
            ProjectAppRead,
            ProjectAppWrite,
            ProjectAppDelete,
        ],
    ),
    (
        "PROJECT_OWNER_VIEWER",
        &[PolicyRead, UserRead, ProjectRead, ProjectAppRead],
    ),
    ("PROJECT_GRANT_OWNER", &[PolicyRead, UserRead, ProjectRead]),
    ("PROJECT_GRANT_OWNER_VIEWER", &[PolicyRead, UserRead, ProjectRead]),
    ("ORG_PROJECT_CREATOR", &[PolicyRead, ProjectCreate, ProjectRead]),
    (
        "PROJECT_OWNER_GLOBAL",
        &[
            PolicyRead,
            ProjectRead,
            ProjectWrite,
            ProjectDelete,
            ProjectAppRead,
            ProjectAppWrite,
            ProjectAppDelete,
        ],
    ),
    (
        "PROJECT_OWNER_VIEWER_GLOBAL",
        &[PolicyRead, ProjectRead, ProjectAppRead],
    ),
    ("SELF_MANAGEMENT_GLOBAL", &[OrgCreate, PolicyRead, UserSelfDelete]),
    ("ORG_USER_SELF_MANAGER", &[PolicyRead, UserSelfDelete]),
];

/// Whether `role` is one Twofold knows.
pub fn is_known_role(role: &str) -> bool {
    ROLES.iter().any(|(r, _)| *r == role)
}

pub fn role_grants(role: &str, permission: Permission) -> bool {
    ROLES.iter().any(|(r, perms)| *r == role && perms.contains(&permission))
}

/// A user's roles on the instance or on one org: instance roles apply in
/// every org of the instance, org roles only in their org.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    /// None for an instance membership.
    pub org_id: Option<String>,
    pub roles: Vec<String>,
}

/// Where a permission is asked for: the instance, which only instance
/// memberships grant, or one org, which its members' roles grant as well.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum On<'a> {
    Instance,
    Org(&'a OrgId),
}

impl On<'_> {
    fn is_org(self, id: &str) -> bool {
        matches!(self, On::Org(org) if org.as_str() == id)
    }
}

/// Checks `permission` in the context of `org_id` against all of the
/// caller's memberships. Instance roles count everywhere, org roles only in
/// their org. A caller without any membership gets NotFound (ZITADEL's
/// answer); one whose roles do not grant the permission there gets
/// PermissionDenied.
pub fn check(memberships: &[Membership], on: On<'_>, permission: Permission) -> Result<(), DomainError> {
    if memberships.is_empty() {
        return Err(DomainError::not_found("AUTHZ-cdgFk", "membership not found"));
    }
    let granted = memberships
        .iter()
        .filter(|m| m.org_id.as_deref().is_none_or(|o| on.is_org(o)))
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

/// The org an RPC's permission is checked on once the use case has found
/// its resource (the v2 APIs declare it in their proto auth option).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckedOn {
    /// The org of the user the request names.
    TargetUser,
    /// The org the request names, else the request's org context.
    RequestedOrg,
    /// The org of the user a session has checked (the instance while none);
    /// the caller acting on itself is that user.
    SessionUser,
    /// The instance.
    Instance,
}

/// What the caller needs when it acts on itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnSelf {
    /// The permission, like anyone else.
    Same,
    /// Nothing more.
    Allowed,
    /// This permission suffices as well (`user.self.delete`).
    Or(Permission),
}

/// What an RPC requires on the resource it acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResourceCheck {
    pub permission: Permission,
    pub on: CheckedOn,
    pub on_self: OnSelf,
    /// The session's own token, when the request carries it, stands in for
    /// the check (`on` a session user).
    pub session_token: bool,
}

/// The rule of which sessions a caller may read (see [`sees_session`]).
pub const SESSION_READ: ResourceCheck = ResourceCheck {
    permission: SessionRead,
    on: CheckedOn::SessionUser,
    on_self: OnSelf::Allowed,
    session_token: false,
};

/// `required` on a resource owned `on`; `is_self`: the caller acts on itself.
pub fn check_resource(
    memberships: &[Membership],
    required: &ResourceCheck,
    on: On<'_>,
    is_self: bool,
) -> Result<(), DomainError> {
    if is_self {
        match required.on_self {
            OnSelf::Allowed => return Ok(()),
            OnSelf::Or(p) if check(memberships, on, p).is_ok() => return Ok(()),
            OnSelf::Same | OnSelf::Or(_) => {}
        }
    }
    check(memberships, on, required.permission)
}

/// Whether a caller sees a user: itself, or `user.read` in the user's org.
pub fn sees_user(memberships: &[Membership], caller_id: &UserId, user_id: &UserId, user_org: &OrgId) -> bool {
    caller_id == user_id || check(memberships, On::Org(user_org), UserRead).is_ok()
}

/// `required` (checked on a session user) on a session whose checked user
/// is `user` (None: none yet, checked on the instance).
pub fn check_session(
    memberships: &[Membership],
    required: &ResourceCheck,
    caller_id: &UserId,
    user: Option<(&UserId, &OrgId)>,
) -> Result<(), DomainError> {
    let is_self = user.is_some_and(|(id, _)| id == caller_id);
    check_resource(
        memberships,
        required,
        user.map_or(On::Instance, |(_, org)| On::Org(org)),
        is_self,
    )
}

/// Whether a caller sees a session: one it created, or one passing `read`
/// ([`SESSION_READ`] for every session RPC but the reads, which declare
/// theirs): by default its own, or with `session.read` in the checked
/// user's org (the instance while none), as ZITADEL's session queries allow.
pub fn sees_session(
    memberships: &[Membership],
    read: &ResourceCheck,
    caller_id: &UserId,
    creator: &str,
    user: Option<(&UserId, &OrgId)>,
) -> bool {
    creator == caller_id.as_str() || check_session(memberships, read, caller_id, user).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn m(org_id: Option<&str>, role: &str) -> Membership {
        Membership {
            org_id: org_id.map(str::to_owned),
            roles: vec![role.to_owned()],
        }
    }

    #[test]
    fn who_sees_users_and_sessions() {
        let owner_a = vec![m(Some("a"), "ORG_OWNER")];
        let iam = vec![m(None, "IAM_OWNER_VIEWER")];
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
            let seen = sees_user(ms, &"me".into(), &user.into(), &org.into());
            assert_eq!(seen, expected, "{ms:?} {user}@{org}");
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
            let typed = user.map(|(u, o)| (UserId::from(u), OrgId::from(o)));
            assert_eq!(
                sees_session(
                    ms,
                    &SESSION_READ,
                    &"me".into(),
                    creator,
                    typed.as_ref().map(|(u, o)| (u, o))
                ),
                expected,
                "{ms:?} {creator} {user:?}"
            );
        }
    }

    #[test]
    fn session_checks_fall_on_the_session_users_org() {
        let owner_a = vec![m(Some("a"), "ORG_OWNER")];
        let iam = vec![m(None, "IAM_OWNER")];
        let none: Vec<Membership> = vec![];
        let rc = |permission, on_self| ResourceCheck {
            permission,
            on: CheckedOn::SessionUser,
            on_self,
            session_token: true,
        };
        let (write, delete) = (rc(SessionWrite, OnSelf::Same), rc(SessionDelete, OnSelf::Allowed));
        // (memberships, check, checked user, granted)
        let cases = [
            // An org owner may read and delete its users' sessions, not drive them.
            (&owner_a, write, Some(("u", "a")), false),
            (&iam, write, Some(("u", "b")), true),
            (&iam, write, None, true),
            (&none, write, Some(("me", "a")), false),
            (&none, delete, Some(("me", "a")), true),
            (&none, delete, Some(("u", "a")), false),
            (&owner_a, delete, Some(("u", "a")), true),
        ];
        for (ms, check, user, granted) in cases {
            let typed = user.map(|(u, o)| (UserId::from(u), OrgId::from(o)));
            let got = check_session(ms, &check, &"me".into(), typed.as_ref().map(|(u, o)| (u, o)));
            assert_eq!(got.is_ok(), granted, "{ms:?} {check:?} {user:?}");
        }
    }

    #[test]
    fn permission_table() {
        use ErrorKind::*;
        let own = || Some("own");
        // (memberships, permission, target org, expected)
        let cases: Vec<(Vec<Membership>, Permission, &str, Option<ErrorKind>)> = vec![
            (vec![m(None, "IAM_OWNER")], IamPolicyWrite, "any", None),
            (vec![m(None, "IAM_OWNER")], PolicyWrite, "other", None),
            (vec![m(None, "IAM_OWNER_VIEWER")], IamPolicyRead, "any", None),
            (
                vec![m(None, "IAM_OWNER_VIEWER")],
                IamPolicyWrite,
                "any",
                Some(PermissionDenied),
            ),
            (
                vec![m(None, "IAM_ORG_MANAGER")],
                IamPolicyRead,
                "any",
                Some(PermissionDenied),
            ),
            (vec![m(own(), "ORG_OWNER")], PolicyWrite, "own", None),
            (
                vec![m(own(), "ORG_OWNER")],
                PolicyWrite,
                "other",
                Some(PermissionDenied),
            ),
            (
                vec![m(own(), "ORG_OWNER")],
                IamPolicyRead,
                "own",
                Some(PermissionDenied),
            ),
            (
                vec![m(own(), "ORG_OWNER_VIEWER")],
                PolicyWrite,
                "own",
                Some(PermissionDenied),
            ),
            (vec![m(own(), "ORG_SETTINGS_MANAGER")], PolicyDelete, "own", None),
            // ORG_OWNER writes apps but may not remove them (part 3 §30.8).
            (vec![m(own(), "ORG_OWNER")], ProjectAppWrite, "own", None),
            (
                vec![m(own(), "ORG_OWNER")],
                ProjectAppDelete,
                "own",
                Some(PermissionDenied),
            ),
            (vec![m(own(), "PROJECT_OWNER_GLOBAL")], ProjectAppDelete, "own", None),
            (vec![m(own(), "ORG_PROJECT_CREATOR")], ProjectCreate, "own", None),
            (
                vec![m(own(), "ORG_PROJECT_CREATOR")],
                ProjectWrite,
                "own",
                Some(PermissionDenied),
            ),
            (vec![], PolicyRead, "own", Some(NotFound)),
        ];
        for (ms, perm, org, expected) in cases {
            let got = check(&ms, On::Org(&OrgId::from(org)), perm).err().map(|e| e.kind);
            assert_eq!(got, expected, "{ms:?} {perm} in {org}");
        }
    }

    #[test]
    fn resource_checks() {
        let editor = vec![m(Some("a"), "ORG_USER_MANAGER")];
        let selfish = vec![m(Some("a"), "ORG_USER_SELF_MANAGER")];
        let rc = |permission, on_self| ResourceCheck {
            permission,
            on: CheckedOn::TargetUser,
            on_self,
            session_token: false,
        };
        // (memberships, check, org, is_self, granted)
        let cases = [
            (&editor, rc(UserWrite, OnSelf::Same), "a", false, true),
            (&editor, rc(UserWrite, OnSelf::Same), "b", false, false),
            (&selfish, rc(UserWrite, OnSelf::Same), "a", true, false),
            (&selfish, rc(UserWrite, OnSelf::Allowed), "a", true, true),
            (&selfish, rc(UserWrite, OnSelf::Allowed), "a", false, false),
            (&selfish, rc(UserDelete, OnSelf::Or(UserSelfDelete)), "a", true, true),
            (&selfish, rc(UserDelete, OnSelf::Or(UserSelfDelete)), "a", false, false),
            (&editor, rc(UserDelete, OnSelf::Or(UserSelfDelete)), "a", true, true),
        ];
        for (ms, required, org, is_self, granted) in cases {
            assert_eq!(
                check_resource(ms, &required, On::Org(&OrgId::from(org)), is_self).is_ok(),
                granted,
                "{ms:?} {required:?} {org} {is_self}"
            );
        }
    }

    /// The login client's list (ZITADEL's defaults) and what it lacks.
    #[test]
    fn login_client_role() {
        let granted = |p: &str| role_grants("IAM_LOGIN_CLIENT", Permission::parse(p).unwrap());
        let expected = "iam.read iam.policy.read iam.member.read iam.member.write iam.idp.read iam.feature.read \
            iam.restrictions.read org.read org.member.read org.member.write org.idp.read org.feature.read user.read \
            user.write user.grant.read user.grant.write user.membership.read user.credential.write \
            user.passkey.write user.feature.read policy.read project.read project.member.read project.member.write \
            project.role.read project.app.read project.grant.read project.grant.member.read \
            project.grant.member.write session.read session.write session.link session.delete userschema.read";
        let expected: Vec<&str> = expected.split_whitespace().collect();
        for p in Permission::ALL {
            assert_eq!(granted(p.as_str()), expected.contains(&p.as_str()), "{p}");
        }
        assert_eq!(expected.len(), 34);
        // Only the login client completes auth requests (part 3 §34.2).
        assert!(!role_grants("IAM_OWNER", SessionLink));
        let client = [m(None, "IAM_LOGIN_CLIENT")];
        assert!(check(&client, On::Org(&"any org".into()), SessionWrite).is_ok());
        assert!(check(&client, On::Org(&"any org".into()), UserRead).is_ok());
        for denied in [PolicyWrite, IamPolicyWrite, OrgCreate, UserDelete] {
            assert_eq!(
                check(&client, On::Org(&"o".into()), denied).unwrap_err().id,
                "AUTH-5mWD2",
                "{denied}"
            );
        }
    }

    #[test]
    fn wire_names_round_trip() {
        for &p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Some(p));
        }
        assert_eq!(Permission::parse("user.writ"), None);
        assert_eq!(Permission::parse("authenticated"), None);
    }

    #[test]
    fn the_instance_is_granted_only_by_instance_memberships() {
        let org_owner = [m(Some("a"), "ORG_OWNER")];
        let iam_owner = [m(None, "IAM_OWNER")];
        assert_eq!(
            check(&org_owner, On::Instance, PolicyRead).unwrap_err().id,
            "AUTH-5mWD2"
        );
        assert!(check(&org_owner, On::Org(&"a".into()), PolicyRead).is_ok());
        assert!(check(&iam_owner, On::Instance, PolicyRead).is_ok());
    }

    #[test]
    fn error_ids() {
        assert_eq!(
            check(&[], On::Org(&"o".into()), PolicyRead).unwrap_err().id,
            "AUTHZ-cdgFk"
        );
        let viewer = [m(None, "IAM_OWNER_VIEWER")];
        assert_eq!(
            check(&viewer, On::Org(&"o".into()), IamPolicyWrite).unwrap_err().id,
            "AUTH-5mWD2"
        );
    }
}
