//! Passkeys on the UserService v2 (`RegisterPasskey` … `RemovePasskey`);
//! the v1 passwordless RPCs of the Management and Auth APIs use the same
//! use cases.

use tonic::{Request, Response, Status};
use twofold_app::App;
use twofold_app::mfa::Via;
use twofold_app::passkeys::{Attachment, CodeDelivery, PasskeyInfo, RegistrationCode};
use twofold_domain::UserId;
use twofold_proto::zitadel::user::v2::*;

use crate::auth::{ctx, host};
use crate::error::to_status;
use crate::{convert, validate};

fn attachment(a: i32) -> Attachment {
    match PasskeyAuthenticator::try_from(a) {
        Ok(PasskeyAuthenticator::Platform) => Attachment::Platform,
        Ok(PasskeyAuthenticator::CrossPlatform) => Attachment::CrossPlatform,
        _ => Attachment::Unspecified,
    }
}

pub(crate) fn state(p: &PasskeyInfo) -> AuthFactorState {
    if p.ready {
        AuthFactorState::Ready
    } else {
        AuthFactorState::NotReady
    }
}

pub(crate) async fn register_passkey(
    app: &App,
    req: Request<RegisterPasskeyRequest>,
) -> Result<Response<RegisterPasskeyResponse>, Status> {
    const M: &str = "RegisterPasskeyRequest";
    let ctx = ctx(&req)?;
    let host = host(&req);
    let r = req.into_inner();
    let id = UserId::from(validate::id(M, "UserId", &r.user_id)?);
    let code = match r.code {
        Some(c) => {
            validate::id("PasskeyRegistrationCode", "Id", &c.id)?;
            validate::id("PasskeyRegistrationCode", "Code", &c.code)?;
            Some(RegistrationCode { id: c.id, code: c.code })
        }
        None => None,
    };
    let p = app
        .register_passkey(&ctx, &id, code, attachment(r.authenticator), &r.domain, &host)
        .await
        .map_err(to_status)?;
    Ok(Response::new(RegisterPasskeyResponse {
        details: convert::v2_changed(p.details),
        passkey_id: p.token_id,
        public_key_credential_creation_options: Some(convert::json_to_struct(p.options)),
    }))
}

pub(crate) async fn verify_passkey_registration(
    app: &App,
    req: Request<VerifyPasskeyRegistrationRequest>,
) -> Result<Response<VerifyPasskeyRegistrationResponse>, Status> {
    const M: &str = "VerifyPasskeyRegistrationRequest";
    let ctx = ctx(&req)?;
    let r = req.into_inner();
    let user_id = UserId::from(validate::id(M, "UserId", &r.user_id)?);
    validate::id(M, "PasskeyId", &r.passkey_id)?;
    validate::id(M, "PasskeyName", &r.passkey_name)?;
    let credential = r
        .public_key_credential
        .ok_or_else(|| validate::invalid_field(M, "PublicKeyCredential", "value is required"))?;
    let d = app
        .verify_passkey(&ctx, &user_id, convert::struct_to_json(credential), &r.passkey_name)
        .await
        .map_err(to_status)?;
    Ok(Response::new(VerifyPasskeyRegistrationResponse {
        details: convert::v2_changed(d),
    }))
}

pub(crate) async fn create_passkey_registration_link(
    app: &App,
    req: Request<CreatePasskeyRegistrationLinkRequest>,
) -> Result<Response<CreatePasskeyRegistrationLinkResponse>, Status> {
    use create_passkey_registration_link_request::Medium;
    const M: &str = "CreatePasskeyRegistrationLinkRequest";
    let ctx = ctx(&req)?;
    let origin = format!("https://{}", host(&req));
    let r = req.into_inner();
    let id = UserId::from(validate::id(M, "UserId", &r.user_id)?);
    let delivery = match r.medium {
        Some(Medium::ReturnCode(_)) => CodeDelivery::Return,
        Some(Medium::SendLink(s)) => {
            let url_template = s.url_template.unwrap_or_default();
            if url_template.chars().count() > 200 {
                return Err(validate::invalid_field(
                    "SendPasskeyRegistrationLink",
                    "UrlTemplate",
                    "value length must be between 1 and 200 runes, inclusive",
                ));
            }
            CodeDelivery::Send { url_template, origin }
        }
        None => CodeDelivery::Send {
            url_template: String::new(),
            origin,
        },
    };
    let (d, code) = app
        .passkey_registration_code(&ctx, &id, delivery)
        .await
        .map_err(to_status)?;
    Ok(Response::new(CreatePasskeyRegistrationLinkResponse {
        details: convert::v2_changed(d),
        code: code.map(|c| PasskeyRegistrationCode { id: c.id, code: c.code }),
    }))
}

pub(crate) async fn list_passkeys(
    app: &App,
    req: Request<ListPasskeysRequest>,
) -> Result<Response<ListPasskeysResponse>, Status> {
    let ctx = ctx(&req)?;
    let id = UserId::from(validate::id("ListPasskeysRequest", "UserId", &req.get_ref().user_id)?);
    let list = app.list_passkeys(&ctx, &id, Via::UserApi).await.map_err(to_status)?;
    Ok(Response::new(ListPasskeysResponse {
        details: convert::v2_list(list.len()),
        result: list
            .iter()
            .map(|p| Passkey {
                id: p.id.clone(),
                state: state(p) as i32,
                name: p.name.clone(),
            })
            .collect(),
    }))
}

pub(crate) async fn remove_passkey(
    app: &App,
    req: Request<RemovePasskeyRequest>,
) -> Result<Response<RemovePasskeyResponse>, Status> {
    const M: &str = "RemovePasskeyRequest";
    let ctx = ctx(&req)?;
    let r = req.get_ref();
    let id = UserId::from(validate::id(M, "UserId", &r.user_id)?);
    let token = validate::id(M, "PasskeyId", &r.passkey_id)?;
    let d = app
        .remove_passkey(&ctx, &id, token, Via::UserApi)
        .await
        .map_err(to_status)?;
    Ok(Response::new(RemovePasskeyResponse {
        details: convert::v2_changed(d),
    }))
}
