//! Repeated failures of one-time codes (TOTP, SMS, email, recovery codes)
//! throttle further checks, independently of the lockout policy.

use crate::error::{DomainError, ErrorKind};
use crate::event::Timestamp;
use crate::user::UserState;

const SECOND: i64 = 1_000_000;

/// Failed OTP checks (of any kind) tolerated before throttling starts.
pub const OTP_FAILURES_BEFORE_THROTTLE: u32 = 5;

/// Until when further OTP checks are refused: after 5 consecutive failures
/// a window of `base_secs` (30 s by default) follows the last failure,
/// doubling with every further failure up to one hour. None when checks
/// are allowed.
pub fn otp_throttled_until(state: &UserState, base_secs: i64) -> Option<Timestamp> {
    let over = state.otp_failures.checked_sub(OTP_FAILURES_BEFORE_THROTTLE)?;
    let window = (base_secs * SECOND)
        .saturating_mul(1i64 << over.min(12))
        .min(3_600 * SECOND);
    Some(Timestamp(state.last_otp_failure.0 + window))
}

pub fn throttle_error(until: Timestamp, now: Timestamp) -> DomainError {
    let secs = ((until.0 - now.0 + SECOND - 1) / SECOND).max(1);
    DomainError {
        retry_after_secs: Some(secs as u64),
        ..DomainError::new(
            ErrorKind::ResourceExhausted,
            super::THROTTLED,
            format!("Too many failed one-time password checks; retry after {secs}s"),
        )
    }
}

/// Refuses a check while the window runs; from its end on, checks are allowed.
pub fn require_not_throttled(state: &UserState, base_secs: i64, now: Timestamp) -> Result<(), DomainError> {
    match otp_throttled_until(state, base_secs).filter(|until| *until > now) {
        Some(until) => Err(throttle_error(until, now)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_window_doubles_up_to_an_hour() {
        let mut s = UserState {
            last_otp_failure: Timestamp(0),
            ..UserState::default()
        };
        s.otp_failures = 4;
        assert_eq!(otp_throttled_until(&s, 30), None);
        let at = |n: u32| {
            let mut s = s.clone();
            s.otp_failures = n;
            otp_throttled_until(&s, 30).unwrap().0 / SECOND
        };
        assert_eq!((at(5), at(6), at(7)), (30, 60, 120));
        assert_eq!(at(30), 3_600);
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        let e = throttle_error(Timestamp(2 * SECOND + 1), Timestamp(0));
        assert_eq!((e.kind, e.retry_after_secs), (ErrorKind::ResourceExhausted, Some(3)));
        assert_eq!(throttle_error(Timestamp(1), Timestamp(0)).retry_after_secs, Some(1));
    }
}
