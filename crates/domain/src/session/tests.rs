//! Given/when/then tables of the sign-in rules. Each table returns the error
//! ids it saw, so one test can check that every id the sign-in can return
//! ([`SIGN_IN_ERROR_IDS`]) is covered.
//!
//! Errors of the sign-in that are not decided here (the app returns them
//! while loading or preparing): `QUERY-Dfbg2` (user not found),
//! `QUERY-SFeaa` (session not found or not visible), `WEBAU-Int02` and
//! `WEBAU-Int03` (the relying party failed to start a challenge), the
//! store's `STORE-*` and the password hashing queue's errors.

use std::collections::BTreeSet;

use crate::error::{DomainError, ErrorKind};
use crate::event::{
    CheckedAt, CodeAdded, EventPayload as E, RecoveryCodeUsed, SessionLifetimeSet, SessionTokenSet, SessionUserChecked,
    Timestamp, TotpVerified, U2fSignCount, WebAuthnChallenged, WebAuthnChecked,
};
use crate::factors::SecondFactor;
use crate::lockout::LockoutSettings;
use crate::login_policy::LoginPolicySettings;
use crate::passkey::PasskeyEvidence;
use crate::readmodel::DocDetails;
use crate::readmodel::directory::{UserKind, UserState as UserDocState, UserView};
use crate::readmodel::login_policy::LoginPolicyView;
use crate::readmodel::session::SessionView;
use crate::user::{TotpState, UserState};

use super::access::require_sign_in;
use super::challenges::{
    ChallengeRequest, NewChallenges, OTP_CODE_LIFETIME_MICROS, otp_challenge, require_challenges,
    require_webauthn_check,
};
use super::checks::{
    AssertionVerified, CheckOutcome, CheckRequest, Evidence, Factor, HashComparison, PasswordEvidence,
    RecoveryEvidence, TotpEvidence, decide_checks,
};
use super::{SessionState, SessionUser, decide_terminate, require_active_user, require_not_deactivated};

/// Every error id the sign-in decisions return (checks, challenges, the
/// session's own rules, and force-MFA on session tokens). The empty id is
/// ZITADEL's "user change not possible" error, which carries none.
const SIGN_IN_ERROR_IDS: &[&str] = &[
    // checks
    "SESSION-IdClash",
    "COMMAND-Sfw3f",
    "SESSION-PwN0t",
    "COMMAND-JLK35",
    "COMMAND-3nJ4t",
    "COMMAND-3M0fs",
    "SESSION-PwRace",
    "WEBAU-ADgv4",
    "SESSION-Cl0ne",
    "SESSION-F4ct0",
    "SESSION-Thr0t",
    "COMMAND-SF3fg",
    "COMMAND-8N9ds",
    "COMMAND-3Mif9s",
    "CRYPTO-Open1",
    "SESSION-R3play",
    "EVENT-8isk2",
    "COMMAND-S453v",
    "COMMAND-d2r52",
    "COMMAND-S34gh",
    "CODE-QvUQ4P",
    "CODE-woT0xc",
    "SESSION-Rc0u5",
    "SESSION-Rc0n0",
    "SESSION-Rc1nv",
    // challenges
    "COMMAND-Df4b3",
    "COMMAND-Ioqu5",
    "COMMAND-JKL3g",
    "COMMAND-BJ2g3",
    "COMMAND-JK3gp",
    "COMMAND-JKLJ3",
    "WEBAU-4G8sw",
    // the session
    "COMMAND-Hewfq",
    "COMMAND-Hkl3d",
    "COMMAND-sGr42",
    "",
    "SESSION-Gj4ko",
    // session tokens
    "AUTHZ-Kl3p1",
    "AUTHZ-Kl3p0",
];

const SECOND: i64 = 1_000_000;
const NOW: Timestamp = Timestamp(1_700_000_000 * SECOND);
const HOUR_NS: i64 = 3_600 * 1_000_000_000;

fn ago(secs: i64) -> Timestamp {
    Timestamp(NOW.0 - secs * SECOND)
}

fn policy(factors: &[SecondFactor]) -> LoginPolicyView {
    LoginPolicyView {
        details: DocDetails {
            resource_owner: "org1".into(),
            ..DocDetails::default()
        },
        settings: LoginPolicySettings::instance_default(),
        second_factors: factors.to_vec(),
        multi_factors: vec![],
        is_default: false,
    }
}

const ALL_FACTORS: &[SecondFactor] = &[
    SecondFactor::Otp,
    SecondFactor::U2f,
    SecondFactor::OtpEmail,
    SecondFactor::OtpSms,
    SecondFactor::RecoveryCodes,
];

/// Everything a check request is decided on.
struct World {
    session: SessionState,
    user: Option<UserState>,
    policy: Option<LoginPolicyView>,
    lockout: LockoutSettings,
    is_new: bool,
    checked_user: Option<SessionUser>,
    evidence: Evidence,
    challenges: NewChallenges,
    lifetime_ns: Option<i64>,
}

/// An existing session of user u1 with pending SMS, email and WebAuthn
/// challenges; the user has a password, TOTP (step 100 used), OTP by SMS
/// and email, and two recovery codes; the policy allows everything.
fn world() -> World {
    let code = |hash: &str| CodeAdded {
        code_hash: hash.into(),
        expiry: Timestamp(NOW.0 + 60 * SECOND),
    };
    World {
        session: SessionState {
            exists: true,
            user: Some(u1()),
            sms_challenge: Some(code("sms-hash")),
            email_challenge: Some(code("email-hash")),
            webauthn_challenge: Some(webauthn_challenge()),
            ..SessionState::default()
        },
        user: Some(UserState {
            exists: true,
            human: true,
            org_id: "org1".into(),
            password_hash: Some("pw-hash".into()),
            totp: TotpState::Ready {
                sealed_secret: "sealed".into(),
                last_step: 100,
            },
            otp_sms: true,
            otp_email: true,
            recovery_code_hashes: vec!["rc0".into(), "rc1".into()],
            ..UserState::default()
        }),
        policy: Some(policy(ALL_FACTORS)),
        lockout: LockoutSettings::default(),
        is_new: false,
        checked_user: None,
        evidence: Evidence::default(),
        challenges: NewChallenges::default(),
        lifetime_ns: None,
    }
}

/// User u1 of org1.
fn u1() -> SessionUser {
    SessionUser {
        user_id: "u1".into(),
        org_id: "org1".into(),
    }
}

fn webauthn_challenge() -> WebAuthnChallenged {
    WebAuthnChallenged {
        state: "{}".into(),
        rp_id: "example.com".into(),
        user_verification: String::new(),
        discoverable: false,
    }
}

impl World {
    fn decide(&self) -> Result<CheckOutcome, DomainError> {
        decide_checks(
            &self.session,
            self.user.as_ref(),
            &CheckRequest {
                is_new: self.is_new,
                checked_user: self.checked_user.as_ref(),
                policy: self.policy.as_ref(),
                lockout: self.lockout,
                evidence: &self.evidence,
                challenges: &self.challenges,
                lifetime_ns: self.lifetime_ns,
                otp_throttle_secs: 30,
                now: NOW,
                token_hash: "new-token-hash",
            },
        )
    }
    fn user(&mut self) -> &mut UserState {
        self.user.get_or_insert_with(UserState::default)
    }
    fn throttled(&mut self, failures: u32, last_failure_secs_ago: i64) {
        let u = self.user();
        u.otp_failures = failures;
        u.last_otp_failure = ago(last_failure_secs_ago);
    }
}

fn allow_passkeys(w: &mut World) {
    if let Some(p) = &mut w.policy {
        p.multi_factors = vec![crate::factors::MultiFactor::U2fWithVerification];
        p.settings.passwordless_type = crate::passkey::PASSWORDLESS_ALLOWED;
    }
}

fn password(hash: &str, matched: bool) -> Option<PasswordEvidence> {
    Some(PasswordEvidence {
        compared: Some(HashComparison {
            hash: hash.into(),
            matched,
        }),
    })
}

fn at() -> CheckedAt {
    CheckedAt { checked_at: NOW }
}

/// Then: stored (session events before the token, user events), refused
/// with nothing stored, or refused after storing the user events.
enum Then {
    Stored(Vec<E>, Vec<E>),
    Refused(&'static str),
    Failed(Vec<E>, &'static str),
}
use Then::*;

type Case = (&'static str, fn(&mut World), Then);

fn check_cases() -> Vec<Case> {
    vec![
        // The session itself.
        ("nothing to do keeps the token", |_| {}, Stored(vec![], vec![])),
        (
            "a new session checks its user",
            |w| {
                w.session = SessionState::default();
                w.is_new = true;
                w.checked_user = Some(u1());
            },
            Stored(
                vec![
                    E::SessionAdded,
                    E::SessionUserChecked(SessionUserChecked {
                        user_id: "u1".into(),
                        org_id: "org1".into(),
                        checked_at: NOW,
                    }),
                ],
                vec![],
            ),
        ),
        (
            "a new session's ID must be free",
            |w| w.is_new = true,
            Refused("SESSION-IdClash"),
        ),
        (
            "a lifetime is a change",
            |w| w.lifetime_ns = Some(60 * HOUR_NS),
            Stored(
                vec![E::SessionLifetimeSet(SessionLifetimeSet { lifetime: 60 * HOUR_NS })],
                vec![],
            ),
        ),
        (
            "new challenges are stored",
            |w| {
                w.challenges = NewChallenges {
                    otp_sms: Some(otp_challenge("s".into(), NOW)),
                    otp_email: Some(otp_challenge("e".into(), NOW)),
                    webauthn: Some(webauthn_challenge()),
                }
            },
            Stored(
                vec![
                    E::SessionOtpSmsChallenged(otp_challenge("s".into(), NOW)),
                    E::SessionOtpEmailChallenged(otp_challenge("e".into(), NOW)),
                    E::SessionWebAuthnChallenged(webauthn_challenge()),
                ],
                vec![],
            ),
        ),
        // Password.
        (
            "right password",
            |w| w.evidence.password = password("pw-hash", true),
            Stored(vec![E::SessionPasswordChecked(at())], vec![E::PasswordCheckSucceeded]),
        ),
        (
            "password without a user",
            |w| {
                w.user = None;
                w.policy = None;
                w.evidence.password = password("pw-hash", true);
            },
            Refused("COMMAND-Sfw3f"),
        ),
        (
            "password not allowed by the policy",
            |w| {
                w.policy.as_mut().unwrap().settings.allow_username_password = false;
                w.evidence.password = password("pw-hash", true);
            },
            Refused("SESSION-PwN0t"),
        ),
        (
            "password of a locked user",
            |w| {
                w.user().locked = true;
                w.evidence.password = password("pw-hash", true);
            },
            Refused("COMMAND-JLK35"),
        ),
        (
            "user without a password",
            |w| {
                w.user().password_hash = None;
                w.evidence.password = Some(PasswordEvidence { compared: None });
            },
            Refused("COMMAND-3nJ4t"),
        ),
        (
            "wrong password",
            |w| w.evidence.password = password("pw-hash", false),
            Failed(vec![E::PasswordCheckFailed], "COMMAND-3M0fs"),
        ),
        (
            "wrong password below the lockout limit",
            |w| {
                w.lockout.max_password_attempts = 3;
                w.user().password_failures = 1;
                w.evidence.password = password("pw-hash", false);
            },
            Failed(vec![E::PasswordCheckFailed], "COMMAND-3M0fs"),
        ),
        (
            "wrong password reaching the lockout limit locks in the same append",
            |w| {
                w.lockout.max_password_attempts = 3;
                w.user().password_failures = 2;
                w.evidence.password = password("pw-hash", false);
            },
            Failed(vec![E::PasswordCheckFailed, E::UserLocked], "COMMAND-3M0fs"),
        ),
        (
            "OTP failures do not count for the password limit",
            |w| {
                w.lockout.max_password_attempts = 3;
                w.user().otp_failures = 4;
                w.evidence.password = password("pw-hash", false);
            },
            Failed(vec![E::PasswordCheckFailed], "COMMAND-3M0fs"),
        ),
        (
            "password changed while it was compared",
            |w| w.evidence.password = password("old-hash", true),
            Refused("SESSION-PwRace"),
        ),
        (
            "password set while it was compared",
            |w| w.evidence.password = Some(PasswordEvidence { compared: None }),
            Refused("SESSION-PwRace"),
        ),
        // WebAuthn.
        (
            "accepted assertion",
            |w| {
                if let Some(p) = &mut w.policy {
                    p.multi_factors = vec![crate::factors::MultiFactor::U2fWithVerification];
                }
                w.evidence.webauthn = Some(Ok(AssertionVerified {
                    token_id: "k1".into(),
                    credential: "cred".into(),
                    user_verified: true,
                }))
            },
            Stored(
                vec![E::SessionWebAuthnChecked(WebAuthnChecked {
                    checked_at: NOW,
                    user_verified: true,
                })],
                vec![E::U2fSignCountChanged(U2fSignCount {
                    token_id: "k1".into(),
                    credential: "cred".into(),
                })],
            ),
        ),
        (
            "a user-verified security key is no passkey where the policy has no passkeys",
            |w| {
                w.evidence.webauthn = Some(Ok(AssertionVerified {
                    token_id: "k1".into(),
                    credential: "cred".into(),
                    user_verified: true,
                }))
            },
            Stored(
                vec![E::SessionWebAuthnChecked(WebAuthnChecked {
                    checked_at: NOW,
                    user_verified: false,
                })],
                vec![E::U2fSignCountChanged(U2fSignCount {
                    token_id: "k1".into(),
                    credential: "cred".into(),
                })],
            ),
        ),
        (
            "refused assertion",
            |w| w.evidence.webauthn = Some(Err("bad signature".into())),
            Failed(vec![E::U2fCheckFailed], "WEBAU-ADgv4"),
        ),
        (
            "refused assertion reaching the OTP lockout limit",
            |w| {
                w.lockout.max_otp_attempts = 3;
                w.user().otp_failures = 2;
                w.evidence.webauthn = Some(Err("bad signature".into()));
            },
            Failed(vec![E::U2fCheckFailed, E::UserLocked], "WEBAU-ADgv4"),
        ),
        (
            "refused assertion of no known user",
            |w| {
                w.user = None;
                w.evidence.webauthn = Some(Err("bad signature".into()));
            },
            Refused("WEBAU-ADgv4"),
        ),
        (
            "security key within the throttle window",
            |w| {
                w.throttled(5, 1);
                w.evidence.webauthn = Some(Err("bad signature".into()));
            },
            Refused("SESSION-Thr0t"),
        ),
        (
            "refused passkey assertion",
            |w| {
                allow_passkeys(w);
                w.evidence.passkey = Some(PasskeyEvidence::Refused("bad signature".into()));
            },
            Failed(vec![E::PasskeyCheckFailed], "WEBAU-ADgv4"),
        ),
        (
            "a cloned passkey is a failed attempt",
            |w| {
                allow_passkeys(w);
                w.evidence.passkey = Some(PasskeyEvidence::CounterRegressed);
            },
            Failed(vec![E::PasskeyCheckFailed], "SESSION-Cl0ne"),
        ),
        (
            "passkey within the throttle window",
            |w| {
                allow_passkeys(w);
                w.throttled(5, 1);
                w.evidence.passkey = Some(PasskeyEvidence::Refused("bad signature".into()));
            },
            Refused("SESSION-Thr0t"),
        ),
        (
            "passkey of a locked user",
            |w| {
                allow_passkeys(w);
                w.user().locked = true;
                w.evidence.passkey = Some(PasskeyEvidence::Refused("bad signature".into()));
            },
            Refused("COMMAND-SF3fg"),
        ),
        (
            "passkey refused by the policy is no failed attempt",
            |w| w.evidence.passkey = Some(PasskeyEvidence::Refused("bad signature".into())),
            Refused("SESSION-F4ct0"),
        ),
        // TOTP.
        (
            "TOTP code of a new step",
            |w| w.evidence.totp = Some(TotpEvidence::Step(Some(101))),
            Stored(
                vec![E::SessionTotpChecked(at())],
                vec![E::TotpCheckSucceeded(TotpVerified { step: 101 })],
            ),
        ),
        (
            "TOTP without a user",
            |w| {
                w.user = None;
                w.evidence.totp = Some(TotpEvidence::Step(Some(101)));
            },
            Refused("COMMAND-8N9ds"),
        ),
        (
            "TOTP not verified yet",
            |w| {
                w.user().totp = TotpState::NotReady {
                    sealed_secret: "s".into(),
                };
                w.evidence.totp = Some(TotpEvidence::Step(Some(101)));
            },
            Refused("COMMAND-3Mif9s"),
        ),
        (
            "TOTP not added",
            |w| {
                w.user().totp = TotpState::None;
                w.evidence.totp = Some(TotpEvidence::Step(Some(101)));
            },
            Refused("COMMAND-3Mif9s"),
        ),
        (
            "TOTP not allowed by the policy",
            |w| {
                w.policy = Some(policy(&[SecondFactor::U2f]));
                w.evidence.totp = Some(TotpEvidence::Step(Some(101)));
            },
            Refused("SESSION-F4ct0"),
        ),
        (
            "the policy is checked before the throttle",
            |w| {
                w.policy = Some(policy(&[]));
                w.throttled(5, 1);
                w.evidence.totp = Some(TotpEvidence::Step(Some(101)));
            },
            Refused("SESSION-F4ct0"),
        ),
        (
            "TOTP inside the throttle window",
            |w| {
                w.throttled(5, 29);
                w.evidence.totp = Some(TotpEvidence::Step(Some(101)));
            },
            Refused("SESSION-Thr0t"),
        ),
        (
            "the throttle is checked before the lock",
            |w| {
                w.throttled(6, 59);
                w.user().locked = true;
                w.evidence.totp = Some(TotpEvidence::Step(Some(101)));
            },
            Refused("SESSION-Thr0t"),
        ),
        (
            "TOTP at the end of the throttle window",
            |w| {
                w.throttled(5, 30);
                w.evidence.totp = Some(TotpEvidence::Step(Some(101)));
            },
            Stored(
                vec![E::SessionTotpChecked(at())],
                vec![E::TotpCheckSucceeded(TotpVerified { step: 101 })],
            ),
        ),
        (
            "TOTP after the throttle window",
            |w| {
                w.throttled(5, 31);
                w.evidence.totp = Some(TotpEvidence::Step(Some(101)));
            },
            Stored(
                vec![E::SessionTotpChecked(at())],
                vec![E::TotpCheckSucceeded(TotpVerified { step: 101 })],
            ),
        ),
        (
            "four failures do not throttle",
            |w| {
                w.throttled(4, 0);
                w.evidence.totp = Some(TotpEvidence::Step(Some(101)));
            },
            Stored(
                vec![E::SessionTotpChecked(at())],
                vec![E::TotpCheckSucceeded(TotpVerified { step: 101 })],
            ),
        ),
        (
            "TOTP of a locked user",
            |w| {
                w.user().locked = true;
                w.evidence.totp = Some(TotpEvidence::Step(Some(101)));
            },
            Refused("COMMAND-SF3fg"),
        ),
        (
            "TOTP secret unreadable",
            |w| w.evidence.totp = Some(TotpEvidence::SecretUnreadable),
            Refused("CRYPTO-Open1"),
        ),
        (
            "TOTP step already used",
            |w| w.evidence.totp = Some(TotpEvidence::Step(Some(100))),
            Failed(vec![E::TotpCheckFailed], "SESSION-R3play"),
        ),
        (
            "TOTP step older than the last used",
            |w| w.evidence.totp = Some(TotpEvidence::Step(Some(99))),
            Failed(vec![E::TotpCheckFailed], "SESSION-R3play"),
        ),
        (
            "wrong TOTP code",
            |w| w.evidence.totp = Some(TotpEvidence::Step(None)),
            Failed(vec![E::TotpCheckFailed], "EVENT-8isk2"),
        ),
        (
            "wrong TOTP code reaching the OTP lockout limit",
            |w| {
                w.lockout.max_otp_attempts = 2;
                w.user().otp_failures = 1;
                w.evidence.totp = Some(TotpEvidence::Step(None));
            },
            Failed(vec![E::TotpCheckFailed, E::UserLocked], "EVENT-8isk2"),
        ),
        (
            "a refused check stores only its own failure",
            |w| {
                w.evidence.password = password("pw-hash", true);
                w.evidence.totp = Some(TotpEvidence::Step(None));
                w.lifetime_ns = Some(HOUR_NS);
            },
            Failed(vec![E::TotpCheckFailed], "EVENT-8isk2"),
        ),
        // OTP by SMS and email.
        (
            "right SMS code",
            |w| w.evidence.otp_sms = Some("sms-hash".into()),
            Stored(vec![E::SessionOtpSmsChecked(at())], vec![E::OtpSmsCheckSucceeded]),
        ),
        (
            "right email code at its expiry",
            |w| {
                w.session.email_challenge.as_mut().unwrap().expiry = NOW;
                w.evidence.otp_email = Some("email-hash".into());
            },
            Stored(vec![E::SessionOtpEmailChecked(at())], vec![E::OtpEmailCheckSucceeded]),
        ),
        (
            "SMS code without a user",
            |w| {
                w.user = None;
                w.evidence.otp_sms = Some("sms-hash".into());
            },
            Refused("COMMAND-S453v"),
        ),
        (
            "email code without a user",
            |w| {
                w.user = None;
                w.evidence.otp_email = Some("email-hash".into());
            },
            Refused("COMMAND-S453v"),
        ),
        (
            "OTP SMS not added",
            |w| {
                w.user().otp_sms = false;
                w.evidence.otp_sms = Some("sms-hash".into());
            },
            Refused("COMMAND-d2r52"),
        ),
        (
            "OTP email not added",
            |w| {
                w.user().otp_email = false;
                w.evidence.otp_email = Some("email-hash".into());
            },
            Refused("COMMAND-d2r52"),
        ),
        (
            "SMS code without a challenge",
            |w| {
                w.session.sms_challenge = None;
                w.evidence.otp_sms = Some("sms-hash".into());
            },
            Refused("COMMAND-S34gh"),
        ),
        (
            "email code without a challenge",
            |w| {
                w.session.email_challenge = None;
                w.evidence.otp_email = Some("email-hash".into());
            },
            Refused("COMMAND-S34gh"),
        ),
        (
            "OTP SMS not allowed by the policy",
            |w| {
                w.policy = Some(policy(&[SecondFactor::OtpEmail]));
                w.evidence.otp_sms = Some("sms-hash".into());
            },
            Refused("SESSION-F4ct0"),
        ),
        (
            "OTP email not allowed by the policy",
            |w| {
                w.policy = Some(policy(&[SecondFactor::OtpSms]));
                w.evidence.otp_email = Some("email-hash".into());
            },
            Refused("SESSION-F4ct0"),
        ),
        (
            "SMS code inside the throttle window",
            |w| {
                w.throttled(7, 100);
                w.evidence.otp_sms = Some("sms-hash".into());
            },
            Refused("SESSION-Thr0t"),
        ),
        (
            "email code of a locked user",
            |w| {
                w.user().locked = true;
                w.evidence.otp_email = Some("email-hash".into());
            },
            Refused("COMMAND-SF3fg"),
        ),
        (
            "expired SMS code",
            |w| {
                w.session.sms_challenge.as_mut().unwrap().expiry = Timestamp(NOW.0 - 1);
                w.evidence.otp_sms = Some("sms-hash".into());
            },
            Failed(vec![E::OtpSmsCheckFailed], "CODE-QvUQ4P"),
        ),
        (
            "wrong SMS code",
            |w| w.evidence.otp_sms = Some("other".into()),
            Failed(vec![E::OtpSmsCheckFailed], "CODE-woT0xc"),
        ),
        (
            "wrong email code reaching the OTP lockout limit",
            |w| {
                w.lockout.max_otp_attempts = 1;
                w.evidence.otp_email = Some("other".into());
            },
            Failed(vec![E::OtpEmailCheckFailed, E::UserLocked], "CODE-woT0xc"),
        ),
        // Recovery codes.
        (
            "right recovery code",
            |w| {
                w.evidence.recovery_code = Some(RecoveryEvidence {
                    matched_hash: Some("rc1".into()),
                })
            },
            Stored(
                vec![E::SessionRecoveryCodeChecked(at())],
                vec![E::RecoveryCodeCheckSucceeded(RecoveryCodeUsed { index: 1 })],
            ),
        ),
        (
            "recovery code without a user",
            |w| {
                w.user = None;
                w.evidence.recovery_code = Some(RecoveryEvidence { matched_hash: None });
            },
            Refused("SESSION-Rc0u5"),
        ),
        (
            "no recovery codes",
            |w| {
                w.user().recovery_code_hashes.clear();
                w.evidence.recovery_code = Some(RecoveryEvidence { matched_hash: None });
            },
            Refused("SESSION-Rc0n0"),
        ),
        (
            "recovery codes not allowed by the policy",
            |w| {
                w.policy = Some(policy(&[SecondFactor::Otp]));
                w.evidence.recovery_code = Some(RecoveryEvidence {
                    matched_hash: Some("rc1".into()),
                });
            },
            Refused("SESSION-F4ct0"),
        ),
        (
            "recovery code inside the throttle window",
            |w| {
                w.throttled(5, 0);
                w.evidence.recovery_code = Some(RecoveryEvidence {
                    matched_hash: Some("rc1".into()),
                });
            },
            Refused("SESSION-Thr0t"),
        ),
        (
            "wrong recovery code",
            |w| w.evidence.recovery_code = Some(RecoveryEvidence { matched_hash: None }),
            Failed(vec![E::RecoveryCodeCheckFailed], "SESSION-Rc1nv"),
        ),
        (
            "recovery code used meanwhile",
            |w| {
                w.evidence.recovery_code = Some(RecoveryEvidence {
                    matched_hash: Some("rc-used".into()),
                })
            },
            Failed(vec![E::RecoveryCodeCheckFailed], "SESSION-Rc1nv"),
        ),
        // Several checks at once, in ZITADEL's order.
        (
            "every check and a lifetime in one request",
            |w| {
                w.evidence.password = password("pw-hash", true);
                w.evidence.totp = Some(TotpEvidence::Step(Some(102)));
                w.evidence.otp_email = Some("email-hash".into());
                w.evidence.recovery_code = Some(RecoveryEvidence {
                    matched_hash: Some("rc0".into()),
                });
                w.lifetime_ns = Some(HOUR_NS);
            },
            Stored(
                vec![
                    E::SessionPasswordChecked(at()),
                    E::SessionTotpChecked(at()),
                    E::SessionOtpEmailChecked(at()),
                    E::SessionRecoveryCodeChecked(at()),
                    E::SessionLifetimeSet(SessionLifetimeSet { lifetime: HOUR_NS }),
                ],
                vec![
                    E::PasswordCheckSucceeded,
                    E::TotpCheckSucceeded(TotpVerified { step: 102 }),
                    E::OtpEmailCheckSucceeded,
                    E::RecoveryCodeCheckSucceeded(RecoveryCodeUsed { index: 0 }),
                ],
            ),
        ),
    ]
}

/// Runs the check table; returns the error ids seen.
fn check_table() -> Vec<&'static str> {
    let mut seen = Vec::new();
    for (name, given, then) in check_cases() {
        let mut w = world();
        given(&mut w);
        let got = w.decide();
        match then {
            Stored(session, user) => {
                let out = got.unwrap_or_else(|e| panic!("{name}: {e}"));
                let mut expected = session.clone();
                if !session.is_empty() {
                    expected.push(E::SessionTokenSet(SessionTokenSet {
                        token_hash: "new-token-hash".into(),
                    }));
                }
                assert_eq!(out.session_events, expected, "{name}");
                assert_eq!(out.user_events, user, "{name}");
                assert_eq!(out.token_rotated, !session.is_empty(), "{name}");
                assert_eq!(out.error, None, "{name}");
            }
            Refused(id) => {
                let e = got.map(|o| o.user_events).unwrap_err();
                assert_eq!(e.id, id, "{name}: {e}");
                seen.push(id);
            }
            Failed(user, id) => {
                let out = got.unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(out.session_events, vec![], "{name}");
                assert_eq!(out.user_events, user, "{name}");
                assert!(!out.token_rotated, "{name}");
                assert_eq!(out.error.map(|e| e.id), Some(id.into()), "{name}");
                seen.push(id);
            }
        }
    }
    seen
}

#[test]
fn checks_table() {
    check_table();
}

#[test]
fn checks_report_the_factors_they_verified() {
    let mut w = world();
    w.evidence.password = password("pw-hash", true);
    w.evidence.otp_sms = Some("sms-hash".into());
    assert_eq!(w.decide().unwrap().verified, vec![Factor::Password, Factor::OtpSms]);
}

#[test]
fn error_details() {
    let mut w = world();
    w.evidence.webauthn = Some(Err("bad signature".into()));
    let e = w.decide().unwrap().error.unwrap();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    assert_eq!(e.message, "The security key's assertion was refused: bad signature");

    let mut w = world();
    w.throttled(5, 10);
    w.evidence.totp = Some(TotpEvidence::Step(Some(101)));
    let e = w.decide().unwrap_err();
    assert_eq!((e.kind, e.retry_after_secs), (ErrorKind::ResourceExhausted, Some(20)));

    let mut w = world();
    w.policy = Some(LoginPolicyView {
        is_default: true,
        ..policy(&[])
    });
    w.evidence.totp = Some(TotpEvidence::Step(Some(101)));
    assert_eq!(
        w.decide().unwrap_err().message,
        "SECOND_FACTOR_TYPE_OTP is not an allowed second factor in the instance's default login policy"
    );
    w.policy = Some(policy(&[]));
    assert_eq!(
        w.decide().unwrap_err().message,
        "SECOND_FACTOR_TYPE_OTP is not an allowed second factor in the login policy of organization org1"
    );
}

/// Given a user, policy, session and security keys, when a request asks
/// for these challenges (and maybe checks a WebAuthn assertion).
type ChallengeCase = (
    &'static str,
    fn(&mut World, &mut ChallengeRequest, &mut usize, &mut bool),
    Result<(), &'static str>,
);

fn challenge_cases() -> Vec<ChallengeCase> {
    vec![
        ("nothing asked", |_, _, _, _| {}, Ok(())),
        ("all challenges", |_, r, _, _| *r = all_challenges(), Ok(())),
        ("WebAuthn check", |_, _, _, check| *check = true, Ok(())),
        (
            "WebAuthn check without a user",
            |w, _, _, check| {
                w.user = None;
                w.policy = None;
                *check = true;
            },
            Err("COMMAND-Df4b3"),
        ),
        (
            "WebAuthn check not allowed",
            |w, _, _, check| {
                w.policy = Some(policy(&[SecondFactor::Otp]));
                *check = true;
            },
            Err("SESSION-F4ct0"),
        ),
        (
            "WebAuthn check without a challenge",
            |w, _, _, check| {
                w.session.webauthn_challenge = None;
                *check = true;
            },
            Err("COMMAND-Ioqu5"),
        ),
        (
            "SMS code without a user",
            |w, r, _, _| {
                w.user = None;
                r.otp_sms = true;
            },
            Err("COMMAND-JKL3g"),
        ),
        (
            "SMS code without OTP SMS",
            |w, r, _, _| {
                w.user().otp_sms = false;
                r.otp_sms = true;
            },
            Err("COMMAND-BJ2g3"),
        ),
        (
            "SMS code not allowed",
            |w, r, _, _| {
                w.policy = Some(policy(&[SecondFactor::OtpEmail]));
                r.otp_sms = true;
            },
            Err("SESSION-F4ct0"),
        ),
        (
            "email code without a user",
            |w, r, _, _| {
                w.user = None;
                r.otp_email = true;
            },
            Err("COMMAND-JK3gp"),
        ),
        (
            "email code without OTP email",
            |w, r, _, _| {
                w.user().otp_email = false;
                r.otp_email = true;
            },
            Err("COMMAND-JKLJ3"),
        ),
        (
            "email code not allowed",
            |w, r, _, _| {
                w.policy = Some(policy(&[SecondFactor::OtpSms]));
                r.otp_email = true;
            },
            Err("SESSION-F4ct0"),
        ),
        (
            "SMS is decided before email",
            |w, r, _, _| {
                w.user().otp_sms = false;
                w.user().otp_email = false;
                *r = all_challenges();
            },
            Err("COMMAND-BJ2g3"),
        ),
        (
            "WebAuthn challenge without a user",
            |w, r, _, _| {
                w.user = None;
                r.webauthn = true;
            },
            Err("COMMAND-Df4b3"),
        ),
        (
            "passkey challenge without a user: discoverable credentials",
            |w, r, keys, _| {
                w.user = None;
                w.policy = None;
                *keys = 0;
                r.webauthn = true;
                r.passkey = true;
            },
            Ok(()),
        ),
        (
            "WebAuthn challenge not allowed",
            |w, r, _, _| {
                w.policy = Some(policy(&[SecondFactor::Otp]));
                r.webauthn = true;
            },
            Err("SESSION-F4ct0"),
        ),
        (
            "WebAuthn challenge without a security key",
            |_, r, keys, _| {
                *keys = 0;
                r.webauthn = true;
            },
            Err("WEBAU-4G8sw"),
        ),
    ]
}

fn all_challenges() -> ChallengeRequest {
    ChallengeRequest {
        otp_sms: true,
        otp_email: true,
        webauthn: true,
        passkey: false,
    }
}

fn challenge_table() -> Vec<&'static str> {
    let mut seen = Vec::new();
    for (name, given, then) in challenge_cases() {
        let (mut w, mut req, mut keys, mut check) = (world(), ChallengeRequest::default(), 1, false);
        given(&mut w, &mut req, &mut keys, &mut check);
        let got = (|| {
            if check {
                let c = require_webauthn_check(&w.session, w.user.as_ref(), w.policy.as_ref())?;
                assert_eq!(*c, webauthn_challenge(), "{name}");
            }
            require_challenges(w.user.as_ref(), w.policy.as_ref(), req, keys)
        })();
        match then {
            Ok(()) => assert_eq!(got, Ok(()), "{name}"),
            Err(id) => {
                assert_eq!(got.unwrap_err().id, id, "{name}");
                seen.push(id);
            }
        }
    }
    seen
}

#[test]
fn challenges_table() {
    challenge_table();
}

#[test]
fn otp_codes_expire_after_five_minutes() {
    let c = otp_challenge("h".into(), NOW);
    assert_eq!(c.expiry.0 - NOW.0, OTP_CODE_LIFETIME_MICROS);
    assert_eq!(OTP_CODE_LIFETIME_MICROS, 300 * SECOND);
}

fn session_view() -> SessionView {
    SessionView {
        id: "s1".into(),
        creator: "u1".into(),
        details: DocDetails::default(),
        user_id: Some("u1".into()),
        user_org_id: Some("org1".into()),
        user_checked_at: None,
        password_checked_at: None,
        totp_checked_at: None,
        otp_sms_checked_at: None,
        otp_email_checked_at: None,
        webauthn_checked_at: None,
        webauthn_user_verified: false,
        recovery_code_checked_at: None,
        expiration: None,
        token_hash: String::new(),
    }
}

/// Given a session (its checks so many seconds ago) and a policy (None for
/// enrolment calls), whether its token signs the user in.
type AccessCase = (
    &'static str,
    fn(&mut SessionView, &mut Option<LoginPolicySettings>),
    Result<(), &'static str>,
);

fn forced() -> Option<LoginPolicySettings> {
    Some(LoginPolicySettings {
        force_mfa: true,
        second_factor_check_lifetime: HOUR_NS,
        multi_factor_check_lifetime: 12 * HOUR_NS,
        ..LoginPolicySettings::default()
    })
}

fn access_cases() -> Vec<AccessCase> {
    vec![
        ("no factor at all", |_, _| {}, Err("AUTHZ-Kl3p1")),
        ("no factor, enrolment", |_, p| *p = None, Err("AUTHZ-Kl3p1")),
        (
            "password, MFA not forced",
            |s, _| s.password_checked_at = Some(ago(10)),
            Ok(()),
        ),
        (
            "a second factor alone",
            |s, _| s.otp_sms_checked_at = Some(ago(10)),
            Ok(()),
        ),
        (
            "password, MFA forced",
            |s, p| {
                s.password_checked_at = Some(ago(10));
                *p = forced();
            },
            Err("AUTHZ-Kl3p0"),
        ),
        (
            "password, MFA forced, enrolment call",
            |s, p| {
                s.password_checked_at = Some(ago(10));
                *p = None;
            },
            Ok(()),
        ),
        (
            "second factor within its lifetime",
            |s, p| {
                s.password_checked_at = Some(ago(4000));
                s.totp_checked_at = Some(ago(10));
                *p = forced();
            },
            Ok(()),
        ),
        (
            "second factor at the end of its lifetime",
            |s, p| {
                s.password_checked_at = Some(ago(4000));
                s.recovery_code_checked_at = Some(ago(3600));
                *p = forced();
            },
            Ok(()),
        ),
        (
            "second factor expired",
            |s, p| {
                s.password_checked_at = Some(ago(4000));
                s.otp_email_checked_at = Some(ago(3601));
                *p = forced();
            },
            Err("AUTHZ-Kl3p0"),
        ),
        (
            "the newest second factor counts",
            |s, p| {
                s.password_checked_at = Some(ago(4000));
                s.otp_email_checked_at = Some(ago(7200));
                s.totp_checked_at = Some(ago(60));
                *p = forced();
            },
            Ok(()),
        ),
        (
            "user-verified key within the multi-factor lifetime",
            |s, p| {
                s.webauthn_checked_at = Some(ago(2 * 3600));
                s.webauthn_user_verified = true;
                *p = forced();
            },
            Ok(()),
        ),
        (
            "key without user verification past the second-factor lifetime",
            |s, p| {
                s.webauthn_checked_at = Some(ago(2 * 3600));
                *p = forced();
            },
            Err("AUTHZ-Kl3p0"),
        ),
        (
            "user-verified key past the multi-factor lifetime",
            |s, p| {
                s.webauthn_checked_at = Some(ago(12 * 3600 + 1));
                s.webauthn_user_verified = true;
                *p = forced();
            },
            Err("AUTHZ-Kl3p0"),
        ),
    ]
}

fn access_table() -> Vec<&'static str> {
    let mut seen = Vec::new();
    for (name, given, then) in access_cases() {
        let (mut s, mut p) = (session_view(), Some(LoginPolicySettings::instance_default()));
        given(&mut s, &mut p);
        let got = require_sign_in(&s, p.as_ref(), NOW);
        match then {
            Ok(()) => assert_eq!(got, Ok(()), "{name}"),
            Err(id) => {
                let e = got.unwrap_err();
                assert_eq!((e.kind, e.id.as_ref()), (ErrorKind::PermissionDenied, id), "{name}");
                seen.push(id);
            }
        }
    }
    seen
}

#[test]
fn access_table_test() {
    access_table();
}

/// The session's own rules: usable, token, user, active user, terminate.
fn session_table() -> Vec<&'static str> {
    let mut seen = Vec::new();
    let mut record = |name: &str, got: Result<(), DomainError>, then: Result<(), &'static str>| match then {
        Ok(()) => assert_eq!(got, Ok(()), "{name}"),
        Err(id) => {
            assert_eq!(got.unwrap_err().id, id, "{name}");
            seen.push(id);
        }
    };
    let s = world().session;
    let terminated = SessionState {
        terminated: true,
        ..s.clone()
    };
    let expiring = |at: Timestamp| SessionState {
        expiration: Some(at),
        ..s.clone()
    };
    record("usable", s.require_usable(NOW), Ok(()));
    record("terminated", terminated.require_usable(NOW), Err("COMMAND-Hewfq"));
    record("expired", expiring(ago(1)).require_usable(NOW), Err("COMMAND-Hkl3d"));
    record("expiring now", expiring(NOW).require_usable(NOW), Err("COMMAND-Hkl3d"));
    record(
        "expiring later",
        expiring(Timestamp(NOW.0 + 1)).require_usable(NOW),
        Ok(()),
    );

    let with_token = SessionState {
        token_hash: Some("t".into()),
        ..s.clone()
    };
    record("right token", with_token.require_token("t"), Ok(()));
    record("wrong token", with_token.require_token("u"), Err("COMMAND-sGr42"));
    record("no token yet", s.require_token(""), Err("COMMAND-sGr42"));

    record("same user", s.require_same_user(&"u1".into()), Ok(()));
    record(
        "first user",
        SessionState::default().require_same_user(&"u2".into()),
        Ok(()),
    );
    record("user change", s.require_same_user(&"u2".into()), Err(""));

    let mut user = UserView {
        id: "u1".into(),
        org_id: "org1".into(),
        user_name: "u".into(),
        state: UserDocState::Active,
        kind: UserKind::Machine {
            name: "m".into(),
            description: String::new(),
            access_token_type: 0,
        },
        factors: Default::default(),
        details: DocDetails::default(),
    };
    record("active user", require_active_user(&user), Ok(()));
    user.state = UserDocState::Locked;
    record("locked user", require_active_user(&user), Err("SESSION-Gj4ko"));
    record("locked user, later checks", require_not_deactivated(&user), Ok(()));
    user.state = UserDocState::Inactive;
    record("deactivated user", require_active_user(&user), Err("SESSION-Gj4ko"));
    record(
        "deactivated user, later checks",
        require_not_deactivated(&user),
        Err("SESSION-Gj4ko"),
    );
    seen
}

#[test]
fn session_rules() {
    session_table();
    assert_eq!(decide_terminate(&world().session), vec![E::SessionTerminated]);
    let done = SessionState {
        terminated: true,
        ..world().session
    };
    assert_eq!(decide_terminate(&done), vec![]);
    assert_eq!(decide_terminate(&SessionState::default()), vec![]);
}

#[test]
fn user_change_error_is_zitadels() {
    let e = world().session.require_same_user(&"u2".into()).unwrap_err();
    assert_eq!(
        (e.kind, e.message.as_ref()),
        (ErrorKind::InvalidArgument, "user change not possible ()")
    );
}

#[test]
fn every_sign_in_error_id_is_covered() {
    let mut seen: BTreeSet<&str> = check_table().into_iter().collect();
    seen.extend(challenge_table());
    seen.extend(access_table());
    seen.extend(session_table());
    let listed: BTreeSet<&str> = SIGN_IN_ERROR_IDS.iter().copied().collect();
    assert_eq!(listed.len(), SIGN_IN_ERROR_IDS.len(), "an id is listed twice");
    assert_eq!(seen, listed);
}
