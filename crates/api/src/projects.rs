//! Management API v1: projects, their applications and machine-user
//! secrets (part 3 §30). The handlers of `ManagementService` call these;
//! each validates its request as ZITADEL's protos do, calls one use case
//! and converts the answer.

use prost_types::Duration;
use tonic::{Request, Response, Status};
use twofold_app::App;
use twofold_app::apps::AddedApp;
use twofold_domain::oidc_config::{
    self, ApiAuthMethod, AppType, AuthMethod, Compliance, GrantType, LoginVersion, OidcConfig, ResponseType, TokenType,
};
use twofold_domain::project::ProjectSettings;
use twofold_domain::readmodel::projects::{
    Activity, AppConfigView, AppKeyView, AppQuery, AppView, ProjectQuery, ProjectView,
};
use twofold_domain::{AppId, ProjectId, UserId};
use twofold_proto::zitadel::app::v1 as app;
use twofold_proto::zitadel::authn::v1 as authn;
use twofold_proto::zitadel::management::v1::*;
use twofold_proto::zitadel::project::v1 as project;
use twofold_proto::zitadel::v1::LocalizedMessage;

use crate::auth::ctx;
use crate::error::to_status;
use crate::validate::{defined_enum, id, invalid_field, text};
use crate::{convert, queries, validate};

type Answer<T> = Result<Response<T>, Status>;

/// `PrivateLabelingSetting` is defined for 0..=2.
const MAX_PRIVATE_LABELING: i32 = 2;

fn project_settings(
    m: &str,
    name: &str,
    role_assertion: bool,
    role_check: bool,
    has_project_check: bool,
    private_labeling_setting: i32,
) -> Result<ProjectSettings, Status> {
    Ok(ProjectSettings {
        name: id(m, "Name", name)?.to_owned(),
        project_role_assertion: role_assertion,
        project_role_check: role_check,
        has_project_check,
        private_labeling_setting: defined_enum(
            m,
            "PrivateLabelingSetting",
            private_labeling_setting,
            MAX_PRIVATE_LABELING,
        )?,
    })
}

fn project_id(m: &str, field: &str, value: &str) -> Result<ProjectId, Status> {
    Ok(ProjectId::from(id(m, field, value)?))
}

fn app_ids(m: &str, project_id: &str, app_id: &str) -> Result<(ProjectId, AppId), Status> {
    Ok((
        self::project_id(m, "ProjectId", project_id)?,
        AppId::from(id(m, "AppId", app_id)?),
    ))
}

fn project_view(p: ProjectView) -> project::Project {
    project::Project {
        details: convert::read(&p.details),
        id: p.id.into_string(),
        name: p.settings.name,
        state: match p.state {
            Activity::Active => project::ProjectState::Active,
            Activity::Inactive => project::ProjectState::Inactive,
        } as i32,
        project_role_assertion: p.settings.project_role_assertion,
        project_role_check: p.settings.project_role_check,
        has_project_check: p.settings.has_project_check,
        private_labeling_setting: p.settings.private_labeling_setting,
    }
}

fn problems(c: &Compliance) -> Vec<LocalizedMessage> {
    c.problems
        .iter()
        .map(|p| LocalizedMessage {
            key: p.key.to_owned(),
            localized_message: p.text.to_owned(),
        })
        .collect()
}

fn login_version(c: &OidcConfig) -> Option<app::LoginVersion> {
    use app::login_version::Version;
    let version = match c.login_version {
        LoginVersion::Unspecified => return None,
        LoginVersion::V1 => Version::LoginV1(app::LoginV1 {}),
        LoginVersion::V2 => Version::LoginV2(app::LoginV2 {
            base_uri: (!c.login_base_uri.is_empty()).then(|| c.login_base_uri.clone()),
        }),
    };
    Some(app::LoginVersion { version: Some(version) })
}

fn oidc_view(client_id: &str, c: &OidcConfig) -> app::OidcConfig {
    let compliance = c.compliance();
    app::OidcConfig {
        redirect_uris: c.redirect_uris.clone(),
        response_types: c.response_types.iter().map(|t| i32::from(*t)).collect(),
        grant_types: c.grant_types.iter().map(|t| i32::from(*t)).collect(),
        app_type: i32::from(c.app_type),
        client_id: client_id.to_owned(),
        auth_method_type: i32::from(c.auth_method),
        post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
        version: 0,
        // Reads report "has any problem" (part 3 §30.5).
        none_compliant: !compliance.problems.is_empty(),
        compliance_problems: problems(&compliance),
        dev_mode: c.dev_mode,
        access_token_type: i32::from(c.access_token_type),
        access_token_role_assertion: c.access_token_role_assertion,
        id_token_role_assertion: c.id_token_role_assertion,
        id_token_userinfo_assertion: c.id_token_userinfo_assertion,
        clock_skew: Some(convert::duration(c.clock_skew)),
        additional_origins: c.additional_origins.clone(),
        allowed_origins: c.allowed_origins(),
        skip_native_app_success_page: c.skip_native_app_success_page,
        back_channel_logout_uri: c.back_channel_logout_uri.clone(),
        login_version: login_version(c),
    }
}

fn app_view(a: AppView) -> app::App {
    let client_id = a.client_id.as_str();
    let config = a.config.as_ref().map(|c| match c {
        AppConfigView::Oidc(c) => app::app::Config::OidcConfig(oidc_view(client_id, c)),
        AppConfigView::Api(m) => app::app::Config::ApiConfig(app::ApiConfig {
            client_id: client_id.to_owned(),
            auth_method_type: i32::from(*m),
        }),
    });
    app::App {
        details: convert::read(&a.details),
        state: match a.state {
            Activity::Active => app::AppState::Active,
            Activity::Inactive => app::AppState::Inactive,
        } as i32,
        id: a.id.into_string(),
        name: a.name,
        config,
    }
}

/// The OIDC fields shared by AddOIDCAppRequest and UpdateOIDCAppConfigRequest.
struct OidcFields<'a> {
    redirect_uris: &'a [String],
    response_types: &'a [i32],
    grant_types: &'a [i32],
    app_type: i32,
    auth_method_type: i32,
    post_logout_redirect_uris: &'a [String],
    dev_mode: bool,
    access_token_type: i32,
    access_token_role_assertion: bool,
    id_token_role_assertion: bool,
    id_token_userinfo_assertion: bool,
    clock_skew: Option<&'a Duration>,
    additional_origins: &'a [String],
    skip_native_app_success_page: bool,
    back_channel_logout_uri: &'a str,
    login_version: Option<&'a app::LoginVersion>,
}

/// A repeated enum whose every item must be defined.
fn enum_items<T>(m: &str, field: &str, values: &[i32], parse: fn(i32) -> Option<T>) -> Result<Vec<T>, Status> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            parse(*v).ok_or_else(|| {
                invalid_field(
                    m,
                    &format!("{field}[{i}]"),
                    "value must be one of the defined enum values",
                )
            })
        })
        .collect()
}

fn one_enum<T>(m: &str, field: &str, value: i32, parse: fn(i32) -> Option<T>) -> Result<T, Status> {
    parse(value).ok_or_else(|| invalid_field(m, field, "value must be one of the defined enum values"))
}

fn oidc_config(m: &str, f: OidcFields<'_>) -> Result<OidcConfig, Status> {
    let clock_skew = convert::duration_nanos(f.clock_skew)
        .filter(|n| (0..=oidc_config::MAX_CLOCK_SKEW_NANOS).contains(n))
        .ok_or_else(|| invalid_field(m, "ClockSkew", "value must be inside range [0s, 5s]"))?;
    let (login_version, login_base_uri) = match f.login_version.and_then(|v| v.version.as_ref()) {
        None => (LoginVersion::Unspecified, String::new()),
        Some(app::login_version::Version::LoginV1(_)) => (LoginVersion::V1, String::new()),
        Some(app::login_version::Version::LoginV2(v)) => (LoginVersion::V2, v.base_uri.clone().unwrap_or_default()),
    };
    Ok(OidcConfig {
        redirect_uris: f.redirect_uris.to_vec(),
        response_types: enum_items(m, "ResponseTypes", f.response_types, ResponseType::from_i32)?,
        grant_types: enum_items(m, "GrantTypes", f.grant_types, GrantType::from_i32)?,
        app_type: one_enum(m, "AppType", f.app_type, AppType::from_i32)?,
        auth_method: one_enum(m, "AuthMethodType", f.auth_method_type, AuthMethod::from_i32)?,
        post_logout_redirect_uris: f.post_logout_redirect_uris.to_vec(),
        dev_mode: f.dev_mode,
        access_token_type: one_enum(m, "AccessTokenType", f.access_token_type, TokenType::from_i32)?,
        access_token_role_assertion: f.access_token_role_assertion,
        id_token_role_assertion: f.id_token_role_assertion,
        id_token_userinfo_assertion: f.id_token_userinfo_assertion,
        clock_skew,
        additional_origins: f.additional_origins.to_vec(),
        skip_native_app_success_page: f.skip_native_app_success_page,
        back_channel_logout_uri: f.back_channel_logout_uri.to_owned(),
        login_version,
        login_base_uri,
    })
}

pub async fn add_project(a: &App, req: Request<AddProjectRequest>) -> Answer<AddProjectResponse> {
    let ctx = ctx(&req)?;
    let r = req.get_ref();
    let settings = project_settings(
        "AddProjectRequest",
        &r.name,
        r.project_role_assertion,
        r.project_role_check,
        r.has_project_check,
        r.private_labeling_setting,
    )?;
    let (id, d) = a.add_project(&ctx, settings).await.map_err(to_status)?;
    Ok(Response::new(AddProjectResponse {
        id: id.into_string(),
        details: convert::added(d),
    }))
}

pub async fn get_project(a: &App, req: Request<GetProjectByIdRequest>) -> Answer<GetProjectByIdResponse> {
    let ctx = ctx(&req)?;
    let id = project_id("GetProjectByIDRequest", "Id", &req.get_ref().id)?;
    let p = a.project(&ctx, &id).await.map_err(to_status)?;
    Ok(Response::new(GetProjectByIdResponse {
        project: Some(project_view(p)),
    }))
}

fn project_queries(qs: &[project::ProjectQuery]) -> Result<Vec<ProjectQuery>, Status> {
    use project::project_query::Query;
    const M: &str = "ListProjectsRequest";
    qs.iter()
        .enumerate()
        .map(|(i, q)| match &q.query {
            Some(Query::NameQuery(n)) => Ok(ProjectQuery::Name(queries::text(
                "ProjectNameQuery",
                "Name",
                &n.name,
                n.method,
                (0, 200),
            )?)),
            Some(Query::ProjectResourceOwnerQuery(o)) => Ok(ProjectQuery::ResourceOwner(
                text("ProjectResourceOwnerQuery", "ResourceOwner", &o.resource_owner, 0, 200)?.to_owned(),
            )),
            None => Err(queries::query_required(M, i, "ProjectQuery")),
        })
        .collect()
}

pub async fn list_projects(a: &App, req: Request<ListProjectsRequest>) -> Answer<ListProjectsResponse> {
    let ctx = ctx(&req)?;
    let r = req.get_ref();
    let list = queries::list_v1(r.query.as_ref())?;
    let filters = project_queries(&r.queries)?;
    let found = a.list_projects(&ctx, &filters, list).await.map_err(to_status)?;
    Ok(Response::new(ListProjectsResponse {
        details: convert::list(found.total),
        result: found.projects.into_iter().map(project_view).collect(),
    }))
}

pub async fn update_project(a: &App, req: Request<UpdateProjectRequest>) -> Answer<UpdateProjectResponse> {
    const M: &str = "UpdateProjectRequest";
    let ctx = ctx(&req)?;
    let r = req.get_ref();
    let id = project_id(M, "Id", &r.id)?;
    let settings = project_settings(
        M,
        &r.name,
        r.project_role_assertion,
        r.project_role_check,
        r.has_project_check,
        r.private_labeling_setting,
    )?;
    let d = a.update_project(&ctx, &id, settings).await.map_err(to_status)?;
    Ok(Response::new(UpdateProjectResponse {
        details: convert::changed(d),
    }))
}

pub async fn deactivate_project(a: &App, req: Request<DeactivateProjectRequest>) -> Answer<DeactivateProjectResponse> {
    let ctx = ctx(&req)?;
    let id = project_id("DeactivateProjectRequest", "Id", &req.get_ref().id)?;
    let d = a.deactivate_project(&ctx, &id).await.map_err(to_status)?;
    Ok(Response::new(DeactivateProjectResponse {
        details: convert::changed(d),
    }))
}

pub async fn reactivate_project(a: &App, req: Request<ReactivateProjectRequest>) -> Answer<ReactivateProjectResponse> {
    let ctx = ctx(&req)?;
    let id = project_id("ReactivateProjectRequest", "Id", &req.get_ref().id)?;
    let d = a.reactivate_project(&ctx, &id).await.map_err(to_status)?;
    Ok(Response::new(ReactivateProjectResponse {
        details: convert::changed(d),
    }))
}

pub async fn remove_project(a: &App, req: Request<RemoveProjectRequest>) -> Answer<RemoveProjectResponse> {
    let ctx = ctx(&req)?;
    let id = project_id("RemoveProjectRequest", "Id", &req.get_ref().id)?;
    let d = a.remove_project(&ctx, &id).await.map_err(to_status)?;
    Ok(Response::new(RemoveProjectResponse {
        details: convert::changed(d),
    }))
}

pub async fn add_oidc_app(a: &App, req: Request<AddOidcAppRequest>) -> Answer<AddOidcAppResponse> {
    const M: &str = "AddOIDCAppRequest";
    let ctx = ctx(&req)?;
    let r = req.get_ref();
    let project = project_id(M, "ProjectId", &r.project_id)?;
    let name = id(M, "Name", &r.name)?;
    defined_enum(M, "Version", r.version, 0)?;
    let config = oidc_config(
        M,
        OidcFields {
            redirect_uris: &r.redirect_uris,
            response_types: &r.response_types,
            grant_types: &r.grant_types,
            app_type: r.app_type,
            auth_method_type: r.auth_method_type,
            post_logout_redirect_uris: &r.post_logout_redirect_uris,
            dev_mode: r.dev_mode,
            access_token_type: r.access_token_type,
            access_token_role_assertion: r.access_token_role_assertion,
            id_token_role_assertion: r.id_token_role_assertion,
            id_token_userinfo_assertion: r.id_token_userinfo_assertion,
            clock_skew: r.clock_skew.as_ref(),
            additional_origins: &r.additional_origins,
            skip_native_app_success_page: r.skip_native_app_success_page,
            back_channel_logout_uri: &r.back_channel_logout_uri,
            login_version: r.login_version.as_ref(),
        },
    )?;
    let added: AddedApp = a.add_oidc_app(&ctx, &project, name, config).await.map_err(to_status)?;
    Ok(Response::new(AddOidcAppResponse {
        app_id: added.app_id.into_string(),
        details: convert::added(added.details),
        client_id: added.client_id.into_string(),
        client_secret: added.client_secret.unwrap_or_default(),
        none_compliant: added.compliance.none_compliant,
        compliance_problems: problems(&added.compliance),
    }))
}

pub async fn add_api_app(a: &App, req: Request<AddApiAppRequest>) -> Answer<AddApiAppResponse> {
    const M: &str = "AddAPIAppRequest";
    let ctx = ctx(&req)?;
    let r = req.get_ref();
    let project = project_id(M, "ProjectId", &r.project_id)?;
    let name = id(M, "Name", &r.name)?;
    let method = one_enum(M, "AuthMethodType", r.auth_method_type, ApiAuthMethod::from_i32)?;
    let added = a.add_api_app(&ctx, &project, name, method).await.map_err(to_status)?;
    Ok(Response::new(AddApiAppResponse {
        app_id: added.app_id.into_string(),
        details: convert::added(added.details),
        client_id: added.client_id.into_string(),
        client_secret: added.client_secret.unwrap_or_default(),
    }))
}

pub async fn get_app(a: &App, req: Request<GetAppByIdRequest>) -> Answer<GetAppByIdResponse> {
    let ctx = ctx(&req)?;
    let r = req.get_ref();
    let (project, app_id) = app_ids("GetAppByIDRequest", &r.project_id, &r.app_id)?;
    let found = a.app(&ctx, &project, &app_id).await.map_err(to_status)?;
    Ok(Response::new(GetAppByIdResponse {
        app: Some(app_view(found)),
    }))
}

fn app_queries(qs: &[app::AppQuery]) -> Result<Vec<AppQuery>, Status> {
    use app::app_query::Query;
    qs.iter()
        .enumerate()
        .map(|(i, q)| match &q.query {
            Some(Query::NameQuery(n)) => Ok(AppQuery::Name(queries::text(
                "AppNameQuery",
                "Name",
                &n.name,
                n.method,
                (0, 200),
            )?)),
            None => Err(queries::query_required("ListAppsRequest", i, "AppQuery")),
        })
        .collect()
}

pub async fn list_apps(a: &App, req: Request<ListAppsRequest>) -> Answer<ListAppsResponse> {
    let ctx = ctx(&req)?;
    let r = req.get_ref();
    let project = project_id("ListAppsRequest", "ProjectId", &r.project_id)?;
    let list = queries::list_v1(r.query.as_ref())?;
    let filters = app_queries(&r.queries)?;
    let found = a.list_apps(&ctx, &project, &filters, list).await.map_err(to_status)?;
    Ok(Response::new(ListAppsResponse {
        details: convert::list(found.total),
        result: found.apps.into_iter().map(app_view).collect(),
    }))
}

pub async fn update_app(a: &App, req: Request<UpdateAppRequest>) -> Answer<UpdateAppResponse> {
    const M: &str = "UpdateAppRequest";
    let ctx = ctx(&req)?;
    let r = req.get_ref();
    let (project, app_id) = app_ids(M, &r.project_id, &r.app_id)?;
    let name = id(M, "Name", &r.name)?;
    let d = a.rename_app(&ctx, &project, &app_id, name).await.map_err(to_status)?;
    Ok(Response::new(UpdateAppResponse {
        details: convert::changed(d),
    }))
}

pub async fn update_oidc_app_config(
    a: &App,
    req: Request<UpdateOidcAppConfigRequest>,
) -> Answer<UpdateOidcAppConfigResponse> {
    const M: &str = "UpdateOIDCAppConfigRequest";
    let ctx = ctx(&req)?;
    let r = req.get_ref();
    let (project, app_id) = app_ids(M, &r.project_id, &r.app_id)?;
    let config = oidc_config(
        M,
        OidcFields {
            redirect_uris: &r.redirect_uris,
            response_types: &r.response_types,
            grant_types: &r.grant_types,
            app_type: r.app_type,
            auth_method_type: r.auth_method_type,
            post_logout_redirect_uris: &r.post_logout_redirect_uris,
            dev_mode: r.dev_mode,
            access_token_type: r.access_token_type,
            access_token_role_assertion: r.access_token_role_assertion,
            id_token_role_assertion: r.id_token_role_assertion,
            id_token_userinfo_assertion: r.id_token_userinfo_assertion,
            clock_skew: r.clock_skew.as_ref(),
            additional_origins: &r.additional_origins,
            skip_native_app_success_page: r.skip_native_app_success_page,
            back_channel_logout_uri: &r.back_channel_logout_uri,
            login_version: r.login_version.as_ref(),
        },
    )?;
    let d = a
        .update_oidc_app_config(&ctx, &project, &app_id, config)
        .await
        .map_err(to_status)?;
    Ok(Response::new(UpdateOidcAppConfigResponse {
        details: convert::changed(d),
    }))
}

pub async fn deactivate_app(a: &App, req: Request<DeactivateAppRequest>) -> Answer<DeactivateAppResponse> {
    let ctx = ctx(&req)?;
    let r = req.get_ref();
    let (project, app_id) = app_ids("DeactivateAppRequest", &r.project_id, &r.app_id)?;
    let d = a.deactivate_app(&ctx, &project, &app_id).await.map_err(to_status)?;
    Ok(Response::new(DeactivateAppResponse {
        details: convert::changed(d),
    }))
}

pub async fn reactivate_app(a: &App, req: Request<ReactivateAppRequest>) -> Answer<ReactivateAppResponse> {
    let ctx = ctx(&req)?;
    let r = req.get_ref();
    let (project, app_id) = app_ids("ReactivateAppRequest", &r.project_id, &r.app_id)?;
    let d = a.reactivate_app(&ctx, &project, &app_id).await.map_err(to_status)?;
    Ok(Response::new(ReactivateAppResponse {
        details: convert::changed(d),
    }))
}

pub async fn remove_app(a: &App, req: Request<RemoveAppRequest>) -> Answer<RemoveAppResponse> {
    let ctx = ctx(&req)?;
    let r = req.get_ref();
    let (project, app_id) = app_ids("RemoveAppRequest", &r.project_id, &r.app_id)?;
    let d = a.remove_app(&ctx, &project, &app_id).await.map_err(to_status)?;
    Ok(Response::new(RemoveAppResponse {
        details: convert::changed(d),
    }))
}

pub async fn regenerate_oidc_client_secret(
    a: &App,
    req: Request<RegenerateOidcClientSecretRequest>,
) -> Answer<RegenerateOidcClientSecretResponse> {
    let ctx = ctx(&req)?;
    let r = req.get_ref();
    let (project, app_id) = app_ids("RegenerateOIDCClientSecretRequest", &r.project_id, &r.app_id)?;
    let (secret, d) = a
        .regenerate_oidc_secret(&ctx, &project, &app_id)
        .await
        .map_err(to_status)?;
    Ok(Response::new(RegenerateOidcClientSecretResponse {
        client_secret: secret,
        details: convert::changed(d),
    }))
}

fn key_view(k: AppKeyView) -> authn::Key {
    authn::Key {
        id: k.id,
        details: convert::read(&k.details),
        r#type: authn::KeyType::Json as i32,
        expiration_date: Some(convert::timestamp(k.expiration_date)),
    }
}

pub async fn add_app_key(a: &App, req: Request<AddAppKeyRequest>) -> Answer<AddAppKeyResponse> {
    const M: &str = "AddAppKeyRequest";
    let ctx = ctx(&req)?;
    let r = req.get_ref();
    let (project, app_id) = app_ids(M, &r.project_id, &r.app_id)?;
    validate::key_type(M, r.r#type)?;
    let expiration = r.expiration_date.as_ref().map(convert::from_timestamp);
    let added = a
        .add_app_key(&ctx, &project, &app_id, expiration)
        .await
        .map_err(to_status)?;
    Ok(Response::new(AddAppKeyResponse {
        id: added.key_id,
        details: convert::added(added.details),
        key_details: added.key_details,
    }))
}

pub async fn get_app_key(a: &App, req: Request<GetAppKeyRequest>) -> Answer<GetAppKeyResponse> {
    const M: &str = "GetAppKeyRequest";
    let ctx = ctx(&req)?;
    let r = req.get_ref();
    let (project, app_id) = app_ids(M, &r.project_id, &r.app_id)?;
    let key_id = id(M, "KeyId", &r.key_id)?;
    let key = a.app_key(&ctx, &project, &app_id, key_id).await.map_err(to_status)?;
    Ok(Response::new(GetAppKeyResponse {
        key: Some(key_view(key)),
    }))
}

pub async fn list_app_keys(a: &App, req: Request<ListAppKeysRequest>) -> Answer<ListAppKeysResponse> {
    let ctx = ctx(&req)?;
    let r = req.get_ref();
    let (project, app_id) = app_ids("ListAppKeysRequest", &r.project_id, &r.app_id)?;
    let list = queries::list_v1(r.query.as_ref())?;
    let found = a
        .list_app_keys(&ctx, &project, &app_id, list)
        .await
        .map_err(to_status)?;
    Ok(Response::new(ListAppKeysResponse {
        details: convert::list(found.total),
        result: found.keys.into_iter().map(key_view).collect(),
    }))
}

pub async fn remove_app_key(a: &App, req: Request<RemoveAppKeyRequest>) -> Answer<RemoveAppKeyResponse> {
    const M: &str = "RemoveAppKeyRequest";
    let ctx = ctx(&req)?;
    let r = req.get_ref();
    let (project, app_id) = app_ids(M, &r.project_id, &r.app_id)?;
    let key_id = id(M, "KeyId", &r.key_id)?;
    let d = a
        .remove_app_key(&ctx, &project, &app_id, key_id)
        .await
        .map_err(to_status)?;
    Ok(Response::new(RemoveAppKeyResponse {
        details: convert::changed(d),
    }))
}

pub async fn update_api_app_config(
    a: &App,
    req: Request<UpdateApiAppConfigRequest>,
) -> Answer<UpdateApiAppConfigResponse> {
    const M: &str = "UpdateAPIAppConfigRequest";
    let ctx = ctx(&req)?;
    let r = req.get_ref();
    let (project, app_id) = app_ids(M, &r.project_id, &r.app_id)?;
    let method = one_enum(M, "AuthMethodType", r.auth_method_type, ApiAuthMethod::from_i32)?;
    let d = a
        .update_api_app_config(&ctx, &project, &app_id, method)
        .await
        .map_err(to_status)?;
    Ok(Response::new(UpdateApiAppConfigResponse {
        details: convert::changed(d),
    }))
}

pub async fn regenerate_api_client_secret(
    a: &App,
    req: Request<RegenerateApiClientSecretRequest>,
) -> Answer<RegenerateApiClientSecretResponse> {
    let ctx = ctx(&req)?;
    let r = req.get_ref();
    let (project, app_id) = app_ids("RegenerateAPIClientSecretRequest", &r.project_id, &r.app_id)?;
    let (secret, d) = a
        .regenerate_api_secret(&ctx, &project, &app_id)
        .await
        .map_err(to_status)?;
    Ok(Response::new(RegenerateApiClientSecretResponse {
        client_secret: secret,
        details: convert::changed(d),
    }))
}

pub async fn generate_machine_secret(
    a: &App,
    req: Request<GenerateMachineSecretRequest>,
) -> Answer<GenerateMachineSecretResponse> {
    let ctx = ctx(&req)?;
    let user_id = UserId::from(text(
        "GenerateMachineSecretRequest",
        "UserId",
        &req.get_ref().user_id,
        1,
        usize::MAX,
    )?);
    let s = a.generate_machine_secret(&ctx, &user_id).await.map_err(to_status)?;
    Ok(Response::new(GenerateMachineSecretResponse {
        client_id: s.client_id,
        client_secret: s.client_secret,
        details: convert::added(s.details),
    }))
}

pub async fn remove_machine_secret(
    a: &App,
    req: Request<RemoveMachineSecretRequest>,
) -> Answer<RemoveMachineSecretResponse> {
    let ctx = ctx(&req)?;
    let user_id = UserId::from(id("RemoveMachineSecretRequest", "UserId", &req.get_ref().user_id)?);
    let d = a.remove_machine_secret(&ctx, &user_id).await.map_err(to_status)?;
    Ok(Response::new(RemoveMachineSecretResponse {
        details: convert::changed(d),
    }))
}
