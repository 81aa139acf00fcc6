//! Machine users and their personal access tokens.

use twofold_domain::event::{EventPayload, MachineUserAdded, PatAdded};
use twofold_domain::human;
use twofold_domain::member::Members;
use twofold_domain::names;
use twofold_domain::permissions::Permission;
use twofold_domain::readmodel::Collection;
use twofold_domain::readmodel::directory::{MemberView, PatView, UserView, pat_doc_id};
use twofold_domain::setup::PAT_SCOPES;
use twofold_domain::user;
use twofold_domain::{AggregateRef, DomainError, OrgId, Timestamp, UserId};

use crate::access::{Authorized, Reach};
use crate::auth::RequestCtx;
use crate::command::{Decision, history, unique};
use crate::{App, WriteDetails, secrets};

/// Tokens without an expiration date expire at 9999-12-31T23:59:59Z.
pub const NEVER_EXPIRES: Timestamp = Timestamp(253_402_300_799_000_000);

pub struct NewMachineUser {
    pub user_name: String,
    pub name: String,
    pub description: String,
    pub access_token_type: i32,
    /// A caller-chosen ID; generated when None.
    pub user_id: Option<String>,
}

/// A token as created: the secret is returned this once and never stored.
pub struct NewToken {
    pub token_id: String,
    pub token: String,
    pub details: WriteDetails,
}

impl App {
    /// A machine user of the context org (Management API).
    #[tracing::instrument(skip_all)]
    pub async fn add_machine_user(
        &self,
        ctx: &RequestCtx,
        u: NewMachineUser,
    ) -> Result<(String, WriteDetails), DomainError> {
        self.add_machine_user_in(ctx, &ctx.org_id, u).await
    }

    /// A machine user of the org the request names (UserService v2
    /// CreateUser), with the RPC's declared check there. The user name
    /// defaults to the user ID.
    #[tracing::instrument(skip_all)]
    pub async fn create_machine_user(
        &self,
        ctx: &RequestCtx,
        org_id: &str,
        mut u: NewMachineUser,
    ) -> Result<(String, WriteDetails), DomainError> {
        let org_id = self.resolve_org(ctx, Some(org_id), None).await?;
        self.require_on_requested_org(ctx, org_id.as_str()).await?;
        let user_id = u.user_id.clone().unwrap_or_else(|| self.ids.next());
        if u.user_name.is_empty() {
            u.user_name.clone_from(&user_id);
        }
        u.user_id = Some(user_id);
        self.add_machine_user_in(ctx, &org_id, u).await
    }

    async fn add_machine_user_in(
        &self,
        ctx: &RequestCtx,
        org_id: &OrgId,
        u: NewMachineUser,
    ) -> Result<(String, WriteDetails), DomainError> {
        let (user_name, name) = (u.user_name.trim(), u.name.trim());
        if user_name.is_empty() {
            return Err(DomainError::invalid("COMMAND-bs9Ds", "Userdata is invalid"));
        }
        if name.is_empty() {
            return Err(DomainError::invalid("COMMAND-bm9Ds", "Userdata is invalid"));
        }
        names::check("user name", user_name)?;
        names::check("name", name)?;
        let user_id = UserId::new(u.user_id.clone().unwrap_or_else(|| self.ids.next()));
        let event = EventPayload::MachineUserAdded(MachineUserAdded {
            user_name: user_name.to_owned(),
            name: name.to_owned(),
            description: u.description.clone(),
            access_token_type: u.access_token_type,
        });
        let claim = unique(&ctx.instance_id, "user_name", user_name);
        let details = self
            .execute_many(
                &ctx.instance_id,
                ctx.caller.user_id.as_str(),
                vec![AggregateRef::user(&user_id, org_id)],
                |loaded| {
                    user::decide_add_machine(&crate::command::user_state(loaded, 0))?;
                    Ok(Decision {
                        events: vec![vec![event.clone()]],
                        claims: vec![claim.clone()],
                        releases: vec![],
                        error_after_push: None,
                    })
                },
            )
            .await?;
        Ok((user_id.into_string(), details))
    }

    /// A user of the caller's org context (Management API); one of another
    /// org is reported exactly as an unknown one.
    pub async fn user(&self, ctx: &RequestCtx, user_id: &UserId) -> Result<Authorized<UserView>, DomainError> {
        self.visible_user(
            ctx,
            user_id,
            Reach::ContextOrg(Permission::UserRead),
            human::user_not_found(),
        )
        .await
    }

    /// Removes a user of the context org (Management API).
    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn remove_user(&self, ctx: &RequestCtx, user_id: &UserId) -> Result<WriteDetails, DomainError> {
        self.remove_user_in(ctx, &ctx.org_id, user_id).await
    }

    /// Removes a user of `org_id` and, in the same transaction, every
    /// membership it held.
    pub(crate) async fn remove_user_in(
        &self,
        ctx: &RequestCtx,
        org_id: &OrgId,
        user_id: &UserId,
    ) -> Result<WriteDetails, DomainError> {
        let memberships: Vec<MemberView> = self
            .typed_lookup(&ctx.instance_id, Collection::Member, user_id.as_str())
            .await?;
        let mut aggregates = vec![AggregateRef::user(user_id, org_id)];
        aggregates.extend(memberships.iter().map(|m| m.aggregate(&ctx.instance_id)));
        self.execute_many(
            &ctx.instance_id,
            ctx.caller.user_id.as_str(),
            aggregates.clone(),
            |loaded| {
                let state = crate::command::user_state(loaded, 0);
                let mut events = vec![user::decide_remove_user(&state, org_id)?];
                for (i, aggregate) in aggregates.iter().enumerate().skip(1) {
                    let members = Members::fold(history(loaded, i).iter().map(|e| &e.payload));
                    events.push(if members.contains(user_id.as_str()) {
                        vec![twofold_domain::member::cascade_removed(
                            aggregate.kind,
                            user_id.as_str(),
                        )]
                    } else {
                        vec![]
                    });
                }
                Ok(Decision {
                    events,
                    claims: vec![],
                    releases: vec![unique(&ctx.instance_id, "user_name", &state.user_name)],
                    error_after_push: None,
                })
            },
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn add_pat(
        &self,
        ctx: &RequestCtx,
        user_id: &UserId,
        expiration: Option<Timestamp>,
    ) -> Result<NewToken, DomainError> {
        self.add_pat_in(ctx, &ctx.org_id, user_id, expiration).await
    }

    /// A token for the machine user `user_id` of `org_id`.
    pub(crate) async fn add_pat_in(
        &self,
        ctx: &RequestCtx,
        org_id: &OrgId,
        user_id: &UserId,
        expiration: Option<Timestamp>,
    ) -> Result<NewToken, DomainError> {
        let token = secrets::random_token(32);
        let token_id = self.ids.next();
        let pat = PatAdded {
            token_id: token_id.clone(),
            token_hash: self.keys.token_hash(&token),
            expiration: expiration.unwrap_or(NEVER_EXPIRES),
            scopes: PAT_SCOPES.iter().map(|s| s.to_string()).collect(),
        };
        let now = self.now();
        let details = self
            .execute_on_user(
                &ctx.instance_id,
                ctx.caller.user_id.as_str(),
                AggregateRef::user(user_id, org_id),
                |s| user::decide_add_pat(s, org_id, pat.clone(), now),
            )
            .await?;
        Ok(NewToken {
            token_id,
            token,
            details,
        })
    }

    pub async fn list_pats(&self, ctx: &RequestCtx, user_id: &UserId) -> Result<Vec<PatView>, DomainError> {
        self.user(ctx, user_id).await?;
        let mut pats: Vec<PatView> = self
            .typed_prefix(&ctx.instance_id, Collection::Pat, &pat_doc_id(user_id.as_str(), ""))
            .await?;
        pats.sort_by_key(|p| p.details.creation_date);
        Ok(pats)
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn remove_pat(
        &self,
        ctx: &RequestCtx,
        user_id: &UserId,
        token_id: &str,
    ) -> Result<WriteDetails, DomainError> {
        self.remove_pat_in(ctx, &ctx.org_id, user_id, token_id).await
    }

    pub(crate) async fn remove_pat_in(
        &self,
        ctx: &RequestCtx,
        org_id: &OrgId,
        user_id: &UserId,
        token_id: &str,
    ) -> Result<WriteDetails, DomainError> {
        self.execute_on_user(
            &ctx.instance_id,
            ctx.caller.user_id.as_str(),
            AggregateRef::user(user_id, org_id),
            |s| user::decide_remove_pat(s, org_id, token_id),
        )
        .await
    }
}
