//! The signed-in user's account page: profile, second factors, recovery
//! codes, password change, active sessions. Everything here acts as the
//! user, with the session's token as a request to the corresponding RPC
//! would (the force-MFA rule included), through the same use cases.

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::header::SET_COOKIE;
use http::{HeaderValue, StatusCode};
use serde::Deserialize;
use twofold_app::auth::RequestCtx;
use twofold_app::mfa::DEFAULT_RECOVERY_CODES;
use twofold_domain::readmodel::directory::UserView;
use twofold_domain::readmodel::query::{ListRequest, SessionQuery};
use twofold_domain::{SessionId, Timestamp};

use crate::catalog::Catalog;
use crate::errors::{self, render};
use crate::login::{Early, START, form_expired};
use crate::setup::CodesPage;
use crate::visit::{LoginCookie, SESSION_COOKIE, Visit};
use crate::web::{Web, rpc};

const ACCOUNT: &str = "/ui/account";

pub struct SessionRow {
    pub id: String,
    pub started: String,
    pub this: bool,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage<'a> {
    t: &'a Catalog,
    csrf: String,
    error: Option<String>,
    notice: Option<String>,
    login_name: String,
    display_name: String,
    email: String,
    factors: Vec<crate::factor_removal::FactorRow>,
    /// Links to add the factors the policy allows (an authenticator app
    /// when the user has none, security keys, passkeys).
    add_keys: Vec<(String, &'static str)>,
    sessions: Vec<SessionRow>,
}

/// `YYYY-MM-DD HH:MM UTC`.
pub(crate) fn when(t: Timestamp) -> String {
    let ts = prost_types::Timestamp {
        seconds: t.0.div_euclid(1_000_000),
        nanos: 0,
    };
    let s = ts.to_string().replace('T', " ");
    format!("{} UTC", s.get(..16).unwrap_or(&s))
}

/// The signed-in user (the session must sign them in for `rpc`), else the login.
pub(crate) async fn signed_in(web: &Web, visit: &Visit, rpc: &str) -> Early<(LoginCookie, RequestCtx)> {
    let to_login = || Redirect::to(START).into_response();
    let cookie = visit.login.clone().ok_or_else(to_login)?;
    let ctx = web
        .user_ctx(&visit.instance, &cookie.token, rpc)
        .await
        .map_err(|_| to_login())?;
    Ok((cookie, ctx))
}

async fn show(web: &Web, visit: &Visit, error: Option<String>, notice: Option<String>) -> Early<Response> {
    let (cookie, ctx) = signed_in(web, visit, rpc::LIST_SESSIONS).await?;
    let fail = |e| errors::page(visit.t, &e);
    let me = ctx.caller.user_id.clone();
    let user: Option<UserView> = web
        .app
        .get_session(&ctx, &cookie.session_id(), Some(&cookie.token))
        .await
        .map_err(fail)?
        .user;
    let user = user.ok_or_else(|| Redirect::to(START).into_response())?;
    let (_, sessions) = web
        .app
        .list_sessions(
            &ctx,
            &[SessionQuery::UserId(me.as_str().to_owned())],
            true,
            ListRequest::default(),
        )
        .await
        .map_err(fail)?;
    let sessions = sessions
        .into_iter()
        .map(|s| s.session)
        .filter(|s| s.password_checked_at.is_some() || s.webauthn_checked_at.is_some())
        .map(|s| SessionRow {
            this: s.id == cookie.session_id(),
            started: when(s.details.creation_date),
            id: s.id.as_str().to_owned(),
        })
        .collect();
    let policy = web
        .app
        .org_login_policy(&visit.instance, &user.org_id)
        .await
        .map_err(fail)?;
    let human = user.human();
    let page = AccountPage {
        t: visit.t,
        csrf: web.csrf_token(&visit.seed),
        error,
        notice,
        login_name: user.user_name.clone(),
        display_name: human.map(|h| h.display_name.clone()).unwrap_or_default(),
        email: human.map(|h| h.email.clone()).unwrap_or_default(),
        factors: crate::factor_removal::rows(visit.t, &user),
        add_keys: crate::account_totp::offered(&policy, &user)
            .then(|| (crate::account_totp::PATH.to_owned(), visit.t.get("account.totp.add")))
            .into_iter()
            .chain(crate::keys::offered(visit.t, &policy))
            .collect(),
        sessions,
    };
    Ok(render(StatusCode::OK, &page))
}

pub async fn page(State(web): State<Arc<Web>>, visit: Visit) -> Early<Response> {
    show(&web, &visit, None, None).await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    csrf: String,
    current: String,
    new: String,
}

/// The password complexity policy is the use case's to enforce.
pub async fn password_post(State(web): State<Arc<Web>>, visit: Visit, Form(f): Form<PasswordForm>) -> Early<Response> {
    if !web.csrf_ok(&visit.seed, &f.csrf) {
        return Ok(form_expired(visit.t));
    }
    let (_, ctx) = signed_in(&web, &visit, rpc::UPDATE_MY_PASSWORD).await?;
    match web.app.change_my_password(&ctx, &f.current, &f.new).await {
        Ok(_) => {
            let notice = Some(visit.t.get("account.password_changed").to_owned());
            show(&web, &visit, None, notice).await
        }
        Err(e) => {
            let error = Some(errors::sentence(visit.t, &e));
            let mut resp = show(&web, &visit, error, None).await?;
            *resp.status_mut() = StatusCode::BAD_REQUEST;
            Ok(resp)
        }
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// A new set of recovery codes, replacing the old ones, shown once.
pub async fn recovery_codes_post(
    State(web): State<Arc<Web>>,
    visit: Visit,
    Form(f): Form<CsrfForm>,
) -> Early<Response> {
    if !web.csrf_ok(&visit.seed, &f.csrf) {
        return Ok(form_expired(visit.t));
    }
    let (_, ctx) = signed_in(&web, &visit, rpc::GENERATE_RECOVERY_CODES).await?;
    let me = ctx.caller.user_id.clone();
    let (_, codes) = web
        .app
        .generate_recovery_codes(&ctx, &me, DEFAULT_RECOVERY_CODES)
        .await
        .map_err(|e| errors::page(visit.t, &e))?;
    Ok(render(StatusCode::OK, &CodesPage::new(visit.t, codes, ACCOUNT)))
}

/// Ends one of the user's sessions (this one signs the browser out).
pub async fn end_session_post(
    State(web): State<Arc<Web>>,
    visit: Visit,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Early<Response> {
    if !web.csrf_ok(&visit.seed, &f.csrf) {
        return Ok(form_expired(visit.t));
    }
    let (cookie, ctx) = signed_in(&web, &visit, rpc::DELETE_SESSION).await?;
    let id = SessionId::new(id);
    web.app
        .delete_session(&ctx, &id, None)
        .await
        .map_err(|e| errors::page(visit.t, &e))?;
    if id == cookie.session_id() {
        return Ok(signed_out(&web));
    }
    Ok(Redirect::to(ACCOUNT).into_response())
}

pub async fn logout_post(State(web): State<Arc<Web>>, visit: Visit, Form(f): Form<CsrfForm>) -> Early<Response> {
    if !web.csrf_ok(&visit.seed, &f.csrf) {
        return Ok(form_expired(visit.t));
    }
    if let Some(cookie) = &visit.login {
        let ctx = web
            .login_ctx(&visit.instance, rpc::DELETE_SESSION)
            .map_err(|e| errors::page(visit.t, &e))?;
        // An already ended session is as good.
        let _ = web
            .app
            .delete_session(&ctx, &cookie.session_id(), Some(&cookie.token))
            .await;
    }
    Ok(signed_out(&web))
}

fn signed_out(web: &Web) -> Response {
    let mut resp = Redirect::to(START).into_response();
    if let Ok(v) = HeaderValue::from_str(&web.clear_cookie_header(SESSION_COOKIE)) {
        resp.headers_mut().append(SET_COOKIE, v);
    }
    resp
}
