//! Sign-in sessions: which factors a user has proved, and when. Unlike
//! ZITADEL, the checks here enforce the login policy, consume each TOTP
//! step once, and throttle repeated OTP failures.
//!
//! - [`checks`] decides a request's checks against evidence the app
//!   prepared (hash comparisons, the WebAuthn assertion);
//! - [`challenges`] decides which challenges a request may ask for;
//! - [`access`] decides whether a session token signs its user in (first
//!   factor, force-MFA and check lifetimes);
//! - [`throttle`] and [`require_allowed`] are the rules the OTP checks share.

/// Error id of a check the login policy does not allow (a second factor).
pub const FACTOR_NOT_ALLOWED: &str = "SESSION-F4ct0";
/// Error id of a password check the login policy does not allow.
pub const PASSWORD_NOT_ALLOWED: &str = "SESSION-PwN0t";
/// Error id of a one-time-code check refused while the throttle runs.
pub const THROTTLED: &str = "SESSION-Thr0t";

pub mod access;
pub mod challenges;
pub mod checks;
pub mod throttle;

#[cfg(test)]
mod tests;

use crate::error::{DomainError, ErrorKind};
use crate::event::{AggregateRef, EventPayload as E, StoredEvent, Timestamp};
use crate::factors::SecondFactor;
use crate::human::constant_time_eq;
use crate::ids::{OrgId, UserId};
use crate::readmodel::directory::{UserState as UserDocState, UserView};
use crate::readmodel::login_policy::LoginPolicyView;
use crate::user::{TotpState, UserState};

pub use throttle::{OTP_FAILURES_BEFORE_THROTTLE, otp_throttled_until, throttle_error};

/// The user a session was checked with, and the org that owns the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionUser {
    pub user_id: UserId,
    pub org_id: OrgId,
}

impl SessionUser {
    /// The user's aggregate, where the user's factor events are stored.
    pub fn aggregate(&self) -> AggregateRef {
        AggregateRef::user(&self.user_id, &self.org_id)
    }
}

/// A session folded from its events.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionState {
    pub exists: bool,
    pub terminated: bool,
    pub created_at: Timestamp,
    pub creator: String,
    pub expiration: Option<Timestamp>,
    pub user: Option<SessionUser>,
    pub token_hash: Option<String>,
    pub sms_challenge: Option<crate::event::CodeAdded>,
    pub email_challenge: Option<crate::event::CodeAdded>,
    pub webauthn_challenge: Option<crate::event::WebAuthnChallenged>,
}

impl SessionState {
    pub fn fold(events: &[StoredEvent]) -> Self {
        let mut s = Self::default();
        for ev in events {
            match &ev.payload {
                E::SessionAdded => {
                    s.exists = true;
                    s.created_at = ev.created_at;
                    s.creator = ev.creator.clone();
                }
                E::SessionUserChecked(p) => {
                    s.user = Some(SessionUser {
                        user_id: p.user_id.clone(),
                        org_id: p.org_id.clone(),
                    });
                }
                E::SessionTokenSet(p) => s.token_hash = Some(p.token_hash.clone()),
                E::SessionLifetimeSet(p) => s.expiration = Some(Timestamp(ev.created_at.0 + p.lifetime / 1_000)),
                E::SessionOtpSmsChallenged(c) => s.sms_challenge = Some(c.clone()),
                E::SessionOtpSmsChecked(_) => s.sms_challenge = None,
                E::SessionOtpEmailChallenged(c) => s.email_challenge = Some(c.clone()),
                E::SessionOtpEmailChecked(_) => s.email_challenge = None,
                E::SessionWebAuthnChallenged(c) => s.webauthn_challenge = Some(c.clone()),
                E::SessionWebAuthnChecked(_) => s.webauthn_challenge = None,
                E::SessionTerminated => s.terminated = true,
                _ => {}
            }
        }
        s
    }

    /// Errors for a session that can no longer be changed.
    pub fn require_usable(&self, now: Timestamp) -> Result<(), DomainError> {
        if self.terminated {
            return Err(DomainError::precondition("COMMAND-Hewfq", "Session already terminated"));
        }
        if self.expiration.is_some_and(|e| e <= now) {
            return Err(DomainError::precondition("COMMAND-Hkl3d", "Session has expired"));
        }
        Ok(())
    }

    /// The session's token, given as its hash, compared in constant time.
    pub fn require_token(&self, given_hash: &str) -> Result<(), DomainError> {
        match &self.token_hash {
            Some(h) if constant_time_eq(h.as_bytes(), given_hash.as_bytes()) => Ok(()),
            _ => Err(DomainError::permission_denied(
                "COMMAND-sGr42",
                "Session Token is invalid",
            )),
        }
    }

    /// A session keeps the user it was first checked with.
    pub fn require_same_user(&self, checked_user_id: &UserId) -> Result<(), DomainError> {
        match &self.user {
            Some(prev) if prev.user_id != *checked_user_id => Err(DomainError::new(
                ErrorKind::InvalidArgument,
                "",
                "user change not possible ()",
            )),
            _ => Ok(()),
        }
    }
}

/// Only active users can be checked into a session.
pub fn require_active_user(user: &UserView) -> Result<(), DomainError> {
    if user.state != UserDocState::Active {
        return Err(DomainError::precondition("SESSION-Gj4ko", "Errors.User.NotActive"));
    }
    Ok(())
}

/// A session whose user was deactivated after its user check takes no
/// further checks. (A locked user still gets the checks' own lock errors.)
pub fn require_not_deactivated(user: &UserView) -> Result<(), DomainError> {
    if user.state == UserDocState::Inactive {
        return Err(DomainError::precondition("SESSION-Gj4ko", "Errors.User.NotActive"));
    }
    Ok(())
}

/// Terminating is idempotent: a missing or terminated session is fine.
pub fn decide_terminate(state: &SessionState) -> Vec<E> {
    if state.exists && !state.terminated {
        vec![E::SessionTerminated]
    } else {
        vec![]
    }
}

/// A second factor may be checked only if the effective login policy of the
/// user's organization allows it at that moment.
pub fn require_allowed(policy: &LoginPolicyView, factor: SecondFactor) -> Result<(), DomainError> {
    if policy.second_factors.contains(&factor) {
        return Ok(());
    }
    let name = match factor {
        SecondFactor::Otp => "SECOND_FACTOR_TYPE_OTP",
        SecondFactor::U2f => "SECOND_FACTOR_TYPE_U2F",
        SecondFactor::OtpEmail => "SECOND_FACTOR_TYPE_OTP_EMAIL",
        SecondFactor::OtpSms => "SECOND_FACTOR_TYPE_OTP_SMS",
        SecondFactor::RecoveryCodes => "SECOND_FACTOR_TYPE_RECOVERY_CODES",
    };
    let whose = if policy.is_default {
        "the instance's default login policy".to_owned()
    } else {
        format!("the login policy of organization {}", policy.details.resource_owner)
    };
    Err(DomainError::precondition(
        FACTOR_NOT_ALLOWED,
        format!("{name} is not an allowed second factor in {whose}"),
    ))
}

/// [`require_allowed`] when the session has a user (and so a policy).
fn require_allowed_if(policy: Option<&LoginPolicyView>, factor: SecondFactor) -> Result<(), DomainError> {
    policy.map_or(Ok(()), |p| require_allowed(p, factor))
}

/// The TOTP check: a code for a step newer than any step already used.
/// `matched_step` comes from comparing the code with steps T-1..T+1. A
/// refusal is recorded as `user.human.mfa.otp.check.failed`.
pub fn decide_totp_check(state: &UserState, matched_step: Option<u64>) -> Result<E, DomainError> {
    let TotpState::Ready { last_step, .. } = &state.totp else {
        return Err(crate::mfa::totp_not_ready());
    };
    match matched_step {
        Some(step) if step > *last_step => Ok(E::TotpCheckSucceeded(crate::event::TotpVerified { step })),
        Some(_) => Err(DomainError::invalid(
            "SESSION-R3play",
            "This one-time password was already used; wait for the next code",
        )),
        None => Err(crate::mfa::invalid_code()),
    }
}
