//! twofold.policy.v1.PolicyService: the lock-out preview of a login-policy
//! change, and the header that lets a change past the guard rail.

use tonic::{Request, Response, Status};
use twofold_app::App;
use twofold_app::login_policy::FactorChange;
use twofold_app::policy_preview::{Force, PolicyChange};
use twofold_domain::policy_preview::{Group, Impact};
use twofold_domain::scope::Scope;
use twofold_proto::twofold::policy::v1::policy_service_server::PolicyService;
use twofold_proto::twofold::policy::v1::preview_login_policy_change_request::Change;
use twofold_proto::twofold::policy::v1::*;

use crate::auth::ctx;
use crate::error::to_status;
use crate::validate;

/// With the value `true`, a login-policy change that would lock out every
/// owner is made anyway.
pub const FORCE_HEADER: &str = "x-twofold-force";

pub fn force<T>(req: &Request<T>) -> Force {
    Force(
        req.metadata()
            .get(FORCE_HEADER)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true")),
    )
}

pub struct Policies {
    pub app: App,
}

const MESSAGE: &str = "PreviewLoginPolicyChangeRequest";

fn change(r: &PreviewLoginPolicyChangeRequest) -> Result<PolicyChange, Status> {
    let factor = |c| Ok(PolicyChange::Factor(c));
    match &r.change {
        Some(Change::AddSecondFactor(f)) => factor(FactorChange::AddSecond(validate::second_factor(MESSAGE, *f)?)),
        Some(Change::RemoveSecondFactor(f)) => {
            factor(FactorChange::RemoveSecond(validate::second_factor(MESSAGE, *f)?))
        }
        Some(Change::AddMultiFactor(f)) => factor(FactorChange::AddMulti(validate::multi_factor(MESSAGE, *f)?)),
        Some(Change::RemoveMultiFactor(f)) => factor(FactorChange::RemoveMulti(validate::multi_factor(MESSAGE, *f)?)),
        Some(Change::Policy(p)) => Ok(PolicyChange::Settings(crate::settings_from_request!(p, MESSAGE))),
        Some(Change::ResetToDefault(true)) => Ok(PolicyChange::Reset),
        Some(Change::ResetToDefault(false)) | None => Err(validate::invalid_field(
            MESSAGE,
            "Change",
            "exactly one change is required",
        )),
    }
}

fn group(g: &Group) -> PreviewGroup {
    PreviewGroup {
        count: Some(u32::try_from(g.count).unwrap_or(u32::MAX)),
        examples: g
            .examples
            .iter()
            .map(|u| PreviewUser {
                user_id: u.user_id.as_str().to_owned(),
                login_name: u.login_name.clone(),
                org_id: u.org_id.as_str().to_owned(),
            })
            .collect(),
    }
}

fn response(i: &Impact) -> PreviewLoginPolicyChangeResponse {
    PreviewLoginPolicyChangeResponse {
        total: Some(u32::try_from(i.total()).unwrap_or(u32::MAX)),
        locked_out: Some(group(&i.locked_out)),
        must_enroll: Some(group(&i.must_enroll)),
        mfa_downgraded: Some(group(&i.mfa_downgraded)),
        loses_a_factor: Some(group(&i.loses_a_factor)),
        unaffected: Some(group(&i.unaffected)),
    }
}

impl Policies {
    async fn preview(
        &self,
        req: Request<PreviewLoginPolicyChangeRequest>,
        scope: Scope,
    ) -> Result<Response<PreviewLoginPolicyChangeResponse>, Status> {
        let ctx = ctx(&req)?;
        let change = change(req.get_ref())?;
        let impact = self
            .app
            .preview_login_policy_change(&ctx, scope, &change)
            .await
            .map_err(to_status)?;
        Ok(Response::new(response(&impact)))
    }
}

#[tonic::async_trait]
impl PolicyService for Policies {
    async fn preview_instance_login_policy_change(
        &self,
        req: Request<PreviewLoginPolicyChangeRequest>,
    ) -> Result<Response<PreviewLoginPolicyChangeResponse>, Status> {
        self.preview(req, Scope::Instance).await
    }

    async fn preview_org_login_policy_change(
        &self,
        req: Request<PreviewLoginPolicyChangeRequest>,
    ) -> Result<Response<PreviewLoginPolicyChangeResponse>, Status> {
        self.preview(req, Scope::Org).await
    }
}
