//! Changing an existing user (UserService v2 UpdateUser/UpdateHumanUser):
//! only what was sent and differs is changed; nothing sent or nothing
//! different stores nothing.

use crate::error::DomainError;
use crate::event::{EmailPayload, EventPayload as E, MachineChanged, PhonePayload, ProfileChanged, UsernameChanged};
use crate::human::{Verification, verification_events};
use crate::names;
use crate::user::{Profile, UserState};

/// Profile fields to set; None leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProfileUpdate {
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub nick_name: Option<String>,
    pub display_name: Option<String>,
    pub preferred_language: Option<String>,
    pub gender: Option<i32>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PhoneUpdate {
    /// A number (normalised) and what to do about verifying it.
    Set(String, Verification),
    Remove,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HumanUpdate {
    pub user_name: Option<String>,
    pub profile: ProfileUpdate,
    /// An address (validated) and what to do about verifying it.
    pub email: Option<(String, Verification)>,
    pub phone: Option<PhoneUpdate>,
}

pub fn update_target_missing() -> DomainError {
    DomainError::not_found("COMMAND-ugjs0upun6", "User could not be found")
}

fn user_name_change(state: &UserState, user_name: Option<&String>) -> Result<Option<E>, DomainError> {
    let Some(name) = user_name.map(|n| n.trim()) else {
        return Ok(None);
    };
    if name.is_empty() {
        return Err(DomainError::invalid("V2-zzad3", "Errors.Invalid.Argument"));
    }
    names::check("user name", name)?;
    Ok((name != state.user_name).then(|| {
        E::UsernameChanged(UsernameChanged {
            user_name: name.to_owned(),
            old_user_name: state.user_name.clone(),
        })
    }))
}

/// The sent fields that differ from `current`, checked like on creation.
fn profile_changes(current: &Profile, u: &ProfileUpdate) -> Result<Option<ProfileChanged>, DomainError> {
    let mut changed = ProfileChanged::default();
    let fields = [
        (
            "given name",
            &u.given_name,
            &current.given_name,
            &mut changed.first_name,
        ),
        (
            "family name",
            &u.family_name,
            &current.family_name,
            &mut changed.last_name,
        ),
        ("nick name", &u.nick_name, &current.nick_name, &mut changed.nick_name),
        (
            "display name",
            &u.display_name,
            &current.display_name,
            &mut changed.display_name,
        ),
        (
            "preferred language",
            &u.preferred_language,
            &current.preferred_language,
            &mut changed.preferred_language,
        ),
    ];
    for (field, new, old, out) in fields {
        let Some(new) = new.as_deref().map(str::trim) else {
            continue;
        };
        match field {
            "given name" if new.is_empty() => return Err(DomainError::invalid("USER-UCej2", "Given name is empty")),
            "family name" if new.is_empty() => {
                return Err(DomainError::invalid("USER-4hB7d", "Family name is empty"));
            }
            _ => names::check(field, new)?,
        }
        if new != old {
            *out = Some(new.to_owned());
        }
    }
    changed.gender = u.gender.filter(|g| *g != current.gender);
    Ok((changed != ProfileChanged::default()).then_some(changed))
}

/// The events of setting a contact: a new value with its verification; the
/// same value only gets verified (when asked and not yet).
fn contact_events(
    same: bool,
    verified_now: bool,
    v: &Verification,
    changed: impl FnOnce() -> E,
    code: fn(crate::event::CodeAdded) -> E,
    verified: E,
) -> Vec<E> {
    if !same {
        let mut events = vec![changed()];
        events.extend(verification_events(v, code, verified));
        events
    } else if *v == Verification::Verified && !verified_now {
        vec![verified]
    } else {
        vec![]
    }
}

pub fn decide_update_human(state: &UserState, u: &HumanUpdate) -> Result<Vec<E>, DomainError> {
    if !state.exists || !state.human {
        return Err(update_target_missing());
    }
    let mut events: Vec<E> = user_name_change(state, u.user_name.as_ref())?.into_iter().collect();
    if let Some(p) = profile_changes(&state.profile, &u.profile)? {
        events.push(E::ProfileChanged(p));
    }
    if let Some((email, v)) = &u.email {
        events.extend(contact_events(
            *email == state.email,
            state.email_verified_now,
            v,
            || E::EmailChanged(EmailPayload { email: email.clone() }),
            E::EmailCodeAdded,
            E::EmailVerified,
        ));
    }
    match &u.phone {
        Some(PhoneUpdate::Set(phone, v)) => events.extend(contact_events(
            *phone == state.phone,
            state.phone_verified,
            v,
            || E::PhoneChanged(PhonePayload { phone: phone.clone() }),
            E::PhoneCodeAdded,
            E::PhoneVerified,
        )),
        Some(PhoneUpdate::Remove) if !state.phone.is_empty() => events.push(E::PhoneRemoved),
        Some(PhoneUpdate::Remove) | None => {}
    }
    Ok(events)
}

pub fn decide_update_machine(
    state: &UserState,
    user_name: Option<&String>,
    name: Option<&str>,
    description: Option<&str>,
) -> Result<Vec<E>, DomainError> {
    if !state.exists || !state.machine {
        return Err(update_target_missing());
    }
    let mut events: Vec<E> = user_name_change(state, user_name)?.into_iter().collect();
    let name = name.map(str::trim);
    if name.is_some_and(str::is_empty) {
        return Err(DomainError::invalid("COMMAND-bm9Ds", "Userdata is invalid"));
    }
    if let Some(n) = name {
        names::check("name", n)?;
    }
    let changed = MachineChanged {
        name: name.filter(|n| *n != state.machine_name).map(str::to_owned),
        description: description
            .filter(|d| *d != state.machine_description)
            .map(str::to_owned),
    };
    if changed != MachineChanged::default() {
        events.push(E::MachineChanged(changed));
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{AggregateRef, CodeAdded, HumanAdded, MachineUserAdded, StoredEvent, Timestamp};

    /// Given (state, its events), when (decision[, input]), then (events or error id).
    type Case = (
        &'static str,
        Vec<E>,
        &'static str,
        HumanUpdate,
        Result<Vec<E>, &'static str>,
    );

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
            phone: "+41790000000".into(),
            encoded_hash: None,
            change_required: false,
        }))
    }

    fn code() -> CodeAdded {
        CodeAdded {
            code_hash: "h".into(),
            expiry: Timestamp(9),
        }
    }

    fn email(address: &str, v: Verification) -> HumanUpdate {
        HumanUpdate {
            email: Some((address.into(), v)),
            ..HumanUpdate::default()
        }
    }

    fn phone(p: PhoneUpdate) -> HumanUpdate {
        HumanUpdate {
            phone: Some(p),
            ..HumanUpdate::default()
        }
    }

    fn profile(p: ProfileUpdate) -> HumanUpdate {
        HumanUpdate {
            profile: p,
            ..HumanUpdate::default()
        }
    }

    /// Given the user's events, when it is updated, then these events or this error id.
    #[test]
    fn human_updates() {
        let verified = || vec![human(), E::EmailVerified];
        let new_email = || E::EmailChanged(EmailPayload { email: "b@c.ch".into() });
        let cases: Vec<Case> = vec![
            (
                "a human",
                vec![human()],
                "nothing sent",
                HumanUpdate::default(),
                Ok(vec![]),
            ),
            (
                "a human",
                vec![human()],
                "the same values",
                HumanUpdate {
                    user_name: Some("ada".into()),
                    profile: ProfileUpdate {
                        given_name: Some(" Ada ".into()),
                        gender: Some(0),
                        ..ProfileUpdate::default()
                    },
                    email: Some(("ada@example.com".into(), Verification::Unverified)),
                    phone: Some(PhoneUpdate::Set("+41790000000".into(), Verification::Unverified)),
                },
                Ok(vec![]),
            ),
            (
                "a human",
                vec![human()],
                "a new user name",
                HumanUpdate {
                    user_name: Some("lovelace".into()),
                    ..HumanUpdate::default()
                },
                Ok(vec![E::UsernameChanged(UsernameChanged {
                    user_name: "lovelace".into(),
                    old_user_name: "ada".into(),
                })]),
            ),
            (
                "a human",
                vec![human()],
                "a blank user name",
                HumanUpdate {
                    user_name: Some(" ".into()),
                    ..HumanUpdate::default()
                },
                Err("V2-zzad3"),
            ),
            (
                "a human",
                vec![human()],
                "a new family name and gender",
                profile(ProfileUpdate {
                    family_name: Some("Lovelace".into()),
                    gender: Some(1),
                    ..ProfileUpdate::default()
                }),
                Ok(vec![E::ProfileChanged(ProfileChanged {
                    last_name: Some("Lovelace".into()),
                    gender: Some(1),
                    ..ProfileChanged::default()
                })]),
            ),
            (
                "a human",
                vec![human()],
                "a blank given name",
                profile(ProfileUpdate {
                    given_name: Some(" ".into()),
                    ..ProfileUpdate::default()
                }),
                Err("USER-UCej2"),
            ),
            (
                "a human",
                vec![human()],
                "a new email with a code",
                email("b@c.ch", Verification::Code(code())),
                Ok(vec![new_email(), E::EmailCodeAdded(code())]),
            ),
            (
                "a human",
                vec![human()],
                "the same email with a code",
                email("ada@example.com", Verification::Code(code())),
                Ok(vec![]),
            ),
            (
                "a human",
                vec![human()],
                "the same email, verified",
                email("ada@example.com", Verification::Verified),
                Ok(vec![E::EmailVerified]),
            ),
            (
                "a verified email",
                verified(),
                "the same email, verified",
                email("ada@example.com", Verification::Verified),
                Ok(vec![]),
            ),
            (
                "a verified email, then a new one",
                vec![human(), E::EmailVerified, new_email()],
                "the new email, verified",
                email("b@c.ch", Verification::Verified),
                Ok(vec![E::EmailVerified]),
            ),
            (
                "a phone",
                vec![human()],
                "phone removed",
                phone(PhoneUpdate::Remove),
                Ok(vec![E::PhoneRemoved]),
            ),
            (
                "no phone",
                vec![human(), E::PhoneRemoved],
                "phone removed",
                phone(PhoneUpdate::Remove),
                Ok(vec![]),
            ),
            (
                "a phone",
                vec![human()],
                "a new phone, verified",
                phone(PhoneUpdate::Set("+41791111111".into(), Verification::Verified)),
                Ok(vec![
                    E::PhoneChanged(PhonePayload {
                        phone: "+41791111111".into(),
                    }),
                    E::PhoneVerified,
                ]),
            ),
            (
                "no user",
                vec![],
                "nothing sent",
                HumanUpdate::default(),
                Err("COMMAND-ugjs0upun6"),
            ),
        ];
        for (state, events, when, update, then) in cases {
            let s = UserState::fold(&events.into_iter().map(ev).collect::<Vec<_>>());
            let got = decide_update_human(&s, &update).map_err(|e| e.id.into_owned());
            assert_eq!(got, then.map_err(str::to_owned), "given {state}, when {when}");
        }
    }

    #[test]
    fn machine_updates() {
        let s = UserState::fold(&[ev(E::MachineUserAdded(MachineUserAdded {
            user_name: "bot".into(),
            name: "Bot".into(),
            description: String::new(),
            access_token_type: 0,
        }))]);
        assert_eq!(decide_update_machine(&s, None, Some("Bot"), Some("")), Ok(vec![]));
        assert_eq!(
            decide_update_machine(&s, None, Some("Robot"), Some("does things")),
            Ok(vec![E::MachineChanged(MachineChanged {
                name: Some("Robot".into()),
                description: Some("does things".into()),
            })])
        );
        assert_eq!(
            decide_update_machine(&s, None, Some(" "), None).unwrap_err().id,
            "COMMAND-bm9Ds"
        );
        let human = UserState::fold(&[ev(human())]);
        assert_eq!(
            decide_update_machine(&human, None, Some("x"), None).unwrap_err().id,
            "COMMAND-ugjs0upun6"
        );
    }
}
