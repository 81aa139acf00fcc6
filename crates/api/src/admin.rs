//! zitadel.admin.v1.AdminService: the instance's default login policy.

use tonic::{Request, Response, Status};
use twofold_app::App;
use twofold_app::login_policy::FactorChange;
use twofold_domain::login_policy::LoginPolicySettings;
use twofold_proto::zitadel::admin::v1::admin_service_server::AdminService;
use twofold_proto::zitadel::admin::v1::*;

use crate::auth::ctx;
use crate::error::to_status;
use crate::{convert, validate};

pub struct Admin {
    pub app: App,
}

/// Settings from an update request (full replacement: absent means false/0).
pub(crate) fn settings_from_update(r: &UpdateLoginPolicyRequest) -> Result<LoginPolicySettings, Status> {
    const M: &str = "UpdateLoginPolicyRequest";
    Ok(LoginPolicySettings {
        allow_username_password: r.allow_username_password,
        allow_register: r.allow_register,
        allow_external_idp: r.allow_external_idp,
        force_mfa: r.force_mfa,
        force_mfa_local_only: r.force_mfa_local_only,
        hide_password_reset: r.hide_password_reset,
        ignore_unknown_usernames: r.ignore_unknown_usernames,
        allow_domain_discovery: r.allow_domain_discovery,
        disable_login_with_email: r.disable_login_with_email,
        disable_login_with_phone: r.disable_login_with_phone,
        passwordless_type: validate::defined_enum(M, "PasswordlessType", r.passwordless_type, 1)?,
        default_redirect_uri: r.default_redirect_uri.clone(),
        password_check_lifetime: validate::lifetime(M, "PasswordCheckLifetime", r.password_check_lifetime.as_ref())?,
        external_login_check_lifetime: validate::lifetime(
            M,
            "ExternalLoginCheckLifetime",
            r.external_login_check_lifetime.as_ref(),
        )?,
        mfa_init_skip_lifetime: validate::lifetime(M, "MfaInitSkipLifetime", r.mfa_init_skip_lifetime.as_ref())?,
        second_factor_check_lifetime: validate::lifetime(
            M,
            "SecondFactorCheckLifetime",
            r.second_factor_check_lifetime.as_ref(),
        )?,
        multi_factor_check_lifetime: validate::lifetime(
            M,
            "MultiFactorCheckLifetime",
            r.multi_factor_check_lifetime.as_ref(),
        )?,
    })
}

#[tonic::async_trait]
impl AdminService for Admin {
    async fn healthz(&self, _: Request<HealthzRequest>) -> Result<Response<HealthzResponse>, Status> {
        Ok(Response::new(HealthzResponse {}))
    }

    async fn get_login_policy(
        &self,
        req: Request<GetLoginPolicyRequest>,
    ) -> Result<Response<GetLoginPolicyResponse>, Status> {
        let ctx = ctx(&req)?;
        let view = self
            .app
            .default_login_policy(&ctx.instance_id)
            .await
            .map_err(to_status)?;
        Ok(Response::new(GetLoginPolicyResponse {
            policy: Some(convert::login_policy(&view)),
        }))
    }

    async fn update_login_policy(
        &self,
        req: Request<UpdateLoginPolicyRequest>,
    ) -> Result<Response<UpdateLoginPolicyResponse>, Status> {
        let ctx = ctx(&req)?;
        let settings = settings_from_update(req.get_ref())?;
        let d = self
            .app
            .update_default_login_policy(&ctx, settings)
            .await
            .map_err(to_status)?;
        Ok(Response::new(UpdateLoginPolicyResponse {
            details: convert::changed(d),
        }))
    }

    async fn list_login_policy_second_factors(
        &self,
        req: Request<ListLoginPolicySecondFactorsRequest>,
    ) -> Result<Response<ListLoginPolicySecondFactorsResponse>, Status> {
        let ctx = ctx(&req)?;
        let view = self
            .app
            .default_login_policy(&ctx.instance_id)
            .await
            .map_err(to_status)?;
        Ok(Response::new(ListLoginPolicySecondFactorsResponse {
            details: convert::list(view.second_factors.len()),
            result: view.second_factors.iter().map(|f| i32::from(*f)).collect(),
        }))
    }

    async fn add_second_factor_to_login_policy(
        &self,
        req: Request<AddSecondFactorToLoginPolicyRequest>,
    ) -> Result<Response<AddSecondFactorToLoginPolicyResponse>, Status> {
        let ctx = ctx(&req)?;
        let f = validate::second_factor("AddSecondFactorToLoginPolicyRequest", req.get_ref().r#type)?;
        let d = self
            .app
            .change_default_factor(&ctx, FactorChange::AddSecond(f))
            .await
            .map_err(to_status)?;
        Ok(Response::new(AddSecondFactorToLoginPolicyResponse {
            details: convert::added(d),
        }))
    }

    async fn remove_second_factor_from_login_policy(
        &self,
        req: Request<RemoveSecondFactorFromLoginPolicyRequest>,
    ) -> Result<Response<RemoveSecondFactorFromLoginPolicyResponse>, Status> {
        let ctx = ctx(&req)?;
        let f = validate::second_factor("RemoveSecondFactorFromLoginPolicyRequest", req.get_ref().r#type)?;
        let d = self
            .app
            .change_default_factor(&ctx, FactorChange::RemoveSecond(f))
            .await
            .map_err(to_status)?;
        Ok(Response::new(RemoveSecondFactorFromLoginPolicyResponse {
            details: convert::changed(d),
        }))
    }

    async fn list_login_policy_multi_factors(
        &self,
        req: Request<ListLoginPolicyMultiFactorsRequest>,
    ) -> Result<Response<ListLoginPolicyMultiFactorsResponse>, Status> {
        let ctx = ctx(&req)?;
        let view = self
            .app
            .default_login_policy(&ctx.instance_id)
            .await
            .map_err(to_status)?;
        Ok(Response::new(ListLoginPolicyMultiFactorsResponse {
            details: convert::list(view.multi_factors.len()),
            result: view.multi_factors.iter().map(|f| i32::from(*f)).collect(),
        }))
    }

    async fn add_multi_factor_to_login_policy(
        &self,
        req: Request<AddMultiFactorToLoginPolicyRequest>,
    ) -> Result<Response<AddMultiFactorToLoginPolicyResponse>, Status> {
        let ctx = ctx(&req)?;
        let f = validate::multi_factor("AddMultiFactorToLoginPolicyRequest", req.get_ref().r#type)?;
        let d = self
            .app
            .change_default_factor(&ctx, FactorChange::AddMulti(f))
            .await
            .map_err(to_status)?;
        Ok(Response::new(AddMultiFactorToLoginPolicyResponse {
            details: convert::added(d),
        }))
    }

    async fn remove_multi_factor_from_login_policy(
        &self,
        req: Request<RemoveMultiFactorFromLoginPolicyRequest>,
    ) -> Result<Response<RemoveMultiFactorFromLoginPolicyResponse>, Status> {
        let ctx = ctx(&req)?;
        let f = validate::multi_factor("RemoveMultiFactorFromLoginPolicyRequest", req.get_ref().r#type)?;
        let d = self
            .app
            .change_default_factor(&ctx, FactorChange::RemoveMulti(f))
            .await
            .map_err(to_status)?;
        Ok(Response::new(RemoveMultiFactorFromLoginPolicyResponse {
            details: convert::changed(d),
        }))
    }
}
