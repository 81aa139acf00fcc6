//! Password reset and password set (UserService v2 `PasswordReset`,
//! `SetPassword`; Management v1 `SetHumanPassword`,
//! `SendHumanResetPasswordNotification`; Auth v1 `UpdateMyPassword`): reset codes sent through the configured provider or
//! returned; new passwords checked against the complexity policy of the
//! user's org, hashed on the hashing threads, and set when the request's
//! proof holds (the domain decides, see `twofold_domain::password_code`).

use twofold_domain::lockout::LockoutSettings;
use twofold_domain::notify::Channel;
use twofold_domain::password_code::{
    self as code, CODE_LIFETIME_MICROS, PasswordCodeAdded, Proof, ResetMedium, SetOutcome,
};
use twofold_domain::password_complexity::{PasswordComplexitySettings, PasswordSet};
use twofold_domain::permissions::Permission;
use twofold_domain::readmodel::directory::UserView;
use twofold_domain::session::checks::HashComparison;
use twofold_domain::url_template::{self, LinkData};
use twofold_domain::user::UserState;
use twofold_domain::{AggregateRef, DomainError, Timestamp, UserId};

use crate::access::{Authorized, Reach};
use crate::auth::RequestCtx;
use crate::command::Decision;
use crate::notify::{Delivery, Purpose};
use crate::{App, WriteDetails, passwords};

/// What authorises a `SetPassword`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SetPasswordBy {
    /// The caller's `user.write` on the user's org (not on itself).
    Permission,
    /// A reset code from `PasswordReset`.
    Code(String),
    /// The user's current password.
    CurrentPassword(String),
}

/// A password set ready for the decision (see `App::prepare_password_set`).
pub(crate) struct PreparedPasswordSet {
    proof: Proof,
    lockout: LockoutSettings,
    /// The new password's hash; None when the proof did not allow it.
    hash: Option<String>,
    change_required: bool,
    now: Timestamp,
}

impl PreparedPasswordSet {
    /// The domain's decision on the user as loaded for the write: the
    /// events, and the error to return once they are stored (a refused
    /// proof records its failure).
    pub(crate) fn decide(&self, state: &UserState) -> Result<SetOutcome, DomainError> {
        let new_hash = self.hash.as_deref().unwrap_or_default();
        let out = code::decide_set_password(
            state,
            self.lockout,
            &self.proof,
            new_hash,
            self.change_required,
            self.now,
        )?;
        if out.error.is_none() && self.hash.is_none() {
            // Allowed only after a concurrent change: decide again from the start.
            return Err(DomainError::unavailable(
                "SESSION-PwRace",
                "The password changed; try again",
            ));
        }
        Ok(out)
    }
}

/// The link a reset code is sent with when the caller gives no template:
/// the hosted login v2 on the host the request came to.
fn default_url_template(host: &str) -> String {
    format!(
        "https://{host}/ui/v2/login/password/set?code={{{{.Code}}}}&userId={{{{.UserID}}}}&organization={{{{.OrgID}}}}"
    )
}

impl App {
    /// Creates a reset code for the user: sent by email or SMS with a link
    /// from `url_template` (default: the hosted login on `host`), or
    /// returned when `medium` says so.
    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn request_password_reset(
        &self,
        ctx: &RequestCtx,
        user_id: &UserId,
        medium: ResetMedium,
        url_template: Option<&str>,
        host: &str,
    ) -> Result<(WriteDetails, Option<String>), DomainError> {
        let user = self.user_to_act_on(ctx, user_id, code::reset_target_missing()).await?;
        self.reset_code_for(ctx, &user, medium, url_template, host).await
    }

    /// Management v1 `SendHumanResetPasswordNotification`: a user of the
    /// context org, sent with the default link.
    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn send_password_reset_in_org(
        &self,
        ctx: &RequestCtx,
        user_id: &UserId,
        medium: ResetMedium,
        host: &str,
    ) -> Result<WriteDetails, DomainError> {
        let missing = code::reset_target_missing();
        let user = self
            .visible_user(ctx, user_id, Reach::ContextOrg(Permission::UserWrite), missing)
            .await?;
        Ok(self.reset_code_for(ctx, &user, medium, None, host).await?.0)
    }

    async fn reset_code_for(
        &self,
        ctx: &RequestCtx,
        user: &Authorized<UserView>,
        medium: ResetMedium,
        url_template: Option<&str>,
        host: &str,
    ) -> Result<(WriteDetails, Option<String>), DomainError> {
        let human = user.human().ok_or_else(code::reset_target_missing)?;
        // The same 6-character, keyed-hash, one-hour code as e-mail codes.
        let (code, stored) = self.fresh_code(CODE_LIFETIME_MICROS);
        let template = match medium {
            ResetMedium::Returned => String::new(),
            ResetMedium::Email | ResetMedium::Sms => {
                url_template.map_or_else(|| default_url_template(host), str::to_owned)
            }
        };
        let link = url_template::render(
            &template,
            LinkData {
                user_id: user.id.as_str(),
                code: &code,
                org_id: user.org_id.as_str(),
                code_id: None,
            },
        )?;
        let added = PasswordCodeAdded {
            code_hash: stored.code_hash,
            expiry: stored.expiry,
            notification_type: if medium == ResetMedium::Sms { 2 } else { 0 },
            url_template: template,
            code_returned: medium == ResetMedium::Returned,
        };
        let d = self
            .on_user(ctx, user, |s| code::decide_add_code(s, added.clone()))
            .await?;
        let (channel, recipient) = match medium {
            ResetMedium::Returned => return Ok((d, Some(code))),
            ResetMedium::Email => (Channel::Email, human.email.clone()),
            ResetMedium::Sms => (Channel::Sms, human.phone.clone()),
        };
        self.deliver(Delivery {
            instance_id: ctx.instance_id.clone(),
            purpose: Purpose::PasswordReset {
                user: AggregateRef::user(&user.id, &user.org_id),
                link,
            },
            channel,
            recipient,
            display_name: human.display_name.clone(),
            code,
        });
        Ok((d, None))
    }

    /// `SetPassword`: with a code or the current password any caller that
    /// sees the user may set it; without either, only one with the RPC's
    /// declared permission on the user's org (never on itself).
    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn set_password(
        &self,
        ctx: &RequestCtx,
        user_id: &UserId,
        new_password: &str,
        change_required: bool,
        by: SetPasswordBy,
    ) -> Result<WriteDetails, DomainError> {
        let missing = code::set_target_missing();
        let user = match by {
            SetPasswordBy::Permission => self.user_to_act_on(ctx, user_id, missing).await?,
            SetPasswordBy::Code(_) | SetPasswordBy::CurrentPassword(_) => {
                self.visible_user(ctx, user_id, Reach::Readable, missing).await?
            }
        };
        self.set_password_of(ctx, &user, new_password, change_required, by)
            .await
    }

    /// Management v1 `SetHumanPassword`: a user of the context org.
    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn set_password_in_org(
        &self,
        ctx: &RequestCtx,
        user_id: &UserId,
        new_password: &str,
        change_required: bool,
    ) -> Result<WriteDetails, DomainError> {
        let missing = code::set_target_missing();
        let user = self
            .visible_user(ctx, user_id, Reach::ContextOrg(Permission::UserWrite), missing)
            .await?;
        self.set_password_of(ctx, &user, new_password, change_required, SetPasswordBy::Permission)
            .await
    }

    /// Auth v1 `UpdateMyPassword`: the caller's own password, with the
    /// current one as proof.
    #[tracing::instrument(skip_all)]
    pub async fn change_my_password(
        &self,
        ctx: &RequestCtx,
        current: &str,
        new_password: &str,
    ) -> Result<WriteDetails, DomainError> {
        let me = ctx.caller.user_id.clone();
        let user = self
            .visible_user(ctx, &me, Reach::Readable, code::set_target_missing())
            .await?;
        let by = SetPasswordBy::CurrentPassword(current.to_owned());
        self.set_password_of(ctx, &user, new_password, false, by).await
    }

    /// Sets the password of a user the caller was allowed to act on.
    async fn set_password_of(
        &self,
        ctx: &RequestCtx,
        user: &Authorized<UserView>,
        new_password: &str,
        change_required: bool,
        by: SetPasswordBy,
    ) -> Result<WriteDetails, DomainError> {
        let set = self
            .prepare_password_set(ctx, user, new_password, change_required, by)
            .await?;
        let agg = AggregateRef::user(&user.id, &user.org_id);
        self.execute_many(&ctx.instance_id, ctx.caller.user_id.as_str(), vec![agg], |loaded| {
            let out = set.decide(&crate::command::user_state(loaded, 0))?;
            Ok(Decision {
                error_after_push: out.error,
                ..Decision::one(out.events)
            })
        })
        .await
    }

    /// Everything a password set needs before the decision: the new
    /// password checked against the complexity policy of the user's org,
    /// the proof prepared (the current password compared), and the new
    /// password hashed if the proof allows it as the state now is.
    pub(crate) async fn prepare_password_set(
        &self,
        ctx: &RequestCtx,
        user: &UserView,
        new_password: &str,
        change_required: bool,
        by: SetPasswordBy,
    ) -> Result<PreparedPasswordSet, DomainError> {
        if user.human().is_none() {
            return Err(code::set_target_missing());
        }
        self.org_policy::<PasswordComplexitySettings>(&ctx.instance_id, &user.org_id)
            .await?
            .settings
            .check(new_password, PasswordSet::Change)?;
        let agg = AggregateRef::user(&user.id, &user.org_id);
        let state = self.load_user(&ctx.instance_id, &agg).await?;
        let proof = match by {
            SetPasswordBy::Permission => Proof::Permission,
            SetPasswordBy::Code(c) => Proof::Code(self.keys.token_hash(c.trim())),
            SetPasswordBy::CurrentPassword(current) => {
                // Compared with the hash as read; the decision refuses the
                // set if the password changed meanwhile.
                let compared = match &state.password_hash {
                    Some(hash) => {
                        let matched = passwords::verify_blocking(current.clone(), vec![hash.clone()]).await?;
                        Some(HashComparison {
                            hash: hash.clone(),
                            matched: matched.first() == Some(&true),
                        })
                    }
                    None => None,
                };
                Proof::CurrentPassword {
                    compared,
                    same_as_new: current == new_password,
                }
            }
        };
        let lockout = self
            .org_policy::<LockoutSettings>(&ctx.instance_id, &user.org_id)
            .await?
            .settings;
        let now = self.now();
        // The new password is hashed only for a request the proof allows
        // (as the state was read), so wrong guesses cost one hash, not two.
        let allowed = code::decide_set_password(&state, lockout, &proof, "", change_required, now)
            .is_ok_and(|out| out.error.is_none());
        let hash = if allowed {
            Some(passwords::hash_blocking(new_password.to_owned(), self.config.password_hashing).await?)
        } else {
            None
        };
        Ok(PreparedPasswordSet {
            proof,
            lockout,
            hash,
            change_required,
            now,
        })
    }
}
