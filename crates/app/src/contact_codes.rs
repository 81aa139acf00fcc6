//! Email and phone verification codes after the address or number was set
//! (UserService v2): send, resend, verify, and removing the phone. Codes
//! are random, stored only as keyed hashes, expire after an hour and are
//! used once; a verified email or phone is what OTP by email or SMS needs.

use twofold_domain::contact_codes::{self, Refused};
use twofold_domain::human;
use twofold_domain::notify::Channel;
use twofold_domain::permissions::{On, Permission};
use twofold_domain::url_template;
use twofold_domain::{AggregateRef, DomainError, EventPayload, UserId};

use crate::access::Authorized;
use crate::auth::RequestCtx;
use crate::command::Decision;
use crate::humans::{CODE_LIFETIME_MICROS, ContactMode, Recipient};
use crate::{App, WriteDetails};
use twofold_domain::readmodel::directory::UserView;
use twofold_domain::user::UserState;

/// A code check's decision: its events, or a refusal whose failure event is
/// stored before the error is reported.
pub(crate) fn recorded(outcome: Result<Vec<EventPayload>, Refused>) -> Result<Decision, DomainError> {
    match outcome {
        Ok(events) => Ok(Decision::one(events)),
        Err(Refused {
            error,
            record: Some(event),
        }) => Ok(Decision {
            error_after_push: Some(error),
            ..Decision::one(vec![*event])
        }),
        Err(Refused { error, record: None }) => Err(error),
    }
}

impl App {
    /// Marking an email address or phone number verified vouches for it
    /// (OTP by email or SMS then trusts it): even on itself the caller
    /// needs `user.write` in the user's org.
    pub(crate) async fn require_vouching(
        &self,
        ctx: &RequestCtx,
        user: &UserView,
        modes: &[Option<ContactMode>],
    ) -> Result<(), DomainError> {
        if ctx.caller.user_id == user.id && modes.contains(&Some(ContactMode::Verified)) {
            self.require_permission(ctx, On::Org(&user.org_id), Permission::UserWrite)
                .await?;
        }
        Ok(())
    }

    /// Runs a code check on the user's aggregate (see [`recorded`]).
    pub(crate) async fn check_user_code(
        &self,
        ctx: &RequestCtx,
        user: &Authorized<UserView>,
        decide: impl Fn(&UserState) -> Result<Vec<EventPayload>, Refused>,
    ) -> Result<WriteDetails, DomainError> {
        self.execute_many(
            &ctx.instance_id,
            ctx.caller.user_id.as_str(),
            vec![AggregateRef::user(&user.id, &user.org_id)],
            |loaded| recorded(decide(&crate::command::user_state(loaded, 0))),
        )
        .await
    }

    /// A new code for the user's email address (`resend`: replacing a
    /// pending one, which must exist), returned or sent per `mode`.
    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn email_code(
        &self,
        ctx: &RequestCtx,
        user_id: &UserId,
        mode: ContactMode,
        link_template: Option<&str>,
        resend: bool,
    ) -> Result<(WriteDetails, Option<String>), DomainError> {
        if let Some(t) = link_template {
            url_template::check(t, false)?;
        }
        let user = self
            .user_to_act_on(ctx, user_id, contact_codes::contact_missing(false))
            .await?;
        let (code, added) = self.fresh_code(CODE_LIFETIME_MICROS);
        let d = self
            .on_user(ctx, &user, |s| {
                contact_codes::decide_email_code(s, added.clone(), resend)
            })
            .await?;
        let (email, name) = user
            .human()
            .map(|h| (h.email.clone(), h.display_name.clone()))
            .unwrap_or_default();
        let agg = AggregateRef::user(&user.id, &user.org_id);
        let code = self
            .dispatch_code(
                ctx,
                agg,
                mode,
                Some(code),
                Recipient {
                    channel: Channel::Email,
                    address: &email,
                    display_name: &name,
                    link_template,
                },
            )
            .await?;
        Ok((d, code))
    }

    /// A new code for the user's phone number in place of the pending one.
    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn resend_phone_code(
        &self,
        ctx: &RequestCtx,
        user_id: &UserId,
        mode: ContactMode,
    ) -> Result<(WriteDetails, Option<String>), DomainError> {
        let user = self
            .user_to_act_on(ctx, user_id, contact_codes::contact_missing(true))
            .await?;
        let (code, added) = self.fresh_code(CODE_LIFETIME_MICROS);
        let d = self
            .on_user(ctx, &user, |s| {
                contact_codes::decide_resend_phone_code(s, added.clone())
            })
            .await?;
        let (phone, name) = user
            .human()
            .map(|h| (h.phone.clone(), h.display_name.clone()))
            .unwrap_or_default();
        let agg = AggregateRef::user(&user.id, &user.org_id);
        let code = self
            .dispatch_code(
                ctx,
                agg,
                mode,
                Some(code),
                Recipient {
                    channel: Channel::Sms,
                    address: &phone,
                    display_name: &name,
                    link_template: None,
                },
            )
            .await?;
        Ok((d, code))
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn remove_phone(&self, ctx: &RequestCtx, user_id: &UserId) -> Result<WriteDetails, DomainError> {
        let user = self
            .user_to_act_on(ctx, user_id, contact_codes::contact_missing(true))
            .await?;
        self.on_user(ctx, &user, contact_codes::decide_remove_phone).await
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn verify_email(
        &self,
        ctx: &RequestCtx,
        user_id: &UserId,
        code: &str,
    ) -> Result<WriteDetails, DomainError> {
        let user = self.user_to_act_on(ctx, user_id, human::user_not_found()).await?;
        let hash = self.keys.token_hash(code.trim());
        let now = self.now();
        self.check_user_code(ctx, &user, |s| contact_codes::decide_verify_email(s, &hash, now))
            .await
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn verify_phone(
        &self,
        ctx: &RequestCtx,
        user_id: &UserId,
        code: &str,
    ) -> Result<WriteDetails, DomainError> {
        let user = self.user_to_act_on(ctx, user_id, human::user_not_found()).await?;
        let hash = self.keys.token_hash(code.trim());
        let now = self.now();
        self.check_user_code(ctx, &user, |s| contact_codes::decide_verify_phone(s, &hash, now))
            .await
    }
}
