//! Whether a session token signs its user in: it must carry a first factor
//! (or a second factor), and a recent second factor when the user's
//! effective login policy forces MFA.

use crate::error::DomainError;
use crate::event::Timestamp;
use crate::login_policy::LoginPolicySettings;
use crate::readmodel::session::SessionView;

/// `policy` is the user's effective login policy, or None for enrolment
/// calls (a user forced into MFA must reach them to enrol a factor).
/// Lifetimes are nanoseconds, timestamps microseconds.
pub fn require_sign_in(
    s: &SessionView,
    policy: Option<&LoginPolicySettings>,
    now: Timestamp,
) -> Result<(), DomainError> {
    let first = s.password_checked_at.is_some() || s.webauthn_checked_at.is_some();
    if !first && s.second_factor_at().is_none() {
        return Err(DomainError::permission_denied("AUTHZ-Kl3p1", "authentication required"));
    }
    let Some(policy) = policy.filter(|p| p.force_mfa) else {
        return Ok(());
    };
    let within = |at, lifetime_ns| checked_within(at, lifetime_ns, now);
    let second = within(s.second_factor_at(), policy.second_factor_check_lifetime);
    // A user-verified security key (a passkey) is multi-factor on its own.
    let passkey = s.webauthn_user_verified && within(s.webauthn_checked_at, policy.multi_factor_check_lifetime);
    if second || passkey {
        Ok(())
    } else {
        Err(DomainError::permission_denied("AUTHZ-Kl3p0", "mfa required"))
    }
}

/// An OIDC access token from a sign-in used as a bearer token: under force
/// MFA its sign-in must have been multi-factor (`amr` holds `mfa`), the
/// rule [`require_sign_in`] applies to session tokens.
pub fn require_grant_mfa(amr: &[String], policy: Option<&LoginPolicySettings>) -> Result<(), DomainError> {
    if policy.is_some_and(|p| p.force_mfa) && !amr.iter().any(|a| a == "mfa") {
        return Err(DomainError::permission_denied("AUTHZ-Kl3p0", "mfa required"));
    }
    Ok(())
}

/// Whether a check made `at` still counts at `now` under a policy lifetime
/// (nanoseconds; the sign-in rules and the OIDC door share it).
pub fn checked_within(at: Option<Timestamp>, lifetime_ns: i64, now: Timestamp) -> bool {
    at.is_some_and(|t| now.0 - t.0 <= lifetime_ns / 1_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_under_force_mfa_need_a_multi_factor_sign_in() {
        let forced = LoginPolicySettings {
            force_mfa: true,
            ..LoginPolicySettings::instance_default()
        };
        let free = LoginPolicySettings::instance_default();
        let amr = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        // given amr, policy; then allowed
        let cases = [
            (amr(&["pwd"]), Some(&forced), false),
            (amr(&["pwd", "otp", "mfa"]), Some(&forced), true),
            (amr(&["pwd"]), Some(&free), true),
            (amr(&["pwd"]), None, true),
        ];
        for (amr, policy, want) in cases {
            let got = require_grant_mfa(&amr, policy);
            assert_eq!(got.is_ok(), want, "{amr:?}");
            if let Err(e) = got {
                assert_eq!(e.id, "AUTHZ-Kl3p0");
            }
        }
    }
}
