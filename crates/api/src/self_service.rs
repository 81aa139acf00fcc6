//! zitadel.auth.v1.AuthService: a signed-in user manages their own second
//! factors (with a session token as bearer token).

use tonic::{Request, Response, Status};
use twofold_app::App;
use twofold_app::mfa::{OtpKind, SimpleFactor, Via};
use twofold_domain::password_complexity::PasswordComplexitySettings;
use twofold_proto::zitadel::auth::v1::auth_service_server::AuthService;
use twofold_proto::zitadel::auth::v1::*;
use twofold_proto::zitadel::user::v1::WebAuthNKey;

use crate::auth::{ctx, host};
use crate::error::to_status;
use crate::{convert, passwordless_v1, policies, validate};

pub struct SelfService {
    pub app: App,
}

#[tonic::async_trait]
impl AuthService for SelfService {
    async fn healthz(&self, _: Request<HealthzRequest>) -> Result<Response<HealthzResponse>, Status> {
        Ok(Response::new(HealthzResponse {}))
    }

    async fn get_my_password_complexity_policy(
        &self,
        req: Request<GetMyPasswordComplexityPolicyRequest>,
    ) -> Result<Response<GetMyPasswordComplexityPolicyResponse>, Status> {
        let (policy, _) = policies::in_force::<PasswordComplexitySettings, _>(&self.app, &req, true).await?;
        Ok(Response::new(GetMyPasswordComplexityPolicyResponse { policy }))
    }

    async fn list_my_auth_factors(
        &self,
        req: Request<ListMyAuthFactorsRequest>,
    ) -> Result<Response<ListMyAuthFactorsResponse>, Status> {
        let ctx = ctx(&req)?;
        let f = self.app.my_factors(&ctx).await.map_err(to_status)?;
        Ok(Response::new(ListMyAuthFactorsResponse {
            result: convert::auth_factors(&f),
        }))
    }

    async fn add_my_auth_factor_otp(
        &self,
        req: Request<AddMyAuthFactorOtpRequest>,
    ) -> Result<Response<AddMyAuthFactorOtpResponse>, Status> {
        let ctx = ctx(&req)?;
        let t = self
            .app
            .register_totp(&ctx, &ctx.caller.user_id)
            .await
            .map_err(to_status)?;
        Ok(Response::new(AddMyAuthFactorOtpResponse {
            url: t.uri,
            secret: t.secret,
            details: convert::added(t.details),
        }))
    }

    async fn verify_my_auth_factor_otp(
        &self,
        req: Request<VerifyMyAuthFactorOtpRequest>,
    ) -> Result<Response<VerifyMyAuthFactorOtpResponse>, Status> {
        let ctx = ctx(&req)?;
        let code = validate::id("VerifyMyAuthFactorOTPRequest", "Code", &req.get_ref().code)?;
        let d = self
            .app
            .verify_totp_registration(&ctx, &ctx.caller.user_id, code)
            .await
            .map_err(to_status)?;
        Ok(Response::new(VerifyMyAuthFactorOtpResponse {
            details: convert::changed(d),
        }))
    }

    async fn remove_my_auth_factor_otp(
        &self,
        req: Request<RemoveMyAuthFactorOtpRequest>,
    ) -> Result<Response<RemoveMyAuthFactorOtpResponse>, Status> {
        let ctx = ctx(&req)?;
        let d = self
            .app
            .remove_factor(&ctx, &ctx.caller.user_id, OtpKind::Totp, Via::UserApi)
            .await
            .map_err(to_status)?;
        Ok(Response::new(RemoveMyAuthFactorOtpResponse {
            details: convert::changed(d),
        }))
    }

    async fn add_my_auth_factor_otpsms(
        &self,
        req: Request<AddMyAuthFactorOtpsmsRequest>,
    ) -> Result<Response<AddMyAuthFactorOtpsmsResponse>, Status> {
        let ctx = ctx(&req)?;
        let d = self
            .app
            .add_factor(&ctx, &ctx.caller.user_id, SimpleFactor::OtpSms)
            .await
            .map_err(to_status)?;
        Ok(Response::new(AddMyAuthFactorOtpsmsResponse {
            details: convert::added(d),
        }))
    }

    async fn remove_my_auth_factor_otpsms(
        &self,
        req: Request<RemoveMyAuthFactorOtpsmsRequest>,
    ) -> Result<Response<RemoveMyAuthFactorOtpsmsResponse>, Status> {
        let ctx = ctx(&req)?;
        let d = self
            .app
            .remove_factor(&ctx, &ctx.caller.user_id, OtpKind::Sms, Via::UserApi)
            .await
            .map_err(to_status)?;
        Ok(Response::new(RemoveMyAuthFactorOtpsmsResponse {
            details: convert::changed(d),
        }))
    }

    async fn add_my_auth_factor_otp_email(
        &self,
        req: Request<AddMyAuthFactorOtpEmailRequest>,
    ) -> Result<Response<AddMyAuthFactorOtpEmailResponse>, Status> {
        let ctx = ctx(&req)?;
        let d = self
            .app
            .add_factor(&ctx, &ctx.caller.user_id, SimpleFactor::OtpEmail)
            .await
            .map_err(to_status)?;
        Ok(Response::new(AddMyAuthFactorOtpEmailResponse {
            details: convert::added(d),
        }))
    }

    async fn remove_my_auth_factor_otp_email(
        &self,
        req: Request<RemoveMyAuthFactorOtpEmailRequest>,
    ) -> Result<Response<RemoveMyAuthFactorOtpEmailResponse>, Status> {
        let ctx = ctx(&req)?;
        let d = self
            .app
            .remove_factor(&ctx, &ctx.caller.user_id, OtpKind::Email, Via::UserApi)
            .await
            .map_err(to_status)?;
        Ok(Response::new(RemoveMyAuthFactorOtpEmailResponse {
            details: convert::changed(d),
        }))
    }

    async fn add_my_auth_factor_u2f(
        &self,
        req: Request<AddMyAuthFactorU2fRequest>,
    ) -> Result<Response<AddMyAuthFactorU2fResponse>, Status> {
        let ctx = ctx(&req)?;
        let u = self
            .app
            .register_u2f(&ctx, &ctx.caller.user_id, "", &host(&req))
            .await
            .map_err(to_status)?;
        Ok(Response::new(AddMyAuthFactorU2fResponse {
            key: Some(WebAuthNKey {
                public_key: u.options.to_string().into_bytes(),
            }),
            details: convert::added(u.details),
        }))
    }

    async fn verify_my_auth_factor_u2f(
        &self,
        req: Request<VerifyMyAuthFactorU2fRequest>,
    ) -> Result<Response<VerifyMyAuthFactorU2fResponse>, Status> {
        const M: &str = "VerifyWebAuthN";
        let ctx = ctx(&req)?;
        let v = req.into_inner().verification.ok_or_else(|| {
            validate::invalid_field("VerifyMyAuthFactorU2FRequest", "Verification", "value is required")
        })?;
        validate::id(M, "TokenName", &v.token_name)?;
        let credential: serde_json::Value = serde_json::from_slice(&v.public_key_credential)
            .map_err(|e| validate::invalid_field(M, "PublicKeyCredential", &format!("not JSON: {e}")))?;
        let d = self
            .app
            .verify_u2f(&ctx, &ctx.caller.user_id, "", credential, &v.token_name)
            .await
            .map_err(to_status)?;
        Ok(Response::new(VerifyMyAuthFactorU2fResponse {
            details: convert::changed(d),
        }))
    }

    async fn remove_my_auth_factor_u2f(
        &self,
        req: Request<RemoveMyAuthFactorU2fRequest>,
    ) -> Result<Response<RemoveMyAuthFactorU2fResponse>, Status> {
        let ctx = ctx(&req)?;
        let token = validate::id("RemoveMyAuthFactorU2FRequest", "TokenId", &req.get_ref().token_id)?;
        let d = self
            .app
            .remove_u2f(&ctx, &ctx.caller.user_id, token, Via::UserApi)
            .await
            .map_err(to_status)?;
        Ok(Response::new(RemoveMyAuthFactorU2fResponse {
            details: convert::changed(d),
        }))
    }

    async fn update_my_password(
        &self,
        req: Request<UpdateMyPasswordRequest>,
    ) -> Result<Response<UpdateMyPasswordResponse>, Status> {
        crate::passwords::update_my_password(&self.app, req).await
    }

    async fn list_my_passwordless(
        &self,
        req: Request<ListMyPasswordlessRequest>,
    ) -> Result<Response<ListMyPasswordlessResponse>, Status> {
        passwordless_v1::list_my_passwordless(&self.app, req).await
    }

    async fn add_my_passwordless(
        &self,
        req: Request<AddMyPasswordlessRequest>,
    ) -> Result<Response<AddMyPasswordlessResponse>, Status> {
        passwordless_v1::add_my_passwordless(&self.app, req).await
    }

    async fn verify_my_passwordless(
        &self,
        req: Request<VerifyMyPasswordlessRequest>,
    ) -> Result<Response<VerifyMyPasswordlessResponse>, Status> {
        passwordless_v1::verify_my_passwordless(&self.app, req).await
    }

    async fn add_my_passwordless_link(
        &self,
        req: Request<AddMyPasswordlessLinkRequest>,
    ) -> Result<Response<AddMyPasswordlessLinkResponse>, Status> {
        passwordless_v1::add_my_passwordless_link(&self.app, req).await
    }

    async fn send_my_passwordless_link(
        &self,
        req: Request<SendMyPasswordlessLinkRequest>,
    ) -> Result<Response<SendMyPasswordlessLinkResponse>, Status> {
        passwordless_v1::send_my_passwordless_link(&self.app, req).await
    }

    async fn remove_my_passwordless(
        &self,
        req: Request<RemoveMyPasswordlessRequest>,
    ) -> Result<Response<RemoveMyPasswordlessResponse>, Status> {
        passwordless_v1::remove_my_passwordless(&self.app, req).await
    }
}
