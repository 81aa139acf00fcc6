//! zitadel.management.v1.ManagementService: one organization's view.

use tonic::{Request, Response, Status};
use twofold_app::App;
use twofold_proto::zitadel::management::v1::management_service_server::ManagementService;
use twofold_proto::zitadel::management::v1::*;

use twofold_app::mfa::{OtpKind, Via};
use twofold_app::users::NewMachineUser;
use twofold_domain::UserId;
use twofold_domain::lockout::LockoutSettings;
use twofold_domain::password_age::PasswordAgeSettings;
use twofold_domain::password_complexity::PasswordComplexitySettings;
use twofold_domain::readmodel::query::MemberSort;
use twofold_domain::scope::Scope;

use crate::auth::ctx;
use crate::error::to_status;
use crate::{convert, passwordless_v1, policies, projects, queries, validate};

pub struct Management {
    pub app: App,
}

#[tonic::async_trait]
impl ManagementService for Management {
    async fn healthz(&self, _: Request<HealthzRequest>) -> Result<Response<HealthzResponse>, Status> {
        Ok(Response::new(HealthzResponse {}))
    }

    async fn get_my_org(&self, req: Request<GetMyOrgRequest>) -> Result<Response<GetMyOrgResponse>, Status> {
        let ctx = ctx(&req)?;
        let org = self
            .app
            .org(&ctx.instance_id, ctx.org_id.as_str())
            .await
            .map_err(to_status)?;
        Ok(Response::new(GetMyOrgResponse {
            org: Some(convert::org(org)),
        }))
    }

    async fn get_login_policy(
        &self,
        req: Request<GetLoginPolicyRequest>,
    ) -> Result<Response<GetLoginPolicyResponse>, Status> {
        let ctx = ctx(&req)?;
        let view = self
            .app
            .org_login_policy(&ctx.instance_id, &ctx.org_id)
            .await
            .map_err(to_status)?;
        Ok(Response::new(GetLoginPolicyResponse {
            is_default: view.is_default,
            policy: Some(convert::login_policy(&view)),
        }))
    }

    async fn get_default_login_policy(
        &self,
        req: Request<GetDefaultLoginPolicyRequest>,
    ) -> Result<Response<GetDefaultLoginPolicyResponse>, Status> {
        let ctx = ctx(&req)?;
        let view = self
            .app
            .default_login_policy(&ctx.instance_id)
            .await
            .map_err(to_status)?;
        Ok(Response::new(GetDefaultLoginPolicyResponse {
            policy: Some(convert::login_policy(&view)),
        }))
    }

    async fn list_login_policy_second_factors(
        &self,
        req: Request<ListLoginPolicySecondFactorsRequest>,
    ) -> Result<Response<ListLoginPolicySecondFactorsResponse>, Status> {
        let ctx = ctx(&req)?;
        let view = self
            .app
            .org_login_policy(&ctx.instance_id, &ctx.org_id)
            .await
            .map_err(to_status)?;
        Ok(Response::new(ListLoginPolicySecondFactorsResponse {
            details: convert::list(view.second_factors.len()),
            result: view.second_factors.iter().map(|f| i32::from(*f)).collect(),
        }))
    }

    async fn list_login_policy_multi_factors(
        &self,
        req: Request<ListLoginPolicyMultiFactorsRequest>,
    ) -> Result<Response<ListLoginPolicyMultiFactorsResponse>, Status> {
        let ctx = ctx(&req)?;
        let view = self
            .app
            .org_login_policy(&ctx.instance_id, &ctx.org_id)
            .await
            .map_err(to_status)?;
        Ok(Response::new(ListLoginPolicyMultiFactorsResponse {
            details: convert::list(view.multi_factors.len()),
            result: view.multi_factors.iter().map(|f| i32::from(*f)).collect(),
        }))
    }

    async fn add_org(&self, req: Request<AddOrgRequest>) -> Result<Response<AddOrgResponse>, Status> {
        let ctx = ctx(&req)?;
        let name = validate::id("AddOrgRequest", "Name", &req.get_ref().name)?;
        let (id, d) = self.app.add_org(&ctx, name).await.map_err(to_status)?;
        Ok(Response::new(AddOrgResponse {
            id,
            details: convert::added(d),
        }))
    }

    async fn list_org_members(
        &self,
        req: Request<ListOrgMembersRequest>,
    ) -> Result<Response<ListOrgMembersResponse>, Status> {
        scoped_rpc!(list_members: self.app, req, Scope::Org, "ListOrgMembersRequest", ListOrgMembersResponse, MemberSort::Unspecified)
    }

    async fn add_org_member(
        &self,
        req: Request<AddOrgMemberRequest>,
    ) -> Result<Response<AddOrgMemberResponse>, Status> {
        scoped_rpc!(add_member: self.app, req, Scope::Org, "AddOrgMemberRequest", AddOrgMemberResponse)
    }

    async fn update_org_member(
        &self,
        req: Request<UpdateOrgMemberRequest>,
    ) -> Result<Response<UpdateOrgMemberResponse>, Status> {
        scoped_rpc!(change_member: self.app, req, Scope::Org, "UpdateOrgMemberRequest", UpdateOrgMemberResponse)
    }

    async fn remove_org_member(
        &self,
        req: Request<RemoveOrgMemberRequest>,
    ) -> Result<Response<RemoveOrgMemberResponse>, Status> {
        scoped_rpc!(remove_member: self.app, req, Scope::Org, "RemoveOrgMemberRequest", RemoveOrgMemberResponse)
    }

    async fn get_user_by_id(&self, req: Request<GetUserByIdRequest>) -> Result<Response<GetUserByIdResponse>, Status> {
        let ctx = ctx(&req)?;
        let id = UserId::from(validate::id("GetUserByIDRequest", "Id", &req.get_ref().id)?);
        let user = self.app.user(&ctx, &id).await.map_err(to_status)?.into_inner();
        Ok(Response::new(GetUserByIdResponse {
            user: Some(convert::user(user)),
        }))
    }

    async fn add_machine_user(
        &self,
        req: Request<AddMachineUserRequest>,
    ) -> Result<Response<AddMachineUserResponse>, Status> {
        const M: &str = "AddMachineUserRequest";
        let ctx = ctx(&req)?;
        let r = req.get_ref();
        let user = NewMachineUser {
            user_name: validate::id(M, "UserName", &r.user_name)?.to_owned(),
            name: validate::id(M, "Name", &r.name)?.to_owned(),
            description: validate::text(M, "Description", &r.description, 0, 500)?.to_owned(),
            access_token_type: validate::defined_enum(M, "AccessTokenType", r.access_token_type, 1)?,
            user_id: match &r.user_id {
                Some(id) => Some(validate::id(M, "UserId", id)?.to_owned()),
                None => None,
            },
        };
        let (user_id, d) = self.app.add_machine_user(&ctx, user).await.map_err(to_status)?;
        Ok(Response::new(AddMachineUserResponse {
            user_id,
            details: convert::changed(d),
        }))
    }

    async fn remove_user(&self, req: Request<RemoveUserRequest>) -> Result<Response<RemoveUserResponse>, Status> {
        let ctx = ctx(&req)?;
        let id = UserId::from(validate::id("RemoveUserRequest", "Id", &req.get_ref().id)?);
        let d = self.app.remove_user(&ctx, &id).await.map_err(to_status)?;
        Ok(Response::new(RemoveUserResponse {
            details: convert::changed(d),
        }))
    }

    async fn add_personal_access_token(
        &self,
        req: Request<AddPersonalAccessTokenRequest>,
    ) -> Result<Response<AddPersonalAccessTokenResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.get_ref();
        let user_id = UserId::from(validate::text(
            "AddPersonalAccessTokenRequest",
            "UserId",
            &r.user_id,
            1,
            usize::MAX,
        )?);
        let expiration = r.expiration_date.as_ref().map(convert::from_timestamp);
        let t = self.app.add_pat(&ctx, &user_id, expiration).await.map_err(to_status)?;
        Ok(Response::new(AddPersonalAccessTokenResponse {
            token_id: t.token_id,
            token: t.token,
            details: convert::added(t.details),
        }))
    }

    async fn list_personal_access_tokens(
        &self,
        req: Request<ListPersonalAccessTokensRequest>,
    ) -> Result<Response<ListPersonalAccessTokensResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.get_ref();
        let user_id = UserId::from(validate::id("ListPersonalAccessTokensRequest", "UserId", &r.user_id)?);
        let list = queries::list_v1(r.query.as_ref())?;
        let pats = self.app.list_pats(&ctx, &user_id).await.map_err(to_status)?;
        Ok(Response::new(ListPersonalAccessTokensResponse {
            details: convert::list(pats.len()),
            result: list.page(pats).into_iter().map(convert::pat).collect(),
        }))
    }

    async fn remove_personal_access_token(
        &self,
        req: Request<RemovePersonalAccessTokenRequest>,
    ) -> Result<Response<RemovePersonalAccessTokenResponse>, Status> {
        const M: &str = "RemovePersonalAccessTokenRequest";
        let ctx = ctx(&req)?;
        let r = req.get_ref();
        let user_id = UserId::from(validate::id(M, "UserId", &r.user_id)?);
        let token_id = validate::id(M, "TokenId", &r.token_id)?;
        let d = self.app.remove_pat(&ctx, &user_id, token_id).await.map_err(to_status)?;
        Ok(Response::new(RemovePersonalAccessTokenResponse {
            details: convert::changed(d),
        }))
    }

    async fn add_custom_login_policy(
        &self,
        req: Request<AddCustomLoginPolicyRequest>,
    ) -> Result<Response<AddCustomLoginPolicyResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.get_ref();
        let settings = crate::settings_from_request!(r, "AddCustomLoginPolicyRequest");
        let d = self
            .app
            .add_custom_login_policy(
                &ctx,
                settings,
                &r.second_factors,
                &r.multi_factors,
                r.idps.len(),
                crate::policy_preview::force(&req),
            )
            .await
            .map_err(to_status)?;
        Ok(Response::new(AddCustomLoginPolicyResponse {
            details: convert::added(d),
        }))
    }

    async fn update_custom_login_policy(
        &self,
        req: Request<UpdateCustomLoginPolicyRequest>,
    ) -> Result<Response<UpdateCustomLoginPolicyResponse>, Status> {
        let ctx = ctx(&req)?;
        let settings = crate::settings_from_request!(req.get_ref(), "UpdateCustomLoginPolicyRequest");
        let d = self
            .app
            .update_login_policy(&ctx, Scope::Org, settings, crate::policy_preview::force(&req))
            .await
            .map_err(to_status)?;
        Ok(Response::new(UpdateCustomLoginPolicyResponse {
            details: convert::changed(d),
        }))
    }

    async fn reset_login_policy_to_default(
        &self,
        req: Request<ResetLoginPolicyToDefaultRequest>,
    ) -> Result<Response<ResetLoginPolicyToDefaultResponse>, Status> {
        let ctx = ctx(&req)?;
        let d = self
            .app
            .reset_login_policy(&ctx, crate::policy_preview::force(&req))
            .await
            .map_err(to_status)?;
        Ok(Response::new(ResetLoginPolicyToDefaultResponse {
            details: convert::changed(d),
        }))
    }

    async fn add_second_factor_to_login_policy(
        &self,
        req: Request<AddSecondFactorToLoginPolicyRequest>,
    ) -> Result<Response<AddSecondFactorToLoginPolicyResponse>, Status> {
        scoped_rpc!(add_second_factor: self.app, req, Scope::Org)
    }

    async fn remove_second_factor_from_login_policy(
        &self,
        req: Request<RemoveSecondFactorFromLoginPolicyRequest>,
    ) -> Result<Response<RemoveSecondFactorFromLoginPolicyResponse>, Status> {
        scoped_rpc!(remove_second_factor: self.app, req, Scope::Org)
    }

    async fn add_multi_factor_to_login_policy(
        &self,
        req: Request<AddMultiFactorToLoginPolicyRequest>,
    ) -> Result<Response<AddMultiFactorToLoginPolicyResponse>, Status> {
        scoped_rpc!(add_multi_factor: self.app, req, Scope::Org)
    }

    async fn remove_multi_factor_from_login_policy(
        &self,
        req: Request<RemoveMultiFactorFromLoginPolicyRequest>,
    ) -> Result<Response<RemoveMultiFactorFromLoginPolicyResponse>, Status> {
        scoped_rpc!(remove_multi_factor: self.app, req, Scope::Org)
    }

    async fn list_human_auth_factors(
        &self,
        req: Request<ListHumanAuthFactorsRequest>,
    ) -> Result<Response<ListHumanAuthFactorsResponse>, Status> {
        let ctx = ctx(&req)?;
        let id = UserId::from(validate::id(
            "ListHumanAuthFactorsRequest",
            "UserId",
            &req.get_ref().user_id,
        )?);
        let f = self.app.user_factors(&ctx, &id).await.map_err(to_status)?;
        Ok(Response::new(ListHumanAuthFactorsResponse {
            result: convert::auth_factors(&f),
        }))
    }

    async fn remove_human_auth_factor_otp(
        &self,
        req: Request<RemoveHumanAuthFactorOtpRequest>,
    ) -> Result<Response<RemoveHumanAuthFactorOtpResponse>, Status> {
        let ctx = ctx(&req)?;
        let id = UserId::from(validate::id(
            "RemoveHumanAuthFactorOTPRequest",
            "UserId",
            &req.get_ref().user_id,
        )?);
        let d = self
            .app
            .remove_factor(&ctx, &id, OtpKind::Totp, Via::Management)
            .await
            .map_err(to_status)?;
        Ok(Response::new(RemoveHumanAuthFactorOtpResponse {
            details: convert::changed(d),
        }))
    }

    async fn remove_human_auth_factor_u2f(
        &self,
        req: Request<RemoveHumanAuthFactorU2fRequest>,
    ) -> Result<Response<RemoveHumanAuthFactorU2fResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.get_ref();
        let id = UserId::from(validate::id("RemoveHumanAuthFactorU2FRequest", "UserId", &r.user_id)?);
        let token = validate::id("RemoveHumanAuthFactorU2FRequest", "TokenId", &r.token_id)?;
        let d = self
            .app
            .remove_u2f(&ctx, &id, token, Via::Management)
            .await
            .map_err(to_status)?;
        Ok(Response::new(RemoveHumanAuthFactorU2fResponse {
            details: convert::changed(d),
        }))
    }

    async fn remove_human_auth_factor_otpsms(
        &self,
        req: Request<RemoveHumanAuthFactorOtpsmsRequest>,
    ) -> Result<Response<RemoveHumanAuthFactorOtpsmsResponse>, Status> {
        let ctx = ctx(&req)?;
        let id = UserId::from(validate::id(
            "RemoveHumanAuthFactorOTPSMSRequest",
            "UserId",
            &req.get_ref().user_id,
        )?);
        let d = self
            .app
            .remove_factor(&ctx, &id, OtpKind::Sms, Via::Management)
            .await
            .map_err(to_status)?;
        Ok(Response::new(RemoveHumanAuthFactorOtpsmsResponse {
            details: convert::changed(d),
        }))
    }

    async fn remove_human_auth_factor_otp_email(
        &self,
        req: Request<RemoveHumanAuthFactorOtpEmailRequest>,
    ) -> Result<Response<RemoveHumanAuthFactorOtpEmailResponse>, Status> {
        let ctx = ctx(&req)?;
        let id = UserId::from(validate::id(
            "RemoveHumanAuthFactorOTPEmailRequest",
            "UserId",
            &req.get_ref().user_id,
        )?);
        let d = self
            .app
            .remove_factor(&ctx, &id, OtpKind::Email, Via::Management)
            .await
            .map_err(to_status)?;
        Ok(Response::new(RemoveHumanAuthFactorOtpEmailResponse {
            details: convert::changed(d),
        }))
    }

    async fn get_lockout_policy(
        &self,
        req: Request<GetLockoutPolicyRequest>,
    ) -> Result<Response<GetLockoutPolicyResponse>, Status> {
        let (policy, is_default) = policies::in_force::<LockoutSettings, _>(&self.app, &req, false).await?;
        Ok(Response::new(GetLockoutPolicyResponse { policy, is_default }))
    }

    async fn get_default_lockout_policy(
        &self,
        req: Request<GetDefaultLockoutPolicyRequest>,
    ) -> Result<Response<GetDefaultLockoutPolicyResponse>, Status> {
        let policy = policies::default::<LockoutSettings, _>(&self.app, &req).await?;
        Ok(Response::new(GetDefaultLockoutPolicyResponse { policy }))
    }

    async fn add_custom_lockout_policy(
        &self,
        req: Request<AddCustomLockoutPolicyRequest>,
    ) -> Result<Response<AddCustomLockoutPolicyResponse>, Status> {
        let details = policies::add_custom(&self.app, &req).await?;
        Ok(Response::new(AddCustomLockoutPolicyResponse { details }))
    }

    async fn update_custom_lockout_policy(
        &self,
        req: Request<UpdateCustomLockoutPolicyRequest>,
    ) -> Result<Response<UpdateCustomLockoutPolicyResponse>, Status> {
        let details = policies::update(&self.app, &req, Scope::Org).await?;
        Ok(Response::new(UpdateCustomLockoutPolicyResponse { details }))
    }

    async fn reset_lockout_policy_to_default(
        &self,
        req: Request<ResetLockoutPolicyToDefaultRequest>,
    ) -> Result<Response<ResetLockoutPolicyToDefaultResponse>, Status> {
        let details = policies::reset::<LockoutSettings, _>(&self.app, &req).await?;
        Ok(Response::new(ResetLockoutPolicyToDefaultResponse { details }))
    }

    async fn get_password_complexity_policy(
        &self,
        req: Request<GetPasswordComplexityPolicyRequest>,
    ) -> Result<Response<GetPasswordComplexityPolicyResponse>, Status> {
        let (policy, is_default) = policies::in_force::<PasswordComplexitySettings, _>(&self.app, &req, false).await?;
        Ok(Response::new(GetPasswordComplexityPolicyResponse {
            policy,
            is_default,
        }))
    }

    async fn get_default_password_complexity_policy(
        &self,
        req: Request<GetDefaultPasswordComplexityPolicyRequest>,
    ) -> Result<Response<GetDefaultPasswordComplexityPolicyResponse>, Status> {
        let policy = policies::default::<PasswordComplexitySettings, _>(&self.app, &req).await?;
        Ok(Response::new(GetDefaultPasswordComplexityPolicyResponse { policy }))
    }

    async fn add_custom_password_complexity_policy(
        &self,
        req: Request<AddCustomPasswordComplexityPolicyRequest>,
    ) -> Result<Response<AddCustomPasswordComplexityPolicyResponse>, Status> {
        let details = policies::add_custom(&self.app, &req).await?;
        Ok(Response::new(AddCustomPasswordComplexityPolicyResponse { details }))
    }

    async fn update_custom_password_complexity_policy(
        &self,
        req: Request<UpdateCustomPasswordComplexityPolicyRequest>,
    ) -> Result<Response<UpdateCustomPasswordComplexityPolicyResponse>, Status> {
        let details = policies::update(&self.app, &req, Scope::Org).await?;
        Ok(Response::new(UpdateCustomPasswordComplexityPolicyResponse { details }))
    }

    async fn reset_password_complexity_policy_to_default(
        &self,
        req: Request<ResetPasswordComplexityPolicyToDefaultRequest>,
    ) -> Result<Response<ResetPasswordComplexityPolicyToDefaultResponse>, Status> {
        let details = policies::reset::<PasswordComplexitySettings, _>(&self.app, &req).await?;
        Ok(Response::new(ResetPasswordComplexityPolicyToDefaultResponse {
            details,
        }))
    }

    async fn get_password_age_policy(
        &self,
        req: Request<GetPasswordAgePolicyRequest>,
    ) -> Result<Response<GetPasswordAgePolicyResponse>, Status> {
        let (policy, is_default) = policies::in_force::<PasswordAgeSettings, _>(&self.app, &req, false).await?;
        Ok(Response::new(GetPasswordAgePolicyResponse { policy, is_default }))
    }

    async fn get_default_password_age_policy(
        &self,
        req: Request<GetDefaultPasswordAgePolicyRequest>,
    ) -> Result<Response<GetDefaultPasswordAgePolicyResponse>, Status> {
        let policy = policies::default::<PasswordAgeSettings, _>(&self.app, &req).await?;
        Ok(Response::new(GetDefaultPasswordAgePolicyResponse { policy }))
    }

    async fn add_custom_password_age_policy(
        &self,
        req: Request<AddCustomPasswordAgePolicyRequest>,
    ) -> Result<Response<AddCustomPasswordAgePolicyResponse>, Status> {
        let details = policies::add_custom(&self.app, &req).await?;
        Ok(Response::new(AddCustomPasswordAgePolicyResponse { details }))
    }

    async fn update_custom_password_age_policy(
        &self,
        req: Request<UpdateCustomPasswordAgePolicyRequest>,
    ) -> Result<Response<UpdateCustomPasswordAgePolicyResponse>, Status> {
        let details = policies::update(&self.app, &req, Scope::Org).await?;
        Ok(Response::new(UpdateCustomPasswordAgePolicyResponse { details }))
    }

    async fn reset_password_age_policy_to_default(
        &self,
        req: Request<ResetPasswordAgePolicyToDefaultRequest>,
    ) -> Result<Response<ResetPasswordAgePolicyToDefaultResponse>, Status> {
        let details = policies::reset::<PasswordAgeSettings, _>(&self.app, &req).await?;
        Ok(Response::new(ResetPasswordAgePolicyToDefaultResponse { details }))
    }

    async fn set_human_password(
        &self,
        req: Request<SetHumanPasswordRequest>,
    ) -> Result<Response<SetHumanPasswordResponse>, Status> {
        crate::passwords::set_human_password(&self.app, req).await
    }

    async fn send_human_reset_password_notification(
        &self,
        req: Request<SendHumanResetPasswordNotificationRequest>,
    ) -> Result<Response<SendHumanResetPasswordNotificationResponse>, Status> {
        crate::passwords::send_human_reset_password_notification(&self.app, req).await
    }

    // Projects, applications and machine secrets: see `crate::projects`.

    async fn add_project(&self, req: Request<AddProjectRequest>) -> Result<Response<AddProjectResponse>, Status> {
        projects::add_project(&self.app, req).await
    }

    async fn get_project_by_id(
        &self,
        req: Request<GetProjectByIdRequest>,
    ) -> Result<Response<GetProjectByIdResponse>, Status> {
        projects::get_project(&self.app, req).await
    }

    async fn list_projects(&self, req: Request<ListProjectsRequest>) -> Result<Response<ListProjectsResponse>, Status> {
        projects::list_projects(&self.app, req).await
    }

    async fn update_project(
        &self,
        req: Request<UpdateProjectRequest>,
    ) -> Result<Response<UpdateProjectResponse>, Status> {
        projects::update_project(&self.app, req).await
    }

    async fn deactivate_project(
        &self,
        req: Request<DeactivateProjectRequest>,
    ) -> Result<Response<DeactivateProjectResponse>, Status> {
        projects::deactivate_project(&self.app, req).await
    }

    async fn reactivate_project(
        &self,
        req: Request<ReactivateProjectRequest>,
    ) -> Result<Response<ReactivateProjectResponse>, Status> {
        projects::reactivate_project(&self.app, req).await
    }

    async fn remove_project(
        &self,
        req: Request<RemoveProjectRequest>,
    ) -> Result<Response<RemoveProjectResponse>, Status> {
        projects::remove_project(&self.app, req).await
    }

    async fn add_oidc_app(&self, req: Request<AddOidcAppRequest>) -> Result<Response<AddOidcAppResponse>, Status> {
        projects::add_oidc_app(&self.app, req).await
    }

    async fn add_api_app(&self, req: Request<AddApiAppRequest>) -> Result<Response<AddApiAppResponse>, Status> {
        projects::add_api_app(&self.app, req).await
    }

    async fn get_app_by_id(&self, req: Request<GetAppByIdRequest>) -> Result<Response<GetAppByIdResponse>, Status> {
        projects::get_app(&self.app, req).await
    }

    async fn list_apps(&self, req: Request<ListAppsRequest>) -> Result<Response<ListAppsResponse>, Status> {
        projects::list_apps(&self.app, req).await
    }

    async fn update_app(&self, req: Request<UpdateAppRequest>) -> Result<Response<UpdateAppResponse>, Status> {
        projects::update_app(&self.app, req).await
    }

    async fn update_oidc_app_config(
        &self,
        req: Request<UpdateOidcAppConfigRequest>,
    ) -> Result<Response<UpdateOidcAppConfigResponse>, Status> {
        projects::update_oidc_app_config(&self.app, req).await
    }

    async fn deactivate_app(
        &self,
        req: Request<DeactivateAppRequest>,
    ) -> Result<Response<DeactivateAppResponse>, Status> {
        projects::deactivate_app(&self.app, req).await
    }

    async fn reactivate_app(
        &self,
        req: Request<ReactivateAppRequest>,
    ) -> Result<Response<ReactivateAppResponse>, Status> {
        projects::reactivate_app(&self.app, req).await
    }

    async fn remove_app(&self, req: Request<RemoveAppRequest>) -> Result<Response<RemoveAppResponse>, Status> {
        projects::remove_app(&self.app, req).await
    }

    async fn add_app_key(&self, req: Request<AddAppKeyRequest>) -> Result<Response<AddAppKeyResponse>, Status> {
        projects::add_app_key(&self.app, req).await
    }

    async fn get_app_key(&self, req: Request<GetAppKeyRequest>) -> Result<Response<GetAppKeyResponse>, Status> {
        projects::get_app_key(&self.app, req).await
    }

    async fn list_app_keys(&self, req: Request<ListAppKeysRequest>) -> Result<Response<ListAppKeysResponse>, Status> {
        projects::list_app_keys(&self.app, req).await
    }

    async fn remove_app_key(
        &self,
        req: Request<RemoveAppKeyRequest>,
    ) -> Result<Response<RemoveAppKeyResponse>, Status> {
        projects::remove_app_key(&self.app, req).await
    }

    async fn regenerate_oidc_client_secret(
        &self,
        req: Request<RegenerateOidcClientSecretRequest>,
    ) -> Result<Response<RegenerateOidcClientSecretResponse>, Status> {
        projects::regenerate_oidc_client_secret(&self.app, req).await
    }

    async fn update_api_app_config(
        &self,
        req: Request<UpdateApiAppConfigRequest>,
    ) -> Result<Response<UpdateApiAppConfigResponse>, Status> {
        projects::update_api_app_config(&self.app, req).await
    }

    async fn regenerate_api_client_secret(
        &self,
        req: Request<RegenerateApiClientSecretRequest>,
    ) -> Result<Response<RegenerateApiClientSecretResponse>, Status> {
        projects::regenerate_api_client_secret(&self.app, req).await
    }

    async fn generate_machine_secret(
        &self,
        req: Request<GenerateMachineSecretRequest>,
    ) -> Result<Response<GenerateMachineSecretResponse>, Status> {
        projects::generate_machine_secret(&self.app, req).await
    }

    async fn remove_machine_secret(
        &self,
        req: Request<RemoveMachineSecretRequest>,
    ) -> Result<Response<RemoveMachineSecretResponse>, Status> {
        projects::remove_machine_secret(&self.app, req).await
    }

    async fn list_human_passwordless(
        &self,
        req: Request<ListHumanPasswordlessRequest>,
    ) -> Result<Response<ListHumanPasswordlessResponse>, Status> {
        passwordless_v1::list_human_passwordless(&self.app, req).await
    }

    async fn add_passwordless_registration(
        &self,
        req: Request<AddPasswordlessRegistrationRequest>,
    ) -> Result<Response<AddPasswordlessRegistrationResponse>, Status> {
        passwordless_v1::add_passwordless_registration(&self.app, req).await
    }

    async fn send_passwordless_registration(
        &self,
        req: Request<SendPasswordlessRegistrationRequest>,
    ) -> Result<Response<SendPasswordlessRegistrationResponse>, Status> {
        passwordless_v1::send_passwordless_registration(&self.app, req).await
    }

    async fn remove_human_passwordless(
        &self,
        req: Request<RemoveHumanPasswordlessRequest>,
    ) -> Result<Response<RemoveHumanPasswordlessResponse>, Status> {
        passwordless_v1::remove_human_passwordless(&self.app, req).await
    }
}
