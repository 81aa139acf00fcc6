//! Users (machine users for now) and their personal access tokens.

use crate::error::DomainError;
use crate::event::{EventPayload as E, PatAdded, PatRemoved, StoredEvent, Timestamp, UserRemoved};

/// A user folded from its aggregate's events.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserState {
    pub exists: bool,
    pub org_id: String,
    pub user_name: String,
    pub machine: bool,
    /// IDs of the tokens that have not been removed.
    pub tokens: Vec<String>,
}

impl UserState {
    pub fn fold(events: &[StoredEvent]) -> Self {
        let mut s = Self::default();
        for ev in events {
            match &ev.payload {
                E::MachineUserAdded(p) => {
                    s.exists = true;
                    s.machine = true;
                    s.user_name = p.user_name.clone();
                    s.org_id = ev.aggregate.owner.clone();
                }
                E::PatAdded(p) => s.tokens.push(p.token_id.clone()),
                E::PatRemoved(p) => s.tokens.retain(|t| *t != p.token_id),
                E::UserRemoved(_) => s.exists = false,
                _ => {}
            }
        }
        s
    }

    /// Whether the user exists and belongs to `org_id` (management calls
    /// only see the users of their org).
    pub fn in_org(&self, org_id: &str) -> bool {
        self.exists && self.org_id == org_id
    }
}

/// A machine user with a chosen ID must not exist yet.
pub fn decide_add_machine(state: &UserState) -> Result<(), DomainError> {
    if state.exists || !state.user_name.is_empty() {
        return Err(DomainError::precondition(
            "COMMAND-k2una",
            "Errors.User.AlreadyExisting",
        ));
    }
    Ok(())
}

pub fn decide_add_pat(state: &UserState, org_id: &str, token: PatAdded, now: Timestamp) -> Result<Vec<E>, DomainError> {
    if !state.in_org(org_id) {
        return Err(DomainError::precondition("COMMAND-Dggw2", "User could not be found"));
    }
    if !state.machine {
        return Err(DomainError::precondition(
            "COMMAND-Df2f1",
            "Not allowed for this user type",
        ));
    }
    if token.expiration <= now {
        return Err(DomainError::invalid("DOMAIN-dv3t5", "Errors.AuthNKey.ExpireBeforeNow"));
    }
    Ok(vec![E::PatAdded(token)])
}

pub fn decide_remove_pat(state: &UserState, org_id: &str, token_id: &str) -> Result<Vec<E>, DomainError> {
    if !state.in_org(org_id) || !state.tokens.iter().any(|t| t == token_id) {
        return Err(DomainError::not_found(
            "COMMAND-4m77G",
            "Personal Access Token not found",
        ));
    }
    Ok(vec![E::PatRemoved(PatRemoved {
        token_id: token_id.to_owned(),
    })])
}

pub fn decide_remove_user(state: &UserState, org_id: &str) -> Result<Vec<E>, DomainError> {
    if !state.in_org(org_id) {
        return Err(DomainError::not_found("COMMAND-m9od", "User could not be found"));
    }
    Ok(vec![E::UserRemoved(UserRemoved {
        user_name: state.user_name.clone(),
    })])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{AggregateRef, MachineUserAdded};

    fn ev(payload: E) -> StoredEvent {
        StoredEvent {
            instance_id: "i".into(),
            aggregate: AggregateRef::user("u", "org"),
            sequence: 1,
            position: 1,
            created_at: Timestamp(0),
            creator: "c".into(),
            payload,
        }
    }

    fn machine() -> Vec<StoredEvent> {
        vec![ev(E::MachineUserAdded(MachineUserAdded {
            user_name: "bot".into(),
            name: "Bot".into(),
            description: String::new(),
            access_token_type: 0,
        }))]
    }

    fn pat(id: &str, expiration: i64) -> PatAdded {
        PatAdded {
            token_id: id.into(),
            token_hash: "h".into(),
            expiration: Timestamp(expiration),
            scopes: vec![],
        }
    }

    #[test]
    fn pat_rules() {
        let s = UserState::fold(&machine());
        assert!(decide_add_pat(&s, "org", pat("t", 10), Timestamp(5)).is_ok());
        assert_eq!(
            decide_add_pat(&s, "org", pat("t", 5), Timestamp(5)).unwrap_err().id,
            "DOMAIN-dv3t5"
        );
        assert_eq!(
            decide_add_pat(&s, "other", pat("t", 10), Timestamp(5)).unwrap_err().id,
            "COMMAND-Dggw2"
        );
        let mut events = machine();
        events.push(ev(E::PatAdded(pat("t", 10))));
        let s = UserState::fold(&events);
        assert!(decide_remove_pat(&s, "org", "t").is_ok());
        assert_eq!(decide_remove_pat(&s, "org", "x").unwrap_err().id, "COMMAND-4m77G");
    }

    #[test]
    fn removed_users_are_gone() {
        let mut events = machine();
        events.push(ev(E::UserRemoved(UserRemoved {
            user_name: "bot".into(),
        })));
        let s = UserState::fold(&events);
        assert_eq!(decide_remove_user(&s, "org").unwrap_err().id, "COMMAND-m9od");
        assert_eq!(
            decide_add_machine(&s).unwrap_err().id,
            "COMMAND-k2una",
            "ids are not reused"
        );
    }
}
