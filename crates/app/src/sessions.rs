//! Sign-in sessions (SessionService v2) that enforce the login policy. The
//! rules are the domain's (`twofold_domain::session`); this module loads the
//! session, the user and their policies, prepares the evidence that needs
//! crypto (password and recovery-code hashes off the runtime, the WebAuthn
//! assertion, keyed hashes of codes, TOTP steps), lets the domain decide,
//! appends, and sends codes. A TOTP step, an OTP challenge and a recovery
//! code each work once, across sessions and nodes, because every check
//! appends to the user's aggregate under optimistic concurrency.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use twofold_domain::event::WebAuthnChallenged;
use twofold_domain::human::constant_time_eq;
use twofold_domain::lockout::LockoutSettings;
use twofold_domain::notify::Channel;
use twofold_domain::readmodel::Collection;
use twofold_domain::readmodel::directory::UserView;
use twofold_domain::readmodel::login_policy::LoginPolicyView;
use twofold_domain::readmodel::query::{ListRequest, SessionQuery, sessions_page};
use twofold_domain::readmodel::session::SessionView;
use twofold_domain::session::challenges::{self, ChallengeRequest, NewChallenges, OTP_CODE_LEN};
use twofold_domain::session::checks::{
    self, AssertionVerified, CheckRequest, Evidence, HashComparison, PasswordEvidence, RecoveryEvidence, TotpEvidence,
};
use twofold_domain::session::{self, SessionState, SessionUser};
use twofold_domain::user::{TotpState, UserState};
use twofold_domain::{AggregateRef, DomainError, SessionId, Timestamp, UserId};
use webauthn_rs::prelude::{PublicKeyCredential, SecurityKey, SecurityKeyAuthentication, WebauthnError};

use crate::access::{SessionAccess, not_permitted, session_token};
use crate::auth::RequestCtx;
use crate::command::{Decision, Loaded, history, user_state};
use crate::notify::{Delivery, Purpose};
use crate::{App, WriteDetails, passkeys, passwords, secrets, totp, u2f};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserRef {
    Id(UserId),
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
    /// Relying party ID of a WebAuthn challenge.
    pub web_auth_n: Option<String>,
    /// The WebAuthn challenge requires user verification: passkeys, not
    /// security keys.
    pub passkey: bool,
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
    pub session_id: SessionId,
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

impl SessionRead {
    fn new(mut session: SessionView, user: Option<UserView>) -> Self {
        let changed = user
            .as_ref()
            .and_then(|u| u.human())
            .and_then(|h| h.password_changed_at);
        session.forget_password_checked_before(changed);
        Self { session, user }
    }
}

fn session_missing() -> DomainError {
    DomainError::not_found("QUERY-SFeaa", "Session does not exist")
}

/// What a request needs before the decision, done once (the decision may
/// run again after a lost race).
#[derive(Default)]
struct Prepared {
    /// Evidence of every check but TOTP (compared on each attempt with the
    /// secret as it then is).
    evidence: Evidence,
    /// Challenges to store with the session.
    new: NewChallenges,
    /// Challenges to hand back.
    challenges: Challenges,
    /// Codes to send (not returned) by SMS and by email.
    to_send: Vec<(Channel, String)>,
}

/// The user's verified security keys.
fn security_keys(user: Option<&UserState>) -> Vec<SecurityKey> {
    user.map(|us| us.u2f.as_slice())
        .unwrap_or_default()
        .iter()
        .filter_map(|t| t.credential.as_deref())
        .filter_map(|c| serde_json::from_str(c).ok())
        .collect()
}

/// A passkey whose counter did not advance may have been copied: worth an
/// operator's attention, not only the caller's error.
fn log_possible_clone(e: &DomainError) {
    if e.id == twofold_domain::passkey::POSSIBLE_CLONE {
        tracing::warn!("passkey signature counter did not advance: possible cloned authenticator");
    }
}

impl App {
    async fn find_user(&self, ctx: &RequestCtx, r: &UserRef) -> Result<UserView, DomainError> {
        let missing = twofold_domain::human::user_not_found;
        let user = match r {
            UserRef::Id(id) => self.typed_doc(&ctx.instance_id, Collection::User, id.as_str()).await?,
            UserRef::LoginName(name) => self
                .typed_lookup::<UserView>(&ctx.instance_id, Collection::User, &name.to_lowercase())
                .await?
                .into_iter()
                .next(),
        };
        let user: UserView = user.ok_or_else(missing)?;
        session::require_active_user(&user)?;
        Ok(user)
    }

    /// The declared check on the instance (`session.write`, as ZITADEL's CreateSession).
    #[tracing::instrument(skip_all)]
    pub async fn create_session(
        &self,
        ctx: &RequestCtx,
        checks: Checks,
        challenges: ChallengeRequests,
        lifetime_ns: Option<i64>,
    ) -> Result<SessionChange, DomainError> {
        self.require_on_instance(ctx).await?;
        let session_id = SessionId::new(self.ids.next());
        self.change_session(ctx, &session_id, None, checks, challenges, lifetime_ns)
            .await
    }

    #[tracing::instrument(skip_all, fields(session_id = %session_id))]
    pub async fn set_session(
        &self,
        ctx: &RequestCtx,
        session_id: &SessionId,
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
        let user = state.user.as_ref().map(|u| (&u.user_id, &u.org_id));
        match self
            .session_access(ctx, &state.creator, user, token, session_missing())
            .await?
        {
            SessionAccess::Token(t) => state.require_token(&self.keys.token_hash(t))?,
            SessionAccess::Caller => {}
        }
        if !state.exists {
            return Err(session_missing());
        }
        state.require_usable(self.now())?;
        self.change_session(ctx, session_id, Some(state), checks, challenges, lifetime_ns)
            .await
    }

    /// Runs checks and challenges on a new session (`existing` None) or on
    /// the session whose state the caller already read and authorized.
    async fn change_session(
        &self,
        ctx: &RequestCtx,
        session_id: &SessionId,
        existing: Option<SessionState>,
        checks: Checks,
        challenges: ChallengeRequests,
        lifetime_ns: Option<i64>,
    ) -> Result<SessionChange, DomainError> {
        let is_new = existing.is_none();
        let existing = existing.unwrap_or_default();
        let mut checked_user = match &checks.user {
            Some(r) => Some(self.find_user(ctx, r).await?),
            None => None,
        };
        if let Some(u) = &checked_user {
            existing.require_same_user(&u.id)?;
        }
        // A discoverable passkey challenge answered in a session without a
        // user: the assertion names the user, checked with it.
        let discoverable = existing.webauthn_challenge.as_ref().filter(|c| c.discoverable);
        if let (None, None, Some(challenge), Some(assertion)) =
            (&checked_user, &existing.user, discoverable, &checks.web_auth_n)
        {
            checked_user = Some(self.passkey_holder(ctx, challenge, assertion).await?);
        }
        let user: Option<UserView> = match (&checked_user, &existing.user) {
            (Some(u), _) => Some(u.clone()),
            (None, Some(u)) => {
                let user: Option<UserView> = self
                    .typed_doc(&ctx.instance_id, Collection::User, u.user_id.as_str())
                    .await?;
                if let Some(user) = &user {
                    session::require_not_deactivated(user)?;
                }
                user
            }
            (None, None) => None,
        };
        let policy = match &user {
            Some(u) => Some(self.org_login_policy(&ctx.instance_id, &u.org_id).await?),
            None => None,
        };
        let lockout = match &user {
            Some(u) => {
                self.org_policy::<LockoutSettings>(&ctx.instance_id, &u.org_id)
                    .await?
                    .settings
            }
            None => Default::default(),
        };
        let prepared = self
            .prepare(ctx, &existing, user.as_ref(), policy.as_ref(), &checks, &challenges)
            .await?;

        let token = secrets::random_token(32);
        let token_hash = self.keys.token_hash(&token);
        let now = self.now();
        let checked_user = checked_user.map(|u| SessionUser {
            user_id: u.id,
            org_id: u.org_id,
        });
        let mut aggregates = vec![AggregateRef::session(session_id, &ctx.instance_id)];
        if let Some(u) = &user {
            aggregates.push(AggregateRef::user(&u.id, &u.org_id));
        }
        let decide = |loaded: &[Loaded]| -> Result<(Decision, bool), DomainError> {
            let state = SessionState::fold(history(loaded, 0));
            let user_state = (loaded.len() > 1).then(|| user_state(loaded, 1));
            let evidence = Evidence {
                totp: checks
                    .totp
                    .as_ref()
                    .map(|code| self.totp_evidence(user_state.as_ref(), code, now)),
                ..prepared.evidence.clone()
            };
            let out = checks::decide_checks(
                &state,
                user_state.as_ref(),
                &CheckRequest {
                    is_new,
                    checked_user: checked_user.as_ref(),
                    policy: policy.as_ref(),
                    lockout,
                    evidence: &evidence,
                    challenges: &prepared.new,
                    lifetime_ns,
                    otp_throttle_secs: self.config.otp_throttle_secs,
                    now,
                    token_hash: &token_hash,
                },
            )?;
            // A refused passkey is stored as a failed attempt, the error
            // coming back after the append.
            if let Some(e) = &out.error {
                log_possible_clone(e);
            }
            let mut events = vec![out.session_events];
            // Without a user there is no user aggregate to append to.
            if user_state.is_some() {
                events.push(out.user_events);
            }
            let decision = Decision {
                events,
                error_after_push: out.error,
                ..Decision::default()
            };
            Ok((decision, out.token_rotated))
        };
        let (details, rotated) = self
            .execute_many_with(&ctx.instance_id, ctx.caller.user_id.as_str(), aggregates, decide)
            .await?;
        if let Some(u) = user.as_ref().filter(|_| !prepared.to_send.is_empty()) {
            let h = u.human();
            for (channel, code) in prepared.to_send {
                self.deliver(Delivery {
                    instance_id: ctx.instance_id.clone(),
                    purpose: Purpose::SignIn {
                        session_id: session_id.clone(),
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
            session_id: session_id.clone(),
            token: rotated.then_some(token),
            details,
            challenges: prepared.challenges,
        })
    }

    /// A TOTP code compared with the user's current secret at `now`.
    fn totp_evidence(&self, user: Option<&UserState>, code: &str, now: Timestamp) -> TotpEvidence {
        let Some(TotpState::Ready { sealed_secret, .. }) = user.map(|u| &u.totp) else {
            // The domain refuses the check before it looks at the evidence.
            return TotpEvidence::Step(None);
        };
        match self.keys.open(sealed_secret) {
            Some(secret) => TotpEvidence::Step(totp::matched_step(&secret, code, now.0 as u64 / 1_000_000)),
            None => TotpEvidence::SecretUnreadable,
        }
    }

    /// The domain's rules for the WebAuthn check and the challenges first
    /// (nothing is hashed or generated for a request they refuse), then the
    /// slow hash comparisons off the async runtime, the assertion, and new
    /// codes and challenges.
    async fn prepare(
        &self,
        ctx: &RequestCtx,
        existing: &SessionState,
        user: Option<&UserView>,
        policy: Option<&LoginPolicyView>,
        checks: &Checks,
        requests: &ChallengeRequests,
    ) -> Result<Prepared, DomainError> {
        let user_state = match user {
            Some(u) => Some(self.user_state(ctx, u).await?),
            None => None,
        };
        let us = user_state.as_ref();
        let assertion_challenge = match &checks.web_auth_n {
            Some(_) => Some(challenges::require_webauthn_check(existing, us, policy)?),
            None => None,
        };
        let keys = match requests.web_auth_n {
            Some(_) if !requests.passkey => security_keys(us),
            _ => vec![],
        };
        let user_passkeys = match (&requests.web_auth_n, us) {
            (Some(_), Some(us)) if requests.passkey => passkeys::passkeys_of(us),
            _ => vec![],
        };
        let asked = ChallengeRequest {
            otp_sms: requests.otp_sms.is_some(),
            otp_email: requests.otp_email.is_some(),
            webauthn: requests.web_auth_n.is_some(),
            passkey: requests.passkey,
        };
        challenges::require_challenges(us, policy, asked, keys.len() + user_passkeys.len())?;

        let mut p = Prepared::default();
        if let Some(password) = &checks.password {
            let hash = us.and_then(|us| us.password_hash.clone());
            let compared = match hash {
                Some(hash) => {
                    let results = passwords::verify_blocking(password.clone(), vec![hash.clone()]).await?;
                    let matched = results.first() == Some(&true);
                    Some(HashComparison { hash, matched })
                }
                None => None,
            };
            p.evidence.password = Some(PasswordEvidence { compared });
        }
        if let Some(code) = &checks.recovery_code {
            let hashes = us.map(|us| us.recovery_code_hashes.clone()).unwrap_or_default();
            let matches = match us {
                Some(_) => passwords::verify_blocking(code.trim().to_uppercase(), hashes.clone()).await?,
                None => vec![],
            };
            let matched_hash = hashes.into_iter().zip(matches).find(|(_, m)| *m).map(|(h, _)| h);
            p.evidence.recovery_code = Some(RecoveryEvidence { matched_hash });
        }
        if let (Some(assertion), Some(challenge), Some(us), Some(u)) =
            (&checks.web_auth_n, assertion_challenge, us, user)
        {
            if challenges::is_passkey_challenge(challenge) {
                p.evidence.passkey = Some(passkeys::finish_assertion(us, &u.id, challenge, assertion.clone()));
            } else {
                p.evidence.webauthn = Some(self.finish_assertion(us, challenge, assertion.clone()));
            }
        }
        p.evidence.otp_sms = checks.otp_sms.as_ref().map(|c| self.keys.token_hash(c));
        p.evidence.otp_email = checks.otp_email.as_ref().map(|c| self.keys.token_hash(c));

        for (requested, channel) in [(requests.otp_sms, Channel::Sms), (requests.otp_email, Channel::Email)] {
            let Some(return_code) = requested else { continue };
            let code = secrets::random_code(OTP_CODE_LEN, b"0123456789");
            let stored = challenges::otp_challenge(self.keys.token_hash(&code), self.now());
            if !return_code {
                p.to_send.push((channel, code.clone()));
            }
            let returned = return_code.then_some(code);
            match channel {
                Channel::Sms => (p.new.otp_sms, p.challenges.otp_sms) = (Some(stored), returned),
                Channel::Email => (p.new.otp_email, p.challenges.otp_email) = (Some(stored), returned),
            }
        }
        if let Some(rp_id) = &requests.web_auth_n {
            let begin_failed =
                |e: WebauthnError| DomainError::internal("WEBAU-Int02", format!("WebAuthN begin login failed: {e}"));
            let rp = u2f::relying_party(rp_id)?;
            let discoverable = challenges::is_discoverable(us, asked);
            let (options, state, user_verification) = if discoverable {
                let (mut options, state) = rp.start_discoverable_authentication().map_err(begin_failed)?;
                // The library asks for conditional mediation (autofill); the
                // login UI decides how to ask, given ZITADEL's `{"publicKey":…}`.
                options.mediation = None;
                (
                    serde_json::to_value(options),
                    serde_json::to_string(&state),
                    challenges::PASSKEY_USER_VERIFICATION,
                )
            } else if requests.passkey {
                let keys: Vec<_> = user_passkeys.into_iter().map(|(_, k)| k).collect();
                let (options, state) = rp.start_passkey_authentication(&keys).map_err(begin_failed)?;
                let state = serde_json::to_string(&state);
                (
                    serde_json::to_value(options),
                    state,
                    challenges::PASSKEY_USER_VERIFICATION,
                )
            } else {
                let (options, state) = rp.start_securitykey_authentication(&keys).map_err(begin_failed)?;
                (serde_json::to_value(options), serde_json::to_string(&state), "")
            };
            p.new.webauthn = Some(WebAuthnChallenged {
                state: state.map_err(|e| DomainError::internal("WEBAU-Int03", e.to_string()))?,
                rp_id: rp_id.clone(),
                user_verification: user_verification.to_owned(),
                discoverable,
            });
            p.challenges.web_auth_n = Some(options.unwrap_or_default());
        }
        Ok(p)
    }

    /// Checks an assertion against the session's challenge with the relying
    /// party; on success the key with its new counter, and user verification.
    fn finish_assertion(
        &self,
        us: &UserState,
        challenge: &WebAuthnChallenged,
        assertion: serde_json::Value,
    ) -> Result<AssertionVerified, String> {
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
                return Ok(AssertionVerified {
                    token_id: t.id.clone(),
                    credential: serde_json::to_string(&key).map_err(|e| e.to_string())?,
                    user_verified: result.user_verified(),
                });
            }
        }
        Err("the credential is not one of the user's security keys".into())
    }

    /// A session, by token or by the caller's relation to it.
    pub async fn get_session(
        &self,
        ctx: &RequestCtx,
        session_id: &SessionId,
        token: Option<&str>,
    ) -> Result<SessionRead, DomainError> {
        let session = match session_token(ctx, token)? {
            Some(t) => {
                let session: SessionView = self
                    .typed_doc(&ctx.instance_id, Collection::Session, session_id.as_str())
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
            Some(id) => self.typed_doc(&ctx.instance_id, Collection::User, id.as_str()).await?,
            None => None,
        };
        Ok(SessionRead::new(session, user))
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
        let all: Vec<SessionView> = self.typed_prefix(&ctx.instance_id, Collection::Session, "").await?;
        let matching = all
            .into_iter()
            .filter(|s| queries.iter().all(|q| q.matches(s, ctx.caller.user_id.as_str())))
            .collect();
        let visible = self.readable_sessions(ctx, matching).await?;
        let (total, page) = sessions_page(visible, by_creation, list);
        let mut out = Vec::with_capacity(page.len());
        for s in page {
            let user = match &s.user_id {
                Some(id) => self.typed_doc(&ctx.instance_id, Collection::User, id.as_str()).await?,
                None => None,
            };
            out.push(SessionRead::new(s, user));
        }
        Ok((total, out))
    }

    /// Terminates a session; one that does not exist (any more) is fine.
    #[tracing::instrument(skip_all, fields(session_id = %session_id))]
    pub async fn delete_session(
        &self,
        ctx: &RequestCtx,
        session_id: &SessionId,
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
        // A session the caller cannot read is refused like one it may not
        // delete: deleting one that does not exist (any more) succeeds.
        let user = state.user.as_ref().map(|u| (&u.user_id, &u.org_id));
        match self
            .session_access(ctx, &state.creator, user, token, not_permitted())
            .await?
        {
            SessionAccess::Token(t) => state.require_token(&self.keys.token_hash(t))?,
            SessionAccess::Caller => {}
        }
        self.execute(&ctx.instance_id, ctx.caller.user_id.as_str(), agg, |events| {
            Ok(session::decide_terminate(&SessionState::fold(events)))
        })
        .await
    }
}
