//! Invite codes (UserService v2): a human user without a password gets a
//! code, by email or returned to the caller, to set up its account.
//! Verifying the code verifies the email address it went to.

use twofold_domain::event::InviteCodeAdded;
use twofold_domain::invite;
use twofold_domain::notify::Channel;
use twofold_domain::url_template;
use twofold_domain::{AggregateRef, DomainError, EventPayload, UserId};

use crate::auth::RequestCtx;
use crate::command::Decision;
use crate::humans::Recipient;
use crate::notify::{Delivery, Purpose};
use crate::{App, WriteDetails};

/// Invite codes are valid for 72 hours.
const INVITE_LIFETIME_MICROS: i64 = 72 * 3_600 * 1_000_000;

/// How a new invite code is handed out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InviteDelivery {
    Return,
    /// By email; empty values keep the previous invite's.
    Send {
        url_template: String,
        application_name: String,
    },
}

impl App {
    /// Creates (`resend` false) or resends an invite code. Returns the code
    /// when it is to be returned.
    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn invite_code(
        &self,
        ctx: &RequestCtx,
        user_id: &UserId,
        delivery: InviteDelivery,
        resend: bool,
    ) -> Result<(WriteDetails, Option<String>), DomainError> {
        if let InviteDelivery::Send { url_template, .. } = &delivery
            && !url_template.is_empty()
        {
            url_template::check(url_template, false)?;
        }
        let missing = DomainError::precondition("COMMAND-Wgvn4", "User could not be found");
        let user = self.user_to_act_on(ctx, user_id, missing).await?;
        let (code, stored) = self.fresh_code(INVITE_LIFETIME_MICROS);
        let (url_template, application_name) = match &delivery {
            InviteDelivery::Return => (String::new(), String::new()),
            InviteDelivery::Send {
                url_template,
                application_name,
            } => (url_template.clone(), application_name.clone()),
        };
        let added = InviteCodeAdded {
            code_hash: stored.code_hash,
            expiry: stored.expiry,
            url_template,
            code_returned: delivery == InviteDelivery::Return,
            application_name,
        };
        // The application name and link as decided (they may be the previous invite's).
        let (d, (application_name, link_template)) = self
            .execute_many_with(
                &ctx.instance_id,
                ctx.caller.user_id.as_str(),
                vec![AggregateRef::user(&user.id, &user.org_id)],
                |loaded| {
                    let s = crate::command::user_state(loaded, 0);
                    let events = if resend {
                        invite::decide_resend_invite(&s, added.clone())?
                    } else {
                        invite::decide_create_invite(&s, added.clone())?
                    };
                    let sent_as = events.iter().find_map(|e| match e {
                        EventPayload::InviteCodeAdded(c) => Some((c.application_name.clone(), c.url_template.clone())),
                        _ => None,
                    });
                    Ok((Decision::one(events), sent_as.unwrap_or_default()))
                },
            )
            .await?;
        if delivery == InviteDelivery::Return {
            return Ok((d, Some(code)));
        }
        let (email, name) = user
            .human()
            .map(|h| (h.email.clone(), h.display_name.clone()))
            .unwrap_or_default();
        let to = Recipient {
            channel: Channel::Email,
            address: &email,
            display_name: &name,
            link_template: Some(&link_template),
        };
        let user_ref = AggregateRef::user(&user.id, &user.org_id);
        let link = to.link(&user_ref, &code);
        self.deliver(Delivery {
            instance_id: ctx.instance_id.clone(),
            purpose: Purpose::Invite {
                user: user_ref,
                application_name,
                link,
            },
            channel: Channel::Email,
            recipient: email,
            display_name: name,
            code,
        });
        Ok((d, None))
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn verify_invite_code(
        &self,
        ctx: &RequestCtx,
        user_id: &UserId,
        code: &str,
    ) -> Result<WriteDetails, DomainError> {
        let missing = DomainError::precondition("COMMAND-F5g2h", "User could not be found");
        let user = self.user_to_act_on(ctx, user_id, missing).await?;
        let hash = self.keys.token_hash(code.trim());
        let now = self.now();
        self.check_user_code(ctx, &user, |s| invite::decide_verify_invite(s, &hash, now))
            .await
    }
}
