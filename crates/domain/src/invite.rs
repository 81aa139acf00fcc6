//! Invite codes: a human user created without a way to sign in gets a code
//! (sent by email or returned) that lets it set one up. Verifying the code
//! also verifies the email address it was sent to.

use crate::contact_codes::Refused;
use crate::error::DomainError;
use crate::event::{EventPayload as E, InviteCodeAdded, Timestamp};
use crate::human::constant_time_eq;
use crate::user::UserState;

/// The invite's user: a human without a password yet.
fn require_invitable(state: &UserState) -> Result<(), DomainError> {
    if !state.exists || !state.human {
        return Err(DomainError::precondition("COMMAND-Wgvn4", "User could not be found"));
    }
    if state.password_hash.is_some() {
        return Err(DomainError::precondition(
            "COMMAND-EF34g",
            "User is already initialized",
        ));
    }
    Ok(())
}

/// A new invite code; a template or application name left empty keeps the
/// previous invite's.
pub fn decide_create_invite(state: &UserState, mut code: InviteCodeAdded) -> Result<Vec<E>, DomainError> {
    require_invitable(state)?;
    if let Some(prev) = &state.invite_code {
        if code.url_template.is_empty() {
            code.url_template.clone_from(&prev.url_template);
        }
        if code.application_name.is_empty() {
            code.application_name.clone_from(&prev.application_name);
        }
    }
    Ok(vec![E::InviteCodeAdded(code)])
}

/// A new code sent like the pending one, which must exist and must have
/// been sent (a returned code is the caller's to hand on).
pub fn decide_resend_invite(state: &UserState, code: InviteCodeAdded) -> Result<Vec<E>, DomainError> {
    require_invitable(state)?;
    if state.invite_code.as_ref().is_none_or(|c| c.code_returned) {
        return Err(DomainError::precondition("COMMAND-Wr3gq", "Code not found"));
    }
    decide_create_invite(state, code)
}

pub fn decide_verify_invite(state: &UserState, given_hash: &str, now: Timestamp) -> Result<Vec<E>, Refused> {
    if !state.exists || !state.human {
        return Err(DomainError::precondition("COMMAND-F5g2h", "User could not be found").into());
    }
    let Some(pending) = &state.invite_code else {
        return Err(DomainError::precondition("COMMAND-Wr3gq", "Code not found").into());
    };
    if now > pending.expiry || !constant_time_eq(pending.code_hash.as_bytes(), given_hash.as_bytes()) {
        return Err(Refused {
            error: DomainError::invalid("COMMAND-Wgn4q", "Code is invalid"),
            record: Some(Box::new(E::InviteCheckFailed)),
        });
    }
    Ok(vec![E::InviteCheckSucceeded, E::EmailVerified])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{AggregateRef, HumanAdded, StoredEvent};

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

    fn human(password: bool) -> E {
        E::HumanAdded(Box::new(HumanAdded {
            user_name: "ada".into(),
            first_name: "Ada".into(),
            last_name: "L".into(),
            nick_name: String::new(),
            display_name: "Ada L".into(),
            preferred_language: String::new(),
            gender: 0,
            email: "ada@example.com".into(),
            phone: String::new(),
            encoded_hash: password.then(|| "$argon2id$x".into()),
            change_required: false,
        }))
    }

    fn invite(hash: &str, returned: bool, template: &str) -> InviteCodeAdded {
        InviteCodeAdded {
            code_hash: hash.into(),
            expiry: Timestamp(100),
            url_template: template.into(),
            code_returned: returned,
            application_name: String::new(),
        }
    }

    fn given(events: Vec<E>) -> UserState {
        UserState::fold(&events.into_iter().map(ev).collect::<Vec<_>>())
    }

    /// Given the user's events, when an invite is created or resent, then its event or this error id.
    #[test]
    fn invites() {
        let sent = || E::InviteCodeAdded(invite("old", false, "https://t/{{.Code}}"));
        let returned = || E::InviteCodeAdded(invite("old", true, ""));
        let new = || invite("new", false, "");
        let cases: Vec<Case> = vec![
            (
                "a new user",
                vec![human(false)],
                "create",
                Ok(vec![E::InviteCodeAdded(new())]),
            ),
            (
                "a sent invite",
                vec![human(false), sent()],
                "create",
                Ok(vec![E::InviteCodeAdded(invite("new", false, "https://t/{{.Code}}"))]),
            ),
            ("a password", vec![human(true)], "create", Err("COMMAND-EF34g")),
            ("no user", vec![], "create", Err("COMMAND-Wgvn4")),
            (
                "a sent invite",
                vec![human(false), sent()],
                "resend",
                Ok(vec![E::InviteCodeAdded(invite("new", false, "https://t/{{.Code}}"))]),
            ),
            (
                "a returned invite",
                vec![human(false), returned()],
                "resend",
                Err("COMMAND-Wr3gq"),
            ),
            ("no invite", vec![human(false)], "resend", Err("COMMAND-Wr3gq")),
            (
                "a used invite",
                vec![human(false), sent(), E::InviteCheckSucceeded],
                "resend",
                Err("COMMAND-Wr3gq"),
            ),
        ];
        for (state, events, when, then) in cases {
            let s = given(events);
            let got = if when == "create" {
                decide_create_invite(&s, new())
            } else {
                decide_resend_invite(&s, new())
            };
            let got = got.map_err(|e| e.id.into_owned());
            assert_eq!(got, then.map_err(str::to_owned), "given {state}, when {when}");
        }
    }

    /// Given an invite, when its code is verified, then the email is verified too; once only.
    #[test]
    fn verification() {
        let s = given(vec![human(false), E::InviteCodeAdded(invite("h", true, ""))]);
        assert_eq!(
            decide_verify_invite(&s, "h", Timestamp(50)),
            Ok(vec![E::InviteCheckSucceeded, E::EmailVerified])
        );
        for (hash, now) in [("x", 50), ("h", 101)] {
            let refused = decide_verify_invite(&s, hash, Timestamp(now)).unwrap_err();
            assert_eq!(refused.error.id, "COMMAND-Wgn4q");
            assert_eq!(refused.record, Some(Box::new(E::InviteCheckFailed)));
        }
        let used = given(vec![
            human(false),
            E::InviteCodeAdded(invite("h", true, "")),
            E::InviteCheckSucceeded,
        ]);
        let refused = decide_verify_invite(&used, "h", Timestamp(50)).unwrap_err();
        assert_eq!((refused.error.id.as_ref(), refused.record), ("COMMAND-Wr3gq", None));
        let missing = decide_verify_invite(&given(vec![]), "h", Timestamp(50)).unwrap_err();
        assert_eq!(missing.error.id, "COMMAND-F5g2h");
    }
}
