//! zitadel.settings.v2.SettingsService: the settings in force for an org
//! (its own, or the instance default). Login, lockout, password complexity
//! and password expiry come from their policies; the settings Twofold has
//! no policy for answer ZITADEL's fresh-instance defaults
//! (docs/compatibility.md).

use tonic::{Request, Response, Status};
use twofold_app::App;
use twofold_app::auth::RequestCtx;
use twofold_domain::readmodel::DocDetails;
use twofold_proto::zitadel::object::v2::{Details, ListDetails};
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
            .visible_policy::<twofold_domain::lockout::LockoutSettings>(&ctx, org.as_deref())
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

    async fn get_password_complexity_settings(
        &self,
        req: Request<GetPasswordComplexitySettingsRequest>,
    ) -> Result<Response<GetPasswordComplexitySettingsResponse>, Status> {
        let ctx = ctx(&req)?;
        let org = target(&ctx, req.get_ref().ctx.as_ref());
        let v = self
            .app
            .visible_policy::<twofold_domain::password_complexity::PasswordComplexitySettings>(&ctx, org.as_deref())
            .await
            .map_err(to_status)?;
        Ok(Response::new(GetPasswordComplexitySettingsResponse {
            details: convert::v2_read(&v.details),
            settings: Some(PasswordComplexitySettings {
                min_length: v.settings.min_length,
                requires_uppercase: v.settings.has_uppercase,
                requires_lowercase: v.settings.has_lowercase,
                requires_number: v.settings.has_number,
                requires_symbol: v.settings.has_symbol,
                resource_owner_type: owner_type(v.is_default),
            }),
        }))
    }

    async fn get_general_settings(
        &self,
        req: Request<GetGeneralSettingsRequest>,
    ) -> Result<Response<GetGeneralSettingsResponse>, Status> {
        let ctx = ctx(&req)?;
        let default_org_id = self.app.default_org_id(&ctx).await.map_err(to_status)?;
        Ok(Response::new(GetGeneralSettingsResponse {
            default_org_id: default_org_id.into_string(),
            default_language: DEFAULT_LANGUAGE.into(),
            supported_languages: vec![DEFAULT_LANGUAGE.into()],
        }))
    }

    async fn get_password_expiry_settings(
        &self,
        req: Request<GetPasswordExpirySettingsRequest>,
    ) -> Result<Response<GetPasswordExpirySettingsResponse>, Status> {
        let ctx = ctx(&req)?;
        let org = target(&ctx, req.get_ref().ctx.as_ref());
        let v = self
            .app
            .visible_policy::<twofold_domain::password_age::PasswordAgeSettings>(&ctx, org.as_deref())
            .await
            .map_err(to_status)?;
        Ok(Response::new(GetPasswordExpirySettingsResponse {
            details: convert::v2_read(&v.details),
            settings: Some(PasswordExpirySettings {
                max_age_days: v.settings.max_age_days,
                expire_warn_days: v.settings.expire_warn_days,
                resource_owner_type: owner_type(v.is_default),
            }),
        }))
    }

    async fn get_branding_settings(
        &self,
        req: Request<GetBrandingSettingsRequest>,
    ) -> Result<Response<GetBrandingSettingsResponse>, Status> {
        let details = default_details(&req)?;
        let theme = |[primary, background, warn, font]: [&str; 4]| Theme {
            primary_color: primary.into(),
            background_color: background.into(),
            warn_color: warn.into(),
            font_color: font.into(),
            ..Theme::default()
        };
        Ok(Response::new(GetBrandingSettingsResponse {
            details,
            settings: Some(BrandingSettings {
                light_theme: Some(theme(["#5469d4", "#fafafa", "#cd3d56", "#000000"])),
                dark_theme: Some(theme(["#2073c4", "#111827", "#ff3b5b", "#ffffff"])),
                resource_owner_type: owner_type(true),
                theme_mode: ThemeMode::Auto as i32,
                ..BrandingSettings::default()
            }),
        }))
    }

    async fn get_domain_settings(
        &self,
        req: Request<GetDomainSettingsRequest>,
    ) -> Result<Response<GetDomainSettingsResponse>, Status> {
        let details = default_details(&req)?;
        Ok(Response::new(GetDomainSettingsResponse {
            details,
            settings: Some(DomainSettings {
                resource_owner_type: owner_type(true),
                ..DomainSettings::default()
            }),
        }))
    }

    async fn get_legal_and_support_settings(
        &self,
        req: Request<GetLegalAndSupportSettingsRequest>,
    ) -> Result<Response<GetLegalAndSupportSettingsResponse>, Status> {
        let details = default_details(&req)?;
        Ok(Response::new(GetLegalAndSupportSettingsResponse {
            details,
            settings: Some(LegalAndSupportSettings {
                docs_link: "https://zitadel.com/docs".into(),
                resource_owner_type: owner_type(true),
                ..LegalAndSupportSettings::default()
            }),
        }))
    }

    async fn get_security_settings(
        &self,
        req: Request<GetSecuritySettingsRequest>,
    ) -> Result<Response<GetSecuritySettingsResponse>, Status> {
        let ctx = ctx(&req)?;
        let v = self.app.security_policy(&ctx.instance_id).await.map_err(to_status)?;
        // ZITADEL never fills `details` here.
        Ok(Response::new(GetSecuritySettingsResponse {
            details: None,
            settings: Some(SecuritySettings {
                embedded_iframe: Some(EmbeddedIframeSettings {
                    enabled: v.settings.enable_iframe_embedding,
                    allowed_origins: v.settings.allowed_origins,
                }),
                enable_impersonation: v.settings.enable_impersonation,
            }),
        }))
    }

    async fn set_security_settings(
        &self,
        req: Request<SetSecuritySettingsRequest>,
    ) -> Result<Response<SetSecuritySettingsResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        // Absent iframe settings: embedding off, no origins.
        let iframe = r.embedded_iframe.unwrap_or_default();
        let d = self
            .app
            .set_security_policy(
                &ctx,
                twofold_domain::security::SecuritySettings {
                    enable_iframe_embedding: iframe.enabled,
                    allowed_origins: iframe.allowed_origins,
                    enable_impersonation: r.enable_impersonation,
                },
            )
            .await
            .map_err(to_status)?;
        Ok(Response::new(SetSecuritySettingsResponse {
            details: convert::v2_changed(d),
        }))
    }

    async fn get_active_identity_providers(
        &self,
        req: Request<GetActiveIdentityProvidersRequest>,
    ) -> Result<Response<GetActiveIdentityProvidersResponse>, Status> {
        ctx(&req)?;
        // Twofold has no external identity providers: an empty list, with
        // no read-model timestamp as nothing was read.
        Ok(Response::new(GetActiveIdentityProvidersResponse {
            details: Some(ListDetails::default()),
            identity_providers: vec![],
        }))
    }

    async fn get_hosted_login_translation(
        &self,
        req: Request<GetHostedLoginTranslationRequest>,
    ) -> Result<Response<GetHostedLoginTranslationResponse>, Status> {
        crate::hosted_login::get(&self.app, req).await
    }

    async fn set_hosted_login_translation(
        &self,
        req: Request<SetHostedLoginTranslationRequest>,
    ) -> Result<Response<SetHostedLoginTranslationResponse>, Status> {
        crate::hosted_login::set(&self.app, req).await
    }
}

/// Twofold's messages are English only.
const DEFAULT_LANGUAGE: &str = "en";

/// `details` of a setting Twofold serves as the instance's fixed default:
/// owned by the instance, never changed.
fn default_details<T>(req: &Request<T>) -> Result<Option<Details>, Status> {
    let ctx = ctx(req)?;
    Ok(convert::v2_read(&DocDetails {
        resource_owner: ctx.instance_id.into_string(),
        ..DocDetails::default()
    }))
}
