//! Users (machine and human) and their personal access tokens. Second
//! factors of human users are decided in [`crate::mfa`].

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::event::{
    CodeAdded, EventPayload as E, InviteCodeAdded, PatAdded, PatRemoved, StoredEvent, Timestamp, UserRemoved,
};
use crate::ids::OrgId;
use crate::password_code::{MAX_CODE_FAILURES, PendingPasswordCode};

/// Where a user's TOTP enrolment stands.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TotpState {
    #[default]
    None,
    /// Registered, waiting for the first code; holds the sealed secret.
    NotReady { sealed_secret: String },
    /// Verified; `last_step` is the newest time step consumed.
    Ready { sealed_secret: String, last_step: u64 },
}

/// A security key: pending (registration state) until verified.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct U2fToken {
    pub id: String,
    pub rp_id: String,
    pub name: String,
    /// Registration state while the key is not yet verified.
    pub pending: Option<String>,
    /// The verified credential (JSON).
    pub credential: Option<String>,
}

/// A user folded from its aggregate's events. Serialisable: it is what a
/// user's snapshot stores (see [`crate::snapshot`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserState {
    pub exists: bool,
    pub org_id: OrgId,
    pub user_name: String,
    pub machine: bool,
    pub human: bool,
    pub locked: bool,
    /// IDs of the tokens that have not been removed.
    pub tokens: Vec<String>,
    pub email: String,
    /// Whether an email address was ever verified (what OTP email needs).
    pub email_verified: bool,
    /// Whether the current address is verified.
    pub email_verified_now: bool,
    pub email_code: Option<CodeAdded>,
    pub phone: String,
    pub phone_verified: bool,
    pub phone_code: Option<CodeAdded>,
    pub totp: TotpState,
    pub otp_sms: bool,
    pub otp_email: bool,
    pub recovery_code_hashes: Vec<String>,
    pub u2f: Vec<U2fToken>,
    pub password_hash: Option<String>,
    /// Consecutive failed OTP checks (TOTP, SMS, email, recovery codes)
    /// since the last success, and when the last one failed.
    pub otp_failures: u32,
    /// Consecutive failed password checks since the last success.
    pub password_failures: u32,
    /// The password reset code waiting to be used.
    pub password_code: Option<PendingPasswordCode>,
    pub last_otp_failure: Timestamp,
    /// Keyed hash of a machine user's client secret.
    pub machine_secret: Option<String>,
    /// Deactivated (`user.deactivated`) and not reactivated since.
    pub inactive: bool,
    /// When the user last chose to skip setting up a second factor.
    pub mfa_init_skipped: Option<Timestamp>,
    pub invite_code: Option<InviteCodeAdded>,
    pub profile: Profile,
    /// A machine user's name and description.
    pub machine_name: String,
    pub machine_description: String,
    pub passkeys: crate::passkey::Passkeys,
}

/// A human user's profile as last set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub given_name: String,
    pub family_name: String,
    pub nick_name: String,
    pub display_name: String,
    pub preferred_language: String,
    pub gender: i32,
}

impl UserState {
    pub fn fold(events: &[StoredEvent]) -> Self {
        Self::default().fold_more(events)
    }

    /// This state with `events` (the ones after it) applied.
    pub fn fold_more(mut self, events: &[StoredEvent]) -> Self {
        for ev in events {
            self.apply(ev);
        }
        self
    }

    fn apply(&mut self, ev: &StoredEvent) {
        self.passkeys.apply(&ev.payload);
        match &ev.payload {
            E::MachineUserAdded(p) => {
                self.exists = true;
                self.machine = true;
                self.user_name = p.user_name.clone();
                self.org_id = OrgId::from(ev.aggregate.owner.as_str());
                self.machine_name = p.name.clone();
                self.machine_description = p.description.clone();
            }
            E::HumanAdded(p) => {
                self.exists = true;
                self.human = true;
                self.user_name = p.user_name.clone();
                self.org_id = OrgId::from(ev.aggregate.owner.as_str());
                self.email = p.email.clone();
                self.phone = p.phone.clone();
                self.password_hash = p.encoded_hash.clone();
                self.profile = Profile {
                    given_name: p.first_name.clone(),
                    family_name: p.last_name.clone(),
                    nick_name: p.nick_name.clone(),
                    display_name: p.display_name.clone(),
                    preferred_language: p.preferred_language.clone(),
                    gender: p.gender,
                };
            }
            E::PatAdded(p) => self.tokens.push(p.token_id.clone()),
            E::PatRemoved(p) => self.tokens.retain(|t| *t != p.token_id),
            E::UserRemoved(_) => self.exists = false,
            E::UserLocked => self.locked = true,
            E::EmailChanged(p) => {
                self.email = p.email.clone();
                self.email_code = None;
                self.email_verified_now = false;
            }
            E::EmailCodeAdded(c) => self.email_code = Some(c.clone()),
            E::EmailVerified => {
                self.email_verified = true;
                self.email_verified_now = true;
                self.email_code = None;
            }
            E::PhoneChanged(p) => {
                self.phone = p.phone.clone();
                self.phone_verified = false;
                self.phone_code = None;
                // A new number is a new binding: OTP by SMS must be added again.
                self.otp_sms = false;
            }
            E::PhoneCodeAdded(c) => self.phone_code = Some(c.clone()),
            E::PhoneVerified => {
                self.phone_verified = true;
                self.phone_code = None;
            }
            E::TotpAdded(p) => {
                self.totp = TotpState::NotReady {
                    sealed_secret: p.otp_secret.clone(),
                }
            }
            E::TotpVerified(p) => {
                if let TotpState::NotReady { sealed_secret } = &self.totp {
                    self.totp = TotpState::Ready {
                        sealed_secret: sealed_secret.clone(),
                        last_step: p.step,
                    };
                }
            }
            E::TotpRemoved => self.totp = TotpState::None,
            E::OtpSmsAdded => self.otp_sms = true,
            E::OtpSmsRemoved => self.otp_sms = false,
            E::OtpEmailAdded => self.otp_email = true,
            E::OtpEmailRemoved => self.otp_email = false,
            E::U2fAdded(p) => {
                // A new registration replaces one that was never verified.
                self.u2f.retain(|t| t.credential.is_some());
                self.u2f.push(U2fToken {
                    id: p.token_id.clone(),
                    rp_id: p.rp_id.clone(),
                    name: String::new(),
                    pending: Some(p.state.clone()),
                    credential: None,
                });
            }
            E::U2fVerified(p) => {
                if let Some(t) = self.u2f.iter_mut().find(|t| t.id == p.token_id) {
                    t.pending = None;
                    t.credential = Some(p.credential.clone());
                    t.name = p.name.clone();
                }
            }
            E::U2fRemoved(p) => self.u2f.retain(|t| t.id != p.token_id),
            E::TotpCheckSucceeded(p) => {
                if let TotpState::Ready { last_step, .. } = &mut self.totp {
                    *last_step = (*last_step).max(p.step);
                }
                self.otp_failures = 0;
            }
            E::RecoveryCodeCheckSucceeded(p) => {
                if p.index < self.recovery_code_hashes.len() {
                    self.recovery_code_hashes.remove(p.index);
                }
                self.otp_failures = 0;
            }
            E::OtpSmsCheckSucceeded | E::OtpEmailCheckSucceeded => self.otp_failures = 0,
            // A refused security-key or passkey assertion is a failed
            // second factor like a wrong code: the same throttle and limit.
            E::TotpCheckFailed
            | E::OtpSmsCheckFailed
            | E::OtpEmailCheckFailed
            | E::RecoveryCodeCheckFailed
            | E::U2fCheckFailed
            | E::PasskeyCheckFailed => {
                self.otp_failures += 1;
                self.last_otp_failure = ev.created_at;
            }
            E::UserUnlocked => {
                self.locked = false;
                self.otp_failures = 0;
                self.password_failures = 0;
            }
            E::PasswordCheckSucceeded => self.password_failures = 0,
            E::PasswordCheckFailed => self.password_failures += 1,
            E::U2fSignCountChanged(p) => {
                if let Some(t) = self.u2f.iter_mut().find(|t| t.id == p.token_id) {
                    t.credential = Some(p.credential.clone());
                }
                self.otp_failures = 0;
            }
            E::PasskeySignCountChanged(_) => self.otp_failures = 0,
            E::RecoveryCodesAdded(p) => self.recovery_code_hashes = p.code_hashes.clone(),
            E::RecoveryCodesRemoved => self.recovery_code_hashes.clear(),
            E::PasswordCodeAdded(p) => self.password_code = Some(PendingPasswordCode::new(p)),
            E::PasswordCodeCheckFailed => {
                if let Some(c) = &mut self.password_code {
                    c.failures += 1;
                    if c.failures >= MAX_CODE_FAILURES {
                        self.password_code = None;
                    }
                }
            }
            E::PasswordChanged(p) => {
                self.password_hash = Some(p.encoded_hash.clone());
                self.password_code = None;
                self.password_failures = 0;
            }
            E::MachineSecretSet(p) => self.machine_secret = Some(p.hashed_secret.clone()),
            E::MachineSecretRemoved => self.machine_secret = None,
            E::UserDeactivated => {
                self.inactive = true;
                self.locked = false;
            }
            E::UserReactivated => self.inactive = false,
            E::PhoneRemoved => {
                self.phone.clear();
                self.phone_verified = false;
                self.phone_code = None;
                self.otp_sms = false;
            }
            E::MfaInitSkipped => self.mfa_init_skipped = Some(ev.created_at),
            E::UsernameChanged(p) => self.user_name = p.user_name.clone(),
            E::ProfileChanged(p) => {
                let f = &mut self.profile;
                for (field, value) in [
                    (&mut f.given_name, &p.first_name),
                    (&mut f.family_name, &p.last_name),
                    (&mut f.nick_name, &p.nick_name),
                    (&mut f.display_name, &p.display_name),
                    (&mut f.preferred_language, &p.preferred_language),
                ] {
                    if let Some(v) = value {
                        field.clone_from(v);
                    }
                }
                if let Some(g) = p.gender {
                    f.gender = g;
                }
            }
            E::MachineChanged(p) => {
                if let Some(n) = &p.name {
                    self.machine_name.clone_from(n);
                }
                if let Some(d) = &p.description {
                    self.machine_description.clone_from(d);
                }
            }
            E::InviteCodeAdded(c) => self.invite_code = Some(c.clone()),
            E::InviteCheckSucceeded => self.invite_code = None,
            _ => {}
        }
    }

    /// Whether the user exists and belongs to `org_id` (management calls
    /// only see the users of their org).
    pub fn in_org(&self, org_id: &OrgId) -> bool {
        self.exists && self.org_id == *org_id
    }
}

/// A machine user with a chosen ID must not exist yet.
pub fn decide_add_machine(state: &UserState) -> Result<(), DomainError> {
    if state.exists || !state.user_name.is_empty() {
        return Err(DomainError::precondition(
            "COMMAND-k2una",
            "Errors.User.AlreadyExisting",
        ));
    }
    Ok(())
}

pub fn decide_add_pat(
    state: &UserState,
    org_id: &OrgId,
    token: PatAdded,
    now: Timestamp,
) -> Result<Vec<E>, DomainError> {
    if !state.in_org(org_id) {
        return Err(DomainError::precondition("COMMAND-Dggw2", "User could not be found"));
    }
    if !state.machine {
        return Err(DomainError::precondition(
            "COMMAND-Df2f1",
            "Not allowed for this user type",
        ));
    }
    if token.expiration <= now {
        return Err(DomainError::invalid("DOMAIN-dv3t5", "Errors.AuthNKey.ExpireBeforeNow"));
    }
    Ok(vec![E::PatAdded(token)])
}

pub fn decide_remove_pat(state: &UserState, org_id: &OrgId, token_id: &str) -> Result<Vec<E>, DomainError> {
    if !state.in_org(org_id) || !state.tokens.iter().any(|t| t == token_id) {
        return Err(DomainError::not_found(
            "COMMAND-4m77G",
            "Personal Access Token not found",
        ));
    }
    Ok(vec![E::PatRemoved(PatRemoved {
        token_id: token_id.to_owned(),
    })])
}

pub fn decide_remove_user(state: &UserState, org_id: &OrgId) -> Result<Vec<E>, DomainError> {
    if !state.in_org(org_id) {
        return Err(DomainError::not_found("COMMAND-m9od", "User could not be found"));
    }
    Ok(vec![E::UserRemoved(UserRemoved {
        user_name: state.user_name.clone(),
    })])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{AggregateRef, MachineUserAdded};

    fn ev(payload: E) -> StoredEvent {
        StoredEvent {
            instance_id: "i".into(),
            aggregate: AggregateRef::user(&"u".into(), &"org".into()),
            sequence: 1,
            position: 1,
            created_at: Timestamp(0),
            creator: "c".into(),
            payload,
        }
    }

    fn machine() -> Vec<StoredEvent> {
        vec![ev(E::MachineUserAdded(MachineUserAdded {
            user_name: "bot".into(),
            name: "Bot".into(),
            description: String::new(),
            access_token_type: 0,
        }))]
    }

    fn pat(id: &str, expiration: i64) -> PatAdded {
        PatAdded {
            token_id: id.into(),
            token_hash: "h".into(),
            expiration: Timestamp(expiration),
            scopes: vec![],
        }
    }

    #[test]
    fn pat_rules() {
        let s = UserState::fold(&machine());
        assert!(decide_add_pat(&s, &"org".into(), pat("t", 10), Timestamp(5)).is_ok());
        assert_eq!(
            decide_add_pat(&s, &"org".into(), pat("t", 5), Timestamp(5))
                .unwrap_err()
                .id,
            "DOMAIN-dv3t5"
        );
        assert_eq!(
            decide_add_pat(&s, &"other".into(), pat("t", 10), Timestamp(5))
                .unwrap_err()
                .id,
            "COMMAND-Dggw2"
        );
        let mut events = machine();
        events.push(ev(E::PatAdded(pat("t", 10))));
        let s = UserState::fold(&events);
        assert!(decide_remove_pat(&s, &"org".into(), "t").is_ok());
        assert_eq!(
            decide_remove_pat(&s, &"org".into(), "x").unwrap_err().id,
            "COMMAND-4m77G"
        );
    }

    #[test]
    fn removed_users_are_gone() {
        let mut events = machine();
        events.push(ev(E::UserRemoved(UserRemoved {
            user_name: "bot".into(),
        })));
        let s = UserState::fold(&events);
        assert_eq!(decide_remove_user(&s, &"org".into()).unwrap_err().id, "COMMAND-m9od");
        assert_eq!(
            decide_add_machine(&s).unwrap_err().id,
            "COMMAND-k2una",
            "ids are not reused"
        );
    }
}
