//! zitadel.settings.v2.SettingsService: the login and lockout settings in
//! force for an org (its own, or the instance default).

use tonic::{Request, Response, Status};
use twofold_app::App;
use twofold_app::auth::RequestCtx;
use twofold_proto::zitadel::settings::v2::settings_service_server::SettingsService;
use twofold_proto::zitadel::settings::v2::*;

use crate::auth::ctx;
use crate::convert;
use crate::error::to_status;

pub struct Settings {
    pub app: App,
}

/// The org a request context names; None for the instance itself.
fn target(ctx: &RequestCtx, rc: Option<&RequestContext>) -> Option<String> {
    match rc.and_then(|c| c.resource_owner.as_ref()) {
        Some(request_context::ResourceOwner::Instance(true)) => None,
        Some(request_context::ResourceOwner::OrgId(id)) if !id.is_empty() => Some(id.clone()),
        _ => Some(ctx.org_id.as_str().to_owned()),
    }
}

fn owner_type(is_default: bool) -> i32 {
    if is_default {
        ResourceOwnerType::Instance as i32
    } else {
        ResourceOwnerType::Org as i32
    }
}

#[tonic::async_trait]
impl SettingsService for Settings {
    async fn get_login_settings(
        &self,
        req: Request<GetLoginSettingsRequest>,
    ) -> Result<Response<GetLoginSettingsResponse>, Status> {
        let ctx = ctx(&req)?;
        let org = target(&ctx, req.get_ref().ctx.as_ref());
        let v = self
            .app
            .visible_login_policy(&ctx, org.as_deref())
            .await
            .map_err(to_status)?;
        let p = convert::login_policy(&v);
        Ok(Response::new(GetLoginSettingsResponse {
            details: convert::v2_read(&v.details),
            settings: Some(LoginSettings {
                allow_username_password: p.allow_username_password,
                allow_register: p.allow_register,
                allow_external_idp: p.allow_external_idp,
                force_mfa: p.force_mfa,
                passkeys_type: p.passwordless_type,
                hide_password_reset: p.hide_password_reset,
                ignore_unknown_usernames: p.ignore_unknown_usernames,
                default_redirect_uri: p.default_redirect_uri,
                password_check_lifetime: p.password_check_lifetime,
                external_login_check_lifetime: p.external_login_check_lifetime,
                mfa_init_skip_lifetime: p.mfa_init_skip_lifetime,
                second_factor_check_lifetime: p.second_factor_check_lifetime,
                multi_factor_check_lifetime: p.multi_factor_check_lifetime,
                second_factors: p.second_factors,
                multi_factors: p.multi_factors,
                allow_domain_discovery: p.allow_domain_discovery,
                disable_login_with_email: p.disable_login_with_email,
                disable_login_with_phone: p.disable_login_with_phone,
                resource_owner_type: owner_type(v.is_default),
                force_mfa_local_only: p.force_mfa_local_only,
            }),
        }))
    }

    async fn get_lockout_settings(
        &self,
        req: Request<GetLockoutSettingsRequest>,
    ) -> Result<Response<GetLockoutSettingsResponse>, Status> {
        let ctx = ctx(&req)?;
        let org = target(&ctx, req.get_ref().ctx.as_ref());
        let v = self
            .app
            .visible_lockout_policy(&ctx, org.as_deref())
            .await
            .map_err(to_status)?;
        Ok(Response::new(GetLockoutSettingsResponse {
            details: convert::v2_read(&v.details),
            settings: Some(LockoutSettings {
                max_password_attempts: v.settings.max_password_attempts,
                resource_owner_type: owner_type(v.is_default),
                max_otp_attempts: v.settings.max_otp_attempts,
            }),
        }))
    }
}
