//! Sign-in sessions: which factors a user has proved, and when. Unlike
//! ZITADEL, the checks here enforce the login policy, consume each TOTP
//! step once, and throttle repeated OTP failures.

use crate::error::DomainError;
use crate::event::{EventPayload as E, StoredEvent, Timestamp};
use crate::factors::SecondFactor;
use crate::readmodel::login_policy::LoginPolicyView;
use crate::user::{TotpState, UserState};

const SECOND: i64 = 1_000_000;

/// A session folded from its events.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionState {
    pub exists: bool,
    pub terminated: bool,
    pub created_at: Timestamp,
    pub creator: String,
    pub expiration: Option<Timestamp>,
    /// (user ID, org ID)
    pub user: Option<(String, String)>,
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
                E::SessionUserChecked(p) => s.user = Some((p.user_id.clone(), p.org_id.clone())),
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
}

/// Failed OTP checks (of any kind) tolerated before throttling starts.
pub const OTP_FAILURES_BEFORE_THROTTLE: u32 = 5;

/// Until when further OTP checks are refused: after 5 consecutive failures
/// a window of `base_secs` (30 s by default) follows the last failure,
/// doubling with every further failure up to one hour. None when checks
/// are allowed.
pub fn otp_throttled_until(state: &UserState, base_secs: i64) -> Option<Timestamp> {
    let over = state.otp_failures.checked_sub(OTP_FAILURES_BEFORE_THROTTLE)?;
    let window = (base_secs * SECOND)
        .saturating_mul(1i64 << over.min(12))
        .min(3_600 * SECOND);
    Some(Timestamp(state.last_otp_failure.0 + window))
}

pub fn throttle_error(until: Timestamp, now: Timestamp) -> DomainError {
    let secs = ((until.0 - now.0 + SECOND - 1) / SECOND).max(1);
    DomainError {
        retry_after_secs: Some(secs as u64),
        ..DomainError::new(
            crate::error::ErrorKind::ResourceExhausted,
            "SESSION-Thr0t",
            format!("Too many failed one-time password checks; retry after {secs}s"),
        )
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
        "SESSION-F4ct0",
        format!("{name} is not an allowed second factor in {whose}"),
    ))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_window_doubles_up_to_an_hour() {
        let mut s = UserState {
            last_otp_failure: Timestamp(0),
            ..UserState::default()
        };
        s.otp_failures = 4;
        assert_eq!(otp_throttled_until(&s, 30), None);
        let at = |n: u32| {
            let mut s = s.clone();
            s.otp_failures = n;
            otp_throttled_until(&s, 30).unwrap().0 / SECOND
        };
        assert_eq!((at(5), at(6), at(7)), (30, 60, 120));
        assert_eq!(at(30), 3_600);
    }

    #[test]
    fn totp_steps_are_single_use() {
        let s = UserState {
            totp: TotpState::Ready {
                sealed_secret: "s".into(),
                last_step: 10,
            },
            ..UserState::default()
        };
        assert!(decide_totp_check(&s, Some(11)).is_ok());
        assert_eq!(decide_totp_check(&s, Some(10)).unwrap_err().id, "SESSION-R3play");
        assert_eq!(decide_totp_check(&s, Some(9)).unwrap_err().id, "SESSION-R3play");
        assert_eq!(decide_totp_check(&s, None).unwrap_err().id, "EVENT-8isk2");
    }
}
