//! Adding an authenticator app from the account page, when the policy
//! allows one and the user has none: the same set-up page and use cases
//! (RegisterTOTP, VerifyTOTPRegistration) as the login's set-up step, acting
//! as the signed-in user.

use std::sync::Arc;

use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use twofold_domain::factors::SecondFactor;
use twofold_domain::readmodel::directory::{Readiness, UserView};
use twofold_domain::readmodel::login_policy::LoginPolicyView;

use crate::errors;
use crate::keys::account_user;
use crate::login::{Early, form_expired};
use crate::visit::Visit;
use crate::web::{Web, rpc};

pub const PATH: &str = "/ui/account/totp";
const ACCOUNT: &str = "/ui/account";

/// Whether the account page offers to add an authenticator app.
pub fn offered(policy: &LoginPolicyView, user: &UserView) -> bool {
    policy.second_factors.contains(&SecondFactor::Otp) && user.factors.totp != Some(Readiness::Ready)
}

/// A new secret (replacing one not yet activated) and its QR code.
pub async fn page(State(web): State<Arc<Web>>, visit: Visit) -> Early<Response> {
    let a = account_user(&web, &visit, rpc::REGISTER_TOTP).await?;
    if !offered(&a.policy, &a.user) {
        return Ok(Redirect::to(ACCOUNT).into_response());
    }
    let totp = web
        .app
        .register_totp(&a.ctx, &a.user.id)
        .await
        .map_err(|e| errors::page(visit.t, &e))?;
    Ok(crate::setup::account_page(&web, &visit, &totp.uri, PATH, None))
}

#[derive(Deserialize)]
pub struct TotpForm {
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    uri: String,
}

pub async fn post(State(web): State<Arc<Web>>, visit: Visit, Form(f): Form<TotpForm>) -> Early<Response> {
    if !web.csrf_ok(&visit.seed, &f.csrf) {
        return Ok(form_expired(visit.t));
    }
    let a = account_user(&web, &visit, rpc::VERIFY_TOTP).await?;
    if !offered(&a.policy, &a.user) {
        return Ok(Redirect::to(ACCOUNT).into_response());
    }
    match web
        .app
        .verify_totp_registration(&a.ctx, &a.user.id, f.code.trim())
        .await
    {
        Ok(_) => Ok(Redirect::to(ACCOUNT).into_response()),
        Err(e) => {
            let error = Some(errors::sentence(visit.t, &e));
            Ok(crate::setup::account_page(&web, &visit, &f.uri, PATH, error))
        }
    }
}
