//! Human users: creation, email and phone with their verification codes,
//! lock and unlock. Inputs arrive validated in shape (lengths) by the
//! transport; the rules about content live here.

use crate::error::DomainError;
use crate::event::{CodeAdded, EmailPayload, EventPayload as E, HumanAdded, PhonePayload, Timestamp};
use crate::names;
use crate::user::UserState;

/// What to do about an email address or phone number that is being set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verification {
    /// The caller vouches for it.
    Verified,
    /// A code is generated (its hash stored) and sent or returned.
    Code(CodeAdded),
    /// Left unverified, no code.
    Unverified,
}

#[derive(Clone, Debug)]
pub struct NewHuman {
    pub user_name: String,
    pub given_name: String,
    pub family_name: String,
    pub nick_name: String,
    pub display_name: String,
    pub preferred_language: String,
    pub gender: i32,
    pub email: String,
    pub email_verification: Verification,
    pub phone: Option<(String, Verification)>,
    pub password_hash: Option<String>,
    pub change_required: bool,
}

pub fn user_not_found() -> DomainError {
    DomainError::not_found("QUERY-Dfbg2", "User could not be found")
}

/// The user to lock (`lock`) or unlock does not exist.
pub fn lock_target_missing(lock: bool) -> DomainError {
    if lock {
        DomainError::not_found("COMMAND-450yxuqrh1", "User could not be found")
    } else {
        DomainError::not_found("COMMAND-x377t913pw", "User could not be found")
    }
}

/// An email address or phone number set again, already verified, as verified.
fn unchanged(message: &'static str) -> DomainError {
    DomainError::precondition("COMMAND-2b0dm", message)
}

/// A verification code that is not the one sent.
pub fn code_invalid() -> DomainError {
    DomainError::invalid("CODE-woT0xc", "Code is invalid")
}

/// A plausible email address: one `@`, a local part, a dotted domain.
pub fn validate_email(email: &str) -> Result<String, DomainError> {
    let email = email.trim();
    let ok = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.chars().any(char::is_whitespace)
                && names::check("email", email).is_ok()
        }
        None => false,
    };
    if ok {
        Ok(email.to_owned())
    } else {
        Err(DomainError::invalid("EMAIL-599BI", "Email is invalid"))
    }
}

/// A phone number in E.164 form; national numbers default to Switzerland
/// (+41), as ZITADEL's default region is CH.
pub fn normalize_phone(phone: &str) -> Result<String, DomainError> {
    let invalid = || DomainError::invalid("PHONE-so0wa", "Phone is invalid");
    let compact: String = phone.chars().filter(|c| !" -./()".contains(*c)).collect();
    let digits = if let Some(rest) = compact.strip_prefix('+') {
        rest.to_owned()
    } else if let Some(rest) = compact.strip_prefix("00") {
        rest.to_owned()
    } else if let Some(rest) = compact.strip_prefix('0') {
        format!("41{rest}")
    } else {
        return Err(invalid());
    };
    if digits.len() < 8 || digits.len() > 15 || !digits.chars().all(|c| c.is_ascii_digit()) || digits.starts_with('0') {
        return Err(invalid());
    }
    Ok(format!("+{digits}"))
}

pub(crate) fn verification_events(v: &Verification, code: fn(CodeAdded) -> E, verified: E) -> Vec<E> {
    match v {
        Verification::Verified => vec![verified],
        Verification::Code(c) => vec![code(c.clone())],
        Verification::Unverified => vec![],
    }
}

/// The name shown for a user: as given, else "given family".
pub fn display_name(given: &str, family: &str, display: &str) -> String {
    if display.trim().is_empty() {
        format!("{} {}", given.trim(), family.trim())
    } else {
        display.trim().to_owned()
    }
}

pub fn decide_add_human(state: &UserState, h: NewHuman) -> Result<Vec<E>, DomainError> {
    if state.exists || !state.user_name.is_empty() {
        return Err(DomainError::precondition(
            "COMMAND-7yiox1isql",
            "Errors.User.AlreadyExisting",
        ));
    }
    if h.user_name.trim().is_empty() {
        return Err(DomainError::invalid("V2-zzad3", "Errors.Invalid.Argument"));
    }
    if h.given_name.trim().is_empty() {
        return Err(DomainError::invalid("USER-UCej2", "Given name is empty"));
    }
    if h.family_name.trim().is_empty() {
        return Err(DomainError::invalid("USER-4hB7d", "Family name is empty"));
    }
    for (field, value) in [
        ("user name", &h.user_name),
        ("given name", &h.given_name),
        ("family name", &h.family_name),
        ("nick name", &h.nick_name),
        ("display name", &h.display_name),
    ] {
        names::check(field, value)?;
    }
    let display_name = display_name(&h.given_name, &h.family_name, &h.display_name);
    let mut events = vec![E::HumanAdded(Box::new(HumanAdded {
        user_name: h.user_name.trim().to_owned(),
        first_name: h.given_name.trim().to_owned(),
        last_name: h.family_name.trim().to_owned(),
        nick_name: h.nick_name,
        display_name,
        preferred_language: h.preferred_language,
        gender: h.gender,
        email: h.email,
        phone: h.phone.as_ref().map(|(p, _)| p.clone()).unwrap_or_default(),
        encoded_hash: h.password_hash,
        change_required: h.change_required,
    }))];
    events.extend(verification_events(
        &h.email_verification,
        E::EmailCodeAdded,
        E::EmailVerified,
    ));
    if let Some((_, v)) = &h.phone {
        events.extend(verification_events(v, E::PhoneCodeAdded, E::PhoneVerified));
    }
    Ok(events)
}

pub(crate) fn require_human(state: &UserState) -> Result<(), DomainError> {
    if state.exists && state.human {
        Ok(())
    } else {
        Err(user_not_found())
    }
}

pub fn decide_set_email(state: &UserState, email: String, v: Verification) -> Result<Vec<E>, DomainError> {
    require_human(state)?;
    let mut events = Vec::new();
    if email != state.email {
        events.push(E::EmailChanged(EmailPayload { email }));
    } else if state.email_verified && v == Verification::Verified {
        return Err(unchanged("Email has not changed"));
    }
    events.extend(verification_events(&v, E::EmailCodeAdded, E::EmailVerified));
    Ok(events)
}

pub fn decide_set_phone(state: &UserState, phone: String, v: Verification) -> Result<Vec<E>, DomainError> {
    require_human(state)?;
    let mut events = Vec::new();
    if phone != state.phone {
        events.push(E::PhoneChanged(PhonePayload { phone }));
    } else if state.phone_verified && v == Verification::Verified {
        return Err(unchanged("Phone has not changed"));
    }
    events.extend(verification_events(&v, E::PhoneCodeAdded, E::PhoneVerified));
    Ok(events)
}

/// Checks a verification code by its keyed hash; codes expire and are
/// used once (the verified event clears the pending code).
pub(crate) fn check_code(pending: Option<&CodeAdded>, given_hash: &str, now: Timestamp) -> Result<(), DomainError> {
    let pending = pending.ok_or_else(|| DomainError::precondition("CODE-fnsJ3", "No verification code pending"))?;
    if now > pending.expiry {
        return Err(DomainError::invalid("CODE-QvUQ4P", "Code is expired"));
    }
    if !constant_time_eq(pending.code_hash.as_bytes(), given_hash.as_bytes()) {
        return Err(code_invalid());
    }
    Ok(())
}

pub fn decide_lock(state: &UserState) -> Result<Vec<E>, DomainError> {
    if !state.exists {
        return Err(lock_target_missing(true));
    }
    // Only an active user can be locked (a deactivated one is not active).
    if state.locked || state.inactive {
        return Err(DomainError::precondition(
            "COMMAND-lgws8wtsqf",
            "User is not active or initial",
        ));
    }
    Ok(vec![E::UserLocked])
}

pub fn decide_unlock(state: &UserState) -> Result<Vec<E>, DomainError> {
    if !state.exists {
        return Err(lock_target_missing(false));
    }
    if !state.locked {
        return Err(DomainError::precondition("COMMAND-olb9vb0oca", "User is not locked"));
    }
    Ok(vec![E::UserUnlocked])
}

/// Compares without an early exit, so timing does not reveal a prefix.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones() {
        assert_eq!(normalize_phone("+41 79 123 45 67").unwrap(), "+41791234567");
        assert_eq!(normalize_phone("079 123 45 67").unwrap(), "+41791234567");
        assert_eq!(normalize_phone("0049 170 1234567").unwrap(), "+491701234567");
        assert_eq!(normalize_phone("12345").unwrap_err().id, "PHONE-so0wa");
        assert!(normalize_phone("+41abc").is_err());
    }

    #[test]
    fn emails() {
        assert_eq!(validate_email(" a@b.ch ").unwrap(), "a@b.ch");
        for bad in [
            "",
            "a",
            "a@b",
            "@b.ch",
            "a@@b.ch",
            "a b@c.ch",
            "a\u{0}@b.ch",
            "a\u{202e}@b.ch",
        ] {
            assert_eq!(validate_email(bad).unwrap_err().id, "EMAIL-599BI", "{bad}");
        }
    }

    #[test]
    fn codes_expire_and_must_match() {
        let code = CodeAdded {
            code_hash: "h".into(),
            expiry: Timestamp(100),
        };
        assert!(check_code(Some(&code), "h", Timestamp(50)).is_ok());
        assert_eq!(
            check_code(Some(&code), "x", Timestamp(50)).unwrap_err().id,
            "CODE-woT0xc"
        );
        assert_eq!(
            check_code(Some(&code), "h", Timestamp(101)).unwrap_err().id,
            "CODE-QvUQ4P"
        );
        assert_eq!(check_code(None, "h", Timestamp(50)).unwrap_err().id, "CODE-fnsJ3");
    }
}
