//! Human users (UserService v2): creation, lookup, listing, deletion,
//! lock/unlock, email and phone with verification codes.

use twofold_domain::event::CodeAdded;
use twofold_domain::human::{self, NewHuman, Verification};
use twofold_domain::password_complexity::{PasswordComplexitySettings, PasswordSet};
use twofold_domain::readmodel::Collection;
use twofold_domain::readmodel::directory::{OrgView, UserView};
use twofold_domain::readmodel::query::{ListRequest, UserQuery, UserSort, users_page};
use twofold_domain::user::UserState;
use twofold_domain::{AggregateRef, DomainError, OrgId, Timestamp, UserId};

use crate::access::Authorized;
use crate::auth::RequestCtx;
use crate::command::{Decision, unique};
use crate::notify::{Delivery, Purpose};
use crate::ports::{UniqueClaim, UserOrder, UserPage, UserScope};
use crate::{App, WriteDetails, passwords, secrets};
use twofold_domain::notify::Channel;
use twofold_domain::url_template::{self, LinkData};

/// Verification codes for email and phone: 6 characters, valid one hour.
const CODE_LEN: usize = 6;
pub(crate) const CODE_LIFETIME_MICROS: i64 = 3_600 * 1_000_000;

/// How an email address or phone number given with a request is handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContactMode {
    /// Mark it verified.
    Verified,
    /// Generate a code and return it to the caller.
    ReturnCode,
    /// Generate a code for delivery by the configured provider.
    SendCode,
    /// Leave it unverified without a code.
    Unverified,
}

pub struct HumanInput {
    pub user_id: Option<String>,
    pub username: Option<String>,
    /// Org by ID; None = the request's org context.
    pub org_id: Option<String>,
    pub org_domain: Option<String>,
    pub given_name: String,
    pub family_name: String,
    pub nick_name: String,
    pub display_name: String,
    pub preferred_language: String,
    pub gender: i32,
    pub email: String,
    pub email_mode: ContactMode,
    /// Template of the link the verification mail carries (checked here).
    pub email_url_template: Option<String>,
    pub phone: Option<(String, ContactMode)>,
    pub password: Option<String>,
    pub password_change_required: bool,
}

pub struct AddedHuman {
    pub user_id: String,
    pub details: WriteDetails,
    pub email_code: Option<String>,
    pub phone_code: Option<String>,
}

/// A human's email address and phone number, validated and normalised.
pub(crate) struct Contacts {
    email: String,
    phone: Option<(String, ContactMode)>,
}

impl Contacts {
    pub(crate) fn of(input: &HumanInput) -> Result<Self, DomainError> {
        if let Some(t) = &input.email_url_template {
            url_template::check(t, false)?;
        }
        Ok(Self {
            email: human::validate_email(&input.email)?,
            phone: match &input.phone {
                Some((p, mode)) => Some((human::normalize_phone(p)?, *mode)),
                None => None,
            },
        })
    }
}

/// A human user to store (see [`App::prepare_human`]).
pub(crate) struct PreparedHuman {
    pub(crate) user_id: UserId,
    pub(crate) org_id: OrgId,
    new: NewHuman,
    pub(crate) claim: UniqueClaim,
    /// Mode, code and address of the email and of the phone.
    email: (ContactMode, Option<String>, String),
    phone: (ContactMode, Option<String>, String),
    /// The template of the link the verification mail carries.
    email_link: Option<String>,
    display_name: String,
}

impl PreparedHuman {
    pub(crate) fn aggregate(&self) -> AggregateRef {
        AggregateRef::user(&self.user_id, &self.org_id)
    }

    /// Its events, given the user aggregate's history.
    pub(crate) fn decide(&self, state: &UserState) -> Result<Vec<twofold_domain::EventPayload>, DomainError> {
        human::decide_add_human(state, self.new.clone())
    }
}

/// Where a code goes, and the link template (checked) its message carries.
pub(crate) struct Recipient<'a> {
    pub channel: Channel,
    pub address: &'a str,
    pub display_name: &'a str,
    pub link_template: Option<&'a str>,
}

impl Recipient<'_> {
    /// The template rendered for `user` and `code`.
    pub(crate) fn link(&self, user: &AggregateRef, code: &str) -> Option<String> {
        let data = LinkData {
            user_id: &user.id,
            code,
            org_id: &user.owner,
            code_id: None,
        };
        self.link_template
            .filter(|t| !t.is_empty())
            .and_then(|t| url_template::render(t, data).ok())
    }
}

pub struct UserList {
    pub total: usize,
    pub users: Vec<UserView>,
}

impl App {
    /// A fresh code per the mode: the code (to hand back, or to send) and
    /// its stored form.
    pub(crate) fn new_code(&self, mode: ContactMode) -> (Option<String>, Verification) {
        match mode {
            ContactMode::Verified => (None, Verification::Verified),
            ContactMode::Unverified => (None, Verification::Unverified),
            ContactMode::ReturnCode | ContactMode::SendCode => {
                let (code, stored) = self.fresh_code(CODE_LIFETIME_MICROS);
                (Some(code), Verification::Code(stored))
            }
        }
    }

    /// A random code of 6 upper-case letters and digits, and its stored
    /// form (keyed hash, expiry `lifetime_micros` from now).
    pub(crate) fn fresh_code(&self, lifetime_micros: i64) -> (String, CodeAdded) {
        let code = secrets::random_code(CODE_LEN, secrets::UPPER_DIGITS);
        let stored = CodeAdded {
            code_hash: self.keys.token_hash(&code),
            expiry: Timestamp(self.now().0 + lifetime_micros),
        };
        (code, stored)
    }

    /// Hands `code` to the user's email or phone provider (in the
    /// background) when the mode says to send it; returns it when the mode
    /// says to return it.
    pub(crate) async fn dispatch_code(
        &self,
        ctx: &RequestCtx,
        user: AggregateRef,
        mode: ContactMode,
        code: Option<String>,
        to: Recipient<'_>,
    ) -> Result<Option<String>, DomainError> {
        match (mode, code) {
            (ContactMode::ReturnCode, code) => Ok(code),
            (ContactMode::SendCode, Some(code)) => {
                let link = to.link(&user, &code);
                self.deliver(Delivery {
                    instance_id: ctx.instance_id.clone(),
                    purpose: Purpose::Verify { user, link },
                    channel: to.channel,
                    recipient: to.address.to_owned(),
                    display_name: to.display_name.to_owned(),
                    code,
                });
                Ok(None)
            }
            _ => Ok(None),
        }
    }

    pub(crate) async fn resolve_org(
        &self,
        ctx: &RequestCtx,
        id: Option<&str>,
        domain: Option<&str>,
    ) -> Result<OrgId, DomainError> {
        let unknown = twofold_domain::org::unknown_org;
        if let Some(id) = id.filter(|i| !i.is_empty()) {
            return match self.typed_doc::<OrgView>(&ctx.instance_id, Collection::Org, id).await? {
                Some(_) => Ok(OrgId::from(id)),
                None => Err(unknown()),
            };
        }
        if let Some(domain) = domain.filter(|d| !d.is_empty()) {
            let orgs: Vec<OrgView> = self.typed_prefix(&ctx.instance_id, Collection::Org, "").await?;
            return orgs
                .into_iter()
                .find(|o| o.primary_domain.eq_ignore_ascii_case(domain))
                .map(|o| o.id)
                .ok_or_else(unknown);
        }
        Ok(ctx.org_id.clone())
    }

    #[tracing::instrument(skip_all)]
    pub async fn add_human(&self, ctx: &RequestCtx, input: HumanInput) -> Result<AddedHuman, DomainError> {
        let contacts = Contacts::of(&input)?;
        let org_id = self
            .resolve_org(ctx, input.org_id.as_deref(), input.org_domain.as_deref())
            .await?;
        self.require_on_requested_org(ctx, org_id.as_str()).await?;
        let human = self.prepare_human(ctx, input, contacts, org_id).await?;
        let details = self
            .execute_many(
                &ctx.instance_id,
                ctx.caller.user_id.as_str(),
                vec![human.aggregate()],
                |loaded| {
                    let state = crate::command::user_state(loaded, 0);
                    Ok(Decision {
                        events: vec![human.decide(&state)?],
                        claims: vec![human.claim.clone()],
                        releases: vec![],
                        error_after_push: None,
                    })
                },
            )
            .await?;
        let (user_id, email_code, phone_code) = self.deliver_codes(ctx, human).await?;
        Ok(AddedHuman {
            user_id,
            details,
            email_code,
            phone_code,
        })
    }

    /// A new human user of `org_id`, ready to be stored: password checked
    /// against the org's policy and hashed, verification codes drawn.
    pub(crate) async fn prepare_human(
        &self,
        ctx: &RequestCtx,
        input: HumanInput,
        Contacts { email, phone }: Contacts,
        org_id: OrgId,
    ) -> Result<PreparedHuman, DomainError> {
        let password_hash = match &input.password {
            Some(pw) => {
                self.org_policy::<PasswordComplexitySettings>(&ctx.instance_id, &org_id)
                    .await?
                    .settings
                    .check(pw, PasswordSet::UserCreation)?;
                Some(passwords::hash_blocking(pw.clone(), self.config.password_hashing).await?)
            }
            None => None,
        };
        let (email_code, email_verification) = self.new_code(input.email_mode);
        let (phone_code, phone) = match phone {
            Some((number, mode)) => {
                let (code, v) = self.new_code(mode);
                (code, Some((number, v)))
            }
            None => (None, None),
        };
        let phone_for_send = phone.as_ref().map(|(p, _)| p.clone()).unwrap_or_default();
        let phone_mode = input.phone.as_ref().map_or(ContactMode::Unverified, |(_, m)| *m);
        let display_name = human::display_name(&input.given_name, &input.family_name, &input.display_name);
        let email_for_send = email.clone();
        let user_name = input.username.clone().unwrap_or_else(|| email.clone());
        let claim = unique(&ctx.instance_id, "user_name", user_name.trim());
        let new = NewHuman {
            user_name,
            given_name: input.given_name,
            family_name: input.family_name,
            nick_name: input.nick_name,
            display_name: input.display_name,
            preferred_language: input.preferred_language,
            gender: input.gender,
            email,
            email_verification,
            phone,
            password_hash,
            change_required: input.password_change_required,
        };
        Ok(PreparedHuman {
            user_id: UserId::new(input.user_id.unwrap_or_else(|| self.ids.next())),
            org_id,
            new,
            claim,
            email: (input.email_mode, email_code, email_for_send),
            phone: (phone_mode, phone_code, phone_for_send),
            email_link: input.email_url_template,
            display_name,
        })
    }

    /// Once `human` is stored: its codes sent or handed back, per their modes.
    pub(crate) async fn deliver_codes(
        &self,
        ctx: &RequestCtx,
        human: PreparedHuman,
    ) -> Result<(String, Option<String>, Option<String>), DomainError> {
        let agg = human.aggregate();
        let (email_mode, email_code, email) = human.email;
        let email_code = self
            .dispatch_code(
                ctx,
                agg.clone(),
                email_mode,
                email_code,
                Recipient {
                    channel: Channel::Email,
                    address: &email,
                    display_name: &human.display_name,
                    link_template: human.email_link.as_deref(),
                },
            )
            .await?;
        let (phone_mode, phone_code, phone) = human.phone;
        let phone_code = self
            .dispatch_code(
                ctx,
                agg,
                phone_mode,
                phone_code,
                Recipient {
                    channel: Channel::Sms,
                    address: &phone,
                    display_name: &human.display_name,
                    link_template: None,
                },
            )
            .await?;
        Ok((human.user_id.into_string(), email_code, phone_code))
    }

    /// A user as the v2 API shows it.
    pub async fn user_v2(&self, ctx: &RequestCtx, user_id: &UserId) -> Result<Authorized<UserView>, DomainError> {
        self.user_to_act_on(ctx, user_id, human::user_not_found()).await
    }

    /// Users matching the query that the caller may see, sorted and paged.
    pub async fn list_users(
        &self,
        ctx: &RequestCtx,
        q: &UserQuery,
        sort: UserSort,
        list: ListRequest,
    ) -> Result<UserList, DomainError> {
        if let Some(page) = self.user_page_in_store(ctx, q, sort, list).await? {
            return Ok(page);
        }
        let all: Vec<UserView> = match q.exact_user_name() {
            Some(name) => self.typed_lookup(&ctx.instance_id, Collection::User, &name).await?,
            None => self.typed_prefix(&ctx.instance_id, Collection::User, "").await?,
        };
        let matching = all.into_iter().filter(|u| q.matches(u)).collect();
        let visible = self.users_to_act_on(ctx, matching).await?;
        let (total, users) = users_page(visible, sort, list);
        Ok(UserList { total, users })
    }

    /// [`Self::list_users`] for a listing without filters (or filtered by
    /// one org only) sorted by creation or user name: the page and the
    /// total come from the store's indexes, restricted to the orgs the
    /// caller reaches, instead of every user document. None for any other
    /// listing.
    async fn user_page_in_store(
        &self,
        ctx: &RequestCtx,
        q: &UserQuery,
        sort: UserSort,
        list: ListRequest,
    ) -> Result<Option<UserList>, DomainError> {
        let (order, descending) = match sort {
            UserSort::Unspecified => (UserOrder::Created, false),
            UserSort::CreationDate => (UserOrder::Created, !list.asc),
            UserSort::UserName => (UserOrder::UserName, !list.asc),
            _ => return Ok(None),
        };
        let Some(only_org) = only_org_filter(q) else {
            return Ok(None);
        };
        let reach = self.user_scope(ctx).await?;
        let caller = reach
            .caller
            .filter(|(_, org)| only_org.is_none_or(|o| o == org.as_str()))
            .map(|(id, _)| id.as_str().to_owned());
        let scope = match (reach.orgs, only_org) {
            (None, None) => UserScope::All,
            (None, Some(o)) => UserScope::Orgs {
                orgs: vec![o.to_owned()],
                also: None,
            },
            (Some(orgs), only) => UserScope::Orgs {
                orgs: orgs
                    .into_iter()
                    .map(|o| o.as_str().to_owned())
                    .filter(|o| only.is_none_or(|only| only == o))
                    .collect(),
                also: caller,
            },
        };
        if matches!(&scope, UserScope::Orgs { orgs, .. } if orgs.len() > MAX_SCOPE_ORGS) {
            return Ok(None);
        }
        let page = UserPage {
            scope,
            order,
            descending,
            offset: list.offset,
            limit: list.limit_or_default() as u64,
        };
        let (total, docs) = self
            .store
            .user_page(&ctx.instance_id, &page)
            .await
            .map_err(crate::command::store_error)?;
        let users: Vec<UserView> = crate::docs::parse_all(Collection::User, docs)?;
        Ok(Some(UserList {
            total: usize::try_from(total).unwrap_or(usize::MAX),
            users,
        }))
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn delete_user_v2(&self, ctx: &RequestCtx, user_id: &UserId) -> Result<WriteDetails, DomainError> {
        let missing = DomainError::not_found("COMMAND-bd4ir1mblj", "User could not be found");
        let user = self.user_to_act_on(ctx, user_id, missing).await?;
        self.remove_user_in(ctx, &user.org_id, &user.id).await
    }

    /// Runs a decision on the aggregate of a user the caller was allowed to act on.
    pub(crate) async fn on_user(
        &self,
        ctx: &RequestCtx,
        user: &Authorized<UserView>,
        decide: impl Fn(&UserState) -> Result<Vec<twofold_domain::EventPayload>, DomainError>,
    ) -> Result<WriteDetails, DomainError> {
        self.execute_on_user(
            &ctx.instance_id,
            ctx.caller.user_id.as_str(),
            AggregateRef::user(&user.id, &user.org_id),
            decide,
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn lock_user(&self, ctx: &RequestCtx, user_id: &UserId, lock: bool) -> Result<WriteDetails, DomainError> {
        let user = self
            .user_to_act_on(ctx, user_id, human::lock_target_missing(lock))
            .await?;
        self.on_user(ctx, &user, |s| {
            if lock {
                human::decide_lock(s)
            } else {
                human::decide_unlock(s)
            }
        })
        .await
    }

    /// Sets the email address; returns the code when the mode returns it.
    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn set_email(
        &self,
        ctx: &RequestCtx,
        user_id: &UserId,
        email: &str,
        mode: ContactMode,
        link_template: Option<&str>,
    ) -> Result<(WriteDetails, Option<String>), DomainError> {
        let email = human::validate_email(email)?;
        if let Some(t) = link_template {
            url_template::check(t, false)?;
        }
        let user = self.user_to_act_on(ctx, user_id, human::user_not_found()).await?;
        self.require_vouching(ctx, &user, &[Some(mode)]).await?;
        let (code, v) = self.new_code(mode);
        let d = self
            .on_user(ctx, &user, |s| human::decide_set_email(s, email.clone(), v.clone()))
            .await?;
        let name = user.human().map(|h| h.display_name.clone()).unwrap_or_default();
        let agg = AggregateRef::user(&user.id, &user.org_id);
        let code = self
            .dispatch_code(
                ctx,
                agg,
                mode,
                code,
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

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn set_phone(
        &self,
        ctx: &RequestCtx,
        user_id: &UserId,
        phone: &str,
        mode: ContactMode,
    ) -> Result<(WriteDetails, Option<String>), DomainError> {
        let phone = human::normalize_phone(phone)?;
        let user = self.user_to_act_on(ctx, user_id, human::user_not_found()).await?;
        self.require_vouching(ctx, &user, &[Some(mode)]).await?;
        let (code, v) = self.new_code(mode);
        let d = self
            .on_user(ctx, &user, |s| human::decide_set_phone(s, phone.clone(), v.clone()))
            .await?;
        let name = user.human().map(|h| h.display_name.clone()).unwrap_or_default();
        let agg = AggregateRef::user(&user.id, &user.org_id);
        let code = self
            .dispatch_code(
                ctx,
                agg,
                mode,
                code,
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
}

/// Orgs a store-computed page takes as bound parameters at most; a caller
/// reaching more is listed the general way.
const MAX_SCOPE_ORGS: usize = 500;

/// The org a listing is filtered by when that is its only condition
/// (Some(None): no condition at all); None for any other filter.
fn only_org_filter(q: &UserQuery) -> Option<Option<&str>> {
    match q {
        UserQuery::And(all) => match all.as_slice() {
            [] => Some(None),
            [one] => only_org_filter(one),
            _ => None,
        },
        UserQuery::Organization(org) => Some(Some(org.as_str())),
        _ => None,
    }
}
