//! A human user's second factors: TOTP, OTP by SMS and email, recovery
//! codes; and the lists of what a user has enrolled.

use twofold_domain::permissions::Permission;
use twofold_domain::readmodel::directory::{FactorsView, UserView};
use twofold_domain::user::{TotpState, UserState};
use twofold_domain::{DomainError, EventPayload, UserId};
use twofold_domain::{human, mfa};

use crate::access::{Authorized, Reach};
use crate::auth::RequestCtx;
use crate::{App, WriteDetails, passwords, secrets, totp};

/// Recovery codes: 16 characters of base32 (80 bits) each, ten by default.
pub const DEFAULT_RECOVERY_CODES: usize = 10;
pub const MAX_RECOVERY_CODES: usize = 50;
const RECOVERY_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

pub struct NewTotp {
    pub uri: String,
    pub secret: String,
    pub details: WriteDetails,
}

/// A factor type that can be added or removed without a ceremony.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimpleFactor {
    OtpSms,
    OtpEmail,
}

/// A one-time-password factor, as removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OtpKind {
    Totp,
    Sms,
    Email,
}

/// Which API a removal comes through: the v2 user API (or the Auth API; the
/// check their RPC declares) or the Management API (users of the context
/// org, `user.write` there; users of other orgs are absent).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    UserApi,
    Management,
}

fn remove_decision(kind: OtpKind) -> fn(&UserState) -> Result<Vec<EventPayload>, DomainError> {
    match kind {
        OtpKind::Totp => mfa::decide_remove_totp,
        OtpKind::Sms => mfa::decide_remove_otp_sms,
        OtpKind::Email => mfa::decide_remove_otp_email,
    }
}

impl App {
    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn register_totp(&self, ctx: &RequestCtx, user_id: &UserId) -> Result<NewTotp, DomainError> {
        let missing = mfa::user_missing();
        let user = self.user_to_act_on(ctx, user_id, missing).await?;
        let secret = totp::new_secret();
        let sealed = self.keys.seal(&secret);
        let details = self
            .on_user(ctx, &user, |s| mfa::decide_register_totp(s, sealed.clone()))
            .await?;
        Ok(NewTotp {
            uri: totp::uri(&self.config.totp_issuer, &user.user_name, &secret),
            secret: totp::base32(&secret),
            details,
        })
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn verify_totp_registration(
        &self,
        ctx: &RequestCtx,
        user_id: &UserId,
        code: &str,
    ) -> Result<WriteDetails, DomainError> {
        let missing = mfa::totp_missing();
        let user = self.user_to_act_on(ctx, user_id, missing).await?;
        let now = self.now().0 as u64 / 1_000_000;
        self.on_user(ctx, &user, |s| {
            let matched = match &s.totp {
                TotpState::NotReady { sealed_secret } => {
                    let secret = self.keys.open(sealed_secret).ok_or_else(secrets::unsealable)?;
                    totp::matched_step(&secret, code, now)
                }
                _ => None,
            };
            mfa::decide_verify_totp(s, matched)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn remove_factor(
        &self,
        ctx: &RequestCtx,
        user_id: &UserId,
        kind: OtpKind,
        via: Via,
    ) -> Result<WriteDetails, DomainError> {
        let decide = remove_decision(kind);
        // "Not found" is the factor's own error, for unknown users too.
        let missing = || {
            decide(&UserState::default())
                .err()
                .unwrap_or_else(|| DomainError::internal("COMMAND-NoFac", "An internal error occurred"))
        };
        let user = match via {
            Via::UserApi => self.user_to_act_on(ctx, user_id, missing()).await?,
            Via::Management => {
                self.visible_user(ctx, user_id, Reach::ContextOrg(Permission::UserWrite), missing())
                    .await?
            }
        };
        self.on_user(ctx, &user, decide).await
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn add_factor(
        &self,
        ctx: &RequestCtx,
        user_id: &UserId,
        factor: SimpleFactor,
    ) -> Result<WriteDetails, DomainError> {
        let missing = mfa::user_missing();
        let user = self.user_to_act_on(ctx, user_id, missing).await?;
        self.on_user(
            ctx,
            &user,
            match factor {
                SimpleFactor::OtpSms => mfa::decide_add_otp_sms,
                SimpleFactor::OtpEmail => mfa::decide_add_otp_email,
            },
        )
        .await
    }

    /// A new set of recovery codes, returned once; only salted hashes are stored.
    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn generate_recovery_codes(
        &self,
        ctx: &RequestCtx,
        user_id: &UserId,
        count: usize,
    ) -> Result<(WriteDetails, Vec<String>), DomainError> {
        if count == 0 || count > MAX_RECOVERY_CODES {
            return Err(DomainError::invalid(
                "USER-RcCnt1",
                format!("count must be between 1 and {MAX_RECOVERY_CODES}"),
            ));
        }
        let missing = mfa::user_missing();
        let user = self.user_to_act_on(ctx, user_id, missing).await?;
        let codes: Vec<String> = (0..count)
            .map(|_| {
                let c: Vec<char> = secrets::random_code(16, RECOVERY_ALPHABET).chars().collect();
                c.chunks(4)
                    .map(|g| g.iter().collect::<String>())
                    .collect::<Vec<_>>()
                    .join("-")
            })
            .collect();
        let mut hashes = Vec::with_capacity(codes.len());
        for c in &codes {
            hashes.push(passwords::hash_blocking(c.clone(), passwords::RECOVERY_CODE_PARAMS).await?);
        }
        let d = self
            .on_user(ctx, &user, |s| mfa::decide_generate_recovery_codes(s, hashes.clone()))
            .await?;
        Ok((d, codes))
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn remove_recovery_codes(&self, ctx: &RequestCtx, user_id: &UserId) -> Result<WriteDetails, DomainError> {
        let missing = mfa::recovery_codes_missing();
        let user = self.user_to_act_on(ctx, user_id, missing).await?;
        self.on_user(ctx, &user, mfa::decide_remove_recovery_codes).await
    }

    /// Enrolled factors of a user of the context org (Management API).
    pub async fn user_factors(&self, ctx: &RequestCtx, user_id: &UserId) -> Result<FactorsView, DomainError> {
        let user = self
            .visible_user(
                ctx,
                user_id,
                Reach::ContextOrg(Permission::UserRead),
                human::user_not_found(),
            )
            .await?;
        Ok(user.into_inner().factors)
    }

    /// The caller's own enrolled factors (Auth API).
    pub async fn my_factors(&self, ctx: &RequestCtx) -> Result<FactorsView, DomainError> {
        let user = self
            .visible_user(ctx, &ctx.caller.user_id, Reach::Readable, human::user_not_found())
            .await?;
        Ok(user.into_inner().factors)
    }

    /// Enrolled factors and whether a password is set (v2
    /// ListAuthenticationMethodTypes).
    pub async fn authentication_methods(
        &self,
        ctx: &RequestCtx,
        user_id: &UserId,
    ) -> Result<Authorized<UserView>, DomainError> {
        self.user_to_act_on(ctx, user_id, human::user_not_found()).await
    }
}
