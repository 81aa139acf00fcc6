//! Setting a human user's password (UserService v2 `SetPassword`,
//! `PasswordReset`): the reset code that authorises it, the proofs a
//! request may bring (the code, the current password, or the caller's
//! permission), and the events. Reset codes are stored as keyed hashes,
//! work once, expire after an hour and are voided after
//! [`MAX_CODE_FAILURES`] wrong guesses. A wrong current password is a failed
//! password check: it counts toward the lockout policy like one in a session.
//! The complexity rule lives in [`crate::password_complexity`].

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::event::{CodeAdded, EventPayload as E, Timestamp};
use crate::human::constant_time_eq;
use crate::lockout::LockoutSettings;
use crate::session::checks::HashComparison;
use crate::user::UserState;

/// ZITADEL's `PasswordVerificationCode` lifetime: one hour (6 characters,
/// drawn like the e-mail codes).
pub const CODE_LIFETIME_MICROS: i64 = 3_600 * 1_000_000;
/// Wrong guesses after which a pending code no longer works.
pub const MAX_CODE_FAILURES: u32 = 5;

fn is_false(b: &bool) -> bool {
    !*b
}

/// How the code reaches the user (`NotificationType`: 0 and 1 email, 2 SMS).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResetMedium {
    Email,
    Sms,
    /// Handed back to the caller, not sent.
    Returned,
}

/// Payload of `user.human.password.code.added`: the code's keyed hash
/// (never the code), its expiry and how it is delivered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordCodeAdded {
    #[serde(rename = "codeHash")]
    pub code_hash: String,
    pub expiry: Timestamp,
    /// 0 email, 2 SMS, as ZITADEL stores it.
    #[serde(rename = "notificationType", default)]
    pub notification_type: i32,
    #[serde(rename = "url_template", default, skip_serializing_if = "String::is_empty")]
    pub url_template: String,
    #[serde(rename = "code_returned", default, skip_serializing_if = "is_false")]
    pub code_returned: bool,
}

/// Payload of `user.human.password.changed`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordChanged {
    /// argon2id PHC string.
    pub encoded_hash: String,
    #[serde(default)]
    pub change_required: bool,
}

/// A reset code waiting to be used, with the wrong guesses made so far.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingPasswordCode {
    pub code: CodeAdded,
    pub failures: u32,
}

impl PendingPasswordCode {
    pub fn new(p: &PasswordCodeAdded) -> Self {
        Self {
            code: CodeAdded {
                code_hash: p.code_hash.clone(),
                expiry: p.expiry,
            },
            failures: 0,
        }
    }
}

/// What authorises a password set besides the new password itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Proof {
    /// The caller's permission on the user's org (checked before).
    Permission,
    /// The keyed hash of the reset code given.
    Code(String),
    /// The current password compared with the hash read before (None: the
    /// user had none), and whether the new password equals it.
    CurrentPassword {
        compared: Option<HashComparison>,
        same_as_new: bool,
    },
}

/// What a password set decided: events to store, and the error to answer
/// once they are stored (a refused proof records its failure).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetOutcome {
    pub events: Vec<E>,
    pub error: Option<DomainError>,
}

/// `PasswordReset` for an unknown user (or one the caller cannot see).
pub fn reset_target_missing() -> DomainError {
    DomainError::not_found("COMMAND-SAF4f", "User could not be found")
}

/// `SetPassword` for an unknown user (or one the caller cannot see).
pub fn set_target_missing() -> DomainError {
    DomainError::precondition("COMMAND-G8dh3", "Password not found")
}

pub fn code_missing() -> DomainError {
    DomainError::precondition("COMMAND-2M9fs", "Code not found")
}

pub fn code_expired() -> DomainError {
    DomainError::invalid("CODE-QvUQ4P", "Code is expired")
}

pub fn decide_add_code(state: &UserState, code: PasswordCodeAdded) -> Result<Vec<E>, DomainError> {
    if !(state.exists && state.human) {
        return Err(reset_target_missing());
    }
    Ok(vec![E::PasswordCodeAdded(code)])
}

/// Sets the password (`encoded_hash`, already checked against the
/// complexity policy and hashed) if `proof` holds.
pub fn decide_set_password(
    state: &UserState,
    lockout: LockoutSettings,
    proof: &Proof,
    encoded_hash: &str,
    change_required: bool,
    now: Timestamp,
) -> Result<SetOutcome, DomainError> {
    if !(state.exists && state.human) {
        return Err(set_target_missing());
    }
    let refused = |events: Vec<E>, error: DomainError| {
        Ok(SetOutcome {
            events,
            error: Some(error),
        })
    };
    match proof {
        Proof::Permission => {}
        Proof::Code(given) => {
            let pending = state.password_code.as_ref().ok_or_else(code_missing)?;
            if now > pending.code.expiry {
                return Err(code_expired());
            }
            if !constant_time_eq(pending.code.code_hash.as_bytes(), given.as_bytes()) {
                return refused(vec![E::PasswordCodeCheckFailed], crate::human::code_invalid());
            }
        }
        Proof::CurrentPassword { compared, same_as_new } => {
            if state.locked {
                return Err(DomainError::precondition("COMMAND-JLK35", "Errors.User.Locked"));
            }
            let Some(hash) = &state.password_hash else {
                return Err(DomainError::precondition(
                    "COMMAND-Fds3s",
                    "User has not set a password",
                ));
            };
            match compared {
                Some(c) if c.hash == *hash && c.matched => {}
                Some(c) if c.hash == *hash => {
                    let mut events = vec![E::PasswordCheckFailed];
                    if LockoutSettings::locks(lockout.max_password_attempts, state.password_failures + 1) {
                        events.push(E::UserLocked);
                    }
                    return refused(events, DomainError::invalid("COMMAND-3M0fs", "Password is invalid"));
                }
                _ => {
                    return Err(DomainError::unavailable(
                        "SESSION-PwRace",
                        "The password changed; try again",
                    ));
                }
            }
            if *same_as_new {
                return Err(DomainError::precondition(
                    "COMMAND-Aesh5",
                    "New password cannot be the same as your current password",
                ));
            }
        }
    }
    Ok(SetOutcome {
        events: vec![E::PasswordChanged(PasswordChanged {
            encoded_hash: encoded_hash.to_owned(),
            change_required,
        })],
        error: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{AggregateRef, HumanAdded, StoredEvent};

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

    fn human() -> StoredEvent {
        human_with(Some("old-hash"))
    }

    fn human_with(encoded_hash: Option<&str>) -> StoredEvent {
        ev(E::HumanAdded(Box::new(HumanAdded {
            user_name: "alice".into(),
            first_name: "A".into(),
            last_name: "L".into(),
            nick_name: String::new(),
            display_name: "A L".into(),
            preferred_language: String::new(),
            gender: 0,
            email: "a@example.com".into(),
            phone: String::new(),
            encoded_hash: encoded_hash.map(str::to_owned),
            change_required: false,
        })))
    }

    fn code_added(hash: &str, expiry: i64) -> PasswordCodeAdded {
        PasswordCodeAdded {
            code_hash: hash.into(),
            expiry: Timestamp(expiry),
            notification_type: 0,
            url_template: String::new(),
            code_returned: true,
        }
    }

    fn code(hash: &str, expiry: i64) -> StoredEvent {
        ev(E::PasswordCodeAdded(code_added(hash, expiry)))
    }

    fn changed(hash: &str) -> StoredEvent {
        ev(E::PasswordChanged(PasswordChanged {
            encoded_hash: hash.into(),
            change_required: false,
        }))
    }

    fn current(hash: &str, matched: bool, same_as_new: bool) -> Proof {
        Proof::CurrentPassword {
            compared: Some(HashComparison {
                hash: hash.into(),
                matched,
            }),
            same_as_new,
        }
    }

    /// Name, history, proof, time, then the stored events and error id or the refusal's id.
    type Case = (
        &'static str,
        Vec<StoredEvent>,
        Proof,
        i64,
        Result<(Vec<E>, Option<&'static str>), &'static str>,
    );

    const LOCK_AT_2: LockoutSettings = LockoutSettings {
        max_password_attempts: 2,
        max_otp_attempts: 0,
    };

    #[test]
    fn password_set_decisions() {
        let set = |hash: &str| {
            vec![E::PasswordChanged(PasswordChanged {
                encoded_hash: hash.into(),
                change_required: false,
            })]
        };
        let code_failed = Some("CODE-woT0xc");
        // given history, when proof at time, then stored events and error id
        let cases: Vec<Case> = vec![
            ("no user", vec![], Proof::Permission, 0, Err("COMMAND-G8dh3")),
            (
                "by permission",
                vec![human()],
                Proof::Permission,
                0,
                Ok((set("new"), None)),
            ),
            (
                "no code pending",
                vec![human()],
                Proof::Code("h".into()),
                0,
                Err("COMMAND-2M9fs"),
            ),
            (
                "right code",
                vec![human(), code("h", 100)],
                Proof::Code("h".into()),
                100,
                Ok((set("new"), None)),
            ),
            (
                "expired code",
                vec![human(), code("h", 100)],
                Proof::Code("h".into()),
                101,
                Err("CODE-QvUQ4P"),
            ),
            (
                "wrong code is recorded",
                vec![human(), code("h", 100)],
                Proof::Code("x".into()),
                50,
                Ok((vec![E::PasswordCodeCheckFailed], code_failed)),
            ),
            (
                "used code",
                vec![human(), code("h", 100), changed("new")],
                Proof::Code("h".into()),
                50,
                Err("COMMAND-2M9fs"),
            ),
            (
                "a newer code replaces the older",
                vec![human(), code("h", 100), code("h2", 100)],
                Proof::Code("h".into()),
                50,
                Ok((vec![E::PasswordCodeCheckFailed], code_failed)),
            ),
            (
                "code voided after too many wrong guesses",
                [
                    vec![human(), code("h", 100)],
                    vec![ev(E::PasswordCodeCheckFailed); MAX_CODE_FAILURES as usize],
                ]
                .concat(),
                Proof::Code("h".into()),
                50,
                Err("COMMAND-2M9fs"),
            ),
            (
                "one guess left",
                [
                    vec![human(), code("h", 100)],
                    vec![ev(E::PasswordCodeCheckFailed); MAX_CODE_FAILURES as usize - 1],
                ]
                .concat(),
                Proof::Code("h".into()),
                50,
                Ok((set("new"), None)),
            ),
            (
                "right current password",
                vec![human()],
                current("old-hash", true, false),
                0,
                Ok((set("new"), None)),
            ),
            (
                "wrong current password is a failed check",
                vec![human()],
                current("old-hash", false, false),
                0,
                Ok((vec![E::PasswordCheckFailed], Some("COMMAND-3M0fs"))),
            ),
            (
                "the failure reaching the limit locks",
                vec![human(), ev(E::PasswordCheckFailed)],
                current("old-hash", false, false),
                0,
                Ok((vec![E::PasswordCheckFailed, E::UserLocked], Some("COMMAND-3M0fs"))),
            ),
            (
                "locked user",
                vec![human(), ev(E::UserLocked)],
                current("old-hash", true, false),
                0,
                Err("COMMAND-JLK35"),
            ),
            (
                "same as current",
                vec![human()],
                current("old-hash", true, true),
                0,
                Err("COMMAND-Aesh5"),
            ),
            (
                "changed meanwhile",
                vec![human(), changed("other")],
                current("old-hash", true, false),
                0,
                Err("SESSION-PwRace"),
            ),
            (
                "no password yet",
                vec![human_with(None)],
                Proof::CurrentPassword {
                    compared: None,
                    same_as_new: false,
                },
                0,
                Err("COMMAND-Fds3s"),
            ),
        ];
        for (name, history, proof, now, want) in cases {
            let state = UserState::fold(&history);
            let got = decide_set_password(&state, LOCK_AT_2, &proof, "new", false, Timestamp(now))
                .map(|o| (o.events, o.error.map(|e| e.id.to_string())))
                .map_err(|e| e.id.to_string());
            let want = want
                .map(|(events, id)| (events, id.map(str::to_owned)))
                .map_err(str::to_owned);
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn a_changed_password_replaces_the_hash_and_resets_failures() {
        let s = UserState::fold(&[human(), ev(E::PasswordCheckFailed), code("h", 100), changed("new")]);
        assert_eq!(s.password_hash.as_deref(), Some("new"));
        assert_eq!(s.password_failures, 0);
        assert_eq!(s.password_code, None);
    }

    #[test]
    fn codes_only_for_existing_humans() {
        let c = code_added("h", 1);
        assert_eq!(
            decide_add_code(&UserState::default(), c.clone()).unwrap_err().id,
            "COMMAND-SAF4f"
        );
        assert_eq!(
            decide_add_code(&UserState::fold(&[human()]), c.clone()).unwrap(),
            vec![E::PasswordCodeAdded(c)]
        );
    }

    #[test]
    fn code_payload_has_zitadel_keys_and_no_code() {
        let (ty, payload) = E::PasswordCodeAdded(code_added("h", 5)).to_parts();
        assert_eq!(ty, "user.human.password.code.added");
        assert_eq!(
            payload,
            Some(serde_json::json!({"codeHash": "h", "expiry": 5, "notificationType": 0, "code_returned": true}))
        );
    }
}
