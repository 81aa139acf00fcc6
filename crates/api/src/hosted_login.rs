//! SettingsService hosted login translations: the handlers behind the
//! `SettingsService` methods of the same names (settings_service.rs
//! delegates here).

use tonic::{Request, Response, Status};
use twofold_app::App;
use twofold_app::hosted_login::TranslationLevel;
use twofold_domain::OrgId;
use twofold_domain::hosted_login::{get_level_missing, set_level_missing};
use twofold_proto::zitadel::settings::v2::*;

use crate::auth::ctx;
use crate::error::to_status;
use crate::{convert, validate};

/// PGV `const: true` on a level flag.
fn const_true(message: &str, field: &str, value: bool) -> Result<(), Status> {
    if value {
        Ok(())
    } else {
        Err(validate::invalid_field(message, field, "value must equal true"))
    }
}

pub async fn get(
    app: &App,
    req: Request<GetHostedLoginTranslationRequest>,
) -> Result<Response<GetHostedLoginTranslationResponse>, Status> {
    use get_hosted_login_translation_request::Level;
    const M: &str = "GetHostedLoginTranslationRequest";
    let ctx = ctx(&req)?;
    let r = req.get_ref();
    let level = match &r.level {
        Some(Level::System(v)) => const_true(M, "System", *v).map(|()| TranslationLevel::System)?,
        Some(Level::Instance(v)) => const_true(M, "Instance", *v).map(|()| TranslationLevel::Instance)?,
        Some(Level::OrganizationId(id)) => TranslationLevel::Org(OrgId::from(validate::id(M, "OrganizationId", id)?)),
        None => return Err(to_status(get_level_missing())),
    };
    validate::text(M, "Locale", &r.locale, 2, usize::MAX)?;
    let t = app
        .hosted_login_translation(&ctx, level, &r.locale, r.ignore_inheritance)
        .await
        .map_err(to_status)?;
    Ok(Response::new(GetHostedLoginTranslationResponse {
        etag: t.etag,
        translations: Some(convert::json_to_struct(t.translations)),
    }))
}

pub async fn set(
    app: &App,
    req: Request<SetHostedLoginTranslationRequest>,
) -> Result<Response<SetHostedLoginTranslationResponse>, Status> {
    use set_hosted_login_translation_request::Level;
    const M: &str = "SetHostedLoginTranslationRequest";
    let ctx = ctx(&req)?;
    let r = req.into_inner();
    let org = match &r.level {
        Some(Level::Instance(v)) => const_true(M, "Instance", *v).map(|()| None)?,
        Some(Level::OrganizationId(id)) => Some(validate::id(M, "OrganizationId", id)?),
        None => return Err(to_status(set_level_missing())),
    };
    validate::text(M, "Locale", &r.locale, 2, usize::MAX)?;
    let translations = convert::struct_to_json(r.translations.unwrap_or_default());
    let etag = app
        .set_hosted_login_translation(&ctx, org, &r.locale, translations)
        .await
        .map_err(to_status)?;
    Ok(Response::new(SetHostedLoginTranslationResponse { etag }))
}
