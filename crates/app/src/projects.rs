//! Projects of the context org (Management API v1). A project of another
//! org is answered exactly like an unknown one.

use twofold_domain::project::{self, ProjectSettings, ProjectState};
use twofold_domain::readmodel::Collection;
use twofold_domain::readmodel::projects::{ProjectQuery, ProjectView};
use twofold_domain::readmodel::query::ListRequest;
use twofold_domain::{AggregateRef, DomainError, OrgId, ProjectId};

use crate::auth::RequestCtx;
use crate::command::{Decision, history};
use crate::ports::UniqueClaim;
use crate::{App, WriteDetails};

/// Kind of the unique claim on a project name within its org.
pub const PROJECT_NAME: &str = "project_name";

/// Project names are unique per org and, as in ZITADEL, case-sensitive.
fn name_claim(ctx: &RequestCtx, org_id: &OrgId, name: &str) -> UniqueClaim {
    UniqueClaim {
        scope: ctx.instance_id.as_str().to_owned(),
        kind: PROJECT_NAME,
        value: format!("{org_id}:{name}"),
    }
}

pub struct ProjectList {
    pub total: usize,
    pub projects: Vec<ProjectView>,
}

impl App {
    #[tracing::instrument(skip_all)]
    pub async fn add_project(
        &self,
        ctx: &RequestCtx,
        settings: ProjectSettings,
    ) -> Result<(ProjectId, WriteDetails), DomainError> {
        let id = ProjectId::new(self.ids.next());
        let claim = name_claim(ctx, &ctx.org_id, &settings.name);
        let details = self
            .execute_many(
                &ctx.instance_id,
                ctx.caller.user_id.as_str(),
                vec![AggregateRef::project(&id, &ctx.org_id)],
                |loaded| {
                    let state = ProjectState::fold(history(loaded, 0));
                    Ok(Decision {
                        events: vec![project::decide_add(&state, &settings)?],
                        claims: vec![claim.clone()],
                        ..Decision::default()
                    })
                },
            )
            .await?;
        Ok((id, details))
    }

    /// A project of the context org.
    pub async fn project(&self, ctx: &RequestCtx, id: &ProjectId) -> Result<ProjectView, DomainError> {
        self.typed_doc::<ProjectView>(&ctx.instance_id, Collection::Project, id.as_str())
            .await?
            .filter(|p| p.org_id == ctx.org_id)
            .ok_or_else(|| DomainError::not_found("QUERY-fk2fs", "Project not found"))
    }

    /// The context org's projects matching every query, oldest first.
    pub async fn list_projects(
        &self,
        ctx: &RequestCtx,
        queries: &[ProjectQuery],
        list: ListRequest,
    ) -> Result<ProjectList, DomainError> {
        let mut projects: Vec<ProjectView> = self
            .typed_lookup::<ProjectView>(&ctx.instance_id, Collection::Project, ctx.org_id.as_str())
            .await?
            .into_iter()
            .filter(|p| queries.iter().all(|q| q.matches(p)))
            .collect();
        projects.sort_by_key(|p| p.details.creation_date);
        Ok(ProjectList {
            total: projects.len(),
            projects: list.page(projects),
        })
    }

    /// UpdateProject: a new name moves the name's claim with it.
    #[tracing::instrument(skip_all, fields(project_id = %id))]
    pub async fn update_project(
        &self,
        ctx: &RequestCtx,
        id: &ProjectId,
        settings: ProjectSettings,
    ) -> Result<WriteDetails, DomainError> {
        self.on_project(ctx, id, |state| {
            let events = project::decide_update(state, &ctx.org_id, &settings)?;
            let renamed = !events.is_empty() && state.settings.name != settings.name;
            Ok(if renamed {
                Decision {
                    events: vec![events],
                    claims: vec![name_claim(ctx, &ctx.org_id, &settings.name)],
                    releases: vec![name_claim(ctx, &ctx.org_id, &state.settings.name)],
                    error_after_push: None,
                }
            } else {
                Decision::one(events)
            })
        })
        .await
    }

    pub async fn deactivate_project(&self, ctx: &RequestCtx, id: &ProjectId) -> Result<WriteDetails, DomainError> {
        self.on_project(ctx, id, |state| {
            project::decide_deactivate(state, &ctx.org_id).map(Decision::one)
        })
        .await
    }

    pub async fn reactivate_project(&self, ctx: &RequestCtx, id: &ProjectId) -> Result<WriteDetails, DomainError> {
        self.on_project(ctx, id, |state| {
            project::decide_reactivate(state, &ctx.org_id).map(Decision::one)
        })
        .await
    }

    /// RemoveProject: the project and all its applications; the name is free again.
    #[tracing::instrument(skip_all, fields(project_id = %id))]
    pub async fn remove_project(&self, ctx: &RequestCtx, id: &ProjectId) -> Result<WriteDetails, DomainError> {
        self.on_project(ctx, id, |state| {
            Ok(Decision {
                events: vec![project::decide_remove(state, &ctx.org_id)?],
                releases: vec![name_claim(ctx, &ctx.org_id, &state.settings.name)],
                ..Decision::default()
            })
        })
        .await
    }

    /// Runs a decision on a project; the decisions find only projects of
    /// the context org, so another org's project is an unknown one.
    pub(crate) async fn on_project(
        &self,
        ctx: &RequestCtx,
        id: &ProjectId,
        decide: impl Fn(&ProjectState) -> Result<Decision, DomainError>,
    ) -> Result<WriteDetails, DomainError> {
        self.on_project_with(ctx, id, |state| Ok((decide(state)?, ())))
            .await
            .map(|(d, ())| d)
    }

    /// [`Self::on_project`] for a decision that also returns something.
    pub(crate) async fn on_project_with<T>(
        &self,
        ctx: &RequestCtx,
        id: &ProjectId,
        decide: impl Fn(&ProjectState) -> Result<(Decision, T), DomainError>,
    ) -> Result<(WriteDetails, T), DomainError> {
        self.execute_many_with(
            &ctx.instance_id,
            ctx.caller.user_id.as_str(),
            vec![AggregateRef::project(id, &ctx.org_id)],
            |loaded| decide(&ProjectState::fold(history(loaded, 0))),
        )
        .await
    }
}
