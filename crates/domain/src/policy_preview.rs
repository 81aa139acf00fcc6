//! Lock-out impact of a login-policy change: each human user under the
//! policy is put in exactly one category by their situation *after* the
//! change (the first that applies, in [`Category`] order). The policy after
//! the change is what the real change's decision makes of it, so a preview
//! fails exactly as the change would.

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::event::EventPayload;
use crate::factors::{MultiFactor, SecondFactor};
use crate::ids::{OrgId, UserId};
use crate::login_policy::LoginPolicyState;
use crate::readmodel::directory::{Readiness, UserView};
use crate::readmodel::login_policy::LoginPolicyView;
use crate::scope::Scope;

/// The factor kinds a user has ready for use, as bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FactorMask(pub u8);

impl FactorMask {
    pub const PASSWORD: u8 = 1;
    pub const TOTP: u8 = 1 << 1;
    pub const U2F: u8 = 1 << 2;
    pub const OTP_EMAIL: u8 = 1 << 3;
    pub const OTP_SMS: u8 = 1 << 4;
    pub const RECOVERY_CODES: u8 = 1 << 5;
    /// Passwordless sign-in with a passkey.
    pub const PASSKEY: u8 = 1 << 6;
    /// The kinds used as a second factor after a password.
    const SECOND: [(u8, SecondFactor); 5] = [
        (Self::TOTP, SecondFactor::Otp),
        (Self::U2F, SecondFactor::U2f),
        (Self::OTP_EMAIL, SecondFactor::OtpEmail),
        (Self::OTP_SMS, SecondFactor::OtpSms),
        (Self::RECOVERY_CODES, SecondFactor::RecoveryCodes),
    ];
    const KINDS: [u8; 7] = [
        Self::PASSWORD,
        Self::TOTP,
        Self::U2F,
        Self::OTP_EMAIL,
        Self::OTP_SMS,
        Self::RECOVERY_CODES,
        Self::PASSKEY,
    ];

    /// The ready factors of a user (nothing for a machine user).
    pub fn of_user(u: &UserView) -> Self {
        let Some(h) = u.human() else {
            return Self(0);
        };
        let f = &u.factors;
        let bits = [
            (h.password_set, Self::PASSWORD),
            (f.totp == Some(Readiness::Ready), Self::TOTP),
            (f.u2f.iter().any(|t| t.readiness == Readiness::Ready), Self::U2F),
            (f.otp_email, Self::OTP_EMAIL),
            (f.otp_sms, Self::OTP_SMS),
            (f.recovery_codes > 0, Self::RECOVERY_CODES),
            (!f.passkeys.is_empty(), Self::PASSKEY),
        ];
        Self(bits.iter().filter(|(on, _)| *on).fold(0, |m, (_, b)| m | b))
    }

    fn has(self, kind: u8) -> bool {
        self.0 & kind != 0
    }
}

/// Whether `policy` lets a user use the factor `kind`.
fn allows(policy: &LoginPolicyState, kind: u8) -> bool {
    match kind {
        FactorMask::PASSWORD => policy.settings.allow_username_password,
        // As the session checks decide (crate::passkey::passkey_allowed):
        // the multi factor listed and passwordless sign-in allowed.
        FactorMask::PASSKEY => {
            policy.multi_factors.contains(&MultiFactor::U2fWithVerification)
                && policy.settings.passwordless_type == crate::passkey::PASSWORDLESS_ALLOWED
        }
        _ => FactorMask::SECOND
            .iter()
            .any(|(k, f)| *k == kind && policy.second_factors.contains(f)),
    }
}

/// Whether a user with `mask` can complete some sign-in under `policy`.
pub fn can_sign_in(policy: &LoginPolicyState, mask: FactorMask) -> bool {
    [FactorMask::PASSWORD, FactorMask::PASSKEY]
        .iter()
        .any(|k| mask.has(*k) && allows(policy, *k))
}

/// The categories, in the order they are tried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Category {
    /// Could no longer complete any sign-in.
    LockedOut,
    /// Force MFA on and no allowed second or multi factor enrolled.
    MustEnroll,
    /// Second factors enrolled, none allowed, force MFA off: a password alone.
    MfaDowngraded,
    /// An enrolled factor becomes disallowed, another allowed one remains.
    LosesAFactor,
    Unaffected,
}

impl Category {
    pub const ALL: [Category; 5] = [
        Self::LockedOut,
        Self::MustEnroll,
        Self::MfaDowngraded,
        Self::LosesAFactor,
        Self::Unaffected,
    ];
}

/// The category of a user with the ready factors `mask` when the policy in
/// force for them goes from `before` to `after`.
pub fn classify(before: &LoginPolicyState, after: &LoginPolicyState, mask: FactorMask) -> Category {
    if !can_sign_in(after, mask) {
        return Category::LockedOut;
    }
    let second_enrolled = FactorMask::SECOND.iter().any(|(k, _)| mask.has(*k));
    let second_allowed = FactorMask::SECOND
        .iter()
        .any(|(k, _)| mask.has(*k) && allows(after, *k));
    let passkey = mask.has(FactorMask::PASSKEY);
    let multi_allowed = passkey && allows(after, FactorMask::PASSKEY);
    if after.settings.force_mfa && !second_allowed && !multi_allowed {
        return Category::MustEnroll;
    }
    if second_enrolled && !second_allowed && !after.settings.force_mfa {
        return Category::MfaDowngraded;
    }
    let loses = FactorMask::KINDS
        .iter()
        .any(|k| mask.has(*k) && allows(before, *k) && !allows(after, *k));
    let keeps = FactorMask::KINDS.iter().any(|k| mask.has(*k) && allows(after, *k));
    if loses && keeps {
        return Category::LosesAFactor;
    }
    Category::Unaffected
}

/// A user as the preview names them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRef {
    pub user_id: UserId,
    pub login_name: String,
    pub org_id: OrgId,
}

/// How many users land in one category, and some of them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Group {
    pub count: u64,
    pub examples: Vec<UserRef>,
}

/// Users listed per category.
pub const EXAMPLES: usize = 20;

/// The outcome of a preview: one group per category.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Impact {
    pub locked_out: Group,
    pub must_enroll: Group,
    pub mfa_downgraded: Group,
    pub loses_a_factor: Group,
    pub unaffected: Group,
}

impl Impact {
    pub fn total(&self) -> u64 {
        Category::ALL.iter().map(|c| self.group(*c).count).sum()
    }

    pub fn group(&self, c: Category) -> &Group {
        match c {
            Category::LockedOut => &self.locked_out,
            Category::MustEnroll => &self.must_enroll,
            Category::MfaDowngraded => &self.mfa_downgraded,
            Category::LosesAFactor => &self.loses_a_factor,
            Category::Unaffected => &self.unaffected,
        }
    }

    pub fn group_mut(&mut self, c: Category) -> &mut Group {
        match c {
            Category::LockedOut => &mut self.locked_out,
            Category::MustEnroll => &mut self.must_enroll,
            Category::MfaDowngraded => &mut self.mfa_downgraded,
            Category::LosesAFactor => &mut self.loses_a_factor,
            Category::Unaffected => &mut self.unaffected,
        }
    }

    /// Counts `user` in `c`, naming them while the category has room.
    pub fn add(&mut self, c: Category, user: impl FnOnce() -> UserRef) {
        let g = self.group_mut(c);
        g.count += 1;
        if g.examples.len() < EXAMPLES {
            g.examples.push(user());
        }
    }
}

/// One human user as the preview reads them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserSummary {
    pub user: UserRef,
    pub mask: FactorMask,
}

/// One pass over `users`; `policies(org)` gives the policy before and after
/// the change for that org's users, None for users the change does not reach.
pub fn impact<'a, 'p>(
    users: impl IntoIterator<Item = &'a UserSummary>,
    policies: impl Fn(&OrgId) -> Option<(&'p LoginPolicyState, &'p LoginPolicyState)>,
) -> Impact {
    let mut out = Impact::default();
    for u in users {
        if let Some((before, after)) = policies(&u.user.org_id) {
            out.add(classify(before, after, u.mask), || u.user.clone());
        }
    }
    out
}

/// The state a policy view stands for (the effective policy of an org).
impl From<&LoginPolicyView> for LoginPolicyState {
    fn from(v: &LoginPolicyView) -> Self {
        Self {
            exists: true,
            settings: v.settings.clone(),
            second_factors: v.second_factors.clone(),
            multi_factors: v.multi_factors.clone(),
        }
    }
}

/// The scope's own policy state after `decide` (the real change's decision)
/// and its events.
pub fn after_change(
    scope: Scope,
    state: &LoginPolicyState,
    decide: impl FnOnce(&LoginPolicyState) -> Result<Vec<EventPayload>, DomainError>,
) -> Result<LoginPolicyState, DomainError> {
    let mut after = state.clone();
    for e in decide(state)? {
        after.apply(scope, &e);
    }
    Ok(after)
}

/// The guard rail: a change that leaves every owner (`(before, after,
/// mask)` of each active human owner) unable to sign in, when at least one
/// of them could before, is refused unless forced.
pub fn check_owners(owners: &[(&LoginPolicyState, &LoginPolicyState, FactorMask)]) -> Result<(), DomainError> {
    let all_locked = !owners.is_empty() && owners.iter().all(|(b, a, m)| classify(b, a, *m) == Category::LockedOut);
    let one_could = owners.iter().any(|(b, _, m)| can_sign_in(b, *m));
    if all_locked && one_could {
        return Err(DomainError::precondition(
            "POLICY-LockOut",
            "This change would lock out every owner (no owner could sign in any more). Check its impact with \
             the preview (POST /admin/v1/policies/login/_preview or /management/v1/policies/login/_preview), \
             or repeat the request with the header x-twofold-force: true",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::login_policy::LoginPolicySettings;

    const PW: u8 = FactorMask::PASSWORD;
    const TOTP: u8 = FactorMask::TOTP;
    const U2F: u8 = FactorMask::U2F;
    const PK: u8 = FactorMask::PASSKEY;

    fn policy(password: bool, passkey: bool, force_mfa: bool, second: &[SecondFactor]) -> LoginPolicyState {
        LoginPolicyState {
            exists: true,
            settings: LoginPolicySettings {
                allow_username_password: password,
                passwordless_type: i32::from(passkey),
                force_mfa,
                ..LoginPolicySettings::default()
            },
            second_factors: second.to_vec(),
            multi_factors: if passkey {
                vec![MultiFactor::U2fWithVerification]
            } else {
                vec![]
            },
        }
    }

    #[test]
    fn classification_table() {
        use Category::*;
        use SecondFactor::{Otp, U2f};
        let open = policy(true, true, false, &[Otp, U2f]);
        // Given the policy before and after and the user's ready factors, then the category.
        let cases: Vec<(&str, LoginPolicyState, LoginPolicyState, u8, Category)> = vec![
            (
                "passwords off, no passkey",
                open.clone(),
                policy(false, true, false, &[Otp]),
                PW | TOTP,
                LockedOut,
            ),
            (
                "passwords off, passkey off",
                open.clone(),
                policy(false, false, false, &[]),
                PW | PK,
                LockedOut,
            ),
            ("no factor at all", open.clone(), open.clone(), 0, LockedOut),
            (
                "passwords off, passkey remains",
                open.clone(),
                policy(false, true, false, &[]),
                PW | PK,
                LosesAFactor,
            ),
            (
                "force MFA, nothing enrolled",
                open.clone(),
                policy(true, true, true, &[Otp]),
                PW,
                MustEnroll,
            ),
            (
                "force MFA, enrolled one removed",
                open.clone(),
                policy(true, true, true, &[U2f]),
                PW | TOTP,
                MustEnroll,
            ),
            (
                "force MFA, passkey counts",
                open.clone(),
                policy(true, true, true, &[]),
                PW | PK,
                Unaffected,
            ),
            (
                "second factor removed, none left",
                open.clone(),
                policy(true, true, false, &[U2f]),
                PW | TOTP,
                MfaDowngraded,
            ),
            (
                "already downgraded counts too",
                policy(true, true, false, &[]),
                policy(true, true, false, &[]),
                PW | TOTP,
                MfaDowngraded,
            ),
            (
                "one of two removed",
                open.clone(),
                policy(true, true, false, &[U2f]),
                PW | TOTP | U2F,
                LosesAFactor,
            ),
            (
                "force MFA with one left",
                open.clone(),
                policy(true, true, true, &[U2f]),
                PW | TOTP | U2F,
                LosesAFactor,
            ),
            (
                "unrelated factor removed",
                open.clone(),
                policy(true, true, false, &[Otp]),
                PW | TOTP,
                Unaffected,
            ),
            ("nothing changes", open.clone(), open.clone(), PW, Unaffected),
        ];
        for (name, before, after, mask, then) in cases {
            assert_eq!(classify(&before, &after, FactorMask(mask)), then, "{name}");
        }
    }

    #[test]
    fn locked_out_comes_before_must_enroll() {
        let after = policy(false, false, true, &[]);
        assert_eq!(
            classify(&after, &after, FactorMask(PW)),
            Category::LockedOut,
            "locked out and without MFA: locked out wins"
        );
    }

    fn user(id: &str, org: &str, mask: u8) -> UserSummary {
        UserSummary {
            user: UserRef {
                user_id: UserId::from(id),
                login_name: format!("{id}@x"),
                org_id: OrgId::from(org),
            },
            mask: FactorMask(mask),
        }
    }

    #[test]
    fn impact_counts_add_up_and_skip_unreached_orgs() {
        let before = policy(true, true, false, &[SecondFactor::Otp]);
        let after = policy(true, true, false, &[]);
        let mut users: Vec<UserSummary> = (0..25).map(|i| user(&format!("u{i}"), "a", PW | TOTP)).collect();
        users.push(user("plain", "a", PW));
        users.push(user("other", "custom", PW | TOTP));
        let got = impact(&users, |org| (org.as_str() == "a").then_some((&before, &after)));
        assert_eq!(got.total(), 26);
        let down = got.group(Category::MfaDowngraded);
        assert_eq!((down.count, down.examples.len()), (25, EXAMPLES));
        assert_eq!(got.group(Category::Unaffected).examples[0].user_id.as_str(), "plain");
    }

    #[test]
    fn guard_refuses_only_when_every_owner_is_locked_out_by_the_change() {
        let before = policy(true, false, false, &[]);
        let after = policy(false, false, false, &[]);
        let pw = FactorMask(PW);
        let pk = FactorMask(PW | PK);
        assert_eq!(
            check_owners(&[(&before, &after, pw), (&before, &after, pw)])
                .unwrap_err()
                .id,
            "POLICY-LockOut"
        );
        let after_pk = policy(false, true, false, &[]);
        assert!(check_owners(&[(&before, &after_pk, pw), (&before, &after_pk, pk)]).is_ok());
        assert!(check_owners(&[]).is_ok(), "no owner: nothing to protect");
        assert!(
            check_owners(&[(&before, &after, FactorMask(0))]).is_ok(),
            "owners who could not sign in before are not locked out by this change"
        );
    }

    #[test]
    fn after_change_uses_the_real_decision() {
        use crate::login_policy::decide_add_second_factor;
        let state = LoginPolicyState::default();
        let err = after_change(Scope::Org, &state, |s| {
            decide_add_second_factor(Scope::Org, s, SecondFactor::Otp)
        });
        assert_eq!(err.unwrap_err().id, "Org-4Rf9x");
        let after = after_change(Scope::Instance, &state, |s| {
            decide_add_second_factor(Scope::Instance, s, SecondFactor::Otp)
        })
        .unwrap();
        assert_eq!(after.second_factors, vec![SecondFactor::Otp]);
    }
}
