//! Aggregate snapshots: an aggregate's folded state stored beside its
//! events, so a command reads the snapshot and the few events after it
//! instead of the whole history (every sign-in appends to the user's
//! history, which would otherwise make each sign-in slower than the last).
//!
//! A snapshot only caches `fold(events up to its sequence)`; events are
//! never changed, so it stays exact for as long as the fold code does. Its
//! version is a hash of the source that defines the state and its fold
//! ([`USER_SNAPSHOT_VERSION`]): any change to that code makes every stored
//! snapshot unusable, and the next command folds the whole history once and
//! stores a fresh one. No one has to remember to bump a number.

use std::sync::Arc;

use crate::event::{StoredEvent, Timestamp};
use crate::user::UserState;

/// A command that found at least this many events after the aggregate's
/// snapshot stores a new one with its events.
pub const SNAPSHOT_EVERY: usize = 64;

/// The version of user snapshots: a hash of the files that define
/// [`UserState`], its fold and the shapes of the values it holds.
pub const USER_SNAPSHOT_VERSION: i64 = fnv1a(&[
    include_str!("user.rs"),
    include_str!("passkey.rs"),
    include_str!("password_code.rs"),
    include_str!("event.rs"),
    include_str!("ids.rs"),
]) as i64;

const fn fnv1a(mut sources: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    while let [source, rest @ ..] = sources {
        let mut bytes = source.as_bytes();
        while let [byte, more @ ..] = bytes {
            hash ^= *byte as u64;
            hash = hash.wrapping_mul(0x0100_0000_01b3);
            bytes = more;
        }
        sources = rest;
    }
    hash
}

/// A folded state as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// The version of the code that wrote it (see the module comment).
    pub version: i64,
    /// The sequence of the last event folded in.
    pub sequence: u64,
    /// When that event was stored.
    pub created_at: Timestamp,
    /// The state, as JSON.
    pub state: String,
}

/// What the store returns for an aggregate: its snapshot, if one of the
/// asked version exists, and the events after it (all of them without one).
#[derive(Clone, Debug, Default)]
pub struct History {
    pub snapshot: Option<Arc<Snapshot>>,
    pub events: Arc<Vec<StoredEvent>>,
}

impl History {
    /// A history without a snapshot.
    pub fn full(events: Arc<Vec<StoredEvent>>) -> Self {
        Self { snapshot: None, events }
    }

    /// The sequence of the aggregate's last event (0 for a new aggregate).
    pub fn last_sequence(&self) -> u64 {
        match (self.events.last(), &self.snapshot) {
            (Some(ev), _) => ev.sequence,
            (None, Some(s)) => s.sequence,
            (None, None) => 0,
        }
    }
}

impl UserState {
    /// The state a snapshot holds, if this code wrote it.
    pub fn from_snapshot(s: &Snapshot) -> Option<Self> {
        if s.version != USER_SNAPSHOT_VERSION {
            return None;
        }
        serde_json::from_str(&s.state).ok()
    }

    /// This state as a snapshot taken after the event `sequence`, stored at
    /// `created_at`.
    pub fn to_snapshot(&self, sequence: u64, created_at: Timestamp) -> Option<Snapshot> {
        let state = serde_json::to_string(self).ok()?;
        Some(Snapshot {
            version: USER_SNAPSHOT_VERSION,
            sequence,
            created_at,
            state,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{AggregateRef, AggregateType, EventPayload as E, HumanAdded, TotpAdded, TotpVerified};
    use crate::password_code::PasswordCodeAdded;

    fn stored(events: Vec<E>) -> Vec<StoredEvent> {
        events
            .into_iter()
            .enumerate()
            .map(|(i, payload)| StoredEvent {
                instance_id: "i".into(),
                aggregate: AggregateRef {
                    kind: AggregateType::User,
                    id: "u".into(),
                    owner: "o".into(),
                },
                sequence: i as u64 + 1,
                position: i as i64 + 1,
                created_at: Timestamp(1_000 + i as i64),
                creator: "c".into(),
                payload,
            })
            .collect()
    }

    fn history() -> Vec<StoredEvent> {
        let mut events = vec![
            E::HumanAdded(Box::new(HumanAdded {
                user_name: "ada".into(),
                first_name: "Ada".into(),
                last_name: "Lovelace".into(),
                nick_name: String::new(),
                display_name: "Ada".into(),
                preferred_language: "en".into(),
                gender: 0,
                email: "ada@example.com".into(),
                phone: String::new(),
                encoded_hash: Some("$argon2id$hash".into()),
                change_required: false,
            })),
            E::TotpAdded(TotpAdded {
                otp_secret: "sealed".into(),
            }),
            E::TotpVerified(TotpVerified { step: 7 }),
            E::PasswordCodeAdded(PasswordCodeAdded {
                code_hash: "h".into(),
                expiry: Timestamp(9_000),
                notification_type: 0,
                url_template: String::new(),
                code_returned: false,
            }),
            E::PasswordCodeCheckFailed,
        ];
        for step in 8..40 {
            events.push(E::TotpCheckSucceeded(TotpVerified { step }));
            events.push(E::TotpCheckFailed);
            events.push(E::UserLocked);
            events.push(E::UserUnlocked);
        }
        stored(events)
    }

    #[test]
    fn a_snapshot_and_the_events_after_it_fold_to_the_whole_history() {
        let events = history();
        for cut in [0, 1, 3, 5, 17, events.len() - 1, events.len()] {
            let (before, after) = events.split_at(cut);
            let snap = UserState::fold(before).to_snapshot(cut as u64, Timestamp(5)).unwrap();
            let restored = UserState::from_snapshot(&snap).unwrap();
            assert_eq!(restored.fold_more(after), UserState::fold(&events), "cut at {cut}");
        }
    }

    #[test]
    fn a_snapshot_of_another_version_or_unreadable_is_not_used() {
        let mut snap = UserState::fold(&history()).to_snapshot(9, Timestamp(5)).unwrap();
        snap.version ^= 1;
        assert_eq!(UserState::from_snapshot(&snap), None);
        snap.version ^= 1;
        snap.state = "{\"exists\": 3}".into();
        assert_eq!(UserState::from_snapshot(&snap), None);
    }

    #[test]
    fn last_sequence_comes_from_the_events_else_the_snapshot() {
        let snap = Arc::new(UserState::default().to_snapshot(70, Timestamp(5)).unwrap());
        let mut h = History {
            snapshot: Some(snap),
            events: Arc::default(),
        };
        assert_eq!(h.last_sequence(), 70);
        h.events = Arc::new(stored(vec![E::UserLocked]));
        assert_eq!(h.last_sequence(), 1);
        assert_eq!(History::default().last_sequence(), 0);
    }
}
