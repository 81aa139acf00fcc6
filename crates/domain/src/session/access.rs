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

/// Whether a check made `at` still counts at `now` under a policy lifetime
/// (nanoseconds; the sign-in rules and the OIDC door share it).
pub fn checked_within(at: Option<Timestamp>, lifetime_ns: i64, now: Timestamp) -> bool {
    at.is_some_and(|t| now.0 - t.0 <= lifetime_ns / 1_000)
}
