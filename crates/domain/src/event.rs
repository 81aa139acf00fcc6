//! Events: the only state Twofold stores durably. Type names and payload keys
//! follow ZITADEL's event store (e.g. `instance.policy.login.secondfactor.added`
//! with `{"mfaType":1}`), so an operator reading the log sees familiar names.

use serde::{Deserialize, Serialize};

use crate::application::{
    ApiConfigAdded, ApiConfigChanged, AppAdded, AppIdPayload, OidcConfigAdded, OidcConfigChanged, SecretChanged,
};
use crate::factors::{MultiFactor, SecondFactor};
use crate::hosted_login::TranslationSet;
use crate::ids::{InstanceId, OrgId, ProjectId, SessionId, UserId};
use crate::lockout::{LockoutChanges, LockoutSettings};
use crate::login_policy::{LoginPolicyChanges, LoginPolicySettings};
use crate::machine_secret::MachineSecretSet;
use crate::notify::{HttpSmsConfig, ProviderId, SmtpConfig};
use crate::password_age::{PasswordAgeChanges, PasswordAgeSettings};
use crate::password_code::{PasswordChanged, PasswordCodeAdded};
use crate::password_complexity::{PasswordComplexityChanges, PasswordComplexitySettings};
use crate::project::{ProjectChanged, ProjectSettings};
use crate::security::SecuritySet;

/// Microseconds since the Unix epoch, UTC.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Timestamp(pub i64);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AggregateType {
    Instance,
    Org,
    User,
    Session,
    Project,
    AuthRequest,
    KeyPair,
    OidcSession,
    ClientAssertion,
}

impl AggregateType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Instance => "instance",
            Self::Org => "org",
            Self::User => "user",
            Self::Session => "session",
            Self::Project => "project",
            Self::AuthRequest => "auth_request",
            Self::KeyPair => "key_pair",
            Self::OidcSession => "oidc_session",
            Self::ClientAssertion => "client_assertion",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "instance" => Some(Self::Instance),
            "org" => Some(Self::Org),
            "user" => Some(Self::User),
            "session" => Some(Self::Session),
            "project" => Some(Self::Project),
            "auth_request" => Some(Self::AuthRequest),
            "key_pair" => Some(Self::KeyPair),
            "oidc_session" => Some(Self::OidcSession),
            "client_assertion" => Some(Self::ClientAssertion),
            _ => None,
        }
    }
}

/// Which aggregate an event belongs to, and who owns it: the instance ID for
/// the instance aggregate, the org ID for an org and for the org's users.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AggregateRef {
    pub kind: AggregateType,
    pub id: String,
    pub owner: String,
}

impl AggregateRef {
    pub fn instance(instance_id: &InstanceId) -> Self {
        Self {
            kind: AggregateType::Instance,
            id: instance_id.as_str().to_owned(),
            owner: instance_id.as_str().to_owned(),
        }
    }
    pub fn org(org_id: &OrgId) -> Self {
        Self {
            kind: AggregateType::Org,
            id: org_id.as_str().to_owned(),
            owner: org_id.as_str().to_owned(),
        }
    }
    pub fn session(session_id: &SessionId, instance_id: &InstanceId) -> Self {
        Self {
            kind: AggregateType::Session,
            id: session_id.as_str().to_owned(),
            owner: instance_id.as_str().to_owned(),
        }
    }
    pub fn user(user_id: &UserId, org_id: &OrgId) -> Self {
        Self {
            kind: AggregateType::User,
            id: user_id.as_str().to_owned(),
            owner: org_id.as_str().to_owned(),
        }
    }
    /// An OIDC auth request (id `V2_…`), owned by the instance.
    pub fn auth_request(id: &str, instance_id: &InstanceId) -> Self {
        Self {
            kind: AggregateType::AuthRequest,
            id: id.to_owned(),
            owner: instance_id.as_str().to_owned(),
        }
    }
    /// The signing keys of an instance (one aggregate per instance).
    pub fn key_pair(instance_id: &InstanceId) -> Self {
        Self {
            kind: AggregateType::KeyPair,
            id: instance_id.as_str().to_owned(),
            owner: instance_id.as_str().to_owned(),
        }
    }
    /// The tokens of one grant (id `V2_…`), owned by the instance.
    pub fn oidc_session(id: &str, instance_id: &InstanceId) -> Self {
        Self {
            kind: AggregateType::OidcSession,
            id: id.to_owned(),
            owner: instance_id.as_str().to_owned(),
        }
    }
    /// The use of a client assertion's `jti` (id `<client_id>:<jti>`),
    /// owned by the instance.
    pub fn client_assertion(client_id: &str, jti: &str, instance_id: &InstanceId) -> Self {
        Self {
            kind: AggregateType::ClientAssertion,
            id: format!("{client_id}:{jti}"),
            owner: instance_id.as_str().to_owned(),
        }
    }
    /// A project and its applications, owned by the project's org.
    pub fn project(project_id: &ProjectId, org_id: &OrgId) -> Self {
        Self {
            kind: AggregateType::Project,
            id: project_id.as_str().to_owned(),
            owner: org_id.as_str().to_owned(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MfaTypePayload<T> {
    pub mfa_type: T,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberPayload {
    pub user_id: String,
    pub roles: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainPayload {
    pub domain: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MachineUserAdded {
    pub user_name: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default)]
    pub access_token_type: i32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PatAdded {
    pub token_id: String,
    /// Keyed hash of the token; the token itself is never stored.
    pub token_hash: String,
    pub expiration: Timestamp,
    pub scopes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PatRemoved {
    pub token_id: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HumanAdded {
    pub user_name: String,
    pub first_name: String,
    pub last_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub nick_name: String,
    pub display_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub preferred_language: String,
    #[serde(default)]
    pub gender: i32,
    pub email: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub phone: String,
    /// argon2id PHC string; absent when the user has no password yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoded_hash: Option<String>,
    #[serde(default)]
    pub change_required: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmailPayload {
    pub email: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhonePayload {
    pub phone: String,
}

/// A verification code: only its keyed hash is stored, with its expiry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CodeAdded {
    pub code_hash: String,
    pub expiry: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TotpAdded {
    /// The TOTP secret sealed with AES-256-GCM under the master key.
    pub otp_secret: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TotpVerified {
    /// The time step whose code verified the enrolment; consumed, so the
    /// same code cannot also open a session.
    pub step: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct U2fAdded {
    #[serde(rename = "webAuthNTokenId")]
    pub token_id: String,
    /// The relying party's registration state (holds the challenge), as JSON.
    pub state: String,
    #[serde(rename = "rpID")]
    pub rp_id: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct U2fVerified {
    #[serde(rename = "webAuthNTokenId")]
    pub token_id: String,
    /// The credential ID, base64url.
    #[serde(rename = "keyId")]
    pub key_id: String,
    /// The registered credential (public key, counter…), as JSON.
    pub credential: String,
    #[serde(rename = "webAuthNTokenName")]
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct U2fRemoved {
    #[serde(rename = "webAuthNTokenId")]
    pub token_id: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecoveryCodeUsed {
    /// Position of the used code in the current set.
    pub index: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct U2fSignCount {
    #[serde(rename = "webAuthNTokenId")]
    pub token_id: String,
    /// The credential with its advanced signature counter, as JSON.
    pub credential: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryFailed {
    pub channel: String,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckedAt {
    pub checked_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUserChecked {
    #[serde(rename = "userID")]
    pub user_id: UserId,
    #[serde(rename = "userResourceOwner")]
    pub org_id: OrgId,
    #[serde(rename = "checkedAt")]
    pub checked_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebAuthnChallenged {
    /// The relying party's authentication state (holds the challenge), as JSON.
    pub state: String,
    #[serde(rename = "rpid")]
    pub rp_id: String,
    /// "required" for a passkey challenge; empty for security keys.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub user_verification: String,
    /// A passkey challenge of a session without a user: any discoverable
    /// credential may answer, and its user handle names the user.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub discoverable: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebAuthnChecked {
    pub checked_at: Timestamp,
    pub user_verified: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionTokenSet {
    /// Keyed hash of the session token; the token itself is never stored.
    pub token_hash: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionLifetimeSet {
    /// Nanoseconds, as ZITADEL stores durations.
    pub lifetime: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecoveryCodesAdded {
    /// Salted hashes (PHC strings) of the codes; the codes are shown once.
    pub code_hashes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserIdPayload {
    pub user_id: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRemoved {
    pub user_name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NamePayload {
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgIdPayload {
    pub org_id: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsernameChanged {
    pub user_name: String,
    pub old_user_name: String,
}

/// The profile fields that changed (absent: unchanged).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileChanged {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nick_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<i32>,
}

/// The machine fields that changed (absent: unchanged).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MachineChanged {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// An invite code: only its keyed hash is stored, with its expiry and how
/// it was handed out (a returned code cannot be resent).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InviteCodeAdded {
    pub code_hash: String,
    pub expiry: Timestamp,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url_template: String,
    #[serde(default)]
    pub code_returned: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub application_name: String,
}

/// Every event Twofold knows, tagged with its stored type name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum EventPayload {
    #[serde(rename = "instance.added")]
    InstanceAdded(NamePayload),
    #[serde(rename = "instance.domain.added")]
    InstanceDomainAdded(DomainPayload),
    #[serde(rename = "instance.default.org.set")]
    InstanceDefaultOrgSet(OrgIdPayload),
    #[serde(rename = "instance.member.added")]
    InstanceMemberAdded(MemberPayload),
    #[serde(rename = "instance.member.changed")]
    InstanceMemberChanged(MemberPayload),
    #[serde(rename = "instance.member.removed")]
    InstanceMemberRemoved(UserIdPayload),
    #[serde(rename = "instance.member.cascade.removed")]
    InstanceMemberCascadeRemoved(UserIdPayload),

    #[serde(rename = "instance.policy.login.added")]
    InstanceLoginPolicyAdded(LoginPolicySettings),
    #[serde(rename = "instance.policy.login.changed")]
    InstanceLoginPolicyChanged(LoginPolicyChanges),
    #[serde(rename = "instance.policy.login.secondfactor.added")]
    InstanceSecondFactorAdded(MfaTypePayload<SecondFactor>),
    #[serde(rename = "instance.policy.login.secondfactor.removed")]
    InstanceSecondFactorRemoved(MfaTypePayload<SecondFactor>),
    #[serde(rename = "instance.policy.login.multifactor.added")]
    InstanceMultiFactorAdded(MfaTypePayload<MultiFactor>),
    #[serde(rename = "instance.policy.login.multifactor.removed")]
    InstanceMultiFactorRemoved(MfaTypePayload<MultiFactor>),

    #[serde(rename = "instance.policy.lockout.added")]
    InstanceLockoutPolicyAdded(LockoutSettings),
    #[serde(rename = "instance.policy.lockout.changed")]
    InstanceLockoutPolicyChanged(LockoutChanges),

    #[serde(rename = "org.policy.lockout.added")]
    OrgLockoutPolicyAdded(LockoutSettings),
    #[serde(rename = "org.policy.lockout.changed")]
    OrgLockoutPolicyChanged(LockoutChanges),
    #[serde(rename = "org.policy.lockout.removed")]
    OrgLockoutPolicyRemoved,

    #[serde(rename = "instance.policy.password.complexity.added")]
    InstancePasswordComplexityPolicyAdded(PasswordComplexitySettings),
    #[serde(rename = "instance.policy.password.complexity.changed")]
    InstancePasswordComplexityPolicyChanged(PasswordComplexityChanges),

    #[serde(rename = "org.policy.password.complexity.added")]
    OrgPasswordComplexityPolicyAdded(PasswordComplexitySettings),
    #[serde(rename = "org.policy.password.complexity.changed")]
    OrgPasswordComplexityPolicyChanged(PasswordComplexityChanges),
    #[serde(rename = "org.policy.password.complexity.removed")]
    OrgPasswordComplexityPolicyRemoved,

    #[serde(rename = "instance.policy.password.age.added")]
    InstancePasswordAgePolicyAdded(PasswordAgeSettings),
    #[serde(rename = "instance.policy.password.age.changed")]
    InstancePasswordAgePolicyChanged(PasswordAgeChanges),

    #[serde(rename = "org.policy.password.age.added")]
    OrgPasswordAgePolicyAdded(PasswordAgeSettings),
    #[serde(rename = "org.policy.password.age.changed")]
    OrgPasswordAgePolicyChanged(PasswordAgeChanges),
    #[serde(rename = "org.policy.password.age.removed")]
    OrgPasswordAgePolicyRemoved,

    #[serde(rename = "instance.policy.security.set")]
    InstanceSecurityPolicySet(SecuritySet),

    #[serde(rename = "instance.hosted_login_translation.set")]
    InstanceHostedLoginTranslationSet(TranslationSet),
    #[serde(rename = "org.hosted_login_translation.set")]
    OrgHostedLoginTranslationSet(TranslationSet),

    #[serde(rename = "instance.smtp.config.added")]
    SmtpConfigAdded(SmtpConfig),
    #[serde(rename = "instance.smtp.config.activated")]
    SmtpConfigActivated(ProviderId),
    #[serde(rename = "instance.smtp.config.deactivated")]
    SmtpConfigDeactivated(ProviderId),
    #[serde(rename = "instance.sms.confighttp.added")]
    SmsConfigHttpAdded(HttpSmsConfig),
    #[serde(rename = "instance.sms.configactivated")]
    SmsConfigActivated(ProviderId),
    #[serde(rename = "instance.sms.configdeactivated")]
    SmsConfigDeactivated(ProviderId),

    #[serde(rename = "org.added")]
    OrgAdded(NamePayload),
    #[serde(rename = "org.domain.added")]
    OrgDomainAdded(DomainPayload),
    #[serde(rename = "org.domain.verified")]
    OrgDomainVerified(DomainPayload),
    #[serde(rename = "org.domain.primary.set")]
    OrgDomainPrimarySet(DomainPayload),
    #[serde(rename = "org.member.added")]
    OrgMemberAdded(MemberPayload),
    #[serde(rename = "org.member.changed")]
    OrgMemberChanged(MemberPayload),
    #[serde(rename = "org.member.removed")]
    OrgMemberRemoved(UserIdPayload),
    #[serde(rename = "org.member.cascade.removed")]
    OrgMemberCascadeRemoved(UserIdPayload),

    #[serde(rename = "org.policy.login.added")]
    OrgLoginPolicyAdded(LoginPolicySettings),
    #[serde(rename = "org.policy.login.changed")]
    OrgLoginPolicyChanged(LoginPolicyChanges),
    #[serde(rename = "org.policy.login.removed")]
    OrgLoginPolicyRemoved,
    #[serde(rename = "org.policy.login.secondfactor.added")]
    OrgSecondFactorAdded(MfaTypePayload<SecondFactor>),
    #[serde(rename = "org.policy.login.secondfactor.removed")]
    OrgSecondFactorRemoved(MfaTypePayload<SecondFactor>),
    #[serde(rename = "org.policy.login.multifactor.added")]
    OrgMultiFactorAdded(MfaTypePayload<MultiFactor>),
    #[serde(rename = "org.policy.login.multifactor.removed")]
    OrgMultiFactorRemoved(MfaTypePayload<MultiFactor>),

    #[serde(rename = "user.machine.added")]
    MachineUserAdded(MachineUserAdded),
    #[serde(rename = "user.pat.added")]
    PatAdded(PatAdded),
    #[serde(rename = "user.pat.removed")]
    PatRemoved(PatRemoved),
    #[serde(rename = "user.removed")]
    UserRemoved(UserRemoved),
    #[serde(rename = "user.locked")]
    UserLocked,
    #[serde(rename = "user.unlocked")]
    UserUnlocked,

    #[serde(rename = "user.human.added")]
    HumanAdded(Box<HumanAdded>),
    #[serde(rename = "user.human.email.changed")]
    EmailChanged(EmailPayload),
    #[serde(rename = "user.human.email.code.added")]
    EmailCodeAdded(CodeAdded),
    #[serde(rename = "user.human.email.verified")]
    EmailVerified,
    #[serde(rename = "user.human.phone.changed")]
    PhoneChanged(PhonePayload),
    #[serde(rename = "user.human.phone.code.added")]
    PhoneCodeAdded(CodeAdded),
    #[serde(rename = "user.human.phone.verified")]
    PhoneVerified,
    #[serde(rename = "user.human.email.code.sent")]
    EmailCodeSent(ProviderId),
    #[serde(rename = "user.human.phone.code.sent")]
    PhoneCodeSent(ProviderId),
    /// Twofold: a verification code that could not be delivered.
    #[serde(rename = "user.human.code.delivery.failed")]
    CodeDeliveryFailed(DeliveryFailed),

    #[serde(rename = "user.human.mfa.otp.added")]
    TotpAdded(TotpAdded),
    #[serde(rename = "user.human.mfa.otp.verified")]
    TotpVerified(TotpVerified),
    #[serde(rename = "user.human.mfa.otp.removed")]
    TotpRemoved,
    #[serde(rename = "user.human.mfa.otp.sms.added")]
    OtpSmsAdded,
    #[serde(rename = "user.human.mfa.otp.sms.removed")]
    OtpSmsRemoved,
    #[serde(rename = "user.human.mfa.otp.email.added")]
    OtpEmailAdded,
    #[serde(rename = "user.human.mfa.otp.email.removed")]
    OtpEmailRemoved,
    #[serde(rename = "user.human.mfa.u2f.token.added")]
    U2fAdded(U2fAdded),
    #[serde(rename = "user.human.mfa.u2f.token.verified")]
    U2fVerified(U2fVerified),
    #[serde(rename = "user.human.mfa.u2f.token.removed")]
    U2fRemoved(U2fRemoved),
    #[serde(rename = "user.human.password.check.succeeded")]
    PasswordCheckSucceeded,
    #[serde(rename = "user.human.password.check.failed")]
    PasswordCheckFailed,
    #[serde(rename = "user.human.mfa.otp.check.succeeded")]
    TotpCheckSucceeded(TotpVerified),
    #[serde(rename = "user.human.mfa.otp.check.failed")]
    TotpCheckFailed,
    #[serde(rename = "user.human.mfa.otp.sms.check.succeeded")]
    OtpSmsCheckSucceeded,
    #[serde(rename = "user.human.mfa.otp.sms.check.failed")]
    OtpSmsCheckFailed,
    #[serde(rename = "user.human.mfa.otp.email.check.succeeded")]
    OtpEmailCheckSucceeded,
    #[serde(rename = "user.human.mfa.otp.email.check.failed")]
    OtpEmailCheckFailed,
    #[serde(rename = "user.human.recovery.code.check.succeeded")]
    RecoveryCodeCheckSucceeded(RecoveryCodeUsed),
    #[serde(rename = "user.human.recovery.code.check.failed")]
    RecoveryCodeCheckFailed,
    /// A security key's assertion refused (counted like an OTP failure).
    #[serde(rename = "user.human.mfa.u2f.token.check.failed")]
    U2fCheckFailed,
    /// A passkey's assertion refused (counted like an OTP failure).
    #[serde(rename = "user.human.passwordless.token.check.failed")]
    PasskeyCheckFailed,
    #[serde(rename = "user.human.mfa.u2f.token.signcount.changed")]
    U2fSignCountChanged(U2fSignCount),

    #[serde(rename = "session.added")]
    SessionAdded,
    #[serde(rename = "session.user.checked")]
    SessionUserChecked(SessionUserChecked),
    #[serde(rename = "session.password.checked")]
    SessionPasswordChecked(CheckedAt),
    #[serde(rename = "session.totp.checked")]
    SessionTotpChecked(CheckedAt),
    #[serde(rename = "session.otp.sms.challenged")]
    SessionOtpSmsChallenged(CodeAdded),
    #[serde(rename = "session.otp.sms.checked")]
    SessionOtpSmsChecked(CheckedAt),
    #[serde(rename = "session.otp.email.challenged")]
    SessionOtpEmailChallenged(CodeAdded),
    #[serde(rename = "session.otp.email.checked")]
    SessionOtpEmailChecked(CheckedAt),
    #[serde(rename = "session.webAuthN.challenged")]
    SessionWebAuthnChallenged(WebAuthnChallenged),
    #[serde(rename = "session.webAuthN.checked")]
    SessionWebAuthnChecked(WebAuthnChecked),
    #[serde(rename = "session.recoverycode.checked")]
    SessionRecoveryCodeChecked(CheckedAt),
    #[serde(rename = "session.token.set")]
    SessionTokenSet(SessionTokenSet),
    #[serde(rename = "session.lifetime.set")]
    SessionLifetimeSet(SessionLifetimeSet),
    #[serde(rename = "session.terminated")]
    SessionTerminated,
    #[serde(rename = "session.otp.sms.sent")]
    SessionOtpSmsSent(ProviderId),
    #[serde(rename = "session.otp.email.sent")]
    SessionOtpEmailSent(ProviderId),
    /// Twofold: a delivery that failed after its retries (visible in the log of events).
    #[serde(rename = "session.otp.delivery.failed")]
    SessionOtpDeliveryFailed(DeliveryFailed),

    #[serde(rename = "user.human.recovery.codes.added")]
    RecoveryCodesAdded(RecoveryCodesAdded),
    #[serde(rename = "user.human.recovery.codes.removed")]
    RecoveryCodesRemoved,

    #[serde(rename = "user.human.password.code.added")]
    PasswordCodeAdded(PasswordCodeAdded),
    #[serde(rename = "user.human.password.code.sent")]
    PasswordCodeSent(ProviderId),
    /// Twofold: a wrong reset code (a code is voided after a few).
    #[serde(rename = "user.human.password.code.check.failed")]
    PasswordCodeCheckFailed,
    #[serde(rename = "user.human.password.changed")]
    PasswordChanged(PasswordChanged),
    #[serde(rename = "user.machine.secret.set")]
    MachineSecretSet(MachineSecretSet),
    #[serde(rename = "user.machine.secret.removed")]
    MachineSecretRemoved,

    #[serde(rename = "project.added")]
    ProjectAdded(ProjectSettings),
    #[serde(rename = "project.changed")]
    ProjectChanged(ProjectChanged),
    #[serde(rename = "project.deactivated")]
    ProjectDeactivated,
    #[serde(rename = "project.reactivated")]
    ProjectReactivated,
    #[serde(rename = "project.removed")]
    ProjectRemoved(NamePayload),
    #[serde(rename = "project.application.added")]
    AppAdded(AppAdded),
    #[serde(rename = "project.application.changed")]
    AppChanged(AppAdded),
    #[serde(rename = "project.application.deactivated")]
    AppDeactivated(AppIdPayload),
    #[serde(rename = "project.application.reactivated")]
    AppReactivated(AppIdPayload),
    #[serde(rename = "project.application.removed")]
    AppRemoved(AppIdPayload),
    #[serde(rename = "project.application.config.oidc.added")]
    OidcConfigAdded(Box<OidcConfigAdded>),
    #[serde(rename = "project.application.config.oidc.changed")]
    OidcConfigChanged(OidcConfigChanged),
    #[serde(rename = "project.application.config.oidc.secret.changed")]
    OidcSecretChanged(SecretChanged),
    #[serde(rename = "project.application.config.api.added")]
    ApiConfigAdded(ApiConfigAdded),
    #[serde(rename = "project.application.config.api.changed")]
    ApiConfigChanged(ApiConfigChanged),
    #[serde(rename = "project.application.config.api.secret.changed")]
    ApiSecretChanged(SecretChanged),
    #[serde(rename = "project.application.oidc.key.added")]
    AppKeyAdded(crate::app_key::AppKeyAdded),
    #[serde(rename = "project.application.oidc.key.removed")]
    AppKeyRemoved(crate::app_key::AppKeyRemoved),
    #[serde(rename = "user.deactivated")]
    UserDeactivated,
    #[serde(rename = "user.reactivated")]
    UserReactivated,
    #[serde(rename = "user.human.email.verification.failed")]
    EmailVerificationFailed,
    #[serde(rename = "user.human.phone.verification.failed")]
    PhoneVerificationFailed,
    #[serde(rename = "user.human.phone.removed")]
    PhoneRemoved,
    #[serde(rename = "user.human.mfa.init.skipped")]
    MfaInitSkipped,
    #[serde(rename = "user.username.changed")]
    UsernameChanged(UsernameChanged),
    #[serde(rename = "user.human.profile.changed")]
    ProfileChanged(ProfileChanged),
    #[serde(rename = "user.machine.changed")]
    MachineChanged(MachineChanged),
    #[serde(rename = "user.human.invite.code.added")]
    InviteCodeAdded(InviteCodeAdded),
    #[serde(rename = "user.human.invite.code.sent")]
    InviteCodeSent(ProviderId),
    #[serde(rename = "user.human.invite.check.succeeded")]
    InviteCheckSucceeded,
    #[serde(rename = "user.human.invite.check.failed")]
    InviteCheckFailed,

    #[serde(rename = "auth_request.added")]
    AuthRequestAdded(Box<crate::oidc::auth_request::AuthRequestAdded>),
    #[serde(rename = "auth_request.session.linked")]
    AuthRequestSessionLinked(crate::oidc::auth_request::SessionLinked),
    #[serde(rename = "auth_request.code.added")]
    AuthRequestCodeAdded(crate::oidc::auth_request::CodeAdded),
    #[serde(rename = "auth_request.failed")]
    AuthRequestFailed(crate::oidc::auth_request::Failed),
    #[serde(rename = "auth_request.code.exchanged")]
    AuthRequestCodeExchanged(crate::oidc::auth_request::CodeExchanged),
    #[serde(rename = "auth_request.succeeded")]
    AuthRequestSucceeded,
    #[serde(rename = "key_pair.added")]
    KeyAdded(Box<crate::oidc::keys::KeyAdded>),
    #[serde(rename = "key_pair.rotated")]
    KeyRotated(crate::oidc::keys::KeyRotated),
    #[serde(rename = "client_assertion.used")]
    ClientAssertionUsed(crate::oidc::client_assertion::AssertionUsed),
    #[serde(rename = "oidc_session.added")]
    OidcSessionAdded(Box<crate::oidc::session::OidcSessionAdded>),
    #[serde(rename = "oidc_session.access_token.added")]
    AccessTokenAdded(crate::oidc::session::AccessTokenAdded),
    #[serde(rename = "oidc_session.access_token.revoked")]
    AccessTokenRevoked(crate::oidc::session::TokenId),
    #[serde(rename = "oidc_session.refresh_token.added")]
    RefreshTokenAdded(crate::oidc::session::RefreshTokenAdded),
    #[serde(rename = "oidc_session.refresh_token.renewed")]
    RefreshTokenRenewed(crate::oidc::session::RefreshTokenRenewed),
    #[serde(rename = "oidc_session.revoked")]
    OidcSessionRevoked(crate::oidc::session::SessionRevoked),
    #[serde(rename = "user.human.passwordless.token.added")]
    PasskeyAdded(crate::passkey::PasskeyAdded),
    #[serde(rename = "user.human.passwordless.token.verified")]
    PasskeyVerified(crate::passkey::PasskeyVerified),
    #[serde(rename = "user.human.passwordless.token.signcount.changed")]
    PasskeySignCountChanged(crate::passkey::PasskeySignCount),
    #[serde(rename = "user.human.passwordless.token.removed")]
    PasskeyRemoved(crate::passkey::PasskeyRemoved),
    #[serde(rename = "user.human.passwordless.initialization.code.requested")]
    PasskeyCodeRequested(crate::passkey::PasskeyCodeRequested),
    #[serde(rename = "user.human.passwordless.initialization.code.sent")]
    PasskeyCodeSent(ProviderId),
    #[serde(rename = "user.human.passwordless.initialization.code.check.succeeded")]
    PasskeyCodeCheckSucceeded(crate::passkey::PasskeyCodeId),
    #[serde(rename = "user.human.passwordless.initialization.code.check.failed")]
    PasskeyCodeCheckFailed(crate::passkey::PasskeyCodeId),
}

impl EventPayload {
    /// Splits into the stored type name and JSON payload (None when the event has none).
    #[expect(
        clippy::unreachable,
        reason = "a derived, string-keyed, adjacently tagged enum always serializes to {type, payload} \
                  (see parts_round_trip_with_zitadel_names)"
    )]
    pub fn to_parts(&self) -> (String, Option<serde_json::Value>) {
        let Ok(serde_json::Value::Object(mut obj)) = serde_json::to_value(self) else {
            unreachable!("events serialize to objects")
        };
        let Some(serde_json::Value::String(ty)) = obj.remove("type") else {
            unreachable!("the serde tag is a string")
        };
        (ty, obj.remove("payload"))
    }

    pub fn from_parts(ty: &str, payload: Option<serde_json::Value>) -> Result<Self, serde_json::Error> {
        let mut obj = serde_json::Map::new();
        obj.insert("type".into(), ty.into());
        if let Some(p) = payload {
            obj.insert("payload".into(), p);
        }
        serde_json::from_value(serde_json::Value::Object(obj))
    }
}

/// An event as the store returns it, with its position in the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEvent {
    pub instance_id: String,
    pub aggregate: AggregateRef,
    /// 1, 2, 3… per aggregate.
    pub sequence: u64,
    /// Global order of the instance's log.
    pub position: i64,
    pub created_at: Timestamp,
    /// ID of the user whose request caused the event ("system" at setup).
    pub creator: String,
    pub payload: EventPayload,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_round_trip_with_zitadel_names() {
        let ev = EventPayload::InstanceSecondFactorAdded(MfaTypePayload {
            mfa_type: SecondFactor::OtpEmail,
        });
        let (ty, payload) = ev.to_parts();
        assert_eq!(ty, "instance.policy.login.secondfactor.added");
        assert_eq!(payload, Some(serde_json::json!({"mfaType": 3})));
        assert_eq!(EventPayload::from_parts(&ty, payload).unwrap(), ev);
    }

    #[test]
    fn typed_ids_are_stored_as_plain_strings() {
        let stored = serde_json::json!({"userID": "u1", "userResourceOwner": "org1", "checkedAt": 5});
        let ev = EventPayload::SessionUserChecked(SessionUserChecked {
            user_id: "u1".into(),
            org_id: "org1".into(),
            checked_at: Timestamp(5),
        });
        let (ty, payload) = ev.to_parts();
        assert_eq!(payload, Some(stored.clone()));
        assert_eq!(EventPayload::from_parts(&ty, Some(stored)).unwrap(), ev);
    }

    #[test]
    fn unknown_factor_numbers_are_rejected() {
        let err = EventPayload::from_parts(
            "instance.policy.login.secondfactor.added",
            Some(serde_json::json!({"mfaType": 9})),
        );
        assert!(err.is_err());
    }
}
