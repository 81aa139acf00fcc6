//! Personal access tokens through UserService v2: the target user's org
//! (not the request's org context) owns them, and the RPC's declared check
//! applies there.

use std::collections::HashSet;

use twofold_domain::permissions::CheckedOn;
use twofold_domain::readmodel::Collection;
use twofold_domain::readmodel::directory::{PatView, UserView};
use twofold_domain::readmodel::query::ListRequest;
use twofold_domain::readmodel::token_query::{PatQuery, PatSort, pats_page};
use twofold_domain::{DomainError, Timestamp, UserId};

use crate::auth::RequestCtx;
use crate::users::NewToken;
use crate::{App, WriteDetails};

pub struct PatList {
    pub total: usize,
    pub pats: Vec<PatView>,
}

fn token_not_found() -> DomainError {
    DomainError::not_found("COMMAND-4m77G", "Personal Access Token not found")
}

impl App {
    /// A token for a machine user the caller may act on; the secret is
    /// returned this once and stored as a keyed hash.
    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn add_user_pat(
        &self,
        ctx: &RequestCtx,
        user_id: &UserId,
        expiration: Timestamp,
    ) -> Result<NewToken, DomainError> {
        let missing = DomainError::precondition("COMMAND-Dggw2", "User could not be found");
        let user = self.user_to_act_on(ctx, user_id, missing).await?;
        self.add_pat_in(ctx, &user.org_id, &user.id, Some(expiration)).await
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn remove_user_pat(
        &self,
        ctx: &RequestCtx,
        user_id: &UserId,
        token_id: &str,
    ) -> Result<WriteDetails, DomainError> {
        let user = self.user_to_act_on(ctx, user_id, token_not_found()).await?;
        self.remove_pat_in(ctx, &user.org_id, &user.id, token_id).await
    }

    /// Tokens matching every query, of existing users the caller passes the
    /// RPC's declared check on (others are left out before counting). A
    /// removed user's token documents outlive it, so its tokens are left
    /// out here (the auth layer refuses them too).
    pub async fn list_user_pats(
        &self,
        ctx: &RequestCtx,
        queries: &[PatQuery],
        sort: PatSort,
        list: ListRequest,
    ) -> Result<PatList, DomainError> {
        let rows = self.row_check(ctx, CheckedOn::TargetUser).await?;
        let all: Vec<PatView> = self.typed_prefix(&ctx.instance_id, Collection::Pat, "").await?;
        let visible: Vec<PatView> = all
            .into_iter()
            .filter(|p| queries.iter().all(|q| q.matches(p)) && rows.allows(&p.org_id, Some(&p.user_id)))
            .collect();
        let mut existing = HashSet::new();
        for user_id in visible.iter().map(|p| &p.user_id).collect::<HashSet<_>>() {
            let user: Option<UserView> = self
                .typed_doc(&ctx.instance_id, Collection::User, user_id.as_str())
                .await?;
            if user.is_some() {
                existing.insert(user_id.clone());
            }
        }
        let visible = visible.into_iter().filter(|p| existing.contains(&p.user_id)).collect();
        let (total, pats) = pats_page(visible, sort, list);
        Ok(PatList { total, pats })
    }
}
