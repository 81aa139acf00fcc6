//! Client secrets of machine users (for the client-credentials grant):
//! set (replacing any earlier one) and removed. Only a keyed hash is stored.

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::event::EventPayload as E;
use crate::ids::OrgId;
use crate::user::UserState;

/// `user.machine.secret.set`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MachineSecretSet {
    pub hashed_secret: String,
}

/// The user is not a machine user of the org (humans included, as ZITADEL).
fn no_machine(id: &'static str) -> DomainError {
    DomainError::precondition(id, "Errors.User.NotExisting")
}

/// GenerateMachineSecret: a new secret replaces the old one.
pub fn decide_set(state: &UserState, org_id: &OrgId, hashed_secret: &str) -> Result<Vec<E>, DomainError> {
    if !state.in_org(org_id) || !state.machine {
        return Err(no_machine("COMMAND-x8910n"));
    }
    Ok(vec![E::MachineSecretSet(MachineSecretSet {
        hashed_secret: hashed_secret.to_owned(),
    })])
}

/// RemoveMachineSecret.
pub fn decide_remove(state: &UserState, org_id: &OrgId) -> Result<Vec<E>, DomainError> {
    if !state.in_org(org_id) || !state.machine {
        return Err(no_machine("COMMAND-x7s802"));
    }
    if state.machine_secret.is_none() {
        return Err(DomainError::precondition("COMMAND-coi82n", "Secret doesn't exist"));
    }
    Ok(vec![E::MachineSecretRemoved])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{AggregateRef, HumanAdded, MachineUserAdded, StoredEvent, Timestamp};

    fn stored(events: Vec<E>) -> Vec<StoredEvent> {
        events
            .into_iter()
            .enumerate()
            .map(|(i, payload)| StoredEvent {
                instance_id: "i".into(),
                aggregate: AggregateRef::user(&"u".into(), &"org".into()),
                sequence: i as u64 + 1,
                position: i as i64 + 1,
                created_at: Timestamp(0),
                creator: "c".into(),
                payload,
            })
            .collect()
    }

    fn machine() -> E {
        E::MachineUserAdded(MachineUserAdded {
            user_name: "bot".into(),
            name: "Bot".into(),
            description: String::new(),
            access_token_type: 0,
        })
    }

    fn human() -> E {
        E::HumanAdded(Box::new(HumanAdded {
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
        }))
    }

    fn set(hash: &str) -> E {
        E::MachineSecretSet(MachineSecretSet {
            hashed_secret: hash.into(),
        })
    }

    #[test]
    fn setting_and_removing() {
        let org = OrgId::new("org");
        let other = OrgId::new("other");
        type Decide = Box<dyn Fn(&UserState, &OrgId) -> Result<Vec<E>, DomainError>>;
        let setting: Decide = Box::new(|s, o| decide_set(s, o, "h2"));
        let removing: Decide = Box::new(decide_remove);
        // (given, when, org, then: Ok(events) or Err(id))
        type Case<'a> = (Vec<E>, &'a str, &'a Decide, &'a OrgId, Result<Vec<E>, &'a str>);
        let cases: Vec<Case> = vec![
            (vec![machine()], "set", &setting, &org, Ok(vec![set("h2")])),
            (
                vec![machine(), set("h1")],
                "set again",
                &setting,
                &org,
                Ok(vec![set("h2")]),
            ),
            (vec![machine()], "set", &setting, &other, Err("COMMAND-x8910n")),
            (vec![human()], "set", &setting, &org, Err("COMMAND-x8910n")),
            (vec![], "set", &setting, &org, Err("COMMAND-x8910n")),
            (
                vec![machine(), set("h1")],
                "remove",
                &removing,
                &org,
                Ok(vec![E::MachineSecretRemoved]),
            ),
            (vec![machine()], "remove", &removing, &org, Err("COMMAND-coi82n")),
            (
                vec![machine(), set("h1"), E::MachineSecretRemoved],
                "remove",
                &removing,
                &org,
                Err("COMMAND-coi82n"),
            ),
            (
                vec![machine(), set("h1")],
                "remove",
                &removing,
                &other,
                Err("COMMAND-x7s802"),
            ),
            (vec![], "remove", &removing, &org, Err("COMMAND-x7s802")),
        ];
        for (given, when, decide, org_id, then) in cases {
            let state = UserState::fold(&stored(given.clone()));
            let got = decide(&state, org_id).map_err(|e| e.id.into_owned());
            assert_eq!(got, then.map_err(str::to_owned), "given {given:?} when {when}");
        }
        let state = UserState::fold(&stored(vec![machine(), set("h1"), set("h2")]));
        assert_eq!(state.machine_secret.as_deref(), Some("h2"));
        assert_eq!(set("h").to_parts().0, "user.machine.secret.set");
    }
}
