//! Changing a user (UserService v2 UpdateUser/UpdateHumanUser): user name,
//! profile, email and phone (with their codes), a human's password (the
//! rules of SetPassword), a machine's name and description. Only what was
//! sent and differs is stored, all of it in one append.

use twofold_domain::event::UsernameChanged;
use twofold_domain::human;
use twofold_domain::notify::Channel;
use twofold_domain::permissions::{On, Permission};
use twofold_domain::url_template;
use twofold_domain::user_update::{self, HumanUpdate, PhoneUpdate, ProfileUpdate};
use twofold_domain::{AggregateRef, DomainError, EventPayload, UserId};

use crate::auth::RequestCtx;
use crate::command::{Decision, unique};
use crate::humans::{ContactMode, Recipient};
use crate::password_reset::SetPasswordBy;
use crate::{App, WriteDetails};

pub enum PhoneChange {
    Set(String, ContactMode),
    Remove,
}

pub enum UpdateKind {
    Human {
        profile: ProfileUpdate,
        email: Option<(String, ContactMode)>,
        /// Template of the link a verification mail carries (checked here).
        email_link: Option<String>,
        phone: Option<PhoneChange>,
        password: Option<Box<PasswordChange>>,
    },
    Machine {
        name: Option<String>,
        description: Option<String>,
    },
}

/// A new password with what authorises it, as `SetPassword` takes them.
pub struct PasswordChange {
    pub password: String,
    pub change_required: bool,
    pub by: SetPasswordBy,
}

pub struct UserUpdate {
    pub user_name: Option<String>,
    pub kind: UpdateKind,
}

pub struct UserUpdated {
    pub details: WriteDetails,
    /// Only when a new code was issued and is to be returned.
    pub email_code: Option<String>,
    pub phone_code: Option<String>,
}

impl App {
    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn update_user(
        &self,
        ctx: &RequestCtx,
        user_id: &UserId,
        u: UserUpdate,
    ) -> Result<UserUpdated, DomainError> {
        // Shape first: nothing is looked up for a malformed address or number.
        let email_link = match &u.kind {
            UpdateKind::Human { email_link, .. } => email_link.clone(),
            UpdateKind::Machine { .. } => None,
        };
        if let Some(t) = &email_link {
            url_template::check(t, false)?;
        }
        let (email_mode, phone_mode) = match &u.kind {
            UpdateKind::Human { email, phone, .. } => (
                email.as_ref().map(|(_, m)| *m),
                match phone {
                    Some(PhoneChange::Set(_, m)) => Some(*m),
                    _ => None,
                },
            ),
            UpdateKind::Machine { .. } => (None, None),
        };
        let mut email_code = None;
        let mut phone_code = None;
        let human_update = match &u.kind {
            UpdateKind::Human {
                profile, email, phone, ..
            } => {
                let email = match email {
                    Some((address, mode)) => {
                        let (code, v) = self.new_code(*mode);
                        email_code = code;
                        Some((human::validate_email(address)?, v))
                    }
                    None => None,
                };
                let phone = match phone {
                    Some(PhoneChange::Set(number, mode)) => {
                        let (code, v) = self.new_code(*mode);
                        phone_code = code;
                        Some(PhoneUpdate::Set(human::normalize_phone(number)?, v))
                    }
                    Some(PhoneChange::Remove) => Some(PhoneUpdate::Remove),
                    None => None,
                };
                Some(HumanUpdate {
                    user_name: u.user_name.clone(),
                    profile: profile.clone(),
                    email,
                    phone,
                })
            }
            UpdateKind::Machine { .. } => None,
        };
        let user = self
            .user_to_act_on(ctx, user_id, user_update::update_target_missing())
            .await?;
        self.require_vouching(ctx, &user, &[email_mode, phone_mode]).await?;
        // The password is checked (complexity, proof) and hashed before
        // anything is written; it is stored with the rest or not at all.
        let password = match &u.kind {
            UpdateKind::Human { password: Some(p), .. } => {
                // Without a proof, as SetPassword: user.write even on oneself.
                if p.by == SetPasswordBy::Permission && ctx.caller.user_id == user.id {
                    self.require_permission(ctx, On::Org(&user.org_id), Permission::UserWrite)
                        .await?;
                }
                Some(
                    self.prepare_password_set(ctx, &user, &p.password, p.change_required, p.by.clone())
                        .await?,
                )
            }
            _ => None,
        };
        let (details, (email_issued, phone_issued)) = self
            .execute_many_with(
                &ctx.instance_id,
                ctx.caller.user_id.as_str(),
                vec![AggregateRef::user(&user.id, &user.org_id)],
                |loaded| {
                    let state = crate::command::user_state(loaded, 0);
                    let mut events = match (&human_update, &u.kind) {
                        (Some(h), _) => user_update::decide_update_human(&state, h)?,
                        (None, UpdateKind::Machine { name, description }) => user_update::decide_update_machine(
                            &state,
                            u.user_name.as_ref(),
                            name.as_deref(),
                            description.as_deref(),
                        )?,
                        (None, UpdateKind::Human { .. }) => vec![],
                    };
                    if let Some(set) = &password {
                        let out = set.decide(&state)?;
                        if out.error.is_some() {
                            // A refused proof: its failure alone is stored.
                            let refused = Decision {
                                error_after_push: out.error,
                                ..Decision::one(out.events)
                            };
                            return Ok((refused, (false, false)));
                        }
                        events.extend(out.events);
                    }
                    let mut decision = Decision::one(events.clone());
                    for e in &events {
                        if let EventPayload::UsernameChanged(UsernameChanged {
                            user_name,
                            old_user_name,
                        }) = e
                        {
                            decision.claims.push(unique(&ctx.instance_id, "user_name", user_name));
                            decision
                                .releases
                                .push(unique(&ctx.instance_id, "user_name", old_user_name));
                        }
                    }
                    let issued = |f: fn(&EventPayload) -> bool| events.iter().any(f);
                    let codes = (
                        issued(|e| matches!(e, EventPayload::EmailCodeAdded(_))),
                        issued(|e| matches!(e, EventPayload::PhoneCodeAdded(_))),
                    );
                    Ok((decision, codes))
                },
            )
            .await?;
        let name = user.human().map(|h| h.display_name.clone()).unwrap_or_default();
        let agg = AggregateRef::user(&user.id, &user.org_id);
        let (email, phone) = match &human_update {
            Some(h) => (
                h.email.as_ref().map(|(e, _)| e.clone()).unwrap_or_default(),
                match &h.phone {
                    Some(PhoneUpdate::Set(p, _)) => p.clone(),
                    _ => String::new(),
                },
            ),
            None => (String::new(), String::new()),
        };
        let email_code = match (email_issued, email_mode) {
            (true, Some(mode)) => {
                let to = Recipient {
                    channel: Channel::Email,
                    address: &email,
                    display_name: &name,
                    link_template: email_link.as_deref(),
                };
                self.dispatch_code(ctx, agg.clone(), mode, email_code, to).await?
            }
            _ => None,
        };
        let phone_code = match (phone_issued, phone_mode) {
            (true, Some(mode)) => {
                let to = Recipient {
                    channel: Channel::Sms,
                    address: &phone,
                    display_name: &name,
                    link_template: None,
                };
                self.dispatch_code(ctx, agg, mode, phone_code, to).await?
            }
            _ => None,
        };
        Ok(UserUpdated {
            details,
            email_code,
            phone_code,
        })
    }
}
