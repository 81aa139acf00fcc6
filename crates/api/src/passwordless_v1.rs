//! The v1 passwordless RPCs (Management: a user of the context org; Auth:
//! the caller), on the passkey use cases of the UserService v2.

use tonic::{Request, Response, Status};
use twofold_app::App;
use twofold_app::mfa::Via;
use twofold_app::passkeys::{Attachment, PasskeyInfo};
use twofold_domain::UserId;
use twofold_domain::passkey;
use twofold_domain::permissions::Permission;
use twofold_proto::zitadel::auth::v1 as auth;
use twofold_proto::zitadel::management::v1 as mgmt;
use twofold_proto::zitadel::user::v1::{AuthFactorState, WebAuthNKey, WebAuthNToken};

use crate::auth::{ctx, host};
use crate::error::to_status;
use crate::{convert, validate};

fn tokens(list: Vec<PasskeyInfo>) -> Vec<WebAuthNToken> {
    list.into_iter()
        .map(|p| WebAuthNToken {
            state: if p.ready {
                AuthFactorState::Ready
            } else {
                AuthFactorState::NotReady
            } as i32,
            id: p.id,
            name: p.name,
        })
        .collect()
}

pub(crate) async fn list_human_passwordless(
    app: &App,
    req: Request<mgmt::ListHumanPasswordlessRequest>,
) -> Result<Response<mgmt::ListHumanPasswordlessResponse>, Status> {
    let ctx = ctx(&req)?;
    let id = UserId::from(validate::id(
        "ListHumanPasswordlessRequest",
        "UserId",
        &req.get_ref().user_id,
    )?);
    let list = app.list_passkeys(&ctx, &id, Via::Management).await.map_err(to_status)?;
    Ok(Response::new(mgmt::ListHumanPasswordlessResponse {
        result: tokens(list),
    }))
}

pub(crate) async fn send_passwordless_registration(
    app: &App,
    req: Request<mgmt::SendPasswordlessRegistrationRequest>,
) -> Result<Response<mgmt::SendPasswordlessRegistrationResponse>, Status> {
    let ctx = ctx(&req)?;
    let origin = format!("https://{}", host(&req));
    let id = UserId::from(validate::id(
        "SendPasswordlessRegistrationRequest",
        "UserId",
        &req.get_ref().user_id,
    )?);
    let (d, _) = app
        .passkey_registration_link(&ctx, &id, Via::Management, Permission::UserWrite, &origin, true)
        .await
        .map_err(to_status)?;
    Ok(Response::new(mgmt::SendPasswordlessRegistrationResponse {
        details: convert::added(d),
    }))
}

/// How long a registration link works.
fn expiration() -> Option<prost_types::Duration> {
    Some(prost_types::Duration {
        seconds: passkey::CODE_LIFETIME_MICROS / 1_000_000,
        nanos: 0,
    })
}

pub(crate) async fn add_passwordless_registration(
    app: &App,
    req: Request<mgmt::AddPasswordlessRegistrationRequest>,
) -> Result<Response<mgmt::AddPasswordlessRegistrationResponse>, Status> {
    let ctx = ctx(&req)?;
    let origin = format!("https://{}", host(&req));
    let id = UserId::from(validate::id(
        "AddPasswordlessRegistrationRequest",
        "UserId",
        &req.get_ref().user_id,
    )?);
    let permission = Permission::UserCredentialWrite;
    let (d, link) = app
        .passkey_registration_link(&ctx, &id, Via::Management, permission, &origin, false)
        .await
        .map_err(to_status)?;
    Ok(Response::new(mgmt::AddPasswordlessRegistrationResponse {
        details: convert::added(d),
        link: link.unwrap_or_default(),
        expiration: expiration(),
    }))
}

pub(crate) async fn add_my_passwordless_link(
    app: &App,
    req: Request<auth::AddMyPasswordlessLinkRequest>,
) -> Result<Response<auth::AddMyPasswordlessLinkResponse>, Status> {
    let ctx = ctx(&req)?;
    let origin = format!("https://{}", host(&req));
    let permission = Permission::UserCredentialWrite;
    let (d, link) = app
        .passkey_registration_link(&ctx, &ctx.caller.user_id, Via::UserApi, permission, &origin, false)
        .await
        .map_err(to_status)?;
    Ok(Response::new(auth::AddMyPasswordlessLinkResponse {
        details: convert::added(d),
        link: link.unwrap_or_default(),
        expiration: expiration(),
    }))
}

pub(crate) async fn send_my_passwordless_link(
    app: &App,
    req: Request<auth::SendMyPasswordlessLinkRequest>,
) -> Result<Response<auth::SendMyPasswordlessLinkResponse>, Status> {
    let ctx = ctx(&req)?;
    let origin = format!("https://{}", host(&req));
    let permission = Permission::UserCredentialWrite;
    let (d, _) = app
        .passkey_registration_link(&ctx, &ctx.caller.user_id, Via::UserApi, permission, &origin, true)
        .await
        .map_err(to_status)?;
    Ok(Response::new(auth::SendMyPasswordlessLinkResponse {
        details: convert::added(d),
    }))
}

pub(crate) async fn remove_human_passwordless(
    app: &App,
    req: Request<mgmt::RemoveHumanPasswordlessRequest>,
) -> Result<Response<mgmt::RemoveHumanPasswordlessResponse>, Status> {
    const M: &str = "RemoveHumanPasswordlessRequest";
    let ctx = ctx(&req)?;
    let r = req.get_ref();
    let id = UserId::from(validate::id(M, "UserId", &r.user_id)?);
    let token = validate::id(M, "TokenId", &r.token_id)?;
    let d = app
        .remove_passkey(&ctx, &id, token, Via::Management)
        .await
        .map_err(to_status)?;
    Ok(Response::new(mgmt::RemoveHumanPasswordlessResponse {
        details: convert::changed(d),
    }))
}

pub(crate) async fn list_my_passwordless(
    app: &App,
    req: Request<auth::ListMyPasswordlessRequest>,
) -> Result<Response<auth::ListMyPasswordlessResponse>, Status> {
    let ctx = ctx(&req)?;
    let list = app
        .list_passkeys(&ctx, &ctx.caller.user_id, Via::UserApi)
        .await
        .map_err(to_status)?;
    Ok(Response::new(auth::ListMyPasswordlessResponse { result: tokens(list) }))
}

pub(crate) async fn add_my_passwordless(
    app: &App,
    req: Request<auth::AddMyPasswordlessRequest>,
) -> Result<Response<auth::AddMyPasswordlessResponse>, Status> {
    let ctx = ctx(&req)?;
    let p = app
        .register_passkey(
            &ctx,
            &ctx.caller.user_id,
            None,
            Attachment::Unspecified,
            "",
            &host(&req),
        )
        .await
        .map_err(to_status)?;
    Ok(Response::new(auth::AddMyPasswordlessResponse {
        key: Some(WebAuthNKey {
            public_key: p.options.to_string().into_bytes(),
        }),
        details: convert::added(p.details),
    }))
}

pub(crate) async fn verify_my_passwordless(
    app: &App,
    req: Request<auth::VerifyMyPasswordlessRequest>,
) -> Result<Response<auth::VerifyMyPasswordlessResponse>, Status> {
    const M: &str = "WebAuthNVerification";
    let ctx = ctx(&req)?;
    let v = req
        .into_inner()
        .verification
        .ok_or_else(|| validate::invalid_field("VerifyMyPasswordlessRequest", "Verification", "value is required"))?;
    validate::id(M, "TokenName", &v.token_name)?;
    if v.public_key_credential.len() < 55 {
        return Err(validate::invalid_field(
            M,
            "PublicKeyCredential",
            "value length must be at least 55 bytes",
        ));
    }
    let credential: serde_json::Value = serde_json::from_slice(&v.public_key_credential)
        .map_err(|e| validate::invalid_field(M, "PublicKeyCredential", &format!("not JSON: {e}")))?;
    let d = app
        .verify_passkey(&ctx, &ctx.caller.user_id, credential, &v.token_name)
        .await
        .map_err(to_status)?;
    Ok(Response::new(auth::VerifyMyPasswordlessResponse {
        details: convert::changed(d),
    }))
}

pub(crate) async fn remove_my_passwordless(
    app: &App,
    req: Request<auth::RemoveMyPasswordlessRequest>,
) -> Result<Response<auth::RemoveMyPasswordlessResponse>, Status> {
    let ctx = ctx(&req)?;
    let token = validate::id("RemoveMyPasswordlessRequest", "TokenId", &req.get_ref().token_id)?;
    let d = app
        .remove_passkey(&ctx, &ctx.caller.user_id, token, Via::UserApi)
        .await
        .map_err(to_status)?;
    Ok(Response::new(auth::RemoveMyPasswordlessResponse {
        details: convert::changed(d),
    }))
}
