//! The admin console under `/ui/console`: the login policies of the
//! instance and of each org, previewed for their lock-out impact before
//! they are saved, with their change history, and the users of an org
//! with their factors. The administrator signs in through the hosted login;
//! every page then acts as that user through the use case of the RPC it
//! corresponds to, under the auth that RPC declares, so the console allows
//! exactly what the API would allow the same person.

mod policy;
mod users;

use std::sync::Arc;

use axum::Router;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use http::StatusCode;
use twofold_app::auth::RequestCtx;
use twofold_domain::{DomainError, ErrorKind};

use crate::catalog::Catalog;
use crate::errors;
use crate::login::{Early, START};
use crate::visit::Visit;
use crate::web::Web;

/// `permissions::check`'s refusal of a caller without any membership.
const NO_MEMBERSHIP: &str = "AUTHZ-cdgFk";

const STYLE: &str = include_str!("../../static/console.css");

/// The RPCs whose use cases and auth the console pages use.
mod rpc {
    pub const LIST_ORGS: &str = "/zitadel.admin.v1.AdminService/ListOrgs";
    pub const ADMIN_GET_POLICY: &str = "/zitadel.admin.v1.AdminService/GetLoginPolicy";
    pub const ADMIN_UPDATE_POLICY: &str = "/zitadel.admin.v1.AdminService/UpdateLoginPolicy";
    pub const ADMIN_ADD_SECOND: &str = "/zitadel.admin.v1.AdminService/AddSecondFactorToLoginPolicy";
    pub const ADMIN_REMOVE_SECOND: &str = "/zitadel.admin.v1.AdminService/RemoveSecondFactorFromLoginPolicy";
    pub const ADMIN_ADD_MULTI: &str = "/zitadel.admin.v1.AdminService/AddMultiFactorToLoginPolicy";
    pub const ADMIN_REMOVE_MULTI: &str = "/zitadel.admin.v1.AdminService/RemoveMultiFactorFromLoginPolicy";
    pub const MGMT_GET_POLICY: &str = "/zitadel.management.v1.ManagementService/GetLoginPolicy";
    pub const MGMT_ADD_CUSTOM: &str = "/zitadel.management.v1.ManagementService/AddCustomLoginPolicy";
    pub const MGMT_UPDATE_CUSTOM: &str = "/zitadel.management.v1.ManagementService/UpdateCustomLoginPolicy";
    pub const MGMT_RESET: &str = "/zitadel.management.v1.ManagementService/ResetLoginPolicyToDefault";
    pub const MGMT_ADD_SECOND: &str = "/zitadel.management.v1.ManagementService/AddSecondFactorToLoginPolicy";
    pub const MGMT_REMOVE_SECOND: &str = "/zitadel.management.v1.ManagementService/RemoveSecondFactorFromLoginPolicy";
    pub const MGMT_ADD_MULTI: &str = "/zitadel.management.v1.ManagementService/AddMultiFactorToLoginPolicy";
    pub const MGMT_REMOVE_MULTI: &str = "/zitadel.management.v1.ManagementService/RemoveMultiFactorFromLoginPolicy";
    pub const PREVIEW_INSTANCE: &str = "/twofold.policy.v1.PolicyService/PreviewInstanceLoginPolicyChange";
    pub const PREVIEW_ORG: &str = "/twofold.policy.v1.PolicyService/PreviewOrgLoginPolicyChange";
    pub const LIST_USERS: &str = "/zitadel.user.v2.UserService/ListUsers";
    pub const GET_USER: &str = "/zitadel.management.v1.ManagementService/GetUserByID";
    pub const REMOVE_OTP: &str = "/zitadel.management.v1.ManagementService/RemoveHumanAuthFactorOTP";
    pub const REMOVE_U2F: &str = "/zitadel.management.v1.ManagementService/RemoveHumanAuthFactorU2F";
    pub const REMOVE_OTP_SMS: &str = "/zitadel.management.v1.ManagementService/RemoveHumanAuthFactorOTPSMS";
    pub const REMOVE_OTP_EMAIL: &str = "/zitadel.management.v1.ManagementService/RemoveHumanAuthFactorOTPEmail";

    #[cfg(test)]
    pub const ALL: &[&str] = &[
        LIST_ORGS,
        ADMIN_GET_POLICY,
        ADMIN_UPDATE_POLICY,
        ADMIN_ADD_SECOND,
        ADMIN_REMOVE_SECOND,
        ADMIN_ADD_MULTI,
        ADMIN_REMOVE_MULTI,
        MGMT_GET_POLICY,
        MGMT_ADD_CUSTOM,
        MGMT_UPDATE_CUSTOM,
        MGMT_RESET,
        MGMT_ADD_SECOND,
        MGMT_REMOVE_SECOND,
        MGMT_ADD_MULTI,
        MGMT_REMOVE_MULTI,
        PREVIEW_INSTANCE,
        PREVIEW_ORG,
        LIST_USERS,
        GET_USER,
        REMOVE_OTP,
        REMOVE_U2F,
        REMOVE_OTP_SMS,
        REMOVE_OTP_EMAIL,
    ];
}

pub const CONSOLE: &str = "/ui/console";

pub fn routes() -> Router<Arc<Web>> {
    Router::new()
        .route(CONSOLE, get(policy::home))
        .route(
            "/ui/console/policy",
            get(policy::instance_page).post(policy::instance_post),
        )
        .route(
            "/ui/console/orgs/{org}/policy",
            get(policy::org_page).post(policy::org_post),
        )
        .route("/ui/console/orgs/{org}/users", get(users::page))
        .route(
            "/ui/console/orgs/{org}/users/{user}/remove/{factor}",
            get(users::confirm).post(users::remove),
        )
        .route(
            "/ui/static/console.css",
            get(|| async { crate::static_file("text/css; charset=utf-8", STYLE) }),
        )
}

/// The page for a refusal: not signed in goes to the login, a missing
/// permission says so, anything else is the usual error page.
fn refused(t: &'static Catalog, e: &DomainError) -> Response {
    match e.kind {
        ErrorKind::Unauthenticated => Redirect::to(START).into_response(),
        ErrorKind::PermissionDenied => not_allowed(t),
        // No membership at all: ZITADEL answers "membership not found".
        _ if e.id.as_ref() == NO_MEMBERSHIP => not_allowed(t),
        _ => errors::page(t, e),
    }
}

fn not_allowed(t: &Catalog) -> Response {
    errors::message_page(t, StatusCode::FORBIDDEN, t.get("console.not_allowed").to_owned())
}

/// The signed-in user acting through `rpc` (on `org`, as `x-zitadel-orgid`).
async fn acting(web: &Web, visit: &Visit, rpc: &str, org: Option<&str>) -> Early<RequestCtx> {
    let cookie = visit
        .login
        .as_ref()
        .ok_or_else(|| Redirect::to(START).into_response())?;
    web.user_ctx_in(&visit.instance, &cookie.token, rpc, org)
        .await
        .map_err(|e| refused(visit.t, &e))
}

#[cfg(test)]
mod tests {
    /// Every RPC the console acts as is served and declares its auth.
    #[test]
    fn the_rpcs_are_declared() {
        let methods = twofold_api::methods::Methods::load().unwrap();
        for path in super::rpc::ALL {
            assert!(methods.get(path).and_then(|m| m.auth.as_ref()).is_some(), "{path}");
        }
    }
}
