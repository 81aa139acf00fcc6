//! The policy at the door: whether a session may finish an OIDC sign-in
//! (`CreateCallback`). Unlike ZITADEL, which links any session, the session
//! must satisfy the effective login policy of its user's org as it is at
//! the moment of the callback, and a user who has set up an allowed second
//! factor must have used one ("set up means required"). On success the
//! factors that counted become the `amr` claim.

use crate::error::DomainError;
use crate::event::Timestamp;
use crate::factors::{MultiFactor, SecondFactor};
use crate::readmodel::directory::{FactorsView, Readiness, UserState};
use crate::readmodel::login_policy::LoginPolicyView;
use crate::readmodel::session::SessionView;
use crate::session::access::checked_within;

/// Error id of every refusal at the door (FailedPrecondition).
pub const REFUSED: &str = "OIDC-D00r1";

/// An `amr` value (RFC 8176 names, as ZITADEL emits them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Amr {
    /// A password.
    Pwd,
    /// A one-time code (TOTP, SMS, email) or a recovery code.
    Otp,
    /// A security key or passkey (user presence).
    User,
    /// Two factors or more.
    Mfa,
}

impl Amr {
    pub fn as_str(self) -> &'static str {
        match self {
            Amr::Pwd => "pwd",
            Amr::Otp => "otp",
            Amr::User => "user",
            Amr::Mfa => "mfa",
        }
    }
}

/// What the door looks at. Lifetimes in the policy are nanoseconds,
/// timestamps microseconds.
pub struct Door<'a> {
    /// The session as its user's current password leaves it.
    pub session: &'a SessionView,
    pub user_state: UserState,
    /// The second factors the user has set up.
    pub enrolled: &'a FactorsView,
    /// The effective login policy of the user's org, now.
    pub policy: &'a LoginPolicyView,
    /// What the auth request's `max_age` (or `prompt=login`, max_age 0)
    /// asks for: a first factor checked at or after this time.
    pub authenticated_since: Option<Timestamp>,
    pub now: Timestamp,
}

/// The time from which a first factor satisfies `max_age` (nanoseconds)
/// of a request created at `requested_at`: a check made for this request
/// always does, so `max_age=0` means "sign in again now".
pub fn authenticated_since(max_age_ns: Option<i64>, requested_at: Timestamp, now: Timestamp) -> Option<Timestamp> {
    max_age_ns.map(|ns| Timestamp((now.0 - ns / 1_000).min(requested_at.0)))
}

fn refused(message: String) -> DomainError {
    DomainError::precondition(REFUSED, message)
}

/// A short human form of a lifetime in nanoseconds (e.g. "18h", "90s").
fn lifetime(ns: i64) -> String {
    let s = ns / 1_000_000_000;
    if s % 3600 == 0 && s > 0 {
        format!("{}h", s / 3600)
    } else if s % 60 == 0 && s > 0 {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

fn factor_name(f: SecondFactor) -> &'static str {
    match f {
        SecondFactor::Otp => "OTP",
        SecondFactor::U2f => "U2F",
        SecondFactor::OtpEmail => "OTP_EMAIL",
        SecondFactor::OtpSms => "OTP_SMS",
        SecondFactor::RecoveryCodes => "RECOVERY_CODES",
    }
}

/// The second factors of `enrolled` that are ready to be used.
pub fn enrolled_second_factors(enrolled: &FactorsView) -> Vec<SecondFactor> {
    let mut out = vec![];
    if enrolled.totp == Some(Readiness::Ready) {
        out.push(SecondFactor::Otp);
    }
    if enrolled.u2f.iter().any(|k| k.readiness == Readiness::Ready) {
        out.push(SecondFactor::U2f);
    }
    if enrolled.otp_email {
        out.push(SecondFactor::OtpEmail);
    }
    if enrolled.otp_sms {
        out.push(SecondFactor::OtpSms);
    }
    if enrolled.recovery_codes > 0 {
        out.push(SecondFactor::RecoveryCodes);
    }
    out
}

impl Door<'_> {
    fn within(&self, at: Option<Timestamp>, lifetime_ns: i64) -> bool {
        checked_within(at, lifetime_ns, self.now)
    }

    /// Second-factor checks of the session that the policy allows now and
    /// that are recent enough.
    fn second_factors_used(&self) -> Vec<SecondFactor> {
        let s = self.session;
        let lifetime = self.policy.settings.second_factor_check_lifetime;
        let u2f_at = s.webauthn_checked_at.filter(|_| !s.webauthn_user_verified);
        [
            (SecondFactor::Otp, s.totp_checked_at),
            (SecondFactor::U2f, u2f_at),
            (SecondFactor::OtpEmail, s.otp_email_checked_at),
            (SecondFactor::OtpSms, s.otp_sms_checked_at),
            (SecondFactor::RecoveryCodes, s.recovery_code_checked_at),
        ]
        .into_iter()
        .filter(|(f, at)| self.policy.second_factors.contains(f) && self.within(*at, lifetime))
        .map(|(f, _)| f)
        .collect()
    }

    /// A passkey (a security key with user verification) the policy allows
    /// for passwordless sign-in, used recently enough.
    fn passkey_used(&self) -> bool {
        let s = self.session;
        let p = self.policy;
        s.webauthn_user_verified
            && p.settings.passwordless_type == 1
            && p.multi_factors.contains(&MultiFactor::U2fWithVerification)
            && self.within(s.webauthn_checked_at, p.settings.multi_factor_check_lifetime)
    }

    fn password_used(&self) -> bool {
        let p = &self.policy.settings;
        p.allow_username_password && self.within(self.session.password_checked_at, p.password_check_lifetime)
    }
}

/// Whether the session may finish the sign-in; on success the `amr` values.
pub fn admit(d: &Door<'_>) -> Result<Vec<Amr>, DomainError> {
    let session_id = d.session.id.as_str();
    match d.user_state {
        UserState::Active => {}
        UserState::Locked => return Err(refused("the session's user is locked".to_owned())),
        UserState::Inactive => return Err(refused("the session's user is not active".to_owned())),
    }
    if d.session.expiration.is_some_and(|e| e <= d.now) {
        return Err(refused(format!("session {session_id} has expired")));
    }
    let passkey = d.passkey_used();
    let password = d.password_used();
    if !passkey && !password {
        let p = &d.policy.settings;
        return Err(refused(if p.allow_username_password {
            format!(
                "the login policy requires a password check within {}, which session {session_id} lacks",
                lifetime(p.password_check_lifetime)
            )
        } else {
            format!("the login policy requires a passkey check, which session {session_id} lacks")
        }));
    }
    if let Some(since) = d.authenticated_since {
        let s = d.session;
        let latest = [
            s.password_checked_at.filter(|_| password),
            s.webauthn_checked_at.filter(|_| passkey),
        ]
        .into_iter()
        .flatten()
        .max();
        if latest.is_none_or(|t| t < since) {
            return Err(refused(format!(
                "the auth request asks for a sign-in again (max_age or prompt=login): session {session_id} was not checked since"
            )));
        }
    }
    let second = d.second_factors_used();
    let allowed: Vec<SecondFactor> = d.policy.second_factors.clone();
    let set_up = enrolled_second_factors(d.enrolled)
        .into_iter()
        .any(|f| allowed.contains(&f));
    let required = d.policy.settings.force_mfa || set_up;
    if required && !passkey && second.is_empty() {
        let names: Vec<&str> = allowed.iter().map(|f| factor_name(*f)).collect();
        let why = if d.policy.settings.force_mfa {
            "the login policy forces MFA"
        } else {
            "the user has set up a second factor"
        };
        return Err(refused(if names.is_empty() {
            format!("{why}, but the login policy allows no second factor")
        } else {
            format!(
                "{why}: session {session_id} lacks a second factor check ({}) within {}",
                names.join(", "),
                lifetime(d.policy.settings.second_factor_check_lifetime)
            )
        }));
    }
    let mut amr = vec![];
    let mut factors = 0;
    if password {
        amr.push(Amr::Pwd);
        factors += 1;
    }
    if passkey {
        amr.push(Amr::User);
        factors += 2;
    } else if second.contains(&SecondFactor::U2f) {
        amr.push(Amr::User);
        factors += 1;
    }
    let otps = second.iter().filter(|f| **f != SecondFactor::U2f).count();
    if otps > 0 {
        amr.push(Amr::Otp);
        factors += otps;
    }
    if factors >= 2 {
        amr.push(Amr::Mfa);
    }
    Ok(amr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::login_policy::LoginPolicySettings;
    use crate::readmodel::DocDetails;
    use crate::readmodel::directory::U2fView;

    const HOUR_US: i64 = 3_600_000_000;
    const NOW: Timestamp = Timestamp(1_000 * HOUR_US);

    fn ago(hours: i64) -> Option<Timestamp> {
        Some(Timestamp(NOW.0 - hours * HOUR_US))
    }

    fn policy(force_mfa: bool, second: &[SecondFactor]) -> LoginPolicyView {
        LoginPolicyView {
            details: DocDetails::default(),
            settings: LoginPolicySettings {
                force_mfa,
                ..LoginPolicySettings::instance_default()
            },
            second_factors: second.to_vec(),
            multi_factors: vec![MultiFactor::U2fWithVerification],
            is_default: true,
        }
    }

    fn session(f: impl FnOnce(&mut SessionView)) -> SessionView {
        let mut s = SessionView {
            id: "s1".into(),
            ..SessionView::default()
        };
        f(&mut s);
        s
    }

    fn totp_enrolled() -> FactorsView {
        FactorsView {
            totp: Some(Readiness::Ready),
            ..FactorsView::default()
        }
    }

    use SecondFactor::{Otp, OtpSms, U2f};

    fn run(s: &SessionView, state: UserState, enrolled: &FactorsView, p: &LoginPolicyView) -> Result<Vec<Amr>, String> {
        admit(&Door {
            session: s,
            user_state: state,
            enrolled,
            policy: p,
            authenticated_since: None,
            now: NOW,
        })
        .map_err(|e| {
            assert_eq!(e.id, REFUSED);
            assert_eq!(e.kind, crate::ErrorKind::FailedPrecondition);
            e.message.into_owned()
        })
    }

    #[test]
    fn admitted_sessions_and_their_amr() {
        use Amr::{Mfa, Pwd, User};
        let none = FactorsView::default();
        let key = FactorsView {
            u2f: vec![U2fView {
                id: "k".into(),
                name: "k".into(),
                readiness: Readiness::Ready,
            }],
            ..FactorsView::default()
        };
        // given session, enrolled factors, policy; then amr
        let cases: Vec<(&str, SessionView, FactorsView, LoginPolicyView, Vec<Amr>)> = vec![
            (
                "password only, nothing set up",
                session(|s| s.password_checked_at = ago(1)),
                none.clone(),
                policy(false, &[Otp]),
                vec![Pwd],
            ),
            (
                "password + TOTP under force MFA",
                session(|s| {
                    s.password_checked_at = ago(1);
                    s.totp_checked_at = ago(1);
                }),
                totp_enrolled(),
                policy(true, &[Otp]),
                vec![Pwd, Amr::Otp, Mfa],
            ),
            (
                "TOTP set up and used without force MFA",
                session(|s| {
                    s.password_checked_at = ago(1);
                    s.totp_checked_at = ago(1);
                }),
                totp_enrolled(),
                policy(false, &[Otp]),
                vec![Pwd, Amr::Otp, Mfa],
            ),
            (
                "TOTP set up but no longer allowed: not required",
                session(|s| s.password_checked_at = ago(1)),
                totp_enrolled(),
                policy(false, &[U2f]),
                vec![Pwd],
            ),
            (
                "password + security key",
                session(|s| {
                    s.password_checked_at = ago(1);
                    s.webauthn_checked_at = ago(1);
                }),
                key,
                policy(true, &[U2f]),
                vec![Pwd, User, Mfa],
            ),
            (
                "passkey alone is multi-factor",
                session(|s| {
                    s.webauthn_checked_at = ago(1);
                    s.webauthn_user_verified = true;
                }),
                none.clone(),
                policy(true, &[Otp]),
                vec![User, Mfa],
            ),
            (
                "password + TOTP + SMS: one otp",
                session(|s| {
                    s.password_checked_at = ago(1);
                    s.totp_checked_at = ago(1);
                    s.otp_sms_checked_at = ago(1);
                }),
                totp_enrolled(),
                policy(true, &[Otp, OtpSms]),
                vec![Pwd, Amr::Otp, Mfa],
            ),
            (
                "an old disallowed check does not count",
                session(|s| {
                    s.password_checked_at = ago(1);
                    s.otp_sms_checked_at = ago(1);
                }),
                none,
                policy(false, &[Otp]),
                vec![Pwd],
            ),
        ];
        for (name, s, enrolled, p, want) in cases {
            assert_eq!(run(&s, UserState::Active, &enrolled, &p), Ok(want), "{name}");
        }
    }

    #[test]
    fn max_age_asks_for_a_recent_first_factor() {
        let p = policy(false, &[]);
        let none = FactorsView::default();
        let s = session(|s| s.password_checked_at = ago(2));
        // given max_age (h), requested (h ago); then admitted
        let cases = [
            (None, 1, true),
            (Some(3), 1, true),
            (Some(1), 1, false),
            (Some(0), 3, true),
            (Some(0), 1, false),
        ];
        for (max_age_h, requested_h, want) in cases {
            let since = authenticated_since(
                max_age_h.map(|h: i64| h * HOUR_US * 1_000),
                ago(requested_h).unwrap(),
                NOW,
            );
            let got = admit(&Door {
                session: &s,
                user_state: UserState::Active,
                enrolled: &none,
                policy: &p,
                authenticated_since: since,
                now: NOW,
            });
            assert_eq!(got.is_ok(), want, "{max_age_h:?} {requested_h}: {got:?}");
            if let Err(e) = got {
                assert!(e.message.contains("asks for a sign-in again"), "{}", e.message);
            }
        }
    }

    #[test]
    fn refusals_name_what_is_missing() {
        let none = FactorsView::default();
        let pw = |s: &mut SessionView| s.password_checked_at = ago(1);
        // given session, user state, enrolled, policy; then the message contains
        let cases: Vec<(&str, SessionView, UserState, FactorsView, LoginPolicyView, &str)> = vec![
            (
                "no factor at all",
                session(|_| {}),
                UserState::Active,
                none.clone(),
                policy(false, &[]),
                "requires a password check within 240h, which session s1 lacks",
            ),
            (
                "password too old",
                session(|s| s.password_checked_at = ago(241)),
                UserState::Active,
                none.clone(),
                policy(false, &[]),
                "requires a password check",
            ),
            (
                "force MFA, password only",
                session(pw),
                UserState::Active,
                none.clone(),
                policy(true, &[Otp]),
                "the login policy forces MFA: session s1 lacks a second factor check (OTP) within 18h",
            ),
            (
                "set up means required",
                session(pw),
                UserState::Active,
                totp_enrolled(),
                policy(false, &[Otp]),
                "the user has set up a second factor: session s1 lacks a second factor check (OTP)",
            ),
            (
                "TOTP used, then OTP removed from the policy",
                session(|s| {
                    s.password_checked_at = ago(1);
                    s.totp_checked_at = ago(1);
                }),
                UserState::Active,
                totp_enrolled(),
                policy(true, &[U2f]),
                "lacks a second factor check (U2F)",
            ),
            (
                "second factor too old",
                session(|s| {
                    s.password_checked_at = ago(1);
                    s.totp_checked_at = ago(19);
                }),
                UserState::Active,
                totp_enrolled(),
                policy(true, &[Otp]),
                "lacks a second factor check (OTP) within 18h",
            ),
            (
                "force MFA without any allowed factor",
                session(pw),
                UserState::Active,
                none.clone(),
                policy(true, &[]),
                "the login policy forces MFA, but the login policy allows no second factor",
            ),
            (
                "passkey not allowed for passwordless",
                session(|s| {
                    s.webauthn_checked_at = ago(1);
                    s.webauthn_user_verified = true;
                }),
                UserState::Active,
                none.clone(),
                LoginPolicyView {
                    multi_factors: vec![],
                    ..policy(false, &[])
                },
                "requires a password check",
            ),
            (
                "locked user",
                session(pw),
                UserState::Locked,
                none.clone(),
                policy(false, &[]),
                "the session's user is locked",
            ),
            (
                "inactive user",
                session(pw),
                UserState::Inactive,
                none.clone(),
                policy(false, &[]),
                "the session's user is not active",
            ),
            (
                "expired session",
                session(|s| {
                    s.password_checked_at = ago(1);
                    s.expiration = ago(0);
                }),
                UserState::Active,
                none,
                policy(false, &[]),
                "session s1 has expired",
            ),
        ];
        for (name, s, state, enrolled, p, want) in cases {
            let got = run(&s, state, &enrolled, &p).expect_err(name);
            assert!(got.contains(want), "{name}: {got}");
        }
    }
}
