//! Verification codes of a user's email address and phone number after
//! they were set ([`crate::human`]): new codes, resends, verification and
//! removing the phone. Codes arrive as keyed hashes; each is used once and
//! expires.

use crate::error::DomainError;
use crate::event::{CodeAdded, EventPayload as E, Timestamp};
use crate::human::{check_code, require_human};
use crate::user::UserState;

/// A refused check: the error, and the event that records the failure
/// (stored before the error is reported), if the attempt counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    pub error: DomainError,
    pub record: Option<Box<E>>,
}

impl From<DomainError> for Refused {
    fn from(error: DomainError) -> Self {
        Self { error, record: None }
    }
}

/// The user has no email (or phone) to send a code to.
pub fn contact_missing(phone: bool) -> DomainError {
    let what = if phone { "Phone not found" } else { "Email not found" };
    DomainError::not_found("COMMAND-ieJ2e", what)
}

fn require_contact(state: &UserState, phone: bool) -> Result<(), DomainError> {
    require_human(state).map_err(|_| contact_missing(phone))?;
    let value = if phone { &state.phone } else { &state.email };
    if value.is_empty() {
        return Err(contact_missing(phone));
    }
    Ok(())
}

/// A new email code (`resend`: only if one is pending).
pub fn decide_email_code(state: &UserState, code: CodeAdded, resend: bool) -> Result<Vec<E>, DomainError> {
    require_contact(state, false)?;
    if resend && state.email_code.is_none() {
        return Err(DomainError::precondition("EMAIL-5w5ilin4yt", "Code is empty"));
    }
    Ok(vec![E::EmailCodeAdded(code)])
}

/// A new phone code in place of the pending one (there is no first send:
/// SetPhone issues that).
pub fn decide_resend_phone_code(state: &UserState, code: CodeAdded) -> Result<Vec<E>, DomainError> {
    require_contact(state, true)?;
    if state.phone_code.is_none() {
        return Err(DomainError::precondition("PHONE-5xrra88eq8", "Code is empty"));
    }
    Ok(vec![E::PhoneCodeAdded(code)])
}

/// Removing the phone number also removes OTP by SMS (it was bound to it).
pub fn decide_remove_phone(state: &UserState) -> Result<Vec<E>, DomainError> {
    require_contact(state, true)?;
    Ok(vec![E::PhoneRemoved])
}

fn code_invalid() -> DomainError {
    DomainError::invalid("COMMAND-eis9R", "Code is invalid")
}

fn decide_verify(
    state: &UserState,
    pending: Option<&CodeAdded>,
    given_hash: &str,
    now: Timestamp,
    (verified, failed): (E, E),
) -> Result<Vec<E>, Refused> {
    require_human(state)?;
    let pending = pending.ok_or_else(|| DomainError::precondition("CODE-fnsJ3", "No verification code pending"))?;
    match check_code(Some(pending), given_hash, now) {
        Ok(()) => Ok(vec![verified]),
        // Wrong and expired codes alike, as ZITADEL reports them.
        Err(_) => Err(Refused {
            error: code_invalid(),
            record: Some(Box::new(failed)),
        }),
    }
}

pub fn decide_verify_email(state: &UserState, given_hash: &str, now: Timestamp) -> Result<Vec<E>, Refused> {
    let events = (E::EmailVerified, E::EmailVerificationFailed);
    decide_verify(state, state.email_code.as_ref(), given_hash, now, events)
}

pub fn decide_verify_phone(state: &UserState, given_hash: &str, now: Timestamp) -> Result<Vec<E>, Refused> {
    let events = (E::PhoneVerified, E::PhoneVerificationFailed);
    decide_verify(state, state.phone_code.as_ref(), given_hash, now, events)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{AggregateRef, EmailPayload, HumanAdded, MachineUserAdded, StoredEvent};

    /// Given (state, its events), when (decision[, input]), then (events or error id).
    type Case = (&'static str, Vec<E>, &'static str, Result<Vec<E>, &'static str>);

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

    fn human(phone: &str) -> E {
        E::HumanAdded(Box::new(HumanAdded {
            user_name: "ada".into(),
            first_name: "Ada".into(),
            last_name: "L".into(),
            nick_name: String::new(),
            display_name: "Ada L".into(),
            preferred_language: String::new(),
            gender: 0,
            email: "ada@example.com".into(),
            phone: phone.into(),
            encoded_hash: None,
            change_required: false,
        }))
    }

    fn machine() -> E {
        E::MachineUserAdded(MachineUserAdded {
            user_name: "bot".into(),
            name: "Bot".into(),
            description: String::new(),
            access_token_type: 0,
        })
    }

    fn code(hash: &str) -> CodeAdded {
        CodeAdded {
            code_hash: hash.into(),
            expiry: Timestamp(100),
        }
    }

    fn given(events: Vec<E>) -> UserState {
        UserState::fold(&events.into_iter().map(ev).collect::<Vec<_>>())
    }

    fn id<T>(r: Result<T, DomainError>) -> Result<T, String> {
        r.map_err(|e| e.id.into_owned())
    }

    /// Given the user's events, when a new code is asked for, then its event or this error id.
    #[test]
    fn new_codes() {
        let with_email_code = || vec![human(""), E::EmailCodeAdded(code("old"))];
        let with_phone_code = || vec![human("+41790000000"), E::PhoneCodeAdded(code("old"))];
        let added_email = Ok(vec![E::EmailCodeAdded(code("new"))]);
        let added_phone = Ok(vec![E::PhoneCodeAdded(code("new"))]);
        let cases: Vec<Case> = vec![
            (
                "no pending code",
                vec![human("")],
                "send email code",
                added_email.clone(),
            ),
            (
                "a pending code",
                with_email_code(),
                "send email code",
                added_email.clone(),
            ),
            ("a pending code", with_email_code(), "resend email code", added_email),
            (
                "no pending code",
                vec![human("")],
                "resend email code",
                Err("EMAIL-5w5ilin4yt"),
            ),
            (
                "a code used",
                vec![human(""), E::EmailCodeAdded(code("old")), E::EmailVerified],
                "resend email code",
                Err("EMAIL-5w5ilin4yt"),
            ),
            (
                "a machine user",
                vec![machine()],
                "send email code",
                Err("COMMAND-ieJ2e"),
            ),
            ("no user", vec![], "send email code", Err("COMMAND-ieJ2e")),
            ("a pending code", with_phone_code(), "resend phone code", added_phone),
            (
                "a phone, no code",
                vec![human("+41790000000")],
                "resend phone code",
                Err("PHONE-5xrra88eq8"),
            ),
            ("no phone", vec![human("")], "resend phone code", Err("COMMAND-ieJ2e")),
            ("a phone", with_phone_code(), "remove phone", Ok(vec![E::PhoneRemoved])),
            ("no phone", vec![human("")], "remove phone", Err("COMMAND-ieJ2e")),
            (
                "a removed phone",
                vec![human("+41790000000"), E::PhoneRemoved],
                "remove phone",
                Err("COMMAND-ieJ2e"),
            ),
        ];
        for (state, events, when, then) in cases {
            let s = given(events);
            let got = match when {
                "send email code" => decide_email_code(&s, code("new"), false),
                "resend email code" => decide_email_code(&s, code("new"), true),
                "resend phone code" => decide_resend_phone_code(&s, code("new")),
                _ => decide_remove_phone(&s),
            };
            assert_eq!(id(got), then.map_err(str::to_owned), "given {state}, when {when}");
        }
    }

    /// Given a pending code, when a code is verified, then verified, or refused with the failure recorded.
    #[test]
    fn verification() {
        let pending = given(vec![human(""), E::EmailCodeAdded(code("h"))]);
        assert_eq!(
            decide_verify_email(&pending, "h", Timestamp(50)),
            Ok(vec![E::EmailVerified])
        );
        for (when, hash, now) in [("wrong code", "x", 50), ("expired code", "h", 101)] {
            let refused = decide_verify_email(&pending, hash, Timestamp(now)).unwrap_err();
            assert_eq!(refused.error.id, "COMMAND-eis9R", "{when}");
            assert_eq!(refused.record, Some(Box::new(E::EmailVerificationFailed)), "{when}");
        }
        // Used once: verifying clears the code; a new address drops it too.
        for used in [
            E::EmailVerified,
            E::EmailChanged(EmailPayload { email: "b@c.ch".into() }),
        ] {
            let s = given(vec![human(""), E::EmailCodeAdded(code("h")), used]);
            let refused = decide_verify_email(&s, "h", Timestamp(50)).unwrap_err();
            assert_eq!((refused.error.id.as_ref(), refused.record), ("CODE-fnsJ3", None));
        }
        let phone = given(vec![human("+41790000000"), E::PhoneCodeAdded(code("p"))]);
        assert_eq!(
            decide_verify_phone(&phone, "p", Timestamp(50)),
            Ok(vec![E::PhoneVerified])
        );
        let refused = decide_verify_phone(&phone, "x", Timestamp(50)).unwrap_err();
        assert_eq!(refused.record, Some(Box::new(E::PhoneVerificationFailed)));
        let machine = given(vec![machine()]);
        assert_eq!(
            decide_verify_phone(&machine, "p", Timestamp(50)).unwrap_err().error.id,
            "QUERY-Dfbg2"
        );
    }
}
