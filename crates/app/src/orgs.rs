//! Organizations.

use twofold_domain::readmodel::Collection;
use twofold_domain::readmodel::directory::{InstanceView, OrgView};
use twofold_domain::readmodel::query::{ListRequest, OrgQuery};
use twofold_domain::{AggregateRef, DomainError, InstanceId, OrgId, org};

use crate::auth::RequestCtx;
use crate::command::{Decision, unique};
use crate::{App, WriteDetails};

pub struct OrgList {
    pub total: usize,
    pub orgs: Vec<OrgView>,
}

impl App {
    pub async fn org(&self, instance_id: &InstanceId, org_id: &str) -> Result<OrgView, DomainError> {
        self.typed_doc(instance_id, Collection::Org, org_id)
            .await?
            .ok_or_else(|| DomainError::not_found("QUERY-leq5Q", "Organisation not found"))
    }

    /// A new org with a domain generated under the instance's external
    /// domain; the caller becomes its ORG_OWNER.
    pub async fn add_org(&self, ctx: &RequestCtx, name: &str) -> Result<(String, WriteDetails), DomainError> {
        let instance: InstanceView = self
            .typed_doc(&ctx.instance_id, Collection::Instance, ctx.instance_id.as_str())
            .await?
            .ok_or_else(|| DomainError::internal("QUERY-Inst1", "An internal error occurred"))?;
        let (domain, events) = org::decide_add(name, &instance.external_domain, ctx.caller.user_id.as_str())?;
        let org_id = OrgId::new(self.ids.next());
        let claims = vec![
            unique(&ctx.instance_id, "org_name", name.trim()),
            unique(&ctx.instance_id, "org_domain", &domain),
        ];
        let details = self
            .execute_many(
                &ctx.instance_id,
                ctx.caller.user_id.as_str(),
                vec![AggregateRef::org(&org_id)],
                |loaded| {
                    if !crate::command::history(loaded, 0).is_empty() {
                        // Two nodes drew the same snowflake ID; the caller may retry.
                        return Err(DomainError::unavailable("ORG-IdClash", "ID collision, try again"));
                    }
                    Ok(Decision {
                        events: vec![events.clone()],
                        claims: claims.clone(),
                        releases: vec![],
                        error_after_push: None,
                    })
                },
            )
            .await?;
        Ok((org_id.into_string(), details))
    }

    /// Orgs of the instance matching every query, by name when `by_name`,
    /// else in creation order.
    pub async fn list_orgs(
        &self,
        instance_id: &InstanceId,
        queries: &[OrgQuery],
        by_name: bool,
        list: ListRequest,
    ) -> Result<OrgList, DomainError> {
        self.list_orgs_where(instance_id, queries, by_name, list, |_| true)
            .await
    }

    /// As [`App::list_orgs`], of the orgs `visible` lets through.
    pub(crate) async fn list_orgs_where(
        &self,
        instance_id: &InstanceId,
        queries: &[OrgQuery],
        by_name: bool,
        list: ListRequest,
        visible: impl Fn(&OrgView) -> bool,
    ) -> Result<OrgList, DomainError> {
        let instance: Option<InstanceView> = self
            .typed_doc(instance_id, Collection::Instance, instance_id.as_str())
            .await?;
        let default_org = instance.map(|i| i.default_org_id).unwrap_or_default();
        let mut orgs: Vec<OrgView> = self
            .typed_prefix(instance_id, Collection::Org, "")
            .await?
            .into_iter()
            .filter(|o| queries.iter().all(|q| q.matches(o, &default_org)) && visible(o))
            .collect();
        if by_name {
            list.sort(&mut orgs, true, |a, b| {
                a.name.to_lowercase().cmp(&b.name.to_lowercase())
            });
        } else {
            orgs.sort_by_key(|o| o.details.creation_date);
        }
        Ok(OrgList {
            total: orgs.len(),
            orgs: list.page(orgs),
        })
    }
}

impl App {
    /// The instance's default org (Settings v2 general settings).
    pub async fn default_org_id(&self, ctx: &RequestCtx) -> Result<OrgId, DomainError> {
        let instance: Option<InstanceView> = self
            .typed_doc(&ctx.instance_id, Collection::Instance, ctx.instance_id.as_str())
            .await?;
        instance
            .map(|i| i.default_org_id)
            .ok_or_else(|| DomainError::internal("QUERY-Inst1", "An internal error occurred"))
    }
}
