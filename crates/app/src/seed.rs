//! Bulk creation of human users for load tests (`twofold seed`): each user
//! is decided by the same domain rules as `AddHumanUser` followed by a TOTP
//! registration and its verification, and a whole batch is appended in one
//! push (one transaction: events, user-name claims and read models together,
//! through the store port like any command).
//!
//! Two shortcuts keep a million users quick, both only for load tests: the
//! password hash is computed once and shared by every seeded user (same
//! salt; verifying it costs the same full argon2 run per check), and the
//! TOTP enrolment is recorded as verified at a given step instead of by a
//! code the user typed. Earlier sign-ins, when asked for, are recorded the
//! same way: the events a password + TOTP sign-in appends to the user, each
//! at an earlier time step, so a seeded user has a history like a real one.

use twofold_domain::event::TotpVerified;
use twofold_domain::human::{self, NewHuman, Verification};
use twofold_domain::user::UserState;
use twofold_domain::{AggregateRef, DomainError, EventPayload, InstanceId, OrgId, StoredEvent, UserId, mfa};

use crate::command::{store_error, unique};
use crate::{App, passwords};

/// One user to seed.
pub struct SeedUser {
    pub user_name: String,
    /// The raw TOTP secret to enrol, if any.
    pub totp_secret: Option<Vec<u8>>,
}

/// What a seeded batch shares.
pub struct SeedBatch<'a> {
    pub instance_id: &'a InstanceId,
    pub org_id: &'a OrgId,
    /// A PHC string from [`App::seed_password_hash`], or None (passwordless).
    pub password_hash: Option<&'a str>,
    /// The time step recorded as the one that verified each TOTP enrolment;
    /// codes of later steps open sessions.
    pub totp_step: u64,
    /// Earlier password + TOTP sign-ins to record per user (TOTP users only),
    /// the last one at `totp_step`.
    pub sign_ins: u64,
}

/// Folds freshly decided events into a state, as the store would return them.
fn fold_into(state: &mut Vec<StoredEvent>, agg: &AggregateRef, events: &[EventPayload]) -> UserState {
    for payload in events {
        state.push(StoredEvent {
            instance_id: String::new(),
            aggregate: agg.clone(),
            sequence: state.len() as u64 + 1,
            position: 0,
            created_at: twofold_domain::Timestamp::default(),
            creator: String::new(),
            payload: payload.clone(),
        });
    }
    UserState::fold(state)
}

impl App {
    /// The argon2id hash of `password` at the server's parameters, once.
    pub async fn seed_password_hash(&self, password: &str) -> Result<String, DomainError> {
        passwords::hash_blocking(password.to_owned(), self.config.password_hashing).await
    }

    /// The instance created at first start and its default org.
    pub async fn default_instance_org(&self) -> Result<(InstanceId, OrgId), DomainError> {
        use twofold_domain::readmodel::Collection;
        use twofold_domain::readmodel::directory::{DEFAULT_INSTANCE_ID, InstanceDomainView, InstanceView};
        let missing = || DomainError::precondition("SEED-NoIns", "no instance yet: start the server once first");
        let marker: InstanceDomainView = self
            .store
            .doc_any_instance(Collection::DefaultInstance, DEFAULT_INSTANCE_ID)
            .await
            .map_err(store_error)?
            .map(|d| serde::Deserialize::deserialize(&*d))
            .transpose()
            .map_err(|e| crate::docs::internal_doc_error(Collection::DefaultInstance, e))?
            .ok_or_else(missing)?;
        let instance: InstanceView = self
            .typed_doc(&marker.instance_id, Collection::Instance, marker.instance_id.as_str())
            .await?
            .ok_or_else(missing)?;
        Ok((marker.instance_id, instance.default_org_id))
    }

    /// Creates `users` in one append; fails whole if any name is taken.
    pub async fn seed_humans(&self, batch: &SeedBatch<'_>, users: &[SeedUser]) -> Result<usize, DomainError> {
        let mut aggregates = Vec::with_capacity(users.len());
        let mut claims = Vec::with_capacity(users.len());
        for u in users {
            let id = UserId::new(self.ids.next());
            let agg = AggregateRef::user(&id, batch.org_id);
            let mut history = Vec::new();
            let new = NewHuman {
                user_name: u.user_name.clone(),
                given_name: "Seed".into(),
                family_name: u.user_name.clone(),
                nick_name: String::new(),
                display_name: String::new(),
                preferred_language: String::new(),
                gender: 0,
                email: format!("{}@seed.example", u.user_name),
                email_verification: Verification::Verified,
                phone: None,
                password_hash: batch.password_hash.map(str::to_owned),
                change_required: false,
            };
            let mut events = human::decide_add_human(&UserState::default(), new)?;
            if let Some(secret) = &u.totp_secret {
                let state = fold_into(&mut history, &agg, &events);
                let added = mfa::decide_register_totp(&state, self.keys.seal(secret))?;
                let state = fold_into(&mut history, &agg, &added);
                let first = batch.totp_step.saturating_sub(batch.sign_ins);
                let verified = mfa::decide_verify_totp(&state, Some(first))?;
                events.extend(added);
                events.extend(verified);
                for step in first + 1..=batch.totp_step {
                    events.push(EventPayload::PasswordCheckSucceeded);
                    events.push(EventPayload::TotpCheckSucceeded(TotpVerified { step }));
                }
            }
            claims.push(unique(batch.instance_id, "user_name", u.user_name.trim()));
            aggregates.push((agg, events));
        }
        let stored = self
            .create(batch.instance_id, "system", aggregates, claims)
            .await
            .map_err(store_error)?;
        crate::metrics::appended(&stored);
        Ok(users.len())
    }
}
