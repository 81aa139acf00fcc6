//! Policies the instance holds as a default and an org may replace with its
//! own (lockout, password complexity, password age): one set of rules for
//! all of them. A change is a full replacement and an unchanged one is an
//! error, as for every ZITADEL policy; an org adds its own once and resets
//! to the default by removing it. An instance set up before a kind existed
//! has none stored: its first update adds it, compared with the kind's
//! built-in default. Each kind brings its settings, the diff of two of them
//! (the payload of its `changed` event), its events and ZITADEL's error ids.

use crate::error::DomainError;
use crate::event::EventPayload as E;
use crate::readmodel::Collection;
use crate::scope::Scope;

/// One of a policy kind's events, as it affects the policy's state.
#[derive(Debug, PartialEq)]
pub enum Step<'a, P: ScopedPolicy> {
    Added(&'a P),
    Changed(&'a P::Changes),
    Removed,
}

/// ZITADEL's id and message of a refusal.
pub type Refusal = (&'static str, &'static str);

/// A kind's refusals, as ZITADEL words them.
pub struct Refusals {
    /// An org without its own policy is updated.
    pub org_missing: Refusal,
    /// An org without its own policy is reset.
    pub reset_missing: Refusal,
    /// An org adds its own policy a second time.
    pub org_exists: Refusal,
    pub instance_unchanged: Refusal,
    pub org_unchanged: Refusal,
}

/// A policy kind: its settings, with what the rules need to know of it.
pub trait ScopedPolicy: Copy + Default + PartialEq + Sized + 'static {
    /// The payload of a `changed` event: the keys present changed.
    type Changes: Copy + Default + PartialEq;
    const REFUSALS: Refusals;
    /// Where the read model keeps the instance's (keyed by instance id)
    /// and each org's (keyed by org id) policy.
    const COLLECTION: Collection;

    /// In force while the instance has none stored.
    fn instance_default() -> Self {
        Self::default()
    }

    /// Refuses settings no policy may have.
    fn validate(&self) -> Result<(), DomainError> {
        Ok(())
    }

    /// What differs from `self` in `new`.
    fn changes_to(&self, new: &Self) -> Self::Changes;

    fn apply(&mut self, c: &Self::Changes);

    /// `e`, if it is one of this kind's events for `scope`.
    fn step(scope: Scope, e: &E) -> Option<Step<'_, Self>>;

    fn added(scope: Scope, settings: Self) -> E;

    fn changed(scope: Scope, changes: Self::Changes) -> E;

    /// An org's own policy removed.
    fn removed() -> E;
}

/// The events of a kind, from the names of its `EventPayload` variants.
macro_rules! scoped_policy_events {
    ($instance_added:ident, $instance_changed:ident, $org_added:ident, $org_changed:ident, $org_removed:ident) => {
        fn step(
            scope: $crate::scope::Scope,
            e: &$crate::event::EventPayload,
        ) -> Option<$crate::scoped_policy::Step<'_, Self>> {
            use $crate::event::EventPayload as E;
            use $crate::scope::Scope;
            use $crate::scoped_policy::Step;
            match (scope, e) {
                (Scope::Instance, E::$instance_added(p)) | (Scope::Org, E::$org_added(p)) => Some(Step::Added(p)),
                (Scope::Instance, E::$instance_changed(c)) | (Scope::Org, E::$org_changed(c)) => Some(Step::Changed(c)),
                (Scope::Org, E::$org_removed) => Some(Step::Removed),
                _ => None,
            }
        }

        fn added(scope: $crate::scope::Scope, settings: Self) -> $crate::event::EventPayload {
            match scope {
                $crate::scope::Scope::Instance => $crate::event::EventPayload::$instance_added(settings),
                $crate::scope::Scope::Org => $crate::event::EventPayload::$org_added(settings),
            }
        }

        fn changed(scope: $crate::scope::Scope, changes: Self::Changes) -> $crate::event::EventPayload {
            match scope {
                $crate::scope::Scope::Instance => $crate::event::EventPayload::$instance_changed(changes),
                $crate::scope::Scope::Org => $crate::event::EventPayload::$org_changed(changes),
            }
        }

        fn removed() -> $crate::event::EventPayload {
            $crate::event::EventPayload::$org_removed
        }
    };
}
pub(crate) use scoped_policy_events;

/// A policy of the instance or of one org, from its events.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PolicyState<P> {
    pub exists: bool,
    pub settings: P,
}

impl<P: ScopedPolicy> PolicyState<P> {
    pub fn fold<'a>(scope: Scope, events: impl IntoIterator<Item = &'a E>) -> Self {
        let mut s = Self::default();
        for e in events {
            match P::step(scope, e) {
                Some(Step::Added(p)) => {
                    s = Self {
                        exists: true,
                        settings: *p,
                    }
                }
                Some(Step::Changed(c)) => s.settings.apply(c),
                Some(Step::Removed) => s = Self::default(),
                None => {}
            }
        }
        s
    }
}

fn refuse_missing((id, message): Refusal) -> DomainError {
    DomainError::not_found(id, message)
}

/// Replaces the policy of `scope` with `new`.
pub fn decide_update<P: ScopedPolicy>(scope: Scope, state: &PolicyState<P>, new: P) -> Result<Vec<E>, DomainError> {
    new.validate()?;
    let old = match (scope, state.exists) {
        (Scope::Org, false) => return Err(refuse_missing(P::REFUSALS.org_missing)),
        (Scope::Instance, false) => P::instance_default(),
        (_, true) => state.settings,
    };
    let changes = old.changes_to(&new);
    if changes == P::Changes::default() {
        let (id, message) = match scope {
            Scope::Instance => P::REFUSALS.instance_unchanged,
            Scope::Org => P::REFUSALS.org_unchanged,
        };
        return Err(DomainError::precondition(id, message));
    }
    Ok(vec![match scope {
        Scope::Instance if !state.exists => P::added(scope, new),
        _ => P::changed(scope, changes),
    }])
}

/// An org's own policy, replacing the default for it.
pub fn decide_add_custom<P: ScopedPolicy>(state: &PolicyState<P>, new: P) -> Result<Vec<E>, DomainError> {
    new.validate()?;
    if state.exists {
        let (id, message) = P::REFUSALS.org_exists;
        return Err(DomainError::already_exists(id, message));
    }
    Ok(vec![P::added(Scope::Org, new)])
}

/// Back to the instance default for an org.
pub fn decide_reset<P: ScopedPolicy>(state: &PolicyState<P>) -> Result<Vec<E>, DomainError> {
    if !state.exists {
        return Err(refuse_missing(P::REFUSALS.reset_missing));
    }
    Ok(vec![P::removed()])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lockout::LockoutSettings;
    use crate::password_age::PasswordAgeSettings;
    use crate::password_complexity::PasswordComplexitySettings;

    /// Given no policy, when the org adds, updates and resets one, then
    /// each kind answers with its own events and ZITADEL's ids.
    fn lifecycle<P: ScopedPolicy + std::fmt::Debug>(other: P, ids: [&str; 5]) {
        let [org_missing, reset_missing, exists, instance_unchanged, org_unchanged] = ids;
        let id = |r: Result<Vec<E>, DomainError>| r.err().map(|e| e.id);
        let none = PolicyState::<P>::default();
        assert_eq!(id(decide_update(Scope::Org, &none, other)), Some(org_missing.into()));
        assert_eq!(id(decide_reset(&none)), Some(reset_missing.into()));
        let added = decide_add_custom(&none, other).unwrap();
        assert_eq!(added, vec![P::added(Scope::Org, other)]);
        let own = PolicyState::fold(Scope::Org, &added);
        assert_eq!(
            own,
            PolicyState {
                exists: true,
                settings: other
            }
        );
        assert_eq!(id(decide_add_custom(&own, other)), Some(exists.into()));
        assert_eq!(id(decide_update(Scope::Org, &own, other)), Some(org_unchanged.into()));
        let back = decide_update(Scope::Org, &own, P::instance_default()).unwrap();
        let mut history = added;
        history.extend(back);
        assert_eq!(
            PolicyState::<P>::fold(Scope::Org, &history).settings,
            P::instance_default()
        );
        history.extend(decide_reset(&PolicyState::<P>::fold(Scope::Org, &history)).unwrap());
        assert_eq!(PolicyState::<P>::fold(Scope::Org, &history), PolicyState::default());
        // An org's events are not the instance's.
        assert!(!PolicyState::<P>::fold(Scope::Instance, &history).exists);

        // Given an instance without one, when set to the built-in default,
        // then unchanged; when set otherwise, then added; later, changed.
        assert_eq!(
            id(decide_update(Scope::Instance, &none, P::instance_default())),
            Some(instance_unchanged.into())
        );
        let first = decide_update(Scope::Instance, &none, other).unwrap();
        assert_eq!(first, vec![P::added(Scope::Instance, other)]);
        let instance = PolicyState::fold(Scope::Instance, &first);
        let second = decide_update(Scope::Instance, &instance, P::instance_default()).unwrap();
        assert_eq!(
            second,
            vec![P::changed(Scope::Instance, other.changes_to(&P::instance_default()))]
        );
    }

    #[test]
    fn every_kind_follows_the_same_lifecycle() {
        lifecycle(
            LockoutSettings {
                max_password_attempts: 0,
                max_otp_attempts: 3,
            },
            ["ORG-ADfs1", "ORG-D4zuz", "ORG-0olDf", "INSTANCE-0psjF", "ORG-0JFSr"],
        );
        lifecycle(
            PasswordAgeSettings {
                max_age_days: 30,
                expire_warn_days: 5,
            },
            ["ORG-0oPew", "ORG-Dgs1g", "ORG-Lk0dS", "INSTANCE-180sf", "Org-dsgjR"],
        );
        lifecycle(
            PasswordComplexitySettings {
                min_length: 12,
                ..PasswordComplexitySettings::instance_default()
            },
            ["ORG-Dgs3g", "ORG-ADgs2", "Org-LdhbS", "INSTANCE-9jlsf", "Org-DAs21"],
        );
    }
}
