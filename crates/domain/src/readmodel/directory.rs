//! Read models of the directory: instances and their domains, orgs, users,
//! personal access tokens, passkey credentials and memberships.

use serde::{Deserialize, Serialize};

use super::{Collection, DocDetails, DocKey};
use crate::event::{
    AggregateRef, EventPayload as E, MemberPayload, PatAdded, PatRemoved, StoredEvent, Timestamp, UserIdPayload,
};
use crate::ids::{InstanceId, OrgId, UserId};
use crate::permissions::Membership;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceView {
    pub id: InstanceId,
    pub name: String,
    pub default_org_id: OrgId,
    /// The first domain of the instance (its external domain at creation).
    pub external_domain: String,
    pub details: DocDetails,
}

/// Id of the single `default_instance` document.
pub const DEFAULT_INSTANCE_ID: &str = "default";

/// Maps a domain (host without port), or the default-instance marker, to an instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceDomainView {
    pub instance_id: InstanceId,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrgState {
    Active,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgView {
    pub id: OrgId,
    pub name: String,
    pub state: OrgState,
    pub primary_domain: String,
    pub details: DocDetails,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserState {
    Active,
    Locked,
    Inactive,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserKind {
    Machine {
        name: String,
        description: String,
        access_token_type: i32,
    },
    Human(Box<HumanView>),
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HumanView {
    pub given_name: String,
    pub family_name: String,
    pub nick_name: String,
    pub display_name: String,
    pub preferred_language: String,
    pub gender: i32,
    pub email: String,
    pub email_verified: bool,
    pub phone: String,
    pub phone_verified: bool,
    pub password_set: bool,
    pub password_change_required: bool,
    /// When the password was last changed after the user was added.
    #[serde(default)]
    pub password_changed_at: Option<Timestamp>,
    /// When the user last skipped setting up a second factor; a login
    /// compares it with the login policy's `mfa_init_skip_lifetime`.
    #[serde(default)]
    pub mfa_init_skipped: Option<Timestamp>,
}

/// A factor's enrolment: registered but not yet verified, or ready for use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Readiness {
    NotReady,
    Ready,
}

/// A security key as listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct U2fView {
    pub id: String,
    pub name: String,
    pub readiness: Readiness,
}

/// The second factors a user has enrolled (no secrets).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FactorsView {
    pub totp: Option<Readiness>,
    pub otp_sms: bool,
    pub otp_email: bool,
    pub recovery_codes: usize,
    #[serde(default)]
    pub u2f: Vec<U2fView>,
    /// IDs of the verified passkeys.
    #[serde(default)]
    pub passkeys: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub id: UserId,
    pub org_id: OrgId,
    pub user_name: String,
    pub state: UserState,
    pub kind: UserKind,
    #[serde(default)]
    pub factors: FactorsView,
    pub details: DocDetails,
}

impl UserView {
    pub fn human(&self) -> Option<&HumanView> {
        match &self.kind {
            UserKind::Human(h) => Some(h),
            UserKind::Machine { .. } => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatView {
    pub token_id: String,
    pub token_hash: String,
    pub user_id: UserId,
    pub org_id: OrgId,
    pub expiration: Timestamp,
    pub scopes: Vec<String>,
    pub details: DocDetails,
}

/// A verified passkey, found by its credential ID (the lookup): who holds
/// it, for a sign-in by discoverable credential.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyCredentialView {
    pub user_id: UserId,
    pub org_id: OrgId,
    pub token_id: String,
    /// The credential ID, base64url.
    pub key_id: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    /// None for an instance membership, the org ID for an org membership.
    pub org_id: Option<OrgId>,
    pub user_id: UserId,
    pub roles: Vec<String>,
    pub details: DocDetails,
}

impl MemberView {
    /// The aggregate that holds the membership.
    pub fn aggregate(&self, instance_id: &InstanceId) -> AggregateRef {
        match &self.org_id {
            Some(org) => AggregateRef::org(org),
            None => AggregateRef::instance(instance_id),
        }
    }

    pub fn membership(&self) -> Membership {
        Membership {
            org_id: self.org_id.as_ref().map(|o| o.as_str().to_owned()),
            roles: self.roles.clone(),
        }
    }
}

/// Document id of a membership: `<instance or org id>:<user id>`, so the
/// members of one instance or org share the prefix `<id>:`.
pub fn member_doc_id(scope_id: &str, user_id: &str) -> String {
    format!("{scope_id}:{user_id}")
}

/// Document id of a token: `<user id>:<token id>`.
pub fn pat_doc_id(user_id: &str, token_id: &str) -> String {
    format!("{user_id}:{token_id}")
}

pub(super) fn affected(ev: &StoredEvent) -> Vec<DocKey> {
    let agg = &ev.aggregate.id;
    match &ev.payload {
        E::InstanceAdded(_) => vec![
            DocKey::new(Collection::Instance, agg),
            DocKey::new(Collection::DefaultInstance, DEFAULT_INSTANCE_ID),
        ],
        E::InstanceDefaultOrgSet(_) => vec![DocKey::new(Collection::Instance, agg)],
        E::InstanceDomainAdded(d) => vec![
            DocKey::new(Collection::InstanceDomain, d.domain.clone()),
            DocKey::new(Collection::Instance, agg),
        ],
        E::InstanceMemberAdded(MemberPayload { user_id, .. })
        | E::InstanceMemberChanged(MemberPayload { user_id, .. })
        | E::InstanceMemberRemoved(UserIdPayload { user_id })
        | E::InstanceMemberCascadeRemoved(UserIdPayload { user_id })
        | E::OrgMemberAdded(MemberPayload { user_id, .. })
        | E::OrgMemberChanged(MemberPayload { user_id, .. })
        | E::OrgMemberRemoved(UserIdPayload { user_id })
        | E::OrgMemberCascadeRemoved(UserIdPayload { user_id }) => {
            vec![DocKey::new(Collection::Member, member_doc_id(agg, user_id))]
        }
        E::OrgAdded(_) | E::OrgDomainPrimarySet(_) => vec![DocKey::new(Collection::Org, agg)],
        E::PatAdded(PatAdded { token_id, .. }) | E::PatRemoved(PatRemoved { token_id }) => {
            vec![DocKey::new(Collection::Pat, pat_doc_id(agg, token_id))]
        }
        // A user's passkeys are listed in the user document too.
        E::PasskeyVerified(crate::passkey::PasskeyVerified { token_id, .. })
        | E::PasskeyRemoved(crate::passkey::PasskeyRemoved { token_id }) => vec![
            DocKey::new(Collection::User, agg),
            DocKey::new(Collection::PasskeyCredential, format!("{agg}:{token_id}")),
        ],
        // Every other event of a user aggregate changes the user document.
        _ if ev.aggregate.kind == crate::event::AggregateType::User => vec![DocKey::new(Collection::User, agg)],
        _ => vec![],
    }
}

pub(super) fn instance(ev: &StoredEvent, prior: Option<InstanceView>) -> Option<InstanceView> {
    match (&ev.payload, prior) {
        (E::InstanceAdded(p), _) => Some(InstanceView {
            id: InstanceId::from(ev.aggregate.id.as_str()),
            name: p.name.clone(),
            default_org_id: OrgId::default(),
            external_domain: String::new(),
            details: DocDetails::created(ev),
        }),
        (E::InstanceDomainAdded(d), Some(mut v)) if v.external_domain.is_empty() => {
            v.external_domain = d.domain.clone();
            Some(v)
        }
        (E::InstanceDefaultOrgSet(p), Some(mut v)) => {
            v.default_org_id = OrgId::from(p.org_id.as_str());
            v.details.touch(ev);
            Some(v)
        }
        (_, prior) => prior,
    }
}

pub(super) fn org(ev: &StoredEvent, prior: Option<OrgView>) -> Option<OrgView> {
    match (&ev.payload, prior) {
        (E::OrgAdded(p), _) => Some(OrgView {
            id: OrgId::from(ev.aggregate.id.as_str()),
            name: p.name.clone(),
            state: OrgState::Active,
            primary_domain: String::new(),
            details: DocDetails::created(ev),
        }),
        (E::OrgDomainPrimarySet(d), Some(mut v)) => {
            v.primary_domain = d.domain.clone();
            v.details.touch(ev);
            Some(v)
        }
        (_, prior) => prior,
    }
}

pub(super) fn user(ev: &StoredEvent, prior: Option<UserView>) -> Option<UserView> {
    let new = |kind| UserView {
        id: UserId::from(ev.aggregate.id.as_str()),
        org_id: OrgId::from(ev.aggregate.owner.as_str()),
        user_name: String::new(),
        state: UserState::Active,
        kind,
        factors: FactorsView::default(),
        details: DocDetails::created(ev),
    };
    let mut v = match (&ev.payload, prior) {
        (E::MachineUserAdded(p), _) => {
            return Some(UserView {
                user_name: p.user_name.clone(),
                ..new(UserKind::Machine {
                    name: p.name.clone(),
                    description: p.description.clone(),
                    access_token_type: p.access_token_type,
                })
            });
        }
        (E::HumanAdded(p), _) => {
            return Some(UserView {
                user_name: p.user_name.clone(),
                ..new(UserKind::Human(Box::new(HumanView {
                    given_name: p.first_name.clone(),
                    family_name: p.last_name.clone(),
                    nick_name: p.nick_name.clone(),
                    display_name: p.display_name.clone(),
                    preferred_language: p.preferred_language.clone(),
                    gender: p.gender,
                    email: p.email.clone(),
                    phone: p.phone.clone(),
                    password_set: p.encoded_hash.is_some(),
                    password_change_required: p.change_required,
                    ..HumanView::default()
                })))
            });
        }
        (E::UserRemoved(_), _) | (_, None) => return None,
        (_, Some(v)) => v,
    };
    v.details.touch(ev);
    let f = &mut v.factors;
    match &ev.payload {
        E::UserLocked => v.state = UserState::Locked,
        E::UserUnlocked | E::UserReactivated => v.state = UserState::Active,
        E::UserDeactivated => v.state = UserState::Inactive,
        E::UsernameChanged(p) => v.user_name = p.user_name.clone(),
        E::TotpAdded(_) => f.totp = Some(Readiness::NotReady),
        E::TotpVerified(_) => f.totp = Some(Readiness::Ready),
        E::TotpRemoved => f.totp = None,
        E::OtpSmsAdded => f.otp_sms = true,
        E::OtpSmsRemoved => f.otp_sms = false,
        E::OtpEmailAdded => f.otp_email = true,
        E::OtpEmailRemoved => f.otp_email = false,
        E::U2fAdded(p) => {
            f.u2f.retain(|t| t.readiness == Readiness::Ready);
            f.u2f.push(U2fView {
                id: p.token_id.clone(),
                name: String::new(),
                readiness: Readiness::NotReady,
            });
        }
        E::U2fVerified(p) => {
            if let Some(t) = f.u2f.iter_mut().find(|t| t.id == p.token_id) {
                t.readiness = Readiness::Ready;
                t.name = p.name.clone();
            }
        }
        E::U2fRemoved(p) => f.u2f.retain(|t| t.id != p.token_id),
        E::PasskeyVerified(p) => f.passkeys.push(p.token_id.clone()),
        E::PasskeyRemoved(p) => f.passkeys.retain(|id| *id != p.token_id),
        E::RecoveryCodesAdded(p) => f.recovery_codes = p.code_hashes.len(),
        E::RecoveryCodesRemoved => f.recovery_codes = 0,
        // Each code works once: the count is of those left.
        E::RecoveryCodeCheckSucceeded(_) => f.recovery_codes = f.recovery_codes.saturating_sub(1),
        _ => {}
    }
    if let (UserKind::Machine { name, description, .. }, E::MachineChanged(p)) = (&mut v.kind, &ev.payload) {
        if let Some(n) = &p.name {
            name.clone_from(n);
        }
        if let Some(d) = &p.description {
            description.clone_from(d);
        }
    }
    if let UserKind::Human(h) = &mut v.kind {
        match &ev.payload {
            E::EmailChanged(p) => {
                h.email = p.email.clone();
                h.email_verified = false;
            }
            E::EmailVerified => h.email_verified = true,
            E::PhoneChanged(p) => {
                h.phone = p.phone.clone();
                h.phone_verified = false;
                v.factors.otp_sms = false;
            }
            E::PhoneVerified => h.phone_verified = true,
            E::PasswordChanged(p) => {
                h.password_set = true;
                h.password_change_required = p.change_required;
                h.password_changed_at = Some(ev.created_at);
            }
            E::PhoneRemoved => {
                h.phone.clear();
                h.phone_verified = false;
                v.factors.otp_sms = false;
            }
            E::MfaInitSkipped => h.mfa_init_skipped = Some(ev.created_at),
            E::ProfileChanged(p) => {
                for (field, value) in [
                    (&mut h.given_name, &p.first_name),
                    (&mut h.family_name, &p.last_name),
                    (&mut h.nick_name, &p.nick_name),
                    (&mut h.display_name, &p.display_name),
                    (&mut h.preferred_language, &p.preferred_language),
                ] {
                    if let Some(value) = value {
                        field.clone_from(value);
                    }
                }
                if let Some(g) = p.gender {
                    h.gender = g;
                }
            }
            _ => {}
        }
    }
    Some(v)
}

/// The credential of a passkey from its verification to its removal (a
/// removed user's stay: the user they name is gone, which refuses them).
pub(super) fn passkey_credential(
    ev: &StoredEvent,
    prior: Option<PasskeyCredentialView>,
) -> Option<PasskeyCredentialView> {
    match &ev.payload {
        E::PasskeyVerified(p) => Some(PasskeyCredentialView {
            user_id: UserId::from(ev.aggregate.id.as_str()),
            org_id: OrgId::from(ev.aggregate.owner.as_str()),
            token_id: p.token_id.clone(),
            key_id: p.key_id.clone(),
        }),
        E::PasskeyRemoved(_) => None,
        _ => prior,
    }
}

pub(super) fn pat(ev: &StoredEvent, prior: Option<PatView>) -> Option<PatView> {
    match &ev.payload {
        E::PatAdded(p) => Some(PatView {
            token_id: p.token_id.clone(),
            token_hash: p.token_hash.clone(),
            user_id: UserId::from(ev.aggregate.id.as_str()),
            org_id: OrgId::from(ev.aggregate.owner.as_str()),
            expiration: p.expiration,
            scopes: p.scopes.clone(),
            details: DocDetails::created(ev),
        }),
        E::PatRemoved(_) => None,
        _ => prior,
    }
}

pub(super) fn member(ev: &StoredEvent, prior: Option<MemberView>) -> Option<MemberView> {
    let org_id = (ev.aggregate.kind == crate::event::AggregateType::Org).then(|| OrgId::from(ev.aggregate.id.as_str()));
    match (&ev.payload, prior) {
        (E::InstanceMemberAdded(m) | E::OrgMemberAdded(m), _) => Some(MemberView {
            org_id,
            user_id: UserId::from(m.user_id.as_str()),
            roles: m.roles.clone(),
            details: DocDetails::created(ev),
        }),
        (E::InstanceMemberChanged(m) | E::OrgMemberChanged(m), Some(mut v)) => {
            v.roles = m.roles.clone();
            v.details.touch(ev);
            Some(v)
        }
        (
            E::InstanceMemberRemoved(_)
            | E::InstanceMemberCascadeRemoved(_)
            | E::OrgMemberRemoved(_)
            | E::OrgMemberCascadeRemoved(_),
            _,
        ) => None,
        (_, prior) => prior,
    }
}
