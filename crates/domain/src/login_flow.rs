//! The hosted login's next step after the first factor: which second
//! factors to ask for, whether to set one up, or done. Which factors a
//! check accepts stays the session rules' (`session::require_allowed`);
//! this only decides what to offer.

use crate::event::Timestamp;
use crate::factors::SecondFactor;
use crate::readmodel::directory::{FactorsView, Readiness};
use crate::readmodel::login_policy::LoginPolicyView;
use crate::readmodel::session::SessionView;
use crate::session::access::checked_within;

/// Second factors in the order a chooser lists them.
const ORDER: [SecondFactor; 5] = [
    SecondFactor::Otp,
    SecondFactor::U2f,
    SecondFactor::OtpSms,
    SecondFactor::OtpEmail,
    SecondFactor::RecoveryCodes,
];

/// Second factors a user can set up in the hosted login, in the order
/// offered; codes by e-mail or SMS only to a verified address or number.
const SET_UP: [SecondFactor; 4] = [
    SecondFactor::Otp,
    SecondFactor::U2f,
    SecondFactor::OtpEmail,
    SecondFactor::OtpSms,
];

/// Which of the user's contacts are verified: where one-time codes may be
/// sent once set up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Contacts {
    pub email: bool,
    pub phone: bool,
}

impl Contacts {
    fn reach(self, f: SecondFactor) -> bool {
        match f {
            SecondFactor::OtpEmail => self.email,
            SecondFactor::OtpSms => self.phone,
            _ => true,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// Ask for one of these (never empty; one means no chooser).
    SecondFactor(Vec<SecondFactor>),
    /// Set up one of these (never empty); `skippable` when the policy only
    /// offers it (its `mfaInitSkipLifetime`), not when it forces MFA.
    SetUp {
        factors: Vec<SecondFactor>,
        skippable: bool,
    },
    /// Signed in.
    Done,
}

/// How recent a second-factor check must be to remove a factor on the
/// account page: five minutes (the page asks for the check first).
pub const RECENT_CHECK_NS: i64 = 5 * 60 * 1_000_000_000;

/// Whether `session` proved a second factor (a security key or passkey
/// included) within [`RECENT_CHECK_NS`] of `now`.
pub fn recently_checked(session: &SessionView, now: Timestamp) -> bool {
    checked_within(session.second_factor_at(), RECENT_CHECK_NS, now)
}

/// Whether the user has `f` ready for a check.
pub fn enrolled(factors: &FactorsView, f: SecondFactor) -> bool {
    match f {
        SecondFactor::Otp => factors.totp == Some(Readiness::Ready),
        // A registration not yet verified is no key yet.
        SecondFactor::U2f => factors.u2f.iter().any(|k| k.readiness == Readiness::Ready),
        SecondFactor::OtpSms => factors.otp_sms,
        SecondFactor::OtpEmail => factors.otp_email,
        SecondFactor::RecoveryCodes => factors.recovery_codes > 0,
    }
}

/// The factors of `factors` the policy allows now, in chooser order.
pub fn allowed_enrolled(policy: &LoginPolicyView, factors: &FactorsView) -> Vec<SecondFactor> {
    ORDER
        .into_iter()
        .filter(|f| policy.second_factors.contains(f) && enrolled(factors, *f))
        .collect()
}

/// The step after a first factor (password or passkey) was proved on
/// `session`: a user-verified security key is multi-factor on its own; a
/// recent second factor is enough; a user with allowed factors is asked
/// for one; one without is sent to set one up when the policy forces MFA,
/// or offered to when its skip lifetime is set and the last skip is older.
pub fn next_step(
    policy: &LoginPolicyView,
    factors: &FactorsView,
    session: &SessionView,
    mfa_init_skipped: Option<Timestamp>,
    now: Timestamp,
    contacts: Contacts,
) -> Next {
    let p = &policy.settings;
    let passkey = session.webauthn_user_verified
        && checked_within(session.webauthn_checked_at, p.multi_factor_check_lifetime, now);
    if passkey || checked_within(session.second_factor_at(), p.second_factor_check_lifetime, now) {
        return Next::Done;
    }
    let allowed = allowed_enrolled(policy, factors);
    if !allowed.is_empty() {
        return Next::SecondFactor(allowed);
    }
    let set_up: Vec<SecondFactor> = SET_UP
        .into_iter()
        .filter(|f| policy.second_factors.contains(f) && contacts.reach(*f))
        .collect();
    if set_up.is_empty() {
        return Next::Done;
    }
    if p.force_mfa {
        return Next::SetUp {
            factors: set_up,
            skippable: false,
        };
    }
    let offer = p.mfa_init_skip_lifetime > 0 && !checked_within(mfa_init_skipped, p.mfa_init_skip_lifetime, now);
    if offer {
        Next::SetUp {
            factors: set_up,
            skippable: true,
        }
    } else {
        Next::Done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_security_key_being_registered_is_not_enrolled() {
        // Given a security key whose registration is pending
        let mut f = FactorsView::default();
        f.u2f.push(crate::readmodel::directory::U2fView {
            id: "k".into(),
            name: String::new(),
            readiness: Readiness::NotReady,
        });
        // Then it is not a factor to ask for, until verified
        assert!(!enrolled(&f, SecondFactor::U2f));
        f.u2f[0].readiness = Readiness::Ready;
        assert!(enrolled(&f, SecondFactor::U2f));
    }

    #[test]
    fn a_check_is_recent_for_five_minutes() {
        // Given a session whose TOTP was checked at NOW
        let s = SessionView {
            password_checked_at: Some(Timestamp(0)),
            totp_checked_at: Some(NOW),
            ..SessionView::default()
        };
        // Then it is recent up to five minutes later, not after
        let minute = 60_000_000;
        assert!(recently_checked(&s, Timestamp(NOW.0 + 5 * minute)));
        assert!(!recently_checked(&s, Timestamp(NOW.0 + 5 * minute + 1)));
        // And a password alone never is
        let password = SessionView {
            password_checked_at: Some(NOW),
            ..SessionView::default()
        };
        assert!(!recently_checked(&password, NOW));
    }

    const HOUR_NS: i64 = 3_600_000_000_000;
    const NOW: Timestamp = Timestamp(10 * 3_600_000_000);

    fn policy(factors: &[SecondFactor], force_mfa: bool, skip_ns: i64) -> LoginPolicyView {
        let mut p = LoginPolicyView {
            details: Default::default(),
            settings: Default::default(),
            second_factors: factors.to_vec(),
            multi_factors: vec![],
            is_default: true,
        };
        p.settings.force_mfa = force_mfa;
        p.settings.mfa_init_skip_lifetime = skip_ns;
        p.settings.second_factor_check_lifetime = HOUR_NS;
        p.settings.multi_factor_check_lifetime = HOUR_NS;
        p
    }

    fn totp_and_codes() -> FactorsView {
        FactorsView {
            totp: Some(Readiness::Ready),
            recovery_codes: 3,
            ..FactorsView::default()
        }
    }

    fn password_only() -> SessionView {
        SessionView {
            password_checked_at: Some(NOW),
            ..SessionView::default()
        }
    }

    #[test]
    fn asks_for_the_allowed_enrolled_factors_only() {
        let all = [SecondFactor::Otp, SecondFactor::RecoveryCodes, SecondFactor::OtpSms];
        let next = next_step(
            &policy(&all, false, 0),
            &totp_and_codes(),
            &password_only(),
            None,
            NOW,
            Contacts::default(),
        );
        assert_eq!(
            next,
            Next::SecondFactor(vec![SecondFactor::Otp, SecondFactor::RecoveryCodes])
        );
        // TOTP removed from the policy: only recovery codes remain.
        let next = next_step(
            &policy(&[SecondFactor::RecoveryCodes], true, 0),
            &totp_and_codes(),
            &password_only(),
            None,
            NOW,
            Contacts::default(),
        );
        assert_eq!(next, Next::SecondFactor(vec![SecondFactor::RecoveryCodes]));
    }

    #[test]
    fn codes_by_email_or_sms_are_set_up_only_to_a_verified_contact() {
        // Given MFA forced with codes by e-mail and SMS, a user without factors
        let p = policy(&[SecondFactor::OtpEmail, SecondFactor::OtpSms], true, 0);
        let none = FactorsView::default();
        let step = |contacts| next_step(&p, &none, &password_only(), None, NOW, contacts);
        // When neither address nor number is verified, nothing can be set up
        assert_eq!(step(Contacts::default()), Next::Done);
        // When the e-mail address is verified, codes by e-mail are
        let email = Contacts {
            email: true,
            phone: false,
        };
        let by_email = Next::SetUp {
            factors: vec![SecondFactor::OtpEmail],
            skippable: false,
        };
        assert_eq!(step(email), by_email);
        // And with both verified, both, e-mail first
        let both = Contacts {
            email: true,
            phone: true,
        };
        let by_both = Next::SetUp {
            factors: vec![SecondFactor::OtpEmail, SecondFactor::OtpSms],
            skippable: false,
        };
        assert_eq!(step(both), by_both);
    }

    #[test]
    fn a_recent_second_factor_or_passkey_is_done() {
        let p = policy(&[SecondFactor::Otp], true, 0);
        let s = SessionView {
            totp_checked_at: Some(NOW),
            ..password_only()
        };
        assert_eq!(
            next_step(&p, &totp_and_codes(), &s, None, NOW, Contacts::default()),
            Next::Done
        );
        let old = SessionView {
            totp_checked_at: Some(Timestamp(0)),
            ..password_only()
        };
        assert_eq!(
            next_step(&p, &totp_and_codes(), &old, None, NOW, Contacts::default()),
            Next::SecondFactor(vec![SecondFactor::Otp])
        );
        let passkey = SessionView {
            webauthn_checked_at: Some(NOW),
            webauthn_user_verified: true,
            ..SessionView::default()
        };
        assert_eq!(
            next_step(&p, &FactorsView::default(), &passkey, None, NOW, Contacts::default()),
            Next::Done
        );
    }

    #[test]
    fn forced_mfa_without_a_factor_sets_one_up() {
        let p = policy(&[SecondFactor::Otp], true, 0);
        assert_eq!(
            next_step(
                &p,
                &FactorsView::default(),
                &password_only(),
                None,
                NOW,
                Contacts::default()
            ),
            Next::SetUp {
                factors: vec![SecondFactor::Otp],
                skippable: false
            }
        );
        // Nothing the login can set up: no step to offer.
        let p = policy(&[SecondFactor::OtpSms], true, 0);
        assert_eq!(
            next_step(
                &p,
                &FactorsView::default(),
                &password_only(),
                None,
                NOW,
                Contacts::default()
            ),
            Next::Done
        );
    }

    #[test]
    fn set_up_is_offered_until_skipped_within_the_lifetime() {
        let p = policy(&[SecondFactor::Otp], false, HOUR_NS);
        let offered = Next::SetUp {
            factors: vec![SecondFactor::Otp],
            skippable: true,
        };
        let none = FactorsView::default();
        assert_eq!(
            next_step(&p, &none, &password_only(), None, NOW, Contacts::default()),
            offered
        );
        assert_eq!(
            next_step(&p, &none, &password_only(), Some(NOW), NOW, Contacts::default()),
            Next::Done
        );
        assert_eq!(
            next_step(
                &p,
                &none,
                &password_only(),
                Some(Timestamp(0)),
                NOW,
                Contacts::default()
            ),
            offered
        );
        let never = policy(&[SecondFactor::Otp], false, 0);
        assert_eq!(
            next_step(&never, &none, &password_only(), None, NOW, Contacts::default()),
            Next::Done
        );
    }
}
