//! Memberships of the instance (IAM members) and of orgs.

use twofold_domain::member::{self, Members};
use twofold_domain::readmodel::Collection;
use twofold_domain::readmodel::directory::{MemberView, UserView, member_doc_id};
use twofold_domain::readmodel::query::{ListRequest, MemberQuery, MemberSort};
use twofold_domain::scope::Scope;
use twofold_domain::{DomainError, UserId};

use crate::auth::RequestCtx;
use crate::{App, WriteDetails};

/// A member with what the list shows of its user.
pub struct MemberEntry {
    pub member: MemberView,
    pub user: Option<UserView>,
}

impl App {
    pub async fn add_member(
        &self,
        ctx: &RequestCtx,
        scope: Scope,
        user_id: &UserId,
        roles: Vec<String>,
    ) -> Result<WriteDetails, DomainError> {
        let user_exists = self
            .typed_doc::<UserView>(&ctx.instance_id, Collection::User, user_id.as_str())
            .await?
            .is_some();
        self.execute(
            &ctx.instance_id,
            ctx.caller.user_id.as_str(),
            ctx.scope_aggregate(scope),
            |events| {
                let members = Members::fold(events.iter().map(|e| &e.payload));
                member::decide_add(scope, &members, user_id.as_str(), user_exists, roles.clone())
            },
        )
        .await
    }

    pub async fn change_member(
        &self,
        ctx: &RequestCtx,
        scope: Scope,
        user_id: &UserId,
        roles: Vec<String>,
    ) -> Result<WriteDetails, DomainError> {
        self.execute(
            &ctx.instance_id,
            ctx.caller.user_id.as_str(),
            ctx.scope_aggregate(scope),
            |events| {
                let members = Members::fold(events.iter().map(|e| &e.payload));
                member::decide_change(scope, &members, user_id.as_str(), roles.clone())
            },
        )
        .await
    }

    pub async fn remove_member(
        &self,
        ctx: &RequestCtx,
        scope: Scope,
        user_id: &UserId,
    ) -> Result<WriteDetails, DomainError> {
        self.execute(
            &ctx.instance_id,
            ctx.caller.user_id.as_str(),
            ctx.scope_aggregate(scope),
            |events| {
                let members = Members::fold(events.iter().map(|e| &e.payload));
                Ok(member::decide_remove(scope, &members, user_id.as_str()))
            },
        )
        .await
    }

    /// Members of the instance or of the context org matching every query,
    /// in creation order unless sorted otherwise; with the total.
    pub async fn list_members(
        &self,
        ctx: &RequestCtx,
        scope: Scope,
        queries: &[MemberQuery],
        sort: MemberSort,
        list: ListRequest,
    ) -> Result<(usize, Vec<MemberEntry>), DomainError> {
        let scope_id = ctx.scope_aggregate(scope).id;
        let members: Vec<MemberView> = self
            .typed_prefix(&ctx.instance_id, Collection::Member, &member_doc_id(&scope_id, ""))
            .await?;
        let mut entries = Vec::with_capacity(members.len());
        for m in members {
            let user: Option<UserView> = self
                .typed_doc(&ctx.instance_id, Collection::User, m.user_id.as_str())
                .await?;
            if queries.iter().all(|q| q.matches(m.user_id.as_str(), user.as_ref())) {
                entries.push(MemberEntry { member: m, user });
            }
        }
        let chosen = sort != MemberSort::Unspecified;
        if sort == MemberSort::UserId {
            list.sort(&mut entries, chosen, |a, b| a.member.user_id.cmp(&b.member.user_id));
        } else {
            list.sort(&mut entries, chosen, |a, b| {
                a.member.details.creation_date.cmp(&b.member.details.creation_date)
            });
        }
        Ok((entries.len(), list.page(entries)))
    }
}
