//! The checks of one CreateSession/SetSession request, decided against the
//! session and user as loaded and the evidence the app prepared. Checks run
//! in ZITADEL's order; the first refusal stops the request, and only that
//! check's own failure event (if it has one) is stored, with the user's
//! lock when the failure reaches the lockout policy's limit.
//!
//! Every error the decision returns, by id (`tests::SIGN_IN_ERROR_IDS`
//! lists them all and the tables cover each):
//! - session: `SESSION-IdClash` (new session ID taken);
//! - password: `COMMAND-Sfw3f` (no user), `SESSION-PwN0t` (not allowed by
//!   the policy), `COMMAND-JLK35` (locked), `COMMAND-3nJ4t` (no password),
//!   `COMMAND-3M0fs` (wrong; stored), `SESSION-PwRace` (password changed
//!   while it was compared);
//! - WebAuthn: `SESSION-Thr0t` (throttled), `WEBAU-ADgv4` (assertion
//!   refused; stored when the user is known);
//! - passkeys: `COMMAND-Df4b3` (no user), `SESSION-F4ct0` (not allowed),
//!   `SESSION-Thr0t` (throttled), `COMMAND-SF3fg` (locked), and stored as
//!   failures: `WEBAU-ADgv4`
//!   (refused), `COMMAND-Aej7i` (not the user's passkey), `WEBAU-3M9si`
//!   (no user verification), `SESSION-Cl0ne` (counter did not advance: a
//!   possible clone). Refused assertions count toward the OTP throttle and
//!   the lockout policy's OTP limit;
//! - shared by the one-time codes: `SESSION-F4ct0` (factor not allowed),
//!   `SESSION-Thr0t` (throttled), `COMMAND-SF3fg` (locked);
//! - TOTP: `COMMAND-8N9ds` (no user), `COMMAND-3Mif9s` (not ready),
//!   `CRYPTO-Open1` (secret unreadable), `SESSION-R3play` (step used;
//!   stored), `EVENT-8isk2` (wrong; stored);
//! - OTP SMS/email: `COMMAND-S453v` (no user), `COMMAND-d2r52` (not added),
//!   `COMMAND-S34gh` (no challenge), `CODE-QvUQ4P` (expired; stored),
//!   `CODE-woT0xc` (wrong; stored);
//! - recovery codes: `SESSION-Rc0u5` (no user), `SESSION-Rc0n0` (none
//!   left), `SESSION-Rc1nv` (wrong or used; stored).

use crate::error::DomainError;
use crate::event::{
    CheckedAt, EventPayload as E, RecoveryCodeUsed, SessionLifetimeSet, SessionTokenSet, SessionUserChecked, Timestamp,
    U2fSignCount, WebAuthnChecked,
};
use crate::factors::SecondFactor;
use crate::human::constant_time_eq;
use crate::lockout::LockoutSettings;
use crate::readmodel::login_policy::LoginPolicyView;
use crate::user::{TotpState, UserState};

use super::challenges::NewChallenges;
use super::{SessionState, SessionUser, decide_totp_check, require_allowed_if, throttle};
use crate::mfa::totp_not_ready;
use crate::passkey::{self, PasskeyEvidence};

/// A factor a check proves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Factor {
    Password,
    WebAuthn,
    Totp,
    OtpSms,
    OtpEmail,
    RecoveryCode,
}

/// A slow hash comparison made before the decision: the stored hash the
/// secret was compared with, and whether it matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HashComparison {
    pub hash: String,
    pub matched: bool,
}

/// A password check: the comparison with the user's hash as read before
/// (None when there was no hash to compare with).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswordEvidence {
    pub compared: Option<HashComparison>,
}

/// A WebAuthn assertion the relying party accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssertionVerified {
    pub token_id: String,
    /// The credential with its advanced signature counter (JSON).
    pub credential: String,
    pub user_verified: bool,
}

/// A TOTP code compared with the user's current secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TotpEvidence {
    /// The step in T-1..=T+1 whose code matched, if any.
    Step(Option<u64>),
    /// The sealed secret could not be opened with the master key.
    SecretUnreadable,
}

/// A recovery-code check: the stored hash the code matched, if any, among
/// the codes read before (a code used meanwhile is no longer among the
/// user's codes, and so does not count).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecoveryEvidence {
    pub matched_hash: Option<String>,
}

/// What the app prepared for the requested checks; `None` for a check the
/// request does not make.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Evidence {
    pub password: Option<PasswordEvidence>,
    /// The assertion, or why the relying party refused it.
    pub webauthn: Option<Result<AssertionVerified, String>>,
    pub totp: Option<TotpEvidence>,
    /// The keyed hash of the code given for OTP by SMS.
    pub otp_sms: Option<String>,
    /// The keyed hash of the code given for OTP by email.
    pub otp_email: Option<String>,
    pub recovery_code: Option<RecoveryEvidence>,
    /// A passkey assertion (a WebAuthn check against a passkey challenge).
    pub passkey: Option<PasskeyEvidence>,
}

/// One request's input besides the loaded session and user.
#[derive(Clone, Debug)]
pub struct CheckRequest<'a> {
    /// A new session (its ID must not be taken).
    pub is_new: bool,
    /// The user this request checks.
    pub checked_user: Option<&'a SessionUser>,
    /// The user's effective login policy (None without a user).
    pub policy: Option<&'a LoginPolicyView>,
    pub lockout: LockoutSettings,
    pub evidence: &'a Evidence,
    pub challenges: &'a NewChallenges,
    pub lifetime_ns: Option<i64>,
    /// First OTP throttling window, in seconds.
    pub otp_throttle_secs: i64,
    pub now: Timestamp,
    /// The hash of the token the session gets if anything changes.
    pub token_hash: &'a str,
}

/// What a request changes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckOutcome {
    pub session_events: Vec<E>,
    /// Events of the user's aggregate (only stored when the session has a user).
    pub user_events: Vec<E>,
    /// Whether the session gets the new token: any change rotates it, no
    /// change keeps the old one.
    pub token_rotated: bool,
    /// Factors this request proved, in check order.
    pub verified: Vec<Factor>,
    /// A refused check whose failure is recorded: returned once the
    /// events are stored.
    pub error: Option<DomainError>,
}

/// Why the checks stopped: an error with nothing stored, or a failure
/// whose user events are stored before the error is returned.
enum Refusal {
    Error(DomainError),
    Failed(Vec<E>, DomainError),
}

impl From<DomainError> for Refusal {
    fn from(e: DomainError) -> Self {
        Self::Error(e)
    }
}

/// Decides `req` on `session` and `user` (the session's user, None when
/// it has none yet).
pub fn decide_checks(
    session: &SessionState,
    user: Option<&UserState>,
    req: &CheckRequest,
) -> Result<CheckOutcome, DomainError> {
    if req.is_new && session.exists {
        return Err(DomainError::unavailable("SESSION-IdClash", "ID collision, try again"));
    }
    let mut out = CheckOutcome::default();
    if req.is_new {
        out.session_events.push(E::SessionAdded);
    }
    if let Some(u) = req.checked_user {
        out.session_events.push(E::SessionUserChecked(SessionUserChecked {
            user_id: u.user_id.clone(),
            org_id: u.org_id.clone(),
            checked_at: req.now,
        }));
    }
    match run_checks(session, user, req, &mut out) {
        Ok(()) => {}
        Err(Refusal::Error(e)) => return Err(e),
        Err(Refusal::Failed(user_events, error)) => {
            return Ok(CheckOutcome {
                user_events,
                error: Some(error),
                ..CheckOutcome::default()
            });
        }
    }
    let c = req.challenges;
    out.session_events
        .extend(c.otp_sms.clone().map(E::SessionOtpSmsChallenged));
    out.session_events
        .extend(c.otp_email.clone().map(E::SessionOtpEmailChallenged));
    out.session_events
        .extend(c.webauthn.clone().map(E::SessionWebAuthnChallenged));
    if let Some(lifetime) = req.lifetime_ns {
        out.session_events
            .push(E::SessionLifetimeSet(SessionLifetimeSet { lifetime }));
    }
    out.token_rotated = !out.session_events.is_empty();
    if out.token_rotated {
        out.session_events.push(E::SessionTokenSet(SessionTokenSet {
            token_hash: req.token_hash.to_owned(),
        }));
    }
    Ok(out)
}

fn needs_user(id: &'static str) -> DomainError {
    DomainError::invalid(id, "User ID missing")
}

/// A refused check's failure event, with the lock when the failure reaches
/// the lockout policy's limit.
fn failed(us: &UserState, lockout: LockoutSettings, event: E, error: DomainError) -> Refusal {
    let locks = match event {
        E::PasswordCheckFailed => LockoutSettings::locks(lockout.max_password_attempts, us.password_failures + 1),
        _ => LockoutSettings::locks(lockout.max_otp_attempts, us.otp_failures + 1),
    };
    let mut events = vec![event];
    if locks {
        events.push(E::UserLocked);
    }
    Refusal::Failed(events, error)
}

/// Records a proved factor on both aggregates.
fn verified(out: &mut CheckOutcome, factor: Factor, user_event: E, session_event: E) {
    out.user_events.push(user_event);
    out.session_events.push(session_event);
    out.verified.push(factor);
}

fn run_checks(
    session: &SessionState,
    user: Option<&UserState>,
    req: &CheckRequest,
    out: &mut CheckOutcome,
) -> Result<(), Refusal> {
    let ev = req.evidence;
    let at = CheckedAt { checked_at: req.now };
    if let Some(p) = &ev.password {
        let us = user.ok_or_else(|| needs_user("COMMAND-Sfw3f"))?;
        check_password(us, req, p)?;
        verified(
            out,
            Factor::Password,
            E::PasswordCheckSucceeded,
            E::SessionPasswordChecked(at.clone()),
        );
    }
    if let Some(result) = &ev.webauthn {
        if let Some(us) = user {
            throttle::require_not_throttled(us, req.otp_throttle_secs, req.now)?;
        }
        let a = result.as_ref().map_err(|why| {
            let error = DomainError::invalid(
                "WEBAU-ADgv4",
                format!("The security key's assertion was refused: {why}"),
            );
            match user {
                Some(us) => failed(us, req.lockout, E::U2fCheckFailed, error),
                None => Refusal::Error(error),
            }
        })?;
        // A security key that verified the user counts as a passkey (multi
        // factor) only where the policy allows passkeys.
        let user_verified = a.user_verified && req.policy.is_none_or(passkey::passkey_allowed);
        verified(
            out,
            Factor::WebAuthn,
            E::U2fSignCountChanged(U2fSignCount {
                token_id: a.token_id.clone(),
                credential: a.credential.clone(),
            }),
            E::SessionWebAuthnChecked(WebAuthnChecked {
                checked_at: req.now,
                user_verified,
            }),
        );
    }
    if let Some(p) = &ev.passkey {
        let us = user.ok_or_else(|| needs_user("COMMAND-Df4b3"))?;
        // Refused by the policy is no failed attempt; a refused assertion is.
        passkey::require_passkey_allowed(req.policy)?;
        throttle::require_not_throttled(us, req.otp_throttle_secs, req.now)?;
        // Locked by failed attempts: a passkey is no way around the lockout.
        if us.locked {
            return Err(DomainError::precondition("COMMAND-SF3fg", "Errors.User.Locked").into());
        }
        let counted =
            passkey::decide_check(us, req.policy, p).map_err(|e| failed(us, req.lockout, E::PasskeyCheckFailed, e))?;
        verified(
            out,
            Factor::WebAuthn,
            counted,
            E::SessionWebAuthnChecked(WebAuthnChecked {
                checked_at: req.now,
                user_verified: true,
            }),
        );
    }
    if let Some(totp) = &ev.totp {
        let us = user.ok_or_else(|| needs_user("COMMAND-8N9ds"))?;
        let e = check_totp(us, req, totp)?;
        verified(out, Factor::Totp, e, E::SessionTotpChecked(at.clone()));
    }
    if let Some(given) = &ev.otp_sms {
        let us = user.ok_or_else(|| needs_user("COMMAND-S453v"))?;
        check_otp(
            us,
            req,
            given,
            us.otp_sms,
            session.sms_challenge.as_ref(),
            SecondFactor::OtpSms,
        )?;
        verified(
            out,
            Factor::OtpSms,
            E::OtpSmsCheckSucceeded,
            E::SessionOtpSmsChecked(at.clone()),
        );
    }
    if let Some(given) = &ev.otp_email {
        let us = user.ok_or_else(|| needs_user("COMMAND-S453v"))?;
        let challenge = session.email_challenge.as_ref();
        check_otp(us, req, given, us.otp_email, challenge, SecondFactor::OtpEmail)?;
        verified(
            out,
            Factor::OtpEmail,
            E::OtpEmailCheckSucceeded,
            E::SessionOtpEmailChecked(at.clone()),
        );
    }
    if let Some(r) = &ev.recovery_code {
        let us = user.ok_or_else(|| needs_user("SESSION-Rc0u5"))?;
        let index = check_recovery_code(us, req, r)?;
        verified(
            out,
            Factor::RecoveryCode,
            E::RecoveryCodeCheckSucceeded(RecoveryCodeUsed { index }),
            E::SessionRecoveryCodeChecked(at),
        );
    }
    Ok(())
}

fn check_password(us: &UserState, req: &CheckRequest, p: &PasswordEvidence) -> Result<(), Refusal> {
    if !req.policy.is_some_and(|p| p.settings.allow_username_password) {
        return Err(DomainError::precondition(
            super::PASSWORD_NOT_ALLOWED,
            "Password sign-in is not allowed by the login policy",
        )
        .into());
    }
    if us.locked {
        return Err(DomainError::precondition("COMMAND-JLK35", "Errors.User.Locked").into());
    }
    let Some(hash) = &us.password_hash else {
        return Err(DomainError::precondition("COMMAND-3nJ4t", "User has not set a password").into());
    };
    match &p.compared {
        Some(c) if c.hash == *hash && c.matched => Ok(()),
        Some(c) if c.hash == *hash => Err(failed(
            us,
            req.lockout,
            E::PasswordCheckFailed,
            DomainError::invalid("COMMAND-3M0fs", "Password is invalid"),
        )),
        // The password changed while it was being compared.
        _ => Err(DomainError::unavailable("SESSION-PwRace", "The password changed; try again").into()),
    }
}

/// What every one-time code check needs first: the factor allowed, no
/// throttle window running, the user not locked.
fn otp_precheck(us: &UserState, req: &CheckRequest, factor: SecondFactor) -> Result<(), DomainError> {
    require_allowed_if(req.policy, factor)?;
    throttle::require_not_throttled(us, req.otp_throttle_secs, req.now)?;
    if us.locked {
        return Err(DomainError::precondition("COMMAND-SF3fg", "Errors.User.Locked"));
    }
    Ok(())
}

fn check_totp(us: &UserState, req: &CheckRequest, totp: &TotpEvidence) -> Result<E, Refusal> {
    if !matches!(us.totp, TotpState::Ready { .. }) {
        return Err(totp_not_ready().into());
    }
    otp_precheck(us, req, SecondFactor::Otp)?;
    let TotpEvidence::Step(matched) = totp else {
        return Err(DomainError::internal("CRYPTO-Open1", "An internal error occurred").into());
    };
    decide_totp_check(us, *matched).map_err(|error| failed(us, req.lockout, E::TotpCheckFailed, error))
}

fn check_otp(
    us: &UserState,
    req: &CheckRequest,
    given_hash: &str,
    added: bool,
    challenge: Option<&crate::event::CodeAdded>,
    factor: SecondFactor,
) -> Result<(), Refusal> {
    if !added {
        return Err(DomainError::precondition("COMMAND-d2r52", "Multifactor OTP (OneTimePassword) isn't ready").into());
    }
    let Some(challenge) = challenge else {
        return Err(DomainError::precondition("COMMAND-S34gh", "Code not found").into());
    };
    otp_precheck(us, req, factor)?;
    let failure = if factor == SecondFactor::OtpSms {
        E::OtpSmsCheckFailed
    } else {
        E::OtpEmailCheckFailed
    };
    if req.now > challenge.expiry {
        let error = DomainError::precondition("CODE-QvUQ4P", "Code is expired");
        return Err(failed(us, req.lockout, failure, error));
    }
    if !constant_time_eq(given_hash.as_bytes(), challenge.code_hash.as_bytes()) {
        let error = DomainError::invalid("CODE-woT0xc", "Code is invalid");
        return Err(failed(us, req.lockout, failure, error));
    }
    Ok(())
}

/// The index of the matched code among the user's current codes.
fn check_recovery_code(us: &UserState, req: &CheckRequest, r: &RecoveryEvidence) -> Result<usize, Refusal> {
    if us.recovery_code_hashes.is_empty() {
        return Err(DomainError::precondition("SESSION-Rc0n0", "The user has no recovery codes").into());
    }
    otp_precheck(us, req, SecondFactor::RecoveryCodes)?;
    r.matched_hash
        .as_ref()
        .and_then(|h| us.recovery_code_hashes.iter().position(|x| x == h))
        .ok_or_else(|| {
            let error = DomainError::invalid("SESSION-Rc1nv", "Invalid recovery code");
            failed(us, req.lockout, E::RecoveryCodeCheckFailed, error)
        })
}
