//! zitadel.management.v1.ManagementService: one organization's view.

use tonic::{Request, Response, Status};
use twofold_app::App;
use twofold_proto::zitadel::management::v1::management_service_server::ManagementService;
use twofold_proto::zitadel::management::v1::*;
use twofold_proto::zitadel::org::v1::{Org, OrgState};

use crate::auth::ctx;
use crate::convert;
use crate::error::to_status;

pub struct Management {
    pub app: App,
}

#[tonic::async_trait]
impl ManagementService for Management {
    async fn healthz(&self, _: Request<HealthzRequest>) -> Result<Response<HealthzResponse>, Status> {
        Ok(Response::new(HealthzResponse {}))
    }

    async fn get_my_org(&self, req: Request<GetMyOrgRequest>) -> Result<Response<GetMyOrgResponse>, Status> {
        let ctx = ctx(&req)?;
        let org = self.app.org(&ctx.instance_id, &ctx.org_id).await.map_err(to_status)?;
        Ok(Response::new(GetMyOrgResponse {
            org: Some(Org {
                id: org.id,
                details: convert::read(&org.details),
                state: OrgState::Active as i32,
                name: org.name,
                primary_domain: org.primary_domain,
            }),
        }))
    }

    async fn get_login_policy(
        &self,
        req: Request<GetLoginPolicyRequest>,
    ) -> Result<Response<GetLoginPolicyResponse>, Status> {
        let ctx = ctx(&req)?;
        let view = self
            .app
            .org_login_policy(&ctx.instance_id, &ctx.org_id)
            .await
            .map_err(to_status)?;
        Ok(Response::new(GetLoginPolicyResponse {
            is_default: view.is_default,
            policy: Some(convert::login_policy(&view)),
        }))
    }

    async fn get_default_login_policy(
        &self,
        req: Request<GetDefaultLoginPolicyRequest>,
    ) -> Result<Response<GetDefaultLoginPolicyResponse>, Status> {
        let ctx = ctx(&req)?;
        let view = self
            .app
            .default_login_policy(&ctx.instance_id)
            .await
            .map_err(to_status)?;
        Ok(Response::new(GetDefaultLoginPolicyResponse {
            policy: Some(convert::login_policy(&view)),
        }))
    }

    async fn list_login_policy_second_factors(
        &self,
        req: Request<ListLoginPolicySecondFactorsRequest>,
    ) -> Result<Response<ListLoginPolicySecondFactorsResponse>, Status> {
        let ctx = ctx(&req)?;
        let view = self
            .app
            .org_login_policy(&ctx.instance_id, &ctx.org_id)
            .await
            .map_err(to_status)?;
        Ok(Response::new(ListLoginPolicySecondFactorsResponse {
            details: convert::list(view.second_factors.len()),
            result: view.second_factors.iter().map(|f| i32::from(*f)).collect(),
        }))
    }

    async fn list_login_policy_multi_factors(
        &self,
        req: Request<ListLoginPolicyMultiFactorsRequest>,
    ) -> Result<Response<ListLoginPolicyMultiFactorsResponse>, Status> {
        let ctx = ctx(&req)?;
        let view = self
            .app
            .org_login_policy(&ctx.instance_id, &ctx.org_id)
            .await
            .map_err(to_status)?;
        Ok(Response::new(ListLoginPolicyMultiFactorsResponse {
            details: convert::list(view.multi_factors.len()),
            result: view.multi_factors.iter().map(|f| i32::from(*f)).collect(),
        }))
    }
}
