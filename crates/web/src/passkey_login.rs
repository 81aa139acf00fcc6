//! Signing in with a passkey instead of a password: from the login-name
//! page with a discoverable credential (the passkey names the user), or
//! from the password page for the user named there. Offered only when the
//! login policy allows passkeys (`passkey::passkey_allowed`; before a user
//! is known, the instance's default policy); the session use case decides
//! the check against the user's own policy. A user-verified passkey signs
//! in on its own: the login's next step is the finish.

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use twofold_app::sessions::{ChallengeRequests, Checks};
use twofold_domain::passkey;

use crate::catalog::Catalog;
use crate::errors::{self, render};
use crate::login::{
    Current, Early, NEXT, START, current, form_expired, redirect_with, rotated, set_login_cookie, set_session,
};
use crate::visit::{LoginCookie, Visit};
use crate::web::{Web, rpc};

const PASSWORD: &str = "/ui/login/password";

#[derive(Template)]
#[template(path = "passkey.html")]
struct PasskeyPage<'a> {
    t: &'a Catalog,
    csrf: String,
    error: Option<String>,
    options: String,
    back: &'static str,
}

fn challenge_requests(visit: &Visit) -> ChallengeRequests {
    ChallengeRequests {
        web_auth_n: Some(visit.rp_id.clone()),
        passkey: true,
        ..ChallengeRequests::default()
    }
}

/// Whether the login-name page offers a passkey (the instance's default
/// policy allows them; the user's own policy decides at the check).
pub async fn offered_first(web: &Web, visit: &Visit) -> bool {
    web.app
        .default_login_policy(&visit.instance)
        .await
        .is_ok_and(|p| passkey::passkey_allowed(&p))
}

/// Whether the password page offers a passkey to the user being signed in.
pub fn offered_to(c: &Current) -> bool {
    passkey::passkey_allowed(&c.policy) && !c.user.factors.passkeys.is_empty()
}

fn page(web: &Web, visit: &Visit, options: String, back: &'static str, error: Option<String>) -> Response {
    let status = errors::form_status(&error);
    let page = PasskeyPage {
        t: visit.t,
        csrf: web.csrf_token(&visit.seed),
        error,
        options,
        back,
    };
    render(status, &page)
}

#[derive(Deserialize)]
pub struct StartQuery {
    #[serde(rename = "authRequest")]
    auth_request: Option<String>,
}

/// A new session without a user, with a challenge any of the browser's
/// passkeys for this site may answer.
pub async fn discoverable_page(
    State(web): State<Arc<Web>>,
    visit: Visit,
    Query(q): Query<StartQuery>,
) -> Early<Response> {
    if !offered_first(&web, &visit).await {
        return Ok(Redirect::to(START).into_response());
    }
    let fail = |e| errors::page(visit.t, &e);
    let ctx = web.login_ctx(&visit.instance, rpc::CREATE_SESSION).map_err(fail)?;
    let change = web
        .app
        .create_session(&ctx, Checks::default(), challenge_requests(&visit), None)
        .await
        .map_err(fail)?;
    let cookie = LoginCookie {
        sid: change.session_id.as_str().to_owned(),
        token: change.token.unwrap_or_default(),
        auth_request: q.auth_request.as_deref().and_then(crate::login::auth_request_id),
    };
    let options = change.challenges.web_auth_n.map(|o| o.to_string()).unwrap_or_default();
    let mut resp = page(&web, &visit, options, START, None);
    set_login_cookie(&web, &mut resp, &cookie);
    Ok(resp)
}

/// A challenge for the passkeys of the user named on the password page.
pub async fn user_page(State(web): State<Arc<Web>>, visit: Visit) -> Early<Response> {
    let c = current(&web, &visit).await?;
    if !offered_to(&c) {
        return Ok(Redirect::to(PASSWORD).into_response());
    }
    challenge(&web, &visit, &c.cookie, PASSWORD, None).await
}

/// A fresh challenge on the browser's session (discoverable without a user).
async fn challenge(
    web: &Web,
    visit: &Visit,
    cookie: &LoginCookie,
    back: &'static str,
    error: Option<String>,
) -> Early<Response> {
    let change = set_session(web, visit, cookie, Checks::default(), challenge_requests(visit))
        .await
        .map_err(|e| errors::page(visit.t, &e))?;
    let options = change
        .challenges
        .web_auth_n
        .as_ref()
        .map(|o| o.to_string())
        .unwrap_or_default();
    let mut resp = page(web, visit, options, back, error);
    set_login_cookie(web, &mut resp, &rotated(cookie, &change));
    Ok(resp)
}

#[derive(Deserialize)]
pub struct AssertionForm {
    csrf: String,
    #[serde(default)]
    code: String,
}

/// The browser's answer, checked by the session use case.
pub async fn post(State(web): State<Arc<Web>>, visit: Visit, Form(f): Form<AssertionForm>) -> Early<Response> {
    if !web.csrf_ok(&visit.seed, &f.csrf) {
        return Ok(form_expired(visit.t));
    }
    let cookie = visit.login.clone().ok_or_else(|| Redirect::to(START).into_response())?;
    let checks = Checks {
        web_auth_n: Some(serde_json::from_str(&f.code).unwrap_or_default()),
        ..Checks::default()
    };
    match set_session(&web, &visit, &cookie, checks, ChallengeRequests::default()).await {
        Ok(change) => Ok(redirect_with(&web, NEXT, &rotated(&cookie, &change))),
        Err(e) => {
            let message = errors::sentence(visit.t, &e);
            let named = current(&web, &visit).await.is_ok();
            let back = if named { PASSWORD } else { START };
            challenge(&web, &visit, &cookie, back, Some(message)).await
        }
    }
}
