//! Challenges a CreateSession/SetSession request may ask for (a code by SMS
//! or email, a WebAuthn challenge), and what a WebAuthn check needs. These
//! rules run before the app does any work for the request (no code is made,
//! no password hashed, when one of them refuses).

use crate::error::DomainError;
use crate::event::{CodeAdded, Timestamp, WebAuthnChallenged};
use crate::factors::SecondFactor;
use crate::passkey;
use crate::readmodel::login_policy::LoginPolicyView;
use crate::user::UserState;

use super::{SessionState, require_allowed_if};

/// OTP codes sent by SMS or email: 8 digits, valid five minutes.
pub const OTP_CODE_LEN: usize = 8;
pub const OTP_CODE_LIFETIME_MICROS: i64 = 5 * 60 * 1_000_000;

/// The challenges a request asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChallengeRequest {
    pub otp_sms: bool,
    pub otp_email: bool,
    pub webauthn: bool,
    /// The WebAuthn challenge requires user verification: a passkey one.
    pub passkey: bool,
}

/// Challenges to store with the session.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewChallenges {
    pub otp_sms: Option<CodeAdded>,
    pub otp_email: Option<CodeAdded>,
    pub webauthn: Option<WebAuthnChallenged>,
}

fn no_user() -> DomainError {
    DomainError::invalid("COMMAND-Df4b3", "User could not be found")
}

/// A WebAuthn check needs a user, the session's pending challenge (which
/// it returns), and its family allowed by the policy: security keys, or
/// passkeys for a challenge that required user verification.
pub fn require_webauthn_check<'s>(
    session: &'s SessionState,
    user: Option<&UserState>,
    policy: Option<&LoginPolicyView>,
) -> Result<&'s WebAuthnChallenged, DomainError> {
    user.ok_or_else(no_user)?;
    let challenge = session
        .webauthn_challenge
        .as_ref()
        .ok_or_else(|| DomainError::precondition("COMMAND-Ioqu5", "Session without WebAuthN challenge"))?;
    if is_passkey_challenge(challenge) {
        passkey::require_passkey_allowed(policy)?;
    } else {
        require_allowed_if(policy, SecondFactor::U2f)?;
    }
    Ok(challenge)
}

/// The `userVerification` a passkey challenge stores.
pub const PASSKEY_USER_VERIFICATION: &str = "required";

pub fn is_passkey_challenge(c: &WebAuthnChallenged) -> bool {
    c.user_verification == PASSKEY_USER_VERIFICATION
}

/// A passkey challenge asked for without a user: any discoverable
/// credential may answer it, the assertion's user handle naming the user,
/// whose policy decides at the check.
pub fn is_discoverable(user: Option<&UserState>, req: ChallengeRequest) -> bool {
    req.webauthn && req.passkey && user.is_none()
}

/// Each requested challenge needs a user with the factor added (OTP) or a
/// usable key of the WebAuthn family asked for (`security_keys` counts the
/// user's security keys, or passkeys), allowed by the policy; a passkey
/// challenge may do without a user ([`is_discoverable`]).
/// Decided in this order: SMS, email, WebAuthn.
pub fn require_challenges(
    user: Option<&UserState>,
    policy: Option<&LoginPolicyView>,
    req: ChallengeRequest,
    security_keys: usize,
) -> Result<(), DomainError> {
    if req.otp_sms {
        let us = user.ok_or_else(|| DomainError::precondition("COMMAND-JKL3g", "User could not be found"))?;
        if !us.otp_sms {
            return Err(otp_not_ready("COMMAND-BJ2g3"));
        }
        require_allowed_if(policy, SecondFactor::OtpSms)?;
    }
    if req.otp_email {
        let us = user.ok_or_else(|| DomainError::precondition("COMMAND-JK3gp", "User could not be found"))?;
        if !us.otp_email {
            return Err(otp_not_ready("COMMAND-JKLJ3"));
        }
        require_allowed_if(policy, SecondFactor::OtpEmail)?;
    }
    if req.webauthn && !is_discoverable(user, req) {
        user.ok_or_else(no_user)?;
        if req.passkey {
            passkey::require_passkey_allowed(policy)?;
        } else {
            require_allowed_if(policy, SecondFactor::U2f)?;
        }
        if security_keys == 0 {
            return Err(DomainError::precondition("WEBAU-4G8sw", "The user has no security key"));
        }
    }
    Ok(())
}

fn otp_not_ready(id: &'static str) -> DomainError {
    DomainError::precondition(id, "Multifactor OTP (OneTimePassword) isn't ready")
}

/// The stored form of a code sent or returned now.
pub fn otp_challenge(code_hash: String, now: Timestamp) -> CodeAdded {
    CodeAdded {
        code_hash,
        expiry: Timestamp(now.0 + OTP_CODE_LIFETIME_MICROS),
    }
}
