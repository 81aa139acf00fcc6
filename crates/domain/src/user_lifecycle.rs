//! A user's lifecycle beyond lock/unlock ([`crate::human`]): deactivation
//! and reactivation, and the login's "skip second-factor set-up" mark.
//!
//! States as ZITADEL's: ACTIVE ⇄ LOCKED (lock/unlock), ACTIVE or LOCKED →
//! INACTIVE (deactivate), INACTIVE → ACTIVE (reactivate). An inactive user
//! is refused at a session's user check and its tokens stop working.

use crate::error::DomainError;
use crate::event::EventPayload as E;
use crate::user::UserState;

/// The user to deactivate (`deactivate`) or reactivate does not exist.
pub fn lifecycle_target_missing(deactivate: bool) -> DomainError {
    if deactivate {
        DomainError::not_found("COMMAND-5gp2p62iin", "User could not be found")
    } else {
        DomainError::not_found("COMMAND-9hy5kzbuk6", "User could not be found")
    }
}

pub fn decide_deactivate(state: &UserState) -> Result<Vec<E>, DomainError> {
    if !state.exists {
        return Err(lifecycle_target_missing(true));
    }
    if state.inactive {
        return Err(DomainError::precondition("COMMAND-5gunjw0cd7", "User already inactive"));
    }
    Ok(vec![E::UserDeactivated])
}

pub fn decide_reactivate(state: &UserState) -> Result<Vec<E>, DomainError> {
    if !state.exists {
        return Err(lifecycle_target_missing(false));
    }
    if !state.inactive {
        return Err(DomainError::precondition("COMMAND-s5qqcz97hf", "User is not inactive"));
    }
    Ok(vec![E::UserReactivated])
}

/// Only a human user can skip setting up a second factor.
pub fn decide_mfa_init_skipped(state: &UserState) -> Result<Vec<E>, DomainError> {
    if !state.exists || !state.human {
        return Err(DomainError::not_found("COMMAND-auj6jeBei4", "User could not be found"));
    }
    Ok(vec![E::MfaInitSkipped])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{AggregateRef, HumanAdded, MachineUserAdded, StoredEvent, Timestamp, UserRemoved};
    use crate::human::{decide_lock, decide_unlock};

    /// Given (state, its events), when (decision[, input]), then (events or error id).
    type Case = (&'static str, Vec<E>, &'static str, Decide, Result<Vec<E>, &'static str>);

    fn ev(payload: E) -> StoredEvent {
        StoredEvent {
            instance_id: "i".into(),
            aggregate: AggregateRef::user(&"u".into(), &"org".into()),
            sequence: 1,
            position: 1,
            created_at: Timestamp(7),
            creator: "c".into(),
            payload,
        }
    }

    fn human() -> E {
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

    type Decide = fn(&UserState) -> Result<Vec<E>, DomainError>;

    /// Given the user's events, when a decision runs, then these events or this error id.
    #[test]
    fn lifecycle_table() {
        let removed = || {
            E::UserRemoved(UserRemoved {
                user_name: "ada".into(),
            })
        };
        let cases: Vec<Case> = vec![
            (
                "active user",
                vec![human()],
                "deactivate",
                decide_deactivate,
                Ok(vec![E::UserDeactivated]),
            ),
            (
                "machine user",
                vec![machine()],
                "deactivate",
                decide_deactivate,
                Ok(vec![E::UserDeactivated]),
            ),
            (
                "locked user",
                vec![human(), E::UserLocked],
                "deactivate",
                decide_deactivate,
                Ok(vec![E::UserDeactivated]),
            ),
            (
                "inactive user",
                vec![human(), E::UserDeactivated],
                "deactivate",
                decide_deactivate,
                Err("COMMAND-5gunjw0cd7"),
            ),
            (
                "no user",
                vec![],
                "deactivate",
                decide_deactivate,
                Err("COMMAND-5gp2p62iin"),
            ),
            (
                "removed user",
                vec![human(), removed()],
                "deactivate",
                decide_deactivate,
                Err("COMMAND-5gp2p62iin"),
            ),
            (
                "inactive user",
                vec![human(), E::UserDeactivated],
                "reactivate",
                decide_reactivate,
                Ok(vec![E::UserReactivated]),
            ),
            (
                "active user",
                vec![human()],
                "reactivate",
                decide_reactivate,
                Err("COMMAND-s5qqcz97hf"),
            ),
            (
                "locked user",
                vec![human(), E::UserLocked],
                "reactivate",
                decide_reactivate,
                Err("COMMAND-s5qqcz97hf"),
            ),
            (
                "reactivated user",
                vec![human(), E::UserDeactivated, E::UserReactivated],
                "reactivate",
                decide_reactivate,
                Err("COMMAND-s5qqcz97hf"),
            ),
            (
                "no user",
                vec![],
                "reactivate",
                decide_reactivate,
                Err("COMMAND-9hy5kzbuk6"),
            ),
            (
                "inactive user",
                vec![human(), E::UserDeactivated],
                "lock",
                decide_lock,
                Err("COMMAND-lgws8wtsqf"),
            ),
            (
                "deactivated while locked",
                vec![human(), E::UserLocked, E::UserDeactivated],
                "unlock",
                decide_unlock,
                Err("COMMAND-olb9vb0oca"),
            ),
            (
                "reactivated user",
                vec![human(), E::UserDeactivated, E::UserReactivated],
                "lock",
                decide_lock,
                Ok(vec![E::UserLocked]),
            ),
            (
                "human",
                vec![human()],
                "skip mfa init",
                decide_mfa_init_skipped,
                Ok(vec![E::MfaInitSkipped]),
            ),
            (
                "machine",
                vec![machine()],
                "skip mfa init",
                decide_mfa_init_skipped,
                Err("COMMAND-auj6jeBei4"),
            ),
            (
                "no user",
                vec![],
                "skip mfa init",
                decide_mfa_init_skipped,
                Err("COMMAND-auj6jeBei4"),
            ),
        ];
        for (given, events, when, decide, then) in cases {
            let events: Vec<StoredEvent> = events.into_iter().map(ev).collect();
            let got = decide(&UserState::fold(&events)).map_err(|e| e.id.into_owned());
            let then = then.map_err(str::to_owned);
            assert_eq!(got, then, "given {given}, when {when}");
        }
    }

    #[test]
    fn skipping_mfa_init_is_remembered_with_its_time() {
        let s = UserState::fold(&[ev(human()), ev(E::MfaInitSkipped)]);
        assert_eq!(s.mfa_init_skipped, Some(Timestamp(7)));
    }
}
