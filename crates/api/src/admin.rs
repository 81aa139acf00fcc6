//! zitadel.admin.v1.AdminService: the instance's default login policy.

use tonic::{Request, Response, Status};
use twofold_app::App;
use twofold_app::notify::NewSmtp;
use twofold_domain::lockout::LockoutSettings;
use twofold_domain::notify::Channel;
use twofold_domain::password_age::PasswordAgeSettings;
use twofold_domain::password_complexity::PasswordComplexitySettings;
use twofold_domain::scope::Scope;
use twofold_proto::zitadel::admin::v1::admin_service_server::AdminService;
use twofold_proto::zitadel::admin::v1::*;

use crate::auth::ctx;
use crate::error::to_status;
use crate::{convert, policies, queries, validate};

pub struct Admin {
    pub app: App,
}

/// An SMTP provider from either request message: their fields are the same
/// and named alike.
macro_rules! smtp_from_request {
    ($r:expr) => {{
        let r = $r;
        NewSmtp {
            sender_address: r.sender_address,
            sender_name: r.sender_name,
            tls: r.tls,
            host: r.host,
            user: r.user,
            password: r.password,
            reply_to_address: r.reply_to_address,
            description: r.description,
        }
    }};
}

/// `smtp` checked as the fields of `message`.
fn validated_smtp(message: &str, smtp: NewSmtp) -> Result<NewSmtp, Status> {
    validate::id(message, "SenderAddress", &smtp.sender_address)?;
    validate::id(message, "SenderName", &smtp.sender_name)?;
    validate::text(message, "Host", &smtp.host, 1, 500)?;
    validate::text(message, "ReplyToAddress", &smtp.reply_to_address, 0, 200)?;
    validate::text(message, "Description", &smtp.description, 0, 200)?;
    Ok(smtp)
}

#[tonic::async_trait]
impl AdminService for Admin {
    async fn healthz(&self, _: Request<HealthzRequest>) -> Result<Response<HealthzResponse>, Status> {
        Ok(Response::new(HealthzResponse {}))
    }

    async fn get_org_by_id(&self, req: Request<GetOrgByIdRequest>) -> Result<Response<GetOrgByIdResponse>, Status> {
        let ctx = ctx(&req)?;
        let id = validate::id("GetOrgByIDRequest", "Id", &req.get_ref().id)?;
        let org = self.app.org(&ctx.instance_id, id).await.map_err(to_status)?;
        Ok(Response::new(GetOrgByIdResponse {
            org: Some(convert::org(org)),
        }))
    }

    async fn list_orgs(&self, req: Request<ListOrgsRequest>) -> Result<Response<ListOrgsResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.get_ref();
        let (filters, by_name) = queries::orgs(r)?;
        let list = self
            .app
            .list_orgs(&ctx.instance_id, &filters, by_name, queries::list_v1(r.query.as_ref())?)
            .await
            .map_err(to_status)?;
        Ok(Response::new(ListOrgsResponse {
            details: convert::list(list.total),
            sorting_column: r.sorting_column,
            result: list.orgs.into_iter().map(convert::org).collect(),
        }))
    }

    async fn list_iam_members(
        &self,
        req: Request<ListIamMembersRequest>,
    ) -> Result<Response<ListIamMembersResponse>, Status> {
        scoped_rpc!(list_members: self.app, req, Scope::Instance, "ListIAMMembersRequest", ListIamMembersResponse,
            queries::member_sort("ListIAMMembersRequest", req.get_ref().sorting_column)?)
    }

    async fn add_iam_member(
        &self,
        req: Request<AddIamMemberRequest>,
    ) -> Result<Response<AddIamMemberResponse>, Status> {
        scoped_rpc!(add_member: self.app, req, Scope::Instance, "AddIAMMemberRequest", AddIamMemberResponse)
    }

    async fn update_iam_member(
        &self,
        req: Request<UpdateIamMemberRequest>,
    ) -> Result<Response<UpdateIamMemberResponse>, Status> {
        scoped_rpc!(change_member: self.app, req, Scope::Instance, "UpdateIAMMemberRequest", UpdateIamMemberResponse)
    }

    async fn remove_iam_member(
        &self,
        req: Request<RemoveIamMemberRequest>,
    ) -> Result<Response<RemoveIamMemberResponse>, Status> {
        scoped_rpc!(remove_member: self.app, req, Scope::Instance, "RemoveIAMMemberRequest", RemoveIamMemberResponse)
    }

    async fn get_lockout_policy(
        &self,
        req: Request<GetLockoutPolicyRequest>,
    ) -> Result<Response<GetLockoutPolicyResponse>, Status> {
        let policy = policies::default::<LockoutSettings, _>(&self.app, &req).await?;
        Ok(Response::new(GetLockoutPolicyResponse { policy }))
    }

    async fn update_lockout_policy(
        &self,
        req: Request<UpdateLockoutPolicyRequest>,
    ) -> Result<Response<UpdateLockoutPolicyResponse>, Status> {
        let details = policies::update(&self.app, &req, Scope::Instance).await?;
        Ok(Response::new(UpdateLockoutPolicyResponse { details }))
    }

    async fn get_password_complexity_policy(
        &self,
        req: Request<GetPasswordComplexityPolicyRequest>,
    ) -> Result<Response<GetPasswordComplexityPolicyResponse>, Status> {
        let policy = policies::default::<PasswordComplexitySettings, _>(&self.app, &req).await?;
        Ok(Response::new(GetPasswordComplexityPolicyResponse { policy }))
    }

    async fn update_password_complexity_policy(
        &self,
        req: Request<UpdatePasswordComplexityPolicyRequest>,
    ) -> Result<Response<UpdatePasswordComplexityPolicyResponse>, Status> {
        let details = policies::update(&self.app, &req, Scope::Instance).await?;
        Ok(Response::new(UpdatePasswordComplexityPolicyResponse { details }))
    }

    async fn get_password_age_policy(
        &self,
        req: Request<GetPasswordAgePolicyRequest>,
    ) -> Result<Response<GetPasswordAgePolicyResponse>, Status> {
        let policy = policies::default::<PasswordAgeSettings, _>(&self.app, &req).await?;
        Ok(Response::new(GetPasswordAgePolicyResponse { policy }))
    }

    async fn update_password_age_policy(
        &self,
        req: Request<UpdatePasswordAgePolicyRequest>,
    ) -> Result<Response<UpdatePasswordAgePolicyResponse>, Status> {
        let details = policies::update(&self.app, &req, Scope::Instance).await?;
        Ok(Response::new(UpdatePasswordAgePolicyResponse { details }))
    }

    async fn add_smtp_config(
        &self,
        req: Request<AddSmtpConfigRequest>,
    ) -> Result<Response<AddSmtpConfigResponse>, Status> {
        let ctx = ctx(&req)?;
        let smtp = validated_smtp("AddSMTPConfigRequest", smtp_from_request!(req.into_inner()))?;
        let (id, d) = self.app.add_smtp_provider(&ctx, smtp).await.map_err(to_status)?;
        Ok(Response::new(AddSmtpConfigResponse {
            details: convert::changed(d),
            id,
        }))
    }

    async fn add_email_provider_smtp(
        &self,
        req: Request<AddEmailProviderSmtpRequest>,
    ) -> Result<Response<AddEmailProviderSmtpResponse>, Status> {
        let ctx = ctx(&req)?;
        let smtp = validated_smtp("AddEmailProviderSMTPRequest", smtp_from_request!(req.into_inner()))?;
        let (id, d) = self.app.add_smtp_provider(&ctx, smtp).await.map_err(to_status)?;
        Ok(Response::new(AddEmailProviderSmtpResponse {
            details: convert::changed(d),
            id,
        }))
    }

    async fn activate_smtp_config(
        &self,
        req: Request<ActivateSmtpConfigRequest>,
    ) -> Result<Response<ActivateSmtpConfigResponse>, Status> {
        let ctx = ctx(&req)?;
        let id = validate::id("ActivateSMTPConfigRequest", "Id", &req.get_ref().id)?;
        let d = self
            .app
            .activate_provider(&ctx, Channel::Email, id)
            .await
            .map_err(to_status)?;
        Ok(Response::new(ActivateSmtpConfigResponse {
            details: convert::changed(d),
        }))
    }

    async fn activate_email_provider(
        &self,
        req: Request<ActivateEmailProviderRequest>,
    ) -> Result<Response<ActivateEmailProviderResponse>, Status> {
        let ctx = ctx(&req)?;
        let id = validate::id("ActivateEmailProviderRequest", "Id", &req.get_ref().id)?;
        let d = self
            .app
            .activate_provider(&ctx, Channel::Email, id)
            .await
            .map_err(to_status)?;
        Ok(Response::new(ActivateEmailProviderResponse {
            details: convert::changed(d),
        }))
    }

    async fn add_sms_provider_http(
        &self,
        req: Request<AddSmsProviderHttpRequest>,
    ) -> Result<Response<AddSmsProviderHttpResponse>, Status> {
        const M: &str = "AddSMSProviderHTTPRequest";
        let ctx = ctx(&req)?;
        let r = req.get_ref();
        let endpoint = validate::text(M, "Endpoint", &r.endpoint, 1, 2048)?;
        let description = validate::text(M, "Description", &r.description, 0, 200)?;
        let (id, signing_key, d) = self
            .app
            .add_http_sms_provider(&ctx, endpoint, description)
            .await
            .map_err(to_status)?;
        Ok(Response::new(AddSmsProviderHttpResponse {
            details: convert::changed(d),
            id,
            signing_key,
        }))
    }

    async fn activate_sms_provider(
        &self,
        req: Request<ActivateSmsProviderRequest>,
    ) -> Result<Response<ActivateSmsProviderResponse>, Status> {
        let ctx = ctx(&req)?;
        let id = validate::id("ActivateSMSProviderRequest", "Id", &req.get_ref().id)?;
        let d = self
            .app
            .activate_provider(&ctx, Channel::Sms, id)
            .await
            .map_err(to_status)?;
        Ok(Response::new(ActivateSmsProviderResponse {
            details: convert::changed(d),
        }))
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
        let settings = crate::settings_from_request!(req.get_ref(), "UpdateLoginPolicyRequest");
        let d = self
            .app
            .update_login_policy(&ctx, Scope::Instance, settings, crate::policy_preview::force(&req))
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
        scoped_rpc!(add_second_factor: self.app, req, Scope::Instance)
    }

    async fn remove_second_factor_from_login_policy(
        &self,
        req: Request<RemoveSecondFactorFromLoginPolicyRequest>,
    ) -> Result<Response<RemoveSecondFactorFromLoginPolicyResponse>, Status> {
        scoped_rpc!(remove_second_factor: self.app, req, Scope::Instance)
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
        scoped_rpc!(add_multi_factor: self.app, req, Scope::Instance)
    }

    async fn remove_multi_factor_from_login_policy(
        &self,
        req: Request<RemoveMultiFactorFromLoginPolicyRequest>,
    ) -> Result<Response<RemoveMultiFactorFromLoginPolicyResponse>, Status> {
        scoped_rpc!(remove_multi_factor: self.app, req, Scope::Instance)
    }
}
