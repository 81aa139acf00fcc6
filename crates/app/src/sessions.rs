//! Sign-in sessions (SessionService v2) that enforce the login policy.
//! Each request runs its checks in ZITADEL's order; the first failure stops
//! it, and only that failure's own event is stored. A TOTP step, an OTP
//! challenge and a recovery code each work once, across sessions and nodes,
//! because every check appends to the user's aggregate under optimistic
//! concurrency.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use twofold_domain::event::{
    CheckedAt, CodeAdded, EventPayload as E, RecoveryCodeUsed, SessionLifetimeSet, SessionTokenSet, SessionUserChecked,
    U2fSignCount, WebAuthnChallenged, WebAuthnChecked,
};
use twofold_domain::factors::SecondFactor;
use twofold_domain::human::constant_time_eq;
use twofold_domain::lockout::LockoutSettings;
use twofold_domain::readmodel::collection;
use twofold_domain::readmodel::directory::{UserState as UserDocState, UserView};
use twofold_domain::readmodel::login_policy::LoginPolicyView;
use twofold_domain::readmodel::query::{ListRequest, SessionQuery, sessions_page};
use twofold_domain::readmodel::session::SessionView;
use twofold_domain::session::{self, SessionState};
use twofold_domain::user::{TotpState, UserState};
use twofold_domain::{AggregateRef, DomainError, ErrorKind, StoredEvent, Timestamp};
use webauthn_rs::prelude::{PublicKeyCredential, SecurityKey, SecurityKeyAuthentication};

use crate::auth::RequestCtx;
use crate::command::Decision;
use crate::notify::{Delivery, Purpose};
use crate::{App, WriteDetails, clock, passwords, secrets, totp, u2f};
use twofold_domain::notify::Channel;

/// OTP codes sent by SMS or email: 8 digits, valid five minutes.
const OTP_CODE_LEN: usize = 8;
const OTP_CODE_LIFETIME_MICROS: i64 = 5 * 60 * 1_000_000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserRef {
    Id(String),
    LoginName(String),
}

#[derive(Clone, Debug, Default)]
pub struct Checks {
    pub user: Option<UserRef>,
    pub password: Option<String>,
    pub web_auth_n: Option<serde_json::Value>,
    pub totp: Option<String>,
    pub otp_sms: Option<String>,
    pub otp_email: Option<String>,
    pub recovery_code: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct ChallengeRequests {
    /// Relying party ID of a WebAuthn (security key) challenge.
    pub web_auth_n: Option<String>,
    /// `Some(return_code)`
    pub otp_sms: Option<bool>,
    pub otp_email: Option<bool>,
}

#[derive(Clone, Debug, Default)]
pub struct Challenges {
    pub web_auth_n: Option<serde_json::Value>,
    pub otp_sms: Option<String>,
    pub otp_email: Option<String>,
}

pub struct SessionChange {
    pub session_id: String,
    /// A new token whenever something changed (the old one stops working).
    pub token: Option<String>,
    pub details: WriteDetails,
    pub challenges: Challenges,
}

/// A session as read, with its user's current names.
pub struct SessionRead {
    pub session: SessionView,
    pub user: Option<UserView>,
}

fn session_missing() -> DomainError {
    DomainError::not_found("QUERY-SFeaa", "Session does not exist")
}

fn token_invalid() -> DomainError {
    DomainError::permission_denied("COMMAND-sGr42", "Session Token is invalid")
}

/// What the relying party needs from a request before the decision runs.
struct Prepared {
    webauthn_result: Option<Result<(String, String, bool), String>>,
    /// The password check against the stored hash: (hash, matched).
    password: Option<(String, bool)>,
    /// The stored hash of the recovery code that matched, if any.
    recovery_hash: Option<String>,
    challenges: Challenges,
    /// Codes to send (not returned) by SMS and by email.
    to_send: Vec<(Channel, String)>,
    sms_code: Option<CodeAdded>,
    email_code: Option<CodeAdded>,
    webauthn_challenge: Option<WebAuthnChallenged>,
}

impl App {
    async fn find_user(&self, ctx: &RequestCtx, r: &UserRef) -> Result<UserView, DomainError> {
        let missing = || DomainError::not_found("QUERY-Dfbg2", "User could not be found");
        let user = match r {
            UserRef::Id(id) => self.typed_doc(&ctx.instance_id, collection::USER, id).await?,
            UserRef::LoginName(name) => self
                .typed_lookup::<UserView>(&ctx.instance_id, collection::USER, &name.to_lowercase())
                .await?
                .into_iter()
                .next(),
        };
        let user: UserView = user.ok_or_else(missing)?;
        if user.state != UserDocState::Active {
            return Err(DomainError::precondition("SESSION-Gj4ko", "Errors.User.NotActive"));
        }
        Ok(user)
    }

    async fn user_events(
        &self,
        ctx: &RequestCtx,
        user: &UserView,
    ) -> Result<std::sync::Arc<Vec<StoredEvent>>, DomainError> {
        self.store
            .events(&ctx.instance_id, &AggregateRef::user(&user.id, &user.org_id))
            .await
            .map_err(crate::command::store_error)
    }

    /// `session.write` at instance level, as ZITADEL requires for CreateSession.
    #[tracing::instrument(skip_all)]
    pub async fn create_session(
        &self,
        ctx: &RequestCtx,
        checks: Checks,
        challenges: ChallengeRequests,
        lifetime_ns: Option<i64>,
    ) -> Result<SessionChange, DomainError> {
        self.require_in_org(ctx, "", "session.write").await?;
        let session_id = self.ids.next();
        self.change_session(ctx, &session_id, None, checks, challenges, lifetime_ns)
            .await
    }

    #[tracing::instrument(skip_all, fields(session_id = %session_id))]
    pub async fn set_session(
        &self,
        ctx: &RequestCtx,
        session_id: &str,
        token: Option<&str>,
        checks: Checks,
        challenges: ChallengeRequests,
        lifetime_ns: Option<i64>,
    ) -> Result<SessionChange, DomainError> {
        let events = self
            .store
            .events(&ctx.instance_id, &AggregateRef::session(session_id, &ctx.instance_id))
            .await
            .map_err(crate::command::store_error)?;
        let state = SessionState::fold(&events);
        match token.filter(|t| !t.is_empty()) {
            Some(t) => self.verify_session_token(&state, t)?,
            None => {
                // A session the caller does not see is one that does not exist.
                let grants = self.grants(ctx).await?;
                let user = state.user.as_ref().map(|(u, o)| (u.as_str(), o.as_str()));
                if !state.exists || !grants.sees_session_of(&state.creator, user) {
                    return Err(session_missing());
                }
                grants.require(user.map_or("", |(_, o)| o), "session.write")?;
            }
        }
        if !state.exists {
            return Err(session_missing());
        }
        state.require_usable(clock::now())?;
        self.change_session(ctx, session_id, Some(state), checks, challenges, lifetime_ns)
            .await
    }

    fn verify_session_token(&self, state: &SessionState, token: &str) -> Result<(), DomainError> {
        let given = self.keys.token_hash(token);
        match &state.token_hash {
            Some(h) if constant_time_eq(h.as_bytes(), given.as_bytes()) => Ok(()),
            _ => Err(token_invalid()),
        }
    }

    /// Runs checks and challenges on a new session (`existing` None) or on
    /// the session whose state the caller already read and authorized.
    async fn change_session(
        &self,
        ctx: &RequestCtx,
        session_id: &str,
        existing: Option<SessionState>,
        checks: Checks,
        challenges: ChallengeRequests,
        lifetime_ns: Option<i64>,
    ) -> Result<SessionChange, DomainError> {
        let session_agg = AggregateRef::session(session_id, &ctx.instance_id);
        let is_new = existing.is_none();
        let existing = existing.unwrap_or_default();
        let checked_user = match &checks.user {
            Some(r) => Some(self.find_user(ctx, r).await?),
            None => None,
        };
        if let (Some(u), Some((prev, _))) = (&checked_user, &existing.user)
            && u.id != *prev
        {
            return Err(DomainError::new(
                ErrorKind::InvalidArgument,
                "",
                "user change not possible ()",
            ));
        }
        let user: Option<UserView> = match (&checked_user, &existing.user) {
            (Some(u), _) => Some(u.clone()),
            (None, Some((id, _))) => self.typed_doc(&ctx.instance_id, collection::USER, id).await?,
            (None, None) => None,
        };
        let policy = match &user {
            Some(u) => Some(self.org_login_policy(&ctx.instance_id, &u.org_id).await?),
            None => None,
        };
        let lockout = match &user {
            Some(u) => self.org_lockout_policy(&ctx.instance_id, &u.org_id).await?.settings,
            None => Default::default(),
        };
        let prepared = self
            .prepare(ctx, &existing, user.as_ref(), policy.as_ref(), &checks, &challenges)
            .await?;

        let token = secrets::random_token(32);
        let token_hash = self.keys.token_hash(&token);
        let now = clock::now();
        let mut aggregates = vec![session_agg];
        if let Some(u) = &user {
            aggregates.push(AggregateRef::user(&u.id, &u.org_id));
        }
        let token_rotated = std::sync::atomic::AtomicBool::new(false);
        let decide = |loaded: &[std::sync::Arc<Vec<StoredEvent>>]| -> Result<Decision, DomainError> {
            let state = SessionState::fold(crate::command::history(loaded, 0));
            if is_new && state.exists {
                return Err(DomainError::unavailable("SESSION-IdClash", "ID collision, try again"));
            }
            let user_state = loaded.get(1).map(|e| UserState::fold(e));
            let mut s_events = Vec::new();
            let mut u_events = Vec::new();
            if is_new {
                s_events.push(E::SessionAdded);
            }
            if let Some(u) = checked_user.as_ref() {
                s_events.push(E::SessionUserChecked(SessionUserChecked {
                    user_id: u.id.clone(),
                    org_id: u.org_id.clone(),
                    checked_at: now,
                }));
            }
            let at = CheckedAt { checked_at: now };
            // A refused check: store its failure event (if any) and stop.
            // When the failure reaches the lockout policy's limit, the user
            // is locked in the same append.
            let fail = |u_event: Option<E>, error: DomainError| -> Result<Decision, DomainError> {
                let Some(e) = u_event else { return Err(error) };
                // Failure events are user events: without a user there is none.
                let Some(us) = user_state.as_ref() else {
                    return Err(error);
                };
                let locks = match e {
                    E::PasswordCheckFailed => {
                        LockoutSettings::locks(lockout.max_password_attempts, us.password_failures + 1)
                    }
                    _ => LockoutSettings::locks(lockout.max_otp_attempts, us.otp_failures + 1),
                };
                let mut events = vec![e];
                if locks {
                    events.push(E::UserLocked);
                }
                Ok(Decision {
                    events: vec![vec![], events],
                    error_after_push: Some(error),
                    ..Decision::default()
                })
            };
            let needs_user = |id: &'static str| DomainError::invalid(id, "User ID missing");

            if checks.password.is_some() {
                let Some(us) = user_state.as_ref() else {
                    return Err(needs_user("COMMAND-Sfw3f"));
                };
                if !policy.as_ref().is_some_and(|p| p.settings.allow_username_password) {
                    return Err(DomainError::precondition(
                        "SESSION-PwN0t",
                        "Password sign-in is not allowed by the login policy",
                    ));
                }
                if us.locked {
                    return Err(DomainError::precondition("COMMAND-JLK35", "Errors.User.Locked"));
                }
                let Some(hash) = &us.password_hash else {
                    return Err(DomainError::precondition(
                        "COMMAND-3nJ4t",
                        "User has not set a password",
                    ));
                };
                match &prepared.password {
                    Some((checked, true)) if checked == hash => {}
                    Some((checked, false)) if checked == hash => {
                        return fail(
                            Some(E::PasswordCheckFailed),
                            DomainError::invalid("COMMAND-3M0fs", "Password is invalid"),
                        );
                    }
                    // The password changed while it was being checked.
                    _ => {
                        return Err(DomainError::unavailable(
                            "SESSION-PwRace",
                            "The password changed; try again",
                        ));
                    }
                }
                u_events.push(E::PasswordCheckSucceeded);
                s_events.push(E::SessionPasswordChecked(at.clone()));
            }

            if let Some(result) = &prepared.webauthn_result {
                match result {
                    Ok((token_id, credential, user_verified)) => {
                        u_events.push(E::U2fSignCountChanged(U2fSignCount {
                            token_id: token_id.clone(),
                            credential: credential.clone(),
                        }));
                        s_events.push(E::SessionWebAuthnChecked(WebAuthnChecked {
                            checked_at: now,
                            user_verified: *user_verified,
                        }));
                    }
                    Err(why) => {
                        return Err(DomainError::invalid(
                            "WEBAU-ADgv4",
                            format!("The security key's assertion was refused: {why}"),
                        ));
                    }
                }
            }

            // Checks of one-time codes share the throttle.
            let otp_precheck = |us: &UserState, factor: SecondFactor| -> Result<(), DomainError> {
                if let Some(p) = &policy {
                    session::require_allowed(p, factor)?;
                }
                if let Some(until) =
                    session::otp_throttled_until(us, self.config.otp_throttle_secs).filter(|u| *u > now)
                {
                    return Err(session::throttle_error(until, now));
                }
                if us.locked {
                    return Err(DomainError::precondition("COMMAND-SF3fg", "Errors.User.Locked"));
                }
                Ok(())
            };

            if let Some(code) = &checks.totp {
                let Some(us) = user_state.as_ref() else {
                    return Err(needs_user("COMMAND-8N9ds"));
                };
                let TotpState::Ready { sealed_secret, .. } = &us.totp else {
                    return Err(DomainError::precondition(
                        "COMMAND-3Mif9s",
                        "Multifactor OTP (OneTimePassword) isn't ready",
                    ));
                };
                otp_precheck(us, SecondFactor::Otp)?;
                let secret = self
                    .keys
                    .open(sealed_secret)
                    .ok_or_else(|| DomainError::internal("CRYPTO-Open1", "An internal error occurred"))?;
                let matched = totp::matched_step(&secret, code, now.0 as u64 / 1_000_000);
                match session::decide_totp_check(us, matched) {
                    Ok(e) => {
                        u_events.push(e);
                        s_events.push(E::SessionTotpChecked(at.clone()));
                    }
                    Err(error) => return fail(Some(E::TotpCheckFailed), error),
                }
            }

            for (code, sms) in [(&checks.otp_sms, true), (&checks.otp_email, false)] {
                let Some(code) = code else { continue };
                let Some(us) = user_state.as_ref() else {
                    return Err(needs_user("COMMAND-S453v"));
                };
                let (added, challenge, factor) = if sms {
                    (us.otp_sms, &state.sms_challenge, SecondFactor::OtpSms)
                } else {
                    (us.otp_email, &state.email_challenge, SecondFactor::OtpEmail)
                };
                if !added {
                    return Err(DomainError::precondition(
                        "COMMAND-d2r52",
                        "Multifactor OTP (OneTimePassword) isn't ready",
                    ));
                }
                let Some(challenge) = challenge else {
                    return Err(DomainError::precondition("COMMAND-S34gh", "Code not found"));
                };
                otp_precheck(us, factor)?;
                let failed = if sms {
                    E::OtpSmsCheckFailed
                } else {
                    E::OtpEmailCheckFailed
                };
                if now > challenge.expiry {
                    return fail(
                        Some(failed),
                        DomainError::precondition("CODE-QvUQ4P", "Code is expired"),
                    );
                }
                let given = self.keys.token_hash(code);
                if !constant_time_eq(given.as_bytes(), challenge.code_hash.as_bytes()) {
                    return fail(Some(failed), DomainError::invalid("CODE-woT0xc", "Code is invalid"));
                }
                if sms {
                    u_events.push(E::OtpSmsCheckSucceeded);
                    s_events.push(E::SessionOtpSmsChecked(at.clone()));
                } else {
                    u_events.push(E::OtpEmailCheckSucceeded);
                    s_events.push(E::SessionOtpEmailChecked(at.clone()));
                }
            }

            if checks.recovery_code.is_some() {
                let Some(us) = user_state.as_ref() else {
                    return Err(needs_user("SESSION-Rc0u5"));
                };
                if us.recovery_code_hashes.is_empty() {
                    return Err(DomainError::precondition(
                        "SESSION-Rc0n0",
                        "The user has no recovery codes",
                    ));
                }
                otp_precheck(us, SecondFactor::RecoveryCodes)?;
                // Matched against the set read before; a code used meanwhile
                // is gone from the current set.
                let position = prepared
                    .recovery_hash
                    .as_ref()
                    .and_then(|h| us.recovery_code_hashes.iter().position(|x| x == h));
                match position {
                    Some(index) => {
                        u_events.push(E::RecoveryCodeCheckSucceeded(RecoveryCodeUsed { index }));
                        s_events.push(E::SessionRecoveryCodeChecked(at.clone()));
                    }
                    None => {
                        return fail(
                            Some(E::RecoveryCodeCheckFailed),
                            DomainError::invalid("SESSION-Rc1nv", "Invalid recovery code"),
                        );
                    }
                }
            }

            if let Some(c) = &prepared.sms_code {
                s_events.push(E::SessionOtpSmsChallenged(c.clone()));
            }
            if let Some(c) = &prepared.email_code {
                s_events.push(E::SessionOtpEmailChallenged(c.clone()));
            }
            if let Some(c) = &prepared.webauthn_challenge {
                s_events.push(E::SessionWebAuthnChallenged(c.clone()));
            }
            if let Some(l) = lifetime_ns {
                s_events.push(E::SessionLifetimeSet(SessionLifetimeSet { lifetime: l }));
            }
            // Any change rotates the token; no change keeps the old one.
            token_rotated.store(!s_events.is_empty(), std::sync::atomic::Ordering::Relaxed);
            if !s_events.is_empty() {
                s_events.push(E::SessionTokenSet(SessionTokenSet {
                    token_hash: token_hash.clone(),
                }));
            }
            let mut events = vec![s_events];
            if user_state.is_some() {
                events.push(u_events);
            }
            Ok(Decision {
                events,
                ..Decision::default()
            })
        };
        let details = self
            .execute_many(&ctx.instance_id, &ctx.caller.user_id, aggregates, decide)
            .await?;
        let rotated = token_rotated.load(std::sync::atomic::Ordering::Relaxed);
        if let Some(u) = user.as_ref().filter(|_| !prepared.to_send.is_empty()) {
            let h = u.human();
            for (channel, code) in prepared.to_send {
                self.deliver(Delivery {
                    instance_id: ctx.instance_id.clone(),
                    purpose: Purpose::SignIn {
                        session_id: session_id.to_owned(),
                    },
                    channel,
                    recipient: match channel {
                        Channel::Sms => h.map(|h| h.phone.clone()).unwrap_or_default(),
                        Channel::Email => h.map(|h| h.email.clone()).unwrap_or_default(),
                    },
                    display_name: h.map(|h| h.display_name.clone()).unwrap_or_default(),
                    code,
                });
            }
        }
        Ok(SessionChange {
            session_id: session_id.to_owned(),
            token: rotated.then_some(token),
            details,
            challenges: prepared.challenges,
        })
    }

    /// Work that needs the relying party or a random code, done once before
    /// the decision (which may run again after a lost race).
    async fn prepare(
        &self,
        ctx: &RequestCtx,
        existing: &SessionState,
        user: Option<&UserView>,
        policy: Option<&LoginPolicyView>,
        checks: &Checks,
        requests: &ChallengeRequests,
    ) -> Result<Prepared, DomainError> {
        let mut p = Prepared {
            webauthn_result: None,
            password: None,
            recovery_hash: None,
            challenges: Challenges::default(),
            to_send: Vec::new(),
            sms_code: None,
            email_code: None,
            webauthn_challenge: None,
        };
        let user_state = match user {
            Some(u) => Some(UserState::fold(&self.user_events(ctx, u).await?)),
            None => None,
        };
        // The slow hash comparisons run here, off the async runtime, before
        // the decision (which must not block and may run more than once).
        if let (Some(password), Some(us)) = (&checks.password, &user_state)
            && let Some(hash) = &us.password_hash
        {
            let ok = passwords::verify_blocking(password.clone(), vec![hash.clone()])
                .await?
                .first()
                == Some(&true);
            p.password = Some((hash.clone(), ok));
        }
        if let (Some(code), Some(us)) = (&checks.recovery_code, &user_state) {
            let hashes = us.recovery_code_hashes.clone();
            let matches = passwords::verify_blocking(code.trim().to_uppercase(), hashes.clone()).await?;
            p.recovery_hash = hashes.into_iter().zip(matches).find(|(_, m)| *m).map(|(h, _)| h);
        }
        if let Some(assertion) = &checks.web_auth_n {
            let us = user_state
                .as_ref()
                .ok_or_else(|| DomainError::invalid("COMMAND-Df4b3", "User could not be found"))?;
            if let Some(policy) = policy {
                session::require_allowed(policy, SecondFactor::U2f)?;
            }
            let challenge = existing
                .webauthn_challenge
                .as_ref()
                .ok_or_else(|| DomainError::precondition("COMMAND-Ioqu5", "Session without WebAuthN challenge"))?;
            p.webauthn_result = Some(self.finish_assertion(us, challenge, assertion.clone()));
        }
        for (requested, sms) in [(requests.otp_sms, true), (requests.otp_email, false)] {
            let Some(return_code) = requested else { continue };
            let us = user_state.as_ref().ok_or_else(|| {
                DomainError::precondition(
                    if sms { "COMMAND-JKL3g" } else { "COMMAND-JK3gp" },
                    "User could not be found",
                )
            })?;
            let (added, factor) = if sms {
                (us.otp_sms, SecondFactor::OtpSms)
            } else {
                (us.otp_email, SecondFactor::OtpEmail)
            };
            if !added {
                return Err(DomainError::precondition(
                    if sms { "COMMAND-BJ2g3" } else { "COMMAND-JKLJ3" },
                    "Multifactor OTP (OneTimePassword) isn't ready",
                ));
            }
            if let Some(policy) = policy {
                session::require_allowed(policy, factor)?;
            }
            let code = secrets::random_code(OTP_CODE_LEN, b"0123456789");
            let stored = CodeAdded {
                code_hash: self.keys.token_hash(&code),
                expiry: Timestamp(clock::now().0 + OTP_CODE_LIFETIME_MICROS),
            };
            if !return_code {
                p.to_send
                    .push((if sms { Channel::Sms } else { Channel::Email }, code.clone()));
            }
            let returned = return_code.then_some(code);
            if sms {
                p.sms_code = Some(stored);
                p.challenges.otp_sms = returned;
            } else {
                p.email_code = Some(stored);
                p.challenges.otp_email = returned;
            }
        }
        if let Some(rp_id) = &requests.web_auth_n {
            let us = user_state
                .as_ref()
                .ok_or_else(|| DomainError::invalid("COMMAND-Df4b3", "User could not be found"))?;
            if let Some(policy) = policy {
                session::require_allowed(policy, SecondFactor::U2f)?;
            }
            let keys: Vec<SecurityKey> = us
                .u2f
                .iter()
                .filter_map(|t| t.credential.as_deref())
                .filter_map(|c| serde_json::from_str(c).ok())
                .collect();
            if keys.is_empty() {
                return Err(DomainError::precondition("WEBAU-4G8sw", "The user has no security key"));
            }
            let (options, state) = u2f::relying_party(rp_id)?
                .start_securitykey_authentication(&keys)
                .map_err(|e| DomainError::internal("WEBAU-Int02", format!("WebAuthN begin login failed: {e}")))?;
            p.webauthn_challenge = Some(WebAuthnChallenged {
                state: serde_json::to_string(&state)
                    .map_err(|e| DomainError::internal("WEBAU-Int03", e.to_string()))?,
                rp_id: rp_id.clone(),
            });
            p.challenges.web_auth_n = Some(serde_json::to_value(options).unwrap_or_default());
        }
        Ok(p)
    }

    /// Checks an assertion against the session's challenge; on success the
    /// token ID, the credential with its new counter, and user verification.
    fn finish_assertion(
        &self,
        us: &UserState,
        challenge: &WebAuthnChallenged,
        assertion: serde_json::Value,
    ) -> Result<(String, String, bool), String> {
        let cred: PublicKeyCredential =
            serde_json::from_value(assertion).map_err(|e| format!("not a WebAuthn assertion ({e})"))?;
        let state: SecurityKeyAuthentication = serde_json::from_str(&challenge.state).map_err(|e| e.to_string())?;
        let rp = u2f::relying_party(&challenge.rp_id).map_err(|e| e.message.into_owned())?;
        let result = rp
            .finish_securitykey_authentication(&cred, &state)
            .map_err(|e| e.to_string())?;
        let cred_id = URL_SAFE_NO_PAD.encode(result.cred_id().as_slice());
        for t in &us.u2f {
            let Some(c) = &t.credential else { continue };
            let Ok(mut key) = serde_json::from_str::<SecurityKey>(c) else {
                continue;
            };
            if URL_SAFE_NO_PAD.encode(key.cred_id().as_slice()) == cred_id {
                key.update_credential(&result);
                let json = serde_json::to_string(&key).map_err(|e| e.to_string())?;
                return Ok((t.id.clone(), json, result.user_verified()));
            }
        }
        Err("the credential is not one of the user's security keys".into())
    }

    /// A session, by token or by the caller's relation to it.
    pub async fn get_session(
        &self,
        ctx: &RequestCtx,
        session_id: &str,
        token: Option<&str>,
    ) -> Result<SessionRead, DomainError> {
        let session = match token.filter(|t| !t.is_empty()) {
            Some(t) => {
                let session: SessionView = self
                    .typed_doc(&ctx.instance_id, collection::SESSION, session_id)
                    .await?
                    .ok_or_else(session_missing)?;
                let given = self.keys.token_hash(t);
                if !constant_time_eq(given.as_bytes(), session.token_hash.as_bytes()) {
                    return Err(DomainError::permission_denied("QUERY-dsfr3", "Errors.PermissionDenied"));
                }
                session
            }
            None => self
                .visible_session(ctx, session_id, session_missing())
                .await?
                .into_inner(),
        };
        let user = match &session.user_id {
            Some(id) => self.typed_doc(&ctx.instance_id, collection::USER, id).await?,
            None => None,
        };
        Ok(SessionRead { session, user })
    }

    /// Sessions the caller may read matching every query, newest first
    /// unless sorted by creation date, paged; with the total.
    pub async fn list_sessions(
        &self,
        ctx: &RequestCtx,
        queries: &[SessionQuery],
        by_creation: bool,
        list: ListRequest,
    ) -> Result<(usize, Vec<SessionRead>), DomainError> {
        let grants = self.grants(ctx).await?;
        let all: Vec<SessionView> = self.typed_prefix(&ctx.instance_id, collection::SESSION, "").await?;
        let visible: Vec<SessionView> = all
            .into_iter()
            .filter(|s| queries.iter().all(|q| q.matches(s, &ctx.caller.user_id)) && grants.sees_session(s))
            .collect();
        let (total, page) = sessions_page(visible, by_creation, list);
        let mut out = Vec::with_capacity(page.len());
        for s in page {
            let user = match &s.user_id {
                Some(id) => self.typed_doc(&ctx.instance_id, collection::USER, id).await?,
                None => None,
            };
            out.push(SessionRead { session: s, user });
        }
        Ok((total, out))
    }

    /// Terminates a session; one that does not exist (any more) is fine.
    #[tracing::instrument(skip_all, fields(session_id = %session_id))]
    pub async fn delete_session(
        &self,
        ctx: &RequestCtx,
        session_id: &str,
        token: Option<&str>,
    ) -> Result<WriteDetails, DomainError> {
        let agg = AggregateRef::session(session_id, &ctx.instance_id);
        let state = SessionState::fold(
            &self
                .store
                .events(&ctx.instance_id, &agg)
                .await
                .map_err(crate::command::store_error)?,
        );
        match token.filter(|t| !t.is_empty()) {
            Some(t) => self.verify_session_token(&state, t)?,
            None => {
                let is_user = state.user.as_ref().is_some_and(|(u, _)| *u == ctx.caller.user_id);
                if !is_user {
                    let org = state.user.as_ref().map(|(_, o)| o.clone()).unwrap_or_default();
                    self.require_in_org(ctx, &org, "session.delete").await?;
                }
            }
        }
        self.execute(&ctx.instance_id, &ctx.caller.user_id, agg, |events| {
            let s = SessionState::fold(events);
            Ok(if s.exists && !s.terminated {
                vec![E::SessionTerminated]
            } else {
                vec![]
            })
        })
        .await
    }
}
