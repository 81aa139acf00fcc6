//! First start: the events that create an instance with its default login
//! policy, a first org, and a machine user `admin` that owns the instance.

use crate::event::*;
use crate::factors::{MultiFactor, SecondFactor};
use crate::ids::{InstanceId, OrgId, UserId};
use crate::lockout::LockoutSettings;
use crate::login_policy::LoginPolicySettings;
use crate::password_age::PasswordAgeSettings;
use crate::password_complexity::PasswordComplexitySettings;
use crate::scope::Scope;
use crate::scoped_policy::ScopedPolicy;

pub const ADMIN_USER_NAME: &str = "admin";

/// Scopes ZITADEL gives personal access tokens.
pub const PAT_SCOPES: [&str; 4] = [
    "openid",
    "profile",
    "urn:zitadel:iam:user:metadata",
    "urn:zitadel:iam:user:resourceowner",
];

pub struct InstanceSetup {
    pub instance_id: InstanceId,
    pub instance_name: String,
    /// Hosts (without port) that reach the instance.
    pub domains: Vec<String>,
    pub org_id: OrgId,
    pub org_name: String,
    pub org_domain: String,
    pub admin_user_id: UserId,
    pub admin_token_id: String,
    pub admin_token_hash: String,
    pub admin_token_expiration: Timestamp,
}

/// The events of a new instance, grouped by aggregate, in push order.
pub fn instance_events(s: &InstanceSetup) -> Vec<(AggregateRef, Vec<EventPayload>)> {
    let mut instance = vec![EventPayload::InstanceAdded(NamePayload {
        name: s.instance_name.clone(),
    })];
    instance.extend(
        s.domains
            .iter()
            .map(|d| EventPayload::InstanceDomainAdded(DomainPayload { domain: d.clone() })),
    );
    instance.push(EventPayload::InstanceLoginPolicyAdded(
        LoginPolicySettings::instance_default(),
    ));
    for f in [SecondFactor::Otp, SecondFactor::U2f] {
        instance.push(EventPayload::InstanceSecondFactorAdded(MfaTypePayload { mfa_type: f }));
    }
    instance.push(EventPayload::InstanceMultiFactorAdded(MfaTypePayload {
        mfa_type: MultiFactor::U2fWithVerification,
    }));
    instance.push(added_default::<LockoutSettings>());
    instance.push(added_default::<PasswordComplexitySettings>());
    instance.push(added_default::<PasswordAgeSettings>());
    instance.push(EventPayload::InstanceDefaultOrgSet(OrgIdPayload {
        org_id: s.org_id.as_str().to_owned(),
    }));
    instance.push(EventPayload::InstanceMemberAdded(MemberPayload {
        user_id: s.admin_user_id.as_str().to_owned(),
        roles: vec!["IAM_OWNER".into()],
    }));

    let domain = || DomainPayload {
        domain: s.org_domain.clone(),
    };
    let org = vec![
        EventPayload::OrgAdded(NamePayload {
            name: s.org_name.clone(),
        }),
        EventPayload::OrgDomainAdded(domain()),
        EventPayload::OrgDomainVerified(domain()),
        EventPayload::OrgDomainPrimarySet(domain()),
    ];

    let user = vec![
        EventPayload::MachineUserAdded(MachineUserAdded {
            user_name: ADMIN_USER_NAME.into(),
            name: "Administrator".into(),
            description: "Created at first start; holds IAM_OWNER".into(),
            access_token_type: 0,
        }),
        EventPayload::PatAdded(PatAdded {
            token_id: s.admin_token_id.clone(),
            token_hash: s.admin_token_hash.clone(),
            expiration: s.admin_token_expiration,
            scopes: PAT_SCOPES.iter().map(|s| s.to_string()).collect(),
        }),
    ];

    vec![
        (AggregateRef::org(&s.org_id), org),
        (AggregateRef::user(&s.admin_user_id, &s.org_id), user),
        (AggregateRef::instance(&s.instance_id), instance),
    ]
}

/// The instance's policy of kind `P`, with the kind's default settings.
fn added_default<P: ScopedPolicy>() -> EventPayload {
    P::added(Scope::Instance, P::instance_default())
}
