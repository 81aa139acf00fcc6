//! UserService v2 personal access tokens: the handlers behind the
//! `UserService` methods of the same names (users.rs delegates here).

use tonic::{Request, Response, Status};
use twofold_app::App;
use twofold_domain::UserId;
use twofold_domain::readmodel::directory::PatView;
use twofold_domain::readmodel::query::DEFAULT_LIMIT;
use twofold_proto::zitadel::filter::v2::PaginationResponse;
use twofold_proto::zitadel::user::v2::*;

use crate::auth::ctx;
use crate::error::to_status;
use crate::{convert, queries, validate};

fn token(p: PatView) -> PersonalAccessToken {
    PersonalAccessToken {
        creation_date: Some(convert::timestamp(p.details.creation_date)),
        change_date: Some(convert::timestamp(p.details.change_date)),
        id: p.token_id,
        user_id: p.user_id.into_string(),
        organization_id: p.org_id.into_string(),
        expiration_date: Some(convert::timestamp(p.expiration)),
    }
}

pub async fn add(
    app: &App,
    req: Request<AddPersonalAccessTokenRequest>,
) -> Result<Response<AddPersonalAccessTokenResponse>, Status> {
    const M: &str = "AddPersonalAccessTokenRequest";
    let ctx = ctx(&req)?;
    let r = req.get_ref();
    let user_id = UserId::from(validate::id(M, "UserId", &r.user_id)?);
    let expiration = r
        .expiration_date
        .as_ref()
        .map(convert::from_timestamp)
        .ok_or_else(|| validate::invalid_field(M, "ExpirationDate", "value is required"))?;
    let t = app.add_user_pat(&ctx, &user_id, expiration).await.map_err(to_status)?;
    Ok(Response::new(AddPersonalAccessTokenResponse {
        creation_date: Some(convert::timestamp(t.details.date)),
        token_id: t.token_id,
        token: t.token,
    }))
}

pub async fn remove(
    app: &App,
    req: Request<RemovePersonalAccessTokenRequest>,
) -> Result<Response<RemovePersonalAccessTokenResponse>, Status> {
    const M: &str = "RemovePersonalAccessTokenRequest";
    let ctx = ctx(&req)?;
    let r = req.get_ref();
    let user_id = UserId::from(validate::id(M, "UserId", &r.user_id)?);
    let token_id = validate::id(M, "TokenId", &r.token_id)?;
    let d = app.remove_user_pat(&ctx, &user_id, token_id).await.map_err(to_status)?;
    Ok(Response::new(RemovePersonalAccessTokenResponse {
        deletion_date: Some(convert::timestamp(d.date)),
    }))
}

pub async fn list(
    app: &App,
    req: Request<ListPersonalAccessTokensRequest>,
) -> Result<Response<ListPersonalAccessTokensResponse>, Status> {
    let ctx = ctx(&req)?;
    let r = req.get_ref();
    let (filters, sort) = queries::pats_v2(r)?;
    let page = queries::pagination(r.pagination.as_ref())?;
    let applied_limit = match page.limit {
        0 => DEFAULT_LIMIT as u64,
        n => u64::from(n),
    };
    let list = app
        .list_user_pats(&ctx, &filters, sort, page)
        .await
        .map_err(to_status)?;
    Ok(Response::new(ListPersonalAccessTokensResponse {
        pagination: Some(PaginationResponse {
            total_result: list.total as u64,
            applied_limit,
        }),
        result: list.pats.into_iter().map(token).collect(),
    }))
}
