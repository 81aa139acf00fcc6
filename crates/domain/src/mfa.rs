//! A human user's second factors: enrolment and removal of TOTP, OTP by SMS
//! and by email, and recovery codes. Enrolment does not consult the login
//! policy (as in ZITADEL); the policy is enforced at sign-in.

use crate::error::DomainError;
use crate::event::{EventPayload as E, RecoveryCodesAdded, TotpAdded, TotpVerified, U2fAdded, U2fRemoved, U2fVerified};
use crate::user::{TotpState, UserState};

/// The user to enrol a factor for does not exist (or is no human).
pub fn user_missing() -> DomainError {
    DomainError::precondition("COMMAND-SqyJz", "User could not be found")
}

pub fn totp_missing() -> DomainError {
    DomainError::not_found("COMMAND-3Mif9s", "Multifactor OTP (OneTimePassword) doesn't exist")
}

/// TOTP checked before its registration was verified (ZITADEL uses the id
/// of [`totp_missing`] for this as well).
pub fn totp_not_ready() -> DomainError {
    DomainError::precondition("COMMAND-3Mif9s", "Multifactor OTP (OneTimePassword) isn't ready")
}

/// A TOTP code that matches no time step.
pub fn invalid_code() -> DomainError {
    DomainError::invalid("EVENT-8isk2", "Invalid code")
}

pub fn u2f_token_missing() -> DomainError {
    DomainError::not_found("COMMAND-DAfb2", "WebAuthN Token could not be found")
}

pub fn recovery_codes_missing() -> DomainError {
    DomainError::not_found("COMMAND-RcV9d", "Recovery codes don't exist")
}

fn require_human(state: &UserState) -> Result<(), DomainError> {
    if state.exists && state.human {
        Ok(())
    } else {
        Err(user_missing())
    }
}

/// A new secret; an unverified one is replaced, a verified one is kept.
pub fn decide_register_totp(state: &UserState, sealed_secret: String) -> Result<Vec<E>, DomainError> {
    require_human(state)?;
    if matches!(state.totp, TotpState::Ready { .. }) {
        return Err(DomainError::already_exists(
            "COMMAND-do9se",
            "Multifactor OTP (OneTimePassword) is already set up",
        ));
    }
    Ok(vec![E::TotpAdded(TotpAdded {
        otp_secret: sealed_secret,
    })])
}

/// `matched_step` is the time step the given code matched, if any.
pub fn decide_verify_totp(state: &UserState, matched_step: Option<u64>) -> Result<Vec<E>, DomainError> {
    match state.totp {
        TotpState::None => Err(totp_missing()),
        TotpState::Ready { .. } => Err(DomainError::precondition(
            "COMMAND-qx4ls",
            "Errors.Users.MFA.OTP.AlreadyReady",
        )),
        TotpState::NotReady { .. } => match matched_step {
            Some(step) => Ok(vec![E::TotpVerified(TotpVerified { step })]),
            None => Err(invalid_code()),
        },
    }
}

pub fn decide_remove_totp(state: &UserState) -> Result<Vec<E>, DomainError> {
    if !state.exists || state.totp == TotpState::None {
        return Err(DomainError::not_found(
            "COMMAND-Hd9sd",
            "Multifactor OTP (OneTimePassword) doesn't exist",
        ));
    }
    Ok(vec![E::TotpRemoved])
}

pub fn decide_add_otp_sms(state: &UserState) -> Result<Vec<E>, DomainError> {
    require_human(state)?;
    if state.otp_sms {
        return Err(DomainError::already_exists(
            "COMMAND-Ad3g2",
            "Multifactor OTP (OneTimePassword) is already set up",
        ));
    }
    if !state.phone_verified {
        return Err(DomainError::precondition(
            "COMMAND-Q54j2",
            "Multifactor OTP (OneTimePassword) isn't ready",
        ));
    }
    Ok(vec![E::OtpSmsAdded])
}

pub fn decide_remove_otp_sms(state: &UserState) -> Result<Vec<E>, DomainError> {
    if !state.exists || !state.otp_sms {
        return Err(DomainError::not_found(
            "COMMAND-Sr3h3",
            "Multifactor OTP (OneTimePassword) doesn't exist",
        ));
    }
    Ok(vec![E::OtpSmsRemoved])
}

pub fn decide_add_otp_email(state: &UserState) -> Result<Vec<E>, DomainError> {
    require_human(state)?;
    if state.otp_email {
        return Err(DomainError::already_exists(
            "COMMAND-MKL2s",
            "Multifactor OTP (OneTimePassword) is already set up",
        ));
    }
    if !state.email_verified {
        return Err(DomainError::precondition(
            "COMMAND-KLJ2d",
            "Multifactor OTP (OneTimePassword) isn't ready",
        ));
    }
    Ok(vec![E::OtpEmailAdded])
}

pub fn decide_remove_otp_email(state: &UserState) -> Result<Vec<E>, DomainError> {
    if !state.exists || !state.otp_email {
        return Err(DomainError::not_found(
            "COMMAND-b312D",
            "Multifactor OTP (OneTimePassword) doesn't exist",
        ));
    }
    Ok(vec![E::OtpEmailRemoved])
}

pub fn decide_register_u2f(
    state: &UserState,
    token_id: &str,
    reg_state: String,
    rp_id: &str,
) -> Result<Vec<E>, DomainError> {
    require_human(state)?;
    Ok(vec![E::U2fAdded(U2fAdded {
        token_id: token_id.to_owned(),
        state: reg_state,
        rp_id: rp_id.to_owned(),
    })])
}

/// The pending registration a verification is for: the one named, else
/// the user's only pending one.
pub fn pending_u2f<'a>(state: &'a UserState, token_id: &str) -> Result<&'a crate::user::U2fToken, DomainError> {
    state
        .u2f
        .iter()
        .filter(|t| t.pending.is_some())
        .find(|t| t.id == token_id)
        .or_else(|| state.u2f.iter().find(|t| t.pending.is_some()))
        .ok_or_else(|| DomainError::not_found("WEBAU-5M9so", "No security key registration is pending"))
}

/// `checked` is the relying party's verdict on the attestation: the
/// credential ID and credential, or why it was refused.
pub fn decide_verify_u2f(
    state: &UserState,
    token_id: &str,
    checked: Result<(String, String), String>,
    name: &str,
) -> Result<Vec<E>, DomainError> {
    let pending = pending_u2f(state, token_id)?;
    let (key_id, credential) = checked.map_err(|why| {
        DomainError::invalid("WEBAU-sEr8c", format!("The security key's response was refused: {why}"))
    })?;
    Ok(vec![E::U2fVerified(U2fVerified {
        token_id: pending.id.clone(),
        key_id,
        credential,
        name: name.to_owned(),
    })])
}

pub fn decide_remove_u2f(state: &UserState, token_id: &str) -> Result<Vec<E>, DomainError> {
    if !state.exists || !state.u2f.iter().any(|t| t.id == token_id) {
        return Err(u2f_token_missing());
    }
    Ok(vec![E::U2fRemoved(U2fRemoved {
        token_id: token_id.to_owned(),
    })])
}

/// A new set of recovery codes replaces any earlier set.
pub fn decide_generate_recovery_codes(state: &UserState, code_hashes: Vec<String>) -> Result<Vec<E>, DomainError> {
    require_human(state)?;
    Ok(vec![E::RecoveryCodesAdded(RecoveryCodesAdded { code_hashes })])
}

pub fn decide_remove_recovery_codes(state: &UserState) -> Result<Vec<E>, DomainError> {
    if !state.exists || state.recovery_code_hashes.is_empty() {
        return Err(recovery_codes_missing());
    }
    Ok(vec![E::RecoveryCodesRemoved])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{AggregateRef, HumanAdded, StoredEvent, Timestamp};

    fn given(payloads: Vec<E>) -> UserState {
        let mut events = vec![E::HumanAdded(Box::new(HumanAdded {
            user_name: "alice".into(),
            first_name: "A".into(),
            last_name: "L".into(),
            nick_name: String::new(),
            display_name: "A L".into(),
            preferred_language: String::new(),
            gender: 0,
            email: "a@example.com".into(),
            phone: String::new(),
            encoded_hash: None,
            change_required: false,
        }))];
        events.extend(payloads);
        let stored: Vec<StoredEvent> = events
            .into_iter()
            .enumerate()
            .map(|(i, payload)| StoredEvent {
                instance_id: "i".into(),
                aggregate: AggregateRef::user(&"u".into(), &"o".into()),
                sequence: i as u64 + 1,
                position: i as i64,
                created_at: Timestamp(0),
                creator: "c".into(),
                payload,
            })
            .collect();
        UserState::fold(&stored)
    }

    fn err(r: Result<Vec<E>, DomainError>) -> String {
        r.unwrap_err().id.into_owned()
    }

    #[test]
    fn totp_life_cycle() {
        let added = || E::TotpAdded(TotpAdded { otp_secret: "s".into() });
        assert_eq!(decide_register_totp(&given(vec![]), "s".into()).unwrap(), vec![added()]);
        // Re-registering while unverified replaces the secret.
        assert!(decide_register_totp(&given(vec![added()]), "t".into()).is_ok());
        assert_eq!(err(decide_verify_totp(&given(vec![]), Some(1))), "COMMAND-3Mif9s");
        assert_eq!(err(decide_verify_totp(&given(vec![added()]), None)), "EVENT-8isk2");
        let verified = E::TotpVerified(TotpVerified { step: 7 });
        assert_eq!(
            decide_verify_totp(&given(vec![added()]), Some(7)).unwrap(),
            vec![verified.clone()]
        );
        let ready = given(vec![added(), verified]);
        assert_eq!(
            ready.totp,
            TotpState::Ready {
                sealed_secret: "s".into(),
                last_step: 7
            }
        );
        assert_eq!(err(decide_register_totp(&ready, "x".into())), "COMMAND-do9se");
        assert_eq!(err(decide_verify_totp(&ready, Some(8))), "COMMAND-qx4ls");
        assert_eq!(decide_remove_totp(&ready).unwrap(), vec![E::TotpRemoved]);
        assert_eq!(err(decide_remove_totp(&given(vec![]))), "COMMAND-Hd9sd");
    }

    #[test]
    fn otp_sms_and_email_need_verified_contacts() {
        assert_eq!(err(decide_add_otp_sms(&given(vec![]))), "COMMAND-Q54j2");
        assert_eq!(err(decide_add_otp_email(&given(vec![]))), "COMMAND-KLJ2d");
        let verified = given(vec![E::EmailVerified, E::PhoneVerified]);
        assert!(decide_add_otp_sms(&verified).is_ok());
        assert!(decide_add_otp_email(&verified).is_ok());
        let added = given(vec![
            E::EmailVerified,
            E::PhoneVerified,
            E::OtpSmsAdded,
            E::OtpEmailAdded,
        ]);
        assert_eq!(err(decide_add_otp_sms(&added)), "COMMAND-Ad3g2");
        assert_eq!(err(decide_add_otp_email(&added)), "COMMAND-MKL2s");
        assert_eq!(err(decide_remove_otp_sms(&verified)), "COMMAND-Sr3h3");
        assert_eq!(err(decide_remove_otp_email(&verified)), "COMMAND-b312D");
    }

    #[test]
    fn recovery_codes_replace_each_other() {
        let s = given(vec![E::RecoveryCodesAdded(RecoveryCodesAdded {
            code_hashes: vec!["a".into()],
        })]);
        let next = decide_generate_recovery_codes(&s, vec!["b".into()]).unwrap();
        assert_eq!(
            next,
            vec![E::RecoveryCodesAdded(RecoveryCodesAdded {
                code_hashes: vec!["b".into()]
            })]
        );
        assert_eq!(err(decide_remove_recovery_codes(&given(vec![]))), "COMMAND-RcV9d");
    }
}
