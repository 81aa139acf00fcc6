//! zitadel.org.v2.OrganizationService: AddOrganization (with its admins)
//! and ListOrganizations (the orgs the caller may read).

use tonic::{Request, Response, Status};
use twofold_app::App;
use twofold_app::org_setup::{AdminUser, NewOrgAdminInput};
use twofold_domain::UserId;
use twofold_domain::readmodel::directory::OrgView;
use twofold_proto::zitadel::org::v2::organization_service_server::OrganizationService;
use twofold_proto::zitadel::org::v2::*;

use crate::auth::ctx;
use crate::error::to_status;
use crate::{convert, queries, users, validate};

pub struct Orgs {
    pub app: App,
}

fn organization(o: OrgView) -> Organization {
    Organization {
        details: convert::v2_read(&o.details),
        id: o.id.into_string(),
        // Twofold never deactivates or removes an org it lists.
        state: OrganizationState::Active as i32,
        name: o.name,
        primary_domain: o.primary_domain,
    }
}

fn admin(a: add_organization_request::Admin) -> Result<NewOrgAdminInput, Status> {
    use add_organization_request::admin::UserType;
    let user = match a.user_type {
        Some(UserType::UserId(id)) => AdminUser::Existing(UserId::from(validate::id("Admin", "UserId", &id)?)),
        Some(UserType::Human(h)) => AdminUser::New(Box::new(users::human_input(h)?)),
        None => {
            return Err(validate::invalid_field("Admin", "UserType", "value is required"));
        }
    };
    Ok(NewOrgAdminInput { user, roles: a.roles })
}

#[tonic::async_trait]
impl OrganizationService for Orgs {
    async fn add_organization(
        &self,
        req: Request<AddOrganizationRequest>,
    ) -> Result<Response<AddOrganizationResponse>, Status> {
        const M: &str = "AddOrganizationRequest";
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        validate::id(M, "Name", &r.name)?;
        if let Some(id) = &r.org_id {
            validate::id(M, "OrgId", id)?;
        }
        let admins = r.admins.into_iter().map(admin).collect::<Result<_, _>>()?;
        let set_up = self
            .app
            .set_up_org(&ctx, &r.name, r.org_id, admins)
            .await
            .map_err(to_status)?;
        Ok(Response::new(AddOrganizationResponse {
            details: convert::v2_changed(set_up.details),
            organization_id: set_up.org_id,
            created_admins: set_up
                .created_admins
                .into_iter()
                .map(|a| add_organization_response::CreatedAdmin {
                    user_id: a.user_id,
                    email_code: a.email_code,
                    phone_code: a.phone_code,
                })
                .collect(),
        }))
    }

    async fn list_organizations(
        &self,
        req: Request<ListOrganizationsRequest>,
    ) -> Result<Response<ListOrganizationsResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.get_ref();
        let (filters, by_name) = queries::orgs_v2(r)?;
        let list = self
            .app
            .list_readable_orgs(&ctx, &filters, by_name, queries::list_v2(r.query.as_ref())?)
            .await
            .map_err(to_status)?;
        Ok(Response::new(ListOrganizationsResponse {
            details: convert::v2_list(list.total),
            sorting_column: r.sorting_column,
            result: list.orgs.into_iter().map(organization).collect(),
        }))
    }
}
