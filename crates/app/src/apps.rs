//! Applications of the context org's projects (Management API v1), and the
//! client lookups the OIDC endpoints build on: an app by client ID, and the
//! check of a client secret.

use serde::Deserialize;
use twofold_domain::application::{self, NewApp};
use twofold_domain::oidc_config::{ApiAuthMethod, Compliance, OidcConfig};
use twofold_domain::readmodel::Collection;
use twofold_domain::readmodel::projects::{Activity, AppQuery, AppView, ProjectView, app_doc_id};
use twofold_domain::readmodel::query::ListRequest;
use twofold_domain::{AppId, ClientId, DomainError, InstanceId, ProjectId};

use crate::auth::RequestCtx;
use crate::command::{Decision, store_error};
use crate::docs::internal_doc_error;
use crate::{App, WriteDetails, secrets};

/// An app as created: its client secret is returned this once.
pub struct AddedApp {
    pub app_id: AppId,
    pub client_id: ClientId,
    pub client_secret: Option<String>,
    pub details: WriteDetails,
    /// OIDC apps: the compliance report of the stored config.
    pub compliance: Compliance,
}

pub struct AppList {
    pub total: usize,
    pub apps: Vec<AppView>,
}

/// A failed client authentication: one answer whatever failed, so the
/// answer tells nothing about which clients exist.
fn client_refused() -> DomainError {
    DomainError::unauthenticated("APP-ClAuth", "Errors.App.ClientAuthFailed")
}

impl App {
    /// A new client secret and its keyed hash.
    pub(crate) fn new_secret(&self) -> (String, String) {
        let secret = secrets::new_client_secret();
        let hash = self.keys.client_secret_hash(&secret);
        (secret, hash)
    }

    /// A secret and its hash when the client authenticates with one.
    fn secret_if(&self, wanted: bool) -> (Option<String>, Option<String>) {
        wanted.then(|| self.new_secret()).unzip()
    }

    fn new_app(&self, name: &str, hashed_secret: Option<String>) -> NewApp {
        NewApp {
            app_id: AppId::new(self.ids.next()),
            name: name.to_owned(),
            client_id: ClientId::new(self.ids.next()),
            hashed_secret,
        }
    }

    /// AddOIDCApp: confidential clients (BASIC, POST) get a secret.
    #[tracing::instrument(skip_all, fields(project_id = %project_id))]
    pub async fn add_oidc_app(
        &self,
        ctx: &RequestCtx,
        project_id: &ProjectId,
        name: &str,
        config: OidcConfig,
    ) -> Result<AddedApp, DomainError> {
        let config = config.normalized();
        let (secret, hash) = self.secret_if(config.has_secret());
        let app = self.new_app(name, hash);
        let details = self
            .on_project(ctx, project_id, |state| {
                application::decide_add_oidc(state, &ctx.org_id, &app, &config).map(Decision::one)
            })
            .await?;
        Ok(AddedApp {
            app_id: app.app_id,
            client_id: app.client_id,
            client_secret: secret,
            details,
            compliance: config.compliance(),
        })
    }

    /// AddAPIApp: BASIC clients get a secret.
    #[tracing::instrument(skip_all, fields(project_id = %project_id))]
    pub async fn add_api_app(
        &self,
        ctx: &RequestCtx,
        project_id: &ProjectId,
        name: &str,
        auth_method: ApiAuthMethod,
    ) -> Result<AddedApp, DomainError> {
        let (secret, hash) = self.secret_if(auth_method == ApiAuthMethod::Basic);
        let app = self.new_app(name, hash);
        let details = self
            .on_project(ctx, project_id, |state| {
                application::decide_add_api(state, &ctx.org_id, &app, auth_method).map(Decision::one)
            })
            .await?;
        Ok(AddedApp {
            app_id: app.app_id,
            client_id: app.client_id,
            client_secret: secret,
            details,
            compliance: Compliance::default(),
        })
    }

    /// An app of a project of the context org.
    pub async fn app(&self, ctx: &RequestCtx, project_id: &ProjectId, app_id: &AppId) -> Result<AppView, DomainError> {
        self.typed_doc::<AppView>(
            &ctx.instance_id,
            Collection::App,
            &app_doc_id(project_id.as_str(), app_id.as_str()),
        )
        .await?
        .filter(|a| a.org_id == ctx.org_id)
        .ok_or_else(|| DomainError::not_found("QUERY-pCP8P", "Errors.App.NotExisting"))
    }

    /// The apps of a project of the context org matching every query,
    /// oldest first.
    pub async fn list_apps(
        &self,
        ctx: &RequestCtx,
        project_id: &ProjectId,
        queries: &[AppQuery],
        list: ListRequest,
    ) -> Result<AppList, DomainError> {
        let project: ProjectView = self.project(ctx, project_id).await?;
        let mut apps: Vec<AppView> = self
            .typed_prefix::<AppView>(&ctx.instance_id, Collection::App, &app_doc_id(project.id.as_str(), ""))
            .await?
            .into_iter()
            .filter(|a| queries.iter().all(|q| q.matches(a)))
            .collect();
        apps.sort_by_key(|a| a.details.creation_date);
        Ok(AppList {
            total: apps.len(),
            apps: list.page(apps),
        })
    }

    /// UpdateApp: a new name.
    pub async fn rename_app(
        &self,
        ctx: &RequestCtx,
        project_id: &ProjectId,
        app_id: &AppId,
        name: &str,
    ) -> Result<WriteDetails, DomainError> {
        self.on_project(ctx, project_id, |state| {
            application::decide_rename(state, &ctx.org_id, app_id, name).map(Decision::one)
        })
        .await
    }

    /// UpdateOIDCAppConfig.
    #[tracing::instrument(skip_all, fields(project_id = %project_id, app_id = %app_id))]
    pub async fn update_oidc_app_config(
        &self,
        ctx: &RequestCtx,
        project_id: &ProjectId,
        app_id: &AppId,
        config: OidcConfig,
    ) -> Result<WriteDetails, DomainError> {
        let config = config.normalized();
        self.on_project(ctx, project_id, |state| {
            application::decide_update_oidc(state, &ctx.org_id, app_id, config.clone()).map(Decision::one)
        })
        .await
    }

    /// RegenerateOIDCClientSecret: the new secret, shown once; the old one
    /// stops verifying.
    #[tracing::instrument(skip_all, fields(project_id = %project_id, app_id = %app_id))]
    pub async fn regenerate_oidc_secret(
        &self,
        ctx: &RequestCtx,
        project_id: &ProjectId,
        app_id: &AppId,
    ) -> Result<(String, WriteDetails), DomainError> {
        let (secret, hash) = self.new_secret();
        let details = self
            .on_project(ctx, project_id, |state| {
                application::decide_regenerate_oidc_secret(state, &ctx.org_id, app_id, &hash).map(Decision::one)
            })
            .await?;
        Ok((secret, details))
    }

    /// UpdateAPIAppConfig: a new auth method.
    pub async fn update_api_app_config(
        &self,
        ctx: &RequestCtx,
        project_id: &ProjectId,
        app_id: &AppId,
        auth_method: ApiAuthMethod,
    ) -> Result<WriteDetails, DomainError> {
        self.on_project(ctx, project_id, |state| {
            application::decide_update_api(state, &ctx.org_id, app_id, auth_method).map(Decision::one)
        })
        .await
    }

    /// RegenerateAPIClientSecret: the new secret, shown once.
    #[tracing::instrument(skip_all, fields(project_id = %project_id, app_id = %app_id))]
    pub async fn regenerate_api_secret(
        &self,
        ctx: &RequestCtx,
        project_id: &ProjectId,
        app_id: &AppId,
    ) -> Result<(String, WriteDetails), DomainError> {
        let (secret, hash) = self.new_secret();
        let details = self
            .on_project(ctx, project_id, |state| {
                application::decide_regenerate_api_secret(state, &ctx.org_id, app_id, &hash).map(Decision::one)
            })
            .await?;
        Ok((secret, details))
    }

    pub async fn deactivate_app(
        &self,
        ctx: &RequestCtx,
        project_id: &ProjectId,
        app_id: &AppId,
    ) -> Result<WriteDetails, DomainError> {
        self.on_project(ctx, project_id, |state| {
            application::decide_deactivate(state, &ctx.org_id, app_id).map(Decision::one)
        })
        .await
    }

    pub async fn reactivate_app(
        &self,
        ctx: &RequestCtx,
        project_id: &ProjectId,
        app_id: &AppId,
    ) -> Result<WriteDetails, DomainError> {
        self.on_project(ctx, project_id, |state| {
            application::decide_reactivate(state, &ctx.org_id, app_id).map(Decision::one)
        })
        .await
    }

    pub async fn remove_app(
        &self,
        ctx: &RequestCtx,
        project_id: &ProjectId,
        app_id: &AppId,
    ) -> Result<WriteDetails, DomainError> {
        self.on_project(ctx, project_id, |state| {
            application::decide_remove(state, &ctx.org_id, app_id).map(Decision::one)
        })
        .await
    }

    /// The app with this client ID in the instance, whatever its state (one
    /// indexed read; the OIDC endpoints decide what an inactive app may do).
    pub async fn app_by_client_id(
        &self,
        instance_id: &InstanceId,
        client_id: &ClientId,
    ) -> Result<Option<AppView>, DomainError> {
        let doc = self
            .store
            .app_by_client_id(instance_id, client_id.as_str())
            .await
            .map_err(store_error)?;
        doc.map(|d| AppView::deserialize(&*d).map_err(|e| internal_doc_error(Collection::App, e)))
            .transpose()
    }

    /// Client authentication with a secret (token endpoint): the app must
    /// exist, be active in an active project and have a secret that
    /// `secret` matches. Every failure is the same answer.
    pub async fn verify_client_secret(
        &self,
        instance_id: &InstanceId,
        client_id: &ClientId,
        secret: &str,
    ) -> Result<AppView, DomainError> {
        let app = self
            .app_by_client_id(instance_id, client_id)
            .await?
            .filter(|a| a.state == Activity::Active);
        let project_active = match &app {
            Some(a) => self
                .typed_doc::<ProjectView>(instance_id, Collection::Project, a.project_id.as_str())
                .await?
                .is_some_and(|p| p.state == Activity::Active),
            None => false,
        };
        // Hash even when there is nothing to compare with, so the time taken
        // does not tell whether the client exists.
        let hash = app.as_ref().and_then(|a| a.hashed_secret.as_deref()).unwrap_or("");
        let matches = self.keys.verify_client_secret(secret, hash);
        match app {
            Some(a) if matches && project_active => Ok(a),
            _ => Err(client_refused()),
        }
    }
}
