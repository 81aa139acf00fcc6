//! UserService v2 `PasswordReset` and `SetPassword`: request shape checks
//! and the mapping onto the password use cases.

use tonic::{Request, Response, Status};
use twofold_app::App;
use twofold_app::password_reset::SetPasswordBy;
use twofold_domain::UserId;
use twofold_domain::password_code::ResetMedium;
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
