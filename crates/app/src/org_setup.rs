//! OrganizationService v2: an org set up with its admins in one write, and
//! the orgs a caller may read.

use twofold_domain::org::{self, NewOrgAdmin};
use twofold_domain::permissions::CheckedOn;
use twofold_domain::readmodel::Collection;
use twofold_domain::readmodel::directory::{InstanceView, UserView};
use twofold_domain::readmodel::query::{ListRequest, OrgQuery};
use twofold_domain::{AggregateRef, DomainError, OrgId, UserId};

use crate::auth::RequestCtx;
use crate::command::{Decision, history, unique};
use crate::humans::{Contacts, HumanInput};
use crate::orgs::OrgList;
use crate::{App, WriteDetails};

/// Who administers a new org.
pub enum AdminUser {
    /// A user of the instance.
    Existing(UserId),
    /// A human user created in the new org (its org fields are ignored).
    New(Box<HumanInput>),
}

pub struct NewOrgAdminInput {
    pub user: AdminUser,
    /// ORG_OWNER when empty.
    pub roles: Vec<String>,
}

/// An admin created with the org; codes only when asked to be returned.
pub struct CreatedAdmin {
    pub user_id: String,
    pub email_code: Option<String>,
    pub phone_code: Option<String>,
}

pub struct SetUpOrg {
    pub org_id: String,
    pub details: WriteDetails,
    pub created_admins: Vec<CreatedAdmin>,
}

impl App {
    /// v2 AddOrganization: the org, the admins created with it and every
    /// admin's membership, stored together or not at all. Unlike v1 the
    /// caller is not made a member.
    #[tracing::instrument(skip_all)]
    pub async fn set_up_org(
        &self,
        ctx: &RequestCtx,
        name: &str,
        org_id: Option<String>,
        admins: Vec<NewOrgAdminInput>,
    ) -> Result<SetUpOrg, DomainError> {
        let instance: InstanceView = self
            .typed_doc(&ctx.instance_id, Collection::Instance, ctx.instance_id.as_str())
            .await?
            .ok_or_else(|| DomainError::internal("QUERY-Inst1", "An internal error occurred"))?;
        let custom_id = org_id.is_some();
        let org_id = OrgId::new(org_id.unwrap_or_else(|| self.ids.next()));
        let mut members = Vec::with_capacity(admins.len());
        let mut humans = Vec::new();
        for admin in admins {
            let (user_id, exists) = match admin.user {
                AdminUser::Existing(id) => {
                    let user: Option<UserView> =
                        self.typed_doc(&ctx.instance_id, Collection::User, id.as_str()).await?;
                    (id.into_string(), user.is_some())
                }
                AdminUser::New(input) => {
                    let contacts = Contacts::of(&input)?;
                    let human = self.prepare_human(ctx, *input, contacts, org_id.clone()).await?;
                    let id = human.user_id.as_str().to_owned();
                    humans.push(human);
                    (id, true)
                }
            };
            members.push(NewOrgAdmin {
                user_id,
                exists,
                roles: admin.roles,
            });
        }
        let mut aggregates = vec![AggregateRef::org(&org_id)];
        aggregates.extend(humans.iter().map(|h| h.aggregate()));
        let details = self
            .execute_many(&ctx.instance_id, ctx.caller.user_id.as_str(), aggregates, |loaded| {
                let org_exists = !history(loaded, 0).is_empty();
                if org_exists && !custom_id {
                    // Two nodes drew the same snowflake ID; the caller may retry.
                    return Err(DomainError::unavailable("ORG-IdClash", "ID collision, try again"));
                }
                let (domain, org_events) = org::decide_set_up(org_exists, name, &instance.external_domain, &members)?;
                let mut events = vec![org_events];
                let mut claims = vec![
                    unique(&ctx.instance_id, "org_name", name.trim()),
                    unique(&ctx.instance_id, "org_domain", &domain),
                ];
                for (i, human) in humans.iter().enumerate() {
                    events.push(human.decide(&crate::command::user_state(loaded, i + 1))?);
                    claims.push(human.claim.clone());
                }
                Ok(Decision {
                    events,
                    claims,
                    releases: vec![],
                    error_after_push: None,
                })
            })
            .await?;
        let mut created_admins = Vec::with_capacity(humans.len());
        for human in humans {
            let (user_id, email_code, phone_code) = self.deliver_codes(ctx, human).await?;
            created_admins.push(CreatedAdmin {
                user_id,
                email_code,
                phone_code,
            });
        }
        Ok(SetUpOrg {
            org_id: org_id.into_string(),
            details,
            created_admins,
        })
    }

    /// v2 ListOrganizations: the matching orgs where the caller passes the
    /// RPC's declared check; the others are left out before counting.
    pub async fn list_readable_orgs(
        &self,
        ctx: &RequestCtx,
        queries: &[OrgQuery],
        by_name: bool,
        list: ListRequest,
    ) -> Result<OrgList, DomainError> {
        let rows = self.row_check(ctx, CheckedOn::RequestedOrg).await?;
        self.list_orgs_where(&ctx.instance_id, queries, by_name, list, |o| rows.allows(&o.id, None))
            .await
    }
}
