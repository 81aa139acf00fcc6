//! Setting and resetting passwords: UserService v2 `PasswordReset` and
//! `SetPassword`, Management v1 `SetHumanPassword` and
//! `SendHumanResetPasswordNotification`, Auth v1 `UpdateMyPassword`.
//! Request shape checks and the mapping onto the password use cases.

use tonic::{Request, Response, Status};
use twofold_app::App;
use twofold_app::password_reset::SetPasswordBy;
use twofold_domain::UserId;
use twofold_domain::password_code::ResetMedium;
use twofold_proto::zitadel::auth::v1::{UpdateMyPasswordRequest, UpdateMyPasswordResponse};
use twofold_proto::zitadel::management::v1::{
    SendHumanResetPasswordNotificationRequest, SendHumanResetPasswordNotificationResponse, SetHumanPasswordRequest,
    SetHumanPasswordResponse, send_human_reset_password_notification_request,
};
use twofold_proto::zitadel::user::v2::{
    NotificationType, PasswordResetRequest, PasswordResetResponse, SetPasswordRequest, SetPasswordResponse,
    password_reset_request, set_password_request,
};

use crate::auth::{ctx, host};
use crate::error::to_status;
use crate::{convert, validate};

pub async fn password_reset(
    app: &App,
    req: Request<PasswordResetRequest>,
) -> Result<Response<PasswordResetResponse>, Status> {
    let ctx = ctx(&req)?;
    let host = host(&req);
    let r = req.get_ref();
    let id = UserId::from(validate::id("PasswordResetRequest", "UserId", &r.user_id)?);
    let (medium, template) = match &r.medium {
        Some(password_reset_request::Medium::ReturnCode(_)) => (ResetMedium::Returned, None),
        Some(password_reset_request::Medium::SendLink(l)) => {
            if let Some(t) = &l.url_template {
                validate::id("SendPasswordResetLink", "UrlTemplate", t)?;
            }
            let medium = match NotificationType::try_from(l.notification_type) {
                Ok(NotificationType::Sms) => ResetMedium::Sms,
                Ok(NotificationType::Unspecified | NotificationType::Email) => ResetMedium::Email,
                Err(_) => {
                    return Err(validate::invalid_field(
                        "SendPasswordResetLink",
                        "NotificationType",
                        "value must be one of the defined enum values",
                    ));
                }
            };
            (medium, l.url_template.as_deref())
        }
        None => (ResetMedium::Email, None),
    };
    let (d, code) = app
        .request_password_reset(&ctx, &id, medium, template, &host)
        .await
        .map_err(to_status)?;
    Ok(Response::new(PasswordResetResponse {
        details: convert::v2_changed(d),
        verification_code: code,
    }))
}

pub async fn set_password(
    app: &App,
    req: Request<SetPasswordRequest>,
) -> Result<Response<SetPasswordResponse>, Status> {
    const M: &str = "SetPasswordRequest";
    let ctx = ctx(&req)?;
    let r = req.get_ref();
    let id = UserId::from(validate::id(M, "UserId", &r.user_id)?);
    let new = r
        .new_password
        .as_ref()
        .ok_or_else(|| validate::invalid_field(M, "NewPassword", "value is required"))?;
    let password = validate::id("Password", "Password", &new.password)?;
    let by = match &r.verification {
        Some(set_password_request::Verification::CurrentPassword(p)) => {
            SetPasswordBy::CurrentPassword(validate::id(M, "CurrentPassword", p)?.to_owned())
        }
        Some(set_password_request::Verification::VerificationCode(c)) => {
            SetPasswordBy::Code(validate::text(M, "VerificationCode", c, 1, 20)?.to_owned())
        }
        None => SetPasswordBy::Permission,
    };
    let d = app
        .set_password(&ctx, &id, password, new.change_required, by)
        .await
        .map_err(to_status)?;
    Ok(Response::new(SetPasswordResponse {
        details: convert::v2_changed(d),
    }))
}

pub async fn set_human_password(
    app: &App,
    req: Request<SetHumanPasswordRequest>,
) -> Result<Response<SetHumanPasswordResponse>, Status> {
    const M: &str = "SetHumanPasswordRequest";
    let ctx = ctx(&req)?;
    let r = req.get_ref();
    let id = UserId::from(validate::id(M, "UserId", &r.user_id)?);
    let password = validate::id(M, "Password", &r.password)?;
    let d = app
        .set_password_in_org(&ctx, &id, password, !r.no_change_required)
        .await
        .map_err(to_status)?;
    Ok(Response::new(SetHumanPasswordResponse {
        details: convert::changed(d),
    }))
}

pub async fn send_human_reset_password_notification(
    app: &App,
    req: Request<SendHumanResetPasswordNotificationRequest>,
) -> Result<Response<SendHumanResetPasswordNotificationResponse>, Status> {
    use send_human_reset_password_notification_request::Type;
    const M: &str = "SendHumanResetPasswordNotificationRequest";
    let ctx = ctx(&req)?;
    let host = host(&req);
    let r = req.get_ref();
    let id = UserId::from(validate::id(M, "UserId", &r.user_id)?);
    let medium = match Type::try_from(r.r#type) {
        Ok(Type::Email) => ResetMedium::Email,
        Ok(Type::Sms) => ResetMedium::Sms,
        Err(_) => {
            return Err(validate::invalid_field(
                M,
                "Type",
                "value must be one of the defined enum values",
            ));
        }
    };
    let d = app
        .send_password_reset_in_org(&ctx, &id, medium, &host)
        .await
        .map_err(to_status)?;
    Ok(Response::new(SendHumanResetPasswordNotificationResponse {
        details: convert::changed(d),
    }))
}

pub async fn update_my_password(
    app: &App,
    req: Request<UpdateMyPasswordRequest>,
) -> Result<Response<UpdateMyPasswordResponse>, Status> {
    const M: &str = "UpdateMyPasswordRequest";
    let ctx = ctx(&req)?;
    let r = req.get_ref();
    let old = validate::id(M, "OldPassword", &r.old_password)?;
    let new = validate::id(M, "NewPassword", &r.new_password)?;
    let d = app.change_my_password(&ctx, old, new).await.map_err(to_status)?;
    Ok(Response::new(UpdateMyPasswordResponse {
        details: convert::changed(d),
    }))
}
