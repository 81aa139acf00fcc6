//! The lock-out impact of a login-policy change, and the guard rail that
//! refuses a change locking out every owner. Both work out the policy after
//! the change with the decision the change itself makes, and read the users
//! from the per-user factor summaries (`readmodel::user_factors`).

use std::collections::HashSet;

use twofold_domain::login_policy::{self as lp, LoginPolicySettings, LoginPolicyState};
use twofold_domain::policy_preview::{self as pp, Category, EXAMPLES, FactorMask, Impact};
use twofold_domain::readmodel::Collection;
use twofold_domain::readmodel::directory::{MemberView, UserState, member_doc_id};
use twofold_domain::readmodel::login_policy::LoginPolicyView;
use twofold_domain::readmodel::user_factors::{UserFactorsView, parse_group};
use twofold_domain::scope::Scope;
use twofold_domain::{DomainError, EventPayload, OrgId};

use crate::App;
use crate::auth::RequestCtx;
use crate::command::store_error;
use crate::login_policy::FactorChange;

/// A login-policy change as the preview and the guard rail see it.
#[derive(Clone, Debug, PartialEq)]
pub enum PolicyChange {
    Factor(FactorChange),
    /// New settings: an update, or for an org without a policy of its own,
    /// a custom policy with these settings.
    Settings(LoginPolicySettings),
    /// An org goes back to the instance default.
    Reset,
    /// Several changes made one after the other (a form changing more
    /// than one thing), previewed and guarded as one.
    Steps(Vec<PolicyChange>),
}

/// Whether the caller asked to skip the guard rail (`x-twofold-force: true`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Force(pub bool);

impl PolicyChange {
    /// The real change's decision on the scope's own policy.
    fn decide(&self, scope: Scope, state: &LoginPolicyState) -> Result<Vec<EventPayload>, DomainError> {
        match (self, scope) {
            (Self::Factor(FactorChange::AddSecond(f)), _) => lp::decide_add_second_factor(scope, state, *f),
            (Self::Factor(FactorChange::RemoveSecond(f)), _) => lp::decide_remove_second_factor(scope, state, *f),
            (Self::Factor(FactorChange::AddMulti(f)), _) => lp::decide_add_multi_factor(scope, state, *f),
            (Self::Factor(FactorChange::RemoveMulti(f)), _) => lp::decide_remove_multi_factor(scope, state, *f),
            (Self::Settings(s), Scope::Org) if !state.exists => lp::decide_add_custom(state, s.clone(), &[], &[], 0),
            (Self::Settings(s), _) => lp::decide_update(scope, state, s.clone()),
            (Self::Reset, Scope::Org) => lp::decide_reset(state),
            (Self::Reset, Scope::Instance) => Err(DomainError::invalid(
                "POLICY-Reset",
                "The instance's default policy cannot be reset",
            )),
            (Self::Steps(steps), _) => {
                let mut state = state.clone();
                let mut events = Vec::new();
                for step in steps {
                    for e in step.decide(scope, &state)? {
                        state.apply(scope, &e);
                        events.push(e);
                    }
                }
                Ok(events)
            }
        }
    }
}

/// The policy in force before and after a change, for the orgs it reaches.
struct Transition {
    before: LoginPolicyState,
    after: LoginPolicyState,
    /// Instance scope: orgs with a policy of their own (not reached).
    /// Org scope: every org but `org` is unreached.
    custom: HashSet<OrgId>,
    org: Option<OrgId>,
}

impl Transition {
    fn reaches(&self, org: &OrgId) -> bool {
        match &self.org {
            Some(o) => o == org,
            None => !self.custom.contains(org),
        }
    }
}

impl App {
    async fn transition(
        &self,
        ctx: &RequestCtx,
        scope: Scope,
        change: &PolicyChange,
    ) -> Result<Transition, DomainError> {
        let events = self
            .store
            .events(&ctx.instance_id, &ctx.scope_aggregate(scope))
            .await
            .map_err(store_error)?;
        let own = LoginPolicyState::fold(scope, events.iter().map(|e| &e.payload));
        let after_own = pp::after_change(scope, &own, |s| change.decide(scope, s))?;
        match scope {
            Scope::Instance => Ok(Transition {
                before: own,
                after: after_own,
                custom: self.custom_policy_orgs(ctx).await?,
                org: None,
            }),
            Scope::Org => {
                let default = LoginPolicyState::from(&self.default_login_policy(&ctx.instance_id).await?);
                let effective = |s: LoginPolicyState| if s.exists { s } else { default.clone() };
                Ok(Transition {
                    before: effective(own),
                    after: effective(after_own),
                    custom: HashSet::new(),
                    org: Some(ctx.org_id.clone()),
                })
            }
        }
    }

    async fn custom_policy_orgs(&self, ctx: &RequestCtx) -> Result<HashSet<OrgId>, DomainError> {
        let views: Vec<LoginPolicyView> = self.typed_prefix(&ctx.instance_id, Collection::LoginPolicy, "").await?;
        Ok(views
            .into_iter()
            .filter(|v| !v.is_default)
            .map(|v| OrgId::from(v.details.resource_owner.as_str()))
            .collect())
    }

    /// Who would be locked out, sent to MFA set-up, ... by `change`, over
    /// the active and locked human users under the scope's policy. Stores
    /// nothing; fails as the change itself would.
    pub async fn preview_login_policy_change(
        &self,
        ctx: &RequestCtx,
        scope: Scope,
        change: &PolicyChange,
    ) -> Result<Impact, DomainError> {
        let t = self.transition(ctx, scope, change).await?;
        let coll = Collection::UserFactors;
        let mut groups = self
            .store
            .count_by_lookup(&ctx.instance_id, coll)
            .await
            .map_err(store_error)?;
        groups.sort();
        let mut impact = Impact::default();
        let mut lookups: Vec<(Category, String)> = Vec::new();
        for (lookup, count) in groups {
            let Some((org, mask)) = parse_group(&lookup) else {
                continue;
            };
            if !t.reaches(&org) {
                continue;
            }
            let c = pp::classify(&t.before, &t.after, mask);
            impact.group_mut(c).count += count;
            lookups.push((c, lookup));
        }
        for (c, lookup) in lookups {
            let room = EXAMPLES.saturating_sub(impact.group(c).examples.len());
            if room == 0 {
                continue;
            }
            let docs = self
                .store
                .first_docs_by_lookup(&ctx.instance_id, coll, &lookup, room)
                .await
                .map_err(store_error)?;
            for d in docs {
                let v: UserFactorsView = serde_json::from_value((*d).clone())
                    .map_err(|e| crate::docs::internal_doc_error(Collection::UserFactors, e))?;
                impact.group_mut(c).examples.push(v.user_ref());
            }
        }
        Ok(impact)
    }

    /// The guard rail alone, for a caller that makes `change` in several
    /// steps and wants it refused (or allowed) as a whole before the first.
    pub async fn check_login_policy_change(
        &self,
        ctx: &RequestCtx,
        scope: Scope,
        change: &PolicyChange,
        force: Force,
    ) -> Result<(), DomainError> {
        self.guard_owners(ctx, scope, change, force).await
    }

    /// The guard rail: refuses `change` when it would leave every active
    /// human owner of the scope (IAM_OWNER / ORG_OWNER) unable to sign in,
    /// unless forced.
    pub(crate) async fn guard_owners(
        &self,
        ctx: &RequestCtx,
        scope: Scope,
        change: &PolicyChange,
        force: Force,
    ) -> Result<(), DomainError> {
        if force.0 {
            return Ok(());
        }
        // A change its own decision refuses is left to that decision.
        let Ok(t) = self.transition(ctx, scope, change).await else {
            return Ok(());
        };
        let (scope_id, role) = match scope {
            Scope::Instance => (ctx.instance_id.as_str().to_owned(), "IAM_OWNER"),
            Scope::Org => (ctx.org_id.as_str().to_owned(), "ORG_OWNER"),
        };
        let members: Vec<MemberView> = self
            .typed_prefix(&ctx.instance_id, Collection::Member, &member_doc_id(&scope_id, ""))
            .await?;
        let mut owners: Vec<(LoginPolicyState, LoginPolicyState, FactorMask)> = Vec::new();
        for m in members.iter().filter(|m| m.roles.iter().any(|r| r == role)) {
            let Some(u) = self
                .typed_doc::<UserFactorsView>(&ctx.instance_id, Collection::UserFactors, m.user_id.as_str())
                .await?
            else {
                continue;
            };
            if u.state != UserState::Active {
                continue;
            }
            if t.reaches(&u.org_id) {
                owners.push((t.before.clone(), t.after.clone(), u.mask));
            } else {
                // An owner from an org the change does not reach keeps their policy.
                let theirs = LoginPolicyState::from(&self.org_login_policy(&ctx.instance_id, &u.org_id).await?);
                owners.push((theirs.clone(), theirs, u.mask));
            }
        }
        let refs: Vec<_> = owners.iter().map(|(b, a, m)| (b, a, *m)).collect();
        pp::check_owners(&refs)
    }
}

#[cfg(test)]
mod tests {
    use twofold_domain::factors::SecondFactor;

    use super::*;

    #[test]
    fn steps_are_decided_one_after_the_other_and_refused_as_a_whole() {
        let state = LoginPolicyState {
            exists: true,
            settings: LoginPolicySettings::instance_default(),
            second_factors: vec![SecondFactor::Otp],
            multi_factors: vec![],
        };
        let step = |c| PolicyChange::Factor(c);
        let swap = PolicyChange::Steps(vec![
            step(FactorChange::AddSecond(SecondFactor::U2f)),
            step(FactorChange::RemoveSecond(SecondFactor::Otp)),
        ]);
        let after = pp::after_change(Scope::Instance, &state, |s| swap.decide(Scope::Instance, s)).unwrap();
        assert_eq!(after.second_factors, vec![SecondFactor::U2f]);
        // The second removal sees the first: refused, and with it the whole change.
        let twice = PolicyChange::Steps(vec![
            step(FactorChange::RemoveSecond(SecondFactor::Otp)),
            step(FactorChange::RemoveSecond(SecondFactor::Otp)),
        ]);
        assert!(twice.decide(Scope::Instance, &state).is_err());
    }
}
